// TableVerifier over in-memory tables: both passes, the re-check and the limits.
#include <gtest/gtest.h>

#include <map>

#include "verify/verify.h"
#include "wire/testing/change_records.h"

namespace ferry::verify {
namespace {

using wire::testing::Int;
using wire::testing::Text;

// A table of rows keyed by an integer in column 0, read as a TableReader reads.
class FakeReader final : public capture::TableReader {
 public:
  explicit FakeReader(KeyedRelation table) : table_(std::move(table)) {}

  void Put(int64_t id, const std::string& name) { rows_[id] = {Int(id), Text(name)}; }
  void Erase(int64_t id) { rows_.erase(id); }
  int reads_by_key = 0;

  Result<KeyedRelation> Describe(const std::string&, const std::string&) override { return table_; }
  Result<KeyedRelation> DescribeAnyTable(const std::string&, const std::string&) override {
    return table_;
  }
  const std::map<int64_t, Row>& rows() const { return rows_; }

  Result<capture::Chunk> ReadChunk(const KeyedRelation&, const Key& after, size_t limit) override {
    capture::Chunk chunk;
    auto it = after.empty() ? rows_.begin() : rows_.upper_bound(after[0].int64());
    for (; it != rows_.end() && chunk.rows.size() < limit; ++it) chunk.rows.push_back(it->second);
    chunk.exhausted = it == rows_.end();
    return chunk;
  }

  Result<std::vector<Row>> ReadKeys(const KeyedRelation&, const std::vector<Key>& keys) override {
    ++reads_by_key;
    std::vector<Row> found;
    for (const Key& key : keys) {
      auto it = rows_.find(key.at(0).int64());
      if (it != rows_.end()) found.push_back(it->second);
    }
    return found;
  }

 private:
  KeyedRelation table_;
  std::map<int64_t, Row> rows_;
};

// Sums a FakeReader's rows as a database would: the count and the rows' text.
class FakeChecksummer final : public ChunkChecksummer {
 public:
  explicit FakeChecksummer(const FakeReader& reader) : reader_(reader) {}

  Result<ChunkSum> NextChunk(const KeyedRelation&, const std::vector<int>& columns,
                             const Key& after, size_t limit) override {
    ChunkSum sum;
    auto it = after.empty() ? reader_.rows().begin() : reader_.rows().upper_bound(after[0].int64());
    for (; it != reader_.rows().end() && sum.rows < limit; ++it) {
      Add(it->second, columns, sum);
      sum.last = {it->second[0]};
    }
    return sum;
  }

  Result<ChunkSum> Range(const KeyedRelation&, const std::vector<int>& columns, const Key& after,
                         const Key& upto) override {
    ChunkSum sum;
    for (const auto& [id, row] : reader_.rows()) {
      if ((after.empty() || id > after[0].int64()) && (upto.empty() || id <= upto[0].int64())) {
        Add(row, columns, sum);
      }
    }
    return sum;
  }

 private:
  static void Add(const Row& row, const std::vector<int>& columns, ChunkSum& sum) {
    ++sum.rows;
    for (int column : columns) sum.checksum += row[column].ShortDebugString() + ";";
  }
  const FakeReader& reader_;
};

KeyedRelation Items() {
  KeyedRelation table;
  table.relation.set_schema("public");
  table.relation.set_table("items");
  wire::Column* id = table.relation.add_columns();
  id->set_name("id");
  id->set_type(wire::LOGICAL_TYPE_INT);
  id->set_source_type("int4");
  id->set_key(true);
  wire::Column* name = table.relation.add_columns();
  name->set_name("name");
  name->set_type(wire::LOGICAL_TYPE_TEXT);
  name->set_source_type("text");
  table.key = {0};
  return table;
}

class VerifyTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int64_t id = 1; id <= 5; ++id) {
      source_.Put(id, "row " + std::to_string(id));
      target_.Put(id, "row " + std::to_string(id));
    }
    options_.recheck_delay = std::chrono::milliseconds(0);
  }

  Result<TableReport> Run(const TableVerifier::Sleep& sleep = [](std::chrono::milliseconds) {}) {
    Result<apply::MappedRelation> mapped = apply::TableMapper().Map(table_.relation);
    EXPECT_TRUE(mapped.ok()) << mapped.message();
    Result<RowPlan> plan =
        RowPlan::Build(*mapped, table_, Engine::kPostgres, table_, Engine::kPostgres, true);
    EXPECT_TRUE(plan.ok()) << plan.message();
    plan_.emplace(std::move(plan).value());
    TableVerifier verifier(source_, table_, target_, table_, *plan_, options_, sleep);
    if (checksums_) {
      std::optional<RowPlan::ChecksumColumns> columns = plan_->ChecksumColumnsIfComparable();
      EXPECT_TRUE(columns.has_value());
      if (columns) verifier.UseChecksums(source_sums_, target_sums_, *columns);
    }
    return verifier.Run();
  }

  static std::vector<std::string> Keys(const DifferenceList& list) {
    std::vector<std::string> keys;
    for (const ListedDifference& difference : list.listed) {
      keys.push_back(difference.key.at(0).first + "=" + DisplayText(difference.key.at(0).second));
    }
    return keys;
  }

  KeyedRelation table_ = Items();
  FakeReader source_{Items()};
  FakeReader target_{Items()};
  VerifyOptions options_;
  std::optional<RowPlan> plan_;
  bool checksums_ = false;
  FakeChecksummer source_sums_{source_};
  FakeChecksummer target_sums_{target_};
};

TEST_F(VerifyTableTest, EqualTablesReportNothing) {
  options_.chunk_rows = 2;  // three chunks per pass
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_TRUE(report->equal());
  EXPECT_EQ(report->source_rows, 5u);
  EXPECT_EQ(report->target_rows, 5u);
  EXPECT_EQ(report->recheck_rounds, 0);
  EXPECT_EQ(report->source_table, "public.items");
}

TEST_F(VerifyTableTest, FindsMissingExtraAndDifferingRowsByKey) {
  target_.Erase(2);
  target_.Put(9, "extra");
  target_.Put(4, "changed");
  options_.chunk_rows = 2;
  options_.columns = true;
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_FALSE(report->equal());
  EXPECT_EQ(Keys(report->missing), std::vector<std::string>{"id=2"});
  EXPECT_EQ(Keys(report->extra), std::vector<std::string>{"id=9"});
  EXPECT_EQ(Keys(report->differing), std::vector<std::string>{"id=4"});
  EXPECT_EQ(report->differing.listed[0].columns, std::vector<std::string>{"name"});
  EXPECT_EQ(report->source_rows, 5u);
  EXPECT_EQ(report->target_rows, 5u);
  // Re-checked once: nothing changed, so no second round.
  EXPECT_EQ(report->recheck_rounds, 1);
}

TEST_F(VerifyTableTest, ColumnsAreNamedOnlyOnRequest) {
  target_.Put(4, "changed");
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->differing.count, 1u);
  EXPECT_TRUE(report->differing.listed[0].columns.empty());
}

TEST_F(VerifyTableTest, RowsInFlightAreNotReportedOnceTheyArrive) {
  // The target lags: row 6 and the change to row 3 arrive while verify waits to re-check.
  source_.Put(6, "new");
  source_.Put(3, "updated");
  options_.recheck_delay = std::chrono::milliseconds(1234);
  std::vector<std::chrono::milliseconds> waits;
  Result<TableReport> report = Run([&](std::chrono::milliseconds delay) {
    waits.push_back(delay);
    target_.Put(6, "new");
    target_.Put(3, "updated");
  });
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_TRUE(report->equal());
  EXPECT_EQ(report->recheck_rounds, 1);
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(1234)});
}

TEST_F(VerifyTableTest, RecheckRunsWhileDifferencesShrink) {
  source_.Put(6, "new");
  source_.Put(7, "new");
  int round = 0;
  Result<TableReport> report = Run([&](std::chrono::milliseconds) {
    if (++round == 1) target_.Put(6, "new");  // one arrives; 7 never does
  });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->recheck_rounds, 2);  // the second round resolved nothing: stop
  EXPECT_EQ(Keys(report->missing), std::vector<std::string>{"id=7"});
}

TEST_F(VerifyTableTest, RecheckReclassifiesARowThatChangedKind) {
  target_.Put(4, "changed");
  // Deleted on the source while verify waits, not yet on the target: now extra.
  Result<TableReport> report = Run([&](std::chrono::milliseconds) { source_.Erase(4); });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->differing.count, 0u);
  EXPECT_EQ(Keys(report->extra), std::vector<std::string>{"id=4"});
}

TEST_F(VerifyTableTest, NoRecheckWhenRoundsAreZero) {
  target_.Erase(1);
  options_.recheck_rounds = 0;
  bool slept = false;
  Result<TableReport> report = Run([&](std::chrono::milliseconds) { slept = true; });
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(slept);
  EXPECT_EQ(report->missing.count, 1u);
  EXPECT_EQ(report->recheck_rounds, 0);
}

TEST_F(VerifyTableTest, MemoryStaysBoundedWithManyDifferences) {
  for (int64_t id = 100; id < 150; ++id) source_.Put(id, "only on the source");
  options_.listed_keys = 3;
  options_.rechecked_keys = 10;
  options_.chunk_rows = 7;
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->missing.count, 50u);
  EXPECT_EQ(report->missing.listed.size(), 3u);
  EXPECT_EQ(report->not_rechecked, 40u);
  EXPECT_EQ(Keys(report->missing), (std::vector<std::string>{"id=100", "id=101", "id=102"}));
}

TEST_F(VerifyTableTest, EmptyTablesAreEqual) {
  for (int64_t id = 1; id <= 5; ++id) {
    source_.Erase(id);
    target_.Erase(id);
  }
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->equal());
  EXPECT_EQ(report->source_rows, 0u);
}

// ---- chunk checksums ---------------------------------------------------------------------

TEST_F(VerifyTableTest, EqualChunksByChecksumAreNotReadRowByRow) {
  checksums_ = true;
  options_.chunk_rows = 2;
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_TRUE(report->equal());
  EXPECT_EQ(report->source_rows, 5u);
  EXPECT_EQ(report->target_rows, 5u);
  EXPECT_EQ(report->checksum_chunks, 3u);
  EXPECT_EQ(report->chunks_read_row_by_row, 0u);
  EXPECT_EQ(source_.reads_by_key + target_.reads_by_key, 0);
}

TEST_F(VerifyTableTest, OnlyChunksWhoseChecksumsDifferAreReadAndEveryKindIsFound) {
  checksums_ = true;
  options_.chunk_rows = 2;  // chunks (..2], (2..4], (4..)
  options_.columns = true;
  target_.Put(4, "changed");
  target_.Erase(1);
  target_.Put(9, "extra beyond the source's last key");
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(Keys(report->missing), std::vector<std::string>{"id=1"});
  EXPECT_EQ(Keys(report->differing), std::vector<std::string>{"id=4"});
  EXPECT_EQ(report->differing.listed[0].columns, std::vector<std::string>{"name"});
  EXPECT_EQ(Keys(report->extra), std::vector<std::string>{"id=9"});
  EXPECT_EQ(report->checksum_chunks, 3u);
  EXPECT_EQ(report->chunks_read_row_by_row, 3u);
  EXPECT_EQ(report->target_rows, 5u);
}

TEST_F(VerifyTableTest, ManyExtraRowsAfterTheLastChunkAreReadInChunks) {
  checksums_ = true;
  options_.chunk_rows = 4;
  for (int64_t id = 10; id < 30; ++id) target_.Put(id, "extra");
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(report->extra.count, 20u);
  EXPECT_EQ(report->missing.count + report->differing.count, 0u);
  EXPECT_EQ(report->chunks_read_row_by_row, 1u);
}

TEST_F(VerifyTableTest, EmptySourceChecksumsTheWholeTarget) {
  checksums_ = true;
  for (int64_t id = 1; id <= 5; ++id) source_.Erase(id);
  Result<TableReport> report = Run();
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(report->extra.count, 5u);
  EXPECT_EQ(report->checksum_chunks, 1u);
}

}  // namespace
}  // namespace ferry::verify
