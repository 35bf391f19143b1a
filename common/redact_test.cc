#include "common/redact.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(RedactQuotedTest, QuotedFragmentsGo) {
  EXPECT_EQ(RedactQuoted("missing \"=\" after \"words\" in connection info string"),
            "missing \"...\" after \"...\" in connection info string");
  EXPECT_EQ(RedactQuoted("invalid connection option \"s3cret\""),
            "invalid connection option \"...\"");
}

TEST(RedactQuotedTest, AnUnpairedQuoteHidesTheRest) {
  EXPECT_EQ(RedactQuoted("unterminated \"pass word"), "unterminated \"...");
}

TEST(RedactQuotedTest, TextWithoutQuotesIsKept) {
  EXPECT_EQ(RedactQuoted("unterminated quoted string in connection info string"),
            "unterminated quoted string in connection info string");
  EXPECT_EQ(RedactQuoted(""), "");
}

}  // namespace
}  // namespace ferry
