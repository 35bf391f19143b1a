// What the apply side knows about one conflict: the context a remote change arrives with, and
// the record of a conflict met applying it, as ferry_meta.conflicts, /conflicts and the log show
// it (ARCHITECTURE.md "Conflicts").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apply/table_mapping.h"
#include "conflict/conflict.h"
#include "wire/ferry.pb.h"

namespace ferry::apply {

// Where a remote change comes from, for conflict detection, resolution and the log.
struct ConflictContext {
  const conflict::ConflictPolicy* policy = nullptr;
  std::string local_node;      // this node
  std::string upstream;        // the upstream it arrived from
  std::string origin;          // the node where it was first written
  std::string position;        // its source transaction's position, as text
  int64_t commit_time_us = 0;  // the original commit time
};

// One conflict, resolved (or stopped at). Rows are JSON objects of column names to values as
// text (null: SQL NULL); values longer than kMaxLoggedValueBytes are shortened, saying their
// length.
struct ConflictRecord {
  std::string upstream;
  std::string origin;
  std::string position;
  int64_t remote_commit_us = 0;
  std::string table;  // the target's "schema.table"
  conflict::ConflictType type = conflict::ConflictType::kInsertExists;
  std::string key;  // JSON: the key columns of the remote change
  std::optional<std::string> remote_old;
  std::optional<std::string> remote_new;
  std::optional<std::string> local;
  std::optional<std::string> final_row;  // the row the target holds after it; none: no row
  std::string resolver;                  // conflict::Describe
  conflict::Outcome outcome = conflict::Outcome::kAppliedRemote;
  std::string reason;
};

inline constexpr size_t kMaxLoggedValueBytes = 1024;

// A row of ferry_meta.conflicts as read back (ferry conflicts list): text as stored, JSON rows as
// JSON text (empty: NULL).
struct LoggedConflict {
  std::string id;
  std::string at;  // "2026-12-07 02:26:50.123456" (UTC)
  std::string upstream;
  std::string origin;
  std::string position;
  std::string table;
  std::string type;
  std::string key;
  std::string resolver;
  std::string outcome;
  std::string reason;
  std::string remote_old;
  std::string remote_new;
  std::string local;
  std::string final_row;
};

// A LoggedConflict from the fields of kReadConflicts' select list, in its order: id, at,
// upstream, origin, position, table, key, type, resolver, outcome, reason, remote old, remote new,
// local, final.
LoggedConflict LoggedConflictOf(const std::vector<std::string>& fields);

// Which logged conflicts to read, newest first; empty fields match everything.
struct ConflictFilter {
  std::string table;
  std::string type;
  uint64_t limit = 20;
};

// `image` (a RowChange's old or new image) as a JSON object of the relation's mapped target
// column names; unchanged values are left out, `only` (when given) keeps just those target
// columns.
std::string ImageJson(const MappedRelation& relation,
                      const google::protobuf::RepeatedPtrField<wire::Value>& image,
                      const std::vector<std::string>* only = nullptr);

// A row read from the target (LocalRow's values, named by `columns`) as a JSON object.
std::string TextRowJson(const std::vector<std::string>& columns,
                        const std::vector<std::optional<std::string>>& values);

// The text a wire value is logged as (nullopt: NULL), before shortening.
std::optional<std::string> LoggedValue(const wire::Value& value);

// One line for the agent's log: "public.t {"id":"1"}: update_differs, last_writer_wins(ts):
// applied_remote (remote ts is later)".
std::string Summary(const ConflictRecord& record);

}  // namespace ferry::apply
