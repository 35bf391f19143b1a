#include "admin/registry.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>
#include <utility>

#include "admin/process_metrics.h"

#ifndef FERRY_VERSION
#define FERRY_VERSION "dev"
#endif

namespace ferry::admin {
namespace {

using Clock = std::chrono::steady_clock;

// "2024-02-29T11:45:10.123456Z", or null when there is no such time (0).
nlohmann::json IsoUtcOrNull(int64_t time_us) {
  if (time_us <= 0) return nullptr;
  const std::time_t seconds = static_cast<std::time_t>(time_us / 1000000);
  std::tm utc{};
  if (gmtime_r(&seconds, &utc) == nullptr) return nullptr;
  char buffer[40];
  const size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  char fraction[16];
  std::snprintf(fraction, sizeof(fraction), ".%06lldZ", static_cast<long long>(time_us % 1000000));
  return std::string(buffer, n) + fraction;
}

// Seconds from `time_us` (microseconds since the epoch) to now, or null when there is no such
// time (0).
nlohmann::json SecondsSinceOrNull(int64_t time_us) {
  if (time_us <= 0) return nullptr;
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return static_cast<double>(std::max<int64_t>(0, now_us - time_us)) / 1e6;
}

nlohmann::json CopyJson(const CopyStatus& c) {
  return {
      {"state", c.state},
      {"table", c.table},
      {"tables_total", c.tables_total},
      {"tables_done", c.tables_done},
      {"rows_copied", c.rows_copied},
      {"rows_estimate", c.rows_estimate},
      {"rows_per_second", c.rows_per_second},
      {"eta_seconds", c.eta_seconds < 0 ? nlohmann::json(nullptr) : nlohmann::json(c.eta_seconds)},
  };
}

// A stream's verdict, as /status shows it and `ferry status` reads it: "failing" (failures in a
// row, or it could not start), "stopped", "lagging" (behind more than `max_lag_seconds`, when
// set), or "ok".
std::string StreamHealth(const StreamStatus& s, double lag_seconds, int max_lag_seconds) {
  if (s.failures > 0 || s.state == "error") return "failing";
  if (s.state == "stopped") return "stopped";
  if (max_lag_seconds > 0 && lag_seconds > max_lag_seconds) return "lagging";
  return "ok";
}

nlohmann::json StreamJson(const StreamStatus& s, Clock::time_point now, int max_lag_seconds,
                          uint64_t conflicts) {
  const double lag = s.lag.LagSeconds(now);
  nlohmann::json json = {
      {"state", s.state},
      {"health", StreamHealth(s, lag, max_lag_seconds)},
      {"peer", s.peer},
      {"last_error", s.last_error},
      {"last_error_time", IsoUtcOrNull(s.last_error_at_us)},
      {"last_error_seconds_ago", SecondsSinceOrNull(s.last_error_at_us)},
      {"failures", s.failures},
      {"failures_total", s.failures_total},
      {"position", s.position},
      {"source_head", s.source_head},
      {"transactions", s.transactions},
      {"rows", s.rows},
      {"skipped_transactions", s.skipped_transactions},
      {"filtered_transactions", s.filtered_transactions},
      {"lag_seconds", lag},
      {"last_commit_time", IsoUtcOrNull(s.lag.last_commit_time_us())},
      {"conflicts", conflicts},
  };
  if (!s.copy.state.empty()) json["copy"] = CopyJson(s.copy);
  return json;
}

nlohmann::json RetentionJson(const RetentionStatus& r) {
  auto or_null = [](auto value) {
    return value < 0 ? nlohmann::json(nullptr) : nlohmann::json(value);
  };
  return {{"status", r.status},
          {"retained_bytes", r.retained_bytes},
          {"bytes_until_lost", or_null(r.bytes_until_lost)},
          {"seconds_until_lost", or_null(r.seconds_until_lost)}};
}

// Label values may hold anything a user named a stream; the exposition format needs \, " and
// newline escaped.
std::string EscapeLabel(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A PostgreSQL slot, or a MySQL/MariaDB subscriber.
std::string BookmarkLabel(const std::string& name) {
  return "bookmark=\"" + EscapeLabel(name) + "\"";
}

// Metric names allow [a-zA-Z0-9_:] only; anything else in a counter name becomes '_'.
std::string SanitizeMetricName(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) c = '_';
  }
  return out;
}

std::string FormatDouble(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buffer, end);
}

// Writes one metric family: HELP and TYPE once, then one sample per stream.
class FamilyWriter {
 public:
  explicit FamilyWriter(std::ostringstream& out) : out_(out) {}

  void Header(const std::string& name, const std::string& type, const std::string& help) {
    out_ << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << ' ' << type << '\n';
  }
  void Sample(const std::string& name, const std::string& labels, const std::string& value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }

 private:
  std::ostringstream& out_;
};

// The families every Prometheus client library exports for its process, under their names.
void WriteProcessMetrics(FamilyWriter& w, const ProcessSample& process) {
  w.Header("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
  w.Sample("process_cpu_seconds_total", "", FormatDouble(process.cpu_seconds));
  w.Header("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  w.Sample("process_resident_memory_bytes", "", std::to_string(process.resident_memory_bytes));
  w.Header("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  w.Sample("process_virtual_memory_bytes", "", std::to_string(process.virtual_memory_bytes));
  w.Header("process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch, in seconds.");
  w.Sample("process_start_time_seconds", "", FormatDouble(process.start_time_seconds));
  w.Header("process_open_fds", "gauge", "Number of open file descriptors.");
  w.Sample("process_open_fds", "", std::to_string(process.open_fds));
  if (process.max_fds != 0) {
    w.Header("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    w.Sample("process_max_fds", "", std::to_string(process.max_fds));
  }
}

std::string StreamLabel(const std::string& stream) {
  return "stream=\"" + EscapeLabel(stream) + "\"";
}

// The families the registry always exports; a counter with one of these names is renamed so
// the exposition never holds the same family twice.
const std::set<std::string>& BuiltinFamilies() {
  static const std::set<std::string> kNames = {
      "ferry_up",
      "ferry_info",
      "ferry_uptime_seconds",
      "ferry_lag_seconds",
      "ferry_stream_connected",
      "ferry_stream_failures_total",
      "ferry_transactions_total",
      "ferry_rows_total",
      "ferry_skipped_transactions_total",
      "ferry_filtered_transactions_total",
      "ferry_copy_rows_total",
  };
  return kNames;
}

}  // namespace

MetricsRegistry::MetricsRegistry(std::string role, std::string node, HealthPolicy health)
    : role_(std::move(role)), node_(std::move(node)), health_(health), started_(Clock::now()) {}

std::vector<std::string> MetricsRegistry::HealthProblems() const {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  return HealthProblemsLocked(now);
}

std::vector<std::string> MetricsRegistry::HealthProblemsLocked(Clock::time_point now) const {
  std::vector<std::string> problems;
  for (const auto& [name, s] : streams_) {
    const std::string stream = "stream " + name;
    const double lag = s.lag.LagSeconds(now);
    const std::string health = StreamHealth(s, lag, health_.max_lag_seconds);
    if (health == "failing" && s.failures > 0) {
      problems.push_back(stream + " is failing (" + std::to_string(s.failures) +
                         (s.failures == 1 ? " failure" : " failures") +
                         " in a row; GET /status has the last error)");
    } else if (health == "failing") {
      problems.push_back(stream + " failed (GET /status has the error)");
    } else if (health == "stopped") {
      problems.push_back(stream + " is stopped");
    } else if (health == "lagging") {
      char seconds[32];
      std::snprintf(seconds, sizeof(seconds), "%.1f", lag);
      problems.push_back(stream + " is " + seconds + " s behind its source, more than " +
                         "health.max_lag_seconds (" + std::to_string(health_.max_lag_seconds) +
                         ")");
    }
  }
  for (const auto& [name, r] : retention_) {
    if (r.status == "lost") {
      problems.push_back("the source gave up the log kept for " + name +
                         ": that subscriber needs a new copy");
    }
  }
  if (!retention_error_.empty()) {
    problems.push_back(
        "the source's retained log could not be checked (GET /status has the "
        "error)");
  }
  return problems;
}

void MetricsRegistry::UpdateStream(const std::string& stream,
                                   const std::function<void(StreamStatus&)>& update) {
  std::lock_guard lock(mutex_);
  update(streams_[stream]);
}

void MetricsRegistry::AddCounter(const std::string& name, const std::string& stream,
                                 uint64_t delta) {
  std::lock_guard lock(mutex_);
  counters_[name][stream] += delta;
}

void MetricsRegistry::SetRetention(std::map<std::string, RetentionStatus> retention,
                                   std::string error) {
  std::lock_guard lock(mutex_);
  retention_ = std::move(retention);
  retention_error_ = std::move(error);
}

nlohmann::json MetricsRegistry::StatusJson() const {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  nlohmann::json streams = nlohmann::json::object();
  for (const auto& [name, status] : streams_) {
    uint64_t conflicts = 0;
    for (const auto& [labels, count] : conflict_counts_) {
      if (labels[0] == name) conflicts += count;
    }
    streams[name] = StreamJson(status, now, health_.max_lag_seconds, conflicts);
  }
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, per_stream] : counters_) counters[name] = per_stream;
  const std::vector<std::string> problems = HealthProblemsLocked(now);
  nlohmann::json json = {
      {"role", role_},
      {"node", node_},
      {"version", FERRY_VERSION},
      {"uptime_seconds", std::chrono::duration<double>(now - started_).count()},
      {"healthy", problems.empty()},
      {"health_problems", problems},
      {"streams", std::move(streams)},
      {"counters", std::move(counters)},
  };
  if (!retention_.empty() || !retention_error_.empty()) {
    nlohmann::json retention = nlohmann::json::object();
    for (const auto& [name, r] : retention_) retention[name] = RetentionJson(r);
    json["retention"] = std::move(retention);
    json["retention_error"] = retention_error_;
  }
  return json;
}

nlohmann::json MetricsRegistry::LagJson() const {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  nlohmann::json streams = nlohmann::json::object();
  for (const auto& [name, s] : streams_) {
    streams[name] = {
        {"lag_seconds", s.lag.LagSeconds(now)},
        {"last_commit_time", IsoUtcOrNull(s.lag.last_commit_time_us())},
        {"position", s.position},
        {"source_head", s.source_head},
    };
  }
  return {{"streams", std::move(streams)}};
}

void MetricsRegistry::RecordConflict(ConflictReport report) {
  std::lock_guard lock(mutex_);
  ++conflict_counts_[{report.upstream, report.table, report.type, report.outcome}];
  conflicts_.push_back(std::move(report));
  if (conflicts_.size() > kKeptConflicts) conflicts_.pop_front();
}

void MetricsRegistry::CountConflict(const std::string& upstream, const std::string& table,
                                    const std::string& type, const std::string& outcome,
                                    uint64_t delta) {
  std::lock_guard lock(mutex_);
  conflict_counts_[{upstream, table, type, outcome}] += delta;
}

namespace {

// A row kept as JSON text, parsed back so that /conflicts nests it; null when there is none.
nlohmann::json RowJson(const std::string& text) {
  if (text.empty()) return nullptr;
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(text) : parsed;
}

nlohmann::json ReportJson(const ConflictReport& report) {
  return {{"at_us", report.at_us},
          {"upstream", report.upstream},
          {"origin", report.origin},
          {"remote_position", report.position},
          {"remote_commit_us", report.remote_commit_us},
          {"table", report.table},
          {"type", report.type},
          {"key", RowJson(report.key)},
          {"remote_old", RowJson(report.remote_old)},
          {"remote_new", RowJson(report.remote_new)},
          {"local", RowJson(report.local)},
          {"final", RowJson(report.final_row)},
          {"resolver", report.resolver},
          {"outcome", report.outcome},
          {"reason", report.reason}};
}

}  // namespace

nlohmann::json MetricsRegistry::ConflictsJson(const ConflictQuery& query) const {
  std::lock_guard lock(mutex_);
  nlohmann::json list = nlohmann::json::array();
  size_t total = 0;
  for (auto it = conflicts_.rbegin(); it != conflicts_.rend(); ++it) {
    if (!query.table.empty() && it->table != query.table) continue;
    if (!query.type.empty() && it->type != query.type) continue;
    if (it->at_us < query.since_us) continue;
    ++total;
    if (list.size() < query.limit) list.push_back(ReportJson(*it));
  }
  return {{"conflicts", std::move(list)}, {"total", total}};
}

std::string MetricsRegistry::PrometheusText() const {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  FamilyWriter w(out);

  w.Header("ferry_up", "gauge", "1 while the agent is running and serving its admin endpoint.");
  w.Sample("ferry_up", "", "1");
  w.Header("ferry_info", "gauge", "Constant 1, labelled with the agent's role, node and version.");
  w.Sample("ferry_info",
           "role=\"" + EscapeLabel(role_) + "\",node=\"" + EscapeLabel(node_) + "\",version=\"" +
               EscapeLabel(FERRY_VERSION) + "\"",
           "1");
  w.Header("ferry_uptime_seconds", "gauge", "Seconds since the agent started.");
  w.Sample("ferry_uptime_seconds", "",
           FormatDouble(std::chrono::duration<double>(now - started_).count()));

  WriteProcessMetrics(w, ReadProcessSample());

  w.Header("ferry_lag_seconds", "gauge",
           "Seconds the stream is behind its source, measured on the source's clock.");
  for (const auto& [name, s] : streams_) {
    w.Sample("ferry_lag_seconds", StreamLabel(name), FormatDouble(s.lag.LagSeconds(now)));
  }
  w.Header("ferry_stream_connected", "gauge", "1 when the stream is connected and streaming.");
  for (const auto& [name, s] : streams_) {
    w.Sample("ferry_stream_connected", StreamLabel(name), s.state == "streaming" ? "1" : "0");
  }
  w.Header("ferry_stream_failures_total", "counter",
           "Times the stream failed (connection, target or source error) since start.");
  for (const auto& [name, s] : streams_) {
    w.Sample("ferry_stream_failures_total", StreamLabel(name), std::to_string(s.failures_total));
  }
  w.Header("ferry_transactions_total", "counter",
           "Transactions applied (apply agent) or sent (capture agent) since start.");
  for (const auto& [name, s] : streams_) {
    w.Sample("ferry_transactions_total", StreamLabel(name), std::to_string(s.transactions));
  }
  w.Header("ferry_rows_total", "counter", "Row changes applied or sent since start.");
  for (const auto& [name, s] : streams_) {
    w.Sample("ferry_rows_total", StreamLabel(name), std::to_string(s.rows));
  }
  w.Header("ferry_skipped_transactions_total", "counter",
           "Transactions skipped because the checkpoint already covered them.");
  for (const auto& [name, s] : streams_) {
    w.Sample("ferry_skipped_transactions_total", StreamLabel(name),
             std::to_string(s.skipped_transactions));
  }
  w.Header("ferry_filtered_transactions_total", "counter",
           "Transactions not sent because of their origin: they came from the subscriber, or "
           "from a third node while forwarding is off (capture agent).");
  for (const auto& [name, s] : streams_) {
    w.Sample("ferry_filtered_transactions_total", StreamLabel(name),
             std::to_string(s.filtered_transactions));
  }

  if (!retention_.empty()) {
    w.Header("ferry_source_retained_bytes", "gauge",
             "Log the source keeps for a subscriber's bookmark (a PostgreSQL slot; MySQL/MariaDB: "
             "the binary logs from the one holding its position), in bytes.");
    for (const auto& [name, r] : retention_) {
      w.Sample("ferry_source_retained_bytes", BookmarkLabel(name),
               std::to_string(r.retained_bytes));
    }
    w.Header("ferry_source_log_bytes_until_lost", "gauge",
             "Log the source may still write before it gives a bookmark up "
             "(max_slot_wal_keep_size); absent without a limit.");
    for (const auto& [name, r] : retention_) {
      if (r.bytes_until_lost < 0) continue;
      w.Sample("ferry_source_log_bytes_until_lost", BookmarkLabel(name),
               std::to_string(r.bytes_until_lost));
    }
    w.Header("ferry_source_seconds_until_lost", "gauge",
             "Time left before the source gives a bookmark up, at the current write rate "
             "(PostgreSQL, max_slot_wal_keep_size) or by age (binlog_expire_logs_seconds); absent "
             "when there is no limit or it is unknown.");
    for (const auto& [name, r] : retention_) {
      if (r.seconds_until_lost < 0) continue;
      w.Sample("ferry_source_seconds_until_lost", BookmarkLabel(name),
               std::to_string(r.seconds_until_lost));
    }
    w.Header("ferry_source_bookmark_lost", "gauge",
             "1 when the source gave a subscriber's bookmark up (wal_status lost, or the binary "
             "log holding its position purged): that "
             "subscriber needs a new copy.");
    for (const auto& [name, r] : retention_) {
      w.Sample("ferry_source_bookmark_lost", BookmarkLabel(name), r.status == "lost" ? "1" : "0");
    }
  }

  w.Header("ferry_copy_rows_total", "counter",
           "Existing rows copied into the target by the initial copy (apply agent).");
  for (const auto& [name, s] : streams_) {
    if (!s.copy.state.empty()) {
      w.Sample("ferry_copy_rows_total", StreamLabel(name), std::to_string(s.copy.rows_copied));
    }
  }

  // Only once there is one: a dashboard tells "no conflicts" from an absent family, and a
  // capture agent never has any.
  if (!conflict_counts_.empty()) {
    w.Header("ferry_conflicts_total", "counter",
             "Conflicts met applying changes, by upstream, target table, type and outcome.");
  }
  for (const auto& [labels, value] : conflict_counts_) {
    w.Sample("ferry_conflicts_total",
             "upstream=\"" + EscapeLabel(labels[0]) + "\",table=\"" + EscapeLabel(labels[1]) +
                 "\",type=\"" + EscapeLabel(labels[2]) + "\",outcome=\"" + EscapeLabel(labels[3]) +
                 "\"",
             std::to_string(value));
  }

  // Two counter names may sanitize to the same family ("a-b", "a_b"); they are summed rather
  // than exported twice, which Prometheus would reject.
  std::map<std::string, std::map<std::string, uint64_t>> families;
  for (const auto& [counter, per_stream] : counters_) {
    std::string family = "ferry_" + SanitizeMetricName(counter) + "_total";
    if (BuiltinFamilies().count(family) != 0) family = "ferry_counter_" + family.substr(6);
    for (const auto& [stream, value] : per_stream) families[family][stream] += value;
  }
  for (const auto& [family, per_stream] : families) {
    w.Header(family, "counter", "Events counted by the agent under this name, per stream.");
    for (const auto& [stream, value] : per_stream) {
      w.Sample(family, StreamLabel(stream), std::to_string(value));
    }
  }
  return out.str();
}

}  // namespace ferry::admin
