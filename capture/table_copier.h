// The capture side of copying existing rows into a subscriber's stream (capture/chunk_reader.h,
// ARCHITECTURE.md "Copying existing rows"). One TableCopier per session: it reads one chunk at a
// time between source transactions, watches the transactions the session streams, and sends the
// chunk as soon as the stream reaches the chunk's fence.
//
// Invariants it keeps:
//  - A chunk is sent between two source transactions, after every transaction whose effects it
//    includes and before every transaction whose effects it lacks; rows touched by a
//    transaction streamed before it but not seen by its read are left out (the stream itself
//    brought their state). A chunk that cannot be made exact that way is read again.
//  - At most one chunk is held in memory.
//  - The next chunk of a table starts after the last row the previous chunk *read*, whatever
//    was left out of it, so no row is skipped.
//  - A table's secondary indexes go with its last chunk only (CopyChunk.indexes), so the apply
//    side builds them once, after the rows are in.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "capture/chunk_reader.h"
#include "common/status.h"
#include "wire/frame.h"

namespace ferry::capture {

struct TableCopierOptions {
  size_t chunk_rows = 10000;
  size_t rows_per_frame = 1000;
  size_t bytes_per_frame = 1024 * 1024;
  // Chunks of this many tables are sent in turn (CopyRequest.parallel_tables), so the apply side
  // can write them at once; 1: each table is copied whole before the next starts.
  size_t parallel_tables = 1;
  // Reads are paced to send at most this many rows per second (0: no limit), so a copy need not
  // compete with the source's own clients for its disk and CPU.
  size_t max_rows_per_second = 0;
};

// The most tables a subscriber may have copied at once.
inline constexpr size_t kMaxParallelTables = 16;

class TableCopier {
 public:
  // Sends one frame to the subscriber.
  using FrameSender = std::function<Status(wire::FrameType, const google::protobuf::Message&)>;

  // Copies `tables`, each from after its `after_key`, in the order given, options.parallel_tables
  // at a time.
  TableCopier(std::unique_ptr<ChunkReader> reader, std::vector<wire::TableCopy> tables,
              TableCopierOptions options, FrameSender send);

  // True when every table is copied.
  bool done() const { return tasks_.empty() && !waiting_; }
  // True while a chunk waits for the stream to reach its fence.
  bool waiting() const { return waiting_.has_value(); }
  // How long until Poll would read the next chunk: zero when it would now; a long time while a
  // chunk waits or when every table is copied. The caller may wait for the source that long.
  std::chrono::milliseconds TimeToNextRead() const;

  // Called between source transactions. Reads the next chunk when none is waiting, and sends it
  // at once when `head` (the source's last known head) already passed its fence.
  Status Poll(const std::optional<wire::Position>& head);

  // The source produced `begin`: sends the waiting chunk first when the chunk lacks this
  // transaction's effects. Must be called before `begin` is sent.
  Status OnBegin(const wire::Begin& begin);
  void OnRelation(const wire::Relation& relation);
  void OnRow(const wire::RowChange& row);
  void OnCommit() { concurrent_ = false; }

  // A heartbeat between transactions: sends the waiting chunk when `head` passed its fence.
  Status OnHead(const wire::Position& head);

 private:
  struct Task {
    std::string table;  // "schema.table"
    Key after;
    std::optional<KeyedRelation> relation;
    // Read with the description; sent with the table's last chunk.
    std::vector<wire::SecondaryIndex> indexes;
    uint64_t rows_estimate = 0;
    uint64_t rows_sent = 0;
    uint64_t chunks_sent = 0;
  };
  // The chunk read but not yet sent.
  struct Waiting {
    FencedChunk read;
    Key last_key;                         // of the last row read, before any was left out
    std::map<std::string, Key> left_out;  // keys of rows left out, by EncodeKey
    bool must_reread = false;
  };

  Status ReadNextChunk();
  Status Describe(Task& task);
  bool RecentTransactionsIncluded(const ChunkFence& fence);
  bool IsCopiedTable(uint32_t relation_id) const;
  Status SendWaiting();
  // Delays the next read by what `rows_sent` rows cost at max_rows_per_second.
  void Pace(size_t rows_sent);
  // After a chunk of the first task: the next of the tables copied at once goes first.
  void NextTable();
  // The chunk's frames; the number of rows sent.
  Result<size_t> SendChunkFrames(const Task& task, const Waiting& waiting);
  void LeaveOut(const KeyedRelation& table,
                const google::protobuf::RepeatedPtrField<wire::Value>& values);

  std::unique_ptr<ChunkReader> reader_;
  std::deque<Task> tasks_;
  const TableCopierOptions options_;
  FrameSender send_;
  std::optional<Waiting> waiting_;
  bool concurrent_ = false;                    // streaming a kConcurrent transaction
  std::map<uint32_t, std::string> relations_;  // stream relation id -> "schema.table"
  std::deque<wire::Begin> recent_;             // the last transactions streamed, newest last
  // No chunk is read before this: a read that must be repeated pauses, and the pace allows it.
  std::chrono::steady_clock::time_point read_after_{};
};

// The error for a table without key too large to copy in one chunk.
Status TooLargeWithoutKey(const std::string& table);

// `key` as bytes that are equal exactly when the keys are (for sets of keys).
std::string EncodeKey(const Key& key);

}  // namespace ferry::capture
