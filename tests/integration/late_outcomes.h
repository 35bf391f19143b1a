// The sink tests' view of late outcomes (apply/sink.h): one line per report, for exact checks.
#pragma once

#include <string>

#include "apply/sink.h"

namespace ferry::testing {

inline std::string LateOutcomesText(apply::Sink& sink) {
  std::string out;
  for (const apply::LateOutcome& late : sink.TakeLateOutcomes()) {
    out += late.target + ": " + std::to_string(late.rows) + " x " +
           (late.outcome == apply::RowOutcome::kInsertedOverExisting ? "kInsertedOverExisting"
                                                                     : "other") +
           "\n";
  }
  return out;
}

}  // namespace ferry::testing
