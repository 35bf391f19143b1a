#include "capture/table_copier.h"

#include <algorithm>

#include "common/log.h"
#include "wire/row_change.h"

namespace ferry::capture {
namespace {

using Clock = std::chrono::steady_clock;

// Enough to hold every transaction that can still be committing while a chunk's read begins.
constexpr size_t kRecentTransactions = 256;
// A read that overlapped a commit in flight is repeated after this pause.
constexpr std::chrono::milliseconds kRereadPause{50};

std::pair<std::string, std::string> SplitTable(const std::string& table) {
  const size_t dot = table.find('.');
  if (dot == std::string::npos) return {"", table};
  return {table.substr(0, dot), table.substr(dot + 1)};
}

std::string KeyText(const Key& key) {
  std::string text;
  for (const wire::Value& value : key) {
    if (!text.empty()) text += ", ";
    text += value.ShortDebugString();
  }
  return "(" + text + ")";
}

bool HasUnchanged(const wire::RowChange& row) {
  for (const wire::Value& value : row.new_values()) {
    if (value.has_unchanged()) return true;
  }
  return false;
}

}  // namespace

Status TooLargeWithoutKey(const std::string& table) {
  return Status::Error(
      "cannot copy " + table + ": it has no primary key (nor replica identity index) and more " +
      "rows than copy_chunk_rows, and a table without key is copied in one chunk held in " +
      "memory; add a primary key, or raise copy_chunk_rows in the capture config above its " +
      "row count, or seed it by other means and set copy_data: false in the apply config");
}

std::string EncodeKey(const Key& key) {
  std::string encoded;
  for (const wire::Value& value : key) {
    const std::string bytes = value.SerializeAsString();
    encoded += std::to_string(bytes.size()) + ":" + bytes;
  }
  return encoded;
}

TableCopier::TableCopier(std::unique_ptr<ChunkReader> reader, std::vector<wire::TableCopy> tables,
                         TableCopierOptions options, FrameSender send)
    : reader_(std::move(reader)), options_(options), send_(std::move(send)) {
  for (wire::TableCopy& table : tables) {
    Task task;
    task.table = table.table();
    task.after.assign(table.after_key().begin(), table.after_key().end());
    tasks_.push_back(std::move(task));
  }
}

std::chrono::milliseconds TableCopier::TimeToNextRead() const {
  if (waiting_ || tasks_.empty()) return std::chrono::hours(1);
  const auto left = read_after_ - Clock::now();
  if (left <= Clock::duration::zero()) return std::chrono::milliseconds(0);
  // Rounded up: waking a little late is harmless, waking early only spins.
  return std::chrono::ceil<std::chrono::milliseconds>(left);
}

Status TableCopier::Poll(const std::optional<wire::Position>& head) {
  if (!waiting_ && !tasks_.empty() && Clock::now() >= read_after_) {
    FERRY_RETURN_IF_ERROR(ReadNextChunk());
  }
  if (waiting_ && head) return OnHead(*head);
  return Status::Ok();
}

Status TableCopier::Describe(Task& task) {
  auto [schema, table] = SplitTable(task.table);
  Result<KeyedRelation> relation = reader_->Describe(schema, table);
  if (!relation.ok()) return relation.status().WithContext("copying " + task.table);
  Result<uint64_t> estimate = reader_->EstimateRows(*relation);
  if (!estimate.ok()) return estimate.status().WithContext("copying " + task.table);
  Result<std::vector<wire::SecondaryIndex>> indexes = reader_->SecondaryIndexes(*relation);
  if (!indexes.ok()) return indexes.status().WithContext("copying " + task.table);
  task.indexes = std::move(indexes).value();
  task.relation = std::move(relation).value();
  task.rows_estimate = *estimate;
  Logger("capture")->info("copying {} (about {} rows){}", task.table, task.rows_estimate,
                          task.after.empty() ? "" : ", resuming after key " + KeyText(task.after));
  return Status::Ok();
}

Status TableCopier::ReadNextChunk() {
  Task& task = tasks_.front();
  if (!task.relation) FERRY_RETURN_IF_ERROR(Describe(task));
  // A table without key cannot be read in key ranges: it is read whole, in one chunk.
  const bool whole = task.relation->key.empty();
  Result<FencedChunk> read =
      reader_->ReadChunk(*task.relation, whole ? Key() : task.after,
                         whole ? options_.chunk_rows + 1 : options_.chunk_rows);
  if (!read.ok()) return read.status().WithContext("copying " + task.table);
  if (whole) {
    if (read->chunk.rows.size() > options_.chunk_rows) return TooLargeWithoutKey(task.table);
    read->chunk.exhausted = true;
  }
  if (!RecentTransactionsIncluded(*read->fence)) {
    // A transaction already streamed was still committing when the read began: the chunk holds
    // an older state of its rows than the target does. Read again once it is visible.
    read_after_ = Clock::now() + kRereadPause;
    Logger("capture")->debug("read of {} missed a transaction already streamed: reading again",
                             task.table);
    return Status::Ok();
  }
  Logger("capture")->debug("read {} rows of {} after {}, fence {}", read->chunk.rows.size(),
                           task.table, KeyText(task.after), read->fence->Describe());
  Waiting waiting;
  if (!read->chunk.rows.empty()) waiting.last_key = KeyOf(*task.relation, read->chunk.rows.back());
  waiting.read = std::move(read).value();
  waiting_ = std::move(waiting);
  return Status::Ok();
}

bool TableCopier::RecentTransactionsIncluded(const ChunkFence& fence) {
  for (const wire::Begin& begin : recent_) {
    Result<FencePlace> place = fence.Place(begin);
    if (!place.ok() || *place != FencePlace::kIncluded) return false;
  }
  return true;
}

Status TableCopier::OnBegin(const wire::Begin& begin) {
  recent_.push_back(begin);
  if (recent_.size() > kRecentTransactions) recent_.pop_front();
  concurrent_ = false;
  if (!waiting_) return Status::Ok();
  Result<FencePlace> place = waiting_->read.fence->Place(begin);
  if (!place.ok()) return place.status().WithContext("placing a copied chunk in the stream");
  switch (*place) {
    case FencePlace::kAfter:
      Logger("capture")->debug("chunk goes before transaction {} (xid {})",
                               begin.position().value(), begin.xid());
      return SendWaiting();
    case FencePlace::kConcurrent:
      Logger("capture")->debug("transaction {} (xid {}) is concurrent with the chunk's read",
                               begin.position().value(), begin.xid());
      concurrent_ = true;
      break;
    case FencePlace::kIncluded:
      break;
  }
  return Status::Ok();
}

void TableCopier::OnRelation(const wire::Relation& relation) {
  relations_[relation.id()] = relation.schema() + "." + relation.table();
}

bool TableCopier::IsCopiedTable(uint32_t relation_id) const {
  const auto name = relations_.find(relation_id);
  return name != relations_.end() && name->second == tasks_.front().table;
}

void TableCopier::OnRow(const wire::RowChange& row) {
  if (!concurrent_ || !waiting_) return;
  if (row.op() == wire::RowChange::TRUNCATE) {
    // The chunk may hold rows the target no longer has: read it again.
    for (uint32_t id : wire::TruncatedRelationIds(row)) {
      if (IsCopiedTable(id)) waiting_->must_reread = true;
    }
    return;
  }
  if (!IsCopiedTable(row.relation_id())) return;
  const KeyedRelation& relation = *tasks_.front().relation;
  // Rows of a table without key cannot be told apart: read the whole table again.
  if (relation.key.empty()) waiting_->must_reread = true;
  // Without every value, the stream cannot bring the row's whole state: read it again.
  if (row.op() == wire::RowChange::UPDATE && HasUnchanged(row)) waiting_->must_reread = true;
  if (row.old_values_size() > 0) LeaveOut(relation, row.old_values());
  if (row.new_values_size() > 0) LeaveOut(relation, row.new_values());
}

void TableCopier::LeaveOut(const KeyedRelation& table,
                           const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  Key key;
  for (int column : table.key) {
    if (column >= values.size()) return;
    key.push_back(values.Get(column));
  }
  std::string encoded = EncodeKey(key);
  waiting_->left_out.emplace(std::move(encoded), std::move(key));
}

Status TableCopier::OnHead(const wire::Position& head) {
  if (!waiting_) return Status::Ok();
  Result<bool> passed = waiting_->read.fence->PassedBy(head);
  if (!passed.ok()) return passed.status().WithContext("placing a copied chunk in the stream");
  if (!*passed) return Status::Ok();
  Logger("capture")->debug("chunk goes at head {}", head.value());
  return SendWaiting();
}

Status TableCopier::SendWaiting() {
  Waiting waiting = std::move(*waiting_);
  waiting_.reset();
  concurrent_ = false;
  if (waiting.must_reread) return Status::Ok();  // the same range is read again next Poll
  Task& task = tasks_.front();
  Result<size_t> sent = SendChunkFrames(task, waiting);
  if (!sent.ok()) return sent.status();
  task.rows_sent += *sent;
  ++task.chunks_sent;
  Pace(*sent);
  if (!waiting.last_key.empty()) task.after = waiting.last_key;
  if (waiting.read.chunk.exhausted) {
    Logger("capture")->info("copied {}: {} rows in {} chunks", task.table, task.rows_sent,
                            task.chunks_sent);
    tasks_.pop_front();
  } else {
    NextTable();
  }
  return Status::Ok();
}

void TableCopier::Pace(size_t rows_sent) {
  if (options_.max_rows_per_second == 0) return;
  // Counted from the later of now and the last chunk's turn, so idle time earns no burst.
  const auto cost = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
      static_cast<double>(rows_sent) / static_cast<double>(options_.max_rows_per_second)));
  read_after_ = std::max(read_after_, Clock::now()) + cost;
}

void TableCopier::NextTable() {
  const size_t turn = std::min(options_.parallel_tables, tasks_.size());
  if (turn <= 1) return;
  Task task = std::move(tasks_.front());
  tasks_.pop_front();
  tasks_.insert(tasks_.begin() + static_cast<std::ptrdiff_t>(turn - 1), std::move(task));
}

Result<size_t> TableCopier::SendChunkFrames(const Task& task, const Waiting& waiting) {
  wire::Begin begin;
  wire::CopyChunk& copy = *begin.mutable_copy();
  copy.set_table(task.table);
  const Key& last = waiting.last_key.empty() ? task.after : waiting.last_key;
  for (const wire::Value& value : last) *copy.add_last_key() = value;
  copy.set_table_done(waiting.read.chunk.exhausted);
  copy.set_rows_estimate(task.rows_estimate);
  copy.set_whole_table(task.relation->key.empty());
  for (int column : task.relation->key) copy.add_key_columns(static_cast<uint32_t>(column));
  for (const auto& [encoded, key] : waiting.left_out) {
    wire::Key& kept = *copy.add_kept();
    for (const wire::Value& value : key) *kept.add_values() = value;
  }
  if (copy.table_done()) {
    for (const wire::SecondaryIndex& index : task.indexes) *copy.add_indexes() = index;
  }
  FERRY_RETURN_IF_ERROR(send_(wire::FrameType::kBegin, begin));

  wire::Changes changes;
  *changes.add_changes()->mutable_relation() = task.relation->relation;
  size_t bytes = 0;
  size_t rows = 0;
  for (const Row& row : waiting.read.chunk.rows) {
    if (!waiting.left_out.empty() &&
        waiting.left_out.count(EncodeKey(KeyOf(*task.relation, row))) > 0) {
      continue;
    }
    wire::RowChange& insert = *changes.add_changes()->mutable_row();
    insert.set_op(wire::RowChange::INSERT);
    insert.set_relation_id(task.relation->relation.id());
    for (const wire::Value& value : row) *insert.add_new_values() = value;
    ++rows;
    bytes += insert.ByteSizeLong();
    if (static_cast<size_t>(changes.changes_size()) >= options_.rows_per_frame ||
        bytes >= options_.bytes_per_frame) {
      FERRY_RETURN_IF_ERROR(send_(wire::FrameType::kChanges, changes));
      changes.Clear();
      bytes = 0;
    }
  }
  if (changes.changes_size() > 0) FERRY_RETURN_IF_ERROR(send_(wire::FrameType::kChanges, changes));
  FERRY_RETURN_IF_ERROR(send_(wire::FrameType::kCommit, wire::Commit()));
  return rows;
}

}  // namespace ferry::capture
