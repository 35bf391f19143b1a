// What end-to-end tests need of a throwaway database, whatever its engine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry::testing {

using Row = std::vector<std::optional<std::string>>;  // text values, nullopt = NULL

class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  virtual std::string engine() const = 0;  // "postgres", "mariadb"
  // Connection string for Ferry configs (key=value).
  virtual std::string dsn() const = 0;
  // For a server started with TLS: a connection string for a user the server admits only over
  // TLS, verifying its certificate (sslmode=verify-full, sslrootcert=its CA). "" without TLS.
  virtual std::string tls_dsn() const { return ""; }
  virtual Status Exec(const std::string& sql) const = 0;
  virtual Result<std::vector<Row>> Query(const std::string& sql) const = 0;
  // Crashes the server (no clean shutdown) / starts it again on the same port and data.
  virtual Status Kill() = 0;
  virtual Status Restart() = 0;
  // The single value of a one-row, one-column query ("" on NULL, "ERROR: ..." on error).
  std::string Scalar(const std::string& sql) const {
    auto rows = Query(sql);
    if (!rows.ok()) return "ERROR: " + rows.message();
    if (rows->size() != 1 || (*rows)[0].size() != 1) return "ERROR: not exactly one value";
    return (*rows)[0][0].value_or("");
  }
};

}  // namespace ferry::testing
