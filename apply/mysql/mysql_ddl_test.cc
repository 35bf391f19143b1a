#include "apply/mysql/mysql_ddl.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "apply/table_creator_testing.h"

namespace ferry::apply::mysql {
namespace {

using apply::testing::Column;
using apply::testing::Index;
using apply::testing::Table;
using apply::testing::TypeCase;

void ExpectTypes(SourceEngine engine, const std::vector<TypeCase>& cases,
                 MysqlDialect dialect = {}) {
  for (const TypeCase& c : cases) {
    NewTable table = Table(engine, {Column("c", c.source_type, c.type)});
    Result<std::vector<std::string>> types = MysqlColumnTypes(table, dialect);
    ASSERT_TRUE(types.ok()) << c.source_type << ": " << types.message();
    EXPECT_EQ(types->at(0), c.expected) << c.source_type;
  }
}

TEST(MysqlCreateTableTest, PostgresSourceTypes) {
  ExpectTypes(SourceEngine::kPostgres,
              {{"bool", wire::LOGICAL_TYPE_BOOL, "BOOLEAN"},
               {"int2", wire::LOGICAL_TYPE_INT, "SMALLINT"},
               {"int4", wire::LOGICAL_TYPE_INT, "INT"},
               {"int8", wire::LOGICAL_TYPE_INT, "BIGINT"},
               {"oid", wire::LOGICAL_TYPE_INT, "INT UNSIGNED"},
               {"numeric(10,2)", wire::LOGICAL_TYPE_DECIMAL, "DECIMAL(10,2)"},
               {"numeric(5,-2)", wire::LOGICAL_TYPE_DECIMAL, "DECIMAL(7,0)"},
               {"numeric", wire::LOGICAL_TYPE_DECIMAL, "DECIMAL(65,30)"},
               {"float4", wire::LOGICAL_TYPE_FLOAT, "FLOAT"},
               {"float8", wire::LOGICAL_TYPE_FLOAT, "DOUBLE"},
               {"text", wire::LOGICAL_TYPE_TEXT, "LONGTEXT"},
               {"varchar", wire::LOGICAL_TYPE_TEXT, "LONGTEXT"},
               {"varchar(20)", wire::LOGICAL_TYPE_TEXT, "VARCHAR(20)"},
               {"varchar(5000)", wire::LOGICAL_TYPE_TEXT, "LONGTEXT"},
               {"bpchar(3)", wire::LOGICAL_TYPE_TEXT, "CHAR(3)"},
               {"bpchar(300)", wire::LOGICAL_TYPE_TEXT, "VARCHAR(300)"},
               {"bytea", wire::LOGICAL_TYPE_BYTES, "LONGBLOB"},
               {"date", wire::LOGICAL_TYPE_DATE, "DATE"},
               {"time", wire::LOGICAL_TYPE_TIME, "TIME(6)"},
               {"time(2)", wire::LOGICAL_TYPE_TIME, "TIME(2)"},
               {"timetz", wire::LOGICAL_TYPE_TIME_TZ, "VARCHAR(32)"},
               {"timestamp", wire::LOGICAL_TYPE_TIMESTAMP, "DATETIME(6)"},
               {"timestamp(3)", wire::LOGICAL_TYPE_TIMESTAMP, "DATETIME(3)"},
               {"timestamptz", wire::LOGICAL_TYPE_TIMESTAMP_TZ, "DATETIME(6)"},
               {"interval", wire::LOGICAL_TYPE_INTERVAL, "VARCHAR(100)"},
               {"json", wire::LOGICAL_TYPE_JSON, "JSON"},
               {"jsonb", wire::LOGICAL_TYPE_JSON, "JSON"},
               {"uuid", wire::LOGICAL_TYPE_UUID, "UUID"},
               {"int4[]", wire::LOGICAL_TYPE_ARRAY, "JSON"},
               {"bit(5)", wire::LOGICAL_TYPE_BIT, "BIT(5)"},
               {"bit(100)", wire::LOGICAL_TYPE_BIT, "VARCHAR(100)"},
               {"varbit(10)", wire::LOGICAL_TYPE_BIT, "VARCHAR(10)"},
               {"mood", wire::LOGICAL_TYPE_OTHER, "LONGTEXT"},
               {"inet", wire::LOGICAL_TYPE_OTHER, "LONGTEXT"}});
  ExpectTypes(SourceEngine::kPostgres, {{"uuid", wire::LOGICAL_TYPE_UUID, "CHAR(36)"}},
              MysqlDialect{.mariadb = false});
}

TEST(MysqlCreateTableTest, MysqlSourceKeepsItsTypes) {
  ExpectTypes(SourceEngine::kMysql,
              {{"tinyint", wire::LOGICAL_TYPE_INT, "tinyint"},
               {"int unsigned", wire::LOGICAL_TYPE_UINT, "int unsigned"},
               {"bigint unsigned", wire::LOGICAL_TYPE_UINT, "bigint unsigned"},
               {"decimal(10,2) unsigned", wire::LOGICAL_TYPE_DECIMAL, "decimal(10,2) unsigned"},
               {"double", wire::LOGICAL_TYPE_FLOAT, "double"},
               {"year", wire::LOGICAL_TYPE_INT, "year"},
               {"varchar(20)", wire::LOGICAL_TYPE_TEXT, "varchar(20)"},
               {"char(5)", wire::LOGICAL_TYPE_TEXT, "char(5)"},
               {"varchar(20) compressed", wire::LOGICAL_TYPE_TEXT, "varchar(20)"},
               {"varchar(5000)", wire::LOGICAL_TYPE_TEXT, "LONGTEXT"},
               {"mediumtext", wire::LOGICAL_TYPE_TEXT, "mediumtext"},
               {"binary(16)", wire::LOGICAL_TYPE_BYTES, "binary(16)"},
               {"varbinary(200)", wire::LOGICAL_TYPE_BYTES, "varbinary(200)"},
               {"blob", wire::LOGICAL_TYPE_BYTES, "blob"},
               {"geometry", wire::LOGICAL_TYPE_BYTES, "LONGBLOB"},
               {"date", wire::LOGICAL_TYPE_DATE, "date"},
               {"time(3)", wire::LOGICAL_TYPE_TIME, "time(3)"},
               {"datetime(6)", wire::LOGICAL_TYPE_TIMESTAMP, "datetime(6)"},
               {"timestamp(3)", wire::LOGICAL_TYPE_TIMESTAMP_TZ, "timestamp(3)"},
               {"bit(5)", wire::LOGICAL_TYPE_BIT, "bit(5)"},
               {"enum", wire::LOGICAL_TYPE_ENUM, "VARCHAR(255)"},
               {"set", wire::LOGICAL_TYPE_SET, "LONGTEXT"},
               {"json", wire::LOGICAL_TYPE_JSON, "JSON"}});
}

TEST(MysqlCreateTableTest, OverrideTypeDecides) {
  NewColumn flag = Column("flag", "int2", wire::LOGICAL_TYPE_INT);
  flag.override_type = wire::LOGICAL_TYPE_BOOL;
  NewColumn doc = Column("doc", "text", wire::LOGICAL_TYPE_TEXT);
  doc.override_type = wire::LOGICAL_TYPE_JSON;
  NewColumn raw = Column("raw", "text", wire::LOGICAL_TYPE_TEXT);
  raw.override_type = wire::LOGICAL_TYPE_BYTES;
  Result<std::vector<std::string>> types =
      MysqlColumnTypes(Table(SourceEngine::kPostgres, {flag, doc, raw}), {});
  ASSERT_TRUE(types.ok()) << types.message();
  EXPECT_EQ(*types, (std::vector<std::string>{"BOOLEAN", "JSON", "LONGBLOB"}));
}

// InnoDB indexes 3072 bytes of a key: unbounded key columns share what the others leave.
TEST(MysqlCreateTableTest, UnboundedKeyColumnsGetALength) {
  auto types_of = [](std::vector<NewColumn> columns) {
    Result<std::vector<std::string>> types =
        MysqlColumnTypes(Table(SourceEngine::kPostgres, std::move(columns)), {});
    EXPECT_TRUE(types.ok()) << types.message();
    return types.ok() ? *types : std::vector<std::string>{};
  };
  EXPECT_EQ(types_of({Column("k", "text", wire::LOGICAL_TYPE_TEXT, true)}),
            (std::vector<std::string>{"VARCHAR(768)"}));
  EXPECT_EQ(types_of({Column("k", "bytea", wire::LOGICAL_TYPE_BYTES, true)}),
            (std::vector<std::string>{"VARBINARY(3072)"}));
  EXPECT_EQ(types_of({Column("a", "text", wire::LOGICAL_TYPE_TEXT, true),
                      Column("b", "text", wire::LOGICAL_TYPE_TEXT, true),
                      Column("c", "text", wire::LOGICAL_TYPE_TEXT)}),
            (std::vector<std::string>{"VARCHAR(384)", "VARCHAR(384)", "LONGTEXT"}));
  EXPECT_EQ(types_of({Column("id", "int8", wire::LOGICAL_TYPE_INT, true),
                      Column("code", "varchar(10)", wire::LOGICAL_TYPE_TEXT, true),
                      Column("name", "text", wire::LOGICAL_TYPE_TEXT, true)}),
            (std::vector<std::string>{"BIGINT", "VARCHAR(10)", "VARCHAR(756)"}));
  // A MySQL/MariaDB source's TEXT key (indexed by a prefix there).
  Result<std::vector<std::string>> prefix = MysqlColumnTypes(
      Table(SourceEngine::kMysql, {Column("k", "text", wire::LOGICAL_TYPE_TEXT, true)}), {});
  ASSERT_TRUE(prefix.ok()) << prefix.message();
  EXPECT_EQ(*prefix, (std::vector<std::string>{"VARCHAR(768)"}));
}

TEST(MysqlCreateTableTest, RefusesWhatCannotBeMappedExactly) {
  auto error_of = [](SourceEngine engine, NewColumn column) {
    Result<std::vector<std::string>> types = MysqlColumnTypes(Table(engine, {column}), {});
    EXPECT_FALSE(types.ok()) << column.source.source_type();
    return types.ok() ? std::string() : types.message();
  };
  EXPECT_NE(
      error_of(SourceEngine::kPostgres, Column("n", "numeric(70,2)", wire::LOGICAL_TYPE_DECIMAL))
          .find("column n of source type numeric(70,2) has no exact MySQL/MariaDB type"),
      std::string::npos);
  EXPECT_NE(error_of(SourceEngine::kPostgres, Column("j", "jsonb", wire::LOGICAL_TYPE_JSON, true))
                .find("cannot index JSON in a key"),
            std::string::npos);
  EXPECT_NE(error_of(SourceEngine::kMysql, Column("x", "type 255", wire::LOGICAL_TYPE_OTHER))
                .find("create the table on the target yourself"),
            std::string::npos);
  std::vector<NewColumn> wide;
  for (int i = 0; i < 4; ++i) {
    wide.push_back(Column("v" + std::to_string(i), "varchar(192)", wire::LOGICAL_TYPE_TEXT, true));
  }
  wide.push_back(Column("rest", "text", wire::LOGICAL_TYPE_TEXT, true));
  Result<std::vector<std::string>> full =
      MysqlColumnTypes(Table(SourceEngine::kPostgres, wide), {});
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.message().find("leave it none of the 3072 bytes"), std::string::npos);
}

TEST(MysqlCreateTableTest, CreatesDatabaseThenTableWithPrimaryKey) {
  NewTable table =
      Table(SourceEngine::kPostgres, {Column("id", "int8", wire::LOGICAL_TYPE_INT, true),
                                      Column("at", "timestamptz", wire::LOGICAL_TYPE_TIMESTAMP_TZ),
                                      Column("note`s", "text", wire::LOGICAL_TYPE_TEXT)});
  EXPECT_EQ(MysqlCreateDatabaseSql(table),
            "CREATE DATABASE IF NOT EXISTS `app` CHARACTER SET utf8mb4");
  Result<std::string> sql = MysqlCreateTableSql(table, {});
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql,
            "CREATE TABLE IF NOT EXISTS `app`.`t` (`id` BIGINT NOT NULL, `at` DATETIME(6) NULL, "
            "`note``s` LONGTEXT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
            "COLLATE=utf8mb4_nopad_bin");
  Result<std::string> mysql = MysqlCreateTableSql(table, {.mariadb = false});
  ASSERT_TRUE(mysql.ok());
  EXPECT_TRUE(mysql->ends_with("COLLATE=utf8mb4_bin"));
}

TEST(MysqlCreateTableTest, NoPrimaryKeyWithoutKey) {
  Result<std::string> sql = MysqlCreateTableSql(
      Table(SourceEngine::kMysql, {Column("a", "int", wire::LOGICAL_TYPE_INT)}), {});
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql,
            "CREATE TABLE IF NOT EXISTS `app`.`t` (`a` int NULL) ENGINE=InnoDB DEFAULT "
            "CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin");
}

TEST(MysqlCreateIndexTest, KeepsTheNameAndTheSourcesPrefix) {
  const NewTable table =
      Table(SourceEngine::kMysql, {Column("id", "int", wire::LOGICAL_TYPE_INT, true),
                                   Column("a", "varchar(20)", wire::LOGICAL_TYPE_TEXT),
                                   Column("note", "text", wire::LOGICAL_TYPE_TEXT)});
  Result<std::string> sql =
      MysqlCreateIndexSql(table, Index("a_note", false, {{1, 0}, {2, 10}}), {});
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql, "CREATE INDEX IF NOT EXISTS `a_note` ON `app`.`t` (`a`, `note`(10))");
  sql = MysqlCreateIndexSql(table, Index("a", true, {{1, 0}}), MysqlDialect{.mariadb = false});
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql, "CREATE UNIQUE INDEX `a` ON `app`.`t` (`a`)");  // MySQL: no IF NOT EXISTS
  EXPECT_EQ(MysqlIndexName(Index(std::string(70, 'x'), false, {})), std::string(64, 'x'));
}

// An unbounded column from PostgreSQL (LONGTEXT / LONGBLOB here) gets a prefix from the room
// InnoDB's 3072-byte limit leaves; unique, MariaDB indexes it whole by a hash instead, and MySQL
// cannot hold it.
TEST(MysqlCreateIndexTest, UnboundedColumnsShareTheKeyRoom) {
  const NewTable table =
      Table(SourceEngine::kPostgres, {Column("id", "int8", wire::LOGICAL_TYPE_INT, true),
                                      Column("code", "varchar(10)", wire::LOGICAL_TYPE_TEXT),
                                      Column("body", "text", wire::LOGICAL_TYPE_TEXT),
                                      Column("raw", "bytea", wire::LOGICAL_TYPE_BYTES),
                                      Column("doc", "jsonb", wire::LOGICAL_TYPE_JSON)});
  Result<std::string> sql =
      MysqlCreateIndexSql(table, Index("t_code_body", false, {{1, 0}, {2, 0}}), {});
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql, "CREATE INDEX IF NOT EXISTS `t_code_body` ON `app`.`t` (`code`, `body`(758))");
  sql = MysqlCreateIndexSql(table, Index("t_body_raw", false, {{2, 0}, {3, 0}}), {});
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql,
            "CREATE INDEX IF NOT EXISTS `t_body_raw` ON `app`.`t` (`body`(384), `raw`(1536))");
  sql = MysqlCreateIndexSql(table, Index("t_body_key", true, {{2, 0}}), {});
  ASSERT_TRUE(sql.ok()) << sql.message();
  EXPECT_EQ(*sql, "CREATE UNIQUE INDEX IF NOT EXISTS `t_body_key` ON `app`.`t` (`body`)");
  sql = MysqlCreateIndexSql(table, Index("t_body_key", true, {{2, 0}}),
                            MysqlDialect{.mariadb = false});
  ASSERT_FALSE(sql.ok());
  EXPECT_NE(sql.message().find("unique"), std::string::npos) << sql.message();
  sql = MysqlCreateIndexSql(table, Index("t_doc", false, {{4, 0}}), {});
  ASSERT_FALSE(sql.ok());
  EXPECT_NE(sql.message().find("JSON"), std::string::npos) << sql.message();
}

}  // namespace
}  // namespace ferry::apply::mysql
