#include "capture/retention_watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ferry::capture {
namespace {

using std::chrono::seconds;

TEST(RetentionWatchTest, TimeUntilABookmarkIsLostFollowsTheSourcesWriteRate) {
  RetentionSample sample;
  sample.head_bytes = 3'000'000;
  sample.bookmarks = {{"ferry_east_west", "reserved", 1'000'000, 4'000'000},
                      {"ferry_east_south", "extended", 2'000'000, -1}};
  const auto now = std::chrono::steady_clock::now();
  // 2 MB written in the last 2 s: 1 MB/s, so 4 MB more last 4 s.
  auto status =
      RetentionWatch::Summarise(sample, now, RetentionWatch::HeadAt{now - seconds(2), 1'000'000});
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status["ferry_east_west"].status, "reserved");
  EXPECT_EQ(status["ferry_east_west"].retained_bytes, 1'000'000u);
  EXPECT_DOUBLE_EQ(status["ferry_east_west"].seconds_until_lost, 4.0);
  EXPECT_EQ(status["ferry_east_south"].bytes_until_lost, -1);  // no limit: never lost
  EXPECT_EQ(status["ferry_east_south"].seconds_until_lost, -1);

  // The first check, or a source that wrote nothing since: no rate, no time.
  EXPECT_EQ(
      RetentionWatch::Summarise(sample, now, std::nullopt)["ferry_east_west"].seconds_until_lost,
      -1);
  EXPECT_EQ(RetentionWatch::Summarise(
                sample, now, RetentionWatch::HeadAt{now - seconds(2), 3'000'000})["ferry_east_west"]
                .seconds_until_lost,
            -1);
}

TEST(RetentionWatchTest, AFailedCheckIsShownAndTheNextOneReplacesIt) {
  admin::MetricsRegistry registry("capture", "east");
  std::atomic<bool> fail{true};
  AcknowledgementBook acknowledged({});
  RetentionWatch watch(
      [&](const std::vector<AcknowledgedPosition>&) -> Result<RetentionSample> {
        if (fail) return Status::Error("connection refused");
        return RetentionSample{10, {{"ferry_east_west", "reserved", 5, -1}}};
      },
      acknowledged, std::chrono::milliseconds(20), registry);
  watch.Start();
  auto error = [&] { return registry.StatusJson()["retention_error"].get<std::string>(); };
  for (int i = 0; i < 100 && (!registry.StatusJson().contains("retention_error")); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(error(), "connection refused");
  fail = false;
  for (int i = 0; i < 100 && !error().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  watch.Stop();
  EXPECT_EQ(error(), "");
  EXPECT_EQ(registry.StatusJson()["retention"]["ferry_east_west"]["retained_bytes"], 5);
  EXPECT_NE(
      registry.PrometheusText().find("ferry_source_retained_bytes{bookmark=\"ferry_east_west\"} 5"),
      std::string::npos);
}

// MySQL/MariaDB give log up by age: the probe knows the time left, which no write rate changes.
TEST(RetentionWatchTest, ATimeTheSourceGivesIsShownAsItIs) {
  RetentionSample sample;
  sample.head_bytes = 3'000'000;
  sample.bookmarks = {{"west", "expiring", 1'000'000, -1, 120.0}};
  const auto now = std::chrono::steady_clock::now();
  auto status =
      RetentionWatch::Summarise(sample, now, RetentionWatch::HeadAt{now - seconds(2), 1'000'000});
  EXPECT_EQ(status["west"].status, "expiring");
  EXPECT_DOUBLE_EQ(status["west"].seconds_until_lost, 120.0);
  EXPECT_EQ(status["west"].bytes_until_lost, -1);
}

TEST(RetentionWatchTest, TheBookListsListedSubscribersBeforeTheyAcknowledgeAnything) {
  AcknowledgementBook book({"west", "south"});
  wire::Position position;
  position.set_engine("mariadb");
  position.set_value("0-1-42");
  book.Record("west", position, 1'700'000'000'000'000);
  book.Record("north", position, 5);  // not listed: connected with the shared token
  std::vector<AcknowledgedPosition> snapshot = book.Snapshot();
  ASSERT_EQ(snapshot.size(), 3u);
  EXPECT_EQ(snapshot[0].subscriber, "north");
  EXPECT_EQ(snapshot[1].subscriber, "south");
  EXPECT_TRUE(snapshot[1].position.engine().empty());
  EXPECT_EQ(snapshot[2].subscriber, "west");
  EXPECT_EQ(snapshot[2].position.value(), "0-1-42");
  EXPECT_EQ(snapshot[2].commit_time_us, 1'700'000'000'000'000);
}

}  // namespace
}  // namespace ferry::capture
