// The harness itself: a throwaway server starts, runs SQL, restarts after a crash, and is gone
// afterwards. Everything else builds on this.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>

#include "tests/harness/mariadb_server.h"
#include "tests/harness/postgres_server.h"

namespace ferry::testing {
namespace {

TEST(PostgresServerTest, StartsWithLogicalWalAndRunsSql) {
  auto server = PostgresServer::Start("harness");
  ASSERT_TRUE(server.ok()) << server.message();
  EXPECT_EQ((*server)->Scalar("SHOW wal_level"), "logical");
  ASSERT_TRUE((*server)->Exec("CREATE TABLE t (id int primary key, v text)").ok());
  ASSERT_TRUE((*server)->Exec("INSERT INTO t VALUES (1, NULL), (2, 'two')").ok());
  auto rows = (*server)->Query("SELECT id, v FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0][1], std::nullopt);
  EXPECT_EQ((*rows)[1][1], std::optional<std::string>("two"));
  EXPECT_FALSE((*server)->Exec("SELECT * FROM missing_table").ok());
}

TEST(PostgresServerTest, SurvivesImmediateStopAndRemovesItsDirectory) {
  std::string dir;
  {
    auto server = PostgresServer::Start("harness");
    ASSERT_TRUE(server.ok()) << server.message();
    dir = (*server)->data_dir();
    ASSERT_TRUE((*server)->Exec("CREATE TABLE t (id int primary key)").ok());
    ASSERT_TRUE((*server)->Exec("INSERT INTO t VALUES (7)").ok());
    ASSERT_TRUE((*server)->Kill().ok());
    EXPECT_FALSE((*server)->Exec("SELECT 1").ok());
    ASSERT_TRUE((*server)->Restart().ok());
    EXPECT_EQ((*server)->Scalar("SELECT id FROM t"), "7");
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// What libpq says when `dsn` connects, or "" once it does.
std::string PgConnectError(const std::string& dsn) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  std::string error = PQstatus(conn) == CONNECTION_OK ? "" : PQerrorMessage(conn);
  PQfinish(conn);
  return error;
}

// The database TLS tests (security_test.cc) prove something only if a clear client is refused.
TEST(PostgresServerTest, WithTlsAdmitsOnlyClientsThatUseIt) {
  PostgresOptions options;
  options.tls = true;
  auto server = PostgresServer::Start("harness-tls", options);
  ASSERT_TRUE(server.ok()) << server.message();
  EXPECT_EQ((*server)->Scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "t");
  EXPECT_EQ(PgConnectError((*server)->tls_dsn()), "");
  EXPECT_NE(PgConnectError((*server)->dsn() + " sslmode=disable").find("no encryption"),
            std::string::npos);
  EXPECT_NE(PgConnectError((*server)->dsn() + " sslmode=disable replication=database")
                .find("no encryption"),
            std::string::npos);
}

TEST(MariaDbServerTest, StartsWithRowBinlogAndRunsSql) {
  auto server = MariaDbServer::Start("harness-maria");
  ASSERT_TRUE(server.ok()) << server.message();
  EXPECT_EQ((*server)->Scalar("SELECT @@binlog_format"), "ROW");
  EXPECT_EQ((*server)->Scalar("SELECT @@binlog_row_image"), "FULL");
  EXPECT_EQ((*server)->Scalar("SELECT @@log_bin"), "1");
  ASSERT_TRUE((*server)
                  ->Exec("CREATE TABLE t (id int primary key, v text); "
                         "INSERT INTO t VALUES (1, NULL), (2, 'two')")
                  .ok());
  auto rows = (*server)->Query("SELECT id, v FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0][1], std::nullopt);
  EXPECT_EQ((*rows)[1][1], std::optional<std::string>("two"));
  EXPECT_FALSE((*server)->Exec("SELECT * FROM missing_table").ok());
  ASSERT_TRUE((*server)->Kill().ok());
  EXPECT_FALSE((*server)->Exec("SELECT 1").ok());
  ASSERT_TRUE((*server)->Restart().ok());
  EXPECT_EQ((*server)->Scalar("SELECT count(*) FROM t"), "2");
}

}  // namespace
}  // namespace ferry::testing
