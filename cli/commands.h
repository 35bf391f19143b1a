// The `ferry` command line: parses arguments, loads the config, wires the agents together and
// runs them until SIGINT/SIGTERM. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.
#pragma once

#include "apply/apply_agent.h"
#include "cli/config.h"

namespace ferry::cli {

int RunCommandLine(int argc, char** argv);

// Makes sinks for the configured target engine (the config loader accepts only known engines).
apply::SinkFactory SinkFactoryFor(const DatabaseConfig& target);

}  // namespace ferry::cli
