// What an operator watching Ferry sees, through the real agents and the real `ferry status`:
// healthy streams, a stream held back by a row lock on the target (lagging past the apply
// agent's health.max_lag_seconds), a stopped capture agent and a stopped apply agent, each with
// the exit code and /healthz answer a monitoring check acts on; and the agents as systemd runs
// them (notifications, watchdog, journal and JSON logs).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
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

// A unix datagram socket in the place of systemd's $NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    timeval timeout{20, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() { close(fd_); }
  // Messages until one holds `state`; "" when none did within 20 s (the others are kept in
  // seen(), for the failure message).
  std::string WaitFor(const std::string& state) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    char buffer[512];
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      std::string message(buffer, static_cast<size_t>(n));
      if (message.find(state) != std::string::npos) return message;
      seen_ += message + "|";
    }
    return "";
  }
  const std::string& seen() const { return seen_; }

 private:
  std::string path_;
  int fd_;
  std::string seen_;
};

// Run as systemd runs a Type=notify service with WatchdogSec= and its output in the journal:
// READY=1 once serving, WATCHDOG=1 pings, STOPPING=1 on SIGTERM; log lines carry the journal's
// priority prefix and no timestamp of their own; `log_format: json` gives one object per line.
TEST(SystemdServiceTest, AgentsNotifyReadyPingTheWatchdogAndLogForTheJournal) {
  auto setup = ReplicationSetup::Create(kSchema);
  ASSERT_TRUE(setup.ok()) << setup.message();
  auto& pair = **setup;
  pair.capture_tables = "[\"public.items\"]";
  pair.apply_settings = "log_format: json\n";
  const std::string socket_path = pair.dir().path() + "/notify.sock";
  NotifySocket systemd(socket_path);
  setenv("NOTIFY_SOCKET", socket_path.c_str(), 1);
  setenv("WATCHDOG_USEC", "400000", 1);
  setenv("JOURNAL_STREAM", "8:4242", 1);
  const Status capture = pair.StartCapture();
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("JOURNAL_STREAM");
  ASSERT_TRUE(capture.ok()) << pair.capture_log();
  const std::string ready = systemd.WaitFor("READY=1");
  EXPECT_NE(ready.find("STATUS=listening on 127.0.0.1:"), std::string::npos)
      << ready << " | " << systemd.seen();
  EXPECT_EQ(systemd.WaitFor("WATCHDOG=1"), "WATCHDOG=1");
  EXPECT_EQ(systemd.WaitFor("WATCHDOG=1"), "WATCHDOG=1");

  ASSERT_TRUE(pair.StartApply().ok()) << pair.apply_log();
  ASSERT_TRUE(pair.source().Exec("INSERT INTO items VALUES (1, 1)").ok());
  EXPECT_TRUE(pair.WaitForSameRows(kItems, seconds(30))) << pair.DescribeDifference(kItems);

  EXPECT_EQ(pair.capture_process()->Terminate(), 0);
  EXPECT_EQ(systemd.WaitFor("STOPPING=1"), "STOPPING=1") << systemd.seen();

  // The journal's lines: "<6>info  [capture] ...", never a timestamp.
  std::istringstream capture_log(pair.capture_log());
  int lines = 0;
  for (std::string line; std::getline(capture_log, line); ++lines) {
    ASSERT_TRUE(line.size() > 3 && line[0] == '<' && line[2] == '>') << line;
    EXPECT_EQ(line.find("2026-"), std::string::npos) << line;
  }
  EXPECT_GT(lines, 3);
  EXPECT_NE(pair.capture_log().find("<6>info  [capture] "), std::string::npos);
  // The apply agent's: JSON objects.
  std::istringstream apply_log(pair.apply_log());
  lines = 0;
  for (std::string line; std::getline(apply_log, line); ++lines) {
    const nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(json.is_object()) << line;
    EXPECT_TRUE(json.contains("time") && json.contains("level") && json.contains("component") &&
                json.contains("message"))
        << line;
  }
  EXPECT_GT(lines, 3);
}

INSTANTIATE_TEST_SUITE_P(SameEngine, MonitoringTest,
                         ::testing::Values(Direction{"postgres", "postgres"},
                                           Direction{"mariadb", "mariadb"}),
                         DirectionName);

}  // namespace
}  // namespace ferry::testing
