// Position helpers shared by a capture adapter and the apply side's duplicate check.
// A Position is engine-tagged; only these functions look inside its value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::wire {

inline constexpr char kEnginePostgres[] = "postgres";
inline constexpr char kEngineMariaDb[] = "mariadb";
inline constexpr char kEngineMySql[] = "mysql";

// PostgreSQL LSNs in their usual text form "16/B374D848".
std::string FormatPgLsn(uint64_t lsn);
Result<uint64_t> ParsePgLsn(const std::string& text);
Position PgPosition(uint64_t lsn);

// MySQL/MariaDB positions (engine "mariadb" or "mysql") take one of two forms:
//   - "file:<binlog file name>:<offset>" where the server has no GTIDs: the offset of the
//     transaction's first event;
//   - a GTID state including the transaction: MariaDB "domain-server-seq" per domain, comma
//     separated and sorted by domain ("0-1-42,1-2-7"); MySQL a GTID set ("uuid:1-42:50,uuid2:7").
struct BinlogFilePosition {
  std::string file;
  uint64_t offset = 0;
};
std::string FormatBinlogFilePosition(const std::string& file, uint64_t offset);
bool IsBinlogFilePosition(const std::string& value);
Result<BinlogFilePosition> ParseBinlogFilePosition(const std::string& value);

// MariaDB GTID state: the last GTID of each replication domain.
struct MariaDbGtid {
  uint32_t domain = 0;
  uint32_t server = 0;
  uint64_t seq = 0;
};
using MariaDbGtidState = std::map<uint32_t, MariaDbGtid>;  // by domain
Result<MariaDbGtidState> ParseMariaDbGtidState(const std::string& text);
std::string FormatMariaDbGtidState(const MariaDbGtidState& state);

// MySQL GTID set: per source UUID (lower-case text with dashes), sorted disjoint inclusive
// intervals of transaction numbers.
using MySqlGtidSet = std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>>;
Result<MySqlGtidSet> ParseMySqlGtidSet(const std::string& text);
std::string FormatMySqlGtidSet(const MySqlGtidSet& set);
// Adds the interval [first, last] for `uuid` (lower-case), merging with what is there.
void AddMySqlGtids(MySqlGtidSet& set, const std::string& uuid, uint64_t first, uint64_t last);
bool IsMySqlGtidSubset(const MySqlGtidSet& subset, const MySqlGtidSet& set);

// True when `position` names a point in a source's stream: an engine and a value. The one empty
// value that is a point is a MySQL/MariaDB GTID state (or set) with nothing in it, the start of
// the log of a server that has never written a transaction.
bool IsStreamPosition(const Position& position);

// True when a transaction at `transaction` is already covered by a checkpoint at `checkpoint`
// (so applying it again would apply it twice). Both must come from the same upstream; an error
// when the engines differ or a value does not parse. MySQL/MariaDB: file positions compare by the
// file name's numeric suffix, then the name, then the offset; a MariaDB GTID state is covered when
// every domain's seq is at most the checkpoint's for that domain (a domain the checkpoint lacks
// is not covered); a MySQL GTID set is covered when it is a subset of the checkpoint's. A file
// position and a GTID state cannot be compared: an error.
Result<bool> IsCovered(const Position& transaction, const Position& checkpoint);

}  // namespace ferry::wire
