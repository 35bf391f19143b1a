// `ferry verify` through the real binary against real servers, in all four directions: the
// target is filled by real replication (capture and apply running, with a table rename, an
// excluded column and type overrides in the mapping), then verify runs while they keep running.
// An equal pair of many types exits 0 with nothing reported; a changed, a missing and an extra
// row are each found with their key (exit 1), --columns names the changed columns, --json
// prints one document; a table without a primary key and a table missing on the target exit 2
// with the fix.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/harness/replication_setup.h"
#include "tests/integration/directions.h"

namespace ferry::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

// ---- schemas and rows, per engine -------------------------------------------------------------

// Both engines' sources have `total` (renamed total_cents on the target), `secret` (excluded)
// and `code` (an integer written as text, types: {code: text}).
constexpr char kPgSource[] = R"sql(
  CREATE TABLE matrix (id int PRIMARY KEY, b boolean, i2 smallint, i8 bigint, n numeric(12,2),
    f8 double precision, f4 real, t text, vc varchar(20), ch char(5), by bytea, d date,
    tm time(6), ts timestamp(6), tstz timestamptz(6), j jsonb, u uuid, total numeric(10,2),
    secret text, code int, arr int[], iv interval);
  CREATE TABLE nokey (a int, b text);
  CREATE TABLE orphan (id int PRIMARY KEY);
)sql";

// The same on both sides of every direction; between two servers of one engine verify compares
// its chunks by checksum.
constexpr char kPlain[] =
    "CREATE TABLE plain (id int, day date, v varchar(20), n decimal(10,2), "
    "PRIMARY KEY (id, day));";

constexpr char kPlainRows[] =
    "INSERT INTO plain VALUES (1, '2024-01-01', 'row 1', 1.50), (2, '2024-01-02', 'row 2', 2.50),"
    " (3, '2024-01-03', NULL, 3.50), (4, '2024-01-04', 'row 4', NULL),"
    " (5, '2024-01-05', '', 5.50), (6, '2024-01-06', 'row 6', 6.50),"
    " (7, '2024-01-07', 'row 7', 7.50), (8, '2024-01-08', 'row 8', 8.50),"
    " (9, '2024-01-09', 'row 9', 9.50), (10, '2024-01-10', 'row 10', 10.50);";

constexpr char kPgRows[] = R"sql(
  INSERT INTO matrix (id, b, i2, i8, n, f8, f4, t, vc, ch, by, d, tm, ts, tstz, j, u, total,
                      secret, code, arr, iv) VALUES
    (1, true, -32768, -9223372036854775808, 1.50, 1.5, 0.1, 'emoji 🚀 and ümlaut', 'a', 'ab',
     '\x00ff', '2024-02-29', '13:45:10.5', '2024-01-01 10:00:00.5',
     '2024-02-29 13:45:10.123456+02', '{"b": 1, "a": [1, 2, null]}',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 12.50, 'card 4111', 42, '{1,2,NULL}',
     '1 day 04:05:06.789'),
    (2, false, 32767, 9223372036854775807, -0.5, -0.25, -1.5, '', 'b', 'xyz', '\x',
     '0001-01-01', '00:00:00', '1970-01-01 00:00:00.000001', '2030-01-01 00:00:00+00', '[]',
     '00000000-0000-0000-0000-000000000000', 0, NULL, -7, '{}', '-10:00:00'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL);
)sql";

constexpr char kMariaSource[] = R"sql(
  CREATE TABLE matrix (id int PRIMARY KEY, b tinyint(1), i2 smallint, i8 bigint,
    ubi bigint unsigned, n decimal(12,2), f8 double, f4 float, t text, lt text CHARACTER SET latin1,
    vc varchar(20), ch char(5), `by` blob, d date, zd date, tm time(6), tneg time,
    ts datetime(6), tstz timestamp(6) NULL DEFAULT NULL, j json, e enum('a','b'),
    s set('x','y'), bits bit(8), yr year, total decimal(10,2), secret text, code int);
  CREATE TABLE nokey (a int, b text);
  CREATE TABLE orphan (id int PRIMARY KEY);
)sql";

constexpr char kMariaRows[] = R"sql(
  SET time_zone = '+00:00';
  INSERT INTO matrix (id, b, i2, i8, ubi, n, f8, f4, t, lt, vc, ch, `by`, d, zd, tm, tneg, ts,
                      tstz, j, e, s, bits, yr, total, secret, code) VALUES
    (1, 1, -32768, -9223372036854775808, 18446744073709551615, 1.50, 1.5, 0.1,
     'emoji 🚀 and ümlaut', 'café', 'a', 'ab', x'00ff', '2024-02-29', '0000-00-00', '13:45:10.5',
     '-10:00:00', '2024-01-01 10:00:00.5', '2024-02-29 11:45:10.123456',
     '{"b": 1, "a": [1, 2, null]}', 'b', 'y,x', b'00000101', 2024, 12.50, 'card 4111', 42),
    (2, 0, 32767, 9223372036854775807, 0, -0.5, -0.25, -1.5, '', '', 'b', 'xyz', x'',
     '1000-01-01', '2024-00-10', '00:00:00', '100:00:00.5', '1970-01-01 00:00:00.000001',
     '2030-01-01 00:00:00', '[]', 'a', '', b'0', 1901, 0, NULL, -7),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
)sql";

// The target tables: total renamed, secret left out, code as text.
std::string TargetSchema(const Direction& d) {
  if (d.source == "postgres" && d.target == "postgres") {
    return R"sql(
      CREATE TABLE matrix (id int PRIMARY KEY, b boolean, i2 smallint, i8 bigint,
        n numeric(12,2), f8 double precision, f4 real, t text, vc varchar(20), ch char(5),
        by bytea, d date, tm time(6), ts timestamp(6), tstz timestamptz(6), j jsonb, u uuid,
        total_cents numeric(10,2), code varchar(20), arr int[], iv interval);)sql";
  }
  if (d.source == "postgres") {
    return R"sql(
      CREATE TABLE matrix (id int PRIMARY KEY, b boolean, i2 smallint, i8 bigint,
        n decimal(12,2), f8 double, f4 float, t longtext, vc varchar(20), ch char(5),
        `by` longblob, d date, tm time(6), ts datetime(6), tstz datetime(6), j json,
        u char(36), total_cents decimal(10,2), code varchar(20), arr json, iv varchar(50));)sql";
  }
  if (d.target == "postgres") {
    return R"sql(
      CREATE TABLE matrix (id int PRIMARY KEY, b boolean, i2 smallint, i8 bigint,
        ubi numeric(20,0), n numeric(12,2), f8 double precision, f4 real, t text, lt text,
        vc varchar(20), ch char(5), by bytea, d date, zd date, tm time(6), tneg interval,
        ts timestamp(6), tstz timestamptz(6), j jsonb, e text, s text, bits bit(8),
        yr smallint, total_cents numeric(10,2), code varchar(20));)sql";
  }
  return R"sql(
    CREATE TABLE matrix (id int PRIMARY KEY, b tinyint(1), i2 smallint, i8 bigint,
      ubi bigint unsigned, n decimal(12,2), f8 double, f4 float, t text,
      lt text CHARACTER SET latin1, vc varchar(20), ch char(5), `by` blob, d date, zd date,
      tm time(6), tneg time, ts datetime(6), tstz timestamp(6) NULL DEFAULT NULL, j json,
      e enum('a','b'), s set('x','y'), bits bit(8), yr year, total_cents decimal(10,2),
      code varchar(20));)sql";
}

// ---- running ferry verify --------------------------------------------------------------------

// Exit code and standard output only (the log goes to standard error), for --json.
CommandResult RunStdout(const std::vector<std::string>& args) {
  std::string command = FERRY_BINARY;
  for (const std::string& arg : args) {
    command += " '";
    for (char c : arg) command += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += "'";
  }
  CommandResult result;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class VerifyTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    const Direction& d = GetParam();
    auto setup = ReplicationSetup::Create(
        d.source, d.target, std::string(d.source == "postgres" ? kPgSource : kMariaSource) + kPlain,
        TargetSchema(d) + kPlain);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables =
        "[\"" + Qualified(d.source, "matrix") + "\", \"" + Qualified(d.source, "plain") + "\"]";
    std::string types = "code: text";
    if (d.source == "mariadb") types += ", b: boolean";
    setup_->apply_mappings = "  - source: " + Qualified(d.source, "matrix") +
                             "\n    target: " + Qualified(d.target, "matrix") +
                             "\n    columns: {total: total_cents}\n    exclude: [secret]\n" +
                             "    types: {" + types + "}\n" +
                             "  - source: " + Qualified(d.source, "plain") +
                             "\n    target: " + Qualified(d.target, "plain") + "\n";
    ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
    ASSERT_TRUE(setup_->source().Exec(d.source == "postgres" ? kPgRows : kMariaRows).ok());
    ASSERT_TRUE(setup_->source().Exec(kPlainRows).ok());
    ASSERT_TRUE(WaitFor(
        [&] {
          return setup_->target().Scalar("SELECT count(*) FROM matrix") == "3" &&
                 setup_->target().Scalar("SELECT count(*) FROM plain") == "10";
        },
        seconds(60)))
        << setup_->apply_log();
  }

  std::string ApplyConfig() const { return setup_->dir().path() + "/apply.yaml"; }
  std::string CaptureConfig() const { return setup_->dir().path() + "/capture.yaml"; }

  // A copy of the capture config whose tables: are `tables`. A PostgreSQL source's tables are
  // its publication's once the capture agent has created it: the copy names another, which
  // does not exist.
  std::string CaptureConfigWithTables(const std::string& tables) const {
    std::string config = ReadFile(CaptureConfig());
    const size_t start = config.find("tables: ");
    const size_t end = config.find('\n', start);
    config.replace(start, end - start, "tables: " + tables);
    if (GetParam().source == "postgres") config += "publication: verify_other_tables\n";
    return setup_->dir().Write("capture-other-tables.yaml", config);
  }

  CommandResult Verify(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"verify", "--config", ApplyConfig(), "--source",
                                     CaptureConfig()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunFerry(args);
  }

  // Table `plain`, whose columns have the same types on both sides: compared by checksum
  // between two servers of one engine (and row by row with --row-by-row, or across engines),
  // with the same result.
  void CheckPlainTable() {
    const Direction& d = GetParam();
    const bool by_checksum = d.source == d.target;
    const std::string plain = Qualified(d.source, "plain");
    CommandResult equal =
        RunStdout({"verify", "--config", ApplyConfig(), "--source", CaptureConfig(), "--table",
                   plain, "--chunk-rows", "3", "--json"});
    EXPECT_EQ(equal.exit_code, 0) << equal.output;
    nlohmann::json report = nlohmann::json::parse(equal.output, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << equal.output;
    EXPECT_EQ(report["tables"][0]["source_rows"], 10);
    EXPECT_EQ(report["tables"][0]["checksum_chunks"], by_checksum ? 4 : 0);
    EXPECT_EQ(report["tables"][0]["chunks_read_row_by_row"], 0);

    // A changed row, a missing row, an extra row inside the key range and one beyond its end.
    ASSERT_TRUE(setup_->target()
                    .Exec("UPDATE plain SET n = 0 WHERE id = 2; DELETE FROM plain WHERE id = 5;"
                          "INSERT INTO plain VALUES (5, '2024-02-01', 'extra', 1),"
                          " (11, '2024-01-11', 'extra', 1)")
                    .ok());
    const std::string expected =
        "rows compared, 1 missing, 2 extra, 1 differing\n"
        "  missing on the target: 1\n    id=5, day='2024-01-05'\n"
        "  extra on the target: 2\n    id=5, day='2024-02-01'\n    id=11, day='2024-01-11'\n"
        "  differing: 1\n    id=2, day='2024-01-02'  columns: n\n";
    for (const char* mode : {"--columns", "--row-by-row"}) {
      CommandResult differ = Verify(
          {"--table", plain, "--chunk-rows", "3", "--columns", mode, "--recheck-delay-ms", "0"});
      EXPECT_EQ(differ.exit_code, 1) << differ.output;
      EXPECT_THAT(differ.output, HasSubstr(": 10 " + expected)) << mode;
    }
    CommandResult json =
        RunStdout({"verify", "--config", ApplyConfig(), "--source", CaptureConfig(), "--table",
                   plain, "--chunk-rows", "3", "--json", "--recheck-rounds", "0"});
    report = nlohmann::json::parse(json.output, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << json.output;
    EXPECT_EQ(report["tables"][0]["target_rows"], 11);
    // (..3] differs, (3..6] differs, (6..9] agrees, (9..) differs.
    EXPECT_EQ(report["tables"][0]["chunks_read_row_by_row"], by_checksum ? 3 : 0);
  }

  std::unique_ptr<ReplicationSetup> setup_;
};

TEST_P(VerifyTest, EqualPairThenEachKindOfDifferenceThenErrors) {
  const Direction& d = GetParam();
  const std::string matrix = Qualified(d.source, "matrix");

  // Equal, while replication runs; a row written just before is in flight or already there.
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO matrix (id, vc) VALUES (4, 'late')").ok());
  CommandResult equal = Verify({"--table", matrix});
  EXPECT_EQ(equal.exit_code, 0) << equal.output << setup_->apply_log();
  EXPECT_THAT(equal.output, HasSubstr(": 4 rows compared, 0 missing, 0 extra, 0 differing\n"));
  EXPECT_THAT(equal.output, HasSubstr("source and target agree"));

  // A changed row (also in the renamed column), a missing row and an extra row on the target.
  ASSERT_TRUE(
      setup_->target()
          .Exec("UPDATE matrix SET vc = 'changed', ts = '2024-01-01 10:00:00.6', total_cents = 99 "
                "WHERE id = 1;"
                "DELETE FROM matrix WHERE id = 2;"
                "INSERT INTO matrix (id, vc) VALUES (99, 'extra')")
          .ok());
  CommandResult differ = Verify({"--columns", "--recheck-delay-ms", "100"});
  EXPECT_EQ(differ.exit_code, 1) << differ.output;
  EXPECT_THAT(differ.output, HasSubstr(": 4 rows compared, 1 missing, 1 extra, 1 differing\n"));
  EXPECT_THAT(differ.output, HasSubstr("  missing on the target: 1\n    id=2\n"));
  EXPECT_THAT(differ.output, HasSubstr("  extra on the target: 1\n    id=99\n"));
  EXPECT_THAT(differ.output,
              HasSubstr("  differing: 1\n    id=1  columns: vc, ts, total->total_cents\n"));
  EXPECT_THAT(differ.output, HasSubstr("still different when re-checked 100 ms later"));
  EXPECT_THAT(differ.output, HasSubstr("verify: 2 tables, 14 source rows"));
  EXPECT_THAT(differ.output, HasSubstr("1 equal, 1 differ, 0 failed"));

  // Without --columns the keys only; --json is one document on standard output.
  CommandResult json = RunStdout({"verify", "--config", ApplyConfig(), "--source", CaptureConfig(),
                                  "--table", matrix, "--json", "--recheck-rounds", "0"});
  EXPECT_EQ(json.exit_code, 1) << json.output;
  const nlohmann::json report = nlohmann::json::parse(json.output, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json.output;
  EXPECT_EQ(report["exit_code"], 1);
  ASSERT_EQ(report["tables"].size(), 1u) << json.output;
  const nlohmann::json& table = report["tables"][0];
  EXPECT_EQ(table["status"], "differ");
  EXPECT_EQ(table["source_rows"], 4);
  EXPECT_EQ(table["missing"]["listed"][0]["key"]["id"], 2);
  EXPECT_EQ(table["extra"]["listed"][0]["key"]["id"], 99);
  EXPECT_EQ(table["differing"]["listed"][0]["key"]["id"], 1);
  EXPECT_FALSE(table["differing"]["listed"][0].contains("columns"));

  CheckPlainTable();

  // A table without a primary key and a table the target lacks: exit 2, each with its fix.
  const std::string other = CaptureConfigWithTables(
      "[\"" + Qualified(d.source, "nokey") + "\", \"" + Qualified(d.source, "orphan") + "\"]");
  CommandResult errors = RunFerry({"verify", "--config", ApplyConfig(), "--source", other});
  EXPECT_EQ(errors.exit_code, 2) << errors.output;
  EXPECT_THAT(errors.output, HasSubstr("nokey: error: source: table"));
  EXPECT_THAT(errors.output, HasSubstr("has no primary key"));
  EXPECT_THAT(errors.output, HasSubstr("ADD PRIMARY KEY"));
  EXPECT_THAT(errors.output, HasSubstr("orphan: error: table " + Qualified(d.source, "orphan") +
                                       " does not exist on the target"));
  EXPECT_THAT(errors.output, HasSubstr("under mappings: in the apply config"));
  EXPECT_THAT(errors.output, Not(HasSubstr("source and target agree")));

  // An unreachable target is an error too, named as the target.
  std::string apply = ReadFile(ApplyConfig());
  const size_t port = apply.find("port=", apply.find("target:"));
  apply.replace(port, apply.find(' ', port) - port, "port=1");
  CommandResult unreachable =
      RunFerry({"verify", "--config", setup_->dir().Write("apply-unreachable.yaml", apply),
                "--source", CaptureConfig()});
  EXPECT_EQ(unreachable.exit_code, 2) << unreachable.output;
  EXPECT_THAT(unreachable.output, HasSubstr("verify: error: connecting to the target"));
  EXPECT_THAT(unreachable.output, Not(HasSubstr("source server")));
}

INSTANTIATE_TEST_SUITE_P(AllDirections, VerifyTest, kAllDirections, DirectionName);

// Bad input: a missing config and an unreachable database are errors (exit 2), not differences.
TEST(VerifyCommandTest, UnreachableTargetAndBadArgumentsExitTwo) {
  TempDir dir;
  dir.Write("secret.token", "token-0123456789abcdef\n");
  const std::string capture = dir.Write(
      "capture.yaml",
      "node: east\nsource:\n  engine: postgres\n  dsn: \"host=127.0.0.1 port=1 dbname=x "
      "user=x connect_timeout=2\"\nauth_token_file: secret.token\ntables: [\"public.*\"]\n");
  const std::string apply =
      dir.Write("apply.yaml",
                "node: west\ntarget:\n  engine: mariadb\n  dsn: \"host=127.0.0.1 port=1 user=x "
                "dbname=x\"\nupstreams:\n  - name: east\n    address: 127.0.0.1:1\n"
                "    auth_token_file: secret.token\n");
  CommandResult unreachable = RunFerry({"verify", "--config", apply, "--source", capture});
  EXPECT_EQ(unreachable.exit_code, 2) << unreachable.output;
  EXPECT_THAT(unreachable.output, HasSubstr("verify: error: connecting to the source PostgreSQL"));
  CommandResult no_source = RunFerry({"verify", "--config", apply});
  EXPECT_EQ(no_source.exit_code, 2);
  EXPECT_THAT(no_source.output, HasSubstr("--source"));
  CommandResult bad_config = RunFerry({"verify", "--config", capture, "--source", capture});
  EXPECT_EQ(bad_config.exit_code, 2);
  EXPECT_THAT(bad_config.output, HasSubstr("configuration is not valid"));
}

}  // namespace
}  // namespace ferry::testing
