// Ferry's typed values as PostgreSQL text input. Every parameter the PostgreSQL sink sends is in
// text format with an unspecified type, so the server parses it with the target column's own
// input function, exactly as it would parse a literal in an INSERT; this file only has to produce
// text that input function accepts and that means the same value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply::postgres {

// The text form of `value`, or nullopt for SQL NULL. Fails for `unchanged` (the caller leaves
// such columns out of the statement), for a value with no kind, and for text containing a NUL
// byte, which no PostgreSQL text type can hold (and which libpq's C-string parameters would
// silently cut off).
Result<std::optional<std::string>> ValueToPgText(const wire::Value& value);

// Appends the text form of `value`, which must not be null, to `out`: what ValueToPgText
// returns, without a string of its own per value. On failure `out` may hold part of it.
Status AppendPgText(const wire::Value& value, std::string* out);

// MySQL/MariaDB zero and partial dates ('0000-00-00', '2024-01-00', the zero TIMESTAMP
// '0000-00-00 00:00:00+00') travel exactly; no PostgreSQL date or timestamp can hold them. What
// a PostgreSQL target writes instead is the apply config's choice (target.zero_dates).
enum class ZeroDates {
  kNull,   // NULL (the default)
  kError,  // stop the stream with the value, the column and the fixes
};

// True for a date, timestamp or timestamp with time zone whose month or day is 00: the zero and
// partial dates only a MySQL/MariaDB source sends (PostgreSQL's own dates never have them).
bool IsZeroOrPartialDate(const wire::Value& value);

enum class ZeroDateAction {
  kKeep,       // write the value's text: the column holds it as it is
  kWriteNull,  // write NULL
};

// What becomes of such a value written to a column of type `column_type` (format_type, for the
// message) whose base type is `base_type`: character types (text, varchar, bpchar, name,
// citext) keep its text; every other type cannot hold it, so `policy` decides: NULL, or an
// error naming the value and the fixes (the caller adds table and column).
Result<ZeroDateAction> ZeroDateFor(const wire::Value& value, const std::string& column_type,
                                   const std::string& base_type, ZeroDates policy);

// Shortest text that reads back as exactly `value` ("NaN", "Infinity", "-Infinity" for the
// non-finite values, as float8in spells them).
std::string Float8Text(double value);

// "\x" followed by two lower-case hex digits per byte: bytea's hex input format.
std::string ByteaHex(const std::string& bytes);
void AppendByteaHex(std::string_view bytes, std::string* out);

// Quotes an identifier for SQL: always double-quoted, inner quotes doubled, so that any name
// (mixed case, reserved word, spaces) refers to exactly that name.
std::string QuoteIdent(const std::string& name);

}  // namespace ferry::apply::postgres
