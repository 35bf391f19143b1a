// Applying a row change with conflict detection and resolution (master-master): the
// engine-neutral flow shared by every SQL sink. Each change first reads the target row it
// concerns, locked (RowEngine::ReadLocal), and compares it in the target's own types with the
// source's old image; a difference is a conflict (conflict/conflict.h), resolved by the policy's
// resolver for the table and type and reported as a ConflictRecord, which the sink writes to
// ferry_meta.conflicts in the same transaction. Invariant: the change is written only as the
// decision says, and a change that meets no conflict is written exactly as RowApplier would.
// Slower than RowApplier's batched, pipelined path (a read per row), which master-slave keeps.
#pragma once

#include <optional>
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
  // transaction, with nothing deferred or in flight. Returns the conflict met, if any, with
  // its outcome; kStopped: nothing was written.
  Result<std::optional<ConflictRecord>> Apply(const MappedRelation& relation, const Table& target,
                                              const wire::RowChange& change,
                                              const ConflictContext& context);

 private:
  using Rows = std::vector<Column>;
  using Found = std::optional<ConflictRecord>;

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
  };

  Result<Found> ApplyInsert(Change& change, const wire::RowChange& source);
  Result<Found> ApplyUpdate(Change& change, const wire::RowChange& source);
  Result<Found> ApplyDelete(Change& change, const wire::RowChange& source);

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
