#include "wire/position.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string_view>

namespace ferry::wire {
namespace {

// Parses 1..8 hex digits (one half of an LSN); nullopt on anything else.
std::optional<uint32_t> ParseHex32(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    value = value << 4 | digit;
  }
  return value;
}

// An apply agent that has never committed anything sends an empty position ("start fresh").
bool IsEmpty(const Position& position) {
  return position.engine().empty() && position.value().empty();
}

}  // namespace

std::string FormatPgLsn(uint64_t lsn) {
  char text[32];
  std::snprintf(text, sizeof text, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xFFFFFFFFu));
  return text;
}

Result<uint64_t> ParsePgLsn(const std::string& text) {
  const size_t slash = text.find('/');
  std::optional<uint32_t> hi, lo;
  if (slash != std::string::npos) {
    const std::string_view view(text);
    hi = ParseHex32(view.substr(0, slash));
    lo = ParseHex32(view.substr(slash + 1));
  }
  if (!hi || !lo) {
    return Status::Error("invalid PostgreSQL LSN '" + text +
                         "': expected two hexadecimal numbers of up to 8 digits separated by '/', "
                         "like 16/B374D848");
  }
  return static_cast<uint64_t>(*hi) << 32 | *lo;
}

Position PgPosition(uint64_t lsn) {
  Position position;
  position.set_engine(kEnginePostgres);
  position.set_value(FormatPgLsn(lsn));
  return position;
}

Result<bool> IsCovered(const Position& transaction, const Position& checkpoint) {
  // No checkpoint yet: nothing has been applied, so nothing is covered.
  if (IsEmpty(checkpoint)) return false;
  if (transaction.engine() != checkpoint.engine()) {
    return Status::Error("cannot compare a " + transaction.engine() +
                         " transaction position with a " + checkpoint.engine() +
                         " checkpoint; the checkpoint belongs to a different upstream, so clear "
                         "it or point this apply agent at the upstream it came from");
  }
  if (transaction.engine() == kEnginePostgres) {
    Result<uint64_t> tx = ParsePgLsn(transaction.value());
    if (!tx.ok()) return tx.status().WithContext("transaction position");
    Result<uint64_t> cp = ParsePgLsn(checkpoint.value());
    if (!cp.ok()) return cp.status().WithContext("checkpoint position");
    return *tx <= *cp;
  }
  return Status::Error("cannot compare positions of engine '" + transaction.engine() +
                       "': wire/position.cc knows no ordering for it");
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  // Walk the longer string in full and fold every difference into one accumulator, so the time
  // taken depends only on the lengths, never on where (or whether) the contents differ.
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | (x ^ y);
  }
  return diff == 0;
}

}  // namespace ferry::wire
