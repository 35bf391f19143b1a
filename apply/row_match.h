// Engine-neutral rules for which target columns identify a row: the WHERE columns of UPDATE and
// DELETE, and the unique index that tells whether an inserted row already exists. Each sink
// reads its target's unique indexes from its catalog and flags the ones that identify a row;
// the choice made from them is the same for every engine.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "apply/table_mapping.h"
#include "common/status.h"

namespace ferry::apply {

// A unique index of a target table on plain columns, as the row-match rules see it.
struct UniqueIndex {
  std::vector<std::string> columns;
  bool primary = false;
  // Identifies a row as well as a primary key does: PostgreSQL's replica identity index,
  // MySQL's unique index on NOT NULL columns. Used for a full image without primary key.
  bool identity = false;
};

// The target columns whose values identify a row for UPDATE and DELETE. With a key identity
// they are the source's key columns. With a full old image (every column flagged key) they are
// the target's primary key, or failing that an identity index, when the mapping covers it
// (index lookups, as a native replica does); otherwise every mapped column. Empty for a
// relation without key: nothing identifies its rows.
std::vector<std::string> MatchColumns(const MappedRelation& relation,
                                      const std::vector<UniqueIndex>& indexes);

// True when MatchColumns fell back to every column of a full-image relation: the target has no
// usable key, so several identical rows may match and UPDATE/DELETE must touch only one of
// them, as the source did.
bool MatchesWholeRow(const MappedRelation& relation, const std::vector<UniqueIndex>& indexes);

// The columns of the target's unique index that tell whether an inserted row already exists
// (PostgreSQL's ON CONFLICT arbiter): one on exactly the key columns if there is one, else the
// primary key, else any unique index whose columns are all mapped key columns (for a full
// image: all mapped columns). None for a relation without key: the source cannot have meant
// two of its rows to be the same one.
std::optional<std::vector<std::string>> ArbiterColumns(const MappedRelation& relation,
                                                       const std::vector<UniqueIndex>& indexes);

// True when an INSERT needs an arbiter: the source has a real key, so an insert over an
// existing row must overwrite it (the replica follows its source), and without a unique index
// on that key the target could not tell, and every update and delete would scan the table.
// A full image (the table may hold identical rows) and a relation without key (only INSERT and
// TRUNCATE arrive) are inserted plainly when no arbiter fits.
bool RequiresArbiter(const MappedRelation& relation);

// The error Select returns when the row has no value for the match column `name`.
Status MissingMatchColumn(const std::string& name);

// Picks the columns named `names` out of `bound` (a sink's bound columns, each with a `name`)
// in that order; fails naming the first one missing.
template <typename Column>
Result<std::vector<Column>> Select(const std::vector<Column>& bound,
                                   const std::vector<std::string>& names) {
  std::vector<Column> selected;
  for (const std::string& name : names) {
    auto it = std::find_if(bound.begin(), bound.end(),
                           [&](const Column& column) { return column.name == name; });
    if (it == bound.end()) return MissingMatchColumn(name);
    selected.push_back(*it);
  }
  return selected;
}

}  // namespace ferry::apply
