#include "apply/row_match.h"

#include <gtest/gtest.h>

namespace ferry::apply {
namespace {

// t(id key, a, b) as the table mapping makes it; with a full image every column is flagged key.
MappedRelation Relation(bool full_old_image = false, bool keyless = false) {
  MappedRelation relation;
  relation.full_old_image = full_old_image;
  relation.has_key = !keyless || full_old_image;
  int index = 0;
  for (const char* name : {"id", "a", "b"}) {
    MappedColumn column;
    column.source_index = index++;
    column.target_name = name;
    column.key = full_old_image || (!keyless && column.target_name == "id");
    relation.columns.push_back(column);
  }
  return relation;
}

// t(id, a, b) without any key column.
MappedRelation Keyless() { return Relation(false, /*keyless=*/true); }

using Indexes = std::vector<UniqueIndex>;
const UniqueIndex kPrimary{{"id"}, true, true};

TEST(MatchColumnsTest, KeyIdentityUsesSourceKey) {
  EXPECT_EQ(MatchColumns(Relation(), {}), std::vector<std::string>{"id"});
  EXPECT_FALSE(MatchesWholeRow(Relation(), {}));
  EXPECT_EQ(MatchColumns(Relation(), {kPrimary}), std::vector<std::string>{"id"});
  EXPECT_FALSE(MatchesWholeRow(Relation(), {kPrimary}));
}

TEST(MatchColumnsTest, FullImagePrefersTargetPrimaryKey) {
  const Indexes indexes = {{{"a"}, false, true}, {{"id"}, true, false}};
  EXPECT_EQ(MatchColumns(Relation(true), indexes), std::vector<std::string>{"id"});
  EXPECT_FALSE(MatchesWholeRow(Relation(true), indexes));
}

TEST(MatchColumnsTest, FullImageUsesIdentityIndexWithoutPrimaryKey) {
  const Indexes indexes = {{{"a"}, false, true}};
  EXPECT_EQ(MatchColumns(Relation(true), indexes), std::vector<std::string>{"a"});
  EXPECT_FALSE(MatchesWholeRow(Relation(true), indexes));
}

TEST(MatchColumnsTest, FullImageWithoutKeyMatchesWholeRow) {
  // A unique index that is not an identity (e.g. on a nullable column) does not do.
  const Indexes indexes = {{{"a"}, false, false}};
  EXPECT_EQ(MatchColumns(Relation(true), indexes), (std::vector<std::string>{"id", "a", "b"}));
  EXPECT_TRUE(MatchesWholeRow(Relation(true), indexes));
}

TEST(MatchColumnsTest, FullImageIgnoresIndexTheMappingDoesNotCover) {
  const Indexes indexes = {{{"id", "c"}, true, true}};
  EXPECT_EQ(MatchColumns(Relation(true), indexes), (std::vector<std::string>{"id", "a", "b"}));
  EXPECT_TRUE(MatchesWholeRow(Relation(true), indexes));
}

TEST(MatchColumnsTest, KeylessHasNothingToMatch) {
  EXPECT_TRUE(MatchColumns(Keyless(), {}).empty());
  EXPECT_TRUE(MatchColumns(Keyless(), {kPrimary}).empty());
  EXPECT_FALSE(MatchesWholeRow(Keyless(), {}));
}

TEST(ArbiterColumnsTest, PrefersIndexOnExactlyTheKey) {
  const Indexes indexes = {{{"id", "a"}, true, false}, {{"id"}, false, false}};
  EXPECT_EQ(ArbiterColumns(Relation(), indexes), std::vector<std::string>{"id"});
  EXPECT_EQ(ArbiterColumns(Relation(), {kPrimary}), std::vector<std::string>{"id"});
}

TEST(ArbiterColumnsTest, NoneWhenNoIndexFitsTheKey) {
  EXPECT_FALSE(ArbiterColumns(Relation(), {}).has_value());
  EXPECT_FALSE(ArbiterColumns(Relation(), {{{"a"}, false, false}}).has_value());
  // The primary key (id, a) is not covered by the key column id.
  EXPECT_FALSE(ArbiterColumns(Relation(), {{{"id", "a"}, true, false}}).has_value());
}

TEST(ArbiterColumnsTest, FullImageTakesPrimaryKeyOverOtherUniqueIndex) {
  const Indexes indexes = {{{"a"}, false, false}, {{"id"}, true, false}};
  EXPECT_EQ(ArbiterColumns(Relation(true), indexes), std::vector<std::string>{"id"});
  EXPECT_EQ(ArbiterColumns(Relation(true), {{{"a"}, false, false}}), std::vector<std::string>{"a"});
}

// Even when the target has a unique index, a keyless source's insert is a plain INSERT: an
// arbiter would quietly fold two source rows with the same values there into one.
TEST(ArbiterColumnsTest, NoneForKeylessRelation) {
  EXPECT_FALSE(ArbiterColumns(Keyless(), {}).has_value());
  EXPECT_FALSE(ArbiterColumns(Keyless(), {kPrimary}).has_value());
}

TEST(RequiresArbiterTest, OnlyARealKeyRequiresOne) {
  EXPECT_TRUE(RequiresArbiter(Relation()));
  EXPECT_FALSE(RequiresArbiter(Relation(true)));
  EXPECT_FALSE(RequiresArbiter(Keyless()));
}

struct Bound {
  std::string name;
  int value = 0;
};

TEST(SelectTest, PicksColumnsInOrder) {
  const std::vector<Bound> bound = {{"id", 1}, {"a", 2}};
  Result<std::vector<Bound>> picked = Select(bound, {"a", "id"});
  ASSERT_TRUE(picked.ok());
  ASSERT_EQ(picked->size(), 2u);
  EXPECT_EQ((*picked)[0].name, "a");
  EXPECT_EQ((*picked)[0].value, 2);
  EXPECT_EQ((*picked)[1].name, "id");
}

TEST(SelectTest, MissingColumnIsAnError) {
  const std::vector<Bound> bound = {{"a", 1}};
  Result<std::vector<Bound>> missing = Select(bound, {"b"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(),
            "the row carries no value for column b, which identifies rows on the target");
}

}  // namespace
}  // namespace ferry::apply
