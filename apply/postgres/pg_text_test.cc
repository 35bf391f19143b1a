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

// ---- MySQL/MariaDB zero and partial dates ------------------------------------------------------

wire::Value Date(const std::string& text) {
  return wire::testing::Str(&wire::Value::set_date, text);
}
wire::Value Datetime(const std::string& text) {
  return wire::testing::Str(&wire::Value::set_timestamp, text);
}
wire::Value Timestamp(const std::string& text) {
  return wire::testing::Str(&wire::Value::set_timestamp_tz, text);
}

TEST(ZeroDatesTest, AZeroDateHasMonthOrDayZero) {
  for (const wire::Value& zero :
       {Date("0000-00-00"), Date("2024-00-10"), Date("2024-01-00"), Datetime("0000-00-00 00:00:00"),
        Datetime("2024-02-00 10:00:00.5"), Timestamp("0000-00-00 00:00:00.000000+00")}) {
    EXPECT_TRUE(IsZeroOrPartialDate(zero)) << zero.ShortDebugString();
  }
  // Year 0 with a real month and day, PostgreSQL's own forms, and text that only looks like one.
  for (const wire::Value& other :
       {Date("0000-01-01"), Date("2024-02-29"), Date("infinity"), Date("0044-03-15 BC"),
        Date("12024-01-01"), Datetime("-infinity"), Timestamp("2024-02-29 11:45:10+00"),
        Text("0000-00-00"), Null()}) {
    EXPECT_FALSE(IsZeroOrPartialDate(other)) << other.ShortDebugString();
  }
}

// Character columns hold the text as it is; no date or timestamp type holds a zero date, nor
// does any other type: there the configured policy decides.
TEST(ZeroDatesTest, CharacterColumnsKeepTheTextOthersFollowThePolicy) {
  const wire::Value zero = Date("0000-00-00");
  for (const char* text_type : {"text", "varchar", "bpchar", "citext"}) {
    for (ZeroDates policy : {ZeroDates::kNull, ZeroDates::kError}) {
      Result<ZeroDateAction> action = ZeroDateFor(zero, text_type, text_type, policy);
      ASSERT_TRUE(action.ok()) << action.message();
      EXPECT_EQ(*action, ZeroDateAction::kKeep) << text_type;
    }
  }
  for (const char* other : {"date", "timestamp", "timestamptz", "int4", "jsonb"}) {
    Result<ZeroDateAction> action = ZeroDateFor(zero, other, other, ZeroDates::kNull);
    ASSERT_TRUE(action.ok()) << action.message();
    EXPECT_EQ(*action, ZeroDateAction::kWriteNull) << other;
  }
  Result<ZeroDateAction> refused =
      ZeroDateFor(Timestamp("0000-00-00 00:00:00+00"), "timestamp(6) with time zone", "timestamptz",
                  ZeroDates::kError);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(),
            "value '0000-00-00 00:00:00+00' is a MySQL/MariaDB zero or partial date, which "
            "timestamp(6) with time zone cannot hold (PostgreSQL has no year, month or day 0): "
            "to write NULL instead set `zero_dates: null` under `target:` in the apply config, "
            "to keep the value make the target column text, or change it at the source");
}

TEST(QuoteIdentTest, AlwaysQuotes) {
  EXPECT_EQ(QuoteIdent("orders"), "\"orders\"");
  EXPECT_EQ(QuoteIdent("Order \"Items\""), "\"Order \"\"Items\"\"\"");
}

}  // namespace
}  // namespace ferry::apply::postgres
