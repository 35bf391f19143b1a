#include "admin/lag.h"

#include <algorithm>

namespace ferry::admin {

void LagTracker::OnHeartbeat(int64_t source_time_us, bool idle, Clock::time_point now) {
  if (!has_heartbeat_) first_heartbeat_source_time_us_ = source_time_us;
  // An idle heartbeat proves that everything committed before it has been applied.
  if (idle) caught_up_source_time_us_ = std::max(caught_up_source_time_us_, source_time_us);
  has_heartbeat_ = true;
  heartbeat_source_time_us_ = source_time_us;
  heartbeat_local_time_ = now;
  caught_up_ = idle;
}

void LagTracker::OnTransactionBegin() { caught_up_ = false; }

void LagTracker::OnTransactionApplied(int64_t commit_time_us) {
  // After a reconnect the source may re-send transactions the checkpoint already covers; skipping
  // one of those must not make the stream look further behind than it was.
  last_commit_time_us_ = std::max(last_commit_time_us_, commit_time_us);
}

int64_t LagTracker::ReferenceTimeUs() const {
  if (last_commit_time_us_ == 0 && caught_up_source_time_us_ == 0) {
    return first_heartbeat_source_time_us_;
  }
  return std::max(last_commit_time_us_, caught_up_source_time_us_);
}

double LagTracker::LagSeconds(Clock::time_point now) const {
  if (!has_heartbeat_ || caught_up_) return 0.0;
  // A steady clock never goes back, but a caller may pass a time point taken before the
  // heartbeat's; that is no elapsed time, not negative time.
  const auto elapsed = std::max(Clock::duration::zero(), now - heartbeat_local_time_);
  const int64_t elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  const int64_t source_now_us = heartbeat_source_time_us_ + elapsed_us;
  return static_cast<double>(std::max<int64_t>(0, source_now_us - ReferenceTimeUs())) / 1e6;
}

}  // namespace ferry::admin
