#include "capture/mysql/table_selection.h"

#include <gtest/gtest.h>

namespace ferry::capture::mysql {
namespace {

TableSelection Select(const std::vector<std::string>& patterns) {
  Result<TableSelection> selection = TableSelection::Parse(patterns);
  EXPECT_TRUE(selection.ok()) << selection.message();
  return selection.ok() ? *selection : TableSelection();
}

TEST(TableSelectionTest, NoPatternsSelectEveryTableOutsideTheSystemSchemas) {
  const TableSelection all = Select({});
  EXPECT_TRUE(all.Wants("app", "orders"));
  for (const char* schema :
       {"mysql", "information_schema", "performance_schema", "sys", "ferry_meta"}) {
    EXPECT_FALSE(all.Wants(schema, "t")) << schema;
    EXPECT_FALSE(all.Touches(schema, "")) << schema;
  }
  EXPECT_TRUE(all.Touches("app", ""));
}

TEST(TableSelectionTest, TheStreamAlsoCarriesTheOriginMarkersButNoOtherFerryTable) {
  for (const TableSelection& selection : {Select({}), Select({"app.orders"})}) {
    EXPECT_TRUE(selection.Streams("ferry_meta", "checkpoints"));
    EXPECT_FALSE(selection.Wants("ferry_meta", "checkpoints"));  // so never copied
    // A copy chunk's marker.
    EXPECT_TRUE(selection.Streams("ferry_meta", "copy_progress"));
    EXPECT_FALSE(selection.Wants("ferry_meta", "copy_progress"));
    // Only ferry_meta's: a table of that name elsewhere streams as its patterns say.
    EXPECT_EQ(selection.Streams("app", "copy_progress"), selection.Wants("app", "copy_progress"));
    EXPECT_FALSE(selection.Streams("ferry_meta", "conflicts"));
    EXPECT_TRUE(selection.Streams("app", "orders"));
    EXPECT_FALSE(selection.Streams("app", "customers") && !selection.Wants("app", "customers"));
  }
}

TEST(TableSelectionTest, TablesAndWholeSchemas) {
  const TableSelection some = Select({"app.orders", "audit.*", "mysql.user"});
  EXPECT_TRUE(some.Wants("app", "orders"));
  EXPECT_FALSE(some.Wants("app", "customers"));
  EXPECT_TRUE(some.Wants("audit", "anything"));
  EXPECT_TRUE(some.Wants("mysql", "user"));  // named explicitly
  EXPECT_FALSE(some.Wants("other", "orders"));
  EXPECT_TRUE(some.Touches("app", ""));
  EXPECT_TRUE(some.Touches("audit", ""));
  EXPECT_FALSE(some.Touches("ap", ""));
  EXPECT_FALSE(some.Touches("other", ""));
  EXPECT_FALSE(some.Touches("app", "customers"));
}

TEST(TableSelectionTest, RefusesPatternsOfNeitherForm) {
  for (const char* pattern : {"orders", ".orders", "app.", ""}) {
    Result<TableSelection> selection = TableSelection::Parse({"app.ok", pattern});
    ASSERT_FALSE(selection.ok()) << pattern;
    EXPECT_NE(selection.message().find("\"schema.table\" or \"schema.*\""), std::string::npos);
  }
}

}  // namespace
}  // namespace ferry::capture::mysql
