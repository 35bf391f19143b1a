#include "wire/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace ferry::wire {
namespace {

// Bit-at-a-time reference, obviously correct, to check the table-driven version against.
uint32_t ReferenceCrc32c(std::string_view data) {
  uint32_t crc = 0xFFFFFFFF;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78 : 0);
  }
  return ~crc;
}

TEST(Crc32cTest, CheckValue) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

TEST(Crc32cTest, EmptyInputIsZero) { EXPECT_EQ(Crc32c(""), 0u); }

// Test vectors from RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32cTest, Rfc3720Vectors) {
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
}

TEST(Crc32cTest, SingleByte) { EXPECT_EQ(Crc32c(std::string(1, '\x07')), 0x86B737BAu); }

TEST(Crc32cTest, ContinuesAcrossPieces) {
  const std::string data = "The quick brown fox jumps over the lazy dog, twice over";
  for (size_t split = 0; split <= data.size(); ++split) {
    const std::string_view view(data);
    EXPECT_EQ(Crc32c(view.substr(split), Crc32c(view.substr(0, split))), Crc32c(data))
        << "split at " << split;
  }
}

// Every length and starting offset exercises the 8-byte fast path, its tail, and unaligned loads.
TEST(Crc32cTest, MatchesBitwiseReferenceAtEveryLengthAndAlignment) {
  std::mt19937 random(42);
  std::string data(300, '\0');
  for (char& c : data) c = static_cast<char>(random());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t length = 0; offset + length <= data.size(); ++length) {
      const std::string_view piece = std::string_view(data).substr(offset, length);
      ASSERT_EQ(Crc32c(piece), ReferenceCrc32c(piece)) << offset << "+" << length;
    }
  }
}

TEST(Crc32cTest, DetectsSingleBitFlip) {
  std::string data(1000, 'x');
  const uint32_t original = Crc32c(data);
  data[517] ^= 0x10;
  EXPECT_NE(Crc32c(data), original);
}

}  // namespace
}  // namespace ferry::wire
