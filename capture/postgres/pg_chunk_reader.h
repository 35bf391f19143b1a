// PostgreSQL's ChunkReader (capture/chunk_reader.h). Each chunk is read in a REPEATABLE READ READ
// ONLY transaction of its own. Its first statement takes the snapshot and, while it runs, reads
// the WAL insert position H: every transaction the snapshot sees has its commit record before H
// (a commit is logged before it becomes visible), and every transaction whose commit record is
// at or after H committed after the snapshot, so the snapshot does not see it. The insert
// position, not the flush position: with synchronous_commit=off a commit is visible before its
// record is flushed.
//
// The fence places a streamed transaction by its xid and commit LSN: seen by the snapshot ->
// kIncluded; else commit LSN >= H -> kAfter; else kConcurrent (it committed while the snapshot
// was taken). The stream has passed the fence once its head (the walsender's position) is at H.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/chunk_reader.h"
#include "common/status.h"

namespace ferry::capture::postgres {

// A snapshot as pg_current_snapshot() gives it, "xmin:xmax:xip1,xip2,...": 64-bit transaction
// ids (epoch and xid). Ids below xmin had ended when it was taken; ids at or above xmax had not
// started or not ended; between them, those in xip were running.
struct PgSnapshot {
  uint64_t xmin = 0;
  uint64_t xmax = 0;
  std::vector<uint64_t> xip;
};
Result<PgSnapshot> ParsePgSnapshot(const std::string& text);
std::string FormatPgSnapshot(const PgSnapshot& snapshot);

// True when `snapshot` sees the effects of committed top-level transaction `xid`, a 32-bit xid as
// pgoutput sends it. It is widened to 64 bits as the id nearest xmin with those low 32 bits
// (PostgreSQL keeps every xid it may still compare within 2^31 of the others), so the answer
// holds across an xid wraparound.
bool PgSnapshotSees(const PgSnapshot& snapshot, uint32_t xid);

// The server's WAL page and segment sizes (wal_block_size, wal_segment_size).
struct PgWalLayout {
  uint64_t block_size = 8192;
  uint64_t segment_size = 16 << 20;
};

// Where the last record before `insert_lsn` (pg_current_wal_insert_lsn) ends. Usually the same
// position; but when the last record filled its page, the insert position is past the next
// page's header, while the walsender, having read everything, stands at the page boundary: a
// fence at the insert position would not be passed until some later record. No record starts
// inside a page header, so both positions divide the stream's transactions alike.
uint64_t PgLastRecordEnd(uint64_t insert_lsn, const PgWalLayout& layout);

// The fence of a read with `snapshot` whose WAL position H is `fence_lsn`.
std::unique_ptr<ChunkFence> MakePgChunkFence(PgSnapshot snapshot, uint64_t fence_lsn);

// Connects to `dsn` for the tables of `publication` (the one the subscriber's stream uses).
Result<std::unique_ptr<ChunkReader>> ConnectPostgresChunkReader(const std::string& dsn,
                                                                const std::string& publication);

}  // namespace ferry::capture::postgres
