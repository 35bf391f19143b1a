// PostgreSQL as a change source: logical replication (pgoutput, proto_version 1) over a libpq
// replication=database connection, one slot per subscriber.
// Invariant (ARCHITECTURE.md #3): the slot's confirmed position only moves when Confirm() is
// called, so the server keeps every change the subscriber has not acknowledged.
//
// Start() connects, checks wal_level, creates the publication and the slot when missing, and
// starts streaming at the resume LSN (the slot's confirmed position when the resume position is
// empty). A subscriber that resumes from a position while its slot is missing, or whose slot was
// invalidated, gets an error that says a re-snapshot is needed: a new slot would silently skip
// changes. A keepalive becomes a SourceHeartbeat whose head is the server's end of WAL. Every
// published table without a usable replica identity gets a warning naming the fix.
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
// publication/slot names from node and subscriber names: letters are lowercased, every other
// byte outside [a-z0-9_] becomes '_', and a name starting with a digit gets a "ferry_" prefix.
std::string SanitizeIdentifier(const std::string& name);

// The replication slot of one subscriber: "<prefix>_<subscriber>" when that is already a valid
// identifier, which keeps the names of ordinary setups readable and stable. Otherwise the
// sanitized name, cut to leave room, ends in "_" and 8 hex digits of a hash of the exact prefix
// and subscriber, so that two subscribers whose ids sanitize alike ("East" and "east", "eu-1"
// and "eu_1", or two long ids that share their first 63 bytes) never share a slot and confirm
// each other's positions.
std::string SlotName(const std::string& prefix, const std::string& subscriber);

// The warning logged at the start of every session for a published table without a usable
// replica identity: its INSERTs replicate, but the source refuses its UPDATEs and DELETEs.
// `table` is the (quoted as needed) "schema.table"; `identity_nothing` when its REPLICA
// IDENTITY is NOTHING, else it is DEFAULT on a table without primary key.
std::string NoReplicaIdentityWarning(const std::string& table, bool identity_nothing);

std::unique_ptr<ChangeSource> MakePostgresSource(PostgresSourceOptions options);

}  // namespace ferry::capture::postgres
