// PostgreSQL as a change source: logical replication (pgoutput, proto_version 1) over a libpq
// replication=database connection, one slot per subscriber.
// Invariant (DESIGN.md #3): the slot's confirmed position only moves when Confirm() is called,
// so the server keeps every change the subscriber has not acknowledged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capture/source.h"

namespace ferry::capture::postgres {

struct PostgresSourceOptions {
  std::string dsn;                  // libpq connection string of the source database
  std::string publication;          // created if missing, FOR the tables below
  std::string slot;                 // created if missing (pgoutput)
  std::vector<std::string> tables;  // "schema.table" or "schema.*"
};

// Derives a valid PostgreSQL identifier (lowercase, [a-z0-9_], at most 63 bytes) for
// publication/slot names from node and subscriber names.
std::string SanitizeIdentifier(const std::string& name);

std::unique_ptr<ChangeSource> MakePostgresSource(PostgresSourceOptions options);

}  // namespace ferry::capture::postgres
