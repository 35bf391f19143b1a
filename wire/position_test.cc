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

// ---- MySQL / MariaDB ---------------------------------------------------------------------------

TEST(BinlogPositionTest, FormatsAndParsesFilePositions) {
  EXPECT_EQ(FormatBinlogFilePosition("mysql-bin.000042", 1234), "file:mysql-bin.000042:1234");
  Result<BinlogFilePosition> parsed = ParseBinlogFilePosition("file:mysql-bin.000042:1234");
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(parsed->file, "mysql-bin.000042");
  EXPECT_EQ(parsed->offset, 1234u);
  // A name with a colon in it: the offset is after the last one.
  parsed = ParseBinlogFilePosition("file:a:b.000001:4");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->file, "a:b.000001");
  EXPECT_EQ(parsed->offset, 4u);
  for (const char* bad : {"", "file:", "file::4", "file:x", "file:x:", "file:x:-1", "file:x:1a",
                          "mysql-bin.000001:4", "file:x:99999999999999999999"}) {
    EXPECT_FALSE(ParseBinlogFilePosition(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseBinlogFilePosition("bin.1:4").message(),
            "invalid binlog file position 'bin.1:4': expected file:<binlog file name>:<offset>, "
            "like file:mysql-bin.000042:1234");
}

TEST(BinlogPositionTest, FilePositionsCompareBySuffixThenNameThenOffset) {
  auto covered = [](const std::string& tx, const std::string& cp) {
    Result<bool> result = IsCovered(Make("mysql", tx), Make("mysql", cp));
    EXPECT_TRUE(result.ok()) << result.message();
    return result.ok() && *result;
  };
  EXPECT_TRUE(covered("file:mysql-bin.000001:4", "file:mysql-bin.000001:4"));
  EXPECT_TRUE(covered("file:mysql-bin.000001:4", "file:mysql-bin.000001:5"));
  EXPECT_FALSE(covered("file:mysql-bin.000001:6", "file:mysql-bin.000001:5"));
  EXPECT_TRUE(covered("file:mysql-bin.000001:99999", "file:mysql-bin.000002:4"));
  EXPECT_FALSE(covered("file:mysql-bin.000002:4", "file:mysql-bin.000001:99999"));
  // The suffix is a number: .1000000 (seven digits, after .999999 rolls over) is later.
  EXPECT_TRUE(covered("file:mysql-bin.999999:4", "file:mysql-bin.1000000:4"));
  EXPECT_FALSE(covered("file:mysql-bin.1000000:4", "file:mysql-bin.999999:4"));
  // Offsets are numbers, not text.
  EXPECT_TRUE(covered("file:b.000001:9", "file:b.000001:10"));
  // Same suffix, different names: the name decides, then the offset.
  EXPECT_TRUE(covered("file:a.000001:500", "file:b.000001:4"));
  EXPECT_FALSE(covered("file:b.000001:4", "file:a.000001:500"));
  // The same holds for MariaDB.
  EXPECT_TRUE(*IsCovered(Make("mariadb", "file:binlog.000003:256"),
                         Make("mariadb", "file:binlog.000003:256")));
}

TEST(BinlogPositionTest, ParsesAndFormatsMariaDbGtidState) {
  Result<MariaDbGtidState> state = ParseMariaDbGtidState("1-2-7,0-1-42");
  ASSERT_TRUE(state.ok()) << state.message();
  ASSERT_EQ(state->size(), 2u);
  EXPECT_EQ(state->at(0).server, 1u);
  EXPECT_EQ(state->at(0).seq, 42u);
  EXPECT_EQ(state->at(1).server, 2u);
  EXPECT_EQ(state->at(1).seq, 7u);
  EXPECT_EQ(FormatMariaDbGtidState(*state), "0-1-42,1-2-7");  // sorted by domain
  EXPECT_TRUE(ParseMariaDbGtidState("")->empty());
  EXPECT_EQ(FormatMariaDbGtidState(*ParseMariaDbGtidState("4294967295-4294967295-"
                                                          "18446744073709551615")),
            "4294967295-4294967295-18446744073709551615");
  for (const char* bad : {"0-1", "0-1-2-3", "a-1-2", "0-1-2,", "0-1-2,0-2-3", "4294967296-1-1",
                          "0--1", "-0-1-1", "0-1-18446744073709551616"}) {
    EXPECT_FALSE(ParseMariaDbGtidState(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseMariaDbGtidState("0-1-2,0-2-3").message(),
            "invalid MariaDB GTID state '0-1-2,0-2-3': domain 0 appears twice");
}

TEST(BinlogPositionTest, MariaDbCoveredPerDomain) {
  auto covered = [](const std::string& tx, const std::string& cp) {
    Result<bool> result = IsCovered(Make("mariadb", tx), Make("mariadb", cp));
    EXPECT_TRUE(result.ok()) << result.message();
    return result.ok() && *result;
  };
  EXPECT_TRUE(covered("0-1-5", "0-1-5"));
  EXPECT_TRUE(covered("0-1-4", "0-1-5"));
  EXPECT_FALSE(covered("0-1-6", "0-1-5"));
  EXPECT_TRUE(covered("0-1-5,1-1-3", "0-1-5,1-1-3"));
  EXPECT_FALSE(covered("0-1-5,1-1-4", "0-1-5,1-1-3"));  // one domain ahead is enough
  EXPECT_TRUE(covered("0-1-5", "0-1-5,1-1-3"));         // domains the transaction lacks: fine
  EXPECT_FALSE(covered("0-1-5,2-1-1", "0-1-5,1-1-3"));  // a domain the checkpoint lacks: not
  EXPECT_TRUE(covered("0-2-5", "0-1-9"));               // the server id does not order GTIDs
  EXPECT_TRUE(covered("0-1-10", "0-1-9") == false);     // numbers, not text
  Result<bool> bad = IsCovered(Make("mariadb", "0-1-x"), Make("mariadb", "0-1-1"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message().rfind("transaction position: invalid MariaDB GTID '0-1-x'", 0), 0u)
      << bad.message();
}

TEST(BinlogPositionTest, ParsesAndFormatsMySqlGtidSets) {
  const std::string a = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  const std::string b = "76f3e7be-6720-11ed-9cad-0242ac110002";
  Result<MySqlGtidSet> set = ParseMySqlGtidSet(
      "76F3E7BE-6720-11ED-9CAD-0242AC110002:1-5:7,\n3e11fa4771ca11e19e33c80aa9429562:3:1-2:4");
  ASSERT_TRUE(set.ok()) << set.message();
  EXPECT_EQ(FormatMySqlGtidSet(*set), a + ":1-4," + b + ":1-5:7");
  EXPECT_TRUE(ParseMySqlGtidSet("")->empty());
  EXPECT_EQ(FormatMySqlGtidSet({}), "");
  for (const char* bad :
       {"3e11fa47-71ca-11e1-9e33-c80aa9429562", "xyz:1-2", "3e11fa47-71ca-11e1-9e33-c80aa942956:1",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:0", "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-4",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:1-4", "3e11fa4-771ca-11e1-9e33-c80aa9429562:1"}) {
    EXPECT_FALSE(ParseMySqlGtidSet(bad).ok()) << bad;
  }
  MySqlGtidSet built;
  AddMySqlGtids(built, a, 5, 5);
  AddMySqlGtids(built, a, 1, 3);
  EXPECT_EQ(FormatMySqlGtidSet(built), a + ":1-3:5");
  AddMySqlGtids(built, a, 4, 4);  // fills the gap: one interval
  EXPECT_EQ(FormatMySqlGtidSet(built), a + ":1-5");
  AddMySqlGtids(built, b, 9, 9);
  EXPECT_EQ(FormatMySqlGtidSet(built), a + ":1-5," + b + ":9");
}

TEST(BinlogPositionTest, MySqlCoveredWhenSubset) {
  const std::string a = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  const std::string b = "76f3e7be-6720-11ed-9cad-0242ac110002";
  auto covered = [](const std::string& tx, const std::string& cp) {
    Result<bool> result = IsCovered(Make("mysql", tx), Make("mysql", cp));
    EXPECT_TRUE(result.ok()) << result.message();
    return result.ok() && *result;
  };
  EXPECT_TRUE(covered(a + ":1-42", a + ":1-42"));
  EXPECT_TRUE(covered(a + ":1-41", a + ":1-42"));
  EXPECT_FALSE(covered(a + ":1-43", a + ":1-42"));
  EXPECT_TRUE(covered(a + ":1-42", a + ":1-42," + b + ":1-7"));
  EXPECT_FALSE(covered(a + ":1-42," + b + ":1-8", a + ":1-42," + b + ":1-7"));
  EXPECT_FALSE(covered(b + ":1", a + ":1-42"));  // a source the checkpoint lacks
  EXPECT_FALSE(covered(a + ":1-5:7", a + ":1-6"));
  EXPECT_TRUE(covered(a + ":2-3:7", a + ":1-5:7-9"));
  EXPECT_TRUE(covered("", a + ":1"));  // the empty set is in every set
}

TEST(BinlogPositionTest, MixingFileAndGtidFormsIsAnError) {
  for (const char* engine : {"mysql", "mariadb"}) {
    const std::string gtid =
        std::string(engine) == "mysql" ? "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5" : "0-1-5";
    Result<bool> covered = IsCovered(Make(engine, "file:bin.000001:4"), Make(engine, gtid));
    ASSERT_FALSE(covered.ok()) << engine;
    EXPECT_EQ(covered.message(),
              "cannot compare a " + std::string(engine) +
                  " binlog file position with a GTID position; the checkpoint was written while "
                  "the source ran with a different GTID setting, so clear the checkpoint and "
                  "re-snapshot, or restore the source's GTID mode");
    EXPECT_FALSE(IsCovered(Make(engine, gtid), Make(engine, "file:bin.000001:4")).ok());
  }
  // MariaDB and MySQL positions are different engines.
  EXPECT_FALSE(IsCovered(Make("mysql", "file:b.1:4"), Make("mariadb", "file:b.1:4")).ok());
}

// A fresh MariaDB/MySQL server has written no transaction: its GTID state is empty, and that
// is a position (the start of its log), not the absence of one.
TEST(BinlogPositionTest, EmptyGtidStateIsTheStartOfTheLog) {
  EXPECT_TRUE(IsStreamPosition(Make("mariadb", "")));
  EXPECT_TRUE(IsStreamPosition(Make("mysql", "")));
  EXPECT_TRUE(IsStreamPosition(Make("mariadb", "0-1-5")));
  EXPECT_FALSE(IsStreamPosition(Make("postgres", "")));
  EXPECT_FALSE(IsStreamPosition(Make("", "0-1-5")));
  EXPECT_FALSE(IsStreamPosition(Position()));
  // It covers nothing: every transaction the server writes comes after it.
  EXPECT_FALSE(*IsCovered(Make("mariadb", "0-1-1"), Make("mariadb", "")));
  EXPECT_FALSE(
      *IsCovered(Make("mysql", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1"), Make("mysql", "")));
}

TEST(BinlogPositionTest, EmptyCheckpointCoversNothing) {
  EXPECT_FALSE(*IsCovered(Make("mariadb", "0-1-1"), Position()));
  EXPECT_FALSE(*IsCovered(Make("mysql", "file:b.000001:4"), Position()));
}

}  // namespace
}  // namespace ferry::wire
