#include "capture/postgres/replication_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace ferry::capture::postgres {
namespace {

std::string U64(uint64_t v) {
  std::string out;
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

constexpr int64_t kPgEpoch = 946684800000000;  // 2000-01-01 in Unix microseconds

TEST(ParseCopyDataTest, XLogData) {
  const std::string message = "w" + U64(0x1DCAFE0) + U64(0x1DCB010) + U64(1'000'000) + "B12345";
  Result<CopyMessage> parsed = ParseCopyData(message);
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  const auto& x = std::get<XLogData>(*parsed);
  EXPECT_EQ(x.data_start, 0x1DCAFE0u);
  EXPECT_EQ(x.wal_end, 0x1DCB010u);
  EXPECT_EQ(x.send_time_us, kPgEpoch + 1'000'000);
  EXPECT_EQ(x.payload, "B12345");
}

TEST(ParseCopyDataTest, XLogDataWithEmptyPayload) {
  Result<CopyMessage> parsed = ParseCopyData("w" + U64(1) + U64(2) + U64(0));
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_TRUE(std::get<XLogData>(*parsed).payload.empty());
}

TEST(ParseCopyDataTest, Keepalive) {
  Result<CopyMessage> parsed = ParseCopyData("k" + U64(0xABCDEF) + U64(5) + std::string(1, 1));
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  const auto& k = std::get<PrimaryKeepalive>(*parsed);
  EXPECT_EQ(k.wal_end, 0xABCDEFu);
  EXPECT_EQ(k.send_time_us, kPgEpoch + 5);
  EXPECT_TRUE(k.reply_requested);
  parsed = ParseCopyData("k" + U64(1) + U64(0) + std::string(1, 0));
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(std::get<PrimaryKeepalive>(*parsed).reply_requested);
}

TEST(ParseCopyDataTest, Malformed) {
  EXPECT_FALSE(ParseCopyData("").ok());
  EXPECT_FALSE(ParseCopyData("w" + U64(1) + U64(2) + std::string(7, 0)).ok());
  EXPECT_FALSE(ParseCopyData("k" + U64(1) + U64(2)).ok());
  EXPECT_FALSE(ParseCopyData("x" + U64(1)).ok());
  Result<CopyMessage> overflow = ParseCopyData("k" + U64(1) + U64(INT64_MAX) + std::string(1, 0));
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.message().find("out of range"), std::string::npos);
  // Every prefix of a valid message is refused or parsed, never read past its end.
  const std::string full = "w" + U64(1) + U64(2) + U64(3) + "payload";
  for (size_t n = 0; n < 25; ++n) EXPECT_FALSE(ParseCopyData(full.substr(0, n)).ok()) << n;
}

TEST(StandbyStatusUpdateTest, Layout) {
  const std::string update = StandbyStatusUpdate(0x1DCAFE0, kPgEpoch + 42);
  ASSERT_EQ(update.size(), 34u);
  EXPECT_EQ(update,
            "r" + U64(0x1DCAFE0) + U64(0x1DCAFE0) + U64(0x1DCAFE0) + U64(42) + std::string(1, 0));
}

std::map<std::string, std::string> Params(const std::string& dsn) {
  Result<std::vector<std::pair<std::string, std::string>>> params = ReplicationConnectParams(dsn);
  EXPECT_TRUE(params.ok()) << params.message();
  std::map<std::string, std::string> map;
  if (params.ok()) {
    for (const auto& [key, value] : *params) {
      EXPECT_TRUE(map.emplace(key, value).second) << "duplicate " << key;
    }
  }
  return map;
}

constexpr char kSession[] =
    "-c datestyle=ISO -c timezone=UTC -c intervalstyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex";

TEST(ReplicationConnectParamsTest, KeyValueDsn) {
  auto p = Params("host=db.example port=5433 dbname=shop user=ferry password=s3cret");
  EXPECT_EQ(p["host"], "db.example");
  EXPECT_EQ(p["port"], "5433");
  EXPECT_EQ(p["dbname"], "shop");
  EXPECT_EQ(p["user"], "ferry");
  EXPECT_EQ(p["password"], "s3cret");
  EXPECT_EQ(p["replication"], "database");
  EXPECT_EQ(p["options"], kSession);
  EXPECT_EQ(p["fallback_application_name"], "ferry");
  EXPECT_EQ(p["connect_timeout"], "10");
}

TEST(ReplicationConnectParamsTest, UriWithOptionsAndOverrides) {
  auto p = Params(
      "postgresql://ferry@127.0.0.1:5432/shop?options=-c%20statement_timeout%3D0"
      "&replication=true&connect_timeout=3");
  EXPECT_EQ(p["host"], "127.0.0.1");
  EXPECT_EQ(p["dbname"], "shop");
  EXPECT_EQ(p["replication"], "database");
  EXPECT_EQ(p["options"], std::string("-c statement_timeout=0 ") + kSession);
  EXPECT_EQ(p["connect_timeout"], "3");
}

TEST(SessionConnectParamsTest, OrdinaryConnectionWithTheStreamsSessionSettings) {
  Result<std::vector<std::pair<std::string, std::string>>> params =
      SessionConnectParams("host=h dbname=d replication=database");
  ASSERT_TRUE(params.ok()) << params.message();
  std::map<std::string, std::string> p(params->begin(), params->end());
  EXPECT_EQ(p.count("replication"), 0u);
  EXPECT_EQ(p["options"], kSession);
  EXPECT_EQ(p["dbname"], "d");
}

TEST(ReplicationConnectParamsTest, InvalidDsn) {
  Result<std::vector<std::pair<std::string, std::string>>> params =
      ReplicationConnectParams("host=a nonsense");
  ASSERT_FALSE(params.ok());
  EXPECT_NE(params.message().find("invalid source DSN"), std::string::npos) << params.message();
}

// libpq quotes the word it stopped at, here the second half of an unquoted password.
TEST(ReplicationConnectParamsTest, AnInvalidDsnIsNotShown) {
  const std::string message =
      ReplicationConnectParams("host=a password=top secret").status().message();
  EXPECT_NE(message.find("invalid source DSN"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

TEST(ReplicationStreamTest, ConnectFailureIsAStatus) {
  // Port 1 on loopback: nothing listens, so this fails fast without a server.
  Result<std::unique_ptr<ReplicationStream>> stream =
      ReplicationStream::Connect("host=127.0.0.1 port=1 dbname=x connect_timeout=2");
  ASSERT_FALSE(stream.ok());
  EXPECT_NE(stream.message().find("connecting to source PostgreSQL"), std::string::npos)
      << stream.message();
}

}  // namespace
}  // namespace ferry::capture::postgres
