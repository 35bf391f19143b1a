// A libpq walsender connection (replication=database) that sets up and reads a logical
// replication stream: IDENTIFY_SYSTEM, the wal_level check, publication and slot creation,
// START_REPLICATION with pgoutput protocol version 1, and the CopyBoth message loop.
//
// Invariant (ARCHITECTURE.md #3): the flush position this stream reports to the server, which is
// what moves the slot's confirmed_flush_lsn, is only ever what Confirm() was given. The write and
// apply positions report the same value.
//
// The session asks for DateStyle=ISO, TimeZone=UTC, IntervalStyle=postgres,
// extra_float_digits=3 and bytea_output=hex, the text forms pg_values.h parses. The walsender
// runs pgoutput's output functions with these settings.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

struct pg_conn;

namespace ferry::capture::postgres {

// ---- CopyBoth message framing (no I/O; see the streaming replication protocol) --------------

// 'w': a chunk of WAL, here one pgoutput message.
struct XLogData {
  uint64_t data_start = 0;   // WAL position of the data
  uint64_t wal_end = 0;      // the server's current end of WAL
  int64_t send_time_us = 0;  // the server's clock, Unix microseconds
  std::string_view payload;  // points into the buffer the message was parsed from
};

// 'k': the server's keepalive.
struct PrimaryKeepalive {
  uint64_t wal_end = 0;
  int64_t send_time_us = 0;  // Unix microseconds
  bool reply_requested = false;
};

using CopyMessage = std::variant<XLogData, PrimaryKeepalive>;

// Parses one CopyData message from the server. Errors name the message and what is wrong.
Result<CopyMessage> ParseCopyData(std::string_view data);

// The standby status update 'r' carrying `lsn` as written, flushed and applied position, the
// client clock `now_unix_us`, and replyRequested = 0.
std::string StandbyStatusUpdate(uint64_t lsn, int64_t now_unix_us, bool reply_requested = false);

// The libpq connection parameters for an ordinary connection to `dsn` (key=value or URI) whose
// values come out as the replication stream's do: the session settings above appended to any
// `options` the DSN has, a fallback application name and a connect timeout unless the DSN sets
// one. A `replication` key in the DSN is dropped.
Result<std::vector<std::pair<std::string, std::string>>> SessionConnectParams(
    const std::string& dsn);
// The same with replication=database: the walsender connection.
Result<std::vector<std::pair<std::string, std::string>>> ReplicationConnectParams(
    const std::string& dsn);

// A libpq connection opened with `params` (one of the two above); the caller owns it (PQfinish).
// Errors read "<what>: <libpq's message>".
Result<pg_conn*> OpenConnection(const std::vector<std::pair<std::string, std::string>>& params,
                                const std::string& what);

// ---- the connection ---------------------------------------------------------------------------

// A published table whose UPDATE and DELETE the source refuses for want of a replica identity.
struct TableWithoutIdentity {
  std::string name;               // quoted as needed: public.t, "Odd"."Name"
  bool identity_nothing = false;  // REPLICA IDENTITY NOTHING (else DEFAULT without primary key)
};

// IDENTIFY_SYSTEM's answer.
struct SystemIdentity {
  std::string system_id;
  uint32_t timeline = 0;
  uint64_t wal_position = 0;
  std::string database;
};

// Whether a publication carries the origin markers (see PublishOriginMarker).
enum class OriginMarker { kPublished, kAdded, kNoSchema };

class ReplicationStream {
 public:
  static constexpr std::chrono::seconds kStatusInterval{10};

  // Opens the walsender connection (blocking, bounded by the DSN's connect_timeout).
  static Result<std::unique_ptr<ReplicationStream>> Connect(const std::string& dsn);
  ~ReplicationStream();
  ReplicationStream(const ReplicationStream&) = delete;
  ReplicationStream& operator=(const ReplicationStream&) = delete;

  // "host:port/database" for log lines.
  std::string Describe() const;

  Result<SystemIdentity> IdentifySystem();

  // Errors unless the server runs with wal_level=logical, saying how to fix it.
  Status CheckWalLevel();

  // Creates publication `name` unless it exists (an existing one is left as it is). `tables`
  // holds "schema.table", "schema.*" (every table in the schema) or bare table names; empty
  // means FOR ALL TABLES. Returns true when it created the publication.
  Result<bool> EnsurePublication(const std::string& name, const std::vector<std::string>& tables);

  // Publishes Ferry's schema ferry_meta in `publication` unless it is published already (FOR ALL
  // TABLES has it): its checkpoints table holds the origin markers that apply agents on this
  // database write (capture/origin_filter.h). Adding a schema takes a superuser.
  Result<OriginMarker> PublishOriginMarker(const std::string& publication);

  // The tables `publication` publishes that have no usable replica identity (NOTHING, or
  // DEFAULT without a primary key) while it publishes updates or deletes, by name. PostgreSQL
  // refuses UPDATE and DELETE on them; USING INDEX and FULL identities are fine.
  Result<std::vector<TableWithoutIdentity>> TablesWithoutReplicaIdentity(
      const std::string& publication);

  // Makes sure logical slot `slot` (pgoutput, this database) exists and is usable; creates it
  // when missing and `may_create`. An invalidated slot (wal_status = 'lost') is an error saying a
  // re-snapshot is needed. Returns true when it created the slot.
  Result<bool> EnsureSlot(const std::string& slot, bool may_create);

  // START_REPLICATION SLOT slot LOGICAL start_lsn with pgoutput protocol version 1. 0 starts at
  // the slot's confirmed position. After this only Read, Confirm and the destructor are valid.
  Status StartReplication(const std::string& slot, const std::string& publication,
                          uint64_t start_lsn);

  // The next message, waiting at most `timeout`; nullopt when none arrived in time. Keepalives
  // that ask for a reply are answered before they are returned, and a status update goes out
  // every kStatusInterval whether asked or not. An XLogData payload stays valid until the next
  // Read or the destructor.
  Result<std::optional<CopyMessage>> Read(std::chrono::milliseconds timeout);

  // The subscriber holds everything up to `lsn`: report it as flushed so the server may recycle
  // WAL up to there. Never moves backwards.
  Status Confirm(uint64_t lsn);
  uint64_t confirmed() const { return confirmed_lsn_; }

  // Asks the server for a keepalive now (a status update with its reply flag set): the server
  // answers at once with how far it has decoded, which otherwise it tells only every few
  // seconds, or not at all while the confirmed position is where it stands.
  Status RequestKeepalive();

 private:
  explicit ReplicationStream(pg_conn* conn) : conn_(conn) {}

  std::string Error(std::string_view context) const;  // context + libpq's last error
  Status SendStatusUpdate(bool reply_requested = false);
  Status Send(std::string_view message);
  Status FlushOutput();
  Status WaitForSocket(bool read, bool write, std::chrono::milliseconds timeout);

  pg_conn* conn_;
  std::string slot_;  // set by StartReplication, for error messages
  bool streaming_ = false;
  bool output_pending_ = false;  // libpq holds unsent bytes (non-blocking mode)
  uint64_t confirmed_lsn_ = 0;
  std::chrono::steady_clock::time_point last_status_{};
  struct LibpqFree {
    void operator()(char* p) const;
  };
  // The buffer the last XLogData payload points into; libpq allocated it.
  std::unique_ptr<char, LibpqFree> buffer_;
};

}  // namespace ferry::capture::postgres
