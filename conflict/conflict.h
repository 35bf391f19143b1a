// Conflicts: their vocabulary and how they are resolved (ARCHITECTURE.md "Conflicts").
// Pure logic, no I/O: the apply side detects a conflict, gathers the facts below from the
// target (comparisons made in the target's own types), asks Resolve what to do, does it and logs
// it. Everything here is deterministic, so that two nodes running the same policy reach the same
// row whichever order the conflicting changes arrive in.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::conflict {

enum class ConflictType {
  kInsertExists,   // an insert met a row with the same key
  kUniqueExists,   // an insert or update met another row holding one of its unique values
  kUpdateExists,   // an update's new key is held by another row
  kUpdateMissing,  // an update found no row with the key
  kUpdateDiffers,  // the row exists but differs from the source's old image
  kDeleteMissing,  // a delete found no row
  kDeleteDiffers,  // the row to delete differs from the source's old image
};

// "insert_exists", "update_missing", ...: the names in the config, the conflict log and the
// counters on /metrics.
std::string ConflictTypeName(ConflictType type);
std::optional<ConflictType> ParseConflictType(std::string_view name);
// Every type, in the order above.
const std::vector<ConflictType>& AllConflictTypes();

enum class ResolverKind {
  kSourceWins,      // the remote change is applied
  kTargetWins,      // the local row stays
  kLastWriterWins,  // the row with the later `column` value wins; ties by node name
  kPriority,        // the node earlier in `nodes` wins
  kMax,             // the row with the larger `column` wins; ties by node name
  kMin,             // the row with the smaller `column` wins; ties by node name
  kDelta,           // counters: local + (remote new - remote old) in `columns`
  kSkip,            // the remote change is dropped
  kError,           // the stream stops at this transaction until an operator fixes the row
};

// "source_wins", "last_writer_wins", ...
std::string ResolverName(ResolverKind kind);
// True for the resolvers that pick one of the two rows by comparing them (last_writer_wins,
// priority, max, min, delta): every node picks the same winner, so a row that loses to a row in
// its way loses on every node (ARCHITECTURE.md, "Conflicts": rows in the way).
bool PicksAWinner(ResolverKind kind);
std::optional<ResolverKind> ParseResolverKind(std::string_view name);

// One resolver as configured.
struct Resolver {
  ResolverKind kind = ResolverKind::kSourceWins;
  std::string column;                // last_writer_wins, max, min: the target column compared
  std::vector<std::string> columns;  // delta: the target's counter columns
  std::vector<std::string> nodes;    // priority: node names, the strongest first
};

// Text for logs and the conflict log: "last_writer_wins(updated_at)", "priority(east,west)".
std::string Describe(const Resolver& resolver);

enum class Mode {
  kMasterSlave,   // the target follows its source; a divergence is logged and resolved
  kMasterMaster,  // every node takes writes; policies must converge
};

// A table's own resolvers: a default for the table and resolvers for single types.
struct TablePolicy {
  std::optional<Resolver> fallback;
  std::map<ConflictType, Resolver> by_type;
};

// The apply config's `mode` and `conflicts` section. Tables are the target's "schema.table"
// (MySQL/MariaDB: "database.table"), where the conflicts happen.
struct ConflictPolicy {
  Mode mode = Mode::kMasterSlave;
  Resolver fallback;                          // every table and type not named below
  std::map<ConflictType, Resolver> by_type;   // per type, for every table
  std::map<std::string, TablePolicy> tables;  // by target table
  // The resolver for `type` on `table`: the table's resolver for the type, else the table's
  // default, else the policy's resolver for the type, else the policy's default.
  const Resolver& For(const std::string& table, ConflictType type) const;
};

// The policy a config without a `conflicts` section gets: master-slave: source_wins (the replica
// follows its source); master-master: error, except delete_missing: skip (both nodes deleted
// the row, which leaves nothing to decide).
ConflictPolicy DefaultPolicy(Mode mode);

// What the apply side learned about one conflict. Comparisons were made by the target database
// in the column's own type (so 1.0 = 1, 'A' = 'a' under a case-insensitive collation).
struct ConflictFacts {
  ConflictType type = ConflictType::kInsertExists;
  std::string local_node;     // this node (the apply config's node)
  std::string remote_origin;  // the node where the remote change was first written
  // last_writer_wins, max, min: the remote row's `column` against the local row's: < 0 smaller,
  // 0 equal, > 0 larger; nullopt when either is NULL or there is nothing to compare (no local
  // row, or a delete, which has no new image).
  std::optional<int> remote_vs_local;
  // The remote change carries a value for every column, so that its row can be inserted.
  bool remote_complete = true;
  // delta: the columns the remote change changed (new != old) and the columns where the local
  // row differs from the remote change's old image (changed locally).
  std::set<std::string> remote_changed;
  std::set<std::string> local_changed;
};

enum class Outcome {
  kAppliedRemote,  // the remote change was applied (an update that found no row: inserted)
  kKeptLocal,      // the local row stays as it is
  kMerged,         // a row combining both (delta)
  kSkipped,        // the remote change was dropped (skip, or nothing left to do)
  kStopped,        // the stream stopped (error)
};

// "applied_remote", "kept_local", "merged", "skipped", "stopped".
std::string OutcomeName(Outcome outcome);

struct Decision {
  Outcome outcome = Outcome::kAppliedRemote;
  // kMerged: the target columns to set from the remote change's new image (besides the delta
  // columns, which get local + (remote new - remote old); for insert_exists, old counts as 0).
  std::set<std::string> take_remote;
  // Why, for the log: "remote updated_at is later", "east precedes west in priority".
  std::string reason;
};

// What `resolver` makes of the conflict `facts` describe. What kAppliedRemote means per type:
// insert_exists: the local row is overwritten; unique_exists / update_exists: the rows in the
// way are deleted and the change applied; update_missing: the remote row is inserted;
// update_differs: the remote row is written; delete_differs: the row is deleted; delete_missing:
// nothing to do (reported as kSkipped). Where an outcome cannot be carried out (an insert of an
// incomplete row) the decision is kKeptLocal with the reason.
Decision Resolve(const Resolver& resolver, const ConflictFacts& facts);

// Ok when `policy` can be run in its mode; otherwise every problem, one per line, each naming
// the table and type and the fix. Both modes: last_writer_wins, max and min need `column`, delta
// needs `columns`, priority needs `nodes` (each once). In master-master every node must run the
// same policy, and it must converge: both orders of arrival of two conflicting changes leave the
// same row on both nodes, checked by playing each race (insert/insert, unique values, key
// move/insert, update/update, update/delete) between two nodes running the policy. So source_wins,
// target_wins and skip are refused on the symmetric types (the rows would swap, or each node keep
// its own; a priority says "this node wins" the same way on both nodes), update_missing and
// delete_differs must agree on whether the update or the delete wins, and insert_exists and
// update_exists on which row wins when one node moves a row onto a key the other inserts. Column
// names are not checked against tables here (the apply agent does that).
Status CheckPolicy(const ConflictPolicy& policy);

}  // namespace ferry::conflict
