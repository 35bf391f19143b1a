// PostgreSQL as an apply target (libpq). Keeps ferry_meta.checkpoints and ferry_meta.conflicts,
// writes each source transaction in one target transaction that upserts the checkpoint first,
// and applies rows through prepared statements keyed by relation, operation and column set.
// For now the replica follows its source: an insert meeting an existing key becomes an update,
// an update finding no row becomes an insert, a delete finding no row is a no-op; each is
// reported as a RowOutcome (and logged by the agent), never silently.
#pragma once

#include <memory>
#include <string>

#include "apply/sink.h"

namespace ferry::apply::postgres {

std::unique_ptr<Sink> MakePostgresSink(std::string dsn);

}  // namespace ferry::apply::postgres
