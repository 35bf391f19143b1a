// The MySQL/MariaDB half of create_tables (apply/table_creator.h): the type each source column
// gets on a MySQL/MariaDB target, and the DDL that creates the table. Pure functions, unit-tested
// without a server.
//
// From MySQL/MariaDB: the source's column type as it stands ("int unsigned", "decimal(10,2)",
// "varchar(20)", "datetime(6)", "bit(5)"), except ENUM -> VARCHAR(255) and SET -> LONGTEXT (the
// stream carries member names, not the member lists), GEOMETRY -> LONGBLOB (its bytes), and
// character and binary types a key cannot index (see keys below).
// From PostgreSQL (README "Type mapping across engines"):
//   bool -> BOOLEAN; int2/int4/int8 -> SMALLINT/INT/BIGINT; oid -> INT UNSIGNED;
//   numeric(p,s) -> DECIMAL(p,s) (p <= 65, s <= 38; a negative scale -> DECIMAL(p-s,0));
//   numeric -> DECIMAL(65,30) (a value with more digits stops the stream, naming it);
//   float4/float8 -> FLOAT/DOUBLE; varchar(n) -> VARCHAR(n) and bpchar(n) -> CHAR(n) up to the
//   key limit below (longer, or without a length: LONGTEXT); text, xml, enums and types Ferry
//   sends as text -> LONGTEXT; bytea -> LONGBLOB; date -> DATE; time(p) -> TIME(p);
//   timetz -> VARCHAR(32) (its text); timestamp(p), timestamptz(p) -> DATETIME(p) (timestamptz
//   as UTC wall time; no p: 6); interval -> VARCHAR(100) (its text); json, jsonb, arrays ->
//   JSON; uuid -> UUID (MariaDB), CHAR(36) (MySQL); bit(n <= 64) -> BIT(n); longer bit and
//   varbit(n) -> VARCHAR(n) (the bit string).
// A type override (`types:`) decides instead: BOOLEAN, BIGINT, LONGTEXT, JSON, LONGBLOB.
//
// Keys: InnoDB indexes at most 3072 bytes of a key, and no TEXT or BLOB without a length, so a
// key column of unbounded text (4 bytes a character in utf8mb4) or bytes becomes VARCHAR(n) /
// VARBINARY(n), the key's unbounded columns sharing the room its other columns leave (a text
// key alone: VARCHAR(768)); a longer value stops the stream naming it. JSON and arrays cannot be
// key columns. Character columns use utf8mb4 with a binary collation (MariaDB: NO PAD), so that
// keys distinct on the source ('a', 'A', 'a ') stay distinct on the target.
#pragma once

#include <string>
#include <vector>

#include "apply/table_creator.h"
#include "common/status.h"

namespace ferry::apply::mysql {

struct MysqlDialect {
  bool mariadb = true;  // false: MySQL (no UUID type, no NO PAD binary collation)
};

// The type of every column of `table`, in order, or the error naming the fix.
Result<std::vector<std::string>> MysqlColumnTypes(const NewTable& table,
                                                  const MysqlDialect& dialect);

// CREATE TABLE IF NOT EXISTS with the primary key.
Result<std::string> MysqlCreateTableSql(const NewTable& table, const MysqlDialect& dialect);

// The name `index` gets on a MySQL/MariaDB target: the source's, cut to 64 bytes.
std::string MysqlIndexName(const NewIndex& index);

// CREATE [UNIQUE] INDEX for `index` (MariaDB: IF NOT EXISTS; MySQL has no such clause, so the
// sink checks first). A source prefix length is kept. A column that is TEXT or BLOB on the target
// and has none gets a prefix from the room InnoDB's 3072-byte key limit leaves (shared as for
// keys), but in a unique index on MariaDB, which indexes the whole value by a hash instead so
// that uniqueness keeps its meaning. The error says why the target cannot hold the index (JSON,
// a whole TEXT unique on MySQL).
Result<std::string> MysqlCreateIndexSql(const NewTable& table, const NewIndex& index,
                                        const MysqlDialect& dialect);

// CREATE DATABASE IF NOT EXISTS for the table's database. Run it only when the database is
// missing: the server checks the CREATE privilege even when it exists.
std::string MysqlCreateDatabaseSql(const NewTable& table);

}  // namespace ferry::apply::mysql
