#include "common/secrets.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

TEST(SecretsTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3creT"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "S3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3cret "));  // a prefix is not equal
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3cre"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals("x", ""));
  // A shorter string padded with NULs must still differ from the longer one.
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab"), std::string("ab\0", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), std::string("ab")));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
}

}  // namespace
}  // namespace ferry
