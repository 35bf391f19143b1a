// The MariaDB ChunkReader against a real MariaDB 10.11 with the real MysqlSource streaming: a
// chunk's fence places the streamed transactions committed before and after its read, in one
// replication domain and across two; the tables to copy are those the patterns select; keyless
// tables are refused naming the fix.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/mysql/mysql_chunk_reader.h"
#include "tests/integration/chunk_reader_checks.h"
#include "tests/integration/mariadb_source_reader.h"

namespace ferry::capture::mysql {
namespace {

constexpr char kChunksServer[] = "mchunks";
class MariaDbChunkReaderTest : public OneServerPerSuite<kChunksServer, kFullRowMetadata> {
 protected:
  void TearDown() override {
    if (source_) source_->Stop();
  }
  // Starts the source and a chunk reader, both for `tables`.
  void Stream(const std::vector<std::string>& tables) {
    source_ = Source(db(), tables);
    Status started = source_->Start(wire::Position());
    ASSERT_TRUE(started.ok()) << started.message();
    reader_ = Reader(tables);
  }
  std::unique_ptr<ChunkReader> Reader(const std::vector<std::string>& tables) {
    Result<std::unique_ptr<ChunkReader>> reader = ConnectMysqlChunkReader(db().dsn(), tables);
    EXPECT_TRUE(reader.ok()) << reader.message();
    return reader.ok() ? std::move(*reader) : nullptr;
  }
  std::function<Status(const std::string&)> Executor() {
    return [](const std::string& sql) { return server_->Exec(sql); };
  }

  std::unique_ptr<ChangeSource> source_;
  std::unique_ptr<ChunkReader> reader_;
};

TEST_F(MariaDbChunkReaderTest, FencePlacesTransactionsCommittedBeforeAndAfterTheRead) {
  Exec("CREATE TABLE fenced (id int PRIMARY KEY, v text)");
  Stream({"ferry.fenced"});
  if (HasFatalFailure()) return;
  ExpectChunkBetweenTransactions(*source_, *reader_, "ferry", "fenced", Executor());
}

// Transactions of two replication domains: the snapshot's GTID state has both, and each
// transaction is placed by its own domain.
TEST_F(MariaDbChunkReaderTest, FencePlacesTransactionsOfTwoDomains) {
  Exec("CREATE TABLE domains (id int PRIMARY KEY, v text)");
  Stream({"ferry.domains"});
  if (HasFatalFailure()) return;
  Result<KeyedRelation> table = reader_->Describe("ferry", "domains");
  ASSERT_TRUE(table.ok()) << table.message();
  Exec("SET SESSION gtid_domain_id = 7; INSERT INTO domains VALUES (1, 'domain 7, before')");
  Exec("INSERT INTO domains VALUES (2, 'domain 0, before')");
  Result<FencedChunk> read = reader_->ReadChunk(*table, {}, 100);
  ASSERT_TRUE(read.ok()) << read.message();
  Exec("SET SESSION gtid_domain_id = 7; INSERT INTO domains VALUES (3, 'domain 7, after')");
  Exec("INSERT INTO domains VALUES (4, 'domain 0, after')");

  EXPECT_EQ(Ids(read->chunk.rows), (std::vector<int64_t>{1, 2}));
  EXPECT_NE(read->fence->Describe().find(",7-1-"), std::string::npos) << read->fence->Describe();
  Result<std::vector<wire::Begin>> begins = NextBegins(*source_, 4);
  ASSERT_TRUE(begins.ok()) << begins.message();
  const std::vector<std::string> expected = {"included", "included", "after", "after"};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(PlaceName(read->fence->Place((*begins)[i])), expected[i])
        << read->fence->Describe() << "; transaction at " << (*begins)[i].position().value();
  }
  Result<std::chrono::milliseconds> passed =
      TimeUntilPassed(*source_, *read->fence, std::chrono::seconds(10));
  EXPECT_TRUE(passed.ok()) << passed.message();
}

TEST_F(MariaDbChunkReaderTest, TablesToCopyAreThoseThePatternsSelect) {
  Exec(
      "CREATE DATABASE shop; CREATE TABLE shop.orders (id int PRIMARY KEY);"
      " CREATE TABLE shop.items (id int PRIMARY KEY); CREATE VIEW shop.order_ids AS"
      " SELECT id FROM shop.orders; CREATE TABLE picked (id int PRIMARY KEY);"
      " CREATE TABLE skipped (id int PRIMARY KEY);"
      " INSERT INTO shop.orders SELECT seq FROM seq_1_to_100; ANALYZE TABLE shop.orders");
  std::unique_ptr<ChunkReader> some = Reader({"shop.*", "ferry.picked"});
  ASSERT_NE(some, nullptr);
  Result<std::vector<std::string>> tables = some->TablesToCopy();
  ASSERT_TRUE(tables.ok()) << tables.message();
  EXPECT_EQ(*tables, (std::vector<std::string>{"ferry.picked", "shop.items", "shop.orders"}));

  // No patterns: every base table outside the system schemas.
  std::unique_ptr<ChunkReader> all = Reader({});
  ASSERT_NE(all, nullptr);
  tables = all->TablesToCopy();
  ASSERT_TRUE(tables.ok()) << tables.message();
  EXPECT_TRUE(std::is_sorted(tables->begin(), tables->end()));
  for (const char* name : {"ferry.picked", "ferry.skipped", "shop.items", "shop.orders"}) {
    EXPECT_NE(std::find(tables->begin(), tables->end(), name), tables->end()) << name;
  }
  for (const std::string& name : *tables) {
    EXPECT_FALSE(name.starts_with("mysql.") || name.starts_with("sys.") || name == "shop.order_ids")
        << name;
  }

  Result<KeyedRelation> orders = some->Describe("shop", "orders");
  ASSERT_TRUE(orders.ok()) << orders.message();
  Result<uint64_t> estimate = some->EstimateRows(*orders);
  ASSERT_TRUE(estimate.ok()) << estimate.message();
  EXPECT_EQ(*estimate, 100u);
  Result<KeyedRelation> items = some->Describe("shop", "items");
  ASSERT_TRUE(items.ok()) << items.message();
  estimate = some->EstimateRows(*items);
  ASSERT_TRUE(estimate.ok()) << estimate.message();
  EXPECT_EQ(*estimate, 0u);
}

// A keyless table cannot be read in key order: it is read whole, leaves no transaction open,
// and the next read works.
TEST_F(MariaDbChunkReaderTest, KeylessTableIsReadWhole) {
  Exec("CREATE TABLE keyless (v text); CREATE TABLE keyed (id int PRIMARY KEY, v text)");
  reader_ = Reader({"ferry.keyless", "ferry.keyed"});
  ASSERT_NE(reader_, nullptr);
  // A table without key is described with an empty key, and read whole, in one chunk.
  Exec("INSERT INTO keyless VALUES ('a'), ('b'), ('c')");
  Result<KeyedRelation> described = reader_->Describe("ferry", "keyless");
  ASSERT_TRUE(described.ok()) << described.message();
  EXPECT_TRUE(described->key.empty());
  Result<FencedChunk> whole = reader_->ReadChunk(*described, {}, 10);
  ASSERT_TRUE(whole.ok()) << whole.message();
  EXPECT_EQ(whole->chunk.rows.size(), 3u);
  EXPECT_TRUE(whole->chunk.exhausted);

  Result<KeyedRelation> keyed = reader_->Describe("ferry", "keyed");
  ASSERT_TRUE(keyed.ok()) << keyed.message();
  Result<FencedChunk> after = reader_->ReadChunk(*keyed, {}, 10);
  ASSERT_TRUE(after.ok()) << after.message();
  EXPECT_TRUE(after->chunk.exhausted);
  EXPECT_EQ(db().Scalar("SELECT COUNT(*) FROM information_schema.INNODB_TRX"), "0");
}

}  // namespace
}  // namespace ferry::capture::mysql
