#include "capture/mysql/mysql_chunk_reader.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "capture/mysql/binlog_stream.h"
#include "capture/mysql/mysql_table_reader.h"
#include "capture/mysql/table_selection.h"
#include "wire/position.h"

namespace ferry::capture::mysql {
namespace {

constexpr char kNeedsMariaDbGtids[] =
    "the initial copy needs a MariaDB source with GTIDs; seed the target by other means and set "
    "copy_data: false in the apply config";

// The GTID state `position` holds; errors unless it is a MariaDB GTID state. `what` names it.
Result<wire::MariaDbGtidState> GtidStateOf(const wire::Position& position,
                                           const std::string& what) {
  if (position.engine() == wire::kEngineMySql || wire::IsBinlogFilePosition(position.value())) {
    return Status::Error(
        what + " is the " + position.engine() + " position \"" + position.value() +
        "\", against which a chunk's snapshot cannot be placed: " + kNeedsMariaDbGtids);
  }
  if (position.engine() != wire::kEngineMariaDb) {
    return Status::Error("a MariaDB chunk fence cannot place " + what + " of engine \"" +
                         position.engine() + "\"");
  }
  Result<wire::MariaDbGtidState> state = wire::ParseMariaDbGtidState(position.value());
  if (!state.ok()) return state.status().WithContext(what);
  return state;
}

class MariaDbFence final : public ChunkFence {
 public:
  explicit MariaDbFence(wire::Position snapshot) : snapshot_(std::move(snapshot)) {}

  // The transaction's position is the GTID state including it: the snapshot holds it exactly when
  // its state covers that one.
  Result<FencePlace> Place(const wire::Begin& transaction) const override {
    Result<wire::MariaDbGtidState> state =
        GtidStateOf(transaction.position(), "the transaction's position");
    if (!state.ok()) return state.status();
    Result<bool> included = wire::IsCovered(transaction.position(), snapshot_);
    if (!included.ok()) return included.status();
    return *included ? FencePlace::kIncluded : FencePlace::kAfter;
  }

  // Every transaction the snapshot holds is covered by its state; the head covers them all when
  // it covers that state.
  Result<bool> PassedBy(const wire::Position& head) const override {
    Result<wire::MariaDbGtidState> state = GtidStateOf(head, "the stream head");
    if (!state.ok()) return state.status();
    return wire::IsCovered(snapshot_, head);
  }

  std::string Describe() const override {
    return snapshot_.value().empty() ? "GTID state (empty)" : "GTID " + snapshot_.value();
  }

 private:
  wire::Position snapshot_;  // engine mariadb, the canonical text of the snapshot's state
};

class MysqlChunkReader final : public ChunkReader {
 public:
  MysqlChunkReader(std::unique_ptr<MysqlConnection> connection, TableSelection selection)
      : connection_(std::move(connection)),
        reader_(MakeMysqlTableReader(*connection_)),
        selection_(std::move(selection)) {}

  Result<std::vector<std::string>> TablesToCopy() override;
  Result<KeyedRelation> Describe(const std::string& schema, const std::string& table) override {
    return reader_->DescribeAnyTable(schema, table);
  }
  Result<uint64_t> EstimateRows(const KeyedRelation& table) override;
  Result<FencedChunk> ReadChunk(const KeyedRelation& table, const Key& after,
                                size_t limit) override;
  Result<std::vector<wire::SecondaryIndex>> SecondaryIndexes(const KeyedRelation& table) override;

 private:
  std::unique_ptr<MysqlConnection> connection_;
  std::unique_ptr<MysqlTableReader> reader_;  // reads through *connection_
  TableSelection selection_;
};

Result<std::vector<std::string>> MysqlChunkReader::TablesToCopy() {
  Result<std::vector<SqlRow>> rows = connection_->Query(
      "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES"
      " WHERE TABLE_TYPE = 'BASE TABLE'");
  if (!rows.ok()) return rows.status().WithContext("listing the tables to copy");
  std::vector<std::string> names;
  for (const SqlRow& row : *rows) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    if (selection_.Wants(*row[0], *row[1])) names.push_back(*row[0] + "." + *row[1]);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<uint64_t> MysqlChunkReader::EstimateRows(const KeyedRelation& table) {
  const std::string& schema = table.relation.schema();
  const std::string& name = table.relation.table();
  Result<std::vector<SqlRow>> rows = connection_->Query(
      "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
      connection_->Quote(schema) + " AND TABLE_NAME = " + connection_->Quote(name));
  const std::string what = "estimating the rows of " + schema + "." + name;
  if (!rows.ok()) return rows.status().WithContext(what);
  if (rows->empty() || rows->front().empty()) {
    return Status::Error(what + ": the table is gone (Describe it again)");
  }
  const std::optional<std::string>& text = rows->front().front();
  uint64_t estimate = 0;
  // NULL for engines that keep no count: unknown.
  if (text) std::from_chars(text->data(), text->data() + text->size(), estimate);
  return estimate;
}

// Why an index (one row of STATISTICS: INDEX_TYPE, COLUMN_NAME) is not carried; "" when it is.
// A functional index (MySQL 8) lists no column name.
std::string NotCarriedWhy(const SqlRow& row) {
  const std::string type = row[4].value_or("");
  if (type == "FULLTEXT" || type == "SPATIAL") {
    return "a " + type + " index (only BTREE and HASH indexes are carried)";
  }
  if (!row[2]) return "an expression index";
  return "";
}

Result<std::vector<wire::SecondaryIndex>> MysqlChunkReader::SecondaryIndexes(
    const KeyedRelation& table) {
  const std::string& schema = table.relation.schema();
  const std::string& name = table.relation.table();
  Result<std::vector<SqlRow>> rows = connection_->Query(
      "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE"
      " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = " +
      connection_->Quote(schema) + " AND TABLE_NAME = " + connection_->Quote(name) +
      " AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX");
  if (!rows.ok()) return rows.status().WithContext("listing the indexes of " + schema + "." + name);
  std::vector<IndexColumnRow> columns;
  for (const SqlRow& row : *rows) {
    if (row.size() < 5 || !row[0]) continue;
    IndexColumnRow column;
    column.index = *row[0];
    column.unique = row[1].value_or("1") == "0";
    column.column = row[2].value_or("");
    const std::string prefix = row[3].value_or("0");
    std::from_chars(prefix.data(), prefix.data() + prefix.size(), column.prefix_length);
    column.not_carried_why = NotCarriedWhy(row);
    columns.push_back(std::move(column));
  }
  return GroupSecondaryIndexes(schema + "." + name, columns);
}

Result<FencedChunk> MysqlChunkReader::ReadChunk(const KeyedRelation& table, const Key& after,
                                                size_t limit) {
  Result<ConsistentSnapshot> snapshot = reader_->BeginConsistentRead();
  Result<std::unique_ptr<ChunkFence>> fence =
      snapshot.ok() ? MakeMariaDbChunkFence(snapshot->gtid)
                    : snapshot.status().WithContext("beginning a chunk's consistent read");
  Result<Chunk> chunk =
      fence.ok() ? reader_->ReadChunk(table, after, limit) : Result<Chunk>(fence.status());
  // The read is over either way; a failure to end it only matters when the chunk was read.
  Status ended = reader_->EndConsistentRead();
  if (!chunk.ok()) return chunk.status();
  if (!ended.ok()) return ended.WithContext("ending a chunk's consistent read");
  FencedChunk fenced;
  fenced.chunk = std::move(*chunk);
  fenced.fence = std::move(*fence);
  return fenced;
}

}  // namespace

Result<std::unique_ptr<ChunkFence>> MakeMariaDbChunkFence(const std::string& gtid_state) {
  wire::Position snapshot;
  snapshot.set_engine(wire::kEngineMariaDb);
  snapshot.set_value(gtid_state);
  Result<wire::MariaDbGtidState> state = GtidStateOf(snapshot, "the snapshot's position");
  if (!state.ok()) return state.status();
  snapshot.set_value(wire::FormatMariaDbGtidState(*state));  // canonical: sorted by domain
  return std::unique_ptr<ChunkFence>(new MariaDbFence(std::move(snapshot)));
}

Result<std::unique_ptr<ChunkReader>> ConnectMysqlChunkReader(
    const std::string& dsn, const std::vector<std::string>& table_patterns) {
  Result<TableSelection> selection = TableSelection::Parse(table_patterns);
  if (!selection.ok()) return selection.status();
  Result<std::unique_ptr<MysqlConnection>> connection = ConnectMysqlReaderSession(dsn);
  if (!connection.ok()) return connection.status();
  const std::string version = (*connection)->server_version();
  if (version.find("MariaDB") == std::string::npos) {
    return Status::Error(
        (*connection)->Describe() + " runs " + version +
        ", which reports no binlog position for a consistent snapshot: " + kNeedsMariaDbGtids);
  }
  return std::unique_ptr<ChunkReader>(
      new MysqlChunkReader(std::move(*connection), std::move(*selection)));
}

}  // namespace ferry::capture::mysql
