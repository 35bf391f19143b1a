// Throwaway PostgreSQL 15 servers for tests: initdb into a temporary directory, start on a free
// loopback port with wal_level=logical, and remove everything when the object dies. When the
// tests run as root, the server runs as the unprivileged "postgres" user (PostgreSQL refuses root).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/harness/ferry_process.h"  // FreePort
#include "tests/harness/test_database.h"

namespace ferry::testing {

class PostgresServer : public TestDatabase {
 public:
  // Starts a server; `name` only appears in the data directory's name and in logs.
  static Result<std::unique_ptr<PostgresServer>> Start(const std::string& name = "pg");
  ~PostgresServer() override;  // stops the server (immediate mode) and deletes its directory

  std::string engine() const override { return "postgres"; }

  uint16_t port() const { return port_; }
  // libpq connection string for database `ferry` (created at start) as the superuser.
  std::string dsn() const override;

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

  std::string name_;
  std::string root_dir_;
  std::string data_dir_;
  std::string log_file_;
  std::string os_user_;  // user the server runs as ("postgres" when we are root)
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace ferry::testing
