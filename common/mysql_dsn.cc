#include "common/mysql_dsn.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "common/dsn.h"
#include "common/redact.h"

namespace ferry {
namespace {

// MariaDB Connector/C's error for any failure of the TLS handshake or its checks.
constexpr unsigned kCrSslConnectionError = 2026;
constexpr unsigned kMaxTimeoutS = 86400;

// What to do about a server that offers no TLS.
constexpr char kServerWithoutTlsFix[] =
    "give the server a certificate (ssl_cert and ssl_key in its my.cnf), or set sslmode=disable "
    "in the dsn on a network you trust";

std::string RoleContext(MysqlDsnRole role) {
  return role == MysqlDsnRole::kTarget ? "target dsn" : "MySQL/MariaDB connection string";
}

std::string KnownKeys(MysqlDsnRole role) {
  std::string keys = "host, port, user, password, dbname, socket, connect_timeout, ";
  if (role == MysqlDsnRole::kTarget) keys += "read_timeout, write_timeout, ";
  return keys + "sslmode, sslrootcert, sslcert, sslkey";
}

// A whole number up to `max`. The value is not shown: an unquoted password with a space could
// leave its second half behind a key this parser knows ("password=top port=secret").
Result<unsigned> Number(const DsnPair& pair, unsigned max) {
  unsigned number = 0;
  const char* end = pair.value.data() + pair.value.size();
  auto [stop, error] = std::from_chars(pair.value.data(), end, number);
  if (error != std::errc() || stop != end || number > max) {
    return Status::Error(pair.key + " must be a whole number from 0 to " + std::to_string(max) +
                         std::string(kDsnNotShown));
  }
  return number;
}

Result<SslMode> ParseSslMode(const std::string& value) {
  for (SslMode mode :
       {SslMode::kDisable, SslMode::kRequire, SslMode::kVerifyCa, SslMode::kVerifyFull}) {
    if (value == SslModeName(mode)) return mode;
  }
  return Status::Error(
      "sslmode must be disable, require, verify-ca or verify-full (libpq's prefer and allow are "
      "not supported: they fall back to a clear connection without saying so)" +
      std::string(kDsnNotShown));
}

// Each Set*Key sets `pair` when its key is one of its group's: the outcome, or nullopt when the
// key is another group's.
std::optional<Status> SetConnectionKey(const DsnPair& pair, MysqlDsn& dsn) {
  const std::string& key = pair.key;
  if (key == "host") {
    dsn.host = pair.value;
  } else if (key == "port") {
    Result<unsigned> port = Number(pair, 65535);
    if (!port.ok()) return port.status();
    dsn.port = static_cast<uint16_t>(*port);
  } else if (key == "user") {
    dsn.user = pair.value;
  } else if (key == "password") {
    dsn.password = pair.value;
  } else if (key == "dbname" || key == "database") {
    dsn.dbname = pair.value;
  } else if (key == "socket") {
    dsn.socket = pair.value;
  } else if (key == "connect_timeout") {
    Result<unsigned> seconds = Number(pair, kMaxTimeoutS);
    if (!seconds.ok()) return seconds.status();
    dsn.connect_timeout_s = *seconds;
  } else {
    return std::nullopt;
  }
  return Status::Ok();
}

std::optional<Status> SetTargetKey(const DsnPair& pair, MysqlDsn& dsn) {
  if (pair.key != "read_timeout" && pair.key != "write_timeout") return std::nullopt;
  Result<unsigned> seconds = Number(pair, kMaxTimeoutS);
  if (!seconds.ok()) return seconds.status();
  (pair.key == "read_timeout" ? dsn.read_timeout_s : dsn.write_timeout_s) = *seconds;
  return Status::Ok();
}

std::optional<Status> SetTlsKey(const DsnPair& pair, MysqlTls& tls) {
  if (pair.key == "sslmode") {
    Result<SslMode> mode = ParseSslMode(pair.value);
    if (!mode.ok()) return mode.status();
    tls.mode = *mode;
  } else if (pair.key == "sslrootcert") {
    // libpq's keyword for the system's trusted CAs.
    tls.system_roots = pair.value == "system";
    tls.root_cert = tls.system_roots ? "" : pair.value;
  } else if (pair.key == "sslcert") {
    tls.cert = pair.value;
  } else if (pair.key == "sslkey") {
    tls.key = pair.value;
  } else {
    return std::nullopt;
  }
  return Status::Ok();
}

Status SetKey(const DsnPair& pair, MysqlDsnRole role, MysqlDsn& dsn) {
  if (std::optional<Status> set = SetConnectionKey(pair, dsn)) return *set;
  if (std::optional<Status> set = SetTlsKey(pair, dsn.tls)) return *set;
  if (role == MysqlDsnRole::kTarget) {
    if (std::optional<Status> set = SetTargetKey(pair, dsn)) return *set;
  }
  // Not quoted back: with an unquoted password holding a space and '=', this "key" is part of
  // the password.
  return Status::Error("an unknown key (known: " + KnownKeys(role) +
                       "; quote values that hold spaces, password='...')" +
                       std::string(kDsnNotShown));
}

// The first TLS file key set, for a message about TLS keys given without TLS.
const char* FirstFileKey(const MysqlTls& tls) {
  if (!tls.root_cert.empty() || tls.system_roots) return "sslrootcert";
  if (!tls.cert.empty()) return "sslcert";
  if (!tls.key.empty()) return "sslkey";
  return nullptr;
}

// The invariant of MysqlTls.
Status CheckTlsKeys(const MysqlTls& tls) {
  if (!tls.enabled()) {
    if (const char* key = FirstFileKey(tls)) {
      return Status::Error(std::string(key) +
                           " is set but sslmode is disable (its default): set sslmode=verify-full "
                           "(or verify-ca, require) to connect over TLS");
    }
    return Status::Ok();
  }
  if (tls.cert.empty() != tls.key.empty()) {
    return Status::Error(
        "sslcert and sslkey go together: give both (the client certificate and its key) or "
        "neither");
  }
  const bool verifies = tls.mode == SslMode::kVerifyCa || tls.mode == SslMode::kVerifyFull;
  if (verifies && tls.root_cert.empty() && !tls.system_roots) {
    return Status::Error("sslmode=" + std::string(SslModeName(tls.mode)) +
                         " needs sslrootcert: the file of the CA that signed the server's "
                         "certificate" +
                         (tls.mode == SslMode::kVerifyFull
                              ? " (or sslrootcert=system for the system's trusted CAs)"
                              : ""));
  }
  if (tls.system_roots && tls.mode != SslMode::kVerifyFull) {
    return Status::Error(
        "sslrootcert=system needs sslmode=verify-full: without the host name check, a "
        "certificate any public CA issued to anyone would pass");
  }
  return Status::Ok();
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

std::string_view SslModeName(SslMode mode) {
  switch (mode) {
    case SslMode::kDisable:
      return "disable";
    case SslMode::kRequire:
      return "require";
    case SslMode::kVerifyCa:
      return "verify-ca";
    case SslMode::kVerifyFull:
      return "verify-full";
  }
  return "disable";
}

std::string MysqlDsn::address() const {
  return socket.empty() ? host + ":" + std::to_string(port) : socket;
}

Result<MysqlDsn> ParseMysqlDsn(std::string_view text, MysqlDsnRole role) {
  const std::string context = RoleContext(role);
  Result<std::vector<DsnPair>> pairs = SplitDsn(text);
  if (!pairs.ok()) return pairs.status().WithContext(context);
  MysqlDsn dsn;
  for (const DsnPair& pair : *pairs) {
    Status set = SetKey(pair, role, dsn);
    if (!set.ok()) return set.WithContext(context);
  }
  Status tls = CheckTlsKeys(dsn.tls);
  if (!tls.ok()) return tls.WithContext(context);
  if (role == MysqlDsnRole::kSource && dsn.user.empty()) {
    return Status::Error(context + ": no user= given: name the replication user (user=ferry)");
  }
  return dsn;
}

Status CheckTlsFiles(const MysqlTls& tls) {
  const std::vector<std::pair<const char*, const std::string*>> files = {
      {"sslrootcert", &tls.root_cert}, {"sslcert", &tls.cert}, {"sslkey", &tls.key}};
  for (const auto& [key, path] : files) {
    if (path->empty()) continue;
    std::FILE* file = std::fopen(path->c_str(), "rb");
    if (file == nullptr) {
      return Status::Error("the file " + std::string(key) +
                           " names in the dsn cannot be read: " + std::strerror(errno));
    }
    std::fclose(file);
  }
  return Status::Ok();
}

Status CheckEncrypted(bool encrypted, const MysqlTls& tls) {
  if (encrypted || !tls.enabled()) return Status::Ok();
  return Status::Error("sslmode=" + std::string(SslModeName(tls.mode)) +
                       ", but the server did not encrypt the connection (it offers no TLS): " +
                       kServerWithoutTlsFix);
}

std::string TlsConnectHint(unsigned error_number, std::string_view client_message,
                           const MysqlTls& tls) {
  if (!tls.enabled() || error_number != kCrSslConnectionError) return "";
  if (Contains(client_message, "server does not support it")) {
    return std::string("; the server offers no TLS: ") + kServerWithoutTlsFix;
  }
  if (Contains(client_message, "Validation of SSL server certificate failed")) {
    return "; the server's certificate does not carry the name in host= (sslmode=verify-full): "
           "connect by a name or address the certificate carries, or check only the CA with "
           "sslmode=verify-ca";
  }
  if (tls.root_cert.empty() && !tls.system_roots) {
    return "; the TLS handshake failed: check the server's TLS setup (ssl_cert, ssl_key) and the "
           "dsn's sslcert and sslkey";
  }
  return "; the server's certificate was not accepted: set sslrootcert in the dsn to the file of "
         "the CA that signed it (and check that the certificate has not expired)";
}

}  // namespace ferry
