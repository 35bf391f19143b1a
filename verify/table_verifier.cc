// TableVerifier: the two passes over one table and the re-check (see verify.h).
#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "common/log.h"
#include "verify/verify.h"

namespace ferry::verify {
namespace {

using Clock = std::chrono::steady_clock;

// `work` in another thread, or in this one when no thread can be started.
template <typename Work>
std::future<std::invoke_result_t<Work>> Beside(Work work) {
  try {
    return std::async(std::launch::async, std::move(work));
  } catch (const std::system_error&) {
    return std::async(std::launch::deferred, std::move(work));
  }
}

enum class Kind { kMissing, kExtra, kDiffering };

constexpr std::chrono::seconds kProgressInterval{10};

DifferenceList& ListOf(TableReport& report, Kind kind) {
  switch (kind) {
    case Kind::kMissing:
      return report.missing;
    case Kind::kExtra:
      return report.extra;
    case Kind::kDiffering:
      break;
  }
  return report.differing;
}

// Rows by the text of their key, to match the rows one side returned for a lookup.
using RowsByKey = std::unordered_map<std::string, const Row*>;

template <typename KeyText>
RowsByKey IndexRows(const std::vector<Row>& rows, const KeyedRelation& table, KeyText key_text) {
  RowsByKey index;
  index.reserve(rows.size());
  for (const Row& row : rows) index.emplace(key_text(capture::KeyOf(table, row)), &row);
  return index;
}

const Row* Find(const RowsByKey& index, const std::string& key) {
  auto found = index.find(key);
  return found == index.end() ? nullptr : found->second;
}

// Logs how far a pass is, at most every kProgressInterval.
class Progress {
 public:
  Progress(std::string table, std::string pass)
      : table_(std::move(table)), pass_(std::move(pass)) {}
  void Add(size_t rows) {
    rows_ += rows;
    const Clock::time_point now = Clock::now();
    if (now - last_ < kProgressInterval) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    Logger("verify")->info("{}: {}: {} rows ({:.0f} rows/s)", table_, pass_, rows_,
                           seconds > 0 ? rows_ / seconds : 0.0);
  }

 private:
  std::string table_;
  std::string pass_;
  uint64_t rows_ = 0;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = start_;
};

}  // namespace

struct TableVerifier::Pending {
  Kind kind = Kind::kMissing;
  std::optional<Key> source_key;  // unknown for a target row whose key the source cannot hold
  std::optional<Key> target_key;  // unknown for a source row whose key apply cannot write
  std::vector<std::string> columns;
};

TableVerifier::TableVerifier(capture::TableReader& source, const KeyedRelation& source_table,
                             capture::TableReader& target, const KeyedRelation& target_table,
                             const RowPlan& plan, VerifyOptions options, Sleep sleep)
    : source_(source),
      source_table_(source_table),
      target_(target),
      target_table_(target_table),
      plan_(plan),
      options_(options),
      sleep_(std::move(sleep)) {}

void TableVerifier::UseChecksums(ChunkChecksummer& source, ChunkChecksummer& target,
                                 RowPlan::ChecksumColumns columns) {
  source_sums_ = &source;
  target_sums_ = &target;
  checksum_columns_ = std::move(columns);
}

void TableVerifier::Remember(Pending difference, TableReport& report,
                             std::vector<Pending>& pending) {
  if (pending.size() < options_.rechecked_keys) {
    pending.push_back(std::move(difference));
    return;
  }
  // Counted as found; there is no room to read it again or to list it.
  ++report.not_rechecked;
  ++ListOf(report, difference.kind).count;
}

Status TableVerifier::CompareSourceRows(const std::vector<Row>& rows, TableReport& report,
                                        std::vector<Pending>& pending) {
  std::vector<std::optional<Key>> target_keys;
  std::vector<Key> lookup;
  for (const Row& row : rows) {
    Result<Key> key = plan_.TargetKeyOf(row);
    target_keys.push_back(key.ok() ? std::optional<Key>(*key) : std::nullopt);
    if (key.ok()) lookup.push_back(std::move(key).value());
  }
  Result<std::vector<Row>> found = target_.ReadKeys(target_table_, lookup);
  if (!found.ok()) return found.status().WithContext("reading the target by key");
  const RowsByKey on_target =
      IndexRows(*found, target_table_, [&](const Key& key) { return plan_.TargetKeyText(key); });
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row* match =
        target_keys[i] ? Find(on_target, plan_.TargetKeyText(*target_keys[i])) : nullptr;
    Pending difference{Kind::kMissing, capture::KeyOf(source_table_, rows[i]), target_keys[i], {}};
    if (match != nullptr) {
      difference.columns = plan_.DifferingColumns(rows[i], *match);
      if (difference.columns.empty()) continue;
      difference.kind = Kind::kDiffering;
    }
    Remember(std::move(difference), report, pending);
  }
  return Status::Ok();
}

Status TableVerifier::LookUpTargetRows(const std::vector<Row>& rows, TableReport& report,
                                       std::vector<Pending>& pending) {
  std::vector<std::optional<Key>> source_keys;
  std::vector<Key> lookup;
  for (const Row& row : rows) {
    Result<Key> key = plan_.SourceKeyOf(row);
    source_keys.push_back(key.ok() ? std::optional<Key>(*key) : std::nullopt);
    if (key.ok()) lookup.push_back(std::move(key).value());
  }
  Result<std::vector<Row>> found = source_.ReadKeys(source_table_, lookup);
  if (!found.ok()) return found.status().WithContext("reading the source by key");
  const RowsByKey on_source =
      IndexRows(*found, source_table_, [&](const Key& key) { return plan_.SourceKeyText(key); });
  for (size_t i = 0; i < rows.size(); ++i) {
    if (source_keys[i] && Find(on_source, plan_.SourceKeyText(*source_keys[i])) != nullptr) {
      continue;
    }
    Remember(Pending{Kind::kExtra, source_keys[i], capture::KeyOf(target_table_, rows[i]), {}},
             report, pending);
  }
  return Status::Ok();
}

Status TableVerifier::SourcePass(TableReport& report, std::vector<Pending>& pending) {
  Progress progress(report.source_table, "source rows compared");
  Key after;
  for (;;) {
    Result<capture::Chunk> chunk = source_.ReadChunk(source_table_, after, options_.chunk_rows);
    if (!chunk.ok()) return chunk.status().WithContext("reading the source");
    report.source_rows += chunk->rows.size();
    FERRY_RETURN_IF_ERROR(CompareSourceRows(chunk->rows, report, pending));
    progress.Add(chunk->rows.size());
    if (chunk->exhausted || chunk->rows.empty()) return Status::Ok();
    after = capture::KeyOf(source_table_, chunk->rows.back());
  }
}

Status TableVerifier::TargetPass(TableReport& report, std::vector<Pending>& pending) {
  Progress progress(report.source_table, "target rows looked up on the source");
  Key after;
  for (;;) {
    Result<capture::Chunk> chunk = target_.ReadChunk(target_table_, after, options_.chunk_rows);
    if (!chunk.ok()) return chunk.status().WithContext("reading the target");
    report.target_rows += chunk->rows.size();
    FERRY_RETURN_IF_ERROR(LookUpTargetRows(chunk->rows, report, pending));
    progress.Add(chunk->rows.size());
    if (chunk->exhausted || chunk->rows.empty()) return Status::Ok();
    after = capture::KeyOf(target_table_, chunk->rows.back());
  }
}

Status TableVerifier::CompareChunkRowByRow(const Key& after, uint64_t source_rows,
                                           uint64_t target_rows, TableReport& report,
                                           std::vector<Pending>& pending) {
  if (source_rows > 0) {
    Result<capture::Chunk> chunk = source_.ReadChunk(source_table_, after, source_rows);
    if (!chunk.ok()) return chunk.status().WithContext("reading the source");
    FERRY_RETURN_IF_ERROR(CompareSourceRows(chunk->rows, report, pending));
  }
  // The target's rows of the range, a chunk at a time: the last range has no upper bound, so
  // it can hold any number of extra rows.
  Key from = after;
  for (uint64_t left = target_rows; left > 0;) {
    Result<capture::Chunk> chunk =
        target_.ReadChunk(target_table_, from, std::min<uint64_t>(left, options_.chunk_rows));
    if (!chunk.ok()) return chunk.status().WithContext("reading the target");
    if (chunk->rows.empty()) break;
    FERRY_RETURN_IF_ERROR(LookUpTargetRows(chunk->rows, report, pending));
    left -= std::min<uint64_t>(left, chunk->rows.size());
    from = capture::KeyOf(target_table_, chunk->rows.back());
  }
  return Status::Ok();
}

Result<ChunkSum> TableVerifier::SourceChunkSum(const Key& after) {
  Result<ChunkSum> sum =
      source_sums_->NextChunk(source_table_, checksum_columns_.source, after, options_.chunk_rows);
  if (!sum.ok()) return sum.status().WithContext("checksumming the source");
  if (sum->rows > 0 && sum->last.empty()) {
    return Status::Error("checksumming the source: a chunk has rows but no last key");
  }
  return sum;
}

Result<ChunkSum> TableVerifier::TargetRangeSum(const Key& after, const Key& upto) {
  Result<ChunkSum> sum = target_sums_->Range(target_table_, checksum_columns_.target, after, upto);
  if (!sum.ok()) return sum.status().WithContext("checksumming the target");
  return sum;
}

// Both keys are the same columns of one engine (RowPlan::ChecksumColumnsIfComparable), so a
// source key bounds the target's range as it is. While the target sums a chunk's range in
// another thread, the source sums the next chunk: the two databases work at once.
Status TableVerifier::ChecksumPass(TableReport& report, std::vector<Pending>& pending) {
  Progress progress(report.source_table, "source rows compared by checksum");
  Key after;
  Result<ChunkSum> source = SourceChunkSum(after);
  for (;;) {
    if (!source.ok()) return source.status();
    // The last chunk takes every target row after it: those are extra.
    const bool last = source->rows < options_.chunk_rows;
    const Key upto = last ? Key() : source->last;
    std::future<Result<ChunkSum>> target_sum =
        Beside([this, after, upto] { return TargetRangeSum(after, upto); });
    Result<ChunkSum> next = last ? Result<ChunkSum>(ChunkSum{}) : SourceChunkSum(source->last);
    Result<ChunkSum> target = target_sum.get();
    if (!target.ok()) return target.status();
    report.source_rows += source->rows;
    report.target_rows += target->rows;
    ++report.checksum_chunks;
    if (source->rows != target->rows || source->checksum != target->checksum) {
      ++report.chunks_read_row_by_row;
      FERRY_RETURN_IF_ERROR(
          CompareChunkRowByRow(after, source->rows, target->rows, report, pending));
    }
    progress.Add(source->rows);
    if (last) return Status::Ok();
    after = source->last;
    source = std::move(next);
  }
}

Status TableVerifier::Reclassify(std::vector<Pending>& pending) {
  std::vector<Key> source_keys, target_keys;
  for (const Pending& difference : pending) {
    if (difference.source_key) source_keys.push_back(*difference.source_key);
    if (difference.target_key) target_keys.push_back(*difference.target_key);
  }
  Result<std::vector<Row>> source_rows = source_.ReadKeys(source_table_, source_keys);
  if (!source_rows.ok()) return source_rows.status().WithContext("re-reading the source");
  Result<std::vector<Row>> target_rows = target_.ReadKeys(target_table_, target_keys);
  if (!target_rows.ok()) return target_rows.status().WithContext("re-reading the target");
  const RowsByKey on_source = IndexRows(*source_rows, source_table_,
                                        [&](const Key& key) { return plan_.SourceKeyText(key); });
  const RowsByKey on_target = IndexRows(*target_rows, target_table_,
                                        [&](const Key& key) { return plan_.TargetKeyText(key); });
  std::vector<Pending> still;
  for (Pending& difference : pending) {
    const Row* source_row = difference.source_key
                                ? Find(on_source, plan_.SourceKeyText(*difference.source_key))
                                : nullptr;
    const Row* target_row = difference.target_key
                                ? Find(on_target, plan_.TargetKeyText(*difference.target_key))
                                : nullptr;
    if (source_row == nullptr && target_row == nullptr) continue;  // deleted on both: agree
    difference.columns.clear();
    if (source_row != nullptr && target_row != nullptr) {
      difference.columns = plan_.DifferingColumns(*source_row, *target_row);
      if (difference.columns.empty()) continue;
      difference.kind = Kind::kDiffering;
    } else {
      difference.kind = source_row != nullptr ? Kind::kMissing : Kind::kExtra;
    }
    still.push_back(std::move(difference));
  }
  pending = std::move(still);
  return Status::Ok();
}

Status TableVerifier::Recheck(TableReport& report, std::vector<Pending>& pending) {
  // A row changed between the passes can have been found by both (differing, then extra once
  // deleted on the source): it is one difference.
  std::set<std::string> seen;
  std::vector<Pending> unique;
  for (Pending& difference : pending) {
    const std::string identity = difference.source_key
                                     ? "s" + plan_.SourceKeyText(*difference.source_key)
                                     : "t" + plan_.TargetKeyText(*difference.target_key);
    if (seen.insert(identity).second) unique.push_back(std::move(difference));
  }
  pending = std::move(unique);
  for (int round = 0; round < options_.recheck_rounds && !pending.empty(); ++round) {
    sleep_(options_.recheck_delay);
    const size_t before = pending.size();
    FERRY_RETURN_IF_ERROR(Reclassify(pending));
    ++report.recheck_rounds;
    if (pending.size() >= before) break;  // nothing was in flight any more
  }
  return Status::Ok();
}

void TableVerifier::List(const std::vector<Pending>& pending, TableReport& report) const {
  for (const Pending& difference : pending) {
    DifferenceList& list = ListOf(report, difference.kind);
    ++list.count;
    if (list.listed.size() >= options_.listed_keys) continue;
    ListedDifference listed;
    const bool by_target = difference.kind == Kind::kExtra || !difference.source_key;
    const std::vector<std::string> names =
        by_target ? plan_.TargetKeyNames() : plan_.SourceKeyNames();
    const Key& key = by_target ? *difference.target_key : *difference.source_key;
    for (size_t i = 0; i < key.size() && i < names.size(); ++i) {
      listed.key.emplace_back(names[i], key[i]);
    }
    if (options_.columns) listed.columns = difference.columns;
    list.listed.push_back(std::move(listed));
  }
}

Result<TableReport> TableVerifier::Run() {
  const Clock::time_point start = Clock::now();
  TableReport report;
  report.source_table = source_table_.relation.schema() + "." + source_table_.relation.table();
  report.target_table = target_table_.relation.schema() + "." + target_table_.relation.table();
  std::vector<Pending> pending;
  if (source_sums_ != nullptr && target_sums_ != nullptr) {
    FERRY_RETURN_IF_ERROR(ChecksumPass(report, pending));
  } else {
    FERRY_RETURN_IF_ERROR(SourcePass(report, pending));
    FERRY_RETURN_IF_ERROR(TargetPass(report, pending));
  }
  FERRY_RETURN_IF_ERROR(Recheck(report, pending));
  List(pending, report);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace ferry::verify
