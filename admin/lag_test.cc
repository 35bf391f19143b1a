#include "admin/lag.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ferry::admin {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kSecondUs = 1000000;
// An arbitrary source wall time (2024-01-01T00:00:00Z) in microseconds.
constexpr int64_t kT0 = 1704067200LL * kSecondUs;

class LagTrackerTest : public ::testing::Test {
 protected:
  LagTracker lag;
  // Local monotonic time is arbitrary; only differences matter.
  const LagTracker::Clock::time_point t0 = LagTracker::Clock::time_point(seconds(5000));
};

TEST_F(LagTrackerTest, ZeroBeforeAnyHeartbeat) {
  EXPECT_EQ(lag.LagSeconds(t0), 0.0);
  lag.OnTransactionBegin();
  EXPECT_EQ(lag.LagSeconds(t0 + seconds(60)), 0.0);
}

TEST_F(LagTrackerTest, IdleStreamReadsZeroHoweverLongItIsQuiet) {
  lag.OnTransactionApplied(kT0 - 3600 * kSecondUs);  // last change an hour ago
  lag.OnHeartbeat(kT0, /*idle=*/true, t0);
  EXPECT_EQ(lag.LagSeconds(t0), 0.0);
  EXPECT_EQ(lag.LagSeconds(t0 + seconds(600)), 0.0);
}

TEST_F(LagTrackerTest, StalledStreamGrowsWithLocalElapsedTime) {
  lag.OnTransactionApplied(kT0 - 2 * kSecondUs);
  lag.OnHeartbeat(kT0, /*idle=*/false, t0);
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0), 2.0);
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0 + seconds(10)), 12.0);
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0 + milliseconds(10500)), 12.5);
}

TEST_F(LagTrackerTest, AppliedCommitReducesLag) {
  lag.OnTransactionApplied(kT0 - 10 * kSecondUs);
  lag.OnHeartbeat(kT0, /*idle=*/false, t0);
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0 + seconds(5)), 15.0);
  lag.OnTransactionBegin();
  lag.OnTransactionApplied(kT0 - 1 * kSecondUs);
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0 + seconds(5)), 6.0);
  EXPECT_EQ(lag.last_commit_time_us(), kT0 - 1 * kSecondUs);
}

TEST_F(LagTrackerTest, TransactionAfterIdleHeartbeatClearsCaughtUp) {
  lag.OnTransactionApplied(kT0 - 3600 * kSecondUs);
  lag.OnHeartbeat(kT0, /*idle=*/true, t0);
  lag.OnTransactionBegin();
  // Behind only by what was committed after the idle heartbeat, not by the idle hour before it.
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0 + seconds(3)), 3.0);
  lag.OnTransactionApplied(kT0 + 2 * kSecondUs);
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0 + seconds(3)), 1.0);
  lag.OnHeartbeat(kT0 + 4 * kSecondUs, /*idle=*/true, t0 + seconds(4));
  EXPECT_EQ(lag.LagSeconds(t0 + seconds(30)), 0.0);
}

TEST_F(LagTrackerTest, NothingAppliedYetCountsFromFirstHeartbeat) {
  lag.OnHeartbeat(kT0, /*idle=*/false, t0);
  EXPECT_EQ(lag.LagSeconds(t0), 0.0);
  lag.OnHeartbeat(kT0 + 5 * kSecondUs, /*idle=*/false, t0 + seconds(5));
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0 + seconds(7)), 7.0);
}

TEST_F(LagTrackerTest, ReSentOldTransactionDoesNotIncreaseLag) {
  lag.OnTransactionApplied(kT0 - 1 * kSecondUs);
  lag.OnHeartbeat(kT0, /*idle=*/false, t0);
  lag.OnTransactionApplied(kT0 - 100 * kSecondUs);  // skipped: already covered by the checkpoint
  EXPECT_DOUBLE_EQ(lag.LagSeconds(t0), 1.0);
}

TEST_F(LagTrackerTest, NeverNegative) {
  // A commit stamped after the heartbeat (the source clock moved between the two).
  lag.OnHeartbeat(kT0, /*idle=*/false, t0);
  lag.OnTransactionApplied(kT0 + 5 * kSecondUs);
  EXPECT_EQ(lag.LagSeconds(t0 + seconds(1)), 0.0);
  // A time point from before the heartbeat arrived counts as no elapsed time.
  EXPECT_EQ(lag.LagSeconds(t0 - seconds(10)), 0.0);
}

}  // namespace
}  // namespace ferry::admin
