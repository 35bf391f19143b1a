#include "apply/row_match.h"

#include <set>

namespace ferry::apply {
namespace {

std::set<std::string> MappedNames(const MappedRelation& relation, bool keys_only) {
  std::set<std::string> names;
  for (const MappedColumn& column : relation.columns) {
    if (!keys_only || column.key) names.insert(column.target_name);
  }
  return names;
}

bool Covers(const std::set<std::string>& names, const std::vector<std::string>& columns) {
  return std::all_of(columns.begin(), columns.end(),
                     [&](const std::string& c) { return names.contains(c); });
}

// The target's primary key, or failing that an identity index, when the mapping writes every
// one of its columns.
const UniqueIndex* IdentityIndex(const MappedRelation& relation,
                                 const std::vector<UniqueIndex>& indexes) {
  const std::set<std::string> mapped = MappedNames(relation, false);
  for (bool want_primary : {true, false}) {
    for (const UniqueIndex& index : indexes) {
      const bool fits = want_primary ? index.primary : index.identity;
      if (fits && Covers(mapped, index.columns)) return &index;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> MatchColumns(const MappedRelation& relation,
                                      const std::vector<UniqueIndex>& indexes) {
  if (relation.full_old_image) {
    if (const UniqueIndex* index = IdentityIndex(relation, indexes)) return index->columns;
  }
  std::vector<std::string> names;
  for (const MappedColumn& column : relation.columns) {
    if (relation.full_old_image || column.key) names.push_back(column.target_name);
  }
  return names;
}

bool MatchesWholeRow(const MappedRelation& relation, const std::vector<UniqueIndex>& indexes) {
  return relation.full_old_image && IdentityIndex(relation, indexes) == nullptr;
}

std::optional<std::vector<std::string>> ArbiterColumns(const MappedRelation& relation,
                                                       const std::vector<UniqueIndex>& indexes) {
  if (!relation.has_key) return std::nullopt;
  const std::set<std::string> candidates = MappedNames(relation, !relation.full_old_image);
  const UniqueIndex* best = nullptr;
  auto rank = [&](const UniqueIndex& index) {
    const std::set<std::string> columns(index.columns.begin(), index.columns.end());
    if (columns == candidates) return 3;
    return index.primary ? 2 : 1;
  };
  for (const UniqueIndex& index : indexes) {
    if (!Covers(candidates, index.columns)) continue;
    if (best == nullptr || rank(index) > rank(*best)) best = &index;
  }
  if (best == nullptr) return std::nullopt;
  return best->columns;
}

bool RequiresArbiter(const MappedRelation& relation) {
  return relation.has_key && !relation.full_old_image;
}

Status MissingMatchColumn(const std::string& name) {
  return Status::Error("the row carries no value for column " + name +
                       ", which identifies rows on the target");
}

}  // namespace ferry::apply
