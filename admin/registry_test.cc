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
