#include "wire/position.h"

#include <gtest/gtest.h>

namespace ferry::wire {
namespace {

Position Make(const std::string& engine, const std::string& value) {
  Position position;
  position.set_engine(engine);
  position.set_value(value);
  return position;
}

TEST(PositionTest, FormatsLsnLikePostgres) {
  EXPECT_EQ(FormatPgLsn(0), "0/0");
  EXPECT_EQ(FormatPgLsn(0x16B374D848ull), "16/B374D848");
  EXPECT_EQ(FormatPgLsn(0x100000000ull), "1/0");
  EXPECT_EQ(FormatPgLsn(0xFFFFFFFFull), "0/FFFFFFFF");
  EXPECT_EQ(FormatPgLsn(~0ull), "FFFFFFFF/FFFFFFFF");
}

TEST(PositionTest, ParsesLsn) {
  EXPECT_EQ(*ParsePgLsn("0/0"), 0u);
  EXPECT_EQ(*ParsePgLsn("16/B374D848"), 0x16B374D848ull);
  EXPECT_EQ(*ParsePgLsn("16/b374d848"), 0x16B374D848ull);  // pg_lsn input accepts lower case
  EXPECT_EQ(*ParsePgLsn("00000016/0B374D84"), 0x160B374D84ull);
  EXPECT_EQ(*ParsePgLsn("FFFFFFFF/FFFFFFFF"), ~0ull);
}

TEST(PositionTest, LsnRoundTrips) {
  for (const char* text : {"0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "1/0", "0/1"}) {
    Result<uint64_t> lsn = ParsePgLsn(text);
    ASSERT_TRUE(lsn.ok()) << text << ": " << lsn.message();
    EXPECT_EQ(FormatPgLsn(*lsn), text);
  }
  for (uint64_t lsn : {0ull, 1ull, 0x16B374D848ull, 0xDEADBEEFCAFEull, ~0ull}) {
    EXPECT_EQ(*ParsePgLsn(FormatPgLsn(lsn)), lsn);
  }
}

TEST(PositionTest, RejectsGarbageLsn) {
  for (const char* text :
       {"", "/", "0/", "/0", "16", "16B374D848", "0/0/0", "G/0", "0/0x1", " 0/0", "0/0 ", "+1/0",
        "-1/0", "100000000/0", "0/100000000", "0 /0", "16/B374D848\n", "\xEF\xBC\x91/0"}) {
    Result<uint64_t> lsn = ParsePgLsn(text);
    EXPECT_FALSE(lsn.ok()) << "'" << text << "' parsed as " << (lsn.ok() ? *lsn : 0);
  }
  EXPECT_EQ(ParsePgLsn("16-B374D848").message(),
            "invalid PostgreSQL LSN '16-B374D848': expected two hexadecimal numbers of up to 8 "
            "digits separated by '/', like 16/B374D848");
}

TEST(PositionTest, RejectsEmbeddedNul) { EXPECT_FALSE(ParsePgLsn(std::string("0/1\0", 4)).ok()); }

TEST(PositionTest, PgPositionIsEngineTagged) {
  Position position = PgPosition(0x16B374D848ull);
  EXPECT_EQ(position.engine(), "postgres");
  EXPECT_EQ(position.value(), "16/B374D848");
}

TEST(PositionTest, CoveredWhenAtOrBeforeTheCheckpoint) {
  const Position checkpoint = PgPosition(0x16B374D848ull);
  EXPECT_TRUE(*IsCovered(PgPosition(0x16B374D848ull), checkpoint));  // the same transaction
  EXPECT_TRUE(*IsCovered(PgPosition(0x16B374D847ull), checkpoint));  // one byte earlier
  EXPECT_TRUE(*IsCovered(PgPosition(0), checkpoint));
  EXPECT_FALSE(*IsCovered(PgPosition(0x16B374D849ull), checkpoint));  // one byte later
  EXPECT_FALSE(*IsCovered(PgPosition(0x17B374D848ull), checkpoint));  // later segment, same low
  EXPECT_FALSE(*IsCovered(PgPosition(~0ull), checkpoint));
  // Compared as numbers, not as text ("9/0" sorts after "10/0" as a string).
  EXPECT_TRUE(*IsCovered(Make("postgres", "9/0"), Make("postgres", "10/0")));
  EXPECT_FALSE(*IsCovered(Make("postgres", "10/0"), Make("postgres", "9/0")));
  EXPECT_TRUE(*IsCovered(Make("postgres", "0/0000000A"), Make("postgres", "0/A")));
}

TEST(PositionTest, EmptyCheckpointCoversNothing) {
  EXPECT_FALSE(*IsCovered(PgPosition(0), Position()));
  EXPECT_FALSE(*IsCovered(PgPosition(~0ull), Position()));
}

TEST(PositionTest, DifferentEnginesAreAnError) {
  Result<bool> covered = IsCovered(PgPosition(1), Make("mariadb", "0-1-100"));
  ASSERT_FALSE(covered.ok());
  EXPECT_EQ(covered.message(),
            "cannot compare a postgres transaction position with a mariadb checkpoint; the "
            "checkpoint belongs to a different upstream, so clear it or point this apply agent at "
            "the upstream it came from");
  EXPECT_FALSE(IsCovered(Position(), PgPosition(1)).ok());
}

TEST(PositionTest, UnknownEngineIsAnError) {
  Result<bool> covered = IsCovered(Make("oracle", "1"), Make("oracle", "2"));
  ASSERT_FALSE(covered.ok());
  EXPECT_EQ(covered.message(),
            "cannot compare positions of engine 'oracle': wire/position.cc knows no ordering for "
            "it");
}

TEST(PositionTest, UnparsableValueIsAnError) {
  Result<bool> covered = IsCovered(Make("postgres", "junk"), PgPosition(5));
  ASSERT_FALSE(covered.ok());
  EXPECT_EQ(covered.message().rfind("transaction position: invalid PostgreSQL LSN 'junk'", 0), 0u)
      << covered.message();
  covered = IsCovered(PgPosition(5), Make("postgres", ""));
  ASSERT_FALSE(covered.ok());
  EXPECT_EQ(covered.message().rfind("checkpoint position: invalid PostgreSQL LSN ''", 0), 0u)
      << covered.message();
}

TEST(PositionTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3creT"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "S3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3cret "));  // a prefix is not equal
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3cre"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals("x", ""));
  // A shorter string padded with NULs must still differ from the longer one.
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab"), std::string("ab\0", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), std::string("ab")));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
}

}  // namespace
}  // namespace ferry::wire
