// The retention probe of a PostgreSQL source (capture/retention_watch.h): for each of the capture
// agent's slots (<slot_prefix>_...), its wal_status, the WAL it holds and, with
// max_slot_wal_keep_size set, the WAL the server may still write before it gives the slot up.
#pragma once

#include <string>

#include "capture/retention_watch.h"

namespace ferry::capture::postgres {

// Connects for each check (every few seconds at most), so a server that restarts needs nothing.
RetentionProbe PgRetentionProbe(std::string dsn, std::string slot_prefix);

}  // namespace ferry::capture::postgres
