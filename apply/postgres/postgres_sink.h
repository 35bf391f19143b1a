// PostgreSQL as an apply target (libpq). Keeps ferry_meta.checkpoints and ferry_meta.conflicts,
// writes each source transaction in one target transaction that upserts the checkpoint first,
// and applies rows through prepared statements keyed by their SQL text (target table,
// operation, columns present, null pattern of the row match).
// Copy chunks (Sink::CopyRows) go in by COPY FROM STDIN, straight into the table where no row
// with their keys is there, else through a temporary staging table (apply/postgres/pg_copy.h).
// For now the replica follows its source: an insert meeting an existing key becomes an update,
// an update finding no row becomes an insert, a delete finding no row is a no-op; each is
// reported as a RowOutcome (and logged by the agent), never silently.
// Target requirements: the table exists (Ferry creates none) with every mapped column; for a
// source with a key, a primary key or unique index on the key columns (else inserts fail with
// that fix); the apply user may SET session_replication_role (superuser, or GRANT SET ON
// PARAMETER). One sink serves one stream from one thread.
// MySQL/MariaDB zero and partial dates ('0000-00-00'), which no PostgreSQL date or timestamp
// holds, are written as NULL or refused (the apply config's zero_dates) before a row is bound;
// text columns get their text.
#pragma once

#include <memory>
#include <string>

#include "apply/postgres/pg_text.h"
#include "apply/sink.h"

namespace ferry::apply::postgres {

// `zero_dates`: what is written for a MySQL/MariaDB zero or partial date into a column that
// cannot hold it (apply/postgres/pg_text.h, ZeroDateFor). `synchronous_commit`: false commits
// with synchronous_commit off, as a PostgreSQL subscription does: COMMIT returns before its WAL
// is flushed, and LastCommitMark / DurableMark (the WAL insert and flush positions) tell the
// apply agent when it may acknowledge. `lock_timeout`: the longest a statement waits for a lock
// a session of the target holds (0: no limit); longer fails the stream with an error that says
// so, instead of a stream that stalls while it looks healthy.
std::unique_ptr<Sink> MakePostgresSink(
    std::string dsn, ZeroDates zero_dates = ZeroDates::kNull, bool synchronous_commit = true,
    std::chrono::milliseconds lock_timeout = kDefaultLockTimeout);

}  // namespace ferry::apply::postgres
