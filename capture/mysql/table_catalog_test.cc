#include "capture/mysql/table_catalog.h"

#include <gtest/gtest.h>

#include "capture/mysql/mysql_charset.h"

namespace ferry::capture::mysql {
namespace {

// enum_field_types as a TABLE_MAP logs them.
constexpr uint8_t kTiny = 1, kLongLong = 8, kNewDecimal = 246, kString = 254;
constexpr uint8_t kEnum = 247, kSet = 248;

ColumnInfo Column(uint8_t type, uint16_t metadata = 0, uint8_t real_type = 0) {
  ColumnInfo column;
  column.type = type;
  column.metadata = metadata;
  column.real_type = real_type != 0 ? real_type : type;
  return column;
}

// As ParseTableMap gives a table logged with binlog_row_metadata=NO_LOG.
TableMap NoLogTable() {
  TableMap table;
  table.schema = "app";
  table.table = "t";
  table.columns = {Column(kLongLong), Column(kTiny), Column(kNewDecimal, 10 << 8 | 2),
                   Column(kString, kEnum << 8 | 1, kEnum), Column(kString, kSet << 8 | 1, kSet)};
  return table;
}

CatalogTable NoLogCatalog() {
  CatalogTable catalog;
  catalog.columns = {
      {"id", "bigint", "bigint(20) unsigned", true, kBinaryCollation, 0},
      {"small", "tinyint", "tinyint(4)", false, kBinaryCollation, 0},
      {"price", "decimal", "decimal(10,2) unsigned", false, kBinaryCollation, 0},
      {"size", "enum", "enum('S','it''s','b\\\\c','x,y')", false, 45, 0},
      {"tags", "set", "set('a','b')", false, 45, 0},
  };
  catalog.changed_at = 1000;
  return catalog;
}

TEST(TableCatalogTest, FillsNamesKeysSignednessAndMembers) {
  TableMap table = NoLogTable();
  ASSERT_TRUE(NeedsCatalog(table));
  ASSERT_TRUE(CompleteFromCatalog(table, NoLogCatalog(), 2000).ok());
  EXPECT_FALSE(NeedsCatalog(table));
  EXPECT_EQ(table.columns[0].name, "id");
  EXPECT_TRUE(table.columns[0].primary_key);
  EXPECT_FALSE(table.columns[1].primary_key);
  EXPECT_TRUE(table.columns[0].is_unsigned);
  EXPECT_FALSE(table.columns[1].is_unsigned);
  EXPECT_EQ(MysqlTypeName(table.columns[0]), "bigint unsigned");
  EXPECT_EQ(table.columns[3].enum_values, (std::vector<std::string>{"S", "it's", "b\\c", "x,y"}));
  EXPECT_EQ(table.columns[4].set_values, (std::vector<std::string>{"a", "b"}));
}

TEST(TableCatalogTest, KeepsWhatTheBinlogLogged) {
  // binlog_row_metadata=MINIMAL logs signedness: the binlog's word stands, the catalog only
  // names the columns.
  TableMap table = NoLogTable();
  table.has_signedness = true;
  table.columns[0].is_unsigned = false;
  ASSERT_TRUE(CompleteFromCatalog(table, NoLogCatalog(), 2000).ok());
  EXPECT_FALSE(table.columns[0].is_unsigned);
  EXPECT_EQ(table.columns[0].name, "id");
}

TEST(TableCatalogTest, RefusesACatalogNewerThanTheEvent) {
  TableMap table = NoLogTable();
  Status status = CompleteFromCatalog(table, NoLogCatalog(), 999);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("table `app`.`t` was altered"), std::string::npos);
  EXPECT_TRUE(CompleteFromCatalog(table, NoLogCatalog(), 1000).ok());  // the same second
}

TEST(TableCatalogTest, RefusesAnotherShape) {
  CatalogTable wider_decimal = NoLogCatalog();
  wider_decimal.columns[2].column_type = "decimal(12,2) unsigned";
  TableMap table = NoLogTable();
  Status status = CompleteFromCatalog(table, wider_decimal, 2000);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("column 3 is decimal(10,2) in the binlog event but "
                                  "information_schema says price decimal(12,2) unsigned"),
            std::string::npos)
      << status.message();

  CatalogTable other_type = NoLogCatalog();
  other_type.columns[1] = {"small", "int", "int(11)", false, kBinaryCollation, 0};
  table = NoLogTable();
  EXPECT_FALSE(CompleteFromCatalog(table, other_type, 2000).ok());

  CatalogTable big_enum = NoLogCatalog();  // 300 members take 2 bytes, the event has 1
  big_enum.columns[3].column_type = "enum(";
  for (int i = 0; i < 300; ++i)
    big_enum.columns[3].column_type += (i ? ",'" : "'") + std::to_string(i) + "'";
  big_enum.columns[3].column_type += ")";
  table = NoLogTable();
  status = CompleteFromCatalog(table, big_enum, 2000);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("enum of 1 bytes"), std::string::npos) << status.message();

  CatalogTable missing;
  table = NoLogTable();
  status = CompleteFromCatalog(table, missing, 2000);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("is not in information_schema.COLUMNS"), std::string::npos);
}

TEST(TableCatalogTest, ParsesMembersAsTheServerEscapesThem) {
  EXPECT_EQ(*ParseMembers("enum('a','it''s','b\\\\c','\\n','x,y','')"),
            (std::vector<std::string>{"a", "it's", "b\\c", "\n", "x,y", ""}));
  EXPECT_EQ(*ParseMembers("set('ä','b')"), (std::vector<std::string>{"ä", "b"}));
  EXPECT_FALSE(ParseMembers("int(11)").ok());
  EXPECT_FALSE(ParseMembers("enum('a'").ok());
  EXPECT_FALSE(ParseMembers("enum('a',").ok());
}

}  // namespace
}  // namespace ferry::capture::mysql
