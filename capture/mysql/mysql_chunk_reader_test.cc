#include "capture/mysql/mysql_chunk_reader.h"

#include <gtest/gtest.h>

#include "wire/position.h"

namespace ferry::capture::mysql {
namespace {

wire::Position Position(const std::string& engine, const std::string& value) {
  wire::Position position;
  position.set_engine(engine);
  position.set_value(value);
  return position;
}

wire::Position Gtid(const std::string& state) { return Position(wire::kEngineMariaDb, state); }

std::unique_ptr<ChunkFence> Fence(const std::string& state) {
  Result<std::unique_ptr<ChunkFence>> fence = MakeMariaDbChunkFence(state);
  EXPECT_TRUE(fence.ok()) << fence.message();
  return fence.ok() ? std::move(*fence) : nullptr;
}

// Where the transaction whose position (the GTID state including it) is `state` stands.
std::string Place(const ChunkFence& fence, const wire::Position& position) {
  wire::Begin begin;
  *begin.mutable_position() = position;
  Result<FencePlace> place = fence.Place(begin);
  if (!place.ok()) return "error: " + place.message();
  switch (*place) {
    case FencePlace::kIncluded:
      return "included";
    case FencePlace::kAfter:
      return "after";
    case FencePlace::kConcurrent:
      return "concurrent";
  }
  return "?";
}

std::string PassedBy(const ChunkFence& fence, const wire::Position& head) {
  Result<bool> passed = fence.PassedBy(head);
  if (!passed.ok()) return "error: " + passed.message();
  return *passed ? "passed" : "not passed";
}

TEST(MariaDbChunkFenceTest, IncludesWhatTheSnapshotStateCoversInEveryDomain) {
  std::unique_ptr<ChunkFence> fence = Fence("1-2-5,0-1-10");
  ASSERT_NE(fence, nullptr);
  EXPECT_EQ(fence->Describe(), "GTID 0-1-10,1-2-5");
  EXPECT_EQ(Place(*fence, Gtid("0-1-10,1-2-5")), "included");  // the snapshot's last transaction
  EXPECT_EQ(Place(*fence, Gtid("0-1-9,1-2-5")), "included");
  EXPECT_EQ(Place(*fence, Gtid("0-1-10,1-2-3")), "included");
  EXPECT_EQ(Place(*fence, Gtid("0-1-11,1-2-5")), "after");
  EXPECT_EQ(Place(*fence, Gtid("0-1-10,1-2-6")), "after");
  EXPECT_EQ(Place(*fence, Gtid("0-1-10,1-2-5,2-1-1")), "after");  // a domain new since
  EXPECT_EQ(Place(*fence, Gtid("0-3-11,1-2-5")), "after");        // another server, same domain
}

TEST(MariaDbChunkFenceTest, PassedByAHeadCoveringEveryDomainOfTheSnapshot) {
  std::unique_ptr<ChunkFence> fence = Fence("0-1-10,1-2-5");
  ASSERT_NE(fence, nullptr);
  EXPECT_EQ(PassedBy(*fence, Gtid("0-1-10,1-2-5")), "passed");
  EXPECT_EQ(PassedBy(*fence, Gtid("0-1-12,1-2-7,3-1-1")), "passed");
  EXPECT_EQ(PassedBy(*fence, Gtid("0-1-12,1-2-4")), "not passed");
  EXPECT_EQ(PassedBy(*fence, Gtid("0-1-12")), "not passed");  // domain 1 not yet seen
  EXPECT_EQ(PassedBy(*fence, Gtid("")), "not passed");
}

// Before the server's first transaction: nothing is included and any head is past it.
TEST(MariaDbChunkFenceTest, EmptySnapshotState) {
  std::unique_ptr<ChunkFence> fence = Fence("");
  ASSERT_NE(fence, nullptr);
  EXPECT_EQ(fence->Describe(), "GTID state (empty)");
  EXPECT_EQ(Place(*fence, Gtid("0-1-1")), "after");
  EXPECT_EQ(PassedBy(*fence, Gtid("")), "passed");
  EXPECT_EQ(PassedBy(*fence, Gtid("0-1-1,5-1-9")), "passed");
}

TEST(MariaDbChunkFenceTest, PositionsWithoutGtidsNameTheFix) {
  Result<std::unique_ptr<ChunkFence>> file_snapshot =
      MakeMariaDbChunkFence("file:mariadb-bin.000001:330");
  ASSERT_FALSE(file_snapshot.ok());
  EXPECT_NE(file_snapshot.message().find("copy_data: false"), std::string::npos)
      << file_snapshot.message();

  std::unique_ptr<ChunkFence> fence = Fence("0-1-10");
  ASSERT_NE(fence, nullptr);
  for (const wire::Position& position :
       {Gtid("file:mariadb-bin.000001:330"), Position(wire::kEngineMySql, "file:binlog.000002:4"),
        Position(wire::kEngineMySql, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5")}) {
    const std::string place = Place(*fence, position);
    EXPECT_NE(place.find("initial copy needs a MariaDB source with GTIDs"), std::string::npos)
        << place;
    const std::string passed = PassedBy(*fence, position);
    EXPECT_NE(passed.find("copy_data: false"), std::string::npos) << passed;
  }
}

TEST(MariaDbChunkFenceTest, MalformedAndForeignPositionsAreErrors) {
  EXPECT_FALSE(MakeMariaDbChunkFence("0-1").ok());
  EXPECT_FALSE(MakeMariaDbChunkFence("0-1-2,0-1-3").ok());
  std::unique_ptr<ChunkFence> fence = Fence("0-1-10");
  ASSERT_NE(fence, nullptr);
  EXPECT_NE(Place(*fence, Gtid("0-1-x")).find("invalid MariaDB GTID"), std::string::npos);
  EXPECT_NE(PassedBy(*fence, Gtid("0-1")).find("invalid MariaDB GTID"), std::string::npos);
  EXPECT_NE(Place(*fence, wire::PgPosition(0x10)).find("engine \"postgres\""), std::string::npos);
  EXPECT_NE(PassedBy(*fence, Position("", "")).find("engine \"\""), std::string::npos);
}

TEST(ConnectMysqlChunkReaderTest, RefusesBadTablePatternsBeforeConnecting) {
  Result<std::unique_ptr<ChunkReader>> reader =
      ConnectMysqlChunkReader("host=127.0.0.1 port=1 user=nobody", {"no_dot"});
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.message().find("\"no_dot\""), std::string::npos) << reader.message();
}

}  // namespace
}  // namespace ferry::capture::mysql
