#include "apply/sink_text.h"

#include <gtest/gtest.h>

namespace ferry::apply {
namespace {

TEST(SinkTextTest, OpName) {
  EXPECT_STREQ(OpName(wire::RowChange::INSERT), "INSERT");
  EXPECT_STREQ(OpName(wire::RowChange::UPDATE), "UPDATE");
  EXPECT_STREQ(OpName(wire::RowChange::DELETE), "DELETE");
  EXPECT_STREQ(OpName(wire::RowChange::TRUNCATE), "TRUNCATE");
  EXPECT_STREQ(OpName(static_cast<wire::RowChange::Op>(99)), "UNKNOWN");
}

MappedRelation Mapped(const std::vector<std::pair<std::string, bool>>& columns) {
  MappedRelation relation;
  for (const auto& [name, key] : columns) {
    MappedColumn column;
    column.target_name = name;
    column.key = key;
    relation.columns.push_back(column);
  }
  return relation;
}

TEST(SinkTextTest, TargetShapeTellsColumnsAndKeysApart) {
  const std::string shape = TargetShape(Mapped({{"id", true}, {"a", false}}));
  EXPECT_EQ(shape, std::string("id\0ka\0-", 7));
  EXPECT_NE(shape, TargetShape(Mapped({{"id", false}, {"a", false}})));
  EXPECT_NE(TargetShape(Mapped({{"ab", false}})),
            TargetShape(Mapped({{"a", false}, {"b", false}})));
}

TEST(SinkTextTest, ImageErrors) {
  MappedRelation relation = Mapped({{"id", true}});
  relation.source.set_schema("app");
  relation.source.set_table("t");
  relation.source.add_columns()->set_name("id");
  EXPECT_TRUE(CheckImageSize(relation, 1).ok());
  EXPECT_EQ(CheckImageSize(relation, 2).message(),
            "row has 2 values but relation app.t has 1 columns: the change stream is malformed");
  relation.columns[0].source.set_name("id_src");
  EXPECT_EQ(MissingTargetColumn("app.u", relation.columns[0]).message(),
            "target table app.u has no column id (from source column id_src): add it on the "
            "target, or rename or exclude it in the mapping");
}

TEST(SinkTextTest, BeginErrors) {
  wire::Begin begin;
  EXPECT_EQ(CheckBegin("up", begin, false).message(),
            "begin transaction for upstream up: the Begin carries no position, so no checkpoint "
            "can be recorded: the change stream is malformed");
  begin.mutable_position()->set_engine("postgres");
  EXPECT_FALSE(CheckBegin("up", begin, false).ok());
  begin.mutable_position()->set_value("0/1");
  EXPECT_TRUE(CheckBegin("up", begin, false).ok());
  // A fresh MariaDB server's empty GTID state: the start of its log, recorded on first contact.
  begin.mutable_position()->set_engine("mariadb");
  begin.mutable_position()->set_value("");
  EXPECT_TRUE(CheckBegin("up", begin, false).ok());
  EXPECT_EQ(CheckBegin("up", begin, true).message(),
            "begin transaction for upstream up: a transaction is already open (commit or abort "
            "it first)");
}

TEST(SinkTextTest, EpochMicrosText) {
  EXPECT_EQ(EpochMicrosText(1709207110123456), "2024-02-29 11:45:10.123456");
  EXPECT_EQ(EpochMicrosText(0), "1970-01-01 00:00:00.000000");
  EXPECT_EQ(EpochMicrosText(-1), "1969-12-31 23:59:59.999999");
}

}  // namespace
}  // namespace ferry::apply
