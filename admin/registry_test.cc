#include "admin/registry.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace ferry::admin {
namespace {

constexpr int64_t kSecondUs = 1000000;
// 2024-02-29T11:45:10.123456Z
constexpr int64_t kCommitUs = 1709207110LL * kSecondUs + 123456;

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

void AddStreamA(MetricsRegistry& registry) {
  registry.UpdateStream("upstream-a", [](StreamStatus& s) {
    s.state = "streaming";
    s.peer = "10.0.0.1:7400";
    s.position = "0/16B3748";
    s.source_head = "0/16B4000";
    s.transactions = 42;
    s.rows = 1000;
    s.skipped_transactions = 3;
    s.lag.OnTransactionApplied(kCommitUs);
  });
}

TEST(MetricsRegistryTest, StatusJsonHasEveryField) {
  MetricsRegistry registry("apply", "replica1");
  AddStreamA(registry);
  registry.AddCounter("conflicts", "upstream-a", 2);
  const nlohmann::json status = registry.StatusJson();

  EXPECT_EQ(status["role"], "apply");
  EXPECT_EQ(status["node"], "replica1");
  EXPECT_TRUE(status["version"].is_string());
  EXPECT_FALSE(status["version"].get<std::string>().empty());
  EXPECT_GE(status["uptime_seconds"].get<double>(), 0.0);

  const nlohmann::json& stream = status["streams"]["upstream-a"];
  EXPECT_EQ(stream["state"], "streaming");
  EXPECT_EQ(stream["peer"], "10.0.0.1:7400");
  EXPECT_EQ(stream["last_error"], "");
  EXPECT_EQ(stream["position"], "0/16B3748");
  EXPECT_EQ(stream["source_head"], "0/16B4000");
  EXPECT_EQ(stream["transactions"], 42);
  EXPECT_EQ(stream["rows"], 1000);
  EXPECT_EQ(stream["skipped_transactions"], 3);
  EXPECT_EQ(stream["lag_seconds"], 0.0);
  EXPECT_EQ(stream["last_commit_time"], "2024-02-29T11:45:10.123456Z");
  EXPECT_EQ(status["counters"]["conflicts"]["upstream-a"], 2);
  EXPECT_EQ(stream["health"], "ok");
  EXPECT_TRUE(stream["last_error_seconds_ago"].is_null());
  EXPECT_EQ(stream["conflicts"], 0);  // conflicts met (RecordConflict), not the plain counter
  EXPECT_EQ(status["healthy"], true);
  EXPECT_EQ(status["health_problems"], nlohmann::json::array());
}

TEST(MetricsRegistryTest, StatusJsonCountsEachStreamsConflictsAndTheAgeOfItsError) {
  MetricsRegistry registry("apply", "replica1");
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  registry.UpdateStream("east", [&](StreamStatus& s) {
    s.last_error = "refused";
    s.last_error_at_us = now_us - 12 * kSecondUs;
  });
  registry.CountConflict("east", "public.t", "update_differs", "applied_remote", 3);
  registry.CountConflict("east", "public.u", "insert_exists", "kept_local");
  registry.CountConflict("north", "public.t", "insert_exists", "kept_local");
  const nlohmann::json east = registry.StatusJson()["streams"]["east"];
  EXPECT_EQ(east["conflicts"], 4);
  EXPECT_GE(east["last_error_seconds_ago"].get<double>(), 12.0);
  EXPECT_LT(east["last_error_seconds_ago"].get<double>(), 20.0);
}

TEST(MetricsRegistryTest, LastCommitTimeIsNullBeforeAnyTransaction) {
  MetricsRegistry registry("capture", "src");
  registry.UpdateStream("sub", [](StreamStatus&) {});
  const nlohmann::json status = registry.StatusJson();
  EXPECT_TRUE(status["streams"]["sub"]["last_commit_time"].is_null());
  EXPECT_EQ(status["streams"]["sub"]["state"], "starting");
  EXPECT_TRUE(status["counters"].is_object());
}

TEST(MetricsRegistryTest, LagJsonShape) {
  MetricsRegistry registry("apply", "replica1");
  AddStreamA(registry);
  const nlohmann::json lag = registry.LagJson();
  const nlohmann::json& stream = lag["streams"]["upstream-a"];
  EXPECT_EQ(stream["lag_seconds"], 0.0);
  EXPECT_EQ(stream["last_commit_time"], "2024-02-29T11:45:10.123456Z");
  EXPECT_EQ(stream["position"], "0/16B3748");
  EXPECT_EQ(stream["source_head"], "0/16B4000");
  EXPECT_EQ(stream.size(), 4u);
}

TEST(MetricsRegistryTest, LagReflectsAStalledStream) {
  MetricsRegistry registry("apply", "n");
  registry.UpdateStream("s", [](StreamStatus& s) {
    s.lag.OnTransactionApplied(kCommitUs);
    // The heartbeat arrived "10 s ago" by the local clock and was 5 s past the last commit.
    s.lag.OnHeartbeat(kCommitUs + 5 * kSecondUs, false,
                      LagTracker::Clock::now() - std::chrono::seconds(10));
  });
  const double lag = registry.LagJson()["streams"]["s"]["lag_seconds"].get<double>();
  EXPECT_GE(lag, 15.0);
  EXPECT_LT(lag, 20.0);
}

TEST(MetricsRegistryTest, PrometheusTextHasHelpTypeAndSamples) {
  MetricsRegistry registry("apply", "replica1");
  AddStreamA(registry);
  registry.UpdateStream("upstream-b", [](StreamStatus& s) { s.state = "connecting"; });
  registry.AddCounter("conflicts", "upstream-a");
  registry.AddCounter("conflicts", "upstream-a", 4);
  const std::string text = registry.PrometheusText();

  for (const char* family :
       {"ferry_up", "ferry_lag_seconds", "ferry_transactions_total", "ferry_rows_total",
        "ferry_stream_connected", "ferry_conflicts_total"}) {
    EXPECT_TRUE(Contains(text, std::string("# HELP ") + family + " ")) << family;
    EXPECT_TRUE(Contains(text, std::string("# TYPE ") + family + " ")) << family;
  }
  EXPECT_TRUE(Contains(text, "# TYPE ferry_transactions_total counter\n"));
  EXPECT_TRUE(Contains(text, "# TYPE ferry_lag_seconds gauge\n"));
  EXPECT_TRUE(Contains(text, "\nferry_up 1\n"));
  EXPECT_TRUE(Contains(text, "ferry_lag_seconds{stream=\"upstream-a\"} 0\n"));
  EXPECT_TRUE(Contains(text, "ferry_transactions_total{stream=\"upstream-a\"} 42\n"));
  EXPECT_TRUE(Contains(text, "ferry_rows_total{stream=\"upstream-a\"} 1000\n"));
  EXPECT_TRUE(Contains(text, "ferry_stream_connected{stream=\"upstream-a\"} 1\n"));
  EXPECT_TRUE(Contains(text, "ferry_stream_connected{stream=\"upstream-b\"} 0\n"));
  EXPECT_TRUE(Contains(text, "ferry_conflicts_total{stream=\"upstream-a\"} 5\n"));
  EXPECT_TRUE(Contains(text, "ferry_info{role=\"apply\",node=\"replica1\",version=\"")) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsRegistryTest, HealthyUntilAStreamFailsStopsOrFallsBehindTheLimit) {
  MetricsRegistry registry("apply", "n", HealthPolicy{.max_lag_seconds = 30});
  registry.UpdateStream("east", [](StreamStatus& s) { s.state = "connecting"; });
  EXPECT_TRUE(registry.HealthProblems().empty());
  EXPECT_EQ(registry.StatusJson()["healthy"], true);

  registry.UpdateStream("east", [](StreamStatus& s) {
    s.state = "error";
    s.last_error = "connect to 10.0.0.1:7400: secret detail";
    s.failures = 3;
  });
  ASSERT_EQ(registry.HealthProblems().size(), 1u);
  EXPECT_EQ(registry.HealthProblems()[0],
            "stream east is failing (3 failures in a row; GET /status has the last error)");
  EXPECT_EQ(registry.StatusJson()["healthy"], false);
  EXPECT_EQ(registry.StatusJson()["health_problems"][0], registry.HealthProblems()[0]);

  // Applying again clears the failures; 45 s behind is over the limit of 30.
  registry.UpdateStream("east", [](StreamStatus& s) {
    s.state = "streaming";
    s.failures = 0;
    s.lag.OnTransactionApplied(kCommitUs);
    s.lag.OnHeartbeat(kCommitUs + 40 * kSecondUs, false,
                      LagTracker::Clock::now() - std::chrono::seconds(5));
  });
  ASSERT_EQ(registry.HealthProblems().size(), 1u);
  EXPECT_TRUE(Contains(registry.HealthProblems()[0], "stream east is 45.0 s behind its source"))
      << registry.HealthProblems()[0];
  EXPECT_TRUE(Contains(registry.HealthProblems()[0], "health.max_lag_seconds (30)"));
  EXPECT_EQ(registry.StatusJson()["streams"]["east"]["health"], "lagging");

  registry.UpdateStream("west", [](StreamStatus& s) { s.state = "stopped"; });
  EXPECT_EQ(registry.HealthProblems().size(), 2u);
  EXPECT_EQ(registry.HealthProblems()[1], "stream west is stopped");
}

TEST(MetricsRegistryTest, LagMakesNoProblemWithoutALimit) {
  MetricsRegistry registry("apply", "n");
  registry.UpdateStream("east", [](StreamStatus& s) {
    s.state = "streaming";
    s.lag.OnTransactionApplied(kCommitUs);
    s.lag.OnHeartbeat(kCommitUs + 4000 * kSecondUs, false, LagTracker::Clock::now());
  });
  EXPECT_TRUE(registry.HealthProblems().empty());
}

TEST(MetricsRegistryTest, ALostBookmarkOrAFailedRetentionCheckIsUnhealthy) {
  MetricsRegistry registry("capture", "east");
  registry.SetRetention({{"ferry_east_west", RetentionStatus{.status = "reserved"}}}, "");
  EXPECT_TRUE(registry.HealthProblems().empty());
  registry.SetRetention({{"ferry_east_west", RetentionStatus{.status = "lost"}}}, "");
  ASSERT_EQ(registry.HealthProblems().size(), 1u);
  EXPECT_EQ(registry.HealthProblems()[0],
            "the source gave up the log kept for ferry_east_west: that subscriber needs a new "
            "copy");
  registry.SetRetention({}, "connect to source: password=hunter2 refused");
  ASSERT_EQ(registry.HealthProblems().size(), 1u);
  EXPECT_FALSE(Contains(registry.HealthProblems()[0], "hunter2"));
}

// Under the names Prometheus client libraries use, so that stock dashboards show them.
TEST(MetricsRegistryTest, PrometheusTextHasTheStandardProcessMetrics) {
  const std::string text = MetricsRegistry("capture", "east").PrometheusText();
  EXPECT_TRUE(
      Contains(text, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "));
  for (const char* gauge : {"process_resident_memory_bytes", "process_virtual_memory_bytes",
                            "process_start_time_seconds", "process_open_fds", "process_max_fds"}) {
    EXPECT_TRUE(Contains(text, std::string("# TYPE ") + gauge + " gauge\n" + gauge + " ")) << gauge;
  }
  EXPECT_FALSE(Contains(text, "process_resident_memory_bytes 0\n")) << text;
}

TEST(MetricsRegistryTest, PrometheusEscapesLabelValuesAndSanitizesNames) {
  MetricsRegistry registry("apply", "n");
  registry.UpdateStream("we\"ird\\na\nme", [](StreamStatus&) {});
  registry.AddCounter("bad-name.x", "s");
  const std::string text = registry.PrometheusText();
  EXPECT_TRUE(Contains(text, "ferry_rows_total{stream=\"we\\\"ird\\\\na\\nme\"} 0\n")) << text;
  EXPECT_TRUE(Contains(text, "ferry_bad_name_x_total{stream=\"s\"} 1\n")) << text;
}

TEST(MetricsRegistryTest, CounterNamedLikeABuiltinFamilyIsNotExportedTwice) {
  MetricsRegistry registry("apply", "n");
  registry.UpdateStream("s", [](StreamStatus& s) { s.rows = 7; });
  registry.AddCounter("rows", "s", 2);
  const std::string text = registry.PrometheusText();
  size_t count = 0;
  for (size_t at = text.find("# TYPE ferry_rows_total "); at != std::string::npos;
       at = text.find("# TYPE ferry_rows_total ", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
  EXPECT_TRUE(Contains(text, "ferry_counter_rows_total{stream=\"s\"} 2\n")) << text;
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAndRenders) {
  MetricsRegistry registry("apply", "n");
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      registry.UpdateStream("s" + std::to_string(i % 7), [](StreamStatus& s) { ++s.rows; });
      registry.AddCounter("conflicts", "s");
    }
  });
  for (int i = 0; i < 200; ++i) {
    (void)registry.StatusJson();
    (void)registry.PrometheusText();
  }
  writer.join();
  EXPECT_EQ(registry.StatusJson()["counters"]["conflicts"]["s"], 2000);
}

}  // namespace
}  // namespace ferry::admin
