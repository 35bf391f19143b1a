#include "capture/mysql/mysql_table_reader.h"

#include <mysql.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "capture/mysql/binlog_stream.h"
#include "capture/mysql/mysql_charset.h"
#include "capture/mysql/mysql_temporal.h"
#include "capture/mysql/row_decoder.h"
#include "capture/mysql/table_catalog.h"

namespace ferry::capture::mysql {
namespace {

constexpr unsigned kReadTimeoutS = 300;
// A statement binds at most 65535 parameters; batches of keys stay well below.
constexpr size_t kMaxKeyParameters = 8000;

std::string QuoteName(const std::string& name) {
  std::string quoted = "`";
  for (char c : name) {
    if (c == '`') quoted.push_back('`');
    quoted.push_back(c);
  }
  return quoted + "`";
}

std::string TableName(const wire::Relation& relation) {
  return QuoteName(relation.schema()) + "." + QuoteName(relation.table());
}

std::string SelectList(const wire::Relation& relation) {
  std::string list;
  for (const wire::Column& column : relation.columns()) {
    list += (list.empty() ? "" : ", ") + QuoteName(column.name());
  }
  return list;
}

std::string KeyColumn(const KeyedRelation& table, size_t i) {
  return QuoteName(table.relation.columns(table.key[i]).name());
}

std::string OrderBy(const KeyedRelation& table) {
  if (table.key.empty()) return "";  // a table without key is read whole, in no order
  std::string list;
  for (size_t i = 0; i < table.key.size(); ++i) list += (i > 0 ? ", " : "") + KeyColumn(table, i);
  return " ORDER BY " + list;
}

// One cell of a result row, bound for the binary protocol.
struct Cell {
  std::vector<char> buffer;
  unsigned long length = 0;
  my_bool is_null = 0;
  my_bool error = 0;
  MYSQL_TIME time{};
  int64_t integer = 0;
  float real = 0;
  double dbl = 0;
};

bool IsInteger(uint8_t type) {
  return type == MYSQL_TYPE_TINY || type == MYSQL_TYPE_SHORT || type == MYSQL_TYPE_INT24 ||
         type == MYSQL_TYPE_LONG || type == MYSQL_TYPE_LONGLONG || type == MYSQL_TYPE_YEAR;
}

bool IsTemporal(uint8_t type) {
  return type == MYSQL_TYPE_DATE || type == MYSQL_TYPE_TIME2 || type == MYSQL_TYPE_DATETIME2 ||
         type == MYSQL_TYPE_TIMESTAMP2;
}

// Binds `cell` to receive a value of `column` as the binlog would give it: integers and floats
// in their own width, temporal values as MYSQL_TIME, everything else as the stored bytes.
void BindResult(const ColumnInfo& column, unsigned long max_length, Cell& cell, MYSQL_BIND& bind) {
  bind = MYSQL_BIND{};
  bind.is_null = &cell.is_null;
  bind.error = &cell.error;
  bind.length = &cell.length;
  if (IsInteger(column.real_type)) {
    bind.buffer_type = MYSQL_TYPE_LONGLONG;
    bind.buffer = &cell.integer;
    bind.is_unsigned = column.is_unsigned;
  } else if (column.real_type == MYSQL_TYPE_FLOAT) {
    bind.buffer_type = MYSQL_TYPE_FLOAT;
    bind.buffer = &cell.real;
  } else if (column.real_type == MYSQL_TYPE_DOUBLE) {
    bind.buffer_type = MYSQL_TYPE_DOUBLE;
    bind.buffer = &cell.dbl;
  } else if (IsTemporal(column.real_type)) {
    bind.buffer_type = column.real_type == MYSQL_TYPE_DATE        ? MYSQL_TYPE_DATE
                       : column.real_type == MYSQL_TYPE_TIME2     ? MYSQL_TYPE_TIME
                       : column.real_type == MYSQL_TYPE_DATETIME2 ? MYSQL_TYPE_DATETIME
                                                                  : MYSQL_TYPE_TIMESTAMP;
    bind.buffer = &cell.time;
  } else {
    cell.buffer.resize(std::max<unsigned long>(max_length, 1));
    bind.buffer_type = MYSQL_TYPE_BLOB;
    bind.buffer = cell.buffer.data();
    bind.buffer_length = cell.buffer.size();
  }
}

TemporalParts PartsOf(const MYSQL_TIME& time) {
  TemporalParts parts;
  parts.negative = time.neg != 0;
  parts.year = time.year;
  parts.month = time.month;
  parts.day = time.day;
  parts.hour = time.hour;
  parts.minute = time.minute;
  parts.second = time.second;
  parts.micros = static_cast<uint32_t>(time.second_part);
  return parts;
}

// Members of an ENUM or SET as the stream converts them (row_decoder's TABLE_MAP parser): text
// in their charset when it has some, else ISO-8859-1 so that every byte stays distinguishable.
std::string MemberText(const ColumnInfo& column, std::string_view bytes) {
  std::optional<std::string> text = CharsetToUtf8(bytes, column.charset);
  return text ? std::move(*text) : Iso88591ToUtf8(bytes);
}

// The value of a fetched cell, as DecodeRowImage gives it for the same stored value.
wire::Value CellValue(const ColumnInfo& column, const Cell& cell) {
  wire::Value value;
  if (cell.is_null) {
    value.mutable_null();
    return value;
  }
  const std::string_view bytes(cell.buffer.data(),
                               std::min<size_t>(cell.length, cell.buffer.size()));
  const int fsp = static_cast<int>(column.metadata);
  switch (column.real_type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
      if (column.is_unsigned) {
        value.set_uint64(static_cast<uint64_t>(cell.integer));
      } else {
        value.set_int64(cell.integer);
      }
      return value;
    case MYSQL_TYPE_YEAR:
      value.set_int64(cell.integer);
      return value;
    case MYSQL_TYPE_FLOAT:
      value.set_float64(cell.real);
      return value;
    case MYSQL_TYPE_DOUBLE:
      value.set_float64(cell.dbl);
      return value;
    case MYSQL_TYPE_NEWDECIMAL:
      value.set_decimal(std::string(bytes));
      return value;
    case MYSQL_TYPE_BIT:
      value.set_bits(BitsText(bytes, (column.metadata >> 8) * 8 + (column.metadata & 0xff)));
      return value;
    case MYSQL_TYPE_DATE:
      value.set_date(FormatDate(PartsOf(cell.time)));
      return value;
    case MYSQL_TYPE_TIME2: {
      TemporalParts parts = PartsOf(cell.time);
      parts.hour += parts.day * 24;  // the protocol may carry days apart from hours
      parts.day = 0;
      value.set_time(FormatTime(parts, fsp));
      return value;
    }
    case MYSQL_TYPE_DATETIME2:
      value.set_timestamp(FormatDatetime(PartsOf(cell.time), fsp));
      return value;
    case MYSQL_TYPE_TIMESTAMP2:
      // The session is UTC: the wall time is the instant's; the zero TIMESTAMP is all zeros.
      value.set_timestamp_tz(FormatDatetime(PartsOf(cell.time), fsp) + "+00");
      return value;
    case MYSQL_TYPE_ENUM:
      value.set_enum_value(MemberText(column, bytes));
      return value;
    case MYSQL_TYPE_SET:
      value.set_set_value(MemberText(column, bytes));
      return value;
    case MYSQL_TYPE_GEOMETRY:
      value.set_bytes(std::string(bytes));
      return value;
    default:
      return CharacterValue(column, bytes);
  }
}

// A key value as a statement parameter; `storage` keeps what the bind points to alive.
struct Parameter {
  std::string text;
  int64_t integer = 0;
  double dbl = 0;
  unsigned long length = 0;
};

Status BindParameter(const wire::Value& value, Parameter& storage, MYSQL_BIND& bind) {
  bind = MYSQL_BIND{};
  auto as_text = [&](const std::string& text, enum_field_types type) {
    storage.text = text;
    storage.length = storage.text.size();
    bind.buffer_type = type;
    bind.buffer = storage.text.data();
    bind.buffer_length = storage.text.size();
    bind.length = &storage.length;
  };
  switch (value.kind_case()) {
    case wire::Value::kInt64:
      storage.integer = value.int64();
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.buffer = &storage.integer;
      return Status::Ok();
    case wire::Value::kUint64:
      storage.integer = static_cast<int64_t>(value.uint64());
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.buffer = &storage.integer;
      bind.is_unsigned = 1;
      return Status::Ok();
    case wire::Value::kFloat64:
      storage.dbl = value.float64();
      bind.buffer_type = MYSQL_TYPE_DOUBLE;
      bind.buffer = &storage.dbl;
      return Status::Ok();
    case wire::Value::kBits:
      // BIT(n) holds at most 64 bits; anything else is not a key of this table.
      if (value.bits().size() > 64 || value.bits().find_first_not_of("01") != std::string::npos) {
        return Status::Error("a BIT key value of " + std::to_string(value.bits().size()) +
                             " bits (\"" + value.bits().substr(0, 70) + "\")");
      }
      storage.integer =
          static_cast<int64_t>(std::strtoull(("0" + value.bits()).c_str(), nullptr, 2));
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.buffer = &storage.integer;
      bind.is_unsigned = 1;
      return Status::Ok();
    case wire::Value::kDecimal:
      as_text(value.decimal(), MYSQL_TYPE_NEWDECIMAL);
      return Status::Ok();
    case wire::Value::kText:
      as_text(value.text(), MYSQL_TYPE_STRING);
      return Status::Ok();
    case wire::Value::kBytes:
      as_text(value.bytes(), MYSQL_TYPE_BLOB);
      return Status::Ok();
    case wire::Value::kDate:
      as_text(value.date(), MYSQL_TYPE_STRING);
      return Status::Ok();
    case wire::Value::kTime:
      as_text(value.time(), MYSQL_TYPE_STRING);
      return Status::Ok();
    case wire::Value::kTimestamp:
      as_text(value.timestamp(), MYSQL_TYPE_STRING);
      return Status::Ok();
    case wire::Value::kTimestampTz: {
      // The session is UTC; "+00" is every TIMESTAMP's offset on the wire.
      std::string text = value.timestamp_tz();
      if (text.ends_with("+00")) text.resize(text.size() - 3);
      as_text(text, MYSQL_TYPE_STRING);
      return Status::Ok();
    }
    default:
      return Status::Error("a key value of kind " + value.ShortDebugString() +
                           " cannot be compared with a MariaDB key column");
  }
}

struct StmtCloser {
  void operator()(MYSQL_STMT* stmt) const { mysql_stmt_close(stmt); }
};
using StmtPtr = std::unique_ptr<MYSQL_STMT, StmtCloser>;

struct ResultFreer {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};

class Reader final : public MysqlTableReader {
 public:
  // Reads through `connection`; owns it when `owned` is it.
  Reader(MysqlConnection& connection, std::unique_ptr<MysqlConnection> owned)
      : owned_(std::move(owned)), connection_(connection) {}

  Result<KeyedRelation> Describe(const std::string& schema, const std::string& table) override {
    return DescribeTable(schema, table, /*require_key=*/true);
  }
  Result<KeyedRelation> DescribeAnyTable(const std::string& schema,
                                         const std::string& table) override {
    return DescribeTable(schema, table, /*require_key=*/false);
  }
  Result<KeyedRelation> DescribeTable(const std::string& schema, const std::string& table,
                                      bool require_key);
  Result<Chunk> ReadChunk(const KeyedRelation& table, const Key& after, size_t limit) override;
  Result<std::vector<Row>> ReadKeys(const KeyedRelation& table,
                                    const std::vector<Key>& keys) override;
  Result<ConsistentSnapshot> BeginConsistentRead() override;
  Status EndConsistentRead() override;

 private:
  struct Known {
    wire::Relation relation;
    TableMap map;
  };

  Result<const Known*> KnownTable(const KeyedRelation& table);
  // Prepares `sql`, binds `keys` (each key's values at the positions `order` gives, key after
  // key), runs it and appends at most `max_rows` typed rows; returns the rows the server had.
  Result<size_t> Run(const std::string& sql, const Known& known, const KeyedRelation& table,
                     const std::vector<const Key*>& keys, const std::vector<size_t>& order,
                     size_t max_rows, std::vector<Row>& out);
  Status StmtError(MYSQL_STMT* stmt, const std::string& what) const {
    return Status::Error(what + ": " + mysql_stmt_error(stmt) + " (" + connection_.Describe() +
                         ")");
  }

  std::unique_ptr<MysqlConnection> owned_;  // null when the caller owns the connection
  MysqlConnection& connection_;
  std::map<std::string, Known> tables_;  // by "schema.table"
};

Result<KeyedRelation> Reader::DescribeTable(const std::string& schema, const std::string& table,
                                            bool require_key) {
  const std::string name = QuoteName(schema) + "." + QuoteName(table);
  Result<std::vector<SqlRow>> rows =
      connection_.Query(CatalogColumnsQuery(connection_.Quote(schema), connection_.Quote(table)));
  if (!rows.ok()) return rows.status().WithContext("reading the columns of " + name);
  if (rows->empty()) {
    return Status::Error("table " + name + " does not exist on the source (check the name)");
  }
  Result<TableMap> map = TableMapFromCatalog(schema, table, CatalogColumnsFromRows(*rows));
  if (!map.ok()) return map.status();
  // The primary key in index order (COLUMN_KEY only says which columns are in it).
  Result<std::vector<SqlRow>> key_columns = connection_.Query(
      "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = " +
      connection_.Quote(schema) + " AND TABLE_NAME = " + connection_.Quote(table) +
      " AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX");
  if (!key_columns.ok()) return key_columns.status().WithContext("reading the key of " + name);
  KeyedRelation out;
  out.relation = RelationFromTableMap(*map, 0);
  for (const SqlRow& row : *key_columns) {
    for (size_t i = 0; i < map->columns.size(); ++i) {
      if (map->columns[i].name == row[0].value_or("")) out.key.push_back(static_cast<int>(i));
    }
  }
  if (out.key.empty() && require_key) {
    return Status::Error("table " + name +
                         " has no primary key: a snapshot and verify read a table in chunks "
                         "ordered by its key; add one (ALTER TABLE " +
                         name + " ADD PRIMARY KEY (...))");
  }
  for (int column : out.key) {
    const uint8_t type = map->columns[column].real_type;
    if (type == MYSQL_TYPE_ENUM || type == MYSQL_TYPE_SET) {
      // ORDER BY sorts them by member number, a comparison with a member name by its text.
      return Status::Error("table " + name + ": key column " + map->columns[column].name +
                           " is an ENUM or SET, which cannot be read in key order yet");
    }
  }
  tables_[schema + "." + table] = Known{out.relation, std::move(*map)};
  return out;
}

Result<const Reader::Known*> Reader::KnownTable(const KeyedRelation& table) {
  const std::string key = table.relation.schema() + "." + table.relation.table();
  auto known = tables_.find(key);
  if (known == tables_.end()) {
    Result<KeyedRelation> described = Describe(table.relation.schema(), table.relation.table());
    if (!described.ok()) return described.status();
    known = tables_.find(key);
  }
  if (known->second.relation.SerializeAsString() != table.relation.SerializeAsString()) {
    return Status::Error("table " + TableName(table.relation) +
                         " is not as described (it changed, or was described elsewhere): "
                         "Describe it again");
  }
  return &known->second;
}

Result<size_t> Reader::Run(const std::string& sql, const Known& known, const KeyedRelation& table,
                           const std::vector<const Key*>& keys, const std::vector<size_t>& order,
                           size_t max_rows, std::vector<Row>& out) {
  const std::string what = "reading " + TableName(table.relation);
  StmtPtr stmt(mysql_stmt_init(connection_.handle()));
  if (!stmt) return Status::Error(what + ": out of memory");
  if (mysql_stmt_prepare(stmt.get(), sql.data(), sql.size()) != 0) {
    return StmtError(stmt.get(), what + " (preparing " + sql + ")");
  }
  std::vector<Parameter> storage(keys.size() * order.size());
  std::vector<MYSQL_BIND> params(storage.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k]->size() != table.key.size()) {
      return Status::Error("a key of " + TableName(table.relation) + " has " +
                           std::to_string(keys[k]->size()) + " values, the table's key " +
                           std::to_string(table.key.size()) + " columns");
    }
    for (size_t p = 0; p < order.size(); ++p) {
      const size_t at = k * order.size() + p;
      const wire::Value& value = (*keys[k])[order[p]];
      if (value.has_null()) return Status::Error("a key value is NULL");
      FERRY_RETURN_IF_ERROR(BindParameter(value, storage[at], params[at]));
    }
  }
  if (!params.empty() && mysql_stmt_bind_param(stmt.get(), params.data()) != 0) {
    return StmtError(stmt.get(), what + " (binding the key)");
  }
  my_bool update_max_length = 1;
  mysql_stmt_attr_set(stmt.get(), STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
  // The whole result is fetched before the first row is typed; `limit` bounds it.
  if (mysql_stmt_execute(stmt.get()) != 0 || mysql_stmt_store_result(stmt.get()) != 0) {
    return StmtError(stmt.get(), what);
  }
  std::unique_ptr<MYSQL_RES, ResultFreer> metadata(mysql_stmt_result_metadata(stmt.get()));
  if (!metadata) return StmtError(stmt.get(), what + " (result metadata)");
  const size_t width = known.map.columns.size();
  if (mysql_num_fields(metadata.get()) != width) {
    return Status::Error(what + ": the result has " +
                         std::to_string(mysql_num_fields(metadata.get())) + " columns, the table " +
                         std::to_string(width) + ": Describe it again");
  }
  const MYSQL_FIELD* fields = mysql_fetch_fields(metadata.get());
  std::vector<Cell> cells(width);
  std::vector<MYSQL_BIND> results(width);
  for (size_t c = 0; c < width; ++c) {
    BindResult(known.map.columns[c], fields[c].max_length, cells[c], results[c]);
  }
  if (mysql_stmt_bind_result(stmt.get(), results.data()) != 0) {
    return StmtError(stmt.get(), what + " (binding the result)");
  }
  const auto rows = static_cast<size_t>(mysql_stmt_num_rows(stmt.get()));
  for (size_t r = 0; r < std::min(rows, max_rows); ++r) {
    const int fetched = mysql_stmt_fetch(stmt.get());
    if (fetched == MYSQL_DATA_TRUNCATED) {
      return Status::Error(what +
                           ": a value did not fit the buffer its column's longest value "
                           "sized");
    }
    if (fetched != 0) return StmtError(stmt.get(), what + " (fetching)");
    Row row;
    row.reserve(width);
    for (size_t c = 0; c < width; ++c) row.push_back(CellValue(known.map.columns[c], cells[c]));
    out.push_back(std::move(row));
  }
  return rows;
}

Result<Chunk> Reader::ReadChunk(const KeyedRelation& table, const Key& after, size_t limit) {
  if (limit == 0) return Status::Error("ReadChunk: limit must be at least 1");
  Result<const Known*> known = KnownTable(table);
  if (!known.ok()) return known.status();
  std::vector<const Key*> keys;
  if (!after.empty()) keys.push_back(&after);
  Chunk chunk;
  // One row more than asked says whether the table goes on.
  Result<size_t> rows = Run(MysqlChunkQuery(table, !after.empty(), limit + 1), **known, table, keys,
                            MysqlChunkParameters(table.key.size()), limit, chunk.rows);
  if (!rows.ok()) return rows.status();
  chunk.exhausted = *rows <= limit;
  return chunk;
}

Result<std::vector<Row>> Reader::ReadKeys(const KeyedRelation& table,
                                          const std::vector<Key>& keys) {
  Result<const Known*> known = KnownTable(table);
  if (!known.ok()) return known.status();
  std::vector<size_t> order(table.key.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<Row> rows;
  const size_t batch = std::max<size_t>(1, kMaxKeyParameters / table.key.size());
  for (size_t first = 0; first < keys.size(); first += batch) {
    std::vector<const Key*> some;
    for (size_t i = first; i < std::min(keys.size(), first + batch); ++i) some.push_back(&keys[i]);
    Result<size_t> found =
        Run(MysqlKeysQuery(table, some.size()), **known, table, some, order, some.size(), rows);
    if (!found.ok()) return found.status();
  }
  return rows;
}

Result<ConsistentSnapshot> Reader::BeginConsistentRead() {
  FERRY_RETURN_IF_ERROR(connection_.Exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"));
  // MariaDB reports the binlog position the snapshot corresponds to as session status. The
  // GTID state at that point comes from it; @@gtid_binlog_pos, read now, may already include
  // transactions committed after the snapshot.
  Result<std::vector<SqlRow>> status =
      connection_.Query("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'");
  if (!status.ok()) return status.status();
  ConsistentSnapshot snapshot;
  for (const SqlRow& row : *status) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    if (*row[0] == "Binlog_snapshot_file") snapshot.file = *row[1];
    if (*row[0] == "Binlog_snapshot_position")
      snapshot.position = std::strtoull(row[1]->c_str(), nullptr, 10);
  }
  if (snapshot.file.empty()) {
    (void)connection_.Exec("ROLLBACK");
    return Status::Error("the source reports no binlog snapshot position (is log_bin on?)");
  }
  Result<std::optional<std::string>> gtid =
      connection_.Scalar("SELECT BINLOG_GTID_POS(" + connection_.Quote(snapshot.file) + ", " +
                         std::to_string(snapshot.position) + ")");
  if (!gtid.ok() || !*gtid) {
    (void)connection_.Exec("ROLLBACK");
    if (!gtid.ok()) return gtid.status();
    // An empty state would mean "before every transaction": a missing one is no such thing.
    return Status::Error("the source has no GTID state for its binlog snapshot position " +
                         snapshot.file + ":" + std::to_string(snapshot.position) +
                         " (BINLOG_GTID_POS is NULL)");
  }
  snapshot.gtid = **gtid;
  return snapshot;
}

Status Reader::EndConsistentRead() { return connection_.Exec("COMMIT"); }

}  // namespace

std::string MysqlChunkQuery(const KeyedRelation& table, bool after_key, size_t limit) {
  std::string sql = "SELECT " + SelectList(table.relation) + " FROM " + TableName(table.relation);
  if (after_key) {
    // k1 > ? OR (k1 = ? AND k2 > ?) OR ...: one range of the primary key per disjunct.
    std::string where;
    for (size_t i = 0; i < table.key.size(); ++i) {
      std::string conjunct;
      for (size_t j = 0; j < i; ++j) conjunct += KeyColumn(table, j) + " = ? AND ";
      conjunct += KeyColumn(table, i) + " > ?";
      where += (i > 0 ? " OR (" : "(") + conjunct + ")";
    }
    sql += " WHERE " + where;
  }
  return sql + OrderBy(table) + " LIMIT " + std::to_string(limit);
}

std::vector<size_t> MysqlChunkParameters(size_t key_width) {
  std::vector<size_t> order;
  for (size_t i = 0; i < key_width; ++i) {
    for (size_t j = 0; j <= i; ++j) order.push_back(j);
  }
  return order;
}

std::string MysqlKeysQuery(const KeyedRelation& table, size_t key_count) {
  const std::string select =
      "SELECT " + SelectList(table.relation) + " FROM " + TableName(table.relation) + " WHERE ";
  if (table.key.size() == 1) {
    // One IN list: the server parses and plans a thousand keys in well under half the time of
    // a thousand disjuncts (what `ferry verify` looks rows up by).
    std::string list;
    for (size_t k = 0; k < key_count; ++k) list += k > 0 ? ", ?" : "?";
    return select + KeyColumn(table, 0) + " IN (" + list + ")" + OrderBy(table);
  }
  std::string one = "(";
  for (size_t i = 0; i < table.key.size(); ++i) {
    one += (i > 0 ? " AND " : "") + KeyColumn(table, i) + " = ?";
  }
  one += ")";
  std::string where;
  for (size_t k = 0; k < key_count; ++k) where += (k > 0 ? " OR " : "") + one;
  return select + where + OrderBy(table);
}

Result<std::unique_ptr<MysqlConnection>> ConnectMysqlReaderSession(const std::string& dsn) {
  Result<MysqlDsn> params = ParseMysqlDsn(dsn, MysqlDsnRole::kSource);
  if (!params.ok()) return params.status();
  Result<std::unique_ptr<MysqlConnection>> connection =
      MysqlConnection::Connect(*params, kReadTimeoutS);
  if (!connection.ok()) return connection.status();
  (*connection)->set_label("source MariaDB (table reader)");
  // UTC: TIMESTAMP values come out as the UTC instant, as the binlog holds them. Results as the
  // stored bytes: the stream's charset conversion makes them text, exactly as for binlog rows.
  FERRY_RETURN_IF_ERROR(
      (*connection)->Exec("SET time_zone = '+00:00', character_set_results = binary"));
  return connection;
}

Result<std::unique_ptr<MysqlTableReader>> ConnectMysqlTableReader(const std::string& dsn) {
  Result<std::unique_ptr<MysqlConnection>> connection = ConnectMysqlReaderSession(dsn);
  if (!connection.ok()) return connection.status();
  MysqlConnection& borrowed = **connection;
  return std::unique_ptr<MysqlTableReader>(new Reader(borrowed, std::move(*connection)));
}

std::unique_ptr<MysqlTableReader> MakeMysqlTableReader(MysqlConnection& connection) {
  return std::make_unique<Reader>(connection, nullptr);
}

}  // namespace ferry::capture::mysql
