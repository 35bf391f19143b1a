// PostgresTableReader against a real PostgreSQL 15: rows read through it are the rows the real
// PostgresSource streams, value for value, for a wide type matrix; tables read in chunks of any
// size come out whole and in key order; rows are found by key; keyless and missing tables are
// refused; a consistent read sees one exported snapshot.
#include "capture/postgres/pg_table_reader.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "capture/postgres/postgres_source.h"
#include "tests/harness/ferry_process.h"
#include "tests/harness/postgres_server.h"
#include "tests/integration/table_reader_checks.h"

namespace ferry::capture::postgres {
namespace {

using ferry::testing::PostgresServer;
using ferry::testing::WaitFor;

class PgTableReaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PostgresServer::Start("reader");
    EXPECT_TRUE(server.ok()) << server.message();
    if (!server.ok()) return;
    server_ = server->release();
    // Defaults unlike the text forms pg_values.h parses: the reader's session must set its own,
    // as the walsender's does.
    Status defaults = server_->Exec(
        "ALTER DATABASE ferry SET timezone = 'Asia/Kolkata';"
        "ALTER DATABASE ferry SET datestyle = 'SQL, DMY';"
        "ALTER DATABASE ferry SET intervalstyle = 'iso_8601';"
        "ALTER DATABASE ferry SET bytea_output = 'escape';"
        "ALTER DATABASE ferry SET extra_float_digits = 0");
    EXPECT_TRUE(defaults.ok()) << defaults.message();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "PostgreSQL did not start";
    auto reader = ConnectPostgresTableReader(server_->dsn());
    ASSERT_TRUE(reader.ok()) << reader.message();
    reader_ = std::move(*reader);
  }
  void Exec(const std::string& sql) {
    Status done = server_->Exec(sql);
    ASSERT_TRUE(done.ok()) << done.message() << "\n" << sql;
  }
  KeyedRelation Describe(const std::string& table, const std::string& schema = "public") {
    Result<KeyedRelation> described = reader_->Describe(schema, table);
    EXPECT_TRUE(described.ok()) << described.message();
    return described.ok() ? *described : KeyedRelation{};
  }

  inline static PostgresServer* server_ = nullptr;
  std::unique_ptr<PostgresTableReader> reader_;
};

constexpr char kMatrixSchema[] = R"sql(
  CREATE EXTENSION citext; CREATE EXTENSION hstore;
  CREATE TYPE pair AS (a int, b text);
  CREATE TYPE mood AS ENUM ('sad', 'happy', 'meh');
  CREATE DOMAIN short AS varchar(5);
  CREATE SCHEMA "Odd Schema";
  CREATE TABLE matrix (id int PRIMARY KEY, b boolean, i2 smallint, i4 int, i8 bigint,
    n numeric(30,10), nn numeric, f4 real, f8 double precision, t text, vc varchar(20),
    ch char(5), "by" bytea, d date, tm time(6), tz timetz, ts timestamp(6), tstz timestamptz(6),
    iv interval, j json, jb jsonb, u uuid, arr int[], tarr text[], bits bit(3), vb varbit(12),
    m mood, ma mood[], p pair, pa pair[], r int4range, tr tstzrange, s short, c citext,
    h hstore, ip inet, mo money, nb int[], x xml, o oid, gone int,
    twice int GENERATED ALWAYS AS (i2 * 2) STORED);
  ALTER TABLE matrix DROP COLUMN gone;
  CREATE TABLE full_identity (k int PRIMARY KEY, v text);
  ALTER TABLE full_identity REPLICA IDENTITY FULL;
  CREATE TABLE index_identity (a int NOT NULL, b text NOT NULL, v text);
  CREATE UNIQUE INDEX index_identity_ba ON index_identity (b, a);
  ALTER TABLE index_identity REPLICA IDENTITY USING INDEX index_identity_ba;
  CREATE TABLE "Odd Schema"."Mixed Case" ("Key" text PRIMARY KEY, "Value" pair);
)sql";

constexpr char kMatrixRows[] = R"sql(
  INSERT INTO matrix VALUES
    (1, false, -32768, -2147483648, -9223372036854775808, -12345678901234567890.0123456789,
     'NaN', '-0', '-0', '', 'a', 'ab', '\x00ff', '4713-01-01 BC', '00:00:00', '00:00:00-15:59',
     '-infinity', 'infinity', '-178000000 years', '{"k":  "v"}', '{"a": 1, "b": [1, 2, null]}',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{{1,2},{3,NULL}}',
     '{"quoted \"x\"", "back\\slash", NULL, "", "{}", "NULL"}', B'101', B'', 'happy',
     '{sad,meh}', '(1,"y z")', '{"(1,x)","(2,)"}', '[1,3)', '[2024-01-01 00:00+02,infinity)',
     'abc', 'MiXeD', 'a=>1, b=>NULL', '192.168.0.1/24', '12.34', '[2:3]={7,8}', '<a>b</a>',
     '4294967295'),
    (2, true, 32767, 2147483647, 9223372036854775807, 0.5, 'Infinity', 'NaN', 'Infinity',
     E'emoji 🚀 ümlaut\ttab\nnewline', '🚀🚀', 'x', '\x', 'infinity', '24:00:00',
     '13:45:10.5+05:30', '294276-12-31 23:59:59.999999', '2000-01-01 00:00:00.000001+14',
     '1 year 2 mons -3 days 04:05:06.789', '[1, 2]', '"text"', NULL, '{}', '{}', '000',
     '101010101010', 'sad', '{}', '(,)', '{}', 'empty', 'empty', 'abcde', '', '', '::1',
     '-92233720368547758.08', '{1}', '', 0),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (4, true, 0, 0, 0, -0.5, '-Infinity', 0.1, 0.1, 'x', 'y', '', '\xdeadbeef', '2024-02-29',
     '23:59:59.999999', '23:59:59.999999+00', '0001-01-01 00:00:00 BC',
     '1900-01-01 00:00:00+01:23:45', '00:00:00', 'null', '{}', '00000000-0000-0000-0000-000000000000',
     '{{{1}}}', '{" spaces ",NULL}', '111', '0', 'meh', '{happy,NULL}', '(-1,"")',
     '{NULL,"(3,\"q\")"}', '(,5]', '(2024-02-29 13:45:10.123456+00,)', '', 'ÄÖÜ', '"k"=>"v v"',
     '10.0.0.0/8', '0', '{}', '<x/>', 42),
    (5, false, 1, 1, 1, 0.0000000001, '-0.000000000000000000001', 1.17549435e-38, 4.9e-324,
     'NUL-free but "quoted" and \back', 'z', 'abcde', '\x7f', '0001-01-01', '12:00:00.5',
     '12:00:00-00:00:01', '2024-02-29 13:45:10.123456', '1970-01-01 00:00:00+00',
     '-1 days +02:03:04', '{"nested": {"deep": [true, false]}}', '[]',
     'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{-1,0,1}', '{"a,b","c}d"}', '010', '1',
     'happy', '{meh}', '(7,"(nested)")', '{"(1,\"a,b\")"}', '[-5,-2)',
     '["-infinity","2000-01-01 00:00:00+00")', 'z', 'ß', 'x=>"", y=>z', '2001:db8::/32',
     '0.01', '[0:1][1:2]={{1,2},{3,4}}', '<?xml version="1.0"?><r/>', 1);
  INSERT INTO full_identity VALUES (2, 'two'), (1, 'one');
  INSERT INTO index_identity VALUES (2, 'b', 'first'), (1, 'b', 'second'), (9, 'a', 'third');
  INSERT INTO "Odd Schema"."Mixed Case" VALUES ('B', '(2,"b")'), ('a', '(1,"a")');
)sql";

// Every row the stream sends for these tables is, value for value, what the reader reads; and
// the reader's Relation is the stream's.
TEST_F(PgTableReaderTest, ReadsTheValuesAndRelationTheStreamSends) {
  Exec(kMatrixSchema);
  PostgresSourceOptions options;
  options.dsn = server_->dsn();
  options.publication = "reader_matrix";
  options.slot = "reader_matrix";
  options.tables = {"public.matrix", "public.full_identity", "public.index_identity",
                    "Odd Schema.Mixed Case"};
  std::unique_ptr<ChangeSource> source = MakePostgresSource(options);
  Status started = source->Start(wire::Position());
  ASSERT_TRUE(started.ok()) << started.message();
  Exec(kMatrixRows);
  if (HasFatalFailure()) return;
  Result<std::map<std::string, StreamedTable>> streamed =
      StreamInserts(*source, 1);  // one Exec, one transaction
  ASSERT_TRUE(streamed.ok()) << streamed.message();
  source->Stop();
  ASSERT_EQ(streamed->size(), 4u);

  for (auto& [name, stream] : *streamed) {
    SCOPED_TRACE(name);
    const KeyedRelation table = Describe(stream.relation.table(), stream.relation.schema());
    EXPECT_EQ(table.relation.DebugString(), stream.relation.DebugString());
    // The stream has the rows in insertion order; the reader in key order.
    ExpectSameRowsByKey(table, stream.inserted, ReadAll(*reader_, table, 1000));
  }
  // Chunk keys: the primary key, the identity index in its own column order.
  EXPECT_EQ(Describe("full_identity").key, std::vector<int>{0});
  EXPECT_EQ(Describe("index_identity").key, (std::vector<int>{1, 0}));
  EXPECT_EQ(Describe("matrix").relation.columns_size(), 40);  // neither dropped nor generated
}

std::vector<std::string> TextKeys(const std::vector<Row>& rows) {
  std::vector<std::string> keys;
  for (const Row& row : rows) keys.push_back(row[0].text() + "|" + std::to_string(row[1].int64()));
  return keys;
}

constexpr char kMultiTable[] = R"sql(
  CREATE TABLE multi (a text, b int, v text, PRIMARY KEY (a, b));
  INSERT INTO multi SELECT w, n, w || n
    FROM unnest(ARRAY['apple', 'Apple', 'ÄRGER', 'zebra', 'Zürich', 'émile', 'b']) w,
         generate_series(1, 7) n;
)sql";

// A text+int key whose text mixes case and non-ASCII: chunks of any size come out in the
// server's own key order (its collation), every row once, `exhausted` with the last row.
TEST_F(PgTableReaderTest, ChunksOfAnySizeFollowTheKeyOrder) {
  Exec(kMultiTable);
  auto server_order = server_->Query("SELECT a, b::text FROM multi ORDER BY a, b");
  ASSERT_TRUE(server_order.ok()) << server_order.message();
  std::vector<std::string> expected;
  for (const auto& row : *server_order) expected.push_back(*row[0] + "|" + *row[1]);
  ASSERT_EQ(expected.size(), 49u);
  const KeyedRelation table = Describe("multi");
  for (size_t limit : {1, 7, 48, 49, 50, 1000}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    int chunks = 0;
    EXPECT_EQ(TextKeys(ReadAll(*reader_, table, limit, &chunks)), expected);
    EXPECT_EQ(static_cast<size_t>(chunks), (49 + limit - 1) / limit);
  }
  Result<Chunk> empty =
      reader_->ReadChunk(table, KeyOf(table, ReadAll(*reader_, table, 49).back()), 5);
  ASSERT_TRUE(empty.ok()) << empty.message();
  EXPECT_TRUE(empty->rows.empty());
  EXPECT_TRUE(empty->exhausted);
}

// Keys of every type class travel back to the server as parameters of the key column's type:
// chunks of one row and look-ups by key find exactly the rows a single read finds.
TEST_F(PgTableReaderTest, KeysOfEveryTypeClassPageAndLookUp) {
  Exec(R"sql(
    CREATE TYPE kpair AS (a int, b text);
    CREATE TYPE kmood AS ENUM ('sad', 'happy', 'meh');
    CREATE DOMAIN kshort AS varchar(5);
    CREATE EXTENSION IF NOT EXISTS citext;
    CREATE TABLE k_composite (k kpair PRIMARY KEY);
    INSERT INTO k_composite VALUES ('(1,x)'), ('(2,"y z")'), ('(1,)'), ('(,)');
    CREATE TABLE k_enum (k kmood PRIMARY KEY); INSERT INTO k_enum VALUES ('meh'), ('sad'), ('happy');
    CREATE TABLE k_domain (k kshort PRIMARY KEY); INSERT INTO k_domain VALUES ('abc'), ('Z'), ('');
    CREATE TABLE k_range (k int4range PRIMARY KEY);
    INSERT INTO k_range VALUES ('[1,3)'), ('empty'), ('(,5)'), ('[5,)');
    CREATE TABLE k_array (k kpair[] PRIMARY KEY);
    INSERT INTO k_array VALUES ('{"(1,x)"}'), ('{}'), ('{"(2,y)","(3,\"a,b\")"}'), ('{NULL}');
    CREATE TABLE k_citext (k citext PRIMARY KEY); INSERT INTO k_citext VALUES ('Ab'), ('cD'), ('é');
    CREATE TABLE k_float (k float8 PRIMARY KEY);
    INSERT INTO k_float VALUES ('NaN'), ('-Infinity'), ('4.9e-324'), ('0.1'), ('-0');
    CREATE TABLE k_real (k real PRIMARY KEY); INSERT INTO k_real VALUES (0.1), ('NaN'), (3.4e38);
    CREATE TABLE k_bytea (k bytea PRIMARY KEY); INSERT INTO k_bytea VALUES ('\x'), ('\x00'), ('\xff00');
    CREATE TABLE k_numeric (k numeric PRIMARY KEY);
    INSERT INTO k_numeric VALUES ('NaN'), ('-0.50'), ('1e-30'), ('Infinity');
    CREATE TABLE k_time (d date, t timestamptz, i interval, PRIMARY KEY (d, t, i));
    INSERT INTO k_time VALUES ('infinity', '-infinity', '1 day'),
      ('4713-01-01 BC', '2024-02-29 13:45:10.123456+05', '-1 mons'), ('2024-02-29', 'infinity', '0');
    CREATE TABLE k_mixed (u uuid, b boolean, bits varbit, j char(3), PRIMARY KEY (u, b, bits, j));
    INSERT INTO k_mixed VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, '101', 'a'),
      ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', false, '', 'a b');
  )sql");
  for (const char* name : {"k_composite", "k_enum", "k_domain", "k_range", "k_array", "k_citext",
                           "k_float", "k_real", "k_bytea", "k_numeric", "k_time", "k_mixed"}) {
    SCOPED_TRACE(name);
    const KeyedRelation table = Describe(name);
    const std::vector<Row> whole = ReadAll(*reader_, table, 1000);
    EXPECT_EQ(std::to_string(whole.size()),
              server_->Scalar(std::string("SELECT count(*) FROM ") + name));
    ExpectSameRows(table.relation, whole, ReadAll(*reader_, table, 1));
    std::vector<Key> keys;
    for (const Row& row : whole) keys.push_back(KeyOf(table, row));
    Result<std::vector<Row>> found = reader_->ReadKeys(table, keys);
    ASSERT_TRUE(found.ok()) << found.message();
    ExpectSameRowsByKey(table, whole, *found);
  }
}

TEST_F(PgTableReaderTest, ReadKeysFindsPresentKeysAndSkipsAbsentOnes) {
  Exec(
      "CREATE TABLE lookup (a text, b int, v text, PRIMARY KEY (a, b));"
      "INSERT INTO lookup VALUES ('Apple', 3, 'x'), ('Zürich', 7, 'y'), ('apple', 3, 'z')");
  const KeyedRelation table = Describe("lookup");
  auto key = [](const std::string& a, int64_t b) {
    Key k(2);
    k[0].set_text(a);
    k[1].set_int64(b);
    return k;
  };
  Result<std::vector<Row>> found = reader_->ReadKeys(
      table, {key("Zürich", 7), key("nope", 1), key("Apple", 3), key("apple", 999)});
  ASSERT_TRUE(found.ok()) << found.message();
  std::set<std::string> values;
  for (const Row& row : *found) values.insert(row[2].text());
  EXPECT_EQ(values, (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(found->size(), 2u);

  Result<std::vector<Row>> none = reader_->ReadKeys(table, {key("none", 0)});
  ASSERT_TRUE(none.ok()) << none.message();
  EXPECT_TRUE(none->empty());
  Result<std::vector<Row>> too_short = reader_->ReadKeys(table, {Key(1)});
  ASSERT_FALSE(too_short.ok());
  EXPECT_NE(too_short.message().find("has 1 values"), std::string::npos) << too_short.message();
}

TEST_F(PgTableReaderTest, RefusesKeylessAndMissingTablesNamingTheFix) {
  Exec("CREATE TABLE keyless (a int, b text)");
  Result<KeyedRelation> keyless = reader_->Describe("public", "keyless");
  ASSERT_FALSE(keyless.ok());
  EXPECT_NE(keyless.message().find("has no primary key"), std::string::npos) << keyless.message();
  EXPECT_NE(keyless.message().find("ALTER TABLE \"public\".\"keyless\" ADD PRIMARY KEY"),
            std::string::npos)
      << keyless.message();
  Result<KeyedRelation> missing = reader_->Describe("public", "no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("does not exist"), std::string::npos) << missing.message();
}

// All chunks of a consistent read see the exported snapshot, not rows committed after it.
TEST_F(PgTableReaderTest, ConsistentReadSeesTheExportedSnapshot) {
  Exec("CREATE TABLE snap (id int PRIMARY KEY); INSERT INTO snap SELECT generate_series(1, 10)");
  PGconn* exporter = PQconnectdb(server_->dsn().c_str());
  ASSERT_EQ(PQstatus(exporter), CONNECTION_OK) << PQerrorMessage(exporter);
  PQclear(PQexec(exporter, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
  PGresult* exported = PQexec(exporter, "SELECT pg_export_snapshot()");
  ASSERT_EQ(PQresultStatus(exported), PGRES_TUPLES_OK) << PQerrorMessage(exporter);
  const std::string snapshot = PQgetvalue(exported, 0, 0);
  PQclear(exported);
  Exec("INSERT INTO snap SELECT generate_series(11, 20); DELETE FROM snap WHERE id = 1");

  const KeyedRelation table = Describe("snap");
  ASSERT_TRUE(reader_->BeginConsistentRead(snapshot).ok());
  std::vector<Row> seen = ReadAll(*reader_, table, 3);
  ASSERT_TRUE(reader_->EndConsistentRead().ok());
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front()[0].int64(), 1);
  EXPECT_EQ(seen.back()[0].int64(), 10);
  EXPECT_EQ(ReadAll(*reader_, table, 3).size(), 19u);  // after it: today's rows
  PQfinish(exporter);
  // Its exporter is gone; the server ends that backend a moment after the client hangs up.
  EXPECT_TRUE(WaitFor(
      [&] {
        if (!reader_->BeginConsistentRead(snapshot).ok()) return true;
        (void)reader_->EndConsistentRead();
        return false;
      },
      std::chrono::seconds(10)));
}

}  // namespace
}  // namespace ferry::capture::postgres
