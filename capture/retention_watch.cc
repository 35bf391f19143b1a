#include "capture/retention_watch.h"

#include "common/log.h"

namespace ferry::capture {

AcknowledgementBook::AcknowledgementBook(const std::vector<std::string>& listed_subscribers) {
  for (const std::string& id : listed_subscribers) positions_[id].subscriber = id;
}

void AcknowledgementBook::Record(const std::string& subscriber, const wire::Position& position,
                                 int64_t commit_time_us) {
  std::lock_guard lock(mutex_);
  AcknowledgedPosition& entry = positions_[subscriber];
  entry.subscriber = subscriber;
  entry.position = position;
  entry.commit_time_us = commit_time_us;
}

std::vector<AcknowledgedPosition> AcknowledgementBook::Snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<AcknowledgedPosition> out;
  for (const auto& [id, entry] : positions_) out.push_back(entry);
  return out;
}

RetentionWatch::RetentionWatch(RetentionProbe probe, const AcknowledgementBook& acknowledged,
                               std::chrono::milliseconds interval, admin::MetricsRegistry& registry)
    : probe_(std::move(probe)),
      acknowledged_(acknowledged),
      interval_(interval),
      registry_(registry) {}

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
  Result<RetentionSample> sample = probe_(acknowledged_.Snapshot());
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
    status.seconds_until_lost = bookmark.seconds_until_lost;
    if (bookmark.seconds_until_lost < 0 && bookmark.bytes_until_lost >= 0 && bytes_per_second > 0) {
      status.seconds_until_lost = static_cast<double>(bookmark.bytes_until_lost) / bytes_per_second;
    }
  }
  return out;
}

}  // namespace ferry::capture
