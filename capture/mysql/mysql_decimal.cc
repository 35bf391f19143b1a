#include "capture/mysql/mysql_decimal.h"

#include <array>
#include <cstdint>

namespace ferry::capture::mysql {
namespace {

constexpr int kDigitsPerGroup = 9;
constexpr size_t kGroupBytes = 4;
// Bytes of a partial group of 0..9 digits (strings/decimal.c dig2bytes).
constexpr std::array<size_t, 10> kPartialGroupBytes = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
constexpr std::array<uint32_t, 10> kPowersOf10 = {
    1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000, 1'000'000'000};

size_t PartBytes(int digits) {
  return static_cast<size_t>(digits / kDigitsPerGroup) * kGroupBytes +
         kPartialGroupBytes[digits % kDigitsPerGroup];
}

// Reads the groups of one part (integer or fraction) in stored order and appends their digits.
// `mask` undoes the inversion of negative values.
class GroupReader {
 public:
  GroupReader(const uint8_t* bytes, uint8_t mask) : bytes_(bytes), mask_(mask) {}

  // Appends a group of `digits` digits (1..9) stored in kPartialGroupBytes[digits] bytes.
  bool AppendGroup(int digits, std::string* out) {
    size_t width = kPartialGroupBytes[digits];
    uint32_t value = 0;
    for (size_t i = 0; i < width; ++i) value = (value << 8) | (bytes_[pos_ + i] ^ mask_);
    pos_ += width;
    if (value >= kPowersOf10[digits]) return false;
    std::string text = std::to_string(value);
    out->append(static_cast<size_t>(digits) - text.size(), '0');
    out->append(text);
    return true;
  }

 private:
  const uint8_t* bytes_;
  uint8_t mask_;
  size_t pos_ = 0;
};

}  // namespace

size_t DecimalBinarySize(int precision, int scale) {
  if (precision < 1 || precision > kMaxDecimalPrecision || scale < 0 || scale > precision) {
    return 0;
  }
  return PartBytes(precision - scale) + PartBytes(scale);
}

Result<std::string> DecodeDecimal(std::string_view data, int precision, int scale) {
  size_t size = DecimalBinarySize(precision, scale);
  if (size == 0) {
    return Status::Error("invalid DECIMAL(" + std::to_string(precision) + "," +
                         std::to_string(scale) + ")");
  }
  if (data.size() < size) {
    return Status::Error("DECIMAL value truncated: needs " + std::to_string(size) + " bytes, " +
                         std::to_string(data.size()) + " left");
  }
  // 65 digits take at most 32 bytes.
  std::array<uint8_t, 40> bytes{};
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(data[i]);
  bool negative = (bytes[0] & 0x80) == 0;
  bytes[0] ^= 0x80;
  GroupReader reader(bytes.data(), negative ? 0xff : 0x00);

  int int_digits = precision - scale;
  std::string integer;
  bool ok = true;
  if (int_digits % kDigitsPerGroup != 0) ok &= reader.AppendGroup(int_digits % 9, &integer);
  for (int i = 0; i < int_digits / kDigitsPerGroup; ++i) ok &= reader.AppendGroup(9, &integer);
  std::string fraction;
  for (int i = 0; i < scale / kDigitsPerGroup; ++i) ok &= reader.AppendGroup(9, &fraction);
  if (scale % kDigitsPerGroup != 0) ok &= reader.AppendGroup(scale % 9, &fraction);
  if (!ok) {
    return Status::Error("corrupt DECIMAL(" + std::to_string(precision) + "," +
                         std::to_string(scale) + ") value: a digit group is out of range");
  }

  size_t first_digit = integer.find_first_not_of('0');
  integer = first_digit == std::string::npos ? "0" : integer.substr(first_digit);
  bool zero = integer == "0" && fraction.find_first_not_of('0') == std::string::npos;
  std::string text = negative && !zero ? "-" : "";
  text += integer;
  if (scale > 0) text += "." + fraction;
  return text;
}

}  // namespace ferry::capture::mysql
