// MariaDB sources as new users run them: a server with its default binlog_row_metadata (NO_LOG),
// a fresh server whose GTID state is still empty, and statements that reach a ROW-format binlog
// as QUERY events. Each of these once made a replica differ from its source without an error.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/harness/replication_setup.h"
#include "tests/integration/mariadb_source_reader.h"

namespace ferry::capture::mysql {
namespace {

// The server as it comes: binlog_row_metadata is NO_LOG. (ROW format and FULL row images are
// still set: Ferry refuses to start without them, naming the setting.)
std::unique_ptr<MariaDbServer> StartDefaultServer(const std::string& name) {
  MariaDbOptions options;
  options.binlog_row_metadata.clear();
  return StartServer(name, options);
}

std::unique_ptr<ChangeSource> SourceSkipping(const MariaDbServer& server,
                                             std::vector<std::string> tables,
                                             std::vector<std::string> skip_statements) {
  MysqlSourceOptions options;
  options.dsn = server.dsn();
  options.server_id = 1001;
  options.tables = std::move(tables);
  options.skip_statements = std::move(skip_statements);
  return MakeMysqlSource(std::move(options));
}

// Reads until the source fails; the error, or a note that it did not fail.
std::string ErrorOf(ChangeSource& source, seconds timeout = seconds(20)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    Result<SourceEvent> event = source.Next(milliseconds(200));
    if (!event.ok()) return event.message();
  }
  return "(no error)";
}

constexpr char kDefaultsServer[] = "mdef";
class MariaDbDefaultsTest : public OneServerPerSuite<kDefaultsServer, kServerDefaultRowMetadata> {};

TEST_F(MariaDbDefaultsTest, TheServerLogsNoRowMetadata) {
  EXPECT_EQ(db().Scalar("SELECT @@global.binlog_row_metadata"), "NO_LOG");
}

// Without SIGNEDNESS in the binlog, 18446744073709551615 used to arrive as -1, ENUMs as their
// numbers and latin1 text as bytes: all now come from information_schema, exactly.
TEST_F(MariaDbDefaultsTest, UnsignedEnumSetAndCharsetsAreExact) {
  Exec(
      "CREATE TABLE exact (id BIGINT UNSIGNED PRIMARY KEY, i INT UNSIGNED, m MEDIUMINT UNSIGNED,"
      " s SMALLINT UNSIGNED, t TINYINT UNSIGNED, neg BIGINT, z INT(5) UNSIGNED ZEROFILL,"
      " d DECIMAL(10,2) UNSIGNED, e ENUM('small','It''s','x,y'), st SET('a','B','c'),"
      " l VARCHAR(10) CHARACTER SET latin1, y YEAR)");
  auto source = Source(db(), {"ferry.exact"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  Exec(
      "INSERT INTO exact VALUES (18446744073709551615, 4294967295, 16777215, 65535, 255,"
      " -9223372036854775808, 42, 12345678.90, 'It''s', 'a,B', 'Grüße', 2155),"
      " (1, 0, 0, 0, 0, -1, 0, 0, 'x,y', '', '', 1901)");
  auto txs = ReadTransactions(*source, 1);
  ASSERT_TRUE(txs.ok()) << txs.message();
  const Tx& tx = (*txs)[0];
  EXPECT_EQ(Names(tx.row_relations[0]), (std::vector<std::string>{"id", "i", "m", "s", "t", "neg",
                                                                  "z", "d", "e", "st", "l", "y"}));
  EXPECT_TRUE(tx.row_relations[0].columns(0).key());
  EXPECT_FALSE(tx.row_relations[0].columns(1).key());
  EXPECT_EQ(tx.row_relations[0].columns(0).source_type(), "bigint unsigned");
  EXPECT_EQ(Render(tx.rows[0].new_values()),
            (std::vector<std::string>{"18446744073709551615", "4294967295", "16777215", "65535",
                                      "255", "-9223372036854775808", "42", "dec:12345678.90",
                                      "enum:It's", "set:a,B", "'Grüße'", "2155"}));
  EXPECT_EQ(Render(tx.rows[1].new_values()),
            (std::vector<std::string>{"1", "0", "0", "0", "0", "-1", "0", "dec:0.00", "enum:x,y",
                                      "set:", "''", "1901"}));
}

// information_schema describes the table as it is now; an event written before the table was
// altered cannot be read with it, and the source says so instead of guessing.
TEST_F(MariaDbDefaultsTest, AnEventOlderThanItsTablesLastChangeIsRefused) {
  Exec("CREATE TABLE altered (id INT PRIMARY KEY, n INT)");
  const std::string before = GtidPos(db());
  Exec("INSERT INTO altered VALUES (1, 1)");
  std::this_thread::sleep_for(milliseconds(1100));  // CREATE_TIME counts seconds
  Exec("ALTER TABLE altered MODIFY n INT UNSIGNED");
  auto source = Source(db(), {"ferry.altered"});
  ASSERT_TRUE(source->Start(Mariadb(before)).ok());
  const std::string error = ErrorOf(*source);
  EXPECT_NE(error.find("table `ferry`.`altered` was altered"), std::string::npos) << error;
  EXPECT_NE(error.find("Set binlog_row_metadata=FULL on the source"), std::string::npos) << error;

  // Events written after the change read as the table is now.
  const std::string after = GtidPos(db());
  Exec("INSERT INTO altered VALUES (2, 4294967295)");
  source = Source(db(), {"ferry.altered"});
  ASSERT_TRUE(source->Start(Mariadb(after)).ok());
  auto txs = ReadTransactions(*source, 1);
  ASSERT_TRUE(txs.ok()) << txs.message();
  EXPECT_EQ(Render((*txs)[0].rows[0].new_values()), (std::vector<std::string>{"2", "4294967295"}));
}

TEST_F(MariaDbDefaultsTest, TruncateArrivesAsATruncateChange) {
  Exec("CREATE DATABASE IF NOT EXISTS other");
  Exec(
      "CREATE TABLE trunc (id INT PRIMARY KEY); CREATE TABLE other.`odd name` (id INT);"
      "CREATE TABLE untouched (id INT)");
  auto source = Source(db(), {"ferry.trunc", "other.*"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  Exec("INSERT INTO trunc VALUES (1)");
  Exec("TRUNCATE TABLE trunc");
  Exec("TRUNCATE untouched");  // not replicated: nothing arrives
  Exec("truncate `other`.`odd name`");
  Exec("INSERT INTO trunc VALUES (2)");
  auto txs = ReadTransactions(*source, 4);
  ASSERT_TRUE(txs.ok()) << txs.message();
  EXPECT_EQ((*txs)[0].rows[0].op(), wire::RowChange::INSERT);
  ASSERT_EQ((*txs)[1].rows.size(), 1u);
  EXPECT_EQ((*txs)[1].rows[0].op(), wire::RowChange::TRUNCATE);
  EXPECT_EQ((*txs)[1].row_relations[0].schema(), "ferry");
  EXPECT_EQ((*txs)[1].row_relations[0].table(), "trunc");
  EXPECT_EQ((*txs)[2].rows[0].op(), wire::RowChange::TRUNCATE);
  EXPECT_EQ((*txs)[2].row_relations[0].schema(), "other");
  EXPECT_EQ((*txs)[2].row_relations[0].table(), "odd name");
  EXPECT_EQ((*txs)[3].rows[0].op(), wire::RowChange::INSERT);
  // Each TRUNCATE is a transaction of its own, at its own GTID.
  EXPECT_NE((*txs)[1].begin.position().value(), (*txs)[2].begin.position().value());
}

// Statements that change rows without row events stop the stream with the statement named, and
// pass once the operator lists them; the same statements on tables nobody replicates pass.
TEST_F(MariaDbDefaultsTest, StatementsThatCannotBeReplicatedStopTheStream) {
  Exec(
      "CREATE TABLE dropped (id INT PRIMARY KEY); CREATE TABLE renamed (id INT PRIMARY KEY);"
      "CREATE TABLE parted (id INT PRIMARY KEY) PARTITION BY RANGE (id)"
      " (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE);"
      "CREATE TABLE by_statement (id INT PRIMARY KEY); CREATE TABLE bystander (id INT)");
  struct Case {
    std::string sql;
    std::string named;  // in the error
  };
  const std::vector<Case> cases = {
      {"DROP TABLE dropped", "DROP TABLE at "},
      {"RENAME TABLE renamed TO renamed2", "RENAME TABLE at "},
      {"ALTER TABLE parted TRUNCATE PARTITION p0",
       "ALTER TABLE ... PARTITION maintenance (TRUNCATE, DROP, EXCHANGE or CONVERT "
       "PARTITION) at "},
      {"SET SESSION binlog_format = STATEMENT; INSERT INTO by_statement VALUES (7)",
       "statement-based INSERT at "},
  };
  const std::vector<std::string> tables = {"ferry.dropped", "ferry.renamed", "ferry.parted",
                                           "ferry.by_statement"};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    const std::string before = GtidPos(db());
    Exec("DROP TABLE bystander; CREATE TABLE bystander (id INT)");
    Exec(c.sql);
    const std::string at = db().Scalar("SELECT @@global.gtid_binlog_pos");
    auto source = Source(db(), tables);
    ASSERT_TRUE(source->Start(Mariadb(before)).ok());
    const std::string error = ErrorOf(*source);
    EXPECT_NE(error.find(c.named + at), std::string::npos) << error;
    EXPECT_NE(error.find("without row events, so Ferry cannot replicate it"), std::string::npos)
        << error;
    EXPECT_NE(error.find("add \"" + at + "\" to source.skip_statements"), std::string::npos)
        << error;

    // Listed, it passes: what follows arrives.
    Exec("INSERT INTO by_statement VALUES (100 + (SELECT COUNT(*) FROM by_statement))");
    source = SourceSkipping(db(), tables, {at});
    ASSERT_TRUE(source->Start(Mariadb(before)).ok());
    auto txs = ReadTransactions(*source, 1);
    ASSERT_TRUE(txs.ok()) << txs.message();
    EXPECT_EQ((*txs)[0].row_relations[0].table(), "by_statement");
  }
}

// A fresh server has written nothing: its GTID state is empty, and that is where a subscriber
// starts (and resumes) — not at whatever the end of the log is by the time it reconnects.
TEST(MariaDbFreshServerTest, AnEmptyGtidStateIsTheStartOfTheLog) {
  auto server = StartDefaultServer("mfresh");
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Exec("CREATE TABLE t (id INT PRIMARY KEY); RESET MASTER").ok());
  ASSERT_EQ(GtidPos(*server), "");
  auto source = Source(*server, {"ferry.t"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  ASSERT_TRUE(source->start_position().has_value());
  EXPECT_EQ(source->start_position()->engine(), "mariadb");
  EXPECT_EQ(source->start_position()->value(), "");
  source->Stop();
  // Written while nobody reads: a subscriber resuming from the empty state gets it.
  ASSERT_TRUE(server->Exec("INSERT INTO t VALUES (1)").ok());
  ASSERT_TRUE(server->Exec("INSERT INTO t VALUES (2)").ok());
  ASSERT_TRUE(source->Start(Mariadb("")).ok());
  auto txs = ReadTransactions(*source, 2);
  ASSERT_TRUE(txs.ok()) << txs.message();
  EXPECT_EQ(Render((*txs)[0].rows[0].new_values()), (std::vector<std::string>{"1"}));
  EXPECT_EQ((*txs)[1].commit.position().value(), "0-1-2");
}

// ---- through both agents, to either target engine ----------------------------------------------

using testing::HttpGet;
using testing::ReplicationSetup;
using testing::RowsAsText;
using testing::WaitFor;

constexpr char kSourceSchema[] =
    "CREATE TABLE items (id BIGINT UNSIGNED PRIMARY KEY, qty INT UNSIGNED,"
    " size ENUM('S','M','L'), tags SET('new','sale'), note VARCHAR(20) CHARACTER SET latin1);"
    "CREATE TABLE logs (id INT PRIMARY KEY, msg VARCHAR(20))";
// The same values, readable on either target as the same text.
constexpr char kPgTargetSchema[] =
    "CREATE TABLE items (id numeric(20,0) PRIMARY KEY, qty bigint, size text, tags text,"
    " note text); CREATE TABLE logs (id int PRIMARY KEY, msg text)";
constexpr char kItemsQuery[] = "SELECT id, qty, size, tags, note FROM items ORDER BY id";
constexpr char kLogsQuery[] = "SELECT id, msg FROM logs ORDER BY id";

class MariaDbDefaultsEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string& target = GetParam();
    auto setup = ReplicationSetup::Create("mariadb", target, kSourceSchema,
                                          target == "postgres" ? kPgTargetSchema : kSourceSchema,
                                          {.source_defaults = true});
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables = "[\"ferry.items\", \"ferry.logs\"]";
    if (target == "postgres") {
      setup_->apply_mappings =
          "  - source: ferry.items\n    target: public.items\n"
          "  - source: ferry.logs\n    target: public.logs\n";
    }
  }
  void Start() {
    ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  }
  void Source(const std::string& sql) { ASSERT_TRUE(setup_->source().Exec(sql).ok()) << sql; }
  bool Same(const std::string& query, seconds timeout = seconds(30)) {
    return setup_->WaitForSameRows(query, timeout);
  }
  std::string ApplyStatus() {
    Result<std::string> status = HttpGet(setup_->apply_admin_port(), "/status");
    return status.ok() ? *status : status.message();
  }

  std::unique_ptr<ReplicationSetup> setup_;
};

INSTANTIATE_TEST_SUITE_P(Targets, MariaDbDefaultsEndToEndTest,
                         ::testing::Values("postgres", "mariadb"));

// A fresh source (nothing in its binlog, empty GTID state) at the apply agent's first contact:
// the apply side used to refuse the empty start position and reconnect in a loop, and then
// started after whatever the source wrote first.
TEST_P(MariaDbDefaultsEndToEndTest, AFreshSourceLosesNothingFromTheFirstContact) {
  Source("RESET MASTER");
  Start();
  ASSERT_TRUE(WaitFor([&] { return ApplyStatus().find("\"streaming\"") != std::string::npos; },
                      seconds(20)))
      << ApplyStatus() << "\n"
      << setup_->apply_log();
  setup_->KillApply();
  Source("INSERT INTO logs VALUES (1, 'first')");
  Source("INSERT INTO logs VALUES (2, 'second')");
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  Source("INSERT INTO logs VALUES (3, 'third')");
  EXPECT_TRUE(Same(kLogsQuery)) << setup_->DescribeDifference(kLogsQuery);
  EXPECT_EQ(setup_->apply_log().find("the change stream is malformed"), std::string::npos);
}

// binlog_row_metadata=NO_LOG: the largest unsigned values, ENUM and SET members and latin1 text
// arrive as the source holds them (18446744073709551615 used to arrive as -1).
// A backlog from a fresh source with its default settings, caught up in groups (the start
// checkpoint waits for the target's flush, the rest commits in a few target transactions), with
// the apply agent killed once mid catch-up: every row arrives, none is lost.
TEST_P(MariaDbDefaultsEndToEndTest, AGroupedCatchUpFromAFreshSourceLosesNothing) {
  Source("RESET MASTER");
  Start();
  setup_->KillApply();
  for (int id = 1; id <= 400; ++id) {
    Source("INSERT INTO logs VALUES (" + std::to_string(id) + ", 'm" + std::to_string(id) + "')");
  }
  ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
  WaitFor([&] { return setup_->target().Scalar("SELECT count(*) FROM logs") != "0"; }, seconds(30));
  setup_->KillApply();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  EXPECT_TRUE(Same(kLogsQuery, seconds(60))) << setup_->DescribeDifference(kLogsQuery);
  Result<uint64_t> commits =
      ::ferry::testing::MetricSum(setup_->apply_admin_port(), "ferry_target_commits_total");
  ASSERT_TRUE(commits.ok()) << commits.message();
  EXPECT_LT(*commits, 400u);  // this run alone applied what the first left, in groups
}

TEST_P(MariaDbDefaultsEndToEndTest, ValuesTheBinlogDoesNotDescribeArriveExactly) {
  Start();
  Source(
      "INSERT INTO items VALUES (18446744073709551615, 4294967295, 'L', 'new,sale', 'Grüße'),"
      " (9223372036854775808, 2147483648, 'S', '', ''), (1, 0, NULL, 'sale', NULL)");
  Source("UPDATE items SET qty = qty - 1, size = 'M' WHERE id = 18446744073709551615");
  Source("DELETE FROM items WHERE id = 9223372036854775808");
  EXPECT_TRUE(Same(kItemsQuery)) << setup_->DescribeDifference(kItemsQuery);
}

// TRUNCATE reaches the binlog as a statement; it empties the replica's table in its place in the
// stream. DROP TABLE cannot be replicated: the stream stops there, naming it, and goes on once
// the operator has made the change on the target and listed the statement.
TEST_P(MariaDbDefaultsEndToEndTest, TruncateIsReplicatedAndDropTableStopsTheStream) {
  Start();
  Source("INSERT INTO logs VALUES (1, 'a'), (2, 'b')");
  Source("TRUNCATE TABLE logs");
  Source("INSERT INTO logs VALUES (3, 'c')");
  ASSERT_TRUE(Same(kLogsQuery)) << setup_->DescribeDifference(kLogsQuery);

  Source("DROP TABLE items");
  const std::string at = setup_->source().Scalar("SELECT @@global.gtid_binlog_pos");
  Source("INSERT INTO logs VALUES (4, 'after the drop')");
  ASSERT_TRUE(WaitFor(
      [&] { return ApplyStatus().find("DROP TABLE at " + at) != std::string::npos; }, seconds(30)))
      << ApplyStatus();
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM logs WHERE id = 4"), "0");

  setup_->KillCapture();
  setup_->capture_source_settings = "  skip_statements: [\"" + at + "\"]\n";
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  EXPECT_TRUE(Same(kLogsQuery)) << setup_->DescribeDifference(kLogsQuery);
  EXPECT_NE(setup_->capture_log().find("passing over DROP TABLE at " + at), std::string::npos);
}

}  // namespace
}  // namespace ferry::capture::mysql
