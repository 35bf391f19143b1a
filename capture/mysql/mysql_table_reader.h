// MariaDB's TableReader (capture/table_reader.h). The Relation is RelationFromTableMap of the
// TABLE_MAP the server logs for the table with binlog_row_metadata=FULL, rebuilt from
// information_schema (TableMapFromCatalog), so names, source types and logical types are the
// stream's; its id is 0, as the stream numbers relations per session. Rows come over the binary
// protocol (prepared statements): integers and FLOAT/DOUBLE exact, temporal values as MYSQL_TIME
// in a UTC session (TIMESTAMP as its UTC instant, zero and partial dates as they are), strings
// as their stored bytes (character_set_results=binary) through the stream's charset
// conversion. Keyset pagination by the primary key uses the expanded form
// `k1 > ? OR (k1 = ? AND k2 > ?) ...`, which MariaDB 10.11 plans as a range scan of the primary
// key; a row comparison `(k1, k2) > (?, ?)` is planned as an index scan from the first key,
// filtered, so every later chunk would read all rows before it (mariadb_table_reader_test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "capture/mysql/binlog_stream.h"
#include "capture/table_reader.h"

namespace ferry::capture::mysql {

// The SQL the reader prepares, pure so it is unit-tested. Identifiers are quoted with backticks;
// values are `?` parameters bound in the order MysqlChunkParameters gives.
std::string MysqlChunkQuery(const KeyedRelation& table, bool after_key, size_t limit);
// For each `?` of MysqlChunkQuery(table, true, ...): the index into the key it binds.
std::vector<size_t> MysqlChunkParameters(size_t key_width);
// Rows whose key is one of `key_count` keys (a one-column key: one IN list); parameters key
// after key.
std::string MysqlKeysQuery(const KeyedRelation& table, size_t key_count);

// Where a consistent read stands in the binary log.
struct ConsistentSnapshot {
  std::string file;       // binlog_snapshot_file
  uint64_t position = 0;  // binlog_snapshot_position
  std::string gtid;       // BINLOG_GTID_POS(file, position): the GTID state at that point
};

class MysqlTableReader : public TableReader {
 public:
  // Every read after this sees one snapshot (START TRANSACTION WITH CONSISTENT SNAPSHOT), until
  // EndConsistentRead; returns the binlog position and GTID state the snapshot corresponds to:
  // every transaction before it is in the snapshot, none after it. The GTID state is
  // BINLOG_GTID_POS(binlog_snapshot_file, binlog_snapshot_position); @@gtid_binlog_pos read in
  // the same transaction is the server's current state, which can already hold later commits.
  virtual Result<ConsistentSnapshot> BeginConsistentRead() = 0;
  virtual Status EndConsistentRead() = 0;
};

// Connects to `dsn` (the capture config's MariaDB DSN).
Result<std::unique_ptr<MysqlTableReader>> ConnectMysqlTableReader(const std::string& dsn);

// A connection to `dsn` with the session a reader needs (UTC, results as their stored bytes).
Result<std::unique_ptr<MysqlConnection>> ConnectMysqlReaderSession(const std::string& dsn);
// A reader over `connection` (from ConnectMysqlReaderSession), which must outlive it, for a
// caller that runs its own statements on that connection between the reader's.
std::unique_ptr<MysqlTableReader> MakeMysqlTableReader(MysqlConnection& connection);

}  // namespace ferry::capture::mysql
