// Position helpers shared by a capture adapter and the apply side's duplicate check.
// A Position is engine-tagged; only these functions look inside its value.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::wire {

inline constexpr char kEnginePostgres[] = "postgres";

// PostgreSQL LSNs in their usual text form "16/B374D848".
std::string FormatPgLsn(uint64_t lsn);
Result<uint64_t> ParsePgLsn(const std::string& text);
Position PgPosition(uint64_t lsn);

// True when a transaction at `transaction` is already covered by a checkpoint at `checkpoint`
// (so applying it again would apply it twice). Both must come from the same upstream; an error
// when the engines differ or a value does not parse.
Result<bool> IsCovered(const Position& transaction, const Position& checkpoint);

// Auth tokens are compared in time independent of where they differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace ferry::wire
