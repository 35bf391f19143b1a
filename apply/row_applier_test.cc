#include "apply/row_applier.h"

#include <gtest/gtest.h>

#include <functional>

namespace ferry::apply {
namespace {

struct FakeColumn {
  std::string name;
  std::string value;
};

struct FakeTargetColumn {
  std::string name;
};

struct FakeTable {
  std::string schema;
  std::string table;
  std::vector<FakeTargetColumn> columns;
  std::vector<UniqueIndex> unique_indexes;

  std::string name() const { return schema + "." + table; }
  const FakeTargetColumn* Find(const std::string& column) const {
    for (const FakeTargetColumn& candidate : columns) {
      if (candidate.name == column) return &candidate;
    }
    return nullptr;
  }
};

// "a=1,b=2" for the columns of a statement.
std::string Text(const std::vector<FakeColumn>& columns) {
  std::string text;
  for (const FakeColumn& column : columns) {
    text += (text.empty() ? "" : ",") + column.name + "=" + column.value;
  }
  return text;
}

// An engine that answers from scripted results and records each statement as a line of text.
class FakeEngine : public RowEngine<FakeTable, FakeColumn> {
 public:
  Status CheckOpen() const override {
    return open ? Status::Ok() : Status::Error("fake target is not open");
  }
  bool InTransaction() const override { return in_transaction; }
  Result<std::optional<FakeTable>> LoadTable(const std::string& schema,
                                             const std::string& name) override {
    ++loads;
    if (!table) return std::optional<FakeTable>();
    FakeTable loaded = *table;
    loaded.schema = schema;
    loaded.table = name;
    return std::optional<FakeTable>(loaded);
  }
  Result<std::vector<FakeColumn>> Bind(const MappedRelation& relation, const FakeTable& target,
                                       const RowImage& image) override {
    return BindMapped<FakeColumn>(
        relation, target, image,
        [](const MappedColumn& column, const FakeTargetColumn&,
           const wire::Value& value) -> Result<FakeColumn> {
          if (value.has_null()) return FakeColumn{column.target_name, "NULL"};
          return FakeColumn{column.target_name, std::to_string(value.int64())};
        });
  }
  Result<Insertion> Insert(const FakeTable&, const std::vector<FakeColumn>& row,
                           const std::vector<std::string>* arbiter) override {
    calls.push_back("insert " + Text(row) + (arbiter ? " arbiter" : ""));
    return insertion;
  }
  Result<uint64_t> Update(const FakeTable&, const std::vector<FakeColumn>& set,
                          const std::vector<FakeColumn>& match, bool one_row) override {
    calls.push_back("update " + Text(set) + " where " + Text(match) + (one_row ? " one" : ""));
    if (updated.empty()) return Status::Error("no update scripted");
    const uint64_t rows = updated.front();
    updated.erase(updated.begin());
    return rows;
  }
  Result<uint64_t> Delete(const FakeTable&, const std::vector<FakeColumn>& match,
                          bool one_row) override {
    calls.push_back("delete where " + Text(match) + (one_row ? " one" : ""));
    return deleted;
  }
  Status Truncate(const std::vector<const FakeTable*>& tables,
                  const wire::RowChange& change) override {
    std::string call = change.cascade() ? "truncate cascade" : "truncate";
    for (const FakeTable* table : tables) call += " " + table->name();
    calls.push_back(call);
    return truncate;
  }
  Result<uint64_t> DeleteRange(const FakeTable&,
                               const std::optional<std::vector<FakeColumn>>& after,
                               const std::optional<std::vector<FakeColumn>>& upto,
                               const std::vector<std::vector<FakeColumn>>& keep) override {
    std::string call = "delete range";
    if (after) call += " after " + Text(*after);
    if (upto) call += " upto " + Text(*upto);
    for (const std::vector<FakeColumn>& key : keep) call += " keep " + Text(key);
    calls.push_back(call);
    return deleted;
  }
  std::string HintIdent(const std::string& name) const override { return "[" + name + "]"; }

  bool open = true;
  bool in_transaction = true;
  // The target table as the catalog has it (schema and table are filled in); none if missing.
  std::optional<FakeTable> table =
      FakeTable{"", "", {{"id"}, {"a"}, {"b"}}, {{{"id"}, true, true}}};
  Result<Insertion> insertion = Insertion::New();
  std::vector<uint64_t> updated;  // row counts of the next updates
  Result<uint64_t> deleted = uint64_t{1};
  Status truncate = Status::Ok();

  int loads = 0;
  std::vector<std::string> calls;
};

// public.t(id key, a, b); with a full image every column is flagged key.
MappedRelation Relation(bool full_old_image = false) {
  MappedRelation relation;
  relation.target_schema = "public";
  relation.target_table = "t";
  relation.full_old_image = full_old_image;
  relation.has_key = true;
  relation.source.set_schema("src");
  relation.source.set_table("t");
  int index = 0;
  for (const char* name : {"id", "a", "b"}) {
    MappedColumn column;
    column.source_index = index++;
    column.target_name = name;
    column.key = full_old_image || column.target_name == "id";
    relation.columns.push_back(column);
    relation.source.add_columns()->set_name(name);
  }
  return relation;
}

wire::Value Int(int64_t value) {
  wire::Value out;
  out.set_int64(value);
  return out;
}

wire::Value Unchanged() {
  wire::Value out;
  out.mutable_unchanged();
  return out;
}

wire::RowChange Change(wire::RowChange::Op op, std::vector<wire::Value> new_values,
                       std::vector<wire::Value> old_values = {}) {
  wire::RowChange change;
  change.set_op(op);
  for (wire::Value& value : new_values) *change.add_new_values() = std::move(value);
  for (wire::Value& value : old_values) *change.add_old_values() = std::move(value);
  return change;
}

class RowApplierTest : public testing::Test {
 protected:
  Result<RowOutcome> Apply(const wire::RowChange& change, bool full_old_image = false) {
    return applier_.Apply(Relation(full_old_image), change);
  }

  FakeEngine engine_;
  RowApplier<FakeTable, FakeColumn> applier_{&engine_};
};

TEST_F(RowApplierTest, InsertOfNewRow) {
  Result<RowOutcome> outcome = Apply(Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kApplied);
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"insert id=1,a=2,b=3 arbiter"});
}

TEST_F(RowApplierTest, InsertOverTakenKeyOverwritesTheOtherColumns) {
  engine_.insertion = Insertion::KeyTaken();
  engine_.updated = {1};
  Result<RowOutcome> outcome = Apply(Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kInsertedOverExisting);
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"insert id=1,a=2,b=3 arbiter", "update a=2,b=3 where id=1"}));
}

TEST_F(RowApplierTest, TakenKeyWithNothingElseToSetNeedsNoUpdate) {
  engine_.table->columns = {{"id"}};
  engine_.insertion = Insertion::KeyTaken();
  MappedRelation relation = Relation();
  relation.columns.resize(1);
  Result<RowOutcome> outcome =
      applier_.Apply(relation, Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kInsertedOverExisting);
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"insert id=1 arbiter"});
}

TEST_F(RowApplierTest, TakenKeyGoneBeforeTheUpdateIsAnError) {
  engine_.insertion = Insertion::KeyTaken();
  engine_.updated = {0};
  Result<RowOutcome> outcome = Apply(Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.message(),
            "apply to public.t (INSERT): the existing row the insert met changed concurrently: "
            "retry");
}

TEST_F(RowApplierTest, RefusedInsertOverwritesTheRowWithTheKey) {
  engine_.insertion = Insertion::Refused(Status::Error("duplicate entry"));
  engine_.updated = {1};
  Result<RowOutcome> outcome = Apply(Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kInsertedOverExisting);
}

TEST_F(RowApplierTest, RefusedInsertWithoutRowForTheKeyKeepsItsError) {
  engine_.insertion = Insertion::Refused(Status::Error("duplicate entry on index u"));
  engine_.updated = {0};
  Result<RowOutcome> outcome = Apply(Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.message(), "apply to public.t (INSERT): duplicate entry on index u");
}

TEST_F(RowApplierTest, KeyedRelationWithoutUniqueIndexNamesTheFix) {
  engine_.table->unique_indexes.clear();
  Result<RowOutcome> outcome = Apply(Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)}));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.message(),
            "apply to public.t (INSERT): target table public.t needs a primary key or unique "
            "index on ([id]), the key of the source table: add one, e.g. ALTER TABLE "
            "[public].[t] ADD PRIMARY KEY ([id])");
  EXPECT_TRUE(engine_.calls.empty());
}

TEST_F(RowApplierTest, FullImageWithoutUniqueIndexInsertsPlainly) {
  engine_.table->unique_indexes.clear();
  Result<RowOutcome> outcome =
      Apply(Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)}), /*full_old_image=*/true);
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"insert id=1,a=2,b=3"});
}

TEST_F(RowApplierTest, UpdateMatchesOnTheNewImageKey) {
  engine_.updated = {1};
  Result<RowOutcome> outcome =
      Apply(Change(wire::RowChange::UPDATE, {Int(1), Unchanged(), Int(3)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kApplied);
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"update id=1,b=3 where id=1"});
}

TEST_F(RowApplierTest, UpdateOfKeyMatchesOnTheOldImage) {
  engine_.updated = {1};
  Result<RowOutcome> outcome =
      Apply(Change(wire::RowChange::UPDATE, {Int(5), Int(2), Int(3)}, {Int(1), Int(0), Int(0)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"update id=5,a=2,b=3 where id=1"});
}

TEST_F(RowApplierTest, UpdateFindingNoRowInsertsIt) {
  engine_.updated = {0};
  Result<RowOutcome> outcome = Apply(Change(wire::RowChange::UPDATE, {Int(1), Int(2), Int(3)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kUpdateInsertedMissing);
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{"update id=1,a=2,b=3 where id=1",
                                                     "insert id=1,a=2,b=3 arbiter"}));
}

// A row with defaults where the source left values out (unchanged TOAST values) would be a row
// the source never had: nothing is inserted, and the outcome says so.
TEST_F(RowApplierTest, UpdateFindingNoRowWithoutEveryValueInsertsNothing) {
  engine_.updated = {0};
  Result<RowOutcome> outcome =
      Apply(Change(wire::RowChange::UPDATE, {Int(1), Unchanged(), Int(3)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kUpdateMissingNotInserted);
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"update id=1,b=3 where id=1"});
}

TEST_F(RowApplierTest, FullImageWithoutIdentityMatchesOneWholeRow) {
  engine_.table->unique_indexes.clear();
  Result<RowOutcome> outcome =
      Apply(Change(wire::RowChange::DELETE, {}, {Int(1), Int(2), Int(3)}), /*full_old_image=*/true);
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"delete where id=1,a=2,b=3 one"});
}

TEST_F(RowApplierTest, DeleteFindingNoRowIsReported) {
  engine_.deleted = uint64_t{0};
  Result<RowOutcome> outcome = Apply(Change(wire::RowChange::DELETE, {}, {Int(1), Int(0), Int(0)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kDeleteMissing);
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"delete where id=1"});
}

TEST_F(RowApplierTest, MalformedChangesAreRefused) {
  EXPECT_EQ(Apply(Change(wire::RowChange::DELETE, {})).message(),
            "apply to public.t (DELETE): the delete carries no old image: the change stream is "
            "malformed");
  EXPECT_EQ(Apply(Change(wire::RowChange::OP_UNSPECIFIED, {})).message(),
            "apply to public.t (UNKNOWN): unsupported operation 0: the change stream is "
            "malformed");
  EXPECT_EQ(Apply(Change(wire::RowChange::UPDATE, {Unchanged(), Int(2), Int(3)})).message(),
            "apply to public.t (UPDATE): the row carries no value for column id, which "
            "identifies rows on the target");
  EXPECT_TRUE(engine_.calls.empty());
}

TEST_F(RowApplierTest, TruncateGoesToTheEngine) {
  wire::RowChange change = Change(wire::RowChange::TRUNCATE, {});
  change.set_cascade(true);
  Result<RowOutcome> outcome = Apply(change);
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kApplied);
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"truncate cascade public.t"});
}

// One source TRUNCATE of several tables is one engine call, after the deferred inserts.
TEST_F(RowApplierTest, TruncateOfSeveralTablesIsOneEngineCall) {
  MappedRelation t = Relation();
  MappedRelation u = Relation();
  u.target_table = "u";
  ASSERT_TRUE(applier_.Apply(t, Change(wire::RowChange::INSERT, {Int(1), Int(2), Int(3)})).ok());
  wire::RowChange change = Change(wire::RowChange::TRUNCATE, {});
  Status truncated = applier_.Truncate({&t, &u}, change);
  ASSERT_TRUE(truncated.ok()) << truncated.message();
  ASSERT_EQ(engine_.calls.size(), 2u);
  EXPECT_EQ(engine_.calls[1], "truncate public.t public.u");

  engine_.truncate = Status::Error("table is locked");
  EXPECT_EQ(applier_.Truncate({&t, &u}, change).message(),
            "apply to public.t, public.u (TRUNCATE): table is locked");
  engine_.in_transaction = false;
  EXPECT_EQ(applier_.Truncate({&t, &u}, change).message(),
            "apply to public.t, public.u (TRUNCATE): no transaction is open: call "
            "BeginTransaction first");
}

TEST_F(RowApplierTest, NeedsAnOpenTransaction) {
  engine_.in_transaction = false;
  EXPECT_EQ(Apply(Change(wire::RowChange::TRUNCATE, {})).message(),
            "apply to public.t (TRUNCATE): no transaction is open: call BeginTransaction first");
  engine_.open = false;
  EXPECT_EQ(Apply(Change(wire::RowChange::TRUNCATE, {})).message(),
            "apply to public.t (TRUNCATE): fake target is not open");
  EXPECT_EQ(engine_.loads, 0);
}

TEST_F(RowApplierTest, MissingTargetTableNamesTheFix) {
  engine_.table.reset();
  EXPECT_EQ(Apply(Change(wire::RowChange::TRUNCATE, {})).message(),
            "apply to public.t (TRUNCATE): target table public.t does not exist: create it on "
            "the target (or set create_tables: true in the apply config) or map the source "
            "table onto an existing one");
}

TEST_F(RowApplierTest, CatalogIsReadAgainAfterAFailureOrANewShape) {
  wire::RowChange truncate = Change(wire::RowChange::TRUNCATE, {});
  ASSERT_TRUE(Apply(truncate).ok());
  ASSERT_TRUE(Apply(truncate).ok());
  EXPECT_EQ(engine_.loads, 1);

  engine_.truncate = Status::Error("table is locked");
  EXPECT_EQ(Apply(truncate).message(), "apply to public.t (TRUNCATE): table is locked");
  engine_.truncate = Status::Ok();
  ASSERT_TRUE(Apply(truncate).ok());
  EXPECT_EQ(engine_.loads, 2);

  ASSERT_TRUE(Apply(truncate, /*full_old_image=*/true).ok());  // every column now a key
  EXPECT_EQ(engine_.loads, 3);

  applier_.ForgetTables();
  ASSERT_TRUE(Apply(truncate, /*full_old_image=*/true).ok());
  EXPECT_EQ(engine_.loads, 4);
}

TEST_F(RowApplierTest, TargetColumnsReadTheCatalogEachTime) {
  Result<std::optional<std::vector<std::string>>> names = applier_.TargetColumns("public", "t");
  ASSERT_TRUE(names.ok()) << names.message();
  EXPECT_EQ(*names, (std::vector<std::string>{"id", "a", "b"}));
  ASSERT_TRUE(applier_.TargetColumns("public", "t").ok());
  EXPECT_EQ(engine_.loads, 2);
  engine_.table.reset();
  names = applier_.TargetColumns("public", "t");
  ASSERT_TRUE(names.ok()) << names.message();
  EXPECT_FALSE(names->has_value());
}

// ---- deferred inserts ---------------------------------------------------------------------------

// The fake engine, batching up to `batch` rows a statement; `batch_result` scripts the outcome.
class BatchingEngine : public FakeEngine {
 public:
  size_t MaxInsertBatch(size_t) const override { return batch; }
  Result<BatchInsertion> InsertBatch(const FakeTable&,
                                     const std::vector<std::vector<FakeColumn>>& rows,
                                     const std::vector<std::string>* arbiter) override {
    std::string text;
    for (const std::vector<FakeColumn>& row : rows) text += (text.empty() ? "" : " | ") + Text(row);
    calls.push_back("insert batch " + text + (arbiter ? " arbiter" : ""));
    return batch_result;
  }

  size_t batch = 3;
  Result<BatchInsertion> batch_result = BatchInsertion{};
};

class DeferredInsertTest : public testing::Test {
 protected:
  Result<RowOutcome> Insert(int64_t id) {
    return applier_.Apply(Relation(), Change(wire::RowChange::INSERT, {Int(id), Int(0), Int(0)}));
  }

  BatchingEngine engine_;
  RowApplier<FakeTable, FakeColumn> applier_{&engine_};
};

TEST_F(DeferredInsertTest, InsertsWaitUntilTheBatchIsFullOrFlushed) {
  for (int64_t id = 1; id <= 4; ++id) ASSERT_EQ(*Insert(id), RowOutcome::kApplied);
  EXPECT_EQ(engine_.calls, std::vector<std::string>{
                               "insert batch id=1,a=0,b=0 | id=2,a=0,b=0 | id=3,a=0,b=0 arbiter"});
  ASSERT_TRUE(applier_.Flush().ok());
  ASSERT_TRUE(applier_.Flush().ok());  // nothing left: no statement
  EXPECT_EQ(engine_.calls.size(), 2u);
  EXPECT_EQ(engine_.calls[1], "insert batch id=4,a=0,b=0 arbiter");
}

// A key of public.t's source columns (id, a, b) with `id` and `b` set, in the order b, id.
RowImage KeyImage(int64_t id, int64_t b) {
  RowImage image;
  *image.Add() = Int(id);
  image.Add()->mutable_null();
  *image.Add() = Int(b);
  return image;
}

TEST_F(DeferredInsertTest, ARangeDeleteRunsThePendingInsertsFirstAndBindsKeysInKeyOrder) {
  ASSERT_TRUE(Insert(1).ok());
  CopyRange range;
  range.key_columns = {2, 0};  // b, then id
  range.after = KeyImage(1, 10);
  range.upto = KeyImage(9, 90);
  range.keep = {KeyImage(5, 50)};
  engine_.deleted = uint64_t{3};
  Result<uint64_t> deleted = applier_.DeleteRange(Relation(), range);
  ASSERT_TRUE(deleted.ok()) << deleted.message();
  EXPECT_EQ(*deleted, 3u);
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{
                               "insert batch id=1,a=0,b=0 arbiter",
                               "delete range after b=10,id=1 upto b=90,id=9 keep b=50,id=5"}));
}

TEST_F(DeferredInsertTest, AnOpenRangeDeletesEverythingButTheKeysKept) {
  CopyRange range;
  range.key_columns = {0};
  Result<uint64_t> deleted = applier_.DeleteRange(Relation(), range);
  ASSERT_TRUE(deleted.ok()) << deleted.message();
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"delete range"});
}

TEST_F(DeferredInsertTest, ARangeDeleteNeedsAnOpenTransaction) {
  engine_.in_transaction = false;
  Result<uint64_t> deleted = applier_.DeleteRange(Relation(), CopyRange{{0}, {}, {}, {}});
  ASSERT_FALSE(deleted.ok());
  EXPECT_NE(deleted.message().find("DELETE of a copied key range"), std::string::npos)
      << deleted.message();
}

TEST_F(DeferredInsertTest, AnyOtherChangeRunsThePendingInsertsFirst) {
  ASSERT_TRUE(Insert(1).ok());
  engine_.updated = {1};
  ASSERT_TRUE(
      applier_.Apply(Relation(), Change(wire::RowChange::UPDATE, {Int(1), Int(5), Int(5)})).ok());
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{"insert batch id=1,a=0,b=0 arbiter",
                                                     "update id=1,a=5,b=5 where id=1"}));
}

TEST_F(DeferredInsertTest, SkippedRowsAreOverwrittenAndReportedOnceAfterwards) {
  engine_.batch_result = BatchInsertion{1, {0, 2}, {}};  // one row existed; row 0 or 2
  engine_.updated = {1, 1};
  for (int64_t id = 1; id <= 3; ++id) ASSERT_TRUE(Insert(id).ok());
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{
                               "insert batch id=1,a=0,b=0 | id=2,a=0,b=0 | id=3,a=0,b=0 arbiter",
                               "update a=0,b=0 where id=1", "update a=0,b=0 where id=3"}));
  engine_.batch_result = BatchInsertion{2, {0, 1}, {}};
  engine_.updated = {1, 1};
  ASSERT_TRUE(Insert(4).ok());
  ASSERT_TRUE(Insert(5).ok());
  ASSERT_TRUE(applier_.Flush().ok());
  std::vector<LateOutcome> late = applier_.TakeLateOutcomes();
  ASSERT_EQ(late.size(), 1u);  // one report for the table, the counts added up
  EXPECT_EQ(late[0].target, "public.t");
  EXPECT_EQ(late[0].outcome, RowOutcome::kInsertedOverExisting);
  EXPECT_EQ(late[0].rows, 3u);
  EXPECT_TRUE(applier_.TakeLateOutcomes().empty());
}

TEST_F(DeferredInsertTest, ARefusedBatchGoesInRowByRowFromTheRefusedRow) {
  engine_.batch_result = BatchInsertion{0, {}, size_t{1}};
  engine_.insertion = Insertion::Refused(Status::Error("duplicate"));
  engine_.updated = {1, 1};
  for (int64_t id = 1; id <= 3; ++id) ASSERT_TRUE(Insert(id).ok());
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{
                               "insert batch id=1,a=0,b=0 | id=2,a=0,b=0 | id=3,a=0,b=0 arbiter",
                               "insert id=2,a=0,b=0 arbiter", "update a=0,b=0 where id=2",
                               "insert id=3,a=0,b=0 arbiter", "update a=0,b=0 where id=3"}));
  std::vector<LateOutcome> late = applier_.TakeLateOutcomes();
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].rows, 2u);
}

TEST_F(DeferredInsertTest, ABatchErrorNamesTheTableAndRowCount) {
  engine_.batch_result = Status::Error("value too long");
  ASSERT_TRUE(Insert(1).ok());
  Status flushed = applier_.Flush();
  EXPECT_EQ(flushed.message(), "apply to public.t (INSERT of 1 rows): value too long");
}

TEST_F(DeferredInsertTest, DiscardForgetsPendingRowsAndLateOutcomes) {
  engine_.batch_result = BatchInsertion{1, {0}, {}};
  engine_.updated = {1};
  for (int64_t id = 1; id <= 4; ++id) ASSERT_TRUE(Insert(id).ok());  // 3 run, 1 pending
  applier_.Discard();
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls.size(), 2u);  // the batch of 3 and its overwrite, nothing after
  EXPECT_TRUE(applier_.TakeLateOutcomes().empty());
}

// ---- updates and deletes sent ahead (pipelined) -------------------------------------------------

// The batching engine, sending updates and deletes ahead: each send is recorded ("send update
// ..."), each row count taken as "count" and the end of a run as "finish". `found` scripts the
// row counts of the next statements sent (1 when none is left).
class PipeliningEngine : public BatchingEngine {
 public:
  bool PipelinesRowStatements() const override { return true; }
  Status SendUpdate(const FakeTable&, const std::vector<FakeColumn>& set,
                    const std::vector<FakeColumn>& match, bool one_row) override {
    calls.push_back("send update " + Text(set) + " where " + Text(match) + (one_row ? " one" : ""));
    return Sent();
  }
  Status SendDelete(const FakeTable&, const std::vector<FakeColumn>& match, bool one_row) override {
    calls.push_back("send delete where " + Text(match) + (one_row ? " one" : ""));
    return Sent();
  }
  Result<uint64_t> NextRowCount() override {
    calls.push_back("count");
    if (in_flight.empty()) return Status::Error("nothing was sent");
    Result<uint64_t> rows = in_flight.front();
    in_flight.erase(in_flight.begin());
    return rows;
  }
  Status FinishSent() override {
    calls.push_back("finish");
    in_flight.clear();
    return Status::Ok();
  }
  std::string EncodeKey(const std::vector<FakeColumn>& key) const override { return Text(key); }

  std::vector<Result<uint64_t>> found;
  std::vector<Result<uint64_t>> in_flight;

 private:
  Status Sent() {
    if (found.empty()) {
      in_flight.push_back(uint64_t{1});
    } else {
      in_flight.push_back(found.front());
      found.erase(found.begin());
    }
    return Status::Ok();
  }
};

class PipelineTest : public testing::Test {
 protected:
  Result<RowOutcome> Update(int64_t id, int64_t a, std::optional<int64_t> old_id = std::nullopt) {
    std::vector<wire::Value> old;
    if (old_id) old = {Int(*old_id), Int(0), Int(0)};
    return applier_.Apply(Relation(),
                          Change(wire::RowChange::UPDATE, {Int(id), Int(a), Int(0)}, old));
  }
  Result<RowOutcome> Delete(int64_t id) {
    return applier_.Apply(Relation(),
                          Change(wire::RowChange::DELETE, {}, {Int(id), Int(0), Int(0)}));
  }
  // The late outcomes as "kind:rows" in order.
  std::vector<std::string> Late() {
    std::vector<std::string> out;
    for (const LateOutcome& late : applier_.TakeLateOutcomes()) {
      EXPECT_EQ(late.target, "public.t");
      const char* kind = late.outcome == RowOutcome::kUpdateInsertedMissing      ? "inserted"
                         : late.outcome == RowOutcome::kDeleteMissing            ? "delete missing"
                         : late.outcome == RowOutcome::kUpdateMissingNotInserted ? "not inserted"
                                                                                 : "other";
      out.push_back(std::string(kind) + ":" + std::to_string(late.rows));
    }
    return out;
  }

  PipeliningEngine engine_;
  RowApplier<FakeTable, FakeColumn> applier_{&engine_};
};

TEST_F(PipelineTest, UpdatesAndDeletesAreSentAheadAndCountedInOrderAtTheFlush) {
  EXPECT_EQ(*Update(1, 5), RowOutcome::kApplied);
  EXPECT_EQ(*Delete(2), RowOutcome::kApplied);
  EXPECT_EQ(*Update(3, 5), RowOutcome::kApplied);
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{"send update id=1,a=5,b=0 where id=1",
                                                     "send delete where id=2",
                                                     "send update id=3,a=5,b=0 where id=3"}));
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls.size(), 7u);
  EXPECT_EQ(std::vector<std::string>(engine_.calls.begin() + 3, engine_.calls.end()),
            (std::vector<std::string>{"count", "count", "count", "finish"}));
  ASSERT_TRUE(applier_.Flush().ok());  // nothing in flight: nothing to wait for
  EXPECT_EQ(engine_.calls.size(), 7u);
  EXPECT_TRUE(Late().empty());
}

// A statement that touches a row in flight waits for it: by the key it finds, or the key an
// update leaves (a key change), either way round. A delete holds no key: what it finds or not
// writes nothing later.
TEST_F(PipelineTest, AStatementOnARowInFlightDrainsFirst) {
  auto drains = [&](const std::function<Result<RowOutcome>()>& apply) {
    engine_.calls.clear();
    EXPECT_TRUE(apply().ok());
    return engine_.calls.size() > 1 && engine_.calls.front() == "count";
  };
  ASSERT_TRUE(Update(1, 5).ok());
  EXPECT_FALSE(drains([&] { return Update(2, 5); }));
  EXPECT_TRUE(drains([&] { return Delete(1); }));
  EXPECT_FALSE(drains([&] { return Update(10, 5, /*old_id=*/3); }));  // 3 -> 10
  EXPECT_TRUE(drains([&] { return Update(10, 6); }));                 // 10, left by the last
  EXPECT_FALSE(drains([&] { return Update(21, 6, /*old_id=*/20); }));
  EXPECT_TRUE(drains([&] { return Update(20, 6, /*old_id=*/30); }));  // onto 20, found by the last
  EXPECT_FALSE(drains([&] { return Delete(40); }));
  EXPECT_FALSE(drains([&] { return Update(50, 6, /*old_id=*/40); }));
  EXPECT_TRUE(drains([&] { return Update(50, 7); }));
  EXPECT_FALSE(drains([&] { return Update(1, 7); }));  // 1 was drained already
  // An update that cannot insert the row it misses (a value left out) writes nothing later.
  ASSERT_TRUE(
      applier_.Apply(Relation(), Change(wire::RowChange::UPDATE, {Int(60), Unchanged(), Int(0)}))
          .ok());
  EXPECT_FALSE(drains([&] { return Update(60, 8); }));
}

TEST_F(PipelineTest, RowsNotFoundAreHandledAtTheDrainInOrderAndReportedLate) {
  engine_.found = {uint64_t{0}, uint64_t{1}, uint64_t{0}, uint64_t{0}, uint64_t{0}};
  ASSERT_TRUE(Update(1, 5).ok());
  ASSERT_TRUE(Delete(2).ok());
  ASSERT_TRUE(Delete(3).ok());
  ASSERT_TRUE(Update(4, 6).ok());
  ASSERT_TRUE(
      applier_.Apply(Relation(), Change(wire::RowChange::UPDATE, {Int(5), Unchanged(), Int(0)}))
          .ok());
  EXPECT_TRUE(Late().empty());  // nothing known yet
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(
      std::vector<std::string>(engine_.calls.begin() + 5, engine_.calls.end()),
      (std::vector<std::string>{"count", "count", "count", "count", "count", "finish",
                                "insert id=1,a=5,b=0 arbiter", "insert id=4,a=6,b=0 arbiter"}));
  EXPECT_EQ(Late(), (std::vector<std::string>{"inserted:1", "delete missing:1", "inserted:1",
                                              "not inserted:1"}));
}

TEST_F(PipelineTest, ARowNotFoundMeetingAnExistingRowIsOverwrittenAsInPlace) {
  engine_.found = {uint64_t{0}};
  engine_.insertion = Insertion::KeyTaken();
  engine_.updated = {1};
  ASSERT_TRUE(Update(1, 5).ok());
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls.back(), "update a=5,b=0 where id=1");
  EXPECT_EQ(Late(), std::vector<std::string>{"inserted:1"});
}

TEST_F(PipelineTest, AnErrorSurfacesAtTheDrainNamingTheStatementAndDropsTheRest) {
  engine_.found = {uint64_t{1}, Status::Error("ERROR: value too long"), uint64_t{0}};
  ASSERT_TRUE(Update(1, 5).ok());
  ASSERT_TRUE(Delete(2).ok());
  ASSERT_TRUE(Update(3, 5).ok());
  EXPECT_EQ(engine_.loads, 1);
  EXPECT_EQ(applier_.Flush().message(), "apply to public.t (DELETE): ERROR: value too long");
  EXPECT_EQ(std::vector<std::string>(engine_.calls.begin() + 3, engine_.calls.end()),
            (std::vector<std::string>{"count", "count", "finish"}));  // no insert for 3
  EXPECT_TRUE(Late().empty());
  ASSERT_TRUE(Update(1, 5).ok());
  EXPECT_EQ(engine_.loads, 2);  // read again after a failure: the table may have changed

  // The insert of a row not found fails as it would in place.
  engine_.found = {uint64_t{0}};
  engine_.insertion = Status::Error("ERROR: duplicate key on index u");
  ASSERT_TRUE(applier_.Flush().ok());
  ASSERT_TRUE(Update(7, 5).ok());
  EXPECT_EQ(applier_.Flush().message(),
            "apply to public.t (UPDATE): ERROR: duplicate key on index u");
}

TEST_F(PipelineTest, AnythingElseDrainsFirst) {
  const std::vector<std::string> drain = {"count", "finish"};
  auto after_update = [&](const std::function<void()>& then) {
    engine_.calls.clear();
    EXPECT_TRUE(Update(1, 5).ok());
    then();
    return std::vector<std::string>(engine_.calls.begin() + 1, engine_.calls.begin() + 3);
  };
  EXPECT_EQ(
      after_update([&] {
        ASSERT_TRUE(
            applier_.Apply(Relation(), Change(wire::RowChange::INSERT, {Int(9), Int(0), Int(0)}))
                .ok());
      }),
      drain);
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(after_update([&] {
              ASSERT_TRUE(applier_.Apply(Relation(), Change(wire::RowChange::TRUNCATE, {})).ok());
            }),
            drain);
  EXPECT_EQ(after_update([&] { ASSERT_TRUE(applier_.TargetColumns("public", "t").ok()); }), drain);
  EXPECT_EQ(after_update([&] {
              ASSERT_TRUE(applier_.DeleteRange(Relation(), CopyRange{{0}, {}, {}, {}}).ok());
            }),
            drain);
  // A relation of a new shape: its table's catalog is read again, after the drain.
  EXPECT_EQ(after_update([&] {
              ASSERT_TRUE(applier_
                              .Apply(Relation(/*full_old_image=*/true),
                                     Change(wire::RowChange::DELETE, {}, {Int(2), Int(0), Int(0)}))
                              .ok());
            }),
            drain);
}

// Identical rows, which no key tells apart, are matched whole and one at a time, in place.
TEST_F(PipelineTest, WholeRowMatchesRunInPlace) {
  engine_.table->unique_indexes.clear();
  ASSERT_TRUE(Update(1, 5).ok());
  engine_.calls.clear();
  engine_.deleted = uint64_t{0};
  Result<RowOutcome> outcome =
      applier_.Apply(Relation(/*full_old_image=*/true),
                     Change(wire::RowChange::DELETE, {}, {Int(1), Int(2), Int(3)}));
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  EXPECT_EQ(*outcome, RowOutcome::kDeleteMissing);
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"count", "finish", "delete where id=1,a=2,b=3 one"}));
}

TEST_F(PipelineTest, TheWindowIsBounded) {
  for (int64_t id = 1; id <= static_cast<int64_t>(kMaxSentStatements); ++id) {
    ASSERT_TRUE(Update(id, 5).ok());
  }
  EXPECT_EQ(engine_.calls.size(), kMaxSentStatements);  // all sent, none counted
  ASSERT_TRUE(Update(0, 5).ok());
  EXPECT_EQ(engine_.calls.size(), 2 * kMaxSentStatements + 2);  // counted, finished, sent
  EXPECT_EQ(engine_.calls.back(), "send update id=0,a=5,b=0 where id=0");
}

TEST_F(PipelineTest, DiscardDropsWhatIsInFlight) {
  engine_.found = {uint64_t{0}};
  ASSERT_TRUE(Update(1, 5).ok());
  applier_.Discard();
  EXPECT_EQ(engine_.calls.back(), "finish");
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls.size(), 2u);  // nothing counted, nothing inserted
  EXPECT_TRUE(Late().empty());
}

// ---- copy chunks ------------------------------------------------------------------------------

// ---- inserts sent ahead too --------------------------------------------------------------------

// The pipelining engine that also sends insert batches ahead ("send insert batch ..."), each
// outcome taken as "inserted"; `batch_found` scripts the outcome of the next batches sent.
class PipeliningInsertsEngine : public PipeliningEngine {
 public:
  bool PipelinesInserts() const override { return true; }
  Status SendInsertBatch(const FakeTable&, const std::vector<std::vector<FakeColumn>>& rows,
                         const std::vector<std::string>* arbiter) override {
    std::string text;
    for (const std::vector<FakeColumn>& row : rows) text += (text.empty() ? "" : " | ") + Text(row);
    calls.push_back("send insert batch " + text + (arbiter ? " arbiter" : ""));
    if (batch_found.empty()) {
      batches_in_flight.push_back(BatchInsertion{});
    } else {
      batches_in_flight.push_back(batch_found.front());
      batch_found.erase(batch_found.begin());
    }
    return Status::Ok();
  }
  Result<BatchInsertion> NextBatchInsertion(const std::vector<std::vector<FakeColumn>>&,
                                            const std::vector<std::string>*) override {
    calls.push_back("inserted");
    if (batches_in_flight.empty()) return Status::Error("no insert was sent");
    Result<BatchInsertion> outcome = batches_in_flight.front();
    batches_in_flight.erase(batches_in_flight.begin());
    return outcome;
  }

  std::vector<Result<BatchInsertion>> batch_found;
  std::vector<Result<BatchInsertion>> batches_in_flight;
};

class PipelinedInsertTest : public testing::Test {
 protected:
  Result<RowOutcome> Insert(int64_t id, int64_t a) {
    return applier_.Apply(Relation(), Change(wire::RowChange::INSERT, {Int(id), Int(a), Int(0)}));
  }
  Result<RowOutcome> Update(int64_t id, int64_t a) {
    return applier_.Apply(Relation(), Change(wire::RowChange::UPDATE, {Int(id), Int(a), Int(0)}));
  }
  PipeliningInsertsEngine engine_;
  RowApplier<FakeTable, FakeColumn> applier_{&engine_};
};

// A transaction's inserts and the next one's updates share the pipeline: nothing waits until
// the flush.
TEST_F(PipelinedInsertTest, InsertsGoAheadWithTheUpdatesAfterThem) {
  ASSERT_TRUE(Insert(1, 5).ok());
  ASSERT_TRUE(Insert(2, 5).ok());
  ASSERT_TRUE(Update(3, 6).ok());
  ASSERT_TRUE(Insert(4, 5).ok());
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"send insert batch id=1,a=5,b=0 | id=2,a=5,b=0 arbiter",
                                      "send update id=3,a=6,b=0 where id=3"}));
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(std::vector<std::string>(engine_.calls.begin() + 2, engine_.calls.end()),
            (std::vector<std::string>{"send insert batch id=4,a=5,b=0 arbiter", "inserted", "count",
                                      "inserted", "finish"}));
  EXPECT_TRUE(applier_.TakeLateOutcomes().empty());
}

// An update of a row in a batch in flight, or a batch with a row an update in flight touches,
// waits for the statements in flight.
TEST_F(PipelinedInsertTest, AStatementOnARowOfABatchInFlightDrainsFirst) {
  ASSERT_TRUE(Insert(1, 5).ok());
  ASSERT_TRUE(Update(1, 6).ok());  // sends the batch, then must wait for it
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"send insert batch id=1,a=5,b=0 arbiter", "inserted",
                                      "finish", "send update id=1,a=6,b=0 where id=1"}));
  engine_.calls.clear();
  ASSERT_TRUE(Insert(1, 7).ok());  // deferred: nothing sent yet
  EXPECT_TRUE(engine_.calls.empty());
  ASSERT_TRUE(applier_.Flush().ok());  // the batch touches the row updated in flight
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"count", "finish", "send insert batch id=1,a=7,b=0 arbiter",
                                      "inserted", "finish"}));
}

// A row deleted and inserted again (sysbench's oltp_write_only does it in every transaction)
// goes in one round: the delete writes nothing late, whatever it finds.
TEST_F(PipelinedInsertTest, ARowDeletedAndInsertedAgainNeedsNoDrain) {
  ASSERT_TRUE(Update(2, 6).ok());
  ASSERT_TRUE(
      applier_.Apply(Relation(), Change(wire::RowChange::DELETE, {}, {Int(1), Int(0), Int(0)}))
          .ok());
  ASSERT_TRUE(Insert(1, 5).ok());
  ASSERT_TRUE(Update(3, 6).ok());
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{
                "send update id=2,a=6,b=0 where id=2", "send delete where id=1",
                "send insert batch id=1,a=5,b=0 arbiter", "send update id=3,a=6,b=0 where id=3",
                "count", "count", "inserted", "count", "finish"}));
}

// Rows of a batch that met an existing row are overwritten at the drain, and reported late.
TEST_F(PipelinedInsertTest, RowsThatMetAnExistingRowAreOverwrittenAtTheDrain) {
  engine_.batch_found = {BatchInsertion{1, {1}, std::nullopt}};
  engine_.updated = {1};
  ASSERT_TRUE(Insert(1, 5).ok());
  ASSERT_TRUE(Insert(2, 5).ok());
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls.back(), "update a=5,b=0 where id=2");
  std::vector<LateOutcome> late = applier_.TakeLateOutcomes();
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].outcome, RowOutcome::kInsertedOverExisting);
  EXPECT_EQ(late[0].rows, 1u);
}

TEST_F(PipelinedInsertTest, AFailedBatchSurfacesAtTheFlushNamingItsTable) {
  engine_.batch_found = {Status::Error("ERROR: null value in column \"a\"")};
  ASSERT_TRUE(Insert(1, 5).ok());
  ASSERT_TRUE(Insert(2, 5).ok());
  Status flushed = applier_.Flush();
  ASSERT_FALSE(flushed.ok());
  EXPECT_EQ(flushed.message(),
            "apply to public.t (INSERT of 2 rows): ERROR: null value in column \"a\"");
  EXPECT_EQ(engine_.calls.back(), "finish");
}

// The batching engine with a bulk path for copied rows, scripted by `bulk` and `left`.
// Inserts in batches of 3; runs of them by a bulk path of up to 6 rows.
class CopyingRunsEngine : public BatchingEngine {
 public:
  bool CopiesInsertRuns(const FakeTable&) const override { return true; }
  size_t MaxCopyInsertRows() const override { return 6; }
  Result<bool> CopyInsertBatch(const FakeTable&,
                               const std::vector<std::vector<FakeColumn>>& rows) override {
    std::string ids;
    for (const std::vector<FakeColumn>& row : rows) ids += (ids.empty() ? "" : ",") + row[0].value;
    calls.push_back("copy inserts " + ids);
    return copied;
  }

  Result<bool> copied = true;
};

class InsertRunTest : public testing::Test {
 protected:
  Status InsertRun(int64_t from, int64_t to) {
    for (int64_t id = from; id <= to; ++id) {
      Result<RowOutcome> inserted =
          applier_.Apply(Relation(), Change(wire::RowChange::INSERT, {Int(id), Int(0), Int(0)}));
      if (!inserted.ok()) return inserted.status();
    }
    return Status::Ok();
  }

  CopyingRunsEngine engine_;
  RowApplier<FakeTable, FakeColumn> applier_{&engine_};
};

TEST_F(InsertRunTest, ARunLongerThanABatchGoesByTheBulkPathAndAShortOneAsAnInsert) {
  ASSERT_TRUE(InsertRun(1, 7).ok());
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"copy inserts 1,2,3,4,5,6"});
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls.back(), "insert batch id=7,a=0,b=0 arbiter");
  engine_.calls.clear();
  ASSERT_TRUE(InsertRun(8, 11).ok());  // longer than a batch, shorter than a bulk run
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls, std::vector<std::string>{"copy inserts 8,9,10,11"});
}

// The bulk path cannot tell which rows met an existing one: INSERTs tell, and overwrite them.
TEST_F(InsertRunTest, ARunTheBulkPathRefusedGoesInInsertBatches) {
  engine_.copied = false;
  engine_.batch_result = BatchInsertion{1, {1}, std::nullopt};  // each batch's second row
  engine_.updated = {1, 1};
  ASSERT_TRUE(InsertRun(1, 5).ok());
  ASSERT_TRUE(applier_.Flush().ok());
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{
                "copy inserts 1,2,3,4,5",
                "insert batch id=1,a=0,b=0 | id=2,a=0,b=0 | id=3,a=0,b=0 arbiter",
                "update a=0,b=0 where id=2", "insert batch id=4,a=0,b=0 | id=5,a=0,b=0 arbiter",
                "update a=0,b=0 where id=5"}));
  std::vector<LateOutcome> late = applier_.TakeLateOutcomes();
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].outcome, RowOutcome::kInsertedOverExisting);
  EXPECT_EQ(late[0].rows, 2u);
}

TEST_F(InsertRunTest, ABulkPathErrorNamesTheTableAndTheRows) {
  engine_.copied = Status::Error("ERROR: connection lost");
  ASSERT_TRUE(InsertRun(1, 4).ok());
  Status flushed = applier_.Flush();
  ASSERT_FALSE(flushed.ok());
  EXPECT_EQ(flushed.message(),
            "apply to public.t (COPY of 4 inserted rows): ERROR: connection lost");
}

class CopyingEngine : public BatchingEngine {
 public:
  bool CopiesInBulk(const FakeTable&, const std::vector<std::string>*) const override {
    return bulk;
  }
  Result<std::vector<size_t>> CopyRows(const MappedRelation&, const FakeTable& table,
                                       const ChunkRows& rows,
                                       const std::vector<std::string>* arbiter) override {
    std::string ids;
    for (const wire::RowChange& row : rows) {
      ids += (ids.empty() ? "" : ",") + std::to_string(row.new_values(0).int64());
    }
    calls.push_back("copy " + table.name() + " " + ids +
                    (arbiter ? " arbiter " + arbiter->front() : ""));
    return left;
  }

  bool bulk = true;
  Result<std::vector<size_t>> left = std::vector<size_t>{};
};

class CopyTest : public testing::Test {
 protected:
  static ChunkRows Rows(std::initializer_list<int64_t> ids) {
    ChunkRows rows;
    for (int64_t id : ids) *rows.Add() = Change(wire::RowChange::INSERT, {Int(id), Int(0), Int(0)});
    return rows;
  }
  Status Copy(const ChunkRows& rows, CopyInto into = CopyInto::kExisting) {
    return applier_.Copy(Relation(), rows, into);
  }

  CopyingEngine engine_;
  RowApplier<FakeTable, FakeColumn> applier_{&engine_};
};

TEST_F(CopyTest, RowsGoToTheBulkPathWithTheKeyAsArbiterUnlessTheTableWasEmptied) {
  ASSERT_TRUE(Copy(Rows({1, 2})).ok());
  ASSERT_TRUE(Copy(Rows({3}), CopyInto::kEmptied).ok());
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"copy public.t 1,2 arbiter id", "copy public.t 3"}));
  EXPECT_EQ(engine_.loads, 1);  // the table's catalog is read once
}

TEST_F(CopyTest, DeferredInsertsRunFirst) {
  ASSERT_TRUE(
      applier_.Apply(Relation(), Change(wire::RowChange::INSERT, {Int(9), Int(0), Int(0)})).ok());
  ASSERT_TRUE(Copy(Rows({1})).ok());
  EXPECT_EQ(engine_.calls, (std::vector<std::string>{"insert batch id=9,a=0,b=0 arbiter",
                                                     "copy public.t 1 arbiter id"}));
}

// Rows the engine leaves (a refused statement) and every row of an engine without a bulk path
// go in as Apply writes inserts; a row they meet is not reported.
TEST_F(CopyTest, RowsTheBulkPathLeavesGoByTheRowPathAndReportNothing) {
  engine_.left = std::vector<size_t>{0, 2};
  engine_.batch_result = BatchInsertion{1, {1}, {}};
  engine_.updated = {1};
  ASSERT_TRUE(Copy(Rows({1, 2, 3})).ok());
  EXPECT_EQ(engine_.calls,
            (std::vector<std::string>{"copy public.t 1,2,3 arbiter id",
                                      "insert batch id=1,a=0,b=0 | id=3,a=0,b=0 arbiter",
                                      "update a=0,b=0 where id=3"}));
  EXPECT_TRUE(applier_.TakeLateOutcomes().empty());

  engine_.calls.clear();
  engine_.bulk = false;
  engine_.batch_result = BatchInsertion{};
  ASSERT_TRUE(Copy(Rows({4, 5})).ok());
  EXPECT_EQ(engine_.calls,
            std::vector<std::string>{"insert batch id=4,a=0,b=0 | id=5,a=0,b=0 arbiter"});
}

TEST_F(CopyTest, ErrorsNameTheTableAndRowCount) {
  engine_.left = Status::Error("server said no");
  EXPECT_EQ(Copy(Rows({1, 2})).message(), "copy into public.t (2 rows): server said no");
  EXPECT_EQ(engine_.loads, 1);
  engine_.left = std::vector<size_t>{};
  ASSERT_TRUE(Copy(Rows({1})).ok());
  EXPECT_EQ(engine_.loads, 2);  // read again after a failure: the table may have changed

  ChunkRows update = Rows({1});
  update.Mutable(0)->set_op(wire::RowChange::UPDATE);
  EXPECT_EQ(Copy(update).message(),
            "copy into public.t (1 rows): a copied row is not an INSERT (UPDATE): the copy is "
            "malformed");

  engine_.in_transaction = false;
  EXPECT_EQ(Copy(Rows({1})).message(),
            "copy into public.t (1 rows): no transaction is open: call BeginCopyTransaction first");
}

TEST_F(CopyTest, AKeyWithoutUniqueIndexOnTheTargetNamesTheFix) {
  engine_.table->unique_indexes.clear();
  EXPECT_EQ(Copy(Rows({1})).message(),
            "copy into public.t (1 rows): target table public.t needs a primary key or unique "
            "index on ([id]), the key of the source table: add one, e.g. ALTER TABLE "
            "[public].[t] ADD PRIMARY KEY ([id])");
  // Into an emptied table no row can be met: no arbiter needed.
  ASSERT_TRUE(Copy(Rows({1}), CopyInto::kEmptied).ok());
}

}  // namespace
}  // namespace ferry::apply
