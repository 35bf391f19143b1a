#include "apply/table_creator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::apply {
namespace {

struct ColumnSpec {
  std::string name;
  std::string source_type;
  wire::LogicalType type;
  bool key;
};

wire::Relation MakeRelation(const std::vector<ColumnSpec>& columns, bool full_old_image) {
  wire::Relation relation;
  relation.set_schema("public");
  relation.set_table("t");
  relation.set_full_old_image(full_old_image);
  for (const ColumnSpec& spec : columns) {
    wire::Column* column = relation.add_columns();
    column->set_name(spec.name);
    column->set_source_type(spec.source_type);
    column->set_type(spec.type);
    column->set_key(spec.key);
  }
  return relation;
}

MappedRelation Mapped(const wire::Relation& relation, std::vector<MappingRule> rules = {}) {
  Result<MappedRelation> mapped = TableMapper(std::move(rules)).Map(relation);
  EXPECT_TRUE(mapped.ok()) << mapped.message();
  return *mapped;
}

TEST(CreateTablePlanTest, ParsesSourceTypes) {
  SourceType decimal = ParseSourceType("decimal(10,2) unsigned");
  EXPECT_EQ(decimal.base, "decimal");
  EXPECT_EQ(decimal.params, (std::vector<int64_t>{10, 2}));
  EXPECT_TRUE(decimal.is_unsigned);
  EXPECT_FALSE(decimal.is_array);

  SourceType array = ParseSourceType("varchar(20)[]");
  EXPECT_EQ(array.base, "varchar");
  EXPECT_EQ(array.params, (std::vector<int64_t>{20}));
  EXPECT_TRUE(array.is_array);

  SourceType interval = ParseSourceType("interval year to month");
  EXPECT_EQ(interval.base, "interval");
  EXPECT_TRUE(interval.params.empty());
  EXPECT_EQ(interval.rest, "year to month");

  SourceType negative = ParseSourceType("numeric(5,-2)");
  EXPECT_EQ(negative.params, (std::vector<int64_t>{5, -2}));

  EXPECT_EQ(ParseSourceType("varchar(20) compressed").rest, "compressed");
  EXPECT_EQ(ParseSourceType("int4").base, "int4");
  EXPECT_EQ(ParseSourceType("public.mood").base, "public.mood");
}

TEST(CreateTablePlanTest, SourceEngines) {
  EXPECT_EQ(*SourceEngineFromName("postgres"), SourceEngine::kPostgres);
  EXPECT_EQ(*SourceEngineFromName("mariadb"), SourceEngine::kMysql);
  EXPECT_EQ(*SourceEngineFromName("mysql"), SourceEngine::kMysql);
  EXPECT_FALSE(SourceEngineFromName("oracle").ok());
}

TEST(CreateTablePlanTest, PrimaryKeyFromKeyFlags) {
  const MappedRelation mapped = Mapped(MakeRelation({{"a", "int4", wire::LOGICAL_TYPE_INT, true},
                                                     {"b", "text", wire::LOGICAL_TYPE_TEXT, true},
                                                     {"c", "text", wire::LOGICAL_TYPE_TEXT, false}},
                                                    /*full_old_image=*/false));
  NewTable table = PlanNewTable(mapped, SourceEngine::kPostgres);
  EXPECT_EQ(table.target_name(), "public.t");
  EXPECT_EQ(table.source_name, "public.t");
  EXPECT_EQ(table.primary_key, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(table.columns.size(), 3u);
  EXPECT_TRUE(table.columns[0].primary_key);
  EXPECT_FALSE(table.columns[2].primary_key);
  EXPECT_EQ(table.columns[1].source_type.base, "text");
}

// A MySQL/MariaDB relation is always a full image; with a primary key, only its columns are
// flagged.
TEST(CreateTablePlanTest, FullImageWithSomeColumnsFlaggedKeepsThePrimaryKey) {
  const MappedRelation mapped =
      Mapped(MakeRelation({{"id", "bigint unsigned", wire::LOGICAL_TYPE_UINT, true},
                           {"v", "varchar(20)", wire::LOGICAL_TYPE_TEXT, false}},
                          /*full_old_image=*/true));
  EXPECT_TRUE(KeyIsPrimaryKey(mapped));
  EXPECT_EQ(PlanNewTable(mapped, SourceEngine::kMysql).primary_key,
            (std::vector<std::string>{"id"}));
}

// REPLICA IDENTITY FULL, or a MySQL/MariaDB table without a primary key: every column flagged.
TEST(CreateTablePlanTest, WholeRowIdentityIsNoPrimaryKey) {
  const MappedRelation mapped = Mapped(MakeRelation(
      {{"a", "int4", wire::LOGICAL_TYPE_INT, true}, {"b", "text", wire::LOGICAL_TYPE_TEXT, true}},
      /*full_old_image=*/true));
  EXPECT_FALSE(KeyIsPrimaryKey(mapped));
  NewTable table = PlanNewTable(mapped, SourceEngine::kPostgres);
  EXPECT_TRUE(table.primary_key.empty());
  for (const NewColumn& column : table.columns) EXPECT_FALSE(column.primary_key);
}

TEST(CreateTablePlanTest, PartOfTheKeyExcludedIsNoPrimaryKey) {
  MappingRule rule;
  rule.source = "public.t";
  rule.exclude = {"b"};
  const MappedRelation mapped = Mapped(MakeRelation({{"a", "int", wire::LOGICAL_TYPE_INT, true},
                                                     {"b", "int", wire::LOGICAL_TYPE_INT, true},
                                                     {"c", "int", wire::LOGICAL_TYPE_INT, false}},
                                                    /*full_old_image=*/true),
                                       {rule});
  EXPECT_FALSE(KeyIsPrimaryKey(mapped));
  EXPECT_TRUE(PlanNewTable(mapped, SourceEngine::kMysql).primary_key.empty());
}

TEST(CreateTablePlanTest, NoKeyIsNoPrimaryKey) {
  const MappedRelation mapped = Mapped(MakeRelation({{"a", "int4", wire::LOGICAL_TYPE_INT, false}},
                                                    /*full_old_image=*/false));
  EXPECT_FALSE(KeyIsPrimaryKey(mapped));
  EXPECT_TRUE(PlanNewTable(mapped, SourceEngine::kPostgres).primary_key.empty());
}

TEST(CreateTablePlanTest, MappingRenamesExcludesAndOverrides) {
  MappingRule rule;
  rule.source = "public.t";
  rule.target = "app.orders";
  rule.renames = {{"a", "order_id"}};
  rule.exclude = {"secret"};
  rule.types = {{"flag", wire::LOGICAL_TYPE_BOOL}};
  const MappedRelation mapped =
      Mapped(MakeRelation({{"a", "int4", wire::LOGICAL_TYPE_INT, true},
                           {"secret", "text", wire::LOGICAL_TYPE_TEXT, false},
                           {"flag", "tinyint", wire::LOGICAL_TYPE_INT, false}},
                          /*full_old_image=*/true),
             {rule});
  NewTable table = PlanNewTable(mapped, SourceEngine::kMysql);
  EXPECT_EQ(table.target_name(), "app.orders");
  ASSERT_EQ(table.columns.size(), 2u);
  EXPECT_EQ(table.columns[0].name, "order_id");
  EXPECT_EQ(table.primary_key, (std::vector<std::string>{"order_id"}));
  EXPECT_EQ(table.columns[1].name, "flag");
  ASSERT_TRUE(table.columns[1].override_type.has_value());
  EXPECT_EQ(*table.columns[1].override_type, wire::LOGICAL_TYPE_BOOL);
}

TEST(CreateTablePlanTest, UnmappableColumnNamesTableColumnTypeAndFix) {
  const MappedRelation mapped =
      Mapped(MakeRelation({{"g", "type 255", wire::LOGICAL_TYPE_OTHER, false}}, false));
  NewTable table = PlanNewTable(mapped, SourceEngine::kMysql);
  const std::string message =
      UnmappableColumn(table, table.columns[0], "PostgreSQL", "a type Ferry does not know")
          .message();
  EXPECT_EQ(message,
            "create_tables: cannot create public.t (for source table public.t): column g of "
            "source type type 255 has no exact PostgreSQL type (a type Ferry does not know); "
            "create the table on the target yourself, or exclude the column or give it a type "
            "under the mapping's `types:`");
}

wire::SecondaryIndex SourceIndex(const std::string& name, bool unique,
                                 const std::vector<std::string>& columns,
                                 const std::vector<uint32_t>& prefixes = {}) {
  wire::SecondaryIndex index;
  index.set_name(name);
  index.set_unique(unique);
  for (const std::string& column : columns) index.add_columns(column);
  for (uint32_t prefix : prefixes) index.add_prefix_lengths(prefix);
  return index;
}

// Index columns go through the mapping: renamed columns by their target names, and an index over
// an excluded column is not created, saying why.
TEST(CreateIndexPlanTest, ColumnsGoThroughTheMapping) {
  MappingRule rule;
  rule.source = "public.t";
  rule.target = "app.orders";
  rule.renames = {{"a", "order_id"}};
  rule.exclude = {"secret"};
  const MappedRelation mapped =
      Mapped(MakeRelation({{"id", "int4", wire::LOGICAL_TYPE_INT, true},
                           {"a", "int4", wire::LOGICAL_TYPE_INT, false},
                           {"secret", "text", wire::LOGICAL_TYPE_TEXT, false},
                           {"b", "text", wire::LOGICAL_TYPE_TEXT, false}},
                          /*full_old_image=*/false),
             {rule});
  const NewTable table = PlanNewTable(mapped, SourceEngine::kMysql);
  google::protobuf::RepeatedPtrField<wire::SecondaryIndex> source;
  *source.Add() = SourceIndex("a_b", false, {"a", "b"}, {0, 12});
  *source.Add() = SourceIndex("by_secret", true, {"b", "secret"});
  const PlannedIndexes planned = PlanNewIndexes(table, source);
  ASSERT_EQ(planned.indexes.size(), 1u);
  const NewIndex& index = planned.indexes[0];
  EXPECT_EQ(index.source_name, "a_b");
  EXPECT_FALSE(index.unique);
  ASSERT_EQ(index.columns.size(), 2u);
  EXPECT_EQ(table.columns[index.columns[0].column].name, "order_id");
  EXPECT_EQ(index.columns[0].prefix_length, 0u);
  EXPECT_EQ(table.columns[index.columns[1].column].name, "b");
  EXPECT_EQ(index.columns[1].prefix_length, 12u);
  ASSERT_EQ(planned.not_created.size(), 1u);
  EXPECT_EQ(planned.not_created[0],
            "create_tables: index by_secret of source table public.t is not created on "
            "app.orders: the mapping excludes its column public.t.secret; create it on the "
            "target yourself if you need it");
}

// A replica identity index became the primary key: it is not created a second time.
TEST(CreateIndexPlanTest, AUniqueIndexOverThePrimaryKeyIsLeftOut) {
  const MappedRelation mapped = Mapped(MakeRelation({{"a", "int4", wire::LOGICAL_TYPE_INT, true},
                                                     {"b", "int4", wire::LOGICAL_TYPE_INT, true},
                                                     {"c", "int4", wire::LOGICAL_TYPE_INT, false}},
                                                    /*full_old_image=*/false));
  const NewTable table = PlanNewTable(mapped, SourceEngine::kPostgres);
  google::protobuf::RepeatedPtrField<wire::SecondaryIndex> source;
  *source.Add() = SourceIndex("t_identity", true, {"a", "b"});
  *source.Add() = SourceIndex("t_b_a", true, {"b", "a"});
  *source.Add() = SourceIndex("t_a_b", false, {"a", "b"});
  const PlannedIndexes planned = PlanNewIndexes(table, source);
  ASSERT_EQ(planned.indexes.size(), 2u);
  EXPECT_EQ(planned.indexes[0].source_name, "t_b_a");
  EXPECT_EQ(planned.indexes[1].source_name, "t_a_b");
  EXPECT_TRUE(planned.not_created.empty());
}

TEST(CreateIndexPlanTest, TruncateIdentifierKeepsWholeCharacters) {
  EXPECT_EQ(TruncateIdentifier("short", 63), "short");
  EXPECT_EQ(TruncateIdentifier(std::string(70, 'x'), 63), std::string(63, 'x'));
  // "é" is two bytes: cutting after its first would leave half a character.
  EXPECT_EQ(TruncateIdentifier("ab\xc3\xa9", 3), "ab");
  EXPECT_EQ(TruncateIdentifier("ab\xc3\xa9", 4), "ab\xc3\xa9");
}

TEST(CreateIndexPlanTest, AFailedIndexNamesTableIndexAndTheFix) {
  NewTable table;
  table.schema = "app";
  table.table = "t";
  table.source_name = "src.t";
  NewIndex index;
  index.source_name = "t_name";
  const Status failed = IndexFailed(table, index, Status::Error("duplicate key"));
  EXPECT_NE(failed.message().find("index t_name (of source table src.t) on app.t failed: "
                                  "duplicate key; create the index on the target yourself"),
            std::string::npos)
      << failed.message();
}

}  // namespace
}  // namespace ferry::apply
