// `ferry conflicts list`: the conflicts an apply agent met and logged in its target's
// ferry_meta.conflicts (README "Conflict resolution"), newest first, for a person or (--json)
// a script. It reads the target database the apply config names; the agent need not run.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ferry::cli {

// `args` are the arguments after "conflicts". Exit code: 0 listed, 1 the target could not be
// read, 2 bad usage or config.
int RunConflicts(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ferry::cli
