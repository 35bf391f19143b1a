#include "apply/copy_writers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "wire/testing/change_records.h"

namespace ferry::apply {
namespace {

using namespace std::chrono_literals;
using wire::testing::Int;
using wire::testing::Text;

// What the writers did, in the order they did it, across their threads.
class EventLog {
 public:
  void Add(const std::string& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
    changed_.notify_all();
  }
  // Waits up to 10 s for `event`; true when it happened.
  bool WaitFor(const std::string& event) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return Has(event); });
  }
  std::vector<std::string> Events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // The index of `event`, or -1.
  int IndexOf(const std::string& event) {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < events_.size(); ++i) {
      if (events_[i] == event) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  bool Has(const std::string& event) const {
    return std::find(events_.begin(), events_.end(), event) != events_.end();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
};

// A sink that records the copy calls, tagged with the chunk's table; the rest of Sink is unused
// by chunk writers. `on_copy` runs inside CopyRows, on the writer's thread.
class RecordingSink : public Sink {
 public:
  RecordingSink(EventLog& log, std::function<Status(const std::string&)> on_copy)
      : log_(log), on_copy_(std::move(on_copy)) {}
  Status Open() override { return Status::Ok(); }
  Result<std::optional<wire::Position>> ReadCheckpoint(const std::string&) override {
    return std::optional<wire::Position>();
  }
  Result<std::vector<CopyProgress>> ReadCopyProgress(const std::string&) override {
    return std::vector<CopyProgress>();
  }
  Status BeginCopyTransaction() override {
    log_.Add("begin");
    return Status::Ok();
  }
  Status EmptyTable(const MappedRelation&) override { return Status::Ok(); }
  Result<uint64_t> DeleteCopyRange(const MappedRelation&, const CopyRange&) override { return 0; }
  Status CopyRows(const MappedRelation& relation, const ChunkRows& rows, CopyInto) override {
    table_ = relation.target_name();
    log_.Add("copy " + table_ + " " + std::to_string(rows.size()));
    return on_copy_ ? on_copy_(table_) : Status::Ok();
  }
  Status RecordCopyProgress(const std::string&, const CopyProgress& progress) override {
    const std::string origin = progress.origin.empty() ? "" : " from " + progress.origin;
    log_.Add("progress " + progress.table + " " + std::to_string(progress.rows_copied) + origin);
    return Status::Ok();
  }
  Status BeginTransaction(const std::string&, const wire::Begin&) override { return Unused(); }
  Status ContinueTransaction(const std::string&, const wire::Begin&) override { return Unused(); }
  Result<RowOutcome> ApplyRow(const MappedRelation&, const wire::RowChange&) override {
    return Unused();
  }
  Status ApplyTruncate(const std::vector<const MappedRelation*>&, const wire::RowChange&) override {
    return Unused();
  }
  Status CommitTransaction() override {
    log_.Add("commit " + table_);
    return Status::Ok();
  }
  void AbortTransaction() override {
    if (!table_.empty()) log_.Add("abort " + table_);
  }
  Result<std::optional<std::vector<std::string>>> TargetColumns(const std::string&,
                                                                const std::string&) override {
    return std::optional<std::vector<std::string>>(std::vector<std::string>{"id", "name"});
  }
  Result<std::vector<std::string>> CreateTable(const NewTable&) override { return Unused(); }
  Status RecordTableCreated(const std::string&, const std::string&) override { return Unused(); }
  Result<IndexDdl> CreateIndexes(const NewTable&, const std::vector<NewIndex>&) override {
    return Unused();
  }
  std::string engine() const override { return "recording"; }

 private:
  static Status Unused() { return Status::Error("not used by chunk writers"); }
  EventLog& log_;
  std::function<Status(const std::string&)> on_copy_;
  std::string table_;
};

class CopyWritersTest : public ::testing::Test {
 protected:
  void Make(size_t count, std::function<Status(const std::string&)> on_copy = nullptr) {
    context_.upstream = "east";
    context_.mapper = &mapper_;
    context_.registry = &registry_;
    writers_ = std::make_unique<CopyWriters>(
        count,
        [this, on_copy] {
          return std::make_unique<ChunkWriter>(context_,
                                               std::make_unique<RecordingSink>(log_, on_copy));
        },
        [this](const ChunkDone& chunk) { done_.push_back(chunk); });
  }

  // One chunk of `table` ("public.x") holding rows with the given ids.
  Status Chunk(const std::string& table, const std::vector<int64_t>& ids, bool table_done = false,
               uint64_t rows_before = 0) {
    ChunkJob job;
    job.chunk.set_table(table);
    job.chunk.set_table_done(table_done);
    *job.chunk.add_last_key() = Int(ids.back());
    job.before.table = table;
    job.before.rows_copied = rows_before;
    job.before.done = table_done;
    FERRY_RETURN_IF_ERROR(writers_->Begin(std::move(job)));
    wire::Changes changes;
    const auto [schema, name] = SplitQualifiedName(table);
    *changes.add_changes()->mutable_relation() = wire::testing::MakeRelation(
        1, schema, name, {{"id", wire::LOGICAL_TYPE_INT, true}, {"name"}});
    for (int64_t id : ids) {
      *changes.add_changes()->mutable_row() = wire::testing::Insert(1, {Int(id), Text("x")});
    }
    FERRY_RETURN_IF_ERROR(
        writers_->Add(wire::Frame{wire::FrameType::kChanges, changes.SerializeAsString()}));
    return writers_->End();
  }

  EventLog log_;
  TableMapper mapper_;
  admin::MetricsRegistry registry_{"apply", "west"};
  ChunkWriterContext context_;
  std::vector<ChunkDone> done_;
  std::unique_ptr<CopyWriters> writers_;
};

TEST_F(CopyWritersTest, ChunksOfTwoTablesAreWrittenAtOnce) {
  // The chunk of public.a is written only once public.b's is being written too: with one writer
  // at a time it would give up after 10 s.
  Make(2, [&](const std::string& table) {
    if (table == "public.a" && !log_.WaitFor("copy public.b 2")) {
      return Status::Error("public.b was not written while public.a was");
    }
    return Status::Ok();
  });
  ASSERT_TRUE(Chunk("public.a", {1, 2, 3}).ok());
  ASSERT_TRUE(Chunk("public.b", {1, 2}).ok());
  EXPECT_TRUE(writers_->WaitFor("public.a").ok());
  EXPECT_TRUE(writers_->WaitFor("public.b").ok());
  EXPECT_TRUE(writers_->Idle());
  EXPECT_EQ(done_.size(), 2u);
  EXPECT_GE(log_.IndexOf("commit public.a"), 0);
}

TEST_F(CopyWritersTest, AChunkWaitsForTheChunkOfTheSameTableBeforeIt) {
  Make(2, [&](const std::string& table) {
    if (table == "public.a") std::this_thread::sleep_for(50ms);
    return Status::Ok();
  });
  ASSERT_TRUE(Chunk("public.a", {1, 2}).ok());
  ASSERT_TRUE(Chunk("public.a", {3}).ok());
  ASSERT_TRUE(writers_->WaitFor("public.a").ok());
  const int first_commit = log_.IndexOf("commit public.a");
  const int second_copy = log_.IndexOf("copy public.a 1");
  ASSERT_GE(first_commit, 0);
  ASSERT_GE(second_copy, 0);
  EXPECT_LT(first_commit, second_copy);
  ASSERT_EQ(done_.size(), 2u);
}

TEST_F(CopyWritersTest, AChunkCommitsWithItsProgressAddedToTheTables) {
  Make(1);
  ASSERT_TRUE(Chunk("public.a", {7, 8, 9}, /*table_done=*/true, /*rows_before=*/10).ok());
  EXPECT_TRUE(writers_->Writing("public.a"));
  ASSERT_TRUE(writers_->WaitFor("public.a").ok());
  EXPECT_FALSE(writers_->Writing("public.a"));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0].progress.table, "public.a");
  EXPECT_EQ(done_[0].progress.rows_copied, 13u);
  EXPECT_TRUE(done_[0].progress.done);
  // The progress is written in the chunk's transaction, before its commit.
  EXPECT_LT(log_.IndexOf("progress public.a 13"), log_.IndexOf("commit public.a"));
}

TEST_F(CopyWritersTest, AWritersErrorReachesTheStreamThreadAndItsChunkIsRolledBack) {
  Make(2, [](const std::string& table) {
    return table == "public.b" ? Status::Error("disk full") : Status::Ok();
  });
  ASSERT_TRUE(Chunk("public.b", {1}).ok());
  Status waited = writers_->WaitFor("public.b");
  ASSERT_FALSE(waited.ok());
  EXPECT_NE(waited.message().find("copying public.b"), std::string::npos) << waited.message();
  EXPECT_NE(waited.message().find("disk full"), std::string::npos) << waited.message();
  EXPECT_FALSE(writers_->Collect().ok());
  EXPECT_FALSE(Chunk("public.a", {1}).ok());  // nothing more is taken
  writers_->Stop();
  EXPECT_EQ(log_.IndexOf("commit public.b"), -1);
  EXPECT_GE(log_.IndexOf("abort public.b"), 0);
  EXPECT_TRUE(done_.empty());
}

TEST_F(CopyWritersTest, AChunksFirstWriteIsItsProgressNamingTheOrigin) {
  // The origin marker a capture agent on the target reads (capture/origin_filter.h): without it
  // first, the copied rows would go back to east as this node's own changes.
  context_.upstream_node = "east-db";
  Make(1);
  ASSERT_TRUE(Chunk("public.a", {7, 8}, /*table_done=*/false, /*rows_before=*/5).ok());
  ASSERT_TRUE(writers_->WaitFor("public.a").ok());
  EXPECT_EQ(log_.Events(), (std::vector<std::string>{
                               "begin", "progress public.a 5 from east-db", "copy public.a 2",
                               "progress public.a 7 from east-db", "commit public.a"}));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0].progress.origin, "east-db");
}

}  // namespace
}  // namespace ferry::apply
