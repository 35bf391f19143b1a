// What the ChunkReader tests of every engine check the same way, against the engine's real
// ChangeSource: a transaction committed before a chunk's read is kIncluded and its row is in the
// chunk; one committed after the read is kAfter and its row is not; a heartbeat after both
// passes the fence.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "capture/chunk_reader.h"
#include "capture/source.h"

namespace ferry::capture {

inline std::string PlaceName(const Result<FencePlace>& place) {
  if (!place.ok()) return "error: " + place.message();
  switch (*place) {
    case FencePlace::kIncluded:
      return "included";
    case FencePlace::kAfter:
      return "after";
    case FencePlace::kConcurrent:
      return "concurrent";
  }
  return "?";
}

// The Begins of the next `count` transactions `source` streams.
inline Result<std::vector<wire::Begin>> NextBegins(
    ChangeSource& source, size_t count, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  std::vector<wire::Begin> begins;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (begins.size() < count) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Error("timed out with " + std::to_string(begins.size()) + " of " +
                           std::to_string(count) + " transactions");
    }
    Result<SourceEvent> event = source.Next(std::chrono::milliseconds(200));
    if (!event.ok()) return event.status();
    if (auto* begin = std::get_if<wire::Begin>(&*event)) begins.push_back(*begin);
  }
  return begins;
}

// Reads `source` until a heartbeat whose head passes `fence`, and says how long that took. Fails
// on a transaction: the tests that wait so expect none.
inline Result<std::chrono::milliseconds> TimeUntilPassed(ChangeSource& source,
                                                         const ChunkFence& fence,
                                                         std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    Result<SourceEvent> event = source.Next(std::chrono::milliseconds(50));
    if (!event.ok()) return event.status();
    if (std::holds_alternative<wire::Begin>(*event)) {
      return Status::Error("a transaction arrived while waiting for a heartbeat");
    }
    const auto* heartbeat = std::get_if<SourceHeartbeat>(&*event);
    if (heartbeat == nullptr) continue;
    Result<bool> passed = fence.PassedBy(heartbeat->head);
    if (!passed.ok()) return passed.status();
    if (*passed) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    }
  }
  return Status::Error("no heartbeat passed the fence (" + fence.Describe() + ") within " +
                       std::to_string(timeout.count()) + " ms");
}

// The first column of each row, an integer id in these tests.
inline std::vector<int64_t> Ids(const std::vector<Row>& rows) {
  std::vector<int64_t> ids;
  for (const Row& row : rows) ids.push_back(row.at(0).int64());
  return ids;
}

// With `source` streaming the empty table `schema`.`table` (id int PRIMARY KEY, v text):
// transaction A inserts id 1, then a chunk is read, then transaction B inserts id 2. `exec` runs
// SQL on the source.
inline void ExpectChunkBetweenTransactions(ChangeSource& source, ChunkReader& reader,
                                           const std::string& schema, const std::string& table,
                                           const std::function<Status(const std::string&)>& exec) {
  Result<KeyedRelation> relation = reader.Describe(schema, table);
  ASSERT_TRUE(relation.ok()) << relation.message();
  ASSERT_TRUE(exec("INSERT INTO " + table + " VALUES (1, 'a')").ok());
  Result<FencedChunk> read = reader.ReadChunk(*relation, {}, 100);
  ASSERT_TRUE(read.ok()) << read.message();
  ASSERT_TRUE(exec("INSERT INTO " + table + " VALUES (2, 'b')").ok());

  EXPECT_EQ(Ids(read->chunk.rows), std::vector<int64_t>{1});
  EXPECT_TRUE(read->chunk.exhausted);
  Result<std::vector<wire::Begin>> begins = NextBegins(source, 2);
  ASSERT_TRUE(begins.ok()) << begins.message();
  const ChunkFence& fence = *read->fence;
  EXPECT_EQ(PlaceName(fence.Place((*begins)[0])), "included")
      << fence.Describe() << "; A at " << (*begins)[0].ShortDebugString();
  EXPECT_EQ(PlaceName(fence.Place((*begins)[1])), "after")
      << fence.Describe() << "; B at " << (*begins)[1].ShortDebugString();
  Result<std::chrono::milliseconds> passed =
      TimeUntilPassed(source, fence, std::chrono::seconds(10));
  EXPECT_TRUE(passed.ok()) << passed.message();
}

}  // namespace ferry::capture
