// What the sink tests of every engine share: one throwaway server for the suite, a freshly
// opened sink per test, and shorthand for transactions, rows, checkpoints and late outcomes.
// An engine's test names its server and sink through `Engine`:
//   struct Engine {
//     using Server = ...;                                  // PostgresServer, MariaDbServer
//     static constexpr const char* kName = "PostgreSQL";   // for "did not start"
//     static constexpr const char* kEngine = "postgres";   // the engine of Begin positions
//     static Result<std::unique_ptr<Server>> Start();
//     static std::unique_ptr<apply::Sink> MakeSink(const std::string& dsn);
//     static std::string SessionSql();                     // prefixed to Query(), for stable text
//   };
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apply/sink.h"
#include "apply/table_creator.h"
#include "apply/table_mapping.h"
#include "tests/harness/test_database.h"
#include "tests/integration/late_outcomes.h"
#include "wire/testing/change_records.h"

namespace ferry::testing {

// One column of TypedRelation: a source column as its engine describes it.
struct TypedCol {
  std::string name;
  std::string source_type;  // "numeric(10,2)", "bigint unsigned", ...
  wire::LogicalType type = wire::LOGICAL_TYPE_TEXT;
  bool key = false;
};

// A relation whose columns carry their source types, as create_tables reads them.
inline wire::Relation TypedRelation(const std::string& schema, const std::string& table,
                                    const std::vector<TypedCol>& columns,
                                    bool full_old_image = false) {
  wire::Relation relation;
  relation.set_id(700);
  relation.set_schema(schema);
  relation.set_table(table);
  relation.set_full_old_image(full_old_image);
  for (const TypedCol& col : columns) {
    wire::Column* column = relation.add_columns();
    column->set_name(col.name);
    column->set_source_type(col.source_type);
    column->set_type(col.type);
    column->set_key(col.key);
  }
  return relation;
}

// One value kind: a target column type, the stream's type for it, and values with the text the
// target shows for each (`select` reads it back; empty: the engine's kValueText).
struct ValueCase {
  std::string sql_type;
  wire::LogicalType logical;
  std::vector<std::pair<wire::Value, std::optional<std::string>>> values;
  std::string select = "";
};

template <typename Engine>
class SinkFixture : public ::testing::Test {
 protected:
  using Server = typename Engine::Server;

  static void SetUpTestSuite() {
    Result<std::unique_ptr<Server>> server = Engine::Start();
    if (!server.ok()) {
      start_error_ = new std::string(server.message());
      return;
    }
    server_ = std::move(server).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (server_ == nullptr) GTEST_FAIL() << Engine::kName << " did not start: " << *start_error_;
    sink_ = Engine::MakeSink(server_->dsn());
    Status opened = sink_->Open();
    ASSERT_TRUE(opened.ok()) << opened.message();
  }

  void Exec(const std::string& sql) {
    Status status = server_->Exec(sql);
    ASSERT_TRUE(status.ok()) << status.message();
  }

  // Rows as text, read with the session settings the sink writes with.
  std::vector<Row> Query(const std::string& sql) {
    Result<std::vector<Row>> rows = server_->Query(Engine::SessionSql() + sql);
    EXPECT_TRUE(rows.ok()) << rows.message();
    return rows.ok() ? *rows : std::vector<Row>{};
  }

  std::string Scalar(const std::string& sql) { return server_->Scalar(sql); }

  void Begin(const std::string& position, const std::string& upstream = "up") {
    Status status =
        sink_->BeginTransaction(upstream, wire::testing::BeginAt(Engine::kEngine, position));
    ASSERT_TRUE(status.ok()) << status.message();
  }

  void Commit() {
    Status status = sink_->CommitTransaction();
    ASSERT_TRUE(status.ok()) << status.message();
  }

  apply::RowOutcome Apply(const apply::MappedRelation& relation, const wire::RowChange& change) {
    Result<apply::RowOutcome> outcome = sink_->ApplyRow(relation, change);
    EXPECT_TRUE(outcome.ok()) << outcome.message();
    return outcome.ok() ? *outcome : apply::RowOutcome::kApplied;
  }

  // Applies the changes in one transaction at `position` and commits.
  void ApplyAll(const std::string& position, const apply::MappedRelation& relation,
                const std::vector<wire::RowChange>& changes) {
    Begin(position);
    for (const wire::RowChange& change : changes) {
      EXPECT_EQ(Apply(relation, change), apply::RowOutcome::kApplied);
    }
    Commit();
  }

  std::string Late() { return LateOutcomesText(*sink_); }

  static apply::ChunkRows Rows(const std::vector<wire::RowChange>& changes) {
    apply::ChunkRows rows;
    for (const wire::RowChange& change : changes) *rows.Add() = change;
    return rows;
  }

  // Writes `changes` into the open copy transaction as one CopyRows call.
  Status CopyRows(const apply::MappedRelation& relation,
                  const std::vector<wire::RowChange>& changes,
                  apply::CopyInto into = apply::CopyInto::kExisting) {
    return sink_->CopyRows(relation, Rows(changes), into);
  }

  // Writes `changes` as a copy chunk does: a copy transaction of its own, with (for kEmptied)
  // the table emptied first, and its progress recorded; commits.
  void CopyChunk(const apply::MappedRelation& relation, const std::vector<wire::RowChange>& changes,
                 apply::CopyInto into = apply::CopyInto::kExisting) {
    Status status = sink_->BeginCopyTransaction();
    ASSERT_TRUE(status.ok()) << status.message();
    if (into == apply::CopyInto::kEmptied) status = sink_->EmptyTable(relation);
    if (status.ok()) status = CopyRows(relation, changes, into);
    const std::string table = relation.source.schema() + "." + relation.source.table();
    if (status.ok()) status = sink_->RecordCopyProgress("up", {table, "", changes.size(), false});
    if (status.ok()) status = sink_->CommitTransaction();
    if (!status.ok()) sink_->AbortTransaction();
    ASSERT_TRUE(status.ok()) << status.message();
  }

  std::optional<wire::Position> Checkpoint(const std::string& upstream = "up") {
    Result<std::optional<wire::Position>> position = sink_->ReadCheckpoint(upstream);
    EXPECT_TRUE(position.ok()) << position.message();
    return position.ok() ? *position : std::nullopt;
  }

  // A re-copy's range delete (Sink::DeleteCopyRange) on a composite key of `schema`.copy_range:
  // rows are compared as rows, key by key; the range's ends and the keys kept are respected;
  // an open range takes every row but those kept; the progress recorded with it commits too.
  void CheckCopyRangeDelete(const std::string& schema) {
    Exec("CREATE TABLE copy_range (a int, b int, v int, PRIMARY KEY (a, b))");
    Exec(
        "INSERT INTO copy_range VALUES (1, 1, 0), (1, 2, 0), (2, 1, 0), (2, 2, 0), (3, 1, 0), "
        "(3, 2, 0), (4, 1, 0)");
    using wire::testing::Int;
    const wire::Relation relation =
        wire::testing::MakeRelation(900, schema, "copy_range",
                                    {{"a", wire::LOGICAL_TYPE_INT, true},
                                     {"b", wire::LOGICAL_TYPE_INT, true},
                                     {"v", wire::LOGICAL_TYPE_INT}});
    Result<apply::MappedRelation> mapped = apply::TableMapper().Map(relation);
    ASSERT_TRUE(mapped.ok()) << mapped.message();
    auto key = [](int64_t a, int64_t b) {
      apply::RowImage image;
      *image.Add() = Int(a);
      *image.Add() = Int(b);
      image.Add()->mutable_null();
      return image;
    };
    apply::CopyRange range;
    range.key_columns = {0, 1};
    range.after = key(1, 2);
    range.upto = key(3, 1);
    range.keep = {key(2, 2)};
    ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
    Result<uint64_t> deleted = sink_->DeleteCopyRange(*mapped, range);
    ASSERT_TRUE(deleted.ok()) << deleted.message();
    EXPECT_EQ(*deleted, 2u);  // (2, 1) and (3, 1)
    ASSERT_TRUE(
        sink_->RecordCopyProgress("up", {schema + ".copy_range", "ab", 5, false, true}).ok());
    Commit();
    EXPECT_EQ(Query("SELECT a, b FROM copy_range ORDER BY a, b"),
              (std::vector<Row>{{"1", "1"}, {"1", "2"}, {"2", "2"}, {"3", "2"}, {"4", "1"}}));
    Result<std::vector<apply::CopyProgress>> progress = sink_->ReadCopyProgress("up");
    ASSERT_TRUE(progress.ok()) << progress.message();
    ASSERT_EQ(progress->size(), 1u);
    EXPECT_TRUE((*progress)[0].resync);
    EXPECT_EQ((*progress)[0].after_key, "ab");

    apply::CopyRange open;
    open.key_columns = {0, 1};
    open.keep = {key(4, 1)};
    ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
    deleted = sink_->DeleteCopyRange(*mapped, open);
    ASSERT_TRUE(deleted.ok()) << deleted.message();
    EXPECT_EQ(*deleted, 4u);
    sink_->AbortTransaction();  // rolled back: nothing deleted
    EXPECT_EQ(Scalar("SELECT count(*) FROM copy_range"), "5");
  }

  // A copy's progress names where its rows came from (copy_progress.origin: the origin marker a
  // capture agent on this target reads first in a copy chunk's transaction); none is NULL. A
  // ferry_meta from before the column gets it when a sink opens.
  void CheckCopyProgressOrigin(const std::string& schema) {
    const std::string origin =
        "SELECT coalesce(origin, 'NULL') FROM ferry_meta.copy_progress WHERE upstream = 'far'";
    apply::CopyProgress progress{schema + ".copied", "ab", 3, false};
    auto record = [&](apply::Sink& sink, const std::string& node) {
      progress.origin = node;
      ASSERT_TRUE(sink.BeginCopyTransaction().ok());
      Status recorded = sink.RecordCopyProgress("far", progress);
      ASSERT_TRUE(recorded.ok()) << recorded.message();
      ASSERT_TRUE(sink.CommitTransaction().ok());
    };
    record(*sink_, "east");
    EXPECT_EQ(Scalar(origin), "east");
    record(*sink_, "");
    EXPECT_EQ(Scalar(origin), "NULL");

    Exec("ALTER TABLE ferry_meta.copy_progress DROP COLUMN origin");
    std::unique_ptr<apply::Sink> upgraded = Engine::MakeSink(server_->dsn());
    Status opened = upgraded->Open();
    ASSERT_TRUE(opened.ok()) << opened.message();
    EXPECT_EQ(Scalar(origin), "NULL");
    record(*upgraded, "north");
    EXPECT_EQ(Scalar(origin), "north");
  }

  // Grouping (Sink::ContinueTransaction): three source transactions at `positions` in one
  // target transaction commit together with the last one's checkpoint; an aborted group leaves
  // neither its rows nor its checkpoint; a transaction cannot join when none is open.
  // create_tables' record and indexes: RecordTableCreated sets copy_progress.created_table,
  // which the per-chunk progress upsert keeps; CreateIndexes creates an index once, and a second
  // run (a last chunk sent again after a crash) runs nothing.
  void CheckCreatedTableAndIndexes(const std::string& schema) {
    const std::string source = schema + ".made_ix";
    ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
    ASSERT_TRUE(sink_->RecordCopyProgress("up", {source, "", 0, false, false}).ok());
    Status recorded = sink_->RecordTableCreated("up", source);
    ASSERT_TRUE(recorded.ok()) << recorded.message();
    Commit();
    ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
    ASSERT_TRUE(sink_->RecordCopyProgress("up", {source, "ab", 7, true, false}).ok());
    Commit();
    Result<std::vector<apply::CopyProgress>> progress = sink_->ReadCopyProgress("up");
    ASSERT_TRUE(progress.ok()) << progress.message();
    ASSERT_EQ(progress->size(), 1u);
    EXPECT_TRUE((*progress)[0].created_table);
    EXPECT_TRUE((*progress)[0].done);

    Exec("CREATE TABLE made_ix (id int PRIMARY KEY, name varchar(20), n int)");
    Result<apply::MappedRelation> mapped =
        apply::TableMapper().Map(TypedRelation(schema, "made_ix",
                                               {{"id", "int4", wire::LOGICAL_TYPE_INT, true},
                                                {"name", "varchar(20)", wire::LOGICAL_TYPE_TEXT},
                                                {"n", "int4", wire::LOGICAL_TYPE_INT}}));
    ASSERT_TRUE(mapped.ok()) << mapped.message();
    const apply::NewTable table = apply::PlanNewTable(*mapped, apply::SourceEngine::kPostgres);
    apply::NewIndex index;
    index.source_name = "made_ix_name_n";
    index.unique = true;
    index.columns = {{1, 0}, {2, 0}};
    for (size_t expected_runs : {1u, 0u}) {
      ASSERT_TRUE(sink_->BeginCopyTransaction().ok());
      Result<apply::IndexDdl> ddl = sink_->CreateIndexes(table, {index});
      ASSERT_TRUE(ddl.ok()) << ddl.message();
      EXPECT_EQ(ddl->run.size(), expected_runs);
      EXPECT_TRUE(ddl->not_created.empty());
      Commit();
    }
  }

  void CheckGroupedTransactions(const std::string& schema,
                                const std::vector<std::string>& positions) {
    ASSERT_EQ(positions.size(), 4u);
    Exec("CREATE TABLE grouped (id int PRIMARY KEY, v int)");
    using wire::testing::Int;
    const wire::Relation relation = wire::testing::MakeRelation(
        901, schema, "grouped",
        {{"id", wire::LOGICAL_TYPE_INT, true}, {"v", wire::LOGICAL_TYPE_INT}});
    Result<apply::MappedRelation> mapped = apply::TableMapper().Map(relation);
    ASSERT_TRUE(mapped.ok()) << mapped.message();
    auto insert = [&](int id) { return wire::testing::Insert(901, {Int(id), Int(id)}); };
    auto begin = [&](size_t i) { return wire::testing::BeginAt(Engine::kEngine, positions[i]); };

    Status joined = sink_->ContinueTransaction("up", begin(0));
    EXPECT_FALSE(joined.ok());
    EXPECT_NE(joined.message().find("no transaction is open"), std::string::npos)
        << joined.message();

    Begin(positions[0]);
    EXPECT_EQ(Apply(*mapped, insert(1)), apply::RowOutcome::kApplied);
    ASSERT_TRUE(sink_->ContinueTransaction("up", begin(1)).ok());
    EXPECT_EQ(Apply(*mapped, insert(2)), apply::RowOutcome::kApplied);
    ASSERT_TRUE(sink_->ContinueTransaction("up", begin(2)).ok());
    EXPECT_EQ(Apply(*mapped, wire::testing::Delete(901, {Int(1), Int(1)}, false)),
              apply::RowOutcome::kApplied);
    EXPECT_EQ(Apply(*mapped, insert(3)), apply::RowOutcome::kApplied);
    Commit();
    EXPECT_EQ(Checkpoint()->value(), positions[2]);
    EXPECT_EQ(Query("SELECT id FROM grouped ORDER BY id"), (std::vector<Row>{{"2"}, {"3"}}));

    Begin(positions[3]);
    EXPECT_EQ(Apply(*mapped, insert(4)), apply::RowOutcome::kApplied);
    ASSERT_TRUE(sink_->ContinueTransaction("up", begin(3)).ok());
    sink_->AbortTransaction();
    EXPECT_EQ(Checkpoint()->value(), positions[2]);
    EXPECT_EQ(Scalar("SELECT count(*) FROM grouped"), "2");
  }

  // Copy chunks of every value kind of `cases`, NULL included: written into an empty table,
  // then (the same rows again, rotated by one) over the rows they meet.
  void CheckCopyRoundTrip(const std::vector<ValueCase>& cases) {
    using wire::testing::Insert;
    using wire::testing::Int;
    int n = 0;
    for (const ValueCase& c : cases) {
      SCOPED_TRACE(c.sql_type);
      const std::string table = "copy_rt_" + std::to_string(++n);
      const std::string select = c.select.empty() ? Engine::kValueText : c.select;
      const std::string read = "SELECT " + select + " FROM " + table + " ORDER BY id";
      Exec("CREATE TABLE " + table + " (id int PRIMARY KEY, v " + c.sql_type + ")");
      const wire::Relation relation =
          wire::testing::MakeRelation(400 + n, Engine::kSchema, table,
                                      {{"id", wire::LOGICAL_TYPE_INT, true}, {"v", c.logical}});
      Result<apply::MappedRelation> mapped = apply::TableMapper().Map(relation);
      ASSERT_TRUE(mapped.ok()) << mapped.message();
      std::vector<wire::RowChange> rows;
      std::vector<Row> expected;
      int id = 0;
      for (const auto& [value, text] : c.values) {
        rows.push_back(Insert(relation.id(), {Int(++id), value}));
        expected.push_back(Row{text});
      }
      rows.push_back(Insert(relation.id(), {Int(++id), wire::testing::Null()}));
      expected.push_back(Row{std::nullopt});
      CopyChunk(*mapped, rows);
      EXPECT_EQ(Query(read), expected);

      std::vector<wire::RowChange> rotated_rows;
      for (int row = 1; row <= id; ++row) {
        rotated_rows.push_back(Insert(relation.id(), {Int(row), rows[row % id].new_values(1)}));
      }
      CopyChunk(*mapped, rotated_rows);
      std::vector<Row> rotated(expected.begin() + 1, expected.end());
      rotated.push_back(expected.front());
      EXPECT_EQ(Query(read), rotated);
    }
  }

  static inline Server* server_ = nullptr;
  static inline std::string* start_error_ = nullptr;
  std::unique_ptr<apply::Sink> sink_;
};

}  // namespace ferry::testing
