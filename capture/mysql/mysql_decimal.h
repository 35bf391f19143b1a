// MySQL's binary DECIMAL format (NEWDECIMAL, MySQL 5.0.3+ and every MariaDB), as written in row
// images and inside binary JSON. Layout (strings/decimal.c, decimal2bin): the integer digits then
// the fraction digits, each in groups of 9 decimal digits stored as 4-byte big-endian integers;
// a partial group at the outer end of each part takes only the bytes its digit count needs
// (1-2 digits: 1 byte, 3-4: 2, 5-6: 3, 7-9: 4). The sign is folded in: the top bit of the first
// byte is flipped, and a negative value has every byte inverted, so that the bytes sort like the
// numbers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry::capture::mysql {

// Largest precision MySQL and MariaDB accept for DECIMAL(M,D).
inline constexpr int kMaxDecimalPrecision = 65;

// Bytes a DECIMAL(precision, scale) value occupies; 0 when precision/scale are not a valid pair
// (precision 1..65, scale 0..precision).
size_t DecimalBinarySize(int precision, int scale);

// Decodes the value at the start of `data` (at least DecimalBinarySize bytes) as canonical text:
// optional '-', the integer digits without leading zeros ("0" when there are none), and when
// scale > 0 a '.' and exactly `scale` fraction digits ("-0.50", "12.00", "0"). Zero never carries
// a sign. A group holding more digits than its width allows is an error (corrupt data).
Result<std::string> DecodeDecimal(std::string_view data, int precision, int scale);

}  // namespace ferry::capture::mysql
