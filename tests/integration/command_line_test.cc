// The `ferry` binary's command line: help, version, usage errors and --check, as an operator
// meets them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/harness/ferry_process.h"
#include "tests/harness/mariadb_server.h"
#include "tests/harness/postgres_server.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

TEST(CommandLineTest, VersionAndHelp) {
  auto version = RunFerry({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.output, HasSubstr("ferry 0."));
  auto help = RunFerry({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("ferry capture --config FILE"));
  EXPECT_THAT(help.output, HasSubstr("--check"));
}

TEST(CommandLineTest, UsageErrorsExitWithTwoAndSayWhatToDo) {
  auto none = RunFerry({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.output, HasSubstr("no command given"));
  auto unknown = RunFerry({"replicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(
      unknown.output,
      HasSubstr("the commands are capture, apply, verify, snapshot, status, conflicts and inspect"));
  auto no_config = RunFerry({"apply"});
  EXPECT_EQ(no_config.exit_code, 2);
  EXPECT_THAT(no_config.output, HasSubstr("needs --config FILE"));
  auto missing_file = RunFerry({"capture", "--config", "/nonexistent/capture.yaml", "--check"});
  EXPECT_EQ(missing_file.exit_code, 2);
  EXPECT_THAT(missing_file.output, HasSubstr("/nonexistent/capture.yaml"));
}

TEST(CommandLineTest, ConflictsListNeedsListAConfigAndAKnownType) {
  auto no_list = RunFerry({"conflicts", "show"});
  EXPECT_EQ(no_list.exit_code, 2);
  EXPECT_THAT(no_list.output, HasSubstr("usage: ferry conflicts list --config APPLY.yaml"));
  auto no_config = RunFerry({"conflicts", "list"});
  EXPECT_EQ(no_config.exit_code, 2);
  EXPECT_THAT(no_config.output, HasSubstr("--config is required"));
  auto bad_type = RunFerry({"conflicts", "list", "--config", "x.yaml", "--type", "clash"});
  EXPECT_EQ(bad_type.exit_code, 2);
  EXPECT_THAT(bad_type.output, HasSubstr("not a conflict type: insert_exists"));
}

// A master-master policy under which two nodes could end with different rows is refused before
// anything runs, naming the table, the type and what to use instead.
TEST(CommandLineTest, CheckRefusesAMasterMasterPolicyThatDoesNotConverge) {
  TempDir dir;
  dir.Write("secret.token", "token-0123456789abcdef\n");
  std::string config = dir.Write("apply.yaml",
                                 "node: east\n"
                                 "target: {engine: postgres, dsn: \"host=127.0.0.1\"}\n"
                                 "upstreams: [{name: west, address: \"127.0.0.1:1\","
                                 " auth_token_file: secret.token}]\n"
                                 "mode: master-master\n"
                                 "conflicts:\n"
                                 "  default: {resolver: last_writer_wins, column: ts}\n"
                                 "  tables: {public.t: {update_differs: source_wins}}\n");
  auto result = RunFerry({"apply", "--config", config, "--check"});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_THAT(result.output, HasSubstr("public.t"));
  EXPECT_THAT(result.output, HasSubstr("update_differs"));
  EXPECT_THAT(result.output, HasSubstr("priority"));
}

TEST(CommandLineTest, CheckReportsEveryConfigProblemAtOnce) {
  TempDir dir;
  std::string config = dir.Write("capture.yaml",
                                 "node: east\n"
                                 "source: {engine: postgres}\n"
                                 "auth_token_file: missing.token\n"
                                 "tabels: [\"public.*\"]\n");
  auto result = RunFerry({"capture", "--config", config, "--check"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.output, HasSubstr("source.dsn"));
  EXPECT_THAT(result.output, HasSubstr("missing.token"));
  EXPECT_THAT(result.output, HasSubstr("did you mean \"tables\""));
}

TEST(CommandLineTest, ApplyCheckValidatesMappingsAgainstTheTarget) {
  auto server = PostgresServer::Start("check");
  ASSERT_TRUE(server.ok()) << server.message();
  ASSERT_TRUE((*server)->Exec("CREATE TABLE orders (id int PRIMARY KEY, total bigint)").ok());
  TempDir dir;
  dir.Write("secret.token", "token-0123456789abcdef\n");
  auto write_config = [&](const std::string& mappings) {
    return dir.Write("apply.yaml",
                     "node: west\n"
                     "target:\n  engine: postgres\n  dsn: \"" +
                         (*server)->dsn() +
                         "\"\n"
                         "upstreams:\n  - name: east\n    address: 127.0.0.1:7400\n"
                         "    auth_token_file: secret.token\n"
                         "mappings:\n" +
                         mappings);
  };
  auto good = RunFerry({"apply", "--check", "--config",
                        write_config("  - source: public.orders\n    columns: {total: total}\n")});
  EXPECT_EQ(good.exit_code, 0) << good.output;

  auto bad = RunFerry({"apply", "--check", "--config",
                       write_config("  - source: public.orders\n    columns: {total: total_cents}\n"
                                    "  - source: public.items\n    target: archive.items\n")});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("has no column \"total_cents\""));
  EXPECT_THAT(bad.output, HasSubstr("archive.items does not exist"));
}

// `ferry inspect binlog` on the recorded MySQL binlogs of ../shared/fixtures (read in place).
TEST(CommandLineTest, InspectBinlogPrintsChangeRecordsAndRefusesGarbage) {
  const std::string fixtures = std::string(FERRY_SOURCE_DIR) + "/../shared/fixtures/mysql-binlog";
  if (!std::filesystem::exists(fixtures)) GTEST_SKIP() << "no recorded binlogs at " << fixtures;
  auto compressed = RunFerry({"inspect", "binlog", fixtures + "/mysql-bin.compressed"});
  EXPECT_EQ(compressed.exit_code, 0) << compressed.output;
  EXPECT_THAT(compressed.output, HasSubstr("{\"row\": {\"op\":\"UPDATE\""));
  EXPECT_THAT(compressed.output, HasSubstr("Once Upon a Time in the West"));

  auto garbage = RunFerry({"inspect", "binlog", fixtures + "/non-binlog"});
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_THAT(garbage.output, HasSubstr("not a binlog file"));
  auto usage = RunFerry({"inspect", "wal", "x"});
  EXPECT_EQ(usage.exit_code, 2);
}

// An operator copies the binlog a running server is still writing: that server has set
// LOG_EVENT_BINLOG_IN_USE_F in the file's FORMAT_DESCRIPTION_EVENT after computing its checksum
// (and clears it when it closes the file). The copy must read as the server itself reads it.
TEST(CommandLineTest, InspectBinlogReadsACopyOfABinlogStillInUse) {
  auto server = MariaDbServer::Start("inspect-open");
  ASSERT_TRUE(server.ok()) << server.message();
  ASSERT_TRUE((*server)
                  ->Exec("CREATE TABLE notes (id INT PRIMARY KEY, note VARCHAR(20), day DATE);"
                         "INSERT INTO notes VALUES (1, 'written while open', '0000-00-00')")
                  .ok());
  auto status = (*server)->Query("SHOW MASTER STATUS");
  ASSERT_TRUE(status.ok() && !status->empty()) << status.message();
  const std::string current = *(*status)[0][0];
  TempDir dir;
  const std::string copy = dir.path() + "/" + current;
  std::filesystem::copy_file((*server)->binlog_dir() + "/" + current, copy);

  std::ifstream in(copy, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kFdeFlagsOffset = 4 + 17;  // after the magic, in the common header
  ASSERT_GT(bytes.size(), kFdeFlagsOffset);
  ASSERT_TRUE(bytes[kFdeFlagsOffset] & 0x01) << "the server no longer marks its open binlog";

  auto inspected = RunFerry({"inspect", "binlog", copy});
  EXPECT_EQ(inspected.exit_code, 0) << inspected.output;
  EXPECT_THAT(inspected.output, HasSubstr("written while open"));
  EXPECT_THAT(inspected.output, HasSubstr("{\"date\":\"0000-00-00\"}"));  // exactly, not NULL
}

}  // namespace
}  // namespace ferry::testing
