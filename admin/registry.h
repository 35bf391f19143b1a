// The one place an agent's state and counters live; the admin endpoint only reads it.
// Thread-safe: agent threads update their streams while HTTP handlers render snapshots.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "admin/lag.h"

namespace ferry::admin {

// An apply stream's copy of its upstream's existing rows (apply/copy_tracker.h).
struct CopyStatus {
  std::string state;  // "" (no copy recorded), "copying" or "done"
  std::string table;  // the table of the last chunk, "schema.table"
  uint64_t tables_total = 0;
  uint64_t tables_done = 0;
  uint64_t rows_copied = 0;    // every table, since the copy began
  uint64_t rows_estimate = 0;  // the source's estimate for the tables seen so far
  double rows_per_second = 0;  // since this connection began copying
  double eta_seconds = -1;     // for the tables seen so far; -1 unknown
};

// The state of one replication stream: an upstream of an apply agent, or a subscriber of a
// capture agent.
struct StreamStatus {
  std::string state = "starting";  // starting, connecting, streaming, error, stopped
  std::string peer;                // address of the other agent
  // The last failure and when it happened (microseconds since the Unix epoch), kept until the
  // stream applies again (or, idle, is caught up), so that a stream that reconnects and fails
  // again does not look healthy between the two.
  std::string last_error;
  int64_t last_error_at_us = 0;
  uint64_t failures = 0;        // in a row, since the stream last applied
  uint64_t failures_total = 0;  // since start
  std::string position;         // apply: last applied; capture: last acknowledged
  std::string source_head;      // last end-of-log the source reported
  uint64_t transactions = 0;    // applied (apply) / sent (capture) since start
  uint64_t rows = 0;
  uint64_t skipped_transactions = 0;  // already covered by the checkpoint
  // capture: not sent because of their origin (loop prevention, capture/origin_filter.h)
  uint64_t filtered_transactions = 0;
  LagTracker lag;
  CopyStatus copy;
};

// How much log the source keeps for one subscriber's bookmark (a PostgreSQL slot; MySQL/MariaDB:
// the binary logs from the one that holds the subscriber's position), watched by
// the capture agent whether or not the subscriber is connected (capture/retention_watch.h).
struct RetentionStatus {
  // PostgreSQL wal_status: reserved, extended, unreserved, lost. MySQL/MariaDB: kept (no expiry,
  // or the current file), expiring (purged by age), lost (purged), unknown (no position known).
  std::string status;
  uint64_t retained_bytes = 0;
  // Log the source may still write before it gives the bookmark up (PostgreSQL safe_wal_size,
  // set when max_slot_wal_keep_size is); -1: no limit.
  int64_t bytes_until_lost = -1;
  // bytes_until_lost at the rate the source wrote log since the last check, or the time before
  // the binary log holding the position expires; -1: no limit or unknown.
  double seconds_until_lost = -1;
};

// One conflict an apply stream met (apply/conflict_record.h), as /conflicts shows it. Rows are
// JSON objects as text; empty when there is no row.
struct ConflictReport {
  int64_t at_us = 0;  // when it was met, microseconds since the Unix epoch
  std::string upstream;
  std::string origin;
  std::string position;
  int64_t remote_commit_us = 0;
  std::string table;
  std::string type;
  std::string key;
  std::string remote_old;
  std::string remote_new;
  std::string local;
  std::string final_row;
  std::string resolver;
  std::string outcome;
  std::string reason;
};

// What GET /conflicts asks for; empty fields match everything.
struct ConflictQuery {
  std::string table;
  std::string type;
  int64_t since_us = 0;
  size_t limit = 100;
};

// When an agent calls itself unhealthy, besides a failing stream (`health:` in either config).
struct HealthPolicy {
  int max_lag_seconds = 0;  // a stream further behind its source is unhealthy; 0: lag never is
};

class MetricsRegistry {
 public:
  MetricsRegistry(std::string role, std::string node, HealthPolicy health = {});

  // Runs `update` on the stream's status under the registry's lock (creating it on first use).
  void UpdateStream(const std::string& stream, const std::function<void(StreamStatus&)>& update);
  // Replaces what the source keeps for each bookmark (by name: a PostgreSQL slot, a MySQL/MariaDB
  // subscriber), and the error of the last check ("" when it succeeded).
  void SetRetention(std::map<std::string, RetentionStatus> retention, std::string error);
  // Adds to a counter that is exported as ferry_<name>_total{stream="..."} (e.g. "conflicts").
  void AddCounter(const std::string& name, const std::string& stream, uint64_t delta = 1);

  // Keeps `report` among the last kKeptConflicts (for /conflicts) and counts it in
  // ferry_conflicts_total{upstream,table,type,outcome}.
  void RecordConflict(ConflictReport report);
  // Counts a conflict that has no report (a master-slave divergence, known only by its count).
  void CountConflict(const std::string& upstream, const std::string& table, const std::string& type,
                     const std::string& outcome, uint64_t delta = 1);
  // {"conflicts": [...newest first], "total": N (kept and matching)}.
  nlohmann::json ConflictsJson(const ConflictQuery& query) const;
  static constexpr size_t kKeptConflicts = 1000;

  // What makes the agent unhealthy now, one sentence each naming the stream; empty when it is
  // healthy. A stream is unhealthy while it fails (failures in a row, until it applies again),
  // once stopped, or further behind than HealthPolicy::max_lag_seconds; the agent, when the
  // source gave a subscriber's bookmark up or could not be checked. No error text: GET /healthz
  // shows these without a token, and /status has the errors.
  std::vector<std::string> HealthProblems() const;

  // {"role", "node", "version", "uptime_seconds", "healthy", "health_problems": [...],
  //  "streams": {name: {...,"lag_seconds"}}}
  nlohmann::json StatusJson() const;
  // {"streams": {name: {"lag_seconds", "last_commit_time", "position", "source_head"}}}
  nlohmann::json LagJson() const;
  // Prometheus text exposition format.
  std::string PrometheusText() const;

 private:
  std::vector<std::string> HealthProblemsLocked(std::chrono::steady_clock::time_point now) const;

  const std::string role_;
  const std::string node_;
  const HealthPolicy health_;
  const std::chrono::steady_clock::time_point started_;
  mutable std::mutex mutex_;
  std::map<std::string, StreamStatus> streams_;
  std::map<std::string, RetentionStatus> retention_;
  std::string retention_error_;
  std::map<std::string, std::map<std::string, uint64_t>> counters_;  // name -> stream -> value
  std::deque<ConflictReport> conflicts_;                             // the newest last
  // (upstream, table, type, outcome) -> count
  std::map<std::array<std::string, 4>, uint64_t> conflict_counts_;
};

}  // namespace ferry::admin
