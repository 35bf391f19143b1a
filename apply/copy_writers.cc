#include "apply/copy_writers.h"

#include <algorithm>
#include <utility>

#include "apply/copy_tracker.h"
#include "apply/type_override.h"
#include "common/log.h"

namespace ferry::apply {
namespace {

// Frames queued for one writer: enough to keep it busy while the stream thread reads the next.
constexpr size_t kQueuedFrames = 4;

// Converts the key images of `range` as the mapping's type overrides convert rows.
Status ConvertKeys(const MappedRelation& relation, CopyRange& range) {
  auto convert = [&](RowImage& image) {
    wire::RowChange row;
    *row.mutable_new_values() = std::move(image);
    Status converted = ConvertRow(relation, row);
    image = std::move(*row.mutable_new_values());
    return converted;
  };
  if (range.after) FERRY_RETURN_IF_ERROR(convert(*range.after));
  if (range.upto) FERRY_RETURN_IF_ERROR(convert(*range.upto));
  for (RowImage& key : range.keep) FERRY_RETURN_IF_ERROR(convert(key));
  return Status::Ok();
}

}  // namespace

ChunkWriter::ChunkWriter(ChunkWriterContext context, std::unique_ptr<Sink> sink)
    : context_(std::move(context)), sink_(std::move(sink)) {}

Status ChunkWriter::Open() {
  FERRY_RETURN_IF_ERROR(sink_->Open().WithContext("target database"));
  targets_.emplace(*sink_, context_.create_tables, context_.upstream, context_.source_engine);
  return Status::Ok();
}

// A chunk of a table's copy: one target transaction holding the chunk's rows and the table's
// progress, which therefore commit together (a copy resumes after the last committed chunk).
// The progress is written first too, with the rows' origin, as the transaction's origin marker
// (ARCHITECTURE.md, "Origins and loop prevention"); Commit overwrites it with the final count,
// and nothing but this transaction sees the row in between.
Status ChunkWriter::Begin(ChunkJob job) {
  job.before.origin = context_.upstream_node;
  FERRY_RETURN_IF_ERROR(sink_->BeginCopyTransaction());
  FERRY_RETURN_IF_ERROR(sink_->RecordCopyProgress(context_.upstream, job.before)
                            .WithContext("copying " + job.chunk.table()));
  job_ = std::move(job);
  relation_.reset();
  indexes_considered_ = false;
  rows_ = 0;
  ReleaseRows();
  return Status::Ok();
}

// The chunk's rows are queued and written in bulk (Sink::CopyRows): once rows_per_write rows or
// bytes_per_write bytes are queued (checked after each frame), and at the chunk's commit.
Status ChunkWriter::Add(const wire::Frame& frame) {
  if (!job_)
    return Status::Error("copied rows outside a chunk: the capture agent broke the protocol");
  auto* changes = google::protobuf::Arena::CreateMessage<wire::Changes>(arena_.get());
  FERRY_RETURN_IF_ERROR(wire::ParsePayload(frame, changes));
  for (wire::Change& change : *changes->mutable_changes()) {
    if (change.has_relation()) {
      FERRY_RETURN_IF_ERROR(AddRelation(change.relation()));
    } else {
      FERRY_RETURN_IF_ERROR(AddRow(change));
    }
  }
  if (static_cast<size_t>(rows_queued_->size()) >= context_.rows_per_write ||
      arena_->SpaceUsed() >= context_.bytes_per_write) {
    FERRY_RETURN_IF_ERROR(WriteRows());
    ReleaseRows();  // the frames' memory too, now that no row refers to it
  }
  return Status::Ok();
}

Status ChunkWriter::AddRelation(const wire::Relation& relation) {
  FERRY_RETURN_IF_ERROR(WriteRows());  // rows queued for an earlier description
  auto mapped = context_.mapper->Map(relation);
  if (!mapped.ok()) return mapped.status();
  FERRY_RETURN_IF_ERROR(targets_->Check(*mapped));
  // Before the chunk writes a row: on MySQL/MariaDB the index DDL, on a connection of its own,
  // would otherwise wait for this transaction's lock on the table.
  if (job_->chunk.table_done() && !indexes_considered_) {
    indexes_considered_ = true;
    FERRY_RETURN_IF_ERROR(targets_->CreateIndexes(*mapped, job_->chunk.indexes())
                              .WithContext("copying " + job_->chunk.table()));
  }
  relation_ = std::move(mapped).value();
  // The whole table in one chunk: its rows replace whatever the stream brought before it.
  if (job_->chunk.whole_table()) return sink_->EmptyTable(*relation_);
  return DeleteRowsTheSourceLacks();
}

// A re-copy brings the target's table back in line with the source's, so before a chunk's rows
// go in, the target rows of its range that the source does not have go (RecopyDeletion).
Status ChunkWriter::DeleteRowsTheSourceLacks() {
  if (!job_->recopy_after) return Status::Ok();
  const std::string& table = job_->chunk.table();
  std::optional<CopyRange> range = RecopyDeletion(job_->chunk, *relation_, *job_->recopy_after);
  if (!range) return Status::Ok();
  if (relation_->converts) FERRY_RETURN_IF_ERROR(ConvertKeys(*relation_, *range));
  Result<uint64_t> deleted = sink_->DeleteCopyRange(*relation_, *range);
  if (!deleted.ok()) return deleted.status().WithContext("re-copying " + table);
  if (*deleted > 0) {
    Logger("apply")->info(
        "upstream {}: re-copying {}: removed {} target row(s) the source does not have",
        context_.upstream, table, *deleted);
    context_.registry->AddCounter("copy_rows_removed", context_.upstream, *deleted);
  }
  return Status::Ok();
}

// Checks one copied row, converts it as the mapping's type overrides say, and queues it.
Status ChunkWriter::AddRow(wire::Change& change) {
  const std::string& table = job_->chunk.table();
  if (!change.has_row()) {
    return Status::Error("copied change of " + table +
                         " holds neither a row nor a table: the capture agent broke the protocol");
  }
  if (!relation_) {
    return Status::Error("copied row of " + table +
                         " before its table was described: the capture agent broke the protocol");
  }
  if (change.row().op() != wire::RowChange::INSERT) {
    return Status::Error("copied row of " + table +
                         " is not an insert: the capture agent broke the protocol");
  }
  // The row and the queue are on the same arena: the swap moves pointers, not values.
  wire::RowChange& row = *rows_queued_->Add();
  row.Swap(change.mutable_row());
  if (relation_->converts) FERRY_RETURN_IF_ERROR(ConvertRow(*relation_, row));
  ++rows_;
  return Status::Ok();
}

// Hands the queued rows to the sink. The stream may have brought a newer state of a row already
// only when the chunk left it out; a row met here is one the stream inserted before the chunk's
// read: overwritten (or, in a table the chunk replaces whole, emptied before).
Status ChunkWriter::WriteRows() {
  if (rows_queued_->empty()) return Status::Ok();
  const CopyInto into = job_->chunk.whole_table() ? CopyInto::kEmptied : CopyInto::kExisting;
  Status written = sink_->CopyRows(*relation_, *rows_queued_, into);
  // A new, empty queue: the rows just written stay on the arena until ReleaseRows, as the frame
  // being read may still be iterated.
  rows_queued_ = google::protobuf::Arena::CreateMessage<ChunkRows>(arena_.get());
  return written.WithContext("copying " + job_->chunk.table());
}

// Frees every frame and row of the chunk on its arena; nothing may refer to them any more.
void ChunkWriter::ReleaseRows() {
  if (!arena_) {
    google::protobuf::ArenaOptions options;
    options.start_block_size = 64 << 10;
    options.max_block_size = 1 << 20;
    arena_ = std::make_unique<google::protobuf::Arena>(options);
  } else {
    arena_->Reset();
  }
  rows_queued_ = google::protobuf::Arena::CreateMessage<ChunkRows>(arena_.get());
}

Result<ChunkDone> ChunkWriter::Commit() {
  if (!job_)
    return Status::Error("chunk end outside a chunk: the capture agent broke the protocol");
  FERRY_RETURN_IF_ERROR(WriteRows());
  ReleaseRows();
  ChunkDone done;
  done.progress = job_->before;
  done.progress.rows_copied += rows_;
  done.rows_estimate = job_->chunk.rows_estimate();
  FERRY_RETURN_IF_ERROR(sink_->RecordCopyProgress(context_.upstream, done.progress));
  FERRY_RETURN_IF_ERROR(sink_->CommitTransaction());
  (void)sink_->TakeLateOutcomes();  // rows met again are expected (see WriteRows)
  job_.reset();
  return done;
}

void ChunkWriter::Abort() {
  sink_->AbortTransaction();
  job_.reset();
}

CopyWriters::CopyWriters(size_t count, WriterFactory make_writer,
                         std::function<void(const ChunkDone&)> on_done)
    : count_(std::max<size_t>(count, 1)),
      make_writer_(std::move(make_writer)),
      on_done_(std::move(on_done)) {}

CopyWriters::~CopyWriters() { Stop(); }

Status CopyWriters::Begin(ChunkJob job) {
  const std::string table = job.chunk.table();
  FERRY_RETURN_IF_ERROR(WaitFor(table));  // a table's chunks commit in order
  std::unique_lock lock(mutex_);
  Result<Worker*> worker = FreeWorker(lock);
  if (!worker.ok()) return worker.status();
  current_ = *worker;
  current_->table = table;
  in_flight_.insert(table);
  lock.unlock();
  Item item;
  item.kind = Item::Kind::kBegin;
  item.job = std::move(job);
  return Queue(std::move(item));
}

// An idle writer, started if fewer than `count_` run; waits for one to finish its chunk if none
// is idle.
Result<CopyWriters::Worker*> CopyWriters::FreeWorker(std::unique_lock<std::mutex>& lock) {
  while (true) {
    if (error_) return *error_;
    for (auto& worker : workers_) {
      if (worker->table.empty()) return worker.get();
    }
    if (workers_.size() < count_) {
      workers_.push_back(std::make_unique<Worker>());
      Worker* worker = workers_.back().get();
      worker->writer = make_writer_();
      worker->thread = std::thread([this, worker] { Run(*worker); });
      return worker;
    }
    changed_.wait(lock);
    FERRY_RETURN_IF_ERROR(CollectLocked(lock));
  }
}

Status CopyWriters::Add(wire::Frame changes) {
  Item item;
  item.kind = Item::Kind::kAdd;
  item.frame = std::move(changes);
  return Queue(std::move(item));
}

Status CopyWriters::End() {
  Item item;
  item.kind = Item::Kind::kEnd;
  Status queued = Queue(std::move(item));
  current_ = nullptr;
  return queued;
}

Status CopyWriters::Queue(Item item) {
  if (current_ == nullptr) {
    return Status::Error("copied rows outside a chunk: the capture agent broke the protocol");
  }
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return error_ || current_->queue.size() < kQueuedFrames; });
  if (error_) return *error_;
  current_->queue.push_back(std::move(item));
  changed_.notify_all();
  return Status::Ok();
}

Status CopyWriters::WaitFor(const std::string& table) {
  std::unique_lock lock(mutex_);
  auto writing = [&] {
    return std::any_of(workers_.begin(), workers_.end(),
                       [&](const auto& worker) { return worker->table == table; });
  };
  changed_.wait(lock, [&] { return error_ || !writing(); });
  return CollectLocked(lock);
}

Status CopyWriters::Collect() {
  std::unique_lock lock(mutex_);
  return CollectLocked(lock);
}

Status CopyWriters::CollectLocked(std::unique_lock<std::mutex>& lock) {
  if (error_) return *error_;
  std::vector<ChunkDone> done = std::exchange(done_, {});
  std::set<std::string> writing;
  for (const auto& worker : workers_) {
    if (!worker->table.empty()) writing.insert(worker->table);
  }
  lock.unlock();
  for (const ChunkDone& chunk : done) on_done_(chunk);
  in_flight_ = std::move(writing);
  lock.lock();
  return Status::Ok();
}

void CopyWriters::Run(Worker& worker) {
  while (true) {
    Item item;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || !worker.queue.empty(); });
      if (stopping_) break;
      item = std::move(worker.queue.front());
      worker.queue.pop_front();
      changed_.notify_all();  // room in the queue
      if (error_) continue;   // the connection is going down: nothing more is written
    }
    Status status = RunItem(worker, item);
    std::lock_guard lock(mutex_);
    if (!status.ok() && !error_) error_ = status;
    changed_.notify_all();
  }
  worker.writer->Abort();
}

Status CopyWriters::RunItem(Worker& worker, Item& item) {
  switch (item.kind) {
    case Item::Kind::kBegin:
      if (!worker.opened) {
        FERRY_RETURN_IF_ERROR(worker.writer->Open());
        worker.opened = true;
      }
      return worker.writer->Begin(std::move(*item.job));
    case Item::Kind::kAdd:
      return worker.writer->Add(item.frame);
    case Item::Kind::kEnd: {
      Result<ChunkDone> done = worker.writer->Commit();
      if (!done.ok()) return done.status();
      std::lock_guard lock(mutex_);
      done_.push_back(std::move(done).value());
      worker.table.clear();
      return Status::Ok();
    }
  }
  return Status::Ok();
}

void CopyWriters::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

}  // namespace ferry::apply
