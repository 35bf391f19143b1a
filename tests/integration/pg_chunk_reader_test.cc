// The PostgreSQL ChunkReader against a real PostgreSQL 15 with the real PostgresSource streaming:
// a chunk's fence places the streamed transactions committed before and after its read, and one
// open while it ran; on an idle source the stream passes the fence promptly; the tables to copy
// are the publication's; keyless tables are refused naming the fix.
#include "capture/postgres/pg_chunk_reader.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/postgres/postgres_source.h"
#include "capture/postgres/replication_stream.h"
#include "tests/harness/postgres_server.h"
#include "tests/integration/chunk_reader_checks.h"

namespace ferry::capture::postgres {
namespace {

using ferry::testing::PostgresServer;
using std::chrono::milliseconds;
using std::chrono::seconds;

class PgChunkReaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PostgresServer::Start("chunks");
    EXPECT_TRUE(server.ok()) << server.message();
    if (server.ok()) server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "PostgreSQL did not start"; }
  void TearDown() override {
    if (source_) source_->Stop();
  }

  void Exec(const std::string& sql) {
    Status done = server_->Exec(sql);
    ASSERT_TRUE(done.ok()) << done.message() << "\n" << sql;
  }
  // Starts the source for `tables` with publication and slot `name` (created now), and a chunk
  // reader for that publication.
  void Stream(const std::string& name, std::vector<std::string> tables) {
    PostgresSourceOptions options;
    options.dsn = server_->dsn();
    options.publication = name;
    options.slot = name;
    options.tables = std::move(tables);
    source_ = MakePostgresSource(options);
    Status started = source_->Start(wire::Position());
    ASSERT_TRUE(started.ok()) << started.message();
    Result<std::unique_ptr<ChunkReader>> reader = ConnectPostgresChunkReader(server_->dsn(), name);
    ASSERT_TRUE(reader.ok()) << reader.message();
    reader_ = std::move(*reader);
  }
  std::function<Status(const std::string&)> Executor() {
    return [](const std::string& sql) { return server_->Exec(sql); };
  }

  inline static PostgresServer* server_ = nullptr;
  std::unique_ptr<ChangeSource> source_;
  std::unique_ptr<ChunkReader> reader_;
};

TEST_F(PgChunkReaderTest, FencePlacesTransactionsCommittedBeforeAndAfterTheRead) {
  Exec("CREATE TABLE fenced (id int PRIMARY KEY, v text)");
  Stream("chunks_fenced", {"public.fenced"});
  if (HasFatalFailure()) return;
  ExpectChunkBetweenTransactions(*source_, *reader_, "public", "fenced", Executor());
}

// A transaction open while the chunk is read is not in the chunk, and its Begin, streamed when
// it commits, is not kIncluded.
TEST_F(PgChunkReaderTest, TransactionOpenDuringTheReadIsNotIncluded) {
  Exec("CREATE TABLE pending (id int PRIMARY KEY, v text); INSERT INTO pending VALUES (1, 'a')");
  Stream("chunks_pending", {"public.pending"});
  if (HasFatalFailure()) return;
  Result<KeyedRelation> table = reader_->Describe("public", "pending");
  ASSERT_TRUE(table.ok()) << table.message();
  PGconn* writer = PQconnectdb(server_->dsn().c_str());
  ASSERT_EQ(PQstatus(writer), CONNECTION_OK) << PQerrorMessage(writer);
  for (const char* sql : {"BEGIN", "INSERT INTO pending VALUES (2, 'open')"}) {
    PGresult* result = PQexec(writer, sql);
    ASSERT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << PQerrorMessage(writer);
    PQclear(result);
  }
  Result<FencedChunk> read = reader_->ReadChunk(*table, {}, 100);
  PGresult* committed = PQexec(writer, "COMMIT");
  EXPECT_EQ(PQresultStatus(committed), PGRES_COMMAND_OK) << PQerrorMessage(writer);
  PQclear(committed);
  PQfinish(writer);
  ASSERT_TRUE(read.ok()) << read.message();

  EXPECT_EQ(Ids(read->chunk.rows), std::vector<int64_t>{1});
  Result<std::vector<wire::Begin>> begins = NextBegins(*source_, 1);
  ASSERT_TRUE(begins.ok()) << begins.message();
  const std::string place = PlaceName(read->fence->Place(begins->front()));
  EXPECT_TRUE(place == "after" || place == "concurrent")
      << place << ": " << read->fence->Describe() << "; " << begins->front().ShortDebugString();
}

// Reads the source until it has been quiet for a second; the last heartbeat head it showed.
std::optional<wire::Position> LastHeadWhenQuiet(ChangeSource& source) {
  std::optional<wire::Position> last_head;
  auto quiet_until = std::chrono::steady_clock::now() + seconds(1);
  while (std::chrono::steady_clock::now() < quiet_until) {
    Result<SourceEvent> event = source.Next(milliseconds(100));
    EXPECT_TRUE(event.ok()) << event.message();
    if (!event.ok()) return std::nullopt;
    if (auto* heartbeat = std::get_if<SourceHeartbeat>(&*event)) {
      if (!last_head || heartbeat->head.value() != last_head->value()) {
        quiet_until = std::chrono::steady_clock::now() + seconds(1);
      }
      last_head = heartbeat->head;
    }
  }
  return last_head;
}

// The capture agent sends a chunk once the source's head passes its fence (TableCopier::Poll
// looks at the last head the source showed, OnHead at each new one). On an idle source no
// transaction comes along to move the head: the walsender's keepalives must tell.
TEST_F(PgChunkReaderTest, IdleSourcePassesTheFenceSoon) {
  Exec("CREATE TABLE idle (id int PRIMARY KEY, v text); INSERT INTO idle VALUES (1, 'a')");
  Stream("chunks_idle", {"public.idle"});
  if (HasFatalFailure()) return;
  Result<KeyedRelation> table = reader_->Describe("public", "idle");
  ASSERT_TRUE(table.ok()) << table.message();
  Exec("INSERT INTO idle VALUES (2, 'b')");
  ASSERT_TRUE(NextBegins(*source_, 1).ok());

  // Nothing was written since the last keepalive: its head is already the fence's position.
  std::optional<wire::Position> head = LastHeadWhenQuiet(*source_);
  ASSERT_TRUE(head.has_value());
  Result<FencedChunk> read = reader_->ReadChunk(*table, {}, 100);
  ASSERT_TRUE(read.ok()) << read.message();
  EXPECT_EQ(Ids(read->chunk.rows), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(*read->fence->PassedBy(*head))
      << read->fence->Describe() << ", head " << head->value();
  // The walsender sends a keepalive when it has read WAL beyond what the client confirmed, and
  // otherwise only when the client's status update (every ReplicationStream::kStatusInterval)
  // wakes it while the client's confirmed position is behind: a new one may take that long.
  Result<milliseconds> next = TimeUntilPassed(*source_, *read->fence, seconds(15));
  ASSERT_TRUE(next.ok()) << next.message();
  EXPECT_LE(*next, ReplicationStream::kStatusInterval + seconds(2));
  std::cout << "idle source, fence " << read->fence->Describe()
            << ": the last head before the read (" << head->value()
            << ") passes it; the first keepalive after the read came in " << next->count()
            << " ms\n";

  // WAL written but not yet flushed when the chunk is read (here a non-transactional message; in
  // practice also pruning or hint-bit pages that reads write): the head is behind the fence until
  // the WAL writer flushes it (the end of such a transaction wakes it; at most wal_writer_delay)
  // and the walsender, woken by the flush, reads it and sends a keepalive.
  Exec("SELECT pg_logical_emit_message(false, 'ferry_test', 'unflushed')");
  read = reader_->ReadChunk(*table, {}, 100);
  ASSERT_TRUE(read.ok()) << read.message();
  next = TimeUntilPassed(*source_, *read->fence, seconds(5));
  ASSERT_TRUE(next.ok()) << next.message();
  EXPECT_LT(*next, seconds(2));
  std::cout << "fence " << read->fence->Describe()
            << " behind unflushed WAL: passed by a keepalive after " << next->count() << " ms\n";
}

// After a WAL segment switch the insert position is past the new segment's page header while
// the walsender, having read everything, stands at the segment boundary: the fence must be at
// the boundary, or an idle source would never pass it.
TEST_F(PgChunkReaderTest, FenceAfterAWalSwitchIsPassedOnAnIdleSource) {
  Exec("CREATE TABLE switched (id int PRIMARY KEY, v text)");
  Stream("chunks_switched", {"public.switched"});
  if (HasFatalFailure()) return;
  Result<KeyedRelation> table = reader_->Describe("public", "switched");
  ASSERT_TRUE(table.ok()) << table.message();
  // The background writer may log a record after the switch; then try again.
  bool at_boundary = false;
  for (int attempt = 1; attempt <= 3 && !at_boundary; ++attempt) {
    Exec("INSERT INTO switched VALUES (" + std::to_string(attempt) + ", 'x')");
    Exec("SELECT pg_switch_wal()");  // a statement of its own: after the commit
    ASSERT_TRUE(NextBegins(*source_, 1).ok());
    std::optional<wire::Position> head = LastHeadWhenQuiet(*source_);
    ASSERT_TRUE(head.has_value());
    const std::string insert_lsn = server_->Scalar("SELECT pg_current_wal_insert_lsn()");
    Result<FencedChunk> read = reader_->ReadChunk(*table, {}, 100);
    ASSERT_TRUE(read.ok()) << read.message();
    // A 16 MB segment starts at .../X000000; its first record at .../X000028.
    at_boundary = head->value().ends_with("000000") && insert_lsn.ends_with("000028");
    std::cout << "after a WAL switch: insert position " << insert_lsn << ", head " << head->value()
              << ", fence " << read->fence->Describe() << "\n";
    EXPECT_TRUE(*read->fence->PassedBy(*head))
        << read->fence->Describe() << ", head " << head->value();
  }
  EXPECT_TRUE(at_boundary) << "the source never stood at a segment boundary";
}

TEST_F(PgChunkReaderTest, TablesToCopyAreThePublicationsAndRowsAreEstimated) {
  Exec(
      "CREATE SCHEMA other; CREATE TABLE zeta (id int PRIMARY KEY); CREATE TABLE alpha (id int "
      "PRIMARY KEY); CREATE TABLE other.beta (id int PRIMARY KEY); CREATE TABLE unpublished (id "
      "int PRIMARY KEY); INSERT INTO alpha SELECT generate_series(1, 1000); ANALYZE alpha");
  Stream("chunks_tables", {"public.zeta", "public.alpha", "other.*"});
  if (HasFatalFailure()) return;
  Result<std::vector<std::string>> tables = reader_->TablesToCopy();
  ASSERT_TRUE(tables.ok()) << tables.message();
  EXPECT_EQ(*tables, (std::vector<std::string>{"other.beta", "public.alpha", "public.zeta"}));

  Result<KeyedRelation> alpha = reader_->Describe("public", "alpha");
  ASSERT_TRUE(alpha.ok()) << alpha.message();
  Result<uint64_t> estimate = reader_->EstimateRows(*alpha);
  ASSERT_TRUE(estimate.ok()) << estimate.message();
  EXPECT_EQ(*estimate, 1000u);
  // Never analyzed: reltuples is -1, unknown.
  Result<KeyedRelation> zeta = reader_->Describe("public", "zeta");
  ASSERT_TRUE(zeta.ok()) << zeta.message();
  estimate = reader_->EstimateRows(*zeta);
  ASSERT_TRUE(estimate.ok()) << estimate.message();
  EXPECT_EQ(*estimate, 0u);

  Result<std::unique_ptr<ChunkReader>> unknown =
      ConnectPostgresChunkReader(server_->dsn(), "no_such_publication");
  ASSERT_TRUE(unknown.ok()) << unknown.message();
  Result<std::vector<std::string>> none = (*unknown)->TablesToCopy();
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("does not exist"), std::string::npos) << none.message();
  EXPECT_NE(none.message().find("CREATE PUBLICATION"), std::string::npos) << none.message();
}

// A keyless table cannot be read in key order: it is read whole, leaves no transaction open,
// and the next read works.
TEST_F(PgChunkReaderTest, KeylessTableIsReadWhole) {
  Exec("CREATE TABLE keyless (v text); CREATE TABLE keyed (id int PRIMARY KEY, v text)");
  Stream("chunks_keyless", {"public.keyless", "public.keyed"});
  if (HasFatalFailure()) return;
  // A table without key is described with an empty key, and read whole, in one chunk.
  Exec("INSERT INTO keyless VALUES ('a'), ('b'), ('c')");
  Result<KeyedRelation> described = reader_->Describe("public", "keyless");
  ASSERT_TRUE(described.ok()) << described.message();
  EXPECT_TRUE(described->key.empty());
  Result<FencedChunk> whole = reader_->ReadChunk(*described, {}, 10);
  ASSERT_TRUE(whole.ok()) << whole.message();
  EXPECT_EQ(whole->chunk.rows.size(), 3u);
  EXPECT_TRUE(whole->chunk.exhausted);

  Result<KeyedRelation> keyed = reader_->Describe("public", "keyed");
  ASSERT_TRUE(keyed.ok()) << keyed.message();
  Result<FencedChunk> after = reader_->ReadChunk(*keyed, {}, 10);
  ASSERT_TRUE(after.ok()) << after.message();
  EXPECT_TRUE(after->chunk.exhausted);
  EXPECT_EQ(server_->Scalar("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in "
                            "transaction%'"),
            "0");
}

}  // namespace
}  // namespace ferry::capture::postgres
