// The MySQL/MariaDB sink against a real MariaDB 10.11: hand-built change records in, exact text
// of the target's rows out. Covers the checkpoint's transactionality (ARCHITECTURE.md invariant 1),
// every row operation and divergence outcome, every value kind into its MariaDB column types
// with edge values, every value a column cannot hold exactly, mappings, and the errors
// operators see. Mirrors postgres_sink_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "apply/mysql/mysql_sink.h"
#include "apply/sink.h"
#include "apply/table_mapping.h"
#include "apply/type_override.h"
#include "tests/harness/ferry_process.h"
#include "tests/harness/mariadb_server.h"
#include "tests/integration/mariadb_tls_suite.h"
#include "tests/integration/sink_fixture.h"
#include "tests/integration/test_ca.h"
#include "wire/testing/change_records.h"
#include "wire/testing/test_certificates.h"

namespace ferry::apply::mysql {
namespace {

using ::ferry::testing::MariaDbServer;
using ::ferry::testing::Row;

// The harness database: the target schema of every relation below unless mapped elsewhere.
constexpr const char* kDb = "ferry";

// ---- building change records ------------------------------------------------------------------

using wire::testing::Array;
using wire::testing::Bool;
using wire::testing::Bytes;
using wire::testing::Col;
using wire::testing::Dec;
using wire::testing::Delete;
using wire::testing::Float;
using wire::testing::Insert;
using wire::testing::Int;
using wire::testing::Null;
using wire::testing::Str;
using wire::testing::Text;
using wire::testing::Truncate;
using wire::testing::Uint;
using wire::testing::Unchanged;
using wire::testing::Update;

wire::Relation MakeRelation(uint32_t id, const std::string& table, const std::vector<Col>& columns,
                            bool full_old_image = false) {
  return wire::testing::MakeRelation(id, kDb, table, columns, full_old_image);
}

wire::Begin MakeBegin(const std::string& position, int64_t commit_time_us = 1709207110123456,
                      const std::string& origin = "") {
  return wire::testing::BeginAt("mariadb", position, commit_time_us, origin);
}

MappedRelation Map(const wire::Relation& relation, std::vector<MappingRule> rules = {}) {
  Result<MappedRelation> mapped = TableMapper(std::move(rules)).Map(relation);
  EXPECT_TRUE(mapped.ok()) << mapped.message();
  return mapped.ok() ? *mapped : MappedRelation{};
}

Row R(std::vector<std::optional<std::string>> values) { return values; }

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\"\ndoes not contain\n\"" << part << "\"";
}

std::string Hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char byte : bytes) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0x0f]);
  }
  return out;
}

// ---- fixture ----------------------------------------------------------------------------------

struct MariaDbEngine {
  using Server = MariaDbServer;
  static constexpr const char* kName = "MariaDB";
  static constexpr const char* kEngine = "mariadb";
  static constexpr const char* kSchema = "ferry";
  static constexpr const char* kValueText = "CAST(v AS CHAR)";
  static Result<std::unique_ptr<Server>> Start() { return MariaDbServer::Start("msink"); }
  static std::unique_ptr<Sink> MakeSink(const std::string& dsn) { return MakeMysqlSink(dsn); }
  static std::string SessionSql() { return "SET NAMES utf8mb4; SET time_zone = '+00:00'; "; }
};

class MariaDbSinkTest : public ::ferry::testing::SinkFixture<MariaDbEngine> {};

// ferry.<table>(id int primary key, a text, b int) and its relation (id 1).
struct Simple {
  wire::Relation relation;
  MappedRelation mapped;
};

Simple MakeSimple(const std::string& table) {
  Simple simple;
  simple.relation = MakeRelation(1, table,
                                 {{"id", wire::LOGICAL_TYPE_INT, true},
                                  {"a", wire::LOGICAL_TYPE_TEXT},
                                  {"b", wire::LOGICAL_TYPE_INT}});
  simple.mapped = Map(simple.relation);
  return simple;
}

std::string SimpleTable(const std::string& table, const std::string& extra = "") {
  return "CREATE TABLE " + table + " (id INT PRIMARY KEY, a TEXT, b INT" + extra + ")";
}

// ---- ferry_meta and checkpoints -----------------------------------------------------------------

// Triggers cannot be disabled per session on MariaDB; the sink marks its session instead, so a
// trigger can leave replicated rows alone while still firing for local writes.
TEST_F(MariaDbSinkTest, TriggersCanTellReplicatedRowsByFerryApply) {
  Exec(SimpleTable("trig"));
  Exec("CREATE TABLE trig_log (id INT)");
  Exec(
      "CREATE TRIGGER trig_local AFTER INSERT ON trig FOR EACH ROW "
      "INSERT INTO trig_log SELECT NEW.id FROM DUAL WHERE @ferry_apply IS NULL");
  Simple simple = MakeSimple("trig");
  ApplyAll("0-1-1", simple.mapped, {Insert(1, {Int(1), Text("replicated"), Int(1)})});
  Exec("INSERT INTO trig VALUES (2, 'local', 2)");
  EXPECT_EQ(Scalar("SELECT GROUP_CONCAT(id) FROM trig_log"), "2");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM trig"), "2");
}

TEST_F(MariaDbSinkTest, OpenCreatesMetaTables) {
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ferry_meta.checkpoints WHERE FALSE"), "0");
  EXPECT_EQ(Scalar("SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM "
                   "information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ferry_meta' AND "
                   "TABLE_NAME = 'conflicts'"),
            "id,at,upstream,table_name,key,conflict_type,remote_row,local_row,resolver,outcome,"
            "origin,remote_position,remote_commit_time,remote_old_row,final_row,reason");
  EXPECT_EQ(Scalar("SELECT GROUP_CONCAT(DISTINCT ENGINE) FROM information_schema.TABLES WHERE "
                   "TABLE_SCHEMA = 'ferry_meta'"),
            "InnoDB");
  // Opening again (a restarted agent) finds everything in place.
  Status again = MakeMysqlSink(server_->dsn())->Open();
  EXPECT_TRUE(again.ok()) << again.message();
}

TEST_F(MariaDbSinkTest, ConcurrentFirstOpensAllSucceed) {
  sink_.reset();
  Exec("DROP DATABASE ferry_meta");
  std::vector<std::thread> threads;
  std::vector<std::string> errors(6);
  for (size_t i = 0; i < errors.size(); ++i) {
    threads.emplace_back([&, i] {
      Status status = MakeMysqlSink(server_->dsn())->Open();
      if (!status.ok()) errors[i] = status.message();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& error : errors) EXPECT_EQ(error, "");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                   "TABLE_SCHEMA = 'ferry_meta'"),
            "3");  // checkpoints, conflicts, copy_progress
}

TEST_F(MariaDbSinkTest, UnknownUpstreamHasNoCheckpoint) {
  EXPECT_FALSE(Checkpoint("never-seen").has_value());
}

TEST_F(MariaDbSinkTest, CheckpointIsWrittenInTheSameTransaction) {
  Exec(SimpleTable("ckpt"));
  Simple t = MakeSimple("ckpt");
  ASSERT_TRUE(
      sink_->BeginTransaction("ck", MakeBegin("0-1-1000", 1709207110123456, "node-a")).ok());
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(1), Text("x"), Int(10)})), RowOutcome::kApplied);
  // Visible to nobody else before commit.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ferry_meta.checkpoints WHERE upstream = 'ck'"), "0");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ckpt"), "0");
  Commit();

  std::optional<wire::Position> position = Checkpoint("ck");
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->engine(), "mariadb");
  EXPECT_EQ(position->value(), "0-1-1000");
  EXPECT_EQ(Query("SELECT engine, position, CAST(commit_time AS CHAR), origin FROM "
                  "ferry_meta.checkpoints WHERE upstream = 'ck'"),
            std::vector<Row>{R({"mariadb", "0-1-1000", "2024-02-29 11:45:10.123456", "node-a"})});

  // An aborted transaction leaves neither its rows nor its checkpoint.
  ASSERT_TRUE(sink_->BeginTransaction("ck", MakeBegin("0-1-2000", 0)).ok());
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("y"), Int(20)})), RowOutcome::kApplied);
  EXPECT_EQ(Apply(t.mapped, Delete(1, {Int(1), Null(), Null()})), RowOutcome::kApplied);
  sink_->AbortTransaction();
  EXPECT_EQ(Checkpoint("ck")->value(), "0-1-1000");
  EXPECT_EQ(Query("SELECT id, a, b FROM ckpt ORDER BY id"), std::vector<Row>{R({"1", "x", "10"})});

  // Unknown commit time and origin are stored as NULL.
  ASSERT_TRUE(sink_->BeginTransaction("ck", MakeBegin("0-1-3000", 0)).ok());
  Commit();
  EXPECT_EQ(Query("SELECT position, commit_time, origin FROM ferry_meta.checkpoints WHERE "
                  "upstream = 'ck'"),
            std::vector<Row>{R({"0-1-3000", std::nullopt, std::nullopt})});

  // Upstream names differing only in case are different upstreams.
  ASSERT_TRUE(sink_->BeginTransaction("CK", MakeBegin("0-1-9")).ok());
  Commit();
  EXPECT_EQ(Checkpoint("ck")->value(), "0-1-3000");
  EXPECT_EQ(Checkpoint("CK")->value(), "0-1-9");
}

// Capture's loop prevention relies on seeing the checkpoint row before any data row of the
// transaction: in the target's binlog, its first table map is ferry_meta.checkpoints.
TEST_F(MariaDbSinkTest, CheckpointIsTheFirstWriteOfTheTransaction) {
  Exec(SimpleTable("first_write"));
  Simple t = MakeSimple("first_write");
  Begin("0-1-10", "fw");
  Apply(t.mapped, Insert(1, {Int(1), Text("x"), Int(1)}));
  Commit();
  Result<std::vector<Row>> status = server_->Query("SHOW MASTER STATUS");
  ASSERT_TRUE(status.ok() && !status->empty()) << status.message();
  std::vector<Row> events = Query("SHOW BINLOG EVENTS IN '" + *(*status)[0][0] + "'");
  size_t begin = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i][5].value_or("").starts_with("BEGIN")) begin = i;
  }
  std::vector<std::string> tables;
  for (size_t i = begin; i < events.size(); ++i) {
    if (events[i][2] == "Table_map") tables.push_back(events[i][5].value_or(""));
  }
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_TRUE(Contains(tables[0], "(ferry_meta.checkpoints)"));
  EXPECT_TRUE(Contains(tables[1], "(ferry.first_write)"));
}

TEST_F(MariaDbSinkTest, TransactionFailingMidwayRollsBackCheckpointToo) {
  Exec(SimpleTable("midway", ", CHECK (b < 100)"));
  Simple t = MakeSimple("midway");
  ApplyAll("0-1-100", t.mapped, {Insert(1, {Int(1), Text("keep"), Int(1)})});

  // A value the sink refuses itself (at once), and one the server refuses (when the deferred
  // inserts run: they are sent ahead with the update after them, and fail when the commit reads
  // their results). MariaDB rolls back only the failed statement, so the commit must refuse, or
  // the rows before it would be committed.
  for (const wire::Value& bad : {Text("abc"), Int(500)}) {
    Begin("0-1-200");
    EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("lost"), Int(2)})), RowOutcome::kApplied);
    Result<RowOutcome> failed = sink_->ApplyRow(t.mapped, Insert(1, {Int(3), Text("x"), bad}));
    if (failed.ok()) failed = sink_->ApplyRow(t.mapped, Update(1, {}, {Int(1), Text("u"), Int(1)}));
    const Status first = failed.ok() ? sink_->CommitTransaction() : failed.status();
    ASSERT_FALSE(first.ok());
    EXPECT_TRUE(Contains(first.message(),
                         bad.has_text() ? "apply to ferry.midway (INSERT): column b: text value "
                                          "cannot be written to column type int(11)"
                                        : "apply to ferry.midway (INSERT of 2 rows): MariaDB error "
                                          "4025: CONSTRAINT `"))
        << first.message();
    Status committed = sink_->CommitTransaction();
    EXPECT_FALSE(committed.ok());
    EXPECT_TRUE(Contains(committed.message(), "rolled back"));
    sink_->AbortTransaction();
    sink_->AbortTransaction();  // safe to call again
    EXPECT_EQ(Checkpoint()->value(), "0-1-100");
    EXPECT_EQ(Query("SELECT id, a FROM midway ORDER BY id"), std::vector<Row>{R({"1", "keep"})});
  }

  // The sink is usable again, with the statements it prepared before the failure.
  ApplyAll("0-1-300", t.mapped, {Insert(1, {Int(2), Text("again"), Int(2)})});
  EXPECT_EQ(Checkpoint()->value(), "0-1-300");
  EXPECT_EQ(Query("SELECT id, a FROM midway ORDER BY id"),
            (std::vector<Row>{R({"1", "keep"}), R({"2", "again"})}));
}

TEST_F(MariaDbSinkTest, ReopenAfterConnectionLoss) {
  Exec(SimpleTable("lost"));
  Simple t = MakeSimple("lost");
  Begin("0-1-1", "lost");
  Apply(t.mapped, Insert(1, {Int(1), Text("kept"), Null()}));
  Commit();

  Begin("0-1-2", "lost");
  Result<std::vector<Row>> others = server_->Query(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND "
      "USER = 'root' AND COMMAND <> 'Daemon'");
  ASSERT_TRUE(others.ok()) << others.message();
  ASSERT_EQ(others->size(), 1u);
  Exec("KILL CONNECTION " + *(*others)[0][0]);
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("x"), Null()})), RowOutcome::kApplied);
  Status committed = sink_->CommitTransaction();  // runs the deferred insert: no connection
  ASSERT_FALSE(committed.ok());
  EXPECT_TRUE(
      Contains(committed.message(), "apply to ferry.lost (INSERT of 1 rows): client error 20"));
  sink_->AbortTransaction();

  // A new session: prepared statements and catalog caches start over.
  Status reopened = sink_->Open();
  ASSERT_TRUE(reopened.ok()) << reopened.message();
  EXPECT_EQ(Checkpoint("lost")->value(), "0-1-1");
  Begin("0-1-2", "lost");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("x"), Null()})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Checkpoint("lost")->value(), "0-1-2");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM lost"), "2");
}

TEST_F(MariaDbSinkTest, MisuseIsAnError) {
  Exec(SimpleTable("misuse"));
  Simple t = MakeSimple("misuse");
  Result<RowOutcome> outside = sink_->ApplyRow(t.mapped, Insert(1, {Int(1), Null(), Null()}));
  EXPECT_FALSE(outside.ok());
  EXPECT_TRUE(Contains(outside.message(), "no transaction is open"));
  EXPECT_FALSE(sink_->CommitTransaction().ok());
  Begin("0-1-1", "misuse");
  EXPECT_FALSE(sink_->BeginTransaction("misuse", MakeBegin("0-1-2")).ok());
  sink_->AbortTransaction();
  EXPECT_FALSE(sink_->BeginTransaction("misuse", wire::Begin()).ok());
  std::unique_ptr<Sink> closed = MakeMysqlSink(server_->dsn());
  EXPECT_TRUE(Contains(closed->ReadCheckpoint("x").message(), "not open"));
}

TEST_F(MariaDbSinkTest, OpenFailureNamesTheCause) {
  const std::string port = std::to_string(testing::FreePort());
  Status status =
      MakeMysqlSink("host=127.0.0.1 port=" + port + " user=root connect_timeout=5")->Open();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.message(), "connect to target MySQL/MariaDB at 127.0.0.1:" + port +
                                             ": client error 200"));
  EXPECT_TRUE(Contains(status.message(), "check the target dsn and that the server is up"));

  status = MakeMysqlSink(server_->dsn() + " colour=blue")->Open();
  EXPECT_TRUE(Contains(status.message(), "target dsn: an unknown key (known: host, port"));

  std::string wrong_db = server_->dsn();
  wrong_db.replace(wrong_db.find("dbname=ferry"), 12, "dbname=no_such_db");
  status = MakeMysqlSink(wrong_db)->Open();
  EXPECT_TRUE(Contains(status.message(), "server error 1049: Unknown database 'no_such_db'"));
}

// ---- row operations
// ------------------------------------------------------------------------------

TEST_F(MariaDbSinkTest, InsertUpdateDeleteTruncate) {
  Exec("CREATE TABLE ops (id INT AUTO_INCREMENT PRIMARY KEY, a TEXT, b INT)");
  Simple t = MakeSimple("ops");
  ApplyAll("0-1-1", t.mapped,
           {Insert(1, {Int(1), Text("one"), Int(1)}), Insert(1, {Int(2), Text("two"), Null()}),
            Update(1, {}, {Int(1), Text("uno"), Int(11)}), Delete(1, {Int(2), Null(), Null()})});
  EXPECT_EQ(Query("SELECT id, a, b FROM ops ORDER BY id"), std::vector<Row>{R({"1", "uno", "11"})});

  // TRUNCATE is applied as DELETE, inside the transaction: an abort keeps the rows.
  Begin("0-1-2");
  EXPECT_EQ(Apply(t.mapped, Truncate(1, false, true)), RowOutcome::kApplied);
  sink_->AbortTransaction();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ops"), "1");
  ApplyAll("0-1-2", t.mapped, {Truncate(1, false, true)});
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ops"), "0");
  EXPECT_EQ(Checkpoint()->value(), "0-1-2");
}

TEST_F(MariaDbSinkTest, UpdateThatChangesNothingStillFindsItsRow) {
  Exec(SimpleTable("same_values"));
  Simple t = MakeSimple("same_values");
  ApplyAll("0-1-1", t.mapped,
           {Insert(1, {Int(1), Text("x"), Int(1)}), Update(1, {}, {Int(1), Text("x"), Int(1)})});
  // The same insert again meets its own, unchanged row.
  Begin("0-1-2");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(1), Text("x"), Int(1)})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Late(), "ferry.same_values: 1 x kInsertedOverExisting\n");
}

// A source TRUNCATE ... CASCADE lists every table it emptied; the target's own cascades are
// off (foreign_key_checks=0), as they are on a native replica.
TEST_F(MariaDbSinkTest, TruncateDoesNotCascadeOnTheTarget) {
  Exec(
      "CREATE TABLE tc_parent (id INT PRIMARY KEY, a TEXT, b INT);"
      "CREATE TABLE tc_child (id INT PRIMARY KEY, p INT,"
      " FOREIGN KEY (p) REFERENCES tc_parent (id) ON DELETE CASCADE);"
      "INSERT INTO tc_parent VALUES (1, NULL, NULL); INSERT INTO tc_child VALUES (1, 1);");
  Simple t = MakeSimple("tc_parent");
  ApplyAll("0-1-1", t.mapped, {Truncate(1, true, false)});
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM tc_parent"), "0");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM tc_child"), "1");
}

// A source `TRUNCATE parent, child` empties both tables in the one target transaction (as
// DELETEs, which foreign_key_checks=0 lets run in any order); an abort keeps both.
TEST_F(MariaDbSinkTest, TruncateOfSeveralTablesEmptiesThemTogether) {
  Exec(
      "CREATE TABLE tm_parent (id INT PRIMARY KEY, a TEXT, b INT);"
      "CREATE TABLE tm_child (id INT PRIMARY KEY, a TEXT, b INT,"
      " FOREIGN KEY (b) REFERENCES tm_parent (id));"
      "INSERT INTO tm_parent VALUES (1, NULL, NULL); INSERT INTO tm_child VALUES (1, NULL, 1);");
  Simple parent = MakeSimple("tm_parent");
  Simple child = MakeSimple("tm_child");
  const wire::RowChange truncate = wire::testing::TruncateAll({1, 2}, false, false);
  Begin("0-1-1");
  Status truncated = sink_->ApplyTruncate({&parent.mapped, &child.mapped}, truncate);
  ASSERT_TRUE(truncated.ok()) << truncated.message();
  sink_->AbortTransaction();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM tm_parent") + Scalar("SELECT COUNT(*) FROM tm_child"),
            "11");
  Begin("0-1-1");
  truncated = sink_->ApplyTruncate({&parent.mapped, &child.mapped}, truncate);
  ASSERT_TRUE(truncated.ok()) << truncated.message();
  Commit();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM tm_parent") + Scalar("SELECT COUNT(*) FROM tm_child"),
            "00");
}

TEST_F(MariaDbSinkTest, UnchangedColumnIsLeftAsItIs) {
  Exec(SimpleTable("toast"));
  Simple t = MakeSimple("toast");
  ApplyAll("0-1-1", t.mapped,
           {Insert(1, {Int(1), Text(std::string(10000, 'x')), Int(1)}),
            Update(1, {}, {Int(1), Unchanged(), Int(2)})});
  EXPECT_EQ(Query("SELECT LENGTH(a), b FROM toast"), std::vector<Row>{R({"10000", "2"})});
}

TEST_F(MariaDbSinkTest, InsertOverExistingKeyOverwritesTheRow) {
  Exec(SimpleTable("ins_exists") + "; INSERT INTO ins_exists VALUES (1, 'local', 7)");
  Simple t = MakeSimple("ins_exists");
  Begin("0-1-1");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(1), Text("remote"), Null()})), RowOutcome::kApplied);
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("new"), Int(9)})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Late(), "ferry.ins_exists: 1 x kInsertedOverExisting\n");
  EXPECT_EQ(Query("SELECT id, a, b FROM ins_exists ORDER BY id"),
            (std::vector<Row>{R({"1", "remote", std::nullopt}), R({"2", "new", "9"})}));
}

// Consecutive inserts run as multi-row INSERTs; a chunk that meets an existing row is undone
// by the server and its rows go in one at a time, so exactly the existing rows are overwritten
// and reported.
TEST_F(MariaDbSinkTest, BulkInsertsRunInBatchesAndOverwriteOnlyExistingRows) {
  Exec(SimpleTable("bulk") +
       "; INSERT INTO bulk SELECT seq, 'local', -1 FROM seq_0_to_2400_step_100");
  Simple t = MakeSimple("bulk");
  Begin("0-1-1");
  for (int id = 0; id < 2500; ++id) {
    ASSERT_EQ(Apply(t.mapped, Insert(1, {Int(id), Text("remote"), Int(id)})), RowOutcome::kApplied);
  }
  Commit();
  EXPECT_EQ(Late(), "ferry.bulk: 25 x kInsertedOverExisting\n");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM bulk WHERE a = 'remote' AND b = id"), "2500");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM bulk"), "2500");
}

TEST_F(MariaDbSinkTest, InsertClashingOnAnotherUniqueIndexIsAnError) {
  Exec(
      "CREATE TABLE other_unique (id INT PRIMARY KEY, a VARCHAR(10) UNIQUE, b INT);"
      "INSERT INTO other_unique VALUES (1, 'taken', 1)");
  Simple t = MakeSimple("other_unique");
  Begin("0-1-1");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("taken"), Int(2)})), RowOutcome::kApplied);
  Status clash = sink_->CommitTransaction();
  ASSERT_FALSE(clash.ok());
  EXPECT_TRUE(Contains(clash.message(),
                       "apply to ferry.other_unique (INSERT of 1 rows): MariaDB error 1062: "
                       "Duplicate entry 'taken' for key 'a'"));
  sink_->AbortTransaction();
  EXPECT_EQ(Query("SELECT id, a FROM other_unique"), std::vector<Row>{R({"1", "taken"})});
}

TEST_F(MariaDbSinkTest, UpdateOfMissingRowInsertsIt) {
  Exec("CREATE TABLE upd_missing (id INT PRIMARY KEY, a VARCHAR(10) DEFAULT 'dflt', b INT)");
  Simple t = MakeSimple("upd_missing");
  Begin("0-1-1");
  // Updates are sent ahead in batches: what they found shows when the batch's results are read.
  EXPECT_EQ(Apply(t.mapped, Update(1, {}, {Int(5), Text("five"), Int(50)})), RowOutcome::kApplied);
  // A row the source did not send whole (an unchanged TOAST value) would be a row with a
  // default the source never had: nothing is inserted.
  EXPECT_EQ(Apply(t.mapped, Update(1, {}, {Int(6), Unchanged(), Int(60)})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Query("SELECT id, a, b FROM upd_missing"), std::vector<Row>{R({"5", "five", "50"})});
  EXPECT_EQ(Late(),
            "ferry.upd_missing: 1 x kUpdateInsertedMissing\n"
            "ferry.upd_missing: 1 x kUpdateMissingNotInserted\n");
}

TEST_F(MariaDbSinkTest, DeleteOfMissingRowIsReported) {
  Exec(SimpleTable("del_missing"));
  Simple t = MakeSimple("del_missing");
  Begin("0-1-1");
  EXPECT_EQ(Apply(t.mapped, Delete(1, {Int(9), Null(), Null()})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Late(), "ferry.del_missing: 1 x kDeleteMissing\n");
}

// Updates, deletes and inserts are sent ahead in batches (one compound statement each). A
// duplicate key ends the compound at that INSERT: its rows go one at a time (overwriting the row
// in their way), and the statements after it still run, each with its own outcome.
TEST_F(MariaDbSinkTest, ADuplicateKeyInABatchGoesRowByRowAndTheRestOfTheBatchStillRuns) {
  Exec(SimpleTable("batch_dup"));
  Exec("INSERT INTO batch_dup VALUES (1, 'one', 1), (2, 'two', 2), (3, 'stale', 3)");
  Simple t = MakeSimple("batch_dup");
  Begin("0-1-1");
  for (const wire::RowChange& change :
       {Update(1, {}, {Int(1), Text("one'"), Int(10)}), Insert(1, {Int(4), Text("four"), Int(4)}),
        Insert(1, {Int(3), Text("three"), Int(30)}), Update(1, {}, {Int(2), Text("two'"), Int(20)}),
        Delete(1, {Int(9), Null(), Null()}), Update(1, {}, {Int(7), Text("seven"), Int(70)})}) {
    EXPECT_EQ(Apply(t.mapped, change), RowOutcome::kApplied);
  }
  Commit();
  EXPECT_EQ(
      Query("SELECT id, a, b FROM batch_dup ORDER BY id"),
      (std::vector<Row>{R({"1", "one'", "10"}), R({"2", "two'", "20"}), R({"3", "three", "30"}),
                        R({"4", "four", "4"}), R({"7", "seven", "70"})}));
  EXPECT_EQ(Late(),
            "ferry.batch_dup: 1 x kInsertedOverExisting\n"
            "ferry.batch_dup: 1 x kDeleteMissing\n"
            "ferry.batch_dup: 1 x kUpdateInsertedMissing\n");
  EXPECT_EQ(Checkpoint()->value(), "0-1-1");
}

// Any other error ends the batch and the transaction, named by the statement that failed (not the
// first or last of the batch), and nothing of the transaction stays.
TEST_F(MariaDbSinkTest, AnErrorInTheMiddleOfABatchNamesItsStatementAndRollsBackTheRest) {
  Exec(SimpleTable("batch_error", ", CHECK (b < 100)"));
  Exec("INSERT INTO batch_error VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3)");
  Simple t = MakeSimple("batch_error");
  ApplyAll("0-1-1", t.mapped, {Insert(1, {Int(4), Text("four"), Int(4)})});
  Begin("0-1-2");
  for (const wire::RowChange& change :
       {Insert(1, {Int(5), Text("five"), Int(5)}), Update(1, {}, {Int(1), Text("x"), Int(10)}),
        Delete(1, {Int(4), Null(), Null()}), Update(1, {}, {Int(2), Text("x"), Int(500)}),
        Update(1, {}, {Int(3), Text("x"), Int(30)})}) {
    EXPECT_EQ(Apply(t.mapped, change), RowOutcome::kApplied);
  }
  Status committed = sink_->CommitTransaction();
  ASSERT_FALSE(committed.ok());
  EXPECT_TRUE(Contains(committed.message(),
                       "apply to ferry.batch_error (UPDATE): MariaDB error 4025: CONSTRAINT `"))
      << committed.message();
  EXPECT_FALSE(Contains(committed.message(), "SET")) << "no SQL (and no values) in the message";
  sink_->AbortTransaction();
  EXPECT_EQ(Checkpoint()->value(), "0-1-1");
  EXPECT_EQ(Query("SELECT id, a, b FROM batch_error ORDER BY id"),
            (std::vector<Row>{R({"1", "one", "1"}), R({"2", "two", "2"}), R({"3", "three", "3"}),
                              R({"4", "four", "4"})}));
}

// A batch larger than one compound statement may be (a share of max_allowed_packet) runs in
// several, each count still given to its own statement; an INSERT too large for one is not sent
// and its row goes alone, as a prepared statement.
TEST_F(MariaDbSinkTest, BatchesLargerThanOneStatementRunInSeveral) {
  Exec("CREATE TABLE batch_big (id INT PRIMARY KEY, v LONGBLOB)");
  wire::Relation relation = MakeRelation(
      5, "batch_big", {{"id", wire::LOGICAL_TYPE_INT, true}, {"v", wire::LOGICAL_TYPE_BYTES}});
  MappedRelation mapped = Map(relation);
  std::vector<wire::RowChange> inserts;
  for (int id = 1; id <= 30; ++id) inserts.push_back(Insert(5, {Int(id), Bytes("small")}));
  ApplyAll("0-1-1", mapped, inserts);
  Begin("0-1-2");
  // 30 x 100 kB as hex is 6 MB of SQL; the compound statement holds at most 4 MiB.
  for (int id = 1; id <= 30; ++id) {
    const std::string value(100000, static_cast<char>(id));
    EXPECT_EQ(Apply(mapped, Update(5, {}, {Int(id), Bytes(value)})), RowOutcome::kApplied);
  }
  EXPECT_EQ(Apply(mapped, Delete(5, {Int(99), Null()})), RowOutcome::kApplied);
  EXPECT_EQ(Apply(mapped, Insert(5, {Int(31), Bytes(std::string(3000000, '\xff'))})),
            RowOutcome::kApplied);
  EXPECT_EQ(Apply(mapped, Update(5, {}, {Int(32), Bytes("new")})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(
      Query("SELECT COUNT(*), SUM(LENGTH(v)), SUM(ORD(v) = id) FROM batch_big WHERE id <= 30"),
      std::vector<Row>{R({"30", "3000000", "30"})});
  EXPECT_EQ(Query("SELECT id, LENGTH(v), HEX(LEFT(v, 1)) FROM batch_big WHERE id > 30 ORDER BY id"),
            (std::vector<Row>{R({"31", "3000000", "FF"}), R({"32", "3", "6E"})}));
  EXPECT_EQ(Late(),
            "ferry.batch_big: 1 x kDeleteMissing\n"
            "ferry.batch_big: 1 x kUpdateInsertedMissing\n");

  // An INSERT of 6 MB of SQL goes in two parts; a row in the way in the second part sends that
  // part's rows one at a time, and what follows still runs.
  Exec("INSERT INTO batch_big VALUES (125, 'in the way')");
  Begin("0-1-3");
  for (int id = 101; id <= 130; ++id) {
    const std::string value(100000, static_cast<char>(id));
    EXPECT_EQ(Apply(mapped, Insert(5, {Int(id), Bytes(value)})), RowOutcome::kApplied);
  }
  EXPECT_EQ(Apply(mapped, Update(5, {}, {Int(1), Bytes("after")})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(
      Query("SELECT COUNT(*), SUM(LENGTH(v)), SUM(ORD(v) = id) FROM batch_big WHERE id > 100"),
      std::vector<Row>{R({"30", "3000000", "30"})});
  EXPECT_EQ(Scalar("SELECT v FROM batch_big WHERE id = 1"), "after");
  EXPECT_EQ(Late(), "ferry.batch_big: 1 x kInsertedOverExisting\n");
}

TEST_F(MariaDbSinkTest, UpdateThatChangesTheKey) {
  Exec(SimpleTable("key_change"));
  Simple t = MakeSimple("key_change");
  ApplyAll("0-1-1", t.mapped,
           {Insert(1, {Int(1), Text("a"), Int(1)}), Insert(1, {Int(2), Text("b"), Int(2)}),
            Update(1, {Int(1), Null(), Null()}, {Int(10), Text("a2"), Unchanged()})});
  EXPECT_EQ(Query("SELECT id, a, b FROM key_change ORDER BY id"),
            (std::vector<Row>{R({"2", "b", "2"}), R({"10", "a2", "1"})}));
}

TEST_F(MariaDbSinkTest, IdZeroStaysZero) {
  Exec("CREATE TABLE zero_id (id INT AUTO_INCREMENT PRIMARY KEY, a TEXT, b INT)");
  Simple t = MakeSimple("zero_id");
  ApplyAll("0-1-1", t.mapped, {Insert(1, {Int(0), Text("zero"), Null()})});
  EXPECT_EQ(Query("SELECT id, a FROM zero_id"), std::vector<Row>{R({"0", "zero"})});
}

// Keys that differ only beyond a double's 15 digits, or only in fractional seconds, still find
// their own row.
TEST_F(MariaDbSinkTest, CompositeNonIntegerKeysFindTheirRows) {
  Exec(
      "CREATE TABLE odd_keys (u CHAR(36), t VARCHAR(20), ts DATETIME(6), n DECIMAL(65,30),"
      " v INT, PRIMARY KEY (u, t, ts, n))");
  wire::Relation relation = MakeRelation(3, "odd_keys",
                                         {{"u", wire::LOGICAL_TYPE_UUID, true},
                                          {"t", wire::LOGICAL_TYPE_TEXT, true},
                                          {"ts", wire::LOGICAL_TYPE_TIMESTAMP_TZ, true},
                                          {"n", wire::LOGICAL_TYPE_DECIMAL, true},
                                          {"v", wire::LOGICAL_TYPE_INT}});
  MappedRelation mapped = Map(relation);
  auto key = [](const std::string& t, const std::string& n) {
    return std::vector<wire::Value>{
        Str(&wire::Value::set_uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), Text(t),
        Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10.123456+00"), Dec(n)};
  };
  auto with = [](std::vector<wire::Value> values, wire::Value v) {
    values.push_back(v);
    return values;
  };
  const std::string n1 = "1.000000000000000000000000000001";
  const std::string n2 = "1.000000000000000000000000000002";
  ApplyAll("0-1-1", mapped,
           {Insert(3, with(key("😀 one", n1), Int(1))), Insert(3, with(key("😀 one", n2), Int(2))),
            Insert(3, with(key("two", n1), Int(3))), Update(3, {}, with(key("😀 one", n2), Int(22))),
            Delete(3, with(key("two", n1), Null()))});
  EXPECT_EQ(Query("SELECT t, CAST(n AS CHAR), v FROM odd_keys ORDER BY n"),
            (std::vector<Row>{R({"😀 one", "1.000000000000000000000000000001", "1"}),
                              R({"😀 one", "1.000000000000000000000000000002", "22"})}));
}

// ---- values -------------------------------------------------------------------------------------

using ::ferry::testing::ValueCase;

std::vector<ValueCase> ValueCases() {
  const int64_t i64_min = std::numeric_limits<int64_t>::min();
  const int64_t i64_max = std::numeric_limits<int64_t>::max();
  const uint64_t u64_max = std::numeric_limits<uint64_t>::max();
  const std::string blob(65535, '\0');
  std::string pattern = blob;
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<char>(i * 7 + 3);
  const wire::Value uuid = Str(&wire::Value::set_uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  return {
      {"TINYINT", wire::LOGICAL_TYPE_INT, {{Int(-128), "-128"}, {Int(127), "127"}}},
      {"TINYINT UNSIGNED", wire::LOGICAL_TYPE_UINT, {{Uint(0), "0"}, {Uint(255), "255"}}},
      {"SMALLINT", wire::LOGICAL_TYPE_INT, {{Int(-32768), "-32768"}, {Int(32767), "32767"}}},
      {"SMALLINT UNSIGNED", wire::LOGICAL_TYPE_UINT, {{Uint(65535), "65535"}}},
      {"MEDIUMINT",
       wire::LOGICAL_TYPE_INT,
       {{Int(-8388608), "-8388608"}, {Int(8388607), "8388607"}}},
      {"MEDIUMINT UNSIGNED", wire::LOGICAL_TYPE_UINT, {{Uint(16777215), "16777215"}}},
      {"INT",
       wire::LOGICAL_TYPE_INT,
       {{Int(-2147483648LL), "-2147483648"}, {Int(2147483647), "2147483647"}}},
      {"INT UNSIGNED", wire::LOGICAL_TYPE_UINT, {{Uint(4294967295ULL), "4294967295"}}},
      {"BIGINT",
       wire::LOGICAL_TYPE_INT,
       {{Int(i64_min), "-9223372036854775808"}, {Int(i64_max), "9223372036854775807"}}},
      {"BIGINT UNSIGNED",
       wire::LOGICAL_TYPE_UINT,
       {{Uint(u64_max), "18446744073709551615"}, {Uint(0), "0"}}},
      {"BOOLEAN", wire::LOGICAL_TYPE_BOOL, {{Bool(true), "1"}, {Bool(false), "0"}}},
      {"DECIMAL(65,30)",
       wire::LOGICAL_TYPE_DECIMAL,
       {{Dec("-99999999999999999999999999999999999.999999999999999999999999999999"),
         "-99999999999999999999999999999999999.999999999999999999999999999999"},
        {Dec("0.000000000000000000000000000001"), "0.000000000000000000000000000001"},
        {Dec("-0.5"), "-0.500000000000000000000000000000"}}},
      {"DECIMAL(10,2)",
       wire::LOGICAL_TYPE_DECIMAL,
       {{Dec("-0.50"), "-0.50"}, {Dec("12345678.9"), "12345678.90"}}},
      {"DECIMAL(20,0) UNSIGNED",
       wire::LOGICAL_TYPE_UINT,
       {{Uint(u64_max), "18446744073709551615"}}},
      {"DOUBLE",
       wire::LOGICAL_TYPE_FLOAT,
       {{Float(0.1), "0.1"},
        {Float(1e-310), "1e-310"},
        {Float(-0.0), "0"},
        {Float(1.7976931348623157e308), "1.7976931348623157e308"},
        {Float(1.0 / 3), "0.3333333333333333"}}},
      {"FLOAT",
       wire::LOGICAL_TYPE_FLOAT,
       {{Float(static_cast<double>(0.1f)), "0.10000000149011612"},
        {Float(16777216), "16777216"},
        {Float(-1.5), "-1.5"}},
       "CAST(v AS DOUBLE)"},
      {"VARCHAR(5)", wire::LOGICAL_TYPE_TEXT, {{Text("😀😀😀😀😀"), "😀😀😀😀😀"}, {Text(""), ""}}},
      {"VARCHAR(100)",
       wire::LOGICAL_TYPE_TEXT,
       {{Text("grüß dich 😀 𝄞"), "grüß dich 😀 𝄞"},
        {Text("quote ' \" back\\slash\nnewline\ttab"), "quote ' \" back\\slash\nnewline\ttab"},
        {Text(std::string("nul\0byte", 8)), std::string("nul\0byte", 8)}}},
      {"TEXT", wire::LOGICAL_TYPE_TEXT, {{Text(std::string(10000, 'x')), std::string(10000, 'x')}}},
      {"BLOB",
       wire::LOGICAL_TYPE_BYTES,
       {{Bytes(pattern), Hex(pattern)},
        {Bytes(std::string("\x00\x01\xff\x00", 4)), "0001FF00"},
        {Bytes(""), ""}},
       "HEX(v)"},
      {"VARBINARY(4)",
       wire::LOGICAL_TYPE_BYTES,
       {{Bytes(std::string("\xff\0", 2)), "FF00"}},
       "HEX(v)"},
      {"BINARY(16)",
       wire::LOGICAL_TYPE_UUID,
       {{uuid, "A0EEBC999C0B4EF8BB6D6BB9BD380A11"}},
       "HEX(v)"},
      {"CHAR(36)", wire::LOGICAL_TYPE_UUID, {{uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}},
      {"UUID", wire::LOGICAL_TYPE_UUID, {{uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}},
      {"DATE",
       wire::LOGICAL_TYPE_DATE,
       {{Str(&wire::Value::set_date, "2024-02-29"), "2024-02-29"},
        {Str(&wire::Value::set_date, "0001-01-01"), "0001-01-01"},
        {Str(&wire::Value::set_date, "9999-12-31"), "9999-12-31"}}},
      {"TIME(6)",
       wire::LOGICAL_TYPE_TIME,
       {{Str(&wire::Value::set_time, "13:45:10.123456"), "13:45:10.123456"},
        {Str(&wire::Value::set_time, "-838:59:59"), "-838:59:59.000000"},
        {Str(&wire::Value::set_time, "838:59:59"), "838:59:59.000000"},
        {Str(&wire::Value::set_time, "24:00:00"), "24:00:00.000000"},
        {Str(&wire::Value::set_time, "100:00:00.000001"), "100:00:00.000001"},
        {Str(&wire::Value::set_time, "-00:00:01.5"), "-00:00:01.500000"},
        {Str(&wire::Value::set_time_tz, "01:02:03+00"), "01:02:03.000000"}}},
      {"DATETIME(6)",
       wire::LOGICAL_TYPE_TIMESTAMP,
       {{Str(&wire::Value::set_timestamp, "2024-02-29 13:45:10.123456"),
         "2024-02-29 13:45:10.123456"},
        {Str(&wire::Value::set_timestamp, "0001-01-01 00:00:00"), "0001-01-01 00:00:00.000000"},
        {Str(&wire::Value::set_timestamp, "9999-12-31 23:59:59.999999"),
         "9999-12-31 23:59:59.999999"},
        {Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10.123456+00"),
         "2024-02-29 11:45:10.123456"},
        {Str(&wire::Value::set_date, "2024-02-29"), "2024-02-29 00:00:00.000000"}}},
      {"DATETIME",
       wire::LOGICAL_TYPE_TIMESTAMP,
       {{Str(&wire::Value::set_timestamp, "2024-02-29 13:45:10.000"), "2024-02-29 13:45:10"}}},
      {"TIMESTAMP(6) NULL",
       wire::LOGICAL_TYPE_TIMESTAMP_TZ,
       {{Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10.123456+00"),
         "2024-02-29 11:45:10.123456 1709207110.123456"},
        {Str(&wire::Value::set_timestamp_tz, "1970-01-01 00:00:01+00"),
         "1970-01-01 00:00:01.000000 1.000000"},
        {Str(&wire::Value::set_timestamp_tz, "2038-01-19 03:14:07.999999+00"),
         "2038-01-19 03:14:07.999999 2147483647.999999"}},
       "CONCAT(v, ' ', UNIX_TIMESTAMP(v))"},
      {"YEAR",
       wire::LOGICAL_TYPE_INT,
       {{Int(1901), "1901"}, {Int(2155), "2155"}, {Int(0), "0000"}}},
      {"ENUM('sad','happy')",
       wire::LOGICAL_TYPE_ENUM,
       {{Str(&wire::Value::set_enum_value, "happy"), "happy"},
        {Str(&wire::Value::set_enum_value, "sad"), "sad"}}},
      {"SET('a','b','c')",
       wire::LOGICAL_TYPE_SET,
       {{Str(&wire::Value::set_set_value, "a,c"), "a,c"},
        {Str(&wire::Value::set_set_value, ""), ""}}},
      {"BIT(1)",
       wire::LOGICAL_TYPE_BIT,
       {{Str(&wire::Value::set_bits, "1"), "1"}, {Str(&wire::Value::set_bits, "0"), "0"}},
       "HEX(v)"},
      {"BIT(64)",
       wire::LOGICAL_TYPE_BIT,
       {{Str(&wire::Value::set_bits, std::string(64, '1')), "FFFFFFFFFFFFFFFF"},
        {Str(&wire::Value::set_bits, "0101"), "5"},
        {Uint(u64_max - 1), "FFFFFFFFFFFFFFFE"}},
       "HEX(v)"},
      {"JSON",
       wire::LOGICAL_TYPE_JSON,
       {{Str(&wire::Value::set_json, R"({"b": 1,  "a":[1,2], "s":"😀\u0041"})"),
         R"({"b": 1,  "a":[1,2], "s":"😀\u0041"})"},
        {Array({Int(1), Null(), Int(-3)}), "[1, null, -3]"},
        {Array({Array({Text("a\"b"), Null()}), Array({Bytes(std::string("\0", 1))})}),
         R"([["a\"b", null], ["\\x00"]])"}}},
      {"LONGTEXT",
       wire::LOGICAL_TYPE_ARRAY,
       {{Array({Text("é😀"), Dec("-0.50"), Float(0.5), Bool(false)}),
         R"(["é😀", -0.50, 0.5, false])"}}},
      {"VARCHAR(64)",
       wire::LOGICAL_TYPE_INTERVAL,
       {{Str(&wire::Value::set_interval, "1 year 2 mons 3 days 04:05:06.789"),
         "1 year 2 mons 3 days 04:05:06.789"},
        {Str(&wire::Value::set_date, "infinity"), "infinity"},
        {Dec("NaN"), "NaN"}}},
      {"INET6",
       wire::LOGICAL_TYPE_OTHER,
       {{Str(&wire::Value::set_other, "2001:db8::1"), "2001:db8::1"}}},
  };
}

TEST_F(MariaDbSinkTest, EveryValueKindRoundTrips) {
  int n = 0;
  for (const ValueCase& c : ValueCases()) {
    SCOPED_TRACE(c.sql_type);
    const std::string table = "rt_" + std::to_string(++n);
    Exec("CREATE TABLE " + table + " (id INT PRIMARY KEY, v " + c.sql_type + ")");
    wire::Relation relation =
        MakeRelation(100 + n, table, {{"id", wire::LOGICAL_TYPE_INT, true}, {"v", c.logical}});
    MappedRelation mapped = Map(relation);
    std::vector<wire::RowChange> changes;
    std::vector<Row> expected;
    int id = 0;
    for (const auto& [value, text] : c.values) {
      changes.push_back(Insert(relation.id(), {Int(++id), value}));
      expected.push_back(R({text}));
    }
    changes.push_back(Insert(relation.id(), {Int(++id), Null()}));
    expected.push_back(R({std::nullopt}));
    ApplyAll("0-1-" + std::to_string(n), mapped, changes);
    const std::string select = c.select.empty() ? MariaDbEngine::kValueText : c.select;
    EXPECT_EQ(Query("SELECT " + select + " FROM " + table + " ORDER BY id"), expected);

    // Updating every row to its neighbour's value goes through SET as well.
    Begin("0-2-" + std::to_string(n));
    for (int row = 1; row <= id; ++row) {
      Apply(mapped, Update(relation.id(), {}, {Int(row), changes[(row % id)].new_values(1)}));
    }
    Commit();
    std::vector<Row> rotated(expected.begin() + 1, expected.end());
    rotated.push_back(expected.front());
    EXPECT_EQ(Query("SELECT " + select + " FROM " + table + " ORDER BY id"), rotated);

    // A full old image finds each row by every column's value (no key on the target).
    Exec("ALTER TABLE " + table + " DROP PRIMARY KEY");
    wire::Relation full = relation;
    full.set_full_old_image(true);
    for (wire::Column& column : *full.mutable_columns()) column.set_key(true);
    MappedRelation full_mapped = Map(full);
    Begin("0-3-" + std::to_string(n));
    for (int row = 1; row <= id; ++row) {
      const wire::Value& value = changes[(row % id)].new_values(1);
      EXPECT_EQ(Apply(full_mapped, Delete(full.id(), {Int(row), value}, false)),
                RowOutcome::kApplied)
          << "row " << row;
    }
    Commit();
    EXPECT_EQ(Scalar("SELECT COUNT(*) FROM " + table), "0");
  }
}

// MariaDB's zero and partial dates arrive as the source has them, as native replication copies
// them: into DATE, DATETIME and TIMESTAMP columns (the zero TIMESTAMP is 0), a NOT NULL column
// included, and as text into a text column.
TEST_F(MariaDbSinkTest, ZeroAndPartialDatesAreWrittenExactly) {
  Exec(
      "CREATE TABLE zeros (id INT PRIMARY KEY, d DATE, dnn DATE NOT NULL, dt DATETIME, "
      "dt6 DATETIME(6), ts TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL, tx VARCHAR(30))");
  wire::Relation relation = MakeRelation(14, "zeros",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"d", wire::LOGICAL_TYPE_DATE},
                                          {"dnn", wire::LOGICAL_TYPE_DATE},
                                          {"dt", wire::LOGICAL_TYPE_TIMESTAMP},
                                          {"dt6", wire::LOGICAL_TYPE_TIMESTAMP},
                                          {"ts", wire::LOGICAL_TYPE_TIMESTAMP_TZ},
                                          {"ts6", wire::LOGICAL_TYPE_TIMESTAMP_TZ},
                                          {"tx", wire::LOGICAL_TYPE_DATE}});
  auto date = [](const std::string& text) { return Str(&wire::Value::set_date, text); };
  auto datetime = [](const std::string& text) { return Str(&wire::Value::set_timestamp, text); };
  auto timestamp = [](const std::string& text) {
    return Str(&wire::Value::set_timestamp_tz, text);
  };
  ApplyAll(
      "0-1-1", Map(relation),
      {Insert(14, {Int(1), date("0000-00-00"), date("0000-00-00"), datetime("0000-00-00 00:00:00"),
                   datetime("0000-00-00 00:00:00.000000"), timestamp("0000-00-00 00:00:00+00"),
                   timestamp("0000-00-00 00:00:00.000000+00"), date("0000-00-00")}),
       Insert(14, {Int(2), date("2024-00-00"), date("2024-01-00"), datetime("2024-01-00 10:00:00"),
                   datetime("2024-00-10 00:00:00.500000"), Null(), Null(), date("2024-02-00")})});
  EXPECT_EQ(
      Query("SELECT id, CAST(d AS CHAR), CAST(dnn AS CHAR), CAST(dt AS CHAR), "
            "CAST(dt6 AS CHAR), CAST(ts AS CHAR), CAST(ts6 AS CHAR), UNIX_TIMESTAMP(ts), tx "
            "FROM zeros ORDER BY id"),
      (std::vector<Row>{
          R({"1", "0000-00-00", "0000-00-00", "0000-00-00 00:00:00", "0000-00-00 00:00:00.000000",
             "0000-00-00 00:00:00", "0000-00-00 00:00:00.000000", "0", "0000-00-00"}),
          R({"2", "2024-00-00", "2024-01-00", "2024-01-00 10:00:00", "2024-00-10 00:00:00.500000",
             std::nullopt, std::nullopt, std::nullopt, "2024-02-00"})}));
}

struct RefusedCase {
  std::string sql_type;
  wire::Value value;
  std::string message;  // after "apply to ferry.<table> (INSERT): "
};

std::vector<RefusedCase> RefusedCases() {
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {"TINYINT", Int(128),
       "column v: value 128 cannot be held exactly by tinyint(4) (range -128..127)"},
      {"TINYINT UNSIGNED", Int(-1),
       "column v: value -1 cannot be held exactly by tinyint(3) unsigned (range 0..255)"},
      {"SMALLINT", Int(-32769), "column v: value -32769 cannot be held exactly by smallint(6)"},
      {"MEDIUMINT UNSIGNED", Uint(16777216),
       "column v: value 16777216 cannot be held exactly by mediumint(8) unsigned"},
      {"INT UNSIGNED", Uint(4294967296ULL),
       "column v: value 4294967296 cannot be held exactly by int(10) unsigned"},
      {"BIGINT", Uint(9223372036854775808ULL),
       "column v: value 9223372036854775808 cannot be held exactly by bigint(20)"},
      {"DECIMAL(10,2)", Dec("1.005"),
       "column v: value 1.005 cannot be held exactly by decimal(10,2) (2 digits after the "
       "decimal point)"},
      {"DECIMAL(10,2)", Dec("123456789.1"),
       "column v: value 123456789.1 cannot be held exactly by decimal(10,2) (at most 8 digits "
       "before the decimal point)"},
      {"DECIMAL(10,2)", Dec("NaN"),
       "column v: value NaN cannot be held by decimal(10,2) (MySQL and MariaDB numbers have no "
       "NaN or infinity)"},
      {"DECIMAL(10,2) UNSIGNED", Dec("-1"),
       "column v: value -1 cannot be held exactly by decimal(10,2) unsigned (it is unsigned)"},
      {"DOUBLE", Float(std::nan("")), "column v: value NaN cannot be held by double"},
      {"DOUBLE", Float(inf), "column v: value Infinity cannot be held by double"},
      {"FLOAT", Float(0.1),
       "column v: value 0.1 cannot be held exactly by float (a 32-bit FLOAT would round it; use "
       "DOUBLE)"},
      {"VARCHAR(3)", Text("abcd"),
       "column v: value 'abcd' cannot be held exactly by varchar(3) (4 characters, the column "
       "holds 3)"},
      {"VARBINARY(3)", Bytes("abcd"),
       "column v: value 'abcd' cannot be held exactly by varbinary(3) (4 bytes, the column holds "
       "3)"},
      {"BLOB", Bytes(std::string(65536, 'z')),
       "column v: value 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...' (65536 bytes) cannot be held "
       "exactly by blob (65536 bytes, the column holds 65535)"},
      {"VARCHAR(10)", Bytes("ab"),
       "column v: bytes value cannot be written to column type varchar(10)"},
      {"DATE", Str(&wire::Value::set_date, "infinity"),
       "column v: value 'infinity' cannot be held by date (MySQL and MariaDB have no infinite "
       "dates)"},
      {"DATE", Str(&wire::Value::set_date, "0044-03-15 BC"),
       "column v: value '0044-03-15 BC' cannot be held by date (MySQL and MariaDB have no dates "
       "before year 1)"},
      {"DATE", Str(&wire::Value::set_date, "12024-01-01"),
       "column v: value '12024-01-01' cannot be held by date (MySQL and MariaDB have no years "
       "after 9999)"},
      {"DATE", Str(&wire::Value::set_date, "2023-02-29"),
       "MariaDB error 1292: Incorrect date value: '2023-02-29' for column `ferry`.`"},
      {"TIME", Str(&wire::Value::set_time, "13:45:10.5"),
       "column v: value '13:45:10.5' cannot be held exactly by time (it keeps 0 fractional digits "
       "of a second)"},
      {"TIME(6)", Str(&wire::Value::set_time, "839:00:00"),
       "column v: value '839:00:00' cannot be held exactly by time(6) (TIME spans "
       "-838:59:59..838:59:59)"},
      {"TIME(6)", Str(&wire::Value::set_time_tz, "13:45:10+02"),
       "column v: value '13:45:10+02' cannot be held exactly by time(6) (only UTC (+00) offsets "
       "are written"},
      {"TIME(6)", Str(&wire::Value::set_interval, "1 day"),
       "column v: interval value cannot be written to column type time(6)"},
      {"DATETIME(3)", Str(&wire::Value::set_timestamp, "2024-02-29 13:45:10.123456"),
       "column v: value '2024-02-29 13:45:10.123456' cannot be held exactly by datetime(3) (it "
       "keeps 3 fractional digits of a second)"},
      {"DATETIME(6)", Str(&wire::Value::set_timestamp, "infinity"),
       "column v: value 'infinity' cannot be held by datetime(6)"},
      {"TIMESTAMP(6) NULL", Str(&wire::Value::set_timestamp_tz, "2040-01-01 00:00:00+00"),
       "MariaDB error 1292: Incorrect datetime value: '2040-01-01 00:00:00' for column `ferry`.`"},
      {"TIMESTAMP(6) NULL", Str(&wire::Value::set_timestamp, "2024-01-00 10:00:00"),
       "column v: value '2024-01-00 10:00:00' cannot be held exactly by timestamp(6) (a TIMESTAMP "
       "holds the zero date 0000-00-00 00:00:00 but no partial dates)"},
      {"YEAR", Int(5),
       "column v: value 5 cannot be held exactly by year(4) (YEAR holds 0 and 1901..2155)"},
      {"ENUM('sad','happy')", Str(&wire::Value::set_enum_value, "HAPPY"),
       "column v: value 'HAPPY' cannot be held exactly by enum('sad','happy') ('HAPPY' is not one "
       "of its members)"},
      {"SET('a','b')", Str(&wire::Value::set_set_value, "a,z"),
       "column v: value 'a,z' cannot be held exactly by set('a','b') ('z' is not one of its "
       "members)"},
      {"BIT(1)", Int(2), "column v: value 2 cannot be held exactly by bit(1) (1 bits)"},
      {"VARCHAR(10)", Text("bad \xff utf8"),
       "MariaDB error 1366: Incorrect string value: '\\xFF utf8' for column `ferry`.`"},
      {"VARCHAR(10) CHARACTER SET latin1", Text("😀"),
       "MariaDB error 1366: Incorrect string value: '\\xF0\\x9F\\x98\\x80' for column `ferry`.`"},
      {"JSON", Str(&wire::Value::set_json, "{not json"), "MariaDB error 4025: CONSTRAINT `"},
      {"POINT", Str(&wire::Value::set_other, "POINT(1 1)"),
       "column v: target column type point is not supported by Ferry"},
  };
}

TEST_F(MariaDbSinkTest, ValuesTheColumnCannotHoldExactlyAreRefused) {
  Exec("CREATE TABLE refused_log (id INT PRIMARY KEY)");
  int n = 0;
  for (const RefusedCase& c : RefusedCases()) {
    SCOPED_TRACE(c.sql_type + ": " + c.message);
    const std::string table = "bad_" + std::to_string(++n);
    Exec("CREATE TABLE " + table + " (id INT PRIMARY KEY, v " + c.sql_type + ")");
    wire::Relation relation = MakeRelation(
        200 + n, table, {{"id", wire::LOGICAL_TYPE_INT, true}, {"v", wire::LOGICAL_TYPE_TEXT}});
    MappedRelation mapped = Map(relation);
    Begin("0-4-" + std::to_string(n));
    // The sink's own checks refuse at once; the server's when the deferred insert runs.
    Result<RowOutcome> outcome = sink_->ApplyRow(mapped, Insert(relation.id(), {Int(1), c.value}));
    const Status refused = outcome.ok() ? sink_->CommitTransaction() : outcome.status();
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(Contains(refused.message(), "apply to ferry." + table + " (INSERT"));
    EXPECT_TRUE(Contains(refused.message(), c.message));
    sink_->AbortTransaction();
    // An update that would write the value is refused as well (by the server when its batch
    // runs, here at the commit).
    Begin("0-4-" + std::to_string(n));
    Result<RowOutcome> update =
        sink_->ApplyRow(mapped, Update(relation.id(), {}, {Int(1), c.value}));
    const Status update_refused = update.ok() ? sink_->CommitTransaction() : update.status();
    EXPECT_FALSE(update_refused.ok());
    EXPECT_TRUE(Contains(update_refused.message(), "apply to ferry." + table + " (UPDATE): "));
    EXPECT_TRUE(Contains(update_refused.message(), c.message)) << update_refused.message();
    sink_->AbortTransaction();
    EXPECT_EQ(Scalar("SELECT COUNT(*) FROM " + table), "0");
  }
}

// ---- mappings and target shape
// --------------------------------------------------------------------

TEST_F(MariaDbSinkTest, MappingRenamesAndExcludes) {
  Exec(
      "CREATE DATABASE archive;"
      "CREATE TABLE archive.orders (order_id INT PRIMARY KEY, client TEXT,"
      " note VARCHAR(20) DEFAULT 'target default')");
  wire::Relation relation = MakeRelation(4, "orders",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"customer", wire::LOGICAL_TYPE_TEXT},
                                          {"secret", wire::LOGICAL_TYPE_TEXT}});
  MappingRule rule;
  rule.source = "ferry.orders";
  rule.target = "archive.orders";
  rule.renames = {{"id", "order_id"}, {"customer", "client"}};
  rule.exclude = {"secret"};
  MappedRelation mapped = Map(relation, {rule});
  ApplyAll(
      "0-1-1", mapped,
      {Insert(4, {Int(1), Text("ann"), Text("pw1")}), Insert(4, {Int(2), Text("bob"), Text("pw2")}),
       Update(4, {}, {Int(1), Text("anna"), Text("pw3")}), Delete(4, {Int(2), Null(), Null()})});
  EXPECT_EQ(Query("SELECT order_id, client, note FROM archive.orders"),
            std::vector<Row>{R({"1", "anna", "target default"})});
}

TEST_F(MariaDbSinkTest, MissingTargetTableOrColumnNamesTheFix) {
  Simple missing = MakeSimple("no_such_table");
  Begin("0-1-1");
  Result<RowOutcome> outcome = sink_->ApplyRow(missing.mapped, Insert(1, {Int(1), Null(), Null()}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(Contains(outcome.message(),
                       "apply to ferry.no_such_table (INSERT): target table "
                       "ferry.no_such_table does not exist"));
  sink_->AbortTransaction();

  Exec("CREATE TABLE narrow (id INT PRIMARY KEY, a TEXT)");
  Simple narrow = MakeSimple("narrow");
  Begin("0-1-1");
  outcome = sink_->ApplyRow(narrow.mapped, Update(1, {}, {Int(1), Null(), Int(1)}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(Contains(outcome.message(),
                       "apply to ferry.narrow (UPDATE): new image: target "
                       "table ferry.narrow has no column b"));
  sink_->AbortTransaction();
}

TEST_F(MariaDbSinkTest, TargetWithoutUniqueKeyNamesTheFix) {
  Exec("CREATE TABLE no_pk (id INT, a TEXT, b INT)");
  Simple t = MakeSimple("no_pk");
  Begin("0-1-1");
  Result<RowOutcome> outcome = sink_->ApplyRow(t.mapped, Insert(1, {Int(1), Null(), Null()}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(Contains(outcome.message(),
                       "target table ferry.no_pk needs a primary key or unique index on (`id`), "
                       "the key of the source table: add one, e.g. ALTER TABLE `ferry`.`no_pk` "
                       "ADD PRIMARY KEY (`id`)"));
  sink_->AbortTransaction();
}

TEST_F(MariaDbSinkTest, RelationChangingShapeGetsNewStatements) {
  Exec("CREATE TABLE reshaped (id INT PRIMARY KEY, a TEXT)");
  wire::Relation before = MakeRelation(
      9, "reshaped", {{"id", wire::LOGICAL_TYPE_INT, true}, {"a", wire::LOGICAL_TYPE_TEXT}});
  ApplyAll("0-1-1", Map(before), {Insert(9, {Int(1), Text("x")})});
  // The operator adds the column on the target, then on the source; the stream re-sends the
  // relation under the same id.
  Exec("ALTER TABLE reshaped ADD COLUMN b INT");
  wire::Relation after = MakeRelation(9, "reshaped",
                                      {{"id", wire::LOGICAL_TYPE_INT, true},
                                       {"a", wire::LOGICAL_TYPE_TEXT},
                                       {"b", wire::LOGICAL_TYPE_INT}});
  ApplyAll("0-1-2", Map(after),
           {Insert(9, {Int(2), Text("y"), Int(2)}), Update(9, {}, {Int(1), Text("x"), Int(1)})});
  EXPECT_EQ(Query("SELECT id, a, b FROM reshaped ORDER BY id"),
            (std::vector<Row>{R({"1", "x", "1"}), R({"2", "y", "2"})}));
}

TEST_F(MariaDbSinkTest, TargetColumns) {
  Exec("CREATE TABLE cols (id INT PRIMARY KEY, `Mixed Case` TEXT, `we``ird` INT, z INT)");
  Result<std::optional<std::vector<std::string>>> columns = sink_->TargetColumns(kDb, "cols");
  ASSERT_TRUE(columns.ok()) << columns.message();
  ASSERT_TRUE(columns->has_value());
  EXPECT_EQ(**columns, (std::vector<std::string>{"id", "Mixed Case", "we`ird", "z"}));
  columns = sink_->TargetColumns(kDb, "nope");
  ASSERT_TRUE(columns.ok()) << columns.message();
  EXPECT_FALSE(columns->has_value());
  columns = sink_->TargetColumns("no_such_db", "cols");
  ASSERT_TRUE(columns.ok()) << columns.message();
  EXPECT_FALSE(columns->has_value());
}

TEST_F(MariaDbSinkTest, QuotedIdentifiersAreWrittenAsNamed) {
  Exec("CREATE TABLE `odd``name` (`select` INT PRIMARY KEY, `a b` TEXT, `key` INT)");
  wire::Relation relation = MakeRelation(12, "odd`name",
                                         {{"select", wire::LOGICAL_TYPE_INT, true},
                                          {"a b", wire::LOGICAL_TYPE_TEXT},
                                          {"key", wire::LOGICAL_TYPE_INT}});
  ApplyAll("0-1-1", Map(relation),
           {Insert(12, {Int(1), Text("x"), Int(2)}), Update(12, {}, {Int(1), Text("y"), Int(3)})});
  EXPECT_EQ(Query("SELECT `select`, `a b`, `key` FROM `odd``name`"),
            std::vector<Row>{R({"1", "y", "3"})});
}

// ---- full old image
// ------------------------------------------------------------------------

TEST_F(MariaDbSinkTest, FullImageWithoutKeyTouchesOneOfIdenticalRows) {
  Exec("CREATE TABLE keyless (a INT, t TEXT, j JSON)");
  wire::Relation relation = MakeRelation(5, "keyless",
                                         {{"a", wire::LOGICAL_TYPE_INT},
                                          {"t", wire::LOGICAL_TYPE_TEXT},
                                          {"j", wire::LOGICAL_TYPE_JSON}},
                                         /*full_old_image=*/true);
  MappedRelation mapped = Map(relation);
  const wire::Value json = Str(&wire::Value::set_json, R"({"k": [1, 2]})");
  const std::vector<wire::Value> row = {Int(1), Null(), json};
  ApplyAll("0-1-1", mapped,
           {Insert(5, row), Insert(5, row), Insert(5, row),
            Update(5, row, {Int(2), Text("changed"), json}, /*old_is_key_only=*/false),
            Delete(5, row, /*old_is_key_only=*/false)});
  EXPECT_EQ(Query("SELECT a, t, j FROM keyless ORDER BY a"),
            (std::vector<Row>{R({"1", std::nullopt, R"({"k": [1, 2]})"}),
                              R({"2", "changed", R"({"k": [1, 2]})"})}));
  Begin("0-1-2");
  EXPECT_EQ(Apply(mapped, Delete(5, {Int(3), Null(), json}, false)), RowOutcome::kDeleteMissing);
  Commit();
}

TEST_F(MariaDbSinkTest, FullImageUsesTargetPrimaryKey) {
  Exec("CREATE TABLE full_pk (id INT PRIMARY KEY, a TEXT)");
  wire::Relation relation = MakeRelation(
      6, "full_pk", {{"id", wire::LOGICAL_TYPE_INT}, {"a", wire::LOGICAL_TYPE_TEXT}}, true);
  MappedRelation mapped = Map(relation);
  ApplyAll("0-1-1", mapped, {Insert(6, {Int(1), Text("source")})});
  // A local change to a non-key column does not hide the row from the source's update.
  Exec("UPDATE full_pk SET a = 'local'");
  Begin("0-1-2");
  EXPECT_EQ(Apply(mapped, Update(6, {Int(1), Text("source")}, {Int(1), Text("new")}, false)),
            RowOutcome::kApplied);
  EXPECT_EQ(Apply(mapped, Insert(6, {Int(1), Text("again")})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Late(), "ferry.full_pk: 1 x kInsertedOverExisting\n");
  EXPECT_EQ(Query("SELECT id, a FROM full_pk"), std::vector<Row>{R({"1", "again"})});
}

// ---- copy chunks: the bulk path (CopyRows) ------------------------------------------------------

// `n` rows of MakeSimple's relation from `first` on: a = "<prefix> <id>" and some padding.
std::vector<wire::RowChange> SimpleRows(int first, int n, const std::string& prefix,
                                        size_t padding = 200) {
  std::vector<wire::RowChange> rows;
  for (int id = first; id < first + n; ++id) {
    rows.push_back(Insert(
        1,
        {Int(id), Text(prefix + " " + std::to_string(id) + std::string(padding, '.')), Int(id)}));
  }
  return rows;
}

// Rows the stream inserted before the chunk's read are overwritten by the chunk's; the others
// are inserted; nothing is reported as a divergence, and the checkpoint is left alone.
TEST_F(MariaDbSinkTest, CopyRowsInsertAndOverwriteRowsWithTheirKey) {
  Exec(SimpleTable("copy_rows") +
       "; INSERT INTO copy_rows SELECT seq, 'stream', -seq FROM seq_0_to_3000_step_100");
  Simple t = MakeSimple("copy_rows");
  CopyChunk(t.mapped, SimpleRows(0, 3000, "chunk"));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM copy_rows"), "3001");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM copy_rows WHERE a LIKE CONCAT('chunk ', id, '.%') AND "
                   "b = id"),
            "3000");
  EXPECT_EQ(Query("SELECT a, b FROM copy_rows WHERE id = 3000"),
            std::vector<Row>{R({"stream", "-3000"})});
  EXPECT_EQ(Late(), "");
  EXPECT_FALSE(Checkpoint().has_value());
  EXPECT_EQ(Query("SELECT source_table, rows_copied FROM ferry_meta.copy_progress"),
            std::vector<Row>{R({"ferry.copy_rows", "3000"})});

  CopyChunk(t.mapped, SimpleRows(2995, 10, "again"));
  CopyChunk(t.mapped, {});
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM copy_rows"), "3005");
  EXPECT_EQ(Scalar("SELECT GROUP_CONCAT(id ORDER BY id) FROM copy_rows WHERE a LIKE 'again%'"),
            "2995,2996,2997,2998,2999,3000,3001,3002,3003,3004");
}

// Several writes in one transaction, with ApplyRow's deferred inserts before them, in order;
// rows beyond one statement's size go in several statements.
TEST_F(MariaDbSinkTest, CopyRowsSeveralTimesInOneTransaction) {
  Exec(SimpleTable("copy_many"));
  Simple t = MakeSimple("copy_many");
  ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
  Apply(t.mapped, Insert(1, {Int(1), Text("row path"), Int(1)}));
  for (const auto& rows :
       {SimpleRows(1, 5, "one"), SimpleRows(5, 5, "two"), SimpleRows(100, 3000, "three", 3000)}) {
    Status copied = CopyRows(t.mapped, rows);
    ASSERT_TRUE(copied.ok()) << copied.message();
  }
  Commit();
  EXPECT_EQ(Scalar("SELECT GROUP_CONCAT(id, SUBSTRING_INDEX(a, ' ', 1) ORDER BY id) FROM "
                   "copy_many WHERE id < 100"),
            "1one,2one,3one,4one,5two,6two,7two,8two,9two");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM copy_many WHERE a LIKE 'three%' AND LENGTH(a) > 3000"),
            "3000");
  EXPECT_EQ(Late(), "");
}

// Every value kind, NULL included, inserted and then (the same rows again, rotated) overwritten.
TEST_F(MariaDbSinkTest, CopyRowsOfEveryValueKindRoundTrip) { CheckCopyRoundTrip(ValueCases()); }

// What an SQL literal escapes, in text, in binary (every byte), in JSON; a double that looks like
// an integer stays a double.
TEST_F(MariaDbSinkTest, CopyRowsKeepAwkwardValuesAsTheyAre) {
  Exec(
      "CREATE TABLE copy_awkward (id INT PRIMARY KEY, t TEXT, b BLOB, j JSON, d DOUBLE, "
      "a LONGTEXT)");
  wire::Relation relation = MakeRelation(20, "copy_awkward",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"t", wire::LOGICAL_TYPE_TEXT},
                                          {"b", wire::LOGICAL_TYPE_BYTES},
                                          {"j", wire::LOGICAL_TYPE_JSON},
                                          {"d", wire::LOGICAL_TYPE_FLOAT},
                                          {"a", wire::LOGICAL_TYPE_ARRAY}});
  MappedRelation mapped = Map(relation);
  std::string every_byte;
  for (int byte = 0; byte < 256; ++byte) every_byte.push_back(static_cast<char>(byte));
  const std::vector<std::string> texts = {"it's",
                                          "\"quoted\"",
                                          "back\\slash",
                                          "\\",
                                          "ends with \\",
                                          "line\nend",
                                          "cr\rlf\r\n",
                                          "tab\t",
                                          std::string("nul\0", 4),
                                          "ctrl-z \x1a",
                                          "",
                                          "😀 NULL",
                                          "\\N",
                                          "' OR 1=1; --"};
  for (int pass = 0; pass < 2; ++pass) {  // inserted, then overwritten
    std::vector<wire::RowChange> rows;
    int id = 0;
    for (const std::string& text : texts) {
      rows.push_back(Insert(20, {Int(++id), Text(text), Bytes(every_byte + text),
                                 Str(&wire::Value::set_json, "{\"k\": \"\\\\ '\\n\"}"),
                                 Float(pass == 0 ? 1e300 : 3.0), Array({Text(text)})}));
    }
    CopyChunk(mapped, rows);
    SCOPED_TRACE(pass);
    id = 0;
    for (const std::string& text : texts) {
      const std::string where = " FROM copy_awkward WHERE id = " + std::to_string(++id);
      EXPECT_EQ(Query("SELECT HEX(t), HEX(b), JSON_VALUE(j, '$.k'), d, JSON_VALUE(a, '$[0]') = t" +
                      where),
                std::vector<Row>{R(
                    {Hex(text), Hex(every_byte + text), "\\ '\n", pass == 0 ? "1e300" : "3", "1"})})
          << "id " << id;
    }
  }
}

// A chunk that replaces a whole table without key: the table was emptied in the transaction,
// identical rows stay two rows.
TEST_F(MariaDbSinkTest, CopyRowsIntoAnEmptiedKeylessTable) {
  Exec("CREATE TABLE copy_keyless (a INT, t TEXT); INSERT INTO copy_keyless VALUES (0, 'old')");
  wire::Relation relation = MakeRelation(
      21, "copy_keyless", {{"a", wire::LOGICAL_TYPE_INT}, {"t", wire::LOGICAL_TYPE_TEXT}});
  MappedRelation mapped = Map(relation);
  ASSERT_FALSE(mapped.has_key);
  const std::vector<wire::Value> same = {Int(1), Text("same")};
  CopyChunk(mapped, {Insert(21, same), Insert(21, same), Insert(21, {Null(), Text("x\ty")})},
            CopyInto::kEmptied);
  EXPECT_EQ(Query("SELECT a, t FROM copy_keyless ORDER BY a, t"),
            (std::vector<Row>{R({std::nullopt, "x\ty"}), R({"1", "same"}), R({"1", "same"})}));
}

// What the mapping says: renamed and excluded columns, and type overrides, whose conversion
// (ConvertRow, as the apply agent runs it) the statement sees; without it the sink refuses the
// value, naming the column.
TEST_F(MariaDbSinkTest, CopyRowsFollowTheMappingAndItsTypeOverrides) {
  Exec("CREATE TABLE copy_mapped (order_id INT PRIMARY KEY, label VARCHAR(10), note TEXT)");
  wire::Relation relation = MakeRelation(22, "copy_source",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"label", wire::LOGICAL_TYPE_BYTES},
                                          {"secret", wire::LOGICAL_TYPE_TEXT},
                                          {"remark", wire::LOGICAL_TYPE_TEXT}});
  MappingRule rule;
  rule.source = std::string(kDb) + ".copy_source";
  rule.target = std::string(kDb) + ".copy_mapped";
  rule.renames = {{"id", "order_id"}, {"remark", "note"}};
  rule.exclude = {"secret"};
  MappedRelation plain = Map(relation, {rule});
  rule.types = {{"label", wire::LOGICAL_TYPE_TEXT}};
  MappedRelation converting = Map(relation, {rule});
  ASSERT_TRUE(converting.converts);

  std::vector<wire::RowChange> rows = {Insert(22, {Int(1), Bytes("grüß"), Text("pw"), Text("one")}),
                                       Insert(22, {Int(2), Bytes("x"), Text("pw"), Null()})};
  ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
  Status refused = CopyRows(plain, rows);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.message(),
                       "copy into ferry.copy_mapped (2 rows): column label: bytes value cannot be "
                       "written to column type varchar(10)"));
  sink_->AbortTransaction();

  for (wire::RowChange& row : rows) ASSERT_TRUE(ConvertRow(converting, row).ok());
  CopyChunk(converting, rows);
  CopyChunk(converting, {rows[1]});  // again, over the row
  EXPECT_EQ(Query("SELECT order_id, label, note FROM copy_mapped ORDER BY order_id"),
            (std::vector<Row>{R({"1", "grüß", "one"}), R({"2", "x", std::nullopt})}));
}

// An aborted copy transaction leaves neither rows nor progress.
TEST_F(MariaDbSinkTest, CopyRowsRolledBackLeaveNothing) {
  Exec(SimpleTable("copy_abort") + "; INSERT INTO copy_abort VALUES (1, 'stream', 1)");
  Simple t = MakeSimple("copy_abort");
  ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
  for (int from : {1, 50}) {
    Status copied = CopyRows(t.mapped, SimpleRows(from, 20, "lost"));
    ASSERT_TRUE(copied.ok()) << copied.message();
  }
  ASSERT_TRUE(sink_->RecordCopyProgress("up", {"ferry.copy_abort", "", 40, false}).ok());
  sink_->AbortTransaction();
  EXPECT_EQ(Query("SELECT id, a FROM copy_abort"), std::vector<Row>{R({"1", "stream"})});
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ferry_meta.copy_progress WHERE source_table = "
                   "'ferry.copy_abort'"),
            "0");
  CopyChunk(t.mapped, SimpleRows(1, 3, "kept"));
  EXPECT_EQ(Scalar("SELECT GROUP_CONCAT(SUBSTRING_INDEX(a, ' ', 1)) FROM copy_abort"),
            "kept,kept,kept");
}

// MySQL does not tell which unique index an insert met: a row that meets another row on another
// unique index than the key does not overwrite that row (the statement is refused, and its rows
// go in one at a time, which names the clash).
TEST_F(MariaDbSinkTest, CopyRowsClashingOnAnotherUniqueIndexAreAnError) {
  Exec(
      "CREATE TABLE copy_unique (id INT PRIMARY KEY, a VARCHAR(10) UNIQUE, b INT);"
      "INSERT INTO copy_unique VALUES (1, 'taken', 1), (5, 'five', 5)");
  Simple t = MakeSimple("copy_unique");
  ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
  Status clash = CopyRows(t.mapped, {Insert(1, {Int(5), Text("five"), Int(50)}),
                                     Insert(1, {Int(2), Text("taken"), Int(2)})});
  ASSERT_FALSE(clash.ok());
  EXPECT_TRUE(Contains(clash.message(),
                       "copy into ferry.copy_unique (2 rows): apply to "
                       "ferry.copy_unique (INSERT of 2 rows): MariaDB error 1062: "
                       "Duplicate entry 'taken' for key 'a'"));
  sink_->AbortTransaction();
  EXPECT_EQ(Query("SELECT id, a, b FROM copy_unique ORDER BY id"),
            (std::vector<Row>{R({"1", "taken", "1"}), R({"5", "five", "5"})}));

  // The same rows without the clash: the one met on the key is overwritten.
  CopyChunk(t.mapped,
            {Insert(1, {Int(5), Text("five"), Int(50)}), Insert(1, {Int(2), Text("two"), Int(2)})});
  EXPECT_EQ(
      Query("SELECT id, a, b FROM copy_unique ORDER BY id"),
      (std::vector<Row>{R({"1", "taken", "1"}), R({"2", "two", "2"}), R({"5", "five", "50"})}));
}

// A key whose unique index allows NULL cannot carry the check above: such rows go in as ApplyRow
// writes them, with the same outcome.
TEST_F(MariaDbSinkTest, CopyRowsWithANullableKeyIndexGoInByTheRowPath) {
  Exec(
      "CREATE TABLE copy_nullable (id INT NULL UNIQUE, a TEXT, b INT);"
      "INSERT INTO copy_nullable VALUES (1, 'stream', 1)");
  Simple t = MakeSimple("copy_nullable");
  CopyChunk(t.mapped, SimpleRows(1, 3, "chunk", 0));
  EXPECT_EQ(Query("SELECT id, a, b FROM copy_nullable ORDER BY id"),
            (std::vector<Row>{R({"1", "chunk 1", "1"}), R({"2", "chunk 2", "2"}),
                              R({"3", "chunk 3", "3"})}));
  EXPECT_EQ(Late(), "");
}

// A row larger than one statement may be (half the server's max_allowed_packet, at most 4 MiB)
// goes in as ApplyRow writes it, its value streamed as a parameter.
TEST_F(MariaDbSinkTest, CopyRowsLargerThanAStatementGoInByTheRowPath) {
  Exec("CREATE TABLE copy_large (id INT PRIMARY KEY, a LONGTEXT, b INT)");
  Simple t = MakeSimple("copy_large");
  std::vector<wire::RowChange> rows = SimpleRows(1, 3, "small", 10);
  rows.insert(rows.begin() + 1, Insert(1, {Int(10), Text(std::string(5 << 20, 'x')), Int(10)}));
  CopyChunk(t.mapped, rows);
  EXPECT_EQ(Query("SELECT id, LENGTH(a) FROM copy_large ORDER BY id"),
            (std::vector<Row>{R({"1", "17"}), R({"2", "17"}), R({"3", "17"}),
                              R({"10", std::to_string(5 << 20)})}));
}

// The same for the stream's inserts, which go in multi-row INSERTs of literals: the large row
// and the rows after it take the row path; every row arrives once.
TEST_F(MariaDbSinkTest, InsertsLargerThanAStatementGoInByTheRowPath) {
  Exec("CREATE TABLE insert_large (id INT PRIMARY KEY, a LONGTEXT, b INT)");
  Simple t = MakeSimple("insert_large");
  std::vector<wire::RowChange> rows = SimpleRows(1, 3, "small", 10);
  rows.insert(rows.begin() + 1, Insert(1, {Int(10), Text(std::string(5 << 20, 'x')), Int(10)}));
  ApplyAll("0-1-5", t.mapped, rows);
  EXPECT_EQ(Query("SELECT id, LENGTH(a) FROM insert_large ORDER BY id"),
            (std::vector<Row>{R({"1", "17"}), R({"2", "17"}), R({"3", "17"}),
                              R({"10", std::to_string(5 << 20)})}));
  EXPECT_EQ(Late(), "");
}

// Two rows of a chunk whose keys the target's collation holds equal: the later one wins, as
// through ApplyRow, and the key keeps the spelling it was first written with.
TEST_F(MariaDbSinkTest, CopyRowsWithKeysEqualOnTheTargetLetTheLaterWin) {
  Exec(
      "CREATE TABLE copy_ci (k VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, v TEXT);"
      "INSERT INTO copy_ci VALUES ('b', 'stream')");
  wire::Relation relation = MakeRelation(
      24, "copy_ci", {{"k", wire::LOGICAL_TYPE_TEXT, true}, {"v", wire::LOGICAL_TYPE_TEXT}});
  MappedRelation mapped = Map(relation);
  CopyChunk(mapped,
            {Insert(24, {Text("a"), Text("first")}), Insert(24, {Text("A"), Text("second")}),
             Insert(24, {Text("B"), Text("chunk")})});
  EXPECT_EQ(Query("SELECT k, v FROM copy_ci ORDER BY k"),
            (std::vector<Row>{R({"a", "second"}), R({"b", "chunk"})}));
}

// Errors name the table and what failed; the connection takes the next transaction.
TEST_F(MariaDbSinkTest, CopyRowsErrorsNameTheTableAndTheValue) {
  Exec("CREATE TABLE copy_errors (id INT PRIMARY KEY, a VARCHAR(3), b INT NOT NULL)");
  Simple t = MakeSimple("copy_errors");
  struct Case {
    std::vector<wire::RowChange> rows;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{Insert(1, {Int(5), Text("four"), Int(1)})},
       "copy into ferry.copy_errors (1 rows): column a: value 'four' cannot be held exactly by "
       "varchar(3)"},
      // Refused by the server: the statement's rows go in one at a time, which names the cause.
      {{Insert(1, {Int(5), Text("ok"), Int(1)}), Insert(1, {Int(6), Text("ok"), Null()})},
       "MariaDB error 1048: Column 'b' cannot be null"},
      {{Insert(1, {Int(2), Null()})},
       "row has 2 values but relation ferry.copy_errors has 3 columns"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
    Status status = CopyRows(t.mapped, c.rows);
    ASSERT_FALSE(status.ok()) << c.message;
    EXPECT_TRUE(Contains(status.message(), c.message));
    sink_->AbortTransaction();
  }
  CopyChunk(t.mapped, {Insert(1, {Int(2), Text("two"), Int(2)})});
  EXPECT_EQ(Scalar("SELECT GROUP_CONCAT(a ORDER BY id) FROM copy_errors"), "two");
}

// ---- no key ------------------------------------------------------------------------------------

TEST_F(MariaDbSinkTest, KeylessRelationInsertsPlainlyAndRefusesUpdateAndDelete) {
  Exec("CREATE TABLE keyless_default (a INT, t TEXT)");
  wire::Relation relation = MakeRelation(
      10, "keyless_default", {{"a", wire::LOGICAL_TYPE_INT}, {"t", wire::LOGICAL_TYPE_TEXT}});
  MappedRelation mapped = Map(relation);
  ASSERT_FALSE(mapped.has_key);
  const std::vector<wire::Value> row = {Int(1), Text("same")};
  ApplyAll("0-1-1", mapped, {Insert(10, row), Insert(10, row), Insert(10, {Int(2), Null()})});
  EXPECT_EQ(Query("SELECT a, t FROM keyless_default ORDER BY a, t"),
            (std::vector<Row>{R({"1", "same"}), R({"1", "same"}), R({"2", std::nullopt})}));

  for (const wire::RowChange& change :
       {Update(10, {}, {Int(1), Text("changed")}), Delete(10, row, /*old_is_key_only=*/false)}) {
    Begin("0-1-2");
    Result<RowOutcome> refused = sink_->ApplyRow(mapped, change);
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(Contains(refused.message(), "table ferry.keyless_default has no primary key"));
    sink_->AbortTransaction();
  }
  EXPECT_EQ(Checkpoint()->value(), "0-1-1");

  ApplyAll("0-1-3", mapped, {Truncate(10, false, false), Insert(10, {Int(3), Text("after")})});
  EXPECT_EQ(Query("SELECT a, t FROM keyless_default"), std::vector<Row>{R({"3", "after"})});
}

// A unique index on the target does not turn a keyless source's insert into an upsert: two
// source rows are never folded into one, a clash is an error that names it.
TEST_F(MariaDbSinkTest, KeylessRelationIgnoresTargetUniqueIndex) {
  Exec("CREATE TABLE keyless_unique (a INT PRIMARY KEY, t TEXT)");
  wire::Relation relation = MakeRelation(
      11, "keyless_unique", {{"a", wire::LOGICAL_TYPE_INT}, {"t", wire::LOGICAL_TYPE_TEXT}});
  MappedRelation mapped = Map(relation);
  ApplyAll("0-1-1", mapped, {Insert(11, {Int(1), Text("first")})});
  Begin("0-1-2");
  EXPECT_EQ(Apply(mapped, Insert(11, {Int(1), Text("second")})), RowOutcome::kApplied);
  Status clash = sink_->CommitTransaction();
  ASSERT_FALSE(clash.ok());
  EXPECT_TRUE(
      Contains(clash.message(), "MariaDB error 1062: Duplicate entry '1' for key 'PRIMARY'"));
  sink_->AbortTransaction();
  EXPECT_EQ(Query("SELECT a, t FROM keyless_unique"), std::vector<Row>{R({"1", "first"})});
}

// ---- replica session behaviour
// ----------------------------------------------------------------------

TEST_F(MariaDbSinkTest, ForeignKeysBehaveAsOnAReplica) {
  Exec(
      "CREATE TABLE fk_parent (id INT PRIMARY KEY);"
      "CREATE TABLE fk_child (id INT PRIMARY KEY, a TEXT, b INT,"
      " FOREIGN KEY (b) REFERENCES fk_parent (id))");
  Simple t = MakeSimple("fk_child");
  // The parent row arrives later (or was filtered out): the source already checked the FK.
  ApplyAll("0-1-1", t.mapped, {Insert(1, {Int(1), Text("orphan"), Int(42)})});
  EXPECT_EQ(Query("SELECT id, b FROM fk_child"), std::vector<Row>{R({"1", "42"})});
}

TEST_F(MariaDbSinkTest, TimestampsAreWrittenInUtcWhateverTheServerZone) {
  // The server's own default zone must not shift TIMESTAMP values.
  Exec("SET GLOBAL time_zone = '+05:00'");
  std::unique_ptr<Sink> sink = MakeMysqlSink(server_->dsn());
  ASSERT_TRUE(sink->Open().ok());
  Exec("CREATE TABLE tz (id INT PRIMARY KEY, v TIMESTAMP(6) NULL)");
  wire::Relation relation = MakeRelation(
      13, "tz", {{"id", wire::LOGICAL_TYPE_INT, true}, {"v", wire::LOGICAL_TYPE_TIMESTAMP_TZ}});
  ASSERT_TRUE(sink->BeginTransaction("tz", MakeBegin("0-1-1")).ok());
  Result<RowOutcome> applied = sink->ApplyRow(
      Map(relation),
      Insert(13, {Int(1), Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10+00")}));
  ASSERT_TRUE(applied.ok()) << applied.message();
  ASSERT_TRUE(sink->CommitTransaction().ok());
  Exec("SET GLOBAL time_zone = SYSTEM");
  EXPECT_EQ(Scalar("SELECT UNIX_TIMESTAMP(v) FROM tz"), "1709207110.000000");
}

TEST_F(MariaDbSinkTest, CreatedTableIsRecordedAndItsIndexesAreCreatedOnce) {
  CheckCreatedTableAndIndexes(kDb);
}

TEST_F(MariaDbSinkTest, RecopyRangeDeleteComparesKeysAsRowsAndKeepsTheKeysKept) {
  CheckCopyRangeDelete(kDb);
}

TEST_F(MariaDbSinkTest, CopyProgressNamesItsOriginAndAnOlderMetaGainsTheColumn) {
  CheckCopyProgressOrigin(kDb);
}

TEST_F(MariaDbSinkTest, GroupedTransactionsCommitTogetherWithTheLastCheckpoint) {
  CheckGroupedTransactions(kDb, {"0-1-10", "0-1-20", "0-1-30", "0-1-40"});
}

// ---- create_tables ------------------------------------------------------------------------------

using ::ferry::testing::TypedRelation;

// A PostgreSQL source's table, created in a database the target lacks, holds its values exactly.
TEST_F(MariaDbSinkTest, CreateTableFromAPostgresSourceHoldsItsValues) {
  const wire::Relation relation =
      TypedRelation("made", "orders",
                    {{"id", "int8", wire::LOGICAL_TYPE_INT, true},
                     {"name", "text", wire::LOGICAL_TYPE_TEXT, true},
                     {"amount", "numeric(10,2)", wire::LOGICAL_TYPE_DECIMAL},
                     {"big", "numeric", wire::LOGICAL_TYPE_DECIMAL},
                     {"note", "text", wire::LOGICAL_TYPE_TEXT},
                     {"raw", "bytea", wire::LOGICAL_TYPE_BYTES},
                     {"at", "timestamptz", wire::LOGICAL_TYPE_TIMESTAMP_TZ},
                     {"doc", "jsonb", wire::LOGICAL_TYPE_JSON},
                     {"u", "uuid", wire::LOGICAL_TYPE_UUID},
                     {"flag", "bool", wire::LOGICAL_TYPE_BOOL},
                     {"arr", "int4[]", wire::LOGICAL_TYPE_ARRAY}});
  const MappedRelation mapped = Map(relation);
  Result<std::vector<std::string>> ddl =
      sink_->CreateTable(PlanNewTable(mapped, SourceEngine::kPostgres));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  ASSERT_EQ(ddl->size(), 2u);
  EXPECT_EQ((*ddl)[0], "CREATE DATABASE IF NOT EXISTS `made` CHARACTER SET utf8mb4");
  EXPECT_EQ(Query("SELECT GROUP_CONCAT(CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE) ORDER BY "
                  "ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.COLUMNS WHERE "
                  "TABLE_SCHEMA = 'made' AND TABLE_NAME = 'orders'"),
            (std::vector<Row>{R({"id bigint(20), name varchar(766), amount decimal(10,2), big "
                                 "decimal(65,30), note longtext, raw longblob, at datetime(6), "
                                 "doc longtext, u uuid, flag tinyint(1), arr longtext"})}));
  EXPECT_EQ(Query("SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM "
                  "information_schema.STATISTICS WHERE TABLE_SCHEMA = 'made' AND TABLE_NAME = "
                  "'orders' AND INDEX_NAME = 'PRIMARY'"),
            (std::vector<Row>{R({"id,name"})}));

  ApplyAll("0-1-10", mapped,
           {Insert(700, {Int(1), Text("Caf\u00e9"), Dec("-12345678.90"),
                         Dec("123456789012345678901234567890.125"), Text("emoji \U0001F680"),
                         Bytes(std::string("\x00\xff", 2)),
                         Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10.123456+00"),
                         Str(&wire::Value::set_json, "{\"a\": [1, null]}"),
                         Str(&wire::Value::set_uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                         Bool(true), Array({Int(1), Int(2), Null()})}),
            // Keys distinct on PostgreSQL stay distinct: case and trailing spaces count.
            Insert(700, {Int(1), Text("caf\u00e9"), Null(), Null(), Null(), Null(), Null(), Null(),
                         Null(), Null(), Null()}),
            Insert(700, {Int(1), Text("caf\u00e9 "), Null(), Null(), Null(), Null(), Null(), Null(),
                         Null(), Null(), Null()})});
  EXPECT_EQ(
      Query("SELECT name, amount, big, note, HEX(raw), at, doc, u, flag, JSON_COMPACT(arr) FROM "
            "made.orders WHERE amount IS NOT NULL"),
      (std::vector<Row>{
          R({"Caf\u00e9", "-12345678.90",
             "123456789012345678901234567890.125000000000000000000000000000", "emoji \U0001F680",
             "00FF", "2024-02-29 11:45:10.123456", "{\"a\": [1, null]}",
             "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "1", "[1,2,null]"})}));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM made.orders"), "3");

  ddl = sink_->CreateTable(PlanNewTable(mapped, SourceEngine::kPostgres));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  EXPECT_TRUE(ddl->empty());
}

// MariaDB -> MariaDB keeps the source's types; a table without a primary key (every column
// flagged) gets none.
TEST_F(MariaDbSinkTest, CreateTableFromAMariaDbSourceKeepsItsTypes) {
  const wire::Relation relation =
      TypedRelation(kDb, "ct_same",
                    {{"a", "int unsigned", wire::LOGICAL_TYPE_UINT, true},
                     {"d", "decimal(12,3)", wire::LOGICAL_TYPE_DECIMAL, true},
                     {"c", "char(3)", wire::LOGICAL_TYPE_TEXT, true},
                     {"t", "timestamp(2)", wire::LOGICAL_TYPE_TIMESTAMP_TZ, true},
                     {"y", "year", wire::LOGICAL_TYPE_INT, true},
                     {"e", "enum", wire::LOGICAL_TYPE_ENUM, true}},
                    /*full_old_image=*/true);
  Result<std::vector<std::string>> ddl =
      sink_->CreateTable(PlanNewTable(Map(relation), SourceEngine::kMysql));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  EXPECT_EQ(Query("SELECT GROUP_CONCAT(CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE, ' ', IS_NULLABLE) "
                  "ORDER BY ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.COLUMNS "
                  "WHERE TABLE_SCHEMA = 'ferry' AND TABLE_NAME = 'ct_same'"),
            (std::vector<Row>{R({"a int(10) unsigned YES, d decimal(12,3) YES, c char(3) YES, t "
                                 "timestamp(2) YES, y year(4) YES, e varchar(255) YES"})}));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                   "'ferry' AND TABLE_NAME = 'ct_same'"),
            "0");
}

// MariaDB commits the open transaction before DDL: the table is created on a connection of its
// own, so a transaction open around it still commits or rolls back whole.
TEST_F(MariaDbSinkTest, CreateTableLeavesTheOpenTransactionOpen) {
  Exec(SimpleTable("ct_open"));
  Simple simple = MakeSimple("ct_open");
  ASSERT_TRUE(sink_->BeginTransaction("ct", MakeBegin("0-1-77")).ok());
  EXPECT_EQ(Apply(simple.mapped, Insert(1, {Int(1), Text("x"), Int(1)})), RowOutcome::kApplied);
  const wire::Relation relation =
      TypedRelation(kDb, "ct_new", {{"id", "int8", wire::LOGICAL_TYPE_INT, true}});
  Result<std::vector<std::string>> ddl =
      sink_->CreateTable(PlanNewTable(Map(relation), SourceEngine::kPostgres));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ferry' "
                   "AND TABLE_NAME = 'ct_new'"),
            "1");
  sink_->AbortTransaction();
  EXPECT_FALSE(Checkpoint("ct").has_value());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ct_open"), "0");
}

TEST_F(MariaDbSinkTest, CreateTableRefusesAJsonKeyBeforeRunningAnything) {
  const wire::Relation relation =
      TypedRelation("ct_never", "t", {{"j", "jsonb", wire::LOGICAL_TYPE_JSON, true}});
  Result<std::vector<std::string>> ddl =
      sink_->CreateTable(PlanNewTable(Map(relation), SourceEngine::kPostgres));
  ASSERT_FALSE(ddl.ok());
  EXPECT_TRUE(Contains(ddl.message(), "column j of source type jsonb has no exact MySQL/MariaDB"));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "
                   "'ct_never'"),
            "0");
}

// ---- TLS (issue 12) -----------------------------------------------------------------------------

// sslmode=require asks for TLS; the harness's usual server has none, so nothing connects.
TEST_F(MariaDbSinkTest, TlsModesRefuseAServerWithoutTls) {
  Status status = MakeMysqlSink(server_->dsn() + " sslmode=require")->Open();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(
      Contains(status.message(),
               "connect to target MySQL/MariaDB at 127.0.0.1:" + std::to_string(server_->port()) +
                   ": sslmode=require, but the server did not encrypt the connection (it "
                   "offers no TLS): give the server a certificate (ssl_cert and ssl_key"));

  // verify-full: Connector/C refuses before logging in.
  testing::OwnTestCa ca("any-ca");
  status =
      MakeMysqlSink(server_->dsn() + " sslmode=verify-full sslrootcert=" + ca.cert_file())->Open();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.message(), "SSL is required, but the server does not support it"));
  EXPECT_TRUE(
      Contains(status.message(), "; the server offers no TLS: give the server a certificate"));
}

constexpr char kSinkTlsServer[] = "msink-tls";
using MariaDbSinkTlsTest = ::ferry::testing::MariaDbTlsSuite<kSinkTlsServer>;

TEST_F(MariaDbSinkTlsTest, VerifyFullWritesOverAnEncryptedSession) {
  // The control: the server does not let this user in over a clear connection.
  Status clear = MakeMysqlSink(Dsn("tls_only", ""))->Open();
  ASSERT_FALSE(clear.ok());
  EXPECT_TRUE(Contains(clear.message(), "Access denied for user 'tls_only'"));

  std::unique_ptr<Sink> sink = MakeMysqlSink(Dsn("tls_only", VerifyFull()));
  Status opened = sink->Open();
  ASSERT_TRUE(opened.ok()) << opened.message();
  ASSERT_TRUE(server_->Exec(SimpleTable("ferry.over_tls")).ok());
  Simple simple = MakeSimple("over_tls");
  ASSERT_TRUE(sink->BeginTransaction("up", MakeBegin("0-1-1")).ok());
  Result<RowOutcome> outcome =
      sink->ApplyRow(simple.mapped, Insert(1, {Int(1), Text("sealed"), Int(2)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  Status committed = sink->CommitTransaction();
  ASSERT_TRUE(committed.ok()) << committed.message();
  EXPECT_EQ(server_->Scalar("SELECT a FROM ferry.over_tls WHERE id = 1"), "sealed");

  // DDL runs on a connection of its own, made the same way.
  const wire::Relation relation =
      testing::TypedRelation(kDb, "made_over_tls", {{"id", "int8", wire::LOGICAL_TYPE_INT, true}});
  Result<std::vector<std::string>> ddl =
      sink->CreateTable(PlanNewTable(Map(relation), SourceEngine::kPostgres));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
}

TEST_F(MariaDbSinkTlsTest, RequireAndVerifyCaEncryptToo) {
  for (const std::string& tls :
       {std::string("sslmode=require"),
        "sslmode=verify-ca sslrootcert=" + server_->tls_ca()->cert_file()}) {
    Status opened = MakeMysqlSink(Dsn("tls_only", tls))->Open();
    EXPECT_TRUE(opened.ok()) << tls << ": " << opened.message();
  }
}

TEST_F(MariaDbSinkTlsTest, ACertificateFromAnotherCaIsRefusedNamingSslrootcert) {
  testing::OwnTestCa other("other-ca");
  for (const std::string mode : {"verify-full", "verify-ca", "require"}) {
    Status status =
        MakeMysqlSink(Dsn("tls_only", "sslmode=" + mode + " sslrootcert=" + other.cert_file()))
            ->Open();
    ASSERT_FALSE(status.ok()) << mode;
    EXPECT_TRUE(Contains(status.message(), "connect to target MySQL/MariaDB at 127.0.0.1:" +
                                               std::to_string(server_->port()) +
                                               ": client error 2026: TLS/SSL error: "))
        << mode;
    EXPECT_TRUE(Contains(status.message(),
                         "; the server's certificate was not accepted: set sslrootcert in the dsn "
                         "to the file of the CA that signed it"))
        << mode;
  }
  Status missing =
      MakeMysqlSink(Dsn("tls_only", "sslmode=verify-full sslrootcert=/nonexistent"))->Open();
  EXPECT_TRUE(Contains(missing.message(),
                       ": the file sslrootcert names in the dsn cannot be read: No such file or "
                       "directory"));
}

TEST_F(MariaDbSinkTlsTest, AClientCertificateGoesWithSslcertAndSslkey) {
  const wire::testing::TestCa::Issued client = server_->tls_ca()->Issue("ferry-apply", {});
  Status without = MakeMysqlSink(Dsn("cert_only", VerifyFull()))->Open();
  ASSERT_FALSE(without.ok());
  EXPECT_TRUE(Contains(without.message(), "Access denied for user 'cert_only'"));
  Status with = MakeMysqlSink(Dsn("cert_only", VerifyFull() + " sslcert=" + client.cert_file +
                                                   " sslkey=" + client.key_file))
                    ->Open();
  EXPECT_TRUE(with.ok()) << with.message();
}

// verify-full checks the name in the certificate; verify-ca only that the CA signed it.
TEST(MariaDbSinkTlsNameTest, VerifyFullChecksTheHostNameAndVerifyCaDoesNot) {
  testing::OwnTestCa ca("name-ca");
  Result<std::unique_ptr<MariaDbServer>> server = MariaDbServer::Start(
      "msink-tls-name", {.extra_args = ca.ServerArgsFor("db.elsewhere.example")});
  ASSERT_TRUE(server.ok()) << server.message();
  const std::string dsn = (*server)->dsn() + " sslrootcert=" + ca.cert_file();

  Status full = MakeMysqlSink(dsn + " sslmode=verify-full")->Open();
  ASSERT_FALSE(full.ok());
  EXPECT_TRUE(Contains(full.message(), "Validation of SSL server certificate failed"));
  EXPECT_TRUE(Contains(full.message(),
                       "; the server's certificate does not carry the name in host= "
                       "(sslmode=verify-full): connect by a name or address the certificate "
                       "carries, or check only the CA with sslmode=verify-ca"));
  Status chain_only = MakeMysqlSink(dsn + " sslmode=verify-ca")->Open();
  EXPECT_TRUE(chain_only.ok()) << chain_only.message();
}

}  // namespace
}  // namespace ferry::apply::mysql
