#include "apply/reconnect_backoff.h"

#include <gtest/gtest.h>

namespace ferry::apply {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectBackoffTest, DoublesUpToTheCapWithJitterInTheUpperHalf) {
  ReconnectBackoff backoff(milliseconds(100), milliseconds(1000), /*seed=*/7);
  const int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t ceiling : ceilings) {
    const int64_t wait = backoff.Next().count();
    EXPECT_GE(wait, ceiling / 2);
    EXPECT_LE(wait, ceiling);
  }
  EXPECT_EQ(backoff.failures(), 7u);
}

TEST(ReconnectBackoffTest, ResetStartsAgainFromTheFirstWait) {
  ReconnectBackoff backoff(milliseconds(100), milliseconds(30000), 1);
  for (int i = 0; i < 10; ++i) backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0u);
  EXPECT_LE(backoff.Next().count(), 100);
}

TEST(ReconnectBackoffTest, ManyFailuresNeitherOverflowNorPassTheCap) {
  ReconnectBackoff backoff(milliseconds(3600000), milliseconds(3600000), 1);
  for (int i = 0; i < 100; ++i) {
    const int64_t wait = backoff.Next().count();
    EXPECT_GE(wait, 1800000);
    EXPECT_LE(wait, 3600000);
  }
}

// Agents that failed together draw different waits, so they do not all reconnect at once.
TEST(ReconnectBackoffTest, TheJitterSpreadsAgentsApart) {
  ReconnectBackoff a(milliseconds(1000), milliseconds(30000), 1);
  ReconnectBackoff b(milliseconds(1000), milliseconds(30000), 2);
  int same = 0;
  for (int i = 0; i < 8; ++i) same += a.Next() == b.Next() ? 1 : 0;
  EXPECT_LT(same, 8);
}

TEST(ReconnectBackoffTest, ACapBelowTheFirstWaitIsTheFirstWait) {
  ReconnectBackoff backoff(milliseconds(500), milliseconds(10), 1);
  const int64_t wait = backoff.Next().count();
  EXPECT_GE(wait, 250);
  EXPECT_LE(wait, 500);
}

}  // namespace
}  // namespace ferry::apply
