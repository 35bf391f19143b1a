// Component loggers. Each part of Ferry logs through its own named spdlog logger ("capture",
// "apply", "wire", ...) so that one line says which component spoke.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>

namespace ferry {

// Returns the logger for `component`, creating it on first use with the process-wide sinks and
// the format SetLogFormat chose.
std::shared_ptr<spdlog::logger> Logger(const std::string& component);

// Sets the level of every component logger ("debug", "info", "warn", "error").
void SetLogLevel(const std::string& level);

// How each line is written to stderr (`log_format:` in either config).
enum class LogFormat {
  kText,     // "2026-12-08T10:00:00.123 info  [apply] ...", local time
  kJournal,  // "<6>info  [apply] ...": no timestamp (the journal adds its own), and the syslog
             // priority prefix journald reads, so `journalctl -p warning` filters by level
  kJson,     // one object per line: {"time" (UTC), "level", "component", "message"}
};

// "text", "journal" or "json"; nullopt for anything else.
std::optional<LogFormat> ParseLogFormat(const std::string& name);
// kJournal when stderr goes to the journal (systemd sets $JOURNAL_STREAM), kText otherwise.
LogFormat DefaultLogFormat();
// Applies `format` to every component logger, those to come too.
void SetLogFormat(LogFormat format);
// The line `format` makes of one message (for tests): as written, without the newline.
std::string FormatLogLine(LogFormat format, spdlog::level::level_enum level,
                          const std::string& component, const std::string& message);

}  // namespace ferry
