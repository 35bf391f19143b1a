#include "capture/mysql/row_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "capture/mysql/mysql_decimal.h"
#include "capture/mysql/mysql_json.h"
#include "capture/mysql/mysql_temporal.h"
#include "capture/mysql/row_decoder_recorded.h"

namespace ferry::capture::mysql {
namespace {

namespace rec = recorded;
using Row = std::vector<std::string>;
using Rows = std::vector<Row>;

// Bytes from hex digits; spaces between them are for the reader.
std::string Unhex(std::string_view hex) {
  std::string digits;
  for (char c : hex) {
    if (c != ' ') digits.push_back(c);
  }
  std::string out;
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

// One value as "kind:text", so that a whole row compares (and prints) as a vector of strings.
std::string Show(const wire::Value& value) {
  switch (value.kind_case()) {
    case wire::Value::kNull:
      return "NULL";
    case wire::Value::kUnchanged:
      return "UNCHANGED";
    case wire::Value::kInt64:
      return "i:" + std::to_string(value.int64());
    case wire::Value::kUint64:
      return "u:" + std::to_string(value.uint64());
    case wire::Value::kDecimal:
      return "dec:" + value.decimal();
    case wire::Value::kFloat64: {
      char text[64];
      auto [end, ec] = std::to_chars(text, text + sizeof text, value.float64());
      return "f:" + std::string(text, end);
    }
    case wire::Value::kText:
      return "text:" + value.text();
    case wire::Value::kBytes:
      return "bytes:" + Hex(value.bytes());
    case wire::Value::kDate:
      return "date:" + value.date();
    case wire::Value::kTime:
      return "time:" + value.time();
    case wire::Value::kTimestamp:
      return "ts:" + value.timestamp();
    case wire::Value::kTimestampTz:
      return "tstz:" + value.timestamp_tz();
    case wire::Value::kJson:
      return "json:" + value.json();
    case wire::Value::kEnumValue:
      return "enum:" + value.enum_value();
    case wire::Value::kSetValue:
      return "set:" + value.set_value();
    case wire::Value::kBits:
      return "bits:" + value.bits();
    default:
      return "other:" + value.ShortDebugString();
  }
}

TableMap MustParse(std::string_view hex, BinlogFlavor flavor = BinlogFlavor::kMariadb) {
  Result<TableMap> map = ParseTableMap(Unhex(hex), 6, flavor);
  EXPECT_TRUE(map.ok()) << map.message();
  return map.ok() ? *map : TableMap{};
}

// A ROWS (v1) event body cut into its column bitmaps and its row images: table id (6), flags (2),
// column count (one byte here), present-columns bitmap, [UPDATE: after-image bitmap], rows.
struct RowsEvent {
  std::vector<bool> before;
  std::vector<bool> after;
  std::string rows;
};

RowsEvent SplitRows(const std::string& body, bool update) {
  RowsEvent event;
  if (body.size() < 9) return event;
  size_t width = static_cast<uint8_t>(body[8]);
  size_t pos = 9;
  if (pos + (update ? 2 : 1) * ((width + 7) / 8) > body.size()) return event;
  auto bitmap = [&](std::vector<bool>* out) {
    for (size_t i = 0; i < width; ++i) {
      out->push_back((static_cast<uint8_t>(body[pos + i / 8]) >> (i % 8)) & 1);
    }
    pos += (width + 7) / 8;
  };
  bitmap(&event.before);
  if (update) bitmap(&event.after);
  event.rows = body.substr(pos);
  return event;
}

// Decodes every image of a rows event (for UPDATE alternately before and after images).
Result<Rows> DecodeAll(const TableMap& map, const RowsEvent& event) {
  Rows rows;
  std::string_view data = event.rows;
  for (size_t image = 0; !data.empty(); ++image) {
    bool after = !event.after.empty() && image % 2 == 1;
    std::vector<wire::Value> values;
    Result<size_t> used = DecodeRowImage(map, after ? event.after : event.before, data, &values);
    if (!used.ok()) return used.status();
    Row row;
    for (const wire::Value& value : values) row.push_back(Show(value));
    rows.push_back(row);
    data.remove_prefix(*used);
  }
  return rows;
}

Rows MustDecode(std::string_view map_hex, std::string_view rows_hex, bool update = false) {
  TableMap map = MustParse(map_hex);
  Result<Rows> rows = DecodeAll(map, SplitRows(Unhex(rows_hex), update));
  EXPECT_TRUE(rows.ok()) << rows.message();
  return rows.ok() ? *rows : Rows{};
}

std::vector<std::string> SourceTypes(const TableMap& map) {
  std::vector<std::string> names;
  for (const ColumnInfo& column : map.columns) names.push_back(MysqlTypeName(column));
  return names;
}

std::vector<wire::LogicalType> LogicalTypes(const TableMap& map) {
  std::vector<wire::LogicalType> types;
  for (const ColumnInfo& column : map.columns) types.push_back(MysqlLogicalType(column));
  return types;
}

// ---- TABLE_MAP --------------------------------------------------------------------------------

TEST(ParseTableMap, ReadsNamesTypesNullabilityAndSignedness) {
  TableMap map = MustParse(rec::kIntsTableMap);
  EXPECT_EQ(map.table_id, 0x12u);
  EXPECT_EQ(map.schema, "app");
  EXPECT_EQ(map.table, "ints");
  EXPECT_TRUE(map.has_column_names);
  ASSERT_EQ(map.columns.size(), 13u);
  std::vector<std::string> names;
  std::vector<bool> is_unsigned;
  for (const ColumnInfo& c : map.columns) {
    names.push_back(c.name);
    is_unsigned.push_back(c.is_unsigned);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"id", "ti", "tu", "si", "su", "mi", "mu", "i", "iu",
                                             "bi", "bu", "y", "b1"}));
  // MariaDB gives YEAR a signedness bit (it is a Field_tiny); b1 after it must stay signed.
  EXPECT_EQ(is_unsigned, (std::vector<bool>{false, false, true, false, true, false, true, false,
                                            true, false, true, true, false}));
  EXPECT_FALSE(map.columns[0].nullable);
  EXPECT_TRUE(map.columns[1].nullable);
  EXPECT_TRUE(map.columns[0].primary_key);
  EXPECT_FALSE(map.columns[1].primary_key);
}

TEST(ParseTableMap, StringMetadataFoldsLongCharLengthsIntoTheRealType) {
  TableMap map = MustParse(rec::kStrsTableMap);
  ASSERT_EQ(map.columns.size(), 16u);
  const ColumnInfo& c255 = map.columns[11];  // CHAR(255) utf8mb4: 1020 bytes
  EXPECT_EQ(c255.type, 254);
  EXPECT_EQ(c255.real_type, 254);
  EXPECT_EQ(c255.metadata, 0xcefc);
  EXPECT_EQ(MysqlTypeName(c255), "char(255)");
  std::vector<uint32_t> charsets;
  for (const ColumnInfo& c : map.columns) charsets.push_back(c.charset);
  EXPECT_EQ(charsets,
            (std::vector<uint32_t>{0, 45, 45, 45, 8, 8, 8, 63, 63, 63, 45, 45, 45, 33, 63, 83}));
}

TEST(ParseTableMap, EnumAndSetMembersAreConvertedFromTheirCharset) {
  TableMap map = MustParse(rec::kEnumsTableMap);
  ASSERT_EQ(map.columns.size(), 6u);
  EXPECT_EQ(map.columns[1].real_type, 247);
  EXPECT_EQ(map.columns[2].real_type, 248);
  EXPECT_EQ(map.columns[1].enum_values, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(map.columns[2].set_values, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(map.columns[3].charset, 8u);  // latin1, from ENUM_AND_SET_DEFAULT_CHARSET
  EXPECT_EQ(map.columns[3].enum_values, (std::vector<std::string>{"café", "thé"}));
  EXPECT_EQ(map.columns[4].set_values, (std::vector<std::string>{"é", "ü"}));
  EXPECT_EQ(map.columns[5].enum_values, (std::vector<std::string>{"😀", "b"}));
}

TEST(ParseTableMap, PrimaryKeysSimpleAndWithPrefix) {
  TableMap pk2 = MustParse(rec::kPk2TableMap);  // PRIMARY KEY (b(10), a)
  EXPECT_TRUE(pk2.columns[0].primary_key);
  EXPECT_TRUE(pk2.columns[1].primary_key);
  EXPECT_FALSE(pk2.columns[2].primary_key);
  TableMap pk3 = MustParse(rec::kPk3TableMap);  // PRIMARY KEY (a, b) declared after c
  EXPECT_FALSE(pk3.columns[0].primary_key);
  EXPECT_TRUE(pk3.columns[1].primary_key);
  EXPECT_TRUE(pk3.columns[2].primary_key);
}

TEST(ParseTableMap, DefaultCharsetExceptionsIndexCharacterColumnsOnly) {
  // a utf8mb4, b latin1, c, d utf8mb4, e binary TEXT: default 45 with (1, 8) and (4, 63).
  TableMap map = MustParse(rec::kMixcsTableMap);
  std::vector<uint32_t> charsets;
  for (const ColumnInfo& c : map.columns) charsets.push_back(c.charset);
  EXPECT_EQ(charsets, (std::vector<uint32_t>{0, 45, 8, 45, 45, 63}));
}

TEST(ParseTableMap, MariadbCountsGeometryAmongCharacterColumns) {
  // geos: g GEOMETRY, p POINT, name latin1: MariaDB writes default charset 63 (binary, for the two
  // geometries) with the exception (2, latin1).
  TableMap map = MustParse(rec::kGeosTableMap);
  EXPECT_EQ(map.columns[1].charset, 63u);
  EXPECT_EQ(map.columns[2].charset, 63u);
  EXPECT_EQ(map.columns[3].charset, 8u);
  // Read as MySQL (which counts no geometry) the exception index 2 does not fit one character
  // column, so the parser falls back to MariaDB's counting and gets the same answer.
  TableMap as_mysql = MustParse(rec::kGeosTableMap, BinlogFlavor::kMysql);
  EXPECT_EQ(as_mysql.columns[3].charset, 8u);
}

TEST(ParseTableMap, WithoutOptionalMetadataEverythingIsUnknown) {
  // MySQL 5.7 and MariaDB with binlog_row_metadata=NO_LOG: types and metadata only.
  // Table id, flags, schema "a", table "emoji", INT and VARCHAR, VARCHAR max 1020 bytes, the
  // null bitmap, and nothing after it.
  std::string body = Unhex("6e0000000000 0100 01 61 00 05 656d6f6a69 00 02 030f 02 fc03 00");
  Result<TableMap> map = ParseTableMap(body);
  ASSERT_TRUE(map.ok()) << map.message();
  EXPECT_EQ(map->table, "emoji");
  EXPECT_FALSE(map->has_column_names);
  EXPECT_EQ(map->columns[1].metadata, 1020);
  EXPECT_EQ(map->columns[1].charset, 0u);
  EXPECT_FALSE(map->columns[0].nullable);
  wire::Relation relation = RelationFromTableMap(*map, 9);
  EXPECT_EQ(relation.columns(0).name(), "@1");
  EXPECT_EQ(relation.columns(1).name(), "@2");
  EXPECT_EQ(relation.columns(1).source_type(), "varchar");
}

TEST(ParseTableMap, FourByteTableIdsAndUnknownOptionalFieldsAreAccepted) {
  // A 4-byte table id, then COLUMN_VISIBILITY, a field type from the future, and COLUMN_NAME.
  std::string body = Unhex("2a000000 0000 0161 00 0162 00 01 03 00 00 0c 01 80 63 03 010203") +
                     Unhex("04 02 016b");
  Result<TableMap> map = ParseTableMap(body, 4);
  ASSERT_TRUE(map.ok()) << map.message();
  EXPECT_EQ(map->table_id, 42u);
  EXPECT_EQ(map->columns[0].name, "k");
}

// ---- row images recorded from MariaDB 10.11 ---------------------------------------------------

TEST(RecordedRows, IntegersAtTheirLimits) {
  EXPECT_EQ(MustDecode(rec::kIntsTableMap, rec::kIntsWrite),
            (Rows{{"i:1", "i:-128", "u:0", "i:-32768", "u:0", "i:-8388608", "u:0", "i:-2147483648",
                   "u:0", "i:-9223372036854775808", "u:0", "i:1901", "i:0"},
                  {"i:2", "i:127", "u:255", "i:32767", "u:65535", "i:8388607", "u:16777215",
                   "i:2147483647", "u:4294967295", "i:9223372036854775807",
                   "u:18446744073709551615", "i:2155", "i:1"},
                  {"i:3", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
                   "NULL", "i:0", "NULL"},
                  {"i:4", "i:-1", "u:1", "i:-1", "u:1", "i:-1", "u:1", "i:-1", "u:1", "i:-1", "u:1",
                   "i:2024", "i:-1"}}));
}

TEST(RecordedRows, DecimalsKeepEveryDigitAndTheScale) {
  EXPECT_EQ(MustDecode(rec::kDecsTableMap, rec::kDecsWrite),
            (Rows{{"i:1", "dec:99999999999999999999999999999999999.999999999999999999999999999999",
                   "dec:9999999999", "dec:0.99999", "dec:12345678.90", "dec:0.0001",
                   "dec:99999999999999999999999999999999999999999999999999999999999999999"},
                  {"i:2", "dec:-99999999999999999999999999999999999.999999999999999999999999999999",
                   "dec:-9999999999", "dec:-0.99999", "dec:-0.50", "dec:0.0000",
                   "dec:-99999999999999999999999999999999999999999999999999999999999999999"},
                  {"i:3", "dec:-0.500000000000000000000000000000", "dec:0", "dec:0.00000",
                   "dec:0.00", "dec:12345678.1234", "dec:0"},
                  {"i:4", "dec:1234567890.000000000000000000000000000001", "dec:-1", "dec:-0.00001",
                   "dec:-1.05", "dec:1.0000", "dec:1"},
                  {"i:5", "dec:0.000000000000000000000000000000", "dec:1234567890", "dec:0.10000",
                   "dec:100.01", "NULL", "dec:-1000000000000000000"}}));
}

TEST(RecordedRows, FloatsAreTheExactValueOfTheStoredFloat) {
  Rows rows = MustDecode(rec::kFloatsTableMap, rec::kFloatsWrite);
  EXPECT_EQ(rows, (Rows{{"i:1", "f:3.140000104904175", "f:3.141592653589793", "f:1.5"},
                        {"i:2", "f:-1.1754943508222875e-38", "f:-2.2250738585072014e-308", "f:0"},
                        {"i:3", "f:3.402820018375656e+38", "f:1.7976931348623157e+308", "NULL"},
                        {"i:4", "f:0.10000000149011612", "f:0.1", "f:0.10000000149011612"},
                        {"i:5", "f:0", "f:0", "f:0"}}));
  EXPECT_EQ(static_cast<double>(3.14f), 3.140000104904175);
}

TEST(RecordedRows, StringsByCharset) {
  EXPECT_EQ(MustDecode(rec::kStrsTableMap, rec::kStrsWrite),
            (Rows{{"i:1", "text:a😀b", "text:héllo 😀 wörld", "text:text 😀", "text:café",
                   "text:café €",  // latin1 0x80 is the euro sign (Windows-1252)
                   "text:naïve ÿ",
                   "bytes:61620000",  // BINARY(4) 'ab': the zeros the binlog drops come back
                   "bytes:00ff10", "bytes:deadbeef00", "text:long 😀",
                   "text:pad",  // CHAR drops trailing spaces, as SELECT does
                   "text:tiny", "text:medium ü", "bytes:0102", "text:xyz"},
                  {"i:2", "text:", "text:", "text:", "text:", "text:", "text:", "bytes:00000000",
                   "bytes:", "bytes:", "text:", "text:", "text:", "text:", "bytes:", "text:"},
                  {"i:3", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
                   "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"}}));
}

TEST(RecordedRows, SixtyFourKilobyteBlob) {
  std::string pattern;
  for (int i = 0; i < 21846; ++i) pattern += std::string("\x00\xff\x7f", 3);
  std::string body = Unhex(rec::kBigblobWritePrefix) + pattern;
  TableMap map = MustParse(rec::kBigblobTableMap);
  EXPECT_EQ(MysqlTypeName(map.columns[1]), "mediumblob");
  RowsEvent event = SplitRows(body, false);
  std::vector<wire::Value> values;
  Result<size_t> used = DecodeRowImage(map, event.before, event.rows, &values);
  ASSERT_TRUE(used.ok()) << used.message();
  EXPECT_EQ(*used, event.rows.size());
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[1].bytes().size(), 65538u);
  EXPECT_EQ(values[1].bytes(), pattern);
}

TEST(RecordedRows, TemporalTypesWithZeroAndPartialDatesExactly) {
  EXPECT_EQ(
      MustDecode(rec::kTimesTableMap, rec::kTimesWrite),
      (Rows{
          {"i:1", "date:2024-02-29", "time:13:45:10", "time:13:45:10.123456",
           "ts:2024-02-29 13:45:10", "ts:2024-02-29 13:45:10.123456", "tstz:2024-02-29 13:45:10+00",
           "tstz:2024-02-29 13:45:10.123456+00", "time:01:02:03.500", "ts:1999-12-31 23:59:59.9",
           "tstz:2038-01-19 03:14:07.99+00", "time:00:00:00.1", "time:00:00:00.0001"},
          {"i:2", "date:1000-01-01", "time:-838:59:59", "time:-838:59:59.000000",
           "ts:1000-01-01 00:00:00", "ts:9999-12-31 23:59:59.999999", "tstz:1970-01-01 00:00:01+00",
           "tstz:1970-01-01 00:00:01.000001+00", "time:-00:00:00.001", "ts:1000-01-01 00:00:00.0",
           "tstz:1970-01-01 00:00:01.01+00", "time:-00:00:01.1", "time:-00:00:00.0001"},
          {"i:3", "date:9999-12-31", "time:838:59:59", "time:-00:00:00.000001",
           "ts:9999-12-31 23:59:59", "ts:2000-01-01 00:00:00.000001", "NULL", "NULL",
           "time:-01:00:00.500", "NULL", "NULL", "time:-12:34:56.7", "time:-00:00:01.0000"},
          // '0000-00-00' everywhere: as the server shows it, in each column's precision
          // (TIMESTAMP 0 is the zero TIMESTAMP, not an instant, but keeps its kind).
          {"i:4", "date:0000-00-00", "time:00:00:00", "time:25:00:00.500000",
           "ts:0000-00-00 00:00:00", "ts:0000-00-00 00:00:00.000000", "tstz:0000-00-00 00:00:00+00",
           "tstz:0000-00-00 00:00:00.000000+00", "time:100:00:00.000", "ts:0000-00-00 00:00:00.0",
           "tstz:0000-00-00 00:00:00.00+00", "time:00:00:00.0", "time:00:00:00.0000"},
          // Partial dates exactly too; year 0 with a real month and day is a valid date.
          {"i:5", "date:2024-00-10", "time:-00:00:01", "time:-25:00:00.500000",
           "ts:2024-02-00 10:00:00", "ts:0000-01-01 00:00:00.000000", "NULL", "NULL", "NULL",
           "NULL", "NULL", "NULL", "NULL"}}));
}

TEST(RecordedRows, EnumsAndSets) {
  EXPECT_EQ(MustDecode(rec::kEnumsTableMap, rec::kEnumsWrite),
            (Rows{{"i:1", "enum:b", "set:x,z", "enum:thé", "set:é,ü", "enum:😀"},
                  {"i:2", "enum:", "set:", "enum:café", "set:", "enum:b"},
                  {"i:3", "NULL", "NULL", "NULL", "NULL", "NULL"},
                  {"i:4", "enum:c", "set:x,y,z", "enum:café", "set:ü", "enum:b"}}));
  EXPECT_EQ(MustDecode(rec::kBigenumTableMap, rec::kBigenumWrite),
            (Rows{{"enum:v000"}, {"enum:v299"}, {"enum:v255"}}));
  // 64 members in 8 bytes; members come out in definition order, as MySQL stores them.
  EXPECT_EQ(MustDecode(rec::kWideenumTableMap, rec::kWideenumWrite),
            (Rows{{"i:1", "set:m00,m63"}, {"i:2", "set:m01,m33,m62"}}));
}

TEST(RecordedRows, Bits) {
  EXPECT_EQ(
      MustDecode(rec::kBitsTableMap, rec::kBitsWrite),
      (Rows{
          {"i:1", "bits:1", "bits:1000000000000000000000000000000000000000000000000000000000000001",
           "bits:1000000001", "bits:10100101"},
          {"i:2", "bits:0", "bits:1111111111111111111111111111111111111111111111111111111111111111",
           "bits:0000000000", "bits:00000000"},
          {"i:3", "NULL", "bits:0000000000000000000000000000000000000000000000000000000000000000",
           "bits:1111111111", "NULL"}}));
}

TEST(RecordedRows, MariadbJsonIsLongtext) {
  TableMap map = MustParse(rec::kJsonsTableMap);
  EXPECT_EQ(MysqlTypeName(map.columns[1]), "longtext");
  EXPECT_EQ(MysqlLogicalType(map.columns[1]), wire::LOGICAL_TYPE_TEXT);
  EXPECT_EQ(MustDecode(rec::kJsonsTableMap, rec::kJsonsWrite),
            (Rows{{"i:1", R"(text:{"a": 1, "b": [true, null, "x😀"]})"}, {"i:2", "NULL"}}));
}

TEST(RecordedRows, GeometryIsSridAndWkb) {
  EXPECT_EQ(MustDecode(rec::kGeosTableMap, rec::kGeosWrite),
            (Rows{{"i:1",
                   "bytes:00000000"  // SRID 0, then WKB LINESTRING(0 0, 1 1)
                   "010200000002000000000000000000000000000000000000000000000000"
                   "00f03f000000000000f03f",
                   "bytes:00000000"  // POINT(1.5 -2)
                   "0101000000000000000000f83f00000000000000c0",
                   "text:é"}}));
}

TEST(RecordedRows, PrimaryKeyPrefixTableAndKeylessTable) {
  EXPECT_EQ(MustDecode(rec::kPk2TableMap, rec::kPk2Write), (Rows{{"i:1", "text:k", "i:2"}}));
  EXPECT_EQ(MustDecode(rec::kNokeyTableMap, rec::kNokeyWrite), (Rows{{"i:1", "text:x"}}));
}

TEST(RecordedRows, DefaultCharsetExceptions) {
  EXPECT_EQ(MustDecode(rec::kMixcsTableMap, rec::kMixcsWrite),
            (Rows{{"i:1", "text:é", "text:é", "text:é", "text:é", "bytes:c3a9"}}));
}

TEST(RecordedRows, UpdateAndDeleteImages) {
  EXPECT_EQ(MustDecode(rec::kUpdTableMap, rec::kUpdUpdate, /*update=*/true),
            (Rows{{"i:1", "text:a"}, {"i:1", "text:b"}}));
  EXPECT_EQ(MustDecode(rec::kUpdTableMap, rec::kUpdDelete), (Rows{{"i:1", "text:b"}}));
}

TEST(RecordedRows, MariadbSignednessCountsYearAndCharsetsCountGeometry) {
  TableMap map = MustParse(rec::kSignsTableMap);
  EXPECT_TRUE(map.columns[4].is_unsigned);    // YEAR
  EXPECT_FALSE(map.columns[12].is_unsigned);  // FLOAT
  EXPECT_TRUE(map.columns[13].is_unsigned);   // INT UNSIGNED
  EXPECT_EQ(map.columns[10].charset, 63u);    // GEOMETRY
  EXPECT_EQ(map.columns[11].charset, 46u);    // JSON = LONGTEXT utf8mb4_bin
  EXPECT_EQ(MustDecode(rec::kSignsTableMap, rec::kSignsWrite),
            (Rows{{"date:2020-01-01", "time:01:00:00", "ts:2020-01-01 00:00:00",
                   "tstz:2020-01-01 00:00:00+00", "i:2020", "bits:101", "enum:x", "set:y", "text:c",
                   "bytes:62", "NULL", "text:[]", "f:1", "u:4294967295"}}));
}

TEST(RecordedRows, MariadbCompressedColumnsAreInflated) {
  Rows rows = MustDecode(rec::kCompTableMap, rec::kCompWrite);
  std::string e_acute_300;
  for (int i = 0; i < 300; ++i) e_acute_300 += "é";
  std::string ab_500;
  for (int i = 0; i < 500; ++i) ab_500 += "6162";
  EXPECT_EQ(rows, (Rows{{"text:short é", "text:" + e_acute_300, "bytes:" + ab_500},
                        {"text:", "text:", "bytes:"},
                        {"NULL", "NULL", "NULL"}}));
  TableMap map = MustParse(rec::kCompTableMap);
  EXPECT_EQ(SourceTypes(map), (std::vector<std::string>{"varchar(100) compressed",
                                                        "text compressed", "blob compressed"}));
}

TEST(RecordedRows, EveryCharsetArrivesAsUtf8Text) {
  EXPECT_EQ(MustDecode(rec::kCharsetsTableMap, rec::kCharsetsWrite),
            (Rows{{"i:1", "text:a😀é", "text:a😀é", "text:a😀é", "text:aé€", "text:plain",
                   "text:łód",    // latin2 b3 f3 64
                   "text:ünï 😀",  // utf8mb4_uca1400_ai_ci (id 2304)
                   "text:café",   // latin1_swedish_nopad_ci (id 1032)
                   "text:abc",    // swe7
                   "text:x😀"},
                  {"i:2", "text:ascii", "text:ascii", "text:ascii", "text:ascii", "text:ascii",
                   "text:ascii", "text:ascii", "text:ascii", "text:ascii", "text:"}}));
}

TEST(RecordedRows, IconvCharsetsArriveAsTheServersText) {
  EXPECT_EQ(MustDecode(rec::kMoresetsTableMap, rec::kMoresetsWrite),
            (Rows{{"i:1", "text:Zażółć", "text:Příliš", "text:Съешь", "text:Привет",
                   "text:Καλημέρα", "text:שלום", "text:中文", "text:繁體",
                   "text:こんにちは\\",  // sjis 0x815f, which MySQL reads as a backslash
                   "text:日本語", "text:한국어", "text:①ｱ", "text:текст"},
                  {"i:2", "text:ascii",
                   "bytes:6181",  // cp1250 leaves 0x81 unassigned
                   "text:ok", "NULL", "text:", "text:x", "text:",
                   "bytes:c6f9",  // big5 ETEN kana: glibc maps it elsewhere, so not converted
                   "text:a~",
                   "bytes:f5a1",  // ujis user-defined character: glibc has none
                   "text:ok", "text:a\\", "bytes:98"}}));  // cp1251 leaves 0x98 unassigned
}

TEST(RecordedRows, WithoutCharsetMetadataTheReadersCollationsConvert) {
  EXPECT_FALSE(LacksCollations(MustParse(rec::kMoresetsTableMap)));
  TableMap map = MustParse(rec::kMoresetsNoLogTableMap);
  EXPECT_TRUE(LacksCollations(map));
  const std::string rows = Unhex(rec::kMoresetsNoLogWrite);
  Result<Rows> unknown = DecodeAll(map, SplitRows(rows, false));
  ASSERT_TRUE(unknown.ok()) << unknown.message();
  EXPECT_EQ((*unknown)[0][1], "bytes:5a61bff3b3e6");  // no charset: not valid UTF-8, so bytes
  EXPECT_EQ((*unknown)[0][13], "bytes:f2e5eaf1f2");   // TEXT without a charset is a BLOB

  SetCollations(map, {63, 9, 26, 14, 7});  // another shape of the table: nothing changes
  EXPECT_TRUE(LacksCollations(map));
  // As information_schema gives them (mysql_source.cc): INT has none, so binary, ignored.
  SetCollations(map, {63, 9, 26, 14, 7, 25, 16, 28, 1, 13, 12, 19, 95, 14});
  EXPECT_FALSE(LacksCollations(map));
  EXPECT_EQ(map.columns[0].charset, 0u);
  EXPECT_EQ(MysqlTypeName(map.columns[13]), "text");
  Result<Rows> known = DecodeAll(map, SplitRows(rows, false));
  ASSERT_TRUE(known.ok()) << known.message();
  EXPECT_EQ(*known,
            (Rows{{"i:3", "text:Zażółć", "text:Příliš", "text:Съешь", "text:Привет",
                   "text:Καλημέρα", "text:שלום", "text:中文", "text:繁體", "text:こんにちは\\",
                   "text:日本語", "text:한국어", "text:①ｱ", "text:текст"}}));
}

TEST(RecordedRows, OldTemporalFormats) {
  // mysql56_temporal_format=OFF: TIME, DATETIME and TIMESTAMP in their pre-5.6 forms.
  EXPECT_EQ(MustDecode(rec::kOldtimeTableMap, rec::kOldtimeWrite),
            (Rows{{"time:-01:02:03", "ts:2024-02-29 13:45:10", "tstz:2024-02-29 13:45:10+00",
                   "date:2024-02-29"},
                  {"time:838:59:59", "ts:0000-00-00 00:00:00", "tstz:0000-00-00 00:00:00+00",
                   "date:0000-00-00"},
                  {"time:-838:59:59", "ts:9999-12-31 23:59:59", "tstz:2038-01-19 03:14:07+00",
                   "date:2024-02-00"}}));
}

TEST(RecordedRows, TimestampIsUtcWhateverTheSessionZoneDatetimeHasNone) {
  // Written with time_zone '+05:00': TIMESTAMP arrives as the UTC instant, DATETIME as written.
  EXPECT_EQ(MustDecode(rec::kTzTableMap, rec::kTzWrite),
            (Rows{{"i:1", "tstz:2024-02-29 08:45:10.250+00", "ts:2024-02-29 13:45:10.250"},
                  {"i:2", "tstz:2024-02-29 21:00:00.000+00", "ts:2024-03-01 02:00:00.000"}}));
}

TEST(RecordedRows, MinimalRowImagesLeaveAbsentColumnsUnchanged) {
  EXPECT_EQ(MustDecode(rec::kMinimgTableMap, rec::kMinimgUpdate, /*update=*/true),
            (Rows{{"i:1", "UNCHANGED", "UNCHANGED"}, {"UNCHANGED", "UNCHANGED", "text:z"}}));
  EXPECT_EQ(MustDecode(rec::kMinimgTableMap, rec::kMinimgDelete),
            (Rows{{"i:1", "UNCHANGED", "UNCHANGED"}}));
}

TEST(RecordedRows, AbsentColumnsAreUnchanged) {
  TableMap map = MustParse(rec::kUpdTableMap);
  // A minimal image holding only column 2: its own one-column null bitmap, then the value.
  std::string image = Unhex("00 0178");
  std::vector<wire::Value> values;
  Result<size_t> used = DecodeRowImage(map, {false, true}, image, &values);
  ASSERT_TRUE(used.ok()) << used.message();
  EXPECT_EQ(*used, 3u);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(Show(values[0]), "UNCHANGED");
  EXPECT_EQ(Show(values[1]), "text:x");
}

// ---- relations --------------------------------------------------------------------------------

TEST(Relation, SourceTypeNamesAndLogicalTypes) {
  TableMap strs = MustParse(rec::kStrsTableMap);
  EXPECT_EQ(SourceTypes(strs),
            (std::vector<std::string>{"int", "char(10)", "varchar(100)", "text", "char(10)",
                                      "varchar(100)", "text", "binary(4)", "varbinary(300)", "blob",
                                      "varchar(300)", "char(255)", "tinytext", "mediumtext",
                                      "longblob", "char(5)"}));
  using L = wire::LogicalType;
  EXPECT_EQ(
      LogicalTypes(strs),
      (std::vector<L>{wire::LOGICAL_TYPE_INT, wire::LOGICAL_TYPE_TEXT, wire::LOGICAL_TYPE_TEXT,
                      wire::LOGICAL_TYPE_TEXT, wire::LOGICAL_TYPE_TEXT, wire::LOGICAL_TYPE_TEXT,
                      wire::LOGICAL_TYPE_TEXT, wire::LOGICAL_TYPE_BYTES, wire::LOGICAL_TYPE_BYTES,
                      wire::LOGICAL_TYPE_BYTES, wire::LOGICAL_TYPE_TEXT, wire::LOGICAL_TYPE_TEXT,
                      wire::LOGICAL_TYPE_TEXT, wire::LOGICAL_TYPE_TEXT, wire::LOGICAL_TYPE_BYTES,
                      wire::LOGICAL_TYPE_TEXT}));
  TableMap times = MustParse(rec::kTimesTableMap);
  EXPECT_EQ(SourceTypes(times),
            (std::vector<std::string>{"int", "date", "time", "time(6)", "datetime", "datetime(6)",
                                      "timestamp", "timestamp(6)", "time(3)", "datetime(1)",
                                      "timestamp(2)", "time(1)", "time(4)"}));
  EXPECT_EQ(
      LogicalTypes(times),
      (std::vector<L>{wire::LOGICAL_TYPE_INT, wire::LOGICAL_TYPE_DATE, wire::LOGICAL_TYPE_TIME,
                      wire::LOGICAL_TYPE_TIME, wire::LOGICAL_TYPE_TIMESTAMP,
                      wire::LOGICAL_TYPE_TIMESTAMP, wire::LOGICAL_TYPE_TIMESTAMP_TZ,
                      wire::LOGICAL_TYPE_TIMESTAMP_TZ, wire::LOGICAL_TYPE_TIME,
                      wire::LOGICAL_TYPE_TIMESTAMP, wire::LOGICAL_TYPE_TIMESTAMP_TZ,
                      wire::LOGICAL_TYPE_TIME, wire::LOGICAL_TYPE_TIME}));
  EXPECT_EQ(SourceTypes(MustParse(rec::kDecsTableMap)),
            (std::vector<std::string>{"int", "decimal(65,30)", "decimal(10,0)", "decimal(5,5)",
                                      "decimal(10,2)", "decimal(12,4) unsigned", "decimal(65,0)"}));
  TableMap ints = MustParse(rec::kIntsTableMap);
  EXPECT_EQ(
      SourceTypes(ints),
      (std::vector<std::string>{"int", "tinyint", "tinyint unsigned", "smallint",
                                "smallint unsigned", "mediumint", "mediumint unsigned", "int",
                                "int unsigned", "bigint", "bigint unsigned", "year", "tinyint"}));
  EXPECT_EQ(MysqlLogicalType(ints.columns[2]), wire::LOGICAL_TYPE_UINT);
  EXPECT_EQ(MysqlLogicalType(ints.columns[12]), wire::LOGICAL_TYPE_INT);  // TINYINT(1): not bool
  TableMap bits = MustParse(rec::kBitsTableMap);
  EXPECT_EQ(SourceTypes(bits),
            (std::vector<std::string>{"int", "bit(1)", "bit(64)", "bit(10)", "bit(8)"}));
  TableMap enums = MustParse(rec::kEnumsTableMap);
  EXPECT_EQ(MysqlTypeName(enums.columns[1]), "enum");
  EXPECT_EQ(MysqlLogicalType(enums.columns[1]), wire::LOGICAL_TYPE_ENUM);
  EXPECT_EQ(MysqlTypeName(enums.columns[2]), "set");
  EXPECT_EQ(MysqlLogicalType(enums.columns[2]), wire::LOGICAL_TYPE_SET);
}

TEST(Relation, KeysFromPrimaryKeyMetadataElseEveryColumn) {
  wire::Relation pk3 = RelationFromTableMap(MustParse(rec::kPk3TableMap), 7);
  EXPECT_EQ(pk3.id(), 7u);
  EXPECT_EQ(pk3.schema(), "app");
  EXPECT_EQ(pk3.table(), "pk3");
  EXPECT_TRUE(pk3.full_old_image());
  ASSERT_EQ(pk3.columns_size(), 3);
  EXPECT_EQ(pk3.columns(0).name(), "c");
  EXPECT_FALSE(pk3.columns(0).key());
  EXPECT_TRUE(pk3.columns(1).key());
  EXPECT_TRUE(pk3.columns(2).key());
  wire::Relation nokey = RelationFromTableMap(MustParse(rec::kNokeyTableMap), 8);
  EXPECT_TRUE(nokey.columns(0).key());
  EXPECT_TRUE(nokey.columns(1).key());
  EXPECT_TRUE(nokey.full_old_image());
}

// ---- MySQL-written TABLE_MAPs and values, built from the format description -------------------

std::string Packed(uint64_t value) {
  if (value < 251) return std::string(1, static_cast<char>(value));
  std::string out(1, static_cast<char>(0xfc));
  out.push_back(static_cast<char>(value & 0xff));
  out.push_back(static_cast<char>(value >> 8));
  return out;
}

std::string Tlv(uint8_t type, const std::string& value) {
  return std::string(1, static_cast<char>(type)) + Packed(value.size()) + value;
}

// A TABLE_MAP body for `app`.`t` with every column nullable.
std::string BuildTableMap(const std::string& types, const std::string& metadata,
                          const std::string& optional) {
  std::string body = Unhex("420000000000 0100");
  body += Unhex("03617070 00 0174 00");
  body += Packed(types.size()) + types + Packed(metadata.size()) + metadata;
  body += std::string((types.size() + 7) / 8, '\xff');
  return body + optional;
}

TEST(MysqlFlavor, YearHasNoSignednessBitAndGeometryNoCharset) {
  // y YEAR, i INT UNSIGNED, g GEOMETRY, v VARCHAR(10) utf8mb4, j JSON, as MySQL 8 logs them:
  // SIGNEDNESS covers only i, COLUMN_CHARSET only v.
  std::string types = Unhex("0d 03 ff 0f f5");
  std::string metadata = Unhex("04 2800 04");
  std::string optional =
      Tlv(1, Unhex("80")) + Tlv(3, Unhex("2d")) + Tlv(4, Unhex("0179 0169 0167 0176 016a"));
  Result<TableMap> map =
      ParseTableMap(BuildTableMap(types, metadata, optional), 6, BinlogFlavor::kMysql);
  ASSERT_TRUE(map.ok()) << map.message();
  EXPECT_FALSE(map->columns[0].is_unsigned);
  EXPECT_TRUE(map->columns[1].is_unsigned);
  EXPECT_EQ(map->columns[2].charset, 0u);
  EXPECT_EQ(map->columns[3].charset, 45u);
  EXPECT_EQ(SourceTypes(*map),
            (std::vector<std::string>{"year", "int unsigned", "geometry", "varchar(10)", "json"}));
  EXPECT_EQ(MysqlLogicalType(map->columns[4]), wire::LOGICAL_TYPE_JSON);

  // Told MariaDB, the one collation cannot cover two character columns (g and v); MySQL's
  // counting fits, and is used.
  Result<TableMap> as_mariadb =
      ParseTableMap(BuildTableMap(types, metadata, optional), 6, BinlogFlavor::kMariadb);
  ASSERT_TRUE(as_mariadb.ok()) << as_mariadb.message();
  EXPECT_EQ(as_mariadb->columns[3].charset, 45u);

  // A row: null bitmap, YEAR 2024, INT 4294967295, geometry, 'ok', JSON {"a":[1,true]}.
  std::string json = Unhex("00 0100 1600 0b00 0100 020c00 61 0200 0a00 050100 040100");
  std::string geometry = Unhex("00000000 0101000000 000000000000f03f 0000000000000040");
  std::string row = Unhex("00 7c ffffffff");
  row += Unhex("19000000") + geometry + Unhex("02") + "ok";
  row += std::string(1, static_cast<char>(json.size())) + std::string(3, '\0') + json;
  std::vector<wire::Value> values;
  Result<size_t> used = DecodeRowImage(*map, std::vector<bool>(5, true), row, &values);
  ASSERT_TRUE(used.ok()) << used.message();
  EXPECT_EQ(*used, row.size());
  std::vector<std::string> shown;
  for (const wire::Value& v : values) shown.push_back(Show(v));
  EXPECT_EQ(shown, (std::vector<std::string>{"i:2024", "u:4294967295", "bytes:" + Hex(geometry),
                                             "text:ok", R"(json:{"a":[1,true]})"}));
}

TEST(MysqlFlavor, ColumnNamesEnumStringsAndPrefixKeys) {
  // e ENUM('x','y') latin1 (STRING with real type ENUM), s SET('p','q'), c CHAR(300) in a
  // 1-byte charset, whose length needs bit 8 folded into the real type byte.
  std::string types = Unhex("fe fe fe");
  std::string metadata = Unhex("f701 f801 ee2c");
  std::string optional = Tlv(4, Unhex("0165 0173 0163")) + Tlv(6, Unhex("02 0178 0179")) +
                         Tlv(5, Unhex("02 0170 0171")) + Tlv(10, Unhex("08")) +
                         Tlv(2, Unhex("08")) + Tlv(9, Unhex("02 0a"));
  Result<TableMap> map =
      ParseTableMap(BuildTableMap(types, metadata, optional), 6, BinlogFlavor::kMysql);
  ASSERT_TRUE(map.ok()) << map.message();
  EXPECT_EQ(map->columns[0].enum_values, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(map->columns[1].set_values, (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(map->columns[2].real_type, 254);
  EXPECT_EQ(MysqlTypeName(map->columns[2]), "char(300)");
  EXPECT_TRUE(map->columns[2].primary_key);
  EXPECT_FALSE(map->columns[0].primary_key);
  // CHAR longer than 255 bytes takes a 2-byte length.
  std::string row = Unhex("00 02 03 0300") + "abc";
  std::vector<wire::Value> values;
  Result<size_t> used = DecodeRowImage(*map, {true, true, true}, row, &values);
  ASSERT_TRUE(used.ok()) << used.message();
  EXPECT_EQ(Show(values[0]), "enum:y");
  EXPECT_EQ(Show(values[1]), "set:p,q");
  EXPECT_EQ(Show(values[2]), "text:abc");
}

TEST(MysqlFlavor, EnumAndSetWithoutStringsCarryTheirNumbers) {
  std::string map_body = BuildTableMap(Unhex("fe fe"), Unhex("f702 f808"), "");
  Result<TableMap> map = ParseTableMap(map_body, 6, BinlogFlavor::kMysql);
  ASSERT_TRUE(map.ok()) << map.message();
  std::string row = Unhex("00 2c01 0500000000000080");
  std::vector<wire::Value> values;
  ASSERT_TRUE(DecodeRowImage(*map, {true, true}, row, &values).ok());
  EXPECT_EQ(Show(values[0]), "enum:300");
  EXPECT_EQ(Show(values[1]), "set:9223372036854775813");
}

// ---- binary decimal ---------------------------------------------------------------------------

TEST(Decimal, FormatFromTheMysqlManual) {
  // DECIMAL(14,4) 1234567890.1234 = 81 0D FB 38 D2 04 D2; negative: every byte inverted.
  EXPECT_EQ(DecimalBinarySize(14, 4), 7u);
  Result<std::string> positive = DecodeDecimal(Unhex("810dfb38d204d2"), 14, 4);
  ASSERT_TRUE(positive.ok()) << positive.message();
  EXPECT_EQ(*positive, "1234567890.1234");
  Result<std::string> negative = DecodeDecimal(Unhex("7ef204c72dfb2d"), 14, 4);
  ASSERT_TRUE(negative.ok()) << negative.message();
  EXPECT_EQ(*negative, "-1234567890.1234");
}

TEST(Decimal, SmallValuesAndEdges) {
  EXPECT_EQ(*DecodeDecimal(Unhex("85"), 1, 1), "0.5");
  EXPECT_EQ(*DecodeDecimal(Unhex("7a"), 1, 1), "-0.5");
  EXPECT_EQ(*DecodeDecimal(Unhex("80"), 1, 0), "0");
  EXPECT_EQ(*DecodeDecimal(Unhex("7f"), 1, 0), "0");  // a negative zero prints as zero
  EXPECT_EQ(*DecodeDecimal(Unhex("8009"), 3, 0), "9");
  EXPECT_EQ(DecimalBinarySize(65, 30), 30u);
  EXPECT_EQ(DecimalBinarySize(65, 0), 29u);
  EXPECT_EQ(DecimalBinarySize(0, 0), 0u);
  EXPECT_EQ(DecimalBinarySize(66, 0), 0u);
  EXPECT_EQ(DecimalBinarySize(5, 6), 0u);
}

TEST(Decimal, CorruptOrShortInputIsAnError) {
  EXPECT_FALSE(DecodeDecimal(Unhex("e4"), 2, 0).ok());  // group 100 in 2 digits
  EXPECT_FALSE(DecodeDecimal(Unhex("810dfb38d204"), 14, 4).ok());
  EXPECT_FALSE(DecodeDecimal("", 1, 0).ok());
  EXPECT_FALSE(DecodeDecimal(Unhex("80"), 0, 0).ok());
}

// ---- temporal ---------------------------------------------------------------------------------

TEST(Temporal, NegativeTime2FractionsCountBackFromTheNextSecond) {
  // The table in MySQL's my_time_packed_from_binary comment (fsp 2).
  auto time2 = [](std::string_view hex, int fsp) {
    return FormatTime(DecodeTime2(Unhex(hex), fsp), fsp);
  };
  EXPECT_EQ(time2("80000000", 2), "00:00:00.00");
  EXPECT_EQ(time2("7fffffff", 2), "-00:00:00.01");
  EXPECT_EQ(time2("7fffff9d", 2), "-00:00:00.99");
  EXPECT_EQ(time2("7fffff00", 2), "-00:00:01.00");
  EXPECT_EQ(time2("7ffffeff", 2), "-00:00:01.01");
  EXPECT_EQ(time2("7ffffef6", 2), "-00:00:01.10");
  EXPECT_EQ(time2("7ffffffc18", 4), "-00:00:00.1000");
  EXPECT_EQ(time2("800000", 0), "00:00:00");
}

TEST(Temporal, UnixSecondsToUtc) {
  auto utc = [](int64_t seconds) { return FormatDatetime(UtcFromUnixSeconds(seconds, 0), 0); };
  EXPECT_EQ(utc(0), "1970-01-01 00:00:00");
  EXPECT_EQ(utc(951782400), "2000-02-29 00:00:00");
  EXPECT_EQ(utc(2147483647), "2038-01-19 03:14:07");
  EXPECT_EQ(utc(4294967295), "2106-02-07 06:28:15");
  EXPECT_EQ(FormatDatetime(UtcFromUnixSeconds(1, 1), 6), "1970-01-01 00:00:01.000001");
}

// ---- MySQL binary JSON ------------------------------------------------------------------------

std::string JsonText(const std::string& binary) {
  Result<std::string> text = MysqlJsonToText(binary);
  return text.ok() ? *text : "error: " + text.message();
}

std::string Le(uint64_t value, size_t width) {
  std::string out;
  for (size_t i = 0; i < width; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}

TEST(MysqlJson, Scalars) {
  EXPECT_EQ(JsonText(""), "null");
  EXPECT_EQ(JsonText(Unhex("0400")), "null");
  EXPECT_EQ(JsonText(Unhex("0401")), "true");
  EXPECT_EQ(JsonText(Unhex("0402")), "false");
  EXPECT_EQ(JsonText(Unhex("05ffff")), "-1");
  EXPECT_EQ(JsonText(Unhex("06ffff")), "65535");
  EXPECT_EQ(JsonText(Unhex("0700000080")), "-2147483648");
  EXPECT_EQ(JsonText(Unhex("08ffffffff")), "4294967295");
  EXPECT_EQ(JsonText(Unhex("090000000000000080")), "-9223372036854775808");
  EXPECT_EQ(JsonText(Unhex("0affffffffffffffff")), "18446744073709551615");
  EXPECT_EQ(JsonText("\x0b" + Le(std::bit_cast<uint64_t>(1.0), 8)), "1.0");
  EXPECT_EQ(JsonText("\x0b" + Le(std::bit_cast<uint64_t>(0.1), 8)), "0.1");
  EXPECT_EQ(JsonText("\x0b" + Le(std::bit_cast<uint64_t>(-2.5e-300), 8)), "-2.5e-300");
  EXPECT_EQ(JsonText("\x0b" + Le(std::bit_cast<uint64_t>(1e21), 8)), "1e+21");
}

TEST(MysqlJson, StringsAreEscaped) {
  EXPECT_EQ(JsonText(Unhex("0c08") + "a\"\\\n\t\x01" + "é"), R"("a\"\\\n\t\u0001é")");
  std::string long_string(200, 'x');
  EXPECT_EQ(JsonText(Unhex("0cc801") + long_string), "\"" + long_string + "\"");
  EXPECT_EQ(JsonText(Unhex("0c00")), R"("")");
}

TEST(MysqlJson, SmallObjectWithNestedArray) {
  // {"a":1,"bb":[true,null,"x"]}: count 2, size 36, key entries, value entries (int16 inlined,
  // array at 21), keys, then the array: count 3, size 15, true and null inlined, "x" at 13.
  std::string doc = Unhex("00 0200 2400 1200 0100 1300 0200 050100 021500 61 6262") +
                    Unhex("0300 0f00 040100 040000 0c0d00 0178");
  EXPECT_EQ(JsonText(doc), R"({"a":1,"bb":[true,null,"x"]})");
}

TEST(MysqlJson, LargeArrayInlinesThirtyTwoBitInts) {
  std::string doc = "\x03" + Le(4, 4) + Le(36, 4) + "\x05" + Le(1, 4) + "\x07" +
                    Le(static_cast<uint32_t>(-70000), 4) + "\x08" + Le(0xffffffff, 4) + "\x0b" +
                    Le(28, 4) + Le(std::bit_cast<uint64_t>(1.5), 8);
  EXPECT_EQ(JsonText(doc), "[1,-70000,4294967295,1.5]");
}

TEST(MysqlJson, OpaqueValuesPrintAsMysqlDoes) {
  EXPECT_EQ(JsonText(Unhex("0ff609 0e04 810dfb38d204d2")), "1234567890.1234");
  uint64_t ymd = ((2015 * 13 + 1) << 5) | 15;
  uint64_t hms = (23 << 12) | (24 << 6) | 25;
  uint64_t date = (ymd << 17) << 24;
  uint64_t datetime = (((ymd << 17) | hms) << 24) | 500000;
  int64_t time = -static_cast<int64_t>(((838ull << 12) | (59 << 6) | 59) << 24);
  EXPECT_EQ(JsonText(Unhex("0f0a08") + Le(date, 8)), R"("2015-01-15")");
  EXPECT_EQ(JsonText(Unhex("0f0c08") + Le(datetime, 8)), R"("2015-01-15 23:24:25.500000")");
  EXPECT_EQ(JsonText(Unhex("0f0708") + Le(datetime, 8)), R"("2015-01-15 23:24:25.500000")");
  EXPECT_EQ(JsonText(Unhex("0f0b08") + Le(static_cast<uint64_t>(time), 8)),
            R"("-838:59:59.000000")");
  EXPECT_EQ(JsonText(Unhex("0f0f02") + "hi"), R"("base64:type15:aGk=")");
  EXPECT_EQ(JsonText(Unhex("0ffc03") + "abc"), R"("base64:type252:YWJj")");
}

TEST(MysqlJson, MalformedDocumentsAreErrors) {
  auto is_error = [](const std::string& doc) { return !MysqlJsonToText(doc).ok(); };
  EXPECT_TRUE(is_error(Unhex("0e")));                             // unknown type
  EXPECT_TRUE(is_error(Unhex("0403")));                           // unknown literal
  EXPECT_TRUE(is_error(Unhex("05ff")));                           // short int16
  EXPECT_TRUE(is_error(Unhex("0c05616263")));                     // string longer than the doc
  EXPECT_TRUE(is_error(Unhex("0c8080808080")));                   // length of six bytes
  EXPECT_TRUE(is_error(Unhex("0002002000")));                     // size beyond the document
  EXPECT_TRUE(is_error(Unhex("02 0100 0700 0c0900")));            // offset past the array
  EXPECT_TRUE(is_error(Unhex("02 ffff 0700 0c0900")));            // count beyond its size
  EXPECT_TRUE(is_error(Unhex("00 0100 0b00 ff00 0100 040100")));  // key out of range
  EXPECT_TRUE(is_error("\x0b" + Le(0x7ff0000000000000, 8)));      // infinity
  EXPECT_TRUE(is_error(Unhex("0ff603 0e04 81")));                 // short decimal

  // 200 nested single-element arrays: deeper than MySQL allows.
  std::string nested = Unhex("0400");
  for (int i = 0; i < 200; ++i) {
    std::string inner = nested.substr(1);
    uint8_t type = static_cast<uint8_t>(nested[0]);
    std::string array =
        Le(1, 2) + Le(7 + inner.size(), 2) + std::string(1, static_cast<char>(type));
    array += type == 0x04 ? inner + std::string(1, '\0') : Le(7, 2) + inner;
    nested = "\x02" + array;
  }
  EXPECT_NE(JsonText(nested).find("nested deeper"), std::string::npos) << JsonText(nested);

  // Entries that all point at one shared child, six levels deep: 40^6 values from 1.5 kB.
  std::string shared = Unhex("0c0178");
  for (int level = 0; level < 6; ++level) {
    uint8_t child_type = static_cast<uint8_t>(shared[0]);
    std::string child = shared.substr(1);
    size_t header = 4 + 40 * 3;
    std::string array = Le(40, 2) + Le(header + child.size(), 2);
    for (int i = 0; i < 40; ++i)
      array += std::string(1, static_cast<char>(child_type)) + Le(header, 2);
    shared = "\x02" + array + child;
  }
  EXPECT_NE(JsonText(shared).find("offsets repeat"), std::string::npos);
}

TEST(MysqlJson, InvalidUtf8InARowIsAnError) {
  std::string map_body = BuildTableMap(Unhex("f5"), Unhex("04"), "");
  Result<TableMap> map = ParseTableMap(map_body, 6, BinlogFlavor::kMysql);
  ASSERT_TRUE(map.ok()) << map.message();
  std::string json = Unhex("0c01ff");
  std::string row = Unhex("00") + Le(json.size(), 4) + json;
  std::vector<wire::Value> values;
  Result<size_t> used = DecodeRowImage(*map, {true}, row, &values);
  ASSERT_FALSE(used.ok());
  EXPECT_NE(used.message().find("not UTF-8"), std::string::npos) << used.message();
}

// ---- malformed input --------------------------------------------------------------------------

struct Recorded {
  std::string_view map;
  std::string_view rows;
  bool update;
};

const std::vector<Recorded>& AllRecorded() {
  static const std::vector<Recorded> all = {
      {rec::kIntsTableMap, rec::kIntsWrite, false},
      {rec::kDecsTableMap, rec::kDecsWrite, false},
      {rec::kFloatsTableMap, rec::kFloatsWrite, false},
      {rec::kStrsTableMap, rec::kStrsWrite, false},
      {rec::kTimesTableMap, rec::kTimesWrite, false},
      {rec::kEnumsTableMap, rec::kEnumsWrite, false},
      {rec::kBitsTableMap, rec::kBitsWrite, false},
      {rec::kJsonsTableMap, rec::kJsonsWrite, false},
      {rec::kGeosTableMap, rec::kGeosWrite, false},
      {rec::kPk2TableMap, rec::kPk2Write, false},
      {rec::kMixcsTableMap, rec::kMixcsWrite, false},
      {rec::kWideenumTableMap, rec::kWideenumWrite, false},
      {rec::kUpdTableMap, rec::kUpdUpdate, true},
      {rec::kSignsTableMap, rec::kSignsWrite, false},
      {rec::kBigenumTableMap, rec::kBigenumWrite, false},
      {rec::kCompTableMap, rec::kCompWrite, false},
      {rec::kCharsetsTableMap, rec::kCharsetsWrite, false},
      {rec::kMoresetsTableMap, rec::kMoresetsWrite, false},
      {rec::kMoresetsNoLogTableMap, rec::kMoresetsNoLogWrite, false},
      {rec::kOldtimeTableMap, rec::kOldtimeWrite, false},
      {rec::kTzTableMap, rec::kTzWrite, false},
      {rec::kMinimgTableMap, rec::kMinimgUpdate, true},
  };
  return all;
}

// Decodes images off `data` until it is used up or one fails; true when all of it decoded.
bool DecodesCompletely(const TableMap& map, const RowsEvent& event, std::string_view data) {
  for (size_t image = 0; !data.empty(); ++image) {
    bool after = !event.after.empty() && image % 2 == 1;
    std::vector<wire::Value> values;
    Result<size_t> used = DecodeRowImage(map, after ? event.after : event.before, data, &values);
    if (!used.ok()) {
      EXPECT_TRUE(values.empty());
      return false;
    }
    if (*used == 0 || *used > data.size()) return false;
    data.remove_prefix(*used);
  }
  return true;
}

TEST(Malformed, EveryTruncationOfEveryRecordedRowIsAnError) {
  for (const Recorded& r : AllRecorded()) {
    TableMap map = MustParse(r.map);
    RowsEvent event = SplitRows(Unhex(r.rows), r.update);
    // Where each image ends: a prefix decodes completely exactly when it ends at one of them.
    std::vector<size_t> ends = {0};
    std::string_view data = event.rows;
    for (size_t image = 0; !data.empty(); ++image) {
      bool after = !event.after.empty() && image % 2 == 1;
      std::vector<wire::Value> values;
      Result<size_t> used = DecodeRowImage(map, after ? event.after : event.before, data, &values);
      ASSERT_TRUE(used.ok()) << used.message();
      data.remove_prefix(*used);
      ends.push_back(event.rows.size() - data.size());
    }
    for (size_t length = 0; length <= event.rows.size(); ++length) {
      bool at_end = std::find(ends.begin(), ends.end(), length) != ends.end();
      EXPECT_EQ(DecodesCompletely(map, event, std::string_view(event.rows).substr(0, length)),
                at_end)
          << map.table << " cut at " << length;
    }
  }
}

// The length of a TABLE_MAP's fixed part, up to the end of its null bitmap (the recorded ones
// have fewer than 251 columns and metadata bytes, so their counts take one byte).
size_t FixedPartLength(const std::string& body) {
  size_t pos = 8;
  pos += 1 + static_cast<uint8_t>(body[pos]) + 1;  // schema
  pos += 1 + static_cast<uint8_t>(body[pos]) + 1;  // table
  size_t columns = static_cast<uint8_t>(body[pos]);
  pos += 1 + columns;
  pos += 1 + static_cast<uint8_t>(body[pos]);  // metadata
  return pos + (columns + 7) / 8;
}

TEST(Malformed, TruncatedTableMapsAreErrorsUpToTheNullBitmap) {
  for (const Recorded& r : AllRecorded()) {
    std::string body = Unhex(r.map);
    TableMap full = MustParse(r.map);
    size_t fixed = FixedPartLength(body);
    for (size_t length = 0; length < body.size(); ++length) {
      Result<TableMap> map = ParseTableMap(std::string_view(body).substr(0, length));
      if (length < fixed) {
        EXPECT_FALSE(map.ok()) << full.table << " cut at " << length;
        continue;
      }
      // Past the fixed part only whole optional fields may go missing; what parses is right.
      if (!map.ok()) continue;
      ASSERT_EQ(map->columns.size(), full.columns.size());
      for (size_t i = 0; i < full.columns.size(); ++i) {
        EXPECT_EQ(map->columns[i].real_type, full.columns[i].real_type);
        EXPECT_EQ(map->columns[i].metadata, full.columns[i].metadata);
        EXPECT_EQ(map->columns[i].nullable, full.columns[i].nullable);
      }
    }
  }
}

TEST(Malformed, RandomCorruptionIsNeverACrash) {
  std::mt19937 random(20240229);
  int decoded = 0;
  for (const Recorded& r : AllRecorded()) {
    std::string map_body = Unhex(r.map);
    std::string rows_body = Unhex(r.rows);
    for (int round = 0; round < 300; ++round) {
      std::string map_copy = map_body;
      std::string rows_copy = rows_body;
      std::string& target = round % 2 == 0 ? map_copy : rows_copy;
      for (int flips = 1 + static_cast<int>(random() % 4); flips > 0; --flips) {
        target[random() % target.size()] = static_cast<char>(random());
      }
      Result<TableMap> map = ParseTableMap(map_copy);
      if (!map.ok()) continue;
      RowsEvent event = SplitRows(rows_copy, r.update);
      if (event.before.size() != map->columns.size()) continue;
      decoded += DecodesCompletely(*map, event, event.rows) ? 1 : 0;
    }
  }
  EXPECT_GT(decoded, 0);
}

TEST(Malformed, BadMetadataAndValuesNameTheColumn) {
  auto decode = [](const std::string& types, const std::string& metadata, const std::string& row) {
    Result<TableMap> map =
        ParseTableMap(BuildTableMap(types, metadata, ""), 6, BinlogFlavor::kMysql);
    if (!map.ok()) return "map: " + map.message();
    std::vector<wire::Value> values;
    Result<size_t> used =
        DecodeRowImage(*map, std::vector<bool>(map->columns.size(), true), row, &values);
    return used.ok() ? "ok " + Show(values[0]) : used.message();
  };
  EXPECT_EQ(decode(Unhex("f6"), Unhex("0000"), Unhex("0080")),
            "row image of app.t, column @1 (#1, decimal(0,0)) at offset 1: invalid precision and "
            "scale in the TABLE_MAP");
  EXPECT_EQ(decode(Unhex("10"), Unhex("0000"), Unhex("0001")),
            "row image of app.t, column @1 (#1, bit(0)) at offset 1: BIT of 0 bits in the "
            "TABLE_MAP");
  EXPECT_EQ(decode(Unhex("13"), Unhex("07"), Unhex("00800000")),
            "row image of app.t, column @1 (#1, time(7)) at offset 1: 7 fractional digits in the "
            "TABLE_MAP");
  EXPECT_EQ(decode(Unhex("03"), "", Unhex("000100")),
            "row image of app.t, column @1 (#1, int) at offset 1: truncated: the value needs 4 "
            "bytes, 2 left");
  EXPECT_EQ(decode(Unhex("0f"), Unhex("0a00"), Unhex("0005ab")),
            "row image of app.t, column @1 (#1, varchar) at offset 1: truncated: the value needs "
            "5 bytes, 1 left");
  EXPECT_EQ(decode(Unhex("fe"), Unhex("f701"), Unhex("0003")),
            "ok enum:3");  // no member strings: the number
  EXPECT_EQ(decode(Unhex("00"), "", Unhex("00")),
            "row image of app.t, column @1 (#1, decimal) at offset 1: pre-MySQL-5.0 DECIMAL is "
            "not supported (its length is not in the binlog): ALTER TABLE to rebuild the column "
            "as a current DECIMAL");
  EXPECT_EQ(decode(Unhex("14"), "", Unhex("00")),
            "row image of app.t, column @1 (#1, type 20) at offset 1: column type 20 is not "
            "supported by Ferry");
  EXPECT_EQ(decode(Unhex("0a"), "", Unhex("00ffffff")),
            "row image of app.t, column @1 (#1, date) at offset 1: corrupt DATE '32767-15-31'");
  // Zero and partial dates travel exactly, but fields out of range are still corrupt, and a
  // fraction on TIMESTAMP 0 (the zero TIMESTAMP; 1970-01-01 00:00:00 UTC is out of range) is too.
  EXPECT_EQ(decode(Unhex("12"), Unhex("00"), Unhex("008000019000")),
            "row image of app.t, column @1 (#1, datetime) at offset 1: corrupt DATETIME "
            "'0000-00-00 25:00:00'");
  EXPECT_EQ(decode(Unhex("11"), Unhex("06"), Unhex("0000000000000001")),
            "row image of app.t, column @1 (#1, timestamp(6)) at offset 1: corrupt zero TIMESTAMP "
            "with a fraction of 1 microseconds");
  EXPECT_EQ(decode(Unhex("11"), Unhex("06"), Unhex("0000000000000000")),
            "ok tstz:0000-00-00 00:00:00.000000+00");
  EXPECT_EQ(decode(Unhex("fc"), Unhex("05"), Unhex("00")),
            "row image of app.t, column @1 (#1, blob) at offset 1: length prefix of 5 bytes in "
            "the TABLE_MAP");
  // Metadata that does not fit the types: a type Ferry does not know would misalign the rest.
  EXPECT_EQ(decode(Unhex("03"), Unhex("01"), ""),
            "map: malformed TABLE_MAP of app.t: metadata block has 1 bytes more than its column "
            "types take (a column type Ferry does not know?)");
  EXPECT_EQ(decode(Unhex("0f"), Unhex("01"), ""),
            "map: malformed TABLE_MAP of app.t: metadata block of 1 bytes ends before column 1 "
            "(type 15)");
}

TEST(Malformed, OptionalMetadataIndexesBeyondTheTable) {
  std::string types = Unhex("0f");
  std::string metadata = Unhex("0a00");
  auto parse = [&](const std::string& optional) {
    Result<TableMap> map = ParseTableMap(BuildTableMap(types, metadata, optional));
    return map.ok() ? std::string("ok") : map.message();
  };
  EXPECT_EQ(parse(Tlv(2, Unhex("2d feffffffffffffffff 08"))),
            "malformed TABLE_MAP of app.t: optional metadata field 2: names charset column "
            "18446744073709551615 of a table of 1 columns");
  EXPECT_EQ(parse(Tlv(3, Unhex("2d2d"))),
            "malformed TABLE_MAP of app.t: optional metadata field 3: 2 collations for 1 charset "
            "columns");
  EXPECT_EQ(parse(Tlv(8, Unhex("01"))),
            "malformed TABLE_MAP of app.t: optional metadata field 8: key column 1 of 1");
  EXPECT_EQ(parse(Tlv(4, "")),
            "malformed TABLE_MAP of app.t: optional metadata field 4: fewer names than columns");
  EXPECT_EQ(parse(Tlv(1, Unhex("0000"))),
            "malformed TABLE_MAP of app.t: optional metadata field 1: 2 bytes for 0 numeric "
            "columns");
  EXPECT_EQ(parse(Unhex("0405")),
            "malformed TABLE_MAP of app.t: optional metadata field at offset 0 is truncated");
  EXPECT_EQ(parse(Tlv(3, Unhex("2d")) + Tlv(99, "whatever")), "ok");
}

TEST(Malformed, EnumAndSetValuesBeyondTheirMembers) {
  TableMap map = MustParse(rec::kEnumsTableMap);
  std::vector<bool> present(map.columns.size(), true);
  std::vector<wire::Value> values;
  Result<size_t> enum_beyond =
      DecodeRowImage(map, present, Unhex("00 01000000 04 00 00 00 00"), &values);
  ASSERT_FALSE(enum_beyond.ok());
  EXPECT_EQ(enum_beyond.message(),
            "row image of app.enums, column e (#2, enum) at offset 5: ENUM index 4 but only 3 "
            "members");
  Result<size_t> set_beyond =
      DecodeRowImage(map, present, Unhex("00 01000000 00 08 00 00 00"), &values);
  ASSERT_FALSE(set_beyond.ok());
  EXPECT_NE(set_beyond.message().find("beyond its 3 members"), std::string::npos);
  Result<size_t> wrong_width = DecodeRowImage(map, {true, true}, Unhex("00"), &values);
  ASSERT_FALSE(wrong_width.ok());
  EXPECT_EQ(wrong_width.message(), "row image of app.enums: 2 column flags for 6 columns");
  EXPECT_TRUE(values.empty());
}

TEST(Malformed, CorruptCompressedValues) {
  TableMap map = MustParse(rec::kCompTableMap);
  std::vector<wire::Value> values;
  // t TEXT COMPRESSED claiming 1 MB from 3 bytes of deflate.
  Result<size_t> claim =
      DecodeRowImage(map, {false, true, false}, Unhex("00 0600 8b0fffff 0300"), &values);
  ASSERT_FALSE(claim.ok());
  EXPECT_NE(claim.message().find("claims"), std::string::npos) << claim.message();
  Result<size_t> garbage =
      DecodeRowImage(map, {false, true, false}, Unhex("00 0500 8a0010 ffff"), &values);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.message().find("inflate"), std::string::npos) << garbage.message();
}

}  // namespace
}  // namespace ferry::capture::mysql
