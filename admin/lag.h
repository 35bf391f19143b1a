// Replication lag of one stream, measured on the source's clock so that clock skew between hosts
// does not distort it. Pure logic: callers pass the local monotonic time in.
//
//   lag = (source time of the last heartbeat + local time elapsed since it arrived)
//         - the newest source time up to which the apply side is known to have everything
// That reference point is the commit time of the last applied transaction, or, when later, the
// source time of the last heartbeat that found the stream caught up (everything committed before
// it was already applied). Without the second, the first transaction after an idle hour would
// read as an hour of lag. With no applied transaction and no caught-up heartbeat yet, the first
// heartbeat's source time is the reference: lag is then a lower bound that grows while stalled.
//
// It reads 0 when the apply side has everything the source has (the last heartbeat said the
// capture side was idle and no transaction arrived since), and grows while apply is stalled.
#pragma once

#include <chrono>
#include <cstdint>

namespace ferry::admin {

class LagTracker {
 public:
  using Clock = std::chrono::steady_clock;

  // A heartbeat was processed after everything that preceded it on the stream. `idle` means the
  // capture side had sent everything it had read, so the stream is caught up until the next
  // transaction begins; a heartbeat that is not idle means more is on its way.
  void OnHeartbeat(int64_t source_time_us, bool idle, Clock::time_point now);
  // A transaction began arriving / was applied (or skipped as already applied).
  void OnTransactionBegin();
  void OnTransactionApplied(int64_t commit_time_us);

  // Seconds behind the source; 0 when caught up and idle or before any heartbeat.
  double LagSeconds(Clock::time_point now) const;
  int64_t last_commit_time_us() const { return last_commit_time_us_; }

 private:
  int64_t ReferenceTimeUs() const;

  bool has_heartbeat_ = false;
  int64_t heartbeat_source_time_us_ = 0;
  Clock::time_point heartbeat_local_time_{};
  int64_t last_commit_time_us_ = 0;
  int64_t first_heartbeat_source_time_us_ = 0;
  int64_t caught_up_source_time_us_ = 0;  // of the last idle heartbeat; 0 = none yet
  bool caught_up_ = true;
};

}  // namespace ferry::admin
