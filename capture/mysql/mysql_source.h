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
//     silent skip (ARCHITECTURE.md #6).
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
// What a TABLE_MAP leaves out without binlog_row_metadata=FULL (names, UNSIGNED, charsets,
// ENUM/SET members, the primary key) comes from information_schema, read on a second connection
// and refreshed on every DDL that mentions the table; table_catalog.h checks that it describes
// the table as the event logged it, and stops the stream with the fix when it cannot be sure.
//
// Statements that reach the binlog as QUERY events: TRUNCATE of a replicated table becomes a
// truncate change (binlog_decoder.h); one that changes its rows in a way no row event shows
// (DROP or RENAME TABLE, partition maintenance, statement-based DML: statement_effect.h) stops
// the stream with the statement named, unless listed in skip_statements.
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
  // password may be absent), with TLS keys such as "sslmode=verify-full sslrootcert=ca.pem".
  // See common/mysql_dsn.h (MysqlDsnRole::kSource).
  std::string dsn;
  // The replica server id this reader uses: not 0, not the source's own, and unique among the
  // source's replicas (the server ends an older dump with the same id).
  uint32_t server_id = 0;
  // "schema.table" or "schema.*"; only these tables' changes are emitted. Empty: every table
  // outside the system schemas (mysql, information_schema, performance_schema, sys).
  std::vector<std::string> tables;
  // Statements that change rows of replicated tables without row events stop the stream
  // (statement_effect.h); one named here (by its GTID "0-1-57", or "file:<name>:<offset>", as
  // the error gives it) is passed over with a warning: the operator made the change on the
  // target.
  std::vector<std::string> skip_statements;
};

std::unique_ptr<ChangeSource> MakeMysqlSource(MysqlSourceOptions options);

}  // namespace ferry::capture::mysql
