// `ferry snapshot`: asks a running apply agent to copy one or more tables again while
// replication keeps flowing (README "Re-copying a table"). The request travels to the agent's
// admin endpoint as POST /snapshot?table=schema.table[&upstream=NAME]; the agent checks it,
// records the re-copy in ferry_meta.copy_progress and follows it on /status.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "apply/apply_agent.h"

namespace ferry::cli {

// The apply agent's admin commands: POST /snapshot (202 when queued, 400 naming what is wrong).
std::optional<admin::CommandReply> ApplyAdminCommand(
    apply::ApplyAgent& agent, const std::string& path,
    const std::map<std::string, std::string>& query);

// `args` are the arguments after "snapshot". Exit code: 0 every request accepted, 1 a request
// refused or the agent unreachable, 2 bad usage or config.
int RunSnapshot(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace ferry::cli
