#include "apply/conflict_record.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ferry::apply {
namespace {

// A value as logged: shortened past the cap, with its length, so that one huge row cannot
// bloat the conflict log.
nlohmann::json Shortened(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  if (text->size() <= kMaxLoggedValueBytes) return *text;
  return text->substr(0, kMaxLoggedValueBytes) + "... (" + std::to_string(text->size()) + " bytes)";
}

std::string Dump(const nlohmann::json& object) {
  // Replace, not throw: a value may hold bytes that are not UTF-8.
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

std::string ArrayText(const wire::ArrayValue& array) {
  std::string out = "{";
  for (int i = 0; i < array.elements_size(); ++i) {
    if (i > 0) out += ",";
    std::optional<std::string> element = LoggedValue(array.elements(i));
    out += element ? *element : "NULL";
  }
  return out + "}";
}

}  // namespace

std::optional<std::string> LoggedValue(const wire::Value& value) {
  switch (value.kind_case()) {
    case wire::Value::kNull:
    case wire::Value::kUnchanged:
    case wire::Value::KIND_NOT_SET:
      return std::nullopt;
    case wire::Value::kBoolean:
      return value.boolean() ? "true" : "false";
    case wire::Value::kInt64:
      return std::to_string(value.int64());
    case wire::Value::kUint64:
      return std::to_string(value.uint64());
    case wire::Value::kFloat64:
      return fmt::format("{}", value.float64());
    case wire::Value::kBytes:
      return Hex(value.bytes());
    case wire::Value::kArray:
      return ArrayText(value.array());
    case wire::Value::kDecimal:
      return value.decimal();
    case wire::Value::kText:
      return value.text();
    case wire::Value::kDate:
      return value.date();
    case wire::Value::kTime:
      return value.time();
    case wire::Value::kTimeTz:
      return value.time_tz();
    case wire::Value::kTimestamp:
      return value.timestamp();
    case wire::Value::kTimestampTz:
      return value.timestamp_tz();
    case wire::Value::kInterval:
      return value.interval();
    case wire::Value::kJson:
      return value.json();
    case wire::Value::kUuid:
      return value.uuid();
    case wire::Value::kEnumValue:
      return value.enum_value();
    case wire::Value::kSetValue:
      return value.set_value();
    case wire::Value::kBits:
      return value.bits();
    case wire::Value::kOther:
      return value.other();
  }
  return std::nullopt;
}

std::string ImageJson(const MappedRelation& relation,
                      const google::protobuf::RepeatedPtrField<wire::Value>& image,
                      const std::vector<std::string>* only) {
  nlohmann::json object = nlohmann::json::object();
  for (const MappedColumn& column : relation.columns) {
    if (column.source_index < 0 || column.source_index >= image.size()) continue;
    const wire::Value& value = image.Get(column.source_index);
    if (value.has_unchanged()) continue;
    if (only != nullptr &&
        std::find(only->begin(), only->end(), column.target_name) == only->end()) {
      continue;
    }
    object[column.target_name] = Shortened(LoggedValue(value));
  }
  return Dump(object);
}

std::string TextRowJson(const std::vector<std::string>& columns,
                        const std::vector<std::optional<std::string>>& values) {
  nlohmann::json object = nlohmann::json::object();
  for (size_t i = 0; i < columns.size() && i < values.size(); ++i) {
    object[columns[i]] = Shortened(values[i]);
  }
  return Dump(object);
}

LoggedConflict LoggedConflictOf(const std::vector<std::string>& fields) {
  auto field = [&](size_t i) { return i < fields.size() ? fields[i] : std::string(); };
  LoggedConflict conflict;
  conflict.id = field(0);
  conflict.at = field(1);
  conflict.upstream = field(2);
  conflict.origin = field(3);
  conflict.position = field(4);
  conflict.table = field(5);
  conflict.key = field(6);
  conflict.type = field(7);
  conflict.resolver = field(8);
  conflict.outcome = field(9);
  conflict.reason = field(10);
  conflict.remote_old = field(11);
  conflict.remote_new = field(12);
  conflict.local = field(13);
  conflict.final_row = field(14);
  return conflict;
}

std::string Summary(const ConflictRecord& record) {
  return record.table + " " + record.key + ": " + conflict::ConflictTypeName(record.type) + ", " +
         record.resolver + ": " + conflict::OutcomeName(record.outcome) +
         (record.reason.empty() ? "" : " (" + record.reason + ")");
}

}  // namespace ferry::apply
