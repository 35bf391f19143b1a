// Per-column type overrides (`types:` in a mapping): the operator says what a source column's
// values mean on the target when the source type alone cannot, e.g. MySQL's TINYINT(1) used as
// a boolean, or BIT(64) flags kept as an integer. Engine-neutral: values are converted before
// any sink sees them, so every target engine gets the same typed value.
// Invariant: a conversion is exact or fails; it never rounds, truncates or guesses (an integer
// other than 0 or 1 does not become `true`).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "apply/table_mapping.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply {

// The override types, as written in the config.
inline constexpr std::string_view kOverrideTypeNames = "boolean, integer, text, json, bytes";

// The logical type for an override name ("boolean" ...), or nullopt for an unknown name.
std::optional<wire::LogicalType> OverrideTypeFromName(std::string_view name);

// The config name of an override type ("boolean" ...).
std::string OverrideTypeName(wire::LogicalType type);

// `value` as the override type `to`:
//   boolean  from booleans, the integers 0 and 1, and single bits;
//   integer  from integers, booleans (0/1), bit strings of up to 64 bits and decimals without
//            a fraction that fit 64 bits;
//   text     from any single value (its text form; bytes only when they are valid UTF-8);
//   json     from json and text (the target checks the syntax);
//   bytes    from bytes and text (its UTF-8 bytes).
// Null and unchanged pass as they are. The error describes the value and why it does not
// convert; the caller adds table and column.
Result<wire::Value> ConvertValue(const wire::Value& value, wire::LogicalType to);

// Converts the overridden columns of both images of `change` in place. The error names the
// source table and column, the value, and the mapping that asked for the conversion.
Status ConvertRow(const MappedRelation& relation, wire::RowChange& change);

}  // namespace ferry::apply
