// Values of two databases made comparable. A source value and the target value apply wrote for
// it are typed differently when the engines differ (MariaDB's TINYINT(1) 1 is PostgreSQL's
// boolean true; a PostgreSQL timestamptz is a MariaDB DATETIME without "+00"), and even one
// engine shows one value in several texts ("1.50" and "1.5" in a numeric, "10:00:00.500000" and
// "10:00:00.5"). Two steps make them comparable, both pure:
//   1. AsColumnValue: the value a column of the *other* side holds for `value`, typed as that
//      side's TableReader types it (the kind conversion the sinks make when they write, see
//      apply/mysql/mysql_values.h and apply/postgres/pg_text.h). Also what a key is looked up
//      by on the other side.
//   2. Canonical: one text per value of a column, so that equal values give equal texts and
//      different values different texts, whatever spelling the reader returned.
// Invariant: for a column C, Canonical(AsColumnValue(s, C), C) == Canonical(t, C) exactly when
// the target value t is what apply writes for the source value s (up to what the target's type
// itself cannot tell apart: trailing spaces in CHAR, 0x00 padding in BINARY(n), set member
// order, JSON key order and spacing).
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::verify {

enum class Engine {
  kPostgres,
  kMysql,  // MariaDB and MySQL: one reader, one sink
};

// What verify needs to know of a column of one side, from that side's reader's Relation.
struct ColumnTraits {
  wire::LogicalType type = wire::LOGICAL_TYPE_UNSPECIFIED;
  wire::LogicalType element_type = wire::LOGICAL_TYPE_UNSPECIFIED;  // arrays
  // The reader's type name: "bpchar(5)", "char(5)", "float4", "float", "binary(16)", "bit(12)".
  std::string source_type;
  Engine engine = Engine::kPostgres;
  // PostgreSQL targets: a MariaDB zero or partial date into a column that is not text is
  // written as NULL (apply's `zero_dates: null`, the default); otherwise apply refuses it.
  bool zero_dates_as_null = true;
};

ColumnTraits TraitsOf(const wire::Column& column, Engine engine);

// The value a column with `column`'s traits holds once apply has written `value` to it, typed as
// that column's reader types it. Values are passed on unchanged where no conversion applies.
// Fails only for a value apply refuses to write to such a column (a zero date into a PostgreSQL
// date with `zero_dates: error`).
Result<wire::Value> AsColumnValue(const wire::Value& value, const ColumnTraits& column);

// The canonical text of `value` held by a column with `column`'s traits; nullopt for NULL.
std::optional<std::string> Canonical(const wire::Value& value, const ColumnTraits& column);

// The plain text of a value: numbers as digits, bytes as \x and hex digits, text as it is.
std::string ValueText(const wire::Value& value);

// A short readable text of a key value for reports: numbers bare, everything else quoted
// ('a''b'), bytes as x'00ff'. Long values are cut.
std::string DisplayText(const wire::Value& value);

}  // namespace ferry::verify
