// The stream crosses a network that misbehaves: a TCP proxy between the agents
// (tests/harness/fault_proxy.h) delays, stalls, resets, truncates, corrupts and half-opens it
// while a writer commits on the source. Whatever it does, nothing corrupt is applied, nothing is
// lost or applied twice (a trigger on the target logs every row the apply agent writes), the
// stream recovers, and the agents' memory stays bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include "tests/harness/fault_proxy.h"
#include "tests/harness/replication_setup.h"

namespace ferry::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Fault = FaultProxy::Fault;

constexpr char kSchema[] = "CREATE TABLE events (id bigint PRIMARY KEY, worker int, payload text);";
constexpr char kTargetSchema[] = R"sql(
  CREATE TABLE events (id bigint PRIMARY KEY, worker int, payload text);
  CREATE TABLE applied_log (id bigint);
  CREATE FUNCTION log_apply() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO applied_log (id) VALUES (NEW.id); RETURN NEW; END $$;
  CREATE TRIGGER log_apply AFTER INSERT OR UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION log_apply();
  ALTER TABLE events ENABLE ALWAYS TRIGGER log_apply;)sql";
constexpr char kEvents[] = "SELECT id, worker, payload FROM events ORDER BY id";
// Well above what either agent needs for this stream (tens of MB): a leak or an unbounded
// buffer behind a stalled connection would pass it.
constexpr long kMemoryBoundKb = 200 * 1024;

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto setup = ReplicationSetup::Create("postgres", "postgres", kSchema, kTargetSchema);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables = "[\"public.events\"]";
    setup_->apply_settings = "copy_data: false\n";
    ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    auto proxy = FaultProxy::Start(setup_->capture_port());
    ASSERT_TRUE(proxy.ok()) << proxy.message();
    proxy_ = std::move(*proxy);
    setup_->upstream_port = proxy_->port();
    ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  }
  void TearDown() override {
    stop_writer_ = true;
    if (writer_.joinable()) writer_.join();
  }

  // Commits small transactions (1 to 3 rows, each with a new id) until told to stop.
  void StartWriter() {
    writer_ = std::thread([this] {
      int64_t id = 1;
      for (int t = 0; !stop_writer_; ++t) {
        std::string sql = "BEGIN;";
        for (int r = 0; r <= t % 3; ++r, ++id) {
          sql += "INSERT INTO events VALUES (" + std::to_string(id) + ", " + std::to_string(t) +
                 ", repeat('p', " + std::to_string(50 + id % 500) + "));";
        }
        EXPECT_TRUE(setup_->source().Exec(sql + "COMMIT").ok());
        std::this_thread::sleep_for(milliseconds(5));
      }
    });
  }

  // A once-only fault: injected, then waited for until the proxy has applied it.
  void InjectOnce(Fault fault, const char* name) {
    const uint64_t before = proxy_->faults_applied();
    proxy_->Inject(fault);
    ASSERT_TRUE(WaitFor([&] { return proxy_->faults_applied() > before; }, seconds(20)))
        << name << " was never applied";
    ++injected_[name];
  }

  std::unique_ptr<ReplicationSetup> setup_;
  std::unique_ptr<FaultProxy> proxy_;
  std::atomic<bool> stop_writer_{false};
  std::thread writer_;
  std::map<std::string, int> injected_;
};

TEST_F(FaultTest, EveryKindOfNetworkFaultUnderLoadLosesAndDuplicatesNothing) {
  StartWriter();
  std::this_thread::sleep_for(seconds(1));

  proxy_->Inject(Fault::kDelay, milliseconds(200));  // a slow link
  std::this_thread::sleep_for(seconds(2));
  proxy_->Clear();
  ++injected_["delay"];
  proxy_->Inject(Fault::kStall);  // nothing delivered; shorter than the silence limit
  std::this_thread::sleep_for(seconds(3));
  proxy_->Clear();
  ++injected_["stall"];
  for (int i = 0; i < 3; ++i) {
    for (auto [fault, name] : {std::pair{Fault::kReset, "reset mid-frame"},
                               std::pair{Fault::kTruncate, "truncated frame"},
                               std::pair{Fault::kFlipByte, "flipped bit"}}) {
      InjectOnce(fault, name);
      std::this_thread::sleep_for(milliseconds(1500));  // reconnected (back-off 200 ms to 1 s)
    }
  }
  // The apply agent hears nothing on a connection its peer left: its silence limit (30 s at this
  // heartbeat interval) ends it.
  const uint64_t connections = proxy_->connections();
  InjectOnce(Fault::kHalfOpen, "half-open connection");
  EXPECT_TRUE(WaitFor([&] { return proxy_->connections() > connections; }, seconds(60)))
      << setup_->apply_log();

  stop_writer_ = true;
  writer_.join();
  EXPECT_TRUE(setup_->WaitForSameRows(kEvents, seconds(120)))
      << setup_->DescribeDifference(kEvents);
  const std::string rows = setup_->source().Scalar("SELECT count(*) FROM events");
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM applied_log"), rows)
      << "rows applied more than once";
  // Every fault that cut or corrupted the stream cost the connection, never a row.
  EXPECT_GE(proxy_->connections(), 11u);
  EXPECT_LT(setup_->capture_process()->PeakRssKb(), kMemoryBoundKb);
  EXPECT_LT(setup_->apply_process()->PeakRssKb(), kMemoryBoundKb);
  std::cout << "faults injected:";
  for (const auto& [name, count] : injected_) std::cout << " " << name << " " << count << ";";
  std::cout << " rows " << rows << ", connections " << proxy_->connections() << "\n";
}

}  // namespace
}  // namespace ferry::testing
