#include "verify/row_plan.h"

#include <gtest/gtest.h>

#include "wire/testing/change_records.h"

namespace ferry::verify {
namespace {

using wire::testing::Dec;
using wire::testing::Int;
using wire::testing::Str;
using wire::testing::Text;

wire::Column Col(const std::string& name, wire::LogicalType type, const std::string& source_type,
                 bool key = false) {
  wire::Column column;
  column.set_name(name);
  column.set_type(type);
  column.set_source_type(source_type);
  column.set_key(key);
  return column;
}

KeyedRelation Table(const std::string& schema, const std::string& table,
                    const std::vector<wire::Column>& columns, std::vector<int> key) {
  KeyedRelation keyed;
  keyed.relation.set_schema(schema);
  keyed.relation.set_table(table);
  for (const wire::Column& column : columns) *keyed.relation.add_columns() = column;
  keyed.key = std::move(key);
  return keyed;
}

// public.orders on PostgreSQL: id, name, total, card.
KeyedRelation PgOrders() {
  return Table("public", "orders",
               {Col("id", wire::LOGICAL_TYPE_INT, "int4", true),
                Col("name", wire::LOGICAL_TYPE_TEXT, "text"),
                Col("total", wire::LOGICAL_TYPE_DECIMAL, "numeric(10,2)"),
                Col("card", wire::LOGICAL_TYPE_TEXT, "text")},
               {0});
}

// ferry.orders on MariaDB: total renamed, card excluded, and a column apply does not write.
KeyedRelation MariaOrders() {
  return Table("ferry", "orders",
               {Col("id", wire::LOGICAL_TYPE_INT, "int", true),
                Col("total_cents", wire::LOGICAL_TYPE_DECIMAL, "decimal(10,2)"),
                Col("name", wire::LOGICAL_TYPE_TEXT, "varchar(20)"),
                Col("note", wire::LOGICAL_TYPE_TEXT, "text")},
               {0});
}

apply::MappingRule OrdersRule() {
  apply::MappingRule rule;
  rule.source = "public.orders";
  rule.target = "ferry.orders";
  rule.renames = {{"total", "total_cents"}};
  rule.exclude = {"card"};
  return rule;
}

Result<RowPlan> Plan(const KeyedRelation& source, const KeyedRelation& target,
                     std::vector<apply::MappingRule> rules) {
  Result<apply::MappedRelation> mapped = apply::TableMapper(std::move(rules)).Map(source.relation);
  if (!mapped.ok()) return mapped.status();
  return RowPlan::Build(*mapped, source, Engine::kPostgres, target, Engine::kMysql, true);
}

TEST(VerifyRowPlanTest, ComparesThroughRenamesAndIgnoresExcludedAndUnwrittenColumns) {
  const KeyedRelation source = PgOrders(), target = MariaOrders();
  Result<RowPlan> plan = Plan(source, target, {OrdersRule()});
  ASSERT_TRUE(plan.ok()) << plan.message();
  const Row source_row = {Int(1), Text("ann"), Dec("1.50"), Text("4111")};
  EXPECT_TRUE(
      plan->DifferingColumns(source_row, {Int(1), Dec("1.5"), Text("ann"), Text("x")}).empty());
  EXPECT_EQ(plan->DifferingColumns(source_row, {Int(1), Dec("1.5"), Text("bob"), Text("x")}),
            std::vector<std::string>{"name"});
  EXPECT_EQ(plan->DifferingColumns(source_row, {Int(1), Dec("2"), Text("ann"), Text("x")}),
            std::vector<std::string>{"total->total_cents"});
}

TEST(VerifyRowPlanTest, KeysCrossBetweenTheSides) {
  const KeyedRelation source = PgOrders(), target = MariaOrders();
  Result<RowPlan> plan = Plan(source, target, {OrdersRule()});
  ASSERT_TRUE(plan.ok()) << plan.message();
  const Row source_row = {Int(7), Text("ann"), Dec("1.50"), Text("4111")};
  Result<Key> target_key = plan->TargetKeyOf(source_row);
  ASSERT_TRUE(target_key.ok()) << target_key.message();
  ASSERT_EQ(target_key->size(), 1u);
  EXPECT_EQ((*target_key)[0].int64(), 7);
  const Row target_row = {Int(7), Dec("1.5"), Text("ann"), Text("")};
  EXPECT_EQ(plan->TargetKeyText(*target_key),
            plan->TargetKeyText(capture::KeyOf(target, target_row)));
  Result<Key> source_key = plan->SourceKeyOf(target_row);
  ASSERT_TRUE(source_key.ok());
  EXPECT_EQ(plan->SourceKeyText(*source_key),
            plan->SourceKeyText(capture::KeyOf(source, source_row)));
  EXPECT_EQ(plan->DescribeSourceKey(*source_key), "id=7");
}

TEST(VerifyRowPlanTest, TypeOverridesAreAppliedBeforeComparing) {
  // MariaDB TINYINT(1) flag converted to boolean for a PostgreSQL boolean column.
  const KeyedRelation source = Table("app", "flags",
                                     {Col("id", wire::LOGICAL_TYPE_INT, "int", true),
                                      Col("flag", wire::LOGICAL_TYPE_INT, "tinyint")},
                                     {0});
  const KeyedRelation target = Table("public", "flags",
                                     {Col("id", wire::LOGICAL_TYPE_INT, "int4", true),
                                      Col("flag", wire::LOGICAL_TYPE_BOOL, "bool")},
                                     {0});
  apply::MappingRule rule;
  rule.source = "app.flags";
  rule.target = "public.flags";
  rule.types = {{"flag", wire::LOGICAL_TYPE_BOOL}};
  Result<apply::MappedRelation> mapped = apply::TableMapper({rule}).Map(source.relation);
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  Result<RowPlan> plan =
      RowPlan::Build(*mapped, source, Engine::kMysql, target, Engine::kPostgres, true);
  ASSERT_TRUE(plan.ok()) << plan.message();
  EXPECT_TRUE(
      plan->DifferingColumns({Int(1), Int(1)}, {Int(1), wire::testing::Bool(true)}).empty());
  EXPECT_EQ(plan->DifferingColumns({Int(1), Int(0)}, {Int(1), wire::testing::Bool(true)}),
            std::vector<std::string>{"flag"});
  // A value the override refuses (2 is no boolean) is never what the target holds.
  EXPECT_EQ(plan->DifferingColumns({Int(1), Int(2)}, {Int(1), wire::testing::Bool(true)}),
            std::vector<std::string>{"flag"});
}

TEST(VerifyRowPlanTest, MissingTargetColumnNamesTheFix) {
  KeyedRelation target = MariaOrders();
  target.relation.mutable_columns(2)->set_name("customer");
  Result<RowPlan> plan = Plan(PgOrders(), target, {OrdersRule()});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.message().find("has no column name"), std::string::npos) << plan.message();
  EXPECT_NE(plan.message().find("mappings:"), std::string::npos) << plan.message();
}

TEST(VerifyRowPlanTest, TargetKeyNotWrittenFromTheSourceIsRefused) {
  KeyedRelation target = MariaOrders();
  target.key = {3};  // note: apply never writes it
  Result<RowPlan> plan = Plan(PgOrders(), target, {OrdersRule()});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.message().find("key column note"), std::string::npos) << plan.message();
}

TEST(VerifyRowPlanTest, CompositeKeysDescribeEveryColumn) {
  const KeyedRelation table = Table("public", "lines",
                                    {Col("order_id", wire::LOGICAL_TYPE_INT, "int4", true),
                                     Col("sku", wire::LOGICAL_TYPE_TEXT, "text", true),
                                     Col("at", wire::LOGICAL_TYPE_TIMESTAMP, "timestamp")},
                                    {0, 1});
  Result<apply::MappedRelation> mapped = apply::TableMapper().Map(table.relation);
  ASSERT_TRUE(mapped.ok());
  Result<RowPlan> plan =
      RowPlan::Build(*mapped, table, Engine::kPostgres, table, Engine::kPostgres, true);
  ASSERT_TRUE(plan.ok()) << plan.message();
  const Row row = {Int(3), Text("a;b"), Str(&wire::Value::set_timestamp, "2024-01-01 00:00:00.5")};
  EXPECT_EQ(plan->DescribeSourceKey(capture::KeyOf(table, row)), "order_id=3, sku='a;b'");
  const Row other = {Int(3), Text("a"), Str(&wire::Value::set_timestamp, "2024-01-01")};
  EXPECT_NE(plan->SourceKeyText(capture::KeyOf(table, row)),
            plan->SourceKeyText(capture::KeyOf(table, other)));
}

TEST(VerifyRowPlanTest, ChecksumsOnlyWhereBothSidesHoldTheSameTypes) {
  const KeyedRelation table =
      Table("public", "t",
            {Col("id", wire::LOGICAL_TYPE_INT, "int4", true),
             Col("v", wire::LOGICAL_TYPE_TEXT, "text"), Col("x", wire::LOGICAL_TYPE_TEXT, "text")},
            {0});
  apply::MappingRule rule;
  rule.source = "public.t";
  rule.exclude = {"x"};
  Result<apply::MappedRelation> mapped = apply::TableMapper({rule}).Map(table.relation);
  ASSERT_TRUE(mapped.ok());
  Result<RowPlan> same =
      RowPlan::Build(*mapped, table, Engine::kPostgres, table, Engine::kPostgres, true);
  ASSERT_TRUE(same.ok());
  std::optional<RowPlan::ChecksumColumns> columns = same->ChecksumColumnsIfComparable();
  ASSERT_TRUE(columns.has_value());
  EXPECT_EQ(columns->source, (std::vector<int>{0, 1}));
  EXPECT_EQ(columns->target, (std::vector<int>{0, 1}));

  // Another engine, another type, or a text key: row by row.
  Result<RowPlan> engines =
      RowPlan::Build(*mapped, table, Engine::kPostgres, table, Engine::kMysql, true);
  EXPECT_FALSE(engines->ChecksumColumnsIfComparable().has_value());
  KeyedRelation wider = table;
  wider.relation.mutable_columns(1)->set_source_type("varchar(10)");
  Result<RowPlan> types =
      RowPlan::Build(*mapped, table, Engine::kPostgres, wider, Engine::kPostgres, true);
  EXPECT_FALSE(types->ChecksumColumnsIfComparable().has_value());
  KeyedRelation text_key = table;
  text_key.key = {1};
  text_key.relation.mutable_columns(1)->set_key(true);
  Result<apply::MappedRelation> text_mapped = apply::TableMapper({rule}).Map(text_key.relation);
  Result<RowPlan> by_text =
      RowPlan::Build(*text_mapped, text_key, Engine::kPostgres, text_key, Engine::kPostgres, true);
  ASSERT_TRUE(by_text.ok()) << by_text.message();
  EXPECT_FALSE(by_text->ChecksumColumnsIfComparable().has_value());
}

}  // namespace
}  // namespace ferry::verify
