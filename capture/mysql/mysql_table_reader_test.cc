#include "capture/mysql/mysql_table_reader.h"

#include <gtest/gtest.h>

#include "capture/mysql/mysql_charset.h"
#include "capture/mysql/row_decoder.h"
#include "capture/mysql/table_catalog.h"

namespace ferry::capture::mysql {
namespace {

// Table `o``dd`.`T` (a, `b c`, z) keyed by (`b c`, a).
KeyedRelation OddTable() {
  KeyedRelation table;
  table.relation.set_schema("o`dd");
  table.relation.set_table("T");
  for (const char* name : {"a", "b c", "z"}) table.relation.add_columns()->set_name(name);
  table.key = {1, 0};
  return table;
}

TEST(MysqlChunkQueryTest, FirstChunkHasNoLowerBound) {
  EXPECT_EQ(MysqlChunkQuery(OddTable(), false, 8),
            "SELECT `a`, `b c`, `z` FROM `o``dd`.`T` ORDER BY `b c`, `a` LIMIT 8");
}

TEST(MysqlChunkQueryTest, LaterChunksUseOneRangePerKeyPrefix) {
  EXPECT_EQ(MysqlChunkQuery(OddTable(), true, 1001),
            "SELECT `a`, `b c`, `z` FROM `o``dd`.`T` WHERE (`b c` > ?) OR (`b c` = ? AND `a` > ?)"
            " ORDER BY `b c`, `a` LIMIT 1001");
  EXPECT_EQ(MysqlChunkParameters(2), (std::vector<size_t>{0, 0, 1}));
  EXPECT_EQ(MysqlChunkParameters(3), (std::vector<size_t>{0, 0, 1, 0, 1, 2}));
}

TEST(MysqlKeysQueryTest, OneConjunctionPerKey) {
  EXPECT_EQ(MysqlKeysQuery(OddTable(), 2),
            "SELECT `a`, `b c`, `z` FROM `o``dd`.`T` WHERE (`b c` = ? AND `a` = ?) OR "
            "(`b c` = ? AND `a` = ?) ORDER BY `b c`, `a`");
}

TEST(MysqlKeysQueryTest, OneColumnKeysInOneInList) {
  KeyedRelation table = OddTable();
  table.key = {0};
  EXPECT_EQ(MysqlKeysQuery(table, 3),
            "SELECT `a`, `b c`, `z` FROM `o``dd`.`T` WHERE `a` IN (?, ?, ?) ORDER BY `a`");
}

// The source types and logical types of a table rebuilt from information_schema are those the
// binlog's FULL metadata gives (row_decoder_test checks those names against recorded events).
TEST(TableMapFromCatalogTest, NamesTypesAsTheBinlogDoes) {
  constexpr uint32_t kUtf8mb4 = 45, kLatin1 = 8;
  std::vector<CatalogColumn> columns = {
      {"id", "int", "int(11)", true, kBinaryCollation, 0},
      {"u", "bigint", "bigint(20) unsigned", false, kBinaryCollation, 0},
      {"d", "decimal", "decimal(65,30)", false, kBinaryCollation, 0},
      {"f", "float", "float", false, kBinaryCollation, 0},
      {"b", "bit", "bit(10)", false, kBinaryCollation, 0},
      {"t", "time", "time(3)", false, kBinaryCollation, 0},
      {"dt", "datetime", "datetime(6)", false, kBinaryCollation, 0},
      {"ts", "timestamp", "timestamp", false, kBinaryCollation, 0},
      {"vc", "varchar", "varchar(50)", false, kUtf8mb4, 200},
      {"vb", "varbinary", "varbinary(7)", false, kBinaryCollation, 7},
      {"c", "char", "char(300)", false, kLatin1, 300},
      {"bn", "binary", "binary(16)", false, kBinaryCollation, 16},
      {"lt", "longtext", "longtext", false, kUtf8mb4, 4294967295},
      {"bl", "blob", "blob", false, kBinaryCollation, 65535},
      {"e", "enum", "enum('x','y')", false, kUtf8mb4, 4},
      {"s", "set", "set('a','b','c')", false, kUtf8mb4, 20},
      {"y", "year", "year(4)", false, kBinaryCollation, 0},
      {"dd", "date", "date", false, kBinaryCollation, 0},
  };
  Result<TableMap> map = TableMapFromCatalog("db", "t", columns);
  ASSERT_TRUE(map.ok()) << map.message();
  const wire::Relation relation = RelationFromTableMap(*map, 0);
  std::vector<std::string> names;
  for (const wire::Column& column : relation.columns()) names.push_back(column.source_type());
  EXPECT_EQ(names, (std::vector<std::string>{
                       "int", "bigint unsigned", "decimal(65,30)", "float", "bit(10)", "time(3)",
                       "datetime(6)", "timestamp", "varchar(50)", "varbinary(7)", "char(300)",
                       "binary(16)", "longtext", "blob", "enum", "set", "year", "date"}));
  EXPECT_EQ(relation.columns(1).type(), wire::LOGICAL_TYPE_UINT);
  EXPECT_EQ(relation.columns(9).type(), wire::LOGICAL_TYPE_BYTES);
  EXPECT_TRUE(relation.columns(0).key());
  EXPECT_FALSE(relation.columns(1).key());
  EXPECT_EQ(map->columns[15].set_values, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(TableMapFromCatalogTest, RefusesTypesItCannotReadAsLogged) {
  Result<TableMap> map =
      TableMapFromCatalog("db", "t", {{"u", "uuid", "uuid", true, kBinaryCollation, 16}});
  ASSERT_FALSE(map.ok());
  EXPECT_NE(map.message().find("column u"), std::string::npos) << map.message();
}

}  // namespace
}  // namespace ferry::capture::mysql
