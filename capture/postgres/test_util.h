// Helpers shared by the capture_postgres unit tests: hex decoding and terse wire::Value builders.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "wire/ferry.pb.h"

namespace ferry::capture::postgres::testing {

inline std::string FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return bytes;
}

namespace v {

inline wire::Value Null() {
  wire::Value v;
  v.mutable_null();
  return v;
}
inline wire::Value Unchanged() {
  wire::Value v;
  v.mutable_unchanged();
  return v;
}
inline wire::Value Bool(bool b) {
  wire::Value v;
  v.set_boolean(b);
  return v;
}
inline wire::Value Int(int64_t n) {
  wire::Value v;
  v.set_int64(n);
  return v;
}
inline wire::Value Float(double d) {
  wire::Value v;
  v.set_float64(d);
  return v;
}

#define FERRY_TEST_STRING_VALUE(Name, setter) \
  inline wire::Value Name(std::string s) {    \
    wire::Value v;                            \
    v.setter(std::move(s));                   \
    return v;                                 \
  }
FERRY_TEST_STRING_VALUE(Decimal, set_decimal)
FERRY_TEST_STRING_VALUE(Text, set_text)
FERRY_TEST_STRING_VALUE(Bytes, set_bytes)
FERRY_TEST_STRING_VALUE(Date, set_date)
FERRY_TEST_STRING_VALUE(Time, set_time)
FERRY_TEST_STRING_VALUE(TimeTz, set_time_tz)
FERRY_TEST_STRING_VALUE(Timestamp, set_timestamp)
FERRY_TEST_STRING_VALUE(TimestampTz, set_timestamp_tz)
FERRY_TEST_STRING_VALUE(Interval, set_interval)
FERRY_TEST_STRING_VALUE(Json, set_json)
FERRY_TEST_STRING_VALUE(Uuid, set_uuid)
FERRY_TEST_STRING_VALUE(Bits, set_bits)
FERRY_TEST_STRING_VALUE(Other, set_other)
#undef FERRY_TEST_STRING_VALUE

inline wire::Value Array(std::initializer_list<wire::Value> elements) {
  wire::Value v;
  wire::ArrayValue& array = *v.mutable_array();
  for (const wire::Value& e : elements) *array.add_elements() = e;
  return v;
}

}  // namespace v

// Text form for comparisons whose failure message a person can read.
inline std::string Show(const wire::Value& value) { return value.ShortDebugString(); }

}  // namespace ferry::capture::postgres::testing
