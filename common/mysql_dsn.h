// The parameters of a connection to a MySQL/MariaDB server, read from a connection string in
// libpq's key=value syntax (common/dsn.h). One vocabulary for both ends: the source
// (capture/mysql, and ferry verify, through MariaDB Connector/C) and the target (apply/mysql,
// through MySQL Connector/C++, itself built on Connector/C). TLS keys are libpq's: sslmode,
// sslrootcert, sslcert, sslkey. Pure: no client library here; each side maps MysqlDsn onto its
// own connector's options.
//
// A connection string may hold a password, so no error here ever shows any of its text or values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry {

// libpq's sslmode values that a MySQL/MariaDB connection supports. libpq's prefer and allow
// are not among them: they fall back to a clear connection without saying so.
enum class SslMode {
  kDisable,     // no TLS: the default, as both connectors do without TLS options
  kRequire,     // TLS or no connection; the certificate is checked only against sslrootcert
                // when one is given (as libpq does)
  kVerifyCa,    // TLS, with a certificate signed by the CA in sslrootcert
  kVerifyFull,  // verify-ca, and the certificate names the host connected to
};

// "disable", "require", "verify-ca", "verify-full".
std::string_view SslModeName(SslMode mode);

// The TLS part of a connection string. Invariant (ParseMysqlDsn checks it): without TLS
// (kDisable) every file is empty; verify-ca and verify-full have a root: a CA file, or, for
// verify-full only, the system's trusted CAs; cert and key are both set or both empty.
struct MysqlTls {
  SslMode mode = SslMode::kDisable;
  std::string root_cert;      // sslrootcert: PEM file of the CA(s) the server's chain ends in
  bool system_roots = false;  // sslrootcert=system: the system's trusted CAs (root_cert empty)
  std::string cert;           // sslcert: PEM client certificate, for servers that ask for one
  std::string key;            // sslkey: its unencrypted PEM key

  bool enabled() const { return mode != SslMode::kDisable; }
};

// Where a connection string is used. The two differ only in what is listed here:
//   kSource: capture/mysql and ferry verify. user= is required (the replication user).
//   kTarget: apply/mysql. Also read_timeout= and write_timeout= (seconds).
enum class MysqlDsnRole { kSource, kTarget };

// One MySQL/MariaDB connection's parameters. Keys: host, port, user, password, dbname (or
// database), socket (a Unix socket path, used instead of host and port), connect_timeout
// (seconds), the TLS keys above, and the role's own keys.
struct MysqlDsn {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string user;
  std::optional<std::string> password;  // absent: no password
  std::string dbname;                   // may be empty
  std::string socket;                   // empty: TCP to host:port
  unsigned connect_timeout_s = 10;
  std::optional<unsigned> read_timeout_s;   // kTarget only; absent: the library's default
  std::optional<unsigned> write_timeout_s;  // kTarget only
  MysqlTls tls;

  // "127.0.0.1:3306", or the socket path.
  std::string address() const;
};

// Parses `text`: "host=db.example port=3306 user=ferry password='s3 cr\'et' dbname=app
// sslmode=verify-full sslrootcert=/etc/ferry/db-ca.pem". Unknown keys are an error, as a
// misspelt key would otherwise be silently ignored; a key given twice keeps its last value.
// Errors start with the role's name for the string ("target dsn: ", "MySQL/MariaDB connection
// string: ") and name the key and the fix, never a value.
Result<MysqlDsn> ParseMysqlDsn(std::string_view text, MysqlDsnRole role);

// Before connecting: each file the TLS keys name can be read. The error names the key.
Status CheckTlsFiles(const MysqlTls& tls);

// After connecting with `tls`: with sslmode other than disable, the session must be encrypted.
// MariaDB Connector/C 3.3 (Debian 12) refuses a server without TLS by itself only when it checks
// the host name (verify-full); with require and verify-ca it goes on in clear text, so each side
// asks its connector (or the server) and refuses here.
Status CheckEncrypted(bool encrypted, const MysqlTls& tls);

// What to fix, for a connect that failed with client error `error_number` and `client_message`
// while `tls` was on: "; " and a hint naming the dsn key to change, or "" when the error is not
// the TLS handshake's (2026, CR_SSL_CONNECTION_ERROR).
std::string TlsConnectHint(unsigned error_number, std::string_view client_message,
                           const MysqlTls& tls);

}  // namespace ferry
