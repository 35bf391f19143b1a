// The parts of the live binlog stream that need no server: the COM_BINLOG_DUMP_GTID request, byte
// for byte as MySQL's protocol documentation lays it out (a MySQL server is not available to the
// test suite, so this is what pins the encoding down).
#include "capture/mysql/binlog_stream.h"

#include <gtest/gtest.h>

namespace ferry::capture::mysql {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int byte : bytes) out.push_back(static_cast<char>(byte));
  return out;
}

std::string Le64(uint64_t value) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}

TEST(MySqlGtidDumpPayloadTest, EncodesFlagsServerIdPositionAndTheSidBlock) {
  wire::MySqlGtidSet set;
  wire::AddMySqlGtids(set, "3e11fa47-71ca-11e1-9e33-c80aa9429562", 1, 5);
  wire::AddMySqlGtids(set, "3e11fa47-71ca-11e1-9e33-c80aa9429562", 7, 7);
  const std::string expected =
      Bytes({0x04, 0x00}) +                                   // flags: BINLOG_THROUGH_GTID
      Bytes({0x07, 0x00, 0x00, 0x00}) +                       // server id 7
      Bytes({0x00, 0x00, 0x00, 0x00}) +                       // no file name
      Le64(4) +                                               // position 4
      Bytes({64, 0x00, 0x00, 0x00}) +                         // 8 + 16 + 8 + 2 * 16 bytes follow
      Le64(1) +                                               // one source UUID
      Bytes({0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,  // the UUID's 16 bytes
             0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62}) +
      Le64(2) +            // two intervals
      Le64(1) + Le64(6) +  // 1-5, end exclusive
      Le64(7) + Le64(8);   // 7
  EXPECT_EQ(MySqlGtidDumpPayload(7, set), expected);
}

TEST(MySqlGtidDumpPayloadTest, EmptySetAsksForEverything) {
  const std::string expected = Bytes({0x04, 0x00}) + Bytes({0xff, 0xff, 0xff, 0xff}) +
                               Bytes({0, 0, 0, 0}) + Le64(4) + Bytes({8, 0, 0, 0}) + Le64(0);
  EXPECT_EQ(MySqlGtidDumpPayload(0xffffffff, {}), expected);
}

TEST(MySqlGtidDumpPayloadTest, SourcesAppearInSetOrder) {
  Result<wire::MySqlGtidSet> set = wire::ParseMySqlGtidSet(
      "ffffffff-ffff-ffff-ffff-ffffffffffff:3,\n00000000-0000-0000-0000-000000000001:1-2");
  ASSERT_TRUE(set.ok()) << set.message();
  const std::string payload = MySqlGtidDumpPayload(1, *set);
  ASSERT_EQ(payload.size(), 22u + 8 + 2 * (16 + 8 + 16));
  // The first UUID after n_sids is the lower one (the set is ordered by UUID text).
  EXPECT_EQ(payload.substr(30, 16), std::string(15, '\0') + Bytes({0x01}));
  EXPECT_EQ(payload.substr(30 + 40, 16), std::string(16, '\xff'));
}

}  // namespace
}  // namespace ferry::capture::mysql
