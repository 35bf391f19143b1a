// `ferry status`: one line per stream of one or more running agents, read from their admin
// endpoints (GET /status), and an exit code for cron jobs and monitoring checks, in the
// convention Nagios-style checks share: 0 healthy, 1 degraded (a stream behind more than its
// agent's health.max_lag_seconds), 2 down (an agent unreachable, a stream failing or stopped, or
// an agent's own problem such as a lost slot), 3 unknown (bad usage or config).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace ferry::cli {

// What one agent answered, or why it did not.
struct AgentReport {
  std::string target;   // as given on the command line: a config file or host:port
  std::string address;  // the admin endpoint's
  std::string error;    // "" when reached
  nlohmann::json status = nlohmann::json::object();  // its GET /status
};

enum class Verdict { kHealthy = 0, kDegraded = 1, kDown = 2 };

Verdict VerdictOf(const std::vector<AgentReport>& reports);
// The table `ferry status` prints: a header, then one line per stream, per agent problem and
// per unreachable agent.
std::string StatusTable(const std::vector<AgentReport>& reports);
// {"health": "healthy|degraded|down", "agents": [{target, address, error, status}...]}.
nlohmann::json StatusReportJson(const std::vector<AgentReport>& reports);

// `args` are the arguments after "status". Returns the exit code above.
int RunStatus(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ferry::cli
