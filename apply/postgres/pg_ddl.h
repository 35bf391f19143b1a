// The PostgreSQL half of create_tables (apply/table_creator.h): the type each source column
// gets on a PostgreSQL target, and the DDL that creates the table. Pure functions, unit-tested
// without a server.
//
// From PostgreSQL: the source's own type, with its modifiers (format_type() names Ferry sends:
// "int4", "numeric(10,2)", "varchar(20)[]"); a type of the source's own (an enum, a domain's
// base type, an extension's) must exist on the target under that name.
// From MySQL/MariaDB (README "Type mapping across engines"):
//   TINYINT, SMALLINT -> int2; MEDIUMINT, INT -> int4; BIGINT -> int8; UNSIGNED: the next wider
//   (BIGINT UNSIGNED -> numeric(20,0)); YEAR -> int2; DECIMAL(p,s) -> numeric(p,s);
//   FLOAT -> float4; DOUBLE -> float8; CHAR(n), VARCHAR(n) -> varchar(n) (CHAR's values arrive
//   without trailing spaces, which bpchar would add back); TEXT types, ENUM, SET -> text;
//   BINARY, VARBINARY, BLOB types, GEOMETRY -> bytea; DATE -> date; TIME(p) -> interval(p)
//   (TIME spans -838:59:59..838:59:59, which time cannot hold); DATETIME(p) -> timestamp(p);
//   TIMESTAMP(p) -> timestamptz(p); BIT(n) -> bit(n); JSON -> jsonb.
// A type override (`types:`) decides instead: boolean, int8, text, jsonb, bytea.
#pragma once

#include <string>
#include <vector>

#include "apply/table_creator.h"
#include "common/status.h"

namespace ferry::apply::postgres {

// The PostgreSQL type of `column` in `table`, or the error naming the fix.
Result<std::string> PgColumnType(const NewTable& table, const NewColumn& column);

// CREATE TABLE IF NOT EXISTS with the primary key.
Result<std::string> PgCreateTableSql(const NewTable& table);

// The name `index` gets on a PostgreSQL target: the source's from PostgreSQL; from MySQL/MariaDB,
// whose index names are per table where PostgreSQL's are per schema, "<table>_<index>". At most
// 63 bytes (longer names are cut).
std::string PgIndexName(const NewTable& table, const NewIndex& index);

// CREATE [UNIQUE] INDEX IF NOT EXISTS for `index`. A prefix (from a MySQL/MariaDB prefix index)
// becomes an expression, left(col, n) or for bytea substring(col from 1 for n), so that a
// unique prefix index keeps its meaning.
Result<std::string> PgCreateIndexSql(const NewTable& table, const NewIndex& index);

// CREATE SCHEMA IF NOT EXISTS for the table's schema. Run it only when the schema is missing:
// PostgreSQL checks the CREATE privilege on the database even when the schema exists.
std::string PgCreateSchemaSql(const NewTable& table);

}  // namespace ferry::apply::postgres
