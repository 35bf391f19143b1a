// Replication across engines, end to end through the real ferry binary: a type-fidelity matrix
// per direction, compared value by value, and values the target cannot hold exactly refused
// with an error that names table, column and value.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/harness/replication_setup.h"

namespace ferry::testing {
namespace {

using std::chrono::seconds;

// ---- PostgreSQL -> MariaDB ---------------------------------------------------------------------

constexpr char kPgMatrix[] = R"sql(
  CREATE TABLE matrix (id int PRIMARY KEY, b boolean, i2 smallint, i4 int, i8 bigint,
    n numeric(30,10), f8 double precision, t text, vc varchar(20), by bytea, d date, tm time(6),
    ts timestamp(6), tstz timestamptz(6), j jsonb, u uuid, arr int[]);
  CREATE TABLE narrow (id int PRIMARY KEY, n numeric);
)sql";

constexpr char kMariaMatrix[] = R"sql(
  CREATE TABLE matrix (id int PRIMARY KEY, b boolean, i2 smallint, i4 int, i8 bigint,
    n decimal(30,10), f8 double, t longtext, vc varchar(20), `by` longblob, d date, tm time(6),
    ts datetime(6), tstz datetime(6), j json, u char(36), arr json);
  CREATE TABLE narrow (id int PRIMARY KEY, n decimal(5,2));
)sql";

// The same text for the same value on either side.
constexpr char kPgMatrixQuery[] = R"sql(
  SELECT id, b::int, i2, i4, i8, n::text, f8::text, t, vc, encode(by, 'hex'), d::text,
         to_char('2000-01-01'::date + tm, 'HH24:MI:SS.US'),
         to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'),
         to_char(tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), j::text, u::text,
         array_to_json(arr)::text
  FROM matrix ORDER BY id)sql";
constexpr char kMariaMatrixQuery[] = R"sql(
  SELECT id, b, i2, i4, i8, n, f8, t, vc, lower(hex(`by`)), d, tm, ts, tstz, j, u, JSON_COMPACT(arr)
  FROM matrix ORDER BY id)sql";

class PgToMariaDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto setup = ReplicationSetup::Create("postgres", "mariadb", kPgMatrix, kMariaMatrix);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables = "[\"public.matrix\", \"public.narrow\"]";
    // MariaDB has no schemas: PostgreSQL's public.* lands in the target's database.
    setup_->apply_mappings =
        "  - source: public.matrix\n    target: ferry.matrix\n"
        "  - source: public.narrow\n    target: ferry.narrow\n";
    ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  }
  bool SameMatrix() {
    return RowsAsText(setup_->source(), kPgMatrixQuery) ==
           RowsAsText(setup_->target(), kMariaMatrixQuery);
  }
  std::unique_ptr<ReplicationSetup> setup_;
};

TEST_F(PgToMariaDbTest, TypeMatrixArrivesValueByValue) {
  std::string blob(65536, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 7 % 251);
  ASSERT_TRUE(setup_->source()
                  .Exec(R"sql(
    INSERT INTO matrix VALUES
      (1, true, -32768, -2147483648, -9223372036854775808, -12345678901234567890.0123456789,
       1.5, '', 'a', '\x00ff', '0001-01-01', '00:00:00', '1970-01-01 00:00:00.000001',
       '2024-02-29 13:45:10.123456+02', '{"a": 1, "b": [1, 2, null]}',
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2,NULL}'),
      (2, false, 32767, 2147483647, 9223372036854775807, -0.5, -0.25,
       'emoji 🚀 and ümlaut', '🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀', '\x', '9999-12-31',
       '23:59:59.999999', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999+00',
       '[]', '00000000-0000-0000-0000-000000000000', '{}'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL)
  )sql")
                  .ok());
  ASSERT_TRUE(setup_->source()
                  .Exec("UPDATE matrix SET by = decode('" +
                        [&] {
                          static const char* hex = "0123456789abcdef";
                          std::string out;
                          for (unsigned char c : blob) {
                            out += hex[c >> 4];
                            out += hex[c & 15];
                          }
                          return out;
                        }() +
                        "', 'hex') WHERE id = 3")
                  .ok());
  ASSERT_TRUE(setup_->source().Exec("UPDATE matrix SET t = 'changed', n = 0 WHERE id = 1").ok());
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO matrix (id, t) VALUES (4, 'short-lived')").ok());
  ASSERT_TRUE(setup_->source().Exec("DELETE FROM matrix WHERE id = 4").ok());
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO matrix (id, t) VALUES (4, 'back again')").ok());
  EXPECT_TRUE(WaitFor([&] { return SameMatrix(); }, seconds(60)))
      << "source:\n"
      << RowsAsText(setup_->source(), kPgMatrixQuery) << "\ntarget:\n"
      << RowsAsText(setup_->target(), kMariaMatrixQuery) << "\napply log:\n"
      << setup_->apply_log();
}

TEST_F(PgToMariaDbTest, ValueTheTargetCannotHoldExactlyStopsTheStreamWithItsName) {
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO narrow VALUES (1, 1.25)").ok());
  ASSERT_TRUE(WaitFor([&] { return setup_->target().Scalar("SELECT n FROM narrow") == "1.25"; },
                      seconds(60)))
      << setup_->apply_log();
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO narrow VALUES (2, 1.234)").ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        std::string log = setup_->apply_log();
        return log.find("narrow") != std::string::npos && log.find("1.234") != std::string::npos &&
               log.find("error") != std::string::npos;
      },
      seconds(30)))
      << setup_->apply_log();
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM narrow"), "1");
}

// ---- PostgreSQL -> PostgreSQL: the same matrix, the same column types on both sides ------------

// `TRUNCATE parent, child` where child references parent, on both sides: applied as DELETEs of
// both tables in the one target transaction, never stopping on the foreign key.
TEST(PgToMariaDbTruncateTest, TruncateOfTablesReferencingEachOtherEmptiesBoth) {
  auto setup = ReplicationSetup::Create(
      "postgres", "mariadb",
      "CREATE TABLE t_parent (id int PRIMARY KEY, v text);"
      "CREATE TABLE t_child (id int PRIMARY KEY, parent int REFERENCES t_parent, v text);",
      "CREATE TABLE t_parent (id int PRIMARY KEY, v text);"
      "CREATE TABLE t_child (id int PRIMARY KEY, parent int, v text,"
      " FOREIGN KEY (parent) REFERENCES t_parent (id));");
  ASSERT_TRUE(setup.ok()) << setup.message();
  ReplicationSetup& s = **setup;
  s.capture_tables = "[\"public.t_parent\", \"public.t_child\"]";
  s.apply_mappings =
      "  - source: public.t_parent\n    target: ferry.t_parent\n"
      "  - source: public.t_child\n    target: ferry.t_child\n";
  ASSERT_TRUE(s.StartCapture().ok()) << s.capture_log();
  ASSERT_TRUE(s.StartApply().ok()) << s.apply_log();
  ASSERT_TRUE(s.source()
                  .Exec("INSERT INTO t_parent VALUES (1, 'a'), (2, 'b');"
                        "INSERT INTO t_child VALUES (1, 1, 'x'), (2, 2, 'y')")
                  .ok());
  ASSERT_TRUE(s.source().Exec("TRUNCATE t_parent, t_child").ok());
  ASSERT_TRUE(
      s.source()
          .Exec("INSERT INTO t_parent VALUES (3, 'c'); INSERT INTO t_child VALUES (3, 3, 'z')")
          .ok());
  for (const char* query : {"SELECT id, v FROM t_parent ORDER BY id",
                            "SELECT id, parent, v FROM t_child ORDER BY id"}) {
    EXPECT_TRUE(
        WaitFor([&] { return RowsAsText(s.source(), query) == RowsAsText(s.target(), query); },
                seconds(60)))
        << s.DescribeDifference(query) << s.apply_log();
  }
}

TEST(PgToPgMatrixTest, TypeMatrixArrivesValueByValue) {
  auto setup = ReplicationSetup::Create(std::string(kPgMatrix) +
                                        "CREATE TABLE more (id int PRIMARY KEY, iv interval, "
                                        "tz timetz, bits varbit(12), f4 real, nan numeric, "
                                        "tarr text[], j2 json);");
  ASSERT_TRUE(setup.ok()) << setup.message();
  (*setup)->capture_tables = "[\"public.*\"]";
  ASSERT_TRUE((*setup)->StartCapture().ok()) << (*setup)->capture_log();
  ASSERT_TRUE((*setup)->StartApply().ok()) << (*setup)->apply_log();
  Status written = (*setup)->source().Exec(R"sql(
    INSERT INTO matrix VALUES
      (1, true, -32768, -2147483648, -9223372036854775808, -12345678901234567890.0123456789,
       'NaN', '', 'a', '\x00ff', '4713-01-01 BC', '00:00:00', '-infinity', 'infinity',
       '{"a": 1, "b": [1, 2, null]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{{1,2},{3,NULL}}'),
      (2, false, 32767, 2147483647, 9223372036854775807, -0.5, 1e-310,
       'emoji 🚀', '🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀', '\x', '294276-12-31', '24:00:00',
       '294276-12-31 23:59:59.999999', '2000-01-01 00:00:00.000001+14', '"text"', NULL, '{}'),
      (3, NULL, NULL, NULL, NULL, NULL, 'Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL);
    INSERT INTO more VALUES
      (1, '1 year 2 mons -3 days 04:05:06.789', '13:45:10.5+05:30', B'101', 0.1, 'NaN',
       '{"quoted \"x\"", "back\\slash", NULL, "", "{}"}', '{"k":  "v"}'),
      (2, '-178000000 years', '00:00:00-15:59', B'', '-Infinity', '-0.000000000000000000001',
       '{}', '[1, 2]');
  )sql");
  ASSERT_TRUE(written.ok()) << written.message();
  for (const char* query : {"SELECT * FROM matrix ORDER BY id", "SELECT * FROM more ORDER BY id"}) {
    EXPECT_TRUE((*setup)->WaitForSameRows(query, seconds(60)))
        << (*setup)->DescribeDifference(query);
  }
}

// ---- MariaDB -> PostgreSQL and MariaDB -> MariaDB ----------------------------------------------

constexpr char kMariaSource[] = R"sql(
  CREATE TABLE matrix (id int PRIMARY KEY, ti tinyint, si smallint, mi mediumint, i int,
    bi bigint, ubi bigint unsigned, dec65 decimal(65,30), dneg decimal(10,2), f float, d double,
    vc varchar(50), lt text CHARACTER SET latin1, bl blob, dt date, zd date, tm time(6),
    dtm datetime(6), ts timestamp(6) NULL, yr year, en enum('small','large'), st set('a','b','c'),
    bt bit(8), js json, flag tinyint(1), l2 varchar(20) CHARACTER SET latin2,
    cy varchar(20) CHARACTER SET cp1251, gb varchar(20) CHARACTER SET gbk,
    sj varchar(20) CHARACTER SET sjis, d0 decimal(20,0), dpp decimal(5,5), tneg time);
)sql";

constexpr char kPgFromMaria[] = R"sql(
  CREATE TABLE matrix (id int PRIMARY KEY, ti smallint, si smallint, mi int, i int, bi bigint,
    ubi numeric(20,0), dec65 numeric(65,30), dneg numeric(10,2), f real, d double precision,
    vc varchar(50), lt text, bl bytea, dt date, zd date, tm time(6), dtm timestamp(6),
    ts timestamptz(6), yr smallint, en text, st text, bt bit varying(8), js jsonb,
    flag boolean, l2 text, cy text, gb text, sj text, d0 numeric(20,0), dpp numeric(5,5),
    tneg interval);
)sql";

// The source's rows as a MariaDB target must hold them: zero dates exactly.
constexpr char kMariaSourceQuery[] = R"sql(
  SET time_zone = '+00:00';
  SELECT id, ti, si, mi, i, bi, ubi, dec65, dneg, f, d, vc, lt, lower(hex(bl)), dt, zd, tm, dtm,
         ts, yr, en, st, LPAD(BIN(bt), 8, '0'), js, flag, l2, cy, gb, sj, d0, dpp,
         TIME_TO_SEC(tneg)
  FROM matrix ORDER BY id)sql";
// The same as a PostgreSQL target holds them: zero dates as NULL (zero_dates: null, the default).
constexpr char kMariaSourceQueryForPg[] = R"sql(
  SET time_zone = '+00:00';
  SELECT id, ti, si, mi, i, bi, ubi, dec65, dneg, f, d, vc, lt, lower(hex(bl)), dt,
         IF(zd = '0000-00-00', NULL, zd), tm, dtm, ts, yr, en, st, LPAD(BIN(bt), 8, '0'), js,
         flag, l2, cy, gb, sj, d0, dpp, TIME_TO_SEC(tneg)
  FROM matrix ORDER BY id)sql";
constexpr char kPgFromMariaQuery[] = R"sql(
  SELECT id, ti, si, mi, i, bi, ubi, dec65, dneg, f, d, vc, lt, encode(bl, 'hex'), dt, zd,
         to_char('2000-01-01'::date + tm, 'HH24:MI:SS.US'),
         to_char(dtm, 'YYYY-MM-DD HH24:MI:SS.US'),
         to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), yr, en, st, bt::text, js::text,
         flag::int, l2, cy, gb, sj, d0, dpp, EXTRACT(EPOCH FROM tneg)::bigint
  FROM matrix ORDER BY id)sql";

constexpr char kMariaRows[] = R"sql(
  SET time_zone = '+00:00';
  INSERT INTO matrix VALUES
    (1, -128, -32768, -8388608, -2147483648, -9223372036854775808, 0,
     '-12345678901234567890123456789012345.123456789012345678901234567890', -0.50, 1.5, -0.25,
     '', 'caf\u00e9', x'00ff', '1000-01-01', '0000-00-00', '00:00:00', '1000-01-01 00:00:00',
     '1970-01-01 00:00:01', 1901, 'small', '', b'00000000', '{"a": 1, "b": [1, 2, null]}', 0,
     'Łódź żółć', 'Привет, мир', '中文字符', 'カタカナ漢字', -99999999999999999999, -0.99999,
     '-838:59:59'),
    (2, 127, 32767, 8388607, 2147483647, 9223372036854775807, 18446744073709551615,
     '12345678901234567890123456789012345.123456789012345678901234567890', 99999999.99, -2.5,
     0.125, 'emoji 🚀 ümlaut', 'na\u00efve', x'', '9999-12-31', '2024-02-29', '23:59:59.999999',
     '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155, 'large', 'a,c',
     b'10100101', '[]', 1, '', '', '', '', 99999999999999999999, 0.00001, '838:59:59'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL);
  UPDATE matrix SET bl = REPEAT(x'00fe7f', 21845), vc = 'updated' WHERE id = 3;
  DELETE FROM matrix WHERE id = 1;
  INSERT INTO matrix (id, vc) VALUES (1, 'back again');
)sql";

class FromMariaDbTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FromMariaDbTest, TypeMatrixArrivesValueByValue) {
  const std::string target = GetParam();
  const bool to_pg = target == "postgres";
  auto setup = ReplicationSetup::Create("mariadb", target, kMariaSource,
                                        to_pg ? kPgFromMaria : kMariaSource);
  ASSERT_TRUE(setup.ok()) << setup.message();
  (*setup)->capture_tables = "[\"ferry.matrix\"]";
  // TINYINT(1) is a boolean only because the mapping says so (on either target).
  (*setup)->apply_mappings = std::string("  - source: ferry.matrix\n") +
                             (to_pg ? "    target: public.matrix\n" : "") +
                             "    types: {flag: boolean}\n";
  ASSERT_TRUE((*setup)->StartCapture().ok()) << (*setup)->capture_log();
  ASSERT_TRUE((*setup)->StartApply().ok()) << (*setup)->apply_log();
  // latin1 text written through a utf8mb4 connection: the server converts it on the way in.
  std::string rows = kMariaRows;
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"\\u00e9", "\xC3\xA9"}, {"\\u00ef", "\xC3\xAF"}}) {
    for (size_t at = rows.find(from); at != std::string::npos; at = rows.find(from)) {
      rows.replace(at, from.size(), to);
    }
  }
  Status written = (*setup)->source().Exec(rows);
  ASSERT_TRUE(written.ok()) << written.message();
  const std::string source_query = to_pg ? kMariaSourceQueryForPg : kMariaSourceQuery;
  const std::string target_query = to_pg ? kPgFromMariaQuery : kMariaSourceQuery;
  EXPECT_TRUE(WaitFor(
      [&] {
        return RowsAsText((*setup)->source(), source_query) ==
               RowsAsText((*setup)->target(), target_query);
      },
      seconds(60)))
      << "source:\n"
      << RowsAsText((*setup)->source(), source_query) << "\ntarget:\n"
      << RowsAsText((*setup)->target(), target_query) << "\napply log:\n"
      << (*setup)->apply_log() << "\ncapture log:\n"
      << (*setup)->capture_log();
}

// ---- MariaDB binary log retention --------------------------------------------------------------

// MariaDB keeps binary logs by age, for no reader in particular: while a subscriber is away, the
// capture agent shows the logs it still needs (from the one holding its position), and how long
// until binlog_expire_logs_seconds purges that file; once purged, that the subscriber is lost.
TEST(MariaDbRetentionTest, TheBinaryLogsAnAbsentSubscriberNeedsAreWatchedUntilPurged) {
  auto setup = ReplicationSetup::Create("mariadb", "postgres",
                                        "CREATE TABLE items (id int PRIMARY KEY, v text);",
                                        "CREATE TABLE items (id int PRIMARY KEY, v text);");
  ASSERT_TRUE(setup.ok()) << setup.message();
  ReplicationSetup& s = **setup;
  s.capture_tables = "[\"ferry.items\"]";
  s.apply_mappings = "  - source: ferry.items\n    target: public.items\n";
  s.capture_settings = "retention_check_interval_ms: 200\n";
  ASSERT_TRUE(s.StartCapture().ok()) << s.capture_log();
  ASSERT_TRUE(s.StartApply().ok()) << s.apply_log();
  ASSERT_TRUE(s.source().Exec("INSERT INTO items VALUES (1, 'a')").ok());
  ASSERT_TRUE(s.WaitForSameRows("SELECT id, v FROM items ORDER BY id", std::chrono::seconds(30)))
      << s.DescribeDifference("SELECT id, v FROM items ORDER BY id");

  nlohmann::json west;
  auto retention_is = [&](const std::string& status) {
    return WaitFor(
        [&] {
          auto text = HttpGet(s.capture_admin_port(), "/status");
          if (!text.ok()) return false;
          auto json = nlohmann::json::parse(*text, nullptr, false);
          if (json.is_discarded() || !json["retention"].contains("west")) return false;
          west = json["retention"]["west"];
          return west["status"] == status;
        },
        seconds(30));
  };
  // The server's default keeps binary logs forever.
  ASSERT_TRUE(retention_is("kept")) << west.dump() << s.capture_log();

  s.KillApply();
  ASSERT_TRUE(s.source().Exec("SET GLOBAL binlog_expire_logs_seconds = 86400").ok());
  // Its position is now in a binary log that is no longer written: one that can expire.
  ASSERT_TRUE(
      s.source().Exec("INSERT INTO items SELECT seq, repeat('x', 200) FROM seq_2_to_1000").ok());
  ASSERT_TRUE(s.source().Exec("FLUSH BINARY LOGS").ok());
  ASSERT_TRUE(
      s.source().Exec("INSERT INTO items SELECT seq, repeat('x', 200) FROM seq_1001_to_2000").ok());
  ASSERT_TRUE(retention_is("expiring")) << west.dump();
  EXPECT_GT(west["retained_bytes"].get<uint64_t>(), 400'000u) << west.dump();
  ASSERT_TRUE(west["seconds_until_lost"].is_number()) << west.dump();
  // Counted from the acknowledged commit's time, a few seconds ago.
  EXPECT_GT(west["seconds_until_lost"].get<double>(), 86400 - 300) << west.dump();
  EXPECT_LE(west["seconds_until_lost"].get<double>(), 86400) << west.dump();
  auto metrics = HttpGet(s.capture_admin_port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->find("ferry_source_seconds_until_lost{bookmark=\"west\"}"), std::string::npos)
      << *metrics;

  ASSERT_TRUE(s.source().Exec("FLUSH BINARY LOGS").ok());
  ASSERT_TRUE(s.source().Exec("PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 DAY").ok());
  ASSERT_TRUE(retention_is("lost")) << west.dump();
  metrics = HttpGet(s.capture_admin_port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->find("ferry_source_bookmark_lost{bookmark=\"west\"} 1"), std::string::npos)
      << *metrics;
}

// ---- MariaDB zero and partial dates -------------------------------------------------------------

// Written as a user would, with the source server's default sql_mode: MariaDB 10.11's
// (STRICT_TRANS_TABLES, ERROR_FOR_DIVISION_BY_ZERO, NO_AUTO_CREATE_USER, NO_ENGINE_SUBSTITUTION)
// has neither NO_ZERO_DATE nor NO_ZERO_IN_DATE, so it takes them as they are.
constexpr char kZerosSource[] = R"sql(
  CREATE TABLE zeros (id int PRIMARY KEY, d date, dnn date NOT NULL, dt datetime,
    dt6 datetime(6), ts timestamp NULL, ts6 timestamp(6) NULL, tx date);
)sql";
// On PostgreSQL `tx` is text (which holds any date's text) and nothing is NOT NULL.
constexpr char kZerosPg[] = R"sql(
  CREATE TABLE zeros (id int PRIMARY KEY, d date, dnn date, dt timestamp, dt6 timestamp(6),
    ts timestamptz, ts6 timestamptz(6), tx text);
)sql";
constexpr char kZerosRows[] = R"sql(
  SET time_zone = '+00:00';
  INSERT INTO zeros VALUES
    (1, '0000-00-00', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000',
     '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00'),
    (2, '2024-00-00', '2024-01-00', '2024-01-00 10:00:00', '2024-00-10 12:34:56.500000',
     NULL, NULL, '2024-02-00'),
    (3, '2024-02-29', '0000-00-00', '2024-02-29 13:45:10', '2024-02-29 13:45:10.123456',
     '2024-02-29 11:45:10', '2024-02-29 11:45:10.123456', '2024-02-29');
  UPDATE zeros SET dnn = '2024-03-01', tx = '0000-00-00' WHERE id = 3;
  UPDATE zeros SET dt = '2024-12-00 23:59:59' WHERE d = '0000-00-00';
  DELETE FROM zeros WHERE id = 2;
  INSERT INTO zeros (id, dnn) VALUES (4, '1999-00-31');
)sql";
// What the source's SELECT shows; on MariaDB targets the same query must show the same.
constexpr char kZerosQuery[] = R"sql(
  SET time_zone = '+00:00';
  SELECT id, d, dnn, dt, dt6, ts, ts6, UNIX_TIMESTAMP(ts), tx FROM zeros ORDER BY id)sql";
// The same on the source as PostgreSQL holds it under zero_dates: null: a date or timestamp
// with month or day 0 is NULL, the text column keeps the text.
constexpr char kZerosAsPgHoldsThem[] = R"sql(
  SET time_zone = '+00:00';
  SELECT id, IF(MONTH(d) = 0 OR DAY(d) = 0, NULL, d), IF(MONTH(dnn) = 0 OR DAY(dnn) = 0, NULL, dnn),
         IF(MONTH(dt) = 0 OR DAY(dt) = 0, NULL, dt), IF(MONTH(dt6) = 0 OR DAY(dt6) = 0, NULL, dt6),
         IF(MONTH(ts) = 0 OR DAY(ts) = 0, NULL, ts), IF(MONTH(ts6) = 0 OR DAY(ts6) = 0, NULL, ts6),
         tx
  FROM zeros ORDER BY id)sql";
constexpr char kZerosPgQuery[] = R"sql(
  SELECT id, d, dnn, to_char(dt, 'YYYY-MM-DD HH24:MI:SS'), to_char(dt6, 'YYYY-MM-DD HH24:MI:SS.US'),
         to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
         to_char(ts6 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), tx
  FROM zeros ORDER BY id)sql";

std::unique_ptr<ReplicationSetup> StartZeros(const std::string& target,
                                             const std::string& target_settings = "") {
  const bool to_pg = target == "postgres";
  auto setup =
      ReplicationSetup::Create("mariadb", target, kZerosSource, to_pg ? kZerosPg : kZerosSource);
  EXPECT_TRUE(setup.ok()) << setup.message();
  if (!setup.ok()) return nullptr;
  (*setup)->capture_tables = "[\"ferry.zeros\"]";
  if (to_pg) (*setup)->apply_mappings = "  - source: ferry.zeros\n    target: public.zeros\n";
  (*setup)->apply_target_settings = target_settings;
  EXPECT_TRUE((*setup)->StartCapture().ok()) << (*setup)->capture_log();
  EXPECT_TRUE((*setup)->StartApply().ok()) << (*setup)->apply_log();
  return std::move(*setup);
}

// As native replication: zero and partial dates arrive exactly, NOT NULL columns included, and
// rows holding them are found again by updates.
TEST(ZeroDatesTest, MariaDbToMariaDbArriveExactly) {
  std::unique_ptr<ReplicationSetup> setup = StartZeros("mariadb");
  ASSERT_TRUE(setup && !HasFailure());
  ASSERT_TRUE(setup->source().Exec(kZerosRows).ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        return RowsAsText(setup->source(), kZerosQuery) == RowsAsText(setup->target(), kZerosQuery);
      },
      seconds(60)))
      << "source:\n"
      << RowsAsText(setup->source(), kZerosQuery) << "\ntarget:\n"
      << RowsAsText(setup->target(), kZerosQuery) << "\napply log:\n"
      << setup->apply_log();
  // What was compared holds them: the zero TIMESTAMP (0), partial dates, the updated row.
  EXPECT_EQ(RowsAsText(setup->target(),
                       "SELECT id, ts, UNIX_TIMESTAMP(ts), dt, dnn FROM zeros "
                       "WHERE id IN (1, 4) ORDER BY id"),
            "1|0000-00-00 00:00:00|0|2024-12-00 23:59:59|0000-00-00\n"
            "4|<NULL>|<NULL>|<NULL>|1999-00-31\n");
}

TEST(ZeroDatesTest, MariaDbToPostgresAreNullByDefaultAndTextInTextColumns) {
  std::unique_ptr<ReplicationSetup> setup = StartZeros("postgres");
  ASSERT_TRUE(setup && !HasFailure());
  ASSERT_TRUE(setup->source().Exec(kZerosRows).ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        return RowsAsText(setup->source(), kZerosAsPgHoldsThem) ==
               RowsAsText(setup->target(), kZerosPgQuery);
      },
      seconds(60)))
      << "source:\n"
      << RowsAsText(setup->source(), kZerosAsPgHoldsThem) << "\ntarget:\n"
      << RowsAsText(setup->target(), kZerosPgQuery) << "\napply log:\n"
      << setup->apply_log();
}

// zero_dates: error stops the stream at the first zero date, names it on /status and in the log,
// and applies nothing after it.
TEST(ZeroDatesTest, MariaDbToPostgresStopAtTheFirstUnderTheErrorPolicy) {
  std::unique_ptr<ReplicationSetup> setup = StartZeros("postgres", "  zero_dates: error\n");
  ASSERT_TRUE(setup && !HasFailure());
  TestDatabase& source = setup->source();
  ASSERT_TRUE(
      source.Exec("INSERT INTO zeros (id, dnn, tx) VALUES (1, '2024-02-29', '0000-00-00')").ok());
  ASSERT_TRUE(WaitFor(
      [&] { return setup->target().Scalar("SELECT tx FROM zeros") == "0000-00-00"; }, seconds(60)))
      << setup->apply_log();
  ASSERT_TRUE(source.Exec("INSERT INTO zeros (id, dnn) VALUES (2, '2024-01-00')").ok());
  ASSERT_TRUE(source.Exec("INSERT INTO zeros (id, dnn) VALUES (3, '2024-01-01')").ok());
  const std::string message =
      "apply to public.zeros (INSERT): column dnn (from ferry.zeros.dnn): value '2024-01-00' is a "
      "MySQL/MariaDB zero or partial date, which date cannot hold (PostgreSQL has no year, month "
      "or day 0): to write NULL instead set `zero_dates: null` under `target:` in the apply "
      "config, to keep the value make the target column text, or change it at the source";
  std::string status;
  EXPECT_TRUE(WaitFor(
      [&] {
        Result<std::string> body = HttpGet(setup->apply_admin_port(), "/status");
        if (body.ok()) status = *body;
        return status.find(message) != std::string::npos;
      },
      seconds(30)))
      << status;
  EXPECT_NE(setup->apply_log().find(message), std::string::npos) << setup->apply_log();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // retries must not get past it either
  EXPECT_EQ(RowsAsText(setup->target(), "SELECT id, dnn, tx FROM zeros ORDER BY id"),
            "1|2024-02-29|0000-00-00\n");
}

// Without `types:` an integer column is not a boolean, even where PostgreSQL would read 0/1 as
// one: the stream stops naming the override, keeps its position, and resumes with it.
TEST(TypeOverrideTest, TinyintIntoBooleanTakesTheMappingOverrideAndConvertsOnlyZeroAndOne) {
  auto setup = ReplicationSetup::Create(
      "mariadb", "postgres", "CREATE TABLE flags (id int PRIMARY KEY, active tinyint(1));",
      "CREATE TABLE flags (id int PRIMARY KEY, active boolean);");
  ASSERT_TRUE(setup.ok()) << setup.message();
  ReplicationSetup& s = **setup;
  s.capture_tables = "[\"ferry.flags\"]";
  s.apply_mappings = "  - source: ferry.flags\n    target: public.flags\n";
  ASSERT_TRUE(s.StartCapture().ok()) << s.capture_log();
  ASSERT_TRUE(s.StartApply().ok()) << s.apply_log();
  ASSERT_TRUE(s.source().Exec("INSERT INTO flags VALUES (1, 1), (2, 0)").ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        return s.apply_log().find("add `types: {active: boolean}` to the mapping of ferry.flags") !=
               std::string::npos;
      },
      seconds(30)))
      << s.apply_log();
  EXPECT_EQ(s.target().Scalar("SELECT count(*) FROM flags"), "0");

  s.KillApply();
  s.apply_mappings += "    types: {active: boolean}\n";
  ASSERT_TRUE(s.StartApply().ok()) << s.apply_log();
  EXPECT_TRUE(WaitFor(
      [&] {
        return RowsAsText(s.target(), "SELECT id, active FROM flags ORDER BY id") == "1|t\n2|f\n";
      },
      seconds(30)))
      << RowsAsText(s.target(), "SELECT * FROM flags ORDER BY id") << s.apply_log();

  // 2 is not a boolean: stop with table, column and value rather than guess `true`.
  ASSERT_TRUE(s.source().Exec("INSERT INTO flags VALUES (3, 2)").ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        return s.apply_log().find(
                   "table ferry.flags, column active (mapping types: {active: "
                   "boolean}): value 2 cannot be converted to boolean") != std::string::npos;
      },
      seconds(30)))
      << s.apply_log();
  EXPECT_EQ(s.target().Scalar("SELECT count(*) FROM flags"), "2");
}

// Rows that exist before the subscriber starts arrive through the initial copy's bulk path: the
// override converts them there as in the stream, and without it the copy stops naming it.
TEST(TypeOverrideTest, CopiedRowsTakeTheOverrideToo) {
  auto setup = ReplicationSetup::Create(
      "mariadb", "postgres", "CREATE TABLE flags (id int PRIMARY KEY, active tinyint(1));",
      "CREATE TABLE flags (id int PRIMARY KEY, active boolean);");
  ASSERT_TRUE(setup.ok()) << setup.message();
  ReplicationSetup& s = **setup;
  s.capture_tables = "[\"ferry.flags\"]";
  s.apply_mappings = "  - source: ferry.flags\n    target: public.flags\n";
  ASSERT_TRUE(s.source().Exec("INSERT INTO flags VALUES (1, 1), (2, 0), (3, NULL)").ok());
  ASSERT_TRUE(s.StartCapture().ok()) << s.capture_log();
  ASSERT_TRUE(s.StartApply(/*wait_until_streaming=*/false).ok()) << s.apply_log();
  EXPECT_TRUE(WaitFor(
      [&] {
        return s.apply_log().find(
                   "copying ferry.flags: copy into public.flags (3 rows): column "
                   "active is boolean on the target") != std::string::npos &&
               s.apply_log().find("add `types: {active: boolean}` to the mapping of ferry.flags") !=
                   std::string::npos;
      },
      seconds(30)))
      << s.apply_log();
  EXPECT_EQ(s.target().Scalar("SELECT count(*) FROM flags"), "0");

  s.KillApply();
  s.apply_mappings += "    types: {active: boolean}\n";
  ASSERT_TRUE(s.StartApply().ok()) << s.apply_log();
  EXPECT_TRUE(WaitFor(
      [&] {
        return RowsAsText(s.target(), "SELECT id, active FROM flags ORDER BY id") ==
               "1|t\n2|f\n3|<NULL>\n";
      },
      seconds(30)))
      << RowsAsText(s.target(), "SELECT * FROM flags ORDER BY id") << s.apply_log();
}

INSTANTIATE_TEST_SUITE_P(Targets, FromMariaDbTest, ::testing::Values("postgres", "mariadb"));

}  // namespace
}  // namespace ferry::testing
