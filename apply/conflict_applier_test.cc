#include "apply/conflict_applier.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ferry::apply {
namespace {

using conflict::ConflictType;
using conflict::Outcome;
using conflict::Resolver;
using conflict::ResolverKind;

// One bound value: its target column and its text (nullopt: NULL).
struct FakeColumn {
  std::string name;
  std::optional<std::string> value;
};

struct FakeTargetColumn {
  std::string name;
};

struct FakeTable {
  std::string schema = "public";
  std::string table = "t";
  std::vector<FakeTargetColumn> columns = {{"id"}, {"name"}, {"balance"}, {"ts"}};
  std::vector<UniqueIndex> unique_indexes = {{{"id"}, true, true}};

  std::string name() const { return schema + "." + table; }
  const FakeTargetColumn* Find(const std::string& column) const {
    for (const FakeTargetColumn& candidate : columns) {
      if (candidate.name == column) return &candidate;
    }
    return nullptr;
  }
};

using Row = std::vector<std::optional<std::string>>;  // in the table's column order

std::string Text(const std::vector<FakeColumn>& columns) {
  std::string text;
  for (const FakeColumn& column : columns) {
    text += (text.empty() ? "" : ",") + column.name + "=" + column.value.value_or("NULL");
  }
  return text;
}

std::optional<double> Number(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text->c_str(), &end);
  if (end != text->c_str() + text->size()) return std::nullopt;
  return value;
}

std::optional<int64_t> Integer(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

// A target table held in memory. Every statement that writes is recorded as a line of text.
class FakeEngine : public RowEngine<FakeTable, FakeColumn> {
 public:
  Status CheckOpen() const override { return Status::Ok(); }
  bool InTransaction() const override { return true; }
  Result<std::optional<FakeTable>> LoadTable(const std::string&, const std::string&) override {
    return std::optional<FakeTable>(table);
  }
  Result<std::vector<FakeColumn>> Bind(const MappedRelation& relation, const FakeTable& target,
                                       const RowImage& image) override {
    return BindMapped<FakeColumn>(relation, target, image,
                                  [](const MappedColumn& column, const FakeTargetColumn&,
                                     const wire::Value& value) -> Result<FakeColumn> {
                                    return FakeColumn{column.target_name, LoggedValue(value)};
                                  });
  }
  Result<Insertion> Insert(const FakeTable&, const std::vector<FakeColumn>& row,
                           const std::vector<std::string>* arbiter) override {
    writes.push_back("insert " + Text(row) + (arbiter ? " arbiter" : ""));
    if (arbiter) {
      std::vector<FakeColumn> key;
      for (const std::string& name : *arbiter) {
        for (const FakeColumn& column : row) {
          if (column.name == name) key.push_back(column);
        }
      }
      if (!Matching(key).empty()) return Insertion::KeyTaken();
    }
    Row stored(table.columns.size());
    for (const FakeColumn& column : row) stored[Index(column.name)] = column.value;
    if (const std::string index = Violated(stored, rows.size()); !index.empty()) {
      return Status::Error("duplicate key value violates unique index (" + index + ")");
    }
    rows.push_back(stored);
    return Insertion::New();
  }
  Result<uint64_t> Update(const FakeTable&, const std::vector<FakeColumn>& set,
                          const std::vector<FakeColumn>& match, bool one_row) override {
    writes.push_back("update " + Text(set) + " where " + Text(match) + (one_row ? " one" : ""));
    const std::vector<size_t> found = Matching(match);
    for (size_t i : found) {
      Row updated = rows[i];
      for (const FakeColumn& column : set) updated[Index(column.name)] = column.value;
      if (const std::string index = Violated(updated, i); !index.empty()) {
        return Status::Error("duplicate key value violates unique index (" + index + ")");
      }
      rows[i] = std::move(updated);
    }
    return uint64_t{found.size()};
  }
  Result<uint64_t> Delete(const FakeTable&, const std::vector<FakeColumn>& match,
                          bool one_row) override {
    writes.push_back("delete where " + Text(match) + (one_row ? " one" : ""));
    const std::vector<size_t> found = Matching(match);
    for (auto it = found.rbegin(); it != found.rend(); ++it) rows.erase(rows.begin() + *it);
    return uint64_t{found.size()};
  }
  Status Truncate(const std::vector<const FakeTable*>&, const wire::RowChange&) override {
    writes.push_back("truncate");
    rows.clear();
    return Status::Ok();
  }
  Result<uint64_t> DeleteRange(const FakeTable&, const std::optional<std::vector<FakeColumn>>&,
                               const std::optional<std::vector<FakeColumn>>&,
                               const std::vector<std::vector<FakeColumn>>&) override {
    return Status::Error("the fake has no DeleteRange");
  }
  std::string HintIdent(const std::string& name) const override { return "[" + name + "]"; }

  Result<std::optional<LocalRow>> ReadLocal(const FakeTable&, const std::vector<FakeColumn>& match,
                                            const std::vector<FakeColumn>& compare,
                                            const FakeColumn* order) override {
    ++reads;
    const std::vector<size_t> found = Matching(match);
    if (found.empty()) return std::optional<LocalRow>();
    if (found.size() > 1) return Status::Error("the match finds several rows");
    const Row& row = rows[found.front()];
    LocalRow local;
    local.values = row;
    for (const FakeColumn& column : compare) {
      local.equal.push_back(row[Index(column.name)] == column.value);
    }
    if (order) {
      const std::optional<std::string>& mine = row[Index(order->name)];
      if (order->value && mine) {
        const std::optional<double> a = Number(order->value);
        const std::optional<double> b = Number(mine);
        if (a && b) {
          local.order = *a < *b ? -1 : *a > *b ? 1 : 0;
        } else {
          const int c = order->value->compare(*mine);
          local.order = c < 0 ? -1 : c > 0 ? 1 : 0;
        }
      }
    }
    return std::optional<LocalRow>(local);
  }

  Result<uint64_t> UpdateMerged(const FakeTable&, const std::vector<FakeColumn>& set,
                                const std::vector<DeltaTerm<FakeColumn>>& deltas,
                                const std::vector<FakeColumn>& match) override {
    std::string call = "merge " + Text(set);
    for (const DeltaTerm<FakeColumn>& delta : deltas) {
      call += " " + delta.add.name + "+=" + delta.add.value.value_or("NULL");
      if (delta.subtract) call += "-" + delta.subtract->value.value_or("NULL");
    }
    writes.push_back(call + " where " + Text(match));
    const std::vector<size_t> found = Matching(match);
    for (size_t i : found) {
      for (const DeltaTerm<FakeColumn>& delta : deltas) {
        std::optional<std::string>& value = rows[i][Index(delta.add.name)];
        const std::optional<int64_t> current = Integer(value);
        const std::optional<int64_t> add = Integer(delta.add.value);
        const std::optional<int64_t> subtract =
            delta.subtract ? Integer(delta.subtract->value) : std::optional<int64_t>(0);
        if (!current || !add || !subtract) {
          value = std::nullopt;  // NULL arithmetic
        } else {
          value = std::to_string(*current + *add - *subtract);
        }
      }
      for (const FakeColumn& column : set) rows[i][Index(column.name)] = column.value;
    }
    return uint64_t{found.size()};
  }

  // The row with id `id`, as "id=1,name=a,balance=10,ts=5"; "none" without one.
  std::string RowText(const std::string& id) const {
    for (const Row& row : rows) {
      if (row[0] != id) continue;
      std::string text;
      for (size_t i = 0; i < row.size(); ++i) {
        text += (i ? "," : "") + table.columns[i].name + "=" + row[i].value_or("NULL");
      }
      return text;
    }
    return "none";
  }

  void Put(Row row) { rows.push_back(std::move(row)); }

  FakeTable table;
  std::vector<Row> rows;
  std::vector<std::string> writes;
  int reads = 0;

 private:
  size_t Index(const std::string& name) const {
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (table.columns[i].name == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
  // The columns of the unique index `row` would break beside the rows but rows[self], as a
  // database enforces them (NULLs are distinct); empty when none.
  std::string Violated(const Row& row, size_t self) const {
    for (const UniqueIndex& index : table.unique_indexes) {
      for (size_t i = 0; i < rows.size(); ++i) {
        if (i == self) continue;
        bool same = true;
        for (const std::string& name : index.columns) {
          same = same && row[Index(name)] && row[Index(name)] == rows[i][Index(name)];
        }
        if (same) return Joined(index.columns);
      }
    }
    return "";
  }
  static std::string Joined(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names) text += (text.empty() ? "" : ",") + name;
    return text;
  }
  std::vector<size_t> Matching(const std::vector<FakeColumn>& match) const {
    std::vector<size_t> found;
    for (size_t i = 0; i < rows.size(); ++i) {
      bool all = true;
      for (const FakeColumn& column : match) {
        all = all && column.value && rows[i][Index(column.name)] == column.value;
      }
      if (all) found.push_back(i);
    }
    return found;
  }
};

// public.t(id key, name, balance, ts); with a full old image every column is flagged key.
MappedRelation Relation(bool full_old_image = false) {
  MappedRelation relation;
  relation.target_schema = "public";
  relation.target_table = "t";
  relation.full_old_image = full_old_image;
  relation.has_key = true;
  relation.source.set_schema("src");
  relation.source.set_table("t");
  int index = 0;
  for (const char* name : {"id", "name", "balance", "ts"}) {
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

wire::Value Str(const std::string& value) {
  wire::Value out;
  out.set_text(value);
  return out;
}

wire::Value Unchanged() {
  wire::Value out;
  out.mutable_unchanged();
  return out;
}

// A source row of public.t.
std::vector<wire::Value> Image(int64_t id, const std::string& name, int64_t balance, int64_t ts) {
  return {Int(id), Str(name), Int(balance), Int(ts)};
}

wire::RowChange Change(wire::RowChange::Op op, std::vector<wire::Value> new_values,
                       std::vector<wire::Value> old_values = {}) {
  wire::RowChange change;
  change.set_op(op);
  for (wire::Value& value : new_values) *change.add_new_values() = std::move(value);
  for (wire::Value& value : old_values) *change.add_old_values() = std::move(value);
  return change;
}

wire::RowChange Insert(std::vector<wire::Value> values) {
  return Change(wire::RowChange::INSERT, std::move(values));
}
wire::RowChange Update(std::vector<wire::Value> new_values, std::vector<wire::Value> old_values) {
  return Change(wire::RowChange::UPDATE, std::move(new_values), std::move(old_values));
}
wire::RowChange Delete(std::vector<wire::Value> old_values) {
  return Change(wire::RowChange::DELETE, {}, std::move(old_values));
}

// The row JSON of public.t (keys sorted, as nlohmann::json writes them).
std::string RowJson(const std::string& id, const std::string& name, const std::string& balance,
                    const std::string& ts) {
  return R"({"balance":")" + balance + R"(","id":")" + id + R"(","name":")" + name + R"(","ts":")" +
         ts + R"("})";
}

Row Stored(const std::string& id, const std::string& name, const std::string& balance,
           const std::string& ts) {
  return {id, name, balance, ts};
}

Resolver Simple(ResolverKind kind) { return Resolver{kind, {}, {}, {}}; }
Resolver Prioritised(std::vector<std::string> nodes) {
  return Resolver{ResolverKind::kPriority, {}, {}, std::move(nodes)};
}
Resolver ByColumn(ResolverKind kind, const std::string& column) {
  return Resolver{kind, column, {}, {}};
}
Resolver Delta(std::vector<std::string> columns) {
  return Resolver{ResolverKind::kDelta, {}, std::move(columns), {}};
}

class ConflictApplierTest : public testing::Test {
 protected:
  ConflictApplierTest() {
    policy_ = conflict::DefaultPolicy(conflict::Mode::kMasterMaster);
    context_.policy = &policy_;
    context_.local_node = "west";
    context_.upstream = "east-link";
    context_.origin = "east";
    context_.position = "0/16B3748";
    context_.commit_time_us = 1700000000123456;
  }

  void Use(ConflictType type, Resolver resolver) { policy_.by_type[type] = std::move(resolver); }

  Result<std::vector<ConflictRecord>> Apply(const wire::RowChange& change,
                                            bool full_old_image = false) {
    const MappedRelation relation = Relation(full_old_image);
    return applier_.Apply(relation, engine_.table, change, context_);
  }

  // Applies `change`; the conflicts it met, in order.
  std::vector<ConflictRecord> Conflicts(const wire::RowChange& change,
                                        bool full_old_image = false) {
    Result<std::vector<ConflictRecord>> applied = Apply(change, full_old_image);
    EXPECT_TRUE(applied.ok()) << applied.message();
    if (!applied.ok()) return {};
    return *applied;
  }

  // Applies `change`, which must meet one conflict; its record.
  ConflictRecord Conflict(const wire::RowChange& change, bool full_old_image = false) {
    const std::vector<ConflictRecord> records = Conflicts(change, full_old_image);
    EXPECT_EQ(records.size(), 1u) << Summaries(records);
    if (records.size() != 1) return {};
    return records.front();
  }

  // Applies `change`, which must meet no conflict.
  void NoConflict(const wire::RowChange& change, bool full_old_image = false) {
    Result<std::vector<ConflictRecord>> applied = Apply(change, full_old_image);
    ASSERT_TRUE(applied.ok()) << applied.message();
    EXPECT_TRUE(applied->empty()) << "unexpected conflict: " << Summaries(*applied);
  }

  static std::string Summaries(const std::vector<ConflictRecord>& records) {
    std::string text;
    for (const ConflictRecord& record : records) text += Summary(record) + "\n";
    return text;
  }

  conflict::ConflictPolicy policy_;
  ConflictContext context_;
  FakeEngine engine_;
  ConflictApplier<FakeTable, FakeColumn> applier_{&engine_};
};

// --- insert ----------------------------------------------------------------------------------

TEST_F(ConflictApplierTest, InsertWithoutLocalRowInserts) {
  NoConflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(engine_.writes, std::vector<std::string>{"insert id=1,name=a,balance=10,ts=5 arbiter"});
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
  EXPECT_EQ(engine_.reads, 1);
}

TEST_F(ConflictApplierTest, InsertMeetingAnIdenticalRowReportsNothing) {
  engine_.Put(Stored("1", "a", "10", "5"));
  NoConflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
}

TEST_F(ConflictApplierTest, InsertExistsSourceWinsOverwritesTheRow) {
  Use(ConflictType::kInsertExists, Simple(ResolverKind::kSourceWins));
  engine_.Put(Stored("1", "b", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.type, ConflictType::kInsertExists);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(record.resolver, "source_wins");
  EXPECT_EQ(engine_.writes, std::vector<std::string>{"update name=a,balance=10,ts=5 where id=1"});
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
  EXPECT_EQ(record.final_row, RowJson("1", "a", "10", "5"));
}

TEST_F(ConflictApplierTest, InsertExistsRecordsEveryField) {
  Use(ConflictType::kInsertExists, Simple(ResolverKind::kSourceWins));
  engine_.Put(Stored("1", "b", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.upstream, "east-link");
  EXPECT_EQ(record.origin, "east");
  EXPECT_EQ(record.position, "0/16B3748");
  EXPECT_EQ(record.remote_commit_us, 1700000000123456);
  EXPECT_EQ(record.table, "public.t");
  EXPECT_EQ(record.type, ConflictType::kInsertExists);
  EXPECT_EQ(record.key, R"({"id":"1"})");
  EXPECT_EQ(record.remote_old, std::nullopt);
  EXPECT_EQ(record.remote_new, RowJson("1", "a", "10", "5"));
  EXPECT_EQ(record.local, RowJson("1", "b", "7", "3"));
  EXPECT_EQ(record.resolver, "source_wins");
  EXPECT_FALSE(record.reason.empty());
  EXPECT_EQ(
      Summary(record),
      R"(public.t {"id":"1"}: insert_exists, source_wins: applied_remote ()" + record.reason + ")");
}

TEST_F(ConflictApplierTest, InsertExistsTargetWinsKeepsTheRow) {
  Use(ConflictType::kInsertExists, Simple(ResolverKind::kTargetWins));
  engine_.Put(Stored("1", "b", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_EQ(record.resolver, "target_wins");
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=7,ts=3");
  EXPECT_EQ(record.local, RowJson("1", "b", "7", "3"));
  EXPECT_EQ(record.final_row, record.local);
}

TEST_F(ConflictApplierTest, InsertExistsLastWriterWinsTakesTheLaterRemoteRow) {
  Use(ConflictType::kInsertExists, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  // 10 > 9 as numbers (not as text): the target's own type decides.
  engine_.Put(Stored("1", "b", "7", "9"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 10)));
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(record.resolver, "last_writer_wins(ts)");
  EXPECT_EQ(record.reason, "remote ts is later");
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=10");
  EXPECT_EQ(record.final_row, RowJson("1", "a", "10", "10"));
}

TEST_F(ConflictApplierTest, InsertExistsLastWriterWinsKeepsTheLaterLocalRow) {
  Use(ConflictType::kInsertExists, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("1", "b", "7", "10"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 9)));
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_EQ(record.reason, "local ts is later");
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=7,ts=10");
  EXPECT_EQ(record.final_row, RowJson("1", "b", "7", "10"));
}

TEST_F(ConflictApplierTest, InsertExistsLastWriterWinsTieGoesByNodeName) {
  Use(ConflictType::kInsertExists, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("1", "b", "7", "5"));
  // "east" < "west": the local row stays.
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=7,ts=5");
}

TEST_F(ConflictApplierTest, InsertExistsDeltaAddsTheCounters) {
  Use(ConflictType::kInsertExists, Delta({"balance"}));
  engine_.Put(Stored("1", "b", "7", "3"));
  // "east" < "west": the other columns stay local.
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.outcome, Outcome::kMerged);
  EXPECT_EQ(record.resolver, "delta(balance)");
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=17,ts=3");
  EXPECT_EQ(record.final_row, RowJson("1", "b", "17", "3"));
  EXPECT_EQ(record.local, RowJson("1", "b", "7", "3"));
}

TEST_F(ConflictApplierTest, InsertExistsDeltaTakesTheOtherColumnsFromTheWinningNode) {
  Use(ConflictType::kInsertExists, Delta({"balance"}));
  context_.origin = "zeta";  // "zeta" > "west": the remote columns win
  engine_.Put(Stored("1", "b", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.outcome, Outcome::kMerged);
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=17,ts=5");
  EXPECT_EQ(record.final_row, RowJson("1", "a", "17", "5"));
}

// --- update ----------------------------------------------------------------------------------

TEST_F(ConflictApplierTest, UpdateOfAMatchingRowUpdates) {
  engine_.Put(Stored("1", "a", "10", "5"));
  NoConflict(Update(Image(1, "a", 11, 6), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(engine_.writes,
            std::vector<std::string>{"update id=1,name=a,balance=11,ts=6 where id=1"});
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=11,ts=6");
}

TEST_F(ConflictApplierTest, UpdateWithoutOldImageFindsTheRowByItsKey) {
  engine_.Put(Stored("1", "a", "10", "5"));
  NoConflict(Update(Image(1, "b", 11, 6), {}));
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=11,ts=6");
}

TEST_F(ConflictApplierTest, UpdateOfTheKeyMovesTheRow) {
  engine_.Put(Stored("1", "a", "10", "5"));
  wire::Value null;
  null.mutable_null();
  NoConflict(Update(Image(2, "a", 10, 5), {Int(1), null, null, null}));
  EXPECT_EQ(engine_.RowText("1"), "none");
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=a,balance=10,ts=5");
}

TEST_F(ConflictApplierTest, UpdateMissingSourceWinsInsertsTheRow) {
  Use(ConflictType::kUpdateMissing, Simple(ResolverKind::kSourceWins));
  const ConflictRecord record = Conflict(Update(Image(1, "a", 11, 6), {}));
  EXPECT_EQ(record.type, ConflictType::kUpdateMissing);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(engine_.writes, std::vector<std::string>{"insert id=1,name=a,balance=11,ts=6 arbiter"});
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=11,ts=6");
  EXPECT_EQ(record.key, R"({"id":"1"})");
  EXPECT_EQ(record.local, std::nullopt);
  EXPECT_EQ(record.remote_old, std::nullopt);
  EXPECT_EQ(record.remote_new, RowJson("1", "a", "11", "6"));
  EXPECT_EQ(record.final_row, record.remote_new);
}

TEST_F(ConflictApplierTest, UpdateMissingFillsUnchangedValuesFromAFullOldImage) {
  Use(ConflictType::kUpdateMissing, Simple(ResolverKind::kSourceWins));
  const ConflictRecord record =
      Conflict(Update({Int(1), Unchanged(), Int(11), Int(6)}, Image(1, "a", 10, 5)),
               /*full_old_image=*/true);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=11,ts=6");
  EXPECT_EQ(record.remote_new, RowJson("1", "a", "11", "6"));
  EXPECT_EQ(record.remote_old, RowJson("1", "a", "10", "5"));
  EXPECT_EQ(record.final_row, RowJson("1", "a", "11", "6"));
}

TEST_F(ConflictApplierTest, UpdateMissingWithUnchangedValueAndNoFullOldImageKeepsLocal) {
  Use(ConflictType::kUpdateMissing, Simple(ResolverKind::kSourceWins));
  const ConflictRecord record = Conflict(Update({Int(1), Unchanged(), Int(11), Int(6)}, {}));
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_NE(record.reason.find("cannot be inserted"), std::string::npos) << record.reason;
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("1"), "none");
  // The unchanged value is left out of the logged image; there is no row after it.
  EXPECT_EQ(record.remote_new, R"({"balance":"11","id":"1","ts":"6"})");
  EXPECT_EQ(record.final_row, std::nullopt);
}

// The update moved row 1 to key 2, which another row holds here, and row 1 is gone: the
// insert would meet row 2, which is in the way (update_exists; the default stops), and the
// update_missing record must not say the row was applied.
TEST_F(ConflictApplierTest, UpdateMissingOntoATakenKeyIsNotReportedAsApplied) {
  Use(ConflictType::kUpdateMissing, Simple(ResolverKind::kSourceWins));
  engine_.Put(Stored("2", "z", "0", "0"));
  wire::Value null;
  null.mutable_null();
  const std::vector<ConflictRecord> records =
      Conflicts(Update(Image(2, "a", 11, 6), {Int(1), null, null, null}));
  ASSERT_EQ(records.size(), 2u) << Summaries(records);
  EXPECT_EQ(records[0].type, ConflictType::kUpdateExists);
  EXPECT_EQ(records[0].outcome, Outcome::kStopped);
  EXPECT_EQ(records[1].type, ConflictType::kUpdateMissing);
  EXPECT_EQ(records[1].outcome, Outcome::kKeptLocal);
  EXPECT_EQ(records[1].final_row, std::nullopt);
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=z,balance=0,ts=0");
}

TEST_F(ConflictApplierTest, UpdateMissingUnderTheMasterMasterDefaultStops) {
  const ConflictRecord record = Conflict(Update(Image(1, "a", 11, 6), {}));
  EXPECT_EQ(record.type, ConflictType::kUpdateMissing);
  EXPECT_EQ(record.outcome, Outcome::kStopped);
  EXPECT_EQ(record.resolver, "error");
  EXPECT_TRUE(engine_.writes.empty());
}

TEST_F(ConflictApplierTest, UpdateDiffersDeltaMergesTheCounters) {
  Use(ConflictType::kUpdateDiffers, Delta({"balance"}));
  // Locally: name a -> b and balance 10 -> 15; remotely: balance 10 -> 12 and ts 5 -> 8.
  engine_.Put(Stored("1", "b", "15", "5"));
  const ConflictRecord record =
      Conflict(Update(Image(1, "a", 12, 8), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.type, ConflictType::kUpdateDiffers);
  EXPECT_EQ(record.outcome, Outcome::kMerged);
  EXPECT_EQ(record.resolver, "delta(balance)");
  // balance = 15 + 12 - 10; ts changed only remotely; name changed only locally.
  EXPECT_EQ(engine_.writes, std::vector<std::string>{"merge ts=8 balance+=12-10 where id=1"});
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=17,ts=8");
  // The final row is the row read again after the merge.
  EXPECT_EQ(record.final_row, RowJson("1", "b", "17", "8"));
  EXPECT_EQ(record.local, RowJson("1", "b", "15", "5"));
  EXPECT_EQ(record.remote_old, RowJson("1", "a", "10", "5"));
  EXPECT_EQ(record.remote_new, RowJson("1", "a", "12", "8"));
  EXPECT_EQ(record.key, R"({"id":"1"})");
  EXPECT_EQ(engine_.reads, 2);
}

TEST_F(ConflictApplierTest, UpdateDiffersDeltaTakesColumnsChangedOnBothNodesFromTheWinner) {
  Use(ConflictType::kUpdateDiffers, Delta({"balance"}));
  context_.origin = "zeta";  // "zeta" > "west"
  engine_.Put(Stored("1", "b", "15", "5"));
  const ConflictRecord record =
      Conflict(Update(Image(1, "c", 12, 8), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.outcome, Outcome::kMerged);
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=c,balance=17,ts=8");
  EXPECT_EQ(record.final_row, RowJson("1", "c", "17", "8"));
}

TEST_F(ConflictApplierTest, UpdateDiffersLastWriterWins) {
  Use(ConflictType::kUpdateDiffers, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("1", "b", "10", "7"));
  const ConflictRecord record =
      Conflict(Update(Image(1, "c", 10, 8), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=c,balance=10,ts=8");
  EXPECT_EQ(record.final_row, RowJson("1", "c", "10", "8"));
}

TEST_F(ConflictApplierTest, UpdateDiffersTargetWinsKeepsTheRow) {
  Use(ConflictType::kUpdateDiffers, Simple(ResolverKind::kTargetWins));
  engine_.Put(Stored("1", "b", "10", "7"));
  const ConflictRecord record =
      Conflict(Update(Image(1, "c", 10, 8), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(record.final_row, RowJson("1", "b", "10", "7"));
}

// --- delete ----------------------------------------------------------------------------------

TEST_F(ConflictApplierTest, DeleteOfAMatchingRowDeletes) {
  engine_.Put(Stored("1", "a", "10", "5"));
  NoConflict(Delete(Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(engine_.writes, std::vector<std::string>{"delete where id=1"});
  EXPECT_EQ(engine_.RowText("1"), "none");
}

TEST_F(ConflictApplierTest, DeleteWithKeyOnlyOldImageDeletes) {
  engine_.Put(Stored("1", "a", "10", "5"));
  wire::Value null;
  null.mutable_null();
  NoConflict(Delete({Int(1), null, null, null}));
  EXPECT_EQ(engine_.RowText("1"), "none");
}

TEST_F(ConflictApplierTest, DeleteMissingIsSkipped) {
  const ConflictRecord record = Conflict(Delete(Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.type, ConflictType::kDeleteMissing);
  EXPECT_EQ(record.outcome, Outcome::kSkipped);
  EXPECT_EQ(record.resolver, "skip");
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(record.key, R"({"id":"1"})");
  EXPECT_EQ(record.remote_old, RowJson("1", "a", "10", "5"));
  EXPECT_EQ(record.remote_new, std::nullopt);
  EXPECT_EQ(record.local, std::nullopt);
  EXPECT_EQ(record.final_row, std::nullopt);
  EXPECT_FALSE(record.reason.empty());
}

TEST_F(ConflictApplierTest, DeleteMissingUnderSourceWinsIsSkippedToo) {
  Use(ConflictType::kDeleteMissing, Simple(ResolverKind::kSourceWins));
  const ConflictRecord record = Conflict(Delete(Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.outcome, Outcome::kSkipped);
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(record.final_row, std::nullopt);
}

TEST_F(ConflictApplierTest, DeleteDiffersAppliedRemoteDeletes) {
  Use(ConflictType::kDeleteDiffers, Simple(ResolverKind::kSourceWins));
  engine_.Put(Stored("1", "b", "10", "7"));
  const ConflictRecord record = Conflict(Delete(Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.type, ConflictType::kDeleteDiffers);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(engine_.writes, std::vector<std::string>{"delete where id=1"});
  EXPECT_EQ(engine_.RowText("1"), "none");
  EXPECT_EQ(record.local, RowJson("1", "b", "10", "7"));
  EXPECT_EQ(record.remote_old, RowJson("1", "a", "10", "5"));
  EXPECT_EQ(record.final_row, std::nullopt);
}

TEST_F(ConflictApplierTest, DeleteDiffersTargetWinsKeepsTheRow) {
  Use(ConflictType::kDeleteDiffers, Simple(ResolverKind::kTargetWins));
  engine_.Put(Stored("1", "b", "10", "7"));
  const ConflictRecord record = Conflict(Delete(Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=10,ts=7");
  EXPECT_EQ(record.final_row, RowJson("1", "b", "10", "7"));
}

TEST_F(ConflictApplierTest, DeleteDiffersLastWriterWinsLetsTheDeleteWin) {
  Use(ConflictType::kDeleteDiffers, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("1", "b", "10", "7"));
  const ConflictRecord record = Conflict(Delete(Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(engine_.RowText("1"), "none");
}

// --- rows in the way: unique_exists, update_exists ------------------------------------------

wire::Value Null() {
  wire::Value out;
  out.mutable_null();
  return out;
}

// public.t with `name` unique too (as accounts(id PK, email UNIQUE)).
class RowsInTheWayTest : public ConflictApplierTest {
 protected:
  RowsInTheWayTest() { engine_.table.unique_indexes.push_back({{"name"}, false, false}); }
};

TEST_F(RowsInTheWayTest, InsertWithAFreeUniqueValueMeetsNoConflict) {
  engine_.Put(Stored("2", "b", "7", "3"));
  NoConflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
  EXPECT_EQ(engine_.reads, 2);  // the key, then the unique value
}

TEST_F(RowsInTheWayTest, UniqueExistsSourceWinsDeletesTheRowInTheWay) {
  Use(ConflictType::kUniqueExists, Simple(ResolverKind::kSourceWins));
  engine_.Put(Stored("2", "a", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.type, ConflictType::kUniqueExists);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(record.resolver, "source_wins");
  EXPECT_EQ(engine_.writes,
            (std::vector<std::string>{"delete where name=a",
                                      "insert id=1,name=a,balance=10,ts=5 arbiter"}));
  EXPECT_EQ(engine_.RowText("2"), "none");
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
  // The key is the remote change's; the local row is the one in the way.
  EXPECT_EQ(record.key, R"({"id":"1"})");
  EXPECT_EQ(record.local, RowJson("2", "a", "7", "3"));
  EXPECT_EQ(record.remote_new, RowJson("1", "a", "10", "5"));
  EXPECT_EQ(record.final_row, RowJson("1", "a", "10", "5"));
}

TEST_F(RowsInTheWayTest, UniqueExistsTargetWinsWritesNothing) {
  Use(ConflictType::kUniqueExists, Simple(ResolverKind::kTargetWins));
  engine_.Put(Stored("2", "a", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.type, ConflictType::kUniqueExists);
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=a,balance=7,ts=3");
  EXPECT_EQ(engine_.RowText("1"), "none");
  EXPECT_EQ(record.final_row, RowJson("2", "a", "7", "3"));
}

TEST_F(RowsInTheWayTest, UniqueExistsLastWriterWinsRemoteLater) {
  Use(ConflictType::kUniqueExists, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("2", "a", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(record.reason, "remote ts is later");
  EXPECT_EQ(engine_.RowText("2"), "none");
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
}

TEST_F(RowsInTheWayTest, UniqueExistsLastWriterWinsLocalLater) {
  Use(ConflictType::kUniqueExists, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("2", "a", "7", "9"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_EQ(record.reason, "local ts is later");
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=a,balance=7,ts=9");
  EXPECT_EQ(engine_.RowText("1"), "none");
}

TEST_F(RowsInTheWayTest, UniqueExistsUnderTheMasterMasterDefaultStops) {
  engine_.Put(Stored("2", "a", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.type, ConflictType::kUniqueExists);
  EXPECT_EQ(record.outcome, Outcome::kStopped);
  EXPECT_EQ(record.resolver, "error");
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=a,balance=7,ts=3");
}

TEST_F(RowsInTheWayTest, NullUniqueValuesNeverCollide) {
  engine_.Put({"2", std::nullopt, "7", "3"});
  NoConflict(Insert({Int(1), Null(), Int(10), Int(5)}));
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=NULL,balance=10,ts=5");
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=NULL,balance=7,ts=3");
  EXPECT_EQ(engine_.reads, 1);  // a NULL is not looked up
}

TEST_F(RowsInTheWayTest, UpdateKeepingItsOwnUniqueValueMeetsNoConflict) {
  engine_.Put(Stored("1", "a", "10", "5"));
  NoConflict(Update(Image(1, "a", 11, 6), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=11,ts=6");
  EXPECT_EQ(engine_.reads, 2);  // the row, then its own unique value, which finds itself
}

TEST_F(RowsInTheWayTest, UpdateWhoseNewUniqueValueCollidesIsUniqueExists) {
  Use(ConflictType::kUniqueExists, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("1", "a", "10", "5"));
  engine_.Put(Stored("2", "b", "7", "3"));
  const ConflictRecord record =
      Conflict(Update(Image(1, "b", 10, 6), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.type, ConflictType::kUniqueExists);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(record.local, RowJson("2", "b", "7", "3"));
  EXPECT_EQ(record.key, R"({"id":"1"})");
  EXPECT_EQ(engine_.writes,
            (std::vector<std::string>{"delete where name=b",
                                      "update id=1,name=b,balance=10,ts=6 where id=1"}));
  EXPECT_EQ(engine_.RowText("2"), "none");
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=10,ts=6");
}

// Row 2 is later and stays. The updated row lost to it: on the node the update came from, row
// 2's arrival found row 1 in its way and deleted it, so it goes here too.
TEST_F(RowsInTheWayTest, UpdateWhoseNewUniqueValueCollidesKeepsTheLaterRow) {
  Use(ConflictType::kUniqueExists, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("1", "a", "10", "5"));
  engine_.Put(Stored("2", "b", "7", "9"));
  const ConflictRecord record =
      Conflict(Update(Image(1, "b", 10, 6), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_NE(record.reason.find("was deleted"), std::string::npos) << record.reason;
  EXPECT_EQ(engine_.writes, (std::vector<std::string>{"delete where id=1"}));
  EXPECT_EQ(engine_.RowText("1"), "none");
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=b,balance=7,ts=9");
}

// The same for a key moved onto a later row (update_exists, decided by priority).
TEST_F(RowsInTheWayTest, UpdateMovingTheKeyOntoAStrongerRowDeletesTheMovedRow) {
  Use(ConflictType::kUpdateExists, Prioritised({"west", "east"}));
  engine_.Put(Stored("1", "a", "10", "5"));
  engine_.Put(Stored("2", "z", "0", "0"));
  const ConflictRecord record =
      Conflict(Update(Image(2, "a", 10, 5), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.type, ConflictType::kUpdateExists);
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_EQ(engine_.RowText("1"), "none");
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=z,balance=0,ts=0");
}

TEST_F(ConflictApplierTest, UpdateMovingTheKeyOntoAnotherRowIsUpdateExists) {
  Use(ConflictType::kUpdateExists, Simple(ResolverKind::kSourceWins));
  engine_.Put(Stored("1", "a", "10", "5"));
  engine_.Put(Stored("2", "z", "0", "0"));
  const ConflictRecord record =
      Conflict(Update(Image(2, "a", 10, 5), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.type, ConflictType::kUpdateExists);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(record.key, R"({"id":"1"})");
  EXPECT_EQ(record.local, RowJson("2", "z", "0", "0"));
  EXPECT_EQ(engine_.writes,
            (std::vector<std::string>{"delete where id=2",
                                      "update id=2,name=a,balance=10,ts=5 where id=1"}));
  EXPECT_EQ(engine_.RowText("1"), "none");
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=a,balance=10,ts=5");
}

TEST_F(ConflictApplierTest, UpdateExistsTargetWinsWritesNothing) {
  Use(ConflictType::kUpdateExists, Simple(ResolverKind::kTargetWins));
  engine_.Put(Stored("1", "a", "10", "5"));
  engine_.Put(Stored("2", "z", "0", "0"));
  const ConflictRecord record =
      Conflict(Update(Image(2, "a", 10, 5), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.type, ConflictType::kUpdateExists);
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=z,balance=0,ts=0");
}

// Row 2 holds both the new key and the new unique value: one row in the way, resolved once.
TEST_F(RowsInTheWayTest, ARowInTheWayTwiceIsResolvedOnce) {
  Use(ConflictType::kUpdateExists, Simple(ResolverKind::kSourceWins));
  engine_.Put(Stored("1", "a", "10", "5"));
  engine_.Put(Stored("2", "b", "0", "0"));
  const ConflictRecord record =
      Conflict(Update(Image(2, "b", 10, 5), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(record.type, ConflictType::kUpdateExists);
  EXPECT_EQ(record.outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(engine_.RowText("1"), "none");
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=b,balance=10,ts=5");
}

// Two rows in the way, one older and one newer than the remote row: the newer one stays, so
// the change is dropped and the older one is not deleted either.
TEST_F(RowsInTheWayTest, ARowInTheWayThatStaysDropsTheChange) {
  engine_.table.unique_indexes.push_back({{"balance"}, false, false});
  Use(ConflictType::kUniqueExists, ByColumn(ResolverKind::kLastWriterWins, "ts"));
  engine_.Put(Stored("2", "a", "7", "3"));
  engine_.Put(Stored("3", "b", "10", "9"));
  const std::vector<ConflictRecord> records = Conflicts(Insert(Image(1, "a", 10, 5)));
  ASSERT_EQ(records.size(), 2u) << Summaries(records);
  EXPECT_EQ(records[0].local, RowJson("2", "a", "7", "3"));
  EXPECT_EQ(records[0].outcome, Outcome::kKeptLocal);
  EXPECT_NE(records[0].reason.find("dropped"), std::string::npos) << records[0].reason;
  EXPECT_EQ(records[1].local, RowJson("3", "b", "10", "9"));
  EXPECT_EQ(records[1].outcome, Outcome::kKeptLocal);
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=a,balance=7,ts=3");
  EXPECT_EQ(engine_.RowText("1"), "none");
}

// The insert meets row 1 by its key and row 2 by its unique value: both conflicts, rows in the
// way first.
TEST_F(RowsInTheWayTest, InsertExistsAndUniqueExistsAreBothResolved) {
  policy_.fallback = Simple(ResolverKind::kSourceWins);
  engine_.Put(Stored("1", "b", "7", "3"));
  engine_.Put(Stored("2", "a", "7", "3"));
  const std::vector<ConflictRecord> records = Conflicts(Insert(Image(1, "a", 10, 5)));
  ASSERT_EQ(records.size(), 2u) << Summaries(records);
  EXPECT_EQ(records[0].type, ConflictType::kUniqueExists);
  EXPECT_EQ(records[0].outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(records[1].type, ConflictType::kInsertExists);
  EXPECT_EQ(records[1].outcome, Outcome::kAppliedRemote);
  EXPECT_EQ(engine_.RowText("2"), "none");
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
}

// The insert_exists resolution keeps the local row: nothing of the remote row is written, so
// nothing is in its way.
TEST_F(RowsInTheWayTest, ARemoteRowNotWrittenHasNothingInItsWay) {
  Use(ConflictType::kInsertExists, Simple(ResolverKind::kTargetWins));
  engine_.Put(Stored("1", "b", "7", "3"));
  engine_.Put(Stored("2", "a", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.type, ConflictType::kInsertExists);
  EXPECT_EQ(record.outcome, Outcome::kKeptLocal);
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("2"), "id=2,name=a,balance=7,ts=3");
}

// Without the check the engine refuses the row (the stream would retry forever); the fake
// enforces its unique indexes as a database does.
TEST_F(RowsInTheWayTest, TheFakeEnforcesItsUniqueIndexes) {
  engine_.Put(Stored("2", "a", "7", "3"));
  const std::vector<FakeColumn> row = {{"id", "1"}, {"name", "a"}, {"balance", "1"}, {"ts", "1"}};
  EXPECT_FALSE(engine_.Insert(engine_.table, row, nullptr).ok());
}

// --- error resolver, relations ---------------------------------------------------------------

TEST_F(ConflictApplierTest, ErrorResolverStopsAndWritesNothing) {
  engine_.Put(Stored("1", "b", "7", "3"));
  const ConflictRecord inserted = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(inserted.type, ConflictType::kInsertExists);
  EXPECT_EQ(inserted.outcome, Outcome::kStopped);
  EXPECT_EQ(inserted.resolver, "error");
  EXPECT_FALSE(inserted.reason.empty());
  EXPECT_EQ(inserted.final_row, RowJson("1", "b", "7", "3"));

  const ConflictRecord updated =
      Conflict(Update(Image(1, "c", 10, 8), Image(1, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(updated.type, ConflictType::kUpdateDiffers);
  EXPECT_EQ(updated.outcome, Outcome::kStopped);

  Use(ConflictType::kDeleteMissing, Simple(ResolverKind::kError));
  const ConflictRecord deleted = Conflict(Delete(Image(2, "a", 10, 5)), /*full_old_image=*/true);
  EXPECT_EQ(deleted.type, ConflictType::kDeleteMissing);
  EXPECT_EQ(deleted.outcome, Outcome::kStopped);

  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=b,balance=7,ts=3");
}

TEST_F(ConflictApplierTest, TablePolicyOverridesThePolicyForItsTable) {
  Use(ConflictType::kInsertExists, Simple(ResolverKind::kTargetWins));
  policy_.tables["public.t"].fallback = Simple(ResolverKind::kSourceWins);
  engine_.Put(Stored("1", "b", "7", "3"));
  const ConflictRecord record = Conflict(Insert(Image(1, "a", 10, 5)));
  EXPECT_EQ(record.resolver, "source_wins");
  EXPECT_EQ(engine_.RowText("1"), "id=1,name=a,balance=10,ts=5");
}

TEST_F(ConflictApplierTest, RelationWithoutKeyIsRefused) {
  MappedRelation relation = Relation();
  relation.has_key = false;
  for (MappedColumn& column : relation.columns) column.key = false;
  Result<std::vector<ConflictRecord>> applied =
      applier_.Apply(relation, engine_.table, Insert(Image(1, "a", 10, 5)), context_);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.message().find("primary key"), std::string::npos) << applied.message();
  EXPECT_NE(applied.message().find("public.t"), std::string::npos) << applied.message();
  EXPECT_TRUE(engine_.writes.empty());
  EXPECT_EQ(engine_.reads, 0);
}

TEST_F(ConflictApplierTest, FullImageWithoutUniqueIndexIsRefused) {
  engine_.table.unique_indexes.clear();
  Result<std::vector<ConflictRecord>> applied =
      Apply(Delete(Image(1, "a", 10, 5)), /*full_old_image=*/true);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.message().find("primary key"), std::string::npos) << applied.message();
  EXPECT_TRUE(engine_.writes.empty());
}

TEST_F(ConflictApplierTest, DeleteWithoutOldImageIsAnError) {
  Result<std::vector<ConflictRecord>> applied = Apply(Delete({}));
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.message(), "the delete carries no old image: the change stream is malformed");
  EXPECT_EQ(engine_.reads, 0);
}

TEST_F(ConflictApplierTest, UnsupportedOperationIsAnError) {
  Result<std::vector<ConflictRecord>> applied = Apply(Change(wire::RowChange::TRUNCATE, {}));
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.message(), "unsupported operation 4: the change stream is malformed");
  EXPECT_TRUE(engine_.writes.empty());
}

}  // namespace
}  // namespace ferry::apply
