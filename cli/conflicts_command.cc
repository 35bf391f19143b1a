#include "cli/conflicts_command.h"

#include <nlohmann/json.hpp>

#include "apply/conflict_record.h"
#include "cli/commands.h"
#include "cli/config.h"
#include "common/log.h"
#include "conflict/conflict.h"

namespace ferry::cli {
namespace {

constexpr char kConflictsUsage[] =
    "usage: ferry conflicts list --config APPLY.yaml [--table schema.table] [--type TYPE] "
    "[--limit N] [--json]";

struct ConflictsArguments {
  std::string config;
  apply::ConflictFilter filter;
  bool json = false;
};

Result<uint64_t> Limit(const std::string& text) {
  char* end = nullptr;
  const unsigned long long limit = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || limit == 0) {
    return Status::Error("--limit " + text + " is not a positive number; " + kConflictsUsage);
  }
  return static_cast<uint64_t>(limit);
}

Result<ConflictsArguments> ParseConflictsArguments(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "list") {
    return Status::Error(std::string("the conflicts command is list; ") + kConflictsUsage);
  }
  ConflictsArguments parsed;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--config" && has_value) {
      parsed.config = args[++i];
    } else if (arg == "--table" && has_value) {
      parsed.filter.table = args[++i];
    } else if (arg == "--type" && has_value) {
      parsed.filter.type = args[++i];
      if (!conflict::ParseConflictType(parsed.filter.type)) {
        return Status::Error("--type " + parsed.filter.type +
                             " is not a conflict type: insert_exists, unique_exists, "
                             "update_exists, update_missing, update_differs, delete_missing or "
                             "delete_differs");
      }
    } else if (arg == "--limit" && has_value) {
      Result<uint64_t> limit = Limit(args[++i]);
      if (!limit.ok()) return limit.status();
      parsed.filter.limit = *limit;
    } else if (arg == "--json") {
      parsed.json = true;
    } else {
      return Status::Error("unexpected argument \"" + arg + "\"; " + kConflictsUsage);
    }
  }
  if (parsed.config.empty()) {
    return Status::Error(std::string("--config is required; ") + kConflictsUsage);
  }
  return parsed;
}

nlohmann::json RowJson(const std::string& text) {
  if (text.empty()) return nullptr;
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(text) : parsed;
}

nlohmann::json ConflictJson(const apply::LoggedConflict& c) {
  return {{"id", c.id},
          {"at", c.at},
          {"upstream", c.upstream},
          {"origin", c.origin},
          {"remote_position", c.position},
          {"table", c.table},
          {"type", c.type},
          {"key", RowJson(c.key)},
          {"resolver", c.resolver},
          {"outcome", c.outcome},
          {"reason", c.reason},
          {"remote_old", RowJson(c.remote_old)},
          {"remote_new", RowJson(c.remote_new)},
          {"local", RowJson(c.local)},
          {"final", RowJson(c.final_row)}};
}

// A JSON row as one compact line, whichever engine's spelling it was stored in.
std::string Compact(const std::string& text) {
  if (text.empty()) return "(none)";
  return RowJson(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One conflict as a few lines a person reads top-down: what, where, how it was decided, the rows.
void PrintConflict(const apply::LoggedConflict& c, std::ostream& out) {
  out << "#" << c.id << "  " << c.at << " UTC  " << c.table << " " << Compact(c.key) << "  "
      << c.type << "\n";
  out << "  from " << c.upstream << " (written on " << c.origin << ", at " << c.position << ")\n";
  out << "  " << c.resolver << " -> " << c.outcome << (c.reason.empty() ? "" : ": " + c.reason)
      << "\n";
  auto row = [&](const char* label, const std::string& text) {
    out << "  " << label << Compact(text) << "\n";
  };
  if (!c.remote_old.empty()) row("remote old: ", c.remote_old);
  row("remote new: ", c.remote_new);
  row("local:      ", c.local);
  row("final:      ", c.final_row);
}

}  // namespace

int RunConflicts(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Result<ConflictsArguments> parsed = ParseConflictsArguments(args);
  if (!parsed.ok()) {
    err << "ferry conflicts: " << parsed.message() << "\n";
    return 2;
  }
  Result<ApplyConfig> config = LoadApplyConfig(parsed->config);
  if (!config.ok()) {
    err << "ferry conflicts: " << config.message() << "\n";
    return 2;
  }
  SetLogLevel("error");  // the sink's notes about the target's settings are not the listing
  std::unique_ptr<apply::Sink> sink = SinkFactoryFor(config->target)();
  Status opened = sink->Open();
  Result<std::vector<apply::LoggedConflict>> conflicts =
      opened.ok() ? sink->ReadConflicts(parsed->filter)
                  : Result<std::vector<apply::LoggedConflict>>(opened.WithContext("target"));
  if (!conflicts.ok()) {
    err << "ferry conflicts: " << conflicts.message() << "\n";
    return 1;
  }
  if (parsed->json) {
    nlohmann::json list = nlohmann::json::array();
    for (const apply::LoggedConflict& c : *conflicts) list.push_back(ConflictJson(c));
    out << list.dump(2) << "\n";
    return 0;
  }
  if (conflicts->empty()) {
    out << "no conflicts logged in ferry_meta.conflicts"
        << (parsed->filter.table.empty() && parsed->filter.type.empty() ? "" : " that match")
        << "\n";
  }
  for (const apply::LoggedConflict& c : *conflicts) PrintConflict(c, out);
  return 0;
}

}  // namespace ferry::cli
