#include "apply/postgres/pg_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "wire/testing/change_records.h"

namespace ferry::apply::postgres {
namespace {

std::string TextOf(const wire::Value& value) {
  Result<std::optional<std::string>> text = ValueToPgText(value);
  EXPECT_TRUE(text.ok()) << text.message();
  if (!text.ok() || !text->has_value()) return "<null>";
  return **text;
}

using wire::testing::Array;
using wire::testing::Null;
using wire::testing::Text;

TEST(ValueToPgTextTest, NullIsNullopt) {
  Result<std::optional<std::string>> text = ValueToPgText(Null());
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(text->has_value());
}

TEST(ValueToPgTextTest, Scalars) {
  wire::Value v;
  v.set_boolean(true);
  EXPECT_EQ(TextOf(v), "t");
  v.set_boolean(false);
  EXPECT_EQ(TextOf(v), "f");
  v.set_int64(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(TextOf(v), "-9223372036854775808");
  v.set_uint64(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(TextOf(v), "18446744073709551615");
  v.set_decimal("-123456789012345678901234567890.5");
  EXPECT_EQ(TextOf(v), "-123456789012345678901234567890.5");
  v.set_bytes(std::string("\x00\xff\x10", 3));
  EXPECT_EQ(TextOf(v), "\\x00ff10");
  v.set_timestamp_tz("2024-02-29 11:45:10.123456+00");
  EXPECT_EQ(TextOf(v), "2024-02-29 11:45:10.123456+00");
  v.set_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(TextOf(v), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  v.set_bits("0101");
  EXPECT_EQ(TextOf(v), "0101");
  EXPECT_EQ(TextOf(Text("grüß 😀")), "grüß 😀");
}

TEST(ValueToPgTextTest, FloatsRoundTrip) {
  EXPECT_EQ(Float8Text(0.1), "0.1");
  EXPECT_EQ(Float8Text(1e-310), "1e-310");
  EXPECT_EQ(Float8Text(std::nan("")), "NaN");
  EXPECT_EQ(Float8Text(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(Float8Text(-std::numeric_limits<double>::infinity()), "-Infinity");
  for (double d :
       {1.0 / 3, 123456789.123456789, -2.2250738585072014e-308, 1.7976931348623157e308}) {
    EXPECT_EQ(std::stod(Float8Text(d)), d) << Float8Text(d);
  }
}

TEST(ValueToPgTextTest, NulInTextIsRejected) {
  Result<std::optional<std::string>> text = ValueToPgText(Text(std::string("a\0b", 3)));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.message().find("NUL"), std::string::npos) << text.message();
  wire::Value json;
  json.set_json(std::string("{\"a\":\"\0\"}", 9));
  EXPECT_FALSE(ValueToPgText(json).ok());
}

TEST(ValueToPgTextTest, UnchangedAndEmptyAreErrors) {
  wire::Value unchanged;
  unchanged.mutable_unchanged();
  EXPECT_FALSE(ValueToPgText(unchanged).ok());
  EXPECT_FALSE(ValueToPgText(wire::Value()).ok());
}

TEST(ValueToPgTextTest, ArraysQuoteEveryElement) {
  wire::Value one;
  one.set_int64(1);
  EXPECT_EQ(TextOf(Array({one, Null()})), "{\"1\",NULL}");
  EXPECT_EQ(TextOf(Array({Text("a\"b"), Text("c\\d"), Text("NULL"), Text("x,{y}"), Text("")})),
            R"({"a\"b","c\\d","NULL","x,{y}",""})");
  EXPECT_EQ(TextOf(Array({Array({one, one}), Array({Null(), one})})),
            "{{\"1\",\"1\"},{NULL,\"1\"}}");
  EXPECT_EQ(TextOf(Array({})), "{}");
  wire::Value bytes;
  bytes.set_bytes(std::string("\x01", 1));
  EXPECT_EQ(TextOf(Array({bytes})), R"({"\\x01"})");
}

TEST(ValueToPgTextTest, ArrayWithNulElementIsRejected) {
  Result<std::optional<std::string>> text =
      ValueToPgText(Array({Text("ok"), Text(std::string("\0", 1))}));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.message().find("array element 2"), std::string::npos) << text.message();
}

TEST(QuoteIdentTest, AlwaysQuotes) {
  EXPECT_EQ(QuoteIdent("orders"), "\"orders\"");
  EXPECT_EQ(QuoteIdent("Order \"Items\""), "\"Order \"\"Items\"\"\"");
}

}  // namespace
}  // namespace ferry::apply::postgres
