// FrameConnection over TLS, with certificates made for each test run: frames cross both ways,
// and every way a handshake can go wrong ends in an error that says what to fix.
#include "wire/tls.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "wire/connection.h"
#include "wire/ferry.pb.h"
#include "wire/position.h"
#include "wire/testing/test_certificates.h"

namespace ferry::wire {
namespace {

using namespace std::chrono_literals;
using testing::TestCa;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Ack AckAt(uint64_t lsn) {
  Ack ack;
  *ack.mutable_position() = PgPosition(lsn);
  return ack;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ferry-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ca_ = std::make_unique<TestCa>(dir_, "ca");
    server_ = ca_->Issue("capture.example", {"DNS:localhost", "IP:127.0.0.1"});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A listener on a free loopback port with `config` (the server certificate by default).
  void Listen(TlsServerConfig config) {
    if (config.cert_file.empty()) config.cert_file = server_.cert_file;
    if (config.key_file.empty()) config.key_file = server_.key_file;
    Result<std::shared_ptr<const TlsContext>> context = TlsContext::ForServer(config);
    ASSERT_TRUE(context.ok()) << context.message();
    Result<std::unique_ptr<FrameListener>> listener =
        FrameListener::Listen("127.0.0.1:0", kDefaultMaxFrameBytes, *context);
    ASSERT_TRUE(listener.ok()) << listener.message();
    listener_ = std::move(*listener);
  }

  std::string Address(const std::string& host = "127.0.0.1") const {
    return host + ":" + std::to_string(listener_->port());
  }

  Result<std::unique_ptr<FrameConnection>> Connect(const TlsClientConfig& config,
                                                   const std::string& host = "127.0.0.1") {
    Result<std::shared_ptr<const TlsContext>> context = TlsContext::ForClient(config);
    if (!context.ok()) return context.status();
    return FrameConnection::Connect(Address(host), 5s, kDefaultMaxFrameBytes, *context);
  }

  // Accepts one connection and waits for its first frame: the server's side of a handshake.
  std::future<Status> ServeOne() {
    return std::async(std::launch::async, [this]() -> Status {
      Result<std::unique_ptr<FrameConnection>> accepted = listener_->Accept(5s);
      if (!accepted.ok()) return accepted.status();
      if (*accepted == nullptr) return Status::Error("no connection");
      accepted_ = std::move(*accepted);
      Result<std::optional<Frame>> frame = accepted_->Receive(5s);
      if (!frame.ok()) return frame.status();
      return *frame ? Status::Ok() : Status::Error("no frame");
    });
  }

  std::string dir_;
  std::unique_ptr<TestCa> ca_;
  TestCa::Issued server_;
  std::unique_ptr<FrameListener> listener_;
  std::unique_ptr<FrameConnection> accepted_;
};

TEST_F(TlsTest, FramesCrossBothWaysWhileBothSidesSendAndReceiveAtOnce) {
  Listen({});
  std::future<Status> served = ServeOne();
  Result<std::unique_ptr<FrameConnection>> client = Connect({ca_->cert_file(), "", "", ""});
  ASSERT_TRUE(client.ok()) << client.message();
  ASSERT_TRUE((*client)->tls());
  ASSERT_TRUE((*client)->Send(FrameType::kAck, AckAt(1)).ok());
  ASSERT_TRUE(served.get().ok());
  EXPECT_EQ(accepted_->PeerCertificateName(), "");  // no client certificate

  // One thread writes 2,000 frames each way while the other side's reader takes them: the
  // session is shared by a reader and a writer on each end.
  constexpr int kFrames = 2000;
  auto pump = [](FrameConnection* from) {
    for (int i = 0; i < kFrames; ++i) {
      if (!from->Send(FrameType::kAck, AckAt(static_cast<uint64_t>(i))).ok()) return false;
    }
    return true;
  };
  auto drain = [](FrameConnection* to) {
    for (int i = 0; i < kFrames; ++i) {
      Result<std::optional<Frame>> frame = to->Receive(10s);
      if (!frame.ok() || !*frame) return -1;
      Ack ack;
      if (!ParsePayload(**frame, &ack).ok() ||
          ack.position().value() != PgPosition(static_cast<uint64_t>(i)).value()) {
        return i;
      }
    }
    return kFrames;
  };
  std::future<bool> client_sends = std::async(std::launch::async, pump, client->get());
  std::future<bool> server_sends = std::async(std::launch::async, pump, accepted_.get());
  std::future<int> server_reads = std::async(std::launch::async, drain, accepted_.get());
  EXPECT_EQ(drain(client->get()), kFrames);
  EXPECT_EQ(server_reads.get(), kFrames);
  EXPECT_TRUE(client_sends.get());
  EXPECT_TRUE(server_sends.get());

  // Closing one end reads as the peer closing the connection on the other.
  (*client)->Close();
  client->reset();
  Result<std::optional<Frame>> after = accepted_->Receive(5s);
  ASSERT_FALSE(after.ok());
  EXPECT_TRUE(Contains(after.message(), "the peer closed the connection")) << after.message();
}

TEST_F(TlsTest, AClientCertificateNamesThePeer) {
  Listen({"", "", ca_->cert_file()});
  const TestCa::Issued east = ca_->Issue("east", {});
  std::future<Status> served = ServeOne();
  Result<std::unique_ptr<FrameConnection>> client =
      Connect({ca_->cert_file(), "", east.cert_file, east.key_file});
  ASSERT_TRUE(client.ok()) << client.message();
  ASSERT_TRUE((*client)->Send(FrameType::kAck, AckAt(1)).ok());
  ASSERT_TRUE(served.get().ok());
  EXPECT_EQ(accepted_->PeerCertificateName(), "east");
}

TEST_F(TlsTest, AServerRequiringClientCertificatesRefusesAClientWithout) {
  Listen({"", "", ca_->cert_file()});
  std::future<Status> served = ServeOne();
  Result<std::unique_ptr<FrameConnection>> client = Connect({ca_->cert_file(), "", "", ""});
  // TLS 1.3 ends the client's handshake before the server has checked it: the refusal shows at
  // the client's next read, and at the server's handshake.
  if (client.ok()) {
    (void)(*client)->Send(FrameType::kAck, AckAt(1));
    Result<std::optional<Frame>> read = (*client)->Receive(5s);
    ASSERT_FALSE(read.ok());
  }
  const Status server = served.get();
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(Contains(server.message(), "presented no client certificate")) << server.message();
  EXPECT_TRUE(Contains(server.message(), "tls.client_ca_file")) << server.message();
}

TEST_F(TlsTest, ACertificateFromAnotherCaIsRefusedNamingTheSetting) {
  Listen({});
  std::future<Status> served = ServeOne();
  TestCa other(dir_, "other-ca");
  Result<std::unique_ptr<FrameConnection>> client = Connect({other.cert_file(), "", "", ""});
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(Contains(client.message(), "certificate was refused")) << client.message();
  EXPECT_TRUE(Contains(client.message(), "tls.ca_file")) << client.message();
  EXPECT_FALSE(served.get().ok());
}

TEST_F(TlsTest, ACertificateForAnotherNameIsRefused) {
  Listen({});
  std::future<Status> served = ServeOne();
  Result<std::unique_ptr<FrameConnection>> client =
      Connect({ca_->cert_file(), "replica.example", "", ""});
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(Contains(client.message(), "certificate was refused")) << client.message();
  EXPECT_TRUE(Contains(client.message(), "tls.server_name")) << client.message();
  EXPECT_FALSE(served.get().ok());

  // The host connected to is the name checked when none is configured: localhost is on the
  // certificate, and so is its address.
  std::future<Status> again = ServeOne();
  Result<std::unique_ptr<FrameConnection>> by_name =
      Connect({ca_->cert_file(), "", "", ""}, "localhost");
  ASSERT_TRUE(by_name.ok()) << by_name.message();
  ASSERT_TRUE((*by_name)->Send(FrameType::kAck, AckAt(1)).ok());
  EXPECT_TRUE(again.get().ok());
}

// A certificate past its notAfter is refused by whichever side checks it, naming it as expired;
// the side that presented it learns why too.
TEST_F(TlsTest, AnExpiredCertificateIsRefusedAsExpired) {
  const TestCa::Issued expired =
      ca_->Issue("expired.example", {"IP:127.0.0.1"}, TestCa::Validity::kExpired);
  Listen({expired.cert_file, expired.key_file, ""});
  std::future<Status> served = ServeOne();
  Result<std::unique_ptr<FrameConnection>> client = Connect({ca_->cert_file(), "", "", ""});
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(Contains(client.message(),
                       "the peer's certificate was refused: certificate has "
                       "expired; the capture agent must present a current "
                       "certificate (renew its tls.cert_file)"))
      << client.message();
  const Status server = served.get();
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(Contains(server.message(), "the peer refused this agent's certificate as expired"))
      << server.message();

  // An apply agent's expired client certificate, under mutual TLS.
  Listen({"", "", ca_->cert_file()});
  const TestCa::Issued west = ca_->Issue("west", {}, TestCa::Validity::kExpired);
  served = ServeOne();
  client = Connect({ca_->cert_file(), "", west.cert_file, west.key_file});
  // TLS 1.3 ends the client's handshake before the server has checked it (as above).
  if (client.ok()) {
    (void)(*client)->Send(FrameType::kAck, AckAt(1));
    EXPECT_FALSE((*client)->Receive(5s).ok());
  }
  const Status refused = served.get();
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.message(),
                       "certificate has expired; the apply agent must present "
                       "a current certificate"))
      << refused.message();
}

TEST_F(TlsTest, APlainPeerOnEitherSideIsToldToConfigureTlsOnBoth) {
  Listen({});
  std::future<Status> served = ServeOne();
  Result<std::unique_ptr<FrameConnection>> plain = FrameConnection::Connect(Address(), 5s);
  ASSERT_TRUE(plain.ok()) << plain.message();
  ASSERT_TRUE((*plain)->Send(FrameType::kAck, AckAt(1)).ok());
  const Status server = served.get();
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(Contains(server.message(), "does not speak TLS")) << server.message();

  Result<std::unique_ptr<FrameListener>> plain_listener = FrameListener::Listen("127.0.0.1:0");
  ASSERT_TRUE(plain_listener.ok());
  std::thread accept_and_talk([&] {
    Result<std::unique_ptr<FrameConnection>> accepted = (*plain_listener)->Accept(5s);
    if (accepted.ok() && *accepted != nullptr) {
      (void)(*accepted)->Receive(2s);
      (void)(*accepted)->Send(FrameType::kAck, AckAt(1));
    }
  });
  Result<std::shared_ptr<const TlsContext>> context =
      TlsContext::ForClient({ca_->cert_file(), "", "", ""});
  ASSERT_TRUE(context.ok());
  Result<std::unique_ptr<FrameConnection>> client =
      FrameConnection::Connect("127.0.0.1:" + std::to_string((*plain_listener)->port()), 5s,
                               kDefaultMaxFrameBytes, *context);
  accept_and_talk.join();
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(Contains(client.message(), "TLS must be configured on both agents"))
      << client.message();
}

TEST_F(TlsTest, BadFilesAreNamedWithTheSettingToFix) {
  Result<std::shared_ptr<const TlsContext>> missing =
      TlsContext::ForServer({dir_ + "/none.crt", server_.key_file, ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(missing.message(), "none.crt")) << missing.message();
  EXPECT_TRUE(Contains(missing.message(), "tls.cert_file")) << missing.message();

  const TestCa::Issued other = ca_->Issue("other", {});
  Result<std::shared_ptr<const TlsContext>> mismatch =
      TlsContext::ForServer({server_.cert_file, other.key_file, ""});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_TRUE(Contains(mismatch.message(), "does not belong to certificate")) << mismatch.message();

  Result<std::shared_ptr<const TlsContext>> no_key =
      TlsContext::ForServer({server_.cert_file, "", ""});
  ASSERT_FALSE(no_key.ok());
  EXPECT_TRUE(Contains(no_key.message(), "tls.key_file")) << no_key.message();

  Result<std::shared_ptr<const TlsContext>> bad_ca =
      TlsContext::ForClient({server_.key_file, "", "", ""});
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_TRUE(Contains(bad_ca.message(), "tls.ca_file")) << bad_ca.message();

  Result<std::shared_ptr<const TlsContext>> half =
      TlsContext::ForClient({ca_->cert_file(), "", server_.cert_file, ""});
  ASSERT_FALSE(half.ok());
  EXPECT_TRUE(Contains(half.message(), "both tls.cert_file and tls.key_file")) << half.message();
}

// A server refusing a stranger sends before it received anything: the handshake then happens in
// Send, bounded, so that a peer that never answers cannot hold the sender.
TEST_F(TlsTest, ASendBeforeAnyReceiveShakesHandsWithinABound) {
  Listen({});
  std::future<Status> server_sent = std::async(std::launch::async, [this]() -> Status {
    Result<std::unique_ptr<FrameConnection>> accepted = listener_->Accept(5s);
    if (!accepted.ok() || *accepted == nullptr) return Status::Error("no connection");
    accepted_ = std::move(*accepted);
    return accepted_->Send(FrameType::kAck, AckAt(7));
  });
  Result<std::unique_ptr<FrameConnection>> client = Connect({ca_->cert_file(), "", "", ""});
  ASSERT_TRUE(client.ok()) << client.message();
  EXPECT_TRUE(server_sent.get().ok());
  Result<std::optional<Frame>> frame = (*client)->Receive(5s);
  ASSERT_TRUE(frame.ok()) << frame.message();
  ASSERT_TRUE(frame->has_value());
  EXPECT_EQ((*frame)->type, FrameType::kAck);

  // A peer that connects and never speaks TLS holds a sender no longer than the bound (10 s);
  // shortened here by the peer closing the connection, which ends the Send at once.
  Result<std::unique_ptr<FrameConnection>> silent = FrameConnection::Connect(Address(), 5s);
  ASSERT_TRUE(silent.ok());
  Result<std::unique_ptr<FrameConnection>> stranger = listener_->Accept(5s);
  ASSERT_TRUE(stranger.ok() && *stranger != nullptr);
  std::future<Status> refused =
      std::async(std::launch::async, [&] { return (*stranger)->Send(FrameType::kAck, AckAt(8)); });
  std::this_thread::sleep_for(100ms);
  silent->reset();
  ASSERT_EQ(refused.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(refused.get().ok());
}

}  // namespace
}  // namespace ferry::wire
