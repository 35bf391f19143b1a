#include "verify/checksum.h"

#include <gtest/gtest.h>

namespace ferry::verify {
namespace {

KeyedRelation Table(std::vector<int> key) {
  KeyedRelation table;
  table.relation.set_schema("app");
  table.relation.set_table("T");
  for (const char* name : {"id", "at", "v"}) table.relation.add_columns()->set_name(name);
  table.key = std::move(key);
  return table;
}

TEST(VerifyChecksumSqlTest, PostgresChunkSumsTheFirstRowsAfterTheKeyAndNamesItsLastKey) {
  EXPECT_EQ(PgNextChunkSql(Table({0, 1}), {2, 0}, true, 1000),
            "SELECT count(*), coalesce(bit_xor(hashtextextended(r, 0)), 0), "
            "coalesce(bit_xor(hashtextextended(r, 1)), 0), "
            "(array_agg(k0::text ORDER BY k0, k1))[count(*)::int], "
            "(array_agg(k1::text ORDER BY k0, k1))[count(*)::int] FROM (SELECT ROW(\"v\", "
            "\"id\")::text COLLATE \"C\" AS r, \"id\" AS k0, \"at\" AS k1 FROM \"app\".\"T\" "
            "WHERE (\"id\", \"at\") > ($1, $2) ORDER BY \"id\", \"at\" LIMIT 1000) c");
  EXPECT_EQ(PgNextChunkSql(Table({0}), {0}, false, 5).find("WHERE"), std::string::npos);
}

TEST(VerifyChecksumSqlTest, PostgresRangeHasEitherBound) {
  const std::string sums =
      "SELECT count(*), coalesce(bit_xor(hashtextextended(r, 0)), 0), "
      "coalesce(bit_xor(hashtextextended(r, 1)), 0) FROM (SELECT ROW(\"id\", \"v\")::text "
      "COLLATE \"C\" AS r FROM \"app\".\"T\"";
  EXPECT_EQ(PgRangeSql(Table({0}), {0, 2}, true, true),
            sums + " WHERE (\"id\") > ($1) AND (\"id\") <= ($2)) c");
  EXPECT_EQ(PgRangeSql(Table({0}), {0, 2}, false, true), sums + " WHERE (\"id\") <= ($1)) c");
  EXPECT_EQ(PgRangeSql(Table({0}), {0, 2}, true, false), sums + " WHERE (\"id\") > ($1)) c");
  EXPECT_EQ(PgRangeSql(Table({0}), {0, 2}, false, false), sums + ") c");
}

TEST(VerifyChecksumSqlTest, MariaDbRowsAreLengthPrefixedBytesWithNullsMarked) {
  EXPECT_EQ(MysqlNextChunkSql(Table({0}), {2}, {"7"}, 10),
            "SELECT COUNT(*), COALESCE(BIT_XOR(CAST(CONV(SUBSTRING(m, 1, 16), 16, 10) AS "
            "UNSIGNED)), 0), COALESCE(BIT_XOR(CAST(CONV(SUBSTRING(m, 17, 16), 16, 10) AS "
            "UNSIGNED)), 0) FROM (SELECT MD5(CONCAT_WS('#', IFNULL(CONCAT(LENGTH(CAST(`v` AS "
            "BINARY)), ':', CAST(`v` AS BINARY)), 'N'))) AS m FROM `app`.`T` WHERE (`id` > 7) "
            "ORDER BY `id` LIMIT 10) r");
}

TEST(VerifyChecksumSqlTest, MariaDbBoundsAreRangesOfThePrimaryKey) {
  EXPECT_EQ(MysqlLastKeySql(Table({0, 1}), {"1", "'x'"}, 999),
            "SELECT `id`, `at` FROM `app`.`T` WHERE (`id` > 1) OR (`id` = 1 AND `at` > 'x') "
            "ORDER BY `id`, `at` LIMIT 1 OFFSET 999");
  const std::string range = MysqlRangeSql(Table({0, 1}), {2}, {"1", "'a'"}, {"5", "'b'"});
  EXPECT_NE(range.find(" WHERE ((`id` > 1) OR (`id` = 1 AND `at` > 'a')) AND ((`id` < 5) OR "
                       "(`id` = 5 AND `at` <= 'b'))) r"),
            std::string::npos)
      << range;
  EXPECT_EQ(MysqlRangeSql(Table({0}), {2}, {}, {}).find("WHERE"), std::string::npos);
}

TEST(VerifyChecksumKeyTest, LastKeysAreTypedAsTheReadersTypeThem) {
  wire::Column column;
  column.set_name("k");
  column.set_type(wire::LOGICAL_TYPE_UINT);
  Result<wire::Value> big = KeyValueFromText(column, Engine::kMysql, "18446744073709551615");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->uint64(), 18446744073709551615u);
  column.set_type(wire::LOGICAL_TYPE_INT);
  EXPECT_EQ(KeyValueFromText(column, Engine::kPostgres, "-5")->int64(), -5);
  EXPECT_FALSE(KeyValueFromText(column, Engine::kPostgres, "5x").ok());
  column.set_type(wire::LOGICAL_TYPE_TIMESTAMP_TZ);
  EXPECT_EQ(KeyValueFromText(column, Engine::kMysql, "2024-01-01 10:00:00")->timestamp_tz(),
            "2024-01-01 10:00:00+00");
  EXPECT_EQ(KeyValueFromText(column, Engine::kPostgres, "2024-01-01 10:00:00+00")->timestamp_tz(),
            "2024-01-01 10:00:00+00");
  column.set_type(wire::LOGICAL_TYPE_TEXT);
  EXPECT_FALSE(KeyValueFromText(column, Engine::kPostgres, "abc").ok());
}

TEST(VerifyChecksumKeyTest, OnlyKeysOrderedAlikeEverywhere) {
  EXPECT_TRUE(OrderedAlikeOnEveryServer(wire::LOGICAL_TYPE_INT));
  EXPECT_TRUE(OrderedAlikeOnEveryServer(wire::LOGICAL_TYPE_TIMESTAMP_TZ));
  EXPECT_TRUE(OrderedAlikeOnEveryServer(wire::LOGICAL_TYPE_UUID));
  EXPECT_FALSE(OrderedAlikeOnEveryServer(wire::LOGICAL_TYPE_TEXT));
  EXPECT_FALSE(OrderedAlikeOnEveryServer(wire::LOGICAL_TYPE_BYTES));
  EXPECT_FALSE(OrderedAlikeOnEveryServer(wire::LOGICAL_TYPE_FLOAT));
}

}  // namespace
}  // namespace ferry::verify
