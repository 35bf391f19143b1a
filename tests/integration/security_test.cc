// Who may subscribe, end to end through the real `ferry capture` and `ferry apply`: subscribers
// bound to their own tokens, strangers and replayed Hellos refused, acks beyond what was sent
// refused. The raw clients here speak the wire protocol the way a hostile peer would. Last, the
// agents' own database connections over TLS, in all four directions.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/harness/replication_setup.h"
#include "tests/integration/directions.h"
#include "tests/integration/test_ca.h"
#include "wire/auth.h"
#include "wire/connection.h"
#include "wire/ferry.pb.h"
#include "wire/frame.h"

namespace ferry::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchema[] =
    "CREATE TABLE items (id int PRIMARY KEY, name text);"
    "CREATE TABLE other (id int PRIMARY KEY, name text);";
constexpr char kItems[] = "SELECT * FROM items ORDER BY id";
constexpr char kSharedToken[] = "e2e-test-token-0123456789";  // the harness's secret.token
constexpr char kWestToken[] = "west-own-token-0123456789";

// The apply agent's last error on its stream from east, "" when it has none (or no /status).
std::string LastErrorOfEast(const ReplicationSetup& setup) {
  auto status = HttpGet(setup.apply_admin_port(), "/status");
  if (!status.ok()) return "";
  auto json = nlohmann::json::parse(*status, nullptr, false);
  if (json.is_discarded() || !json["streams"]["east"].contains("last_error")) return "";
  return json["streams"]["east"]["last_error"].get<std::string>();
}

// An apply agent's side of the handshake, done by hand.
class RawSubscriber {
 public:
  explicit RawSubscriber(uint16_t port) {
    auto connection =
        wire::FrameConnection::Connect("127.0.0.1:" + std::to_string(port), seconds(5), 1 << 24);
    EXPECT_TRUE(connection.ok()) << connection.message();
    if (!connection.ok()) return;
    connection_ = std::move(*connection);
    auto frame = Next();
    if (frame && frame->type == wire::FrameType::kChallenge) {
      wire::Challenge challenge;
      EXPECT_TRUE(wire::ParsePayload(*frame, &challenge).ok());
      nonce_ = challenge.nonce();
    }
    EXPECT_EQ(nonce_.size(), wire::kNonceBytes) << "no Challenge from the capture agent";
  }

  // The Hello a holder of `token` sends as `id` on this connection.
  wire::Hello HelloFor(const std::string& id, const std::string& token) const {
    wire::Hello hello;
    hello.set_protocol_version(wire::kProtocolVersion);
    hello.set_subscriber_id(id);
    hello.set_client_nonce(std::string(wire::kNonceBytes, 'c'));
    hello.set_auth_proof(wire::HelloProof(token, {nonce_, hello.client_nonce(), id}));
    return hello;
  }
  void Send(wire::FrameType type, const google::protobuf::MessageLite& message) {
    ASSERT_NE(connection_, nullptr);
    ASSERT_TRUE(connection_->Send(type, message).ok());
  }
  // Frames until an Error (its message) or until `timeout`/the connection ends ("").
  std::string ErrorWithin(seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto frame = Next();
      if (!frame) return "";
      if (frame->type == wire::FrameType::kWelcome) welcomed_ = true;
      if (frame->type != wire::FrameType::kError) continue;
      wire::Error error;
      EXPECT_TRUE(wire::ParsePayload(*frame, &error).ok());
      return error.code() + ": " + error.message();
    }
    return "";
  }
  bool welcomed() const { return welcomed_; }

 private:
  std::optional<wire::Frame> Next() {
    if (connection_ == nullptr) return std::nullopt;
    auto frame = connection_->Receive(seconds(5));
    if (!frame.ok() || !frame->has_value()) return std::nullopt;
    return std::move(**frame);
  }

  std::unique_ptr<wire::FrameConnection> connection_;
  std::string nonce_;
  bool welcomed_ = false;
};

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto setup = PgReplicationSetup::Create(kSchema);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables = "[\"public.items\"]";
  }
  void Exec(const std::string& sql) { ASSERT_TRUE(setup_->source().Exec(sql).ok()) << sql; }
  std::string ApplyLastError() { return LastErrorOfEast(*setup_); }

  std::unique_ptr<PgReplicationSetup> setup_;
};

// With `subscribers:` listed, west must prove its own token: the shared one no longer opens its
// slot, an id not on the list gets nothing, and a Hello recorded on one connection is refused on
// the next.
TEST_F(SecurityTest, ListedSubscribersProveTheirOwnTokenAndNoOneElseGetsIn) {
  setup_->dir().Write("west.token", std::string(kWestToken) + "\n");
  setup_->capture_settings = "subscribers:\n  - {id: west, auth_token_file: west.token}\n";
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  EXPECT_NE(setup_->capture_log().find("admits only the listed subscribers (west)"),
            std::string::npos)
      << setup_->capture_log();

  // The apply agent holds the shared token, not west's own.
  ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
  ASSERT_TRUE(WaitFor([&] { return !ApplyLastError().empty(); }, seconds(20)))
      << setup_->apply_log();
  EXPECT_NE(ApplyLastError().find("authentication failed for subscriber 'west'"), std::string::npos)
      << ApplyLastError();
  setup_->KillApply();

  {
    RawSubscriber stranger(setup_->capture_port());
    stranger.Send(wire::FrameType::kHello, stranger.HelloFor("north", kSharedToken));
    EXPECT_NE(stranger.ErrorWithin(seconds(5)).find("auth: subscriber 'north' is not listed"),
              std::string::npos);
  }
  wire::Hello recorded;
  {
    RawSubscriber first(setup_->capture_port());
    recorded = first.HelloFor("west", kWestToken);
    first.Send(wire::FrameType::kHello, recorded);
    EXPECT_EQ(first.ErrorWithin(seconds(2)), "");
    EXPECT_TRUE(first.welcomed());
  }
  {
    RawSubscriber replay(setup_->capture_port());
    replay.Send(wire::FrameType::kHello, recorded);
    EXPECT_NE(replay.ErrorWithin(seconds(5)).find("auth: authentication failed"),
              std::string::npos);
    EXPECT_FALSE(replay.welcomed());
  }
  // No slot was made for the stranger.
  EXPECT_EQ(setup_->source().Scalar(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '%north%'"),
            "0");

  // Given west's own token, the apply agent streams.
  setup_->dir().Write("secret.token", std::string(kWestToken) + "\n");
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  Exec("INSERT INTO items VALUES (1, 'for west')");
  EXPECT_TRUE(setup_->WaitForSameRows(kItems, seconds(60))) << setup_->DescribeDifference(kItems);
}

// An ack names only a commit the capture agent sent on that connection: one beyond it would make
// the slot discard WAL the subscriber never received, so it ends the session and moves nothing.
TEST_F(SecurityTest, AnAckBeyondTheLastCommitSentIsRefused) {
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  Exec("INSERT INTO items VALUES (1, 'one')");
  ASSERT_TRUE(setup_->WaitForSameRows(kItems, seconds(60)));
  setup_->KillApply();

  RawSubscriber raw(setup_->capture_port());
  raw.Send(wire::FrameType::kHello, raw.HelloFor("west", kSharedToken));
  EXPECT_EQ(raw.ErrorWithin(seconds(1)), "");
  ASSERT_TRUE(raw.welcomed());
  wire::Ack ack;
  ack.mutable_position()->set_engine("postgres");
  ack.mutable_position()->set_value("FF/FFFF0000");
  raw.Send(wire::FrameType::kAck, ack);
  const std::string error = raw.ErrorWithin(seconds(10));
  EXPECT_NE(error.find("ack: ack of postgres position 'FF/FFFF0000'"), std::string::npos) << error;
  EXPECT_NE(error.find("refused"), std::string::npos) << error;
  // (An idle session may confirm the source's head, never the ack's position.)
  EXPECT_EQ(setup_->source().Scalar("SELECT confirmed_flush_lsn < 'FF/FFFF0000' FROM "
                                    "pg_replication_slots WHERE slot_name LIKE '%west%'"),
            "t");

  // The real subscriber carries on from where it was.
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  Exec("INSERT INTO items VALUES (2, 'two')");
  EXPECT_TRUE(setup_->WaitForSameRows(kItems, seconds(60))) << setup_->DescribeDifference(kItems);
}

// With `tables:` in its config, the apply agent writes only those target tables: a stream that
// names another stops with an error saying so, writes nothing of it, and resumes once allowed.
TEST_F(SecurityTest, ApplyWritesOnlyTheTablesItsConfigAllows) {
  setup_->capture_tables = "[\"public.items\", \"public.other\"]";
  setup_->apply_settings = "tables: [public.items]\ncopy_data: false\n";
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  EXPECT_NE(setup_->apply_log().find("writes public.items (tables:)"), std::string::npos)
      << setup_->apply_log();
  Exec("INSERT INTO items VALUES (1, 'allowed')");
  ASSERT_TRUE(setup_->WaitForSameRows(kItems, seconds(60))) << setup_->DescribeDifference(kItems);
  Exec("INSERT INTO other VALUES (1, 'not allowed')");
  ASSERT_TRUE(WaitFor([&] { return !ApplyLastError().empty(); }, seconds(20)))
      << setup_->apply_log();
  EXPECT_NE(ApplyLastError().find("public.other, which is not in this apply agent's tables:"),
            std::string::npos)
      << ApplyLastError();
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM other"), "0");

  // Allowed now: the stream resumes where it stopped and loses nothing.
  setup_->KillApply();
  setup_->apply_settings = "tables: [public.*]\ncopy_data: false\n";
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  EXPECT_TRUE(setup_->WaitForSameRows("SELECT * FROM other ORDER BY id", seconds(60)))
      << setup_->apply_log();
}

// Plays a capture agent's side of the handshake with the next apply agent that connects,
// proving `token`; the connection, or null.
std::unique_ptr<wire::FrameConnection> AcceptAsCapture(wire::FrameListener& listener,
                                                       const std::string& token) {
  auto accepted = listener.Accept(std::chrono::milliseconds(20000));
  if (!accepted.ok() || *accepted == nullptr) return nullptr;
  std::unique_ptr<wire::FrameConnection> connection = std::move(*accepted);
  const std::string nonce(wire::kNonceBytes, 'n');
  wire::Challenge challenge;
  challenge.set_protocol_version(wire::kProtocolVersion);
  challenge.set_nonce(nonce);
  if (!connection->Send(wire::FrameType::kChallenge, challenge).ok()) return nullptr;
  auto frame = connection->Receive(seconds(10));
  wire::Hello hello;
  if (!frame.ok() || !frame->has_value() || !wire::ParsePayload(**frame, &hello).ok()) {
    return nullptr;
  }
  wire::Welcome welcome;
  welcome.set_protocol_version(wire::kProtocolVersion);
  welcome.set_node("east");
  welcome.set_engine("postgres");
  welcome.set_auth_proof(
      wire::WelcomeProof(token, {nonce, hello.client_nonce(), hello.subscriber_id()}));
  if (!connection->Send(wire::FrameType::kWelcome, welcome).ok()) return nullptr;
  return connection;
}

// Something posing as the capture agent: without the token it cannot prove it, and the apply
// agent goes no further; with it (a real capture agent never forwards ferry_meta), a stream that
// names ferry_meta is refused and the checkpoint is untouched.
TEST_F(SecurityTest, AnImpostorIsRefusedAndAStreamNamingFerryMetaWritesNothing) {
  auto listener = wire::FrameListener::Listen("127.0.0.1:" + std::to_string(setup_->capture_port()),
                                              1 << 24, nullptr);
  ASSERT_TRUE(listener.ok()) << listener.message();
  setup_->apply_settings = "copy_data: false\n";
  ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
  ASSERT_NE(AcceptAsCapture(**listener, "not-the-token-0123456789"), nullptr)
      << setup_->apply_log();
  ASSERT_TRUE(WaitFor([&] { return !ApplyLastError().empty(); }, seconds(20)))
      << setup_->apply_log();
  EXPECT_NE(ApplyLastError().find("did not prove that it holds this upstream's auth token"),
            std::string::npos)
      << ApplyLastError();

  std::unique_ptr<wire::FrameConnection> accepted = AcceptAsCapture(**listener, kSharedToken);
  ASSERT_NE(accepted, nullptr) << setup_->apply_log();
  wire::FrameConnection& connection = *accepted;

  wire::Begin begin;
  begin.mutable_position()->set_engine("postgres");
  begin.mutable_position()->set_value("FF/0");
  ASSERT_TRUE(connection.Send(wire::FrameType::kBegin, begin).ok());
  wire::Changes changes;
  wire::Relation* relation = changes.add_changes()->mutable_relation();
  relation->set_id(1);
  relation->set_schema("ferry_meta");
  relation->set_table("checkpoints");
  for (const char* name : {"upstream", "position"}) {
    wire::Column* column = relation->add_columns();
    column->set_name(name);
    column->set_type(wire::LOGICAL_TYPE_TEXT);
    column->set_key(std::string(name) == "upstream");
  }
  wire::RowChange* row = changes.add_changes()->mutable_row();
  row->set_op(wire::RowChange::INSERT);
  row->set_relation_id(1);
  row->add_new_values()->set_text("forged");
  row->add_new_values()->set_text("FF/0");
  ASSERT_TRUE(connection.Send(wire::FrameType::kChanges, changes).ok());
  wire::Commit commit;
  *commit.mutable_position() = begin.position();
  ASSERT_TRUE(connection.Send(wire::FrameType::kCommit, commit).ok());

  ASSERT_TRUE(WaitFor([&] { return ApplyLastError().find("ferry_meta") != std::string::npos; },
                      seconds(20)))
      << setup_->apply_log();
  EXPECT_NE(ApplyLastError().find("ferry_meta.checkpoints, in ferry_meta, which Ferry never "
                                  "writes from a stream"),
            std::string::npos)
      << ApplyLastError();
  EXPECT_EQ(setup_->target().Scalar(
                "SELECT count(*) FROM ferry_meta.checkpoints WHERE upstream = 'forged'"),
            "0");
}

// Both servers serve TLS and admit the agents' user only over it (ServerSettings::tls); the
// agents connect with sslmode=verify-full and the servers' CA.
class DatabaseTlsTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    ServerSettings settings;
    settings.tls = true;
    auto setup =
        ReplicationSetup::Create(GetParam().source, GetParam().target, kSchema, kSchema, settings);
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    const Direction& d = GetParam();
    setup_->capture_tables = "[\"" + Qualified(d.source, "items") + "\"]";
    if (d.source != d.target) {
      setup_->apply_mappings = "  - source: " + Qualified(d.source, "items") +
                               "\n    target: " + Qualified(d.target, "items") + "\n";
    }
  }
  std::string ApplyLastError() { return LastErrorOfEast(*setup_); }

  std::unique_ptr<ReplicationSetup> setup_;
};

TEST_P(DatabaseTlsTest, AgentsReachDatabasesThatAdmitOnlyTls) {
  ASSERT_NE(setup_->source_dsn.find("sslmode=verify-full"), std::string::npos);
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO items VALUES (1, 'over'), (2, 'tls')").ok());
  ASSERT_TRUE(setup_->WaitForSameRows(kItems, seconds(30))) << setup_->DescribeDifference(kItems);
  // Each agent says how its database connection is protected.
  EXPECT_NE(setup_->capture_log().find("over TLS ("), std::string::npos) << setup_->capture_log();
  EXPECT_NE(setup_->apply_log().find("over TLS ("), std::string::npos) << setup_->apply_log();
}

// The target's certificate is signed by a CA the apply agent's dsn does not trust: it writes
// nothing, says which key to change, and once trusted applies every row it was refused.
TEST_P(DatabaseTlsTest, ATargetDsnTrustingAnotherCaIsRefusedAndNothingIsWritten) {
  // A first run with the right CA subscribes (a PostgreSQL source keeps changes from then on).
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO items VALUES (1, 'first')").ok());
  ASSERT_TRUE(setup_->WaitForSameRows(kItems, seconds(30))) << setup_->DescribeDifference(kItems);
  setup_->KillApply();

  OwnTestCa stranger("stranger-ca");
  const std::string good = setup_->target_dsn;
  setup_->target_dsn =
      good.substr(0, good.find("sslrootcert=")) + "sslrootcert=" + stranger.cert_file();
  ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
  ASSERT_TRUE(setup_->source().Exec("INSERT INTO items VALUES (2, 'kept')").ok());
  ASSERT_TRUE(WaitFor([&] { return ApplyLastError().find("sslrootcert") != std::string::npos; },
                      seconds(30)))
      << ApplyLastError() << "\n"
      << setup_->apply_log();
  EXPECT_NE(ApplyLastError().find("certificate"), std::string::npos) << ApplyLastError();
  EXPECT_EQ(setup_->target().Scalar("SELECT count(*) FROM items"), "1");

  setup_->KillApply();
  setup_->target_dsn = good;
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  EXPECT_TRUE(setup_->WaitForSameRows(kItems, seconds(30))) << setup_->DescribeDifference(kItems);
}

INSTANTIATE_TEST_SUITE_P(AllDirections, DatabaseTlsTest, kAllDirections, DirectionName);

}  // namespace
}  // namespace ferry::testing
