// What an operator watching Ferry sees, through the real agents and the real `ferry status`:
// healthy streams, a stream held back by a row lock on the target (lagging past the apply
// agent's health.max_lag_seconds), a stopped capture agent and a stopped apply agent, each with
// the exit code and /healthz answer a monitoring check acts on.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "tests/harness/replication_setup.h"
#include "tests/integration/directions.h"

namespace ferry::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchema[] = "CREATE TABLE items (id int PRIMARY KEY, n int)";
constexpr char kItems[] = "SELECT * FROM items ORDER BY id";

class MonitoringTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    const Direction& d = GetParam();
    auto setup = ReplicationSetup::Create(d.source, d.target, kSchema, kSchema);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables = "[\"" + Qualified(d.source, "items") + "\"]";
    // No lock timeout: the stream waits on the lock, as long as it is held, and falls behind.
    setup_->apply_target_settings = "  lock_timeout_ms: 0\n";
    setup_->apply_settings = "health: {max_lag_seconds: 2}\n";
  }

  // `ferry status` for both agents.
  CommandResult Status() {
    return RunFerry(
        {"status", setup_->dir().path() + "/apply.yaml", setup_->dir().path() + "/capture.yaml"});
  }
  bool StatusExitsWith(int code, CommandResult& last) {
    return WaitFor(
        [&] {
          last = Status();
          return last.exit_code == code;
        },
        seconds(20));
  }

  std::unique_ptr<ReplicationSetup> setup_;
};

TEST_P(MonitoringTest, StatusAndHealthzFollowALaggingAndAStoppedStream) {
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO items VALUES (1, 0)").ok());
  ASSERT_TRUE(setup_->WaitForSameRows(kItems, seconds(30))) << setup_->DescribeDifference(kItems);

  CommandResult status;
  ASSERT_TRUE(StatusExitsWith(0, status)) << status.output;
  EXPECT_NE(status.output.find("apply west"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("capture east"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("streaming"), std::string::npos) << status.output;
  EXPECT_TRUE(HttpGet(setup_->apply_admin_port(), "/healthz").ok());
  std::cout << "ferry status, healthy:\n" << status.output;

  // A target session holds row 1 while the source updates it: the stream waits, falling behind.
  const bool postgres = setup_->target().engine() == "postgres";
  std::thread holder([&] {
    (void)setup_->target().Exec(std::string(postgres ? "BEGIN;" : "START TRANSACTION;") +
                                "SELECT id FROM items WHERE id = 1 FOR UPDATE;" +
                                (postgres ? "SELECT pg_sleep(8);" : "DO SLEEP(8);") + "COMMIT");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(setup_->source().Exec("UPDATE items SET n = 1 WHERE id = 1").ok());
  EXPECT_TRUE(StatusExitsWith(1, status)) << status.output;
  EXPECT_NE(status.output.find("lagging"), std::string::npos) << status.output;
  std::cout << "ferry status, held by a row lock:\n" << status.output;
  Result<std::string> health = HttpGet(setup_->apply_admin_port(), "/healthz");
  EXPECT_FALSE(health.ok());
  EXPECT_NE(health.message().find("503"), std::string::npos) << health.message();
  holder.join();
  EXPECT_TRUE(setup_->WaitForSameRows(kItems, seconds(30))) << setup_->DescribeDifference(kItems);
  EXPECT_TRUE(StatusExitsWith(0, status)) << status.output;

  // The capture agent stops: the apply agent's stream fails; the capture agent is unreachable.
  setup_->KillCapture();
  EXPECT_TRUE(StatusExitsWith(2, status)) << status.output;
  EXPECT_TRUE(
      WaitFor([&] { return Status().output.find("failing") != std::string::npos; }, seconds(20)))
      << Status().output;
  EXPECT_NE(Status().output.find("unreachable"), std::string::npos);
  EXPECT_FALSE(HttpGet(setup_->apply_admin_port(), "/healthz").ok());
  EXPECT_TRUE(HttpGet(setup_->apply_admin_port(), "/livez").ok());

  // The apply agent stops too: both are down.
  setup_->KillApply();
  status = RunFerry({"status", "--json", setup_->dir().path() + "/apply.yaml"});
  EXPECT_EQ(status.exit_code, 2) << status.output;
  EXPECT_NE(status.output.find("\"health\": \"down\""), std::string::npos) << status.output;
}

INSTANTIATE_TEST_SUITE_P(SameEngine, MonitoringTest,
                         ::testing::Values(Direction{"postgres", "postgres"},
                                           Direction{"mariadb", "mariadb"}),
                         DirectionName);

}  // namespace
}  // namespace ferry::testing
