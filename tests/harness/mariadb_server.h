// Throwaway MariaDB 10.11 servers for tests: mariadb-install-db into a temporary directory, then
// mariadbd on a free loopback port with row-based binary logging (binlog_format=ROW,
// binlog_row_image=FULL, GTIDs always on in MariaDB; binlog_row_metadata=FULL unless a test asks
// for the server's default), removed when the object dies. As root the server runs with
// --user=root. Optionally with TLS, on certificates made at start (MariaDbOptions::tls).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/harness/test_database.h"

namespace ferry::wire::testing {
class TestCa;
}

namespace ferry::testing {

struct MariaDbOptions {
  uint32_t server_id = 1;
  // "FULL", "MINIMAL", or "" for the server's default (NO_LOG), as users run it.
  std::string binlog_row_metadata = "FULL";
  // Extra mariadbd arguments, e.g. "--log-bin-compress=ON" or "--binlog-format=STATEMENT".
  std::vector<std::string> extra_args;
  // Serve TLS (ssl_cert, ssl_key, ssl_ca): a CA made at start (MariaDbServer::tls_ca) signs the
  // server's certificate, for localhost and 127.0.0.1, and client certificates the server
  // accepts. Clients may still connect without TLS unless their user says REQUIRE SSL, as the
  // user `tls_only` (password "pw", all privileges, made at start: tls_dsn()) does.
  bool tls = false;
};

class MariaDbServer : public TestDatabase {
 public:
  static Result<std::unique_ptr<MariaDbServer>> Start(const std::string& name = "mariadb",
                                                      MariaDbOptions options = {});
  ~MariaDbServer() override;  // SIGKILL and delete the directory

  std::string engine() const override { return "mariadb"; }

  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& user() const { return user_; }          // "root", no password
  const std::string& database() const { return database_; }  // "ferry", created at start
  // Connection string for Ferry configs: "host=127.0.0.1 port=N user=root dbname=ferry".
  std::string dsn() const override;
  std::string tls_dsn() const override;  // as tls_only, sslmode=verify-full

  Status Exec(const std::string& sql) const override;  // one or more statements
  Result<std::vector<Row>> Query(const std::string& sql) const override;

  Status Kill() override;     // SIGKILL, like a crash
  Status Restart() override;  // start again on the same port and data directory

  // The CA of a server started with MariaDbOptions::tls, null otherwise. Tests trust its
  // cert_file() (sslrootcert) and Issue() client certificates with it.
  const wire::testing::TestCa* tls_ca() const { return tls_ca_.get(); }

  const std::string& binlog_dir() const { return root_dir_; }
  const std::string& error_log() const { return error_log_; }

 private:
  MariaDbServer() = default;
  Status Launch();
  void MakeCertificates();

  std::string root_dir_;
  std::string data_dir_;
  std::string socket_;
  std::string error_log_;
  std::string tmp_dir_;
  std::string host_ = "127.0.0.1";
  std::string user_ = "root";
  std::string database_ = "ferry";
  MariaDbOptions options_;
  std::unique_ptr<wire::testing::TestCa> tls_ca_;
  std::string server_cert_file_;  // with tls: signed by tls_ca_
  std::string server_key_file_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ferry::testing
