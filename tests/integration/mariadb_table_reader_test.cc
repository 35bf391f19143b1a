// MysqlTableReader against a real MariaDB 10.11: rows read through it are the rows the real
// MysqlSource streams, value for value, for a wide type matrix; tables read in chunks of any size
// come out whole and in key order, by a range scan of the primary key; rows are found by key;
// keyless and missing tables are refused; a consistent read and the stream from its GTID
// position together hold every row exactly once while writers run.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "capture/mysql/mysql_table_reader.h"
#include "tests/integration/mariadb_source_reader.h"
#include "tests/integration/table_reader_checks.h"

namespace ferry::capture::mysql {
namespace {

constexpr char kReaderServer[] = "mreader";
class MariaDbTableReaderTest : public OneServerPerSuite<kReaderServer, kFullRowMetadata> {
 protected:
  void SetUp() override {
    OneServerPerSuite::SetUp();
    // A server time zone other than UTC: the reader's session must set its own.
    Exec("SET GLOBAL time_zone = '+05:30'");
    auto reader = ConnectMysqlTableReader(db().dsn());
    ASSERT_TRUE(reader.ok()) << reader.message();
    reader_ = std::move(*reader);
  }
  KeyedRelation Describe(const std::string& table) {
    Result<KeyedRelation> described = reader_->Describe("ferry", table);
    EXPECT_TRUE(described.ok()) << described.message();
    return described.ok() ? *described : KeyedRelation{};
  }

  std::unique_ptr<MysqlTableReader> reader_;
};

constexpr char kMatrix[] = R"sql(
  CREATE TABLE matrix (id int PRIMARY KEY, ti tinyint, uti tinyint unsigned, si smallint,
    usi smallint unsigned, mi mediumint, umi mediumint unsigned, i int, ui int unsigned,
    bi bigint, ubi bigint unsigned, dec65 decimal(65,30), dneg decimal(10,2), d0 decimal(20,0),
    dpp decimal(5,5), f float, d double, vc varchar(50), lt text CHARACTER SET latin1,
    l2 varchar(20) CHARACTER SET latin2, cy varchar(20) CHARACTER SET cp1251,
    gb varchar(20) CHARACTER SET gbk, sj varchar(20) CHARACTER SET sjis, ch char(5),
    bn binary(4), vb varbinary(10), bl blob, tt tinytext, mb mediumblob, dt date, zd date,
    tm time(6), tneg time, dtm datetime(6), dt0 datetime, ts timestamp(6) NULL,
    ts0 timestamp NULL, yr year, en enum('small','large','ünï'), st set('a','b','c'),
    b1 bit(1), bt bit(8), b64 bit(64), js json, flag tinyint(1));
  CREATE TABLE zeros (id int PRIMARY KEY, d date, dt datetime, dt6 datetime(6),
    ts timestamp NULL, ts6 timestamp(6) NULL, yr year);
)sql";

constexpr char kMatrixRows[] = R"sql(
  SET time_zone = '+00:00';
  START TRANSACTION;
  INSERT INTO matrix VALUES
    (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
     '-12345678901234567890123456789012345.123456789012345678901234567890', -0.50,
     -99999999999999999999, -0.99999, 1.1, -0.25, '', 'café', 'Łódź żółć', 'Привет, мир',
     '中文字符', 'カタカナ漢字', 'ab  ', x'00', x'', x'00ff', '', x'', '1000-01-01',
     '0000-00-00', '00:00:00', '-838:59:59', '1000-01-01 00:00:00', '2024-02-29 13:45:10',
     '1970-01-01 00:00:01', '2038-01-19 03:14:07', 1901, 'small', '', b'0', b'00000000',
     b'0', '{"a": 1, "b": [1, 2, null]}', 0),
    (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
     9223372036854775807, 18446744073709551615,
     '12345678901234567890123456789012345.123456789012345678901234567890', 99999999.99,
     99999999999999999999, 0.00001, 3.40282e38, 1.7976931348623157e308,
     'emoji 🚀 ümlaut', 'naïve', '', '', '', '', 'x', x'ffffffff', x'00010203', x'', 'tiny',
     REPEAT(x'00fe7f', 1000), '9999-12-31', '2024-02-29', '23:59:59.999999', '838:59:59',
     '9999-12-31 23:59:59.999999', '0000-00-00 00:00:00', '2038-01-19 03:14:07.999999',
     '0000-00-00 00:00:00', 2155, 'ünï', 'a,c', b'1', b'10100101',
     b'1111111111111111111111111111111111111111111111111111111111111111', '[]', 1),
    (4, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, -0.0, -0.0, 'trailing  ', 'x', 'y', 'z', 'w',
     'v', '', x'01', x'ff', x'', '', x'', '2024-02-29', '2024-02-29', '-00:00:00.5',
     '12:00:00', '2024-02-29 13:45:10.5', '2024-02-29 13:45:10', '2024-02-29 11:45:10.123456',
     '2024-02-29 11:45:10', 0, 'large', 'a,b,c', b'1', b'1', b'1', '"text"', 2),
    (5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.1, 0.01, 1, 0.5, 1e-45, 5e-324, '\'"\\%_', 'Ÿ€', '', '',
     '', '', ' a', x'0a000000', x'00', x'', '', x'', '0001-01-01', '0001-01-01', '00:00:01',
     '-00:00:01', '0001-01-01 00:00:00', '0001-01-01 00:00:00', '2000-01-01 00:00:00.000001',
     '2000-01-01 00:00:00', 2000, 'small', 'b', b'0', b'10000000', b'1000', 'null', -1);
  INSERT INTO matrix (id) VALUES (3);  -- every other column NULL
  INSERT INTO zeros VALUES
    (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000',
     '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', 0),
    (2, '2024-00-00', '2024-01-00 10:00:00', '2024-00-10 12:34:56.500000', NULL, NULL, 1999),
    (3, '2024-02-00', '0000-01-01 00:00:00', '2024-12-00 23:59:59.999999',
     '2024-02-29 11:45:10', '2024-02-29 11:45:10.123456', 2024);
  COMMIT;
)sql";

// Every row the stream sends for these tables is, value for value, what the reader reads; the
// reader's Relation is the stream's but for the id, which the stream assigns per session.
TEST_F(MariaDbTableReaderTest, ReadsTheValuesAndRelationTheStreamSends) {
  Exec(kMatrix);
  auto source = Source(db(), {"ferry.matrix", "ferry.zeros"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  Status written = db().Exec(kMatrixRows);
  ASSERT_TRUE(written.ok()) << written.message();
  Result<std::map<std::string, StreamedTable>> streamed = StreamInserts(*source, 1);
  ASSERT_TRUE(streamed.ok()) << streamed.message();
  source->Stop();
  ASSERT_EQ(streamed->size(), 2u);
  for (auto& [name, stream] : *streamed) {
    SCOPED_TRACE(name);
    const KeyedRelation table = Describe(stream.relation.table());
    wire::Relation expected = stream.relation;
    expected.set_id(0);
    EXPECT_EQ(table.relation.DebugString(), expected.DebugString());
    ExpectSameRowsByKey(table, stream.inserted, ReadAll(*reader_, table, 1000));
  }
}

std::vector<std::string> TextKeys(const std::vector<Row>& rows) {
  std::vector<std::string> keys;
  for (const Row& row : rows) keys.push_back(row[0].text() + "|" + std::to_string(row[1].int64()));
  return keys;
}

// Text keys in a binary and a case-insensitive collation, mixed case and non-ASCII: chunks of
// any size come out in the server's own ORDER BY, every row once, `exhausted` with the last.
TEST_F(MariaDbTableReaderTest, ChunksOfAnySizeFollowTheKeyOrder) {
  for (const std::string collation : {"utf8mb4_bin", "utf8mb4_unicode_ci"}) {
    SCOPED_TRACE(collation);
    const std::string table = "multi_" + collation;
    Exec("CREATE TABLE " + table + " (a varchar(20) CHARACTER SET utf8mb4 COLLATE " + collation +
         ", b int, v text, PRIMARY KEY (a, b))");
    const bool ci = collation.ends_with("_ci");
    std::string values;
    for (const char* word :
         {"apple", ci ? "Banana" : "Apple", "ÄRGER", "zebra", "Zürich", "émile", "b"}) {
      for (int n = 1; n <= 7; ++n) {
        values += std::string(values.empty() ? "" : ", ") + "('" + word + "', " +
                  std::to_string(n) + ", 'v')";
      }
    }
    Exec("INSERT INTO " + table + " VALUES " + values);
    auto server_order = db().Query("SELECT a, b FROM " + table + " ORDER BY a, b");
    ASSERT_TRUE(server_order.ok()) << server_order.message();
    std::vector<std::string> expected;
    for (const auto& row : *server_order) expected.push_back(*row[0] + "|" + *row[1]);
    ASSERT_EQ(expected.size(), 49u);
    const KeyedRelation keyed = Describe(table);
    for (size_t limit : {1, 7, 48, 49, 50, 1000}) {
      SCOPED_TRACE("limit " + std::to_string(limit));
      int chunks = 0;
      EXPECT_EQ(TextKeys(ReadAll(*reader_, keyed, limit, &chunks)), expected);
      EXPECT_EQ(static_cast<size_t>(chunks), (49 + limit - 1) / limit);
    }
  }
}

// What the optimizer does with the chunk query: a range scan of the primary key for the
// expanded form. (Measured on this table, MariaDB 10.11.19 plans the row comparison
// `(a, b, c) > (25, 'k3', 2500) ORDER BY a, b, c LIMIT 100` as type "index", Using where: it
// walks the primary key from its first entry and filters, so each later chunk would read every
// row before it. That is why the reader does not use it.)
TEST_F(MariaDbTableReaderTest, ChunkQueryIsARangeScanOfThePrimaryKey) {
  Exec("CREATE TABLE wide_key (a int, b varchar(10), c int, v text, PRIMARY KEY (a, b, c))");
  Exec("INSERT INTO wide_key SELECT seq % 50, CONCAT('k', seq % 7), seq, 'v' FROM seq_1_to_5000");
  Exec("ANALYZE TABLE wide_key");
  const KeyedRelation table = Describe("wide_key");
  std::string sql = MysqlChunkQuery(table, true, 100);
  for (const char* value : {"25", "'k3'", "25", "'k3'", "2500", "25"}) {
    sql.replace(sql.find('?'), 1, value);
  }
  // EXPLAIN: id, select_type, table, type, possible_keys, key, key_len, ref, rows, Extra.
  auto plan = db().Query("EXPLAIN " + sql);
  ASSERT_TRUE(plan.ok()) << plan.message();
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ((*plan)[0][3].value_or(""), "range") << sql;
  EXPECT_EQ((*plan)[0][5].value_or(""), "PRIMARY") << sql;
  EXPECT_LT(std::stoi((*plan)[0][8].value_or("0")), 5000) << sql;
}

TEST_F(MariaDbTableReaderTest, ReadKeysFindsPresentKeysAndSkipsAbsentOnes) {
  Exec(
      "CREATE TABLE lookup (a varchar(10) COLLATE utf8mb4_bin, b bigint unsigned, v text,"
      " PRIMARY KEY (a, b))");
  Exec(
      "INSERT INTO lookup VALUES ('Apple', 3, 'x'), ('Zürich', 18446744073709551615, 'y'),"
      " ('apple', 3, 'z')");
  const KeyedRelation table = Describe("lookup");
  auto key = [](const std::string& a, uint64_t b) {
    Key k(2);
    k[0].set_text(a);
    k[1].set_uint64(b);
    return k;
  };
  Result<std::vector<Row>> found = reader_->ReadKeys(
      table,
      {key("Zürich", 18446744073709551615u), key("nope", 1), key("Apple", 3), key("apple", 999)});
  ASSERT_TRUE(found.ok()) << found.message();
  std::set<std::string> values;
  for (const Row& row : *found) values.insert(row[2].text());
  EXPECT_EQ(values, (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(found->size(), 2u);
  Result<std::vector<Row>> too_short = reader_->ReadKeys(table, {Key(1)});
  ASSERT_FALSE(too_short.ok());
}

// Keys of the matrix's types travel back as parameters: chunks of one row and look-ups by key
// find exactly the rows one read finds.
TEST_F(MariaDbTableReaderTest, KeysOfManyTypesPageAndLookUp) {
  Exec(R"sql(
    SET time_zone = '+00:00';
    CREATE TABLE k_time (d date, t time(3), dt datetime(6), ts timestamp(6), PRIMARY KEY (d, t, dt, ts));
    INSERT INTO k_time VALUES ('0000-00-00', '-838:59:59', '2024-00-10 00:00:00', '1970-01-01 00:00:01'),
      ('2024-02-29', '00:00:00.5', '0000-00-00 00:00:00', '2038-01-19 03:14:07.999999'),
      ('2024-02-29', '00:00:00.5', '0000-00-00 00:00:00', '2000-01-01 00:00:00');
    CREATE TABLE k_num (d decimal(65,30), f double, r float, u bigint unsigned, y year, PRIMARY KEY (d, f, r, u, y));
    INSERT INTO k_num VALUES (-0.5, 0.1, 1.1, 18446744073709551615, 0), (-0.5, 0.1, 1.1, 0, 2155),
      (1e-30, -1e308, -3.4e38, 1, 1901);
    CREATE TABLE k_bin (b varbinary(10), c binary(3), t varchar(10) CHARACTER SET latin1, bt bit(12), PRIMARY KEY (b, c, t, bt));
    INSERT INTO k_bin VALUES (x'', x'00', 'café', b'0'), (x'00ff', x'ff', '', b'111111111111'),
      (x'00ff', x'ff', 'é', b'1');
  )sql");
  for (const char* name : {"k_time", "k_num", "k_bin"}) {
    SCOPED_TRACE(name);
    const KeyedRelation table = Describe(name);
    const std::vector<Row> whole = ReadAll(*reader_, table, 1000);
    EXPECT_EQ(std::to_string(whole.size()),
              db().Scalar(std::string("SELECT count(*) FROM ") + name));
    ExpectSameRows(table.relation, whole, ReadAll(*reader_, table, 1));
    std::vector<Key> keys;
    for (const Row& row : whole) keys.push_back(KeyOf(table, row));
    Result<std::vector<Row>> found = reader_->ReadKeys(table, keys);
    ASSERT_TRUE(found.ok()) << found.message();
    ExpectSameRowsByKey(table, whole, *found);
  }
}

TEST_F(MariaDbTableReaderTest, RefusesKeylessAndMissingTablesNamingTheFix) {
  Exec("CREATE TABLE keyless (a int, b text)");
  Result<KeyedRelation> keyless = reader_->Describe("ferry", "keyless");
  ASSERT_FALSE(keyless.ok());
  EXPECT_NE(keyless.message().find("ALTER TABLE `ferry`.`keyless` ADD PRIMARY KEY"),
            std::string::npos)
      << keyless.message();
  Result<KeyedRelation> missing = reader_->Describe("ferry", "no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("does not exist"), std::string::npos) << missing.message();
}

// Writers run throughout. The rows of the consistent read and the rows the stream sends after
// its GTID position are disjoint and together are the table.
TEST_F(MariaDbTableReaderTest, ConsistentReadMeetsTheStreamAtItsGtidPosition) {
  Exec("CREATE TABLE cr (id int AUTO_INCREMENT PRIMARY KEY, v int)");
  Exec("INSERT INTO cr (v) SELECT seq FROM seq_1_to_100");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) (void)db().Exec("INSERT INTO cr (v) VALUES (1), (2)");
  });
  std::this_thread::sleep_for(milliseconds(300));
  Result<ConsistentSnapshot> snapshot = reader_->BeginConsistentRead();
  ASSERT_TRUE(snapshot.ok()) << snapshot.message();
  std::this_thread::sleep_for(milliseconds(500));  // more commits after the snapshot
  const std::string gtid_now = GtidPos(db());
  const KeyedRelation table = Describe("cr");
  std::set<int64_t> copied;
  for (const Row& row : ReadAll(*reader_, table, 37)) copied.insert(row[0].int64());
  ASSERT_TRUE(reader_->EndConsistentRead().ok());
  stop = true;
  writer.join();
  EXPECT_FALSE(snapshot->gtid.empty());
  EXPECT_NE(snapshot->gtid, gtid_now) << "no write between the snapshot and the check";

  const int64_t total = std::stoll(db().Scalar("SELECT count(*) FROM cr"));
  auto source = Source(db(), {"ferry.cr"}, 1002);
  ASSERT_TRUE(source->Start(Mariadb(snapshot->gtid)).ok());
  std::set<int64_t> streamed;
  const auto deadline = Clock::now() + seconds(60);
  while (static_cast<int64_t>(copied.size() + streamed.size()) < total && Clock::now() < deadline) {
    Result<SourceEvent> event = source->Next(milliseconds(200));
    ASSERT_TRUE(event.ok()) << event.message();
    if (auto* change = std::get_if<wire::RowChange>(&*event)) {
      const int64_t id = change->new_values(0).int64();
      EXPECT_EQ(copied.count(id), 0u) << "row " << id << " both copied and streamed";
      streamed.insert(id);
    }
  }
  source->Stop();
  EXPECT_EQ(static_cast<int64_t>(copied.size() + streamed.size()), total);
  EXPECT_GE(copied.size(), 100u);
  EXPECT_GT(streamed.size(), 0u);
}

}  // namespace
}  // namespace ferry::capture::mysql
