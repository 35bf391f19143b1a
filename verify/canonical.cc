#include "verify/canonical.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "apply/mysql/mysql_values.h"  // ParseDecimal, DecimalText, ArrayJson
#include "apply/postgres/pg_text.h"    // ValueToPgText, Float8Text, IsZeroOrPartialDate

namespace ferry::verify {
namespace {

using wire::Value;

Value TextValue(std::string text) {
  Value v;
  v.set_text(std::move(text));
  return v;
}

Value NullValue() {
  Value v;
  v.mutable_null();
  return v;
}

// The text a value carries, for the kinds that carry one; nullptr for the others.
const std::string* CarriedText(const Value& value) {
  switch (value.kind_case()) {
    case Value::kText:
      return &value.text();
    case Value::kDecimal:
      return &value.decimal();
    case Value::kDate:
      return &value.date();
    case Value::kTime:
      return &value.time();
    case Value::kTimeTz:
      return &value.time_tz();
    case Value::kTimestamp:
      return &value.timestamp();
    case Value::kTimestampTz:
      return &value.timestamp_tz();
    case Value::kInterval:
      return &value.interval();
    case Value::kJson:
      return &value.json();
    case Value::kUuid:
      return &value.uuid();
    case Value::kEnumValue:
      return &value.enum_value();
    case Value::kSetValue:
      return &value.set_value();
    case Value::kBits:
      return &value.bits();
    case Value::kOther:
      return &value.other();
    default:
      return nullptr;
  }
}

bool IsTextualType(wire::LogicalType type) {
  return type == wire::LOGICAL_TYPE_TEXT || type == wire::LOGICAL_TYPE_OTHER ||
         type == wire::LOGICAL_TYPE_ENUM || type == wire::LOGICAL_TYPE_SET;
}

// The text the target's sink writes into a text column for `value`: PostgreSQL's is
// ValueToPgText; MariaDB's (mysql_values.h) spells booleans "true"/"false" and arrays as JSON.
std::string TextForm(const Value& value, Engine engine) {
  if (engine == Engine::kPostgres) {
    Result<std::optional<std::string>> text = apply::postgres::ValueToPgText(value);
    if (text.ok() && text->has_value()) return **text;
  }
  switch (value.kind_case()) {
    case Value::kBoolean:
      return value.boolean() ? "true" : "false";
    case Value::kInt64:
      return std::to_string(value.int64());
    case Value::kUint64:
      return std::to_string(value.uint64());
    case Value::kFloat64:
      return apply::postgres::Float8Text(value.float64());
    case Value::kBytes:
      return value.bytes();
    case Value::kArray: {
      Result<std::string> json = apply::mysql::ArrayJson(value.array());
      return json.ok() ? *json : value.ShortDebugString();
    }
    default: {
      const std::string* text = CarriedText(value);
      return text != nullptr ? *text : value.ShortDebugString();
    }
  }
}

// ---- numbers -------------------------------------------------------------------------------

// The integer of a bit string of at most 64 bits.
std::optional<uint64_t> BitsInteger(const std::string& bits) {
  const size_t first_one = bits.find('1');
  if (first_one == std::string::npos) return 0;
  if (bits.size() - first_one > 64) return std::nullopt;
  uint64_t n = 0;
  for (size_t i = first_one; i < bits.size(); ++i) n = n << 1 | (bits[i] == '1' ? 1 : 0);
  return n;
}

// "1.50", "1.5" and "01.5" alike; texts that are no number (NaN, Infinity) as they are.
std::string DecimalCanonical(const std::string& text) {
  Result<apply::mysql::Decimal> decimal = apply::mysql::ParseDecimal(text);
  return decimal.ok() ? apply::mysql::DecimalText(*decimal) : text;
}

// The canonical text of a number of any kind, or nullopt for a value that is no number.
std::optional<std::string> NumberText(const Value& value) {
  switch (value.kind_case()) {
    case Value::kInt64:
      return std::to_string(value.int64());
    case Value::kUint64:
      return std::to_string(value.uint64());
    case Value::kBoolean:
      return value.boolean() ? "1" : "0";
    case Value::kDecimal:
      return DecimalCanonical(value.decimal());
    case Value::kFloat64:
      return DecimalCanonical(apply::postgres::Float8Text(value.float64()));
    case Value::kBits:
      if (std::optional<uint64_t> n = BitsInteger(value.bits())) return std::to_string(*n);
      return value.bits();
    default:
      return std::nullopt;
  }
}

std::optional<double> AsDouble(const Value& value) {
  switch (value.kind_case()) {
    case Value::kFloat64:
      return value.float64();
    case Value::kInt64:
      return static_cast<double>(value.int64());
    case Value::kUint64:
      return static_cast<double>(value.uint64());
    case Value::kBoolean:
      return value.boolean() ? 1.0 : 0.0;
    case Value::kDecimal: {
      const std::string& text = value.decimal();
      double d = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
      return d;
    }
    default:
      return std::nullopt;
  }
}

// PostgreSQL's real and MariaDB's FLOAT hold a 32-bit float: a double written there is rounded.
bool IsSinglePrecision(const ColumnTraits& column) {
  if (column.engine == Engine::kPostgres) return column.source_type == "float4";
  return column.source_type.starts_with("float");
}

// ---- values as another column holds them ---------------------------------------------------

Value ToBool(const Value& value) {
  Value out;
  if (value.has_int64() && (value.int64() == 0 || value.int64() == 1)) {
    out.set_boolean(value.int64() == 1);
  } else if (value.has_uint64() && value.uint64() <= 1) {
    out.set_boolean(value.uint64() == 1);
  } else if (value.has_bits() && (value.bits() == "0" || value.bits() == "1")) {
    out.set_boolean(value.bits() == "1");
  } else {
    return value;
  }
  return out;
}

Value ToInteger(const Value& value) {
  Value out;
  switch (value.kind_case()) {
    case Value::kBoolean:
      out.set_int64(value.boolean() ? 1 : 0);
      return out;
    case Value::kBits:
      if (std::optional<uint64_t> n = BitsInteger(value.bits())) {
        out.set_uint64(*n);
        return out;
      }
      return value;
    case Value::kDecimal:
    case Value::kFloat64: {
      // Integral values within 64 bits, as the sinks write them; anything else stays as it is.
      const std::string text = *NumberText(value);
      if (text.find_first_of(".eE") != std::string::npos) return value;
      if (text.starts_with('-')) {
        int64_t n = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (error != std::errc() || end != text.data() + text.size()) return value;
        out.set_int64(n);
      } else {
        uint64_t n = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (error != std::errc() || end != text.data() + text.size()) return value;
        if (n <= static_cast<uint64_t>(INT64_MAX)) {
          out.set_int64(static_cast<int64_t>(n));
        } else {
          out.set_uint64(n);
        }
      }
      return out;
    }
    default:
      return value;
  }
}

Value ToDecimal(const Value& value) {
  if (value.has_decimal()) return value;
  if (value.has_float64() && !std::isfinite(value.float64())) return value;
  std::optional<std::string> number = NumberText(value);
  if (!number) return value;
  Value out;
  out.set_decimal(*number);
  return out;
}

Value ToFloat(const Value& value, const ColumnTraits& column) {
  std::optional<double> d = AsDouble(value);
  if (!d) return value;
  Value out;
  out.set_float64(IsSinglePrecision(column) ? static_cast<double>(static_cast<float>(*d)) : *d);
  return out;
}

Value ToText(const Value& value, const ColumnTraits& column) {
  if (value.has_text()) return value;
  return TextValue(TextForm(value, column.engine));
}

// The 16 bytes of a uuid's text, in text order (UUID_TO_BIN(u)); nullopt when it is no uuid.
std::optional<std::string> UuidBytes(const std::string& uuid) {
  std::string hex;
  for (char c : uuid) {
    if (c != '-') hex.push_back(c);
  }
  if (hex.size() != 32) return std::nullopt;
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned byte = 0;
    auto [end, error] = std::from_chars(hex.data() + i, hex.data() + i + 2, byte, 16);
    if (error != std::errc() || end != hex.data() + i + 2) return std::nullopt;
    bytes.push_back(static_cast<char>(byte));
  }
  return bytes;
}

Value ToBytes(const Value& value, const ColumnTraits& column) {
  Value out;
  if (value.has_uuid() && column.source_type == "binary(16)") {
    std::optional<std::string> bytes = UuidBytes(value.uuid());
    if (!bytes) return value;
    out.set_bytes(std::move(*bytes));
    return out;
  }
  if (value.has_text() || value.has_uuid()) {
    out.set_bytes(*CarriedText(value));
    return out;
  }
  return value;
}

// "10:00:00.500" -> "10:00:00.5", "10:00:00.000" -> "10:00:00": every run of digits after a
// dot that follows a digit loses its trailing zeros (and the dot when nothing is left).
std::string StripFractionZeros(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const bool fraction =
        text[i] == '.' && i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
        i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]));
    if (!fraction) {
      out.push_back(text[i]);
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    size_t last = end;
    while (last > i + 1 && text[last - 1] == '0') --last;
    if (last > i + 1) out.append(text, i, last - i);
    i = end - 1;
  }
  return out;
}

bool IsInfinity(const std::string& text) { return text == "infinity" || text == "-infinity"; }

// The date of a timestamp at midnight ("2024-02-29 00:00:00[.000][+00]"), else nullopt.
std::optional<std::string> MidnightDate(const std::string& timestamp) {
  const size_t space = timestamp.find(' ');
  if (space == std::string::npos) return std::nullopt;
  std::string clock = StripFractionZeros(timestamp.substr(space + 1));
  if (clock.ends_with("+00")) clock.resize(clock.size() - 3);
  if (clock != "00:00:00") return std::nullopt;
  return timestamp.substr(0, space);
}

Value ToDate(const Value& value) {
  const std::string* stamp = value.has_timestamp()      ? &value.timestamp()
                             : value.has_timestamp_tz() ? &value.timestamp_tz()
                                                        : nullptr;
  if (stamp == nullptr) return value;
  std::optional<std::string> date = MidnightDate(*stamp);
  if (!date) return value;
  Value out;
  out.set_date(*date);
  return out;
}

Value ToTime(const Value& value) {
  if (!value.has_time_tz() || !value.time_tz().ends_with("+00")) return value;
  Value out;
  out.set_time(value.time_tz().substr(0, value.time_tz().size() - 3));
  return out;
}

Value ToTimeTz(const Value& value) {
  if (!value.has_time()) return value;
  Value out;
  out.set_time_tz(value.time() + "+00");
  return out;
}

// A session in UTC (both readers and both sinks use one) writes a timestamp with time zone as
// its UTC wall time, and reads a timestamp without as that instant in UTC.
Value ToTimestamp(const Value& value) {
  Value out;
  if (value.has_timestamp_tz() && value.timestamp_tz().ends_with("+00")) {
    out.set_timestamp(value.timestamp_tz().substr(0, value.timestamp_tz().size() - 3));
  } else if (value.has_date() && !IsInfinity(value.date())) {
    out.set_timestamp(value.date() + " 00:00:00");
  } else {
    return value;
  }
  return out;
}

Value ToTimestampTz(const Value& value) {
  Value out;
  if (value.has_timestamp()) {
    out.set_timestamp_tz(IsInfinity(value.timestamp()) ? value.timestamp()
                                                       : value.timestamp() + "+00");
  } else if (value.has_date() && !IsInfinity(value.date())) {
    out.set_timestamp_tz(value.date() + " 00:00:00+00");
  } else {
    return value;
  }
  return out;
}

Value ToBits(const Value& value) {
  uint64_t n = 0;
  if (value.has_int64() && value.int64() >= 0) {
    n = static_cast<uint64_t>(value.int64());
  } else if (value.has_uint64()) {
    n = value.uint64();
  } else if (value.has_boolean()) {
    n = value.boolean() ? 1 : 0;
  } else {
    return value;
  }
  std::string bits;
  for (; n != 0; n >>= 1) bits.insert(bits.begin(), (n & 1) != 0 ? '1' : '0');
  Value out;
  out.set_bits(bits.empty() ? "0" : bits);
  return out;
}

// ---- canonical texts -----------------------------------------------------------------------

bool IsCharColumn(const ColumnTraits& column) {
  if (column.engine == Engine::kPostgres) return column.source_type.starts_with("bpchar");
  return column.source_type == "char" || column.source_type.starts_with("char(");
}

std::string TrimRight(std::string text, char padding) {
  while (!text.empty() && text.back() == padding) text.pop_back();
  return text;
}

// JSON as one text per document: keys sorted, no spaces (jsonb reorders and respaces what
// MariaDB's JSON, a LONGTEXT, keeps as written). Text that is no JSON stays as it is.
std::string JsonCanonical(const std::string& text) {
  try {
    const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return text;
    return parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception&) {
    return text;
  }
}

// A SET's members in one order: MariaDB stores them in the column's order, whatever order
// apply wrote them in.
std::string SetCanonical(const std::string& text) {
  std::vector<std::string> members;
  size_t start = 0;
  for (size_t comma = text.find(','); !text.empty(); comma = text.find(',', start)) {
    members.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(members.begin(), members.end());
  std::string out;
  for (const std::string& member : members) out += (out.empty() ? "" : ",") + member;
  return out;
}

std::string FloatCanonical(const Value& value, const ColumnTraits& column) {
  std::optional<double> d = AsDouble(value);
  if (!d) return TextForm(value, column.engine);
  double x = IsSinglePrecision(column) ? static_cast<double>(static_cast<float>(*d)) : *d;
  if (x == 0) x = 0;  // -0 and 0 are one value (MariaDB stores -0 as 0)
  return apply::postgres::Float8Text(x);
}

std::string LowerCase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string BitsCanonical(const Value& value, const ColumnTraits& column) {
  if (!value.has_bits()) return TextForm(value, column.engine);
  if (column.engine == Engine::kPostgres) return value.bits();
  // MariaDB's BIT(n) reads back n digits, whatever length was written: compare the numbers.
  const size_t first_one = value.bits().find('1');
  return first_one == std::string::npos ? "0" : value.bits().substr(first_one);
}

std::string ArrayCanonical(const wire::ArrayValue& array, const ColumnTraits& element) {
  std::string out = "{";
  for (int i = 0; i < array.elements_size(); ++i) {
    if (i > 0) out.push_back(',');
    const Value& item = array.elements(i);
    if (item.has_array()) {
      out += ArrayCanonical(item.array(), element);
      continue;
    }
    std::optional<std::string> text = Canonical(item, element);
    // Length-prefixed, so that no element's text can look like a delimiter.
    out += text ? std::to_string(text->size()) + ":" + *text : "NULL";
  }
  return out + "}";
}

ColumnTraits ElementTraits(const ColumnTraits& column) {
  ColumnTraits element = column;
  element.type = column.element_type;
  element.element_type = wire::LOGICAL_TYPE_UNSPECIFIED;
  if (element.source_type.ends_with("[]"))
    element.source_type.resize(element.source_type.size() - 2);
  return element;
}

std::string Cut(const std::string& text) {
  constexpr size_t kShown = 64;
  return text.size() <= kShown ? text : text.substr(0, kShown) + "...";
}

}  // namespace

ColumnTraits TraitsOf(const wire::Column& column, Engine engine) {
  ColumnTraits traits;
  traits.type = column.type();
  traits.element_type = column.element_type();
  traits.source_type = column.source_type();
  traits.engine = engine;
  return traits;
}

Result<wire::Value> AsColumnValue(const wire::Value& value, const ColumnTraits& column) {
  if (value.has_null() || value.has_unchanged()) return value;
  if (column.engine == Engine::kPostgres && !IsTextualType(column.type) &&
      apply::postgres::IsZeroOrPartialDate(value)) {
    if (column.zero_dates_as_null) return NullValue();
    return Status::Error("zero or partial date " + TextForm(value, column.engine) +
                         " cannot be written to a PostgreSQL " + column.source_type +
                         " column (the apply config has zero_dates: error)");
  }
  switch (column.type) {
    case wire::LOGICAL_TYPE_BOOL:
      return ToBool(value);
    case wire::LOGICAL_TYPE_INT:
    case wire::LOGICAL_TYPE_UINT:
      return ToInteger(value);
    case wire::LOGICAL_TYPE_DECIMAL:
      return ToDecimal(value);
    case wire::LOGICAL_TYPE_FLOAT:
      return ToFloat(value, column);
    case wire::LOGICAL_TYPE_TEXT:
    case wire::LOGICAL_TYPE_ENUM:
    case wire::LOGICAL_TYPE_SET:
    case wire::LOGICAL_TYPE_OTHER:
      return ToText(value, column);
    case wire::LOGICAL_TYPE_BYTES:
      return ToBytes(value, column);
    case wire::LOGICAL_TYPE_DATE:
      return ToDate(value);
    case wire::LOGICAL_TYPE_TIME:
      return ToTime(value);
    case wire::LOGICAL_TYPE_TIME_TZ:
      return ToTimeTz(value);
    case wire::LOGICAL_TYPE_TIMESTAMP:
      return ToTimestamp(value);
    case wire::LOGICAL_TYPE_TIMESTAMP_TZ:
      return ToTimestampTz(value);
    case wire::LOGICAL_TYPE_BIT:
      return ToBits(value);
    default:
      // uuid, json, interval and arrays: the value's own text or elements are compared.
      return value;
  }
}

std::optional<std::string> Canonical(const wire::Value& value, const ColumnTraits& column) {
  if (value.has_null()) return std::nullopt;
  switch (column.type) {
    case wire::LOGICAL_TYPE_BOOL:
      if (value.has_boolean()) return value.boolean() ? "t" : "f";
      return NumberText(value).value_or(TextForm(value, column.engine));
    case wire::LOGICAL_TYPE_INT:
    case wire::LOGICAL_TYPE_UINT:
    case wire::LOGICAL_TYPE_DECIMAL:
      return NumberText(value).value_or(TextForm(value, column.engine));
    case wire::LOGICAL_TYPE_FLOAT:
      return FloatCanonical(value, column);
    case wire::LOGICAL_TYPE_TEXT:
    case wire::LOGICAL_TYPE_ENUM:
    case wire::LOGICAL_TYPE_OTHER: {
      std::string text = TextForm(value, column.engine);
      return IsCharColumn(column) ? TrimRight(std::move(text), ' ') : text;
    }
    case wire::LOGICAL_TYPE_SET:
      return SetCanonical(TextForm(value, column.engine));
    case wire::LOGICAL_TYPE_UUID:
      return LowerCase(TextForm(value, column.engine));
    case wire::LOGICAL_TYPE_JSON:
      return JsonCanonical(TextForm(value, column.engine));
    case wire::LOGICAL_TYPE_BYTES:
      if (!value.has_bytes()) return TextForm(value, column.engine);
      // BINARY(n) pads with 0x00 to its length.
      return column.source_type.starts_with("binary(") ? TrimRight(value.bytes(), '\0')
                                                       : value.bytes();
    case wire::LOGICAL_TYPE_TIME:
    case wire::LOGICAL_TYPE_TIME_TZ:
    case wire::LOGICAL_TYPE_TIMESTAMP:
    case wire::LOGICAL_TYPE_TIMESTAMP_TZ:
    case wire::LOGICAL_TYPE_INTERVAL:
      return StripFractionZeros(TextForm(value, column.engine));
    case wire::LOGICAL_TYPE_BIT:
      return BitsCanonical(value, column);
    case wire::LOGICAL_TYPE_ARRAY:
      if (value.has_array()) return ArrayCanonical(value.array(), ElementTraits(column));
      return TextForm(value, column.engine);
    default:
      return TextForm(value, column.engine);
  }
}

std::string ValueText(const wire::Value& value) {
  if (value.has_null()) return "NULL";
  if (value.has_bytes()) return apply::postgres::ByteaHex(value.bytes());
  return TextForm(value, Engine::kMysql);
}

std::string DisplayText(const wire::Value& value) {
  switch (value.kind_case()) {
    case Value::kNull:
      return "NULL";
    case Value::kBoolean:
      return value.boolean() ? "true" : "false";
    case Value::kInt64:
    case Value::kUint64:
    case Value::kDecimal:
    case Value::kFloat64:
      return TextForm(value, Engine::kMysql);
    case Value::kBytes: {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      for (unsigned char byte : Cut(value.bytes())) {
        hex.push_back(kHex[byte >> 4]);
        hex.push_back(kHex[byte & 0x0f]);
      }
      return "x'" + hex + "'";
    }
    default: {
      std::string quoted = "'";
      for (char c : Cut(TextForm(value, Engine::kMysql))) {
        if (c == '\'') quoted.push_back('\'');
        quoted.push_back(c);
      }
      return quoted + "'";
    }
  }
}

}  // namespace ferry::verify
