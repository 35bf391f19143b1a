#include "apply/mysql/mysql_values.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "wire/testing/change_records.h"

namespace ferry::apply::mysql {
namespace {

// ---- helpers -----------------------------------------------------------------------------------

// A column type as information_schema would describe `column_type`.
ColumnType Type(const std::string& data_type, const std::string& column_type,
                std::optional<uint64_t> max_length = std::nullopt,
                std::optional<uint32_t> precision = std::nullopt,
                std::optional<uint32_t> scale = std::nullopt,
                std::optional<uint32_t> datetime_precision = std::nullopt) {
  return {data_type, column_type, max_length, precision, scale, datetime_precision};
}

ColumnType DecimalColumn(uint32_t p, uint32_t s, bool is_unsigned = false) {
  return Type("decimal",
              "decimal(" + std::to_string(p) + "," + std::to_string(s) + ")" +
                  (is_unsigned ? " unsigned" : ""),
              std::nullopt, p, s);
}
ColumnType Varchar(uint64_t n) { return Type("varchar", "varchar(" + std::to_string(n) + ")", n); }
ColumnType Time(uint32_t p) {
  return Type("time", "time(" + std::to_string(p) + ")", {}, {}, {}, p);
}
ColumnType Datetime(uint32_t p) {
  return Type("datetime", "datetime(" + std::to_string(p) + ")", {}, {}, {}, p);
}
ColumnType Bit(uint32_t n) { return Type("bit", "bit(" + std::to_string(n) + ")", {}, n); }
const ColumnType kDouble = Type("double", "double", {}, 22);
const ColumnType kFloat = Type("float", "float", {}, 12);
const ColumnType kText = Type("text", "text", 65535);
const ColumnType kBlob = Type("blob", "blob", 65535);
const ColumnType kDate = Type("date", "date");
const ColumnType kJson = Type("json", "json");
const ColumnType kBigint = Type("bigint", "bigint(20)", {}, 19, 0);
const ColumnType kBigintUnsigned = Type("bigint", "bigint(20) unsigned", {}, 20, 0);

using wire::testing::Bool;
using wire::testing::Bytes;
using wire::testing::Dec;
using wire::testing::Float;
using wire::testing::Int;
using wire::testing::Str;
using wire::testing::Text;
using wire::testing::Uint;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// The parameter for `value` into `type`, or a failure showing the error.
Param Ok(const wire::Value& value, const ColumnType& type) {
  Result<Param> param = ToParam(value, type);
  EXPECT_TRUE(param.ok()) << type.column_type << ": " << param.message();
  return param.ok() ? *param : Param::Null();
}

// The error message for `value` into `type` ("" when it was accepted).
std::string Error(const wire::Value& value, const ColumnType& type) {
  Result<Param> param = ToParam(value, type);
  EXPECT_FALSE(param.ok()) << type.column_type << " accepted " << DebugString(*param);
  return param.ok() ? "" : param.message();
}

// ---- integers ----------------------------------------------------------------------------------

struct IntegerBounds {
  std::string data_type;
  int64_t min;
  int64_t max;
  uint64_t unsigned_max;
};

TEST(MysqlValuesTest, IntegerTypesAcceptExactlyTheirRange) {
  const IntegerBounds kBounds[] = {
      {"tinyint", -128, 127, 255},
      {"smallint", -32768, 32767, 65535},
      {"mediumint", -8388608, 8388607, 16777215},
      {"int", -2147483648LL, 2147483647, 4294967295ULL},
  };
  for (const IntegerBounds& b : kBounds) {
    SCOPED_TRACE(b.data_type);
    const ColumnType type = Type(b.data_type, b.data_type + "(4)");
    const ColumnType unsigned_type = Type(b.data_type, b.data_type + "(4) unsigned");
    EXPECT_EQ(Ok(Int(b.min), type), Param::Int64(b.min));
    EXPECT_EQ(Ok(Int(b.max), type), Param::Int64(b.max));
    EXPECT_TRUE(Contains(Error(Int(b.min - 1), type),
                         "value " + std::to_string(b.min - 1) + " cannot be held exactly by " +
                             b.data_type + "(4) (range " + std::to_string(b.min) + ".." +
                             std::to_string(b.max) + ")"));
    Error(Int(b.max + 1), type);
    EXPECT_EQ(Ok(Int(0), unsigned_type), Param::UInt64(0));
    EXPECT_EQ(Ok(Uint(b.unsigned_max), unsigned_type), Param::UInt64(b.unsigned_max));
    EXPECT_TRUE(Contains(Error(Int(-1), unsigned_type),
                         "(range 0.." + std::to_string(b.unsigned_max) + ")"));
    Error(Uint(b.unsigned_max + 1), unsigned_type);
  }
}

TEST(MysqlValuesTest, BigintCoversBothSixtyFourBitRanges) {
  const int64_t min = std::numeric_limits<int64_t>::min();
  const int64_t max = std::numeric_limits<int64_t>::max();
  const uint64_t umax = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(Ok(Int(min), kBigint), Param::Int64(min));
  EXPECT_EQ(Ok(Int(max), kBigint), Param::Int64(max));
  EXPECT_EQ(Ok(Uint(static_cast<uint64_t>(max)), kBigint), Param::Int64(max));
  EXPECT_TRUE(Contains(Error(Uint(static_cast<uint64_t>(max) + 1), kBigint),
                       "value 9223372036854775808 cannot be held exactly by bigint(20)"));
  EXPECT_EQ(Ok(Uint(umax), kBigintUnsigned), Param::UInt64(umax));
  EXPECT_EQ(Ok(Int(max), kBigintUnsigned), Param::UInt64(static_cast<uint64_t>(max)));
  EXPECT_TRUE(Contains(Error(Int(min), kBigintUnsigned), "-9223372036854775808"));
}

TEST(MysqlValuesTest, YearTakesZeroAndItsRangeButNotTwoDigitYears) {
  const ColumnType year = Type("year", "year(4)");
  EXPECT_EQ(Ok(Int(0), year), Param::Int64(0));
  EXPECT_EQ(Ok(Int(1901), year), Param::Int64(1901));
  EXPECT_EQ(Ok(Uint(2155), year), Param::Int64(2155));
  EXPECT_TRUE(Contains(Error(Int(5), year), "YEAR holds 0 and 1901..2155"));
  Error(Int(1900), year);
  Error(Int(2156), year);
  Error(Int(-1), year);
}

TEST(MysqlValuesTest, BitColumnsTakeIntegersAndBitStringsThatFit) {
  EXPECT_EQ(Ok(Int(1), Bit(1)), Param::UInt64(1));
  EXPECT_EQ(Ok(Bool(true), Bit(1)), Param::UInt64(1));
  EXPECT_TRUE(Contains(Error(Int(2), Bit(1)), "(1 bits)"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_bits, "0101"), Bit(4)), Param::UInt64(5));
  EXPECT_EQ(Ok(Str(&wire::Value::set_bits, "0101"), Bit(3)), Param::UInt64(5));
  Error(Str(&wire::Value::set_bits, "1000"), Bit(3));
  EXPECT_EQ(Ok(Str(&wire::Value::set_bits, std::string(64, '1')), Bit(64)),
            Param::UInt64(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(Ok(Str(&wire::Value::set_bits, "0" + std::string(64, '1')), Bit(64)),
            Param::UInt64(std::numeric_limits<uint64_t>::max()));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_bits, std::string(65, '1')), Bit(64)),
                       "more than 64 significant bits"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_bits, "012"), Bit(8)), "malformed bit string"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_bits, "0101"), Varchar(8)), Param::String("0101"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_bits, "11111111"), Type("tinyint", "tinyint(3) unsigned")),
            Param::UInt64(255));
  Error(Int(-1), Bit(8));
}

// ---- decimals ----------------------------------------------------------------------------------

TEST(MysqlValuesTest, ParseDecimalNormalises) {
  auto parts = [](const std::string& text) {
    Result<Decimal> d = ParseDecimal(text);
    EXPECT_TRUE(d.ok()) << text << ": " << d.message();
    return d.ok() ? DecimalText(*d) : "";
  };
  EXPECT_EQ(parts("-0.50"), "-0.5");
  EXPECT_EQ(parts("00012.3400"), "12.34");
  EXPECT_EQ(parts("-0"), "0");
  EXPECT_EQ(parts("-0.000"), "0");
  EXPECT_EQ(parts("+.5"), "0.5");
  EXPECT_EQ(parts("7."), "7");
  EXPECT_EQ(parts("1e3"), "1000");
  EXPECT_EQ(parts("1.5E-3"), "0.0015");
  EXPECT_EQ(parts("12.5e+1"), "125");
  EXPECT_EQ(parts("123456789012345678901234567890.000000000000000000000000000001"),
            "123456789012345678901234567890.000000000000000000000000000001");
  for (const char* bad :
       {"", ".", "-", "abc", "NaN", "Infinity", "1.2.3", "1e", "1e999999", "--1", "1 "}) {
    EXPECT_FALSE(ParseDecimal(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseDecimal("-0.50").value(), (Decimal{true, "", "5"}));
}

TEST(MysqlValuesTest, DecimalMustFitPrecisionAndScaleExactly) {
  const ColumnType widest = DecimalColumn(65, 30);
  const std::string integer35(35, '9');
  const std::string fraction30 = std::string(29, '0') + "1";
  EXPECT_EQ(Ok(Dec("-" + integer35 + "." + fraction30), widest),
            Param::String("-" + integer35 + "." + fraction30));
  EXPECT_TRUE(Contains(Error(Dec("1" + integer35), widest),
                       "(at most 35 digits before the decimal point)"));
  EXPECT_TRUE(
      Contains(Error(Dec("0." + fraction30 + "1"), widest), "(30 digits after the decimal point)"));
  EXPECT_EQ(Ok(Dec("-0.50"), DecimalColumn(10, 2)), Param::String("-0.5"));
  EXPECT_EQ(Ok(Dec("1.500000"), DecimalColumn(5, 2)), Param::String("1.5"));  // zeros are no loss
  EXPECT_EQ(Ok(Dec("000123.00"), DecimalColumn(5, 2)), Param::String("123"));
  Error(Dec("1234.5"), DecimalColumn(5, 2));
  Error(Dec("1.005"), DecimalColumn(5, 2));
  EXPECT_TRUE(Contains(Error(Dec("-1"), DecimalColumn(5, 2, true)), "it is unsigned"));
  EXPECT_EQ(Ok(Dec("-0"), DecimalColumn(5, 2, true)), Param::String("0"));
  EXPECT_TRUE(Contains(Error(Dec("NaN"), DecimalColumn(10, 2)),
                       "value NaN cannot be held by decimal(10,2) (MySQL and MariaDB numbers "
                       "have no NaN or infinity): map the column to a VARCHAR column"));
  Error(Dec("Infinity"), kDouble);
  EXPECT_EQ(Error(Dec("12abc"), DecimalColumn(10, 2)),
            "the change stream is malformed: not a decimal number: '12abc'");
  EXPECT_EQ(Ok(Dec("NaN"), Varchar(5)), Param::String("NaN"));
  EXPECT_EQ(Ok(Dec("-0.50"), Varchar(5)), Param::String("-0.50"));  // text keeps the text
}

TEST(MysqlValuesTest, DecimalIntoIntegerAndFloatColumnsOnlyWhenExact) {
  EXPECT_EQ(Ok(Dec("12.00"), kBigint), Param::Int64(12));
  EXPECT_TRUE(Contains(Error(Dec("12.5"), kBigint), "(it has a fraction)"));
  EXPECT_EQ(Ok(Dec("18446744073709551615"), kBigintUnsigned),
            Param::UInt64(std::numeric_limits<uint64_t>::max()));
  EXPECT_TRUE(Contains(Error(Dec("18446744073709551616"), kBigintUnsigned), "beyond 64 bits"));
  EXPECT_EQ(Ok(Dec("0.1"), kDouble), Param::Double(0.1));
  EXPECT_EQ(Ok(Dec("-2.50"), kDouble), Param::Double(-2.5));
  EXPECT_TRUE(Contains(Error(Dec("0.10000000000000001"), kDouble), "a DOUBLE would round it"));
  EXPECT_EQ(Ok(Dec("0.1"), kFloat), Param::Double(static_cast<double>(0.1f)));
  EXPECT_TRUE(Contains(Error(Dec("0.100000001"), kFloat), "a 32-bit FLOAT would round it"));
  Error(Dec("1e400"), kDouble);
}

// ---- binary floats -----------------------------------------------------------------------------

TEST(MysqlValuesTest, FloatsAreWrittenOnlyWhenHeldExactly) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Ok(Float(0.1), kDouble), Param::Double(0.1));
  EXPECT_EQ(Ok(Float(1e-310), kDouble), Param::Double(1e-310));
  EXPECT_EQ(Ok(Float(1.7976931348623157e308), kDouble), Param::Double(1.7976931348623157e308));
  const Param zero = Ok(Float(-0.0), kDouble);
  EXPECT_EQ(zero, Param::Double(0));
  EXPECT_FALSE(std::signbit(zero.float64));
  EXPECT_TRUE(Contains(Error(Float(std::nan("")), kDouble),
                       "value NaN cannot be held by double (MySQL and MariaDB have no NaN"));
  EXPECT_TRUE(Contains(Error(Float(-inf), kDouble), "value -Infinity"));
  EXPECT_EQ(Ok(Float(static_cast<double>(0.1f)), kFloat), Param::Double(static_cast<double>(0.1f)));
  EXPECT_TRUE(Contains(Error(Float(0.1), kFloat),
                       "value 0.1 cannot be held exactly by float (a 32-bit FLOAT would round "
                       "it; use DOUBLE)"));
  Error(Float(1e-310), kFloat);
  EXPECT_EQ(Ok(Float(0.25), DecimalColumn(10, 2)), Param::String("0.25"));
  EXPECT_TRUE(
      Contains(Error(Float(0.125), DecimalColumn(10, 2)), "(2 digits after the decimal point)"));
  EXPECT_EQ(Ok(Float(1e-5), DecimalColumn(10, 5)), Param::String("0.00001"));
  EXPECT_EQ(Ok(Float(3), kBigint), Param::Int64(3));
  EXPECT_EQ(Ok(Float(-3), kBigint), Param::Int64(-3));
  Error(Float(1.5), kBigint);
  Error(Float(inf), kBigint);
  EXPECT_EQ(Ok(Float(1.0 / 3), Varchar(30)), Param::String("0.3333333333333333"));
  EXPECT_EQ(Ok(Float(std::nan("")), Varchar(30)), Param::String("NaN"));
  // FLOAT(M,D) rounds to D decimals.
  const ColumnType scaled = Type("float", "float(7,2)", {}, 7, 2);
  EXPECT_EQ(Ok(Float(0.5), scaled), Param::Double(0.5));
  Error(Float(0.125), scaled);
  Error(Float(-1), Type("double", "double unsigned", {}, 22));
}

TEST(MysqlValuesTest, IntegersIntoFloatsOnlyWhenExact) {
  EXPECT_EQ(Ok(Int(int64_t{1} << 53), kDouble), Param::Double(9007199254740992.0));
  EXPECT_TRUE(
      Contains(Error(Int((int64_t{1} << 53) + 1), kDouble), "a binary float would round it"));
  EXPECT_EQ(Ok(Int(std::numeric_limits<int64_t>::min()), kDouble),
            Param::Double(-9223372036854775808.0));
  Error(Uint(std::numeric_limits<uint64_t>::max()), kDouble);
  EXPECT_EQ(Ok(Int(16777216), kFloat), Param::Double(16777216));
  Error(Int(16777217), kFloat);
}

TEST(MysqlValuesTest, BooleansAreOneAndZero) {
  EXPECT_EQ(Ok(Bool(true), Type("tinyint", "tinyint(1)")), Param::Int64(1));
  EXPECT_EQ(Ok(Bool(false), Type("tinyint", "tinyint(1) unsigned")), Param::UInt64(0));
  EXPECT_EQ(Ok(Bool(true), DecimalColumn(1, 0)), Param::String("1"));
  EXPECT_EQ(Ok(Bool(false), Varchar(5)), Param::String("false"));
  Error(Bool(true), kDate);
}

// ---- text and bytes ----------------------------------------------------------------------------

TEST(MysqlValuesTest, TextLengthIsCheckedInCharactersOrBytes) {
  EXPECT_EQ(Ok(Text("😀😀😀😀😀"), Varchar(5)), Param::String("😀😀😀😀😀"));
  EXPECT_TRUE(Contains(Error(Text("😀😀😀😀😀😀"), Varchar(5)),
                       "value '😀😀😀😀😀😀' cannot be held exactly by varchar(5) (6 characters, "
                       "the column holds 5): widen or change the target column"));
  EXPECT_EQ(Ok(Text(std::string("a\0b", 3)), Varchar(3)), Param::String(std::string("a\0b", 3)));
  const ColumnType tinytext = Type("tinytext", "tinytext", 255);
  Ok(Text(std::string(255, 'x')), tinytext);
  EXPECT_TRUE(Contains(Error(Text(std::string(64, 'x') + "😀" + std::string(200, 'y')), tinytext),
                       "(268 bytes, the column holds 255)"));
  Ok(Text(std::string(65535, 'x')), kText);
  Error(Text(std::string(65536, 'x')), kText);
  // Long values are cut in messages, at a character boundary.
  const std::string message = Error(Text(std::string(39, 'x') + "😀 and more"), Varchar(3));
  EXPECT_TRUE(Contains(message, "value '" + std::string(39, 'x') + "...' (52 bytes)"));
  EXPECT_EQ(Ok(Text("hello"), kBlob), Param::Bytes("hello"));
  EXPECT_EQ(Ok(Text("{\"a\": 1}"), kJson), Param::String("{\"a\": 1}"));
  EXPECT_TRUE(Contains(Error(Text("12"), kBigint),
                       "text value cannot be written to column type bigint(20): change the target "
                       "column's type"));
}

TEST(MysqlValuesTest, EnumAndSetMembersAreCheckedCaseSensitively) {
  const ColumnType mood = Type("enum", "enum('sad','happy','it''s')", 5);
  EXPECT_EQ(Ok(Str(&wire::Value::set_enum_value, "happy"), mood), Param::String("happy"));
  EXPECT_EQ(Ok(Text("it's"), mood), Param::String("it's"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_enum_value, "HAPPY"), mood),
                       "value 'HAPPY' cannot be held exactly by enum('sad','happy','it''s') "
                       "('HAPPY' is not one of its members)"));
  Error(Text("1"), mood);  // MySQL would read it as the first member
  Error(Text(""), mood);
  const ColumnType flags = Type("set", "set('a','b','c')", 5);
  EXPECT_EQ(Ok(Str(&wire::Value::set_set_value, "a,c"), flags), Param::String("a,c"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_set_value, ""), flags), Param::String(""));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_set_value, "a,z"), flags), "'z' is not one"));
  Error(Str(&wire::Value::set_set_value, "a"), mood);
  EXPECT_EQ(Ok(Str(&wire::Value::set_enum_value, "happy"), Varchar(10)), Param::String("happy"));
  EXPECT_EQ(TypeMembers("enum('a','it''s','x,y','')"),
            (std::vector<std::string>{"a", "it's", "x,y", ""}));
}

TEST(MysqlValuesTest, BytesGoToBinaryColumnsOnly) {
  const std::string bytes("\x00\x01\xff", 3);
  EXPECT_EQ(Ok(Bytes(bytes), kBlob), Param::Bytes(bytes));
  EXPECT_EQ(Ok(Bytes(""), kBlob), Param::Bytes(""));
  EXPECT_EQ(Ok(Bytes(bytes), Type("binary", "binary(16)", 16)), Param::Bytes(bytes));
  EXPECT_TRUE(Contains(Error(Bytes("abcd"), Type("varbinary", "varbinary(3)", 3)),
                       "(4 bytes, the column holds 3)"));
  EXPECT_TRUE(Contains(Error(Bytes(bytes), kText), "bytes value cannot be written"));
  EXPECT_EQ(DebugString(Param::Bytes(bytes)), "x'0001ff'");
}

TEST(MysqlValuesTest, UuidsAsTextOrSixteenBytes) {
  const wire::Value uuid = Str(&wire::Value::set_uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(Ok(uuid, Type("char", "char(36)", 36)),
            Param::String("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
  EXPECT_EQ(Ok(uuid, Type("uuid", "uuid")), Param::String("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
  EXPECT_EQ(Ok(uuid, Type("binary", "binary(16)", 16)),
            Param::Bytes(std::string("\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a"
                                     "\x11",
                                     16)));
  Error(Str(&wire::Value::set_uuid, "not-a-uuid"), Type("binary", "binary(16)", 16));
  Error(uuid, Type("char", "char(32)", 32));
  Error(uuid, kBigint);
}

// ---- temporal values ---------------------------------------------------------------------------

TEST(MysqlValuesTest, DatesWithoutMysqlCounterpartAreRefused) {
  const wire::Value leap = Str(&wire::Value::set_date, "2024-02-29");
  EXPECT_EQ(Ok(leap, kDate), Param::String("2024-02-29"));
  EXPECT_EQ(Ok(leap, Datetime(6)), Param::String("2024-02-29 00:00:00"));
  EXPECT_EQ(Ok(leap, Type("timestamp", "timestamp", {}, {}, {}, 0)),
            Param::String("2024-02-29 00:00:00"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_date, "infinity"), kDate),
                       "value 'infinity' cannot be held by date (MySQL and MariaDB have no "
                       "infinite dates)"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_date, "0044-03-15 BC"), kDate),
                       "no dates before year 1"));
  EXPECT_TRUE(
      Contains(Error(Str(&wire::Value::set_date, "12024-01-01"), kDate), "no years after 9999"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_date, "2024-2-29"), kDate), "malformed date"));
  // A text column keeps whatever the source wrote.
  EXPECT_EQ(Ok(Str(&wire::Value::set_date, "-infinity"), Varchar(10)), Param::String("-infinity"));
  Error(leap, Time(0));
}

TEST(MysqlValuesTest, TimesKeepTheirRangeAndPrecision) {
  const wire::Value micro = Str(&wire::Value::set_time, "13:45:10.123456");
  EXPECT_EQ(Ok(micro, Time(6)), Param::String("13:45:10.123456"));
  EXPECT_TRUE(Contains(Error(micro, Time(0)),
                       "value '13:45:10.123456' cannot be held exactly by time(0) (it keeps 0 "
                       "fractional digits of a second)"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_time, "13:45:10.500000"), Time(1)),
            Param::String("13:45:10.5"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_time, "13:45:10.000"), Time(0)), Param::String("13:45:10"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_time, "24:00:00"), Time(0)), Param::String("24:00:00"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_time, "-838:59:59"), Time(0)), Param::String("-838:59:59"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_time, "100:00:00.5"), Time(6)), Param::String("100:00:00.5"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_time, "839:00:00"), Time(0)),
                       "TIME spans -838:59:59..838:59:59"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_time, "12:60:00"), Time(0)), "malformed time"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_time_tz, "13:45:10+00"), Time(0)), Param::String("13:45:10"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_time_tz, "13:45:10.5+00:00"), Time(1)),
            Param::String("13:45:10.5"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_time_tz, "13:45:10+02"), Time(0)),
                       "only UTC (+00) offsets are written"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_time_tz, "13:45:10+02"), Varchar(20)),
            Param::String("13:45:10+02"));
}

TEST(MysqlValuesTest, TimestampsAreUtcWallTimeWithinThePrecision) {
  const wire::Value ts = Str(&wire::Value::set_timestamp, "2024-02-29 13:45:10.123456");
  EXPECT_EQ(Ok(ts, Datetime(6)), Param::String("2024-02-29 13:45:10.123456"));
  EXPECT_TRUE(Contains(Error(ts, Datetime(3)), "it keeps 3 fractional digits"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_timestamp, "2024-02-29T13:45:10"), Datetime(0)),
            Param::String("2024-02-29 13:45:10"));
  EXPECT_TRUE(Contains(Error(Str(&wire::Value::set_timestamp, "infinity"), Datetime(6)),
                       "no infinite dates"));
  Error(Str(&wire::Value::set_timestamp, "0001-01-01 00:00:00 BC"), Datetime(6));
  EXPECT_EQ(Ok(Str(&wire::Value::set_timestamp, "2024-02-29 00:00:00.000"), kDate),
            Param::String("2024-02-29"));
  EXPECT_TRUE(Contains(Error(ts, kDate), "a DATE has no time of day"));

  const wire::Value tz = Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10.123456+00");
  EXPECT_EQ(Ok(tz, Datetime(6)), Param::String("2024-02-29 11:45:10.123456"));
  EXPECT_EQ(Ok(tz, Type("timestamp", "timestamp(6)", {}, {}, {}, 6)),
            Param::String("2024-02-29 11:45:10.123456"));
  EXPECT_EQ(Ok(Str(&wire::Value::set_timestamp_tz, "1999-12-31 23:59:59+00:00"), Datetime(0)),
            Param::String("1999-12-31 23:59:59"));
  EXPECT_TRUE(
      Contains(Error(Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10+01"), Datetime(0)),
               "only UTC (+00) offsets"));
  Error(Str(&wire::Value::set_timestamp_tz, "-infinity"), Datetime(6));
  Error(Str(&wire::Value::set_timestamp_tz, "0044-03-15 11:00:00+00 BC"), Datetime(6));
  EXPECT_EQ(Ok(tz, Varchar(40)), Param::String("2024-02-29 11:45:10.123456+00"));
}

// MySQL/MariaDB zero and partial dates, as a MySQL/MariaDB source sends them, are written
// exactly (the apply session allows them); a TIMESTAMP holds only the zero one.
TEST(MysqlValuesTest, ZeroAndPartialDatesAreWrittenExactly) {
  const ColumnType timestamp = Type("timestamp", "timestamp(6)", {}, {}, {}, 6);
  const wire::Value zero = Str(&wire::Value::set_date, "0000-00-00");
  const wire::Value partial = Str(&wire::Value::set_date, "2024-01-00");
  EXPECT_EQ(Ok(zero, kDate), Param::String("0000-00-00"));
  EXPECT_EQ(Ok(partial, kDate), Param::String("2024-01-00"));
  EXPECT_EQ(Ok(zero, Datetime(0)), Param::String("0000-00-00 00:00:00"));
  EXPECT_EQ(Ok(partial, Datetime(0)), Param::String("2024-01-00 00:00:00"));
  EXPECT_EQ(Ok(zero, timestamp), Param::String("0000-00-00 00:00:00"));
  EXPECT_EQ(Ok(zero, Varchar(10)), Param::String("0000-00-00"));

  const wire::Value zero_tz = Str(&wire::Value::set_timestamp_tz, "0000-00-00 00:00:00.000000+00");
  EXPECT_EQ(Ok(zero_tz, timestamp), Param::String("0000-00-00 00:00:00.000000"));
  EXPECT_EQ(Ok(zero_tz, Datetime(6)), Param::String("0000-00-00 00:00:00.000000"));
  EXPECT_EQ(Ok(zero_tz, kDate), Param::String("0000-00-00"));
  const wire::Value partial_dt = Str(&wire::Value::set_timestamp, "2024-02-00 10:00:00");
  EXPECT_EQ(Ok(partial_dt, Datetime(0)), Param::String("2024-02-00 10:00:00"));
  EXPECT_EQ(Ok(partial_dt, Varchar(30)), Param::String("2024-02-00 10:00:00"));

  for (const wire::Value& refused :
       {partial, partial_dt, Str(&wire::Value::set_timestamp, "0000-00-00 10:00:00")}) {
    EXPECT_TRUE(Contains(Error(refused, timestamp),
                         "cannot be held exactly by timestamp(6) (a TIMESTAMP holds the zero date "
                         "0000-00-00 00:00:00 but no partial dates)"))
        << refused.ShortDebugString();
  }
}

TEST(MysqlValuesTest, IntervalsOnlyIntoText) {
  const wire::Value interval = Str(&wire::Value::set_interval, "1 year 2 mons");
  EXPECT_EQ(Ok(interval, Varchar(20)), Param::String("1 year 2 mons"));
  EXPECT_TRUE(Contains(Error(interval, Time(6)),
                       "interval value cannot be written to column type "
                       "time(6)"));
}

// ---- JSON, arrays, other -----------------------------------------------------------------------

TEST(MysqlValuesTest, ArraysBecomeJson) {
  wire::Value array;
  auto* elements = array.mutable_array();
  *elements->add_elements() = Int(1);
  elements->add_elements()->mutable_null();
  *elements->add_elements() = Text("a\"b\\c\n\x01");
  *elements->add_elements() = Dec("-0.50");
  *elements->add_elements() = Dec("NaN");
  *elements->add_elements() = Float(std::nan(""));
  *elements->add_elements() = Float(0.5);
  *elements->add_elements() = Bool(true);
  *elements->add_elements() = Bytes(std::string("\x00\xff", 2));
  *elements->add_elements() = Str(&wire::Value::set_json, R"({"k": [1]})");
  *elements->add_elements() = Str(&wire::Value::set_timestamp_tz, "2024-02-29 11:45:10+00");
  wire::Value nested;
  *nested.mutable_array()->add_elements() = Uint(18446744073709551615ULL);
  *elements->add_elements() = nested;
  const std::string json =
      R"([1, null, "a\"b\\c\n\u0001", -0.50, "NaN", "NaN", 0.5, true, "\\x00ff", {"k": [1]}, )"
      R"("2024-02-29 11:45:10+00", [18446744073709551615]])";
  EXPECT_EQ(Ok(array, kJson), Param::String(json));
  EXPECT_EQ(Ok(array, kText), Param::String(json));
  EXPECT_EQ(Ok(wire::Value(*elements->mutable_elements(11)), kJson),
            Param::String("[18446744073709551615]"));
  Error(array, Varchar(10));
  Error(array, kBlob);
  wire::Value empty;
  empty.mutable_array();
  EXPECT_EQ(Ok(empty, kJson), Param::String("[]"));
}

TEST(MysqlValuesTest, JsonAndOtherKindsAsText) {
  const wire::Value json = Str(&wire::Value::set_json, R"({"b": 1,  "a":[1,2]})");
  EXPECT_EQ(Ok(json, kJson), Param::String(R"({"b": 1,  "a":[1,2]})"));
  EXPECT_EQ(Ok(json, Type("longtext", "longtext", 4294967295ULL)),
            Param::String(R"({"b": 1,  "a":[1,2]})"));
  Error(json, kBigint);
  const wire::Value inet = Str(&wire::Value::set_other, "10.1.2.3");
  EXPECT_EQ(Ok(inet, Varchar(20)), Param::String("10.1.2.3"));
  EXPECT_EQ(Ok(inet, Type("inet4", "inet4")), Param::String("10.1.2.3"));
  Error(inet, kBigint);
}

TEST(MysqlValuesTest, NullUnchangedAndUnsupported) {
  wire::Value null;
  null.mutable_null();
  EXPECT_EQ(Ok(null, kBigint), Param::Null());
  EXPECT_EQ(Ok(null, Type("geometry", "geometry")), Param::Null());
  wire::Value unchanged;
  unchanged.mutable_unchanged();
  EXPECT_TRUE(Contains(Error(unchanged, kBigint), "unchanged (TOAST) value cannot be written"));
  EXPECT_TRUE(Contains(Error(wire::Value(), kBigint), "value has no kind"));
  EXPECT_TRUE(Contains(Error(Text("POINT(1 1)"), Type("geometry", "geometry")),
                       "target column type geometry is not supported by Ferry"));
}

// ---- small helpers -----------------------------------------------------------------------------

TEST(MysqlValuesTest, Helpers) {
  EXPECT_EQ(CodePoints("grüß 😀"), 6u);
  EXPECT_EQ(ShortestText(0.1), "0.1");
  EXPECT_EQ(ShortestText(1e-310), "1e-310");
  EXPECT_EQ(ShortestText(0.1f), "0.1");
  EXPECT_EQ(ClassOf(Type("double", "double")), TypeClass::kDouble);
  EXPECT_EQ(ClassOf(Type("longtext", "longtext")), TypeClass::kText);
  EXPECT_EQ(ClassOf(Type("point", "point")), TypeClass::kUnsupported);
  EXPECT_EQ(DebugString(Param::String("x")), "'x'");
  EXPECT_EQ(DebugString(Param::Int64(-1)), "-1");
}

}  // namespace
}  // namespace ferry::apply::mysql
