// `ferry status` against in-process admin endpoints: what it prints and the exit code each state
// of the agents gives. The end-to-end cases (a stopped agent, a stream held by a row lock) are
// in tests/integration/monitoring_test.cc.
#include "cli/status_command.h"

#include <gtest/gtest.h>

#include <sstream>

#include "admin/admin_server.h"
#include "admin/registry.h"

namespace ferry::cli {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct StatusRun {
  int exit_code;
  std::string out;
  std::string err;
};

StatusRun Status(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunStatus(args, out, err);
  return {code, out.str(), err.str()};
}

class StatusCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.UpdateStream("east", [](admin::StreamStatus& s) {
      s.state = "streaming";
      s.position = "0/16B3748";
      s.transactions = 42;
    });
    ASSERT_TRUE(server_.Start().ok());
    address_ = "127.0.0.1:" + std::to_string(server_.port());
  }

  admin::MetricsRegistry registry_{"apply", "west", admin::HealthPolicy{.max_lag_seconds = 30}};
  admin::AdminServer server_{"127.0.0.1:0", registry_};
  std::string address_;
};

TEST_F(StatusCommandTest, AHealthyStreamIsOneLineAndExitCodeZero) {
  const StatusRun run = Status({address_});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Contains(run.out,
                       "HEALTH  AGENT       STREAM  STATE      LAG    POSITION   TXNS  "
                       "CONFLICTS  LAST ERROR\n"))
      << run.out;
  EXPECT_TRUE(Contains(run.out, "ok      apply west  east    streaming  0.0 s  0/16B3748  42    0"))
      << run.out;
}

TEST_F(StatusCommandTest, AFailingStreamIsDownWithItsLastError) {
  registry_.UpdateStream("east", [](admin::StreamStatus& s) {
    s.state = "error";
    s.failures = 3;
    s.last_error = "connect to target PostgreSQL: connection refused";
    s.last_error_at_us = 1;
  });
  const StatusRun run = Status({address_});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(Contains(run.out, "failing"));
  EXPECT_TRUE(Contains(run.out, "3 failures, ")) << run.out;
  EXPECT_TRUE(Contains(run.out, " s ago: connect to target PostgreSQL: connection refused"));
}

TEST_F(StatusCommandTest, AStreamBehindTheAgentsLimitIsDegraded) {
  registry_.UpdateStream("east", [](admin::StreamStatus& s) {
    s.lag.OnTransactionApplied(1'700'000'000'000'000);
    s.lag.OnHeartbeat(1'700'000'060'000'000, false, admin::LagTracker::Clock::now());
  });
  const StatusRun run = Status({address_, "--json"});
  EXPECT_EQ(run.exit_code, 1);
  const nlohmann::json json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["health"], "degraded");
  EXPECT_EQ(json["agents"][0]["status"]["streams"]["east"]["health"], "lagging");
}

TEST_F(StatusCommandTest, AnUnreachableAgentIsDownAndTheOthersStillShow) {
  // A port an endpoint served on a moment ago: nothing listens there now.
  admin::AdminServer gone("127.0.0.1:0", registry_);
  ASSERT_TRUE(gone.Start().ok());
  const std::string nobody = "127.0.0.1:" + std::to_string(gone.port());
  gone.Stop();
  const StatusRun run = Status({address_, nobody});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(Contains(run.out, "ok      apply west       east")) << run.out;
  EXPECT_TRUE(Contains(run.out, "down    " + nobody)) << run.out;
  EXPECT_TRUE(Contains(run.out, "unreachable")) << run.out;
}

TEST_F(StatusCommandTest, ALostSlotIsAnAgentProblem) {
  registry_.SetRetention({{"ferry_east_west", admin::RetentionStatus{.status = "lost"}}}, "");
  const StatusRun run = Status({address_});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(Contains(run.out, "the source gave up the log kept for ferry_east_west")) << run.out;
}

TEST(StatusCommandUsageTest, BadUsageIsExitCodeThreeWithTheUsage) {
  StatusRun run = Status({});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_TRUE(Contains(run.err, "usage: ferry status")) << run.err;
  run = Status({"--verbose", "127.0.0.1:1"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_TRUE(Contains(run.err, "unknown option \"--verbose\"")) << run.err;
  run = Status({"no-such-file.yaml"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_TRUE(Contains(run.err, "neither a config file nor an admin address")) << run.err;
}

}  // namespace
}  // namespace ferry::cli
