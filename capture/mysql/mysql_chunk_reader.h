// MariaDB's ChunkReader (capture/chunk_reader.h). Each chunk is read in a consistent snapshot of
// its own (MysqlTableReader::BeginConsistentRead), which MariaDB ties to an exact binlog position:
// every transaction before it is in the snapshot, none after. The fence is the GTID state at that
// position: a streamed transaction whose position (the GTID state including it) the snapshot's
// state covers is kIncluded, every other one kAfter; nothing is ever kConcurrent. The stream has
// passed the fence once its head covers the snapshot's state in every domain.
//
// Only MariaDB with GTIDs can place transactions so: MySQL reports no binlog position for a
// consistent snapshot, and file positions cannot be compared with a GTID state. Both are errors
// that say to seed the target by other means.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capture/chunk_reader.h"
#include "common/status.h"

namespace ferry::capture::mysql {

// The fence of a read whose snapshot stands at MariaDB GTID state `gtid_state` (possibly empty:
// before the server's first transaction).
Result<std::unique_ptr<ChunkFence>> MakeMariaDbChunkFence(const std::string& gtid_state);

// Connects to `dsn` (the capture config's DSN) for the tables `table_patterns` select (the
// capture config's `tables:`, as TableSelection reads them). Errors unless the server is MariaDB.
Result<std::unique_ptr<ChunkReader>> ConnectMysqlChunkReader(
    const std::string& dsn, const std::vector<std::string>& table_patterns);

}  // namespace ferry::capture::mysql
