// The engine-neutral and pure parts of chunk checksums: the SQL both engines run and the typing
// of a chunk's last key.
#include "verify/checksum.h"

#include <charconv>

#include "apply/postgres/pg_text.h"  // QuoteIdent

namespace ferry::verify {
namespace {

using apply::postgres::QuoteIdent;

// ---- PostgreSQL ------------------------------------------------------------------------------

std::string PgTable(const KeyedRelation& table) {
  return QuoteIdent(table.relation.schema()) + "." + QuoteIdent(table.relation.table());
}

std::string PgColumn(const KeyedRelation& table, int column) {
  return QuoteIdent(table.relation.columns(column).name());
}

std::string PgKeys(const KeyedRelation& table) {
  std::string list;
  for (int column : table.key) list += (list.empty() ? "" : ", ") + PgColumn(table, column);
  return list;
}

// "($first, $first+1, ...)" for one key.
std::string PgParameters(size_t first, size_t width) {
  std::string tuple = "(";
  for (size_t i = 0; i < width; ++i) tuple += (i > 0 ? ", $" : "$") + std::to_string(first + i);
  return tuple + ")";
}

// A row's text over its columns: a row value's text quotes and marks NULLs unambiguously. In
// the "C" collation, which hashes the bytes.
std::string PgRowText(const KeyedRelation& table, const std::vector<int>& columns) {
  std::string list;
  for (int column : columns) list += (list.empty() ? "" : ", ") + PgColumn(table, column);
  return "ROW(" + list + ")::text COLLATE \"C\"";
}

// Count and the XOR of two 64-bit hashes of the row texts `r`. hashtextextended (the hash of
// hash partitioning, stable across versions) costs less than half of MD5 and its conversion to
// numbers; its values differ between little- and big-endian servers, whose chunks then all
// differ and are read row by row.
std::string PgSums() {
  return "count(*), coalesce(bit_xor(hashtextextended(r, 0)), 0), "
         "coalesce(bit_xor(hashtextextended(r, 1)), 0)";
}

// ---- MariaDB ---------------------------------------------------------------------------------

std::string MysqlName(const std::string& name) {
  std::string quoted = "`";
  for (char c : name) {
    if (c == '`') quoted.push_back('`');
    quoted.push_back(c);
  }
  return quoted + "`";
}

std::string MysqlTable(const KeyedRelation& table) {
  return MysqlName(table.relation.schema()) + "." + MysqlName(table.relation.table());
}

std::string MysqlColumn(const KeyedRelation& table, int column) {
  return MysqlName(table.relation.columns(column).name());
}

std::string MysqlKeys(const KeyedRelation& table) {
  std::string list;
  for (int column : table.key) list += (list.empty() ? "" : ", ") + MysqlColumn(table, column);
  return list;
}

// A row's MD5 over its columns as stored bytes (no collation mixing), each prefixed by its
// length and NULL marked, so that no two rows can share a text.
std::string MysqlRowHash(const KeyedRelation& table, const std::vector<int>& columns) {
  std::string list;
  for (int column : columns) {
    const std::string bytes = "CAST(" + MysqlColumn(table, column) + " AS BINARY)";
    list += ", IFNULL(CONCAT(LENGTH(" + bytes + "), ':', " + bytes + "), 'N')";
  }
  return "MD5(CONCAT_WS('#'" + list + "))";
}

std::string MysqlSums() {
  auto half = [](int start) {
    return "COALESCE(BIT_XOR(CAST(CONV(SUBSTRING(m, " + std::to_string(start) +
           ", 16), 16, 10) AS UNSIGNED)), 0)";
  };
  return "COUNT(*), " + half(1) + ", " + half(17);
}

// k1 > a1 OR (k1 = a1 AND k2 > a2) ...: one range of the primary key per disjunct, which
// MariaDB plans as a range scan (see mysql_table_reader.h). `last` is the comparison of the
// last key column: ">" for a lower bound, "<=" for an upper one ("<" before it).
std::string MysqlBound(const KeyedRelation& table, const std::vector<std::string>& key,
                       const std::string& before, const std::string& last) {
  std::string where;
  for (size_t i = 0; i < table.key.size() && i < key.size(); ++i) {
    std::string conjunct;
    for (size_t j = 0; j < i; ++j) {
      conjunct += MysqlColumn(table, table.key[j]) + " = " + key[j] + " AND ";
    }
    const std::string op = i + 1 == table.key.size() ? last : before;
    conjunct += MysqlColumn(table, table.key[i]) + " " + op + " " + key[i];
    where += (i > 0 ? " OR (" : "(") + conjunct + ")";
  }
  return where;
}

}  // namespace

std::string PgNextChunkSql(const KeyedRelation& table, const std::vector<int>& columns, bool after,
                           size_t limit) {
  std::string inner = "SELECT " + PgRowText(table, columns) + " AS r";
  std::string order;
  for (size_t i = 0; i < table.key.size(); ++i) {
    inner += ", " + PgColumn(table, table.key[i]) + " AS k" + std::to_string(i);
    order += (i > 0 ? ", k" : "k") + std::to_string(i);
  }
  inner += " FROM " + PgTable(table);
  if (after) inner += " WHERE (" + PgKeys(table) + ") > " + PgParameters(1, table.key.size());
  inner += " ORDER BY " + PgKeys(table) + " LIMIT " + std::to_string(limit);
  std::string last;
  for (size_t i = 0; i < table.key.size(); ++i) {
    last += ", (array_agg(k" + std::to_string(i) + "::text ORDER BY " + order + "))[count(*)::int]";
  }
  return "SELECT " + PgSums() + last + " FROM (" + inner + ") c";
}

std::string PgRangeSql(const KeyedRelation& table, const std::vector<int>& columns, bool after,
                       bool upto) {
  const size_t width = table.key.size();
  std::string where;
  if (after) where = "(" + PgKeys(table) + ") > " + PgParameters(1, width);
  if (upto) {
    where += (after ? " AND (" : "(") + PgKeys(table) +
             ") <= " + PgParameters(after ? width + 1 : 1, width);
  }
  return "SELECT " + PgSums() + " FROM (SELECT " + PgRowText(table, columns) + " AS r FROM " +
         PgTable(table) + (where.empty() ? "" : " WHERE " + where) + ") c";
}

std::string MysqlNextChunkSql(const KeyedRelation& table, const std::vector<int>& columns,
                              const std::vector<std::string>& after, size_t limit) {
  std::string inner = "SELECT " + MysqlRowHash(table, columns) + " AS m FROM " + MysqlTable(table);
  if (!after.empty()) inner += " WHERE " + MysqlBound(table, after, ">", ">");
  inner += " ORDER BY " + MysqlKeys(table) + " LIMIT " + std::to_string(limit);
  return "SELECT " + MysqlSums() + " FROM (" + inner + ") r";
}

std::string MysqlLastKeySql(const KeyedRelation& table, const std::vector<std::string>& after,
                            uint64_t offset) {
  std::string sql = "SELECT " + MysqlKeys(table) + " FROM " + MysqlTable(table);
  if (!after.empty()) sql += " WHERE " + MysqlBound(table, after, ">", ">");
  return sql + " ORDER BY " + MysqlKeys(table) + " LIMIT 1 OFFSET " + std::to_string(offset);
}

std::string MysqlRangeSql(const KeyedRelation& table, const std::vector<int>& columns,
                          const std::vector<std::string>& after,
                          const std::vector<std::string>& upto) {
  std::string where;
  if (!after.empty()) where = "(" + MysqlBound(table, after, ">", ">") + ")";
  if (!upto.empty()) {
    where += (where.empty() ? "(" : " AND (") + MysqlBound(table, upto, "<", "<=") + ")";
  }
  return "SELECT " + MysqlSums() + " FROM (SELECT " + MysqlRowHash(table, columns) + " AS m FROM " +
         MysqlTable(table) + (where.empty() ? "" : " WHERE " + where) + ") r";
}

bool OrderedAlikeOnEveryServer(wire::LogicalType key_type) {
  switch (key_type) {
    case wire::LOGICAL_TYPE_INT:
    case wire::LOGICAL_TYPE_UINT:
    case wire::LOGICAL_TYPE_DECIMAL:
    case wire::LOGICAL_TYPE_DATE:
    case wire::LOGICAL_TYPE_TIME:
    case wire::LOGICAL_TYPE_TIMESTAMP:
    case wire::LOGICAL_TYPE_TIMESTAMP_TZ:
    case wire::LOGICAL_TYPE_UUID:
      return true;
    default:
      return false;
  }
}

Result<wire::Value> KeyValueFromText(const wire::Column& column, Engine engine,
                                     const std::string& text) {
  wire::Value value;
  const char* end = text.data() + text.size();
  switch (column.type()) {
    case wire::LOGICAL_TYPE_INT: {
      int64_t n = 0;
      auto [at, error] = std::from_chars(text.data(), end, n);
      if (error != std::errc() || at != end) break;
      value.set_int64(n);
      return value;
    }
    case wire::LOGICAL_TYPE_UINT: {
      uint64_t n = 0;
      auto [at, error] = std::from_chars(text.data(), end, n);
      if (error != std::errc() || at != end) break;
      value.set_uint64(n);
      return value;
    }
    case wire::LOGICAL_TYPE_DECIMAL:
      value.set_decimal(text);
      return value;
    case wire::LOGICAL_TYPE_DATE:
      value.set_date(text);
      return value;
    case wire::LOGICAL_TYPE_TIME:
      value.set_time(text);
      return value;
    case wire::LOGICAL_TYPE_TIMESTAMP:
      value.set_timestamp(text);
      return value;
    case wire::LOGICAL_TYPE_TIMESTAMP_TZ:
      // PostgreSQL prints the offset in a UTC session; MariaDB's TIMESTAMP has none, and its
      // reader adds it.
      value.set_timestamp_tz(engine == Engine::kPostgres ? text : text + "+00");
      return value;
    case wire::LOGICAL_TYPE_UUID:
      value.set_uuid(text);
      return value;
    default:
      break;
  }
  return Status::Error("key column " + column.name() + " (" + column.source_type() +
                       "): unexpected value \"" + text + "\" for a checksum chunk's key");
}

Result<std::unique_ptr<ChunkChecksummer>> ConnectChecksummer(Engine engine,
                                                             const std::string& dsn) {
  return engine == Engine::kPostgres ? ConnectPostgresChecksummer(dsn)
                                     : ConnectMysqlChecksummer(dsn);
}

}  // namespace ferry::verify
