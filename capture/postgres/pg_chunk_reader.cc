#include "capture/postgres/pg_chunk_reader.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

#include "capture/postgres/pg_connection.h"
#include "capture/postgres/pg_table_reader.h"
#include "wire/position.h"

namespace ferry::capture::postgres {
namespace {

// XLogPageHeaderData and XLogLongPageHeaderData, MAXALIGNed: the first page of a WAL segment has
// the long header, every other page the short one.
constexpr uint64_t kShortPageHeader = 24;
constexpr uint64_t kLongPageHeader = 40;

std::optional<uint64_t> ParseU64(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Status SnapshotError(const std::string& text, const std::string& why) {
  return Status::Error("invalid PostgreSQL snapshot '" + text + "': " + why +
                       " (expected xmin:xmax:xip,... as pg_current_snapshot() gives it)");
}

// The position of a streamed Begin or a heartbeat head as an LSN; `what` names it in errors.
Result<uint64_t> PgLsnOf(const wire::Position& position, const std::string& what) {
  if (position.engine() != wire::kEnginePostgres) {
    return Status::Error("a PostgreSQL chunk fence cannot place " + what + " of engine \"" +
                         position.engine() + "\"");
  }
  Result<uint64_t> lsn = wire::ParsePgLsn(position.value());
  if (!lsn.ok()) return lsn.status().WithContext(what);
  return lsn;
}

class PgFence final : public ChunkFence {
 public:
  PgFence(PgSnapshot snapshot, uint64_t fence_lsn)
      : snapshot_(std::move(snapshot)), fence_lsn_(fence_lsn) {}

  Result<FencePlace> Place(const wire::Begin& transaction) const override {
    Result<uint64_t> commit_lsn = PgLsnOf(transaction.position(), "a transaction's position");
    if (!commit_lsn.ok()) return commit_lsn.status();
    if (transaction.xid() == 0 || transaction.xid() > UINT32_MAX) {
      return Status::Error("a PostgreSQL chunk fence cannot place the transaction at " +
                           transaction.position().value() + ": its xid " +
                           std::to_string(transaction.xid()) + " is not a 32-bit transaction id");
    }
    if (PgSnapshotSees(snapshot_, static_cast<uint32_t>(transaction.xid()))) {
      return FencePlace::kIncluded;
    }
    return *commit_lsn >= fence_lsn_ ? FencePlace::kAfter : FencePlace::kConcurrent;
  }

  Result<bool> PassedBy(const wire::Position& head) const override {
    Result<uint64_t> lsn = PgLsnOf(head, "a stream head");
    if (!lsn.ok()) return lsn.status();
    return *lsn >= fence_lsn_;
  }

  std::string Describe() const override {
    return "LSN " + wire::FormatPgLsn(fence_lsn_) + ", snapshot " + FormatPgSnapshot(snapshot_);
  }

 private:
  PgSnapshot snapshot_;
  uint64_t fence_lsn_;
};

// The first column of the only row of `result` as a number; `what` names it in errors.
Result<uint64_t> SingleNumber(const PgResult& result, int column, const std::string& what) {
  if (PQntuples(result.get()) != 1 || PQgetisnull(result.get(), 0, column)) {
    return Status::Error(what + ": the server gave no value");
  }
  std::optional<uint64_t> value = ParseU64(PQgetvalue(result.get(), 0, column));
  if (!value) return Status::Error(what + ": not a number: " + PQgetvalue(result.get(), 0, column));
  return *value;
}

class PgChunkReader final : public ChunkReader {
 public:
  PgChunkReader(std::unique_ptr<PgConnection> connection, std::string publication,
                PgWalLayout layout)
      : connection_(std::move(connection)),
        reader_(MakePostgresTableReader(*connection_)),
        publication_(std::move(publication)),
        layout_(layout) {}

  Result<std::vector<std::string>> TablesToCopy() override;
  Result<KeyedRelation> Describe(const std::string& schema, const std::string& table) override {
    return reader_->DescribeAnyTable(schema, table);
  }
  Result<uint64_t> EstimateRows(const KeyedRelation& table) override;
  Result<FencedChunk> ReadChunk(const KeyedRelation& table, const Key& after,
                                size_t limit) override;
  Result<std::vector<wire::SecondaryIndex>> SecondaryIndexes(const KeyedRelation& table) override;

 private:
  // The fence of the transaction just begun: its first statement.
  Result<std::unique_ptr<ChunkFence>> TakeSnapshot();

  std::unique_ptr<PgConnection> connection_;
  std::unique_ptr<PostgresTableReader> reader_;  // reads through *connection_
  std::string publication_;
  PgWalLayout layout_;
};

Result<std::vector<std::string>> PgChunkReader::TablesToCopy() {
  const std::string what = "listing the tables of publication " + publication_;
  Result<PgResult> found = connection_->Query(
      "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1", {publication_}, {}, what);
  if (!found.ok()) return found.status();
  if (PQntuples(found->get()) == 0) {
    return Status::Error(what + ": it does not exist on the source; the capture agent creates it " +
                         "when the subscriber's change stream first starts, so start the stream " +
                         "before the copy (or CREATE PUBLICATION " + publication_ +
                         " FOR TABLE ...)");
  }
  Result<PgResult> tables = connection_->Query(
      "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables WHERE pubname = $1"
      " AND schemaname <> 'ferry_meta'",  // Ferry's own state, never copied
      {publication_}, {}, what);
  if (!tables.ok()) return tables.status();
  std::vector<std::string> names;
  for (int r = 0; r < PQntuples(tables->get()); ++r) {
    names.push_back(std::string(PQgetvalue(tables->get(), r, 0)) + "." +
                    PQgetvalue(tables->get(), r, 1));
  }
  // Byte order, whatever the database's collation.
  std::sort(names.begin(), names.end());
  return names;
}

Result<uint64_t> PgChunkReader::EstimateRows(const KeyedRelation& table) {
  const std::string name = table.relation.schema() + "." + table.relation.table();
  Result<PgResult> result = connection_->Query(
      "SELECT reltuples FROM pg_catalog.pg_class WHERE oid = $1",
      {std::to_string(table.relation.id())}, {}, "estimating the rows of " + name);
  if (!result.ok()) return result.status();
  if (PQntuples(result->get()) != 1) {
    return Status::Error("estimating the rows of " + name +
                         ": the table is gone (Describe it again)");
  }
  // -1 (PostgreSQL 14+) until the table is first vacuumed or analyzed: unknown.
  const double estimate = std::strtod(PQgetvalue(result->get(), 0, 0), nullptr);
  return std::isfinite(estimate) && estimate > 0 ? static_cast<uint64_t>(std::llround(estimate))
                                                 : uint64_t{0};
}

// One row per key column (INCLUDE columns are left out: they hold no order and no uniqueness);
// an expression's place in indkey is 0, which no pg_attribute row has.
constexpr const char* kSecondaryIndexesSql =
    "SELECT c.relname, i.indisunique, am.amname, i.indexprs IS NOT NULL, i.indpred IS NOT NULL,"
    " i.indisvalid AND NOT i.indisexclusion, a.attname"
    " FROM pg_catalog.pg_index i"
    " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
    " JOIN pg_catalog.pg_am am ON am.oid = c.relam"
    " CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)"
    " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
    " WHERE i.indrelid = $1 AND NOT i.indisprimary AND k.n <= i.indnkeyatts"
    " ORDER BY c.relname, k.n";

// Why an index (one row of kSecondaryIndexesSql) is not carried; "" when it is.
std::string NotCarriedWhy(PGresult* result, int row) {
  auto is_true = [&](int column) {
    return std::string_view(PQgetvalue(result, row, column)) == "t";
  };
  const std::string method = PQgetvalue(result, row, 2);
  if (method != "btree") return "a " + method + " index (only btree indexes are carried)";
  if (is_true(3)) return "an expression index";
  if (is_true(4)) return "a partial index (it has a WHERE clause)";
  if (!is_true(5)) return "invalid or an exclusion constraint";
  if (PQgetisnull(result, row, 6)) return "an expression index";
  return "";
}

Result<std::vector<wire::SecondaryIndex>> PgChunkReader::SecondaryIndexes(
    const KeyedRelation& table) {
  const std::string name = table.relation.schema() + "." + table.relation.table();
  Result<PgResult> result =
      connection_->Query(kSecondaryIndexesSql, {std::to_string(table.relation.id())}, {},
                         "listing the indexes of " + name);
  if (!result.ok()) return result.status();
  std::vector<IndexColumnRow> rows;
  for (int r = 0; r < PQntuples(result->get()); ++r) {
    IndexColumnRow row;
    row.index = PQgetvalue(result->get(), r, 0);
    row.unique = std::string_view(PQgetvalue(result->get(), r, 1)) == "t";
    row.column = PQgetvalue(result->get(), r, 6);
    row.not_carried_why = NotCarriedWhy(result->get(), r);
    rows.push_back(std::move(row));
  }
  return GroupSecondaryIndexes(name, rows);
}

Result<std::unique_ptr<ChunkFence>> PgChunkReader::TakeSnapshot() {
  // The transaction's snapshot is taken as this statement starts; the insert position is read
  // while it runs, so it is at or after every commit record the snapshot sees.
  Result<PgResult> result = connection_->Query(
      "SELECT pg_catalog.pg_current_snapshot()::text, pg_catalog.pg_current_wal_insert_lsn()::text",
      {}, {}, "taking a chunk's snapshot");
  if (!result.ok()) return result.status();
  if (PQntuples(result->get()) != 1) {
    return Status::Error("taking a chunk's snapshot: the server gave no row");
  }
  Result<PgSnapshot> snapshot = ParsePgSnapshot(PQgetvalue(result->get(), 0, 0));
  if (!snapshot.ok()) return snapshot.status();
  Result<uint64_t> insert_lsn = wire::ParsePgLsn(PQgetvalue(result->get(), 0, 1));
  if (!insert_lsn.ok()) return insert_lsn.status().WithContext("the WAL insert position");
  return MakePgChunkFence(std::move(*snapshot), PgLastRecordEnd(*insert_lsn, layout_));
}

Result<FencedChunk> PgChunkReader::ReadChunk(const KeyedRelation& table, const Key& after,
                                             size_t limit) {
  FERRY_RETURN_IF_ERROR(connection_->Command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                             "starting a chunk's read"));
  FencedChunk fenced;
  Result<std::unique_ptr<ChunkFence>> fence = TakeSnapshot();
  Result<Chunk> chunk =
      fence.ok() ? reader_->ReadChunk(table, after, limit) : Result<Chunk>(fence.status());
  if (!chunk.ok()) {
    // The first error is the one to report; a failed rollback only repeats it.
    (void)connection_->Command("ROLLBACK", "ending a failed chunk read");
    return chunk.status();
  }
  FERRY_RETURN_IF_ERROR(connection_->Command("COMMIT", "ending a chunk's read"));
  fenced.chunk = std::move(*chunk);
  fenced.fence = std::move(*fence);
  return fenced;
}

Result<PgWalLayout> ReadWalLayout(PgConnection& connection) {
  const std::string what = "reading the WAL page and segment size";
  Result<PgResult> result = connection.Query(
      "SELECT current_setting('wal_block_size'),"
      " pg_catalog.pg_size_bytes(current_setting('wal_segment_size'))",
      {}, {}, what);
  if (!result.ok()) return result.status();
  Result<uint64_t> block = SingleNumber(*result, 0, what);
  if (!block.ok()) return block.status();
  Result<uint64_t> segment = SingleNumber(*result, 1, what);
  if (!segment.ok()) return segment.status();
  if (*block == 0 || *segment < *block || *segment % *block != 0) {
    return Status::Error(what + ": wal_block_size " + std::to_string(*block) +
                         " does not divide wal_segment_size " + std::to_string(*segment));
  }
  return PgWalLayout{*block, *segment};
}

}  // namespace

Result<PgSnapshot> ParsePgSnapshot(const std::string& text) {
  const size_t first = text.find(':');
  const size_t second = first == std::string::npos ? first : text.find(':', first + 1);
  if (second == std::string::npos) return SnapshotError(text, "it has no two colons");
  const std::string_view view(text);
  std::optional<uint64_t> xmin = ParseU64(view.substr(0, first));
  std::optional<uint64_t> xmax = ParseU64(view.substr(first + 1, second - first - 1));
  if (!xmin || !xmax) return SnapshotError(text, "xmin and xmax must be decimal numbers");
  if (*xmin > *xmax) return SnapshotError(text, "xmin is above xmax");
  PgSnapshot snapshot{*xmin, *xmax, {}};
  std::string_view rest = view.substr(second + 1);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::optional<uint64_t> xid = ParseU64(rest.substr(0, comma));
    if (!xid || *xid < *xmin || *xid >= *xmax) {
      return SnapshotError(text, "every running xid must be a number from xmin up to xmax");
    }
    snapshot.xip.push_back(*xid);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    if (rest.empty()) return SnapshotError(text, "it ends with a comma");
  }
  return snapshot;
}

std::string FormatPgSnapshot(const PgSnapshot& snapshot) {
  std::string text = std::to_string(snapshot.xmin) + ":" + std::to_string(snapshot.xmax) + ":";
  for (size_t i = 0; i < snapshot.xip.size(); ++i) {
    text += (i > 0 ? "," : "") + std::to_string(snapshot.xip[i]);
  }
  return text;
}

bool PgSnapshotSees(const PgSnapshot& snapshot, uint32_t xid) {
  // The signed distance from xmin, modulo 2^32.
  const auto distance = static_cast<int32_t>(xid - static_cast<uint32_t>(snapshot.xmin));
  if (distance < 0) return true;  // ended before the snapshot
  const uint64_t full = snapshot.xmin + static_cast<uint64_t>(distance);
  if (full >= snapshot.xmax) return false;
  return std::find(snapshot.xip.begin(), snapshot.xip.end(), full) == snapshot.xip.end();
}

uint64_t PgLastRecordEnd(uint64_t insert_lsn, const PgWalLayout& layout) {
  const uint64_t in_page = insert_lsn % layout.block_size;
  const bool segment_start = insert_lsn % layout.segment_size < layout.block_size;
  const uint64_t header = segment_start ? kLongPageHeader : kShortPageHeader;
  return in_page == header ? insert_lsn - header : insert_lsn;
}

std::unique_ptr<ChunkFence> MakePgChunkFence(PgSnapshot snapshot, uint64_t fence_lsn) {
  return std::make_unique<PgFence>(std::move(snapshot), fence_lsn);
}

Result<std::unique_ptr<ChunkReader>> ConnectPostgresChunkReader(const std::string& dsn,
                                                                const std::string& publication) {
  Result<std::unique_ptr<PgConnection>> connection = PgConnection::Connect(dsn);
  if (!connection.ok()) return connection.status();
  Result<PgWalLayout> layout = ReadWalLayout(**connection);
  if (!layout.ok()) return layout.status();
  return std::unique_ptr<ChunkReader>(
      new PgChunkReader(std::move(*connection), publication, *layout));
}

}  // namespace ferry::capture::postgres
