#include "common/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <ctime>
#include <sstream>

#include "common/json_text.h"

namespace ferry {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v";

// "<7>" .. "<2>": the syslog priority journald reads from the start of a line (sd-daemon(3)).
class JournalPriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    // trace, debug, info, warn, err, critical, off
    static constexpr const char* kPriority[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    const char* priority = kPriority[static_cast<int>(msg.level)];
    dest.append(priority, priority + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriorityFlag>();
  }
};

// The whole line as a JSON object; the message may hold anything (quotes, newlines, bytes that
// are not UTF-8), so it is escaped rather than pasted into a pattern.
class JsonLineFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const std::time_t seconds =
        std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char time[40];
    const size_t n = std::strftime(time, sizeof(time), "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(time + n, sizeof(time) - n, ".%03lldZ", static_cast<long long>(millis));
    std::string line = "{\"time\":\"";
    line += time;
    line += "\",\"level\":";
    const auto level = spdlog::level::to_string_view(msg.level);
    AppendJsonString(std::string_view(level.data(), level.size()), &line);
    line += ",\"component\":";
    AppendJsonString(std::string_view(msg.logger_name.data(), msg.logger_name.size()), &line);
    line += ",\"message\":";
    AppendJsonString(std::string_view(msg.payload.data(), msg.payload.size()), &line,
                     InvalidUtf8::kReplace);
    line += "}";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonLineFlag>();
  }
};

std::unique_ptr<spdlog::formatter> FormatterFor(LogFormat format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  switch (format) {
    case LogFormat::kJournal:
      formatter->add_flag<JournalPriorityFlag>('*').set_pattern("%*%-5l [%n] %v");
      break;
    case LogFormat::kJson:
      formatter->add_flag<JsonLineFlag>('*').set_pattern("%*");
      break;
    case LogFormat::kText:
      formatter->set_pattern(kTextPattern);
      break;
  }
  return formatter;
}

}  // namespace

std::shared_ptr<spdlog::logger> Logger(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  try {
    // The registry gives it the formatter SetLogFormat set (spdlog::set_formatter).
    auto logger = spdlog::stderr_color_mt(component);
    logger->set_level(spdlog::get_level());
    return logger;
  } catch (const spdlog::spdlog_ex&) {
    // Another thread registered the same name between get() and create().
    return spdlog::get(component);
  }
}

void SetLogLevel(const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); }

std::optional<LogFormat> ParseLogFormat(const std::string& name) {
  if (name == "text") return LogFormat::kText;
  if (name == "journal") return LogFormat::kJournal;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

LogFormat DefaultLogFormat() {
  const char* journal = std::getenv("JOURNAL_STREAM");
  return journal != nullptr && *journal != '\0' ? LogFormat::kJournal : LogFormat::kText;
}

void SetLogFormat(LogFormat format) { spdlog::set_formatter(FormatterFor(format)); }

std::string FormatLogLine(LogFormat format, spdlog::level::level_enum level,
                          const std::string& component, const std::string& message) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  spdlog::logger logger(component, sink);
  logger.set_formatter(FormatterFor(format));
  logger.set_level(spdlog::level::trace);
  logger.log(level, "{}", message);
  std::string line = out.str();
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

}  // namespace ferry
