// `ferry snapshot` re-copies tables of a running replica while the source keeps writing, in
// every direction, through the real ferry binary: rows the target lost come back, rows changed
// on the target are overwritten, rows the source does not have are removed (for a numeric key
// range by range, for a text key by emptying the table at the first chunk), and the stream
// keeps applying throughout, so the replica ends exactly equal to its source.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "tests/harness/replication_setup.h"
#include "tests/integration/directions.h"

namespace ferry::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// `items` has a numeric key (re-copied range by range); `tags` a key with a text part, whose
// order may differ between engines and collations (re-copied after emptying the table).
constexpr char kSchema[] =
    "CREATE TABLE items (id bigint PRIMARY KEY, name varchar(100), amount int);"
    "CREATE TABLE tags (a int, b varchar(20), val int, PRIMARY KEY (a, b));";

constexpr int kRows = 3000;

std::string SeedSql(const std::string& engine) {
  if (engine == "postgres") {
    return "INSERT INTO items SELECT g, 'name ' || g, g FROM generate_series(1, 3000) g;"
           "INSERT INTO tags SELECT g, b, g FROM generate_series(1, 300) g, "
           "unnest(ARRAY['x', 'y', 'z']) b;";
  }
  return "INSERT INTO items SELECT seq, CONCAT('name ', seq), seq FROM seq_1_to_3000;"
         "INSERT INTO tags SELECT seq, b.v, seq FROM seq_1_to_300, "
         "(SELECT 'x' AS v UNION ALL SELECT 'y' UNION ALL SELECT 'z') b;";
}

// What a replica that diverged looks like: rows lost, rows changed, rows the source never had
// (before the first key, between keys, after the last).
constexpr char kDiverge[] =
    "DELETE FROM items WHERE id BETWEEN 10 AND 20;"
    "UPDATE items SET name = 'diverged', amount = -1 WHERE id BETWEEN 100 AND 110;"
    "INSERT INTO items VALUES (-5, 'extra', 0);"
    "INSERT INTO items VALUES (5000000, 'extra', 0);"
    "INSERT INTO items VALUES (99000000, 'extra', 0);"
    "DELETE FROM tags WHERE a = 5;"
    "UPDATE tags SET val = -1 WHERE a = 7;"
    "INSERT INTO tags VALUES (0, 'extra', 0);"
    "INSERT INTO tags VALUES (150, 'extra', 0);"
    "INSERT INTO tags VALUES (9999, 'extra', 0);";

constexpr char kItems[] = "SELECT id, name, amount FROM items ORDER BY id";
constexpr char kTags[] = "SELECT a, b, val FROM tags ORDER BY a, b";

class RecopyTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    const Direction& d = GetParam();
    auto setup = ReplicationSetup::Create(d.source, d.target, kSchema, kSchema);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables =
        "[\"" + Qualified(d.source, "items") + "\", \"" + Qualified(d.source, "tags") + "\"]";
    setup_->capture_settings = "copy_chunk_rows: 500\n";
    if (d.source != d.target) {
      for (const char* table : {"items", "tags"}) {
        setup_->apply_mappings += "  - source: " + Qualified(d.source, table) +
                                  "\n    target: " + Qualified(d.target, table) + "\n";
      }
    }
  }

  bool pg_source() const { return GetParam().source == "postgres"; }

  // Inserts, updates (also of keys) and deletes on the source, in small transactions.
  void WriteUntil(const std::atomic<bool>& stop) {
    std::mt19937 random(11);
    std::uniform_int_distribution<int> pick(1, kRows);
    int next_id = kRows + 1;
    const std::string begin = pg_source() ? "BEGIN;" : "START TRANSACTION;";
    while (!stop) {
      std::string sql = begin;
      sql += "INSERT INTO items VALUES (" + std::to_string(next_id++) + ", 'new', 1);";
      sql +=
          "UPDATE items SET amount = amount + 1 WHERE id = " + std::to_string(pick(random)) + ";";
      sql += "DELETE FROM items WHERE id = " + std::to_string(pick(random)) + ";";
      sql += "UPDATE items SET id = id + 10000000 WHERE id = " + std::to_string(pick(random)) +
             " AND id < 10000000;";
      const std::string a = std::to_string(pick(random) % 300 + 1);
      sql += "UPDATE tags SET val = val + 1 WHERE a = " + a + ";";
      sql +=
          "DELETE FROM tags WHERE a = " + std::to_string(pick(random) % 300 + 1) + " AND b = 'x';";
      ASSERT_TRUE(setup_->source().Exec(sql + "COMMIT").ok());
      std::this_thread::sleep_for(milliseconds(2));
    }
  }

  std::string Progress() const {
    return RowsAsText(setup_->target(),
                      "SELECT source_table, after_key, rows_copied, done, resync FROM "
                      "ferry_meta.copy_progress ORDER BY source_table");
  }

  // Tables whose copy is done, counting only re-copies when `resync`.
  std::string CopiesDone(bool resync) const {
    return setup_->target().Scalar(std::string("SELECT count(*) FROM ferry_meta.copy_progress "
                                               "WHERE done") +
                                   (resync ? " AND resync" : ""));
  }

  std::string ApplyConfigPath() const { return setup_->dir().path() + "/apply.yaml"; }

  std::unique_ptr<ReplicationSetup> setup_;
};

TEST_P(RecopyTest, SnapshotBringsDivergedTablesBackWhileChangesKeepFlowing) {
  ASSERT_TRUE(setup_->source().Exec(SeedSql(GetParam().source)).ok());
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ASSERT_TRUE(WaitFor([&] { return CopiesDone(false) == "2"; }, seconds(120)))
      << Progress() << setup_->apply_log();
  ASSERT_TRUE(setup_->WaitForSameRows(kItems, seconds(60))) << setup_->DescribeDifference(kItems);

  ASSERT_TRUE(setup_->target().Exec(kDiverge).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] { WriteUntil(stop); });
  std::this_thread::sleep_for(milliseconds(300));

  const std::string items = Qualified(GetParam().source, "items");
  const std::string tags = Qualified(GetParam().source, "tags");
  CommandResult snapshot =
      RunFerry({"snapshot", "--config", ApplyConfigPath(), "--table", items, "--table", tags});
  EXPECT_EQ(snapshot.exit_code, 0) << snapshot.output << setup_->apply_log();
  EXPECT_NE(snapshot.output.find("re-copy requested"), std::string::npos) << snapshot.output;

  const bool done = WaitFor([&] { return CopiesDone(true) == "2"; }, seconds(120));
  std::this_thread::sleep_for(milliseconds(300));  // writes after the re-copy, too
  stop = true;
  writer.join();
  ASSERT_TRUE(done) << Progress() << "\napply log:\n"
                    << setup_->apply_log() << "\ncapture log:\n"
                    << setup_->capture_log();
  EXPECT_TRUE(setup_->WaitForSameRows(kItems, seconds(60)))
      << setup_->DescribeDifference(kItems) << "\napply log:\n"
      << setup_->apply_log();
  EXPECT_TRUE(setup_->WaitForSameRows(kTags, seconds(60)))
      << setup_->DescribeDifference(kTags) << "\napply log:\n"
      << setup_->apply_log();
  EXPECT_NE(setup_->apply_log().find("removed"), std::string::npos) << setup_->apply_log();
  auto metrics = HttpGet(setup_->apply_admin_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.message();
  EXPECT_NE(metrics->find("ferry_copy_rows_removed_total"), std::string::npos) << *metrics;
}

TEST_P(RecopyTest, SnapshotOfATableTheStreamDoesNotCarryIsRefused) {
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  CommandResult snapshot =
      RunFerry({"snapshot", "--config", ApplyConfigPath(), "--table", "nosuch.table"});
  EXPECT_EQ(snapshot.exit_code, 1) << snapshot.output;
  EXPECT_NE(snapshot.output.find("does not replicate nosuch.table"), std::string::npos)
      << snapshot.output;
  EXPECT_NE(snapshot.output.find(Qualified(GetParam().source, "items")), std::string::npos)
      << "the error lists the tables that can be re-copied: " << snapshot.output;
  CommandResult usage = RunFerry({"snapshot", "--config", ApplyConfigPath()});
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
}

// A table the stream did not carry at first (not in the publication / not selected) is copied
// by itself once it is added and the agents reconnect, while `ferry snapshot` of it was refused
// before.
TEST_P(RecopyTest, ATableAddedToTheStreamLaterIsCopied) {
  const Direction& d = GetParam();
  ASSERT_TRUE(setup_->source().Exec(SeedSql(d.source)).ok());
  ASSERT_TRUE(setup_->source().Exec("CREATE TABLE extra (id int PRIMARY KEY, v varchar(20))").ok());
  ASSERT_TRUE(setup_->target().Exec("CREATE TABLE extra (id int PRIMARY KEY, v varchar(20))").ok());
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO extra VALUES (1, 'a'), (2, 'b'), (3, 'c')").ok());
  if (d.source != d.target) {
    setup_->apply_mappings += "  - source: " + Qualified(d.source, "extra") +
                              "\n    target: " + Qualified(d.target, "extra") + "\n";
  }
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ASSERT_TRUE(WaitFor([&] { return CopiesDone(false) == "2"; }, seconds(120)))
      << Progress() << setup_->apply_log();
  const std::string extra = Qualified(d.source, "extra");
  CommandResult refused = RunFerry({"snapshot", "--config", ApplyConfigPath(), "--table", extra});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;

  // Added on the source side: PostgreSQL to the publication, MariaDB to the capture config.
  if (pg_source()) {
    const std::string publication =
        setup_->source().Scalar("SELECT pubname FROM pg_catalog.pg_publication");
    ASSERT_TRUE(
        setup_->source().Exec("ALTER PUBLICATION " + publication + " ADD TABLE extra").ok());
  } else {
    setup_->capture_tables = "[\"" + Qualified(d.source, "items") + "\", \"" +
                             Qualified(d.source, "tags") + "\", \"" + extra + "\"]";
  }
  setup_->KillCapture();
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO extra VALUES (4, 'streamed')").ok());
  ASSERT_TRUE(setup_->source().Exec("UPDATE extra SET v = 'changed' WHERE id = 2").ok());
  EXPECT_TRUE(WaitFor([&] { return CopiesDone(false) == "3"; }, seconds(120)))
      << Progress() << setup_->apply_log();
  EXPECT_TRUE(setup_->WaitForSameRows("SELECT id, v FROM extra ORDER BY id", seconds(60)))
      << setup_->DescribeDifference("SELECT id, v FROM extra ORDER BY id") << setup_->apply_log();
  EXPECT_NE(setup_->apply_log().find("was added to the replicated tables"), std::string::npos)
      << setup_->apply_log();
}

INSTANTIATE_TEST_SUITE_P(AllDirections, RecopyTest, kAllDirections, DirectionName);

}  // namespace
}  // namespace ferry::testing
