#include "capture/postgres/postgres_source.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ferry::capture::postgres {
namespace {

TEST(SanitizeIdentifierTest, Rules) {
  EXPECT_EQ(SanitizeIdentifier("ferry_east_west"), "ferry_east_west");
  EXPECT_EQ(SanitizeIdentifier("East-West.1"), "east_west_1");
  EXPECT_EQ(SanitizeIdentifier("1node"), "ferry_1node");
  EXPECT_EQ(SanitizeIdentifier("héllo wörld"), "h__llo_w__rld");  // each UTF-8 byte
  EXPECT_EQ(SanitizeIdentifier(""), "ferry_");
  EXPECT_EQ(SanitizeIdentifier("a\"; DROP TABLE x; --"), "a___drop_table_x____");
}

TEST(SanitizeIdentifierTest, AtMost63Bytes) {
  EXPECT_EQ(SanitizeIdentifier(std::string(100, 'a')), std::string(63, 'a'));
  const std::string prefixed = SanitizeIdentifier(std::string(70, '9'));
  EXPECT_EQ(prefixed.size(), 63u);
  EXPECT_EQ(prefixed, "ferry_" + std::string(57, '9'));
}

TEST(SlotNameTest, AValidNameIsKeptAsItIs) {
  EXPECT_EQ(SlotName("ferry_east", "west"), "ferry_east_west");
  EXPECT_EQ(SlotName("ferry_east", "eu_1"), "ferry_east_eu_1");
}

// Ids that sanitize alike used to share one slot and confirm each other's positions.
TEST(SlotNameTest, IdsThatSanitizeAlikeGetSlotsOfTheirOwn) {
  const std::vector<std::pair<std::string, std::string>> alike = {
      {"eu-1", "eu_1"}, {"East", "east"}, {"a-b", "a.b"}, {"West", "WEST"}};
  for (const auto& [one, other] : alike) {
    const std::string a = SlotName("ferry_east", one);
    const std::string b = SlotName("ferry_east", other);
    EXPECT_NE(a, b) << one << " and " << other;
    EXPECT_EQ(SanitizeIdentifier(a), a) << "not a valid identifier: " << a;
    EXPECT_EQ(SlotName("ferry_east", one), a) << "not stable";
  }
  EXPECT_EQ(SlotName("ferry_east", "eu-1").substr(0, 16), "ferry_east_eu_1_");
}

TEST(SlotNameTest, LongIdsThatShareTheirStartStayApart) {
  const std::string start(70, 'n');
  const std::string a = SlotName("ferry_east", start + "1");
  const std::string b = SlotName("ferry_east", start + "2");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 63u);
  EXPECT_EQ(b.size(), 63u);
  // A default prefix that alone fills the 63 bytes (a long node name) leaves room all the same.
  const std::string long_prefix = "ferry_" + std::string(60, 'p');
  EXPECT_NE(SlotName(long_prefix, "east"), SlotName(long_prefix, "west"));
  EXPECT_LE(SlotName(long_prefix, "east").size(), 63u);
}

TEST(SlotNameTest, ThePrefixCountsApartFromTheSubscriber) {
  EXPECT_NE(SlotName("ferry_a-b", "c"), SlotName("ferry_a", "b-c"));
}

TEST(NoReplicaIdentityWarningTest, DefaultWithoutPrimaryKey) {
  EXPECT_EQ(NoReplicaIdentityWarning("public.t", false),
            "table public.t is published but has no primary key and REPLICA IDENTITY is not "
            "FULL: its INSERTs replicate, but UPDATE and DELETE on it fail on the source; fix: "
            "ALTER TABLE public.t ADD PRIMARY KEY (...) or ALTER TABLE public.t REPLICA "
            "IDENTITY FULL");
}

// With NOTHING a new primary key is not used until the identity is DEFAULT again.
TEST(NoReplicaIdentityWarningTest, NothingNamesBothSteps) {
  EXPECT_EQ(NoReplicaIdentityWarning("\"Odd\".t", true),
            "table \"Odd\".t is published but has REPLICA IDENTITY NOTHING: its INSERTs "
            "replicate, but UPDATE and DELETE on it fail on the source; fix: ALTER TABLE "
            "\"Odd\".t REPLICA IDENTITY FULL, or give it a primary key and ALTER TABLE "
            "\"Odd\".t REPLICA IDENTITY DEFAULT");
}

PostgresSourceOptions Unreachable() {
  PostgresSourceOptions options;
  options.dsn = "host=127.0.0.1 port=1 dbname=x connect_timeout=2";
  options.publication = "ferry_pub";
  options.slot = "ferry_slot";
  return options;
}

TEST(PostgresSourceTest, EngineAndUseBeforeStart) {
  std::unique_ptr<ChangeSource> source = MakePostgresSource(Unreachable());
  EXPECT_EQ(source->engine(), "postgres");
  EXPECT_FALSE(source->Next(std::chrono::milliseconds(1)).ok());
  EXPECT_FALSE(source->Confirm(wire::Position()).ok());
  source->Stop();  // harmless when not started
}

TEST(PostgresSourceTest, StartRefusesAForeignResumePosition) {
  std::unique_ptr<ChangeSource> source = MakePostgresSource(Unreachable());
  wire::Position mysql;
  mysql.set_engine("mysql");
  mysql.set_value("binlog.000001:4");
  Status status = source->Start(mysql);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("engine \"mysql\""), std::string::npos) << status.message();

  wire::Position garbage;
  garbage.set_engine("postgres");
  garbage.set_value("not-an-lsn");
  EXPECT_FALSE(source->Start(garbage).ok());
}

TEST(PostgresSourceTest, StartReportsConnectionErrors) {
  std::unique_ptr<ChangeSource> source = MakePostgresSource(Unreachable());
  Status status = source->Start(wire::Position());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("connecting to source PostgreSQL"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace ferry::capture::postgres
