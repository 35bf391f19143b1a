#include "capture/origin_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace ferry::capture {
namespace {

constexpr uint32_t kMarker = 1;
constexpr uint32_t kOrders = 2;
constexpr uint32_t kProgress = 3;

wire::Relation MakeRelation(uint32_t id, const std::string& schema, const std::string& table,
                            const std::vector<std::string>& columns) {
  wire::Relation relation;
  relation.set_id(id);
  relation.set_schema(schema);
  relation.set_table(table);
  for (const std::string& name : columns) relation.add_columns()->set_name(name);
  return relation;
}

wire::Relation MarkerRelation() {
  return MakeRelation(kMarker, "ferry_meta", "checkpoints",
                      {"upstream", "engine", "position", "commit_time", "origin",
                       "origin_commit_us", "applied_at"});
}

// copy_progress as an upgraded ferry_meta has it: origin came last.
wire::Relation ProgressRelation() {
  return MakeRelation(kProgress, "ferry_meta", "copy_progress",
                      {"upstream", "source_table", "after_key", "rows_copied", "done", "updated_at",
                       "resync", "created_table", "origin"});
}

// The progress upsert a copy chunk's transaction starts with; origin `origin` ("" for NULL).
wire::RowChange ProgressRow(const std::string& origin,
                            wire::RowChange::Op op = wire::RowChange::UPDATE) {
  wire::RowChange row;
  row.set_op(op);
  row.set_relation_id(kProgress);
  for (int i = 0; i < 9; ++i) row.add_new_values()->mutable_null();
  row.mutable_new_values(3)->set_int64(500);
  if (!origin.empty()) row.mutable_new_values(8)->set_text(origin);
  return row;
}

wire::Relation OrdersRelation() { return MakeRelation(kOrders, "public", "orders", {"id"}); }

wire::Begin MakeBegin(const std::string& lsn) {
  wire::Begin begin;
  begin.mutable_position()->set_engine("postgres");
  begin.mutable_position()->set_value(lsn);
  begin.set_commit_time_us(2000);
  return begin;
}

wire::Commit MakeCommit(const std::string& lsn) {
  wire::Commit commit;
  commit.mutable_position()->set_engine("postgres");
  commit.mutable_position()->set_value(lsn);
  return commit;
}

// The checkpoint upsert an apply agent writes first: origin `origin`, written there at 1000 µs.
wire::RowChange MarkerRow(const std::string& origin,
                          wire::RowChange::Op op = wire::RowChange::UPDATE) {
  wire::RowChange row;
  row.set_op(op);
  row.set_relation_id(kMarker);
  for (int i = 0; i < 7; ++i) row.add_new_values()->mutable_null();
  if (!origin.empty()) row.mutable_new_values(4)->set_text(origin);
  row.mutable_new_values(5)->set_int64(1000);
  return row;
}

wire::RowChange OrderRow(int64_t id) {
  wire::RowChange row;
  row.set_op(wire::RowChange::INSERT);
  row.set_relation_id(kOrders);
  row.add_new_values()->set_int64(id);
  return row;
}

// What the filter sends for `events`, in order, as short names: B(origin), R(table), I(id), C, H.
std::vector<std::string> Filter(OriginFilter& filter, std::vector<SourceEvent> events) {
  std::vector<std::string> sent;
  for (SourceEvent& event : events) {
    for (SourceEvent& out : filter.Take(std::move(event))) {
      if (auto* begin = std::get_if<wire::Begin>(&out)) {
        std::string tag = "B(" + begin->origin();
        if (begin->origin_commit_time_us() != 0)
          tag += "@" + std::to_string(begin->origin_commit_time_us());
        sent.push_back(tag + ")");
      } else if (auto* relation = std::get_if<wire::Relation>(&out)) {
        sent.push_back("R(" + relation->table() + ")");
      } else if (auto* row = std::get_if<wire::RowChange>(&out)) {
        sent.push_back("I(" + std::to_string(row->new_values(0).int64()) + ")");
      } else if (std::holds_alternative<wire::Commit>(out)) {
        sent.push_back("C");
      } else if (std::holds_alternative<SourceHeartbeat>(out)) {
        sent.push_back("H");
      }
    }
  }
  return sent;
}

using Sent = std::vector<std::string>;

TEST(OriginFilterTest, ALocalTransactionGoesOutUntouched) {
  OriginFilter filter({"west", true});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), OrdersRelation(), OrderRow(1), OrderRow(2),
                            MakeCommit("0/10")}),
            (Sent{"B()", "R(orders)", "I(1)", "I(2)", "C"}));
  EXPECT_EQ(filter.filtered_transactions(), 0u);
}

TEST(OriginFilterTest, ATransactionAppliedFromTheSubscriberIsNotSentBack) {
  OriginFilter filter({"west", true});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), MarkerRelation(), MarkerRow("west"),
                            OrdersRelation(), OrderRow(1), MakeCommit("0/10")}),
            Sent{});
  EXPECT_EQ(filter.filtered_transactions(), 1u);
  // The relation the dropped transaction described goes out before the next row that uses it.
  EXPECT_EQ(Filter(filter, {MakeBegin("0/20"), OrderRow(2), MakeCommit("0/20")}),
            (Sent{"B()", "R(orders)", "I(2)", "C"}));
}

TEST(OriginFilterTest, ATransactionFromAThirdNodeIsForwardedTaggedWithItsOrigin) {
  OriginFilter filter({"west", true});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), MarkerRelation(),
                            MarkerRow("north", wire::RowChange::INSERT), OrdersRelation(),
                            OrderRow(1), MarkerRow("north"), MakeCommit("0/10")}),
            (Sent{"B(north@1000)", "R(orders)", "I(1)", "C"}));
  EXPECT_EQ(filter.filtered_transactions(), 0u);
}

TEST(OriginFilterTest, WithoutForwardingOnlyLocalTransactionsGoOut) {
  OriginFilter filter({"west", false});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), MarkerRelation(), MarkerRow("north"),
                            OrdersRelation(), OrderRow(1), MakeCommit("0/10"), MakeBegin("0/20"),
                            OrderRow(2), MakeCommit("0/20")}),
            (Sent{"B()", "R(orders)", "I(2)", "C"}));
  EXPECT_EQ(filter.filtered_transactions(), 1u);
}

TEST(OriginFilterTest, OnlyTheFirstChangeIsAMarker) {
  // A local transaction that happens to write ferry_meta.checkpoints later (an operator's fix)
  // is still local, and the row is not forwarded.
  OriginFilter filter({"west", true});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), OrdersRelation(), OrderRow(1), MarkerRelation(),
                            MarkerRow("west"), OrderRow(2), MakeCommit("0/10")}),
            (Sent{"B()", "R(orders)", "I(1)", "I(2)", "C"}));
  EXPECT_EQ(filter.filtered_transactions(), 0u);
}

TEST(OriginFilterTest, ATransactionOfOnlyFerryRowsIsNotSent) {
  OriginFilter filter({"west", true});
  wire::RowChange progress;
  progress.set_op(wire::RowChange::INSERT);
  progress.set_relation_id(kProgress);
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"),
                            MakeRelation(kProgress, "ferry_meta", "copy_progress", {"upstream"}),
                            progress, MakeCommit("0/10"), MakeBegin("0/20"), MarkerRelation(),
                            MarkerRow("north"), MakeCommit("0/20")}),
            Sent{});
  EXPECT_EQ(filter.filtered_transactions(), 0u);
}

TEST(OriginFilterTest, HeartbeatsPassAndTheTransactionIsOpenUntilItsCommit) {
  OriginFilter filter({"west", true});
  EXPECT_FALSE(filter.in_transaction());
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), SourceHeartbeat{}}), (Sent{"H"}));
  EXPECT_TRUE(filter.in_transaction());
  EXPECT_EQ(Filter(filter, {MakeCommit("0/10")}), Sent{});
  EXPECT_FALSE(filter.in_transaction());
}

TEST(OriginFilterTest, AMarkerWithoutOriginLeavesTheTransactionLocal) {
  // An apply agent older than origin tracking left `origin` NULL: nothing to tell it by.
  OriginFilter filter({"west", true});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), MarkerRelation(), MarkerRow(""), OrdersRelation(),
                            OrderRow(1), MakeCommit("0/10")}),
            (Sent{"B()", "R(orders)", "I(1)", "C"}));
}

// A copy chunk's transaction starts with its table's progress, naming where the rows were
// copied from.
TEST(OriginFilterTest, ACopyChunkFromTheSubscriberIsNotSentBack) {
  OriginFilter filter({"west", true});
  EXPECT_EQ(
      Filter(filter, {MakeBegin("0/10"), ProgressRelation(), ProgressRow("west"), OrdersRelation(),
                      OrderRow(1), OrderRow(2), ProgressRow("west"), MakeCommit("0/10")}),
      Sent{});
  EXPECT_EQ(filter.filtered_transactions(), 1u);
  EXPECT_EQ(Filter(filter, {MakeBegin("0/20"), OrderRow(3), MakeCommit("0/20")}),
            (Sent{"B()", "R(orders)", "I(3)", "C"}));
}

TEST(OriginFilterTest, ACopyChunkFromAThirdNodeIsForwardedTaggedWithoutCommitTime) {
  OriginFilter filter({"west", true});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), ProgressRelation(),
                            ProgressRow("north", wire::RowChange::INSERT), OrdersRelation(),
                            OrderRow(1), ProgressRow("north"), MakeCommit("0/10")}),
            (Sent{"B(north)", "R(orders)", "I(1)", "C"}));
  EXPECT_EQ(filter.filtered_transactions(), 0u);
}

TEST(OriginFilterTest, WithoutForwardingACopyChunkFromAThirdNodeIsDropped) {
  OriginFilter filter({"west", false});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), ProgressRelation(), ProgressRow("north"),
                            OrdersRelation(), OrderRow(1), MakeCommit("0/10")}),
            Sent{});
  EXPECT_EQ(filter.filtered_transactions(), 1u);
}

TEST(OriginFilterTest, ProgressWithoutOriginIsNoMarker) {
  // An older apply agent's copy, or progress written after a local change: the transaction is
  // local, and the progress rows are still never forwarded.
  OriginFilter filter({"west", true});
  EXPECT_EQ(Filter(filter, {MakeBegin("0/10"), ProgressRelation(), ProgressRow(""),
                            OrdersRelation(), OrderRow(1), MakeCommit("0/10"), MakeBegin("0/20"),
                            OrderRow(2), ProgressRow("west"), MakeCommit("0/20")}),
            (Sent{"B()", "R(orders)", "I(1)", "C", "B()", "I(2)", "C"}));
  EXPECT_EQ(filter.filtered_transactions(), 0u);
}

}  // namespace
}  // namespace ferry::capture
