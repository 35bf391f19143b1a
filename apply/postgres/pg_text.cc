#include "apply/postgres/pg_text.h"

#include <charconv>
#include <cmath>

namespace ferry::apply::postgres {
namespace {

Status CheckNoNul(const std::string& text) {
  if (text.find('\0') == std::string::npos) return Status::Ok();
  return Status::Error(
      "value contains a NUL byte (\\0), which PostgreSQL text types cannot hold: remove it at "
      "the source, or exclude the column in the mapping");
}

// Appends the text of a non-null value; arrays go through AppendArray.
Status AppendScalar(const wire::Value& value, std::string* out);

// Array elements are always double-quoted so that commas, braces, spaces, backslashes and the
// word NULL inside an element stay part of it; only a real null is written as bare NULL.
void AppendQuotedElement(const std::string& text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

Status AppendArray(const wire::ArrayValue& array, std::string* out) {
  out->push_back('{');
  for (int i = 0; i < array.elements_size(); ++i) {
    if (i > 0) out->push_back(',');
    const wire::Value& element = array.elements(i);
    if (element.has_null()) {
      out->append("NULL");
    } else if (element.has_array()) {
      FERRY_RETURN_IF_ERROR(AppendArray(element.array(), out));
    } else {
      std::string text;
      Status appended = AppendScalar(element, &text);
      if (!appended.ok()) return appended.WithContext("array element " + std::to_string(i + 1));
      AppendQuotedElement(text, out);
    }
  }
  out->push_back('}');
  return Status::Ok();
}

Status AppendChecked(const std::string& text, std::string* out) {
  FERRY_RETURN_IF_ERROR(CheckNoNul(text));
  out->append(text);
  return Status::Ok();
}

template <typename Number>
void AppendNumber(Number number, std::string* out) {
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, number);
  (void)error;  // 32 bytes always suffice for a 64-bit integer
  out->append(buffer, end);
}

Status AppendScalar(const wire::Value& value, std::string* out) {
  switch (value.kind_case()) {
    case wire::Value::kBoolean:
      out->append(value.boolean() ? "t" : "f");
      return Status::Ok();
    case wire::Value::kInt64:
      AppendNumber(value.int64(), out);
      return Status::Ok();
    case wire::Value::kUint64:
      AppendNumber(value.uint64(), out);
      return Status::Ok();
    case wire::Value::kFloat64:
      out->append(Float8Text(value.float64()));
      return Status::Ok();
    case wire::Value::kBytes:
      AppendByteaHex(value.bytes(), out);
      return Status::Ok();
    case wire::Value::kDecimal:
      return AppendChecked(value.decimal(), out);
    case wire::Value::kText:
      return AppendChecked(value.text(), out);
    case wire::Value::kDate:
      return AppendChecked(value.date(), out);
    case wire::Value::kTime:
      return AppendChecked(value.time(), out);
    case wire::Value::kTimeTz:
      return AppendChecked(value.time_tz(), out);
    case wire::Value::kTimestamp:
      return AppendChecked(value.timestamp(), out);
    case wire::Value::kTimestampTz:
      return AppendChecked(value.timestamp_tz(), out);
    case wire::Value::kInterval:
      return AppendChecked(value.interval(), out);
    case wire::Value::kJson:
      return AppendChecked(value.json(), out);
    case wire::Value::kUuid:
      return AppendChecked(value.uuid(), out);
    case wire::Value::kEnumValue:
      return AppendChecked(value.enum_value(), out);
    case wire::Value::kSetValue:
      return AppendChecked(value.set_value(), out);
    case wire::Value::kBits:
      return AppendChecked(value.bits(), out);
    case wire::Value::kOther:
      return AppendChecked(value.other(), out);
    case wire::Value::kArray:
      return AppendArray(value.array(), out);
    case wire::Value::kNull:
      return Status::Error("internal: null reached AppendScalar");
    case wire::Value::kUnchanged:
      return Status::Error(
          "an unchanged (TOAST) value cannot be written: only whole columns may be unchanged, "
          "and those are left out of the statement");
    case wire::Value::KIND_NOT_SET:
      break;
  }
  return Status::Error("value has no kind: the change record is malformed");
}

}  // namespace

Result<std::optional<std::string>> ValueToPgText(const wire::Value& value) {
  if (value.has_null()) return std::optional<std::string>();
  std::string text;
  FERRY_RETURN_IF_ERROR(AppendPgText(value, &text));
  return std::optional<std::string>(std::move(text));
}

Status AppendPgText(const wire::Value& value, std::string* out) {
  if (value.has_null()) return Status::Error("internal: null reached AppendPgText");
  return AppendScalar(value, out);
}

bool IsZeroOrPartialDate(const wire::Value& value) {
  const std::string* text = nullptr;
  if (value.has_date()) text = &value.date();
  if (value.has_timestamp()) text = &value.timestamp();
  if (value.has_timestamp_tz()) text = &value.timestamp_tz();
  if (text == nullptr || text->size() < 10 || (*text)[4] != '-' || (*text)[7] != '-') {
    return false;
  }
  return text->compare(5, 2, "00") == 0 || text->compare(8, 2, "00") == 0;
}

Result<ZeroDateAction> ZeroDateFor(const wire::Value& value, const std::string& column_type,
                                   const std::string& base_type, ZeroDates policy) {
  static const char* const kCharacterTypes[] = {"text", "varchar", "bpchar", "name", "citext"};
  for (const char* type : kCharacterTypes) {
    if (base_type == type) return ZeroDateAction::kKeep;
  }
  if (policy == ZeroDates::kNull) return ZeroDateAction::kWriteNull;
  Result<std::optional<std::string>> text = ValueToPgText(value);
  return Status::Error(
      "value '" + (text.ok() && *text ? **text : std::string("?")) +
      "' is a MySQL/MariaDB zero or partial date, which " + column_type +
      " cannot hold (PostgreSQL has no year, month or day 0): to write NULL instead set "
      "`zero_dates: null` under `target:` in the apply config, to keep the value make the target "
      "column text, or change it at the source");
}

std::string Float8Text(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  // std::to_chars without a precision writes the shortest text that parses back to exactly
  // `value` (the same guarantee PostgreSQL 12+'s float8out gives with extra_float_digits > 0).
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)error;  // 64 bytes always suffice for a double
  return std::string(buffer, end);
}

std::string ByteaHex(const std::string& bytes) {
  std::string out;
  AppendByteaHex(bytes, &out);
  return out;
}

void AppendByteaHex(std::string_view bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + 2 + 2 * bytes.size());
  out->append("\\x");
  for (unsigned char byte : bytes) {
    out->push_back(kHex[byte >> 4]);
    out->push_back(kHex[byte & 0x0f]);
  }
}

std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace ferry::apply::postgres
