#include "common/dsn.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry {
namespace {

// "key=value|key=value" for comparing a whole split at once.
std::string Joined(const std::string& text) {
  Result<std::vector<DsnPair>> pairs = SplitDsn(text);
  if (!pairs.ok()) return "error: " + pairs.message();
  std::string out;
  for (const DsnPair& pair : *pairs) out += (out.empty() ? "" : "|") + pair.key + "=" + pair.value;
  return out;
}

TEST(SplitDsnTest, PlainPairs) {
  EXPECT_EQ(Joined("host=db.example port=3307 user=ferry"), "host=db.example|port=3307|user=ferry");
  EXPECT_EQ(Joined(""), "");
  EXPECT_EQ(Joined(" \t\n "), "");
  EXPECT_EQ(Joined("  host=a\tport=1\nuser=b  "), "host=a|port=1|user=b");
}

TEST(SplitDsnTest, SpaceAroundTheEqualsSign) {
  EXPECT_EQ(Joined("user = ferry  socket= /run/s.sock"), "user=ferry|socket=/run/s.sock");
}

TEST(SplitDsnTest, QuotedValuesHoldSpacesAndEscapes) {
  EXPECT_EQ(Joined("password='p a\\'ss' dbname=app"), "password=p a'ss|dbname=app");
  EXPECT_EQ(Joined("password='back\\\\slash'"), "password=back\\slash");
  EXPECT_EQ(Joined("password=''"), "password=");
  EXPECT_EQ(Joined("password='a=b c'"), "password=a=b c");
}

TEST(SplitDsnTest, UnquotedValuesTakeEscapesAndEqualsSigns) {
  EXPECT_EQ(Joined("password=a\\ b user=x"), "password=a b|user=x");
  EXPECT_EQ(Joined("password=it\\'s"), "password=it's");
  EXPECT_EQ(Joined("password=a=b"), "password=a=b");
  EXPECT_EQ(Joined("host="), "host=");
}

TEST(SplitDsnTest, AKeyGivenTwiceComesTwice) {
  EXPECT_EQ(Joined("host=a host=b"), "host=a|host=b");
}

TEST(SplitDsnTest, AWordWithoutEqualsSignSaysWhere) {
  Result<std::vector<DsnPair>> pairs = SplitDsn("host=a port");
  ASSERT_FALSE(pairs.ok());
  EXPECT_NE(pairs.message().find("the word at byte 7 has no '='"), std::string::npos)
      << pairs.message();
  EXPECT_NE(pairs.message().find("is not key=value"), std::string::npos) << pairs.message();
  EXPECT_NE(pairs.message().find("it may hold a password"), std::string::npos) << pairs.message();
}

TEST(SplitDsnTest, AnOpenQuoteIsAnError) {
  Result<std::vector<DsnPair>> pairs = SplitDsn("password='open");
  ASSERT_FALSE(pairs.ok());
  EXPECT_NE(pairs.message().find("a quoted value has no closing quote"), std::string::npos);
}

// Errors reach the log, /status and the other agent: none shows any of the text.
TEST(SplitDsnTest, ErrorsNeverShowTheText) {
  for (const std::string text : {"user=a password=top secret", "user=a password='top secret", "top",
                                 "password=x top secret=y"}) {
    const std::string message = SplitDsn(text).message();
    EXPECT_EQ(message.find("top"), std::string::npos) << message;
    EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace ferry
