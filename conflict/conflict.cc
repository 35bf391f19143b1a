#include "conflict/conflict.h"

namespace ferry::conflict {

std::string ConflictTypeName(ConflictType type) {
  switch (type) {
    case ConflictType::kInsertExists:
      return "insert_exists";
    case ConflictType::kUpdateMissing:
      return "update_missing";
    case ConflictType::kUpdateDiffers:
      return "update_differs";
    case ConflictType::kDeleteMissing:
      return "delete_missing";
    case ConflictType::kDeleteDiffers:
      return "delete_differs";
  }
  return "unknown";
}

}  // namespace ferry::conflict
