#include "capture/postgres/pg_values.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "capture/postgres/test_util.h"

namespace ferry::capture::postgres {
namespace {

using testing::Show;
namespace v = testing::v;

// Parses `text` as `oid` and expects success.
wire::Value Parse(uint32_t oid, std::string_view text) {
  Result<wire::Value> value = PgTextToValue(oid, text);
  EXPECT_TRUE(value.ok()) << "oid " << oid << " text \"" << text << "\": " << value.message();
  return value.ok() ? value.value() : wire::Value();
}

// Expects a parse error that names the type and the bad text.
void ExpectError(uint32_t oid, std::string_view text, const std::string& type_name) {
  Result<wire::Value> value = PgTextToValue(oid, text);
  ASSERT_FALSE(value.ok()) << "oid " << oid << " text \"" << text << "\" parsed as "
                           << Show(value.value());
  EXPECT_NE(value.message().find(type_name), std::string::npos) << value.message();
  EXPECT_NE(value.message().find(std::string(text.substr(0, 20))), std::string::npos)
      << value.message();
}

uint64_t Bits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

// ---- types ------------------------------------------------------------------------------------

TEST(PgLogicalTypeTest, MapsEveryBuiltInType) {
  struct Case {
    uint32_t oid, array_oid;
    wire::LogicalType type;
  };
  const Case cases[] = {
      {16, 1000, wire::LOGICAL_TYPE_BOOL},
      {17, 1001, wire::LOGICAL_TYPE_BYTES},
      {18, 1002, wire::LOGICAL_TYPE_TEXT},
      {19, 1003, wire::LOGICAL_TYPE_TEXT},
      {20, 1016, wire::LOGICAL_TYPE_INT},
      {21, 1005, wire::LOGICAL_TYPE_INT},
      {23, 1007, wire::LOGICAL_TYPE_INT},
      {25, 1009, wire::LOGICAL_TYPE_TEXT},
      {26, 1028, wire::LOGICAL_TYPE_INT},
      {114, 199, wire::LOGICAL_TYPE_JSON},
      {142, 143, wire::LOGICAL_TYPE_TEXT},
      {700, 1021, wire::LOGICAL_TYPE_FLOAT},
      {701, 1022, wire::LOGICAL_TYPE_FLOAT},
      {1042, 1014, wire::LOGICAL_TYPE_TEXT},
      {1043, 1015, wire::LOGICAL_TYPE_TEXT},
      {1082, 1182, wire::LOGICAL_TYPE_DATE},
      {1083, 1183, wire::LOGICAL_TYPE_TIME},
      {1114, 1115, wire::LOGICAL_TYPE_TIMESTAMP},
      {1184, 1185, wire::LOGICAL_TYPE_TIMESTAMP_TZ},
      {1186, 1187, wire::LOGICAL_TYPE_INTERVAL},
      {1266, 1270, wire::LOGICAL_TYPE_TIME_TZ},
      {1560, 1561, wire::LOGICAL_TYPE_BIT},
      {1562, 1563, wire::LOGICAL_TYPE_BIT},
      {1700, 1231, wire::LOGICAL_TYPE_DECIMAL},
      {2950, 2951, wire::LOGICAL_TYPE_UUID},
      {3802, 3807, wire::LOGICAL_TYPE_JSON},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PgLogicalType(c.oid), c.type) << c.oid;
    EXPECT_EQ(PgArrayElementType(c.oid), wire::LOGICAL_TYPE_UNSPECIFIED) << c.oid;
    EXPECT_EQ(PgLogicalType(c.array_oid), wire::LOGICAL_TYPE_ARRAY) << c.array_oid;
    EXPECT_EQ(PgArrayElementType(c.array_oid), c.type) << c.array_oid;
  }
}

TEST(PgLogicalTypeTest, UnknownAndNameOnlyTypesAreOther) {
  EXPECT_EQ(PgLogicalType(99999), wire::LOGICAL_TYPE_OTHER);
  EXPECT_EQ(PgArrayElementType(99999), wire::LOGICAL_TYPE_UNSPECIFIED);
  EXPECT_EQ(PgLogicalType(869), wire::LOGICAL_TYPE_OTHER);   // inet
  EXPECT_EQ(PgLogicalType(1041), wire::LOGICAL_TYPE_ARRAY);  // inet[]
  EXPECT_EQ(PgArrayElementType(1041), wire::LOGICAL_TYPE_OTHER);
}

TEST(PgTypeNameTest, PlainNames) {
  EXPECT_EQ(PgTypeName(23, -1), "int4");
  EXPECT_EQ(PgTypeName(18, -1), "char");
  EXPECT_EQ(PgTypeName(1184, -1), "timestamptz");
  EXPECT_EQ(PgTypeName(3802, -1), "jsonb");
  EXPECT_EQ(PgTypeName(869, -1), "inet");
  EXPECT_EQ(PgTypeName(99999, -1), "");
  EXPECT_EQ(PgTypeName(99999, 12), "");
}

// Type modifiers as PostgreSQL 15 stores them (pg_attribute.atttypmod).
TEST(PgTypeNameTest, Modifiers) {
  EXPECT_EQ(PgTypeName(1700, (10 << 16 | 2) + 4), "numeric(10,2)");
  EXPECT_EQ(PgTypeName(1700, 4259874), "numeric(65,30)");
  EXPECT_EQ(PgTypeName(1700, 329730), "numeric(5,-2)");
  EXPECT_EQ(PgTypeName(1700, -1), "numeric");
  EXPECT_EQ(PgTypeName(1043, 24), "varchar(20)");
  EXPECT_EQ(PgTypeName(1043, -1), "varchar");
  EXPECT_EQ(PgTypeName(1042, 9), "bpchar(5)");
  EXPECT_EQ(PgTypeName(1560, 4), "bit(4)");
  EXPECT_EQ(PgTypeName(1562, 8), "varbit(8)");
  EXPECT_EQ(PgTypeName(1562, -1), "varbit");
  EXPECT_EQ(PgTypeName(1083, 3), "time(3)");
  EXPECT_EQ(PgTypeName(1266, 2), "timetz(2)");
  EXPECT_EQ(PgTypeName(1114, 0), "timestamp(0)");
  EXPECT_EQ(PgTypeName(1184, 6), "timestamptz(6)");
  EXPECT_EQ(PgTypeName(1186, -1), "interval");
  EXPECT_EQ(PgTypeName(1186, 470286339), "interval day to second(3)");
  EXPECT_EQ(PgTypeName(1186, 2147418114), "interval(2)");
  EXPECT_EQ(PgTypeName(1186, 327679), "interval year");
  EXPECT_EQ(PgTypeName(1186, 201392127), "interval hour to minute");
}

TEST(PgTypeNameTest, ArraysTakeTheElementModifier) {
  EXPECT_EQ(PgTypeName(1007, -1), "int4[]");
  EXPECT_EQ(PgTypeName(1009, -1), "text[]");
  EXPECT_EQ(PgTypeName(1015, 14), "varchar(10)[]");
  EXPECT_EQ(PgTypeName(1231, (12 << 16 | 4) + 4), "numeric(12,4)[]");
  EXPECT_EQ(PgTypeName(3807, -1), "jsonb[]");
}

// ---- scalar values ----------------------------------------------------------------------------

TEST(PgTextToValueTest, Bool) {
  EXPECT_EQ(Show(Parse(16, "t")), Show(v::Bool(true)));
  EXPECT_EQ(Show(Parse(16, "f")), Show(v::Bool(false)));
  ExpectError(16, "true", "bool");
  ExpectError(16, "", "bool");
}

TEST(PgTextToValueTest, Integers) {
  EXPECT_EQ(Show(Parse(20, "9223372036854775807")), Show(v::Int(INT64_MAX)));
  EXPECT_EQ(Show(Parse(20, "-9223372036854775808")), Show(v::Int(INT64_MIN)));
  EXPECT_EQ(Show(Parse(21, "-32768")), Show(v::Int(-32768)));
  EXPECT_EQ(Show(Parse(21, "32767")), Show(v::Int(32767)));
  EXPECT_EQ(Show(Parse(23, "-2147483648")), Show(v::Int(INT32_MIN)));
  EXPECT_EQ(Show(Parse(23, "0")), Show(v::Int(0)));
  EXPECT_EQ(Show(Parse(26, "4294967295")), Show(v::Int(4294967295)));
  ExpectError(20, "9223372036854775808", "int8");
  ExpectError(20, "-9223372036854775809", "int8");
  ExpectError(21, "32768", "int2");
  ExpectError(23, "2147483648", "int4");
  ExpectError(26, "4294967296", "oid");
  ExpectError(26, "-1", "oid");
  ExpectError(23, "12a", "int4");
  ExpectError(23, " 1", "int4");
  ExpectError(23, "+1", "int4");
  ExpectError(23, "1.0", "int4");
  ExpectError(20, "", "int8");
}

TEST(PgTextToValueTest, NumericIsExactText) {
  for (const char* text : {"-0.5", "-0.50", "0", "123.450", "NaN", "Infinity", "-Infinity",
                           "123456789012345678901234567890.123456789",
                           "99999999999999999999999999999999999.999999999999999999999999999999"}) {
    EXPECT_EQ(Show(Parse(1700, text)), Show(v::Decimal(text)));
  }
  ExpectError(1700, "1e5", "numeric");
  ExpectError(1700, "1.", "numeric");
  ExpectError(1700, ".5", "numeric");
  ExpectError(1700, "--1", "numeric");
  ExpectError(1700, "nan", "numeric");
  ExpectError(1700, "", "numeric");
}

TEST(PgTextToValueTest, Float8EdgeValues) {
  EXPECT_EQ(Parse(701, "1e-310").float64(), 1e-310);
  EXPECT_EQ(Parse(701, "4.9406564584124654e-324").float64(),
            std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(Parse(701, "1.7976931348623157e+308").float64(), std::numeric_limits<double>::max());
  EXPECT_EQ(Parse(701, "0.1").float64(), 0.1);
  EXPECT_EQ(Parse(701, "Infinity").float64(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(Parse(701, "-Infinity").float64(), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(Parse(701, "NaN").float64()));
  const double negative_zero = Parse(701, "-0").float64();
  EXPECT_EQ(negative_zero, 0.0);
  EXPECT_TRUE(std::signbit(negative_zero));
  ExpectError(701, "1e400", "float8");
  ExpectError(701, "abc", "float8");
  ExpectError(701, "1.5x", "float8");
  ExpectError(701, "", "float8");
}

// extra_float_digits=3 makes PostgreSQL print the shortest text that reads back exactly; that
// text must give back the same bits.
TEST(PgTextToValueTest, Float8RoundTripsShortestText) {
  const double samples[] = {0.1,
                            1.0 / 3,
                            2.5e-308,
                            1e-310,
                            123456789.123456789,
                            -1e300,
                            5e-324,
                            0.30000000000000004,
                            1e23,
                            9007199254740993.0};
  for (double d : samples) {
    char text[64];
    auto [end, ec] = std::to_chars(text, text + sizeof text, d);
    ASSERT_EQ(ec, std::errc());
    EXPECT_EQ(Bits(Parse(701, std::string_view(text, end - text)).float64()), Bits(d)) << text;
  }
}

// A float4 arrives as float4's shortest text; Ferry carries the exact float4 value widened.
TEST(PgTextToValueTest, Float4KeepsTheExactFloat) {
  EXPECT_EQ(Parse(700, "1.5").float64(), 1.5);
  EXPECT_EQ(Parse(700, "0.1").float64(), static_cast<double>(0.1f));
  EXPECT_EQ(Parse(700, "3.4028235e+38").float64(),
            static_cast<double>(std::numeric_limits<float>::max()));
  EXPECT_EQ(Parse(700, "1e-45").float64(),
            static_cast<double>(std::numeric_limits<float>::denorm_min()));
  EXPECT_EQ(Parse(700, "-Infinity").float64(), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(Parse(700, "NaN").float64()));
  ExpectError(700, "1e39", "float4");
  for (float f : {0.1f, 1.0f / 3, 16777217.0f, 1e-40f}) {
    char text[64];
    auto [end, ec] = std::to_chars(text, text + sizeof text, f);
    ASSERT_EQ(ec, std::errc());
    EXPECT_EQ(Parse(700, std::string_view(text, end - text)).float64(), static_cast<double>(f));
  }
}

TEST(PgTextToValueTest, ByteaHex) {
  EXPECT_EQ(Show(Parse(17, "\\x00ff")), Show(v::Bytes(std::string("\x00\xff", 2))));
  EXPECT_EQ(Show(Parse(17, "\\x")), Show(v::Bytes("")));
  EXPECT_EQ(Show(Parse(17, "\\xDEADbeef")), Show(v::Bytes("\xde\xad\xbe\xef")));
  ExpectError(17, "\\x0", "bytea");
  ExpectError(17, "\\xzz", "bytea");
}

TEST(PgTextToValueTest, ByteaEscapeFormat) {
  EXPECT_EQ(Show(Parse(17, "A\\377\\000\\\\")), Show(v::Bytes(std::string("A\xff\x00\\", 4))));
  EXPECT_EQ(Show(Parse(17, "")), Show(v::Bytes("")));
  ExpectError(17, "bad\\9", "bytea");
  ExpectError(17, "end\\", "bytea");
}

TEST(PgTextToValueTest, TextLikeTypes) {
  for (uint32_t oid : {18u, 19u, 25u, 142u, 1042u, 1043u}) {
    EXPECT_EQ(Show(Parse(oid, "héllo \"x\"\n")), Show(v::Text("héllo \"x\"\n"))) << oid;
    EXPECT_EQ(Show(Parse(oid, "")), Show(v::Text(""))) << oid;
  }
  EXPECT_EQ(Show(Parse(1042, "ab   ")), Show(v::Text("ab   ")));  // bpchar keeps its padding
}

TEST(PgTextToValueTest, TemporalTextIsKept) {
  EXPECT_EQ(Show(Parse(1082, "2024-02-29")), Show(v::Date("2024-02-29")));
  EXPECT_EQ(Show(Parse(1082, "infinity")), Show(v::Date("infinity")));
  EXPECT_EQ(Show(Parse(1082, "0044-03-15 BC")), Show(v::Date("0044-03-15 BC")));
  EXPECT_EQ(Show(Parse(1083, "13:45:10.123456")), Show(v::Time("13:45:10.123456")));
  EXPECT_EQ(Show(Parse(1266, "13:45:10+02")), Show(v::TimeTz("13:45:10+02")));
  EXPECT_EQ(Show(Parse(1114, "2024-02-29 13:45:10.123456")),
            Show(v::Timestamp("2024-02-29 13:45:10.123456")));
  EXPECT_EQ(Show(Parse(1114, "-infinity")), Show(v::Timestamp("-infinity")));
  EXPECT_EQ(Show(Parse(1184, "2024-02-29 11:45:10.123456+00")),
            Show(v::TimestampTz("2024-02-29 11:45:10.123456+00")));
  EXPECT_EQ(Show(Parse(1184, "0044-03-15 12:00:00+00 BC")),
            Show(v::TimestampTz("0044-03-15 12:00:00+00 BC")));
  EXPECT_EQ(Show(Parse(1186, "1 year 2 mons 3 days 04:05:06.789")),
            Show(v::Interval("1 year 2 mons 3 days 04:05:06.789")));
  EXPECT_EQ(Show(Parse(1186, "-1 days +02:03:00")), Show(v::Interval("-1 days +02:03:00")));
}

TEST(PgTextToValueTest, JsonUuidBits) {
  EXPECT_EQ(Show(Parse(114, "{\"a\": [1, 2]}")), Show(v::Json("{\"a\": [1, 2]}")));
  EXPECT_EQ(Show(Parse(3802, "{\"a\": null}")), Show(v::Json("{\"a\": null}")));
  EXPECT_EQ(Show(Parse(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
            Show(v::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")));
  EXPECT_EQ(Show(Parse(1560, "1010")), Show(v::Bits("1010")));
  EXPECT_EQ(Show(Parse(1562, "")), Show(v::Bits("")));
  ExpectError(1560, "102", "bit");
  ExpectError(1562, "1 0", "varbit");
}

TEST(PgTextToValueTest, UnknownTypesTravelAsOther) {
  EXPECT_EQ(Show(Parse(99999, "happy")), Show(v::Other("happy")));
  EXPECT_EQ(Show(Parse(869, "192.168.0.1/24")), Show(v::Other("192.168.0.1/24")));
  EXPECT_EQ(Show(Parse(3904, "[1,5)")), Show(v::Other("[1,5)")));
}

TEST(PgTextToValueTest, ErrorsCutLongTextShort) {
  const std::string long_text(10000, '7');
  Result<wire::Value> value = PgTextToValue(23, long_text + "x");
  ASSERT_FALSE(value.ok());
  EXPECT_LT(value.message().size(), 200u) << value.message();
  EXPECT_NE(value.message().find("10001 bytes"), std::string::npos) << value.message();
}

// ---- arrays -----------------------------------------------------------------------------------

TEST(PgArrayTest, IntegersWithNull) {
  EXPECT_EQ(Show(Parse(1007, "{1,NULL,3}")), Show(v::Array({v::Int(1), v::Null(), v::Int(3)})));
  EXPECT_EQ(Show(Parse(1016, "{-9223372036854775808}")), Show(v::Array({v::Int(INT64_MIN)})));
}

TEST(PgArrayTest, Empty) {
  EXPECT_EQ(Show(Parse(1007, "{}")), Show(v::Array({})));
  EXPECT_TRUE(Parse(1009, "{}").has_array());
}

TEST(PgArrayTest, QuotingAndEscapes) {
  // What array_out writes for ARRAY['a b', 'q"uote', 'back\slash', NULL, 'NULL', '', '{x}'].
  EXPECT_EQ(Show(Parse(1009, R"({"a b","q\"uote","back\\slash",NULL,"NULL","","{x}"})")),
            Show(v::Array({v::Text("a b"), v::Text("q\"uote"), v::Text("back\\slash"), v::Null(),
                           v::Text("NULL"), v::Text(""), v::Text("{x}")})));
  EXPECT_EQ(Show(Parse(1009, R"({"a ", b})")), Show(v::Array({v::Text("a "), v::Text("b")})));
  EXPECT_EQ(Show(Parse(1009, R"({"x,y",null,\NULL})")),
            Show(v::Array({v::Text("x,y"), v::Null(), v::Text("NULL")})));
  EXPECT_EQ(Show(Parse(1009, "{héllo,wörld}")),
            Show(v::Array({v::Text("héllo"), v::Text("wörld")})));
}

TEST(PgArrayTest, Nested) {
  EXPECT_EQ(Show(Parse(1007, "{{1,2},{3,4}}")),
            Show(v::Array({v::Array({v::Int(1), v::Int(2)}), v::Array({v::Int(3), v::Int(4)})})));
  EXPECT_EQ(Show(Parse(1009, R"({{{a}},{{"b}"}}})")),
            Show(v::Array(
                {v::Array({v::Array({v::Text("a")})}), v::Array({v::Array({v::Text("b}")})})})));
  EXPECT_EQ(Show(Parse(1007, " { { 1 , 2 } , { NULL , 4 } } ")),
            Show(v::Array({v::Array({v::Int(1), v::Int(2)}), v::Array({v::Null(), v::Int(4)})})));
}

TEST(PgArrayTest, ElementsAreTypedByTheElementType) {
  EXPECT_EQ(Show(Parse(1231, "{-0.5,NaN,Infinity}")),
            Show(v::Array({v::Decimal("-0.5"), v::Decimal("NaN"), v::Decimal("Infinity")})));
  EXPECT_EQ(Show(Parse(1000, "{t,f,NULL}")),
            Show(v::Array({v::Bool(true), v::Bool(false), v::Null()})));
  EXPECT_EQ(Show(Parse(1022, "{1.5,-Infinity,1e-310}")),
            Show(v::Array({v::Float(1.5), v::Float(-std::numeric_limits<double>::infinity()),
                           v::Float(1e-310)})));
  EXPECT_EQ(Show(Parse(1001, R"({"\\x00ff",NULL})")),
            Show(v::Array({v::Bytes(std::string("\x00\xff", 2)), v::Null()})));
  EXPECT_EQ(Show(Parse(1185, R"({"2024-02-29 11:45:10+00",infinity})")),
            Show(v::Array({v::TimestampTz("2024-02-29 11:45:10+00"), v::TimestampTz("infinity")})));
  EXPECT_EQ(Show(Parse(3807, R"({"{\"a\": 1}"})")), Show(v::Array({v::Json(R"({"a": 1})")})));
  EXPECT_EQ(Show(Parse(2951, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}")),
            Show(v::Array({v::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")})));
  EXPECT_EQ(Show(Parse(1561, "{1010,0}")), Show(v::Array({v::Bits("1010"), v::Bits("0")})));
  EXPECT_EQ(Show(Parse(1041, "{10.0.0.1,::1}")),
            Show(v::Array({v::Other("10.0.0.1"), v::Other("::1")})));
}

TEST(PgArrayTest, BoxArraysUseSemicolons) {
  EXPECT_EQ(Show(Parse(1020, "{(1,1),(0,0);(2,2),(1,1)}")),
            Show(v::Array({v::Other("(1,1),(0,0)"), v::Other("(2,2),(1,1)")})));
}

TEST(PgArrayTest, ExplicitBoundsTravelAsOther) {
  EXPECT_EQ(Show(Parse(1007, "[2:3]={7,8}")), Show(v::Other("[2:3]={7,8}")));
  EXPECT_EQ(Show(Parse(1007, "[0:1][1:1]={{1},{2}}")), Show(v::Other("[0:1][1:1]={{1},{2}}")));
}

TEST(PgArrayTest, Malformed) {
  ExpectError(1007, "", "int4[]");
  ExpectError(1007, "1,2", "int4[]");
  ExpectError(1007, "{1,2", "int4[]");
  ExpectError(1007, "{1,2}x", "int4[]");
  ExpectError(1007, "{1,,2}", "int4[]");
  ExpectError(1007, "{{1},2}", "int4[]");
  ExpectError(1007, "{1,{2}}", "int4[]");
  ExpectError(1009, "{\"abc}", "text[]");
  ExpectError(1009, "{abc\\", "text[]");
  ExpectError(1009, "{a\"b}", "text[]");
  ExpectError(1007, "{1,abc}", "int4");
  ExpectError(1000, "{yes}", "bool");
  ExpectError(1007, "{{{{{{{1}}}}}}}", "int4[]");  // 7 dimensions; PostgreSQL allows 6
  EXPECT_TRUE(PgTextToValue(1007, "{{{{{{1}}}}}}").ok());
}

TEST(PgArrayTest, DeepNestingDoesNotExhaustTheStack) {
  const std::string deep = std::string(100000, '{') + std::string(100000, '}');
  EXPECT_FALSE(PgTextToValue(1007, deep).ok());
}

}  // namespace
}  // namespace ferry::capture::postgres
