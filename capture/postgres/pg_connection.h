// An ordinary (non-replication) libpq connection to the source with the replication stream's
// session settings (replication_stream.h), so that a text-format SELECT returns each value as the
// text pgoutput sends for it. The table reader and the chunk reader query through it; the chunk
// reader also runs its own transactions on it around the table reader's reads. Used from one
// thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

struct pg_conn;
struct pg_result;

namespace ferry::capture::postgres {

struct PgResultDeleter {
  void operator()(pg_result* result) const;
};
using PgResult = std::unique_ptr<pg_result, PgResultDeleter>;

class PgConnection {
 public:
  // Connects to `dsn` (key=value or URI). Errors name the server's message.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& dsn);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql`, which returns rows, with text parameters $1.. of the given type OIDs (fewer
  // types than parameters: the server infers the rest). Errors read "<what>: <server message>".
  Result<PgResult> Query(const std::string& sql, const std::vector<std::string>& params,
                         const std::vector<uint32_t>& param_types, const std::string& what);
  // Runs `sql`, which returns no rows.
  Status Command(const std::string& sql, const std::string& what);
  // `text` as an SQL string literal, quotes included.
  Result<std::string> Literal(const std::string& text);

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  std::string LastError() const;

  pg_conn* conn_;
};

}  // namespace ferry::capture::postgres
