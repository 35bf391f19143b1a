#include "capture/postgres/pg_values.h"

#include <array>
#include <charconv>
#include <limits>
#include <system_error>

namespace ferry::capture::postgres {
namespace {

using wire::LogicalType;

// Built-in type OIDs (pg_type.dat; stable across PostgreSQL versions).
enum Oid : uint32_t {
  kBool = 16,
  kBytea = 17,
  kChar = 18,
  kName = 19,
  kInt8 = 20,
  kInt2 = 21,
  kInt4 = 23,
  kText = 25,
  kOid = 26,
  kJson = 114,
  kXml = 142,
  kFloat4 = 700,
  kFloat8 = 701,
  kBox = 603,
  kBpchar = 1042,
  kVarchar = 1043,
  kDate = 1082,
  kTime = 1083,
  kTimestamp = 1114,
  kTimestamptz = 1184,
  kInterval = 1186,
  kTimetz = 1266,
  kBit = 1560,
  kVarbit = 1562,
  kNumeric = 1700,
  kUuid = 2950,
  kJsonb = 3802,
};

struct PgType {
  uint32_t oid;
  uint32_t array_oid;
  const char* name;
  LogicalType type;
};

// Every built-in type a user table is likely to hold. Types Ferry has no neutral form for are
// listed as OTHER so that at least their name travels (a PostgreSQL target can recreate them).
constexpr auto kTypes = std::to_array<PgType>({
    {kBool, 1000, "bool", wire::LOGICAL_TYPE_BOOL},
    {kBytea, 1001, "bytea", wire::LOGICAL_TYPE_BYTES},
    {kChar, 1002, "char", wire::LOGICAL_TYPE_TEXT},
    {kName, 1003, "name", wire::LOGICAL_TYPE_TEXT},
    {kInt8, 1016, "int8", wire::LOGICAL_TYPE_INT},
    {kInt2, 1005, "int2", wire::LOGICAL_TYPE_INT},
    {kInt4, 1007, "int4", wire::LOGICAL_TYPE_INT},
    {kText, 1009, "text", wire::LOGICAL_TYPE_TEXT},
    {kOid, 1028, "oid", wire::LOGICAL_TYPE_INT},
    {kJson, 199, "json", wire::LOGICAL_TYPE_JSON},
    {kXml, 143, "xml", wire::LOGICAL_TYPE_TEXT},
    {kFloat4, 1021, "float4", wire::LOGICAL_TYPE_FLOAT},
    {kFloat8, 1022, "float8", wire::LOGICAL_TYPE_FLOAT},
    {kBpchar, 1014, "bpchar", wire::LOGICAL_TYPE_TEXT},
    {kVarchar, 1015, "varchar", wire::LOGICAL_TYPE_TEXT},
    {kDate, 1182, "date", wire::LOGICAL_TYPE_DATE},
    {kTime, 1183, "time", wire::LOGICAL_TYPE_TIME},
    {kTimestamp, 1115, "timestamp", wire::LOGICAL_TYPE_TIMESTAMP},
    {kTimestamptz, 1185, "timestamptz", wire::LOGICAL_TYPE_TIMESTAMP_TZ},
    {kInterval, 1187, "interval", wire::LOGICAL_TYPE_INTERVAL},
    {kTimetz, 1270, "timetz", wire::LOGICAL_TYPE_TIME_TZ},
    {kBit, 1561, "bit", wire::LOGICAL_TYPE_BIT},
    {kVarbit, 1563, "varbit", wire::LOGICAL_TYPE_BIT},
    {kNumeric, 1231, "numeric", wire::LOGICAL_TYPE_DECIMAL},
    {kUuid, 2951, "uuid", wire::LOGICAL_TYPE_UUID},
    {kJsonb, 3807, "jsonb", wire::LOGICAL_TYPE_JSON},
    // Known by name only: values travel as Value.other.
    {22, 1006, "int2vector", wire::LOGICAL_TYPE_OTHER},
    {24, 1008, "regproc", wire::LOGICAL_TYPE_OTHER},
    {27, 1010, "tid", wire::LOGICAL_TYPE_OTHER},
    {28, 1011, "xid", wire::LOGICAL_TYPE_OTHER},
    {29, 1012, "cid", wire::LOGICAL_TYPE_OTHER},
    {30, 1013, "oidvector", wire::LOGICAL_TYPE_OTHER},
    {600, 1017, "point", wire::LOGICAL_TYPE_OTHER},
    {601, 1018, "lseg", wire::LOGICAL_TYPE_OTHER},
    {602, 1019, "path", wire::LOGICAL_TYPE_OTHER},
    {kBox, 1020, "box", wire::LOGICAL_TYPE_OTHER},
    {604, 1027, "polygon", wire::LOGICAL_TYPE_OTHER},
    {628, 629, "line", wire::LOGICAL_TYPE_OTHER},
    {650, 651, "cidr", wire::LOGICAL_TYPE_OTHER},
    {718, 719, "circle", wire::LOGICAL_TYPE_OTHER},
    {774, 775, "macaddr8", wire::LOGICAL_TYPE_OTHER},
    {790, 791, "money", wire::LOGICAL_TYPE_OTHER},
    {829, 1040, "macaddr", wire::LOGICAL_TYPE_OTHER},
    {869, 1041, "inet", wire::LOGICAL_TYPE_OTHER},
    {1790, 2201, "refcursor", wire::LOGICAL_TYPE_OTHER},
    {2205, 2210, "regclass", wire::LOGICAL_TYPE_OTHER},
    {2206, 2211, "regtype", wire::LOGICAL_TYPE_OTHER},
    {3220, 3221, "pg_lsn", wire::LOGICAL_TYPE_OTHER},
    {3614, 3643, "tsvector", wire::LOGICAL_TYPE_OTHER},
    {3615, 3645, "tsquery", wire::LOGICAL_TYPE_OTHER},
    {3904, 3905, "int4range", wire::LOGICAL_TYPE_OTHER},
    {3906, 3907, "numrange", wire::LOGICAL_TYPE_OTHER},
    {3908, 3909, "tsrange", wire::LOGICAL_TYPE_OTHER},
    {3910, 3911, "tstzrange", wire::LOGICAL_TYPE_OTHER},
    {3912, 3913, "daterange", wire::LOGICAL_TYPE_OTHER},
    {3926, 3927, "int8range", wire::LOGICAL_TYPE_OTHER},
    {4072, 4073, "jsonpath", wire::LOGICAL_TYPE_OTHER},
    {4089, 4090, "regnamespace", wire::LOGICAL_TYPE_OTHER},
    {4096, 4097, "regrole", wire::LOGICAL_TYPE_OTHER},
    {5069, 271, "xid8", wire::LOGICAL_TYPE_OTHER},
});

const PgType* FindScalar(uint32_t oid) {
  for (const PgType& t : kTypes) {
    if (t.oid == oid) return &t;
  }
  return nullptr;
}

const PgType* FindArrayElement(uint32_t array_oid) {
  for (const PgType& t : kTypes) {
    if (t.array_oid == array_oid) return &t;
  }
  return nullptr;
}

// ---- type names -------------------------------------------------------------------------------

constexpr int32_t kVarHdrSz = 4;  // PostgreSQL's VARHDRSZ, folded into some typmods

std::string NumericModifier(int32_t typmod) {
  if (typmod < kVarHdrSz) return "";
  const int32_t packed = typmod - kVarHdrSz;
  const int32_t precision = (packed >> 16) & 0xffff;
  // PostgreSQL 15 allows a negative scale: 11 bits, sign-extended.
  const int32_t scale = ((packed & 0x7ff) ^ 1024) - 1024;
  return "(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
}

std::string IntervalModifier(int32_t typmod) {
  if (typmod < 0) return "";
  // Field bits from PostgreSQL's datetime.h.
  constexpr int32_t kMonth = 1 << 1, kYear = 1 << 2, kDay = 1 << 3, kHour = 1 << 10,
                    kMinute = 1 << 11, kSecond = 1 << 12, kFullRange = 0x7fff,
                    kFullPrecision = 0xffff;
  const int32_t range = (typmod >> 16) & 0x7fff;
  const int32_t precision = typmod & 0xffff;
  std::string fields;
  switch (range) {
    case kYear:
      fields = " year";
      break;
    case kMonth:
      fields = " month";
      break;
    case kDay:
      fields = " day";
      break;
    case kHour:
      fields = " hour";
      break;
    case kMinute:
      fields = " minute";
      break;
    case kSecond:
      fields = " second";
      break;
    case kYear | kMonth:
      fields = " year to month";
      break;
    case kDay | kHour:
      fields = " day to hour";
      break;
    case kDay | kHour | kMinute:
      fields = " day to minute";
      break;
    case kDay | kHour | kMinute | kSecond:
      fields = " day to second";
      break;
    case kHour | kMinute:
      fields = " hour to minute";
      break;
    case kHour | kMinute | kSecond:
      fields = " hour to second";
      break;
    case kMinute | kSecond:
      fields = " minute to second";
      break;
    case kFullRange:
      break;
    default:
      break;
  }
  if (precision != kFullPrecision) fields += "(" + std::to_string(precision) + ")";
  return fields;
}

std::string TypeModifier(uint32_t oid, int32_t typmod) {
  switch (oid) {
    case kNumeric:
      return NumericModifier(typmod);
    case kVarchar:
    case kBpchar:
      return typmod >= kVarHdrSz ? "(" + std::to_string(typmod - kVarHdrSz) + ")" : "";
    case kBit:
    case kVarbit:
    case kTime:
    case kTimetz:
    case kTimestamp:
    case kTimestamptz:
      // These keep the length or fractional-second precision as is.
      return typmod >= 0 ? "(" + std::to_string(typmod) + ")" : "";
    case kInterval:
      return IntervalModifier(typmod);
    default:
      return "";
  }
}

// ---- values -----------------------------------------------------------------------------------

// Quotes a value for an error message, cut short so a huge value does not flood the log.
std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 64;
  if (text.size() <= kMax) return "\"" + std::string(text) + "\"";
  return "\"" + std::string(text.substr(0, kMax)) + "...\" (" + std::to_string(text.size()) +
         " bytes)";
}

Status Invalid(std::string_view type_name, std::string_view text, std::string_view why = "") {
  std::string message = "invalid " + std::string(type_name) + " value " + Quoted(text);
  if (!why.empty()) message += ": " + std::string(why);
  return Status::Error(std::move(message));
}

Result<wire::Value> ParseBool(std::string_view text) {
  wire::Value v;
  if (text == "t") {
    v.set_boolean(true);
  } else if (text == "f") {
    v.set_boolean(false);
  } else {
    return Invalid("bool", text, "expected \"t\" or \"f\"");
  }
  return v;
}

Result<wire::Value> ParseInt(const PgType& type, std::string_view text) {
  int64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return Invalid(type.name, text, ec == std::errc::result_out_of_range ? "out of range" : "");
  }
  int64_t min = std::numeric_limits<int64_t>::min(), max = std::numeric_limits<int64_t>::max();
  if (type.oid == kInt2) min = INT16_MIN, max = INT16_MAX;
  if (type.oid == kInt4) min = INT32_MIN, max = INT32_MAX;
  if (type.oid == kOid) min = 0, max = UINT32_MAX;
  if (n < min || n > max) return Invalid(type.name, text, "out of range");
  wire::Value v;
  v.set_int64(n);
  return v;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// numeric_out writes [-]digits[.digits], or NaN / Infinity / -Infinity; nothing else.
Result<wire::Value> ParseNumeric(std::string_view text) {
  bool valid = text == "NaN" || text == "Infinity" || text == "-Infinity";
  if (!valid) {
    std::string_view body = text;
    if (!body.empty() && body.front() == '-') body.remove_prefix(1);
    const size_t dot = body.find('.');
    valid = dot == std::string_view::npos
                ? IsDigits(body)
                : IsDigits(body.substr(0, dot)) && IsDigits(body.substr(dot + 1));
  }
  if (!valid) return Invalid("numeric", text);
  wire::Value v;
  v.set_decimal(std::string(text));
  return v;
}

// A float4 is parsed as a float and widened, so the double holds exactly the value the source
// stored (parsing its shortest text as a double would give a different number).
Result<wire::Value> ParseFloat(const PgType& type, std::string_view text) {
  double d = 0;
  if (text == "NaN") {
    d = std::numeric_limits<double>::quiet_NaN();
  } else if (text == "Infinity") {
    d = std::numeric_limits<double>::infinity();
  } else if (text == "-Infinity") {
    d = -std::numeric_limits<double>::infinity();
  } else {
    const char* end = text.data() + text.size();
    std::from_chars_result r;
    if (type.oid == kFloat4) {
      float f = 0;
      r = std::from_chars(text.data(), end, f);
      d = f;
    } else {
      r = std::from_chars(text.data(), end, d);
    }
    if (text.empty() || r.ec != std::errc() || r.ptr != end) {
      return Invalid(type.name, text, r.ec == std::errc::result_out_of_range ? "out of range" : "");
    }
  }
  wire::Value v;
  v.set_float64(d);
  return v;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// bytea_output = hex: "\x0aff"; the older escape format is accepted too, in case a server
// forces it.
Result<wire::Value> ParseBytea(std::string_view text) {
  std::string bytes;
  if (text.starts_with("\\x")) {
    std::string_view hex = text.substr(2);
    if (hex.size() % 2 != 0) return Invalid("bytea", text, "odd number of hex digits");
    bytes.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
      const int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
      if (hi < 0 || lo < 0) return Invalid("bytea", text, "bad hex digit");
      bytes.push_back(static_cast<char>(hi * 16 + lo));
    }
  } else {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\') {
        bytes.push_back(text[i]);
      } else if (i + 1 < text.size() && text[i + 1] == '\\') {
        bytes.push_back('\\');
        ++i;
      } else if (i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
                 IsOctal(text[i + 2]) && IsOctal(text[i + 3])) {
        bytes.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                          (text[i + 3] - '0')));
        i += 3;
      } else {
        return Invalid("bytea", text, "bad escape sequence");
      }
    }
  }
  wire::Value v;
  v.set_bytes(std::move(bytes));
  return v;
}

Result<wire::Value> ParseBits(const PgType& type, std::string_view text) {
  for (char c : text) {
    if (c != '0' && c != '1') return Invalid(type.name, text, "expected only 0 and 1");
  }
  wire::Value v;
  v.set_bits(std::string(text));
  return v;
}

// ---- arrays -----------------------------------------------------------------------------------

// A recursive-descent parser for array_out's syntax: {a,"b c",NULL,{nested}}.
class ArrayParser {
 public:
  ArrayParser(std::string_view text, const PgType& element, char delimiter)
      : text_(text), element_(element), delimiter_(delimiter) {}

  Result<wire::Value> Parse() {
    SkipSpace();
    if (!Consume('{')) return Error("expected '{'");
    wire::Value array;
    FERRY_RETURN_IF_ERROR(ParseLevel(1, *array.mutable_array()));
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the closing '}'");
    return array;
  }

 private:
  static constexpr int kMaxDimensions = 6;  // PostgreSQL's MAXDIM

  // Parses the elements after an opening brace, up to and including the closing one.
  Status ParseLevel(int depth, wire::ArrayValue& out) {
    if (depth > kMaxDimensions) return Error("more than 6 dimensions");
    SkipSpace();
    if (Consume('}')) return Status::Ok();
    bool nested = false;
    for (size_t index = 0;; ++index) {
      SkipSpace();
      const bool is_sub_array = Consume('{');
      if (index == 0) nested = is_sub_array;
      if (is_sub_array != nested) return Error("mixes sub-arrays and scalars");
      if (is_sub_array) {
        FERRY_RETURN_IF_ERROR(ParseLevel(depth + 1, *out.add_elements()->mutable_array()));
      } else {
        FERRY_RETURN_IF_ERROR(ParseScalar(*out.add_elements()));
      }
      SkipSpace();
      if (Consume('}')) return Status::Ok();
      if (!Consume(delimiter_)) return Error("expected a delimiter or '}'");
    }
  }

  Status ParseScalar(wire::Value& out) {
    std::string element;
    bool quoted = false;
    if (Consume('"')) {
      quoted = true;
      for (;;) {
        if (pos_ >= text_.size()) return Error("unterminated quoted element");
        char c = text_[pos_++];
        if (c == '"') break;
        if (c == '\\') {
          if (pos_ >= text_.size()) return Error("backslash at end of text");
          c = text_[pos_++];
        }
        element.push_back(c);
      }
    } else {
      // Unquoted: up to the delimiter or '}'; backslash escapes and trailing spaces as array_in.
      size_t kept = 0;  // length without trailing unescaped whitespace
      while (pos_ < text_.size() && text_[pos_] != delimiter_ && text_[pos_] != '}') {
        char c = text_[pos_++];
        if (c == '{' || c == '"') return Error("unexpected character in unquoted element");
        if (c == '\\') {
          if (pos_ >= text_.size()) return Error("backslash at end of text");
          element.push_back(text_[pos_++]);
          kept = element.size();
          quoted = true;  // an escaped NULL is the string "NULL"
          continue;
        }
        element.push_back(c);
        if (!IsSpace(c)) kept = element.size();
      }
      element.resize(kept);
      if (element.empty()) return Error("empty unquoted element");
    }
    if (!quoted && EqualsNullIgnoringCase(element)) {
      out.mutable_null();
      return Status::Ok();
    }
    Result<wire::Value> value = PgTextToValue(element_.oid, element);
    if (!value.ok()) return Error("bad element (" + value.message() + ")");
    out = std::move(value).value();
    return Status::Ok();
  }

  static bool IsSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  }
  static bool EqualsNullIgnoringCase(std::string_view s) {
    if (s.size() != 4) return false;
    for (size_t i = 0; i < 4; ++i) {
      if ((s[i] | 0x20) != "null"[i]) return false;
    }
    return true;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string ArrayTypeName() const { return std::string(element_.name) + "[]"; }
  Status Error(std::string_view why) const {
    return Invalid(ArrayTypeName(), text_, std::string(why) + " at offset " + std::to_string(pos_));
  }

  std::string_view text_;
  const PgType& element_;
  char delimiter_;
  size_t pos_ = 0;
};

Result<wire::Value> ParseArray(const PgType& element, std::string_view text) {
  // Arrays whose lower bound is not 1 print their bounds first ("[2:3]={7,8}"); an ArrayValue
  // cannot say that, so the literal travels whole and a PostgreSQL target can still take it.
  if (!text.empty() && text.front() == '[') {
    wire::Value v;
    v.set_other(std::string(text));
    return v;
  }
  // box is the one built-in type whose array delimiter is not a comma.
  const char delimiter = element.oid == kBox ? ';' : ',';
  return ArrayParser(text, element, delimiter).Parse();
}

Result<wire::Value> ParseScalar(const PgType& type, std::string_view text) {
  wire::Value v;
  switch (type.oid) {
    case kBool:
      return ParseBool(text);
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      return ParseInt(type, text);
    case kNumeric:
      return ParseNumeric(text);
    case kFloat4:
    case kFloat8:
      return ParseFloat(type, text);
    case kBytea:
      return ParseBytea(text);
    case kBit:
    case kVarbit:
      return ParseBits(type, text);
    case kChar:
    case kName:
    case kText:
    case kXml:
    case kBpchar:
    case kVarchar:
      v.set_text(std::string(text));
      return v;
    case kDate:
      v.set_date(std::string(text));
      return v;
    case kTime:
      v.set_time(std::string(text));
      return v;
    case kTimetz:
      v.set_time_tz(std::string(text));
      return v;
    case kTimestamp:
      v.set_timestamp(std::string(text));
      return v;
    case kTimestamptz:
      v.set_timestamp_tz(std::string(text));
      return v;
    case kInterval:
      v.set_interval(std::string(text));
      return v;
    case kJson:
    case kJsonb:
      v.set_json(std::string(text));
      return v;
    case kUuid:
      v.set_uuid(std::string(text));
      return v;
    default:
      v.set_other(std::string(text));
      return v;
  }
}

}  // namespace

LogicalType PgLogicalType(uint32_t type_oid) {
  if (const PgType* t = FindScalar(type_oid)) return t->type;
  if (FindArrayElement(type_oid) != nullptr) return wire::LOGICAL_TYPE_ARRAY;
  return wire::LOGICAL_TYPE_OTHER;
}

LogicalType PgArrayElementType(uint32_t type_oid) {
  if (const PgType* t = FindArrayElement(type_oid)) return t->type;
  return wire::LOGICAL_TYPE_UNSPECIFIED;
}

std::string PgTypeName(uint32_t type_oid, int32_t type_modifier) {
  if (const PgType* t = FindScalar(type_oid)) return t->name + TypeModifier(t->oid, type_modifier);
  // An array column's typmod is its element's.
  if (const PgType* t = FindArrayElement(type_oid)) {
    return t->name + TypeModifier(t->oid, type_modifier) + "[]";
  }
  return "";
}

Result<wire::Value> PgTextToValue(uint32_t type_oid, std::string_view text) {
  if (const PgType* t = FindScalar(type_oid)) return ParseScalar(*t, text);
  if (const PgType* t = FindArrayElement(type_oid)) return ParseArray(*t, text);
  wire::Value v;
  v.set_other(std::string(text));
  return v;
}

}  // namespace ferry::capture::postgres
