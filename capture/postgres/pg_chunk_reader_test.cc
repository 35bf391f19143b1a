#include "capture/postgres/pg_chunk_reader.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "wire/position.h"

namespace ferry::capture::postgres {
namespace {

constexpr uint64_t kEpoch = uint64_t{1} << 32;

PgSnapshot Snapshot(const std::string& text) {
  Result<PgSnapshot> snapshot = ParsePgSnapshot(text);
  EXPECT_TRUE(snapshot.ok()) << snapshot.message();
  return snapshot.ok() ? *snapshot : PgSnapshot{};
}

wire::Begin Transaction(uint64_t xid, uint64_t commit_lsn) {
  wire::Begin begin;
  *begin.mutable_position() = wire::PgPosition(commit_lsn);
  begin.set_xid(xid);
  return begin;
}

FencePlace Place(const ChunkFence& fence, uint64_t xid, uint64_t commit_lsn) {
  Result<FencePlace> place = fence.Place(Transaction(xid, commit_lsn));
  EXPECT_TRUE(place.ok()) << place.message();
  return place.ok() ? *place : FencePlace::kConcurrent;
}

TEST(ParsePgSnapshotTest, ReadsXminXmaxAndRunningXids) {
  PgSnapshot snapshot = Snapshot("750:760:750,755");
  EXPECT_EQ(snapshot.xmin, 750u);
  EXPECT_EQ(snapshot.xmax, 760u);
  EXPECT_EQ(snapshot.xip, (std::vector<uint64_t>{750, 755}));
  EXPECT_EQ(FormatPgSnapshot(snapshot), "750:760:750,755");
}

TEST(ParsePgSnapshotTest, NoRunningXids) {
  PgSnapshot snapshot = Snapshot("752:752:");
  EXPECT_EQ(snapshot.xmin, 752u);
  EXPECT_EQ(snapshot.xmax, 752u);
  EXPECT_TRUE(snapshot.xip.empty());
}

TEST(ParsePgSnapshotTest, SixtyFourBitIds) {
  PgSnapshot snapshot = Snapshot("21474836480:21474836490:21474836485");
  EXPECT_EQ(snapshot.xmin, 5 * kEpoch);
  EXPECT_EQ(snapshot.xip, (std::vector<uint64_t>{5 * kEpoch + 5}));
}

TEST(ParsePgSnapshotTest, RefusesMalformedText) {
  for (const char* text : {"", "750", "750:752", "x:752:", "750:y:", "752:750:", "750:752:751,",
                           "750:752:,751", "750:752:749", "750:752:752", "750:752:a",
                           "-1:2:", "750 :752:", "18446744073709551616:1:"}) {
    Result<PgSnapshot> snapshot = ParsePgSnapshot(text);
    EXPECT_FALSE(snapshot.ok()) << "'" << text << "' parsed";
    if (!snapshot.ok()) {
      EXPECT_NE(snapshot.message().find("pg_current_snapshot"), std::string::npos);
    }
  }
}

TEST(PgSnapshotSeesTest, BelowXminVisibleRunningAndFromXmaxNot) {
  const PgSnapshot snapshot = Snapshot("750:760:750,755");
  EXPECT_TRUE(PgSnapshotSees(snapshot, 3));
  EXPECT_TRUE(PgSnapshotSees(snapshot, 749));
  EXPECT_FALSE(PgSnapshotSees(snapshot, 750));  // running
  EXPECT_TRUE(PgSnapshotSees(snapshot, 751));   // ended between xmin and xmax
  EXPECT_FALSE(PgSnapshotSees(snapshot, 755));
  EXPECT_TRUE(PgSnapshotSees(snapshot, 759));
  EXPECT_FALSE(PgSnapshotSees(snapshot, 760));  // xmax
  EXPECT_FALSE(PgSnapshotSees(snapshot, 100000));
}

// xmin just below 2^32: the stream's xids after the wrap (3, 4, ...) are the next epoch's.
TEST(PgSnapshotSeesTest, AcrossTheWraparound) {
  const uint64_t xmin = kEpoch - 6;  // 4294967290
  const PgSnapshot snapshot =
      Snapshot(std::to_string(xmin) + ":" + std::to_string(kEpoch + 10) + ":" +
               std::to_string(kEpoch - 1) + "," + std::to_string(kEpoch + 5));
  EXPECT_TRUE(PgSnapshotSees(snapshot, 4294967280u));   // before xmin
  EXPECT_TRUE(PgSnapshotSees(snapshot, 4294967290u));   // xmin itself, not running
  EXPECT_FALSE(PgSnapshotSees(snapshot, 4294967295u));  // running
  EXPECT_TRUE(PgSnapshotSees(snapshot, 3));             // 2^32 + 3: after the wrap, ended
  EXPECT_FALSE(PgSnapshotSees(snapshot, 5));            // 2^32 + 5: running
  EXPECT_TRUE(PgSnapshotSees(snapshot, 9));             // 2^32 + 9
  EXPECT_FALSE(PgSnapshotSees(snapshot, 10));           // 2^32 + 10 = xmax
  EXPECT_FALSE(PgSnapshotSees(snapshot, 1000));
}

// xmin just after the wrap: xids from before it (high 32-bit values) are older, not newer.
TEST(PgSnapshotSeesTest, XidsFromBeforeTheWrapAreOlder) {
  const PgSnapshot snapshot =
      Snapshot(std::to_string(3 * kEpoch + 4) + ":" + std::to_string(3 * kEpoch + 8) + ":" +
               std::to_string(3 * kEpoch + 6));
  EXPECT_TRUE(PgSnapshotSees(snapshot, 4294967295u));
  EXPECT_TRUE(PgSnapshotSees(snapshot, 4294967000u));
  EXPECT_TRUE(PgSnapshotSees(snapshot, 5));
  EXPECT_FALSE(PgSnapshotSees(snapshot, 6));
  EXPECT_TRUE(PgSnapshotSees(snapshot, 7));
  EXPECT_FALSE(PgSnapshotSees(snapshot, 8));
  // Half the xid space ahead of xmin is the future; behind it, the past.
  EXPECT_FALSE(PgSnapshotSees(snapshot, 4 + 0x7fffffffu));
  EXPECT_TRUE(PgSnapshotSees(snapshot, 4 + 0x80000000u));
}

TEST(PgChunkFenceTest, PlacesBySnapshotThenByCommitLsn) {
  const uint64_t h = 0x1A2B3C8;
  std::unique_ptr<ChunkFence> fence = MakePgChunkFence(Snapshot("750:752:750"), h);
  EXPECT_EQ(Place(*fence, 749, h - 100), FencePlace::kIncluded);
  EXPECT_EQ(Place(*fence, 751, h - 8), FencePlace::kIncluded);
  // Not seen: after the fence when its commit record is at or after H, else concurrent.
  EXPECT_EQ(Place(*fence, 750, h - 8), FencePlace::kConcurrent);
  EXPECT_EQ(Place(*fence, 750, h), FencePlace::kAfter);
  EXPECT_EQ(Place(*fence, 752, h - 8), FencePlace::kConcurrent);
  EXPECT_EQ(Place(*fence, 752, h + 100), FencePlace::kAfter);
  EXPECT_EQ(Place(*fence, 9000, h + 100), FencePlace::kAfter);
  EXPECT_EQ(fence->Describe(), "LSN 0/1A2B3C8, snapshot 750:752:750");
}

TEST(PgChunkFenceTest, PassedByAHeadAtOrAfterTheFenceLsn) {
  std::unique_ptr<ChunkFence> fence = MakePgChunkFence(Snapshot("750:752:"), 0x100000028);
  EXPECT_FALSE(*fence->PassedBy(wire::PgPosition(0x100000027)));
  EXPECT_TRUE(*fence->PassedBy(wire::PgPosition(0x100000028)));
  EXPECT_TRUE(*fence->PassedBy(wire::PgPosition(0x200000000)));
}

TEST(PgChunkFenceTest, RefusesForeignAndMalformedPositions) {
  std::unique_ptr<ChunkFence> fence = MakePgChunkFence(Snapshot("750:752:"), 0x1000);
  wire::Begin mariadb = Transaction(751, 0x10);
  mariadb.mutable_position()->set_engine(wire::kEngineMariaDb);
  mariadb.mutable_position()->set_value("0-1-42");
  EXPECT_NE(fence->Place(mariadb).message().find("engine \"mariadb\""), std::string::npos);
  wire::Begin garbled = Transaction(751, 0x10);
  garbled.mutable_position()->set_value("1A2B3C8");
  EXPECT_NE(fence->Place(garbled).message().find("invalid PostgreSQL LSN"), std::string::npos);
  EXPECT_FALSE(fence->Place(Transaction(0, 0x10)).ok());
  EXPECT_FALSE(fence->Place(Transaction(kEpoch, 0x10)).ok());
  wire::Position head;
  head.set_engine(wire::kEngineMariaDb);
  head.set_value("0-1-42");
  EXPECT_FALSE(fence->PassedBy(head).ok());
  head.set_engine(wire::kEnginePostgres);
  EXPECT_FALSE(fence->PassedBy(head).ok());
}

TEST(PgLastRecordEndTest, StepsBackOverAPageHeader) {
  const PgWalLayout layout;  // 8 kB pages, 16 MB segments
  EXPECT_EQ(PgLastRecordEnd(0x1A2B3C8, layout), 0x1A2B3C8u);
  // Past a short page header: the last record filled the page before.
  EXPECT_EQ(PgLastRecordEnd(0x1A2C018, layout), 0x1A2C000u);
  // Past the long header of a segment's first page.
  EXPECT_EQ(PgLastRecordEnd(0x3000028, layout), 0x3000000u);
  // 24 bytes into a segment's first page is inside its long header: never an insert position,
  // and 40 bytes into another page is an ordinary one.
  EXPECT_EQ(PgLastRecordEnd(0x1A2C028, layout), 0x1A2C028u);
  const PgWalLayout big{32768, 64 << 20};
  EXPECT_EQ(PgLastRecordEnd(0x18018, big), 0x18000u);
  EXPECT_EQ(PgLastRecordEnd(0x2018, big), 0x2018u);
  EXPECT_EQ(PgLastRecordEnd(0x4000028, big), 0x4000000u);
}

}  // namespace
}  // namespace ferry::capture::postgres
