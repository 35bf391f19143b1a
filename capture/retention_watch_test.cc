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
  RetentionWatch watch(
      [&]() -> Result<RetentionSample> {
        if (fail) return Status::Error("connection refused");
        return RetentionSample{10, {{"ferry_east_west", "reserved", 5, -1}}};
      },
      std::chrono::milliseconds(20), registry);
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
      registry.PrometheusText().find("ferry_source_retained_bytes{slot=\"ferry_east_west\"} 5"),
      std::string::npos);
}

}  // namespace
}  // namespace ferry::capture
