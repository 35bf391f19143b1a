// Ferry's typed values as MySQL/MariaDB statement parameters, chosen by the target column's type
// as information_schema.COLUMNS describes it. Pure functions, no Connector/C++, so that every
// conversion and range check is unit-tested without a server.
//
// The rule (ARCHITECTURE.md, Apply): a value the target column cannot hold exactly is an error
// naming the value and the fix, never a rounding or a truncation. The session's strict sql_mode
// would catch much of it too, but not all (MySQL rounds fractional seconds and FLOATs, maps the
// integer 5 to YEAR 2005, and reads the string '1' as the first ENUM member), and its messages
// do not always name the value; so everything that can be checked here is checked here.
//
// Mapping: wire value kind -> the target column types it may be written to, and how.
// clang-format off
// | wire value   | target column                  | written as / checked                         |
// |--------------|--------------------------------|----------------------------------------------|
// | null         | any                            | NULL                                         |
// | int64/uint64 | TINYINT..BIGINT [UNSIGNED]     | integer; range of the exact type checked     |
// |              | BIT(n)                         | integer; 0 <= v < 2^n                        |
// |              | YEAR                           | 0 or 1901..2155 (MySQL reads 1..99 as 20xx   |
// |              |                                | or 19xx: refused)                            |
// |              | DECIMAL(p,s)                   | digits; at most p-s integer digits           |
// |              | DOUBLE, FLOAT                  | only if the binary float holds v exactly     |
// |              | CHAR/VARCHAR/TEXT              | decimal digits                               |
// | bool         | integer types, BIT, DECIMAL    | 1 / 0                                        |
// |              | CHAR/VARCHAR/TEXT              | "true" / "false" (PostgreSQL's text)         |
// | decimal      | DECIMAL(p,s) [UNSIGNED]        | exact text; more than p-s integer digits or  |
// |              |                                | a non-zero digit beyond s: error; NaN and    |
// |              |                                | infinities: error                            |
// |              | integer types, YEAR, BIT       | integral values only, range checked          |
// |              | DOUBLE, FLOAT                  | only if the float's shortest text is the     |
// |              |                                | same number ("0.1" yes; "0.100000001" into   |
// |              |                                | FLOAT no)                                    |
// |              | CHAR/VARCHAR/TEXT              | the text as sent (NaN included)              |
// | float64      | DOUBLE                         | double; NaN/Infinity: error (MySQL has none);|
// |              |                                | -0 is stored as 0 (no negative zero; IEEE    |
// |              |                                | -0 == 0)                                     |
// |              | FLOAT                          | values a 32-bit float holds exactly only     |
// |              | FLOAT(M,D), DOUBLE(M,D)        | also: the shortest text fits (M,D)           |
// |              | DECIMAL(p,s)                   | its shortest round-trip text, must fit       |
// |              | integer types, YEAR, BIT       | integral values only, range checked          |
// |              | CHAR/VARCHAR/TEXT              | shortest round-trip text (or NaN, Infinity)  |
// | text         | CHAR/VARCHAR                   | length checked in characters (CHAR drops     |
// |              |                                | trailing spaces, as MySQL itself does)       |
// |              | TEXT types                     | length checked in bytes                      |
// |              | JSON                           | the text; the server checks it is JSON       |
// |              | ENUM, SET                      | member names, checked case-sensitively       |
// |              | BINARY/VARBINARY/BLOB types    | its UTF-8 bytes (BINARY(n) pads with 0x00,   |
// |              |                                | as MySQL does)                               |
// |              | UUID, INET4, INET6 (MariaDB)   | text, parsed by the server                   |
// | bytes        | BINARY/VARBINARY/BLOB types    | binary; longer than the column: error        |
// | date         | DATE                           | 'YYYY-MM-DD'; infinity, BC dates and years   |
// |              |                                | after 9999: error. MySQL zero and partial    |
// |              |                                | dates ('0000-00-00', '2024-01-00') as they   |
// |              |                                | are, here and below                          |
// |              | DATETIME, TIMESTAMP            | 'YYYY-MM-DD 00:00:00'; TIMESTAMP: the zero   |
// |              |                                | date only, a partial date is an error        |
// | time         | TIME(p)                        | '[-]H:MM:SS[.f]'; beyond +-838:59:59 or a    |
// |              |                                | non-zero digit beyond p: error               |
// | time_tz      | TIME(p)                        | offset +00 only (a time of day cannot move   |
// |              |                                | across midnight without a date): else error  |
// | timestamp    | DATETIME(p), TIMESTAMP(p)      | 'YYYY-MM-DD HH:MM:SS[.f]'; a non-zero digit  |
// |              |                                | beyond p: error; the TIMESTAMP range         |
// |              |                                | (1970..2038): server error, a partial date   |
// |              |                                | in TIMESTAMP: error (zero TIMESTAMP is 0)    |
// |              | DATE                           | only at midnight                             |
// | timestamp_tz | DATETIME(p), TIMESTAMP(p)      | the UTC wall time: the offset (always +00 on |
// |              |                                | the wire; another: error) is dropped. The    |
// |              |                                | session time zone is UTC, so TIMESTAMP holds |
// |              |                                | the same instant; DATETIME the UTC wall time |
// |              | DATE                           | only at midnight UTC                         |
// | interval     | CHAR/VARCHAR/TEXT only         | PostgreSQL's interval text                   |
// | json         | JSON, CHAR/VARCHAR/TEXT        | the JSON text                                |
// | uuid         | CHAR(36)/VARCHAR/TEXT, UUID    | text                                         |
// |              | BINARY(16), VARBINARY(16)      | 16 bytes in text order (UUID_TO_BIN(u))      |
// |              | other BINARY/VARBINARY/BLOB    | its text's bytes                             |
// | enum_value   | ENUM                           | member name, checked against the ENUM        |
// |              | CHAR/VARCHAR/TEXT              | member name                                  |
// | set_value    | SET                            | members, each checked against the SET        |
// |              | CHAR/VARCHAR/TEXT              | members                                      |
// | bits         | BIT(n)                         | integer of the bit string; must fit n bits   |
// |              | integer types                  | integer of the bit string, range checked     |
// |              | CHAR/VARCHAR/TEXT              | the bit string ("0101")                      |
// | array        | JSON, TEXT types, VARCHAR      | JSON array; elements as JSON values (bytes   |
// |              |                                | as "\\x..." strings, NaN/Infinity as strings,|
// |              |                                | as PostgreSQL's to_json writes them)         |
// | other        | CHAR/VARCHAR/TEXT, JSON, UUID, | its text                                     |
// |              | INET4, INET6                   |                                              |
// clang-format on
//
// Every temporal kind may also go to a CHAR/VARCHAR/TEXT column as its wire text, infinity and
// BC dates included. Any pair not in the table is an error that names the value's kind, the
// column type and the fix (change the target column's type or exclude the column in the
// mapping). Geometry and other column types Ferry does not know accept only NULL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply::mysql {

// What information_schema.COLUMNS says about one target column.
struct ColumnType {
  std::string data_type;    // DATA_TYPE, lower case: "int", "varchar", "decimal", "datetime", ...
  std::string column_type;  // COLUMN_TYPE: "int(10) unsigned", "enum('a','b')", "bit(64)"
  std::optional<uint64_t> max_length;          // CHARACTER_MAXIMUM_LENGTH
  std::optional<uint32_t> precision;           // NUMERIC_PRECISION (BIT: its number of bits)
  std::optional<uint32_t> scale;               // NUMERIC_SCALE
  std::optional<uint32_t> datetime_precision;  // DATETIME_PRECISION

  bool is_unsigned() const;
};

// What a column type can hold, as far as conversions care.
enum class TypeClass {
  kInteger,    // TINYINT .. BIGINT, signed or unsigned
  kBit,        // BIT(n)
  kYear,       // YEAR
  kDecimal,    // DECIMAL(p,s)
  kFloat,      // FLOAT (single precision)
  kDouble,     // DOUBLE
  kChar,       // CHAR(n), VARCHAR(n): length limit in characters
  kText,       // TINYTEXT .. LONGTEXT: length limit in bytes
  kBinary,     // BINARY(n), VARBINARY(n), TINYBLOB .. LONGBLOB: length limit in bytes
  kDate,       // DATE
  kTime,       // TIME(p)
  kDatetime,   // DATETIME(p)
  kTimestamp,  // TIMESTAMP(p)
  kJson,       // MySQL's JSON (MariaDB's JSON is LONGTEXT with a CHECK: kText)
  kEnum,       // ENUM(...)
  kSet,        // SET(...)
  kParsed,     // MariaDB's UUID, INET4, INET6: text the server parses
  kUnsupported,
};

TypeClass ClassOf(const ColumnType& type);

// A value ready to bind to one `?` of a prepared statement.
struct Param {
  enum class Kind { kNull, kInt64, kUInt64, kDouble, kString, kBytes };
  Kind kind = Kind::kNull;
  int64_t int64 = 0;
  uint64_t uint64 = 0;
  double float64 = 0;
  std::string text;  // kString (UTF-8 text) and kBytes (binary)

  static Param Null() { return {}; }
  static Param Int64(int64_t v) { return {Kind::kInt64, v, 0, 0, {}}; }
  static Param UInt64(uint64_t v) { return {Kind::kUInt64, 0, v, 0, {}}; }
  static Param Double(double v) { return {Kind::kDouble, 0, 0, v, {}}; }
  static Param String(std::string v) { return {Kind::kString, 0, 0, 0, std::move(v)}; }
  static Param Bytes(std::string v) { return {Kind::kBytes, 0, 0, 0, std::move(v)}; }
  bool operator==(const Param&) const = default;
};

// For tests and messages: "NULL", "42", "'text'", "x'00ff'".
std::string DebugString(const Param& param);

// The parameter for `value` written to a column of `type`. Fails for `unchanged` (the caller
// leaves such columns out), for a value with no kind, and for every value the column cannot
// hold exactly; the message names the value, the column type and the fix.
Result<Param> ToParam(const wire::Value& value, const ColumnType& type);

// The same, for a column whose class (ClassOf(type)) the caller worked out once for many rows.
Result<Param> ToParam(const wire::Value& value, const ColumnType& type, TypeClass cls);

// ---- building blocks, exposed for tests ------------------------------------------------------

// An exact decimal number: digits without leading zeros (integer) and without trailing zeros
// (fraction), so that equal numbers have equal parts; zero is never negative.
struct Decimal {
  bool negative = false;
  std::string integer;
  std::string fraction;
  bool operator==(const Decimal&) const = default;
};

// Parses "[+-]digits[.digits][e[+-]digits]" (at least one digit). Fails on anything else,
// including NaN and the infinities.
Result<Decimal> ParseDecimal(std::string_view text);

// Plain text of a decimal: "-12.5", "0", "0.001" (never an exponent).
std::string DecimalText(const Decimal& decimal);

// Shortest text that reads back as exactly `value` (finite values only; may use an exponent).
std::string ShortestText(double value);
std::string ShortestText(float value);

// The number of Unicode code points of UTF-8 text (continuation bytes are not counted).
size_t CodePoints(std::string_view utf8);

// Members of an ENUM or SET column type: "enum('a','it''s')" -> {"a", "it's"}.
std::vector<std::string> TypeMembers(const std::string& column_type);

// A JSON array of the elements (see the mapping table).
Result<std::string> ArrayJson(const wire::ArrayValue& array);

}  // namespace ferry::apply::mysql
