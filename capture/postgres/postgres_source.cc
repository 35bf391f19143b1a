#include "capture/postgres/postgres_source.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>

#include "capture/postgres/pgoutput_decoder.h"
#include "capture/postgres/replication_stream.h"
#include "common/log.h"
#include "wire/position.h"

namespace ferry::capture::postgres {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kMaxIdentifierBytes = 63;  // PostgreSQL's NAMEDATALEN - 1

std::string TablesText(const std::vector<std::string>& tables) {
  if (tables.empty()) return "ALL TABLES";
  std::string text;
  for (const std::string& table : tables) text += (text.empty() ? "" : ", ") + table;
  return text;
}

class PostgresSource final : public ChangeSource {
 public:
  explicit PostgresSource(PostgresSourceOptions options)
      : options_(std::move(options)), log_(Logger("capture.postgres")) {}
  ~PostgresSource() override { Stop(); }

  Status Start(const wire::Position& resume) override {
    Stop();
    Result<uint64_t> start_lsn = ResumeLsn(resume);
    if (!start_lsn.ok()) return start_lsn.status();
    Result<std::unique_ptr<ReplicationStream>> stream = ReplicationStream::Connect(options_.dsn);
    if (!stream.ok()) return stream.status();
    FERRY_RETURN_IF_ERROR(Prepare(**stream, /*resuming=*/!resume.engine().empty()));
    FERRY_RETURN_IF_ERROR(
        (*stream)->StartReplication(options_.slot, options_.publication, *start_lsn));
    log_->info(
        "streaming from slot {} at {}", options_.slot,
        *start_lsn == 0 ? "the slot's confirmed position" : "LSN " + wire::FormatPgLsn(*start_lsn));
    stream_ = std::move(stream).value();
    decoder_ = PgOutputDecoder();
    pending_.clear();
    return Status::Ok();
  }

  Result<SourceEvent> Next(milliseconds timeout) override {
    if (!stream_) return Status::Error("PostgreSQL source: not streaming (call Start)");
    if (!pending_.empty()) return Pop();
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
      const auto left = std::max(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()),
                                 milliseconds(0));
      Result<std::optional<CopyMessage>> message = stream_->Read(left);
      if (!message.ok()) return Fail(message.status());
      if (!message->has_value()) return SourceEvent(NoEvent{});
      if (const auto* data = std::get_if<XLogData>(&**message)) {
        Result<std::vector<SourceEvent>> events = decoder_.Decode(data->payload);
        if (!events.ok()) {
          return Fail(events.status().WithContext("decoding WAL at " +
                                                  wire::FormatPgLsn(data->data_start) +
                                                  " from slot " + options_.slot));
        }
        for (SourceEvent& event : *events) pending_.push_back(std::move(event));
        if (!pending_.empty()) return Pop();
      } else if (!decoder_.holding_begin()) {
        // A keepalive. While a Begin is held back, the agent does not yet know a transaction
        // is open, so it must not take this as an idle moment: skip it.
        const auto& keepalive = std::get<PrimaryKeepalive>(**message);
        SourceHeartbeat heartbeat;
        heartbeat.head = wire::PgPosition(keepalive.wal_end);
        heartbeat.source_time_us = keepalive.send_time_us;
        return SourceEvent(std::move(heartbeat));
      }
      if (Clock::now() >= deadline) return SourceEvent(NoEvent{});
    }
  }

  Status Confirm(const wire::Position& position) override {
    if (!stream_) return Status::Error("PostgreSQL source: not streaming (call Start)");
    if (position.engine() != wire::kEnginePostgres) {
      return Status::Error("PostgreSQL source: cannot confirm a position of engine \"" +
                           position.engine() + "\"");
    }
    Result<uint64_t> lsn = wire::ParsePgLsn(position.value());
    if (!lsn.ok()) return lsn.status().WithContext("PostgreSQL source: confirming position");
    Status status = stream_->Confirm(*lsn);
    if (!status.ok()) return Fail(status);
    return Status::Ok();
  }

  Status RequestHeartbeat() override {
    if (!stream_) return Status::Ok();
    Status status = stream_->RequestKeepalive();
    return status.ok() ? status : Fail(status);
  }

  void Stop() override {
    if (!stream_) return;
    stream_.reset();
    pending_.clear();
    log_->info("stopped streaming from slot {}", options_.slot);
  }

  std::string engine() const override { return wire::kEnginePostgres; }

 private:
  static Result<uint64_t> ResumeLsn(const wire::Position& resume) {
    if (resume.engine().empty()) return uint64_t{0};  // the slot's own confirmed position
    if (resume.engine() != wire::kEnginePostgres) {
      return Status::Error(
          "PostgreSQL source: the subscriber resumes from a position of engine \"" +
          resume.engine() + "\"; it was made by another kind of source");
    }
    Result<uint64_t> lsn = wire::ParsePgLsn(resume.value());
    if (!lsn.ok()) return lsn.status().WithContext("PostgreSQL source: resume position");
    return lsn;
  }

  // Everything before START_REPLICATION: identity, wal_level, publication and slot.
  Status Prepare(ReplicationStream& stream, bool resuming) {
    Result<SystemIdentity> identity = stream.IdentifySystem();
    if (!identity.ok()) return identity.status();
    log_->info("connected to {} (system {}, timeline {}, WAL at {})", stream.Describe(),
               identity->system_id, identity->timeline, wire::FormatPgLsn(identity->wal_position));
    FERRY_RETURN_IF_ERROR(stream.CheckWalLevel());
    Result<bool> publication = stream.EnsurePublication(options_.publication, options_.tables);
    if (!publication.ok()) return publication.status();
    if (*publication) {
      log_->info("publication {} created for {}", options_.publication,
                 TablesText(options_.tables));
    }
    PublishOriginMarker(stream);
    WarnAboutTablesWithoutIdentity(stream);
    // A subscriber that already holds changes must find its slot: a new slot would start at
    // the current end of WAL and silently skip what happened in between.
    Result<bool> slot = stream.EnsureSlot(options_.slot, /*may_create=*/!resuming);
    if (!slot.ok()) return slot.status();
    if (*slot) log_->info("slot {} created", options_.slot);
    return Status::Ok();
  }

  // Without the markers in the publication, transactions that apply agents write on this
  // database look local and would go back to where they came from (master-master). Master-slave
  // does not need them, so a failure is a warning that names the fix.
  void PublishOriginMarker(ReplicationStream& stream) {
    Result<OriginMarker> marker = stream.PublishOriginMarker(options_.publication);
    if (!marker.ok()) {
      log_->warn(
          "{}; for master-master, run ALTER PUBLICATION {} ADD TABLES IN SCHEMA ferry_meta "
          "as a superuser, or changes applied here will be sent back",
          marker.message(), options_.publication);
    } else if (*marker == OriginMarker::kAdded) {
      log_->info("publication {}: added schema ferry_meta (origins of applied transactions)",
                 options_.publication);
    } else if (*marker == OriginMarker::kNoSchema) {
      log_->info(
          "publication {} lists tables and this database has no schema ferry_meta yet; "
          "for master-master, create it (CREATE SCHEMA ferry_meta AUTHORIZATION "
          "<the apply agent's user>) before starting this agent",
          options_.publication);
    }
  }

  // Such a table's INSERTs replicate, but the source refuses its UPDATEs and DELETEs: better
  // the operator reads that here than from the application. Only advice, so a failed look-up
  // does not stop the session.
  void WarnAboutTablesWithoutIdentity(ReplicationStream& stream) {
    Result<std::vector<TableWithoutIdentity>> tables =
        stream.TablesWithoutReplicaIdentity(options_.publication);
    if (!tables.ok()) {
      log_->warn("{}", tables.message());
      return;
    }
    for (const TableWithoutIdentity& table : *tables) {
      log_->warn("{}", NoReplicaIdentityWarning(table.name, table.identity_nothing));
    }
  }

  SourceEvent Pop() {
    SourceEvent event = std::move(pending_.front());
    pending_.pop_front();
    return event;
  }

  // Errors end the stream (the interface says: call Start again).
  Status Fail(Status status) {
    stream_.reset();
    pending_.clear();
    log_->error("{}", status.message());
    return status;
  }

  PostgresSourceOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<ReplicationStream> stream_;
  PgOutputDecoder decoder_;
  // Events of one decoded message not yet returned: at most a Begin plus the message's own
  // (a Truncate has one per relation), so this stays small.
  std::deque<SourceEvent> pending_;
};

}  // namespace

std::string SanitizeIdentifier(const std::string& name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool valid = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(valid ? c : '_');
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out = "ferry_" + out;
  if (out.size() > kMaxIdentifierBytes) out.resize(kMaxIdentifierBytes);
  return out;
}

std::string SlotName(const std::string& prefix, const std::string& subscriber) {
  const std::string plain = prefix + "_" + subscriber;
  const std::string sanitized = SanitizeIdentifier(plain);
  if (sanitized == plain) return plain;
  // FNV-1a over prefix, a 0 byte and subscriber: moving bytes from one part to the other
  // changes the hash too.
  uint32_t hash = 2166136261u;
  for (unsigned char c : prefix) hash = (hash ^ c) * 16777619u;
  hash *= 16777619u;
  for (unsigned char c : subscriber) hash = (hash ^ c) * 16777619u;
  constexpr size_t kSuffixBytes = 9;  // "_" and 8 hex digits
  char suffix[kSuffixBytes + 1];
  std::snprintf(suffix, sizeof suffix, "_%08x", hash);
  return sanitized.substr(0, kMaxIdentifierBytes - kSuffixBytes) + suffix;
}

std::string NoReplicaIdentityWarning(const std::string& table, bool identity_nothing) {
  const std::string consequence =
      ": its INSERTs replicate, but UPDATE and DELETE on it fail on the source; fix: ";
  if (identity_nothing) {
    // A primary key alone does not help here: NOTHING ignores it until DEFAULT is set again.
    return "table " + table + " is published but has REPLICA IDENTITY NOTHING" + consequence +
           "ALTER TABLE " + table + " REPLICA IDENTITY FULL, or give it a primary key and ALTER " +
           "TABLE " + table + " REPLICA IDENTITY DEFAULT";
  }
  return "table " + table +
         " is published but has no primary key and REPLICA IDENTITY is not FULL" + consequence +
         "ALTER TABLE " + table + " ADD PRIMARY KEY (...) or ALTER TABLE " + table +
         " REPLICA IDENTITY FULL";
}

std::unique_ptr<ChangeSource> MakePostgresSource(PostgresSourceOptions options) {
  return std::make_unique<PostgresSource>(std::move(options));
}

}  // namespace ferry::capture::postgres
