#include "apply/copy_tracker.h"

#include <algorithm>

namespace ferry::apply {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// An image of the relation's source columns holding `key` at `key_columns`, null elsewhere.
RowImage KeyImage(const MappedRelation& relation, const std::vector<int>& key_columns,
                  const google::protobuf::RepeatedPtrField<wire::Value>& key) {
  RowImage image;
  for (int i = 0; i < relation.source.columns_size(); ++i) image.Add()->mutable_null();
  for (size_t i = 0; i < key_columns.size() && static_cast<int>(i) < key.size(); ++i) {
    if (key_columns[i] < image.size())
      *image.Mutable(key_columns[i]) = key.Get(static_cast<int>(i));
  }
  return image;
}

}  // namespace

bool KeyOrderIsPortable(const MappedRelation& relation, const std::vector<int>& key_columns) {
  if (key_columns.empty()) return false;
  for (int index : key_columns) {
    const auto column =
        std::find_if(relation.columns.begin(), relation.columns.end(),
                     [&](const MappedColumn& mapped) { return mapped.source_index == index; });
    if (column == relation.columns.end() || column->convert_to) return false;
    switch (column->source.type()) {
      case wire::LOGICAL_TYPE_INT:
      case wire::LOGICAL_TYPE_UINT:
      case wire::LOGICAL_TYPE_DECIMAL:
      case wire::LOGICAL_TYPE_DATE:
      case wire::LOGICAL_TYPE_TIMESTAMP:
        break;
      default:
        return false;
    }
  }
  return true;
}

std::optional<CopyRange> RecopyDeletion(const wire::CopyChunk& chunk,
                                        const MappedRelation& relation,
                                        const std::vector<wire::Value>& after) {
  CopyRange range;
  range.key_columns.assign(chunk.key_columns().begin(), chunk.key_columns().end());
  const bool portable = KeyOrderIsPortable(relation, range.key_columns);
  if (!portable && !after.empty()) return std::nullopt;
  if (portable) {
    google::protobuf::RepeatedPtrField<wire::Value> start(after.begin(), after.end());
    if (!after.empty()) range.after = KeyImage(relation, range.key_columns, start);
    if (!chunk.table_done()) range.upto = KeyImage(relation, range.key_columns, chunk.last_key());
  }
  for (const wire::Key& kept : chunk.kept()) {
    range.keep.push_back(KeyImage(relation, range.key_columns, kept.values()));
  }
  return range;
}

std::string EncodeCopyKey(const google::protobuf::RepeatedPtrField<wire::Value>& key) {
  if (key.empty()) return "";
  wire::TableCopy holder;
  *holder.mutable_after_key() = key;
  const std::string bytes = holder.SerializeAsString();
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kHexDigits[byte >> 4]);
    hex.push_back(kHexDigits[byte & 0xf]);
  }
  return hex;
}

Result<std::vector<wire::Value>> DecodeCopyKey(const std::string& encoded) {
  if (encoded.empty()) return std::vector<wire::Value>();
  const Status bad = Status::Error(
      "ferry_meta.copy_progress holds a key Ferry did not write; delete the table's row there to "
      "copy the table again from its first row");
  if (encoded.size() % 2 != 0) return bad;
  std::string bytes;
  bytes.reserve(encoded.size() / 2);
  for (size_t i = 0; i < encoded.size(); i += 2) {
    const int high = HexValue(encoded[i]);
    const int low = HexValue(encoded[i + 1]);
    if (high < 0 || low < 0) return bad;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  wire::TableCopy holder;
  if (!holder.ParseFromString(bytes)) return bad;
  return std::vector<wire::Value>(holder.after_key().begin(), holder.after_key().end());
}

CopyTracker::CopyTracker(const std::vector<CopyProgress>& recorded) {
  for (const CopyProgress& progress : recorded) tables_[progress.table].progress = progress;
}

wire::CopyRequest CopyTracker::Request(bool never_applied, bool copy_data) const {
  wire::CopyRequest request;
  if (tables_.empty()) {
    request.set_initial(never_applied && copy_data);
    return request;
  }
  for (const auto& [name, table] : tables_) {
    if (table.progress.done) continue;
    wire::TableCopy& copy = *request.add_tables();
    copy.set_table(name);
    // Recorded by this agent, so it decodes; a key that does not is reported by Connect.
    Result<std::vector<wire::Value>> key = DecodeCopyKey(table.progress.after_key);
    if (key.ok()) {
      for (wire::Value& value : *key) *copy.add_after_key() = std::move(value);
    }
  }
  return request;
}

std::vector<CopyProgress> CopyTracker::Planned(const wire::Welcome& welcome) const {
  std::vector<CopyProgress> planned;
  for (const std::string& table : welcome.copy_tables()) {
    if (tables_.count(table) != 0) continue;
    CopyProgress progress;
    progress.table = table;
    planned.push_back(std::move(progress));
  }
  return planned;
}

std::vector<CopyProgress> CopyTracker::Added(const wire::Welcome& welcome) const {
  std::vector<CopyProgress> added;
  if (tables_.empty()) return added;
  for (const std::string& table : welcome.replicated_tables()) {
    if (tables_.count(table) != 0) continue;
    CopyProgress progress;
    progress.table = table;
    added.push_back(std::move(progress));
  }
  return added;
}

CopyProgress CopyTracker::AfterChunk(const wire::CopyChunk& chunk, uint64_t rows) const {
  CopyProgress progress;
  progress.table = chunk.table();
  progress.after_key = EncodeCopyKey(chunk.last_key());
  const auto known = tables_.find(chunk.table());
  progress.rows_copied = rows + (known == tables_.end() ? 0 : known->second.progress.rows_copied);
  progress.done = chunk.table_done();
  progress.resync = known != tables_.end() && known->second.progress.resync;
  return progress;
}

void CopyTracker::Committed(const CopyProgress& progress, uint64_t rows_estimate) {
  Table& table = tables_[progress.table];
  // A re-copy starts its table's count again from 0.
  if (progress.rows_copied > table.progress.rows_copied) {
    rows_this_session_ += progress.rows_copied - table.progress.rows_copied;
  }
  table.progress = progress;
  table.rows_estimate = std::max(rows_estimate, progress.rows_copied);
  current_ = progress.table;
}

CopyProgress CopyTracker::Recopy(const std::string& table) {
  CopyProgress progress;
  progress.table = table;
  progress.resync = true;
  return progress;
}

std::optional<std::vector<wire::Value>> CopyTracker::RecopyAfter(const std::string& table) const {
  const auto known = tables_.find(table);
  if (known == tables_.end() || !known->second.progress.resync) return std::nullopt;
  Result<std::vector<wire::Value>> key = DecodeCopyKey(known->second.progress.after_key);
  // Recorded by this agent, so it decodes; a key that does not is reported by Connect.
  return key.ok() ? *key : std::vector<wire::Value>();
}

bool CopyTracker::Copying(const std::string& table) const {
  const auto known = tables_.find(table);
  return known != tables_.end() && !known->second.progress.done;
}

admin::CopyStatus CopyTracker::Status() const {
  admin::CopyStatus status;
  if (tables_.empty()) return status;
  status.table = current_;
  status.tables_total = tables_.size();
  uint64_t rows_left = 0;
  for (const auto& [name, table] : tables_) {
    status.tables_done += table.progress.done ? 1 : 0;
    status.rows_copied += table.progress.rows_copied;
    status.rows_estimate += table.progress.done ? table.progress.rows_copied : table.rows_estimate;
    if (!table.progress.done && table.rows_estimate > table.progress.rows_copied) {
      rows_left += table.rows_estimate - table.progress.rows_copied;
    }
  }
  status.state = status.tables_done == status.tables_total ? "done" : "copying";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  if (seconds > 0 && rows_this_session_ > 0) {
    status.rows_per_second = static_cast<double>(rows_this_session_) / seconds;
    status.eta_seconds = static_cast<double>(rows_left) / status.rows_per_second;
  }
  if (status.state == "done") status.eta_seconds = 0;
  return status;
}

}  // namespace ferry::apply
