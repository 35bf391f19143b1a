// `ferry verify` arguments.
#include <charconv>
#include <cstdint>
#include <string_view>

#include "verify/verify.h"

namespace ferry::verify {
namespace {

constexpr char kUsage[] =
    "usage: ferry verify --config APPLY.yaml --source CAPTURE.yaml [--table schema.table]... "
    "[--columns] [--json] [--chunk-rows N] [--recheck-delay-ms N] [--recheck-rounds N] "
    "[--row-by-row]";

Status UsageError(const std::string& what) { return Status::Error(what + "; " + kUsage); }

Result<uint64_t> Number(const std::string& option, const std::string& text, uint64_t min,
                        uint64_t max) {
  uint64_t n = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || n < min ||
      n > max) {
    return UsageError(option + " needs a number from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", not \"" + text + "\"");
  }
  return n;
}

// The value of `--name VALUE` or `--name=VALUE` at args[i] (advancing i past VALUE), or nullopt
// when args[i] is not that option.
Result<std::optional<std::string>> OptionValue(const std::vector<std::string>& args, size_t& i,
                                               std::string_view name) {
  const std::string& arg = args[i];
  if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
    return std::optional<std::string>(arg.substr(name.size() + 1));
  }
  if (arg != name) return std::optional<std::string>();
  if (i + 1 >= args.size()) return UsageError(std::string(name) + " needs a value");
  return std::optional<std::string>(args[++i]);
}

}  // namespace

Result<VerifyArguments> ParseVerifyArguments(const std::vector<std::string>& args) {
  VerifyArguments parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--columns") {
      parsed.options.columns = true;
      continue;
    }
    if (arg == "--json") {
      parsed.json = true;
      continue;
    }
    if (arg == "--row-by-row") {
      parsed.options.checksums = false;
      continue;
    }
    bool known = false;
    for (std::string_view name : {"--config", "--source", "--table", "--chunk-rows",
                                  "--recheck-delay-ms", "--recheck-rounds"}) {
      Result<std::optional<std::string>> value = OptionValue(args, i, name);
      if (!value.ok()) return value.status();
      if (!value->has_value()) continue;
      known = true;
      const std::string& text = **value;
      if (name == "--config") parsed.apply_config = text;
      if (name == "--source") parsed.capture_config = text;
      if (name == "--table") parsed.tables.push_back(text);
      if (name == "--chunk-rows") {
        Result<uint64_t> n = Number("--chunk-rows", text, 1, 100000);
        if (!n.ok()) return n.status();
        parsed.options.chunk_rows = *n;
      }
      if (name == "--recheck-delay-ms") {
        Result<uint64_t> n = Number("--recheck-delay-ms", text, 0, 3600000);
        if (!n.ok()) return n.status();
        parsed.options.recheck_delay = std::chrono::milliseconds(*n);
      }
      if (name == "--recheck-rounds") {
        Result<uint64_t> n = Number("--recheck-rounds", text, 0, 100);
        if (!n.ok()) return n.status();
        parsed.options.recheck_rounds = static_cast<int>(*n);
      }
      break;
    }
    if (!known) return UsageError("unknown argument \"" + arg + "\"");
  }
  if (parsed.apply_config.empty() || parsed.capture_config.empty()) {
    return UsageError(
        "ferry verify needs the apply agent's config (--config) and the capture "
        "agent's (--source)");
  }
  return parsed;
}

}  // namespace ferry::verify
