// Master-master through the real ferry binary: two nodes, each with a capture agent and an apply
// agent toward the other, written on both at once. Every change arrives on the other node once
// and never comes back (loop prevention: capture/origin_filter.h), and once both are idle no
// replication traffic flows. A change that came back would show: an insert or delete met again
// counts as a conflict on the apply agent, and a loop would never go quiet.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/harness/replication_setup.h"
#include "tests/integration/directions.h"

namespace ferry::testing {
namespace {

using std::chrono::seconds;

// On PostgreSQL the capture agent publishes schema ferry_meta with a publication that lists
// tables; it must exist before the agent starts (README, "Master-master"), as here.
std::string Schema(const std::string& engine) {
  std::string sql = "CREATE TABLE items (id int PRIMARY KEY, origin varchar(20), v int);";
  if (engine == "postgres") sql += "CREATE SCHEMA ferry_meta;";
  return sql;
}

std::string Mappings(const std::string& source, const std::string& target) {
  if (source == target) return "";
  return "  - source: " + Qualified(source, "items") +
         "\n    target: " + Qualified(target, "items") + "\n";
}

nlohmann::json AdminStatus(uint16_t admin_port) {
  auto body = HttpGet(admin_port, "/status");
  if (!body.ok()) return nlohmann::json::object();
  return nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
}

// Conflicts an apply agent counted, all types and streams together.
uint64_t Conflicts(const nlohmann::json& status) {
  uint64_t total = 0;
  if (!status.contains("counters")) return 0;
  for (const auto& [name, per_stream] : status["counters"].items()) {
    if (name.rfind("conflicts_", 0) != 0) continue;
    for (const auto& [stream, value] : per_stream.items()) total += value.get<uint64_t>();
  }
  return total;
}

// A number of a stream's status, 0 when absent.
uint64_t StreamNumber(const nlohmann::json& status, const std::string& stream,
                      const std::string& key) {
  if (!status.contains("streams") || !status["streams"].contains(stream)) return 0;
  const auto& value = status["streams"][stream][key];
  return value.is_number() ? value.get<uint64_t>() : 0;
}

class MasterMasterTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    const Direction& d = GetParam();
    auto forward = ReplicationSetup::Create(d.source, d.target, Schema(d.source), Schema(d.target));
    ASSERT_TRUE(forward.ok()) << forward.message();
    east_to_west_ = std::move(*forward);
    auto reverse = ReplicationSetup::Reverse(*east_to_west_);
    ASSERT_TRUE(reverse.ok()) << reverse.message();
    west_to_east_ = std::move(*reverse);
    east_to_west_->capture_tables = "[\"" + Qualified(d.source, "items") + "\"]";
    west_to_east_->capture_tables = "[\"" + Qualified(d.target, "items") + "\"]";
    east_to_west_->apply_mappings = Mappings(d.source, d.target);
    west_to_east_->apply_mappings = Mappings(d.target, d.source);
    for (ReplicationSetup* setup : {east_to_west_.get(), west_to_east_.get()}) {
      ASSERT_TRUE(setup->StartCapture().ok()) << setup->capture_log();
    }
    for (ReplicationSetup* setup : {east_to_west_.get(), west_to_east_.get()}) {
      ASSERT_TRUE(setup->StartApply().ok()) << setup->apply_log();
    }
  }

  TestDatabase& east() { return east_to_west_->source(); }
  TestDatabase& west() { return west_to_east_->source(); }
  std::string Items(const TestDatabase& node) const {
    return RowsAsText(
        node, "SELECT id, origin, v FROM " + Qualified(node.engine(), "items") + " ORDER BY id");
  }
  bool WaitForSameItems() {
    return WaitFor([&] { return Items(east()) == Items(west()); }, seconds(60));
  }
  std::string Logs() const {
    return "--- east capture ---\n" + Tail(east_to_west_->capture_log()) +
           "\n--- west apply ---\n" + Tail(east_to_west_->apply_log()) +
           "\n--- west capture ---\n" + Tail(west_to_east_->capture_log()) +
           "\n--- east apply ---\n" + Tail(west_to_east_->apply_log());
  }
  static std::string Tail(const std::string& log) {
    return log.size() > 3000 ? log.substr(log.size() - 3000) : log;
  }
  // Writes on `node`, one transaction per statement.
  void Write(TestDatabase& node, const std::string& sql) {
    Status s = node.Exec(sql);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  std::string Table(const TestDatabase& node) const { return Qualified(node.engine(), "items"); }

  std::unique_ptr<ReplicationSetup> east_to_west_;
  std::unique_ptr<ReplicationSetup> west_to_east_;
};

TEST_P(MasterMasterTest, ChangesMadeOnEitherNodeArriveOnTheOtherOnceAndNeverComeBack) {
  // Inserts on both nodes at once, disjoint keys.
  std::thread on_west([&] {
    for (int i = 101; i <= 140; ++i) {
      Write(west(),
            "INSERT INTO " + Table(west()) + " VALUES (" + std::to_string(i) + ", 'west', 0)");
    }
  });
  for (int i = 1; i <= 40; ++i) {
    Write(east(),
          "INSERT INTO " + Table(east()) + " VALUES (" + std::to_string(i) + ", 'east', 0)");
  }
  on_west.join();
  ASSERT_TRUE(WaitForSameItems()) << "east:\n"
                                  << Items(east()) << "west:\n"
                                  << Items(west()) << Logs();

  // Each node changes and deletes rows that the other one made.
  Write(east(), "UPDATE " + Table(east()) + " SET v = 1 WHERE id BETWEEN 101 AND 110");
  Write(west(), "UPDATE " + Table(west()) + " SET v = 2 WHERE id BETWEEN 1 AND 10");
  Write(east(), "DELETE FROM " + Table(east()) + " WHERE id > 130");
  Write(west(), "DELETE FROM " + Table(west()) + " WHERE id BETWEEN 31 AND 40");
  ASSERT_TRUE(WaitForSameItems()) << "east:\n"
                                  << Items(east()) << "west:\n"
                                  << Items(west()) << Logs();
  EXPECT_EQ(east().Scalar("SELECT count(*) FROM " + Table(east())), "60");
  EXPECT_EQ(east().Scalar("SELECT sum(v) FROM " + Table(east())), "30");

  // Nothing came back: no insert met its own row again, no delete missed one, and every
  // capture agent held back the transactions its subscriber had written.
  const uint16_t east_capture = east_to_west_->capture_admin_port();
  const uint16_t west_capture = west_to_east_->capture_admin_port();
  EXPECT_TRUE(WaitFor(
      [&] {
        return StreamNumber(AdminStatus(east_capture), "west", "filtered_transactions") > 0 &&
               StreamNumber(AdminStatus(west_capture), "east", "filtered_transactions") > 0;
      },
      seconds(30)))
      << AdminStatus(east_capture).dump() << "\n"
      << AdminStatus(west_capture).dump() << Logs();
  EXPECT_EQ(Conflicts(AdminStatus(east_to_west_->apply_admin_port())), 0u) << Logs();
  EXPECT_EQ(Conflicts(AdminStatus(west_to_east_->apply_admin_port())), 0u) << Logs();

  // Idle: no transaction flows any more, either way.
  auto sent = [&] {
    return std::to_string(StreamNumber(AdminStatus(east_capture), "west", "transactions")) + "/" +
           std::to_string(StreamNumber(AdminStatus(west_capture), "east", "transactions")) + "/" +
           east().Scalar("SELECT max(position) FROM ferry_meta.checkpoints") + "/" +
           west().Scalar("SELECT max(position) FROM ferry_meta.checkpoints");
  };
  std::this_thread::sleep_for(seconds(1));
  const std::string before = sent();
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(sent(), before) << Logs();
  EXPECT_EQ(StreamNumber(AdminStatus(east_capture), "west", "transactions"), 42u);
  EXPECT_EQ(StreamNumber(AdminStatus(west_capture), "east", "transactions"), 42u);
}

INSTANTIATE_TEST_SUITE_P(Pairs, MasterMasterTest,
                         ::testing::Values(Direction{"postgres", "postgres"},
                                           Direction{"mariadb", "mariadb"},
                                           Direction{"postgres", "mariadb"}),
                         DirectionName);

}  // namespace
}  // namespace ferry::testing
