// Master-master through the real ferry binary: two nodes, each with a capture agent and an apply
// agent toward the other, written on both at once. Every change arrives on the other node once
// and never comes back (loop prevention: capture/origin_filter.h), and once both are idle no
// replication traffic flows. A change that came back would show: an insert or delete met again
// counts as a conflict on the apply agent, and a loop would never go quiet.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/node_pair.h"

namespace ferry::testing {
namespace {

using std::chrono::seconds;

// On PostgreSQL the capture agent publishes schema ferry_meta with a publication that lists
// tables; it must exist before the agent starts (README, "Master-master"), as here.
// Master-master needs the whole old row (REPLICA IDENTITY FULL; MariaDB's binlog_row_image is
// FULL by default). Triggers count every row written into `items` on each node, by the node's
// own clients and by Ferry alike (ENABLE ALWAYS: PostgreSQL's apply session runs as a replica),
// in `writes`, which is not replicated: each write must be applied on every node exactly once.
std::string Schema(const std::string& engine) {
  std::string sql =
      "CREATE TABLE items (id int PRIMARY KEY, origin varchar(20), v int);"
      "CREATE TABLE writes (id int, op char(1));";
  if (engine == "postgres") {
    return sql +
           "ALTER TABLE items REPLICA IDENTITY FULL;CREATE SCHEMA ferry_meta;"
           "CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
           " INSERT INTO writes VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,"
           " left(TG_OP, 1)); RETURN NULL; END $$;"
           "CREATE TRIGGER count_writes AFTER INSERT OR UPDATE OR DELETE ON items"
           " FOR EACH ROW EXECUTE FUNCTION count_write();"
           "ALTER TABLE items ENABLE ALWAYS TRIGGER count_writes;";
  }
  return sql +
         "CREATE TRIGGER count_inserts AFTER INSERT ON items FOR EACH ROW"
         " INSERT INTO writes VALUES (NEW.id, 'I');"
         "CREATE TRIGGER count_updates AFTER UPDATE ON items FOR EACH ROW"
         " INSERT INTO writes VALUES (NEW.id, 'U');"
         "CREATE TRIGGER count_deletes AFTER DELETE ON items FOR EACH ROW"
         " INSERT INTO writes VALUES (OLD.id, 'D');";
}

// The writes counted on `node`, per kind: "D|deletes|distinct ids\nI|...\nU|...\n".
std::string WritesCounted(const TestDatabase& node) {
  return RowsAsText(node, "SELECT op, count(*), count(DISTINCT id) FROM " +
                              Qualified(node.engine(), "writes") + " GROUP BY op ORDER BY op");
}

// Where `node`'s own log ends (MariaDB: the binlog's GTID position), to show that Ferry writes
// nothing there while idle; empty on PostgreSQL, whose background work (autovacuum, checkpoints)
// writes WAL of its own.
std::string LogEnd(const TestDatabase& node) {
  return node.engine() == "postgres" ? "" : node.Scalar("SELECT @@gtid_binlog_pos");
}

// The apply agents run master-master with the default policy: any conflict stops the stream
// (resolver error), so a change that came back, or was applied twice, could not go unnoticed.
constexpr char kMasterMaster[] = "mode: master-master\n";

// How long both sides must stay quiet once the writers stop.
constexpr auto kIdle = std::chrono::seconds(10);

// Conflicts an apply agent met (GET /conflicts) or counted as master-slave divergences, all
// types and streams together.
uint64_t Conflicts(uint16_t admin_port) {
  const nlohmann::json listed = GetJson(admin_port, "/conflicts");
  uint64_t total = listed.contains("total") ? listed["total"].get<uint64_t>() : 0;
  const nlohmann::json status = GetJson(admin_port, "/status");
  if (!status.contains("counters")) return total;
  for (const auto& [name, per_stream] : status["counters"].items()) {
    if (name.rfind("conflicts_", 0) != 0) continue;
    for (const auto& [stream, value] : per_stream.items()) total += value.get<uint64_t>();
  }
  return total;
}

nlohmann::json AdminStatus(uint16_t admin_port) { return GetJson(admin_port, "/status"); }

// A number of a stream's status, 0 when absent.
uint64_t StreamNumber(const nlohmann::json& status, const std::string& stream,
                      const std::string& key) {
  if (!status.contains("streams") || !status["streams"].contains(stream)) return 0;
  const auto& value = status["streams"][stream][key];
  return value.is_number() ? value.get<uint64_t>() : 0;
}

class MasterMasterTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    CreatePair();
    if (!HasFatalFailure()) pair_.StartAgents();
  }

  // The two databases and both links' configs; no agent runs yet. Both nodes start empty, with
  // nothing to copy: master-master copies only where `copy` asks for it.
  void CreatePair(const std::string& copy = "") {
    const Direction& d = GetParam();
    pair_.Create(d, Schema(d.source), Schema(d.target), {"items"}, copy);
  }

  TestDatabase& east() { return pair_.east(); }
  TestDatabase& west() { return pair_.west(); }
  std::string Items(const TestDatabase& node) const {
    return RowsAsText(
        node, "SELECT id, origin, v FROM " + Qualified(node.engine(), "items") + " ORDER BY id");
  }
  bool WaitForSameItems() {
    return WaitFor(
        [&] {
          const std::string rows = Items(east());
          return !IsError(rows) && rows == Items(west());
        },
        seconds(60));
  }
  std::string Logs() const { return pair_.Logs(); }
  // Writes on `node`, one transaction per statement.
  void Write(TestDatabase& node, const std::string& sql) {
    Status s = node.Exec(sql);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  std::string Table(const TestDatabase& node) const { return Qualified(node.engine(), "items"); }

  NodePair pair_;
};

TEST_P(MasterMasterTest, ChangesMadeOnEitherNodeArriveOnTheOtherOnceAndNeverComeBack) {
  // Inserts on both nodes at once, disjoint keys, while west's apply agent and west's capture
  // agent are killed with -9 and started again.
  std::thread on_west([&] {
    for (int i = 101; i <= 140; ++i) {
      Write(west(),
            "INSERT INTO " + Table(west()) + " VALUES (" + std::to_string(i) + ", 'west', 0)");
    }
  });
  ReplicationSetup& into_west = pair_.east_to_west();
  ReplicationSetup& from_west = pair_.west_to_east();
  for (int i = 1; i <= 40; ++i) {
    Write(east(),
          "INSERT INTO " + Table(east()) + " VALUES (" + std::to_string(i) + ", 'east', 0)");
    if (i == 10) {
      into_west.KillApply();
      from_west.KillCapture();
    } else if (i == 30) {
      ASSERT_TRUE(from_west.StartCapture().ok()) << from_west.capture_log();
      ASSERT_TRUE(into_west.StartApply(false).ok()) << into_west.apply_log();
    }
  }
  on_west.join();
  ASSERT_TRUE(WaitForSameItems()) << "east:\n"
                                  << Items(east()) << "west:\n"
                                  << Items(west()) << Logs();

  // Each node changes and deletes rows that the other one made.
  Write(east(), "UPDATE " + Table(east()) + " SET v = 1 WHERE id BETWEEN 101 AND 110");
  Write(west(), "UPDATE " + Table(west()) + " SET v = 2 WHERE id BETWEEN 1 AND 10");
  Write(east(), "DELETE FROM " + Table(east()) + " WHERE id > 130");
  Write(west(), "DELETE FROM " + Table(west()) + " WHERE id BETWEEN 31 AND 40");
  ASSERT_TRUE(WaitForSameItems()) << "east:\n"
                                  << Items(east()) << "west:\n"
                                  << Items(west()) << Logs();
  EXPECT_EQ(east().Scalar("SELECT count(*) FROM " + Table(east())), "60");
  EXPECT_EQ(east().Scalar("SELECT sum(v) FROM " + Table(east())), "30");

  // Nothing came back: no insert met its own row again, no delete missed one, and every
  // capture agent held back the transactions its subscriber had written.
  const uint16_t east_capture = pair_.east_to_west().capture_admin_port();
  const uint16_t west_capture = pair_.west_to_east().capture_admin_port();
  EXPECT_TRUE(WaitFor(
      [&] {
        return StreamNumber(AdminStatus(east_capture), "west", "filtered_transactions") > 0 &&
               StreamNumber(AdminStatus(west_capture), "east", "filtered_transactions") > 0;
      },
      seconds(30)))
      << AdminStatus(east_capture).dump() << "\n"
      << AdminStatus(west_capture).dump() << Logs();
  EXPECT_EQ(Conflicts(pair_.east_to_west().apply_admin_port()), 0u) << Logs();
  EXPECT_EQ(Conflicts(pair_.west_to_east().apply_admin_port()), 0u) << Logs();
  // Each node's triggers saw every write once: 80 inserts, 20 updates, 20 deletes.
  for (TestDatabase* node : {&east(), &west()}) {
    EXPECT_EQ(WritesCounted(*node), "D|20|20\nI|80|80\nU|20|20\n") << node->engine() << Logs();
  }

  // Idle: no transaction flows any more, either way, and nothing moves a position or a binlog.
  auto sent = [&] {
    return std::to_string(StreamNumber(AdminStatus(east_capture), "west", "transactions")) + "/" +
           std::to_string(StreamNumber(AdminStatus(west_capture), "east", "transactions")) + "/" +
           east().Scalar("SELECT max(position) FROM ferry_meta.checkpoints") + "/" +
           west().Scalar("SELECT max(position) FROM ferry_meta.checkpoints") + "/" +
           LogEnd(east()) + "/" + LogEnd(west());
  };
  std::this_thread::sleep_for(seconds(1));
  const std::string before = sent();
  std::this_thread::sleep_for(kIdle);
  EXPECT_EQ(sent(), before) << Logs();
}

// A pair whose node east already holds rows when the agents first start: west receives them by
// the initial copy (copy_data: true, both ways; west has none to send). A copy chunk's
// transaction on west starts with its progress row naming east as origin, so west's capture
// agent holds the copied rows back instead of sending them to east as west's own inserts.
class MasterMasterTestWithExistingRows : public MasterMasterTest {
 protected:
  static constexpr int kSeeded = 500;

  void SetUp() override {
    CreatePair("copy_data: true\n");  // both ways
    if (HasFatalFailure()) return;
    // Several chunks: every one of them must carry the marker, not only the first.
    pair_.east_to_west().capture_settings += "copy_chunk_rows: 100\n";
    std::string values;
    for (int i = 1; i <= kSeeded; ++i) {
      values += (i > 1 ? ", (" : "(") + std::to_string(i) + ", 'east', 0)";
    }
    Write(east(), "INSERT INTO " + Table(east()) + " VALUES " + values);
    if (HasFatalFailure()) return;
    // West's link first, its (empty) copy done: west's stream to east then starts before the
    // copied rows land on west, so they can only come back through it, which is what this test
    // is about. Started at once, west's copy to east could read them from west's table instead.
    ReplicationSetup& west_to_east = pair_.west_to_east();
    ASSERT_TRUE(west_to_east.StartCapture().ok()) << west_to_east.capture_log();
    ASSERT_TRUE(west_to_east.StartApply().ok()) << west_to_east.apply_log();
    ASSERT_TRUE(WaitFor(
        [&] {
          return east().Scalar("SELECT count(*) FROM ferry_meta.copy_progress WHERE done") == "1";
        },
        seconds(30)))
        << Logs();
    ReplicationSetup& east_to_west = pair_.east_to_west();
    ASSERT_TRUE(east_to_west.StartCapture().ok()) << east_to_west.capture_log();
    ASSERT_TRUE(east_to_west.StartApply().ok()) << east_to_west.apply_log();
  }
};

TEST_P(MasterMasterTestWithExistingRows, CopiedRowsAreNotSentBackToTheNodeTheyCameFrom) {
  ASSERT_TRUE(WaitForSameItems()) << Logs();
  ASSERT_EQ(west().Scalar("SELECT count(*) FROM " + Table(west())), std::to_string(kSeeded));

  // A local write on west goes out after the copy's transactions in west's log: once it is on
  // east, west's capture agent has read (and held back) every copied row.
  Write(west(), "INSERT INTO " + Table(west()) + " VALUES (1001, 'west', 0)");
  ASSERT_TRUE(WaitForSameItems()) << Logs();
  const uint16_t west_capture = pair_.west_to_east().capture_admin_port();
  const uint16_t east_apply = pair_.west_to_east().apply_admin_port();
  EXPECT_GT(StreamNumber(AdminStatus(west_capture), "east", "filtered_transactions"), 0u)
      << AdminStatus(west_capture).dump() << Logs();
  // East applied that one transaction from west, and none holding copied rows (which would
  // also have met east's own rows again: a conflict). The count follows the commit.
  (void)WaitFor([&] { return StreamNumber(AdminStatus(east_apply), "west", "transactions") > 0; },
                seconds(10));
  EXPECT_EQ(StreamNumber(AdminStatus(east_apply), "west", "transactions"), 1u)
      << AdminStatus(east_apply).dump() << Logs();
  EXPECT_EQ(StreamNumber(AdminStatus(west_capture), "east", "transactions"), 1u)
      << AdminStatus(west_capture).dump() << Logs();
  EXPECT_EQ(Conflicts(pair_.east_to_west().apply_admin_port()), 0u) << Logs();
  EXPECT_EQ(Conflicts(east_apply), 0u) << Logs();
  // West's copy_progress rows name where the rows came from.
  EXPECT_EQ(west().Scalar("SELECT count(*) FROM ferry_meta.copy_progress WHERE origin = 'east'"),
            "1");

  // And the pair goes on as any other: changes on both nodes converge.
  Write(east(), "UPDATE " + Table(east()) + " SET v = 1 WHERE id BETWEEN 1 AND 10");
  Write(west(), "UPDATE " + Table(west()) + " SET v = 2 WHERE id BETWEEN 11 AND 20");
  Write(west(), "DELETE FROM " + Table(west()) + " WHERE id > 490 AND id <= 500");
  Write(east(), "INSERT INTO " + Table(east()) + " VALUES (1002, 'east', 0)");
  ASSERT_TRUE(WaitForSameItems()) << "east:\n"
                                  << Items(east()) << "west:\n"
                                  << Items(west()) << Logs();
  EXPECT_EQ(east().Scalar("SELECT count(*) FROM " + Table(east())), "492");
  EXPECT_EQ(east().Scalar("SELECT sum(v) FROM " + Table(east())), "30");
  // 500 rows inserted on east and copied to west, two more inserted, 20 updated, 10 deleted:
  // each once on each node.
  for (TestDatabase* node : {&east(), &west()}) {
    EXPECT_EQ(WritesCounted(*node), "D|10|10\nI|502|502\nU|20|20\n") << node->engine() << Logs();
  }
  EXPECT_EQ(Conflicts(pair_.east_to_west().apply_admin_port()), 0u) << Logs();
  EXPECT_EQ(Conflicts(east_apply), 0u) << Logs();
}

// Three nodes a, b and c of one engine, each link its own capture and apply agent.
class ThreeNodeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string& engine = GetParam();
    auto first = ReplicationSetup::Create(engine, engine, Schema(engine), Schema(engine));
    ASSERT_TRUE(first.ok()) << first.message();
    nodes_ = {(*first)->shared_source(), (*first)->shared_target()};
    auto third = StartDatabase(engine, "c");
    ASSERT_TRUE(third.ok()) << third.message();
    nodes_.push_back(std::move(*third));
    ASSERT_TRUE(nodes_[2]->Exec(Schema(engine)).ok());
    first_ = std::move(*first);
  }

  // Adds the link from node `from` to node `to` (0: a, 1: b, 2: c); the first one reuses the
  // setup that started a and b.
  void AddLink(int from, int to, bool forward_remote) {
    std::vector<const ReplicationSetup*> others;
    for (const auto& link : links_) others.push_back(link.get());
    if (first_) others.push_back(first_.get());
    std::unique_ptr<ReplicationSetup> link =
        ReplicationSetup::Link(nodes_[from], kNames[from], nodes_[to], kNames[to], others);
    link->capture_tables = "[\"" + Table(*nodes_[from]) + "\"]";
    if (!forward_remote) link->capture_settings += "forward_remote_changes: false\n";
    link->apply_settings = kMasterMaster;
    links_.push_back(std::move(link));
  }

  void StartAll() {
    first_.reset();  // its servers live on in the links; it ran no agent
    for (const auto& link : links_) ASSERT_TRUE(link->StartCapture().ok()) << link->capture_log();
    for (const auto& link : links_) ASSERT_TRUE(link->StartApply().ok()) << link->apply_log();
  }

  static std::string Table(const TestDatabase& node) { return Qualified(node.engine(), "items"); }
  static std::string Items(const TestDatabase& node) {
    return RowsAsText(node, "SELECT id, origin, v FROM " + Table(node) + " ORDER BY id");
  }
  bool WaitForSameItems() {
    return WaitFor(
        [&] {
          const std::string a = Items(*nodes_[0]);
          return !IsError(a) && a == Items(*nodes_[1]) && a == Items(*nodes_[2]);
        },
        seconds(90));
  }
  std::string Describe() const {
    std::string text;
    for (int i = 0; i < 3; ++i) text += std::string(kNames[i]) + ":\n" + Items(*nodes_[i]);
    for (const auto& link : links_) {
      text += "--- " + link->source_node + " -> " + link->target_node + " capture ---\n" +
              Tail(link->capture_log(), 1500) + "\n--- apply ---\n" +
              Tail(link->apply_log(), 1500) + "\n";
    }
    return text;
  }

  // Each node inserts rows `first`..`last` of its own (ids n*100 + i) at the same time as the
  // others, one transaction each.
  void InsertOnEveryNode(int first, int last) {
    std::vector<std::thread> writers;
    for (int n = 0; n < 3; ++n) {
      writers.emplace_back([this, n, first, last] {
        for (int i = first; i <= last; ++i) {
          const std::string id = std::to_string(n * 100 + i);
          Status s = nodes_[n]->Exec("INSERT INTO " + Table(*nodes_[n]) + " VALUES (" + id + ", '" +
                                     kNames[n] + "', 0)");
          EXPECT_TRUE(s.ok()) << s.message();
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
  }

  // Each node changes rows the next one made, and deletes some the one after made.
  void ChangeOtherNodesRows() {
    for (int n = 0; n < 3; ++n) {
      const int next = (n + 1) % 3, after = (n + 2) % 3;
      Status s =
          nodes_[n]->Exec("UPDATE " + Table(*nodes_[n]) + " SET v = " + std::to_string(n + 1) +
                          " WHERE id BETWEEN " + std::to_string(next * 100 + 1) + " AND " +
                          std::to_string(next * 100 + 5));
      EXPECT_TRUE(s.ok()) << s.message();
      s = nodes_[n]->Exec("DELETE FROM " + Table(*nodes_[n]) + " WHERE id > " +
                          std::to_string(after * 100 + 15) +
                          " AND id <= " + std::to_string(after * 100 + 20));
      EXPECT_TRUE(s.ok()) << s.message();
    }
  }

  // Every apply agent met no row twice, every node's triggers saw each write once
  // (`writes_counted`), and no transaction flows once the writers stop.
  void ExpectNoEchoAndQuiet(const std::string& writes_counted) {
    for (const auto& node : nodes_) {
      EXPECT_EQ(WritesCounted(*node), writes_counted) << node->engine() << "\n" << Describe();
    }
    for (const auto& link : links_) {
      EXPECT_EQ(Conflicts(link->apply_admin_port()), 0u)
          << link->source_node << " -> " << link->target_node << "\n"
          << Describe();
    }
    auto sent = [&] {
      std::string text;
      for (const auto& link : links_) {
        text += std::to_string(StreamNumber(AdminStatus(link->capture_admin_port()),
                                            link->target_node, "transactions")) +
                "/";
      }
      for (const auto& node : nodes_) text += LogEnd(*node) + "/";
      return text;
    };
    std::this_thread::sleep_for(seconds(1));
    const std::string before = sent();
    std::this_thread::sleep_for(kIdle);
    EXPECT_EQ(sent(), before) << Describe();
  }

  static constexpr const char* kNames[] = {"a", "b", "c"};
  std::unique_ptr<ReplicationSetup> first_;
  std::vector<std::shared_ptr<TestDatabase>> nodes_;
  std::vector<std::unique_ptr<ReplicationSetup>> links_;
};

// a -> b -> c -> a: each node passes on what it received, and no change goes round twice, also
// when agents are killed with -9 while changes are under way.
TEST_P(ThreeNodeTest, ARingDeliversEveryChangeToEveryNodeOnce) {
  AddLink(0, 1, true);
  AddLink(1, 2, true);
  AddLink(2, 0, true);
  StartAll();
  InsertOnEveryNode(1, 20);
  // Changes of rows wait until the rows are everywhere: a delete on one node of a row that has
  // not arrived there yet is a conflict, which is not what this test is about.
  ASSERT_TRUE(WaitForSameItems()) << Describe();
  links_[1]->KillApply();  // b -> c: the apply agent on c, while changes are under way
  std::thread more([this] { InsertOnEveryNode(50, 59); });
  links_[2]->KillCapture();  // c -> a: the capture agent on c
  ChangeOtherNodesRows();
  more.join();
  ASSERT_TRUE(links_[2]->StartCapture().ok()) << links_[2]->capture_log();
  ASSERT_TRUE(links_[1]->StartApply().ok()) << links_[1]->apply_log();
  ASSERT_TRUE(WaitForSameItems()) << Describe();
  EXPECT_EQ(nodes_[0]->Scalar("SELECT count(*) FROM " + Table(*nodes_[0])), "75") << Describe();
  // 3 x 30 inserts, 3 x 5 updates, 3 x 5 deletes.
  ExpectNoEchoAndQuiet("D|15|15\nI|90|90\nU|15|15\n");
}

// Every node linked to every other directly: nothing is forwarded (forward_remote_changes:
// false), or every change would arrive twice; also across kill -9 of agents while changes are
// under way.
TEST_P(ThreeNodeTest, AFullMeshDeliversEveryChangeToEveryNodeOnce) {
  for (int from = 0; from < 3; ++from) {
    for (int to = 0; to < 3; ++to) {
      if (from != to) AddLink(from, to, false);
    }
  }
  StartAll();
  // Links are added from a: link 0 is a -> b, link 2 is b -> a.
  links_[0]->KillApply();  // the apply agent on b pulling from a, while rows are inserted
  std::thread more([this] { InsertOnEveryNode(1, 20); });
  links_[2]->KillCapture();  // b's capture agent serving a
  more.join();
  ASSERT_TRUE(links_[2]->StartCapture().ok()) << links_[2]->capture_log();
  ASSERT_TRUE(links_[0]->StartApply().ok()) << links_[0]->apply_log();
  ASSERT_TRUE(WaitForSameItems()) << Describe();
  ChangeOtherNodesRows();
  ASSERT_TRUE(WaitForSameItems()) << Describe();
  EXPECT_EQ(nodes_[0]->Scalar("SELECT count(*) FROM " + Table(*nodes_[0])), "45") << Describe();
  // 3 x 20 inserts, 3 x 5 updates, 3 x 5 deletes.
  ExpectNoEchoAndQuiet("D|15|15\nI|60|60\nU|15|15\n");
}

INSTANTIATE_TEST_SUITE_P(Engines, ThreeNodeTest, ::testing::Values("postgres", "mariadb"),
                         [](const auto& info) { return info.param; });

// The last pair with both MariaDB servers at their defaults (binlog_row_metadata=NO_LOG).
INSTANTIATE_TEST_SUITE_P(Pairs, MasterMasterTest,
                         ::testing::Values(Direction{"postgres", "postgres"},
                                           Direction{"mariadb", "mariadb"},
                                           Direction{"postgres", "mariadb"},
                                           Direction{"mariadb", "mariadb", true}),
                         DirectionName);

INSTANTIATE_TEST_SUITE_P(Pairs, MasterMasterTestWithExistingRows,
                         ::testing::Values(Direction{"postgres", "postgres"},
                                           Direction{"mariadb", "mariadb"},
                                           Direction{"postgres", "mariadb"}),
                         DirectionName);

}  // namespace
}  // namespace ferry::testing
