// Reading a source table's existing rows, for the initial snapshot, an online re-snapshot of one
// table (DBLog key-range chunks) and `ferry verify`: in key order, in bounded chunks, by keyset
// pagination (never OFFSET), each row typed as the change stream types that table's rows.
//
// Invariant: a row read here and the same row sent by the engine's ChangeSource are the same
// wire::Values column by column (same Relation: names, source types, logical types, key flags),
// so the apply side cannot tell a copied row from a streamed one. Engine adapters
// (capture/postgres, capture/mysql) implement TableReader; errors are values, and memory is
// bounded by what the caller asks for (`limit` rows, or the keys it passes).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::capture {

using Row = std::vector<wire::Value>;  // one value per column of the relation
using Key = std::vector<wire::Value>;  // one value per key column, in KeyedRelation::key order

// A table as the change stream describes it, and the key its rows are read in order of.
struct KeyedRelation {
  // As the stream's Relation for this table. Its id: PostgreSQL the table's OID, as pgoutput's;
  // MariaDB 0, since the binlog stream numbers relations per session.
  wire::Relation relation;
  // Indexes into relation.columns() of the primary key (PostgreSQL: of the replica identity
  // index when the table's REPLICA IDENTITY is USING INDEX), in the index's column order. Not
  // always the columns the Relation flags as key: REPLICA IDENTITY FULL flags every column.
  std::vector<int> key;
};

// Up to `limit` rows in ascending key order.
struct Chunk {
  std::vector<Row> rows;
  bool exhausted = false;  // no row of the table has a key beyond the last row here
};

class TableReader {
 public:
  virtual ~TableReader() = default;

  // The table's Relation as the stream sends it and its key. A table without a primary key (or
  // a missing table) is an error that names the fix: chunks need a key to order and resume by.
  virtual Result<KeyedRelation> Describe(const std::string& schema, const std::string& table) = 0;

  // As Describe, but a table without a primary key is described too, with an empty `key`: such
  // a table can only be read whole, by one ReadChunk from the start, in no order.
  virtual Result<KeyedRelation> DescribeAnyTable(const std::string& schema,
                                                 const std::string& table) = 0;

  // Up to `limit` (> 0) rows whose key is strictly greater than `after` (empty: from the first
  // row), ascending by key. The next chunk starts after KeyOf(table, rows.back()).
  virtual Result<Chunk> ReadChunk(const KeyedRelation& table, const Key& after, size_t limit) = 0;

  // The rows whose keys are among `keys`, each once, in no promised order (match them with
  // KeyOf); keys without a row are left out.
  virtual Result<std::vector<Row>> ReadKeys(const KeyedRelation& table,
                                            const std::vector<Key>& keys) = 0;
};

// The key of `row`, a row of `table`.
inline Key KeyOf(const KeyedRelation& table, const Row& row) {
  Key key;
  key.reserve(table.key.size());
  for (int column : table.key) key.push_back(row.at(column));
  return key;
}

}  // namespace ferry::capture
