#include "wire/position.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string_view>
#include <tuple>

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

// Parses a non-empty run of decimal digits that fits in `max`; nullopt on anything else.
std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max = UINT64_MAX) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = c - '0';
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Splits on `separator`, keeping empty pieces.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    pieces.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return pieces;
    start = end + 1;
  }
}

// The trailing digits of a binlog file name ("mysql-bin.000042" -> "42"), without leading zeros,
// so that two suffixes compare as numbers by (length, text) whatever their size.
std::string_view NumericSuffix(std::string_view name) {
  size_t start = name.size();
  while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9') --start;
  std::string_view digits = name.substr(start);
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  return digits;
}

bool FilePositionLessOrEqual(const BinlogFilePosition& a, const BinlogFilePosition& b) {
  const std::string_view sa = NumericSuffix(a.file), sb = NumericSuffix(b.file);
  return std::make_tuple(sa.size(), sa, std::string_view(a.file), a.offset) <=
         std::make_tuple(sb.size(), sb, std::string_view(b.file), b.offset);
}

// Parses "uuid" with or without dashes into lower-case 8-4-4-4-12 text.
std::optional<std::string> CanonicalUuid(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 32) return std::nullopt;
  if (text.size() == 36 &&
      (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')) {
    return std::nullopt;
  }
  if (text.size() != 36 && text.size() != 32) return std::nullopt;
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Status GtidFormError(const std::string& engine) {
  return Status::Error("cannot compare a " + engine +
                       " binlog file position with a GTID position; the checkpoint was written "
                       "while the source ran with a different GTID setting, so clear the "
                       "checkpoint and re-snapshot, or restore the source's GTID mode");
}

Result<bool> IsMariaDbCovered(const Position& transaction, const Position& checkpoint) {
  Result<MariaDbGtidState> tx = ParseMariaDbGtidState(transaction.value());
  if (!tx.ok()) return tx.status().WithContext("transaction position");
  Result<MariaDbGtidState> cp = ParseMariaDbGtidState(checkpoint.value());
  if (!cp.ok()) return cp.status().WithContext("checkpoint position");
  for (const auto& [domain, gtid] : *tx) {
    auto it = cp->find(domain);
    if (it == cp->end() || gtid.seq > it->second.seq) return false;
  }
  return true;
}

Result<bool> IsMySqlCovered(const Position& transaction, const Position& checkpoint) {
  Result<MySqlGtidSet> tx = ParseMySqlGtidSet(transaction.value());
  if (!tx.ok()) return tx.status().WithContext("transaction position");
  Result<MySqlGtidSet> cp = ParseMySqlGtidSet(checkpoint.value());
  if (!cp.ok()) return cp.status().WithContext("checkpoint position");
  return IsMySqlGtidSubset(*tx, *cp);
}

Result<bool> IsBinlogCovered(const Position& transaction, const Position& checkpoint) {
  const bool tx_file = IsBinlogFilePosition(transaction.value());
  const bool cp_file = IsBinlogFilePosition(checkpoint.value());
  if (tx_file != cp_file) return GtidFormError(transaction.engine());
  if (tx_file) {
    Result<BinlogFilePosition> tx = ParseBinlogFilePosition(transaction.value());
    if (!tx.ok()) return tx.status().WithContext("transaction position");
    Result<BinlogFilePosition> cp = ParseBinlogFilePosition(checkpoint.value());
    if (!cp.ok()) return cp.status().WithContext("checkpoint position");
    return FilePositionLessOrEqual(*tx, *cp);
  }
  if (transaction.engine() == kEngineMariaDb) return IsMariaDbCovered(transaction, checkpoint);
  return IsMySqlCovered(transaction, checkpoint);
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

std::string FormatBinlogFilePosition(const std::string& file, uint64_t offset) {
  return "file:" + file + ":" + std::to_string(offset);
}

bool IsBinlogFilePosition(const std::string& value) { return value.rfind("file:", 0) == 0; }

Result<BinlogFilePosition> ParseBinlogFilePosition(const std::string& value) {
  const size_t colon = value.rfind(':');
  std::optional<uint64_t> offset;
  if (IsBinlogFilePosition(value) && colon > 5) {
    offset = ParseDecimal(std::string_view(value).substr(colon + 1));
  }
  if (!offset) {
    return Status::Error("invalid binlog file position '" + value +
                         "': expected file:<binlog file name>:<offset>, like "
                         "file:mysql-bin.000042:1234");
  }
  return BinlogFilePosition{value.substr(5, colon - 5), *offset};
}

Result<MariaDbGtidState> ParseMariaDbGtidState(const std::string& text) {
  MariaDbGtidState state;
  if (Trim(text).empty()) return state;
  for (std::string_view item : Split(text, ',')) {
    const std::vector<std::string_view> parts = Split(Trim(item), '-');
    std::optional<uint64_t> domain, server, seq;
    if (parts.size() == 3) {
      domain = ParseDecimal(parts[0], UINT32_MAX);
      server = ParseDecimal(parts[1], UINT32_MAX);
      seq = ParseDecimal(parts[2]);
    }
    if (!domain || !server || !seq) {
      return Status::Error("invalid MariaDB GTID '" + std::string(item) + "' in '" + text +
                           "': expected domain-server-sequence numbers, like 0-1-42");
    }
    const MariaDbGtid gtid{static_cast<uint32_t>(*domain), static_cast<uint32_t>(*server), *seq};
    if (!state.emplace(gtid.domain, gtid).second) {
      return Status::Error("invalid MariaDB GTID state '" + text + "': domain " +
                           std::to_string(gtid.domain) + " appears twice");
    }
  }
  return state;
}

std::string FormatMariaDbGtidState(const MariaDbGtidState& state) {
  std::string text;
  for (const auto& [domain, gtid] : state) {
    if (!text.empty()) text += ',';
    text +=
        std::to_string(domain) + "-" + std::to_string(gtid.server) + "-" + std::to_string(gtid.seq);
  }
  return text;
}

void AddMySqlGtids(MySqlGtidSet& set, const std::string& uuid, uint64_t first, uint64_t last) {
  std::vector<std::pair<uint64_t, uint64_t>>& intervals = set[uuid];
  intervals.emplace_back(first, last);
  std::sort(intervals.begin(), intervals.end());
  // Merge overlapping and adjacent intervals ([1,3] and [4,5] become [1,5]).
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& interval : intervals) {
    if (!merged.empty() &&
        (merged.back().second == UINT64_MAX || interval.first <= merged.back().second + 1)) {
      merged.back().second = std::max(merged.back().second, interval.second);
    } else {
      merged.push_back(interval);
    }
  }
  intervals = std::move(merged);
}

Result<MySqlGtidSet> ParseMySqlGtidSet(const std::string& text) {
  MySqlGtidSet set;
  auto invalid = [&text](std::string_view item, const std::string& why) {
    return Status::Error("invalid MySQL GTID set '" + text + "' at '" + std::string(item) +
                         "': " + why +
                         "; expected uuid:first-last[:first-last...] per source, "
                         "comma separated, like 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42");
  };
  for (std::string_view item : Split(text, ',')) {
    item = Trim(item);
    if (item.empty()) continue;  // "" is the empty set; MySQL prints ",\n" between sources
    const std::vector<std::string_view> parts = Split(item, ':');
    std::optional<std::string> uuid = CanonicalUuid(Trim(parts[0]));
    if (!uuid) return invalid(item, "the source UUID is not 32 hexadecimal digits");
    if (parts.size() < 2) return invalid(item, "no transaction numbers");
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::vector<std::string_view> ends = Split(Trim(parts[i]), '-');
      std::optional<uint64_t> first = ParseDecimal(ends[0]);
      std::optional<uint64_t> last = ends.size() == 2 ? ParseDecimal(ends[1]) : first;
      if (ends.size() > 2 || !first || !last || *first == 0 || *last < *first) {
        return invalid(item, "'" + std::string(parts[i]) +
                                 "' is not a transaction number or range (tagged GTIDs are not "
                                 "supported)");
      }
      AddMySqlGtids(set, *uuid, *first, *last);
    }
  }
  return set;
}

std::string FormatMySqlGtidSet(const MySqlGtidSet& set) {
  std::string text;
  for (const auto& [uuid, intervals] : set) {
    if (intervals.empty()) continue;
    if (!text.empty()) text += ',';
    text += uuid;
    for (const auto& [first, last] : intervals) {
      text += ':' + std::to_string(first);
      if (last != first) text += '-' + std::to_string(last);
    }
  }
  return text;
}

bool IsMySqlGtidSubset(const MySqlGtidSet& subset, const MySqlGtidSet& set) {
  for (const auto& [uuid, intervals] : subset) {
    if (intervals.empty()) continue;
    auto it = set.find(uuid);
    if (it == set.end()) return false;
    // Both lists are sorted and merged: each interval must lie inside one interval of `set`.
    for (const std::pair<uint64_t, uint64_t>& interval : intervals) {
      const bool inside = std::any_of(it->second.begin(), it->second.end(), [&](const auto& iv) {
        return iv.first <= interval.first && interval.second <= iv.second;
      });
      if (!inside) return false;
    }
  }
  return true;
}

bool IsStreamPosition(const Position& position) {
  if (position.engine().empty()) return false;
  if (!position.value().empty()) return true;
  return position.engine() == kEngineMariaDb || position.engine() == kEngineMySql;
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
  if (transaction.engine() == kEngineMariaDb || transaction.engine() == kEngineMySql) {
    return IsBinlogCovered(transaction, checkpoint);
  }
  return Status::Error("cannot compare positions of engine '" + transaction.engine() +
                       "': wire/position.cc knows no ordering for it");
}

}  // namespace ferry::wire
