// A MariaDB source under load, through both real agents, to a PostgreSQL and to a MariaDB
// target: DDL on the replicated table mid-stream (ADD, DROP and reordered columns), and binary
// log rotation (FLUSH BINARY LOGS), once with `kill -9` of the capture agent right after a
// rotation. A writer thread commits a few hundred small transactions while it happens; the test
// keeps its own model of every row it wrote and compares both sides with it exactly at the end.
//
// Ferry does not replicate DDL: the test alters the target itself, in the order an operator
// would: a column is added on the target before the source, dropped on the target only after
// the source's drop has replicated; a reordered column needs nothing (columns map by name).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/replication_setup.h"

namespace ferry::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string Name(const ::testing::TestParamInfo<std::string>& info) {
  return "mariadb_to_" + info.param;
}

std::string Text(const std::optional<std::string>& value) { return value.value_or("<NULL>"); }

std::string Quote(const std::optional<std::string>& value) {
  return value ? "'" + *value + "'" : "NULL";
}

// Commits transactions on the source from its own thread until stopped. `build(n, phase)`
// returns the statements of the n-th transaction (0-based) for the writer's current phase; the
// test moves the phase forward around its DDL.
class Writer {
 public:
  using Build = std::function<std::string(int n, int phase)>;
  static constexpr int kMaxTransactions = 5000;

  Writer(const TestDatabase& db, Build build) : db_(db), build_(std::move(build)) {}
  ~Writer() { Stop(); }

  void Start() {
    thread_ = std::thread([this] {
      // Bounded, so that a test that waits in vain does not fill the disk.
      for (int n = 0; !stop_ && n < kMaxTransactions; ++n) {
        const int phase = phase_;
        Status status = db_.Exec("START TRANSACTION;" + build_(n, phase) + "COMMIT");
        if (!status.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          error_ = status.message();
          return;
        }
        phase_done_ = phase;
        ++committed_;
      }
    });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `more` transactions beyond those committed so far have committed.
  bool WaitFor(int more) {
    const int goal = committed_ + more;
    const auto deadline = Clock::now() + seconds(60);
    while (committed_ < goal && committed_ < kMaxTransactions && error().empty() &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    return committed_ >= goal;
  }
  // Moves to `phase` and waits until a transaction built for it has committed: no statement of
  // an earlier phase is still running.
  bool EnterPhase(int phase) {
    phase_ = phase;
    const auto deadline = Clock::now() + seconds(60);
    while (phase_done_ < phase && committed_ < kMaxTransactions && error().empty() &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    return phase_done_ >= phase;
  }
  void SetPhase(int phase) { phase_ = phase; }
  int committed() const { return committed_; }
  std::string error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  const TestDatabase& db_;
  Build build_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> phase_{0};
  std::atomic<int> phase_done_{-1};
  std::atomic<int> committed_{0};
  mutable std::mutex mu_;
  std::string error_;
};

// The first lines (rows) where `actual` differs from `expected`, and both row counts.
std::string FirstDifferences(const std::string& expected, const std::string& actual) {
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      out.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return out;
  };
  const std::vector<std::string> want = lines(expected);
  const std::vector<std::string> got = lines(actual);
  std::string out = std::to_string(want.size()) + " rows expected, " + std::to_string(got.size()) +
                    " found; first differences (expected -> found):\n";
  int shown = 0;
  for (size_t i = 0; i < std::max(want.size(), got.size()) && shown < 10; ++i) {
    const std::string w = i < want.size() ? want[i] : "(none)";
    const std::string g = i < got.size() ? got[i] : "(none)";
    if (w != g) {
      out += "  row " + std::to_string(i + 1) + ": " + w + " -> " + g + "\n";
      ++shown;
    }
  }
  return out;
}

std::string MetricsOf(uint16_t port) {
  auto body = HttpGet(port, "/metrics");
  return body.ok() ? *body : "ERROR: " + body.message();
}

class MariaDbSourceEndToEndTest : public ::testing::TestWithParam<std::string> {
 protected:
  void StartAgents(const std::string& source_schema, const std::string& target_schema,
                   const std::vector<std::string>& tables) {
    auto setup = ReplicationSetup::Create("mariadb", GetParam(), source_schema, target_schema);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables = "[";
    for (size_t i = 0; i < tables.size(); ++i) {
      setup_->capture_tables += (i > 0 ? ", \"ferry." : "\"ferry.") + tables[i] + "\"";
      if (GetParam() == "postgres") {
        setup_->apply_mappings +=
            "  - source: ferry." + tables[i] + "\n    target: public." + tables[i] + "\n";
      }
    }
    setup_->capture_tables += "]";
    ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  }

  // Waits until the target has caught up with the source on `query`, then checks that both
  // sides return exactly `expected`.
  void ExpectBothSidesAre(const std::string& query, const std::string& expected) {
    EXPECT_TRUE(setup_->WaitForSameRows(query, seconds(60))) << setup_->DescribeDifference(query);
    const std::string source = RowsAsText(setup_->source(), query);
    const std::string target = RowsAsText(setup_->target(), query);
    EXPECT_TRUE(source == expected)
        << "the source differs from what the test wrote: " << FirstDifferences(expected, source);
    EXPECT_TRUE(target == expected)
        << "the target differs from what the test wrote: " << FirstDifferences(expected, target);
  }

  void ExpectNoConflicts() {
    const std::string metrics = MetricsOf(setup_->apply_admin_port());
    EXPECT_EQ(metrics.find("ERROR"), std::string::npos) << metrics;
    EXPECT_EQ(metrics.find("ferry_conflicts_"), std::string::npos)
        << "the target diverged from the source:\n"
        << metrics;
  }

  std::unique_ptr<ReplicationSetup> setup_;
};

// ---------------------------------------------------------------------------------------------
// DDL mid-stream.

// The table as the test believes it is. Every value says which column it belongs to and which
// row (a = id * 10, b = "b<id>", c = "c<id>", d = "d<id>"), so a value shifted into another column
// shows up on either engine (in PostgreSQL a text in the bigint column a would not even load).
struct DdlRow {
  long long a = 0;
  std::string b;
  std::optional<std::string> c;
  std::optional<std::string> d;
};

class DdlUnderLoadTest : public MariaDbSourceEndToEndTest {};

TEST_P(DdlUnderLoadTest, AddDropAndReorderColumnsWhileWriting) {
  constexpr char kTable[] =
      "CREATE TABLE t (id INT PRIMARY KEY, a BIGINT, b VARCHAR(50), c VARCHAR(50));";
  ASSERT_NO_FATAL_FAILURE(StartAgents(kTable, kTable, {"t"}));

  // Phases: 0 = (id, a, b, c); 1 = d added after a; 2 = c dropped. Reordering changes nothing
  // the writer names. Only the writer thread touches `model` until it has stopped.
  std::map<int, DdlRow> model;
  int next_id = 1;
  std::atomic<int> first_id_without_c{0};
  Writer writer(setup_->source(), [&](int n, int phase) {
    std::string sql;
    const int first = next_id;
    for (int r = 0; r <= n % 3; ++r, ++next_id) {
      const int id = next_id;
      DdlRow row;
      row.a = id * 10LL;
      row.b = "b" + std::to_string(id);
      if (phase < 2) row.c = "c" + std::to_string(id);
      if (phase >= 1) row.d = "d" + std::to_string(id);
      if (phase == 2 && first_id_without_c == 0) first_id_without_c = id;
      std::string columns = "id, a, b";
      std::string values = std::to_string(id) + ", " + std::to_string(row.a) + ", '" + row.b + "'";
      if (phase < 2) columns += ", c", values += ", " + Quote(row.c);
      if (phase >= 1) columns += ", d", values += ", " + Quote(row.d);
      sql += "INSERT INTO t (" + columns + ") VALUES (" + values + ");";
      model[id] = row;
    }
    // Updates and deletes of earlier rows: before images of every layout travel too.
    if (n % 2 == 1) {
      if (auto it = model.find(first - 5); it != model.end()) {
        sql +=
            "UPDATE t SET a = a + 1, b = CONCAT(b, 'u') WHERE id = " + std::to_string(it->first) +
            ";";
        it->second.a += 1;
        it->second.b += "u";
      }
    }
    if (n % 7 == 3) {
      if (auto it = model.find(first - 11); it != model.end()) {
        sql += "DELETE FROM t WHERE id = " + std::to_string(it->first) + ";";
        model.erase(it);
      }
    }
    return sql;
  });
  writer.Start();
  constexpr int kStep = 60;  // transactions between two DDL statements
  auto source_ddl = [&](const std::string& sql) {
    Status status = setup_->source().Exec(sql);
    EXPECT_TRUE(status.ok()) << sql << ": " << status.message();
  };
  auto target_ddl = [&](const std::string& sql) {
    Status status = setup_->target().Exec(sql);
    EXPECT_TRUE(status.ok()) << sql << " (target): " << status.message();
  };

  ASSERT_TRUE(writer.WaitFor(kStep)) << writer.error();
  // ADD COLUMN: on the target first, then on the source; then the writer fills it.
  target_ddl("ALTER TABLE t ADD COLUMN d VARCHAR(50)");
  source_ddl("ALTER TABLE t ADD COLUMN d VARCHAR(50) AFTER a");
  writer.SetPhase(1);
  ASSERT_TRUE(writer.WaitFor(kStep)) << writer.error();

  // DROP COLUMN: the writer stops naming c, the source drops it, and once a row written after
  // the drop has reached the target, so has every row that still had c: the target drops it.
  ASSERT_TRUE(writer.EnterPhase(2)) << writer.error();
  source_ddl("ALTER TABLE t DROP COLUMN c");
  source_ddl("INSERT INTO t (id, a, b, d) VALUES (1000000, 10000000, 'b1000000', 'd1000000')");
  const std::string marker_query = "SELECT count(*) FROM t WHERE id = 1000000";
  ASSERT_TRUE(WaitFor([&] { return setup_->target().Scalar(marker_query) == "1"; }, seconds(60)))
      << setup_->DescribeDifference(marker_query);
  // Until now the target kept c: rows written before the drop hold their own value in it, rows
  // written after it none.
  const std::string without_c = std::to_string(first_id_without_c.load());
  ASSERT_NE(without_c, "0");
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM t WHERE id < " + without_c +
                                    " AND (c IS NULL OR c <> CONCAT('c', id))"),
            "0")
      << RowsAsText(setup_->target(), "SELECT id, c FROM t WHERE id < " + without_c +
                                          " AND (c IS NULL OR c <> CONCAT('c', id)) ORDER BY id");
  EXPECT_NE(setup_->target().Scalar("SELECT count(*) FROM t WHERE id < " + without_c), "0");
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM t WHERE id >= " + without_c +
                                    " AND c IS NOT NULL"),
            "0");
  target_ddl("ALTER TABLE t DROP COLUMN c");
  ASSERT_TRUE(writer.WaitFor(kStep)) << writer.error();

  // Reordering: the same columns in another order, nothing to do on the target.
  source_ddl("ALTER TABLE t MODIFY d VARCHAR(50) FIRST");  // d, id, a, b
  ASSERT_TRUE(writer.WaitFor(kStep)) << writer.error();
  source_ddl("ALTER TABLE t MODIFY a BIGINT AFTER b");  // d, id, b, a: a and b swap places
  ASSERT_TRUE(writer.WaitFor(kStep)) << writer.error();
  writer.Stop();
  ASSERT_EQ(writer.error(), "");
  EXPECT_EQ(setup_->source().Scalar(
                "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM "
                "information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ferry' AND TABLE_NAME = 't'"),
            "d,id,b,a");

  model[1000000] = DdlRow{10000000, "b1000000", std::nullopt, "d1000000"};
  std::string expected;
  int with_d = 0;
  for (const auto& [id, row] : model) {
    expected +=
        std::to_string(id) + "|" + std::to_string(row.a) + "|" + row.b + "|" + Text(row.d) + "\n";
    with_d += row.d ? 1 : 0;
  }
  ASSERT_GT(writer.committed(), 5 * kStep);
  ASSERT_GT(with_d, kStep);                         // the new column was written
  ASSERT_GT(model.size() - with_d, size_t{kStep});  // and rows from before it exist
  ExpectBothSidesAre("SELECT id, a, b, d FROM t ORDER BY id", expected);
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM t"), std::to_string(model.size()));
  ExpectNoConflicts();
}

INSTANTIATE_TEST_SUITE_P(Targets, DdlUnderLoadTest, ::testing::Values("postgres", "mariadb"), Name);

// ---------------------------------------------------------------------------------------------
// Binary log rotation.

// The target records every row the apply agent writes (as in directions_test), so a
// transaction applied twice shows even where an upsert would hide it in the table.
std::string RotationTargetSchema(const std::string& engine) {
  std::string sql =
      "CREATE TABLE r (id INT PRIMARY KEY, a BIGINT, b VARCHAR(50));"
      "CREATE TABLE applied_log (id INT);";
  if (engine == "postgres") {
    sql += R"sql(
      CREATE FUNCTION log_apply() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN INSERT INTO applied_log (id) VALUES (NEW.id); RETURN NEW; END $$;
      CREATE TRIGGER log_apply AFTER INSERT OR UPDATE ON r
        FOR EACH ROW EXECUTE FUNCTION log_apply();
      ALTER TABLE r ENABLE ALWAYS TRIGGER log_apply;)sql";
  } else {
    sql +=
        "CREATE TRIGGER log_insert AFTER INSERT ON r FOR EACH ROW "
        "INSERT INTO applied_log (id) VALUES (NEW.id);"
        "CREATE TRIGGER log_update AFTER UPDATE ON r FOR EACH ROW "
        "INSERT INTO applied_log (id) VALUES (NEW.id);";
  }
  return sql;
}

struct RotationRow {
  long long a = 0;
  std::string b;
};

class RotationUnderLoadTest : public MariaDbSourceEndToEndTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        StartAgents("CREATE TABLE r (id INT PRIMARY KEY, a BIGINT, b VARCHAR(50))",
                    RotationTargetSchema(GetParam()), {"r"}));
    writer_ = std::make_unique<Writer>(setup_->source(), [this](int n, int) { return Build(n); });
  }
  void TearDown() override {
    if (writer_) writer_->Stop();
  }

  // 1 to 3 inserts, and every third transaction an update of an earlier row.
  std::string Build(int n) {
    std::string sql;
    const int first = next_id_;
    for (int r = 0; r <= n % 3; ++r, ++next_id_) {
      const int id = next_id_;
      RotationRow row{id * 10LL, "b" + std::to_string(id)};
      sql += "INSERT INTO r VALUES (" + std::to_string(id) + ", " + std::to_string(row.a) + ", '" +
             row.b + "');";
      model_[id] = row;
      ++row_writes_;
    }
    if (n % 3 == 2) {
      auto it = model_.find(first - 4);
      if (it != model_.end()) {
        sql +=
            "UPDATE r SET a = a + 1, b = CONCAT(b, 'u') WHERE id = " + std::to_string(it->first) +
            ";";
        it->second.a += 1;
        it->second.b += "u";
        ++row_writes_;
      }
    }
    return sql;
  }

  int BinlogFiles() {
    auto logs = setup_->source().Query("SHOW BINARY LOGS");
    return logs.ok() ? static_cast<int>(logs->size()) : -1;
  }

  void Flush() {
    Status status = setup_->source().Exec("FLUSH BINARY LOGS");
    ASSERT_TRUE(status.ok()) << status.message();
  }

  // Every row exactly as written, and every row write applied exactly once.
  void ExpectExactlyTheModel() {
    std::string expected;
    for (const auto& [id, row] : model_) {
      expected += std::to_string(id) + "|" + std::to_string(row.a) + "|" + row.b + "\n";
    }
    ExpectBothSidesAre("SELECT id, a, b FROM r ORDER BY id", expected);
    EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM r"), std::to_string(model_.size()));
    EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM applied_log"),
              std::to_string(row_writes_))
        << "rows applied more than once: "
        << RowsAsText(setup_->target(),
                      "SELECT id, count(*) FROM applied_log GROUP BY id HAVING count(*) > 1 "
                      "ORDER BY id LIMIT 20");
  }

  std::unique_ptr<Writer> writer_;
  // Only the writer thread touches these until it has stopped.
  std::map<int, RotationRow> model_;
  int next_id_ = 1;
  int row_writes_ = 0;  // inserts + updates: what applied_log must hold
};

TEST_P(RotationUnderLoadTest, FlushBinaryLogsWhileWriting) {
  const int files_before = BinlogFiles();
  writer_->Start();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(writer_->WaitFor(60)) << writer_->error();
    ASSERT_NO_FATAL_FAILURE(Flush());
  }
  ASSERT_TRUE(writer_->WaitFor(60)) << writer_->error();
  writer_->Stop();
  ASSERT_EQ(writer_->error(), "");
  EXPECT_EQ(BinlogFiles(), files_before + 5);
  ASSERT_GE(writer_->committed(), 360);
  ExpectExactlyTheModel();
  ExpectNoConflicts();
}

TEST_P(RotationUnderLoadTest, KillDashNineOfCaptureRightAfterARotation) {
  const int files_before = BinlogFiles();
  writer_->Start();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(writer_->WaitFor(60)) << writer_->error();
    ASSERT_NO_FATAL_FAILURE(Flush());
    if (i == 2) {  // while the writer keeps committing into the new file
      setup_->KillCapture();
      std::this_thread::sleep_for(milliseconds(200));
      ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
    }
  }
  ASSERT_TRUE(writer_->WaitFor(60)) << writer_->error();
  writer_->Stop();
  ASSERT_EQ(writer_->error(), "");
  ExpectExactlyTheModel();

  // Idle: the last applied transaction is the last one of a rotated file when the agent dies.
  ASSERT_NO_FATAL_FAILURE(Flush());
  setup_->KillCapture();
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  for (int n = 0; n < 20; ++n) {
    Status status = setup_->source().Exec("START TRANSACTION;" + Build(n) + "COMMIT");
    ASSERT_TRUE(status.ok()) << status.message();
  }
  EXPECT_EQ(BinlogFiles(), files_before + 6);
  ExpectExactlyTheModel();
  ExpectNoConflicts();
}

INSTANTIATE_TEST_SUITE_P(Targets, RotationUnderLoadTest, ::testing::Values("postgres", "mariadb"),
                         Name);

}  // namespace
}  // namespace ferry::testing
