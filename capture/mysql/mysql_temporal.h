// MySQL/MariaDB temporal values as written in row images (and inside MySQL binary JSON), and
// their ISO text forms. Formats (mysys/my_time.cc, sql-common/my_time.cc in MySQL):
//   DATE        3 bytes LE: day | month << 5 | year << 9
//   TIME        (old) 3 bytes LE signed: ±(hh * 10000 + mm * 100 + ss)
//   TIME2       3 bytes BE + fraction, offset by 0x800000; negative fractions stored reversed
//   DATETIME    (old) 8 bytes LE: YYYYMMDDhhmmss as a decimal number
//   DATETIME2   5 bytes BE + fraction, offset by 0x8000000000: ((year*13+month) << 5 | day) << 17
//               | hour << 12 | minute << 6 | second
//   TIMESTAMP   (old) 4 bytes LE seconds since the epoch (UTC)
//   TIMESTAMP2  4 bytes BE seconds since the epoch (UTC) + fraction
// The fraction takes (fsp + 1) / 2 bytes, big-endian: hundredths (fsp 1-2), ten-thousandths
// (3-4) or microseconds (5-6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::capture::mysql {

struct TemporalParts {
  bool negative = false;  // TIME only
  uint32_t year = 0;
  uint32_t month = 0;
  uint32_t day = 0;
  uint32_t hour = 0;  // TIME: 0..838 (more for corrupt data)
  uint32_t minute = 0;
  uint32_t second = 0;
  uint32_t micros = 0;
};

// Bytes of the fractional part for `fsp` fractional digits (0..6).
constexpr size_t FractionBytes(int fsp) { return static_cast<size_t>(fsp + 1) / 2; }

// Each decoder reads exactly the bytes its format takes from the start of `data`; the caller
// has checked that they are there (DATE 3, TIME 3, TIME2 3 + FractionBytes, DATETIME 8,
// DATETIME2 5 + FractionBytes, TIMESTAMP 4, TIMESTAMP2 4 + FractionBytes).
TemporalParts DecodeDate(std::string_view data);
TemporalParts DecodeOldTime(std::string_view data);
TemporalParts DecodeTime2(std::string_view data, int fsp);
TemporalParts DecodeOldDatetime(std::string_view data);
TemporalParts DecodeDatetime2(std::string_view data, int fsp);
// Seconds since the epoch and microseconds of a TIMESTAMP2.
void DecodeTimestamp2(std::string_view data, int fsp, int64_t* seconds, uint32_t* micros);

// MySQL's "packed" 64-bit forms (used inside binary JSON): the integer part shifted left by 24
// bits plus the microseconds, negated for negative TIME values.
TemporalParts TimeFromPacked(int64_t packed);
TemporalParts DatetimeFromPacked(int64_t packed);

// The UTC calendar date and time of `seconds` since 1970-01-01 00:00:00 UTC.
TemporalParts UtcFromUnixSeconds(int64_t seconds, uint32_t micros);

// False when a field is out of its range (corrupt data): month > 12, day > 31, hour > 23 (for
// dates), minute or second > 59, micros > 999999. Zero and partial dates ('0000-00-00',
// '2024-00-10', '2024-02-00'), which MySQL and MariaDB store, are plausible.
bool IsPlausibleDatetime(const TemporalParts& parts);
bool IsPlausibleTime(const TemporalParts& parts);

// "2024-02-29"
std::string FormatDate(const TemporalParts& parts);
// "[-]HH:MM:SS[.f…]" with at least two hour digits and exactly `fsp` fraction digits.
std::string FormatTime(const TemporalParts& parts, int fsp);
// "2024-02-29 13:45:10[.f…]" with exactly `fsp` fraction digits.
std::string FormatDatetime(const TemporalParts& parts, int fsp);

}  // namespace ferry::capture::mysql
