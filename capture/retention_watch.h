// Watches how much log the source keeps for each subscriber's bookmark and how long it can go on
// keeping it, whether or not anyone is connected. PostgreSQL keeps WAL for a slot: a subscriber
// that stays away holds WAL until the disk fills, or until max_slot_wal_keep_size gives its slot
// up and it needs a new copy. MySQL/MariaDB keep binary logs by age, for no reader in particular:
// a subscriber that stays away longer than binlog_expire_logs_seconds finds the file it needs
// purged. Results go to the registry (/status "retention", /metrics ferry_source_retained_bytes
// and friends). Engine-neutral: the probe is the source's.
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
#include "wire/ferry.pb.h"

namespace ferry::capture {

// One bookmark as the source reports it.
struct BookmarkRetention {
  std::string name;    // PostgreSQL: the slot; MySQL/MariaDB: the subscriber
  std::string status;  // PostgreSQL wal_status; MySQL/MariaDB: kept, expiring, lost or unknown
  uint64_t retained_bytes = 0;    // log from the bookmark's restart point to the source's end
  int64_t bytes_until_lost = -1;  // PostgreSQL safe_wal_size; -1: no limit
  // Where the source gives log up by age (MySQL/MariaDB): the time left; -1: no limit or unknown.
  double seconds_until_lost = -1;
};

struct RetentionSample {
  uint64_t head_bytes = 0;  // the source's end of log, as a byte count (for the write rate)
  std::vector<BookmarkRetention> bookmarks;
};

// What the capture agent knows of a subscriber's bookmark where the source keeps none per reader
// (MySQL/MariaDB): the position the subscriber last acknowledged, and that transaction's commit
// time on the source's clock. An empty position: nothing acknowledged since the agent started.
struct AcknowledgedPosition {
  std::string subscriber;
  wire::Position position;
  int64_t commit_time_us = 0;
};

// The positions subscribers acknowledged, recorded by sessions and read by the watch. A listed
// subscriber (capture `subscribers:`) appears from the start, with an empty position until it
// acknowledges something. Thread-safe.
class AcknowledgementBook {
 public:
  explicit AcknowledgementBook(const std::vector<std::string>& listed_subscribers);
  void Record(const std::string& subscriber, const wire::Position& position,
              int64_t commit_time_us);
  std::vector<AcknowledgedPosition> Snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, AcknowledgedPosition> positions_;
};

// Reads the source's retention for every bookmark; `acknowledged` is what the agent knows of
// its subscribers (PostgreSQL's probe does not need it: slots remember).
using RetentionProbe =
    std::function<Result<RetentionSample>(const std::vector<AcknowledgedPosition>& acknowledged)>;

class RetentionWatch {
 public:
  RetentionWatch(RetentionProbe probe, const AcknowledgementBook& acknowledged,
                 std::chrono::milliseconds interval, admin::MetricsRegistry& registry);
  ~RetentionWatch();

  // Checks at once, then every interval, in a thread of its own, until Stop().
  void Start();
  void Stop();

  // What the registry shows for `sample`: seconds_until_lost as the source gave it, or else at
  // the rate the source wrote log since `previous` (head bytes at a time point), when there is
  // one and the head moved.
  using HeadAt = std::pair<std::chrono::steady_clock::time_point, uint64_t>;
  static std::map<std::string, admin::RetentionStatus> Summarise(
      const RetentionSample& sample, std::chrono::steady_clock::time_point at,
      const std::optional<HeadAt>& previous);

 private:
  void Run();
  void CheckOnce();

  const RetentionProbe probe_;
  const AcknowledgementBook& acknowledged_;
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
