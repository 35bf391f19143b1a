#include "apply/type_override.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include "common/json_text.h"

namespace ferry::apply {
namespace {

using Kind = wire::Value::KindCase;

struct OverrideName {
  std::string_view name;
  wire::LogicalType type;
};

constexpr OverrideName kOverrides[] = {
    {"boolean", wire::LOGICAL_TYPE_BOOL}, {"integer", wire::LOGICAL_TYPE_INT},
    {"text", wire::LOGICAL_TYPE_TEXT},    {"json", wire::LOGICAL_TYPE_JSON},
    {"bytes", wire::LOGICAL_TYPE_BYTES},
};

wire::Value Boolean(bool b) {
  wire::Value out;
  out.set_boolean(b);
  return out;
}

wire::Value Int(int64_t i) {
  wire::Value out;
  out.set_int64(i);
  return out;
}

wire::Value Uint(uint64_t u) {
  wire::Value out;
  out.set_uint64(u);
  return out;
}

wire::Value Text(std::string text) {
  wire::Value out;
  out.set_text(std::move(text));
  return out;
}

std::string FloatText(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest exact
  (void)error;  // 64 bytes always suffice for a double
  return std::string(buffer, end);
}

// The text of a value that has one as it is (everything but numbers, booleans, bytes, arrays).
const std::string* StringOf(const wire::Value& value) {
  switch (value.kind_case()) {
    case Kind::kDecimal:
      return &value.decimal();
    case Kind::kText:
      return &value.text();
    case Kind::kDate:
      return &value.date();
    case Kind::kTime:
      return &value.time();
    case Kind::kTimeTz:
      return &value.time_tz();
    case Kind::kTimestamp:
      return &value.timestamp();
    case Kind::kTimestampTz:
      return &value.timestamp_tz();
    case Kind::kInterval:
      return &value.interval();
    case Kind::kJson:
      return &value.json();
    case Kind::kUuid:
      return &value.uuid();
    case Kind::kEnumValue:
      return &value.enum_value();
    case Kind::kSetValue:
      return &value.set_value();
    case Kind::kBits:
      return &value.bits();
    case Kind::kOther:
      return &value.other();
    default:
      return nullptr;
  }
}

// How a value shows in an error: its text, or its kind where it has none worth printing.
std::string Describe(const wire::Value& value) {
  switch (value.kind_case()) {
    case Kind::kBoolean:
      return value.boolean() ? "true" : "false";
    case Kind::kInt64:
      return std::to_string(value.int64());
    case Kind::kUint64:
      return std::to_string(value.uint64());
    case Kind::kFloat64:
      return FloatText(value.float64());
    case Kind::kBytes:
      return "a " + std::to_string(value.bytes().size()) + "-byte binary value";
    case Kind::kArray:
      return "an array";
    default:
      break;
  }
  const std::string* text = StringOf(value);
  if (text == nullptr) return "a value of no kind";
  return "\"" + (text->size() > 64 ? text->substr(0, 64) + "..." : *text) + "\"";
}

Status CannotConvert(const wire::Value& value, wire::LogicalType to, const std::string& why) {
  return Status::Error("value " + Describe(value) + " cannot be converted to " +
                       OverrideTypeName(to) + ": " + why);
}

Result<wire::Value> ToBoolean(const wire::Value& value) {
  const wire::LogicalType to = wire::LOGICAL_TYPE_BOOL;
  switch (value.kind_case()) {
    case Kind::kBoolean:
      return value;
    case Kind::kInt64:
    case Kind::kUint64: {
      const bool one = value.has_int64() ? value.int64() == 1 : value.uint64() == 1;
      const bool zero = value.has_int64() ? value.int64() == 0 : value.uint64() == 0;
      if (one || zero) return Boolean(one);
      return CannotConvert(value, to, "only 0 and 1 are booleans");
    }
    case Kind::kBits:
      if (value.bits() == "0" || value.bits() == "1") return Boolean(value.bits() == "1");
      return CannotConvert(value, to, "only a single bit (BIT(1)) is a boolean");
    default:
      return CannotConvert(value, to, "booleans come from integers 0/1 or a single bit");
  }
}

// A decimal without fractional digits (or with only zeros after the point) as an integer.
Result<wire::Value> DecimalToInteger(const wire::Value& value) {
  const std::string& text = value.decimal();
  std::string digits = text.substr(0, text.find('.'));
  if (const size_t point = text.find('.'); point != std::string::npos) {
    if (text.find_first_not_of('0', point + 1) != std::string::npos) {
      return CannotConvert(value, wire::LOGICAL_TYPE_INT, "it has a fraction");
    }
  }
  const char* begin = digits.data();
  const char* end = digits.data() + digits.size();
  if (!digits.empty() && digits.front() == '-') {
    int64_t i = 0;
    auto [ptr, error] = std::from_chars(begin, end, i);
    if (error == std::errc() && ptr == end) return Int(i);
  } else {
    if (!digits.empty() && digits.front() == '+') ++begin;
    uint64_t u = 0;
    auto [ptr, error] = std::from_chars(begin, end, u);
    if (error == std::errc() && ptr == end) return Uint(u);
  }
  return CannotConvert(value, wire::LOGICAL_TYPE_INT, "it is not an integer within 64 bits");
}

Result<wire::Value> ToInteger(const wire::Value& value) {
  const wire::LogicalType to = wire::LOGICAL_TYPE_INT;
  switch (value.kind_case()) {
    case Kind::kInt64:
    case Kind::kUint64:
      return value;
    case Kind::kBoolean:
      return Int(value.boolean() ? 1 : 0);
    case Kind::kBits: {
      const std::string& bits = value.bits();
      if (bits.empty() || bits.size() > 64) {
        return CannotConvert(value, to, "an integer holds 1 to 64 bits");
      }
      uint64_t u = 0;
      for (char bit : bits) {
        if (bit != '0' && bit != '1') return CannotConvert(value, to, "not a bit string");
        u = (u << 1) | (bit == '1' ? 1 : 0);
      }
      return Uint(u);
    }
    case Kind::kDecimal:
      return DecimalToInteger(value);
    default:
      return CannotConvert(value, to,
                           "integers come from integers, booleans, bits or whole decimals");
  }
}

Result<wire::Value> ToText(const wire::Value& value) {
  const wire::LogicalType to = wire::LOGICAL_TYPE_TEXT;
  switch (value.kind_case()) {
    case Kind::kBoolean:
      return Text(value.boolean() ? "true" : "false");
    case Kind::kInt64:
      return Text(std::to_string(value.int64()));
    case Kind::kUint64:
      return Text(std::to_string(value.uint64()));
    case Kind::kFloat64:
      return Text(FloatText(value.float64()));
    case Kind::kBytes:
      if (IsValidUtf8(value.bytes())) return Text(value.bytes());
      return CannotConvert(value, to, "its bytes are not valid UTF-8");
    default:
      break;
  }
  if (const std::string* text = StringOf(value)) return Text(*text);
  return CannotConvert(value, to, "it has no single text form (convert arrays to json)");
}

Result<wire::Value> ToJson(const wire::Value& value) {
  if (!value.has_json() && !value.has_text()) {
    return CannotConvert(value, wire::LOGICAL_TYPE_JSON, "json comes from json or text");
  }
  wire::Value out;
  out.set_json(value.has_json() ? value.json() : value.text());
  return out;
}

Result<wire::Value> ToBytes(const wire::Value& value) {
  if (!value.has_bytes() && !value.has_text()) {
    return CannotConvert(value, wire::LOGICAL_TYPE_BYTES, "bytes come from bytes or text");
  }
  wire::Value out;
  out.set_bytes(value.has_bytes() ? value.bytes() : value.text());
  return out;
}

}  // namespace

std::optional<wire::LogicalType> OverrideTypeFromName(std::string_view name) {
  for (const OverrideName& override_name : kOverrides) {
    if (override_name.name == name) return override_name.type;
  }
  return std::nullopt;
}

std::string OverrideTypeName(wire::LogicalType type) {
  for (const OverrideName& override_name : kOverrides) {
    if (override_name.type == type) return std::string(override_name.name);
  }
  return wire::LogicalType_Name(type);
}

Result<wire::Value> ConvertValue(const wire::Value& value, wire::LogicalType to) {
  if (value.has_null() || value.has_unchanged()) return value;
  switch (to) {
    case wire::LOGICAL_TYPE_BOOL:
      return ToBoolean(value);
    case wire::LOGICAL_TYPE_INT:
      return ToInteger(value);
    case wire::LOGICAL_TYPE_TEXT:
      return ToText(value);
    case wire::LOGICAL_TYPE_JSON:
      return ToJson(value);
    case wire::LOGICAL_TYPE_BYTES:
      return ToBytes(value);
    default:
      return Status::Error("no conversion to " + wire::LogicalType_Name(to) +
                           " exists: the override types are " + std::string(kOverrideTypeNames));
  }
}

namespace {

Status ConvertImage(const MappedRelation& relation,
                    google::protobuf::RepeatedPtrField<wire::Value>& values) {
  for (const MappedColumn& column : relation.columns) {
    if (!column.convert_to || column.source_index >= values.size()) continue;
    wire::Value& value = *values.Mutable(column.source_index);
    Result<wire::Value> converted = ConvertValue(value, *column.convert_to);
    if (!converted.ok()) {
      return converted.status().WithContext(
          "table " + relation.source.schema() + "." + relation.source.table() + ", column " +
          column.source.name() + " (mapping types: {" + column.source.name() + ": " +
          OverrideTypeName(*column.convert_to) + "})");
    }
    value = std::move(converted).value();
  }
  return Status::Ok();
}

}  // namespace

Status ConvertRow(const MappedRelation& relation, wire::RowChange& change) {
  FERRY_RETURN_IF_ERROR(ConvertImage(relation, *change.mutable_old_values()));
  return ConvertImage(relation, *change.mutable_new_values());
}

}  // namespace ferry::apply
