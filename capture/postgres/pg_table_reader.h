// PostgreSQL's TableReader (capture/table_reader.h), over a PgConnection (pg_connection.h), whose
// session settings make a text-format SELECT return each value as the text pgoutput sends for
// it, typed by column type OID through the same pg_values.h. The Relation is built from the
// catalogs the way pgoutput builds its Relation message: columns that are not dropped or
// generated, key flags from the replica identity, type names as PgOutputDecoder names them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "capture/postgres/pg_connection.h"
#include "capture/table_reader.h"

namespace ferry::capture::postgres {

// The SQL the reader sends, pure so it is unit-tested. Identifiers are quoted; values are
// parameters $1.. in key order, typed by the key columns' type OIDs.

// SELECT every column of the relation, key strictly after $1..$k when `after_key`, ordered by
// the key, at most `limit` rows.
std::string PgChunkQuery(const KeyedRelation& table, bool after_key, size_t limit);
// SELECT every column of the rows whose key is one of `key_count` parameter tuples.
std::string PgKeysQuery(const KeyedRelation& table, size_t key_count);

class PostgresTableReader : public TableReader {
 public:
  // Every chunk read after this sees the snapshot `snapshot_name` (exported by the session that
  // created a replication slot, which must still be open), in one REPEATABLE READ transaction,
  // until EndConsistentRead.
  virtual Status BeginConsistentRead(const std::string& snapshot_name) = 0;
  virtual Status EndConsistentRead() = 0;
};

// Connects to `dsn` (key=value or URI). Errors name the server's message.
Result<std::unique_ptr<PostgresTableReader>> ConnectPostgresTableReader(const std::string& dsn);

// A reader over `connection`, which must outlive it, for a caller that runs its own transactions
// on that connection: every read happens inside whatever transaction the caller has open.
std::unique_ptr<PostgresTableReader> MakePostgresTableReader(PgConnection& connection);

}  // namespace ferry::capture::postgres
