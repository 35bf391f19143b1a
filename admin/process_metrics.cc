#include "admin/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ferry::admin {
namespace {

std::string ReadWholeFile(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The space-separated fields of `text`.
std::vector<std::string_view> Fields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\n')) ++at;
    const size_t start = at;
    while (at < text.size() && text[at] != ' ' && text[at] != '\n') ++at;
    if (at > start) fields.push_back(text.substr(start, at - start));
  }
  return fields;
}

std::optional<uint64_t> Number(std::string_view field) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error != std::errc() || end != field.data() + field.size()) return std::nullopt;
  return value;
}

// /proc/stat's "btime N": when the machine booted, seconds since the epoch.
double BootTimeSeconds() {
  std::istringstream lines(ReadWholeFile("/proc/stat"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("btime ", 0) == 0)
      return static_cast<double>(Number(line.substr(6)).value_or(0));
  }
  return 0;
}

uint64_t OpenFds() {
  std::error_code error;
  uint64_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  return count > 0 ? count - 1 : 0;  // the iterator's own descriptor is not the agent's
}

}  // namespace

std::optional<ProcessSample> ParseProcStat(std::string_view stat, long ticks_per_second,
                                           long page_size, double boot_time_seconds) {
  const size_t name_end = stat.rfind(')');
  if (name_end == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  // After the name: field 3 (state) is the first; utime is field 14, stime 15, starttime 22,
  // vsize 23, rss 24 (pages).
  const std::vector<std::string_view> fields = Fields(stat.substr(name_end + 1));
  constexpr size_t kFirst = 3;
  if (fields.size() < 24 - kFirst + 1) return std::nullopt;
  auto field = [&](size_t number) { return Number(fields[number - kFirst]); };
  const auto utime = field(14), stime = field(15), start = field(22), vsize = field(23),
             rss = field(24);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  const double ticks = static_cast<double>(ticks_per_second);
  ProcessSample sample;
  sample.cpu_seconds = static_cast<double>(*utime + *stime) / ticks;
  sample.start_time_seconds = boot_time_seconds + static_cast<double>(*start) / ticks;
  sample.virtual_memory_bytes = *vsize;
  sample.resident_memory_bytes = *rss * static_cast<uint64_t>(page_size);
  return sample;
}

ProcessSample ReadProcessSample() {
  ProcessSample sample = ParseProcStat(ReadWholeFile("/proc/self/stat"), sysconf(_SC_CLK_TCK),
                                       sysconf(_SC_PAGESIZE), BootTimeSeconds())
                             .value_or(ProcessSample{});
  sample.open_fds = OpenFds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    sample.max_fds = limit.rlim_cur;
  }
  return sample;
}

}  // namespace ferry::admin
