#include "capture/postgres/pg_table_reader.h"

#include <gtest/gtest.h>

namespace ferry::capture::postgres {
namespace {

// Table "Odd"."T" (a, "b c", Mixed) keyed by ("b c", a): the key in index order, not column order.
KeyedRelation OddTable() {
  KeyedRelation table;
  table.relation.set_schema("Odd");
  table.relation.set_table("T");
  for (const char* name : {"a", "b c", "Mixed"}) table.relation.add_columns()->set_name(name);
  table.key = {1, 0};
  return table;
}

TEST(PgChunkQueryTest, FirstChunkHasNoLowerBound) {
  EXPECT_EQ(PgChunkQuery(OddTable(), false, 8),
            R"(SELECT "a", "b c", "Mixed" FROM "Odd"."T" ORDER BY "b c", "a" LIMIT 8)");
}

TEST(PgChunkQueryTest, LaterChunksCompareTheKeyAsARowValue) {
  EXPECT_EQ(PgChunkQuery(OddTable(), true, 1001),
            R"(SELECT "a", "b c", "Mixed" FROM "Odd"."T" WHERE ("b c", "a") > ($1, $2))"
            R"( ORDER BY "b c", "a" LIMIT 1001)");
}

TEST(PgKeysQueryTest, OneParameterTuplePerKey) {
  EXPECT_EQ(PgKeysQuery(OddTable(), 3),
            R"(SELECT "a", "b c", "Mixed" FROM "Odd"."T" WHERE ("b c", "a") IN )"
            R"((($1, $2), ($3, $4), ($5, $6)) ORDER BY "b c", "a")");
}

TEST(PgKeysQueryTest, SingleColumnKey) {
  KeyedRelation table = OddTable();
  table.key = {2};
  EXPECT_EQ(PgKeysQuery(table, 2),
            R"(SELECT "a", "b c", "Mixed" FROM "Odd"."T" WHERE ("Mixed") IN (($1), ($2)))"
            R"( ORDER BY "Mixed")");
}

TEST(KeyOfTest, TakesKeyColumnsInKeyOrder) {
  Row row(3);
  row[0].set_int64(7);
  row[1].set_text("x");
  row[2].mutable_null();
  Key key = KeyOf(OddTable(), row);
  ASSERT_EQ(key.size(), 2u);
  EXPECT_EQ(key[0].text(), "x");
  EXPECT_EQ(key[1].int64(), 7);
}

}  // namespace
}  // namespace ferry::capture::postgres
