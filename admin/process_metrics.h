// The standard Prometheus process metrics (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, ...), read from /proc when /metrics is
// rendered, so that a dashboard shows each agent's memory, CPU and descriptors under the names
// every Prometheus client library exports. Linux only, as Ferry is.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::admin {

struct ProcessSample {
  double cpu_seconds = 0;  // user + system
  uint64_t resident_memory_bytes = 0;
  uint64_t virtual_memory_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;  // the soft RLIMIT_NOFILE
};

// This process's figures now. A figure that cannot be read stays 0: /metrics still answers.
ProcessSample ReadProcessSample();

// The figures in the text of /proc/<pid>/stat, given the clock ticks per second, the page size
// and the boot time (seconds since the epoch, /proc/stat's btime). nullopt when the text is not
// such a line. The command name (field 2) may hold spaces and parentheses: fields are counted
// from the last ')'.
std::optional<ProcessSample> ParseProcStat(std::string_view stat, long ticks_per_second,
                                           long page_size, double boot_time_seconds);

}  // namespace ferry::admin
