// Chunk checksums computed inside the database, as pt-table-checksum does (no triggers, no
// locks): where source and target share an engine and the compared columns have the same types
// on both sides, equal rows have equal text in the database itself, so a chunk whose row count
// and checksum agree on both sides need not cross the network. Only a chunk whose checksums
// differ is read row by row.
//
// A chunk is the first `limit` source rows after a key, in key order; the target's rows of the
// same key range (after that key, up to the chunk's last key; the last chunk has no upper
// bound) are summed the same way. So every target row falls in exactly one range, which holds
// only when both sides order keys alike: RowPlan::ChecksumColumns allows only key types whose
// order does not depend on a collation.
//
// Checksum: the row count, and the XOR over the rows of two 64-bit hashes of the row's columns
// as text (NULLs marked), order-independent as pt-table-checksum's: PostgreSQL hashes a row
// value's text with hashtextextended, MariaDB takes the two halves of the MD5 of the columns'
// bytes, each prefixed by its length. A row's text is its engine's, so checksums compare
// between two databases of one engine only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/table_reader.h"
#include "common/status.h"
#include "verify/canonical.h"

namespace ferry::verify {

using capture::Key;
using capture::KeyedRelation;

struct ChunkSum {
  uint64_t rows = 0;
  std::string checksum;  // equal on both sides when the rows are
  Key last;              // the chunk's last key (NextChunk only; empty when no rows)
};

class ChunkChecksummer {
 public:
  virtual ~ChunkChecksummer() = default;
  // The first `limit` rows after `after` (empty: from the first row) in key order, summed over
  // `columns` (indexes into the relation, in the order they are compared).
  virtual Result<ChunkSum> NextChunk(const KeyedRelation& table, const std::vector<int>& columns,
                                     const Key& after, size_t limit) = 0;
  // Every row after `after` (empty: from the first) up to and including `upto` (empty: no upper
  // bound), summed over `columns`.
  virtual Result<ChunkSum> Range(const KeyedRelation& table, const std::vector<int>& columns,
                                 const Key& after, const Key& upto) = 0;
};

// A checksummer on its own connection, in the session the engine's TableReader uses (UTC).
Result<std::unique_ptr<ChunkChecksummer>> ConnectChecksummer(Engine engine, const std::string& dsn);
// The engine adapters ConnectChecksummer picks from (checksum_postgres.cc, checksum_mysql.cc).
Result<std::unique_ptr<ChunkChecksummer>> ConnectPostgresChecksummer(const std::string& dsn);
Result<std::unique_ptr<ChunkChecksummer>> ConnectMysqlChecksummer(const std::string& dsn);

// ---- pure parts, exposed for tests -----------------------------------------------------------

// PostgreSQL: keys are parameters $1.. (the lower bound, then the upper bound), their types
// taken from the key columns they are compared with.
std::string PgNextChunkSql(const KeyedRelation& table, const std::vector<int>& columns, bool after,
                           size_t limit);
std::string PgRangeSql(const KeyedRelation& table, const std::vector<int>& columns, bool after,
                       bool upto);

// MariaDB: keys are SQL literals (quoted by the connection), one per key column.
std::string MysqlNextChunkSql(const KeyedRelation& table, const std::vector<int>& columns,
                              const std::vector<std::string>& after, size_t limit);
std::string MysqlLastKeySql(const KeyedRelation& table, const std::vector<std::string>& after,
                            uint64_t offset);
std::string MysqlRangeSql(const KeyedRelation& table, const std::vector<int>& columns,
                          const std::vector<std::string>& after,
                          const std::vector<std::string>& upto);

// A key column's value from the text its engine prints for it, typed as the engine's
// TableReader types it (for the key types checksums allow).
Result<wire::Value> KeyValueFromText(const wire::Column& column, Engine engine,
                                     const std::string& text);

// Whether chunks of a key of these types can be compared by checksum: numbers, dates and times,
// uuids; not text, whose order depends on each server's collation.
bool OrderedAlikeOnEveryServer(wire::LogicalType key_type);

}  // namespace ferry::verify
