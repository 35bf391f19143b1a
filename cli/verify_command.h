// `ferry verify`: loads the apply and capture configs, runs verify/verify.h, prints the report.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ferry::cli {

// `args` are the arguments after "verify". Exit code: 0 equal, 1 differ, 2 error.
int RunVerify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ferry::cli
