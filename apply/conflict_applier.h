// Applying a row change with conflict detection and resolution (master-master): the
// engine-neutral flow shared by every SQL sink. Each change first reads the target row it
// concerns, locked (RowEngine::ReadLocal), and compares it in the target's own types with the
// source's old image; a difference is a conflict (conflict/conflict.h), resolved by the policy's
// resolver for the table and type and reported as a ConflictRecord, which the sink writes to
// ferry_meta.conflicts in the same transaction. Detected: insert_exists, update_missing,
// update_differs, delete_missing, delete_differs, and, before an insert's or update's row is
// written, the rows in its way: unique_exists (another row holds its values on a unique index
// other than the key) and update_exists (an update moves the row onto a key another row holds).
// A row in the way is deleted when every row in the way loses (kAppliedRemote); otherwise the
// change is dropped. Invariant: the change is written only as the decisions say, and a change
// that meets no conflict is written exactly as RowApplier would. Slower than RowApplier's
// batched, pipelined path (a read per row and per other unique index), which master-slave keeps.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apply/conflict_record.h"
#include "apply/row_applier.h"
#include "apply/row_match.h"
#include "conflict/conflict.h"

namespace ferry::apply {

template <typename Table, typename Column>
class ConflictApplier {
 public:
  explicit ConflictApplier(RowEngine<Table, Column>* engine) : engine_(engine) {}

  // Applies `change` to `target`, the relation's target table, inside the engine's open
  // transaction, with nothing deferred or in flight. Returns the conflicts met, if any, with
  // their outcomes, rows in the way first; when one of them is kStopped nothing of the change
  // was written, and the caller aborts the transaction.
  Result<std::vector<ConflictRecord>> Apply(const MappedRelation& relation, const Table& target,
                                            const wire::RowChange& change,
                                            const ConflictContext& context);

 private:
  using Rows = std::vector<Column>;
  using Found = std::vector<ConflictRecord>;

  // What one change needs on its way: the bound images, the values that find its row and the
  // record a conflict fills in.
  struct Change {
    const MappedRelation* relation = nullptr;
    const Table* target = nullptr;
    const ConflictContext* context = nullptr;
    RowImage new_image;  // unchanged values filled in from a full old image
    Rows old_row;        // bound old image (update, delete); empty when the source sent none
    Rows new_row;        // bound new image (insert, update)
    Rows match;          // what finds the row: the key, from the old image where there is one
    std::vector<std::string> match_columns;
    std::vector<std::string> arbiter;  // the unique index an insert of the new row meets
    bool key_changed = false;          // an update whose new image moves the row to another key
  };

  // A row other than the changed one holding values the new row would take: found by `match`
  // (the new row's values of a unique index, or its new key), as read.
  struct InTheWay {
    conflict::ConflictType type = conflict::ConflictType::kUniqueExists;
    Rows match;
    LocalRow row;
  };

  // What clearing the way for a write did: the conflicts met, and whether the write may go on
  // (every row in the way lost and was deleted, or there was none).
  struct Way {
    Found records;
    bool clear = true;
    // Not clear, and every row that stays beat the change by a resolver that picks a winner:
    // the changed row lost, as it did on the node the change came from.
    bool change_lost = true;
  };

  Result<Found> ApplyInsert(Change& change, const wire::RowChange& source);
  Result<Found> ApplyUpdate(Change& change, const wire::RowChange& source);
  Result<Found> ApplyDelete(Change& change, const wire::RowChange& source);

  // Before the new row is written: finds the rows in its way (see InTheWay), resolves each and,
  // when all of them lose, deletes them. `written`: the columns the write takes from the new row
  // (a merge takes some); nullptr: all of them. Nothing is written when the way is not clear.
  Result<Way> ClearTheWay(const Change& change, const wire::RowChange& source,
                          const std::set<std::string>* written);
  Result<std::vector<InTheWay>> RowsInTheWay(const Change& change,
                                             const std::set<std::string>* written);
  // Reads the row `match` finds into `found` when it is another row than the changed one (and
  // not found already).
  Status FindInTheWay(const Change& change, conflict::ConflictType type, Rows match,
                      std::vector<InTheWay>& found);
  // True when every one of `columns` has a value in the new row that is not NULL (NULLs never
  // collide on a unique index).
  bool HasValues(const Change& change, const std::vector<std::string>& columns) const;
  // The records of a change whose way was not clear: `own` (the change's own conflict, if any)
  // after the way's records, turned into kKeptLocal where it said the change would be written.
  // `row_deleted`: the update's own row was deleted as the loser (WriteClear).
  static Found Blocked(Way way, std::optional<ConflictRecord> own, bool row_deleted);
  // The records of a change written after its way was cleared.
  static Found Cleared(Way way, std::optional<ConflictRecord> own);
  // Clears the way (ClearTheWay), then runs `write` (returning Status), which may fill in `own`'s
  // final row; the records, as Blocked or Cleared make them.
  template <typename Write>
  Result<Found> WriteClear(const Change& change, const wire::RowChange& source,
                           const std::set<std::string>* written, std::optional<ConflictRecord>& own,
                           Write write);

  // The record of a conflict of `type` met by `change` (the local row, if any, as read), with the
  // resolver's decision; nothing is written yet.
  ConflictRecord Record(const Change& change, const wire::RowChange& source,
                        conflict::ConflictType type, const std::optional<LocalRow>& local,
                        const conflict::Resolver& resolver,
                        const conflict::Decision& decision) const;
  conflict::ConflictFacts Facts(const Change& change, conflict::ConflictType type,
                                const std::optional<LocalRow>& local,
                                const std::vector<std::string>& compared) const;
  // The order value for the resolver (its `column` in the new row), if it has one.
  const Column* OrderValue(const Change& change, const conflict::Resolver& resolver) const;
  // Writes the merge `decision` asks for: take_remote columns from the new row, delta columns
  // added (old row subtracted where there is one).
  Status Merge(const Change& change, const conflict::Resolver& resolver,
               const conflict::Decision& decision);
  // Reads the row again for the record's final_row (after a merge).
  Result<std::optional<std::string>> FinalRow(const Change& change);

  RowEngine<Table, Column>* engine_;
};

}  // namespace ferry::apply

#include "apply/conflict_applier_impl.h"  // IWYU pragma: export
