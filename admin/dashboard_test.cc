// The Grafana dashboard under contrib/ names only metrics Ferry exports: every ferry_* and
// process_* name in it is a family of some agent's /metrics.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "admin/registry.h"

namespace ferry::admin {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The families of an exposition: the names after "# TYPE ".
std::set<std::string> Families(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) names.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  return names;
}

// Every family either agent can export: an apply agent with a stream that copied and met a
// conflict, and a capture agent watching a slot with a retention limit.
std::set<std::string> EveryFamily() {
  MetricsRegistry apply("apply", "west");
  apply.UpdateStream("east", [](StreamStatus& s) {
    s.state = "streaming";
    s.copy.state = "copying";
  });
  apply.CountConflict("east", "public.t", "update_differs", "applied_remote");
  MetricsRegistry capture("capture", "east");
  capture.UpdateStream("west", [](StreamStatus& s) { s.state = "streaming"; });
  capture.SetRetention({{"ferry_east_west", RetentionStatus{.status = "reserved",
                                                            .retained_bytes = 1,
                                                            .bytes_until_lost = 2,
                                                            .seconds_until_lost = 3}}},
                       "");
  std::set<std::string> families = Families(apply.PrometheusText());
  families.merge(Families(capture.PrometheusText()));
  return families;
}

// Metric names in `text`: words starting with ferry_ or process_.
std::set<std::string> MetricNames(const std::string& text) {
  std::set<std::string> names;
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = 0; at < text.size();) {
    const bool starts =
        (at == 0 || !word_char(text[at - 1])) &&
        (text.compare(at, 6, "ferry_") == 0 || text.compare(at, 8, "process_") == 0);
    if (!starts) {
      ++at;
      continue;
    }
    size_t end = at;
    while (end < text.size() && word_char(text[end])) ++end;
    names.insert(text.substr(at, end - at));
    at = end;
  }
  return names;
}

TEST(DashboardTest, EveryMetricTheDashboardNamesIsExported) {
  const std::string dashboard =
      ReadFile(std::string(FERRY_SOURCE_DIR) + "/contrib/grafana/ferry-dashboard.json");
  ASSERT_FALSE(dashboard.empty()) << "contrib/grafana/ferry-dashboard.json is missing";
  const std::set<std::string> used = MetricNames(dashboard);
  EXPECT_GE(used.size(), 10u);
  const std::set<std::string> exported = EveryFamily();
  for (const std::string& name : used) {
    EXPECT_EQ(exported.count(name), 1u) << name << " is not a metric Ferry exports";
  }
}

TEST(DashboardTest, TheCheckFindsANameFerryDoesNotExport) {
  EXPECT_EQ(MetricNames("rate(ferry_rows_total[5m]) / ferry_bogus_seconds{a=\"b\"}"),
            (std::set<std::string>{"ferry_bogus_seconds", "ferry_rows_total"}));
  EXPECT_EQ(EveryFamily().count("ferry_bogus_seconds"), 0u);
  EXPECT_EQ(EveryFamily().count("ferry_source_seconds_until_lost"), 1u);
}

}  // namespace
}  // namespace ferry::admin
