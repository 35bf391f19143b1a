// Ferry's typed values as PostgreSQL text input. Every parameter the PostgreSQL sink sends is in
// text format with an unspecified type, so the server parses it with the target column's own
// input function, exactly as it would parse a literal in an INSERT; this file only has to produce
// text that input function accepts and that means the same value.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply::postgres {

// The text form of `value`, or nullopt for SQL NULL. Fails for `unchanged` (the caller leaves
// such columns out of the statement), for a value with no kind, and for text containing a NUL
// byte, which no PostgreSQL text type can hold (and which libpq's C-string parameters would
// silently cut off).
Result<std::optional<std::string>> ValueToPgText(const wire::Value& value);

// Shortest text that reads back as exactly `value` ("NaN", "Infinity", "-Infinity" for the
// non-finite values, as float8in spells them).
std::string Float8Text(double value);

// "\x" followed by two lower-case hex digits per byte: bytea's hex input format.
std::string ByteaHex(const std::string& bytes);

// Quotes an identifier for SQL: always double-quoted, inner quotes doubled, so that any name
// (mixed case, reserved word, spaces) refers to exactly that name.
std::string QuoteIdent(const std::string& name);

}  // namespace ferry::apply::postgres
