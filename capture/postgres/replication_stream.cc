#include "capture/postgres/replication_stream.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "capture/postgres/pg_values.h"
#include "common/log.h"
#include "common/pg_tls_hint.h"
#include "common/redact.h"
#include "wire/position.h"

namespace ferry::capture::postgres {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Output formats pg_values.h parses; see replication_stream.h.
constexpr char kSessionOptions[] =
    "-c datestyle=ISO -c timezone=UTC -c intervalstyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex";
constexpr char kDefaultConnectTimeoutSeconds[] = "10";
// SQLSTATE duplicate_object: another connection created the publication or slot first.
constexpr char kDuplicateObject[] = "42710";

// See TablesWithoutReplicaIdentity; ends where the publication's name goes, as a literal. A
// table is matched to its pg_class row by name, as pg_publication_tables gives no oid.
constexpr char kTablesWithoutIdentitySql[] =
    "SELECT pg_catalog.quote_ident(t.schemaname) || '.' || pg_catalog.quote_ident(t.tablename),"
    "       c.relreplident = 'n'"
    " FROM pg_catalog.pg_publication p"
    " JOIN pg_catalog.pg_publication_tables t ON t.pubname = p.pubname"
    " JOIN pg_catalog.pg_namespace n ON n.nspname = t.schemaname"
    " JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename"
    " WHERE (p.pubupdate OR p.pubdelete)"
    "   AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS ("
    "        SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))"
    "   AND p.pubname = ";

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string TrimRight(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetU64(std::string_view data, size_t offset) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(data[offset + i]);
  return v;
}

Result<int64_t> PgTimeToUnix(uint64_t raw, std::string_view what) {
  const auto pg_micros = static_cast<int64_t>(raw);
  if (pg_micros > std::numeric_limits<int64_t>::max() - kPgEpochUnixMicros) {
    return Status::Error(std::string(what) + ": send time out of range");
  }
  return pg_micros + kPgEpochUnixMicros;
}

int64_t NowUnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ResultPtr Run(PGconn* conn, const std::string& sql) { return ResultPtr(PQexec(conn, sql.c_str())); }

std::string ResultError(PGconn* conn, const PGresult* result) {
  std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
  if (message.empty()) message = PQerrorMessage(conn);
  if (message.empty() && result != nullptr) {
    message = std::string("unexpected result ") + PQresStatus(PQresultStatus(result));
  }
  return TrimRight(message);
}

Status Expect(PGconn* conn, const PGresult* result, ExecStatusType expected,
              std::string_view context) {
  if (result != nullptr && PQresultStatus(result) == expected) return Status::Ok();
  return Status::Error(std::string(context) + ": " + ResultError(conn, result));
}

std::string SqlState(const PGresult* result) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state != nullptr ? state : "";
}

// One text cell, or empty when the result has no such cell or it is NULL.
std::string Cell(const PGresult* result, int row, int column) {
  if (row >= PQntuples(result) || column >= PQnfields(result)) return "";
  if (PQgetisnull(result, row, column)) return "";
  return PQgetvalue(result, row, column);
}

Result<std::string> QuoteIdentifier(PGconn* conn, const std::string& name) {
  char* quoted = PQescapeIdentifier(conn, name.data(), name.size());
  if (quoted == nullptr) {
    return Status::Error("quoting identifier \"" + name + "\": " + TrimRight(PQerrorMessage(conn)));
  }
  std::string out = quoted;
  PQfreemem(quoted);
  return out;
}

Result<std::string> QuoteLiteral(PGconn* conn, const std::string& text) {
  char* quoted = PQescapeLiteral(conn, text.data(), text.size());
  if (quoted == nullptr) {
    return Status::Error("quoting literal '" + text + "': " + TrimRight(PQerrorMessage(conn)));
  }
  std::string out = quoted;
  PQfreemem(quoted);
  return out;
}

// "schema.table" -> TABLE "schema"."table"; "schema.*" -> TABLES IN SCHEMA "schema";
// "table" -> TABLE "table". Names are taken exactly as written (quoted).
Result<std::string> PublicationObject(PGconn* conn, const std::string& entry) {
  const size_t dot = entry.find('.');
  const std::string schema = dot == std::string::npos ? "" : entry.substr(0, dot);
  const std::string table = dot == std::string::npos ? entry : entry.substr(dot + 1);
  if (table.empty() || (dot != std::string::npos && schema.empty())) {
    return Status::Error("invalid table \"" + entry + "\": expected schema.table or schema.*");
  }
  if (!schema.empty()) {
    Result<std::string> quoted_schema = QuoteIdentifier(conn, schema);
    if (!quoted_schema.ok()) return quoted_schema.status();
    if (table == "*") return "TABLES IN SCHEMA " + *quoted_schema;
    Result<std::string> quoted_table = QuoteIdentifier(conn, table);
    if (!quoted_table.ok()) return quoted_table.status();
    return "TABLE " + *quoted_schema + "." + *quoted_table;
  }
  Result<std::string> quoted_table = QuoteIdentifier(conn, table);
  if (!quoted_table.ok()) return quoted_table.status();
  return "TABLE " + *quoted_table;
}

// publication_names takes a string literal holding a list of (here quoted) identifiers.
std::string PublicationNamesLiteral(const std::string& publication) {
  std::string identifier = "\"";
  for (char c : publication) {
    identifier += c;
    if (c == '"') identifier += '"';
  }
  identifier += '"';
  std::string literal = "'";
  for (char c : identifier) {
    literal += c;
    if (c == '\'') literal += '\'';
  }
  return literal + "'";
}

}  // namespace

// ---- framing ----------------------------------------------------------------------------------

Result<CopyMessage> ParseCopyData(std::string_view data) {
  if (data.empty()) return Status::Error("replication stream: empty CopyData message");
  if (data[0] == 'w') {
    constexpr size_t kHeader = 1 + 8 + 8 + 8;
    if (data.size() < kHeader) {
      return Status::Error("replication stream: XLogData message of " +
                           std::to_string(data.size()) + " bytes, shorter than its header");
    }
    XLogData x;
    x.data_start = GetU64(data, 1);
    x.wal_end = GetU64(data, 9);
    Result<int64_t> time = PgTimeToUnix(GetU64(data, 17), "replication stream: XLogData");
    if (!time.ok()) return time.status();
    x.send_time_us = *time;
    x.payload = data.substr(kHeader);
    return CopyMessage(x);
  }
  if (data[0] == 'k') {
    constexpr size_t kSize = 1 + 8 + 8 + 1;
    if (data.size() < kSize) {
      return Status::Error("replication stream: keepalive message of " +
                           std::to_string(data.size()) + " bytes, expected " +
                           std::to_string(kSize));
    }
    PrimaryKeepalive k;
    k.wal_end = GetU64(data, 1);
    Result<int64_t> time = PgTimeToUnix(GetU64(data, 9), "replication stream: keepalive");
    if (!time.ok()) return time.status();
    k.send_time_us = *time;
    k.reply_requested = data[17] != 0;
    return CopyMessage(k);
  }
  return Status::Error("replication stream: unexpected CopyData message type " +
                       std::to_string(static_cast<uint8_t>(data[0])));
}

std::string StandbyStatusUpdate(uint64_t lsn, int64_t now_unix_us, bool reply_requested) {
  std::string out(1, 'r');
  PutU64(out, lsn);  // written
  PutU64(out, lsn);  // flushed: what moves the slot's confirmed_flush_lsn
  PutU64(out, lsn);  // applied
  PutU64(out, static_cast<uint64_t>(now_unix_us - kPgEpochUnixMicros));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> SessionConnectParams(
    const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error != nullptr ? TrimRight(error) : "out of memory";
    PQfreemem(error);
    return Status::Error("invalid source DSN: " + RedactQuoted(message) + ferry::kDsnNotShown);
  }
  std::vector<std::pair<std::string, std::string>> params;
  std::string user_options;
  bool has_app_name = false, has_timeout = false;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string key = o->keyword;
    if (key == "replication") continue;  // ours decides
    if (key == "options") {
      user_options = o->val;
      continue;
    }
    has_app_name |= key == "fallback_application_name";
    has_timeout |= key == "connect_timeout";
    params.emplace_back(key, o->val);
  }
  PQconninfoFree(parsed);
  params.emplace_back("options", user_options.empty() ? std::string(kSessionOptions)
                                                      : user_options + " " + kSessionOptions);
  if (!has_app_name) params.emplace_back("fallback_application_name", "ferry");
  if (!has_timeout) params.emplace_back("connect_timeout", kDefaultConnectTimeoutSeconds);
  return params;
}

Result<std::vector<std::pair<std::string, std::string>>> ReplicationConnectParams(
    const std::string& dsn) {
  Result<std::vector<std::pair<std::string, std::string>>> params = SessionConnectParams(dsn);
  if (params.ok()) params->emplace_back("replication", "database");
  return params;
}

// ---- connection -------------------------------------------------------------------------------

void ReplicationStream::LibpqFree::operator()(char* p) const { PQfreemem(p); }

Result<PGconn*> OpenConnection(const std::vector<std::pair<std::string, std::string>>& params,
                               const std::string& what) {
  std::vector<const char*> keys, values;
  for (const auto& [key, value] : params) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn == nullptr) return Status::Error(what + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = TrimRight(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::Error(what + ": " + message + PostgresTlsHint(message));
  }
  return conn;
}

Result<std::unique_ptr<ReplicationStream>> ReplicationStream::Connect(const std::string& dsn) {
  Result<std::vector<std::pair<std::string, std::string>>> params = ReplicationConnectParams(dsn);
  if (!params.ok()) return params.status();
  Result<PGconn*> conn =
      OpenConnection(*params, "connecting to source PostgreSQL (replication=database)");
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<ReplicationStream>(new ReplicationStream(*conn));
}

ReplicationStream::~ReplicationStream() {
  buffer_.reset();
  // No farewell status update: Confirm() already sent every position as it came, and a blocking
  // flush on a dead connection could hang here.
  PQfinish(conn_);
}

std::string ReplicationStream::Describe() const {
  return std::string(PQhost(conn_)) + ":" + PQport(conn_) + "/" + PQdb(conn_) + " " +
         PostgresTlsState(PQsslAttribute(conn_, "cipher"));
}

std::string ReplicationStream::Error(std::string_view context) const {
  return std::string(context) + ": " + TrimRight(PQerrorMessage(conn_));
}

Result<SystemIdentity> ReplicationStream::IdentifySystem() {
  ResultPtr result = Run(conn_, "IDENTIFY_SYSTEM");
  FERRY_RETURN_IF_ERROR(Expect(conn_, result.get(), PGRES_TUPLES_OK, "IDENTIFY_SYSTEM"));
  if (PQntuples(result.get()) != 1 || PQnfields(result.get()) < 4) {
    return Status::Error("IDENTIFY_SYSTEM: unexpected result shape");
  }
  SystemIdentity identity;
  identity.system_id = Cell(result.get(), 0, 0);
  identity.timeline =
      static_cast<uint32_t>(std::strtoul(Cell(result.get(), 0, 1).c_str(), nullptr, 10));
  Result<uint64_t> position = wire::ParsePgLsn(Cell(result.get(), 0, 2));
  if (!position.ok()) return position.status().WithContext("IDENTIFY_SYSTEM xlogpos");
  identity.wal_position = *position;
  identity.database = Cell(result.get(), 0, 3);
  return identity;
}

Status ReplicationStream::CheckWalLevel() {
  ResultPtr result = Run(conn_, "SHOW wal_level");
  FERRY_RETURN_IF_ERROR(Expect(conn_, result.get(), PGRES_TUPLES_OK, "SHOW wal_level"));
  const std::string level = Cell(result.get(), 0, 0);
  if (level == "logical") return Status::Ok();
  return Status::Error("source PostgreSQL has wal_level=" + level +
                       "; set wal_level=logical in postgresql.conf and restart");
}

Result<bool> ReplicationStream::EnsurePublication(const std::string& name,
                                                  const std::vector<std::string>& tables) {
  const std::string context = "publication " + name;
  Result<std::string> literal = QuoteLiteral(conn_, name);
  if (!literal.ok()) return literal.status();
  ResultPtr found =
      Run(conn_, "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = " + *literal);
  FERRY_RETURN_IF_ERROR(Expect(conn_, found.get(), PGRES_TUPLES_OK, "looking up " + context));
  if (PQntuples(found.get()) > 0) return false;

  Result<std::string> identifier = QuoteIdentifier(conn_, name);
  if (!identifier.ok()) return identifier.status();
  std::string sql = "CREATE PUBLICATION " + *identifier;
  if (tables.empty()) {
    sql += " FOR ALL TABLES";
  } else {
    for (size_t i = 0; i < tables.size(); ++i) {
      Result<std::string> object = PublicationObject(conn_, tables[i]);
      if (!object.ok()) return object.status().WithContext("creating " + context);
      sql += (i == 0 ? " FOR " : ", ") + *object;
    }
  }
  ResultPtr created = Run(conn_, sql);
  if (SqlState(created.get()) == kDuplicateObject) return false;  // created concurrently
  FERRY_RETURN_IF_ERROR(Expect(conn_, created.get(), PGRES_COMMAND_OK, "creating " + context));
  return true;
}

// By schema rather than by table: the apply agent may create its tables after this runs, and a
// schema in a publication covers tables created in it later.
Result<OriginMarker> ReplicationStream::PublishOriginMarker(const std::string& publication) {
  const std::string context = "adding schema ferry_meta to publication " + publication;
  Result<std::string> literal = QuoteLiteral(conn_, publication);
  if (!literal.ok()) return literal.status().WithContext(context);
  ResultPtr found =
      Run(conn_,
          "SELECT p.puballtables OR EXISTS (SELECT 1 FROM pg_catalog.pg_publication_namespace pn"
          " JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid"
          " WHERE pn.pnpubid = p.oid AND n.nspname = 'ferry_meta'),"
          " EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'ferry_meta')"
          " FROM pg_catalog.pg_publication p WHERE p.pubname = " +
              *literal);
  FERRY_RETURN_IF_ERROR(Expect(conn_, found.get(), PGRES_TUPLES_OK, context));
  if (PQntuples(found.get()) == 0) return Status::Error(context + ": no such publication");
  if (Cell(found.get(), 0, 0) == "t") return OriginMarker::kPublished;
  if (Cell(found.get(), 0, 1) != "t") return OriginMarker::kNoSchema;
  Result<std::string> identifier = QuoteIdentifier(conn_, publication);
  if (!identifier.ok()) return identifier.status().WithContext(context);
  ResultPtr added =
      Run(conn_, "ALTER PUBLICATION " + *identifier + " ADD TABLES IN SCHEMA ferry_meta");
  FERRY_RETURN_IF_ERROR(Expect(conn_, added.get(), PGRES_COMMAND_OK, context));
  return OriginMarker::kAdded;
}

Result<std::vector<TableWithoutIdentity>> ReplicationStream::TablesWithoutReplicaIdentity(
    const std::string& publication) {
  const std::string context = "looking up the replica identities of publication " + publication;
  Result<std::string> literal = QuoteLiteral(conn_, publication);
  if (!literal.ok()) return literal.status().WithContext(context);
  ResultPtr result = Run(conn_, kTablesWithoutIdentitySql + *literal + " ORDER BY 1");
  FERRY_RETURN_IF_ERROR(Expect(conn_, result.get(), PGRES_TUPLES_OK, context));
  std::vector<TableWithoutIdentity> tables;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    tables.push_back({Cell(result.get(), row, 0), Cell(result.get(), row, 1) == "t"});
  }
  return tables;
}

Result<bool> ReplicationStream::EnsureSlot(const std::string& slot, bool may_create) {
  const std::string context = "replication slot " + slot;
  Result<std::string> literal = QuoteLiteral(conn_, slot);
  if (!literal.ok()) return literal.status();
  ResultPtr found = Run(conn_,
                        "SELECT slot_type, plugin, database = pg_catalog.current_database(), "
                        "wal_status FROM pg_catalog.pg_replication_slots WHERE slot_name = " +
                            *literal);
  FERRY_RETURN_IF_ERROR(Expect(conn_, found.get(), PGRES_TUPLES_OK, "looking up " + context));

  if (PQntuples(found.get()) == 0) {
    if (!may_create) {
      return Status::Error(
          context +
          " does not exist, but the subscriber resumes from a position it already holds: the "
          "source has not kept the changes since then (was the slot dropped?). Re-snapshot the "
          "target and clear its checkpoint; Ferry then creates a new slot");
    }
    Result<std::string> identifier = QuoteIdentifier(conn_, slot);
    if (!identifier.ok()) return identifier.status();
    ResultPtr created = Run(
        conn_, "CREATE_REPLICATION_SLOT " + *identifier + " LOGICAL pgoutput NOEXPORT_SNAPSHOT");
    if (SqlState(created.get()) == kDuplicateObject) return false;  // created concurrently
    FERRY_RETURN_IF_ERROR(Expect(conn_, created.get(), PGRES_TUPLES_OK, "creating " + context));
    return true;
  }

  const std::string type = Cell(found.get(), 0, 0), plugin = Cell(found.get(), 0, 1),
                    same_database = Cell(found.get(), 0, 2), wal_status = Cell(found.get(), 0, 3);
  if (type != "logical" || plugin != "pgoutput") {
    return Status::Error(context + " is a " + type + " slot with plugin '" + plugin +
                         "'; Ferry needs a logical pgoutput slot: drop it or use another name");
  }
  if (same_database != "t") {
    return Status::Error(context + " belongs to another database than " + PQdb(conn_) +
                         "; point the DSN at the slot's database or use another slot name");
  }
  if (wal_status == "lost") {
    return Status::Error(
        context +
        " is invalidated (wal_status=lost): the server removed WAL it still needed (see "
        "max_slot_wal_keep_size), so changes are gone. A re-snapshot is needed: re-snapshot the "
        "target, drop the slot (SELECT pg_drop_replication_slot('" +
        slot + "')), clear the target's checkpoint and start again");
  }
  if (wal_status == "unreserved") {
    Logger("capture.postgres")
        ->warn(
            "{} is about to lose WAL it needs (wal_status=unreserved); the subscriber is too "
            "far behind for max_slot_wal_keep_size",
            context);
  }
  return false;
}

Status ReplicationStream::StartReplication(const std::string& slot, const std::string& publication,
                                           uint64_t start_lsn) {
  const std::string context = "START_REPLICATION on slot " + slot;
  Result<std::string> identifier = QuoteIdentifier(conn_, slot);
  if (!identifier.ok()) return identifier.status().WithContext(context);
  const std::string sql = "START_REPLICATION SLOT " + *identifier + " LOGICAL " +
                          wire::FormatPgLsn(start_lsn) + " (proto_version '1', publication_names " +
                          PublicationNamesLiteral(publication) + ")";
  ResultPtr result = Run(conn_, sql);
  FERRY_RETURN_IF_ERROR(Expect(conn_, result.get(), PGRES_COPY_BOTH, context));
  // Reads poll the socket; writes must not block either, or a stalled server could hang us.
  if (PQsetnonblocking(conn_, 1) != 0) return Status::Error(Error(context + ": non-blocking mode"));
  slot_ = slot;
  streaming_ = true;
  last_status_ = Clock::now();
  return Status::Ok();
}

Result<std::optional<CopyMessage>> ReplicationStream::Read(milliseconds timeout) {
  if (!streaming_) return Status::Error("replication stream: Read before START_REPLICATION");
  buffer_.reset();
  const Clock::time_point deadline = Clock::now() + timeout;
  const std::string context = "reading replication stream of slot " + slot_;
  bool took_in_input = false;
  for (;;) {
    if (Clock::now() - last_status_ >= kStatusInterval) FERRY_RETURN_IF_ERROR(SendStatusUpdate());
    if (output_pending_) FERRY_RETURN_IF_ERROR(FlushOutput());

    char* data = nullptr;
    const int length = PQgetCopyData(conn_, &data, /*async=*/1);
    if (length > 0) {
      buffer_.reset(data);
      Result<CopyMessage> message = ParseCopyData(std::string_view(data, length));
      if (!message.ok()) return message.status().WithContext(context);
      const auto* keepalive = std::get_if<PrimaryKeepalive>(&*message);
      if (keepalive != nullptr && keepalive->reply_requested) {
        FERRY_RETURN_IF_ERROR(SendStatusUpdate());
      }
      return std::optional<CopyMessage>(*message);
    }
    if (length == -2) return Status::Error(Error(context));
    if (length == -1) {
      // The server ended the COPY: its reason is in the final result.
      ResultPtr result(PQgetResult(conn_));
      streaming_ = false;
      return Status::Error(context +
                           ": the server ended the stream: " + ResultError(conn_, result.get()));
    }

    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      // Even a zero timeout takes in what the socket already holds, once: else a caller that
      // polls without waiting would never see a message arrive.
      if (took_in_input) return std::optional<CopyMessage>();
      took_in_input = true;
      if (PQconsumeInput(conn_) == 0) return Status::Error(Error(context));
      continue;
    }
    const Clock::time_point wake = std::min(deadline, last_status_ + kStatusInterval);
    const auto wait = std::chrono::ceil<milliseconds>(std::max(wake - now, Clock::duration{}));
    FERRY_RETURN_IF_ERROR(WaitForSocket(/*read=*/true, output_pending_, wait));
    if (PQconsumeInput(conn_) == 0) return Status::Error(Error(context));
  }
}

Status ReplicationStream::Confirm(uint64_t lsn) {
  confirmed_lsn_ = std::max(confirmed_lsn_, lsn);
  if (!streaming_) return Status::Ok();
  return SendStatusUpdate();
}

Status ReplicationStream::RequestKeepalive() {
  if (!streaming_) return Status::Ok();
  return SendStatusUpdate(/*reply_requested=*/true);
}

Status ReplicationStream::SendStatusUpdate(bool reply_requested) {
  last_status_ = Clock::now();
  return Send(StandbyStatusUpdate(confirmed_lsn_, NowUnixMicros(), reply_requested))
      .WithContext("sending standby status update on slot " + slot_);
}

Status ReplicationStream::Send(std::string_view message) {
  // A full output buffer (non-blocking mode) returns 0: flush and retry, within bounds.
  const Clock::time_point deadline = Clock::now() + kStatusInterval;
  for (;;) {
    const int sent = PQputCopyData(conn_, message.data(), static_cast<int>(message.size()));
    if (sent == 1) break;
    if (sent < 0) return Status::Error(Error("queueing CopyData"));
    if (Clock::now() >= deadline) return Status::Error("the server is not reading (send timeout)");
    FERRY_RETURN_IF_ERROR(WaitForSocket(/*read=*/false, /*write=*/true, milliseconds(100)));
    FERRY_RETURN_IF_ERROR(FlushOutput());
  }
  return FlushOutput();
}

Status ReplicationStream::FlushOutput() {
  const int result = PQflush(conn_);
  if (result < 0) return Status::Error(Error("sending to the server"));
  output_pending_ = result == 1;
  return Status::Ok();
}

Status ReplicationStream::WaitForSocket(bool read, bool write, milliseconds timeout) {
  pollfd fd{};
  fd.fd = PQsocket(conn_);
  if (fd.fd < 0) return Status::Error("replication stream: connection has no socket");
  fd.events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
  const int wait_ms = static_cast<int>(std::min<int64_t>(timeout.count(), 60'000));
  const int ready = poll(&fd, 1, wait_ms);
  if (ready < 0 && errno != EINTR) {
    return Status::Error(std::string("replication stream: poll: ") + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace ferry::capture::postgres
