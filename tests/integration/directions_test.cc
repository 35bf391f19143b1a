// The same guarantees in every direction — PostgreSQL and MariaDB on either side — through the
// real ferry binary: every committed transaction arrives once, in order, and `kill -9` of either
// agent mid-stream loses nothing and applies nothing twice. A trigger on the target records every
// row the apply agent writes, so a transaction applied twice shows up even where an upsert would
// hide it in the table itself.
#include "tests/integration/directions.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/harness/replication_setup.h"

namespace ferry::testing {
namespace {

using std::chrono::seconds;

// The same DDL works on both engines. MariaDB keeps tables in the database "ferry", PostgreSQL
// in the schema "public".
constexpr char kSchema[] =
    "CREATE TABLE events (id bigint PRIMARY KEY, worker int, payload varchar(200));"
    "CREATE TABLE accounts (id int PRIMARY KEY, owner varchar(50), balance bigint);";

constexpr char kEventRows[] = "SELECT id, worker, payload FROM events ORDER BY id";

std::string TargetSchema(const std::string& engine) {
  std::string sql = std::string(kSchema) + "CREATE TABLE applied_log (id bigint);";
  if (engine == "postgres") {
    sql += R"sql(
      CREATE FUNCTION log_apply() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN INSERT INTO applied_log (id) VALUES (NEW.id); RETURN NEW; END $$;
      CREATE TRIGGER log_apply AFTER INSERT OR UPDATE ON events
        FOR EACH ROW EXECUTE FUNCTION log_apply();
      ALTER TABLE events ENABLE ALWAYS TRIGGER log_apply;)sql";
  } else {
    sql +=
        "CREATE TRIGGER log_insert AFTER INSERT ON events FOR EACH ROW "
        "INSERT INTO applied_log (id) VALUES (NEW.id);"
        "CREATE TRIGGER log_update AFTER UPDATE ON events FOR EACH ROW "
        "INSERT INTO applied_log (id) VALUES (NEW.id);";
  }
  return sql;
}

class DirectionTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    const Direction& d = GetParam();
    auto setup = ReplicationSetup::Create(d.source, d.target, kSchema, TargetSchema(d.target));
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables =
        "[\"" + Qualified(d.source, "events") + "\", \"" + Qualified(d.source, "accounts") + "\"]";
    if (d.source != d.target) {
      for (const char* table : {"events", "accounts"}) {
        setup_->apply_mappings += "  - source: " + Qualified(d.source, table) +
                                  "\n    target: " + Qualified(d.target, table) + "\n";
      }
    }
    // These tests count every write of a row (applied_log). A copy of existing rows racing the
    // first writes rewrites rows the stream already brought, with the same values, which the
    // count cannot tell from a transaction applied twice; the copy has its own tests
    // (initial_copy_test).
    setup_->apply_settings = "copy_data: false\n";
    ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  }

  // `transactions` small transactions of 1 to 3 rows each, every row with a unique id.
  void Write(int first_id, int transactions) {
    int id = first_id;
    for (int t = 0; t < transactions; ++t) {
      std::string sql = GetParam().source == "postgres" ? "BEGIN;" : "START TRANSACTION;";
      for (int r = 0; r <= t % 3; ++r, ++id) {
        sql += "INSERT INTO events VALUES (" + std::to_string(id) + ", " + std::to_string(t) +
               ", 'p" + std::to_string(id) + "');";
      }
      ASSERT_TRUE(setup_->source().Exec(sql + "COMMIT").ok());
    }
  }

  void ExpectSame(const std::string& query) {
    EXPECT_TRUE(setup_->WaitForSameRows(query, seconds(120))) << setup_->DescribeDifference(query);
  }

  void ExpectExactlyOnce() {
    ExpectSame("SELECT id, worker, payload FROM events ORDER BY id");
    EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM applied_log"),
              setup_->source().Scalar("SELECT count(*) FROM events"))
        << "rows applied more than once: "
        << RowsAsText(setup_->target(),
                      "SELECT id, count(*) FROM applied_log GROUP BY id HAVING count(*) > 1");
  }

  // Target commits per source transaction the apply agent made, once it has applied
  // `transactions` (from its /metrics).
  double TargetCommitsPerTransaction(uint64_t transactions) {
    const uint16_t port = setup_->apply_admin_port();
    WaitFor(
        [&] {
          Result<uint64_t> applied = MetricSum(port, "ferry_transactions_total");
          return applied.ok() && *applied >= transactions;
        },
        seconds(30));
    Result<uint64_t> commits = MetricSum(port, "ferry_target_commits_total");
    Result<uint64_t> applied = MetricSum(port, "ferry_transactions_total");
    EXPECT_TRUE(commits.ok() && applied.ok()) << commits.message() << applied.message();
    if (!commits.ok() || !applied.ok() || *applied == 0) return -1;
    std::cout << *commits << " target commits for " << *applied << " source transactions\n";
    return static_cast<double>(*commits) / static_cast<double>(*applied);
  }

  // Like Write until `stop`, but every transaction is retried until the source has it (see
  // CrashFiveTimesUnderLoad). Returns how many transactions needed a retry.
  static int WriteThroughCrashes(ReplicationSetup& setup, const std::atomic<bool>& stop) {
    const bool postgres = setup.source().engine() == "postgres";
    int id = 1;
    int retried = 0;
    for (int t = 0; !stop; ++t) {
      std::string sql = postgres ? "BEGIN;" : "START TRANSACTION;";
      for (int r = 0; r <= t % 3; ++r, ++id) {
        sql += "INSERT INTO events VALUES (" + std::to_string(id) + ", " + std::to_string(t) +
               ", 'p" + std::to_string(id) + "');";
      }
      const auto deadline = std::chrono::steady_clock::now() + seconds(60);
      for (int attempt = 0;; ++attempt) {
        if (attempt == 1) ++retried;
        Status status = setup.source().Exec(sql + "COMMIT");
        if (status.ok()) break;
        const std::string& message = status.message();
        if (message.find("duplicate key") != std::string::npos ||
            message.find("Duplicate entry") != std::string::npos) {
          break;  // committed before the crash took the answer away
        }
        EXPECT_LT(std::chrono::steady_clock::now(), deadline) << message;
        if (std::chrono::steady_clock::now() >= deadline) return retried;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    return retried;
  }

  void KillMidStream(bool capture) {
    std::atomic<bool> done{false};
    std::thread writer([&] {
      Write(1, 2000);
      done = true;
    });
    for (int round = 0; round < 3; ++round) {  // also after the writer finished: resume must hold
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      if (capture) {
        setup_->KillCapture();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
      } else {
        setup_->KillApply();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
      }
    }
    writer.join();
    ExpectExactlyOnce();
  }

  std::unique_ptr<ReplicationSetup> setup_;
};

TEST_P(DirectionTest, TransactionsArriveWholeAndInOrder) {
  const bool pg = GetParam().source == "postgres";
  const std::string begin = pg ? "BEGIN;" : "START TRANSACTION;";
  ASSERT_TRUE(
      setup_->source().Exec("INSERT INTO accounts VALUES (1, 'ada', 100), (2, 'bob', 50)").ok());
  // A transfer: both rows change in one transaction, or neither.
  ASSERT_TRUE(setup_->source()
                  .Exec(begin + "UPDATE accounts SET balance = balance - 30 WHERE id = 1;"
                                "UPDATE accounts SET balance = balance + 30 WHERE id = 2; COMMIT")
                  .ok());
  ASSERT_TRUE(
      setup_->source().Exec(begin + "UPDATE accounts SET balance = 0 WHERE id = 1; ROLLBACK").ok());
  ASSERT_TRUE(setup_->source().Exec("UPDATE accounts SET id = 3 WHERE id = 2").ok());
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO accounts VALUES (4, 'eve', 1)").ok());
  ASSERT_TRUE(setup_->source().Exec("DELETE FROM accounts WHERE id = 4").ok());
  ExpectSame("SELECT id, owner, balance FROM accounts ORDER BY id");
  EXPECT_EQ(setup_->target().Scalar("SELECT sum(balance) FROM accounts"), "150");
}

TEST_P(DirectionTest, KillDashNineOfCaptureMidStream) { KillMidStream(/*capture=*/true); }

TEST_P(DirectionTest, KillDashNineOfApplyMidStream) { KillMidStream(/*capture=*/false); }

// The apply agent dies before it ever commits anything: the writes made while it is down must
// still arrive. A PostgreSQL slot remembers where the subscriber started; a MariaDB server does
// not, so the apply side recorded the start it was told on first contact.
TEST_P(DirectionTest, KillDashNineOfApplyBeforeItsFirstCommit) {
  setup_->KillApply();
  Write(1, 40);
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  Write(100, 10);
  ExpectExactlyOnce();
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM events"), "98");  // 79 + 19 rows
}

// A backlog (the apply agent was down while the source wrote) is applied in groups: several
// source transactions per target commit. Each still arrives once.
TEST_P(DirectionTest, ABacklogIsAppliedInGroupsOfTransactions) {
  setup_->KillApply();
  Write(1, 600);
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ExpectExactlyOnce();
  const double ratio = TargetCommitsPerTransaction(600);
  EXPECT_GT(ratio, 0.0);
  EXPECT_LT(ratio, 1.0);
}

// grouping.max_transactions: 1 turns grouping off: one target commit per source transaction.
TEST_P(DirectionTest, WithGroupingOffEveryTransactionCommitsAlone) {
  setup_->KillApply();
  setup_->apply_settings += "grouping: {max_transactions: 1}\n";
  Write(1, 200);
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ExpectExactlyOnce();
  EXPECT_EQ(TargetCommitsPerTransaction(200), 1.0);
}

// A group commits, or not, as a whole, with the checkpoint of its last transaction: killing the
// apply agent while it catches up in groups loses nothing and applies nothing twice.
TEST_P(DirectionTest, KillDashNineOfApplyWhileItCatchesUpInGroups) {
  setup_->KillApply();
  Write(1, 1500);
  const std::string total = setup_->source().Scalar("SELECT count(*) FROM events");
  for (int round = 0; round < 3; ++round) {
    const std::string before = setup_->target().Scalar("SELECT count(*) FROM events");
    ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
    WaitFor(
        [&] {
          const std::string now = setup_->target().Scalar("SELECT count(*) FROM events");
          return now != before || now == total;
        },
        seconds(60));
    setup_->KillApply();
  }
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ExpectExactlyOnce();
}

// The target database crashes while groups are being committed: after its recovery, the apply
// agent resumes from the checkpoint that committed, and every transaction arrives once.
TEST_P(DirectionTest, TargetDatabaseCrashWhileACatchUpCommitsInGroups) {
  setup_->KillApply();
  Write(1, 1500);
  ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
  WaitFor([&] { return setup_->target().Scalar("SELECT count(*) FROM events") != "0"; },
          seconds(60));
  ASSERT_TRUE(setup_->target().Kill().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(setup_->target().Restart().ok());
  ExpectExactlyOnce();
}

// Five crashes of `crashed` (the source or the target database: PostgreSQL `pg_ctl stop -m
// immediate`, MariaDB SIGKILL), each while a writer commits on the source, then a recovery: no
// row lost, none applied twice, none different. The writer retries a transaction the source
// refused while it was down; one whose COMMIT the crash left unanswered may have committed, and
// then its retry meets its own rows (a duplicate key) and moves on.
void CrashFiveTimesUnderLoad(ReplicationSetup& setup, TestDatabase& crashed,
                             int (*write)(ReplicationSetup&, const std::atomic<bool>&)) {
  std::atomic<bool> stop{false};
  int retried = 0;
  std::thread writer([&] { retried = write(setup, stop); });
  for (int crash = 0; crash < 5; ++crash) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    EXPECT_TRUE(crashed.Kill().ok()) << "crash " << crash;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(crashed.Restart().ok()) << "restart " << crash;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  stop = true;
  writer.join();
  std::cout << "5 crashes of the " << (&crashed == &setup.source() ? "source" : "target")
            << "; the writer retried " << retried << " transactions\n";
}

// The stream holds row 1 of events; then a target session locks that row for `hold_seconds`
// while the source updates it. Returns the thread holding the lock; the apply agent runs with
// `lock_timeout_ms`.
std::thread LockARowTheStreamUpdates(ReplicationSetup& setup, const std::string& lock_timeout_ms,
                                     int hold_seconds) {
  setup.KillApply();
  setup.apply_target_settings = "  lock_timeout_ms: " + lock_timeout_ms + "\n";
  EXPECT_TRUE(setup.StartApply().ok()) << setup.apply_log();
  EXPECT_TRUE(setup.source().Exec("INSERT INTO events VALUES (1, 1, 'p1')").ok());
  EXPECT_TRUE(setup.WaitForSameRows(kEventRows, seconds(60)))
      << setup.DescribeDifference(kEventRows);
  const bool postgres = setup.target().engine() == "postgres";
  const std::string hold = std::to_string(hold_seconds);
  std::thread holder([&setup, postgres, hold] {
    (void)setup.target().Exec(
        std::string(postgres ? "BEGIN;" : "START TRANSACTION;") +
        "SELECT id FROM events WHERE id = 1 FOR UPDATE;" +
        (postgres ? "SELECT pg_sleep(" + hold + ");" : "DO SLEEP(" + hold + ");") + "COMMIT");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(setup.source().Exec("UPDATE events SET worker = 99 WHERE id = 1").ok());
  return holder;
}

// A target session holds a lock on a row the stream updates. After target.lock_timeout_ms the
// stream fails with an error that says so (it used to wait, looking healthy, as long as the lock
// was held), tries again, and goes on once the lock is gone.
TEST_P(DirectionTest, ARowLockedOnTheTargetFailsTheStreamWithTheLockTimeoutsError) {
  std::thread holder = LockARowTheStreamUpdates(*setup_, "1000", 5);
  auto last_error = [&] {
    Result<std::string> body = HttpGet(setup_->apply_admin_port(), "/status");
    if (!body.ok()) return std::string();
    const nlohmann::json status = nlohmann::json::parse(*body, nullptr, false);
    for (const auto& [name, stream] : status["streams"].items()) {
      return stream["last_error"].get<std::string>();
    }
    return std::string();
  };
  EXPECT_TRUE(WaitFor([&] { return last_error().find("lock_timeout_ms") != std::string::npos; },
                      seconds(20)))
      << last_error() << "\n"
      << setup_->apply_log();
  holder.join();
  ExpectSame(kEventRows);
  // The insert and the update, each once: the attempts the lock refused left nothing behind.
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM applied_log"), "2");
}

// SIGTERM while the apply agent waits on a lock with no limit: it cancels its statement and
// exits within seconds, not when the lock goes (12 s here); the change arrives after a restart.
TEST_P(DirectionTest, SigtermStopsAnAgentBlockedOnTheTargetWithinSeconds) {
  std::thread holder = LockARowTheStreamUpdates(*setup_, "0", 12);
  std::this_thread::sleep_for(seconds(2));  // the update reaches the target and waits there
  const auto signalled = std::chrono::steady_clock::now();
  const int code = setup_->apply_process()->Terminate();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  EXPECT_EQ(code, 0) << setup_->apply_log();
  EXPECT_LT(took, 8.0) << setup_->apply_log();
  EXPECT_NE(setup_->apply_log().find("cancelling its statement to stop"), std::string::npos)
      << setup_->apply_log();
  holder.join();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ExpectSame(kEventRows);
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM applied_log"), "2");
}

TEST_P(DirectionTest, TheSourceDatabaseCrashesFiveTimesUnderLoad) {
  CrashFiveTimesUnderLoad(*setup_, setup_->source(), &DirectionTest::WriteThroughCrashes);
  ExpectExactlyOnce();
}

TEST_P(DirectionTest, TheTargetDatabaseCrashesFiveTimesUnderLoad) {
  CrashFiveTimesUnderLoad(*setup_, setup_->target(), &DirectionTest::WriteThroughCrashes);
  ExpectExactlyOnce();
}

INSTANTIATE_TEST_SUITE_P(AllDirections, DirectionTest, kAllDirections, DirectionName);

}  // namespace
}  // namespace ferry::testing
