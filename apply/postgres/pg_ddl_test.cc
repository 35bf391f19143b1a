#include "apply/postgres/pg_ddl.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "apply/table_creator_testing.h"

namespace ferry::apply::postgres {
namespace {

using apply::testing::Column;
using apply::testing::Index;
using apply::testing::Table;
using apply::testing::TypeCase;

void ExpectTypes(SourceEngine engine, const std::vector<TypeCase>& cases) {
  for (const TypeCase& c : cases) {
    NewTable table = Table(engine, {Column("c", c.source_type, c.type)});
    Result<std::string> type = PgColumnType(table, table.columns[0]);
    ASSERT_TRUE(type.ok()) << c.source_type << ": " << type.message();
    EXPECT_EQ(*type, c.expected) << c.source_type;
  }
}

TEST(PgCreateTableTest, PostgresSourceKeepsItsTypes) {
  ExpectTypes(SourceEngine::kPostgres,
              {{"int4", wire::LOGICAL_TYPE_INT, "int4"},
               {"numeric(10,2)", wire::LOGICAL_TYPE_DECIMAL, "numeric(10,2)"},
               {"numeric", wire::LOGICAL_TYPE_DECIMAL, "numeric"},
               {"varchar(20)", wire::LOGICAL_TYPE_TEXT, "varchar(20)"},
               {"bpchar(3)", wire::LOGICAL_TYPE_TEXT, "bpchar(3)"},
               {"timestamptz(3)", wire::LOGICAL_TYPE_TIMESTAMP_TZ, "timestamptz(3)"},
               {"interval year to month", wire::LOGICAL_TYPE_INTERVAL, "interval year to month"},
               {"int4[]", wire::LOGICAL_TYPE_ARRAY, "int4[]"},
               {"jsonb", wire::LOGICAL_TYPE_JSON, "jsonb"},
               {"uuid", wire::LOGICAL_TYPE_UUID, "uuid"},
               {"varbit(10)", wire::LOGICAL_TYPE_BIT, "varbit(10)"},
               {"mood", wire::LOGICAL_TYPE_OTHER, "mood"},
               {"char", wire::LOGICAL_TYPE_TEXT, "\"char\""},
               {"char[]", wire::LOGICAL_TYPE_ARRAY, "\"char\"[]"}});
}

TEST(PgCreateTableTest, MysqlSourceTypes) {
  ExpectTypes(SourceEngine::kMysql,
              {{"tinyint", wire::LOGICAL_TYPE_INT, "int2"},
               {"tinyint unsigned", wire::LOGICAL_TYPE_UINT, "int2"},
               {"smallint", wire::LOGICAL_TYPE_INT, "int2"},
               {"smallint unsigned", wire::LOGICAL_TYPE_UINT, "int4"},
               {"mediumint unsigned", wire::LOGICAL_TYPE_UINT, "int4"},
               {"int", wire::LOGICAL_TYPE_INT, "int4"},
               {"int unsigned", wire::LOGICAL_TYPE_UINT, "int8"},
               {"bigint", wire::LOGICAL_TYPE_INT, "int8"},
               {"bigint unsigned", wire::LOGICAL_TYPE_UINT, "numeric(20,0)"},
               {"year", wire::LOGICAL_TYPE_INT, "int2"},
               {"decimal(10,2)", wire::LOGICAL_TYPE_DECIMAL, "numeric(10,2)"},
               {"decimal(10,2) unsigned", wire::LOGICAL_TYPE_DECIMAL, "numeric(10,2)"},
               {"float", wire::LOGICAL_TYPE_FLOAT, "float4"},
               {"double", wire::LOGICAL_TYPE_FLOAT, "float8"},
               {"varchar(20)", wire::LOGICAL_TYPE_TEXT, "varchar(20)"},
               {"char(5)", wire::LOGICAL_TYPE_TEXT, "varchar(5)"},
               {"varchar(20) compressed", wire::LOGICAL_TYPE_TEXT, "varchar(20)"},
               {"mediumtext", wire::LOGICAL_TYPE_TEXT, "text"},
               {"enum", wire::LOGICAL_TYPE_ENUM, "text"},
               {"set", wire::LOGICAL_TYPE_SET, "text"},
               {"varbinary(16)", wire::LOGICAL_TYPE_BYTES, "bytea"},
               {"longblob", wire::LOGICAL_TYPE_BYTES, "bytea"},
               {"date", wire::LOGICAL_TYPE_DATE, "date"},
               {"time", wire::LOGICAL_TYPE_TIME, "interval"},
               {"time(3)", wire::LOGICAL_TYPE_TIME, "interval(3)"},
               {"datetime(6)", wire::LOGICAL_TYPE_TIMESTAMP, "timestamp(6)"},
               {"datetime", wire::LOGICAL_TYPE_TIMESTAMP, "timestamp"},
               {"timestamp(3)", wire::LOGICAL_TYPE_TIMESTAMP_TZ, "timestamptz(3)"},
               {"bit(5)", wire::LOGICAL_TYPE_BIT, "bit(5)"},
               {"json", wire::LOGICAL_TYPE_JSON, "jsonb"}});
}

TEST(PgCreateTableTest, OverrideTypeDecides) {
  NewColumn flag = Column("flag", "tinyint", wire::LOGICAL_TYPE_INT);
  flag.override_type = wire::LOGICAL_TYPE_BOOL;
  NewColumn bits = Column("bits", "bit(64)", wire::LOGICAL_TYPE_BIT);
  bits.override_type = wire::LOGICAL_TYPE_INT;
  NewColumn blob = Column("blob", "blob", wire::LOGICAL_TYPE_BYTES);
  blob.override_type = wire::LOGICAL_TYPE_TEXT;
  NewTable table = Table(SourceEngine::kMysql, {flag, bits, blob});
  EXPECT_EQ(*PgColumnType(table, table.columns[0]), "boolean");
  EXPECT_EQ(*PgColumnType(table, table.columns[1]), "int8");
  EXPECT_EQ(*PgColumnType(table, table.columns[2]), "text");
}

TEST(PgCreateTableTest, UnknownTypesAreRefusedWithTheFix) {
  NewTable mysql = Table(SourceEngine::kMysql, {Column("g", "type 255", wire::LOGICAL_TYPE_OTHER)});
  Result<std::string> type = PgColumnType(mysql, mysql.columns[0]);
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.message().find("column g of source type type 255"), std::string::npos);
  EXPECT_NE(type.message().find("create the table on the target yourself"), std::string::npos);
  NewTable pg =
      Table(SourceEngine::kPostgres, {Column("x", "pg_type oid 4600", wire::LOGICAL_TYPE_OTHER)});
  EXPECT_FALSE(PgColumnType(pg, pg.columns[0]).ok());
  EXPECT_FALSE(PgCreateTableSql(pg).ok());
}

TEST(PgCreateTableTest, CreatesSchemaThenTableWithPrimaryKey) {
  NewTable table =
      Table(SourceEngine::kMysql, {Column("id", "bigint unsigned", wire::LOGICAL_TYPE_UINT, true),
                                   Column("Name", "varchar(20)", wire::LOGICAL_TYPE_TEXT, true),
                                   Column("doc", "json", wire::LOGICAL_TYPE_JSON)});
  EXPECT_EQ(PgCreateSchemaSql(table), "CREATE SCHEMA IF NOT EXISTS \"app\"");
  Result<std::string> sql = PgCreateTableSql(table);
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql,
            "CREATE TABLE IF NOT EXISTS \"app\".\"t\" (\"id\" numeric(20,0) NOT NULL, \"Name\" "
            "varchar(20) NOT NULL, \"doc\" jsonb, PRIMARY KEY (\"id\", \"Name\"))");
}

TEST(PgCreateTableTest, NoPrimaryKeyWithoutKey) {
  NewTable table = Table(SourceEngine::kPostgres, {Column("a", "int4", wire::LOGICAL_TYPE_INT),
                                                   Column("b", "text", wire::LOGICAL_TYPE_TEXT)});
  Result<std::string> sql = PgCreateTableSql(table);
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql, "CREATE TABLE IF NOT EXISTS \"app\".\"t\" (\"a\" int4, \"b\" text)");
}

TEST(PgCreateIndexTest, PostgresSourceKeepsTheIndexName) {
  const NewTable table =
      Table(SourceEngine::kPostgres, {Column("id", "int4", wire::LOGICAL_TYPE_INT, true),
                                      Column("a", "text", wire::LOGICAL_TYPE_TEXT),
                                      Column("b", "date", wire::LOGICAL_TYPE_DATE)});
  Result<std::string> sql = PgCreateIndexSql(table, Index("t_a_b", false, {{1, 0}, {2, 0}}));
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql, "CREATE INDEX IF NOT EXISTS \"t_a_b\" ON \"app\".\"t\" (\"a\", \"b\")");
  sql = PgCreateIndexSql(table, Index("t_b_key", true, {{2, 0}}));
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql, "CREATE UNIQUE INDEX IF NOT EXISTS \"t_b_key\" ON \"app\".\"t\" (\"b\")");
}

// MySQL/MariaDB index names are per table, PostgreSQL's per schema; at most 63 bytes.
TEST(PgCreateIndexTest, MysqlSourceIndexNamesGetTheTableInFront) {
  const NewTable table =
      Table(SourceEngine::kMysql, {Column("id", "int", wire::LOGICAL_TYPE_INT, true),
                                   Column("name", "varchar(20)", wire::LOGICAL_TYPE_TEXT)});
  EXPECT_EQ(PgIndexName(table, Index("name", false, {{1, 0}})), "t_name");
  EXPECT_EQ(PgIndexName(table, Index(std::string(70, 'x'), false, {{1, 0}})),
            "t_" + std::string(61, 'x'));
}

// A prefix index keeps its meaning as an expression index (a unique one stays as strict).
TEST(PgCreateIndexTest, MysqlPrefixIndexesBecomeExpressions) {
  const NewTable table =
      Table(SourceEngine::kMysql, {Column("id", "int", wire::LOGICAL_TYPE_INT, true),
                                   Column("note", "text", wire::LOGICAL_TYPE_TEXT),
                                   Column("raw", "blob", wire::LOGICAL_TYPE_BYTES)});
  Result<std::string> sql = PgCreateIndexSql(table, Index("note", true, {{1, 10}, {0, 0}}));
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql,
            "CREATE UNIQUE INDEX IF NOT EXISTS \"t_note\" ON \"app\".\"t\" "
            "((left(\"note\", 10)), \"id\")");
  sql = PgCreateIndexSql(table, Index("raw", false, {{2, 4}}));
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql,
            "CREATE INDEX IF NOT EXISTS \"t_raw\" ON \"app\".\"t\" "
            "((substring(\"raw\" from 1 for 4)))");
}

}  // namespace
}  // namespace ferry::apply::postgres
