#include "cli/snapshot_command.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "cli/admin_client.h"
#include "cli/config.h"

namespace ferry::cli {
namespace {

constexpr char kSnapshotUsage[] =
    "usage: ferry snapshot --config APPLY.yaml --table schema.table [--table ...] "
    "[--upstream NAME]";

struct SnapshotArguments {
  std::string config;
  std::vector<std::string> tables;
  std::string upstream;
};

Result<SnapshotArguments> ParseSnapshotArguments(const std::vector<std::string>& args) {
  SnapshotArguments parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--config" && has_value) {
      parsed.config = args[++i];
    } else if (arg == "--table" && has_value) {
      parsed.tables.push_back(args[++i]);
    } else if (arg == "--upstream" && has_value) {
      parsed.upstream = args[++i];
    } else {
      return Status::Error("unexpected argument \"" + arg + "\"; " + kSnapshotUsage);
    }
  }
  if (parsed.config.empty() || parsed.tables.empty()) {
    return Status::Error(std::string("--config and --table are required; ") + kSnapshotUsage);
  }
  return parsed;
}

std::string PercentEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0xf];
    }
  }
  return encoded;
}

admin::CommandReply Json(unsigned status, const nlohmann::json& json) {
  // A table name from the request may hold bytes that are not UTF-8: replaced, never thrown on.
  return {status, json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

}  // namespace

std::optional<admin::CommandReply> ApplyAdminCommand(
    apply::ApplyAgent& agent, const std::string& path,
    const std::map<std::string, std::string>& query) {
  if (path != "/snapshot") return std::nullopt;
  const auto table = query.find("table");
  if (table == query.end() || table->second.empty()) {
    return Json(400, {{"error", "POST /snapshot needs ?table=schema.table"}});
  }
  const auto upstream = query.find("upstream");
  const std::string upstream_name = upstream == query.end() ? "" : upstream->second;
  Status requested = agent.RequestRecopy(upstream_name, table->second);
  if (!requested.ok()) return Json(400, {{"error", requested.message()}});
  return Json(202, {{"table", table->second},
                    {"upstream", upstream_name},
                    {"state", "requested"},
                    {"follow", "GET /status: streams.<upstream>.copy"}});
}

int RunSnapshot(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Result<SnapshotArguments> parsed = ParseSnapshotArguments(args);
  if (!parsed.ok()) {
    err << "ferry snapshot: " << parsed.message() << "\n";
    return 2;
  }
  Result<ApplyConfig> config = LoadApplyConfig(parsed->config);
  if (!config.ok()) {
    err << "ferry snapshot: " << config.message() << "\n";
    return 2;
  }
  int exit_code = 0;
  for (const std::string& table : parsed->tables) {
    std::string target = "/snapshot?table=" + PercentEncode(table);
    if (!parsed->upstream.empty()) target += "&upstream=" + PercentEncode(parsed->upstream);
    Result<HttpReply> reply = AdminRequest(EndpointOf(*config), "POST", target);
    if (!reply.ok()) {
      err << "ferry snapshot: " << reply.message()
          << "; is the agent running (ferry apply --config ...) with this config?\n";
      return 1;
    }
    if (reply->status != 202) {
      err << "ferry snapshot: " << table << ": " << ErrorOf(*reply) << "\n";
      exit_code = 1;
      continue;
    }
    out << table << ": re-copy requested; the apply agent copies it again while replication "
        << "runs; follow it on GET /status (streams.<upstream>.copy) of " << config->admin << "\n";
  }
  return exit_code;
}

}  // namespace ferry::cli
