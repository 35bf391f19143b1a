// The apply side's view of one upstream's copy of existing rows (ARCHITECTURE.md "Copying
// existing rows"): which tables are copied, after which key each resumes, and the progress
// figures /status shows. Built from ferry_meta.copy_progress on every (re)connect, so it holds
// nothing the target does not (invariant 2: the target is the only truth about progress).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "admin/registry.h"
#include "apply/sink.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply {

class CopyTracker {
 public:
  explicit CopyTracker(const std::vector<CopyProgress>& recorded);

  // The Hello's copy request. A subscriber that never applied anything and never recorded a
  // copy asks for every table (when copying is wanted); otherwise the unfinished tables resume.
  wire::CopyRequest Request(bool never_applied, bool copy_data) const;

  // The tables the capture agent named for an initial copy, as not yet started.
  std::vector<CopyProgress> Planned(const wire::Welcome& welcome) const;

  // Tables the stream carries (Welcome.replicated_tables) that a subscriber which copies (one
  // with a copy recorded) has never copied: added to the replicated set since, to be copied
  // like the others. None for a subscriber that never copied (copy_data: false, or seeded
  // before Ferry copied).
  std::vector<CopyProgress> Added(const wire::Welcome& welcome) const;

  // The progress to record with a chunk of `rows` rows. An error when the chunk's key cannot be
  // encoded (it always can: it came from a parsed frame).
  CopyProgress AfterChunk(const wire::CopyChunk& chunk, uint64_t rows) const;

  // `progress` is committed on the target.
  void Committed(const CopyProgress& progress, uint64_t rows_estimate);

  // The progress that starts a re-copy of `table` from its first row (ferry snapshot).
  static CopyProgress Recopy(const std::string& table);

  // For a chunk of a re-copy: the key after which the chunk's range starts (empty: the first
  // chunk). nullopt when `table` is not being re-copied.
  std::optional<std::vector<wire::Value>> RecopyAfter(const std::string& table) const;

  // True while `table` ("schema.table") is being copied: changes to rows the copy has not
  // reached yet are expected to miss their row, and are not divergences.
  bool Copying(const std::string& table) const;

  admin::CopyStatus Status() const;

 private:
  struct Table {
    CopyProgress progress;
    uint64_t rows_estimate = 0;
  };
  std::map<std::string, Table> tables_;
  std::string current_;  // the table of the last chunk
  uint64_t rows_this_session_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// What a re-copy chunk deletes on the target before its rows go in: the target rows in its key
// range, (after, chunk.last_key] or to the end when the table is done, but the keys the chunk
// left out (chunk.kept: the stream brought their state). Ranges compare keys as the target
// orders them, which is the source's order only for keys of numbers and dates; for any other key
// the first chunk deletes every row but those kept, and later chunks delete nothing (nullopt).
// `after` is RecopyAfter's key; the keys are images of the relation's source columns.
std::optional<CopyRange> RecopyDeletion(const wire::CopyChunk& chunk,
                                        const MappedRelation& relation,
                                        const std::vector<wire::Value>& after);

// True when every column of `key_columns` is a number or a date, not converted by the
// mapping: its order is the same in every engine (unlike text, whose order is a collation's).
bool KeyOrderIsPortable(const MappedRelation& relation, const std::vector<int>& key_columns);

// A copy chunk's key as stored in CopyProgress::after_key (hex of its protobuf encoding), and
// back. "" is the empty key: from the first row.
std::string EncodeCopyKey(const google::protobuf::RepeatedPtrField<wire::Value>& key);
Result<std::vector<wire::Value>> DecodeCopyKey(const std::string& encoded);

}  // namespace ferry::apply
