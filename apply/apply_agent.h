// The apply agent: for each configured upstream (a capture agent), connects, resumes at the
// checkpoint stored in the target, and applies every source transaction within one target
// transaction (alone, or grouped with the ones right after it), acknowledging it only after the
// target committed it.
//
// Invariants it keeps (ARCHITECTURE.md #1, #2, #5):
//  - The checkpoint in the target is the only truth about progress: it is read on every
//    (re)connect and sent as the resume position; the agent keeps no progress state of its own.
//  - A transaction the checkpoint already covers is skipped (pgoutput may resend one).
//  - Transactions of one upstream are applied one at a time, in the order they arrive.
//  - A copy of existing rows (capture/table_copier.h) commits each chunk with its progress in
//    ferry_meta.copy_progress, on a connection of its own (apply/copy_writers.h), and resumes
//    after the last committed chunk; chunks are not source transactions and move neither the
//    checkpoint nor the acknowledged position. Nothing is applied to a table while a chunk of it
//    is being written.
//  - Any error aborts the open target transaction, drops the connection and retries after a
//    delay, so nothing is half-applied and nothing is acknowledged that is not committed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "admin/registry.h"
#include "apply/sink.h"
#include "apply/table_mapping.h"
#include "common/status.h"
#include "conflict/conflict.h"
#include "wire/tls.h"

namespace ferry::apply {

struct Upstream {
  std::string name;
  std::string address;  // host:port of the capture agent
  // Set: the connection is TLS, the capture agent's certificate verified (wire/tls.h). Unset:
  // plain TCP; `plain_tcp_note` says why it is allowed, for the log.
  std::shared_ptr<const wire::TlsContext> tls;
  std::string plain_tcp_note = "a loopback address";
  std::string auth_token;
};

// Source transactions that arrive back to back (a backlog: the next one is already waiting when
// one ends) share one target transaction, and so one commit, up to these bounds. A transaction
// with no successor waiting commits at once: a live stream never waits for a group to fill.
struct GroupingOptions {
  uint32_t max_transactions = 1000;  // 1: every source transaction commits on its own
  uint64_t max_rows = 20000;
  std::chrono::milliseconds max_delay{500};  // since the group's first transaction ended
};

struct ApplyAgentOptions {
  std::string node;  // sent as subscriber id: the capture side names its slot after it
  std::vector<Upstream> upstreams;
  // The first wait after a failure; later ones double up to reconnect_delay_max, with jitter,
  // until the stream applies again (apply/reconnect_backoff.h).
  std::chrono::milliseconds reconnect_delay{1000};
  std::chrono::milliseconds reconnect_delay_max{30000};
  // A connection that delivers no frame (not even a heartbeat) for this long is dropped.
  std::chrono::milliseconds receive_timeout{30000};
  size_t max_frame_bytes = 16 * 1024 * 1024;
  // A subscriber that never applied anything asks its upstream for a copy of the existing rows
  // first (the apply config's copy_data).
  bool copy_data = true;
  // A mapped target table that does not exist is created (Sink::CreateTable) before the first
  // row is written to it (the apply config's create_tables); false: missing tables are errors.
  bool create_tables = false;
  // How many tables' chunks are written at once, each on a target connection of its own (the
  // apply config's copy_parallel_tables); the capture agent interleaves that many tables.
  uint32_t copy_parallel_tables = 2;
  GroupingOptions grouping;
  // The apply config's `mode` and `conflicts`: in master-master every row change is applied
  // with conflict detection (apply/conflict_applier.h) and resolved as this says.
  conflict::ConflictPolicy conflicts;
  // Master-slave with a `conflicts` section: changes go through conflict detection too, so that
  // every divergence is resolved as configured and logged row by row in ferry_meta.conflicts
  // (slower: a read per row). Master-master always does.
  bool detect_conflicts = false;
};

// Makes a fresh, unopened sink; called once per connection attempt.
using SinkFactory = std::function<std::unique_ptr<Sink>()>;

class ApplyAgent {
 public:
  ApplyAgent(ApplyAgentOptions options, SinkFactory sink_factory, TableMapper mapper,
             admin::MetricsRegistry& registry);
  ~ApplyAgent();

  // Starts one thread per upstream.
  void Start();
  // Ends every upstream's stream (aborting open target transactions) and joins the threads.
  void Stop();

  // Asks `upstream` (may be empty when the agent has one) to copy source table `table`
  // ("schema.table") again while its stream runs (ferry snapshot): the target table is brought
  // back in line with the source, rows the source lacks removed. Thread-safe; returns once the
  // request is queued, or an error naming what is wrong with it. The stream records the re-copy
  // in ferry_meta.copy_progress between two transactions and reconnects to start it.
  Status RequestRecopy(const std::string& upstream, const std::string& table);

 private:
  class UpstreamStream;
  const ApplyAgentOptions options_;
  const SinkFactory sink_factory_;
  const TableMapper mapper_;
  admin::MetricsRegistry& registry_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<UpstreamStream>> streams_;
};

// Checks that every mapping names a target table that exists and columns it has. Returns every
// problem at once, one per line. With create_tables a missing table is no problem: the apply
// agent creates it with the mapping's names.
Status CheckMappingsAgainstTarget(const std::vector<MappingRule>& rules, Sink& sink,
                                  bool create_tables = false);

}  // namespace ferry::apply
