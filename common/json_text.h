// JSON string literals, written by hand where Ferry builds JSON text itself (MySQL binary JSON
// decoded to text, PostgreSQL arrays written as JSON, `ferry inspect` lines).
#pragma once

#include <string>
#include <string_view>

namespace ferry {

// What to do with bytes that are not valid UTF-8.
enum class InvalidUtf8 {
  kKeep,     // copy them: the caller checks the result (data must never be altered silently)
  kReplace,  // write U+FFFD, so the result is always valid JSON (for display)
};

// Appends `text` as a quoted JSON string: quotes, backslashes and control characters escaped.
void AppendJsonString(std::string_view text, std::string* out,
                      InvalidUtf8 invalid = InvalidUtf8::kKeep);

// True when `text` is well-formed UTF-8 as protobuf accepts it: no overlong forms, no
// surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view text);

}  // namespace ferry
