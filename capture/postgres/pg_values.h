// PostgreSQL type OIDs to Ferry's typed values. pgoutput v1 sends every value as the text its
// output function produces; this turns that text into a typed wire::Value without losing
// anything (numeric stays exact text; floats round-trip; timestamptz is normalised to UTC when
// the session time zone is UTC, as the source connection sets it).
//
// The text forms assumed are those of a session with DateStyle=ISO, TimeZone=UTC,
// IntervalStyle=postgres, extra_float_digits=3 and bytea_output=hex, which is what the
// replication connection (replication_stream.h) asks for. Temporal values are passed through
// unchanged: with those settings they already are the ISO text wire::Value documents.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::capture::postgres {

// PostgreSQL's wire timestamps count microseconds from 2000-01-01 00:00:00 UTC; this is that
// instant in microseconds since the Unix epoch.
inline constexpr int64_t kPgEpochUnixMicros = 946'684'800'000'000;

// The neutral type of a built-in type OID; LOGICAL_TYPE_ARRAY for array types (see
// PgArrayElementType), LOGICAL_TYPE_OTHER for types Ferry does not know.
wire::LogicalType PgLogicalType(uint32_t type_oid);
// For an array type OID, the element's logical type; UNSPECIFIED otherwise.
wire::LogicalType PgArrayElementType(uint32_t type_oid);
// "int4", "numeric(10,2)", "varchar(20)", "int4[]", ... from OID and type modifier;
// empty for OIDs that are not built in.
std::string PgTypeName(uint32_t type_oid, int32_t type_modifier);

// Parses the text form of a value of type `type_oid` into a typed value. Unknown types become
// Value.other with the text unchanged; so does an array literal with explicit bounds
// ("[2:3]={7,8}"), which an ArrayValue cannot describe. Multi-dimensional arrays become nested
// ArrayValues. Errors name the type and the offending text.
Result<wire::Value> PgTextToValue(uint32_t type_oid, std::string_view text);

}  // namespace ferry::capture::postgres
