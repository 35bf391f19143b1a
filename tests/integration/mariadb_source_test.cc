// MakeMysqlSource against real MariaDB 10.11 servers (tests/harness/mariadb_server.h): what a
// capture agent would see, event by event, with exact values and positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "capture/mysql/binlog_stream.h"
#include "capture/mysql/mysql_charset.h"
#include "capture/mysql/mysql_source.h"
#include "common/json_text.h"
#include "tests/harness/mariadb_server.h"
#include "tests/integration/mariadb_source_reader.h"
#include "tests/integration/mariadb_tls_suite.h"
#include "tests/integration/test_ca.h"
#include "wire/position.h"
#include "wire/testing/test_certificates.h"

namespace ferry::capture::mysql {
namespace {

constexpr char kSourceServer[] = "msrc";
class MariaDbSourceTest : public OneServerPerSuite<kSourceServer, kFullRowMetadata> {};

TEST_F(MariaDbSourceTest, RowsArriveAsTransactionsWithValuesAndPositions) {
  Exec(
      "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50), price DECIMAL(10,2),"
      " note VARCHAR(20) NULL)");
  auto source = Source(db(), {"ferry.items"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  EXPECT_EQ(source->engine(), "mariadb");

  Exec("INSERT INTO items VALUES (1, 'one', 1.50, NULL)");
  const std::string first = GtidPos(db());
  Exec(
      "BEGIN; INSERT INTO items VALUES (2, 'two', -0.25, 'x');"
      " UPDATE items SET name = 'uno' WHERE id = 1; DELETE FROM items WHERE id = 2; COMMIT");
  const std::string second = GtidPos(db());
  Exec("BEGIN; INSERT INTO items VALUES (3, 'rolled back', 0, NULL); ROLLBACK");
  Exec("INSERT INTO items VALUES (4, 'four', 4.00, 'ü')");
  const std::string third = GtidPos(db());

  auto txs = ReadTransactions(*source, 3);
  ASSERT_TRUE(txs.ok()) << txs.message();
  const Tx& t1 = (*txs)[0];
  EXPECT_EQ(t1.begin.position().value(), first);
  EXPECT_EQ(t1.begin.position().engine(), "mariadb");
  EXPECT_NEAR(
      t1.begin.commit_time_us() / 1e6,
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(),
      60);
  ASSERT_EQ(t1.relations.size(), 1u);
  EXPECT_EQ(t1.relations[0].schema(), "ferry");
  EXPECT_EQ(t1.relations[0].table(), "items");
  EXPECT_EQ(Names(t1.relations[0]), (std::vector<std::string>{"id", "name", "price", "note"}));
  EXPECT_TRUE(t1.relations[0].columns(0).key());
  EXPECT_FALSE(t1.relations[0].columns(1).key());
  ASSERT_EQ(t1.rows.size(), 1u);
  EXPECT_EQ(t1.rows[0].op(), wire::RowChange::INSERT);
  EXPECT_EQ(Render(t1.rows[0].new_values()),
            (std::vector<std::string>{"1", "'one'", "dec:1.50", "NULL"}));

  const Tx& t2 = (*txs)[1];
  EXPECT_EQ(t2.begin.position().value(), second);
  ASSERT_EQ(t2.rows.size(), 3u);
  EXPECT_EQ(t2.rows[0].op(), wire::RowChange::INSERT);
  EXPECT_EQ(Render(t2.rows[0].new_values()),
            (std::vector<std::string>{"2", "'two'", "dec:-0.25", "'x'"}));
  EXPECT_EQ(t2.rows[1].op(), wire::RowChange::UPDATE);
  EXPECT_EQ(Render(t2.rows[1].old_values()),
            (std::vector<std::string>{"1", "'one'", "dec:1.50", "NULL"}));
  EXPECT_EQ(Render(t2.rows[1].new_values()),
            (std::vector<std::string>{"1", "'uno'", "dec:1.50", "NULL"}));
  EXPECT_EQ(t2.rows[2].op(), wire::RowChange::DELETE);
  EXPECT_EQ(Render(t2.rows[2].old_values()),
            (std::vector<std::string>{"2", "'two'", "dec:-0.25", "'x'"}));

  // The rolled-back transaction never reached the binlog; the next one follows directly.
  const Tx& t3 = (*txs)[2];
  EXPECT_EQ(t3.begin.position().value(), third);
  ASSERT_EQ(t3.rows.size(), 1u);
  EXPECT_EQ(Render(t3.rows[0].new_values()),
            (std::vector<std::string>{"4", "'four'", "dec:4.00", "'ü'"}));
  ExpectNoTransaction(*source, milliseconds(1500));

  // The server keeps binlogs by age, not by reader: Confirm only checks the engine.
  EXPECT_TRUE(source->Confirm(t3.commit.position()).ok());
  wire::Position postgres;
  postgres.set_engine("postgres");
  postgres.set_value("0/1");
  EXPECT_FALSE(source->Confirm(postgres).ok());
  source->Stop();
  EXPECT_FALSE(source->Next(milliseconds(10)).ok());
}

TEST_F(MariaDbSourceTest, TransactionsOfOtherTablesAreDropped) {
  Exec(
      "CREATE TABLE wanted (id INT PRIMARY KEY, v VARCHAR(10)); CREATE TABLE unwanted (id INT"
      " PRIMARY KEY, v VARCHAR(10)); CREATE DATABASE shop; CREATE TABLE shop.orders (id INT"
      " PRIMARY KEY)");
  auto source = Source(db(), {"ferry.wanted", "shop.*"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());

  Exec("INSERT INTO unwanted VALUES (1, 'a')");
  Exec(
      "BEGIN; INSERT INTO unwanted VALUES (2, 'b'); INSERT INTO wanted VALUES (1, 'c');"
      " UPDATE unwanted SET v = 'bb' WHERE id = 2; COMMIT");
  const std::string mixed = GtidPos(db());
  Exec("INSERT INTO unwanted VALUES (3, 'd')");
  Exec("INSERT INTO shop.orders VALUES (7)");
  const std::string shop = GtidPos(db());

  auto txs = ReadTransactions(*source, 2);
  ASSERT_TRUE(txs.ok()) << txs.message();
  EXPECT_EQ((*txs)[0].begin.position().value(), mixed);
  ASSERT_EQ((*txs)[0].rows.size(), 1u);
  ASSERT_EQ((*txs)[0].relations.size(), 1u);
  EXPECT_EQ((*txs)[0].relations[0].table(), "wanted");
  EXPECT_EQ(Render((*txs)[0].rows[0].new_values()), (std::vector<std::string>{"1", "'c'"}));
  EXPECT_EQ((*txs)[1].begin.position().value(), shop);
  EXPECT_EQ((*txs)[1].row_relations[0].schema(), "shop");
  EXPECT_EQ(Render((*txs)[1].rows[0].new_values()), (std::vector<std::string>{"7"}));
  ExpectNoTransaction(*source, milliseconds(1000));
}

TEST_F(MariaDbSourceTest, ResumesAfterAGtidCheckpoint) {
  Exec("CREATE TABLE resume_gtid (id INT PRIMARY KEY)");
  auto source = Source(db(), {"ferry.resume_gtid"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  for (int i = 1; i <= 5; ++i) Exec("INSERT INTO resume_gtid VALUES (" + std::to_string(i) + ")");
  auto all = ReadTransactions(*source, 5);
  ASSERT_TRUE(all.ok()) << all.message();
  source->Stop();

  const wire::Position checkpoint = (*all)[1].commit.position();
  auto resumed_source = Source(db(), {"ferry.resume_gtid"});
  ASSERT_TRUE(resumed_source->Start(checkpoint).ok());
  auto resumed = ReadTransactions(*resumed_source, 3);
  ASSERT_TRUE(resumed.ok()) << resumed.message();
  for (size_t i = 0; i < 3; ++i) {
    const Tx& tx = (*resumed)[i];
    EXPECT_EQ(tx.begin.position().value(), (*all)[i + 2].begin.position().value());
    EXPECT_EQ(Render(tx.rows[0].new_values()), (std::vector<std::string>{std::to_string(i + 3)}));
    auto covered = wire::IsCovered(tx.begin.position(), checkpoint);
    ASSERT_TRUE(covered.ok()) << covered.message();
    EXPECT_FALSE(*covered);
  }
  EXPECT_TRUE(*wire::IsCovered((*all)[1].begin.position(), checkpoint));
  ExpectNoTransaction(*resumed_source, milliseconds(1000));
}

// A file position (from SHOW MASTER STATUS when the target was loaded, say) starts the stream at
// that transaction. MariaDB logs a GTID for every transaction, so what arrives carries GTID
// states, complete for every domain.
TEST_F(MariaDbSourceTest, ResumesFromAFilePosition) {
  Exec("CREATE TABLE resume_file (id INT PRIMARY KEY)");
  Exec("CREATE TABLE other_domain (id INT PRIMARY KEY)");
  Exec("SET SESSION gtid_domain_id = 7; INSERT INTO other_domain VALUES (1)");
  Exec("INSERT INTO resume_file VALUES (1)");
  const std::string before_second = FilePos(db());
  Exec("INSERT INTO resume_file VALUES (2)");
  const std::string second = GtidPos(db());
  Exec("INSERT INTO resume_file VALUES (3)");
  const std::string third = GtidPos(db());
  EXPECT_NE(second.find(",7-1-"), std::string::npos) << second;

  auto source = Source(db(), {"ferry.resume_file"});
  ASSERT_TRUE(source->Start(Mariadb(before_second)).ok());
  auto txs = ReadTransactions(*source, 2);
  ASSERT_TRUE(txs.ok()) << txs.message();
  EXPECT_EQ((*txs)[0].begin.position().value(), second);
  EXPECT_EQ(Render((*txs)[0].rows[0].new_values()), (std::vector<std::string>{"2"}));
  EXPECT_EQ((*txs)[1].begin.position().value(), third);
  EXPECT_EQ(Render((*txs)[1].rows[0].new_values()), (std::vector<std::string>{"3"}));
  ExpectNoTransaction(*source, milliseconds(1000));

  // Not at an event: refused rather than read from the middle of one.
  auto position = wire::ParseBinlogFilePosition(before_second);
  ASSERT_TRUE(position.ok());
  auto misplaced = Source(db(), {"ferry.resume_file"});
  Status status = misplaced->Start(
      Mariadb(wire::FormatBinlogFilePosition(position->file, position->offset + 3)));
  EXPECT_NE(status.message().find("is not at an event"), std::string::npos) << status.message();
}

TEST_F(MariaDbSourceTest, RotationLosesNothing) {
  Exec("CREATE TABLE rotation (id INT PRIMARY KEY)");
  const std::string file_start = FilePos(db());
  auto source = Source(db(), {"ferry.rotation"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  std::vector<std::string> positions;
  for (int i = 1; i <= 3; ++i) {
    Exec("INSERT INTO rotation VALUES (" + std::to_string(i) + ")");
    positions.push_back(GtidPos(db()));
    Exec("FLUSH BINARY LOGS");
  }
  Exec("INSERT INTO rotation VALUES (4)");
  positions.push_back(GtidPos(db()));
  auto txs = ReadTransactions(*source, 4);
  ASSERT_TRUE(txs.ok()) << txs.message();
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*txs)[i].begin.position().value(), positions[i]);
    EXPECT_EQ(Render((*txs)[i].rows[0].new_values()),
              (std::vector<std::string>{std::to_string(i + 1)}));
  }

  // The same across the rotations when the dump starts from a file position.
  auto by_file = Source(db(), {"ferry.rotation"}, 1002);
  ASSERT_TRUE(by_file->Start(Mariadb(file_start)).ok());
  auto file_txs = ReadTransactions(*by_file, 4);
  ASSERT_TRUE(file_txs.ok()) << file_txs.message();
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*file_txs)[i].begin.position().value(), positions[i]);
    EXPECT_EQ(Render((*file_txs)[i].rows[0].new_values()),
              (std::vector<std::string>{std::to_string(i + 1)}));
  }
}

TEST_F(MariaDbSourceTest, HeartbeatsCarryTheHeadOnAnIdleServer) {
  Exec("CREATE TABLE quiet (id INT PRIMARY KEY); CREATE TABLE noisy (id INT PRIMARY KEY)");
  auto source = Source(db(), {"ferry.quiet"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  // The server's HEARTBEAT events wake the reader: a long wait ends within about a second.
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    auto event = source->Next(milliseconds(5000));
    ASSERT_TRUE(event.ok()) << event.message();
    ASSERT_TRUE(std::holds_alternative<SourceHeartbeat>(*event));
    EXPECT_LT(Clock::now() - start, milliseconds(2500));
    EXPECT_EQ(std::get<SourceHeartbeat>(*event).head.value(), GtidPos(db()));
    EXPECT_EQ(std::get<SourceHeartbeat>(*event).head.engine(), "mariadb");
  }
  // Transactions nobody here wants still move the head.
  Exec("INSERT INTO noisy VALUES (1)");
  const std::string head = GtidPos(db());
  const auto deadline = Clock::now() + seconds(5);
  std::string seen;
  while (seen != head && Clock::now() < deadline) {
    auto event = source->Next(milliseconds(500));
    ASSERT_TRUE(event.ok()) << event.message();
    ASSERT_FALSE(std::holds_alternative<wire::Begin>(*event));
    if (auto* heartbeat = std::get_if<SourceHeartbeat>(&*event)) seen = heartbeat->head.value();
  }
  EXPECT_EQ(seen, head);
}

TEST_F(MariaDbSourceTest, PurgedPositionsAreRefusedWithTheFix) {
  Exec("CREATE TABLE purged (id INT PRIMARY KEY)");
  Exec("INSERT INTO purged VALUES (1)");
  const std::string gtid_checkpoint = GtidPos(db());
  const std::string file_checkpoint = FilePos(db());
  Exec("FLUSH BINARY LOGS");
  Exec("INSERT INTO purged VALUES (2)");
  Exec("FLUSH BINARY LOGS");
  // The server will not purge a file that a dump thread (of an earlier test's reader, which it
  // has not yet noticed is gone) still reads: try until it has.
  const std::string current = CurrentBinlog(db());
  size_t files = 0;
  for (const auto deadline = Clock::now() + seconds(15); Clock::now() < deadline;) {
    (void)db().Exec("PURGE BINARY LOGS TO '" + current + "'");
    auto logs = db().Query("SHOW BINARY LOGS");
    files = logs.ok() ? logs->size() : 0;
    if (files == 1) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_EQ(files, 1u) << "PURGE BINARY LOGS did not remove the older files";

  for (const std::string& checkpoint : {gtid_checkpoint, file_checkpoint}) {
    auto source = Source(db(), {"ferry.purged"});
    Status started = source->Start(Mariadb(checkpoint));
    ASSERT_FALSE(started.ok()) << checkpoint;
    EXPECT_NE(started.message().find("the position " + checkpoint +
                                     " has been purged from the source's binary logs; Ferry "
                                     "cannot resume without losing changes: re-snapshot the "
                                     "target"),
              std::string::npos)
        << started.message();
  }
  // The current position still works.
  auto source = Source(db(), {"ferry.purged"});
  EXPECT_TRUE(source->Start(Mariadb(GtidPos(db()))).ok());
}

TEST_F(MariaDbSourceTest, BadOptionsAreRefused) {
  MysqlSourceOptions options;
  options.dsn = db().dsn();
  options.server_id = 0;
  Status status = MakeMysqlSource(options)->Start(wire::Position());
  EXPECT_NE(status.message().find("server_id 0"), std::string::npos) << status.message();

  options.server_id = 1;  // the harness server's own
  status = MakeMysqlSource(options)->Start(wire::Position());
  EXPECT_NE(status.message().find("the source's own server_id"), std::string::npos)
      << status.message();

  options.server_id = 5;
  options.tables = {"no_schema"};
  status = MakeMysqlSource(options)->Start(wire::Position());
  EXPECT_NE(status.message().find("\"schema.table\""), std::string::npos) << status.message();

  options.tables = {};
  options.dsn = db().dsn() + " colour=blue";
  status = MakeMysqlSource(options)->Start(wire::Position());
  EXPECT_NE(status.message().find("an unknown key (known: host"), std::string::npos)
      << status.message();

  options.dsn = db().dsn();
  wire::Position postgres;
  postgres.set_engine("postgres");
  postgres.set_value("0/16B3748");
  status = MakeMysqlSource(options)->Start(postgres);
  EXPECT_NE(status.message().find("engine \"postgres\""), std::string::npos) << status.message();
}

TEST_F(MariaDbSourceTest, DdlUnderLoadNeverShiftsAValue) {
  Exec(
      "CREATE TABLE evolving (id INT AUTO_INCREMENT PRIMARY KEY, a VARCHAR(50), b VARCHAR(50),"
      " c VARCHAR(50) DEFAULT 'c:default')");
  auto source = Source(db(), {"ferry.evolving"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());

  // Every text value names its column ("a:17"), so a value in the wrong column shows.
  std::atomic<bool> stop{false};
  std::atomic<int> statements{0};
  std::atomic<int> failures{0};
  std::thread load([&] {
    for (int n = 1; !stop; ++n) {
      std::string sql = "INSERT INTO evolving (a, b) VALUES ('a:" + std::to_string(n) +
                        "', 'b:" + std::to_string(n) + "')";
      if (n % 5 == 0) {
        sql = "UPDATE evolving SET a = 'a:u" + std::to_string(n) + "', b = 'b:u" +
              std::to_string(n) + "' WHERE id = " + std::to_string(n / 5);
      }
      if (db().Exec(sql).ok()) {
        ++statements;
      } else {
        ++failures;
      }
    }
  });
  const std::vector<std::string> ddl = {
      "ALTER TABLE evolving ADD COLUMN d VARCHAR(50) DEFAULT 'd:default' AFTER id",
      "ALTER TABLE evolving DROP COLUMN c",
      "ALTER TABLE evolving MODIFY b VARCHAR(50) AFTER id",
      "ALTER TABLE evolving ADD COLUMN e INT DEFAULT 5 FIRST",
      "ALTER TABLE evolving MODIFY a VARCHAR(60) AFTER e",  // same column count, new order
  };
  for (const std::string& statement : ddl) {
    std::this_thread::sleep_for(milliseconds(300));
    EXPECT_TRUE(db().Exec(statement).ok()) << statement;
  }
  std::this_thread::sleep_for(milliseconds(300));
  stop = true;
  load.join();
  EXPECT_EQ(failures, 0);
  ASSERT_GT(statements, 50);

  auto txs = ReadTransactions(*source, statements);
  ASSERT_TRUE(txs.ok()) << txs.message();
  int checked = 0;
  std::set<std::vector<std::string>> layouts;
  for (const Tx& tx : *txs) {
    ASSERT_EQ(tx.rows.size(), 1u);
    const wire::Relation& relation = tx.row_relations[0];
    layouts.insert(Names(relation));
    for (const auto* image : {&tx.rows[0].old_values(), &tx.rows[0].new_values()}) {
      if (image->empty()) continue;
      ASSERT_EQ(image->size(), relation.columns_size());
      for (int i = 0; i < relation.columns_size(); ++i) {
        const std::string& name = relation.columns(i).name();
        const wire::Value& value = (*image)[i];
        if (name == "id") {
          EXPECT_GT(value.int64(), 0);
        } else if (name == "e") {
          EXPECT_EQ(value.int64(), 5) << value.ShortDebugString();
        } else {
          EXPECT_EQ(value.text().substr(0, name.size() + 1), name + ":")
              << "column " << name << " holds " << value.ShortDebugString();
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 200);
  std::string seen;
  for (const auto& layout : layouts) {
    for (const auto& name : layout) seen += name + " ";
    seen += "| ";
  }
  EXPECT_EQ(layouts.size(), ddl.size() + 1) << "column layouts seen: " << seen;
}

TEST_F(MariaDbSourceTest, MissingPrivilegesAreNamedWithTheGrant) {
  Exec("CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO 'reader'@'%'");
  MysqlSourceOptions options;
  options.server_id = 1003;
  options.dsn = "host=127.0.0.1 port=" + std::to_string(db().port()) + " user=reader password=pw";
  Status status = MakeMysqlSource(options)->Start(wire::Position());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("REPLICATION SLAVE"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT"),
            std::string::npos)
      << status.message();

  options.dsn = "host=127.0.0.1 port=" + std::to_string(db().port()) + " user=reader password=no";
  status = MakeMysqlSource(options)->Start(wire::Position());
  EXPECT_NE(status.message().find("mysql_real_connect"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("check user and password"), std::string::npos)
      << status.message();

  Exec("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'reader'@'%'");
  options.dsn = "host=127.0.0.1 port=" + std::to_string(db().port()) + " user=reader password=pw";
  EXPECT_TRUE(MakeMysqlSource(options)->Start(wire::Position()).ok());
}

// One transaction of 100 000 rows (some 2 600 ROWS events): the reader stops at the queue's
// bound when nobody reads, Stop() still returns at once, and a reader that does read gets it all.
TEST_F(MariaDbSourceTest, LargeTransactionStreamsThroughABoundedQueue) {
  Exec("CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(200))");
  const std::string before = GtidPos(db());
  auto idle = Source(db(), {"ferry.big"});
  ASSERT_TRUE(idle->Start(wire::Position()).ok());
  Exec("INSERT INTO big SELECT seq, REPEAT('p', 200) FROM seq_1_to_100000");
  std::this_thread::sleep_for(seconds(2));
  const auto stop_start = Clock::now();
  idle->Stop();
  EXPECT_LT(Clock::now() - stop_start, seconds(2));

  auto source = Source(db(), {"ferry.big"});
  ASSERT_TRUE(source->Start(Mariadb(before)).ok());
  size_t rows = 0;
  int64_t last_id = 0;
  bool committed = false;
  const auto deadline = Clock::now() + seconds(60);
  while (!committed && Clock::now() < deadline) {
    auto event = source->Next(milliseconds(200));
    ASSERT_TRUE(event.ok()) << event.message();
    if (auto* row = std::get_if<wire::RowChange>(&*event)) {
      ++rows;
      ASSERT_EQ(row->new_values(0).int64(), last_id + 1);
      last_id = row->new_values(0).int64();
      ASSERT_EQ(row->new_values(1).text(), std::string(200, 'p'));
    }
    committed = std::holds_alternative<wire::Commit>(*event);
  }
  EXPECT_TRUE(committed);
  EXPECT_EQ(rows, 100000u);
}

// ---- TLS (issue 12) -----------------------------------------------------------------------------

// A source connection as `dsn` says, for the label "source server".
Result<std::unique_ptr<MysqlConnection>> ConnectTo(const std::string& dsn) {
  Result<MysqlDsn> params = ParseMysqlDsn(dsn, MysqlDsnRole::kSource);
  if (!params.ok()) return params.status();
  return MysqlConnection::Connect(*params, 10);
}

// sslmode=require asks for TLS; the suite's server has none, so nothing connects.
TEST_F(MariaDbSourceTest, TlsModesRefuseAServerWithoutTls) {
  MysqlSourceOptions options;
  options.server_id = 1004;
  options.dsn = db().dsn() + " sslmode=require";
  Status status = MakeMysqlSource(options)->Start(wire::Position());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("source server at 127.0.0.1:" + std::to_string(db().port()) +
                                  ": sslmode=require, but the server did not encrypt the "
                                  "connection (it offers no TLS): give the server a certificate"),
            std::string::npos)
      << status.message();

  // verify-full: Connector/C refuses before logging in.
  testing::OwnTestCa ca("any-ca");
  Result<std::unique_ptr<MysqlConnection>> connection =
      ConnectTo(db().dsn() + " sslmode=verify-full sslrootcert=" + ca.cert_file());
  ASSERT_FALSE(connection.ok());
  EXPECT_NE(connection.message().find("SSL is required, but the server does not support it"),
            std::string::npos)
      << connection.message();
  EXPECT_NE(connection.message().find("; the server offers no TLS: give the server a certificate"),
            std::string::npos)
      << connection.message();
}

constexpr char kSourceTlsServer[] = "msrc-tls";
using MariaDbSourceTlsTest = ::ferry::testing::MariaDbTlsSuite<kSourceTlsServer>;

TEST_F(MariaDbSourceTlsTest, StreamsOverVerifyFull) {
  ASSERT_TRUE(server_->Exec("CREATE TABLE sealed (id INT PRIMARY KEY, v VARCHAR(20))").ok());
  MysqlSourceOptions options;
  options.server_id = 1101;
  options.tables = {"ferry.sealed"};
  // The control: the server does not let this user in over a clear connection.
  options.dsn = Dsn("tls_only", "");
  Status clear = MakeMysqlSource(options)->Start(wire::Position());
  ASSERT_FALSE(clear.ok());
  EXPECT_NE(clear.message().find("Access denied for user 'tls_only'"), std::string::npos)
      << clear.message();

  options.dsn = Dsn("tls_only", VerifyFull());
  std::unique_ptr<ChangeSource> source = MakeMysqlSource(options);
  Status started = source->Start(wire::Position());
  ASSERT_TRUE(started.ok()) << started.message();
  ASSERT_TRUE(server_->Exec("INSERT INTO sealed VALUES (1, 'over tls')").ok());
  auto txs = ReadTransactions(*source, 1);
  ASSERT_TRUE(txs.ok()) << txs.message();
  EXPECT_EQ(Render((*txs)[0].rows[0].new_values()), (std::vector<std::string>{"1", "'over tls'"}));
  source->Stop();

  // The binlog dump itself, on a connection whose client library says it is encrypted.
  Result<std::unique_ptr<MysqlConnection>> connection = ConnectTo(options.dsn);
  ASSERT_TRUE(connection.ok()) << connection.message();
  EXPECT_NE((*connection)->tls_cipher(), "");
  DumpRequest request;
  request.server_id = 1102;
  request.gtid_state = "";
  Result<std::unique_ptr<BinlogStream>> stream =
      BinlogStream::Open(std::move(*connection), request);
  ASSERT_TRUE(stream.ok()) << stream.message();
  Result<std::string_view> event = (*stream)->Fetch();
  ASSERT_TRUE(event.ok()) << event.message();
  EXPECT_GE(event->size(), kEventHeaderSize);
  EXPECT_NE((*stream)->connection().tls_cipher(), "");
}

TEST_F(MariaDbSourceTlsTest, RequireAndVerifyCaEncryptToo) {
  for (const std::string& tls :
       {std::string("sslmode=require"),
        "sslmode=verify-ca sslrootcert=" + server_->tls_ca()->cert_file()}) {
    Result<std::unique_ptr<MysqlConnection>> connection = ConnectTo(Dsn("tls_only", tls));
    ASSERT_TRUE(connection.ok()) << tls << ": " << connection.message();
    EXPECT_NE((*connection)->tls_cipher(), "") << tls;
  }
}

TEST_F(MariaDbSourceTlsTest, ACertificateFromAnotherCaIsRefusedNamingSslrootcert) {
  testing::OwnTestCa other("other-ca");
  MysqlSourceOptions options;
  options.server_id = 1103;
  for (const std::string mode : {"verify-full", "verify-ca", "require"}) {
    options.dsn = Dsn("tls_only", "sslmode=" + mode + " sslrootcert=" + other.cert_file());
    Status status = MakeMysqlSource(options)->Start(wire::Position());
    ASSERT_FALSE(status.ok()) << mode;
    EXPECT_NE(status.message().find("mysql_real_connect: TLS/SSL error: "), std::string::npos)
        << status.message();
    EXPECT_NE(status.message().find("; the server's certificate was not accepted: set sslrootcert "
                                    "in the dsn to the file of the CA that signed it"),
              std::string::npos)
        << status.message();
  }
  Result<std::unique_ptr<MysqlConnection>> missing =
      ConnectTo(Dsn("tls_only", "sslmode=verify-full sslrootcert=/nonexistent"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(
      missing.message().find(
          ": the file sslrootcert names in the dsn cannot be read: No such file or directory"),
      std::string::npos)
      << missing.message();
}

TEST_F(MariaDbSourceTlsTest, AClientCertificateGoesWithSslcertAndSslkey) {
  const wire::testing::TestCa::Issued client = server_->tls_ca()->Issue("ferry-capture", {});
  Result<std::unique_ptr<MysqlConnection>> without = ConnectTo(Dsn("cert_only", VerifyFull()));
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.message().find("Access denied for user 'cert_only'"), std::string::npos)
      << without.message();
  Result<std::unique_ptr<MysqlConnection>> with = ConnectTo(Dsn(
      "cert_only", VerifyFull() + " sslcert=" + client.cert_file + " sslkey=" + client.key_file));
  ASSERT_TRUE(with.ok()) << with.message();
  EXPECT_NE((*with)->tls_cipher(), "");
}

// verify-full checks the name in the certificate; verify-ca only that the CA signed it.
TEST(MariaDbSourceSettingsTest, VerifyFullChecksTheHostNameAndVerifyCaDoesNot) {
  testing::OwnTestCa ca("name-ca");
  auto server =
      StartServer("msrc-tls-name", {.extra_args = ca.ServerArgsFor("db.elsewhere.example")});
  ASSERT_NE(server, nullptr);
  const std::string dsn = server->dsn() + " sslrootcert=" + ca.cert_file();

  Result<std::unique_ptr<MysqlConnection>> full = ConnectTo(dsn + " sslmode=verify-full");
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.message().find("Validation of SSL server certificate failed"), std::string::npos)
      << full.message();
  EXPECT_NE(full.message().find("; the server's certificate does not carry the name in host= "
                                "(sslmode=verify-full)"),
            std::string::npos)
      << full.message();
  Result<std::unique_ptr<MysqlConnection>> chain_only = ConnectTo(dsn + " sslmode=verify-ca");
  ASSERT_TRUE(chain_only.ok()) << chain_only.message();
  EXPECT_NE((*chain_only)->tls_cipher(), "");
}

// ---- without a server -------------------------------------------------------------------------

// The source's connection string: the shared parser (common/mysql_dsn.h) in the source's role.
Result<MysqlDsn> ParseSourceDsn(const std::string& text) {
  return ParseMysqlDsn(text, MysqlDsnRole::kSource);
}

TEST(MysqlDsnTest, ParsesLibpqStyleKeyValues) {
  auto params = ParseSourceDsn(
      "host=db.example port=3307 user=ferry password='s3 cr\\'et' dbname=app connect_timeout=3");
  ASSERT_TRUE(params.ok()) << params.message();
  EXPECT_EQ(params->host, "db.example");
  EXPECT_EQ(params->port, 3307);
  EXPECT_EQ(params->user, "ferry");
  EXPECT_EQ(params->password, "s3 cr'et");
  EXPECT_EQ(params->dbname, "app");
  EXPECT_EQ(params->connect_timeout_s, 3u);

  params = ParseSourceDsn("user = ferry  socket=/run/mysqld/mysqld.sock");
  ASSERT_TRUE(params.ok()) << params.message();
  EXPECT_EQ(params->user, "ferry");
  EXPECT_FALSE(params->password.has_value());
  EXPECT_EQ(params->socket, "/run/mysqld/mysqld.sock");

  EXPECT_NE(ParseSourceDsn("host=x").message().find("no user="), std::string::npos);
  // A number's error no longer shows the value (common/mysql_dsn.h).
  EXPECT_NE(ParseSourceDsn("user=a port=99999").message().find("port must be"), std::string::npos);
  EXPECT_NE(ParseSourceDsn("user=a password='open").message().find("no closing quote"),
            std::string::npos);
  EXPECT_NE(ParseSourceDsn("user=a hostname=x").message().find("an unknown key (known: host"),
            std::string::npos);
  EXPECT_NE(ParseSourceDsn("user").message().find("the word at byte 0 has no '='"),
            std::string::npos);
}

// An unquoted password with a space splits into words the parser cannot read; its errors never
// show them (they reach the log, /status and the other agent).
TEST(MysqlDsnTest, ErrorsNeverShowAPassword) {
  for (const std::string dsn : {"user=a password=top secret", "user=a password=top sec=ret",
                                "user=a password='top secret"}) {
    const std::string message = ParseSourceDsn(dsn).message();
    EXPECT_FALSE(message.empty()) << dsn;
    EXPECT_EQ(message.find("top"), std::string::npos) << message;
    EXPECT_EQ(message.find("sec"), std::string::npos) << message;
  }
}

// ---- character sets ----------------------------------------------------------------------------

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// Every collation id the server has belongs to the charset Ferry thinks it does.
TEST_F(MariaDbSourceTest, CollationIdsNameTheServersCharsets) {
  auto rows = db().Query(
      "SELECT ID, CHARACTER_SET_NAME FROM "
      "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY");
  ASSERT_TRUE(rows.ok()) << rows.message();
  ASSERT_GT(rows->size(), 500u);
  for (const auto& row : *rows) {
    const uint32_t id = static_cast<uint32_t>(std::stoul(row[0].value_or("0")));
    EXPECT_EQ(CharsetName(id), row[1].value_or("")) << "collation " << id;
    EXPECT_EQ(CharsetName(CollationOfCharset(row[1].value_or(""))), row[1].value_or(""));
  }
}

// Characters the server defines that Ferry leaves as bytes, as mysql_charset.h says: big5's
// ETEN extension, ujis's user-defined rows, and keybcs2 beyond ASCII (glibc has no converter).
bool KnownGap(std::string_view charset, std::string_view bytes) {
  auto at = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  if (charset == "big5") {
    return bytes.size() == 2 && ((at(0) == 0xc6 && at(1) >= 0xa1) || at(0) == 0xc7);
  }
  if (charset == "ujis") {
    const size_t lead = at(0) == 0x8f ? 1 : 0;
    return bytes.size() == lead + 2 && at(lead) >= 0xf5;
  }
  return charset == "keybcs2";
}

// What the server reads `bytes` as, given its CONVERT(... USING utf8mb4): nothing where some
// character had none (more '?' than the bytes hold — as bytes: in UCS-2, 0x3f00 is not a '?' —
// or U+FFFD from a non-Unicode charset), nor where it is not valid UTF-8 (UCS-2's lone
// surrogates come out encoded as if they were characters).
std::optional<std::string> ServerText(const std::string& bytes, const std::string& server,
                                      bool unicode) {
  if (std::count(server.begin(), server.end(), '?') > std::count(bytes.begin(), bytes.end(), '?'))
    return std::nullopt;
  if (!unicode && server.find("\xef\xbf\xbd") != std::string::npos) return std::nullopt;
  if (!IsValidUtf8(server)) return std::nullopt;
  return server;
}

// Every byte, every two-byte sequence with a high first byte (and for the EUC-JP charsets every
// 0x8f three-byte one; for the UTF-16 family every code unit): Ferry's text is the server's own
// CONVERT(... USING utf8mb4), and where the server has none Ferry has none either.
TEST_F(MariaDbSourceTest, EveryCharacterConvertsAsTheServerReadsIt) {
  const std::string one = "SELECT LPAD(HEX(a.seq), 2, '0') h FROM seq_0_to_255 a";
  const std::string two =
      one + " UNION ALL SELECT CONCAT(LPAD(HEX(a.seq), 2, '0'), LPAD(HEX(b.seq), 2, '0'))" +
      " FROM seq_128_to_255 a, seq_0_to_255 b";
  const std::string three =
      two + " UNION ALL SELECT CONCAT('8F', LPAD(HEX(a.seq), 2, '0'), LPAD(HEX(b.seq), 2, '0'))" +
      " FROM seq_128_to_255 a, seq_128_to_255 b";
  const std::string units =
      "SELECT CONCAT(LPAD(HEX(a.seq), 2, '0'), LPAD(HEX(b.seq), 2, '0')) h"
      " FROM seq_0_to_255 a, seq_0_to_255 b";
  std::vector<std::pair<std::string, const std::string*>> charsets;
  for (const char* name :
       {"latin1", "latin2",   "latin5", "latin7",   "cp1250", "cp1251",  "cp1256",
        "cp1257", "cp850",    "cp852",  "cp866",    "greek",  "hebrew",  "koi8r",
        "koi8u",  "macroman", "macce",  "armscii8", "tis620", "geostd8", "swe7",
        "hp8",    "dec8",     "ascii",  "keybcs2"}) {
    charsets.emplace_back(name, &one);
  }
  for (const char* name : {"sjis", "cp932", "big5", "gbk", "gb2312", "euckr"}) {
    charsets.emplace_back(name, &two);
  }
  for (const char* name : {"ujis", "eucjpms"}) charsets.emplace_back(name, &three);
  for (const char* name : {"ucs2", "utf16", "utf16le"}) charsets.emplace_back(name, &units);

  size_t compared = 0;
  for (const auto& [charset, sequences] : charsets) {
    auto rows = db().Query("SELECT h, HEX(CONVERT(UNHEX(h) USING " + charset +
                           ")), HEX(CONVERT(CONVERT(UNHEX(h) USING " + charset +
                           ") USING utf8mb4)) FROM (" + *sequences + ") s");
    ASSERT_TRUE(rows.ok()) << rows.message();
    const uint32_t collation = CollationOfCharset(charset);
    ASSERT_NE(collation, 0u) << charset;
    std::vector<std::string> wrong;
    for (const auto& row : *rows) {
      if (row[1] != row[0]) continue;  // bytes the charset cannot store
      const std::string bytes = Unhex(row[0].value_or(""));
      const std::optional<std::string> server =
          ServerText(bytes, Unhex(row[2].value_or("")), sequences == &units);
      const std::optional<std::string> ours = CharsetToUtf8(bytes, collation);
      ++compared;
      if (ours == server || (server && !ours && KnownGap(charset, bytes))) continue;
      wrong.push_back(Hex(bytes) + ": server " + (server ? Hex(*server) : "(none)") + ", ferry " +
                      (ours ? Hex(*ours) : "(none)"));
    }
    EXPECT_TRUE(wrong.empty()) << charset << ": " << wrong.size() << " differ, e.g. "
                               << wrong.front();
  }
  EXPECT_GT(compared, 300000u);
}

// Text in other charsets arrives as the same UTF-8 the server shows, whether the charsets come
// from the TABLE_MAP (binlog_row_metadata FULL or MINIMAL) or from information_schema (NO_LOG).
class MariaDbSourceCharsetTest : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(RowMetadata, MariaDbSourceCharsetTest,
                         ::testing::Values("FULL", "MINIMAL", "NO_LOG"),
                         [](const auto& info) { return info.param; });

TEST_P(MariaDbSourceCharsetTest, TextArrivesAsExactUtf8) {
  auto server = StartServer(
      "msrc-charset", {.server_id = 1, .extra_args = {"--binlog-row-metadata=" + GetParam()}});
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->Scalar("SELECT @@global.binlog_row_metadata"), GetParam());
  ASSERT_TRUE(server
                  ->Exec("CREATE TABLE intl (id INT PRIMARY KEY,"
                         " l2 VARCHAR(20) CHARACTER SET latin2, w1251 VARCHAR(20) CHARACTER SET"
                         " cp1251, gb VARCHAR(20) CHARACTER SET gbk, sj VARCHAR(20) CHARACTER SET"
                         " sjis, uj VARCHAR(20) CHARACTER SET ujis, u16 VARCHAR(20) CHARACTER SET"
                         " utf16, b5 CHAR(10) CHARACTER SET big5, kr TEXT CHARACTER SET euckr,"
                         " w1250 VARCHAR(20) CHARACTER SET cp1250, vb VARBINARY(10))")
                  .ok());
  auto source = Source(*server, {"ferry.intl"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  // Introducers, so that the values do not depend on the client connection's charset.
  ASSERT_TRUE(server
                  ->Exec("INSERT INTO intl VALUES (1, _utf8mb4'Zażółć gęślą', _utf8mb4'Съешь же',"
                         " _utf8mb4'中文字符', _utf8mb4'こんにちは', _utf8mb4'日本語テキスト',"
                         " _utf8mb4'a😀é', _utf8mb4'繁體中文', _utf8mb4'한국어 똠방각하',"
                         " _utf8mb4'Příliš', X'C3A9'),"
                         " (2, 'ascii', NULL, NULL, NULL, NULL, NULL, NULL, NULL, _cp1250 X'6181',"
                         " NULL)")
                  .ok());
  ASSERT_TRUE(server->Exec("UPDATE intl SET l2 = _utf8mb4'Łódź' WHERE id = 1").ok());
  // What the server itself shows, to be sure the columns hold what the test expects.
  EXPECT_EQ(server->Scalar("SELECT HEX(CONVERT(l2 USING utf8mb4)) FROM intl WHERE id = 1"),
            Hex("Łódź"));

  auto txs = ReadTransactions(*source, 2);
  ASSERT_TRUE(txs.ok()) << txs.message();
  const wire::Relation& relation = (*txs)[0].row_relations[0];
  EXPECT_EQ(Names(relation), (std::vector<std::string>{"id", "l2", "w1251", "gb", "sj", "uj", "u16",
                                                       "b5", "kr", "w1250", "vb"}));
  EXPECT_EQ(relation.columns(8).type(), wire::LOGICAL_TYPE_TEXT);  // TEXT, not a BLOB
  const std::vector<std::string> first = {"1",          "'Zażółć gęślą'", "'Съешь же'",
                                          "'中文字符'", "'こんにちは'",   "'日本語テキスト'",
                                          "'a😀é'",      "'繁體中文'",     "'한국어 똠방각하'",
                                          "'Příliš'"};
  ASSERT_EQ((*txs)[0].rows.size(), 2u);
  std::vector<std::string> got = Render((*txs)[0].rows[0].new_values());
  ASSERT_EQ(got.size(), 11u);
  EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + 10), first);
  // A binary string stays bytes, even where its bytes happen to be UTF-8.
  EXPECT_EQ((*txs)[0].rows[0].new_values(10).bytes(), "\xc3\xa9");
  // cp1250 leaves 0x81 unassigned: no text, so the bytes arrive unaltered.
  const wire::Value& unassigned = (*txs)[0].rows[1].new_values(9);
  ASSERT_EQ(unassigned.kind_case(), wire::Value::kBytes) << unassigned.ShortDebugString();
  EXPECT_EQ(unassigned.bytes(), "a\x81");
  EXPECT_EQ(Render((*txs)[0].rows[1].new_values())[1], "'ascii'");

  // Both images of an update.
  ASSERT_EQ((*txs)[1].rows.size(), 1u);
  EXPECT_EQ(Render((*txs)[1].rows[0].old_values())[1], "'Zażółć gęślą'");
  EXPECT_EQ(Render((*txs)[1].rows[0].new_values())[1], "'Łódź'");
  EXPECT_EQ(Render((*txs)[1].rows[0].new_values())[4], "'こんにちは'");
}

// ---- servers with other settings --------------------------------------------------------------

TEST(MariaDbSourceSettingsTest, ServerCrashEndsTheStreamAndResumeContinues) {
  auto server = StartServer("msrc-crash");
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Exec("CREATE TABLE t (id INT PRIMARY KEY)").ok());
  auto source = Source(*server, {});  // every table outside the system schemas
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  ASSERT_TRUE(server->Exec("INSERT INTO t VALUES (1)").ok());
  auto first = ReadTransactions(*source, 1);
  ASSERT_TRUE(first.ok()) << first.message();

  ASSERT_TRUE(server->Kill().ok());
  Status ended = Status::Ok();
  const auto deadline = Clock::now() + seconds(10);
  while (ended.ok() && Clock::now() < deadline) {
    auto event = source->Next(milliseconds(200));
    if (!event.ok()) ended = event.status();
  }
  ASSERT_FALSE(ended.ok());
  EXPECT_NE(ended.message().find("source MariaDB at 127.0.0.1:" + std::to_string(server->port())),
            std::string::npos)
      << ended.message();
  EXPECT_NE(ended.message().find("reading the binlog stream"), std::string::npos)
      << ended.message();

  ASSERT_TRUE(server->Restart().ok());
  ASSERT_TRUE(server->Exec("INSERT INTO t VALUES (2)").ok());
  ASSERT_TRUE(source->Start((*first)[0].commit.position()).ok());
  auto next = ReadTransactions(*source, 1);
  ASSERT_TRUE(next.ok()) << next.message();
  EXPECT_EQ(Render((*next)[0].rows[0].new_values()), (std::vector<std::string>{"2"}));
  EXPECT_EQ((*next)[0].begin.position().value(), GtidPos(*server));
}

TEST(MariaDbSourceSettingsTest, StatementFormatIsRefused) {
  auto server =
      StartServer("msrc-stmt", {.server_id = 1, .extra_args = {"--binlog-format=STATEMENT"}});
  ASSERT_NE(server, nullptr);
  Status status = Source(*server, {})->Start(wire::Position());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("source MariaDB at " + server->host() + ":" +
                                  std::to_string(server->port()) +
                                  " has binlog_format=STATEMENT; set binlog_format=ROW (SET GLOBAL "
                                  "binlog_format=ROW and in my.cnf) — Ferry reads row events only"),
            std::string::npos)
      << status.message();
}

TEST(MariaDbSourceSettingsTest, ServerWithoutBinlogIsRefused) {
  auto server = StartServer("msrc-nobin", {.server_id = 1, .extra_args = {"--skip-log-bin"}});
  ASSERT_NE(server, nullptr);
  Status status = Source(*server, {})->Start(wire::Position());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("has log_bin=OFF"), std::string::npos) << status.message();
}

// Compressed events, with and without checksums.
class CompressedEventsTest : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Checksums, CompressedEventsTest, ::testing::Values("CRC32", "NONE"));

TEST_P(CompressedEventsTest, Stream) {
  auto server = StartServer(
      "msrc-compress", {.server_id = 1,
                        .extra_args = {"--log-bin-compress=ON", "--log-bin-compress-min-len=10",
                                       "--binlog-checksum=" + GetParam()}});
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Exec("CREATE TABLE packed (id INT PRIMARY KEY, body TEXT)").ok());
  auto source = Source(*server, {"ferry.packed"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  const std::string body(3000, 'x');
  ASSERT_TRUE(server->Exec("INSERT INTO packed VALUES (1, REPEAT('x', 3000)), (2, 'short')").ok());
  ASSERT_TRUE(server->Exec("UPDATE packed SET body = 'changed' WHERE id = 1").ok());
  ASSERT_TRUE(server->Exec("DELETE FROM packed WHERE id = 2").ok());
  // The server did write compressed events.
  auto events = server->Query("SHOW BINLOG EVENTS IN '" + CurrentBinlog(*server) + "'");
  ASSERT_TRUE(events.ok());
  bool compressed = false;
  for (const auto& row : *events) compressed |= row[2]->find("compressed") != std::string::npos;
  EXPECT_TRUE(compressed);

  auto txs = ReadTransactions(*source, 3);
  ASSERT_TRUE(txs.ok()) << txs.message();
  ASSERT_EQ((*txs)[0].rows.size(), 2u);
  EXPECT_EQ(Render((*txs)[0].rows[0].new_values()),
            (std::vector<std::string>{"1", "'" + body + "'"}));
  EXPECT_EQ(Render((*txs)[0].rows[1].new_values()), (std::vector<std::string>{"2", "'short'"}));
  EXPECT_EQ(Render((*txs)[1].rows[0].old_values()),
            (std::vector<std::string>{"1", "'" + body + "'"}));
  EXPECT_EQ(Render((*txs)[1].rows[0].new_values()), (std::vector<std::string>{"1", "'changed'"}));
  EXPECT_EQ(Render((*txs)[2].rows[0].old_values()), (std::vector<std::string>{"2", "'short'"}));
}

TEST(MariaDbSourceSettingsTest, MinimalRowMetadataStillNamesColumns) {
  auto server = StartServer("msrc-minimal",
                            {.server_id = 1, .extra_args = {"--binlog-row-metadata=MINIMAL"}});
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Exec("CREATE TABLE plain (b VARCHAR(10), id INT PRIMARY KEY, a INT)").ok());
  auto source = Source(*server, {"ferry.plain"});
  ASSERT_TRUE(source->Start(wire::Position()).ok());
  ASSERT_TRUE(server->Exec("INSERT INTO plain VALUES ('x', 1, 10)").ok());
  auto txs = ReadTransactions(*source, 1);
  ASSERT_TRUE(txs.ok()) << txs.message();
  const wire::Relation& relation = (*txs)[0].row_relations[0];
  EXPECT_EQ(Names(relation), (std::vector<std::string>{"b", "id", "a"}));
  EXPECT_FALSE(relation.columns(0).key());
  EXPECT_TRUE(relation.columns(1).key());
  EXPECT_FALSE(relation.columns(2).key());
  EXPECT_EQ(Render((*txs)[0].rows[0].new_values()), (std::vector<std::string>{"'x'", "1", "10"}));

  // A new column, then a rename that leaves the binlog's table map as it was.
  ASSERT_TRUE(server->Exec("ALTER TABLE plain ADD COLUMN c VARCHAR(10) AFTER b").ok());
  ASSERT_TRUE(server->Exec("INSERT INTO plain VALUES ('y', 'c', 2, 20)").ok());
  // Names come from information_schema, exact while the reader is at the head of the log: read
  // this transaction before the next DDL (reading it after the rename would see "amount").
  txs = ReadTransactions(*source, 1);
  ASSERT_TRUE(txs.ok()) << txs.message();
  EXPECT_EQ(Names((*txs)[0].row_relations[0]), (std::vector<std::string>{"b", "c", "id", "a"}));
  EXPECT_EQ(Render((*txs)[0].rows[0].new_values()),
            (std::vector<std::string>{"'y'", "'c'", "2", "20"}));
  ASSERT_TRUE(server->Exec("ALTER TABLE plain RENAME COLUMN a TO amount").ok());
  ASSERT_TRUE(server->Exec("INSERT INTO plain VALUES ('z', 'c', 3, 30)").ok());
  txs = ReadTransactions(*source, 1);
  ASSERT_TRUE(txs.ok()) << txs.message();
  EXPECT_EQ(Names((*txs)[0].row_relations[0]),
            (std::vector<std::string>{"b", "c", "id", "amount"}));
}

}  // namespace
}  // namespace ferry::capture::mysql
