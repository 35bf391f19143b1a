// The retention probe of a MySQL/MariaDB source (capture/retention_watch.h). The server keeps
// binary logs by age (binlog_expire_logs_seconds), for no reader in particular, so what a
// subscriber risks is known only from the position it last acknowledged: the binary log that
// holds it, the bytes from there to the end, and the time before that file expires.
#pragma once

#include <string>
#include <vector>

#include "capture/retention_watch.h"

namespace ferry::capture::mysql {

// Connects for each check; remembers each binary log's starting GTID state (it never changes)
// so a check reads SHOW BINLOG EVENTS only for files it has not seen.
RetentionProbe MysqlRetentionProbe(std::string dsn);

// One binary log as the probe sees it: its size and the GTID state before its first
// transaction (MariaDB Gtid_list, MySQL Previous_gtids), "" when unknown or without GTIDs.
struct BinaryLog {
  std::string name;
  uint64_t size = 0;
  std::string start_state;
};

// What a subscriber at `acknowledged` risks, given the server's binary logs (oldest first), its
// binlog_expire_logs_seconds (0: never) and its clock. The file holding a GTID position is the
// newest whose start state the position covers. Its expiry is counted from the acknowledged
// commit's time, which is no later than the file's last write: the figure errs early, never late.
BookmarkRetention BinlogRetention(const AcknowledgedPosition& acknowledged,
                                  const std::vector<BinaryLog>& logs, int64_t expire_seconds,
                                  int64_t server_time_us);

}  // namespace ferry::capture::mysql
