#include "capture/mysql/mysql_temporal.h"

#include <cstdio>
#include <cstdlib>

namespace ferry::capture::mysql {
namespace {

constexpr int64_t kPackedShift = int64_t{1} << 24;  // the integer part sits above 24 bits
constexpr int64_t kTime2IntOffset = 0x800000;
constexpr int64_t kTime2Offset = 0x800000000000;  // fsp 5-6: int and fraction in one 6-byte int
constexpr int64_t kDatetime2IntOffset = 0x8000000000;

uint64_t BigEndian(std::string_view data, size_t offset, size_t n) {
  uint64_t value = 0;
  for (size_t i = 0; i < n; ++i) value = (value << 8) | static_cast<uint8_t>(data[offset + i]);
  return value;
}

uint64_t LittleEndian(std::string_view data, size_t n) {
  uint64_t value = 0;
  for (size_t i = n; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(data[i]);
  return value;
}

// Sign-extends the low `bits` bits of `value`.
int64_t SignExtend(uint64_t value, int bits) {
  uint64_t sign = uint64_t{1} << (bits - 1);
  return static_cast<int64_t>((value ^ sign) - sign);
}

void AppendFraction(uint32_t micros, int fsp, std::string* out) {
  if (fsp <= 0) return;
  if (fsp > 6) fsp = 6;
  char digits[8];
  std::snprintf(digits, sizeof digits, "%06u", micros % 1'000'000);
  out->push_back('.');
  out->append(digits, static_cast<size_t>(fsp));
}

// Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date.
void CivilFromDays(int64_t days, TemporalParts* parts) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t day_of_era = days - era * 146097;
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t mp = (5 * day_of_year + 2) / 153;
  int64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  parts->year = static_cast<uint32_t>(year);
  parts->month = static_cast<uint32_t>(month);
  parts->day = static_cast<uint32_t>(day);
}

}  // namespace

TemporalParts DecodeDate(std::string_view data) {
  uint64_t value = LittleEndian(data, 3);
  TemporalParts parts;
  parts.day = static_cast<uint32_t>(value & 31);
  parts.month = static_cast<uint32_t>((value >> 5) & 15);
  parts.year = static_cast<uint32_t>(value >> 9);
  return parts;
}

TemporalParts DecodeOldTime(std::string_view data) {
  int64_t value = SignExtend(LittleEndian(data, 3), 24);
  TemporalParts parts;
  parts.negative = value < 0;
  uint64_t hhmmss = static_cast<uint64_t>(value < 0 ? -value : value);
  parts.hour = static_cast<uint32_t>(hhmmss / 10000);
  parts.minute = static_cast<uint32_t>(hhmmss / 100 % 100);
  parts.second = static_cast<uint32_t>(hhmmss % 100);
  return parts;
}

TemporalParts DecodeTime2(std::string_view data, int fsp) {
  int64_t int_part = static_cast<int64_t>(BigEndian(data, 0, 3)) - kTime2IntOffset;
  int64_t packed = int_part * kPackedShift;
  switch (fsp) {
    case 1:
    case 2: {
      // A negative value stores its fraction counted back from the next whole second, so that
      // the bytes sort like the values: -00:00:00.01 is int -1, fraction 0xff.
      int64_t frac = static_cast<uint8_t>(data[3]);
      if (int_part < 0 && frac != 0) {
        ++int_part;
        frac -= 0x100;
      }
      packed = int_part * kPackedShift + frac * 10000;
      break;
    }
    case 3:
    case 4: {
      int64_t frac = static_cast<int64_t>(BigEndian(data, 3, 2));
      if (int_part < 0 && frac != 0) {
        ++int_part;
        frac -= 0x10000;
      }
      packed = int_part * kPackedShift + frac * 100;
      break;
    }
    case 5:
    case 6:
      packed = static_cast<int64_t>(BigEndian(data, 0, 6)) - kTime2Offset;
      break;
    default:
      break;
  }
  return TimeFromPacked(packed);
}

TemporalParts DecodeOldDatetime(std::string_view data) {
  uint64_t value = LittleEndian(data, 8);
  uint64_t date = value / 1'000'000;
  uint64_t time = value % 1'000'000;
  TemporalParts parts;
  parts.year = static_cast<uint32_t>(date / 10000 % 100000);
  parts.month = static_cast<uint32_t>(date / 100 % 100);
  parts.day = static_cast<uint32_t>(date % 100);
  parts.hour = static_cast<uint32_t>(time / 10000);
  parts.minute = static_cast<uint32_t>(time / 100 % 100);
  parts.second = static_cast<uint32_t>(time % 100);
  return parts;
}

TemporalParts DecodeDatetime2(std::string_view data, int fsp) {
  int64_t int_part = static_cast<int64_t>(BigEndian(data, 0, 5)) - kDatetime2IntOffset;
  int64_t frac = 0;
  switch (fsp) {
    case 1:
    case 2:
      frac = SignExtend(BigEndian(data, 5, 1), 8) * 10000;
      break;
    case 3:
    case 4:
      frac = SignExtend(BigEndian(data, 5, 2), 16) * 100;
      break;
    case 5:
    case 6:
      frac = SignExtend(BigEndian(data, 5, 3), 24);
      break;
    default:
      break;
  }
  return DatetimeFromPacked(int_part * kPackedShift + frac);
}

void DecodeTimestamp2(std::string_view data, int fsp, int64_t* seconds, uint32_t* micros) {
  *seconds = static_cast<int64_t>(BigEndian(data, 0, 4));
  switch (fsp) {
    case 1:
    case 2:
      *micros = static_cast<uint32_t>(BigEndian(data, 4, 1) * 10000);
      break;
    case 3:
    case 4:
      *micros = static_cast<uint32_t>(BigEndian(data, 4, 2) * 100);
      break;
    case 5:
    case 6:
      *micros = static_cast<uint32_t>(BigEndian(data, 4, 3));
      break;
    default:
      *micros = 0;
      break;
  }
}

TemporalParts TimeFromPacked(int64_t packed) {
  TemporalParts parts;
  parts.negative = packed < 0;
  uint64_t magnitude = packed < 0 ? 0 - static_cast<uint64_t>(packed) : packed;
  uint64_t hms = magnitude >> 24;
  parts.hour = static_cast<uint32_t>((hms >> 12) % (1 << 10));
  parts.minute = static_cast<uint32_t>((hms >> 6) % (1 << 6));
  parts.second = static_cast<uint32_t>(hms % (1 << 6));
  parts.micros = static_cast<uint32_t>(magnitude % (1 << 24));
  return parts;
}

TemporalParts DatetimeFromPacked(int64_t packed) {
  TemporalParts parts;
  uint64_t magnitude = packed < 0 ? 0 - static_cast<uint64_t>(packed) : packed;
  uint64_t ymdhms = magnitude >> 24;
  uint64_t ymd = ymdhms >> 17;
  uint64_t year_month = ymd >> 5;
  uint64_t hms = ymdhms % (1 << 17);
  parts.day = static_cast<uint32_t>(ymd % (1 << 5));
  parts.month = static_cast<uint32_t>(year_month % 13);
  parts.year = static_cast<uint32_t>(year_month / 13);
  parts.second = static_cast<uint32_t>(hms % (1 << 6));
  parts.minute = static_cast<uint32_t>((hms >> 6) % (1 << 6));
  parts.hour = static_cast<uint32_t>(hms >> 12);
  parts.micros = static_cast<uint32_t>(magnitude % (1 << 24));
  return parts;
}

TemporalParts UtcFromUnixSeconds(int64_t seconds, uint32_t micros) {
  TemporalParts parts;
  int64_t days = seconds / 86400;
  int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  CivilFromDays(days, &parts);
  parts.hour = static_cast<uint32_t>(rest / 3600);
  parts.minute = static_cast<uint32_t>(rest / 60 % 60);
  parts.second = static_cast<uint32_t>(rest % 60);
  parts.micros = micros;
  return parts;
}

bool IsPlausibleDatetime(const TemporalParts& parts) {
  return parts.year <= 9999 && parts.month <= 12 && parts.day <= 31 && parts.hour <= 23 &&
         IsPlausibleTime(parts);
}

bool IsPlausibleTime(const TemporalParts& parts) {
  return parts.minute <= 59 && parts.second <= 59 && parts.micros <= 999'999;
}

std::string FormatDate(const TemporalParts& parts) {
  char text[32];
  std::snprintf(text, sizeof text, "%04u-%02u-%02u", parts.year, parts.month, parts.day);
  return text;
}

std::string FormatTime(const TemporalParts& parts, int fsp) {
  char text[32];
  std::snprintf(text, sizeof text, "%s%02u:%02u:%02u", parts.negative ? "-" : "", parts.hour,
                parts.minute, parts.second);
  std::string out = text;
  AppendFraction(parts.micros, fsp, &out);
  return out;
}

std::string FormatDatetime(const TemporalParts& parts, int fsp) {
  char text[64];
  std::snprintf(text, sizeof text, "%04u-%02u-%02u %02u:%02u:%02u", parts.year, parts.month,
                parts.day, parts.hour, parts.minute, parts.second);
  std::string out = text;
  AppendFraction(parts.micros, fsp, &out);
  return out;
}

}  // namespace ferry::capture::mysql
