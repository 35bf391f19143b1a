// MySQL/MariaDB as a change source: the server's row-based binary log, read as a replica would
// (COM_BINLOG_DUMP through MariaDB Connector/C) and decoded by capture/mysql/binlog_decoder.h.
//
// Start() connects, tells MariaDB from MySQL by the version, and refuses a server that cannot
// give whole row images: log_bin OFF, binlog_format other than ROW, binlog_row_image other than
// FULL, each with the setting to change. Positions (engine "mariadb" or "mysql", wire/position.h):
//   - an empty resume position starts at the server's current end of log (MariaDB: the GTID
//     state @@gtid_binlog_pos; MySQL: SHOW MASTER STATUS);
//   - a MariaDB GTID state resumes in GTID mode, strictly: the server refuses a state it cannot
//     continue exactly;
//   - "file:<name>:<offset>" resumes at that offset (the transaction there is read again; the
//     apply side skips it);
//   - a position the server has purged is an error that says a re-snapshot is needed, never a
//     silent skip (DESIGN.md #6).
// MariaDB logs a GTID for every transaction, so its positions are GTID states even when the dump
// starts at a file position (the state there comes from BINLOG_GTID_POS). MySQL sources must run
// with gtid_mode=OFF and give file positions: Connector/C cannot send COM_BINLOG_DUMP_GTID, so a
// MySQL GTID set could not be resumed.
//
// A reader thread fetches and decodes events into a bounded queue (backpressure reaches the
// server: while the queue is full nothing is read from the socket), and Next() takes from it.
// Only the configured tables' changes are emitted; a transaction without one of their rows is
// dropped whole. The server's HEARTBEAT events and idle moments become SourceHeartbeats whose
// head is the reader's position. Confirm() only logs: the server keeps its binary logs by time
// (binlog_expire_logs_seconds), not by reader.
//
// Column names come from the TABLE_MAP when the server logs binlog_row_metadata=FULL (MariaDB
// 10.5+, MySQL 8.0.1+). Without it they come from information_schema.COLUMNS, read on a second
// connection and refreshed on every DDL that mentions the table: that is the table as it is now,
// which is exact only while the reader is near the head of the log. A column count or type that
// does not match the event is an error, never a guess. Character sets come from the TABLE_MAP
// with binlog_row_metadata=MINIMAL or FULL, and from information_schema.COLUMNS likewise without
// (NO_LOG, MySQL 5.7), so that text in any charset arrives as UTF-8.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/mysql/row_decoder.h"
#include "capture/source.h"

namespace ferry::capture::mysql {

struct MysqlSourceOptions {
  // "host=127.0.0.1 port=3306 user=ferry password=... dbname=app" (key=value, like libpq;
  // password may be absent). See ParseMysqlDsn in binlog_stream.h.
  std::string dsn;
  // The replica server id this reader uses: not 0, not the source's own, and unique among the
  // source's replicas (the server ends an older dump with the same id).
  uint32_t server_id = 0;
  // "schema.table" or "schema.*"; only these tables' changes are emitted. Empty: every table
  // outside the system schemas (mysql, information_schema, performance_schema, sys).
  std::vector<std::string> tables;
  ValueOptions values;  // value decoding choices (row_decoder.h)
};

std::unique_ptr<ChangeSource> MakeMysqlSource(MysqlSourceOptions options);

}  // namespace ferry::capture::mysql
