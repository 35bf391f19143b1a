#include "apply/postgres/pg_copy.h"

#include <gtest/gtest.h>

#include "apply/row_applier.h"
#include "wire/testing/change_records.h"

namespace ferry::apply::postgres {
namespace {

using wire::testing::Array;
using wire::testing::Bytes;
using wire::testing::Int;
using wire::testing::Null;
using wire::testing::Text;
using wire::testing::Unchanged;

// public.t(id key, a, b) mapped onto itself.
MappedRelation Relation() {
  wire::Relation relation;
  relation.set_schema("public");
  relation.set_table("t");
  for (const char* name : {"id", "a", "b"}) {
    wire::Column* column = relation.add_columns();
    column->set_name(name);
    column->set_key(std::string(name) == "id");
  }
  Result<MappedRelation> mapped = TableMapper().Map(relation);
  EXPECT_TRUE(mapped.ok()) << mapped.message();
  return *mapped;
}

TargetTable Target() {
  TargetTable target;
  target.schema = "public";
  target.table = "t";
  target.columns = {{"id", "integer", false, "int4", ""},
                    {"a", "text", false, "text", ""},
                    {"b", "bytea", false, "bytea", ""}};
  return target;
}

google::protobuf::RepeatedPtrField<wire::Value> Image(std::initializer_list<wire::Value> values) {
  google::protobuf::RepeatedPtrField<wire::Value> image;
  for (const wire::Value& value : values) *image.Add() = value;
  return image;
}

// The COPY line of `image` for Relation() on Target(), or the error.
std::string Line(std::initializer_list<wire::Value> values) {
  const MappedRelation relation = Relation();
  const TargetTable target = Target();
  Result<std::vector<const TargetColumn*>> columns = MappedTargetColumns(relation, target);
  EXPECT_TRUE(columns.ok()) << columns.message();
  std::string out = "before|";
  Status status = AppendCopyLine(relation, *columns, Image(values), &out);
  return status.ok() ? out : out + "error: " + status.message();
}

TEST(CopyFieldTest, EscapesOnlyBackslashTabNewlineAndCarriageReturn) {
  std::string out;
  AppendCopyField("plain", &out);
  EXPECT_EQ(out, "plain");
  out.clear();
  AppendCopyField("a\tb\nc\rd\\e", &out);
  EXPECT_EQ(out, "a\\tb\\nc\\rd\\\\e");
  out.clear();
  // The end-of-data marker and \N inside a value stay values: their backslash is escaped.
  AppendCopyField("\\.", &out);
  AppendCopyField("|\\N|", &out);
  EXPECT_EQ(out, "\\\\.|\\\\N|");
  out.clear();
  AppendCopyField("ünïcödé, \"quotes\", 'single', commas", &out);
  EXPECT_EQ(out, "ünïcödé, \"quotes\", 'single', commas");
}

TEST(CopyLineTest, TabSeparatedWithNullsAsBackslashN) {
  EXPECT_EQ(Line({Int(1), Text("x\ty"), Null()}), "before|1\tx\\ty\t\\N\n");
  EXPECT_EQ(Line({Int(-7), Text(""), Null()}), "before|-7\t\t\\N\n");
}

TEST(CopyLineTest, ByteaHexKeepsItsBackslashEscaped) {
  EXPECT_EQ(Line({Int(1), Null(), Bytes(std::string("\x00\xff", 2))}),
            "before|1\t\\N\t\\\\x00ff\n");
  // Text into bytea goes as the hex of its bytes, as BindImage binds it.
  EXPECT_EQ(Line({Int(1), Null(), Text("a\\b")}), "before|1\t\\N\t\\\\x615c62\n");
}

TEST(CopyLineTest, ArrayLiteralsAreEscapedAsOneField) {
  EXPECT_EQ(Line({Int(1), Array({Text("a\tb"), Null(), Text("q\"")}), Null()}),
            "before|1\t{\"a\\tb\",NULL,\"q\\\\\"\"}\t\\N\n");
}

TEST(CopyLineTest, ErrorsNameTheColumnAndAppendNothing) {
  EXPECT_EQ(Line({Int(1), Text(std::string("a\0b", 3)), Null()}),
            "before|error: column a: value contains a NUL byte (\\0), which PostgreSQL text "
            "types cannot hold: remove it at the source, or exclude the column in the mapping");
  EXPECT_EQ(Line({Int(1), Unchanged(), Null()}).substr(0, 23), "before|error: column a:");
  EXPECT_EQ(Line({Int(1), Null()}).substr(0, 13), "before|error:");
}

TEST(CopyLineTest, BoundValuesAreEscapedAndNullIsBackslashN) {
  std::string line;
  AppendBoundLine({{"a", std::string("1"), false},
                   {"b", std::nullopt, false},
                   {"c", std::string("x\ty\\z"), false},
                   {"d", std::string("\\x00ff"), false}},
                  &line);
  EXPECT_EQ(line, "1\t\\N\tx\\ty\\\\z\t\\\\x00ff\n");
}

TEST(CopyStatementTest, CopyStageAndMerge) {
  const TargetTable target = Target();
  EXPECT_EQ(CopyFromStdinStatement(target.quoted(), {"id", "a b"}),
            "COPY \"public\".\"t\" (\"id\", \"a b\") FROM STDIN");
  EXPECT_EQ(QuotedStage("s1"), "pg_temp.\"s1\"");
  EXPECT_EQ(CreateStageStatement("s1", target, {"id", "a"}),
            "CREATE TEMPORARY TABLE \"s1\" AS SELECT \"id\", \"a\" FROM \"public\".\"t\" WITH NO "
            "DATA");
  EXPECT_EQ(MergeStageStatement(target, "s1", {"id", "a", "b"}, {"id"}),
            "INSERT INTO \"public\".\"t\" (\"id\", \"a\", \"b\") SELECT \"id\", \"a\", \"b\" FROM "
            "pg_temp.\"s1\" ON CONFLICT (\"id\") DO UPDATE SET \"a\" = EXCLUDED.\"a\", \"b\" = "
            "EXCLUDED.\"b\"");
  // Nothing but the key: an existing row is already what the chunk has.
  EXPECT_EQ(MergeStageStatement(target, "s1", {"id"}, {"id"}),
            "INSERT INTO \"public\".\"t\" (\"id\") SELECT \"id\" FROM pg_temp.\"s1\" ON CONFLICT "
            "(\"id\") DO NOTHING");
}

}  // namespace
}  // namespace ferry::apply::postgres
