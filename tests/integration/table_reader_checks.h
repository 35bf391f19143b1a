// What the TableReader tests of every engine check the same way: the rows a real ChangeSource
// streams for freshly inserted rows, compared value by value (serialized bytes) with what a
// TableReader reads of the same rows; and a whole table read chunk by chunk.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "capture/source.h"
#include "capture/table_reader.h"

namespace ferry::capture {

// A table as the stream showed it: its last Relation and the rows of its INSERTs, in order.
struct StreamedTable {
  wire::Relation relation;
  std::vector<Row> inserted;
};

// Reads `source` until `commits` transactions have committed; the tables they touched by
// "schema.table".
inline Result<std::map<std::string, StreamedTable>> StreamInserts(
    ChangeSource& source, int commits, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  std::map<std::string, StreamedTable> tables;
  std::map<uint32_t, std::string> names;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (commits > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Error("timed out waiting for " + std::to_string(commits) + " commits");
    }
    Result<SourceEvent> event = source.Next(std::chrono::milliseconds(200));
    if (!event.ok()) return event.status();
    if (auto* relation = std::get_if<wire::Relation>(&*event)) {
      const std::string name = relation->schema() + "." + relation->table();
      names[relation->id()] = name;
      tables[name].relation = *relation;
    } else if (auto* change = std::get_if<wire::RowChange>(&*event)) {
      if (change->op() != wire::RowChange::INSERT) continue;
      const auto& values = change->new_values();
      tables[names.at(change->relation_id())].inserted.emplace_back(values.begin(), values.end());
    } else if (std::holds_alternative<wire::Commit>(*event)) {
      --commits;
    }
  }
  return tables;
}

inline std::string Show(const Row& row) {
  std::string text;
  for (const wire::Value& value : row) text += "[" + value.ShortDebugString() + "] ";
  return text;
}

// Every value of `read` is byte for byte the value of `streamed` in the same place.
inline void ExpectSameRows(const wire::Relation& relation, const std::vector<Row>& streamed,
                           const std::vector<Row>& read) {
  ASSERT_EQ(streamed.size(), read.size());
  for (size_t r = 0; r < streamed.size(); ++r) {
    ASSERT_EQ(streamed[r].size(), read[r].size()) << "row " << r;
    for (size_t c = 0; c < streamed[r].size(); ++c) {
      EXPECT_EQ(streamed[r][c].SerializeAsString(), read[r][c].SerializeAsString())
          << relation.table() << " row " << r << " column " << relation.columns(c).name() << " ("
          << relation.columns(c).source_type() << "): streamed "
          << streamed[r][c].ShortDebugString() << ", read " << read[r][c].ShortDebugString();
    }
  }
}

// The same, matching the rows by key: `read` holds the streamed rows, each once, in any order.
inline void ExpectSameRowsByKey(const KeyedRelation& table, const std::vector<Row>& streamed,
                                const std::vector<Row>& read) {
  std::map<std::string, const Row*> by_key;
  for (const Row& row : streamed) by_key[Show(KeyOf(table, row))] = &row;
  ASSERT_EQ(by_key.size(), streamed.size()) << "streamed rows with the same key";
  ASSERT_EQ(read.size(), streamed.size());
  std::vector<Row> matched;
  for (const Row& row : read) {
    auto found = by_key.find(Show(KeyOf(table, row)));
    ASSERT_NE(found, by_key.end()) << "read a row the stream did not send: " << Show(row);
    matched.push_back(*found->second);
  }
  ExpectSameRows(table.relation, matched, read);
}

// The whole table, chunk after chunk of at most `limit` rows, each chunk starting after the
// previous one's last key. Fails on a chunk larger than `limit`, an empty chunk that does not
// end the table, and on more chunks than rows could need.
inline std::vector<Row> ReadAll(TableReader& reader, const KeyedRelation& table, size_t limit,
                                int* chunks = nullptr) {
  std::vector<Row> rows;
  Key after;
  for (int chunk_count = 1;; ++chunk_count) {
    Result<Chunk> chunk = reader.ReadChunk(table, after, limit);
    EXPECT_TRUE(chunk.ok()) << chunk.message();
    if (!chunk.ok()) return rows;
    EXPECT_LE(chunk->rows.size(), limit);
    rows.insert(rows.end(), chunk->rows.begin(), chunk->rows.end());
    if (chunk->exhausted) {
      if (chunks != nullptr) *chunks = chunk_count;
      return rows;
    }
    EXPECT_EQ(chunk->rows.size(), limit) << "a short chunk that does not end the table";
    if (chunk->rows.empty() || chunk_count > 100000) return rows;
    after = KeyOf(table, chunk->rows.back());
  }
}

}  // namespace ferry::capture
