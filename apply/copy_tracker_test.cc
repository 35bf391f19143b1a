#include "apply/copy_tracker.h"

#include <gtest/gtest.h>

#include "wire/testing/change_records.h"

namespace ferry::apply {
namespace {

using wire::testing::Int;
using wire::testing::Text;

CopyProgress Progress(const std::string& table, const std::string& key, uint64_t rows, bool done) {
  return CopyProgress{table, key, rows, done, false};
}

// s.t(name text, id int key, day date key), mapped as it is; `types` overrides source types.
MappedRelation Relation(wire::LogicalType id_type = wire::LOGICAL_TYPE_INT) {
  MappedRelation relation;
  relation.target_schema = "s";
  relation.target_table = "t";
  relation.has_key = true;
  relation.source.set_schema("s");
  relation.source.set_table("t");
  const std::vector<std::pair<std::string, wire::LogicalType>> columns = {
      {"name", wire::LOGICAL_TYPE_TEXT}, {"id", id_type}, {"day", wire::LOGICAL_TYPE_DATE}};
  for (size_t i = 0; i < columns.size(); ++i) {
    wire::Column& source = *relation.source.add_columns();
    source.set_name(columns[i].first);
    source.set_type(columns[i].second);
    source.set_key(i > 0);
    MappedColumn mapped;
    mapped.source_index = static_cast<int>(i);
    mapped.target_name = columns[i].first;
    mapped.key = i > 0;
    mapped.source = source;
    relation.columns.push_back(mapped);
  }
  return relation;
}

// A chunk of s.t keyed by (id, day), ending at (id 20, day "2024-01-02").
wire::CopyChunk Chunk(bool table_done) {
  wire::CopyChunk chunk;
  chunk.set_table("s.t");
  chunk.add_key_columns(1);
  chunk.add_key_columns(2);
  *chunk.add_last_key() = Int(20);
  chunk.add_last_key()->set_date("2024-01-02");
  chunk.set_table_done(table_done);
  wire::Key& kept = *chunk.add_kept();
  *kept.add_values() = Int(15);
  kept.add_values()->set_date("2024-01-01");
  return chunk;
}

std::vector<wire::Value> After() {
  wire::Value day;
  day.set_date("2024-01-01");
  return {Int(10), day};
}

TEST(RecopyDeletionTest, ANumericKeyDeletesTheChunksRangeButTheKeysKept) {
  std::optional<CopyRange> range = RecopyDeletion(Chunk(false), Relation(), After());
  ASSERT_TRUE(range);
  EXPECT_EQ(range->key_columns, (std::vector<int>{1, 2}));
  ASSERT_TRUE(range->after && range->upto);
  // Images of the source columns: the key's values in place, null elsewhere.
  ASSERT_EQ(range->after->size(), 3);
  EXPECT_TRUE(range->after->Get(0).has_null());
  EXPECT_EQ(range->after->Get(1).int64(), 10);
  EXPECT_EQ(range->upto->Get(1).int64(), 20);
  EXPECT_EQ(range->upto->Get(2).date(), "2024-01-02");
  ASSERT_EQ(range->keep.size(), 1u);
  EXPECT_EQ(range->keep[0].Get(1).int64(), 15);

  std::optional<CopyRange> last = RecopyDeletion(Chunk(true), Relation(), After());
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->after);
  EXPECT_FALSE(last->upto) << "the table's last chunk deletes to the end";
  std::optional<CopyRange> first = RecopyDeletion(Chunk(false), Relation(), {});
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->after) << "the first chunk deletes from the start";
}

TEST(RecopyDeletionTest, AnyOtherKeyEmptiesTheTableAtTheFirstChunkOnly) {
  const MappedRelation text_key = Relation(wire::LOGICAL_TYPE_TEXT);
  std::optional<CopyRange> first = RecopyDeletion(Chunk(false), text_key, {});
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->after);
  EXPECT_FALSE(first->upto);
  EXPECT_EQ(first->keep.size(), 1u);
  EXPECT_FALSE(RecopyDeletion(Chunk(false), text_key, After()));
}

TEST(RecopyDeletionTest, KeyOrderIsPortableOnlyForNumbersAndDatesNotConverted) {
  EXPECT_TRUE(KeyOrderIsPortable(Relation(), {1, 2}));
  EXPECT_TRUE(KeyOrderIsPortable(Relation(wire::LOGICAL_TYPE_DECIMAL), {1}));
  EXPECT_FALSE(KeyOrderIsPortable(Relation(), {0, 1})) << "text sorts by collation";
  EXPECT_FALSE(KeyOrderIsPortable(Relation(wire::LOGICAL_TYPE_UUID), {1}));
  EXPECT_FALSE(KeyOrderIsPortable(Relation(), {}));
  MappedRelation converted = Relation();
  converted.columns[1].convert_to = wire::LOGICAL_TYPE_TEXT;
  EXPECT_FALSE(KeyOrderIsPortable(converted, {1}));
}

TEST(CopyTrackerTest, TablesAddedToTheStreamAreCopiedOnlyBySubscribersThatCopy) {
  wire::Welcome welcome;
  welcome.add_replicated_tables("s.a");
  welcome.add_replicated_tables("s.new");
  EXPECT_TRUE(CopyTracker({}).Added(welcome).empty()) << "never copied: copy_data false";
  std::vector<CopyProgress> added = CopyTracker({Progress("s.a", "", 3, true)}).Added(welcome);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].table, "s.new");
  EXPECT_FALSE(added[0].done);
  EXPECT_FALSE(added[0].resync) << "a new table's copy leaves the target's other rows alone";
}

TEST(CopyTrackerTest, ARecopyStartsFromTheFirstRowAndChunksKeepItARecopy) {
  CopyTracker tracker({Progress("s.t", "", 500, true)});
  EXPECT_FALSE(tracker.RecopyAfter("s.t")) << "a finished first copy is not a re-copy";
  const CopyProgress recopy = CopyTracker::Recopy("s.t");
  EXPECT_TRUE(recopy.resync);
  EXPECT_FALSE(recopy.done);
  EXPECT_EQ(recopy.after_key, "");
  tracker.Committed(recopy, 0);
  EXPECT_TRUE(tracker.Copying("s.t"));
  ASSERT_TRUE(tracker.RecopyAfter("s.t"));
  EXPECT_TRUE(tracker.RecopyAfter("s.t")->empty());
  EXPECT_EQ(tracker.Request(false, true).tables_size(), 1);

  const CopyProgress next = tracker.AfterChunk(Chunk(false), 100);
  EXPECT_TRUE(next.resync);
  tracker.Committed(next, 1000);
  ASSERT_TRUE(tracker.RecopyAfter("s.t"));
  ASSERT_EQ(tracker.RecopyAfter("s.t")->size(), 2u);
  EXPECT_EQ((*tracker.RecopyAfter("s.t"))[0].int64(), 20);
}

TEST(CopyKeyTest, RoundTripsAndEmptyIsFromTheStart) {
  google::protobuf::RepeatedPtrField<wire::Value> key;
  *key.Add() = Int(-42);
  *key.Add() = Text("é'\\x");
  const std::string encoded = EncodeCopyKey(key);
  EXPECT_EQ(encoded.find_first_not_of("0123456789abcdef"), std::string::npos);
  auto decoded = DecodeCopyKey(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.message();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].int64(), -42);
  EXPECT_EQ((*decoded)[1].text(), "é'\\x");

  EXPECT_EQ(EncodeCopyKey({}), "");
  auto empty = DecodeCopyKey("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(CopyKeyTest, ForeignTextIsAnErrorThatNamesTheFix) {
  for (const std::string bad : {"abc", "zz", "0a0"}) {
    auto decoded = DecodeCopyKey(bad);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_NE(decoded.message().find("delete the table's row"), std::string::npos);
  }
}

TEST(CopyTrackerTest, FirstContactAsksForEverythingOnlyWhenWanted) {
  CopyTracker fresh({});
  EXPECT_TRUE(fresh.Request(/*never_applied=*/true, /*copy_data=*/true).initial());
  EXPECT_FALSE(fresh.Request(true, /*copy_data=*/false).initial());
  // A subscriber that applied transactions without a copy (seeded, or from before copying
  // existed) is not copied behind its back.
  EXPECT_FALSE(fresh.Request(/*never_applied=*/false, true).initial());
  EXPECT_EQ(fresh.Request(true, true).tables_size(), 0);
}

TEST(CopyTrackerTest, ResumesUnfinishedTablesAfterTheirKey) {
  google::protobuf::RepeatedPtrField<wire::Value> key;
  *key.Add() = Int(500);
  CopyTracker tracker({Progress("public.a", "", 1000, true),
                       Progress("public.b", EncodeCopyKey(key), 500, false),
                       Progress("public.c", "", 0, false)});
  wire::CopyRequest request = tracker.Request(/*never_applied=*/true, true);
  EXPECT_FALSE(request.initial());  // the plan is recorded: resume it, do not start over
  ASSERT_EQ(request.tables_size(), 2);
  EXPECT_EQ(request.tables(0).table(), "public.b");
  ASSERT_EQ(request.tables(0).after_key_size(), 1);
  EXPECT_EQ(request.tables(0).after_key(0).int64(), 500);
  EXPECT_EQ(request.tables(1).table(), "public.c");
  EXPECT_EQ(request.tables(1).after_key_size(), 0);
  EXPECT_TRUE(tracker.Copying("public.b"));
  EXPECT_FALSE(tracker.Copying("public.a"));
  EXPECT_FALSE(tracker.Copying("public.other"));
}

TEST(CopyTrackerTest, PlansOnlyTablesNotRecordedYet) {
  CopyTracker tracker({Progress("public.a", "", 10, true)});
  wire::Welcome welcome;
  welcome.add_copy_tables("public.a");
  welcome.add_copy_tables("public.b");
  std::vector<CopyProgress> planned = tracker.Planned(welcome);
  ASSERT_EQ(planned.size(), 1u);
  EXPECT_EQ(planned[0].table, "public.b");
  EXPECT_EQ(planned[0].rows_copied, 0u);
  EXPECT_FALSE(planned[0].done);
}

TEST(CopyTrackerTest, ChunksAddUpAndStatusReportsProgress) {
  CopyTracker tracker({Progress("public.a", "", 0, false), Progress("public.b", "", 0, false)});
  EXPECT_EQ(tracker.Status().state, "copying");
  wire::CopyChunk chunk;
  chunk.set_table("public.a");
  *chunk.add_last_key() = Int(100);
  chunk.set_rows_estimate(200);
  CopyProgress first = tracker.AfterChunk(chunk, 100);
  EXPECT_EQ(first.rows_copied, 100u);
  EXPECT_FALSE(first.done);
  tracker.Committed(first, chunk.rows_estimate());

  *chunk.mutable_last_key(0) = Int(200);
  chunk.set_table_done(true);
  CopyProgress second = tracker.AfterChunk(chunk, 100);
  EXPECT_EQ(second.rows_copied, 200u);
  EXPECT_TRUE(second.done);
  auto resumed_after = DecodeCopyKey(second.after_key);
  ASSERT_TRUE(resumed_after.ok());
  ASSERT_EQ(resumed_after->size(), 1u);
  EXPECT_EQ((*resumed_after)[0].int64(), 200);
  tracker.Committed(second, chunk.rows_estimate());

  admin::CopyStatus status = tracker.Status();
  EXPECT_EQ(status.state, "copying");
  EXPECT_EQ(status.table, "public.a");
  EXPECT_EQ(status.tables_total, 2u);
  EXPECT_EQ(status.tables_done, 1u);
  EXPECT_EQ(status.rows_copied, 200u);
  EXPECT_GT(status.rows_per_second, 0);

  wire::CopyChunk empty;
  empty.set_table("public.b");
  empty.set_table_done(true);
  tracker.Committed(tracker.AfterChunk(empty, 0), 0);
  status = tracker.Status();
  EXPECT_EQ(status.state, "done");
  EXPECT_EQ(status.tables_done, 2u);
  EXPECT_EQ(status.eta_seconds, 0);
}

}  // namespace
}  // namespace ferry::apply
