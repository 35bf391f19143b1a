#include "apply/postgres/pg_sql.h"

#include <gtest/gtest.h>

#include "wire/testing/change_records.h"

namespace ferry::apply::postgres {
namespace {

wire::Column MakeColumn(const std::string& name, bool key) {
  wire::Column column;
  column.set_name(name);
  column.set_key(key);
  return column;
}

// public.t(id key, a, b) mapped onto itself.
MappedRelation Relation(bool full_old_image = false) {
  wire::Relation relation;
  relation.set_schema("public");
  relation.set_table("t");
  relation.set_full_old_image(full_old_image);
  *relation.add_columns() = MakeColumn("id", true);
  *relation.add_columns() = MakeColumn("a", full_old_image);
  *relation.add_columns() = MakeColumn("b", full_old_image);
  Result<MappedRelation> mapped = TableMapper().Map(relation);
  EXPECT_TRUE(mapped.ok()) << mapped.message();
  return *mapped;
}

// public.t(id, a, b) without any key column (no primary key, REPLICA IDENTITY DEFAULT).
MappedRelation Keyless() {
  wire::Relation relation;
  relation.set_schema("public");
  relation.set_table("t");
  *relation.add_columns() = MakeColumn("id", false);
  *relation.add_columns() = MakeColumn("a", false);
  *relation.add_columns() = MakeColumn("b", false);
  Result<MappedRelation> mapped = TableMapper().Map(relation);
  EXPECT_TRUE(mapped.ok()) << mapped.message();
  return *mapped;
}

TargetTable Target(std::vector<UniqueIndex> indexes = {}) {
  TargetTable target;
  target.schema = "public";
  target.table = "t";
  target.columns = {{"id", "integer", false, "int4", ""},
                    {"a", "text", false, "text", ""},
                    {"b", "json", true, "json", ""}};
  target.unique_indexes = std::move(indexes);
  return target;
}

using wire::testing::Int;
using wire::testing::Null;
using wire::testing::Unchanged;

google::protobuf::RepeatedPtrField<wire::Value> Image(std::initializer_list<wire::Value> values) {
  google::protobuf::RepeatedPtrField<wire::Value> image;
  for (const wire::Value& v : values) *image.Add() = v;
  return image;
}

TEST(BindImageTest, SkipsUnchangedAndMarksTextCompare) {
  wire::Value json;
  json.set_json("{}");
  Result<std::vector<BoundColumn>> bound =
      BindImage(Relation(), Target(), Image({Int(1), Unchanged(), json}));
  ASSERT_TRUE(bound.ok()) << bound.message();
  ASSERT_EQ(bound->size(), 2u);
  EXPECT_EQ((*bound)[0].name, "id");
  EXPECT_EQ((*bound)[0].value, "1");
  EXPECT_EQ((*bound)[1].name, "b");
  EXPECT_TRUE((*bound)[1].text_compare);
}

TEST(BindImageTest, WrongLengthIsAnError) {
  Result<std::vector<BoundColumn>> bound = BindImage(Relation(), Target(), Image({Int(1)}));
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.message().find("has 1 values but relation public.t has 3"), std::string::npos)
      << bound.message();
}

TEST(BindImageTest, MissingTargetColumnNamesTheFix) {
  TargetTable target = Target();
  target.columns.pop_back();
  Result<std::vector<BoundColumn>> bound =
      BindImage(Relation(), target, Image({Int(1), Null(), Null()}));
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.message().find("target table public.t has no column b"), std::string::npos)
      << bound.message();
}

TEST(BindImageTest, BadValueNamesTheColumn) {
  wire::Value text;
  text.set_text(std::string("x\0", 2));
  Result<std::vector<BoundColumn>> bound =
      BindImage(Relation(), Target(), Image({Int(1), text, Null()}));
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.message().rfind("column a: ", 0), 0u) << bound.message();
}

TEST(BindImageTest, BinaryIntoANonByteaColumnIsRefusedWithTheFix) {
  wire::Value bytes;
  bytes.set_bytes("\x01\xff");
  Result<std::vector<BoundColumn>> bound =
      BindImage(Relation(), Target(), Image({Int(1), bytes, Null()}));
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.message().find("column a is text on the target, but public.t.a () carries "
                                 "binary data: make the target column bytea, or, if the bytes "
                                 "are UTF-8 text, add `types: {a: text}`"),
            std::string::npos)
      << bound.message();
}

TEST(BindImageTest, TextIntoByteaGoesAsHexSoBackslashesStayBytes) {
  TargetTable target = Target();
  target.columns[1] = {"a", "blob_domain", false, "bytea", ""};
  wire::Value text;
  text.set_text("a\\x\\");
  wire::Value bytes;
  bytes.set_bytes(std::string(1, '\0'));
  Result<std::vector<BoundColumn>> bound =
      BindImage(Relation(), target, Image({Int(1), text, Null()}));
  ASSERT_TRUE(bound.ok()) << bound.message();
  EXPECT_EQ((*bound)[1].value, "\\x615c785c");
  bound = BindImage(Relation(), target, Image({Int(1), bytes, Null()}));
  ASSERT_TRUE(bound.ok()) << bound.message();
  EXPECT_EQ((*bound)[1].value, "\\x00");
}

TEST(StatementTest, KeylessInsertIsPlain) {
  Result<std::vector<BoundColumn>> row =
      BindImage(Keyless(), Target(), Image({Int(1), Null(), Null()}));
  ASSERT_TRUE(row.ok()) << row.message();
  const std::optional<std::vector<std::string>> arbiter =
      ArbiterColumns(Keyless(), Target().unique_indexes);
  EXPECT_EQ(InsertStatement(Target(), *row, arbiter ? &*arbiter : nullptr).sql,
            "INSERT INTO \"public\".\"t\" (\"id\", \"a\", \"b\") VALUES ($1, $2, $3)");
}

TEST(StatementTest, Insert) {
  std::vector<BoundColumn> row = {{"id", "1", false}, {"a", std::nullopt, false}};
  std::vector<std::string> arbiter = {"id"};
  Statement statement = InsertStatement(Target(), row, &arbiter);
  EXPECT_EQ(statement.sql,
            "INSERT INTO \"public\".\"t\" (\"id\", \"a\") VALUES ($1, $2) ON CONFLICT (\"id\") "
            "DO NOTHING");
  ASSERT_EQ(statement.params.size(), 2u);
  EXPECT_EQ(statement.params[0], "1");
  EXPECT_FALSE(statement.params[1].has_value());
  EXPECT_EQ(InsertStatement(Target(), row, nullptr).sql,
            "INSERT INTO \"public\".\"t\" (\"id\", \"a\") VALUES ($1, $2)");
}

TEST(StatementTest, UpdateMatchesNullsWithIsNullAndJsonAsText) {
  std::vector<BoundColumn> set = {{"a", "x", false}};
  std::vector<BoundColumn> match = {
      {"id", "1", false}, {"a", std::nullopt, false}, {"b", "{}", true}};
  Statement statement = UpdateStatement(Target(), set, match, false);
  EXPECT_EQ(statement.sql,
            "UPDATE \"public\".\"t\" SET \"a\" = $1 WHERE \"id\" = $2 AND \"a\" IS NULL AND "
            "\"b\"::text = $3::text");
  EXPECT_EQ(statement.params.size(), 3u);
}

TEST(StatementTest, UpdateOneRowPinsByCtid) {
  std::vector<BoundColumn> match = {{"id", "1", false}};
  Statement statement = UpdateStatement(Target(), {{"a", "x", false}}, match, true);
  EXPECT_EQ(statement.sql,
            "UPDATE \"public\".\"t\" SET \"a\" = $1 WHERE ctid = (SELECT ctid FROM "
            "\"public\".\"t\" WHERE \"id\" = $2 LIMIT 1) AND \"id\" = $2");
  EXPECT_EQ(statement.params.size(), 2u);
}

TEST(StatementTest, UpdateWithNothingToSetStillFindsTheRow) {
  Statement statement = UpdateStatement(Target(), {}, {{"id", "1", false}}, false);
  EXPECT_EQ(statement.sql, "UPDATE \"public\".\"t\" SET \"id\" = \"id\" WHERE \"id\" = $1");
}

TEST(StatementTest, DeleteAndTruncate) {
  EXPECT_EQ(DeleteStatement(Target(), {{"id", "1", false}}, false).sql,
            "DELETE FROM \"public\".\"t\" WHERE \"id\" = $1");
  TargetTable view = Target();
  view.relkind = 'v';
  EXPECT_EQ(DeleteStatement(view, {{"id", "1", false}}, true).sql,
            "DELETE FROM \"public\".\"t\" WHERE \"id\" = $1");
  const TargetTable t = Target();
  EXPECT_EQ(TruncateStatement({&t}, false, false), "TRUNCATE \"public\".\"t\"");
  EXPECT_EQ(TruncateStatement({&t}, true, true),
            "TRUNCATE \"public\".\"t\" RESTART IDENTITY CASCADE");
}

TEST(StatementTest, DeleteRangeComparesKeysAsRowsAndKeepsTheKeysKept) {
  const std::vector<BoundColumn> after = {{"id", "10", false}};
  const std::vector<BoundColumn> upto = {{"id", "20", false}};
  const std::vector<std::vector<BoundColumn>> keep = {{{"id", "12", false}}, {{"id", "15", false}}};
  Statement range = DeleteRangeStatement(Target(), after, upto, keep);
  EXPECT_EQ(range.sql,
            "DELETE FROM \"public\".\"t\" WHERE (\"id\") > ($1) AND (\"id\") <= ($2) AND "
            "(\"id\") NOT IN (($3), ($4))");
  EXPECT_EQ(range.params.size(), 4u);
  EXPECT_EQ(DeleteRangeStatement(Target(), std::nullopt, std::nullopt, {}).sql,
            "DELETE FROM \"public\".\"t\"");
  EXPECT_EQ(DeleteRangeStatement(Target(), std::nullopt, upto, {}).sql,
            "DELETE FROM \"public\".\"t\" WHERE (\"id\") <= ($1)");
}

// Resolver delta: each counter column becomes itself plus (add - subtract), NULLs counted as 0,
// its parameters cast to the column's type; the other columns are set as in an update.
TEST(StatementTest, MergeAddsEachDeltaToItsColumn) {
  TargetTable target = Target();
  target.columns = {{"id", "integer", false, "int4", ""},
                    {"a", "text", false, "text", ""},
                    {"n", "numeric(10,2)", false, "numeric", "pg_catalog.numeric"},
                    {"m", "integer", false, "int4", ""}};
  const BoundColumn n_add{"n", "5.5", false};
  const BoundColumn n_subtract{"n", "2", false};
  const BoundColumn m_add{"m", "3", false};
  Statement statement =
      MergeStatement(target, {{"a", "x", false}}, {{n_add, n_subtract}, {m_add, std::nullopt}},
                     {{"id", "1", false}});
  EXPECT_EQ(statement.sql,
            "UPDATE \"public\".\"t\" SET \"a\" = $1, \"n\" = coalesce(\"n\", 0) + "
            "(coalesce($2::pg_catalog.numeric, 0) - coalesce($3::pg_catalog.numeric, 0)), "
            "\"m\" = coalesce(\"m\", 0) + (coalesce($4, 0)) WHERE \"id\" = $5");
  EXPECT_EQ(statement.params, (std::vector<std::optional<std::string>>{"x", "5.5", "2", "3", "1"}));
}

// The tables of one source TRUNCATE go in one statement, each once (two source tables may be
// mapped onto one target table).
TEST(StatementTest, TruncateOfSeveralTablesIsOneStatement) {
  TargetTable a = Target();
  TargetTable b = Target();
  b.table = "b";
  EXPECT_EQ(TruncateStatement({&a, &b, &a}, true, false),
            "TRUNCATE \"public\".\"t\", \"public\".\"b\" CASCADE");
}

// A key or full-identity column is compared with its parameter cast to the column's base type:
// PostgreSQL cannot infer a parameter compared with a composite (it would read it as an
// anonymous record), and the cast names the type without modifiers, so that nothing is
// truncated or rounded before it is compared.
TEST(StatementTest, MatchedParametersAreCastToTheColumnsType) {
  TargetTable target = Target();
  target.columns = {{"id", "pair", false, "pair", "public.pair"},
                    {"a", "character(3)", false, "bpchar", "pg_catalog.bpchar"},
                    {"b", "json", true, "json", "pg_catalog.json"}};
  std::vector<BoundColumn> match = {{"id", "(1,x)", false}, {"a", "abc", false}, {"b", "{}", true}};
  EXPECT_EQ(DeleteStatement(target, match, false).sql,
            "DELETE FROM \"public\".\"t\" WHERE \"id\" = $1::public.pair AND \"a\" = "
            "$2::pg_catalog.bpchar AND \"b\"::text = $3::text");
  EXPECT_EQ(UpdateStatement(target, {{"a", "xyz", false}}, {{"id", "(1,x)", false}}, true).sql,
            "UPDATE \"public\".\"t\" SET \"a\" = $1 WHERE ctid = (SELECT ctid FROM "
            "\"public\".\"t\" WHERE \"id\" = $2::public.pair LIMIT 1) AND \"id\" = "
            "$2::public.pair");
}

}  // namespace
}  // namespace ferry::apply::postgres
