#include "capture/mysql/binlog_stream.h"

// mysql.h must come before mariadb_rpl.h, which uses its types.
// clang-format off
#include <mysql.h>
#include <mariadb_rpl.h>
// clang-format on

#include <cctype>

namespace ferry::capture::mysql {
namespace {

// Server error numbers (include/mysqld_error.h) that call for a hint.
constexpr unsigned kErrDbAccessDenied = 1044;
constexpr unsigned kErrAccessDenied = 1045;
constexpr unsigned kErrTableAccessDenied = 1142;
constexpr unsigned kErrColumnAccessDenied = 1143;
constexpr unsigned kErrSpecificAccessDenied = 1227;
constexpr unsigned kErrConnectionRefused = 2002;  // CR_CONNECTION_ERROR
constexpr unsigned kErrUnknownHost = 2005;        // CR_UNKNOWN_HOST
constexpr unsigned kErrHostUnreachable = 2003;    // CR_CONN_HOST_ERROR

// Events can be as large as the server's max_allowed_packet (at most 1 GiB).
constexpr size_t kMaxPacketBytes = size_t{1} << 30;

// MySQL's command byte for a GTID dump, and its flag saying the GTID set follows.
constexpr unsigned kComBinlogDumpGtid = 0x1e;
constexpr uint16_t kBinlogThroughGtid = 0x04;

// The dsn's TLS keys as Connector/C options. MYSQL_OPT_SSL_ENFORCE asks for TLS; a CA makes
// Connector/C check the server's chain against it; MYSQL_OPT_SSL_VERIFY_SERVER_CERT also checks
// the host name (against the system's trusted CAs when no CA is given) and refuses a server
// without TLS before logging in. Connector/C 3.3 goes on in clear text without it: Connect checks.
void SetTlsOptions(MYSQL* mysql, const MysqlTls& tls) {
  if (!tls.enabled()) return;
  my_bool on = 1;
  mysql_optionsv(mysql, MYSQL_OPT_SSL_ENFORCE, &on);
  if (!tls.root_cert.empty()) mysql_optionsv(mysql, MYSQL_OPT_SSL_CA, tls.root_cert.c_str());
  if (!tls.cert.empty()) {
    mysql_optionsv(mysql, MYSQL_OPT_SSL_CERT, tls.cert.c_str());
    mysql_optionsv(mysql, MYSQL_OPT_SSL_KEY, tls.key.c_str());
  }
  if (tls.mode == SslMode::kVerifyFull) {
    mysql_optionsv(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
  }
}

void AppendLittleEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// "3e11fa47-71ca-11e1-9e33-c80aa9429562" as its 16 bytes (the set holds canonical UUIDs).
void AppendUuidBytes(std::string& out, const std::string& uuid) {
  int high = -1;
  for (char c : uuid) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) continue;
    const int nibble =
        std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10;
    if (high < 0) {
      high = nibble;
    } else {
      out.push_back(static_cast<char>(high << 4 | nibble));
      high = -1;
    }
  }
}

// MySQL auto-position: Connector/C has no call for COM_BINLOG_DUMP_GTID, so the command goes
// through the connection's own command method, without waiting for a reply (the events are it).
Status SendMySqlGtidDump(MysqlConnection& conn, const DumpRequest& request) {
  const std::string payload = MySqlGtidDumpPayload(request.server_id, *request.mysql_gtid_set);
  MYSQL* mysql = conn.handle();
  if (mysql->methods->db_command(mysql, static_cast<enum_server_command>(kComBinlogDumpGtid),
                                 payload.data(), payload.size(), /*skip_check=*/1, nullptr) != 0) {
    return conn.LastError("COM_BINLOG_DUMP_GTID");
  }
  return Status::Ok();
}

}  // namespace

std::string HintForServerError(unsigned error_number) {
  switch (error_number) {
    case kErrAccessDenied:
      return "; check user and password in the source's dsn";
    case kErrDbAccessDenied:
    case kErrTableAccessDenied:
    case kErrColumnAccessDenied:
    case kErrSpecificAccessDenied:
      return "; Ferry's user needs REPLICATION SLAVE, REPLICATION CLIENT (MariaDB 10.5+: also "
             "BINLOG MONITOR) and SELECT: GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT "
             "ON *.* TO '<user>'@'<host>'";
    case kErrConnectionRefused:
    case kErrHostUnreachable:
    case kErrUnknownHost:
      return "; check host and port in the source's dsn and that the server is running";
    default:
      return "";
  }
}

Result<std::unique_ptr<MysqlConnection>> MysqlConnection::Connect(const MysqlDsn& params,
                                                                  unsigned read_timeout_s,
                                                                  const std::string& label) {
  std::unique_ptr<MysqlConnection> connection(new MysqlConnection());
  connection->label_ = label;
  connection->address_ = params.address();
  FERRY_RETURN_IF_ERROR(CheckTlsFiles(params.tls).WithContext(connection->Describe()));
  connection->mysql_ = mysql_init(nullptr);
  if (connection->mysql_ == nullptr) {
    return Status::Error("mysql_init failed for " + connection->address_ + ": out of memory");
  }
  MYSQL* mysql = connection->mysql_;
  unsigned connect_timeout = params.connect_timeout_s;
  mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  if (read_timeout_s > 0) {
    mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout_s);
    mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout_s);
  }
  size_t max_packet = kMaxPacketBytes;
  mysql_optionsv(mysql, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  SetTlsOptions(mysql, params.tls);
  const char* password = params.password ? params.password->c_str() : nullptr;
  const char* database = params.dbname.empty() ? nullptr : params.dbname.c_str();
  const char* socket = params.socket.empty() ? nullptr : params.socket.c_str();
  if (mysql_real_connect(mysql, params.host.c_str(), params.user.c_str(), password, database,
                         params.port, socket, 0) == nullptr) {
    const Status error = connection->LastError("mysql_real_connect");
    return Status::Error(error.message() +
                         TlsConnectHint(mysql_errno(mysql), mysql_error(mysql), params.tls));
  }
  FERRY_RETURN_IF_ERROR(CheckEncrypted(!connection->tls_cipher().empty(), params.tls)
                            .WithContext(connection->Describe()));
  return connection;
}

MysqlConnection::~MysqlConnection() {
  if (mysql_ != nullptr) mysql_close(mysql_);
}

Result<std::vector<SqlRow>> MysqlConnection::Query(const std::string& sql) {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return LastError(sql);
  std::vector<SqlRow> rows;
  MYSQL_RES* result = mysql_store_result(mysql_);
  if (result == nullptr) {
    if (mysql_field_count(mysql_) != 0) return LastError(sql);
    return rows;
  }
  const unsigned fields = mysql_num_fields(result);
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    const unsigned long* lengths = mysql_fetch_lengths(result);
    SqlRow out;
    out.reserve(fields);
    for (unsigned i = 0; i < fields; ++i) {
      if (row[i] == nullptr) {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::string(row[i], lengths[i]));
      }
    }
    rows.push_back(std::move(out));
  }
  mysql_free_result(result);
  return rows;
}

Status MysqlConnection::Exec(const std::string& sql) {
  Result<std::vector<SqlRow>> rows = Query(sql);
  return rows.ok() ? Status::Ok() : rows.status();
}

Result<std::optional<std::string>> MysqlConnection::Scalar(const std::string& sql) {
  Result<std::vector<SqlRow>> rows = Query(sql);
  if (!rows.ok()) return rows.status();
  if (rows->empty() || rows->front().empty()) return std::optional<std::string>();
  return rows->front().front();
}

std::string MysqlConnection::Quote(std::string_view text) {
  std::string out(text.size() * 2 + 3, '\0');
  out[0] = '\'';
  unsigned long length = mysql_real_escape_string(mysql_, out.data() + 1, text.data(), text.size());
  out.resize(length + 1);
  out.push_back('\'');
  return out;
}

std::string MysqlConnection::server_version() const { return mysql_get_server_info(mysql_); }

std::string MysqlConnection::tls_cipher() const {
  const char* cipher = mysql_get_ssl_cipher(mysql_);
  return cipher == nullptr ? "" : cipher;
}

unsigned MysqlConnection::last_errno() const { return mysql_errno(mysql_); }

Status MysqlConnection::LastError(const std::string& call) const {
  const unsigned number = mysql_errno(mysql_);
  std::string what = call.size() > 200 ? call.substr(0, 200) + "..." : call;
  return Status::Error(Describe() + ": " + what + ": " + mysql_error(mysql_) + " (error " +
                       std::to_string(number) + ")" + HintForServerError(number));
}

void MysqlConnection::Cancel() { mariadb_cancel(mysql_); }

Result<std::unique_ptr<BinlogStream>> BinlogStream::Open(
    std::unique_ptr<MysqlConnection> connection, const DumpRequest& request) {
  std::unique_ptr<BinlogStream> stream(new BinlogStream());
  MysqlConnection& conn = *connection;
  stream->connection_ = std::move(connection);
  const int64_t heartbeat_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(request.heartbeat_period).count();
  // The server sends events with the checksums of its log only to a reader that says it can
  // check them; the decoder can, whatever the algorithm.
  std::vector<std::string> settings = {
      "SET @master_binlog_checksum = @@global.binlog_checksum",
      "SET @master_heartbeat_period = " + std::to_string(heartbeat_ns),
  };
  if (request.mariadb) {
    // Capability 4 (MARIA_SLAVE_CAPABILITY_GTID): the server sends GTID events as they are,
    // instead of rewriting them into BEGIN queries for old replicas.
    settings.push_back("SET @mariadb_slave_capability = 4");
    if (request.gtid_state) {
      // Setting the connect state switches the dump to GTID mode; strict mode makes a state the
      // server cannot serve exactly an error instead of a start somewhere near it.
      settings.push_back("SET @slave_connect_state = " + conn.Quote(*request.gtid_state));
      settings.push_back("SET @slave_gtid_strict_mode = 1");
    }
  }
  for (const std::string& sql : settings) FERRY_RETURN_IF_ERROR(conn.Exec(sql));
  if (request.mysql_gtid_set) {
    FERRY_RETURN_IF_ERROR(SendMySqlGtidDump(conn, request));
    return stream;
  }

  stream->rpl_ = mariadb_rpl_init(conn.handle());
  if (stream->rpl_ == nullptr) return conn.LastError("mariadb_rpl_init");
  const std::string file = request.gtid_state ? std::string() : request.file;
  const unsigned long start = request.gtid_state ? 4 : static_cast<unsigned long>(request.offset);
  if (mariadb_rpl_optionsv(stream->rpl_, MARIADB_RPL_SERVER_ID,
                           static_cast<unsigned>(request.server_id)) != 0 ||
      mariadb_rpl_optionsv(stream->rpl_, MARIADB_RPL_FILENAME,
                           file.empty() ? nullptr : file.c_str(), file.size()) != 0 ||
      mariadb_rpl_optionsv(stream->rpl_, MARIADB_RPL_START, start) != 0 ||
      mariadb_rpl_optionsv(stream->rpl_, MARIADB_RPL_FLAGS, 0u) != 0) {
    return Status::Error(conn.Describe() + ": mariadb_rpl_optionsv failed");
  }
  if (mariadb_rpl_open(stream->rpl_) != 0) return conn.LastError("mariadb_rpl_open");
  return stream;
}

std::string MySqlGtidDumpPayload(uint32_t server_id, const wire::MySqlGtidSet& set) {
  std::string sids;
  AppendLittleEndian(sids, set.size(), 8);
  for (const auto& [uuid, intervals] : set) {
    AppendUuidBytes(sids, uuid);
    AppendLittleEndian(sids, intervals.size(), 8);
    for (const auto& [first, last] : intervals) {
      AppendLittleEndian(sids, first, 8);
      AppendLittleEndian(sids, last + 1, 8);  // MySQL's intervals end exclusively
    }
  }
  std::string payload;
  AppendLittleEndian(payload, kBinlogThroughGtid, 2);
  AppendLittleEndian(payload, server_id, 4);
  AppendLittleEndian(payload, 0, 4);  // no file name: the set says where to start
  AppendLittleEndian(payload, 4, 8);  // the first event after the magic bytes
  AppendLittleEndian(payload, sids.size(), 4);
  return payload + sids;
}

BinlogStream::~BinlogStream() {
  if (rpl_ != nullptr) mariadb_rpl_close(rpl_);
}

// The packets are read here rather than through mariadb_rpl_fetch, which parses every event
// itself before handing over the bytes and refuses some that the decoder reads fine: in
// Connector/C 3.3 it reports "Malformed packet" for every compressed ROWS event of a server with
// binlog_checksum=NONE (its bounds check counts the checksum it does not have), and an error for
// event types it does not know, like MySQL 8's TRANSACTION_PAYLOAD. The decoder needs only the
// bytes.
Result<std::string_view> BinlogStream::Fetch() {
  MYSQL* mysql = connection_->handle();
  const unsigned long length = mysql_net_read_packet(mysql);
  if (length == packet_error) return FetchError();
  const unsigned char* packet = mysql->net.read_pos;
  // An EOF packet (0xFE, shorter than 9 bytes): the server ended the dump.
  if (length < 9 && length > 0 && packet[0] == 0xFE) {
    return Status::Error(connection_->Describe() + ": the server ended the binlog stream");
  }
  // Each event comes after a status byte 0x00 (no semi-synchronous replication was asked for, so
  // no semi-sync header follows it).
  if (length < 1 + kEventHeaderSize || packet[0] != 0x00) {
    return Status::Error(connection_->Describe() + ": the binlog stream sent a packet of " +
                         std::to_string(length) + " bytes starting with " +
                         std::to_string(length > 0 ? packet[0] : 0) +
                         ", not a status byte 0 and an event");
  }
  return std::string_view(reinterpret_cast<const char*>(packet) + 1, length - 1);
}

Status BinlogStream::FetchError() const {
  if (cancelled_) return Status::Error(connection_->Describe() + ": binlog stream stopped");
  return connection_->LastError("reading the binlog stream");
}

void BinlogStream::Cancel() {
  cancelled_ = true;
  connection_->Cancel();
}

}  // namespace ferry::capture::mysql
