// Creating a missing target table from its source relation (the apply config's create_tables).
// This is the engine-neutral half: whether a table gets a primary key and on which columns, the
// columns in source order under their target names, and each source type taken apart. The
// engine halves (apply/postgres/pg_ddl.h, apply/mysql/mysql_ddl.h) choose the target type of
// each column from that and write the DDL; Sink::CreateTable runs it.
//
// A table's secondary indexes are created after its copy (NewIndex, Sink::CreateIndexes), from
// the source's description on the copy's last chunk (wire::SecondaryIndex), and only on a table
// create_tables created. What neither the change stream nor the copy tells, and so is never
// created: NOT NULL on non-key columns, defaults, foreign keys, checks, and the indexes the capture
// agent does not carry (expression, partial, full-text, ...).
// Invariant: a created column holds every value of its source column exactly, or the engine half
// refuses the column with an error naming table, column, source type and the fix (create the
// table yourself); where a type holds only most values (see the engine halves), the sink's
// row-time checks stop the stream at the first value it cannot hold, naming it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apply/table_mapping.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply {

// Which dialect Column.source_type is written in.
enum class SourceEngine {
  kPostgres,  // Ferry's pg_type names with modifiers: "int4", "numeric(10,2)", "varchar(20)[]"
  kMysql,     // MySQL/MariaDB column types: "int unsigned", "decimal(10,2)", "datetime(6)"
};

// The engine named in the capture agent's Welcome ("postgres", "mariadb", "mysql").
Result<SourceEngine> SourceEngineFromName(std::string_view engine);

// A source type name taken apart: "decimal(10,2) unsigned" is base "decimal", params {10, 2},
// is_unsigned; "varchar(20)[]" is base "varchar", params {20}, is_array; "interval year to
// month" is base "interval", rest "year to month".
struct SourceType {
  std::string base;             // lower case
  std::vector<int64_t> params;  // the numbers in parentheses, if any
  bool is_unsigned = false;
  bool is_array = false;
  std::string rest;  // words after the base and parameters other than "unsigned"
};
SourceType ParseSourceType(std::string_view text);

struct NewColumn {
  std::string name;        // the target name
  wire::Column source;     // as the source describes it
  SourceType source_type;  // source.source_type() taken apart
  // The mapping's type override (`types:`): its values arrive converted to this type, which
  // then decides the target type instead of the source's.
  std::optional<wire::LogicalType> override_type;
  bool primary_key = false;
};

struct NewTable {
  std::string schema;
  std::string table;
  std::string source_name;  // source "schema.table", for messages
  SourceEngine source_engine = SourceEngine::kPostgres;
  std::vector<NewColumn> columns;  // in source order, excluded columns left out
  // Target names of the primary key's columns, in table order; empty: no primary key.
  std::vector<std::string> primary_key;

  std::string target_name() const { return schema + "." + table; }
};

// Whether `relation`'s key flags name a key to create as the primary key. Not when no column is
// flagged, nor when every column is flagged on a full-image relation: that is PostgreSQL's
// REPLICA IDENTITY FULL, or a MySQL/MariaDB table without primary key (whose rows the binlog
// identifies by the whole row), and the whole row is no key (it may repeat); nor when the
// mapping excludes part of the key (what is left may repeat).
bool KeyIsPrimaryKey(const MappedRelation& relation);

// The table `relation` maps to, as create_tables creates it.
NewTable PlanNewTable(const MappedRelation& relation, SourceEngine source_engine);

// One column of a NewIndex.
struct NewIndexColumn {
  size_t column = 0;           // into NewTable.columns
  uint32_t prefix_length = 0;  // index only the first n characters (bytes); 0: the whole value
};

// A secondary index of a created table, its columns under their target names. Invariant: it names
// only columns of its NewTable, in index order.
struct NewIndex {
  std::string source_name;  // the source's index name; the engine half derives the target's
  bool unique = false;
  std::vector<NewIndexColumn> columns;
};

// The indexes to create on `table` from the source's, and why any other was not.
struct PlannedIndexes {
  std::vector<NewIndex> indexes;
  std::vector<std::string> not_created;  // one sentence each, for the log
};
PlannedIndexes PlanNewIndexes(
    const NewTable& table, const google::protobuf::RepeatedPtrField<wire::SecondaryIndex>& source);

// `name` cut to at most `max_bytes` bytes, on a UTF-8 character boundary (identifier limits:
// PostgreSQL 63 bytes, MySQL/MariaDB 64 characters).
std::string TruncateIdentifier(std::string_view name, size_t max_bytes);

// What Sink::CreateIndexes did: the DDL it ran (an index already there runs nothing), and one
// sentence for each index the target engine cannot hold, for the log.
struct IndexDdl {
  std::vector<std::string> run;
  std::vector<std::string> not_created;
};

// The sentence for an index the target engine cannot hold: names table, index, why, and the fix.
std::string IndexNotCreated(const NewTable& table, const NewIndex& index, std::string_view why);

// The error for a CREATE INDEX the target refused: names table, index, the server's message and
// the fix.
Status IndexFailed(const NewTable& table, const NewIndex& index, const Status& failure);

// The error for a column the target engine has no exact type for: names table, column, source
// type, why, and the fixes.
Status UnmappableColumn(const NewTable& table, const NewColumn& column,
                        std::string_view target_engine, std::string_view why);

}  // namespace ferry::apply
