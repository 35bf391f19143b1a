#include "capture/mysql/mysql_retention.h"

#include <gtest/gtest.h>

namespace ferry::capture::mysql {
namespace {

constexpr int64_t kNowUs = 1'800'000'000'000'000;  // the server's clock
constexpr int64_t kDay = 86400;

AcknowledgedPosition At(const std::string& engine, const std::string& value,
                        int64_t commit_time_us = kNowUs - 3600'000'000) {
  AcknowledgedPosition acknowledged;
  acknowledged.subscriber = "west";
  acknowledged.position.set_engine(engine);
  acknowledged.position.set_value(value);
  acknowledged.commit_time_us = commit_time_us;
  return acknowledged;
}

// Three MariaDB binary logs; the second began after 0-1-100, the third after 0-1-200 and a
// second domain's first transaction.
const std::vector<BinaryLog> kMariaDbLogs = {{"mariadb-bin.000001", 1000, ""},
                                             {"mariadb-bin.000002", 2000, "0-1-100"},
                                             {"mariadb-bin.000003", 300, "0-1-200,1-2-1"}};

TEST(BinlogRetentionTest, AGtidPositionIsHeldByTheNewestFileItCovers) {
  BookmarkRetention in_second =
      BinlogRetention(At("mariadb", "0-1-150"), kMariaDbLogs, kDay, kNowUs);
  EXPECT_EQ(in_second.name, "west");
  EXPECT_EQ(in_second.status, "expiring");
  EXPECT_EQ(in_second.retained_bytes, 2300u);
  // Committed an hour ago: the file goes a day after its last write, no sooner than 23 h from now.
  EXPECT_DOUBLE_EQ(in_second.seconds_until_lost, kDay - 3600.0);

  // 0-1-200 without domain 1 does not cover the third file's start: the second holds it.
  EXPECT_EQ(BinlogRetention(At("mariadb", "0-1-200"), kMariaDbLogs, kDay, kNowUs).retained_bytes,
            2300u);
  BookmarkRetention in_third =
      BinlogRetention(At("mariadb", "0-1-250,1-2-1"), kMariaDbLogs, kDay, kNowUs);
  EXPECT_EQ(in_third.status, "kept");  // the file being written is never purged
  EXPECT_EQ(in_third.retained_bytes, 300u);
  EXPECT_EQ(in_third.seconds_until_lost, -1);
}

TEST(BinlogRetentionTest, WithoutExpiryEveryFileIsKept) {
  BookmarkRetention kept = BinlogRetention(At("mariadb", "0-1-50"), kMariaDbLogs, 0, kNowUs);
  EXPECT_EQ(kept.status, "kept");
  EXPECT_EQ(kept.retained_bytes, 3300u);
  EXPECT_EQ(kept.seconds_until_lost, -1);
}

TEST(BinlogRetentionTest, APositionBeforeTheOldestFileIsLost) {
  const std::vector<BinaryLog> purged(kMariaDbLogs.begin() + 1, kMariaDbLogs.end());
  EXPECT_EQ(BinlogRetention(At("mariadb", "0-1-50"), purged, kDay, kNowUs).status, "lost");
  EXPECT_EQ(
      BinlogRetention(At("mariadb", "file:mariadb-bin.000001:400"), purged, kDay, kNowUs).status,
      "lost");
}

TEST(BinlogRetentionTest, AFilePositionCountsFromItsOffset) {
  BookmarkRetention held =
      BinlogRetention(At("mysql", "file:mariadb-bin.000002:500"), kMariaDbLogs, kDay, kNowUs);
  EXPECT_EQ(held.status, "expiring");
  EXPECT_EQ(held.retained_bytes, 1800u);
}

TEST(BinlogRetentionTest, AnOldCommitMeansTheFileMayGoAtAnyMoment) {
  BookmarkRetention old = BinlogRetention(At("mariadb", "0-1-150", kNowUs - 2 * kDay * 1'000'000),
                                          kMariaDbLogs, kDay, kNowUs);
  EXPECT_EQ(old.seconds_until_lost, 0);
  // No commit time known: the time left is not guessed.
  EXPECT_EQ(
      BinlogRetention(At("mariadb", "0-1-150", 0), kMariaDbLogs, kDay, kNowUs).seconds_until_lost,
      -1);
}

TEST(BinlogRetentionTest, MySqlGtidSetsFindTheirFileToo) {
  const std::string uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  const std::vector<BinaryLog> logs = {{"binlog.000001", 1000, ""},
                                       {"binlog.000002", 500, uuid + ":1-10"}};
  EXPECT_EQ(BinlogRetention(At("mysql", uuid + ":1-5"), logs, kDay, kNowUs).retained_bytes, 1500u);
  EXPECT_EQ(BinlogRetention(At("mysql", uuid + ":1-12"), logs, kDay, kNowUs).retained_bytes, 500u);
}

TEST(BinlogRetentionTest, ASubscriberWithoutAPositionIsUnknown) {
  AcknowledgedPosition none;
  none.subscriber = "south";
  BookmarkRetention unknown = BinlogRetention(none, kMariaDbLogs, kDay, kNowUs);
  EXPECT_EQ(unknown.name, "south");
  EXPECT_EQ(unknown.status, "unknown");
}

}  // namespace
}  // namespace ferry::capture::mysql
