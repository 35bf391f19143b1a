#include "capture/table_copier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "wire/testing/change_records.h"

namespace ferry::capture {
namespace {

// Positions in these tests are plain numbers; the fence says how each one stands.
wire::Position Pos(int n) {
  wire::Position position;
  position.set_engine("test");
  position.set_value(std::to_string(n));
  return position;
}

wire::Begin BeginAt(int n) {
  wire::Begin begin;
  *begin.mutable_position() = Pos(n);
  return begin;
}

using wire::testing::Int;
using wire::testing::Text;

// Transactions up to `included` are in the read, those from `after` on are not; in between
// they are concurrent. The stream has passed the fence at a head of `after` or more.
class NumberFence : public ChunkFence {
 public:
  NumberFence(int included, int after) : included_(included), after_(after) {}
  Result<FencePlace> Place(const wire::Begin& transaction) const override {
    const int n = std::stoi(transaction.position().value());
    if (n <= included_) return FencePlace::kIncluded;
    if (n >= after_) return FencePlace::kAfter;
    return FencePlace::kConcurrent;
  }
  Result<bool> PassedBy(const wire::Position& head) const override {
    return std::stoi(head.value()) >= after_;
  }
  std::string Describe() const override { return "test fence"; }

 private:
  int included_;
  int after_;
};

// One table "public.t" (id int key, name text) held in memory; every read gets the fence the
// test set last.
class MemoryChunkReader : public ChunkReader {
 public:
  explicit MemoryChunkReader(std::map<int64_t, std::string>* rows) : rows_(rows) {}
  Result<std::vector<std::string>> TablesToCopy() override {
    return std::vector<std::string>{"public.t"};
  }
  Result<KeyedRelation> Describe(const std::string& schema, const std::string& table) override {
    KeyedRelation keyed;
    keyed.relation.set_id(7);
    keyed.relation.set_schema(schema);
    keyed.relation.set_table(table);
    auto* id = keyed.relation.add_columns();
    id->set_name("id");
    id->set_key(true);
    keyed.relation.add_columns()->set_name("name");
    if (keyed_) keyed.key = {0};
    return keyed;
  }
  Result<uint64_t> EstimateRows(const KeyedRelation&) override { return rows_->size(); }
  Result<std::vector<wire::SecondaryIndex>> SecondaryIndexes(const KeyedRelation&) override {
    return indexes;
  }
  Result<FencedChunk> ReadChunk(const KeyedRelation&, const Key& after, size_t limit) override {
    ++reads;
    last_limit = limit;
    FencedChunk read;
    auto it = after.empty() ? rows_->begin() : rows_->upper_bound(after[0].int64());
    for (; it != rows_->end() && read.chunk.rows.size() < limit; ++it) {
      read.chunk.rows.push_back({Int(it->first), Text(it->second)});
    }
    read.chunk.exhausted = it == rows_->end();
    read.fence = std::make_unique<NumberFence>(included, after_from);
    return read;
  }
  int included = 0;
  int after_from = 1;
  int reads = 0;
  size_t last_limit = 0;
  bool keyed_ = true;
  std::vector<wire::SecondaryIndex> indexes;

 private:
  std::map<int64_t, std::string>* rows_;
};

struct SentFrame {
  wire::FrameType type;
  std::string payload;
};

class TableCopierTest : public ::testing::Test {
 protected:
  void MakeCopier(size_t chunk_rows, std::vector<wire::TableCopy> tables = {},
                  size_t parallel_tables = 1, size_t max_rows_per_second = 0) {
    if (tables.empty()) {
      wire::TableCopy table;
      table.set_table("public.t");
      tables.push_back(table);
    }
    auto reader = std::make_unique<MemoryChunkReader>(&source_);
    reader_ = reader.get();
    copier_ = std::make_unique<TableCopier>(
        std::move(reader), std::move(tables),
        TableCopierOptions{chunk_rows, 2, 1 << 20, parallel_tables, max_rows_per_second},
        [this](wire::FrameType type, const google::protobuf::Message& message) {
          sent_.push_back({type, message.SerializeAsString()});
          return Status::Ok();
        });
  }

  // The ids of the rows the chunks sent so far carry, and their Begins' CopyChunks.
  std::vector<int64_t> SentIds() const {
    std::vector<int64_t> ids;
    for (const SentFrame& frame : sent_) {
      if (frame.type != wire::FrameType::kChanges) continue;
      wire::Changes changes;
      EXPECT_TRUE(changes.ParseFromString(frame.payload));
      for (const auto& change : changes.changes()) {
        if (change.has_row()) ids.push_back(change.row().new_values(0).int64());
      }
    }
    return ids;
  }
  std::vector<wire::CopyChunk> SentChunks() const {
    std::vector<wire::CopyChunk> chunks;
    for (const SentFrame& frame : sent_) {
      if (frame.type != wire::FrameType::kBegin) continue;
      wire::Begin begin;
      EXPECT_TRUE(begin.ParseFromString(frame.payload));
      chunks.push_back(begin.copy());
    }
    return chunks;
  }

  wire::RowChange Update(int64_t id, bool unchanged_name = false) {
    wire::RowChange row;
    row.set_op(wire::RowChange::UPDATE);
    row.set_relation_id(7);
    *row.add_new_values() = Int(id);
    if (unchanged_name) {
      row.add_new_values()->mutable_unchanged();
    } else {
      *row.add_new_values() = Text("new");
    }
    return row;
  }
  wire::Relation StreamRelation() {
    wire::Relation relation;
    relation.set_id(7);
    relation.set_schema("public");
    relation.set_table("t");
    return relation;
  }

  std::map<int64_t, std::string> source_{{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}, {5, "e"}};
  MemoryChunkReader* reader_ = nullptr;
  std::unique_ptr<TableCopier> copier_;
  std::vector<SentFrame> sent_;
};

TEST_F(TableCopierTest, AChunkWaitsForTheFirstTransactionItLacksAndGoesBeforeIt) {
  MakeCopier(3);
  reader_->included = 10;
  reader_->after_from = 11;
  ASSERT_TRUE(copier_->Poll(std::nullopt).ok());
  EXPECT_TRUE(sent_.empty());  // no head known yet, no transaction: the chunk waits
  ASSERT_TRUE(copier_->OnBegin(BeginAt(9)).ok());  // included: streamed before the chunk
  copier_->OnCommit();
  EXPECT_TRUE(sent_.empty());
  ASSERT_TRUE(copier_->OnBegin(BeginAt(11)).ok());  // lacking: the chunk goes first
  ASSERT_EQ(sent_.size(), 4u);  // Begin, Changes(relation + 1 row), Changes(2 rows), Commit
  EXPECT_EQ(sent_.front().type, wire::FrameType::kBegin);
  EXPECT_EQ(sent_.back().type, wire::FrameType::kCommit);
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(SentChunks().size(), 1u);
  EXPECT_EQ(SentChunks()[0].table(), "public.t");
  EXPECT_EQ(SentChunks()[0].last_key(0).int64(), 3);
  EXPECT_FALSE(SentChunks()[0].table_done());
  EXPECT_EQ(SentChunks()[0].rows_estimate(), 5u);
  copier_->OnCommit();
  EXPECT_FALSE(copier_->done());
}

TEST_F(TableCopierTest, AHeadPastTheFenceSendsTheChunkAndTheTableEnds) {
  MakeCopier(3);
  reader_->after_from = 20;
  ASSERT_TRUE(copier_->Poll(Pos(19)).ok());
  EXPECT_TRUE(sent_.empty());
  ASSERT_TRUE(copier_->OnHead(Pos(20)).ok());
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 3}));
  ASSERT_TRUE(copier_->Poll(Pos(20)).ok());  // next chunk, already passed
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  ASSERT_EQ(SentChunks().size(), 2u);
  EXPECT_TRUE(SentChunks()[1].table_done());
  EXPECT_TRUE(copier_->done());
}

TEST_F(TableCopierTest, RowsAConcurrentTransactionTouchedAreLeftOutButTheNextChunkGoesOn) {
  MakeCopier(3);
  reader_->included = 10;
  reader_->after_from = 20;
  ASSERT_TRUE(copier_->Poll(std::nullopt).ok());
  copier_->OnRelation(StreamRelation());
  ASSERT_TRUE(copier_->OnBegin(BeginAt(15)).ok());  // concurrent
  copier_->OnRow(Update(3));                        // the chunk's last row
  copier_->OnCommit();
  ASSERT_TRUE(copier_->OnBegin(BeginAt(20)).ok());
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2}));
  // Resumes after the last row read, not the last row sent: row 3 is the stream's.
  EXPECT_EQ(SentChunks()[0].last_key(0).int64(), 3);
  // The chunk names its key's columns and the key it left out, which a re-copy keeps.
  EXPECT_EQ(SentChunks()[0].key_columns_size(), 1);
  EXPECT_EQ(SentChunks()[0].key_columns(0), 0u);
  ASSERT_EQ(SentChunks()[0].kept_size(), 1);
  EXPECT_EQ(SentChunks()[0].kept(0).values(0).int64(), 3);
  copier_->OnCommit();
  reader_->included = 25;  // a later read sees every transaction streamed so far
  reader_->after_from = 26;
  ASSERT_TRUE(copier_->Poll(Pos(26)).ok());
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 4, 5}));
}

TEST_F(TableCopierTest, AConcurrentUpdateWithoutEveryValueMakesTheChunkBeReadAgain) {
  MakeCopier(3);
  reader_->included = 10;
  reader_->after_from = 20;
  ASSERT_TRUE(copier_->Poll(std::nullopt).ok());
  copier_->OnRelation(StreamRelation());
  ASSERT_TRUE(copier_->OnBegin(BeginAt(15)).ok());
  copier_->OnRow(Update(2, /*unchanged_name=*/true));
  copier_->OnCommit();
  ASSERT_TRUE(copier_->OnBegin(BeginAt(21)).ok());
  EXPECT_TRUE(sent_.empty());  // dropped, not sent
  copier_->OnCommit();
  reader_->included = 30;
  reader_->after_from = 31;
  ASSERT_TRUE(copier_->Poll(Pos(31)).ok());
  EXPECT_EQ(reader_->reads, 2);
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(TableCopierTest, ARowOfAnotherTableInAConcurrentTransactionLeavesTheChunkWhole) {
  MakeCopier(5);
  reader_->included = 10;
  reader_->after_from = 20;
  ASSERT_TRUE(copier_->Poll(std::nullopt).ok());
  wire::Relation other = StreamRelation();
  other.set_id(8);
  other.set_table("other");
  copier_->OnRelation(other);
  ASSERT_TRUE(copier_->OnBegin(BeginAt(15)).ok());
  wire::RowChange row = Update(2);
  row.set_relation_id(8);
  copier_->OnRow(row);
  copier_->OnCommit();
  ASSERT_TRUE(copier_->OnHead(Pos(20)).ok());
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(copier_->done());
}

TEST_F(TableCopierTest, AReadThatMissedATransactionAlreadyStreamedIsRepeated) {
  MakeCopier(5);
  ASSERT_TRUE(copier_->OnBegin(BeginAt(5)).ok());  // streamed before any read
  copier_->OnCommit();
  reader_->included = 4;  // the read began while transaction 5 was still committing
  reader_->after_from = 6;
  ASSERT_TRUE(copier_->Poll(Pos(6)).ok());
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(reader_->reads, 1);
}

TEST_F(TableCopierTest, WithoutAPaceTheNextChunkIsDueAtOnceAndNoneWhileOneWaits) {
  MakeCopier(3);
  reader_->after_from = 20;
  EXPECT_EQ(copier_->TimeToNextRead(), std::chrono::milliseconds(0));
  ASSERT_TRUE(copier_->Poll(Pos(19)).ok());
  EXPECT_GE(copier_->TimeToNextRead(), std::chrono::minutes(1));  // the chunk waits for the stream
  ASSERT_TRUE(copier_->OnHead(Pos(20)).ok());
  EXPECT_EQ(copier_->TimeToNextRead(), std::chrono::milliseconds(0));
}

TEST_F(TableCopierTest, APacedCopyReadsTheNextChunkOnlyOnceItsRowsAreDue) {
  MakeCopier(3, {}, 1, /*max_rows_per_second=*/10);  // a chunk of 3 rows costs 300 ms
  ASSERT_TRUE(copier_->Poll(Pos(1)).ok());           // read, and sent: the fence is passed
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 3}));
  const std::chrono::milliseconds due = copier_->TimeToNextRead();
  EXPECT_GT(due, std::chrono::milliseconds(200));
  EXPECT_LE(due, std::chrono::milliseconds(300));
  ASSERT_TRUE(copier_->Poll(Pos(1)).ok());
  EXPECT_EQ(reader_->reads, 1);  // not due yet
  std::this_thread::sleep_for(due);
  ASSERT_TRUE(copier_->Poll(Pos(1)).ok());
  EXPECT_EQ(reader_->reads, 2);
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(copier_->done());
}

// The tables of each chunk sent, in order, when every chunk's fence is already passed.
std::vector<std::string> TablesInTurn(TableCopier& copier,
                                      const std::function<std::vector<wire::CopyChunk>()>& sent) {
  for (int poll = 0; poll < 20 && !copier.done(); ++poll) EXPECT_TRUE(copier.Poll(Pos(1)).ok());
  std::vector<std::string> tables;
  for (const wire::CopyChunk& chunk : sent()) tables.push_back(chunk.table());
  return tables;
}

std::vector<wire::TableCopy> Tables(const std::vector<std::string>& names) {
  std::vector<wire::TableCopy> tables;
  for (const std::string& name : names) {
    tables.emplace_back();
    tables.back().set_table(name);
  }
  return tables;
}

TEST_F(TableCopierTest, TablesCopiedAtOnceTakeTurnsChunkByChunk) {
  MakeCopier(3, Tables({"public.a", "public.b", "public.c"}), /*parallel_tables=*/2);
  EXPECT_EQ(TablesInTurn(*copier_, [&] { return SentChunks(); }),
            (std::vector<std::string>{"public.a", "public.b", "public.a", "public.b", "public.c",
                                      "public.c"}));
  EXPECT_TRUE(copier_->done());
  // Each table's chunks still come in key order, from its first row to its last.
  std::vector<wire::CopyChunk> chunks = SentChunks();
  EXPECT_EQ(chunks[0].last_key(0).int64(), 3);
  EXPECT_EQ(chunks[2].last_key(0).int64(), 5);
  EXPECT_TRUE(chunks[2].table_done());
  EXPECT_FALSE(chunks[1].table_done());
}

TEST_F(TableCopierTest, OneTableAtATimeCopiesEachWholeBeforeTheNext) {
  MakeCopier(3, Tables({"public.a", "public.b"}), /*parallel_tables=*/1);
  EXPECT_EQ(TablesInTurn(*copier_, [&] { return SentChunks(); }),
            (std::vector<std::string>{"public.a", "public.a", "public.b", "public.b"}));
}

TEST_F(TableCopierTest, AResumedTableStartsAfterItsKeyAndAnEmptyRestEndsIt) {
  wire::TableCopy resumed;
  resumed.set_table("public.t");
  *resumed.add_after_key() = Int(5);
  MakeCopier(3, {resumed});
  ASSERT_TRUE(copier_->Poll(Pos(1)).ok());
  ASSERT_EQ(SentChunks().size(), 1u);
  EXPECT_TRUE(SentChunks()[0].table_done());
  EXPECT_EQ(SentChunks()[0].last_key(0).int64(), 5);  // unchanged: nothing beyond it
  EXPECT_TRUE(SentIds().empty());
  EXPECT_TRUE(copier_->done());
}

TEST_F(TableCopierTest, ATableWithoutKeyIsCopiedWholeInOneChunk) {
  MakeCopier(5);
  reader_->keyed_ = false;
  ASSERT_TRUE(copier_->Poll(Pos(1)).ok());
  EXPECT_EQ(reader_->last_limit, 6u);  // one more than a chunk, to tell a table too large
  EXPECT_EQ(SentIds(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  ASSERT_EQ(SentChunks().size(), 1u);
  EXPECT_TRUE(SentChunks()[0].whole_table());
  EXPECT_TRUE(SentChunks()[0].table_done());
  EXPECT_EQ(SentChunks()[0].last_key_size(), 0);
  EXPECT_TRUE(copier_->done());
}

TEST_F(TableCopierTest, ATableWithoutKeyLargerThanAChunkIsAnErrorThatNamesTheFixes) {
  MakeCopier(4);
  reader_->keyed_ = false;
  Status status = copier_->Poll(Pos(1));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no primary key"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("copy_chunk_rows"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("copy_data: false"), std::string::npos) << status.message();
  EXPECT_TRUE(sent_.empty());
}

TEST_F(TableCopierTest, AConcurrentChangeToATableWithoutKeyMakesItBeReadAgain) {
  MakeCopier(5);
  reader_->keyed_ = false;
  reader_->included = 10;
  reader_->after_from = 20;
  ASSERT_TRUE(copier_->Poll(std::nullopt).ok());
  copier_->OnRelation(StreamRelation());
  ASSERT_TRUE(copier_->OnBegin(BeginAt(15)).ok());
  copier_->OnRow(Update(9));  // no row of the chunk has this key, but rows cannot be told apart
  copier_->OnCommit();
  ASSERT_TRUE(copier_->OnBegin(BeginAt(20)).ok());
  EXPECT_TRUE(sent_.empty());
}

TEST_F(TableCopierTest, SecondaryIndexesGoWithTheTablesLastChunkOnly) {
  MakeCopier(3);
  wire::SecondaryIndex index;
  index.set_name("t_name");
  index.add_columns("name");
  reader_->indexes = {index};
  reader_->after_from = 20;
  ASSERT_TRUE(copier_->Poll(Pos(20)).ok());
  ASSERT_TRUE(copier_->Poll(Pos(20)).ok());
  ASSERT_EQ(SentChunks().size(), 2u);
  EXPECT_EQ(SentChunks()[0].indexes_size(), 0);
  ASSERT_TRUE(SentChunks()[1].table_done());
  ASSERT_EQ(SentChunks()[1].indexes_size(), 1);
  EXPECT_EQ(SentChunks()[1].indexes(0).name(), "t_name");
  EXPECT_EQ(SentChunks()[1].indexes(0).columns(0), "name");
}

TEST(GroupSecondaryIndexesTest, RowsOfAnIndexMakeOneIndexAndOneNotCarriedIsLeftOut) {
  std::vector<IndexColumnRow> rows = {
      {"a_b", false, "a", 0, ""},
      {"a_b", false, "b", 0, ""},
      {"by_expr", false, "", 0, "an expression index"},
      {"by_expr", false, "c", 0, ""},
      {"u_text", true, "t", 10, ""},
  };
  std::vector<wire::SecondaryIndex> indexes = GroupSecondaryIndexes("s.t", rows);
  ASSERT_EQ(indexes.size(), 2u);
  EXPECT_EQ(indexes[0].name(), "a_b");
  EXPECT_FALSE(indexes[0].unique());
  ASSERT_EQ(indexes[0].columns_size(), 2);
  EXPECT_EQ(indexes[0].columns(1), "b");
  EXPECT_EQ(indexes[0].prefix_lengths_size(), 0);  // no prefix: left empty
  EXPECT_EQ(indexes[1].name(), "u_text");
  EXPECT_TRUE(indexes[1].unique());
  ASSERT_EQ(indexes[1].prefix_lengths_size(), 1);
  EXPECT_EQ(indexes[1].prefix_lengths(0), 10u);
}

TEST(EncodeKeyTest, EqualExactlyWhenTheKeysAre) {
  EXPECT_EQ(EncodeKey({Int(1), Text("a")}), EncodeKey({Int(1), Text("a")}));
  EXPECT_NE(EncodeKey({Int(1), Text("a")}), EncodeKey({Int(1), Text("b")}));
  EXPECT_NE(EncodeKey({Text("ab"), Text("c")}), EncodeKey({Text("a"), Text("bc")}));
  EXPECT_NE(EncodeKey({Int(1)}), EncodeKey({Text("1")}));
}

}  // namespace
}  // namespace ferry::capture
