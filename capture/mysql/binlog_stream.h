// The connection side of the MySQL/MariaDB source (MariaDB Connector/C): plain SQL connections
// (over TLS when the connection string's sslmode says so; the string itself is parsed by
// common/mysql_dsn.h) for checks and information_schema, and the binary log dump
// stream (COM_BINLOG_DUMP through mariadb_rpl). Knows nothing of what events contain beyond the
// 19-byte common header; capture/mysql/binlog_decoder.h decodes them.
//
// Every error is a Status that names the server ("source MariaDB at 127.0.0.1:3306"), the call
// that failed and, where the server's error number says what to do, the fix (privileges, a
// purged position).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mysql_dsn.h"
#include "common/status.h"
#include "wire/position.h"

// Connector/C's handles, kept out of this header so that users need not see mysql.h.
struct st_mysql;
struct st_mariadb_rpl;

namespace ferry::capture::mysql {

using SqlRow = std::vector<std::optional<std::string>>;  // text values, nullopt = NULL

// One client connection. Not thread-safe, except Cancel().
class MysqlConnection {
 public:
  // Connects as `params` says (ParseMysqlDsn with MysqlDsnRole::kSource), over TLS when its
  // sslmode asks for it: then a session that is not encrypted is refused (CheckEncrypted).
  // `read_timeout_s` bounds every wait for the server (0: the library's default, none).
  // `label` names the server in messages, a failed connect's included (see set_label).
  static Result<std::unique_ptr<MysqlConnection>> Connect(
      const MysqlDsn& params, unsigned read_timeout_s, const std::string& label = "source server");
  ~MysqlConnection();
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  // Runs one statement; the rows of its result (none for statements without one).
  Result<std::vector<SqlRow>> Query(const std::string& sql);
  Status Exec(const std::string& sql);
  // The first column of the first row; nullopt when NULL or when there is no row.
  Result<std::optional<std::string>> Scalar(const std::string& sql);
  // `text` as an SQL string literal, quotes included.
  std::string Quote(std::string_view text);

  // Names the server in messages: "source MariaDB at 127.0.0.1:3306".
  void set_label(const std::string& label) { label_ = label; }
  const std::string& address() const { return address_; }
  std::string Describe() const { return label_ + " at " + address_; }
  std::string server_version() const;
  // The TLS cipher of the session as the client library has it, "" when it is not encrypted.
  std::string tls_cipher() const;

  // An error for the connection's last failure in `call` (a C API function, or the statement).
  Status LastError(const std::string& call) const;
  unsigned last_errno() const;

  // Makes a call blocked in another thread fail at once: the socket is shut down.
  void Cancel();

  st_mysql* handle() { return mysql_; }

 private:
  MysqlConnection() = default;

  st_mysql* mysql_ = nullptr;
  std::string address_;
  std::string label_ = "source server";
};

// The fix to append to a server error, by its number: privileges, password, address. Empty when
// the number says nothing more than the message.
std::string HintForServerError(unsigned error_number);

// Where a binlog dump starts.
struct DumpRequest {
  uint32_t server_id = 0;  // this reader's replica server id
  bool mariadb = true;
  // MariaDB GTID mode when set: stream the transactions after this GTID state ("" = everything
  // in the binary logs). Otherwise stream from `file` at `offset`.
  std::optional<std::string> gtid_state;
  // MySQL auto-position when set: stream every transaction not in this GTID set
  // (COM_BINLOG_DUMP_GTID, as a MySQL replica with SOURCE_AUTO_POSITION=1 does).
  std::optional<wire::MySqlGtidSet> mysql_gtid_set;
  std::string file;
  uint64_t offset = 4;
  // The server sends a HEARTBEAT event after this long without events.
  std::chrono::milliseconds heartbeat_period{1000};
};

// The payload of MySQL's COM_BINLOG_DUMP_GTID after its command byte: flags (BINLOG_THROUGH_GTID),
// server id, an empty file name and position 4 (the server finds the start from the set), and
// the set in MySQL's binary encoding (per source UUID: 16 bytes, then its intervals with
// exclusive ends), all integers little-endian.
std::string MySqlGtidDumpPayload(uint32_t server_id, const wire::MySqlGtidSet& set);

// A binlog dump on a connection of its own: COM_BINLOG_DUMP sent by mariadb_rpl_open (file and
// offset, or MariaDB GTID), or COM_BINLOG_DUMP_GTID sent here (MySQL auto-position, which
// Connector/C does not know); the events are read as raw packets (see Fetch in
// binlog_stream.cc for why not with mariadb_rpl_fetch).
class BinlogStream {
 public:
  // Sets the replica session variables the server reads at dump time (checksum, capability,
  // heartbeat period, GTID start state) and sends the dump request. Server errors about the start
  // position arrive with the first Fetch().
  static Result<std::unique_ptr<BinlogStream>> Open(std::unique_ptr<MysqlConnection> connection,
                                                    const DumpRequest& request);
  ~BinlogStream();
  BinlogStream(const BinlogStream&) = delete;
  BinlogStream& operator=(const BinlogStream&) = delete;

  // Waits for the next event: its bytes from the common header to the end (checksum included
  // when the stream has checksums), valid until the next call. An error when the connection
  // fails, the server refuses or ends the stream, or Cancel() was called.
  Result<std::string_view> Fetch();

  // Makes a Fetch() blocked in another thread return with an error. Callable from any thread.
  void Cancel();

  const MysqlConnection& connection() const { return *connection_; }

 private:
  BinlogStream() = default;
  Status FetchError() const;

  std::unique_ptr<MysqlConnection> connection_;
  st_mariadb_rpl* rpl_ = nullptr;
  std::atomic<bool> cancelled_{false};
};

// The common header every binlog event starts with.
inline constexpr size_t kEventHeaderSize = 19;

}  // namespace ferry::capture::mysql
