// The PostgreSQL sink against a real PostgreSQL 15: hand-built change records in, exact text of
// the target's rows out. Covers the checkpoint's transactionality (ARCHITECTURE.md invariant 1),
// every row operation and divergence outcome, every value kind, mappings, and the errors operators
// see.
#include "apply/postgres/postgres_sink.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "apply/sink.h"
#include "apply/table_mapping.h"
#include "apply/type_override.h"
#include "tests/harness/postgres_server.h"
#include "tests/integration/sink_fixture.h"
#include "wire/testing/change_records.h"

namespace ferry::apply::postgres {
namespace {

using ::ferry::testing::PostgresServer;
using ::ferry::testing::Row;

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
  return wire::testing::MakeRelation(id, "public", table, columns, full_old_image);
}

wire::Begin MakeBegin(const std::string& lsn, int64_t commit_time_us = 1709207110123456,
                      const std::string& origin = "") {
  return wire::testing::BeginAt("postgres", lsn, commit_time_us, origin);
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

// ---- fixture ----------------------------------------------------------------------------------

struct PostgresEngine {
  using Server = PostgresServer;
  static constexpr const char* kName = "PostgreSQL";
  static constexpr const char* kEngine = "postgres";
  static constexpr const char* kSchema = "public";
  static constexpr const char* kValueText = "v::text";
  static Result<std::unique_ptr<Server>> Start() { return PostgresServer::Start("sink"); }
  static std::unique_ptr<Sink> MakeSink(const std::string& dsn) { return MakePostgresSink(dsn); }
  static std::string SessionSql() {
    return "SET TimeZone = 'UTC'; SET DateStyle = ISO; SET IntervalStyle = postgres; "
           "SET extra_float_digits = 3; ";
  }
};

class PostgresSinkTest : public ::ferry::testing::SinkFixture<PostgresEngine> {
 protected:
  // The types of KeyCases(), created once in the suite's database.
  void CreateKeyTypes();
};

// public.<table>(id int primary key, a text, b int) and its relation (id 1).
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

// ---- ferry_meta and checkpoints -----------------------------------------------------------------

TEST_F(PostgresSinkTest, OpenCreatesMetaTables) {
  EXPECT_EQ(Scalar("SELECT count(*) FROM ferry_meta.checkpoints WHERE false"), "0");
  EXPECT_EQ(Scalar("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                   "information_schema.columns WHERE table_schema = 'ferry_meta' AND "
                   "table_name = 'conflicts'"),
            "id,at,upstream,table_name,key,conflict_type,remote_row,local_row,resolver,outcome,"
            "origin,remote_position,remote_commit_time,remote_old_row,final_row,reason");
  // Opening again (a restarted agent) finds everything in place.
  Status again = MakePostgresSink(server_->dsn())->Open();
  EXPECT_TRUE(again.ok()) << again.message();
}

TEST_F(PostgresSinkTest, ConcurrentFirstOpensAllSucceed) {
  Exec("CREATE DATABASE concurrent_open");
  std::string dsn = server_->dsn();
  dsn.replace(dsn.find("dbname=ferry"), 12, "dbname=concurrent_open");
  std::vector<std::thread> threads;
  std::vector<std::string> errors(6);
  for (size_t i = 0; i < errors.size(); ++i) {
    threads.emplace_back([&, i] {
      Status status = MakePostgresSink(dsn)->Open();
      if (!status.ok()) errors[i] = status.message();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& error : errors) EXPECT_EQ(error, "");
}

TEST_F(PostgresSinkTest, UnknownUpstreamHasNoCheckpoint) {
  EXPECT_FALSE(Checkpoint("never-seen").has_value());
}

TEST_F(PostgresSinkTest, CheckpointIsWrittenInTheSameTransaction) {
  Exec("CREATE TABLE ckpt (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("ckpt");
  ASSERT_TRUE(sink_->BeginTransaction("ck", MakeBegin("0/1000", 1709207110123456, "node-a")).ok());
  // Visible to nobody else before commit.
  EXPECT_EQ(Scalar("SELECT count(*) FROM ferry_meta.checkpoints WHERE upstream = 'ck'"), "0");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(1), Text("x"), Int(10)})), RowOutcome::kApplied);
  Commit();

  std::optional<wire::Position> position = Checkpoint("ck");
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->engine(), "postgres");
  EXPECT_EQ(position->value(), "0/1000");
  EXPECT_EQ(Query("SELECT engine, position, commit_time::text, origin FROM ferry_meta.checkpoints "
                  "WHERE upstream = 'ck'"),
            std::vector<Row>{R({"postgres", "0/1000", "2024-02-29 11:45:10.123456+00", "node-a"})});

  // An aborted transaction leaves neither its rows nor its checkpoint.
  ASSERT_TRUE(sink_->BeginTransaction("ck", MakeBegin("0/2000", 0)).ok());
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("y"), Int(20)})), RowOutcome::kApplied);
  EXPECT_EQ(Apply(t.mapped, Delete(1, {Int(1), Null(), Null()})), RowOutcome::kApplied);
  sink_->AbortTransaction();
  EXPECT_EQ(Checkpoint("ck")->value(), "0/1000");
  EXPECT_EQ(Query("SELECT id, a, b FROM ckpt ORDER BY id"), std::vector<Row>{R({"1", "x", "10"})});

  // Unknown commit time and origin are stored as NULL.
  ASSERT_TRUE(sink_->BeginTransaction("ck", MakeBegin("0/3000", 0)).ok());
  Commit();
  EXPECT_EQ(Query("SELECT position, commit_time, origin FROM ferry_meta.checkpoints WHERE "
                  "upstream = 'ck'"),
            std::vector<Row>{R({"0/3000", std::nullopt, std::nullopt})});
}

TEST_F(PostgresSinkTest, CheckpointIsTheFirstWriteOfTheTransaction) {
  Exec("CREATE TABLE first_write (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("first_write");
  Begin("0/10", "fw");
  Apply(t.mapped, Insert(1, {Int(1), Text("x"), Int(1)}));
  Commit();
  // Same transaction id on both rows, and the checkpoint row's tuple was written first
  // (cmin 0): capture's loop prevention relies on seeing it before any data row.
  EXPECT_EQ(Scalar("SELECT (c.xmin = t.xmin)::text || ',' || c.cmin::text FROM "
                   "ferry_meta.checkpoints c, first_write t WHERE c.upstream = 'fw'"),
            "true,0");
}

TEST_F(PostgresSinkTest, TransactionFailingMidwayRollsBackCheckpointToo) {
  Exec("CREATE TABLE midway (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("midway");
  ApplyAll("0/100", t.mapped, {Insert(1, {Int(1), Text("keep"), Int(1)})});

  Begin("0/200");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("lost"), Int(2)})), RowOutcome::kApplied);
  // Inserts are deferred into one statement, sent ahead with the update after them (pipelined):
  // the bad one fails when the commit reads their results.
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(3), Text("x"), Text("abc")})), RowOutcome::kApplied);
  EXPECT_EQ(Apply(t.mapped, Update(1, {}, {Int(1), Text("u"), Int(1)})), RowOutcome::kApplied);
  Status bad = sink_->CommitTransaction();
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.message(),
                       "apply to public.midway (INSERT of 2 rows): ERROR: invalid input "
                       "syntax for type integer: \"abc\""))
      << bad.message();
  // A COMMIT of the failed transaction (asked again) must not pass for a commit.
  Status committed = sink_->CommitTransaction();
  EXPECT_FALSE(committed.ok());
  EXPECT_TRUE(Contains(committed.message(), "rolled back")) << committed.message();
  sink_->AbortTransaction();
  sink_->AbortTransaction();  // safe to call again

  EXPECT_EQ(Checkpoint()->value(), "0/100");
  EXPECT_EQ(Query("SELECT id, a FROM midway ORDER BY id"), std::vector<Row>{R({"1", "keep"})});

  // The sink is usable again, with the statements it prepared before the failure.
  ApplyAll("0/300", t.mapped, {Insert(1, {Int(2), Text("again"), Int(2)})});
  EXPECT_EQ(Checkpoint()->value(), "0/300");
  EXPECT_EQ(Query("SELECT id, a FROM midway ORDER BY id"),
            (std::vector<Row>{R({"1", "keep"}), R({"2", "again"})}));
}

TEST_F(PostgresSinkTest, ReopenAfterConnectionLoss) {
  Exec("CREATE TABLE lost (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("lost");
  Begin("0/1", "lost");
  Apply(t.mapped, Insert(1, {Int(1), Text("kept"), Null()}));
  Commit();

  Begin("0/2", "lost");
  Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'ferry-apply'");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("x"), Null()})), RowOutcome::kApplied);
  Status committed = sink_->CommitTransaction();  // runs the deferred insert: no connection
  ASSERT_FALSE(committed.ok());
  EXPECT_TRUE(Contains(committed.message(), "apply to public.lost (INSERT of 1 rows): "));
  sink_->AbortTransaction();

  // A new session: prepared statements and catalog caches start over.
  Status reopened = sink_->Open();
  ASSERT_TRUE(reopened.ok()) << reopened.message();
  EXPECT_EQ(Checkpoint("lost")->value(), "0/1");
  Begin("0/2", "lost");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("x"), Null()})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Checkpoint("lost")->value(), "0/2");
  EXPECT_EQ(Scalar("SELECT count(*) FROM lost"), "2");
}

TEST_F(PostgresSinkTest, MisuseIsAnError) {
  Exec("CREATE TABLE misuse (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("misuse");
  Result<RowOutcome> outside = sink_->ApplyRow(t.mapped, Insert(1, {Int(1), Null(), Null()}));
  EXPECT_FALSE(outside.ok());
  EXPECT_TRUE(Contains(outside.message(), "no transaction is open"));
  EXPECT_FALSE(sink_->CommitTransaction().ok());
  Begin("0/1", "misuse");
  EXPECT_FALSE(sink_->BeginTransaction("misuse", MakeBegin("0/2")).ok());
  sink_->AbortTransaction();
  EXPECT_FALSE(sink_->BeginTransaction("misuse", wire::Begin()).ok());
  std::unique_ptr<Sink> closed = MakePostgresSink(server_->dsn());
  EXPECT_TRUE(Contains(closed->ReadCheckpoint("x").message(), "not open"));
}

TEST_F(PostgresSinkTest, OpenFailureNamesTheCause) {
  std::unique_ptr<Sink> sink =
      MakePostgresSink("host=127.0.0.1 port=" + std::to_string(testing::FreePort()) +
                       " dbname=ferry user=postgres connect_timeout=5");
  Status status = sink->Open();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.message(), "connect to target PostgreSQL"));
}

// libpq's message for a malformed string quotes the word it stopped at: here the second half of
// an unquoted password. The sink's error says what is wrong without it.
TEST_F(PostgresSinkTest, AMalformedDsnIsRefusedWithoutShowingIt) {
  std::unique_ptr<Sink> sink = MakePostgresSink("host=127.0.0.1 password=top secret dbname=x");
  const std::string message = sink->Open().message();
  EXPECT_TRUE(Contains(message, "invalid target dsn")) << message;
  EXPECT_FALSE(Contains(message, "secret")) << message;
}

// ---- row operations
// ------------------------------------------------------------------------------

TEST_F(PostgresSinkTest, InsertUpdateDeleteTruncate) {
  Exec("CREATE TABLE ops (id serial PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("ops");
  ApplyAll("0/1", t.mapped,
           {Insert(1, {Int(1), Text("one"), Int(1)}), Insert(1, {Int(2), Text("two"), Null()}),
            Update(1, {}, {Int(1), Text("uno"), Int(11)}), Delete(1, {Int(2), Null(), Null()})});
  EXPECT_EQ(Query("SELECT id, a, b FROM ops ORDER BY id"), std::vector<Row>{R({"1", "uno", "11"})});

  Exec("SELECT setval('ops_id_seq', 50)");
  ApplyAll("0/2", t.mapped, {Truncate(1, false, true)});
  EXPECT_EQ(Scalar("SELECT count(*) FROM ops"), "0");
  EXPECT_EQ(Scalar("SELECT nextval('ops_id_seq')"), "1");  // RESTART IDENTITY
}

TEST_F(PostgresSinkTest, TruncateCascade) {
  Exec(
      "CREATE TABLE tc_parent (id int PRIMARY KEY, a text, b int);"
      "CREATE TABLE tc_child (id int PRIMARY KEY, p int REFERENCES tc_parent);"
      "INSERT INTO tc_parent VALUES (1); INSERT INTO tc_child VALUES (1, 1);");
  Simple t = MakeSimple("tc_parent");
  Begin("0/1", "tc");
  Result<RowOutcome> plain = sink_->ApplyRow(t.mapped, Truncate(1, false, false));
  ASSERT_FALSE(plain.ok());
  EXPECT_TRUE(Contains(plain.message(), "apply to public.tc_parent (TRUNCATE)"));
  sink_->AbortTransaction();
  Begin("0/1", "tc");
  EXPECT_EQ(Apply(t.mapped, Truncate(1, true, false)), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Scalar("SELECT count(*) FROM tc_child"), "0");
}

// A source `TRUNCATE parent, child` is one statement on the target: as two, the first would
// fail on the foreign key between them. RESTART IDENTITY applies to every table named.
TEST_F(PostgresSinkTest, TruncateOfSeveralTablesIsOneStatement) {
  Exec(
      "CREATE TABLE tm_parent (id serial PRIMARY KEY, a text, b int);"
      "CREATE TABLE tm_child (id serial PRIMARY KEY, a text, b int REFERENCES tm_parent);"
      "INSERT INTO tm_parent VALUES (1); INSERT INTO tm_child VALUES (1, NULL, 1);"
      "SELECT setval('tm_parent_id_seq', 50), setval('tm_child_id_seq', 50);");
  Simple parent = MakeSimple("tm_parent");
  Simple child = MakeSimple("tm_child");
  Begin("0/1", "tm");
  Status truncated = sink_->ApplyTruncate({&parent.mapped, &child.mapped},
                                          wire::testing::TruncateAll({1, 2}, false, true));
  ASSERT_TRUE(truncated.ok()) << truncated.message();
  Commit();
  EXPECT_EQ(Scalar("SELECT count(*) FROM tm_parent") + Scalar("SELECT count(*) FROM tm_child"),
            "00");
  EXPECT_EQ(
      Scalar("SELECT nextval('tm_parent_id_seq')") + Scalar("SELECT nextval('tm_child_id_seq')"),
      "11");
}

// A table mapped onto a target that does not exist stops the truncate with the fix, naming
// every table of the statement.
TEST_F(PostgresSinkTest, TruncateOntoAMissingTargetNamesTheFix) {
  Exec("CREATE TABLE tm_present (id int PRIMARY KEY, a text, b int)");
  Simple present = MakeSimple("tm_present");
  Simple missing = MakeSimple("tm_missing");
  Begin("0/1", "tm2");
  Status truncated = sink_->ApplyTruncate({&present.mapped, &missing.mapped},
                                          wire::testing::TruncateAll({1, 2}, false, false));
  ASSERT_FALSE(truncated.ok());
  EXPECT_TRUE(Contains(truncated.message(),
                       "apply to public.tm_present, public.tm_missing (TRUNCATE): target table "
                       "public.tm_missing does not exist"));
  sink_->AbortTransaction();
}

TEST_F(PostgresSinkTest, UnchangedColumnIsLeftAsItIs) {
  Exec("CREATE TABLE toast (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("toast");
  ApplyAll("0/1", t.mapped,
           {Insert(1, {Int(1), Text(std::string(10000, 'x')), Int(1)}),
            Update(1, {}, {Int(1), Unchanged(), Int(2)})});
  EXPECT_EQ(Query("SELECT length(a), b FROM toast"), std::vector<Row>{R({"10000", "2"})});
}

TEST_F(PostgresSinkTest, InsertOverExistingKeyOverwritesTheRow) {
  Exec(
      "CREATE TABLE ins_exists (id int PRIMARY KEY, a text, b int);"
      "INSERT INTO ins_exists VALUES (1, 'local', 7)");
  Simple t = MakeSimple("ins_exists");
  Begin("0/1");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(1), Text("remote"), Null()})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Late(), "public.ins_exists: 1 x kInsertedOverExisting\n");
  EXPECT_EQ(Query("SELECT id, a, b FROM ins_exists"),
            std::vector<Row>{R({"1", "remote", std::nullopt})});
}

// Consecutive inserts run as multi-row INSERTs of up to 1000 rows (a statement trigger counts
// them); rows that met an existing row are overwritten, and only those are reported.
TEST_F(PostgresSinkTest, BulkInsertsRunInBatchesAndOverwriteOnlyExistingRows) {
  Exec(R"sql(
    CREATE TABLE bulk (id int PRIMARY KEY, a text, b int);
    INSERT INTO bulk SELECT g, 'local', -1 FROM generate_series(0, 2400, 100) g;
    CREATE TABLE bulk_statements (n int);
    CREATE FUNCTION count_bulk() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO bulk_statements VALUES (1); RETURN NULL; END $$;
    CREATE TRIGGER count_bulk AFTER INSERT ON bulk FOR EACH STATEMENT EXECUTE FUNCTION count_bulk();
    ALTER TABLE bulk ENABLE ALWAYS TRIGGER count_bulk;)sql");
  Simple t = MakeSimple("bulk");
  Begin("0/1");
  for (int id = 0; id < 2500; ++id) {
    ASSERT_EQ(Apply(t.mapped, Insert(1, {Int(id), Text("remote"), Int(id)})), RowOutcome::kApplied);
  }
  Commit();
  EXPECT_EQ(Late(), "public.bulk: 25 x kInsertedOverExisting\n");
  EXPECT_EQ(Scalar("SELECT count(*) FROM bulk_statements"), "3");  // 1000 + 1000 + 500 rows
  EXPECT_EQ(Scalar("SELECT count(*) FROM bulk WHERE a = 'remote' AND b = id"), "2500");
  EXPECT_EQ(Scalar("SELECT count(*) FROM bulk"), "2500");
}

// Deferred inserts run before any other change, so the target sees source order.
TEST_F(PostgresSinkTest, DeferredInsertsKeepSourceOrder) {
  Exec("CREATE TABLE order_kept (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("order_kept");
  ApplyAll("0/1", t.mapped,
           {Insert(1, {Int(1), Text("a"), Null()}), Update(1, {}, {Int(1), Text("b"), Null()}),
            Insert(1, {Int(2), Text("gone"), Null()}), Delete(1, {Int(2), Null(), Null()}),
            Insert(1, {Int(2), Text("back"), Null()}), Insert(1, {Int(3), Text("c"), Null()})});
  EXPECT_EQ(Query("SELECT id, a FROM order_kept ORDER BY id"),
            (std::vector<Row>{R({"1", "b"}), R({"2", "back"}), R({"3", "c"})}));
  EXPECT_EQ(Late(), "");
}

TEST_F(PostgresSinkTest, AbortDiscardsDeferredInserts) {
  Exec("CREATE TABLE discarded (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("discarded");
  Begin("0/1");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(1), Text("never"), Null()})), RowOutcome::kApplied);
  sink_->AbortTransaction();
  ApplyAll("0/2", t.mapped, {Insert(1, {Int(2), Text("kept"), Null()})});
  EXPECT_EQ(Query("SELECT id, a FROM discarded"), std::vector<Row>{R({"2", "kept"})});
  EXPECT_EQ(Checkpoint()->value(), "0/2");
}

TEST_F(PostgresSinkTest, InsertOverExistingKeyInPartitionedTable) {
  Exec(
      "CREATE TABLE parted (id int PRIMARY KEY, a text, b int) PARTITION BY RANGE (id);"
      "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);"
      "INSERT INTO parted VALUES (1, 'local', 7)");
  Simple t = MakeSimple("parted");
  Begin("0/1");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(1), Text("remote"), Int(8)})), RowOutcome::kApplied);
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(2), Text("new"), Int(9)})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Late(), "public.parted: 1 x kInsertedOverExisting\n");
  EXPECT_EQ(Query("SELECT id, a, b FROM parted ORDER BY id"),
            (std::vector<Row>{R({"1", "remote", "8"}), R({"2", "new", "9"})}));
}

// Updates and deletes are sent ahead (pipelined): a row not found is reported late, at the
// commit, one report per row.
TEST_F(PostgresSinkTest, UpdateOfMissingRowInsertsIt) {
  Exec("CREATE TABLE upd_missing (id int PRIMARY KEY, a text DEFAULT 'dflt', b int)");
  Simple t = MakeSimple("upd_missing");
  Begin("0/1");
  EXPECT_EQ(Apply(t.mapped, Update(1, {}, {Int(5), Text("five"), Int(50)})), RowOutcome::kApplied);
  // A row the source did not send whole (an unchanged TOAST value) would be a row with a
  // default the source never had: nothing is inserted.
  EXPECT_EQ(Apply(t.mapped, Update(1, {}, {Int(6), Unchanged(), Int(60)})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Query("SELECT id, a, b FROM upd_missing"), std::vector<Row>{R({"5", "five", "50"})});
  EXPECT_EQ(Late(),
            "public.upd_missing: 1 x kUpdateInsertedMissing\n"
            "public.upd_missing: 1 x kUpdateMissingNotInserted\n");
}

TEST_F(PostgresSinkTest, DeleteOfMissingRowIsReported) {
  Exec("CREATE TABLE del_missing (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("del_missing");
  Begin("0/1");
  EXPECT_EQ(Apply(t.mapped, Delete(1, {Int(9), Null(), Null()})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Late(), "public.del_missing: 1 x kDeleteMissing\n");
}

// How many late outcomes of each kind `text` (LateOutcomesText) holds, e.g. "2 x kDeleteMissing".
std::string CountLate(const std::string& text) {
  std::map<std::string, int> kinds;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    kinds[line.substr(line.find(" x ") + 3)] += std::stoi(line.substr(line.find(": ") + 2));
    start = end + 1;
  }
  std::string out;
  for (const auto& [kind, rows] : kinds) {
    out += (out.empty() ? "" : ", ") + std::to_string(rows) + " x " + kind;
  }
  return out;
}

// Many updates and deletes in one transaction go out without waiting for each (pipelined), yet
// end as one at a time would: rows not found are inserted (update) or reported (delete), and a
// later change of the same row in the same transaction sees what the earlier one did.
TEST_F(PostgresSinkTest, PipelinedUpdatesAndDeletesEndAsOneAtATime) {
  Exec(
      "CREATE TABLE pipe (id int PRIMARY KEY, a text, b int);"
      "INSERT INTO pipe SELECT g, 'old', g FROM generate_series(1, 200) g");
  Simple t = MakeSimple("pipe");
  Begin("0/1");
  for (int id = 1; id <= 300; ++id) {  // 201..300 are missing: inserted
    EXPECT_EQ(Apply(t.mapped, Update(1, {}, {Int(id), Text("new"), Int(id * 10)})),
              RowOutcome::kApplied);
  }
  for (int id = 2; id <= 100; id += 2) Apply(t.mapped, Delete(1, {Int(id), Null(), Null()}));
  for (int id = 400; id < 410; ++id) Apply(t.mapped, Delete(1, {Int(id), Null(), Null()}));
  // Rows the updates above inserted: found.
  Apply(t.mapped, Update(1, {}, {Int(250), Text("again"), Int(0)}));
  Apply(t.mapped, Delete(1, {Int(260), Null(), Null()}));
  // A missing row updated twice: inserted once, then updated.
  Apply(t.mapped, Update(1, {}, {Int(500), Text("first"), Int(1)}));
  Apply(t.mapped, Update(1, {}, {Int(500), Text("second"), Int(2)}));
  // A missing row updated, then deleted: gone.
  Apply(t.mapped, Update(1, {}, {Int(600), Text("brief"), Int(1)}));
  Apply(t.mapped, Delete(1, {Int(600), Null(), Null()}));
  Commit();
  EXPECT_EQ(CountLate(Late()), "10 x kDeleteMissing, 102 x kUpdateInsertedMissing");
  EXPECT_EQ(Scalar("SELECT count(*) FROM pipe"),
            "250");  // 1..300 and 500, less 50 even ids and 260
  EXPECT_EQ(Scalar("SELECT count(*) FROM pipe WHERE a = 'new' AND b = id * 10"), "248");
  EXPECT_EQ(Scalar("SELECT count(*) FROM pipe WHERE id % 2 = 0 AND id <= 100"), "0");
  EXPECT_EQ(Query("SELECT id, a, b FROM pipe WHERE id IN (250, 260, 500, 600) ORDER BY id"),
            (std::vector<Row>{R({"250", "again", "0"}), R({"500", "second", "2"})}));
}

// Inserts go out in the same pipeline as the updates and deletes around them (pgbench's
// transactions: three updates and an insert), yet end as one at a time would: an insert over an
// existing row overwrites it (reported late), and a change of a row inserted earlier in the same
// transaction sees it, as does an insert of a row deleted earlier.
TEST_F(PostgresSinkTest, PipelinedInsertsEndAsOneAtATime) {
  Exec(
      "CREATE TABLE pipe_ins (id int PRIMARY KEY, a text, b int);"
      "INSERT INTO pipe_ins SELECT g, 'old', g FROM generate_series(1, 10) g");
  Simple t = MakeSimple("pipe_ins");
  Begin("0/1");
  for (int id = 1; id <= 5; ++id) {
    Apply(t.mapped, Update(1, {}, {Int(id), Text("updated"), Int(id)}));
    Apply(t.mapped, Insert(1, {Int(100 + id), Text("new"), Int(id)}));
  }
  Apply(t.mapped, Update(1, {}, {Int(103), Text("changed after insert"), Int(0)}));
  Apply(t.mapped, Delete(1, {Int(104), Null(), Null()}));
  Apply(t.mapped, Insert(1, {Int(9), Text("over existing"), Int(9)}));  // 9 is there
  Apply(t.mapped, Delete(1, {Int(10), Null(), Null()}));
  Apply(t.mapped, Insert(1, {Int(10), Text("back"), Int(10)}));
  Commit();
  EXPECT_EQ(Late(), "public.pipe_ins: 1 x kInsertedOverExisting\n");
  EXPECT_EQ(Query("SELECT id, a, b FROM pipe_ins WHERE id >= 9 ORDER BY id"),
            (std::vector<Row>{R({"9", "over existing", "9"}), R({"10", "back", "10"}),
                              R({"101", "new", "1"}), R({"102", "new", "2"}),
                              R({"103", "changed after insert", "0"}), R({"105", "new", "5"})}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM pipe_ins WHERE a = 'updated'"), "5");
}

// A failed insert among statements sent ahead names its table and rolls everything back.
TEST_F(PostgresSinkTest, PipelinedInsertErrorSurfacesAtTheCommit) {
  Exec("CREATE TABLE pipe_ins_err (id int PRIMARY KEY, a text, b int NOT NULL)");
  Simple t = MakeSimple("pipe_ins_err");
  Begin("0/1");
  Apply(t.mapped, Insert(1, {Int(1), Text("fine"), Int(1)}));
  Apply(t.mapped, Insert(1, {Int(2), Text("no b"), Null()}));
  Apply(t.mapped, Update(1, {}, {Int(3), Text("missing"), Int(3)}));
  Status committed = sink_->CommitTransaction();
  sink_->AbortTransaction();
  ASSERT_FALSE(committed.ok());
  EXPECT_TRUE(Contains(committed.message(),
                       "apply to public.pipe_ins_err (INSERT of 2 rows): ERROR: null value in "
                       "column \"b\""))
      << committed.message();
  EXPECT_EQ(Scalar("SELECT count(*) FROM pipe_ins_err"), "0");
  ApplyAll("0/2", t.mapped, {Insert(1, {Int(4), Text("after"), Int(4)})});
  EXPECT_EQ(Scalar("SELECT count(*) FROM pipe_ins_err"), "1");
}

// A run of inserts longer than an INSERT batch goes by COPY; one whose rows meet an existing row
// is rolled back and goes as INSERTs, which overwrite that row and report it; later runs into
// the table skip the COPY for a while. Values COPY reads as the INSERT would (NULL, escapes).
TEST_F(PostgresSinkTest, LongRunsOfInsertsAreCopiedAndStillOverwriteAnExistingRow) {
  Exec(
      "CREATE TABLE run_ins (id int PRIMARY KEY, a text, b int);"
      "INSERT INTO run_ins VALUES (2500, 'old', 0)");
  Simple t = MakeSimple("run_ins");
  const auto run = [&](int from, int to) {
    for (int id = from; id <= to; ++id) {
      Apply(t.mapped,
            Insert(1, {Int(id), id % 7 == 0 ? Null() : Text("r\t" + std::to_string(id)), Int(id)}));
    }
  };
  Begin("0/1");
  run(1, 1500);  // no row there: by COPY
  Commit();
  EXPECT_EQ(Late(), "");
  // Under a savepoint of their own, not in the transaction that wrote the checkpoint.
  const std::string in_checkpoint_transaction =
      "SELECT count(*) FROM run_ins WHERE xmin::text IN (SELECT xmin::text FROM "
      "ferry_meta.checkpoints)";
  EXPECT_EQ(Scalar(in_checkpoint_transaction), "0");
  Begin("0/2");
  run(2001, 3500);  // 2500 is there
  Commit();
  EXPECT_EQ(Late(), "public.run_ins: 1 x kInsertedOverExisting\n");
  EXPECT_EQ(Scalar(in_checkpoint_transaction), "1500");  // the COPY rolled back: INSERTs
  EXPECT_EQ(Scalar("SELECT count(*) FROM run_ins"), "3000");
  EXPECT_EQ(Scalar("SELECT a FROM run_ins WHERE id = 2500"), "r\t2500");
  EXPECT_EQ(Scalar("SELECT count(*) FROM run_ins WHERE a IS NULL"), "429");
  EXPECT_EQ(Scalar("SELECT sum(b) FROM run_ins"), "5251500");
}

// A value the target refuses in a run copied fails as it would as an INSERT, naming the table.
TEST_F(PostgresSinkTest, ARefusedValueInACopiedRunFailsAsAnInsertWould) {
  Exec("CREATE TABLE run_ins_err (id int PRIMARY KEY, a text, b int NOT NULL)");
  Simple t = MakeSimple("run_ins_err");
  Begin("0/1");
  for (int id = 1; id <= 1500; ++id) {
    Apply(t.mapped, Insert(1, {Int(id), Text("x"), id == 1200 ? Null() : Int(id)}));
  }
  Status committed = sink_->CommitTransaction();
  sink_->AbortTransaction();
  ASSERT_FALSE(committed.ok());
  EXPECT_TRUE(Contains(committed.message(), "apply to public.run_ins_err (INSERT of"))
      << committed.message();
  EXPECT_TRUE(Contains(committed.message(), "null value in column \"b\"")) << committed.message();
  EXPECT_EQ(Scalar("SELECT count(*) FROM run_ins_err"), "0");
}

// A key change finds its row by the old key; a later change of the row by its new key must see
// it, also when the row was missing and is inserted by the key change.
TEST_F(PostgresSinkTest, PipelinedKeyChangesAreSeenByLaterChangesOfTheNewKey) {
  Exec(
      "CREATE TABLE pipe_keys (id int PRIMARY KEY, a text, b int);"
      "INSERT INTO pipe_keys VALUES (1, 'one', 1), (2, 'two', 2)");
  Simple t = MakeSimple("pipe_keys");
  Begin("0/1");
  Apply(t.mapped, Update(1, {Int(1), Null(), Null()}, {Int(10), Text("ten"), Int(10)}));
  Apply(t.mapped, Update(1, {}, {Int(10), Text("ten again"), Int(11)}));
  Apply(t.mapped, Update(1, {Int(2), Null(), Null()}, {Int(1), Text("one again"), Int(1)}));
  // Missing under its old key: the update inserts the row with its new key, which the next
  // changes find.
  Apply(t.mapped, Update(1, {Int(60), Null(), Null()}, {Int(61), Text("sixty-one"), Int(61)}));
  Apply(t.mapped, Update(1, {}, {Int(61), Text("found"), Int(62)}));
  Apply(t.mapped, Update(1, {Int(70), Null(), Null()}, {Int(71), Text("gone"), Int(71)}));
  Apply(t.mapped, Delete(1, {Int(71), Null(), Null()}));
  Commit();
  EXPECT_EQ(Late(),
            "public.pipe_keys: 1 x kUpdateInsertedMissing\n"
            "public.pipe_keys: 1 x kUpdateInsertedMissing\n");
  EXPECT_EQ(Query("SELECT id, a, b FROM pipe_keys ORDER BY id"),
            (std::vector<Row>{R({"1", "one again", "1"}), R({"10", "ten again", "11"}),
                              R({"61", "found", "62"})}));
}

// A statement that fails among many sent ahead: the error names the table and the operation
// (as one run in place would), surfaces at the commit, and nothing of the transaction stays;
// the sink is usable again afterwards, also after an abort with statements in flight.
TEST_F(PostgresSinkTest, PipelinedErrorSurfacesAtTheCommitAndRollsBackEverything) {
  Exec(
      "CREATE TABLE pipe_err (id int PRIMARY KEY, a text UNIQUE, b int NOT NULL);"
      "INSERT INTO pipe_err SELECT g, 'a' || g, g FROM generate_series(1, 50) g");
  Simple t = MakeSimple("pipe_err");
  ApplyAll("0/1", t.mapped, {Update(1, {}, {Int(1), Text("a1"), Int(1)})});
  const std::string before =
      Scalar("SELECT md5(string_agg(pipe_err::text, ',' ORDER BY id)) FROM pipe_err");

  auto run = [&](const std::string& position, const wire::RowChange& bad) {
    Begin(position);
    for (int id = 1; id <= 20; ++id)
      Apply(t.mapped, Update(1, {}, {Int(id), Text("x" + std::to_string(id)), Int(0)}));
    Apply(t.mapped, Delete(1, {Int(45), Null(), Null()}));
    EXPECT_EQ(Apply(t.mapped, bad), RowOutcome::kApplied);  // sent: its error comes later
    for (int id = 22; id <= 30; ++id) Apply(t.mapped, Delete(1, {Int(id), Null(), Null()}));
    Status committed = sink_->CommitTransaction();
    sink_->AbortTransaction();
    EXPECT_EQ(Checkpoint()->value(), "0/1");
    EXPECT_EQ(Scalar("SELECT md5(string_agg(pipe_err::text, ',' ORDER BY id)) FROM pipe_err"),
              before);
    EXPECT_EQ(Late(), "");
    return committed;
  };
  Status null_value = run("0/2", Update(1, {}, {Int(21), Text("x21"), Null()}));
  ASSERT_FALSE(null_value.ok());
  EXPECT_TRUE(Contains(null_value.message(),
                       "apply to public.pipe_err (UPDATE): ERROR: null value in column \"b\""))
      << null_value.message();
  Status duplicate = run("0/3", Update(1, {}, {Int(21), Text("a40"), Int(21)}));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_TRUE(Contains(duplicate.message(),
                       "apply to public.pipe_err (UPDATE): ERROR: duplicate key value violates "
                       "unique constraint \"pipe_err_a_key\""))
      << duplicate.message();
  // The missing row's insert, run at the drain, fails the same way.
  Status inserted = run("0/4", Update(1, {}, {Int(99), Text("a41"), Int(99)}));
  ASSERT_FALSE(inserted.ok());
  EXPECT_TRUE(Contains(inserted.message(),
                       "apply to public.pipe_err (UPDATE): ERROR: duplicate key value violates "
                       "unique constraint \"pipe_err_a_key\""))
      << inserted.message();

  // Aborted with statements in flight: nothing stays, and the next transaction goes through.
  Begin("0/5");
  for (int id = 1; id <= 10; ++id) Apply(t.mapped, Delete(1, {Int(id), Null(), Null()}));
  sink_->AbortTransaction();
  EXPECT_EQ(Scalar("SELECT count(*) FROM pipe_err"), "50");
  ApplyAll("0/6", t.mapped,
           {Update(1, {}, {Int(1), Text("done"), Int(1)}), Delete(1, {Int(2), Null(), Null()})});
  EXPECT_EQ(Checkpoint()->value(), "0/6");
  EXPECT_EQ(Query("SELECT id, a FROM pipe_err WHERE id <= 2"), std::vector<Row>{R({"1", "done"})});
}

TEST_F(PostgresSinkTest, UpdateThatChangesTheKey) {
  Exec("CREATE TABLE key_change (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("key_change");
  ApplyAll("0/1", t.mapped,
           {Insert(1, {Int(1), Text("a"), Int(1)}), Insert(1, {Int(2), Text("b"), Int(2)}),
            Update(1, {Int(1), Null(), Null()}, {Int(10), Text("a2"), Unchanged()})});
  EXPECT_EQ(Query("SELECT id, a, b FROM key_change ORDER BY id"),
            (std::vector<Row>{R({"2", "b", "2"}), R({"10", "a2", "1"})}));
}

TEST_F(PostgresSinkTest, CompositeNonIntegerKeysFindTheirRows) {
  Exec(
      "CREATE TABLE odd_keys (u uuid, t text, ts timestamptz, n numeric, v int,"
      " PRIMARY KEY (u, t, ts, n))");
  wire::Relation relation = MakeRelation(3, "odd_keys",
                                         {{"u", wire::LOGICAL_TYPE_UUID, true},
                                          {"t", wire::LOGICAL_TYPE_TEXT, true},
                                          {"ts", wire::LOGICAL_TYPE_TIMESTAMP_TZ, true},
                                          {"n", wire::LOGICAL_TYPE_DECIMAL, true},
                                          {"v", wire::LOGICAL_TYPE_INT}});
  MappedRelation mapped = Map(relation);
  auto key = [](const std::string& t) {
    return std::vector<wire::Value>{
        Str(&wire::Value::set_uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), Text(t),
        Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10.123456+00"),
        Str(&wire::Value::set_decimal, "-1.50")};
  };
  auto with = [](std::vector<wire::Value> values, wire::Value v) {
    values.push_back(v);
    return values;
  };
  ApplyAll("0/1", mapped,
           {Insert(3, with(key("😀 one"), Int(1))), Insert(3, with(key("two"), Int(2))),
            Update(3, {}, with(key("😀 one"), Int(11))), Delete(3, with(key("two"), Null()))});
  EXPECT_EQ(Query("SELECT t, v FROM odd_keys"), std::vector<Row>{R({"😀 one", "11"})});
}

// ---- values -------------------------------------------------------------------------------------

using ::ferry::testing::ValueCase;  // the text each value shows as ::text

std::vector<ValueCase> ValueCases() {
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {"bool", wire::LOGICAL_TYPE_BOOL, {{Bool(true), "true"}, {Bool(false), "false"}}},
      {"int2", wire::LOGICAL_TYPE_INT, {{Int(-32768), "-32768"}, {Int(32767), "32767"}}},
      {"int4",
       wire::LOGICAL_TYPE_INT,
       {{Int(-2147483648LL), "-2147483648"}, {Int(2147483647), "2147483647"}}},
      {"int8",
       wire::LOGICAL_TYPE_INT,
       {{Int(std::numeric_limits<int64_t>::min()), "-9223372036854775808"},
        {Int(std::numeric_limits<int64_t>::max()), "9223372036854775807"}}},
      {"numeric(20,0)",
       wire::LOGICAL_TYPE_UINT,
       {{Uint(std::numeric_limits<uint64_t>::max()), "18446744073709551615"}}},
      {"numeric",
       wire::LOGICAL_TYPE_DECIMAL,
       {{Str(&wire::Value::set_decimal, "123456789012345678901234567890"),
         "123456789012345678901234567890"},
        {Str(&wire::Value::set_decimal, "-98765432109876543210.1234567890"),
         "-98765432109876543210.1234567890"},
        {Str(&wire::Value::set_decimal, "-0.000000000000000000000000000001"),
         "-0.000000000000000000000000000001"},
        {Str(&wire::Value::set_decimal, "NaN"), "NaN"}}},
      {"numeric(10,2)",
       wire::LOGICAL_TYPE_DECIMAL,
       {{Str(&wire::Value::set_decimal, "-0.50"), "-0.50"}}},
      {"float8",
       wire::LOGICAL_TYPE_FLOAT,
       {{Float(std::nan("")), "NaN"},
        {Float(inf), "Infinity"},
        {Float(-inf), "-Infinity"},
        {Float(1e-310), "1e-310"},
        {Float(0.1), "0.1"},
        {Float(-0.0), "-0"},
        {Float(1.7976931348623157e308), "1.7976931348623157e+308"},
        {Float(1.0 / 3), "0.3333333333333333"}}},
      {"float4", wire::LOGICAL_TYPE_FLOAT, {{Float(static_cast<double>(0.1f)), "0.1"}}},
      {"text",
       wire::LOGICAL_TYPE_TEXT,
       {{Text("grüß dich 😀 𝄞"), "grüß dich 😀 𝄞"},
        {Text("quote ' \" back\\slash\nnewline\ttab"), "quote ' \" back\\slash\nnewline\ttab"},
        {Text(""), ""}}},
      {"varchar(5)", wire::LOGICAL_TYPE_TEXT, {{Text("😀😀😀😀😀"), "😀😀😀😀😀"}}},
      {"bytea",
       wire::LOGICAL_TYPE_BYTES,
       {{Bytes(std::string("\x00\x01\xff\x00", 4)), "\\x0001ff00"}, {Bytes(""), "\\x"}}},
      {"date",
       wire::LOGICAL_TYPE_DATE,
       {{Str(&wire::Value::set_date, "2024-02-29"), "2024-02-29"},
        {Str(&wire::Value::set_date, "0044-03-15 BC"), "0044-03-15 BC"},
        {Str(&wire::Value::set_date, "infinity"), "infinity"},
        {Str(&wire::Value::set_date, "-infinity"), "-infinity"}}},
      {"time",
       wire::LOGICAL_TYPE_TIME,
       {{Str(&wire::Value::set_time, "13:45:10.123456"), "13:45:10.123456"},
        {Str(&wire::Value::set_time, "24:00:00"), "24:00:00"}}},
      {"timetz",
       wire::LOGICAL_TYPE_TIME_TZ,
       {{Str(&wire::Value::set_time_tz, "13:45:10+02"), "13:45:10+02"},
        {Str(&wire::Value::set_time_tz, "01:02:03.5-05:30"), "01:02:03.5-05:30"}}},
      {"timestamp",
       wire::LOGICAL_TYPE_TIMESTAMP,
       {{Str(&wire::Value::set_timestamp, "2024-02-29 13:45:10.123456"),
         "2024-02-29 13:45:10.123456"},
        {Str(&wire::Value::set_timestamp, "infinity"), "infinity"}}},
      {"timestamptz",
       wire::LOGICAL_TYPE_TIMESTAMP_TZ,
       {{Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10.123456+00"),
         "2024-02-29 11:45:10.123456+00"},
        {Str(&wire::Value::set_timestamp_tz, "1999-12-31 23:59:59+00"), "1999-12-31 23:59:59+00"},
        {Str(&wire::Value::set_timestamp_tz, "-infinity"), "-infinity"}}},
      {"interval",
       wire::LOGICAL_TYPE_INTERVAL,
       {{Str(&wire::Value::set_interval, "1 year 2 mons 3 days 04:05:06.789"),
         "1 year 2 mons 3 days 04:05:06.789"},
        {Str(&wire::Value::set_interval, "-00:00:01"), "-00:00:01"}}},
      {"json",
       wire::LOGICAL_TYPE_JSON,
       {{Str(&wire::Value::set_json, R"({"b": 1,  "a":[1,2], "s":"😀\u0041"})"),
         R"({"b": 1,  "a":[1,2], "s":"😀\u0041"})"}}},
      {"jsonb",
       wire::LOGICAL_TYPE_JSON,
       {{Str(&wire::Value::set_json, R"({"b": 1,  "a":[1,2]})"), R"({"a": [1, 2], "b": 1})"}}},
      {"uuid",
       wire::LOGICAL_TYPE_UUID,
       {{Str(&wire::Value::set_uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}},
      {"mood", wire::LOGICAL_TYPE_ENUM, {{Str(&wire::Value::set_enum_value, "happy"), "happy"}}},
      {"bit(4)", wire::LOGICAL_TYPE_BIT, {{Str(&wire::Value::set_bits, "0101"), "0101"}}},
      {"varbit", wire::LOGICAL_TYPE_BIT, {{Str(&wire::Value::set_bits, "1"), "1"}}},
      {"inet",
       wire::LOGICAL_TYPE_OTHER,
       {{Str(&wire::Value::set_other, "10.1.2.3/8"), "10.1.2.3/8"}}},
      {"int4[]",
       wire::LOGICAL_TYPE_ARRAY,
       {{Array({Int(1), Null(), Int(-3)}), "{1,NULL,-3}"},
        {Array({Array({Int(1), Int(2)}), Array({Int(3), Int(4)})}), "{{1,2},{3,4}}"},
        {Array({}), "{}"}}},
      {"text[]",
       wire::LOGICAL_TYPE_ARRAY,
       {{Array({Text("a\"b"), Null(), Text("c,d"), Text("NULL"), Text("é😀"), Text("back\\"),
                Text("")}),
         R"({"a\"b",NULL,"c,d","NULL",é😀,"back\\",""})"}}},
      {"bytea[]",
       wire::LOGICAL_TYPE_ARRAY,
       {{Array({Bytes(std::string("\0", 1)), Null()}), R"({"\\x00",NULL})"}}},
  };
}

TEST_F(PostgresSinkTest, EveryValueKindRoundTrips) {
  Exec("CREATE TYPE mood AS ENUM ('sad', 'happy')");
  int n = 0;
  for (const ValueCase& c : ValueCases()) {
    SCOPED_TRACE(c.sql_type);
    const std::string table = "rt_" + std::to_string(++n);
    Exec("CREATE TABLE " + table + " (id int PRIMARY KEY, v " + c.sql_type + ")");
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
    ApplyAll("0/" + std::to_string(n), mapped, changes);
    EXPECT_EQ(Query("SELECT v::text FROM " + table + " ORDER BY id"), expected);

    // Updating every row to its neighbour's value goes through SET and WHERE as well.
    Begin("1/" + std::to_string(n));
    for (int row = 1; row <= id; ++row) {
      Apply(mapped, Update(relation.id(), {}, {Int(row), changes[(row % id)].new_values(1)}));
    }
    Commit();
    std::vector<Row> rotated(expected.begin() + 1, expected.end());
    rotated.push_back(expected.front());
    EXPECT_EQ(Query("SELECT v::text FROM " + table + " ORDER BY id"), rotated);
  }
}

// ---- keys of every type class ------------------------------------------------------------------

struct KeyCase {
  std::string sql_type;
  wire::LogicalType logical;
  wire::Value first, second;  // two distinct key values
};

wire::Value Other(const std::string& text) { return Str(&wire::Value::set_other, text); }

// A key of each type class PostgreSQL has (composite, enum, domain, range, array, a type from an
// extension), and the types whose bare SQL name means a length of one (bit, character).
std::vector<KeyCase> KeyCases() {
  return {
      {"key_pair", wire::LOGICAL_TYPE_OTHER, Other("(1,x)"), Other("(2,\"y z\")")},
      {"key_pair_domain", wire::LOGICAL_TYPE_OTHER, Other("(1,x)"), Other("(2,y)")},
      {"key_mood", wire::LOGICAL_TYPE_ENUM, Str(&wire::Value::set_enum_value, "happy"),
       Str(&wire::Value::set_enum_value, "sad")},
      {"key_short", wire::LOGICAL_TYPE_TEXT, Text("abc"), Text("abcde")},
      {"key_money", wire::LOGICAL_TYPE_DECIMAL, Str(&wire::Value::set_decimal, "1.25"),
       Str(&wire::Value::set_decimal, "-3.50")},
      {"int4range", wire::LOGICAL_TYPE_OTHER, Other("[1,3)"), Other("[5,7)")},
      {"int4[]", wire::LOGICAL_TYPE_ARRAY, Array({Int(1), Int(2)}), Array({Int(3), Null()})},
      {"key_pair[]", wire::LOGICAL_TYPE_ARRAY, Array({Other("(1,x)")}),
       Array({Other("(2,y)"), Other("(3,z)")})},
      {"citext", wire::LOGICAL_TYPE_TEXT, Text("Ab"), Text("cD")},
      {"hstore", wire::LOGICAL_TYPE_OTHER, Other("\"a\"=>\"1\""), Other("\"b\"=>NULL")},
      {"bit(4)", wire::LOGICAL_TYPE_BIT, Str(&wire::Value::set_bits, "0101"),
       Str(&wire::Value::set_bits, "1100")},
      {"character(3)", wire::LOGICAL_TYPE_TEXT, Text("abc"), Text("xyz")},
  };
}

void PostgresSinkTest::CreateKeyTypes() {
  if (Scalar("SELECT count(*) FROM pg_type WHERE typname = 'key_pair'") != "0") return;
  Exec(
      "CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS hstore;"
      "CREATE TYPE key_pair AS (a int, b text);"
      "CREATE DOMAIN key_pair_domain AS key_pair;"
      "CREATE TYPE key_mood AS ENUM ('sad', 'happy');"
      "CREATE DOMAIN key_short AS varchar(5);"
      "CREATE DOMAIN key_money AS numeric(10,2)");
}

// Updates (of a value and of the key itself) and deletes find their row by a key of each type.
TEST_F(PostgresSinkTest, KeysOfEveryTypeClassFindTheirRows) {
  CreateKeyTypes();
  int n = 0;
  for (const KeyCase& c : KeyCases()) {
    SCOPED_TRACE(c.sql_type);
    const std::string table = "key_" + std::to_string(++n);
    Exec("CREATE TABLE " + table + " (k " + c.sql_type + " PRIMARY KEY, v text)");
    wire::Relation relation =
        MakeRelation(200 + n, table, {{"k", c.logical, true}, {"v", wire::LOGICAL_TYPE_TEXT}});
    MappedRelation mapped = Map(relation);
    const uint32_t id = relation.id();
    const std::string suffix = "/" + std::to_string(n);
    ApplyAll("0" + suffix, mapped,
             {Insert(id, {c.first, Text("one")}), Update(id, {}, {c.first, Text("uno")}),
              Delete(id, {c.first, Null()})});
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + table), "0");
    ApplyAll("1" + suffix, mapped,
             {Insert(id, {c.first, Text("two")}),
              Update(id, {c.first, Null()}, {c.second, Text("moved")})});
    EXPECT_EQ(Query("SELECT v FROM " + table), std::vector<Row>{R({"moved"})});
  }
}

// REPLICA IDENTITY FULL: every column is matched, so every column's type must take part.
TEST_F(PostgresSinkTest, FullIdentityMatchesColumnsOfEveryTypeClass) {
  CreateKeyTypes();
  std::string columns;
  std::vector<Col> relation_columns;
  std::vector<wire::Value> first, second;
  int n = 0;
  for (const KeyCase& c : KeyCases()) {
    const std::string name = "c" + std::to_string(++n);
    columns += (columns.empty() ? "" : ", ") + name + " " + c.sql_type;
    relation_columns.push_back({name, c.logical});
    first.push_back(c.first);
    second.push_back(c.second);
  }
  Exec("CREATE TABLE full_classes (" + columns + ")");
  wire::Relation relation = MakeRelation(300, "full_classes", relation_columns, true);
  MappedRelation mapped = Map(relation);
  ApplyAll("0/1", mapped,
           {Insert(300, first), Insert(300, first), Update(300, first, second, false),
            Delete(300, first, false)});
  EXPECT_EQ(Scalar("SELECT count(*) FROM full_classes"), "1");
  ApplyAll("0/2", mapped, {Delete(300, second, false)});
  EXPECT_EQ(Scalar("SELECT count(*) FROM full_classes"), "0");
}

TEST_F(PostgresSinkTest, TextWithNulIsRejectedNamingTableAndColumn) {
  Exec("CREATE TABLE nul_text (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("nul_text");
  Begin("0/1");
  Result<RowOutcome> outcome =
      sink_->ApplyRow(t.mapped, Insert(1, {Int(1), Text(std::string("a\0b", 3)), Null()}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(Contains(outcome.message(),
                       "apply to public.nul_text (INSERT): column a: value "
                       "contains a NUL byte"));
  sink_->AbortTransaction();
  EXPECT_EQ(Scalar("SELECT count(*) FROM nul_text"), "0");
}

// MySQL/MariaDB zero and partial dates: no PostgreSQL date or timestamp holds them. By default
// (zero_dates: null) they are written as NULL there, while text columns keep their text, and an
// update finds the row by them as it was written.
TEST_F(PostgresSinkTest, ZeroDatesAreNullWhereTheColumnCannotHoldThemByDefault) {
  Exec(
      "CREATE TABLE zeros (id int PRIMARY KEY, d date, dt timestamp(6), ts timestamptz(6), "
      "tx text, vc varchar(30))");
  wire::Relation relation = MakeRelation(15, "zeros",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"d", wire::LOGICAL_TYPE_DATE},
                                          {"dt", wire::LOGICAL_TYPE_TIMESTAMP},
                                          {"ts", wire::LOGICAL_TYPE_TIMESTAMP_TZ},
                                          {"tx", wire::LOGICAL_TYPE_DATE},
                                          {"vc", wire::LOGICAL_TYPE_TIMESTAMP_TZ}},
                                         /*full_old_image=*/true);
  const std::vector<wire::Value> zeros = {
      Int(1),
      Str(&wire::Value::set_date, "0000-00-00"),
      Str(&wire::Value::set_timestamp, "2024-02-00 10:00:00"),
      Str(&wire::Value::set_timestamp_tz, "0000-00-00 00:00:00.000000+00"),
      Str(&wire::Value::set_date, "2024-01-00"),
      Str(&wire::Value::set_timestamp_tz, "0000-00-00 00:00:00+00")};
  std::vector<wire::Value> updated = zeros;
  updated[4] = Str(&wire::Value::set_date, "0000-00-00");
  ApplyAll("0/1", Map(relation), {Insert(15, zeros), Update(15, zeros, updated)});
  EXPECT_EQ(Query("SELECT id, d, dt, ts, tx, vc FROM zeros"),
            (std::vector<Row>{R({"1", std::nullopt, std::nullopt, std::nullopt, "0000-00-00",
                                 "0000-00-00 00:00:00+00"})}));
}

// Under zero_dates: error such a value stops the row, naming table, column, value and the fixes;
// into a text column it is no error.
TEST_F(PostgresSinkTest, ZeroDatesAreAnErrorUnderTheErrorPolicy) {
  Exec("CREATE TABLE strict_zeros (id int PRIMARY KEY, d date, tx text)");
  wire::Relation relation = MakeRelation(16, "strict_zeros",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"d", wire::LOGICAL_TYPE_DATE},
                                          {"tx", wire::LOGICAL_TYPE_DATE}});
  const MappedRelation mapped = Map(relation);
  const wire::Value zero = Str(&wire::Value::set_date, "0000-00-00");
  sink_ = MakePostgresSink(server_->dsn(), ZeroDates::kError);
  ASSERT_TRUE(sink_->Open().ok());
  ApplyAll("0/2", mapped, {Insert(16, {Int(1), Null(), zero})});
  Begin("0/3");
  Result<RowOutcome> refused = sink_->ApplyRow(mapped, Insert(16, {Int(2), zero, zero}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(),
            "apply to public.strict_zeros (INSERT): column d (from public.strict_zeros.d): value "
            "'0000-00-00' is a MySQL/MariaDB zero or partial date, which date cannot hold "
            "(PostgreSQL has no year, month or day 0): to write NULL instead set `zero_dates: "
            "null` under `target:` in the apply config, to keep the value make the target column "
            "text, or change it at the source");
  sink_->AbortTransaction();
  EXPECT_EQ(Query("SELECT id, d, tx FROM strict_zeros"),
            (std::vector<Row>{R({"1", std::nullopt, "0000-00-00"})}));
}

TEST_F(PostgresSinkTest, ValueTooLongIsAnErrorNotATruncation) {
  Exec("CREATE TABLE too_long (id int PRIMARY KEY, a varchar(3), b int)");
  Simple t = MakeSimple("too_long");
  Begin("0/1");
  EXPECT_EQ(Apply(t.mapped, Insert(1, {Int(1), Text("abcd"), Null()})), RowOutcome::kApplied);
  Status committed = sink_->CommitTransaction();
  ASSERT_FALSE(committed.ok());
  EXPECT_TRUE(Contains(committed.message(),
                       "apply to public.too_long (INSERT of 1 rows): ERROR: value too "
                       "long for type character varying(3)"));
  sink_->AbortTransaction();
}

// ---- mappings and target shape
// --------------------------------------------------------------------

TEST_F(PostgresSinkTest, MappingRenamesAndExcludes) {
  Exec(
      "CREATE SCHEMA archive;"
      "CREATE TABLE archive.orders (order_id int PRIMARY KEY, client text, note text DEFAULT "
      "'target default')");
  wire::Relation relation = MakeRelation(4, "orders",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"customer", wire::LOGICAL_TYPE_TEXT},
                                          {"secret", wire::LOGICAL_TYPE_TEXT}});
  MappingRule rule;
  rule.source = "public.orders";
  rule.target = "archive.orders";
  rule.renames = {{"id", "order_id"}, {"customer", "client"}};
  rule.exclude = {"secret"};
  MappedRelation mapped = Map(relation, {rule});
  ApplyAll(
      "0/1", mapped,
      {Insert(4, {Int(1), Text("ann"), Text("pw1")}), Insert(4, {Int(2), Text("bob"), Text("pw2")}),
       Update(4, {}, {Int(1), Text("anna"), Text("pw3")}), Delete(4, {Int(2), Null(), Null()})});
  EXPECT_EQ(Query("SELECT order_id, client, note FROM archive.orders"),
            std::vector<Row>{R({"1", "anna", "target default"})});
}

TEST_F(PostgresSinkTest, MissingTargetTableOrColumnNamesTheFix) {
  Simple missing = MakeSimple("no_such_table");
  Begin("0/1");
  Result<RowOutcome> outcome = sink_->ApplyRow(missing.mapped, Insert(1, {Int(1), Null(), Null()}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(Contains(outcome.message(),
                       "apply to public.no_such_table (INSERT): target table "
                       "public.no_such_table does not exist"));
  sink_->AbortTransaction();

  Exec("CREATE TABLE narrow (id int PRIMARY KEY, a text)");
  Simple narrow = MakeSimple("narrow");
  Begin("0/1");
  outcome = sink_->ApplyRow(narrow.mapped, Update(1, {}, {Int(1), Null(), Int(1)}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(Contains(outcome.message(),
                       "apply to public.narrow (UPDATE): new image: target "
                       "table public.narrow has no column b"));
  sink_->AbortTransaction();
}

TEST_F(PostgresSinkTest, TargetWithoutUniqueKeyNamesTheFix) {
  Exec("CREATE TABLE no_pk (id int, a text, b int)");
  Simple t = MakeSimple("no_pk");
  Begin("0/1");
  Result<RowOutcome> outcome = sink_->ApplyRow(t.mapped, Insert(1, {Int(1), Null(), Null()}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(Contains(outcome.message(),
                       "target table public.no_pk needs a primary key or unique index on "
                       "(\"id\"), the key of the source table: add one, e.g. ALTER TABLE "
                       "\"public\".\"no_pk\" ADD PRIMARY KEY (\"id\")"))
      << outcome.message();
  sink_->AbortTransaction();
}

TEST_F(PostgresSinkTest, RelationChangingShapeGetsNewStatements) {
  Exec("CREATE TABLE reshaped (id int PRIMARY KEY, a text)");
  wire::Relation before = MakeRelation(
      9, "reshaped", {{"id", wire::LOGICAL_TYPE_INT, true}, {"a", wire::LOGICAL_TYPE_TEXT}});
  ApplyAll("0/1", Map(before), {Insert(9, {Int(1), Text("x")})});
  // The operator adds the column on the target, then on the source; the stream re-sends the
  // relation under the same id.
  Exec("ALTER TABLE reshaped ADD COLUMN b int");
  wire::Relation after = MakeRelation(9, "reshaped",
                                      {{"id", wire::LOGICAL_TYPE_INT, true},
                                       {"a", wire::LOGICAL_TYPE_TEXT},
                                       {"b", wire::LOGICAL_TYPE_INT}});
  ApplyAll("0/2", Map(after),
           {Insert(9, {Int(2), Text("y"), Int(2)}), Update(9, {}, {Int(1), Text("x"), Int(1)})});
  EXPECT_EQ(Query("SELECT id, a, b FROM reshaped ORDER BY id"),
            (std::vector<Row>{R({"1", "x", "1"}), R({"2", "y", "2"})}));
}

TEST_F(PostgresSinkTest, TargetColumns) {
  Exec(
      "CREATE TABLE cols (id int PRIMARY KEY, \"Mixed Case\" text, dropped int, z int);"
      "ALTER TABLE cols DROP COLUMN dropped");
  Result<std::optional<std::vector<std::string>>> columns = sink_->TargetColumns("public", "cols");
  ASSERT_TRUE(columns.ok()) << columns.message();
  ASSERT_TRUE(columns->has_value());
  EXPECT_EQ(**columns, (std::vector<std::string>{"id", "Mixed Case", "z"}));
  columns = sink_->TargetColumns("public", "nope");
  ASSERT_TRUE(columns.ok()) << columns.message();
  EXPECT_FALSE(columns->has_value());
}

// ---- replica identity full
// ------------------------------------------------------------------------

TEST_F(PostgresSinkTest, FullIdentityWithoutKeyTouchesOneOfIdenticalRows) {
  Exec("CREATE TABLE keyless (a int, t text, j json)");
  wire::Relation relation = MakeRelation(5, "keyless",
                                         {{"a", wire::LOGICAL_TYPE_INT},
                                          {"t", wire::LOGICAL_TYPE_TEXT},
                                          {"j", wire::LOGICAL_TYPE_JSON}},
                                         /*full_old_image=*/true);
  MappedRelation mapped = Map(relation);
  const wire::Value json = Str(&wire::Value::set_json, R"({"k": [1, 2]})");
  const std::vector<wire::Value> row = {Int(1), Null(), json};
  ApplyAll("0/1", mapped,
           {Insert(5, row), Insert(5, row), Insert(5, row),
            Update(5, row, {Int(2), Text("changed"), json}, /*old_is_key_only=*/false),
            Delete(5, row, /*old_is_key_only=*/false)});
  EXPECT_EQ(Query("SELECT a, t, j::text FROM keyless ORDER BY a"),
            (std::vector<Row>{R({"1", std::nullopt, R"({"k": [1, 2]})"}),
                              R({"2", "changed", R"({"k": [1, 2]})"})}));
  Begin("0/2");
  EXPECT_EQ(Apply(mapped, Delete(5, {Int(3), Null(), json}, false)), RowOutcome::kDeleteMissing);
  Commit();
}

TEST_F(PostgresSinkTest, FullIdentityUsesTargetPrimaryKey) {
  Exec("CREATE TABLE full_pk (id int PRIMARY KEY, a text)");
  wire::Relation relation = MakeRelation(
      6, "full_pk", {{"id", wire::LOGICAL_TYPE_INT}, {"a", wire::LOGICAL_TYPE_TEXT}}, true);
  MappedRelation mapped = Map(relation);
  ApplyAll("0/1", mapped, {Insert(6, {Int(1), Text("source")})});
  // A local change to a non-key column does not hide the row from the source's update.
  Exec("UPDATE full_pk SET a = 'local'");
  Begin("0/2");
  EXPECT_EQ(Apply(mapped, Update(6, {Int(1), Text("source")}, {Int(1), Text("new")}, false)),
            RowOutcome::kApplied);
  EXPECT_EQ(Apply(mapped, Insert(6, {Int(1), Text("again")})), RowOutcome::kApplied);
  Commit();
  EXPECT_EQ(Late(), "public.full_pk: 1 x kInsertedOverExisting\n");
  EXPECT_EQ(Query("SELECT id, a FROM full_pk"), std::vector<Row>{R({"1", "again"})});
}

// ---- copy chunks: the bulk path (CopyRows) ------------------------------------------------------

// `n` rows of MakeSimple's relation from `first` on: a = "<prefix> <id>" padded to ~200 bytes, so
// that a few thousand rows take several pieces of COPY data.
std::vector<wire::RowChange> SimpleRows(int first, int n, const std::string& prefix) {
  std::vector<wire::RowChange> rows;
  for (int id = first; id < first + n; ++id) {
    rows.push_back(Insert(
        1, {Int(id), Text(prefix + " " + std::to_string(id) + std::string(200, '.')), Int(id)}));
  }
  return rows;
}

// The staging tables the sink's session holds (temporary tables are in pg_class for everyone).
constexpr char kStagesSql[] =
    "SELECT count(*) FROM pg_class WHERE relname LIKE 'ferry_copy_stage%' AND relpersistence = 't'";

// Rows the stream inserted before the chunk's read are overwritten by the chunk's; the others
// are inserted; nothing is reported as a divergence, and the checkpoint is left alone. Into a
// key range the stream has not written, rows go straight in; else through a staging table.
TEST_F(PostgresSinkTest, CopyRowsInsertAndOverwriteRowsWithTheirKey) {
  Exec(
      "CREATE TABLE copy_rows (id int PRIMARY KEY, a text, b int);"
      "INSERT INTO copy_rows SELECT g, 'stream', -g FROM generate_series(0, 3000, 100) g");
  Simple t = MakeSimple("copy_rows");
  CopyChunk(t.mapped, SimpleRows(5000, 3000, "straight"));
  EXPECT_EQ(Scalar(kStagesSql), "0");
  CopyChunk(t.mapped, SimpleRows(0, 3000, "chunk"));
  EXPECT_EQ(Scalar(kStagesSql), "1");
  EXPECT_EQ(Scalar("SELECT count(*) FROM copy_rows"), "6001");
  EXPECT_EQ(Scalar("SELECT count(*) FROM copy_rows WHERE a LIKE 'chunk ' || id || '.%' AND b = id"),
            "3000");
  EXPECT_EQ(
      Scalar("SELECT count(*) FROM copy_rows WHERE a LIKE 'straight ' || id || '.%' AND b = id"),
      "3000");
  EXPECT_EQ(Query("SELECT a, b FROM copy_rows WHERE id = 3000"),
            std::vector<Row>{R({"stream", "-3000"})});
  EXPECT_EQ(Late(), "");
  EXPECT_FALSE(Checkpoint().has_value());
  EXPECT_EQ(Query("SELECT source_table, rows_copied FROM ferry_meta.copy_progress"),
            std::vector<Row>{R({"public.copy_rows", "3000"})});

  // More chunks, over rows that are there and not, and one of no rows.
  CopyChunk(t.mapped, SimpleRows(3001, 10, "next"));
  CopyChunk(t.mapped, SimpleRows(2995, 10, "again"));
  CopyChunk(t.mapped, {});
  EXPECT_EQ(Scalar("SELECT count(*) FROM copy_rows"), "6011");
  EXPECT_EQ(Scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM copy_rows WHERE a LIKE "
                   "'again%'"),
            "2995,2996,2997,2998,2999,3000,3001,3002,3003,3004");
  EXPECT_EQ(Scalar(kStagesSql), "1");  // one staging table serves every write
}

// Several writes in one transaction, some straight in and some through the staging table, and
// ApplyRow's deferred inserts before them: all in order.
TEST_F(PostgresSinkTest, CopyRowsSeveralTimesInOneTransaction) {
  Exec("CREATE TABLE copy_many (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("copy_many");
  ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
  Apply(t.mapped, Insert(1, {Int(1), Text("row path"), Int(1)}));
  for (const auto& rows : {SimpleRows(1, 5, "one"), SimpleRows(5, 5, "two"),
                           SimpleRows(100, 5, "three"), SimpleRows(102, 5, "four")}) {
    Status copied = CopyRows(t.mapped, rows);
    ASSERT_TRUE(copied.ok()) << copied.message();
  }
  Commit();
  EXPECT_EQ(Query("SELECT id, split_part(a, ' ', 1) FROM copy_many ORDER BY id"),
            (std::vector<Row>{R({"1", "one"}), R({"2", "one"}), R({"3", "one"}), R({"4", "one"}),
                              R({"5", "two"}), R({"6", "two"}), R({"7", "two"}), R({"8", "two"}),
                              R({"9", "two"}), R({"100", "three"}), R({"101", "three"}),
                              R({"102", "four"}), R({"103", "four"}), R({"104", "four"}),
                              R({"105", "four"}), R({"106", "four"})}));
  EXPECT_EQ(Late(), "");
}

// Every value kind, NULL included, written straight in and (the same rows again, rotated)
// through the staging table.
TEST_F(PostgresSinkTest, CopyRowsOfEveryValueKindRoundTrip) {
  if (Scalar("SELECT count(*) FROM pg_type WHERE typname = 'mood'") == "0") {
    Exec("CREATE TYPE mood AS ENUM ('sad', 'happy')");
  }
  CheckCopyRoundTrip(ValueCases());
}

// Text COPY's own syntax inside values: its delimiter, line ends, escapes, its NULL marker and
// end-of-data marker; in text, bytea (from bytes and from text), an array and json.
TEST_F(PostgresSinkTest, CopyRowsKeepAwkwardValuesAsTheyAre) {
  Exec(
      "CREATE TABLE copy_awkward (id int PRIMARY KEY, t text, b bytea, tb bytea, arr text[], j "
      "json)");
  wire::Relation relation = MakeRelation(20, "copy_awkward",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"t", wire::LOGICAL_TYPE_TEXT},
                                          {"b", wire::LOGICAL_TYPE_BYTES},
                                          {"tb", wire::LOGICAL_TYPE_TEXT},
                                          {"arr", wire::LOGICAL_TYPE_ARRAY},
                                          {"j", wire::LOGICAL_TYPE_JSON}});
  MappedRelation mapped = Map(relation);
  const std::vector<std::string> texts = {
      "tab\there", "line\nend", "cr\rlf\r\n",   "back\\slash", "\\N",        "\\.",
      "\\",        "",          "ends with \\", "\\x41\\t\\n", "😀 \x01\x7f", "NULL"};
  for (int pass = 0; pass < 2; ++pass) {  // straight in, then over the rows: the staging table
    std::vector<wire::RowChange> rows;
    int id = 0;
    for (const std::string& text : texts) {
      rows.push_back(Insert(20, {Int(++id), Text(text), Bytes(text + std::string("\0\t", 2)),
                                 Text(text), Array({Text(text), Null(), Text("\t\"")}),
                                 Str(&wire::Value::set_json,
                                     "{\"k\": \"" + std::string(pass, 'p') + "\\t\\n\\\\\"}")}));
    }
    CopyChunk(mapped, rows);
    SCOPED_TRACE(pass);
    id = 0;
    for (const std::string& text : texts) {
      const std::string where = " FROM copy_awkward WHERE id = " + std::to_string(++id);
      EXPECT_EQ(Query("SELECT t, b = convert_to(t, 'UTF8') || '\\x0009'::bytea, "
                      "tb = convert_to(t, 'UTF8'), arr[1] = t, arr[2] IS NULL, arr[3], j->>'k'" +
                      where),
                std::vector<Row>{
                    R({text, "t", "t", "t", "t", "\t\"", std::string(pass, 'p') + "\t\n\\"})})
          << "id " << id;
    }
  }
}

// A chunk that replaces a whole table without key: the table was emptied in the transaction,
// identical rows stay two rows.
TEST_F(PostgresSinkTest, CopyRowsIntoAnEmptiedKeylessTable) {
  Exec("CREATE TABLE copy_keyless (a int, t text); INSERT INTO copy_keyless VALUES (0, 'old')");
  wire::Relation relation = MakeRelation(
      21, "copy_keyless", {{"a", wire::LOGICAL_TYPE_INT}, {"t", wire::LOGICAL_TYPE_TEXT}});
  MappedRelation mapped = Map(relation);
  ASSERT_FALSE(mapped.has_key);
  const std::vector<wire::Value> same = {Int(1), Text("same")};
  CopyChunk(mapped, {Insert(21, same), Insert(21, same), Insert(21, {Null(), Text("x\ty")})},
            CopyInto::kEmptied);
  EXPECT_EQ(Query("SELECT a, t FROM copy_keyless ORDER BY a, t"),
            (std::vector<Row>{R({"1", "same"}), R({"1", "same"}), R({std::nullopt, "x\ty"})}));
}

// What the mapping says: renamed and excluded columns, and type overrides, whose conversion
// (ConvertRow, as the apply agent runs it) the target's COPY sees; without it the sink names the
// override that is missing.
TEST_F(PostgresSinkTest, CopyRowsFollowTheMappingAndItsTypeOverrides) {
  Exec("CREATE TABLE copy_mapped (order_id int PRIMARY KEY, paid boolean, note text)");
  wire::Relation relation = MakeRelation(22, "copy_source",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"paid", wire::LOGICAL_TYPE_INT},
                                          {"secret", wire::LOGICAL_TYPE_TEXT},
                                          {"remark", wire::LOGICAL_TYPE_TEXT}});
  MappingRule rule;
  rule.source = "public.copy_source";
  rule.target = "public.copy_mapped";
  rule.renames = {{"id", "order_id"}, {"remark", "note"}};
  rule.exclude = {"secret"};
  MappedRelation plain = Map(relation, {rule});
  rule.types = {{"paid", wire::LOGICAL_TYPE_BOOL}};
  MappedRelation converting = Map(relation, {rule});
  ASSERT_TRUE(converting.converts);

  std::vector<wire::RowChange> rows = {Insert(22, {Int(1), Int(1), Text("pw"), Text("one")}),
                                       Insert(22, {Int(2), Int(0), Text("pw"), Null()})};
  ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
  Status refused = CopyRows(plain, rows);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.message(),
                       "copy into public.copy_mapped (2 rows): column paid is boolean on the "
                       "target, but public.copy_source.paid"));
  EXPECT_TRUE(Contains(refused.message(), "add `types: {paid: boolean}`"));
  sink_->AbortTransaction();

  for (wire::RowChange& row : rows) ASSERT_TRUE(ConvertRow(converting, row).ok());
  CopyChunk(converting, rows);
  CopyChunk(converting, {rows[1]});  // again, over the row: the staging table
  EXPECT_EQ(Query("SELECT order_id, paid, note FROM copy_mapped ORDER BY order_id"),
            (std::vector<Row>{R({"1", "t", "one"}), R({"2", "f", std::nullopt})}));
}

// An aborted copy transaction leaves neither rows nor progress; the staging table it created is
// gone with it, and the next copy makes a new one.
TEST_F(PostgresSinkTest, CopyRowsRolledBackLeaveNothing) {
  Exec(
      "CREATE TABLE copy_abort (id int PRIMARY KEY, a text, b int); "
      "INSERT INTO copy_abort VALUES (1, 'stream', 1)");
  Simple t = MakeSimple("copy_abort");
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
    for (int from : {1, 50}) {  // id 1 is there: through the staging table
      Status copied = CopyRows(t.mapped, SimpleRows(from, 20, "lost"));
      ASSERT_TRUE(copied.ok()) << copied.message();
    }
    ASSERT_TRUE(sink_->RecordCopyProgress("up", {"public.copy_abort", "", 40, false}).ok());
    sink_->AbortTransaction();
    EXPECT_EQ(Query("SELECT id, a FROM copy_abort"), std::vector<Row>{R({"1", "stream"})});
    EXPECT_EQ(Scalar("SELECT count(*) FROM ferry_meta.copy_progress WHERE source_table = "
                     "'public.copy_abort'"),
              "0");
  }
  CopyChunk(t.mapped, SimpleRows(1, 3, "kept"));
  EXPECT_EQ(Scalar("SELECT string_agg(split_part(a, ' ', 1), ',') FROM copy_abort"),
            "kept,kept,kept");
}

// Errors name the table and what failed; the connection takes the next transaction.
TEST_F(PostgresSinkTest, CopyRowsErrorsNameTheTableAndTheValue) {
  Exec(
      "CREATE TABLE copy_errors (id int PRIMARY KEY, a varchar(3), b int UNIQUE);"
      "INSERT INTO copy_errors VALUES (1, 'one', 1)");
  Simple t = MakeSimple("copy_errors");
  struct Case {
    std::vector<wire::RowChange> rows;
    std::string message;
  };
  const std::vector<Case> cases = {
      // Refused while encoding the rows: nothing reached the server.
      {{Insert(1, {Int(5), Text(std::string("a\0b", 3)), Null()})},
       "copy into public.copy_errors (1 rows): column a: value contains a NUL byte"},
      // Refused by the server's COPY, straight in and into the staging table.
      {{Insert(1, {Int(5), Text("four"), Null()})},
       "copy into public.copy_errors (1 rows): COPY: ERROR: value too long for type character "
       "varying(3) (CONTEXT: COPY copy_errors, line 1, column a: \"four\")"},
      {{Insert(1, {Int(1), Text("four"), Null()})},
       "ERROR: value too long for type character varying(3)"},
      // A clash on another unique index than the key is not an overwrite.
      {{Insert(1, {Int(2), Text("two"), Int(1)})},
       "ERROR: duplicate key value violates unique constraint \"copy_errors_b_key\""},
      {{Insert(1, {Int(2), Null()})},
       "row has 2 values but relation public.copy_errors has 3 columns"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
    Status status = CopyRows(t.mapped, c.rows);
    ASSERT_FALSE(status.ok()) << c.message;
    EXPECT_TRUE(Contains(status.message(), c.message));
    sink_->AbortTransaction();
  }
  CopyChunk(t.mapped, {Insert(1, {Int(2), Text("two"), Int(2)})});
  EXPECT_EQ(Scalar("SELECT string_agg(a, ',' ORDER BY id) FROM copy_errors"), "one,two");
}

// A partitioned table, the rows met in one of its partitions; a table with a column the
// mapping leaves out, which keeps its default (also in the staging table's rows).
TEST_F(PostgresSinkTest, CopyRowsIntoPartitionedTablesAndDefaults) {
  Exec(
      "CREATE TABLE copy_parted (id int PRIMARY KEY, a text, b int, c text DEFAULT 'dflt') "
      "PARTITION BY RANGE (id);"
      "CREATE TABLE copy_parted_1 PARTITION OF copy_parted FOR VALUES FROM (0) TO (10);"
      "CREATE TABLE copy_parted_2 PARTITION OF copy_parted FOR VALUES FROM (10) TO (100);"
      "INSERT INTO copy_parted VALUES (12, 'stream', 0, 'kept')");
  Simple t = MakeSimple("copy_parted");
  CopyChunk(t.mapped, SimpleRows(5, 3, "first"));
  CopyChunk(t.mapped, SimpleRows(8, 6, "second"));
  EXPECT_EQ(Query("SELECT tableoid::regclass::text, count(*), min(c), max(c) FROM copy_parted "
                  "GROUP BY 1 ORDER BY 1"),
            (std::vector<Row>{R({"copy_parted_1", "5", "dflt", "dflt"}),
                              R({"copy_parted_2", "4", "dflt", "kept"})}));
  EXPECT_EQ(Query("SELECT split_part(a, ' ', 1) FROM copy_parted WHERE id = 12"),
            std::vector<Row>{R({"second"})});
}

// Two rows of a chunk whose keys the target holds equal (citext here): ON CONFLICT DO UPDATE
// cannot take both, so they go in as ApplyRow writes them, and the later one wins.
TEST_F(PostgresSinkTest, CopyRowsWithKeysEqualOnTheTargetGoInByTheRowPath) {
  Exec(
      "CREATE EXTENSION IF NOT EXISTS citext;"
      "CREATE TABLE copy_citext (k citext PRIMARY KEY, v text);"
      "INSERT INTO copy_citext VALUES ('b', 'stream')");
  wire::Relation relation = MakeRelation(
      24, "copy_citext", {{"k", wire::LOGICAL_TYPE_TEXT, true}, {"v", wire::LOGICAL_TYPE_TEXT}});
  MappedRelation mapped = Map(relation);
  CopyChunk(mapped,
            {Insert(24, {Text("a"), Text("first")}), Insert(24, {Text("A"), Text("second")}),
             Insert(24, {Text("B"), Text("chunk")})});
  EXPECT_EQ(Query("SELECT k, v FROM copy_citext ORDER BY k"),
            (std::vector<Row>{R({"a", "second"}), R({"b", "chunk"})}));
  EXPECT_EQ(Late(), "");
}

// A MySQL/MariaDB zero date goes through the copy as through ApplyRow: NULL where the column
// cannot hold it, its text where it can.
TEST_F(PostgresSinkTest, CopyRowsResolveZeroDates) {
  Exec("CREATE TABLE copy_zeros (id int PRIMARY KEY, d date, tx text)");
  wire::Relation relation = MakeRelation(23, "copy_zeros",
                                         {{"id", wire::LOGICAL_TYPE_INT, true},
                                          {"d", wire::LOGICAL_TYPE_DATE},
                                          {"tx", wire::LOGICAL_TYPE_DATE}});
  MappedRelation mapped = Map(relation);
  const wire::Value zero = Str(&wire::Value::set_date, "0000-00-00");
  CopyChunk(mapped, {Insert(23, {Int(1), zero, zero}),
                     Insert(23, {Int(2), Str(&wire::Value::set_date, "2024-02-29"), Null()})});
  EXPECT_EQ(Query("SELECT id, d, tx FROM copy_zeros ORDER BY id"),
            (std::vector<Row>{R({"1", std::nullopt, "0000-00-00"}),
                              R({"2", "2024-02-29", std::nullopt})}));
}

// ---- no key (no primary key, REPLICA IDENTITY DEFAULT or NOTHING) -----------------------------

// PostgreSQL publishes only INSERT and TRUNCATE for such a table, so those are applied plainly,
// identical rows included; an UPDATE or DELETE that arrives anyway is refused naming the fix.
TEST_F(PostgresSinkTest, KeylessRelationInsertsPlainlyAndRefusesUpdateAndDelete) {
  Exec("CREATE TABLE keyless_default (a int, t text)");
  wire::Relation relation = MakeRelation(
      10, "keyless_default", {{"a", wire::LOGICAL_TYPE_INT}, {"t", wire::LOGICAL_TYPE_TEXT}});
  MappedRelation mapped = Map(relation);
  ASSERT_FALSE(mapped.has_key);
  const std::vector<wire::Value> row = {Int(1), Text("same")};
  ApplyAll("0/1", mapped, {Insert(10, row), Insert(10, row), Insert(10, {Int(2), Null()})});
  EXPECT_EQ(Query("SELECT a, t FROM keyless_default ORDER BY a, t"),
            (std::vector<Row>{R({"1", "same"}), R({"1", "same"}), R({"2", std::nullopt})}));

  for (const wire::RowChange& change :
       {Update(10, {}, {Int(1), Text("changed")}), Delete(10, row, /*old_is_key_only=*/false)}) {
    Begin("0/2");
    Result<RowOutcome> refused = sink_->ApplyRow(mapped, change);
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(Contains(refused.message(),
                         "table public.keyless_default has no primary key and no REPLICA "
                         "IDENTITY FULL"));
    sink_->AbortTransaction();
  }
  EXPECT_EQ(Checkpoint()->value(), "0/1");

  ApplyAll("0/3", mapped, {Truncate(10, false, false), Insert(10, {Int(3), Text("after")})});
  EXPECT_EQ(Query("SELECT a, t FROM keyless_default"), std::vector<Row>{R({"3", "after"})});
}

// A unique index on the target does not turn a keyless source's insert into an upsert: two
// source rows are never folded into one, a clash is an error that names it.
TEST_F(PostgresSinkTest, KeylessRelationIgnoresTargetUniqueIndex) {
  Exec("CREATE TABLE keyless_unique (a int PRIMARY KEY, t text)");
  wire::Relation relation = MakeRelation(
      11, "keyless_unique", {{"a", wire::LOGICAL_TYPE_INT}, {"t", wire::LOGICAL_TYPE_TEXT}});
  MappedRelation mapped = Map(relation);
  ApplyAll("0/1", mapped, {Insert(11, {Int(1), Text("first")})});
  Begin("0/2");
  EXPECT_EQ(Apply(mapped, Insert(11, {Int(1), Text("second")})), RowOutcome::kApplied);
  Status clash = sink_->CommitTransaction();
  ASSERT_FALSE(clash.ok());
  EXPECT_TRUE(Contains(clash.message(), "duplicate key value violates unique constraint"));
  sink_->AbortTransaction();
  EXPECT_EQ(Query("SELECT a, t FROM keyless_unique"), std::vector<Row>{R({"1", "first"})});
}

// ---- replica session behaviour
// ----------------------------------------------------------------------

TEST_F(PostgresSinkTest, TargetTriggersAndForeignKeysBehaveAsOnAReplica) {
  Exec(
      "CREATE TABLE fk_parent (id int PRIMARY KEY);"
      "CREATE TABLE fk_child (id int PRIMARY KEY, a text, b int REFERENCES fk_parent);"
      "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
      "$$BEGIN RAISE EXCEPTION 'ordinary trigger fired'; END$$;"
      "CREATE TRIGGER refuse BEFORE INSERT ON fk_child FOR EACH ROW EXECUTE FUNCTION refuse();");
  Simple t = MakeSimple("fk_child");
  // The parent row arrives later (or was filtered out): the source already checked the FK.
  ApplyAll("0/1", t.mapped, {Insert(1, {Int(1), Text("orphan"), Int(42)})});
  EXPECT_EQ(Query("SELECT id, b FROM fk_child"), std::vector<Row>{R({"1", "42"})});
}

TEST_F(PostgresSinkTest, CreatedTableIsRecordedAndItsIndexesAreCreatedOnce) {
  CheckCreatedTableAndIndexes("public");
}

TEST_F(PostgresSinkTest, RecopyRangeDeleteComparesKeysAsRowsAndKeepsTheKeysKept) {
  CheckCopyRangeDelete("public");
}

TEST_F(PostgresSinkTest, CopyProgressNamesItsOriginAndAnOlderMetaGainsTheColumn) {
  CheckCopyProgressOrigin("public");
}

// With synchronous_commit off, COMMIT returns before its WAL is flushed: the sink marks each
// commit with the WAL insert position, and the apply agent acks once the flush passes the mark.
TEST_F(PostgresSinkTest, AsynchronousCommitsAreMarkedUntilTheWalIsFlushedPastThem) {
  EXPECT_EQ(sink_->LastCommitMark(), 0u);  // synchronous: durable as COMMIT returns
  Result<uint64_t> always = sink_->DurableMark();
  ASSERT_TRUE(always.ok()) << always.message();
  EXPECT_EQ(*always, UINT64_MAX);

  sink_ = MakePostgresSink(server_->dsn(), ZeroDates::kNull, /*synchronous_commit=*/false);
  ASSERT_TRUE(sink_->Open().ok());
  const uint64_t opened = sink_->LastCommitMark();
  EXPECT_GT(opened, 0u);  // covers the checkpoint Open's caller reads next
  Exec("CREATE TABLE async_marks (id int PRIMARY KEY, a text, b int)");
  Simple t = MakeSimple("async_marks");
  ApplyAll("0/10", t.mapped, {Insert(1, {Int(1), Text("a"), Int(1)})});
  const uint64_t committed = sink_->LastCommitMark();
  EXPECT_GT(committed, opened);
  EXPECT_EQ(Scalar("SELECT current_setting('synchronous_commit')"), "on");  // others unchanged
  // The WAL writer flushes asynchronous commits within wal_writer_delay.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        Result<uint64_t> durable = sink_->DurableMark();
        return durable.ok() && *durable >= committed;
      },
      std::chrono::seconds(10)));
}

TEST_F(PostgresSinkTest, GroupedTransactionsCommitTogetherWithTheLastCheckpoint) {
  CheckGroupedTransactions("public", {"0/10", "0/20", "0/30", "0/40"});
}

// ---- create_tables ------------------------------------------------------------------------------

using ::ferry::testing::TypedRelation;

// A MariaDB source's table, created in a schema the target lacks, holds its values exactly.
TEST_F(PostgresSinkTest, CreateTableFromAMariaDbSourceHoldsItsValues) {
  const wire::Relation relation =
      TypedRelation("made", "orders",
                    {{"id", "bigint unsigned", wire::LOGICAL_TYPE_UINT, true},
                     {"code", "varchar(8)", wire::LOGICAL_TYPE_TEXT, true},
                     {"amount", "decimal(10,2)", wire::LOGICAL_TYPE_DECIMAL},
                     {"small", "tinyint unsigned", wire::LOGICAL_TYPE_UINT},
                     {"note", "mediumtext", wire::LOGICAL_TYPE_TEXT},
                     {"raw", "blob", wire::LOGICAL_TYPE_BYTES},
                     {"at", "datetime(6)", wire::LOGICAL_TYPE_TIMESTAMP},
                     {"seen", "timestamp(3)", wire::LOGICAL_TYPE_TIMESTAMP_TZ},
                     {"span", "time", wire::LOGICAL_TYPE_TIME},
                     {"kind", "enum", wire::LOGICAL_TYPE_ENUM},
                     {"bits", "bit(4)", wire::LOGICAL_TYPE_BIT},
                     {"doc", "json", wire::LOGICAL_TYPE_JSON}},
                    /*full_old_image=*/true);
  const MappedRelation mapped = Map(relation);
  Result<std::vector<std::string>> ddl =
      sink_->CreateTable(PlanNewTable(mapped, SourceEngine::kMysql));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  ASSERT_EQ(ddl->size(), 2u);
  EXPECT_EQ((*ddl)[0], "CREATE SCHEMA IF NOT EXISTS \"made\"");
  EXPECT_EQ(Query("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' "
                  "ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'made.orders'::regclass "
                  "AND attnum > 0"),
            (std::vector<Row>{R({"id numeric(20,0), code character varying(8), amount "
                                 "numeric(10,2), small smallint, note text, raw bytea, at "
                                 "timestamp(6) without time zone, seen timestamp(3) with time "
                                 "zone, span interval, kind text, bits bit(4), doc jsonb"})}));
  EXPECT_EQ(Query("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                  "'made.orders'::regclass AND contype = 'p'"),
            (std::vector<Row>{R({"PRIMARY KEY (id, code)"})}));

  wire::Value at = Str(&wire::Value::set_timestamp, "2024-02-29 13:45:10.123456");
  wire::Value seen = Str(&wire::Value::set_timestamp_tz, "2038-01-19 03:14:07.999+00");
  wire::Value span = Str(&wire::Value::set_time, "-838:59:59");
  wire::Value kind = Str(&wire::Value::set_enum_value, "large");
  wire::Value bits = wire::testing::Bits("0101");
  wire::Value doc = Str(&wire::Value::set_json, "{\"a\": [1, null]}");
  ApplyAll("0/10", mapped,
           {Insert(700, {Uint(18446744073709551615u), Text("k1"), Dec("-12345678.90"), Uint(255),
                         Text("h\u00e9llo"), Bytes(std::string("\x00\xff", 2)), at, seen, span,
                         kind, bits, doc})});
  EXPECT_EQ(Query("SELECT id, code, amount, small, note, encode(raw, 'hex'), at, seen, span, "
                  "kind, bits, doc FROM made.orders"),
            (std::vector<Row>{R({"18446744073709551615", "k1", "-12345678.90", "255", "h\u00e9llo",
                                 "00ff", "2024-02-29 13:45:10.123456", "2038-01-19 03:14:07.999+00",
                                 "-838:59:59", "large", "0101", "{\"a\": [1, null]}"})}));

  // The table exists now: nothing to do, nothing altered.
  ddl = sink_->CreateTable(PlanNewTable(mapped, SourceEngine::kMysql));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  EXPECT_TRUE(ddl->empty());
}

// PostgreSQL -> PostgreSQL keeps the source's types; REPLICA IDENTITY FULL is no primary key.
// Index names are per schema on PostgreSQL: a name another table's index holds is not taken
// over (nor silently skipped as if created): the index is not created, saying why.
TEST_F(PostgresSinkTest, AnIndexNameAnotherTableHoldsIsNotCreatedAndSaysWhy) {
  Exec("CREATE TABLE other_ix (n int)");
  Exec("CREATE INDEX ix_n ON other_ix (n)");
  Exec("CREATE TABLE mine_ix (id int PRIMARY KEY, n int)");
  const NewTable table = PlanNewTable(
      Map(TypedRelation(
          "public", "mine_ix",
          {{"id", "int4", wire::LOGICAL_TYPE_INT, true}, {"n", "int4", wire::LOGICAL_TYPE_INT}})),
      SourceEngine::kPostgres);
  NewIndex index;
  index.source_name = "ix_n";
  index.columns = {{1, 0}};
  ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
  Result<IndexDdl> ddl = sink_->CreateIndexes(table, {index});
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  Commit();
  EXPECT_TRUE(ddl->run.empty());
  ASSERT_EQ(ddl->not_created.size(), 1u);
  EXPECT_NE(ddl->not_created[0].find("schema public already has a relation named ix_n"),
            std::string::npos)
      << ddl->not_created[0];
  EXPECT_EQ(Query("SELECT count(*) FROM pg_index WHERE indrelid = 'mine_ix'::regclass AND NOT "
                  "indisprimary"),
            std::vector<Row>{R({"0"})});
}

TEST_F(PostgresSinkTest, CreateTableFromAPostgresSourceKeepsItsTypes) {
  const wire::Relation relation =
      TypedRelation("public", "ct_same",
                    {{"a", "int4", wire::LOGICAL_TYPE_INT, true},
                     {"n", "numeric(12,3)", wire::LOGICAL_TYPE_DECIMAL, true},
                     {"v", "varchar(5)[]", wire::LOGICAL_TYPE_ARRAY, true},
                     {"t", "timestamptz(2)", wire::LOGICAL_TYPE_TIMESTAMP_TZ, true}},
                    /*full_old_image=*/true);
  Result<std::vector<std::string>> ddl =
      sink_->CreateTable(PlanNewTable(Map(relation), SourceEngine::kPostgres));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  EXPECT_EQ(Query("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' "
                  "ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'public.ct_same'::regclass "
                  "AND attnum > 0"),
            (std::vector<Row>{R({"a integer, n numeric(12,3), v character varying(5)[], t "
                                 "timestamp(2) with time zone"})}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = "
                   "'public.ct_same'::regclass AND contype = 'p'"),
            "0");
}

// PostgreSQL DDL is transactional: a table created in a transaction that rolls back is gone.
TEST_F(PostgresSinkTest, CreateTableRollsBackWithItsTransaction) {
  const wire::Relation relation =
      TypedRelation("public", "ct_rolled_back", {{"id", "int8", wire::LOGICAL_TYPE_INT, true}});
  ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
  Result<std::vector<std::string>> ddl =
      sink_->CreateTable(PlanNewTable(Map(relation), SourceEngine::kPostgres));
  ASSERT_TRUE(ddl.ok()) << ddl.message();
  EXPECT_EQ(ddl->size(), 1u);  // public exists: no CREATE SCHEMA
  sink_->AbortTransaction();
  EXPECT_EQ(Scalar("SELECT to_regclass('public.ct_rolled_back') IS NULL"), "t");
}

TEST_F(PostgresSinkTest, CreateTableRefusesAnUnmappableColumnBeforeRunningAnything) {
  const wire::Relation relation = TypedRelation(
      "ct_never", "t", {{"g", "type 255", wire::LOGICAL_TYPE_OTHER}}, /*full_old_image=*/true);
  Result<std::vector<std::string>> ddl =
      sink_->CreateTable(PlanNewTable(Map(relation), SourceEngine::kMysql));
  ASSERT_FALSE(ddl.ok());
  EXPECT_TRUE(Contains(ddl.message(), "column g of source type type 255 has no exact PostgreSQL"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ct_never'"), "0");
}

}  // namespace
}  // namespace ferry::apply::postgres
