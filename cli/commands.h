// The `ferry` command line: parses arguments, loads the config, wires the agents together and
// runs them until SIGINT/SIGTERM. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.
#pragma once

namespace ferry::cli {

int RunCommandLine(int argc, char** argv);

}  // namespace ferry::cli
