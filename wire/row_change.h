// Reading a RowChange where one meaning spans several fields of ferry.proto.
#pragma once

#include <cstdint>
#include <vector>

#include "wire/ferry.pb.h"

namespace ferry::wire {

// The relations a TRUNCATE change empties, together: its truncate_relation_ids, or relation_id
// alone when the change names no list (a TRUNCATE of a single relation built without it).
inline std::vector<uint32_t> TruncatedRelationIds(const RowChange& change) {
  if (change.truncate_relation_ids().empty()) return {change.relation_id()};
  return {change.truncate_relation_ids().begin(), change.truncate_relation_ids().end()};
}

}  // namespace ferry::wire
