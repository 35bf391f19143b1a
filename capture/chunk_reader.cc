#include "capture/chunk_reader.h"

#include <set>

#include "common/log.h"

namespace ferry::capture {

std::vector<wire::SecondaryIndex> GroupSecondaryIndexes(const std::string& table,
                                                        const std::vector<IndexColumnRow>& rows) {
  std::vector<wire::SecondaryIndex> indexes;
  std::set<std::string> not_carried;
  for (const IndexColumnRow& row : rows) {
    if (not_carried.count(row.index) != 0) continue;
    if (!row.not_carried_why.empty()) {
      Logger("capture")->info(
          "copying {}: index {} is not carried to the target: it is {}; create it on the target "
          "yourself",
          table, row.index, row.not_carried_why);
      not_carried.insert(row.index);
      if (!indexes.empty() && indexes.back().name() == row.index) indexes.pop_back();
      continue;
    }
    if (indexes.empty() || indexes.back().name() != row.index) {
      indexes.emplace_back();
      indexes.back().set_name(row.index);
      indexes.back().set_unique(row.unique);
    }
    wire::SecondaryIndex& index = indexes.back();
    index.add_columns(row.column);
    index.add_prefix_lengths(row.prefix_length);
  }
  // Without a prefix anywhere, prefix_lengths stays empty, as the wire format allows.
  for (wire::SecondaryIndex& index : indexes) {
    bool prefixed = false;
    for (uint32_t length : index.prefix_lengths()) prefixed = prefixed || length != 0;
    if (!prefixed) index.clear_prefix_lengths();
  }
  return indexes;
}

}  // namespace ferry::capture
