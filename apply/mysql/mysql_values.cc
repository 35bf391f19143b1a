#include "apply/mysql/mysql_values.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <utility>

#include "common/json_text.h"

namespace ferry::apply::mysql {
namespace {

// ---- messages ----------------------------------------------------------------------------------

constexpr size_t kShownBytes = 40;

// A value as an error message shows it: quoted, and cut (at a character boundary) when long.
std::string Shown(std::string_view text) {
  if (text.size() <= kShownBytes) return "'" + std::string(text) + "'";
  size_t cut = kShownBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(text.substr(0, cut)) + "...' (" + std::to_string(text.size()) +
         " bytes)";
}

const char* KindName(wire::Value::KindCase kind) {
  switch (kind) {
    case wire::Value::kBoolean:
      return "boolean";
    case wire::Value::kInt64:
      return "integer";
    case wire::Value::kUint64:
      return "unsigned integer";
    case wire::Value::kDecimal:
      return "decimal";
    case wire::Value::kFloat64:
      return "float";
    case wire::Value::kText:
      return "text";
    case wire::Value::kBytes:
      return "bytes";
    case wire::Value::kDate:
      return "date";
    case wire::Value::kTime:
      return "time";
    case wire::Value::kTimeTz:
      return "time with time zone";
    case wire::Value::kTimestamp:
      return "timestamp";
    case wire::Value::kTimestampTz:
      return "timestamp with time zone";
    case wire::Value::kInterval:
      return "interval";
    case wire::Value::kJson:
      return "json";
    case wire::Value::kUuid:
      return "uuid";
    case wire::Value::kEnumValue:
      return "enum";
    case wire::Value::kSetValue:
      return "set";
    case wire::Value::kBits:
      return "bit string";
    case wire::Value::kArray:
      return "array";
    case wire::Value::kOther:
      return "other";
    default:
      return "unknown";
  }
}

Status Mismatch(const wire::Value& value, const ColumnType& type) {
  return Status::Error(std::string(KindName(value.kind_case())) +
                       " value cannot be written to column type " + type.column_type +
                       ": change the target column's type (see the type mapping in "
                       "apply/mysql/mysql_values.h) or exclude the column in the mapping");
}

Status DoesNotFit(const std::string& shown, const ColumnType& type, const std::string& why) {
  return Status::Error("value " + shown + " cannot be held exactly by " + type.column_type + " (" +
                       why + "): widen or change the target column");
}

// For source values the target engine has no counterpart of at all (NaN, infinite dates, BC).
Status NoEquivalent(const std::string& shown, const ColumnType& type, const std::string& why) {
  return Status::Error("value " + shown + " cannot be held by " + type.column_type + " (" + why +
                       "): map the column to a VARCHAR column on the target, or keep such values "
                       "out of the source");
}

// ---- integers ----------------------------------------------------------------------------------

// An integer of any source kind: sign and magnitude, so that the whole int64 and uint64 ranges
// (and integral decimals within them) are handled alike.
struct Integer {
  bool negative = false;
  uint64_t magnitude = 0;

  std::string Text() const { return (negative ? "-" : "") + std::to_string(magnitude); }
};

Integer FromInt64(int64_t v) {
  // -(v + 1) + 1 avoids overflowing on INT64_MIN.
  if (v < 0) return {true, static_cast<uint64_t>(-(v + 1)) + 1};
  return {false, static_cast<uint64_t>(v)};
}

int BitsOf(const std::string& data_type) {
  if (data_type == "tinyint") return 8;
  if (data_type == "smallint") return 16;
  if (data_type == "mediumint") return 24;
  if (data_type == "int" || data_type == "integer") return 32;
  return 64;
}

Result<Param> IntegerParam(const Integer& v, const ColumnType& type) {
  const int bits = BitsOf(type.data_type);
  const bool is_unsigned = type.is_unsigned();
  const uint64_t max =
      is_unsigned ? (bits == 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << bits) - 1)
                  : (uint64_t{1} << (bits - 1)) - 1;
  const uint64_t min_magnitude = is_unsigned ? 0 : uint64_t{1} << (bits - 1);
  const bool fits = v.negative ? v.magnitude <= min_magnitude : v.magnitude <= max;
  if (!fits) {
    const std::string range =
        (is_unsigned ? "0" : "-" + std::to_string(min_magnitude)) + ".." + std::to_string(max);
    return DoesNotFit(v.Text(), type, "range " + range);
  }
  if (v.negative) return Param::Int64(-static_cast<int64_t>(v.magnitude - 1) - 1);
  if (is_unsigned) return Param::UInt64(v.magnitude);
  return Param::Int64(static_cast<int64_t>(v.magnitude));
}

// YEAR reads the integers 1..99 as 2001..2069 and 1970..1999, so only 0 (stored as 0000) and
// its real range are written.
Result<Param> YearParam(const Integer& v, const ColumnType& type) {
  const bool fits =
      !v.negative && (v.magnitude == 0 || (v.magnitude >= 1901 && v.magnitude <= 2155));
  if (!fits) return DoesNotFit(v.Text(), type, "YEAR holds 0 and 1901..2155");
  return Param::Int64(static_cast<int64_t>(v.magnitude));
}

Result<Param> BitParam(const Integer& v, const ColumnType& type) {
  const uint32_t bits = type.precision.value_or(1);
  const bool fits = !v.negative && (bits >= 64 || v.magnitude < (uint64_t{1} << bits));
  if (!fits) return DoesNotFit(v.Text(), type, std::to_string(bits) + " bits");
  return Param::UInt64(v.magnitude);
}

// ---- decimals ----------------------------------------------------------------------------------

Status CheckDecimalFits(const Decimal& d, const std::string& shown, const ColumnType& type) {
  const uint32_t precision = type.precision.value_or(10);
  const uint32_t scale = type.scale.value_or(0);
  if (d.negative && type.is_unsigned()) return DoesNotFit(shown, type, "it is unsigned");
  if (d.integer.size() > precision - scale) {
    return DoesNotFit(
        shown, type,
        "at most " + std::to_string(precision - scale) + " digits before the decimal point");
  }
  if (d.fraction.size() > scale) {
    return DoesNotFit(shown, type, std::to_string(scale) + " digits after the decimal point");
  }
  return Status::Ok();
}

Result<Integer> DecimalToInteger(const Decimal& d, const std::string& shown,
                                 const ColumnType& type) {
  if (!d.fraction.empty()) return DoesNotFit(shown, type, "it has a fraction");
  Integer v{d.negative, 0};
  if (d.integer.empty()) return v;
  auto [end, error] =
      std::from_chars(d.integer.data(), d.integer.data() + d.integer.size(), v.magnitude);
  (void)end;
  if (error != std::errc()) return DoesNotFit(shown, type, "beyond 64 bits");
  return v;
}

Decimal IntegerToDecimal(const Integer& v) {
  return {v.negative && v.magnitude != 0, v.magnitude == 0 ? "" : std::to_string(v.magnitude), ""};
}

// ---- binary floats -----------------------------------------------------------------------------

// FLOAT(M,D) and DOUBLE(M,D) round to D decimals: the value's shortest text must fit.
Status CheckFloatScale(double v, const std::string& shown, const ColumnType& type) {
  if (!type.scale.has_value()) return Status::Ok();
  Result<Decimal> d = ParseDecimal(ShortestText(v));
  if (!d.ok()) return d.status();
  return CheckDecimalFits(*d, shown, type);
}

Result<Param> FloatParam(double v, const std::string& shown, const ColumnType& type,
                         TypeClass cls) {
  if (!std::isfinite(v)) {
    return NoEquivalent(shown, type, "MySQL and MariaDB have no NaN or infinity");
  }
  if (cls == TypeClass::kFloat && static_cast<double>(static_cast<float>(v)) != v) {
    return DoesNotFit(shown, type, "a 32-bit FLOAT would round it; use DOUBLE");
  }
  if (type.is_unsigned() && v < 0) return DoesNotFit(shown, type, "it is unsigned");
  FERRY_RETURN_IF_ERROR(CheckFloatScale(v, shown, type));
  // MySQL has no negative zero; -0 == 0 holds for IEEE doubles, so 0 is the same number.
  return Param::Double(v == 0 ? 0.0 : v);
}

Result<Param> IntegerToFloat(const Integer& v, const ColumnType& type, TypeClass cls) {
  const double magnitude = static_cast<double>(v.magnitude);
  // 2^64 itself is a double but no uint64: compare before converting back.
  const bool exact =
      magnitude < 18446744073709551616.0 && static_cast<uint64_t>(magnitude) == v.magnitude &&
      (cls != TypeClass::kFloat || static_cast<double>(static_cast<float>(magnitude)) == magnitude);
  if (!exact) return DoesNotFit(v.Text(), type, "a binary float would round it");
  return FloatParam(v.negative ? -magnitude : magnitude, v.Text(), type, cls);
}

// A decimal goes into a binary float when the float's shortest text is the same number, i.e.
// reading the value back prints what the source sent.
Result<Param> DecimalToFloat(const Decimal& d, const std::string& shown, const ColumnType& type,
                             TypeClass cls) {
  const std::string text = DecimalText(d);
  double v = 0;
  if (cls == TypeClass::kFloat) {
    float f = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), f);
    (void)end;
    if (error != std::errc() || ParseDecimal(ShortestText(f)).value() != d) {
      return DoesNotFit(shown, type, "a 32-bit FLOAT would round it");
    }
    v = f;
  } else {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
    (void)end;
    if (error != std::errc() || ParseDecimal(ShortestText(v)).value() != d) {
      return DoesNotFit(shown, type, "a DOUBLE would round it");
    }
  }
  return FloatParam(v, shown, type, cls);
}

Result<Integer> FloatToInteger(double v, const std::string& shown, const ColumnType& type) {
  if (!std::isfinite(v) || std::trunc(v) != v || std::fabs(v) >= 18446744073709551616.0) {
    return DoesNotFit(shown, type, "not an integer within 64 bits");
  }
  return Integer{v < 0, static_cast<uint64_t>(std::fabs(v))};
}

// ---- text --------------------------------------------------------------------------------------

Status CheckLength(std::string_view text, const ColumnType& type, TypeClass cls) {
  if (!type.max_length.has_value()) return Status::Ok();
  if (cls == TypeClass::kChar) {
    const size_t length = CodePoints(text);
    if (length <= *type.max_length) return Status::Ok();
    return DoesNotFit(Shown(text), type,
                      std::to_string(length) + " characters, the column holds " +
                          std::to_string(*type.max_length));
  }
  if ((cls == TypeClass::kText || cls == TypeClass::kBinary) && text.size() > *type.max_length) {
    return DoesNotFit(Shown(text), type,
                      std::to_string(text.size()) + " bytes, the column holds " +
                          std::to_string(*type.max_length));
  }
  return Status::Ok();
}

bool IsTextual(TypeClass cls) { return cls == TypeClass::kChar || cls == TypeClass::kText; }

Result<Param> TextParam(std::string text, const ColumnType& type, TypeClass cls) {
  FERRY_RETURN_IF_ERROR(CheckLength(text, type, cls));
  return Param::String(std::move(text));
}

// ENUM and SET members are checked here, case-sensitively: the server would accept 'HAPPY' for
// 'happy' under a case-insensitive collation (storing 'happy'), and reads a numeric string that
// is no member as a member's index.
Status CheckMembers(const std::string& value, const ColumnType& type, bool is_set) {
  const std::vector<std::string> members = TypeMembers(type.column_type);
  const std::set<std::string> allowed(members.begin(), members.end());
  std::vector<std::string> parts;
  if (!is_set) {
    parts.push_back(value);
  } else if (!value.empty()) {
    size_t start = 0;
    for (size_t comma = value.find(',');; comma = value.find(',', start)) {
      parts.push_back(value.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  for (const std::string& part : parts) {
    if (!allowed.contains(part)) {
      return DoesNotFit(Shown(value), type, Shown(part) + " is not one of its members");
    }
  }
  return Status::Ok();
}

Result<std::string> UuidBytes(const std::string& uuid) {
  std::string bytes;
  int high = -1;
  for (char c : uuid) {
    if (c == '-') continue;
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) return Status::Error("malformed uuid " + Shown(uuid));
    if (high < 0) {
      high = digit;
    } else {
      bytes.push_back(static_cast<char>(high << 4 | digit));
      high = -1;
    }
  }
  if (bytes.size() != 16 || high >= 0) return Status::Error("malformed uuid " + Shown(uuid));
  return bytes;
}

// ---- temporal values ---------------------------------------------------------------------------

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Status Malformed(const char* what, std::string_view text) {
  return Status::Error("malformed " + std::string(what) + " " + Shown(text) +
                       ": the change stream is malformed");
}

// The PostgreSQL values MySQL has no counterpart for.
Status CheckRepresentableDate(std::string_view text, const ColumnType& type) {
  if (text == "infinity" || text == "-infinity") {
    return NoEquivalent(Shown(text), type, "MySQL and MariaDB have no infinite dates");
  }
  if (text.ends_with(" BC")) {
    return NoEquivalent(Shown(text), type, "MySQL and MariaDB have no dates before year 1");
  }
  const size_t dash = text.find('-');
  if (dash != std::string_view::npos && dash > 4 && AllDigits(text.substr(0, dash))) {
    return NoEquivalent(Shown(text), type, "MySQL and MariaDB have no years after 9999");
  }
  return Status::Ok();
}

Status CheckDateShape(std::string_view date, std::string_view whole, const char* what) {
  const bool ok = date.size() == 10 && date[4] == '-' && date[7] == '-' &&
                  AllDigits(date.substr(0, 4)) && AllDigits(date.substr(5, 2)) &&
                  AllDigits(date.substr(8, 2));
  return ok ? Status::Ok() : Malformed(what, whole);
}

// Keeps `precision` fractional digits; the digits dropped must all be zero.
Result<std::string> FractionFor(std::string_view digits, const ColumnType& type,
                                std::string_view whole) {
  const uint32_t precision = type.datetime_precision.value_or(0);
  if (digits.size() > precision &&
      digits.substr(precision).find_first_not_of('0') != std::string_view::npos) {
    return DoesNotFit(Shown(whole), type,
                      "it keeps " + std::to_string(precision) + " fractional digits of a second");
  }
  return std::string(digits.substr(0, std::min<size_t>(precision, digits.size())));
}

// "HH:MM:SS[.f]" or, for TIME, "[-]H...:MM:SS[.f]"; returns the text with the fraction cut to
// the column's precision.
Result<std::string> ClockText(std::string_view clock, bool wide_hours, const ColumnType& type,
                              std::string_view whole, const char* what) {
  std::string_view rest = clock;
  const bool negative = wide_hours && rest.starts_with('-');
  if (negative) rest.remove_prefix(1);
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return Malformed(what, whole);
  const std::string_view hours = rest.substr(0, colon);
  rest.remove_prefix(colon + 1);
  std::string_view fraction;
  if (const size_t dot = rest.find('.'); dot != std::string_view::npos) {
    fraction = rest.substr(dot + 1);
    rest = rest.substr(0, dot);
    if (!AllDigits(fraction)) return Malformed(what, whole);
  }
  const bool shaped = AllDigits(hours) && (wide_hours ? hours.size() <= 4 : hours.size() == 2) &&
                      rest.size() == 5 && rest[2] == ':' && AllDigits(rest.substr(0, 2)) &&
                      AllDigits(rest.substr(3, 2)) && rest.substr(0, 2) < "60" &&
                      rest.substr(3, 2) < "60";
  if (!shaped) return Malformed(what, whole);
  Result<std::string> kept = FractionFor(fraction, type, whole);
  if (!kept.ok()) return kept.status();
  // TIME spans -838:59:59..838:59:59 (MariaDB allows .999999 at either end; MySQL refuses a
  // fraction there itself).
  if (wide_hours && std::stoi(std::string(hours)) > 838) {
    return DoesNotFit(Shown(whole), type, "TIME spans -838:59:59..838:59:59");
  }
  std::string out = (negative ? "-" : "") + std::string(hours) + ":" + std::string(rest);
  if (!kept->empty()) out += "." + *kept;
  return out;
}

// Splits off a UTC offset ("+00", "+00:00", "-0000", "Z"); a non-zero one is refused: the wire
// carries timestamps with time zone normalised to UTC, and a time of day cannot be moved across
// midnight without a date.
Result<std::string_view> StripUtcOffset(std::string_view text, const ColumnType& type,
                                        const char* what) {
  if (text.ends_with('Z')) return text.substr(0, text.size() - 1);
  const size_t sign = text.find_last_of("+-");
  if (sign == std::string_view::npos || sign < 8) return Malformed(what, text);
  const std::string_view offset = text.substr(sign + 1);
  for (char c : offset) {
    if (c != '0' && c != ':') {
      return DoesNotFit(Shown(text), type,
                        "only UTC (+00) offsets are written: the target type keeps no offset");
    }
  }
  if (offset.empty() || offset.find_first_not_of(':') == std::string_view::npos) {
    return Malformed(what, text);
  }
  return text.substr(0, sign);
}

Result<std::string> DateText(std::string_view text, const ColumnType& type) {
  FERRY_RETURN_IF_ERROR(CheckRepresentableDate(text, type));
  FERRY_RETURN_IF_ERROR(CheckDateShape(text, text, "date"));
  return std::string(text);
}

// "YYYY-MM-DD HH:MM:SS[.f]" (a 'T' separator is accepted), fraction cut to the precision.
Result<std::string> TimestampText(std::string_view text, std::string_view whole,
                                  const ColumnType& type) {
  FERRY_RETURN_IF_ERROR(CheckRepresentableDate(whole, type));
  if (text.size() < 19 || (text[10] != ' ' && text[10] != 'T')) {
    return Malformed("timestamp", whole);
  }
  FERRY_RETURN_IF_ERROR(CheckDateShape(text.substr(0, 10), whole, "timestamp"));
  Result<std::string> clock = ClockText(text.substr(11), false, type, whole, "timestamp");
  if (!clock.ok()) return clock.status();
  return std::string(text.substr(0, 10)) + " " + *clock;
}

// MySQL/MariaDB zero and partial dates ('0000-00-00', '2024-01-00') go to DATE and DATETIME as
// they are (the session's sql_mode allows them, as native replication writes them). A TIMESTAMP
// holds the zero TIMESTAMP but no partial date, whatever the sql_mode: refused here, with the
// value, rather than by the server. `text` is "YYYY-MM-DD HH:MM:SS[.f]", shape already checked.
Status CheckTimestampHolds(std::string_view text, std::string_view whole, const ColumnType& type) {
  const bool zero_month_or_day = text.substr(5, 2) == "00" || text.substr(8, 2) == "00";
  const bool zero_timestamp = text.find_first_not_of("0-: .") == std::string_view::npos;
  if (!zero_month_or_day || zero_timestamp) return Status::Ok();
  return DoesNotFit(Shown(whole), type,
                    "a TIMESTAMP holds the zero date 0000-00-00 00:00:00 but no partial dates");
}

Result<Param> TemporalParam(const wire::Value& value, const ColumnType& type, TypeClass cls) {
  switch (value.kind_case()) {
    case wire::Value::kDate: {
      Result<std::string> date = DateText(value.date(), type);
      if (!date.ok()) return date.status();
      if (cls == TypeClass::kDate) return Param::String(*date);
      if (cls == TypeClass::kDatetime || cls == TypeClass::kTimestamp) {
        const std::string midnight = *date + " 00:00:00";
        if (cls == TypeClass::kTimestamp) {
          FERRY_RETURN_IF_ERROR(CheckTimestampHolds(midnight, value.date(), type));
        }
        return Param::String(midnight);
      }
      break;
    }
    case wire::Value::kTime:
    case wire::Value::kTimeTz: {
      if (cls != TypeClass::kTime) break;
      std::string_view text = value.has_time() ? value.time() : value.time_tz();
      if (value.has_time_tz()) {
        Result<std::string_view> stripped = StripUtcOffset(text, type, "time with time zone");
        if (!stripped.ok()) return stripped.status();
        text = *stripped;
      }
      Result<std::string> clock = ClockText(text, true, type, text, "time");
      if (!clock.ok()) return clock.status();
      return Param::String(*clock);
    }
    case wire::Value::kTimestamp:
    case wire::Value::kTimestampTz: {
      const bool tz = value.has_timestamp_tz();
      const std::string& whole = tz ? value.timestamp_tz() : value.timestamp();
      std::string_view text = whole;
      if (tz) {
        FERRY_RETURN_IF_ERROR(CheckRepresentableDate(whole, type));
        Result<std::string_view> stripped = StripUtcOffset(text, type, "timestamp");
        if (!stripped.ok()) return stripped.status();
        text = *stripped;
      }
      if (cls == TypeClass::kDate) {
        ColumnType micro = type;
        micro.datetime_precision = 6;
        Result<std::string> full = TimestampText(text, whole, micro);
        if (!full.ok()) return full.status();
        if (full->find_first_not_of("0:.", 11) != std::string::npos) {
          return DoesNotFit(Shown(whole), type, "a DATE has no time of day");
        }
        return Param::String(full->substr(0, 10));
      }
      if (cls != TypeClass::kDatetime && cls != TypeClass::kTimestamp) break;
      Result<std::string> full = TimestampText(text, whole, type);
      if (!full.ok()) return full.status();
      if (cls == TypeClass::kTimestamp)
        FERRY_RETURN_IF_ERROR(CheckTimestampHolds(*full, whole, type));
      return Param::String(*full);
    }
    default:
      break;
  }
  return Mismatch(value, type);
}

const std::string* TextOf(const wire::Value& value) {
  switch (value.kind_case()) {
    case wire::Value::kText:
      return &value.text();
    case wire::Value::kJson:
      return &value.json();
    case wire::Value::kUuid:
      return &value.uuid();
    case wire::Value::kEnumValue:
      return &value.enum_value();
    case wire::Value::kSetValue:
      return &value.set_value();
    case wire::Value::kInterval:
      return &value.interval();
    case wire::Value::kOther:
      return &value.other();
    default:
      return nullptr;
  }
}

// Temporal kinds into text columns keep their wire text as it is.
const std::string* TemporalText(const wire::Value& value) {
  switch (value.kind_case()) {
    case wire::Value::kDate:
      return &value.date();
    case wire::Value::kTime:
      return &value.time();
    case wire::Value::kTimeTz:
      return &value.time_tz();
    case wire::Value::kTimestamp:
      return &value.timestamp();
    case wire::Value::kTimestampTz:
      return &value.timestamp_tz();
    default:
      return nullptr;
  }
}

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  const size_t start = i;
  const size_t integer = digits();
  if (integer == 0 || (integer > 1 && text[start] == '0')) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

// ---- JSON --------------------------------------------------------------------------------------

std::string ByteaHex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char byte : bytes) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0x0f]);
  }
  return out;
}

Status AppendJsonValue(const wire::Value& value, std::string* out) {
  switch (value.kind_case()) {
    case wire::Value::kNull:
      out->append("null");
      return Status::Ok();
    case wire::Value::kBoolean:
      out->append(value.boolean() ? "true" : "false");
      return Status::Ok();
    case wire::Value::kInt64:
      out->append(std::to_string(value.int64()));
      return Status::Ok();
    case wire::Value::kUint64:
      out->append(std::to_string(value.uint64()));
      return Status::Ok();
    case wire::Value::kDecimal:
      // NaN becomes a string, as PostgreSQL's to_json writes it.
      if (IsJsonNumber(value.decimal())) {
        out->append(value.decimal());
      } else if (Result<Decimal> d = ParseDecimal(value.decimal()); d.ok()) {
        out->append(DecimalText(*d));
      } else {
        AppendJsonString(value.decimal(), out);
      }
      return Status::Ok();
    case wire::Value::kFloat64:
      if (std::isfinite(value.float64())) {
        out->append(ShortestText(value.float64()));
      } else {
        AppendJsonString(std::isnan(value.float64()) ? "NaN"
                         : value.float64() > 0       ? "Infinity"
                                                     : "-Infinity",
                         out);
      }
      return Status::Ok();
    case wire::Value::kJson:
      out->append(value.json());
      return Status::Ok();
    case wire::Value::kBytes:
      AppendJsonString(ByteaHex(value.bytes()), out);
      return Status::Ok();
    case wire::Value::kArray: {
      Result<std::string> nested = ArrayJson(value.array());
      if (!nested.ok()) return nested.status();
      out->append(*nested);
      return Status::Ok();
    }
    case wire::Value::kUnchanged:
    case wire::Value::KIND_NOT_SET:
      return Status::Error("array element has no value: the change record is malformed");
    default:
      break;
  }
  // Every other kind carries its value as text.
  const std::string* text = TextOf(value);
  if (text == nullptr) text = TemporalText(value);
  if (text == nullptr && value.has_bits()) text = &value.bits();
  if (text == nullptr) return Status::Error("array element of unknown kind");
  AppendJsonString(*text, out);
  return Status::Ok();
}

// ---- one function per wire kind ---------------------------------------------------------------

Result<Param> FromInteger(const Integer& v, const ColumnType& type, TypeClass cls,
                          const wire::Value& value) {
  switch (cls) {
    case TypeClass::kInteger:
      return IntegerParam(v, type);
    case TypeClass::kYear:
      return YearParam(v, type);
    case TypeClass::kBit:
      return BitParam(v, type);
    case TypeClass::kDecimal: {
      const Decimal d = IntegerToDecimal(v);
      FERRY_RETURN_IF_ERROR(CheckDecimalFits(d, v.Text(), type));
      return Param::String(DecimalText(d));
    }
    case TypeClass::kFloat:
    case TypeClass::kDouble:
      return IntegerToFloat(v, type, cls);
    case TypeClass::kChar:
    case TypeClass::kText:
      return TextParam(v.Text(), type, cls);
    default:
      return Mismatch(value, type);
  }
}

Result<Param> FromDecimal(const wire::Value& value, const ColumnType& type, TypeClass cls) {
  const std::string& text = value.decimal();
  if (IsTextual(cls)) return TextParam(text, type, cls);
  Result<Decimal> d = ParseDecimal(text);
  if (!d.ok()) {
    const bool numeric = cls == TypeClass::kDecimal || cls == TypeClass::kInteger ||
                         cls == TypeClass::kFloat || cls == TypeClass::kDouble ||
                         cls == TypeClass::kYear || cls == TypeClass::kBit;
    if (!numeric) return Mismatch(value, type);
    if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
      return NoEquivalent(text, type, "MySQL and MariaDB numbers have no NaN or infinity");
    }
    return d.status().WithContext("the change stream is malformed");
  }
  switch (cls) {
    case TypeClass::kDecimal:
      FERRY_RETURN_IF_ERROR(CheckDecimalFits(*d, text, type));
      return Param::String(DecimalText(*d));
    case TypeClass::kFloat:
    case TypeClass::kDouble:
      return DecimalToFloat(*d, text, type, cls);
    case TypeClass::kInteger:
    case TypeClass::kYear:
    case TypeClass::kBit: {
      Result<Integer> v = DecimalToInteger(*d, text, type);
      if (!v.ok()) return v.status();
      return FromInteger(*v, type, cls, value);
    }
    default:
      return Mismatch(value, type);
  }
}

Result<Param> FromFloat(const wire::Value& value, const ColumnType& type, TypeClass cls) {
  const double v = value.float64();
  const std::string shown = std::isfinite(v) ? ShortestText(v)
                            : std::isnan(v)  ? "NaN"
                            : v > 0          ? "Infinity"
                                             : "-Infinity";
  switch (cls) {
    case TypeClass::kFloat:
    case TypeClass::kDouble:
      return FloatParam(v, shown, type, cls);
    case TypeClass::kChar:
    case TypeClass::kText:
      return TextParam(shown, type, cls);
    default:
      break;
  }
  if (!std::isfinite(v)) {
    return NoEquivalent(shown, type, "MySQL and MariaDB have no NaN or infinity");
  }
  if (cls == TypeClass::kDecimal) {
    Result<Decimal> d = ParseDecimal(shown);
    if (!d.ok()) return d.status();
    FERRY_RETURN_IF_ERROR(CheckDecimalFits(*d, shown, type));
    return Param::String(DecimalText(*d));
  }
  if (cls == TypeClass::kInteger || cls == TypeClass::kYear || cls == TypeClass::kBit) {
    Result<Integer> integer = FloatToInteger(v, shown, type);
    if (!integer.ok()) return integer.status();
    return FromInteger(*integer, type, cls, value);
  }
  return Mismatch(value, type);
}

Result<Param> FromBool(const wire::Value& value, const ColumnType& type, TypeClass cls) {
  if (IsTextual(cls)) return TextParam(value.boolean() ? "true" : "false", type, cls);
  if (cls == TypeClass::kInteger || cls == TypeClass::kBit || cls == TypeClass::kDecimal) {
    return FromInteger(Integer{false, value.boolean() ? 1u : 0u}, type, cls, value);
  }
  return Mismatch(value, type);
}

Result<Param> FromBits(const wire::Value& value, const ColumnType& type, TypeClass cls) {
  const std::string& bits = value.bits();
  if (IsTextual(cls)) return TextParam(bits, type, cls);
  if (cls != TypeClass::kBit && cls != TypeClass::kInteger) return Mismatch(value, type);
  if (bits.empty() || bits.find_first_not_of("01") != std::string::npos) {
    return Malformed("bit string", bits);
  }
  const size_t first_one = bits.find('1');
  const size_t significant = first_one == std::string::npos ? 0 : bits.size() - first_one;
  if (significant > 64) return DoesNotFit(Shown(bits), type, "more than 64 significant bits");
  Integer v;
  for (size_t i = bits.size() - significant; i < bits.size(); ++i) {
    v.magnitude = v.magnitude << 1 | (bits[i] == '1' ? 1 : 0);
  }
  if (cls == TypeClass::kBit) return BitParam(v, type);
  return IntegerParam(v, type);
}

// text, json, uuid, enum, set, interval and other: kinds that carry text.
Result<Param> FromTextual(const wire::Value& value, const std::string& text, const ColumnType& type,
                          TypeClass cls) {
  const auto kind = value.kind_case();
  const bool plain = kind == wire::Value::kText || kind == wire::Value::kOther;
  switch (cls) {
    case TypeClass::kChar:
    case TypeClass::kText:
      return TextParam(text, type, cls);
    case TypeClass::kJson:
      if (plain || kind == wire::Value::kJson) return Param::String(text);
      break;
    case TypeClass::kParsed:
      if (plain || kind == wire::Value::kUuid) return Param::String(text);
      break;
    case TypeClass::kEnum:
    case TypeClass::kSet: {
      const bool is_set = cls == TypeClass::kSet;
      const bool fits_kind = kind == wire::Value::kText ||
                             kind == (is_set ? wire::Value::kSetValue : wire::Value::kEnumValue);
      if (!fits_kind) break;
      FERRY_RETURN_IF_ERROR(CheckMembers(text, type, is_set));
      return Param::String(text);
    }
    case TypeClass::kBinary:
      if (kind == wire::Value::kUuid && type.max_length == 16u) {
        Result<std::string> bytes = UuidBytes(text);
        if (!bytes.ok()) return bytes.status();
        return Param::Bytes(std::move(bytes).value());
      }
      if (kind == wire::Value::kText || kind == wire::Value::kUuid) {
        FERRY_RETURN_IF_ERROR(CheckLength(text, type, cls));
        return Param::Bytes(text);
      }
      break;
    default:
      break;
  }
  return Mismatch(value, type);
}

}  // namespace

// ---- public ------------------------------------------------------------------------------------

bool ColumnType::is_unsigned() const { return column_type.find(" unsigned") != std::string::npos; }

// Compared as string_views: a name of another length is passed over without reading it.
TypeClass ClassOf(const ColumnType& type) {
  static constexpr std::pair<std::string_view, TypeClass> kClasses[] = {
      {"tinyint", TypeClass::kInteger},   {"smallint", TypeClass::kInteger},
      {"mediumint", TypeClass::kInteger}, {"int", TypeClass::kInteger},
      {"integer", TypeClass::kInteger},   {"bigint", TypeClass::kInteger},
      {"bit", TypeClass::kBit},           {"year", TypeClass::kYear},
      {"decimal", TypeClass::kDecimal},   {"numeric", TypeClass::kDecimal},
      {"float", TypeClass::kFloat},       {"double", TypeClass::kDouble},
      {"real", TypeClass::kDouble},       {"double precision", TypeClass::kDouble},
      {"char", TypeClass::kChar},         {"varchar", TypeClass::kChar},
      {"tinytext", TypeClass::kText},     {"text", TypeClass::kText},
      {"mediumtext", TypeClass::kText},   {"longtext", TypeClass::kText},
      {"binary", TypeClass::kBinary},     {"varbinary", TypeClass::kBinary},
      {"tinyblob", TypeClass::kBinary},   {"blob", TypeClass::kBinary},
      {"mediumblob", TypeClass::kBinary}, {"longblob", TypeClass::kBinary},
      {"date", TypeClass::kDate},         {"time", TypeClass::kTime},
      {"datetime", TypeClass::kDatetime}, {"timestamp", TypeClass::kTimestamp},
      {"json", TypeClass::kJson},         {"enum", TypeClass::kEnum},
      {"set", TypeClass::kSet},           {"uuid", TypeClass::kParsed},
      {"inet4", TypeClass::kParsed},      {"inet6", TypeClass::kParsed},
  };
  for (const auto& [name, cls] : kClasses) {
    if (type.data_type == name) return cls;
  }
  return TypeClass::kUnsupported;
}

std::string DebugString(const Param& param) {
  switch (param.kind) {
    case Param::Kind::kNull:
      return "NULL";
    case Param::Kind::kInt64:
      return std::to_string(param.int64);
    case Param::Kind::kUInt64:
      return std::to_string(param.uint64);
    case Param::Kind::kDouble:
      return ShortestText(param.float64);
    case Param::Kind::kString:
      return "'" + param.text + "'";
    case Param::Kind::kBytes: {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string out = "x'";
      for (unsigned char byte : param.text) {
        out.push_back(kHex[byte >> 4]);
        out.push_back(kHex[byte & 0x0f]);
      }
      return out + "'";
    }
  }
  return "?";
}

Result<Param> ToParam(const wire::Value& value, const ColumnType& type) {
  return ToParam(value, type, ClassOf(type));
}

Result<Param> ToParam(const wire::Value& value, const ColumnType& type, TypeClass cls) {
  switch (value.kind_case()) {
    case wire::Value::kNull:
      return Param::Null();
    case wire::Value::kUnchanged:
      return Status::Error(
          "an unchanged (TOAST) value cannot be written: only whole columns may be unchanged, "
          "and those are left out of the statement");
    case wire::Value::KIND_NOT_SET:
      return Status::Error("value has no kind: the change record is malformed");
    default:
      break;
  }
  if (cls == TypeClass::kUnsupported) {
    return Status::Error("target column type " + type.column_type +
                         " is not supported by Ferry: change it, or exclude the column in the "
                         "mapping");
  }
  if (const std::string* text = TemporalText(value); text != nullptr && IsTextual(cls)) {
    return TextParam(*text, type, cls);
  }
  switch (value.kind_case()) {
    case wire::Value::kInt64:
      return FromInteger(FromInt64(value.int64()), type, cls, value);
    case wire::Value::kUint64:
      return FromInteger(Integer{false, value.uint64()}, type, cls, value);
    case wire::Value::kBoolean:
      return FromBool(value, type, cls);
    case wire::Value::kDecimal:
      return FromDecimal(value, type, cls);
    case wire::Value::kFloat64:
      return FromFloat(value, type, cls);
    case wire::Value::kBits:
      return FromBits(value, type, cls);
    case wire::Value::kBytes:
      if (cls != TypeClass::kBinary) return Mismatch(value, type);
      FERRY_RETURN_IF_ERROR(CheckLength(value.bytes(), type, cls));
      return Param::Bytes(value.bytes());
    case wire::Value::kArray: {
      if (!IsTextual(cls) && cls != TypeClass::kJson) return Mismatch(value, type);
      Result<std::string> json = ArrayJson(value.array());
      if (!json.ok()) return json.status();
      if (cls == TypeClass::kJson) return Param::String(std::move(json).value());
      return TextParam(std::move(json).value(), type, cls);
    }
    case wire::Value::kInterval:
      if (!IsTextual(cls)) return Mismatch(value, type);
      return TextParam(value.interval(), type, cls);
    default:
      break;
  }
  if (TemporalText(value) != nullptr) return TemporalParam(value, type, cls);
  if (const std::string* text = TextOf(value)) return FromTextual(value, *text, type, cls);
  return Mismatch(value, type);
}

Result<Decimal> ParseDecimal(std::string_view text) {
  const std::string_view whole = text;
  auto malformed = [&] { return Status::Error("not a decimal number: " + Shown(whole)); };
  Decimal d;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    d.negative = text[0] == '-';
    text.remove_prefix(1);
  }
  long exponent = 0;
  if (const size_t e = text.find_first_of("eE"); e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    const bool minus = digits.starts_with('-');
    if (digits.starts_with('-') || digits.starts_with('+')) digits.remove_prefix(1);
    // No MySQL type holds more than 65 digits; a longer exponent is out of any range anyway.
    if (!AllDigits(digits) || digits.size() > 5) return malformed();
    exponent = std::stol(std::string(digits)) * (minus ? -1 : 1);
    text = text.substr(0, e);
  }
  std::string_view integer = text;
  std::string_view fraction;
  if (const size_t dot = text.find('.'); dot != std::string_view::npos) {
    integer = text.substr(0, dot);
    fraction = text.substr(dot + 1);
  }
  if ((integer.empty() && fraction.empty()) || (!integer.empty() && !AllDigits(integer)) ||
      (!fraction.empty() && !AllDigits(fraction))) {
    return malformed();
  }
  // Moves the decimal point by the exponent over the digits.
  std::string digits = std::string(integer) + std::string(fraction);
  long point = static_cast<long>(integer.size()) + exponent;
  if (point < 0) {
    digits.insert(0, static_cast<size_t>(-point), '0');
    point = 0;
  } else if (point > static_cast<long>(digits.size())) {
    digits.append(static_cast<size_t>(point) - digits.size(), '0');
  }
  d.integer = digits.substr(0, static_cast<size_t>(point));
  d.fraction = digits.substr(static_cast<size_t>(point));
  d.integer.erase(0, std::min(d.integer.find_first_not_of('0'), d.integer.size()));
  const size_t last = d.fraction.find_last_not_of('0');
  d.fraction.erase(last == std::string::npos ? 0 : last + 1);
  if (d.integer.empty() && d.fraction.empty()) d.negative = false;
  return d;
}

std::string DecimalText(const Decimal& decimal) {
  std::string out = decimal.negative ? "-" : "";
  out += decimal.integer.empty() ? "0" : decimal.integer;
  if (!decimal.fraction.empty()) out += "." + decimal.fraction;
  return out;
}

std::string ShortestText(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)error;  // 64 bytes always suffice
  return std::string(buffer, end);
}

std::string ShortestText(float value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)error;
  return std::string(buffer, end);
}

size_t CodePoints(std::string_view utf8) {
  size_t count = 0;
  for (char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::vector<std::string> TypeMembers(const std::string& column_type) {
  std::vector<std::string> members;
  const size_t open = column_type.find('(');
  if (open == std::string::npos) return members;
  std::string current;
  bool quoted = false;
  for (size_t i = open + 1; i < column_type.size(); ++i) {
    const char c = column_type[i];
    if (!quoted) {
      if (c == '\'') quoted = true;
      if (c == ')') break;
      continue;
    }
    if (c == '\'' && i + 1 < column_type.size() && column_type[i + 1] == '\'') {
      current.push_back('\'');  // '' inside a member is one quote
      ++i;
    } else if (c == '\'') {
      members.push_back(std::move(current));
      current.clear();
      quoted = false;
    } else {
      current.push_back(c);
    }
  }
  return members;
}

Result<std::string> ArrayJson(const wire::ArrayValue& array) {
  std::string out = "[";
  for (int i = 0; i < array.elements_size(); ++i) {
    if (i > 0) out.append(", ");
    Status appended = AppendJsonValue(array.elements(i), &out);
    if (!appended.ok()) return appended.WithContext("array element " + std::to_string(i + 1));
  }
  out.push_back(']');
  return out;
}

}  // namespace ferry::apply::mysql
