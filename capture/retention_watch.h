// Watches how much log the source keeps for each subscriber's bookmark (a PostgreSQL slot) and
// how long it can go on keeping it, whether or not anyone is connected: a subscriber that stays
// away holds WAL until the disk fills, or until max_slot_wal_keep_size gives its slot up and it
// needs a new copy. Results go to the registry (/status "retention", /metrics
// ferry_source_retained_bytes and friends). Engine-neutral: the probe is the source's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "admin/registry.h"
#include "common/status.h"

namespace ferry::capture {

// One bookmark as the source reports it.
struct BookmarkRetention {
  std::string name;               // PostgreSQL: the slot
  std::string status;             // PostgreSQL wal_status
  uint64_t retained_bytes = 0;    // log from the bookmark's restart point to the source's end
  int64_t bytes_until_lost = -1;  // PostgreSQL safe_wal_size; -1: no limit
};

struct RetentionSample {
  uint64_t head_bytes = 0;  // the source's end of log, as a byte count (for the write rate)
  std::vector<BookmarkRetention> bookmarks;
};

using RetentionProbe = std::function<Result<RetentionSample>()>;

class RetentionWatch {
 public:
  RetentionWatch(RetentionProbe probe, std::chrono::milliseconds interval,
                 admin::MetricsRegistry& registry);
  ~RetentionWatch();

  // Checks at once, then every interval, in a thread of its own, until Stop().
  void Start();
  void Stop();

  // What the registry shows for `sample`: seconds_until_lost at the rate the source wrote log
  // since `previous` (head bytes at a time point), when there is one and the head moved.
  using HeadAt = std::pair<std::chrono::steady_clock::time_point, uint64_t>;
  static std::map<std::string, admin::RetentionStatus> Summarise(
      const RetentionSample& sample, std::chrono::steady_clock::time_point at,
      const std::optional<HeadAt>& previous);

 private:
  void Run();
  void CheckOnce();

  const RetentionProbe probe_;
  const std::chrono::milliseconds interval_;
  admin::MetricsRegistry& registry_;
  std::optional<HeadAt> previous_;
  std::string last_error_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ferry::capture
