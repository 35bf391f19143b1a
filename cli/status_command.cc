#include "cli/status_command.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/admin_client.h"
#include "cli/config.h"

namespace ferry::cli {
namespace {

constexpr char kStatusUsage[] =
    "usage: ferry status [--json] [--watch [SECONDS]] CONFIG.yaml|HOST:PORT ...";
constexpr int kUnknown = 3;
constexpr size_t kErrorWidth = 100;  // a longer last error is cut: /status has all of it

struct StatusArguments {
  std::vector<std::string> targets;
  bool json = false;
  int watch_seconds = 0;  // 0: once
};

Result<StatusArguments> ParseStatusArguments(const std::vector<std::string>& args) {
  StatusArguments parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--json") {
      parsed.json = true;
    } else if (arg == "--watch") {
      parsed.watch_seconds = 2;
      if (i + 1 < args.size() && !args[i + 1].empty() &&
          std::all_of(args[i + 1].begin(), args[i + 1].end(), ::isdigit)) {
        parsed.watch_seconds = std::max(1, std::stoi(args[++i].substr(0, 6)));
      }
    } else if (!arg.empty() && arg[0] == '-') {
      return Status::Error("unknown option \"" + arg + "\"; " + kStatusUsage);
    } else {
      parsed.targets.push_back(arg);
    }
  }
  if (parsed.targets.empty()) {
    return Status::Error(std::string("name at least one agent: its config file or its admin "
                                     "address; ") +
                         kStatusUsage);
  }
  return parsed;
}

bool HasSource(const std::string& config_file) {
  try {
    const YAML::Node root = YAML::LoadFile(config_file);
    return root.IsMap() && root["source"].IsDefined();
  } catch (const std::exception&) {
    return false;  // the config loader reports what is wrong with the file
  }
}

// A config file names its agent's endpoint, token and certificate; anything else is an admin
// address reached over plain HTTP without a token.
Result<AdminEndpoint> EndpointFor(const std::string& target) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(target, error)) {
    if (target.find(':') == std::string::npos) {
      return Status::Error(target + ": neither a config file nor an admin address (HOST:PORT)");
    }
    return AdminEndpoint{target, "", "", "the agent"};
  }
  // A capture config has a `source:`; anything else is read as an apply config, whose loader
  // then names what is wrong.
  if (HasSource(target)) {
    Result<CaptureConfig> capture = LoadCaptureConfig(target);
    if (!capture.ok()) return capture.status();
    return EndpointOf(*capture);
  }
  Result<ApplyConfig> apply = LoadApplyConfig(target);
  if (!apply.ok()) return apply.status();
  return EndpointOf(*apply);
}

AgentReport Fetch(const std::string& target, const AdminEndpoint& endpoint) {
  AgentReport report{target, endpoint.address, "", nlohmann::json::object()};
  Result<HttpReply> reply = AdminRequest(endpoint, "GET", "/status", /*timeout_seconds=*/5);
  if (!reply.ok()) {
    report.error = reply.message();
  } else if (reply->status != 200) {
    report.error = "GET /status: " + ErrorOf(*reply);
  } else {
    report.status = nlohmann::json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    if (!report.status.is_object()) {
      report.error = "GET /status did not answer a JSON object: is " + endpoint.address +
                     " a Ferry agent's admin endpoint?";
      report.status = nlohmann::json::object();
    }
  }
  return report;
}

std::string Text(const nlohmann::json& value, const std::string& fallback = "-") {
  if (value.is_string())
    return value.get<std::string>().empty() ? fallback : value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  return fallback;
}

std::string Seconds(const nlohmann::json& value) {
  if (!value.is_number()) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f s", value.get<double>());
  return text;
}

std::string AgentName(const AgentReport& report) {
  if (!report.error.empty()) return report.address;
  return Text(report.status.value("role", nlohmann::json())) + " " +
         Text(report.status.value("node", nlohmann::json()));
}

// "3 failures, 12 s ago: <error>", cut to kErrorWidth.
std::string LastError(const nlohmann::json& stream) {
  const std::string error = Text(stream.value("last_error", nlohmann::json()), "");
  if (error.empty()) return "-";
  std::string text;
  const uint64_t failures = stream.value("failures", uint64_t{0});
  if (failures > 0)
    text += std::to_string(failures) + (failures == 1 ? " failure, " : " failures, ");
  const nlohmann::json ago = stream.value("last_error_seconds_ago", nlohmann::json());
  if (ago.is_number()) text += std::to_string(static_cast<int64_t>(ago.get<double>())) + " s ago: ";
  text += error;
  if (text.size() > kErrorWidth) text = text.substr(0, kErrorWidth - 3) + "...";
  return text;
}

using Line = std::vector<std::string>;

std::vector<Line> Lines(const std::vector<AgentReport>& reports) {
  std::vector<Line> lines = {
      {"HEALTH", "AGENT", "STREAM", "STATE", "LAG", "POSITION", "TXNS", "CONFLICTS", "LAST ERROR"}};
  for (const AgentReport& report : reports) {
    const std::string agent = AgentName(report);
    if (!report.error.empty()) {
      lines.push_back({"down", agent, "-", "unreachable", "-", "-", "-", "-", report.error});
      continue;
    }
    const nlohmann::json streams = report.status.value("streams", nlohmann::json::object());
    for (const auto& [name, stream] : streams.items()) {
      lines.push_back({Text(stream.value("health", nlohmann::json()), "ok"), agent, name,
                       Text(stream.value("state", nlohmann::json())),
                       Seconds(stream.value("lag_seconds", nlohmann::json())),
                       Text(stream.value("position", nlohmann::json())),
                       Text(stream.value("transactions", nlohmann::json())),
                       Text(stream.value("conflicts", nlohmann::json())), LastError(stream)});
    }
    if (streams.empty()) {
      lines.push_back({"ok", agent, "-", "no streams yet", "-", "-", "-", "-", "-"});
    }
    // The agent's own problems, beyond its streams' (a lost slot, a source it cannot check).
    for (const nlohmann::json& problem :
         report.status.value("health_problems", nlohmann::json::array())) {
      const std::string text = Text(problem, "");
      if (text.rfind("stream ", 0) == 0) continue;
      lines.push_back({"down", agent, "-", "-", "-", "-", "-", "-", text});
    }
  }
  return lines;
}

}  // namespace

Verdict VerdictOf(const std::vector<AgentReport>& reports) {
  Verdict verdict = Verdict::kHealthy;
  for (const Line& line : Lines(reports)) {
    if (line[0] == "down" || line[0] == "failing" || line[0] == "stopped") return Verdict::kDown;
    if (line[0] == "lagging") verdict = Verdict::kDegraded;
  }
  return verdict;
}

std::string StatusTable(const std::vector<AgentReport>& reports) {
  const std::vector<Line> lines = Lines(reports);
  std::vector<size_t> widths(lines[0].size(), 0);
  for (const Line& line : lines) {
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  std::string table;
  for (const Line& line : lines) {
    std::string row;
    for (size_t i = 0; i < line.size(); ++i) {
      row += line[i];
      if (i + 1 < line.size()) row += std::string(widths[i] - line[i].size() + 2, ' ');
    }
    table += row + "\n";
  }
  return table;
}

nlohmann::json StatusReportJson(const std::vector<AgentReport>& reports) {
  static const char* const kNames[] = {"healthy", "degraded", "down"};
  nlohmann::json agents = nlohmann::json::array();
  for (const AgentReport& report : reports) {
    agents.push_back({{"target", report.target},
                      {"address", report.address},
                      {"error", report.error},
                      {"status", report.status}});
  }
  return {{"health", kNames[static_cast<int>(VerdictOf(reports))]}, {"agents", agents}};
}

int RunStatus(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Result<StatusArguments> parsed = ParseStatusArguments(args);
  if (!parsed.ok()) {
    err << "ferry status: " << parsed.message() << "\n";
    return kUnknown;
  }
  std::vector<std::pair<std::string, AdminEndpoint>> endpoints;
  for (const std::string& target : parsed->targets) {
    Result<AdminEndpoint> endpoint = EndpointFor(target);
    if (!endpoint.ok()) {
      err << "ferry status: " << endpoint.message() << "\n";
      return kUnknown;
    }
    endpoints.emplace_back(target, *endpoint);
  }
  while (true) {
    std::vector<AgentReport> reports;
    for (const auto& [target, endpoint] : endpoints) reports.push_back(Fetch(target, endpoint));
    if (parsed->watch_seconds > 0) out << "\033[H\033[2J";  // clear the terminal between rounds
    if (parsed->json) {
      out << StatusReportJson(reports).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
          << "\n";
    } else {
      out << StatusTable(reports);
    }
    out.flush();
    if (parsed->watch_seconds == 0) return static_cast<int>(VerdictOf(reports));
    std::this_thread::sleep_for(std::chrono::seconds(parsed->watch_seconds));
  }
}

}  // namespace ferry::cli
