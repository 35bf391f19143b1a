#include "common/json_text.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

std::string Json(std::string_view text, InvalidUtf8 invalid = InvalidUtf8::kKeep) {
  std::string out;
  AppendJsonString(text, &out, invalid);
  return out;
}

TEST(JsonTextTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Json("plain"), "\"plain\"");
  EXPECT_EQ(Json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  EXPECT_EQ(Json(std::string_view("\x00\x1f", 2)), "\"\\u0000\\u001f\"");
  EXPECT_EQ(Json(""), "\"\"");
}

TEST(JsonTextTest, KeepsValidUtf8AsIs) {
  EXPECT_EQ(Json("caf\xC3\xA9 \xF0\x9F\x9A\x80"), "\"caf\xC3\xA9 \xF0\x9F\x9A\x80\"");
  EXPECT_EQ(Json("caf\xC3\xA9", InvalidUtf8::kReplace), "\"caf\xC3\xA9\"");
}

TEST(JsonTextTest, InvalidUtf8IsKeptOrReplacedAsAsked) {
  EXPECT_EQ(Json("caf\xE9"), "\"caf\xE9\"");
  EXPECT_EQ(Json("caf\xE9", InvalidUtf8::kReplace), "\"caf\\ufffd\"");
  EXPECT_EQ(Json("\xF0\x9F\x9A", InvalidUtf8::kReplace), "\"\\ufffd\\ufffd\\ufffd\"");
  EXPECT_EQ(Json("\xC0\xAF", InvalidUtf8::kReplace), "\"\\ufffd\\ufffd\"");  // overlong
}

TEST(JsonTextTest, IsValidUtf8AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));   // latin1 é
  EXPECT_FALSE(IsValidUtf8("\xc3"));      // cut-off sequence
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));  // overlong '/'
  EXPECT_FALSE(
      IsValidUtf8("a\x80"
                  "b"));                          // stray continuation byte
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong 3-byte '/'
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
}

}  // namespace
}  // namespace ferry
