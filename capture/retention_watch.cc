#include "capture/retention_watch.h"

#include "common/log.h"

namespace ferry::capture {

RetentionWatch::RetentionWatch(RetentionProbe probe, std::chrono::milliseconds interval,
                               admin::MetricsRegistry& registry)
    : probe_(std::move(probe)), interval_(interval), registry_(registry) {}

RetentionWatch::~RetentionWatch() { Stop(); }

void RetentionWatch::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RetentionWatch::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionWatch::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    CheckOnce();
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

void RetentionWatch::CheckOnce() {
  const auto now = std::chrono::steady_clock::now();
  Result<RetentionSample> sample = probe_();
  if (!sample.ok()) {
    // Logged once per new error: a source down for an hour is one line, not 360.
    if (sample.message() != last_error_) {
      Logger("capture")->warn("cannot check the log the source keeps for its subscribers: {}",
                              sample.message());
      last_error_ = sample.message();
    }
    registry_.SetRetention({}, sample.message());
    return;
  }
  last_error_.clear();
  registry_.SetRetention(Summarise(*sample, now, previous_), "");
  previous_ = HeadAt{now, sample->head_bytes};
}

std::map<std::string, admin::RetentionStatus> RetentionWatch::Summarise(
    const RetentionSample& sample, std::chrono::steady_clock::time_point at,
    const std::optional<HeadAt>& previous) {
  double bytes_per_second = 0;
  if (previous && sample.head_bytes > previous->second && at > previous->first) {
    bytes_per_second = static_cast<double>(sample.head_bytes - previous->second) /
                       std::chrono::duration<double>(at - previous->first).count();
  }
  std::map<std::string, admin::RetentionStatus> out;
  for (const BookmarkRetention& bookmark : sample.bookmarks) {
    admin::RetentionStatus& status = out[bookmark.name];
    status.status = bookmark.status;
    status.retained_bytes = bookmark.retained_bytes;
    status.bytes_until_lost = bookmark.bytes_until_lost;
    if (bookmark.bytes_until_lost >= 0 && bytes_per_second > 0) {
      status.seconds_until_lost = static_cast<double>(bookmark.bytes_until_lost) / bytes_per_second;
    }
  }
  return out;
}

}  // namespace ferry::capture
