// Writing a copy's chunks (capture/table_copier.h, ARCHITECTURE.md "Copy of existing rows") on
// target connections of their own, several tables at once, while the stream thread goes on
// applying source transactions on its own connection.
//
// Invariants they keep:
//  - A chunk commits with its table's progress (ferry_meta.copy_progress) in one target
//    transaction, so a copy cut short resumes after its last committed chunk.
//  - That progress, naming the upstream's node as origin, is also the transaction's first write:
//    it is the origin marker that keeps a capture agent on this target from sending the copied
//    rows back as local changes (master-master; capture/origin_filter.h).
//  - At most one chunk per table is in flight, and the chunks of a table commit in the order they
//    arrived: the progress of a table only moves forward.
//  - The stream thread writes nothing to a table while a chunk of it is in flight (WaitFor): the
//    chunk's place in the stream is exact only if what follows it on that table follows it on
//    the target too.
//  - A table create_tables created gets its secondary indexes on its last chunk, before that
//    chunk writes a row (TargetTables::CreateIndexes), so they exist once its copy is done.
#pragma once

#include <google/protobuf/arena.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "admin/registry.h"
#include "apply/sink.h"
#include "apply/table_mapping.h"
#include "apply/target_tables.h"
#include "common/status.h"
#include "wire/frame.h"

namespace ferry::apply {

// One chunk as the stream thread hands it to a writer.
struct ChunkJob {
  wire::CopyChunk chunk;  // its Begin's copy
  // The table's progress before the chunk (CopyTracker::AfterChunk with no rows): the chunk's
  // rows add to its count.
  CopyProgress before;
  // A re-copy's range start (CopyTracker::RecopyAfter); nullopt for a first copy.
  std::optional<std::vector<wire::Value>> recopy_after;
};

// A chunk committed on the target.
struct ChunkDone {
  CopyProgress progress;
  uint64_t rows_estimate = 0;
};

// What every chunk writer of one upstream shares.
struct ChunkWriterContext {
  std::string upstream;
  const TableMapper* mapper = nullptr;
  bool create_tables = false;
  std::string source_engine;  // the capture agent's (Welcome.engine)
  std::string upstream_node;  // the capture agent's node (Welcome.node): the copied rows' origin
  admin::MetricsRegistry* registry = nullptr;
  // Rows are handed to the sink's bulk path once this many are queued, or their frames hold this
  // many bytes: few large writes are fastest, and the bound caps what a writer holds.
  size_t rows_per_write = 10000;
  size_t bytes_per_write = 16 << 20;
};

// Writes chunks, one at a time, through one sink it owns. Used from one thread.
class ChunkWriter {
 public:
  ChunkWriter(ChunkWriterContext context, std::unique_ptr<Sink> sink);

  Status Open();
  // Starts the chunk's target transaction, whose first write is the table's progress.
  Status Begin(ChunkJob job);
  // One Changes frame of the chunk: its table's Relation, then its rows.
  Status Add(const wire::Frame& changes);
  // Writes what is queued, records the progress and commits.
  Result<ChunkDone> Commit();
  // Rolls back the open chunk, if any.
  void Abort();

 private:
  Status AddRelation(const wire::Relation& relation);
  Status DeleteRowsTheSourceLacks();
  Status AddRow(wire::Change& change);
  Status WriteRows();
  void ReleaseRows();

  const ChunkWriterContext context_;
  std::unique_ptr<Sink> sink_;
  std::optional<TargetTables> targets_;  // once open
  std::optional<ChunkJob> job_;
  std::optional<MappedRelation> relation_;
  bool indexes_considered_ = false;  // this chunk's CopyChunk.indexes were handed to targets_
  uint64_t rows_ = 0;
  // The chunk's frames and its rows not yet handed to the sink, converted, all on one arena: a
  // row costs no allocation or free per value, and rows move from their frame to `rows_queued_`
  // without a copy.
  std::unique_ptr<google::protobuf::Arena> arena_;
  ChunkRows* rows_queued_ = nullptr;  // on arena_
};

// Up to `count` ChunkWriters, each on a thread of its own, fed by the stream thread, which is
// the only caller of every method.
class CopyWriters {
 public:
  using WriterFactory = std::function<std::unique_ptr<ChunkWriter>()>;
  // `on_done` runs on the calling thread for each committed chunk, in commit order, from any of
  // the methods below that collect (all but Add and Stop).
  CopyWriters(size_t count, WriterFactory make_writer,
              std::function<void(const ChunkDone&)> on_done);
  ~CopyWriters();

  // Hands the next chunk to a writer, once no chunk of its table is in flight and a writer is
  // free. Add and End then go to that writer. The job's progress must have been computed after
  // WaitFor(its table), from the previous chunk's.
  Status Begin(ChunkJob job);
  Status Add(wire::Frame changes);
  Status End();

  // True while a chunk of `table` (source "schema.table") is in flight; cheap.
  bool Writing(const std::string& table) const { return in_flight_.count(table) != 0; }
  bool Idle() const { return in_flight_.empty(); }
  // Returns once no chunk of `table` is in flight.
  Status WaitFor(const std::string& table);
  // Collects committed chunks; the first error any writer met.
  Status Collect();
  // Rolls back the chunks in flight and ends the threads.
  void Stop();

 private:
  struct Item {
    enum class Kind { kBegin, kAdd, kEnd } kind = Kind::kBegin;
    std::optional<ChunkJob> job;
    wire::Frame frame{};
  };
  struct Worker {
    std::unique_ptr<ChunkWriter> writer;
    std::deque<Item> queue;
    std::string table;  // the chunk in flight, from Begin until it committed; "" when idle
    bool opened = false;
    std::thread thread;
  };

  void Run(Worker& worker);
  Status RunItem(Worker& worker, Item& item);
  // Queues `item` for the current writer, waiting while its queue is full.
  Status Queue(Item item);
  // Takes the committed chunks and runs on_done (lock held on entry, released for on_done).
  Status CollectLocked(std::unique_lock<std::mutex>& lock);
  Result<Worker*> FreeWorker(std::unique_lock<std::mutex>& lock);

  const size_t count_;
  const WriterFactory make_writer_;
  const std::function<void(const ChunkDone&)> on_done_;
  std::set<std::string> in_flight_;  // the stream thread's view: tables begun, not collected
  Worker* current_ = nullptr;        // the writer of the chunk being received

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<Worker>> workers_;  // guarded: `queue`, `table`
  std::vector<ChunkDone> done_;
  std::optional<Status> error_;
  bool stopping_ = false;
};

}  // namespace ferry::apply
