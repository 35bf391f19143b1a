// The sink tests' view of late outcomes (apply/sink.h): one line per report, for exact checks.
#pragma once

#include <string>

#include "apply/sink.h"

namespace ferry::testing {

inline const char* OutcomeName(apply::RowOutcome outcome) {
  switch (outcome) {
    case apply::RowOutcome::kApplied:
      return "kApplied";
    case apply::RowOutcome::kInsertedOverExisting:
      return "kInsertedOverExisting";
    case apply::RowOutcome::kUpdateInsertedMissing:
      return "kUpdateInsertedMissing";
    case apply::RowOutcome::kDeleteMissing:
      return "kDeleteMissing";
    case apply::RowOutcome::kUpdateMissingNotInserted:
      return "kUpdateMissingNotInserted";
  }
  return "other";
}

inline std::string LateOutcomesText(apply::Sink& sink) {
  std::string out;
  for (const apply::LateOutcome& late : sink.TakeLateOutcomes()) {
    out +=
        late.target + ": " + std::to_string(late.rows) + " x " + OutcomeName(late.outcome) + "\n";
  }
  return out;
}

}  // namespace ferry::testing
