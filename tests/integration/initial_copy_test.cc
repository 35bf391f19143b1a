// A new subscriber's target starts empty and is filled with the source's existing rows while
// the source keeps taking writes, in every direction, through the real ferry binary: the copy
// and the stream meet exactly (no row missed, none applied twice or stale), a copy cut short by
// `kill -9` of either agent resumes after its last committed chunk, and `copy_data: false`
// copies nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "tests/harness/replication_setup.h"
#include "tests/integration/directions.h"

namespace ferry::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The same DDL on both engines. `tags` has a composite key with a text part, `empty` no rows,
// `notes` no key.
constexpr char kSchema[] =
    "CREATE TABLE items (id bigint PRIMARY KEY, grp int, name varchar(100), amount "
    "decimal(12,2), note text);"
    "CREATE TABLE tags (a int, b varchar(20), val int, PRIMARY KEY (a, b));"
    "CREATE TABLE empty (id int PRIMARY KEY, v int);"
    "CREATE TABLE notes (body varchar(50), n int);";  // no key: copied whole

// `rows` rows in `items`, 3 per number in `tags`, written in one statement each.
std::string SeedSql(const std::string& engine, int rows) {
  const std::string n = std::to_string(rows);
  if (engine == "postgres") {
    return "INSERT INTO items SELECT g, g % 100, 'name ' || g, g * 1.25, repeat('x', g % 50) "
           "FROM generate_series(1, " +
           n +
           ") g;"
           "INSERT INTO tags SELECT g, b, g * 10 FROM generate_series(1, 200) g, "
           "unnest(ARRAY['x', 'y', 'z']) b;"
           "INSERT INTO notes SELECT 'note ' || g, g FROM generate_series(1, 50) g;";
  }
  return "INSERT INTO items SELECT seq, seq % 100, CONCAT('name ', seq), seq * 1.25, "
         "REPEAT('x', seq % 50) FROM seq_1_to_" +
         n +
         ";"
         "INSERT INTO tags SELECT seq, b.v, seq * 10 FROM seq_1_to_200, "
         "(SELECT 'x' AS v UNION ALL SELECT 'y' UNION ALL SELECT 'z') b;"
         "INSERT INTO notes SELECT CONCAT('note ', seq), seq FROM seq_1_to_50;";
}

constexpr char kItems[] = "SELECT id, grp, name, amount, note FROM items ORDER BY id";
constexpr char kTags[] = "SELECT a, b, val FROM tags ORDER BY a, b";
constexpr char kNotes[] = "SELECT n, body FROM notes ORDER BY n";

// Rows of the copy under writes: 20000 in the suite; scripts/soak_copy.sh sets more.
int SoakRows() {
  const char* rows = std::getenv("FERRY_COPY_SOAK_ROWS");
  return rows != nullptr && std::atoi(rows) > 0 ? std::atoi(rows) : 20000;
}

class InitialCopyTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override { Create({}); }

  void Create(ServerSettings settings) {
    const Direction& d = GetParam();
    auto setup = ReplicationSetup::Create(d.source, d.target, kSchema, kSchema, settings);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables = "[\"" + Qualified(d.source, "items") + "\", \"" +
                             Qualified(d.source, "tags") + "\", \"" + Qualified(d.source, "empty") +
                             "\", \"" + Qualified(d.source, "notes") + "\"]";
    if (d.source != d.target) {
      for (const char* table : {"items", "tags", "empty", "notes"}) {
        setup_->apply_mappings += "  - source: " + Qualified(d.source, table) +
                                  "\n    target: " + Qualified(d.target, table) + "\n";
      }
    }
  }

  bool pg_source() const { return GetParam().source == "postgres"; }

  void Seed(int rows) { ASSERT_TRUE(setup_->source().Exec(SeedSql(GetParam().source, rows)).ok()); }

  // Inserts, updates (also of keys, and of rows the copy has not reached) and deletes on the
  // source, in small transactions, until `stop`.
  void WriteUntil(const std::atomic<bool>& stop, int rows) {
    std::mt19937 random(7);
    std::uniform_int_distribution<int> pick(1, rows);
    int next_id = rows + 1;
    const std::string begin = pg_source() ? "BEGIN;" : "START TRANSACTION;";
    while (!stop) {
      const std::string a = std::to_string(pick(random));
      const std::string b = std::to_string(pick(random));
      const std::string fresh = std::to_string(next_id++);
      std::string sql = begin;
      sql += "INSERT INTO items VALUES (" + fresh + ", 1, 'new', 2.50, 'inserted');";
      sql += "UPDATE items SET name = 'updated', amount = amount + 1 WHERE id = " + a + ";";
      sql += "DELETE FROM items WHERE id = " + b + ";";
      sql += "UPDATE items SET id = id + 10000000 WHERE id = " + std::to_string(pick(random)) +
             " AND id < 10000000;";
      sql +=
          "UPDATE tags SET val = val + 1 WHERE a = " + std::to_string(pick(random) % 200 + 1) + ";";
      // A keyless table is copied in one chunk: it must stay smaller than one.
      if (next_id <= rows + 100) sql += "INSERT INTO notes VALUES ('later', " + fresh + ");";
      ASSERT_TRUE(setup_->source().Exec(sql + "COMMIT").ok());
    }
  }

  std::string CopyProgress() const {
    return RowsAsText(setup_->target(),
                      "SELECT source_table, rows_copied, done FROM ferry_meta.copy_progress "
                      "ORDER BY source_table");
  }

  // Rows the target's copy of `items` has committed so far (0 before the copy began).
  long ItemsCopied() const {
    const std::string value = setup_->target().Scalar(
        "SELECT rows_copied FROM ferry_meta.copy_progress WHERE "
        "source_table = '" +
        Qualified(GetParam().source, "items") + "'");
    return value.empty() || value.rfind("ERROR", 0) == 0 ? 0 : std::stol(value);
  }

  bool CopyDone() const {
    const std::string pending =
        setup_->target().Scalar("SELECT count(*) FROM ferry_meta.copy_progress WHERE NOT done");
    const std::string all =
        setup_->target().Scalar("SELECT count(*) FROM ferry_meta.copy_progress");
    return pending == "0" && all == "4";
  }

  void ExpectSameAsSource() {
    EXPECT_TRUE(setup_->WaitForSameRows(kItems, seconds(120)))
        << setup_->DescribeDifference(kItems) << "\napply log:\n"
        << setup_->apply_log();
    EXPECT_TRUE(setup_->WaitForSameRows(kTags, seconds(60))) << setup_->DescribeDifference(kTags);
    EXPECT_TRUE(setup_->WaitForSameRows(kNotes, seconds(60))) << setup_->DescribeDifference(kNotes);
    EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM empty"), "0");
  }

  nlohmann::json ApplyStatus() const {
    auto body = HttpGet(setup_->apply_admin_port(), "/status");
    if (!body.ok()) return nlohmann::json::object();
    return nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
  }

  // Copies `rows` rows while a writer keeps changing them; `interrupt` runs once the copy has
  // committed some chunks of `items`, and must leave both agents running.
  void CopyUnderWrites(int rows, const std::function<void()>& interrupt) {
    Seed(rows);
    ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
    std::atomic<bool> stop{false};
    std::thread writer([&] { WriteUntil(stop, rows); });
    if (interrupt) {
      const bool started =
          WaitFor([&] { return ItemsCopied() >= 1000 || CopyDone(); }, seconds(60));
      EXPECT_TRUE(started) << CopyProgress() << setup_->apply_log();
      EXPECT_FALSE(CopyDone()) << "the copy ended before it could be interrupted; make it longer";
      interrupt();
    }
    const bool done = WaitFor([&] { return CopyDone(); }, seconds(180 + rows / 200));
    std::this_thread::sleep_for(milliseconds(300));  // writes after the copy, too
    stop = true;
    writer.join();
    ASSERT_TRUE(done) << CopyProgress() << "\napply log:\n"
                      << setup_->apply_log() << "\ncapture log:\n"
                      << setup_->capture_log();
    ExpectSameAsSource();
  }

  // `ferry verify` of the tables with a key, by checksums and row by row: equal (exit 0).
  void ExpectVerifyEqual() {
    const std::string apply = setup_->dir().path() + "/apply.yaml";
    const std::string capture = setup_->dir().path() + "/capture.yaml";
    const Direction& d = GetParam();
    for (const char* mode : {"--chunk-rows", "--row-by-row"}) {
      std::vector<std::string> args = {"verify",
                                       "--config",
                                       apply,
                                       "--source",
                                       capture,
                                       "--table",
                                       Qualified(d.source, "items"),
                                       "--table",
                                       Qualified(d.source, "tags")};
      args.push_back(mode);
      if (std::string(mode) == "--chunk-rows") args.push_back("5000");
      CommandResult verify = RunFerry(args);
      EXPECT_EQ(verify.exit_code, 0) << mode << "\n" << verify.output;
    }
  }

  std::unique_ptr<ReplicationSetup> setup_;
};

// A MariaDB source as a new user's server has it (binlog_row_metadata=NO_LOG: the binlog names
// no columns, the copy reads them from the catalog).
class InitialCopyFromDefaultMariaDbTest : public InitialCopyTest {
 protected:
  void SetUp() override { Create({.source_defaults = true}); }
};

TEST_P(InitialCopyFromDefaultMariaDbTest, CopiesExistingRowsWhileTheSourceKeepsWriting) {
  setup_->capture_settings = "copy_chunk_rows: 1000\n";
  CopyUnderWrites(10000, nullptr);
  ExpectVerifyEqual();
}

INSTANTIATE_TEST_SUITE_P(MariaDbSources, InitialCopyFromDefaultMariaDbTest,
                         ::testing::Values(Direction{"mariadb", "postgres"},
                                           Direction{"mariadb", "mariadb"}),
                         DirectionName);

TEST_P(InitialCopyTest, CopiesExistingRowsWhileTheSourceKeepsWriting) {
  setup_->capture_settings = "copy_chunk_rows: 1000\n";
  const int rows = SoakRows();
  CopyUnderWrites(rows, nullptr);
  ExpectVerifyEqual();
  nlohmann::json copy = ApplyStatus()["streams"]["east"]["copy"];
  EXPECT_EQ(copy["state"], "done") << copy.dump();
  EXPECT_EQ(copy["tables_total"], 4) << copy.dump();
  EXPECT_EQ(copy["tables_done"], 4) << copy.dump();
  EXPECT_GE(copy["rows_copied"].get<int64_t>(), rows - 2000) << copy.dump();
  // Rows the stream brought before the copy reached them are not divergences.
  EXPECT_EQ(setup_->apply_log().find("the replica had diverged"), std::string::npos)
      << setup_->apply_log();
}

// Every table's chunks taking turns, each written on a target connection of its own, while the
// writer changes two of them: the stream's changes to a table must wait for its chunk in flight.
TEST_P(InitialCopyTest, FourTablesCopiedAtOnceWhileTheSourceKeepsWriting) {
  setup_->capture_settings = "copy_chunk_rows: 300\n";
  setup_->apply_settings = "copy_parallel_tables: 4\n";
  CopyUnderWrites(8000, nullptr);
  ExpectVerifyEqual();
  // The capture agent was asked for four tables at a time, and interleaved them.
  EXPECT_NE(setup_->capture_log().find("copying the existing rows of 4 table(s), 4 at a time"),
            std::string::npos)
      << setup_->capture_log();
}

TEST_P(InitialCopyTest, KillDashNineOfApplyMidCopyResumesAfterTheLastChunk) {
  setup_->capture_settings = "copy_chunk_rows: 500\n";
  CopyUnderWrites(60000, [&] {
    setup_->KillApply();
    const long copied = ItemsCopied();
    ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
    EXPECT_TRUE(WaitFor(
        [&] { return setup_->capture_log().find("resuming after key") != std::string::npos; },
        seconds(30)))
        << "rows copied before the kill: " << copied << "\n"
        << setup_->capture_log();
  });
}

TEST_P(InitialCopyTest, KillDashNineOfCaptureMidCopyResumesAfterTheLastChunk) {
  // Unpaced, the capture agent reads the whole table into the socket buffers in a fraction of a
  // second, and the apply agent finishes the copy from them after the kill: nothing to resume.
  // Paced, it is still reading `items` for about three seconds after the first chunks landed.
  setup_->capture_settings = "copy_chunk_rows: 500\ncopy_max_rows_per_second: 20000\n";
  CopyUnderWrites(60000, [&] {
    EXPECT_EQ(setup_->capture_log().find("copied " + Qualified(GetParam().source, "items")),
              std::string::npos)
        << "the capture agent read the whole table before the kill\n"
        << setup_->capture_log();
    setup_->KillCapture();
    std::this_thread::sleep_for(milliseconds(200));
    ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    EXPECT_TRUE(WaitFor(
        [&] { return setup_->capture_log().find("resuming after key") != std::string::npos; },
        seconds(30)))
        << setup_->capture_log();
  });
}

TEST_P(InitialCopyTest, WithCopyDataFalseOnlyChangesArrive) {
  Seed(100);
  setup_->apply_settings = "copy_data: false\n";
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO items VALUES (1000, 1, 'after', 1.00, 'x')").ok());
  EXPECT_TRUE(WaitFor([&] { return setup_->target().Scalar("SELECT count(*) FROM items") == "1"; },
                      seconds(30)))
      << setup_->apply_log();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM items"), "1");
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM ferry_meta.copy_progress"), "0");
}

INSTANTIATE_TEST_SUITE_P(AllDirections, InitialCopyTest, kAllDirections, DirectionName);

}  // namespace
}  // namespace ferry::testing
