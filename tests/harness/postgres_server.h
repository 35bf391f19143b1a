// Throwaway PostgreSQL 15 servers for tests: initdb into a temporary directory, start on a free
// loopback port with wal_level=logical, and remove everything when the object dies. When the
// tests run as root, the server runs as the unprivileged "postgres" user (PostgreSQL refuses root).
// Optionally TLS only (PostgresOptions::tls), on certificates made at start.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/harness/ferry_process.h"  // FreePort
#include "tests/harness/test_database.h"

namespace ferry::wire::testing {
class TestCa;
}

namespace ferry::testing {

struct PostgresOptions {
  // Serve TLS (ssl = on) with a certificate for localhost and 127.0.0.1 that a CA made at start
  // signed (PostgresServer::tls_ca), and admit TCP clients only over TLS (hostssl lines alone in
  // pg_hba.conf): a session the server accepts cannot be a clear one.
  bool tls = false;
};

class PostgresServer : public TestDatabase {
 public:
  // Starts a server; `name` only appears in the data directory's name and in logs.
  static Result<std::unique_ptr<PostgresServer>> Start(const std::string& name = "pg",
                                                       PostgresOptions options = {});
  ~PostgresServer() override;  // stops the server (immediate mode) and deletes its directory

  std::string engine() const override { return "postgres"; }

  uint16_t port() const { return port_; }
  // libpq connection string for database `ferry` (created at start) as the superuser. With
  // PostgresOptions::tls libpq's default sslmode (prefer) finds TLS.
  std::string dsn() const override;
  std::string tls_dsn() const override;
  // The CA of a server started with PostgresOptions::tls, null otherwise.
  const wire::testing::TestCa* tls_ca() const { return tls_ca_.get(); }

  // Runs one or more SQL statements in database `ferry`.
  Status Exec(const std::string& sql) const override;
  // Runs a query and returns all rows as text.
  Result<std::vector<Row>> Query(const std::string& sql) const override;

  // pg_ctl stop -m immediate / start again on the same port and data directory.
  Status Kill() override;
  Status Restart() override;

  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_file() const { return log_file_; }

 private:
  PostgresServer() = default;
  Status RunPgCtl(const std::string& args) const;
  Status ServeTlsOnly();  // before the first start

  std::string name_;
  std::string root_dir_;
  std::string data_dir_;
  std::string log_file_;
  std::string os_user_;  // user the server runs as ("postgres" when we are root)
  uint16_t port_ = 0;
  bool running_ = false;
  std::unique_ptr<wire::testing::TestCa> tls_ca_;
};

}  // namespace ferry::testing
