#include "verify/canonical.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "wire/testing/change_records.h"

namespace ferry::verify {
namespace {

using wire::Value;
using wire::testing::Bits;
using wire::testing::Bool;
using wire::testing::Bytes;
using wire::testing::Dec;
using wire::testing::Float;
using wire::testing::Int;
using wire::testing::Null;
using wire::testing::Str;
using wire::testing::Text;
using wire::testing::Uint;

ColumnTraits Column(Engine engine, wire::LogicalType type, const std::string& source_type,
                    wire::LogicalType element_type = wire::LOGICAL_TYPE_UNSPECIFIED) {
  ColumnTraits traits;
  traits.engine = engine;
  traits.type = type;
  traits.source_type = source_type;
  traits.element_type = element_type;
  return traits;
}

ColumnTraits Pg(wire::LogicalType type, const std::string& source_type) {
  return Column(Engine::kPostgres, type, source_type);
}

ColumnTraits Maria(wire::LogicalType type, const std::string& source_type) {
  return Column(Engine::kMysql, type, source_type);
}

// Does a target column with `column`'s traits that holds `target` hold what apply writes for the
// source value `source`?
bool Same(const Value& source, const Value& target, const ColumnTraits& column) {
  Result<Value> expected = AsColumnValue(source, column);
  if (!expected.ok()) return false;
  return Canonical(*expected, column) == Canonical(target, column);
}

Value Date(const std::string& text) { return Str(&Value::set_date, text); }
Value Time(const std::string& text) { return Str(&Value::set_time, text); }
Value Timestamp(const std::string& text) { return Str(&Value::set_timestamp, text); }
Value TimestampTz(const std::string& text) { return Str(&Value::set_timestamp_tz, text); }
Value Json(const std::string& text) { return Str(&Value::set_json, text); }
Value Uuid(const std::string& text) { return Str(&Value::set_uuid, text); }
Value Enum(const std::string& text) { return Str(&Value::set_enum_value, text); }
Value Set(const std::string& text) { return Str(&Value::set_set_value, text); }
Value Other(const std::string& text) { return Str(&Value::set_other, text); }
Value Interval(const std::string& text) { return Str(&Value::set_interval, text); }

TEST(VerifyCanonicalTest, DecimalsCompareAsNumbersWhateverTheirScale) {
  const ColumnTraits numeric = Pg(wire::LOGICAL_TYPE_DECIMAL, "numeric(10,2)");
  const ColumnTraits decimal = Maria(wire::LOGICAL_TYPE_DECIMAL, "decimal(30,10)");
  EXPECT_TRUE(Same(Dec("1.50"), Dec("1.5"), numeric));
  EXPECT_TRUE(Same(Dec("-0.5"), Dec("-0.5000000000"), decimal));
  EXPECT_TRUE(Same(Dec("0.00"), Dec("0"), numeric));
  EXPECT_TRUE(Same(Dec("NaN"), Dec("NaN"), numeric));
  EXPECT_FALSE(Same(Dec("1.50"), Dec("1.51"), numeric));
  EXPECT_FALSE(Same(Dec("NaN"), Dec("0"), numeric));
  // BIGINT UNSIGNED into numeric(20,0); an integer into a decimal column.
  EXPECT_TRUE(Same(Uint(18446744073709551615u), Dec("18446744073709551615"), numeric));
  EXPECT_TRUE(Same(Int(5), Dec("5.00"), decimal));
  EXPECT_FALSE(Same(Int(5), Dec("5.01"), decimal));
}

TEST(VerifyCanonicalTest, BooleansMeetIntegersWhereTheTargetHasNoBoolean) {
  // PostgreSQL boolean into MariaDB BOOLEAN (TINYINT(1)), read back as an integer.
  const ColumnTraits tinyint = Maria(wire::LOGICAL_TYPE_INT, "tinyint");
  EXPECT_TRUE(Same(Bool(true), Int(1), tinyint));
  EXPECT_TRUE(Same(Bool(false), Int(0), tinyint));
  EXPECT_FALSE(Same(Bool(false), Int(1), tinyint));
  // A converted TINYINT(1) (types: {col: boolean}) into a PostgreSQL boolean.
  const ColumnTraits boolean = Pg(wire::LOGICAL_TYPE_BOOL, "bool");
  EXPECT_TRUE(Same(Bool(true), Bool(true), boolean));
  EXPECT_FALSE(Same(Bool(true), Bool(false), boolean));
  // Into text columns each sink spells them its own way.
  EXPECT_TRUE(Same(Bool(true), Text("true"), Maria(wire::LOGICAL_TYPE_TEXT, "varchar(5)")));
  EXPECT_TRUE(Same(Bool(true), Text("t"), Pg(wire::LOGICAL_TYPE_TEXT, "text")));
}

TEST(VerifyCanonicalTest, TemporalValuesIgnoreTrailingFractionZeros) {
  const ColumnTraits pg_timestamp = Pg(wire::LOGICAL_TYPE_TIMESTAMP, "timestamp(6)");
  EXPECT_TRUE(Same(Timestamp("2024-01-01 10:00:00.500000"), Timestamp("2024-01-01 10:00:00.5"),
                   pg_timestamp));
  EXPECT_TRUE(Same(Timestamp("2024-01-01 10:00:00.000000"), Timestamp("2024-01-01 10:00:00"),
                   pg_timestamp));
  EXPECT_FALSE(Same(Timestamp("2024-01-01 10:00:00.500001"), Timestamp("2024-01-01 10:00:00.5"),
                    pg_timestamp));
  EXPECT_TRUE(
      Same(Time("13:45:10.500000"), Time("13:45:10.5"), Pg(wire::LOGICAL_TYPE_TIME, "time")));
  EXPECT_FALSE(Same(Time("13:45:10"), Time("13:45:11"), Pg(wire::LOGICAL_TYPE_TIME, "time")));
  // MariaDB TIME beyond a day into a PostgreSQL interval column.
  EXPECT_TRUE(Same(Time("-10:00:00.000000"), Interval("-10:00:00"),
                   Pg(wire::LOGICAL_TYPE_INTERVAL, "interval")));
  EXPECT_TRUE(Same(Date("2024-02-29"), Date("2024-02-29"), Pg(wire::LOGICAL_TYPE_DATE, "date")));
  EXPECT_FALSE(Same(Date("2024-02-29"), Date("2024-03-01"), Pg(wire::LOGICAL_TYPE_DATE, "date")));
}

TEST(VerifyCanonicalTest, TimestampsWithTimeZoneAreUtcWallTimesOnMariaDb) {
  const Value instant = TimestampTz("2024-02-29 11:45:10.123456+00");
  EXPECT_TRUE(Same(instant, Timestamp("2024-02-29 11:45:10.123456"),
                   Maria(wire::LOGICAL_TYPE_TIMESTAMP, "datetime(6)")));
  EXPECT_TRUE(Same(instant, TimestampTz("2024-02-29 11:45:10.123456+00"),
                   Maria(wire::LOGICAL_TYPE_TIMESTAMP_TZ, "timestamp(6)")));
  EXPECT_FALSE(Same(instant, Timestamp("2024-02-29 12:45:10.123456"),
                    Maria(wire::LOGICAL_TYPE_TIMESTAMP, "datetime(6)")));
  // MariaDB TIMESTAMP(6) into timestamptz(6); DATETIME into timestamptz (read in UTC).
  const ColumnTraits timestamptz = Pg(wire::LOGICAL_TYPE_TIMESTAMP_TZ, "timestamptz(6)");
  EXPECT_TRUE(Same(TimestampTz("2024-01-01 10:00:00.000000+00"),
                   TimestampTz("2024-01-01 10:00:00+00"), timestamptz));
  EXPECT_TRUE(
      Same(Timestamp("2024-01-01 10:00:00"), TimestampTz("2024-01-01 10:00:00+00"), timestamptz));
  // The key a MariaDB reader binds is a DATETIME text.
  Result<Value> key = AsColumnValue(instant, Maria(wire::LOGICAL_TYPE_TIMESTAMP, "datetime(6)"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->timestamp(), "2024-02-29 11:45:10.123456");
}

TEST(VerifyCanonicalTest, ZeroDatesFollowTheTargetsZeroDatesPolicy) {
  ColumnTraits date = Pg(wire::LOGICAL_TYPE_DATE, "date");
  Result<Value> written = AsColumnValue(Date("0000-00-00"), date);
  ASSERT_TRUE(written.ok());
  EXPECT_TRUE(written->has_null());
  EXPECT_TRUE(Same(Date("2024-00-10"), Null(), date));
  EXPECT_FALSE(Same(Date("0000-00-00"), Date("2000-01-01"), date));
  date.zero_dates_as_null = false;
  EXPECT_FALSE(AsColumnValue(Date("0000-00-00"), date).ok());
  // A text column keeps them; MariaDB keeps them anywhere.
  EXPECT_TRUE(Same(Date("0000-00-00"), Text("0000-00-00"), Pg(wire::LOGICAL_TYPE_TEXT, "text")));
  EXPECT_TRUE(Same(Date("0000-00-00"), Date("0000-00-00"), Maria(wire::LOGICAL_TYPE_DATE, "date")));
}

TEST(VerifyCanonicalTest, FloatsCompareExactlyInTheTargetsPrecision) {
  const ColumnTraits float8 = Pg(wire::LOGICAL_TYPE_FLOAT, "float8");
  EXPECT_TRUE(Same(Float(-0.0), Float(0.0), Maria(wire::LOGICAL_TYPE_FLOAT, "double")));
  EXPECT_TRUE(Same(Float(0.1), Float(0.1), float8));
  EXPECT_FALSE(Same(Float(0.1), Float(0.1000000001), float8));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(Same(Float(nan), Float(nan), float8));
  EXPECT_FALSE(Same(Float(nan), Float(0), float8));
  // A double written to a 32-bit float column is rounded by the target.
  EXPECT_TRUE(
      Same(Float(0.1), Float(static_cast<float>(0.1)), Pg(wire::LOGICAL_TYPE_FLOAT, "float4")));
  EXPECT_TRUE(
      Same(Float(0.1), Float(static_cast<float>(0.1)), Maria(wire::LOGICAL_TYPE_FLOAT, "float")));
  EXPECT_FALSE(Same(Float(0.1), Float(static_cast<float>(0.1)), float8));
}

TEST(VerifyCanonicalTest, TextKeepsTrailingSpacesExceptInChar) {
  EXPECT_TRUE(Same(Text("ab   "), Text("ab"), Maria(wire::LOGICAL_TYPE_TEXT, "char(5)")));
  EXPECT_TRUE(Same(Text("ab"), Text("ab   "), Pg(wire::LOGICAL_TYPE_TEXT, "bpchar(5)")));
  EXPECT_FALSE(Same(Text("ab "), Text("ab"), Maria(wire::LOGICAL_TYPE_TEXT, "varchar(5)")));
  EXPECT_FALSE(Same(Text("ab"), Text("aB"), Pg(wire::LOGICAL_TYPE_TEXT, "text")));
  EXPECT_TRUE(Same(Text("emoji 🚀"), Text("emoji 🚀"), Pg(wire::LOGICAL_TYPE_TEXT, "text")));
}

TEST(VerifyCanonicalTest, EnumsSetsAndOtherTypesCompareByTheirText) {
  EXPECT_TRUE(Same(Enum("small"), Text("small"), Pg(wire::LOGICAL_TYPE_TEXT, "text")));
  EXPECT_TRUE(Same(Other("happy"), Enum("happy"), Maria(wire::LOGICAL_TYPE_ENUM, "enum")));
  EXPECT_FALSE(Same(Other("happy"), Enum("sad"), Maria(wire::LOGICAL_TYPE_ENUM, "enum")));
  EXPECT_TRUE(Same(Enum("happy"), Other("happy"), Pg(wire::LOGICAL_TYPE_OTHER, "mood")));
  // MariaDB stores SET members in the column's order.
  EXPECT_TRUE(Same(Text("b,a"), Set("a,b"), Maria(wire::LOGICAL_TYPE_SET, "set")));
  EXPECT_TRUE(Same(Set(""), Set(""), Maria(wire::LOGICAL_TYPE_SET, "set")));
  EXPECT_FALSE(Same(Text("a"), Set("a,b"), Maria(wire::LOGICAL_TYPE_SET, "set")));
}

TEST(VerifyCanonicalTest, JsonComparesDocumentsNotSpellings) {
  const ColumnTraits jsonb = Pg(wire::LOGICAL_TYPE_JSON, "jsonb");
  // MariaDB's JSON is a LONGTEXT kept as written; jsonb reorders and respaces it.
  EXPECT_TRUE(
      Same(Text("{\"b\":1,\"a\":[1, 2, null]}"), Json("{\"a\": [1, 2, null], \"b\": 1}"), jsonb));
  EXPECT_FALSE(Same(Text("{\"b\":1}"), Json("{\"b\": 2}"), jsonb));
  EXPECT_TRUE(Same(Json("not json"), Json("not json"), jsonb));
  // jsonb into MariaDB's JSON (a LONGTEXT): the text as PostgreSQL wrote it.
  EXPECT_TRUE(
      Same(Json("{\"a\": 1}"), Text("{\"a\": 1}"), Maria(wire::LOGICAL_TYPE_TEXT, "longtext")));
}

TEST(VerifyCanonicalTest, UuidsBytesAndBits) {
  const Value uuid = Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_TRUE(Same(uuid, Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                   Maria(wire::LOGICAL_TYPE_TEXT, "char(36)")));
  EXPECT_TRUE(Same(Text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), uuid,
                   Pg(wire::LOGICAL_TYPE_UUID, "uuid")));
  EXPECT_TRUE(Same(
      uuid,
      Bytes(std::string("\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16)),
      Maria(wire::LOGICAL_TYPE_BYTES, "binary(16)")));
  const ColumnTraits bytea = Pg(wire::LOGICAL_TYPE_BYTES, "bytea");
  EXPECT_TRUE(Same(Bytes(std::string("\0\xff", 2)), Bytes(std::string("\0\xff", 2)), bytea));
  EXPECT_FALSE(Same(Bytes(std::string("\0\xff", 2)), Bytes(std::string("\0\xfe", 2)), bytea));
  // BINARY(n) pads with 0x00.
  EXPECT_TRUE(Same(Bytes("ab"), Bytes(std::string("ab\0\0", 4)),
                   Maria(wire::LOGICAL_TYPE_BYTES, "binary(4)")));
  // PostgreSQL varbit into MariaDB BIT(12), which reads back all 12 bits.
  EXPECT_TRUE(Same(Bits("101"), Bits("000000000101"), Maria(wire::LOGICAL_TYPE_BIT, "bit(12)")));
  EXPECT_FALSE(Same(Bits("110"), Bits("000000000101"), Maria(wire::LOGICAL_TYPE_BIT, "bit(12)")));
  EXPECT_FALSE(Same(Bits("101"), Bits("0101"), Pg(wire::LOGICAL_TYPE_BIT, "varbit(12)")));
}

TEST(VerifyCanonicalTest, ArraysElementByElement) {
  Value array;
  for (int64_t i : {1, 2}) *array.mutable_array()->add_elements() = Int(i);
  *array.mutable_array()->add_elements() = Null();
  // PostgreSQL int[] into MariaDB JSON (LONGTEXT): a JSON array.
  EXPECT_TRUE(Same(array, Text("[1, 2, null]"), Maria(wire::LOGICAL_TYPE_TEXT, "longtext")));
  const ColumnTraits int_array =
      Column(Engine::kPostgres, wire::LOGICAL_TYPE_ARRAY, "int4[]", wire::LOGICAL_TYPE_INT);
  EXPECT_TRUE(Same(array, array, int_array));
  Value other = array;
  *other.mutable_array()->mutable_elements(1) = Int(3);
  EXPECT_FALSE(Same(array, other, int_array));
  // An element's text cannot pass for a delimiter.
  Value texts, joined;
  *texts.mutable_array()->add_elements() = Text("a");
  *texts.mutable_array()->add_elements() = Text("b");
  *joined.mutable_array()->add_elements() = Text("a,b");
  const ColumnTraits text_array =
      Column(Engine::kPostgres, wire::LOGICAL_TYPE_ARRAY, "text[]", wire::LOGICAL_TYPE_TEXT);
  EXPECT_FALSE(Same(texts, joined, text_array));
}

TEST(VerifyCanonicalTest, KeysAreTypedAsTheOtherSidesReaderTypesThem) {
  Result<Value> integer = AsColumnValue(Dec("42"), Maria(wire::LOGICAL_TYPE_INT, "int"));
  ASSERT_TRUE(integer.ok());
  EXPECT_EQ(integer->int64(), 42);
  Result<Value> big =
      AsColumnValue(Dec("18446744073709551615"), Maria(wire::LOGICAL_TYPE_UINT, "bigint unsigned"));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->uint64(), 18446744073709551615u);
  Result<Value> digits = AsColumnValue(Uint(7), Pg(wire::LOGICAL_TYPE_DECIMAL, "numeric(20,0)"));
  ASSERT_TRUE(digits.ok());
  EXPECT_EQ(digits->decimal(), "7");
  Result<Value> text = AsColumnValue(Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                                     Maria(wire::LOGICAL_TYPE_TEXT, "char(36)"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->text(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
}

TEST(VerifyCanonicalTest, DisplayTextQuotesAllButNumbers) {
  EXPECT_EQ(DisplayText(Int(-5)), "-5");
  EXPECT_EQ(DisplayText(Dec("1.50")), "1.50");
  EXPECT_EQ(DisplayText(Text("it's")), "'it''s'");
  EXPECT_EQ(DisplayText(Bytes(std::string("\0\xff", 2))), "x'00ff'");
  EXPECT_EQ(DisplayText(Null()), "NULL");
  EXPECT_EQ(DisplayText(Text(std::string(100, 'x'))), "'" + std::string(64, 'x') + "...'");
  EXPECT_EQ(ValueText(Bytes("\x01")), "\\x01");
}

}  // namespace
}  // namespace ferry::verify
