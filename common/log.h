// Component loggers. Each part of Ferry logs through its own named spdlog logger ("capture",
// "apply", "wire", ...) so that one line says which component spoke.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace ferry {

// Returns the logger for `component`, creating it on first use with the process-wide sinks.
std::shared_ptr<spdlog::logger> Logger(const std::string& component);

// Sets the level of every component logger ("debug", "info", "warn", "error").
void SetLogLevel(const std::string& level);

}  // namespace ferry
