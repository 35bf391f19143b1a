// Conflict vocabulary shared by the apply side and the admin reports (ARCHITECTURE.md "Conflicts").
// Resolution policies (source_wins, last_writer_wins, ...) will live here as pure logic: rows and
// policies in, decisions out, no I/O.
#pragma once

#include <string>

namespace ferry::conflict {

enum class ConflictType {
  kInsertExists,   // an insert met a row with the same key
  kUpdateMissing,  // an update found no row with the key
  kUpdateDiffers,  // the row exists but differs from the source's old image
  kDeleteMissing,  // a delete found no row
  kDeleteDiffers,  // the row to delete differs from the source's old image
};

// "insert_exists", "update_missing", ...: the names of the conflict counters on /metrics
// (ferry_meta.conflicts is created on the target but nothing writes it yet).
std::string ConflictTypeName(ConflictType type);

}  // namespace ferry::conflict
