#include "admin/process_metrics.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

namespace ferry::admin {
namespace {

// A /proc/<pid>/stat line whose command name holds a space and a ')', as a renamed thread may.
constexpr char kStat[] =
    "4242 (ferry a) b) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 150 0 0 20 0 9 0 5000 "
    "123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 17638 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessMetricsTest, ParsesTheFieldsAfterTheCommandName) {
  std::optional<ProcessSample> sample = ParseProcStat(kStat, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(sample.has_value());
  EXPECT_DOUBLE_EQ(sample->cpu_seconds, 4.0);  // (250 + 150) ticks
  EXPECT_DOUBLE_EQ(sample->start_time_seconds, 1'700'000'050.0);
  EXPECT_EQ(sample->virtual_memory_bytes, 123456789u);
  EXPECT_EQ(sample->resident_memory_bytes, 2048u * 4096u);
}

TEST(ProcessMetricsTest, RefusesTextThatIsNotAStatLine) {
  EXPECT_FALSE(ParseProcStat("", 100, 4096, 0).has_value());
  EXPECT_FALSE(ParseProcStat("4242 (ferry) S 1 2 3", 100, 4096, 0).has_value());
  EXPECT_FALSE(ParseProcStat(std::string(kStat).replace(56, 3, "2x0"), 100, 4096, 0).has_value());
}

TEST(ProcessMetricsTest, ReadsThisProcess) {
  const ProcessSample sample = ReadProcessSample();
  EXPECT_GT(sample.resident_memory_bytes, 1u << 20);
  EXPECT_GE(sample.virtual_memory_bytes, sample.resident_memory_bytes);
  EXPECT_GE(sample.open_fds, 3u);  // stdin, stdout, stderr
  EXPECT_GT(sample.max_fds, sample.open_fds);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(sample.start_time_seconds, now + 1);
  EXPECT_GT(sample.start_time_seconds, now - 3600);  // a unit test process is young
}

}  // namespace
}  // namespace ferry::admin
