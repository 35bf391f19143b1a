#include "capture/postgres/pg_table_reader.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "apply/postgres/pg_text.h"  // ValueToPgText, QuoteIdent: the sink's value-to-text rules
#include "capture/postgres/pg_connection.h"
#include "capture/postgres/pg_values.h"

namespace ferry::capture::postgres {
namespace {

using apply::postgres::QuoteIdent;

// pgoutput sends a Type message (schema and name) for every type whose OID is at least
// FirstGenbkiObjectId; below that a type is built in (pg_type.dat).
constexpr uint32_t kFirstGenbkiObjectId = 10000;
// One statement binds at most 65535 parameters; batches of keys stay well below.
constexpr size_t kMaxKeyParameters = 8000;

std::string TableName(const wire::Relation& relation) {
  return QuoteIdent(relation.schema()) + "." + QuoteIdent(relation.table());
}

std::string SelectList(const wire::Relation& relation) {
  std::string list;
  for (const wire::Column& column : relation.columns()) {
    list += (list.empty() ? "" : ", ") + QuoteIdent(column.name());
  }
  return list;
}

std::string KeyList(const KeyedRelation& table) {
  std::string list;
  for (int column : table.key) {
    list += (list.empty() ? "" : ", ") + QuoteIdent(table.relation.columns(column).name());
  }
  return list;
}

// "($first, $first+1, ...)" for one key.
std::string ParameterTuple(size_t first, size_t width) {
  std::string tuple = "(";
  for (size_t i = 0; i < width; ++i) tuple += (i > 0 ? ", $" : "$") + std::to_string(first + i);
  return tuple + ")";
}

// What pgoutput's Relation message holds that the reader needs besides wire::Relation.
struct TableTypes {
  wire::Relation relation;          // to check a caller's relation is this table's
  std::vector<uint32_t> type_oids;  // per column
};

class Reader final : public PostgresTableReader {
 public:
  // Reads through `connection`; owns it when `owned` is it.
  Reader(PgConnection& connection, std::unique_ptr<PgConnection> owned)
      : owned_(std::move(owned)), conn_(connection) {}

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
  Status BeginConsistentRead(const std::string& snapshot_name) override;
  Status EndConsistentRead() override;

 private:
  Result<std::string> TypeName(uint32_t type_oid, int32_t type_modifier);
  Result<const TableTypes*> TypesOf(const KeyedRelation& table);
  // Appends each key's text to `params` and its column types to `types`.
  Status AddKeyParameters(const KeyedRelation& table, const TableTypes& types, const Key& key,
                          std::vector<std::string>& params, std::vector<uint32_t>& param_types);
  // Turns the text rows of `result` into typed rows.
  Status AppendRows(const PGresult* result, const TableTypes& types, size_t max_rows,
                    std::vector<Row>& out);

  std::unique_ptr<PgConnection> owned_;  // null when the caller owns the connection
  PgConnection& conn_;
  std::map<uint32_t, TableTypes> tables_;  // by table OID (the Relation id)
};

// As PgOutputDecoder::ColumnTypeName names it: Ferry's name for a built-in type; for any other
// the name pgoutput's Type message carries, which for a domain is its base type's (schema left
// out when public or pg_catalog).
Result<std::string> Reader::TypeName(uint32_t type_oid, int32_t type_modifier) {
  std::string name = PgTypeName(type_oid, type_modifier);
  if (!name.empty()) return name;
  if (type_oid < kFirstGenbkiObjectId) return "pg_type oid " + std::to_string(type_oid);
  Result<PgResult> base = conn_.Query(
      "WITH RECURSIVE chain(oid, depth) AS (SELECT $1::pg_catalog.oid, 0 UNION ALL"
      "  SELECT t.typbasetype, c.depth + 1 FROM chain c"
      "  JOIN pg_catalog.pg_type t ON t.oid = c.oid WHERE t.typtype = 'd')"
      " SELECT n.nspname, t.typname FROM chain c JOIN pg_catalog.pg_type t ON t.oid = c.oid"
      " JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace ORDER BY c.depth DESC LIMIT 1",
      {std::to_string(type_oid)}, {}, "reading the name of type " + std::to_string(type_oid));
  if (!base.ok()) return base.status();
  if (PQntuples(base->get()) != 1)
    return Status::Error("type " + std::to_string(type_oid) + " vanished");
  const std::string schema = PQgetvalue(base->get(), 0, 0), type = PQgetvalue(base->get(), 0, 1);
  return schema == "public" || schema == "pg_catalog" ? type : schema + "." + type;
}

Result<KeyedRelation> Reader::DescribeTable(const std::string& schema, const std::string& table,
                                            bool require_key) {
  const std::string name = QuoteIdent(schema) + "." + QuoteIdent(table);
  Result<PgResult> found = conn_.Query(
      "SELECT c.oid, c.relreplident FROM pg_catalog.pg_class c"
      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
      {schema, table}, {}, "looking up table " + name);
  if (!found.ok()) return found.status();
  if (PQntuples(found->get()) != 1) {
    return Status::Error("table " + name + " does not exist on the source (check the name)");
  }
  const std::string oid = PQgetvalue(found->get(), 0, 0);
  const char identity = PQgetvalue(found->get(), 0, 1)[0];

  // pgoutput leaves out dropped and generated columns.
  Result<PgResult> columns = conn_.Query(
      "SELECT a.attnum, a.attname, a.atttypid, a.atttypmod FROM pg_catalog.pg_attribute a"
      " WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
      " ORDER BY a.attnum",
      {oid}, {}, "reading the columns of " + name);
  if (!columns.ok()) return columns.status();
  // Primary key and replica identity index columns, each in index order.
  Result<PgResult> indexes = conn_.Query(
      "SELECT i.indisprimary, i.indisreplident, k.attnum FROM pg_catalog.pg_index i"
      " CROSS JOIN LATERAL unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)"
      " WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident)"
      " ORDER BY i.indexrelid, k.ord",
      {oid}, {}, "reading the keys of " + name);
  if (!indexes.ok()) return indexes.status();
  std::vector<int> primary_attnums, identity_attnums;
  for (int r = 0; r < PQntuples(indexes->get()); ++r) {
    const int attnum = static_cast<int>(std::strtol(PQgetvalue(indexes->get(), r, 2), nullptr, 10));
    if (PQgetvalue(indexes->get(), r, 0)[0] == 't') primary_attnums.push_back(attnum);
    if (PQgetvalue(indexes->get(), r, 1)[0] == 't') identity_attnums.push_back(attnum);
  }
  // The columns pgoutput flags as key: the replica identity's (FULL: all; NOTHING: none).
  const std::vector<int>& flagged = identity == 'i' ? identity_attnums : primary_attnums;
  // The chunk key: the replica identity index when there is one, else the primary key.
  const std::vector<int>& chunk_attnums = identity == 'i' ? identity_attnums : primary_attnums;

  KeyedRelation out;
  TableTypes types;
  wire::Relation& relation = out.relation;
  relation.set_id(static_cast<uint32_t>(std::strtoul(oid.c_str(), nullptr, 10)));
  relation.set_schema(schema);
  relation.set_table(table);
  relation.set_full_old_image(identity == 'f');
  std::vector<int> attnums;
  for (int r = 0; r < PQntuples(columns->get()); ++r) {
    const int attnum = static_cast<int>(std::strtol(PQgetvalue(columns->get(), r, 0), nullptr, 10));
    const auto type_oid =
        static_cast<uint32_t>(std::strtoul(PQgetvalue(columns->get(), r, 2), nullptr, 10));
    const int32_t type_modifier =
        static_cast<int32_t>(std::strtol(PQgetvalue(columns->get(), r, 3), nullptr, 10));
    Result<std::string> type_name = TypeName(type_oid, type_modifier);
    if (!type_name.ok()) return type_name.status();
    wire::Column& column = *relation.add_columns();
    column.set_name(PQgetvalue(columns->get(), r, 1));
    column.set_source_type(*type_name);
    column.set_type(PgLogicalType(type_oid));
    column.set_element_type(PgArrayElementType(type_oid));
    column.set_key(identity == 'f' || (identity != 'n' && std::ranges::count(flagged, attnum) > 0));
    types.type_oids.push_back(type_oid);
    attnums.push_back(attnum);
  }
  for (int attnum : chunk_attnums) {
    auto at = std::ranges::find(attnums, attnum);
    if (at == attnums.end()) {
      return Status::Error("table " + name +
                           ": a key column is generated, which the change stream leaves out; "
                           "a snapshot and verify cannot chunk by it");
    }
    out.key.push_back(static_cast<int>(at - attnums.begin()));
  }
  if (out.key.empty() && require_key) {
    return Status::Error("table " + name +
                         " has no primary key: a snapshot and verify read a table in chunks "
                         "ordered by its key; add one (ALTER TABLE " +
                         name + " ADD PRIMARY KEY (...))");
  }
  types.relation = relation;
  tables_[relation.id()] = std::move(types);
  return out;
}

Result<const TableTypes*> Reader::TypesOf(const KeyedRelation& table) {
  auto known = tables_.find(table.relation.id());
  if (known == tables_.end()) {
    Result<KeyedRelation> described = Describe(table.relation.schema(), table.relation.table());
    if (!described.ok()) return described.status();
    known = tables_.find(described->relation.id());
  }
  if (known == tables_.end() ||
      known->second.relation.SerializeAsString() != table.relation.SerializeAsString()) {
    return Status::Error("table " + TableName(table.relation) +
                         " is not as described (it changed, or was described elsewhere): "
                         "Describe it again");
  }
  return &known->second;
}

Status Reader::AddKeyParameters(const KeyedRelation& table, const TableTypes& types, const Key& key,
                                std::vector<std::string>& params,
                                std::vector<uint32_t>& param_types) {
  if (key.size() != table.key.size()) {
    return Status::Error("a key of " + TableName(table.relation) + " has " +
                         std::to_string(key.size()) + " values, the table's key " +
                         std::to_string(table.key.size()) + " columns");
  }
  for (size_t i = 0; i < key.size(); ++i) {
    const std::string& column = table.relation.columns(table.key[i]).name();
    Result<std::optional<std::string>> text = apply::postgres::ValueToPgText(key[i]);
    if (!text.ok()) return text.status().WithContext("key column " + column);
    if (!text->has_value()) return Status::Error("key column " + column + " is NULL");
    params.push_back(std::move(**text));
    param_types.push_back(types.type_oids[table.key[i]]);
  }
  return Status::Ok();
}

Status Reader::AppendRows(const PGresult* result, const TableTypes& types, size_t max_rows,
                          std::vector<Row>& out) {
  const int rows = std::min(PQntuples(result), static_cast<int>(max_rows));
  const int width = PQnfields(result);
  for (int r = 0; r < rows; ++r) {
    Row row;
    row.reserve(width);
    for (int c = 0; c < width; ++c) {
      if (PQgetisnull(result, r, c)) {
        row.emplace_back().mutable_null();
        continue;
      }
      Result<wire::Value> value =
          PgTextToValue(types.type_oids[c],
                        std::string_view(PQgetvalue(result, r, c), PQgetlength(result, r, c)));
      if (!value.ok()) {
        return value.status().WithContext("column " + types.relation.columns(c).name());
      }
      row.push_back(std::move(value).value());
    }
    out.push_back(std::move(row));
  }
  return Status::Ok();
}

Result<Chunk> Reader::ReadChunk(const KeyedRelation& table, const Key& after, size_t limit) {
  if (limit == 0) return Status::Error("ReadChunk: limit must be at least 1");
  Result<const TableTypes*> types = TypesOf(table);
  if (!types.ok()) return types.status();
  std::vector<std::string> params;
  std::vector<uint32_t> param_types;
  if (!after.empty()) {
    FERRY_RETURN_IF_ERROR(AddKeyParameters(table, **types, after, params, param_types));
  }
  // One row more than asked says whether the table goes on.
  Result<PgResult> result =
      conn_.Query(PgChunkQuery(table, !after.empty(), limit + 1), params, param_types,
                  "reading a chunk of " + TableName(table.relation));
  if (!result.ok()) return result.status();
  Chunk chunk;
  FERRY_RETURN_IF_ERROR(AppendRows(result->get(), **types, limit, chunk.rows));
  chunk.exhausted = static_cast<size_t>(PQntuples(result->get())) <= limit;
  return chunk;
}

Result<std::vector<Row>> Reader::ReadKeys(const KeyedRelation& table,
                                          const std::vector<Key>& keys) {
  Result<const TableTypes*> types = TypesOf(table);
  if (!types.ok()) return types.status();
  std::vector<Row> rows;
  const size_t batch = std::max<size_t>(1, kMaxKeyParameters / table.key.size());
  for (size_t first = 0; first < keys.size(); first += batch) {
    const size_t count = std::min(batch, keys.size() - first);
    std::vector<std::string> params;
    std::vector<uint32_t> param_types;
    for (size_t i = first; i < first + count; ++i) {
      FERRY_RETURN_IF_ERROR(AddKeyParameters(table, **types, keys[i], params, param_types));
    }
    Result<PgResult> result =
        conn_.Query(PgKeysQuery(table, count), params, param_types,
                    "reading rows of " + TableName(table.relation) + " by key");
    if (!result.ok()) return result.status();
    FERRY_RETURN_IF_ERROR(AppendRows(result->get(), **types, count, rows));
  }
  // Batches are each in key order; the whole is when the caller's keys were.
  return rows;
}

Status Reader::BeginConsistentRead(const std::string& snapshot_name) {
  FERRY_RETURN_IF_ERROR(conn_.Command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                      "starting a consistent read"));
  Result<std::string> quoted = conn_.Literal(snapshot_name);
  Status set = quoted.ok() ? conn_.Command("SET TRANSACTION SNAPSHOT " + *quoted,
                                           "using exported snapshot " + snapshot_name +
                                               " (the session that exported it must still be open)")
                           : quoted.status();
  if (!set.ok()) (void)conn_.Command("ROLLBACK", "ending a failed consistent read");
  return set;
}

Status Reader::EndConsistentRead() { return conn_.Command("COMMIT", "ending a consistent read"); }

}  // namespace

std::string PgChunkQuery(const KeyedRelation& table, bool after_key, size_t limit) {
  const std::string keys = KeyList(table);
  std::string sql = "SELECT " + SelectList(table.relation) + " FROM " + TableName(table.relation);
  // A row-value comparison: PostgreSQL walks the key's index from that point.
  if (after_key) sql += " WHERE (" + keys + ") > " + ParameterTuple(1, table.key.size());
  // A table without key is read whole, in no order (DescribeAnyTable).
  if (!table.key.empty()) sql += " ORDER BY " + keys;
  return sql + " LIMIT " + std::to_string(limit);
}

std::string PgKeysQuery(const KeyedRelation& table, size_t key_count) {
  const size_t width = table.key.size();
  std::string tuples;
  for (size_t i = 0; i < key_count; ++i) {
    tuples += (i > 0 ? ", " : "") + ParameterTuple(1 + i * width, width);
  }
  const std::string keys = KeyList(table);
  return "SELECT " + SelectList(table.relation) + " FROM " + TableName(table.relation) +
         " WHERE (" + keys + ") IN (" + tuples + ") ORDER BY " + keys;
}

Result<std::unique_ptr<PostgresTableReader>> ConnectPostgresTableReader(const std::string& dsn) {
  Result<std::unique_ptr<PgConnection>> connection = PgConnection::Connect(dsn);
  if (!connection.ok()) return connection.status();
  PgConnection& borrowed = **connection;
  return std::unique_ptr<PostgresTableReader>(new Reader(borrowed, std::move(*connection)));
}

std::unique_ptr<PostgresTableReader> MakePostgresTableReader(PgConnection& connection) {
  return std::make_unique<Reader>(connection, nullptr);
}

}  // namespace ferry::capture::postgres
