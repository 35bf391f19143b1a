// Copying a table's existing rows into a running change stream, one key-ordered chunk at a time
// (the approach of Netflix's DBLog): the initial copy for a new subscriber, its resumption after
// a failure, and the re-copy of one table while replication runs all use it.
//
// Each chunk is read in its own short consistent read. Its ChunkFence tells, for every
// transaction the stream carries, whether the chunk's rows already include that transaction's
// effects. The capture agent sends the chunk at the one point in the stream where that is exact:
// after every transaction the chunk includes, before every transaction it does not. A
// transaction that commits before that point although the read did not see it (possible on
// PostgreSQL only, for transactions committing while the read began) is "concurrent": the chunk
// leaves out the rows it touched, which the stream itself brings to the target.
//
// No long transaction is held on the source (each read lasts one chunk), so nothing is locked
// and vacuum / purge are not held back for the length of the copy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/table_reader.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::capture {

// Where a streamed transaction stands relative to a chunk's consistent read.
enum class FencePlace {
  kIncluded,    // the chunk's rows include its effects: the chunk goes after it
  kAfter,       // the read did not see it, and it commits after the fence: the chunk goes before
  kConcurrent,  // commits before the fence, yet the read did not see it: the chunk goes after it,
                // without the rows whose keys it touched
};

class ChunkFence {
 public:
  virtual ~ChunkFence() = default;

  // Where `transaction` (a Begin the source produced) stands. Errors when its position does not
  // parse or is of another engine.
  virtual Result<FencePlace> Place(const wire::Begin& transaction) const = 0;

  // True when `head` (a SourceHeartbeat's head, read while no transaction is open) shows that
  // the stream has passed every transaction that could be kIncluded or kConcurrent: the chunk
  // may be sent without waiting for a later transaction.
  virtual Result<bool> PassedBy(const wire::Position& head) const = 0;

  // For logs: where the fence stands, e.g. "LSN 0/1A2B3C8" or "GTID 0-1-42".
  virtual std::string Describe() const = 0;
};

// A chunk and the fence of the read that produced it.
struct FencedChunk {
  Chunk chunk;
  std::unique_ptr<ChunkFence> fence;
};

// Reads chunks of a source's tables for one subscriber. Owns its own ordinary (non-replication)
// connection; used from one thread (the capture session's).
class ChunkReader {
 public:
  virtual ~ChunkReader() = default;

  // The tables this subscriber's stream carries ("schema.table", sorted): what an initial copy
  // copies. PostgreSQL: the publication's tables; MySQL/MariaDB: the tables the capture config
  // selects.
  virtual Result<std::vector<std::string>> TablesToCopy() = 0;

  // As TableReader::DescribeAnyTable: a table without key has an empty `key`, and is copied in
  // one chunk (TableCopier).
  virtual Result<KeyedRelation> Describe(const std::string& schema, const std::string& table) = 0;

  // The server's estimate of the table's row count, for progress reports only (0 when unknown).
  virtual Result<uint64_t> EstimateRows(const KeyedRelation& table) = 0;

  // Up to `limit` rows after `after` (as TableReader::ReadChunk), read in one consistent read
  // that ends before this returns, with that read's fence.
  virtual Result<FencedChunk> ReadChunk(const KeyedRelation& table, const Key& after,
                                        size_t limit) = 0;

  // The table's secondary indexes a target can rebuild from plain columns (wire::SecondaryIndex),
  // by name; the others are logged at info, naming why they are not carried.
  virtual Result<std::vector<wire::SecondaryIndex>> SecondaryIndexes(
      const KeyedRelation& table) = 0;
};

// One key column of a source index, as the catalogs list them (an index's rows consecutive, in
// index order).
struct IndexColumnRow {
  std::string index;
  bool unique = false;
  std::string column;           // the source column's name
  uint32_t prefix_length = 0;   // 0: the whole value
  std::string not_carried_why;  // set when the index cannot be carried, e.g. "an expression index"
};

// The indexes `rows` describe, in their order. An index with a row saying why it is not carried
// is left out and logged at info (`table` names the source table).
std::vector<wire::SecondaryIndex> GroupSecondaryIndexes(const std::string& table,
                                                        const std::vector<IndexColumnRow>& rows);

// Opens a ChunkReader for one subscriber's session.
using ChunkReaderFactory =
    std::function<Result<std::unique_ptr<ChunkReader>>(const std::string& subscriber_id)>;

}  // namespace ferry::capture
