#include "apply/table_mapping.h"

#include <gtest/gtest.h>

namespace ferry::apply {
namespace {

wire::Column MakeColumn(const std::string& name, bool key) {
  wire::Column column;
  column.set_name(name);
  column.set_source_type("int4");
  column.set_type(wire::LOGICAL_TYPE_INT);
  column.set_key(key);
  return column;
}

// public.orders(id key, customer, note)
wire::Relation Orders() {
  wire::Relation relation;
  relation.set_id(7);
  relation.set_schema("public");
  relation.set_table("orders");
  *relation.add_columns() = MakeColumn("id", true);
  *relation.add_columns() = MakeColumn("customer", false);
  *relation.add_columns() = MakeColumn("note", false);
  return relation;
}

// Designated initializers would trip -Wmissing-field-initializers, so rules are built here.
MappingRule Rule(std::string source, std::string target,
                 std::map<std::string, std::string> renames = {},
                 std::set<std::string> exclude = {}) {
  MappingRule rule;
  rule.source = std::move(source);
  rule.target = std::move(target);
  rule.renames = std::move(renames);
  rule.exclude = std::move(exclude);
  return rule;
}

TEST(SplitQualifiedNameTest, DefaultsToPublic) {
  EXPECT_EQ(SplitQualifiedName("orders"),
            std::make_pair(std::string("public"), std::string("orders")));
}

TEST(SplitQualifiedNameTest, SplitsAtFirstDot) {
  EXPECT_EQ(SplitQualifiedName("sales.orders"),
            std::make_pair(std::string("sales"), std::string("orders")));
  EXPECT_EQ(SplitQualifiedName("a.b.c"), std::make_pair(std::string("a"), std::string("b.c")));
}

TEST(TableMapperTest, WithoutRuleMapsOntoSameName) {
  Result<MappedRelation> mapped = TableMapper().Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_EQ(mapped->target_name(), "public.orders");
  ASSERT_EQ(mapped->columns.size(), 3u);
  EXPECT_EQ(mapped->columns[0].target_name, "id");
  EXPECT_TRUE(mapped->columns[0].key);
  EXPECT_EQ(mapped->columns[0].source_index, 0);
  EXPECT_EQ(mapped->columns[2].target_name, "note");
  EXPECT_FALSE(mapped->columns[2].key);
  EXPECT_EQ(mapped->columns[2].source.name(), "note");
  EXPECT_FALSE(mapped->full_old_image);
  EXPECT_EQ(mapped->source.id(), 7u);
}

TEST(TableMapperTest, RuleWithoutSchemaMeansPublic) {
  MappingRule rule = Rule("orders", "archive.orders_copy");
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_EQ(mapped->target_schema, "archive");
  EXPECT_EQ(mapped->target_table, "orders_copy");
}

TEST(TableMapperTest, TargetWithoutSchemaMeansPublic) {
  MappingRule rule = Rule("public.orders", "orders2");
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_EQ(mapped->target_name(), "public.orders2");
}

TEST(TableMapperTest, RuleWithEmptyTargetKeepsName) {
  MappingRule rule = Rule("public.orders", "", {}, {"note"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_EQ(mapped->target_name(), "public.orders");
}

TEST(TableMapperTest, RuleForOtherTableIsIgnored) {
  MappingRule rule = Rule("sales.orders", "x.y", {}, {"nope"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_EQ(mapped->target_name(), "public.orders");
  EXPECT_EQ(mapped->columns.size(), 3u);
}

TEST(TableMapperTest, RenamesAndExcludes) {
  MappingRule rule = Rule("public.orders", "archive.orders",
                          {{"customer", "client"}, {"id", "order_id"}}, {"note"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  ASSERT_EQ(mapped->columns.size(), 2u);
  EXPECT_EQ(mapped->columns[0].target_name, "order_id");
  EXPECT_TRUE(mapped->columns[0].key);
  EXPECT_EQ(mapped->columns[0].source.name(), "id");
  EXPECT_EQ(mapped->columns[1].target_name, "client");
  EXPECT_EQ(mapped->columns[1].source_index, 1);
}

TEST(TableMapperTest, ExcludingMiddleColumnKeepsSourceIndexes) {
  MappingRule rule = Rule("public.orders", "", {}, {"customer"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  ASSERT_EQ(mapped->columns.size(), 2u);
  EXPECT_EQ(mapped->columns[1].target_name, "note");
  EXPECT_EQ(mapped->columns[1].source_index, 2);
}

// Without a key only INSERT and TRUNCATE can arrive (PostgreSQL refuses UPDATE and DELETE on
// such a published table), so the relation maps and the apply side refuses only those rows.
TEST(TableMapperTest, RelationWithoutKeyMapsWithoutKey) {
  wire::Relation relation;
  relation.set_schema("public");
  relation.set_table("t");
  *relation.add_columns() = MakeColumn("a", false);
  *relation.add_columns() = MakeColumn("b", false);
  MappingRule rule = Rule("public.t", "", {{"b", "c"}});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(relation);
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_FALSE(mapped->has_key);
  EXPECT_FALSE(mapped->full_old_image);
  ASSERT_EQ(mapped->columns.size(), 2u);
  EXPECT_EQ(mapped->columns[1].target_name, "c");
}

TEST(TableMapperTest, RelationWithKeyHasKey) {
  Result<MappedRelation> mapped = TableMapper().Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_TRUE(mapped->has_key);
}

TEST(TableMapperTest, NoKeyErrorNamesTheFix) {
  wire::Relation relation;
  relation.set_schema("public");
  relation.set_table("t");
  *relation.add_columns() = MakeColumn("a", false);
  Result<MappedRelation> mapped = TableMapper().Map(relation);
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_EQ(NoKeyError(*mapped).message(),
            "table public.t has no primary key and no REPLICA IDENTITY FULL, so updates and "
            "deletes cannot find their row on the target: add a primary key or run ALTER TABLE "
            "public.t REPLICA IDENTITY FULL on the source");
}

// The error names the source table, which is where the fix goes, not the mapped target.
TEST(TableMapperTest, NoKeyErrorNamesTheSourceTable) {
  wire::Relation relation;
  relation.set_schema("sales");
  relation.set_table("log");
  *relation.add_columns() = MakeColumn("a", false);
  Result<MappedRelation> mapped = TableMapper({Rule("sales.log", "archive.log2")}).Map(relation);
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  const Status error = NoKeyError(*mapped);
  EXPECT_NE(error.message().find("table sales.log has no primary key"), std::string::npos)
      << error.message();
  EXPECT_NE(error.message().find("ALTER TABLE sales.log REPLICA IDENTITY FULL"), std::string::npos)
      << error.message();
}

TEST(TableMapperTest, ExcludingKeyColumnIsAnError) {
  MappingRule rule = Rule("public.orders", "", {}, {"id"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_FALSE(mapped.ok());
  EXPECT_NE(mapped.message().find("mapping public.orders"), std::string::npos) << mapped.message();
  EXPECT_NE(mapped.message().find("excludes column id"), std::string::npos) << mapped.message();
  EXPECT_NE(mapped.message().find("key"), std::string::npos) << mapped.message();
}

TEST(TableMapperTest, ExcludingColumnOfFullImageRelationNarrowsMatch) {
  wire::Relation relation = Orders();
  relation.set_full_old_image(true);
  for (wire::Column& column : *relation.mutable_columns()) column.set_key(true);
  MappingRule rule = Rule("public.orders", "", {}, {"note"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(relation);
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_TRUE(mapped->full_old_image);
  EXPECT_EQ(mapped->columns.size(), 2u);
}

TEST(TableMapperTest, ExcludingEveryColumnOfFullImageRelationIsAnError) {
  wire::Relation relation = Orders();
  relation.set_full_old_image(true);
  for (wire::Column& column : *relation.mutable_columns()) column.set_key(true);
  MappingRule rule = Rule("public.orders", "", {}, {"id", "customer", "note"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(relation);
  ASSERT_FALSE(mapped.ok());
  EXPECT_NE(mapped.message().find("every key column"), std::string::npos) << mapped.message();
}

TEST(TableMapperTest, RenamingUnknownColumnIsAnError) {
  MappingRule rule = Rule("public.orders", "", {{"custmer", "client"}});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_FALSE(mapped.ok());
  EXPECT_NE(mapped.message().find("mapping public.orders"), std::string::npos) << mapped.message();
  EXPECT_NE(mapped.message().find("no column custmer"), std::string::npos) << mapped.message();
}

// A MySQL/MariaDB TRUNCATE names its table only: the rule's target applies, its column parts
// have nothing to act on.
TEST(TableMapperTest, RelationKnownByNameOnlyTakesTheRulesTarget) {
  wire::Relation truncated;
  truncated.set_schema("public");
  truncated.set_table("orders");
  MappingRule rule = Rule("public.orders", "archive.orders", {{"customer", "client"}}, {"note"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(truncated);
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_EQ(mapped->target_name(), "archive.orders");
  EXPECT_TRUE(mapped->columns.empty());
}

TEST(TableMapperTest, ExcludingUnknownColumnIsAnError) {
  MappingRule rule = Rule("orders", "", {}, {"notes"});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_FALSE(mapped.ok());
  EXPECT_NE(mapped.message().find("mapping orders"), std::string::npos) << mapped.message();
  EXPECT_NE(mapped.message().find("no column notes"), std::string::npos) << mapped.message();
}

TEST(TableMapperTest, TwoColumnsOntoOneTargetColumnIsAnError) {
  MappingRule rule = Rule("public.orders", "", {{"customer", "note"}});
  Result<MappedRelation> mapped = TableMapper({rule}).Map(Orders());
  ASSERT_FALSE(mapped.ok());
  EXPECT_NE(mapped.message().find("target column note"), std::string::npos) << mapped.message();
}

TEST(TableMapperTest, FirstMatchingRuleWins) {
  MappingRule first = Rule("public.orders", "a.first");
  MappingRule second = Rule("orders", "b.second");
  Result<MappedRelation> mapped = TableMapper({first, second}).Map(Orders());
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  EXPECT_EQ(mapped->target_name(), "a.first");
}

}  // namespace
}  // namespace ferry::apply
