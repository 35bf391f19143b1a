#include "wire/connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "wire/ferry.pb.h"
#include "wire/position.h"
#include "wire/testing/raw_client.h"

namespace ferry::wire {
namespace {

using testing::RawClient;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Ack AckAt(uint64_t lsn) {
  Ack ack;
  *ack.mutable_position() = PgPosition(lsn);
  return ack;
}

// A Changes message of about `bytes` bytes, `rows` rows of equal size.
Changes BigChanges(size_t bytes, int rows) {
  Changes changes;
  for (int i = 0; i < rows; ++i) {
    RowChange* row = changes.add_changes()->mutable_row();
    row->set_op(RowChange::INSERT);
    row->set_relation_id(1);
    row->add_new_values()->set_int64(i);
    row->add_new_values()->set_bytes(std::string(bytes / rows, static_cast<char>(i)));
  }
  return changes;
}

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<FrameListener>> listener = FrameListener::Listen("127.0.0.1:0");
    ASSERT_TRUE(listener.ok()) << listener.message();
    listener_ = std::move(*listener);
    ASSERT_NE(listener_->port(), 0);
  }

  std::string Address() const { return "127.0.0.1:" + std::to_string(listener_->port()); }

  // Connects a client and accepts its server side.
  void ConnectPair(size_t client_max = kDefaultMaxFrameBytes) {
    Result<std::unique_ptr<FrameConnection>> client =
        FrameConnection::Connect(Address(), 2s, client_max);
    ASSERT_TRUE(client.ok()) << client.message();
    client_ = std::move(*client);
    Result<std::unique_ptr<FrameConnection>> server = listener_->Accept(2s);
    ASSERT_TRUE(server.ok()) << server.message();
    ASSERT_NE(*server, nullptr);
    server_ = std::move(*server);
  }

  std::unique_ptr<FrameConnection> AcceptOne() {
    Result<std::unique_ptr<FrameConnection>> server = listener_->Accept(2s);
    EXPECT_TRUE(server.ok()) << server.message();
    return server.ok() ? std::move(*server) : nullptr;
  }

  std::unique_ptr<FrameListener> listener_;
  std::unique_ptr<FrameConnection> client_;
  std::unique_ptr<FrameConnection> server_;
};

// Receives one frame or fails the test.
Frame ReceiveFrame(FrameConnection& connection, std::chrono::milliseconds timeout = 5s) {
  Result<std::optional<Frame>> frame = connection.Receive(timeout);
  EXPECT_TRUE(frame.ok()) << frame.message();
  if (!frame.ok()) return Frame{FrameType::kError, ""};
  EXPECT_TRUE(frame->has_value()) << "no frame within " << timeout.count() << " ms";
  return frame->has_value() ? std::move(**frame) : Frame{FrameType::kError, ""};
}

// ---- Exchanging frames ------------------------------------------------------------------------

TEST_F(ConnectionTest, HelloWelcomeExchange) {
  ConnectPair();
  Hello hello;
  hello.set_protocol_version(kProtocolVersion);
  hello.set_subscriber_id("replica-1");
  *hello.mutable_resume_from() = PgPosition(0x16B374D848ull);
  ASSERT_TRUE(client_->Send(FrameType::kHello, hello).ok());

  Frame frame = ReceiveFrame(*server_);
  ASSERT_EQ(frame.type, FrameType::kHello);
  Hello received;
  ASSERT_TRUE(ParsePayload(frame, &received).ok());
  EXPECT_EQ(received.subscriber_id(), "replica-1");
  EXPECT_EQ(received.resume_from().value(), "16/B374D848");

  Welcome welcome;
  welcome.set_protocol_version(kProtocolVersion);
  welcome.set_node("pg-a");
  ASSERT_TRUE(server_->Send(FrameType::kWelcome, welcome).ok());
  frame = ReceiveFrame(*client_);
  ASSERT_EQ(frame.type, FrameType::kWelcome);
  Welcome got;
  ASSERT_TRUE(ParsePayload(frame, &got).ok());
  EXPECT_EQ(got.node(), "pg-a");
}

TEST_F(ConnectionTest, PeerNamesAreIpAndPort) {
  ConnectPair();
  EXPECT_EQ(client_->peer(), Address());
  EXPECT_EQ(server_->peer().rfind("127.0.0.1:", 0), 0u) << server_->peer();
  EXPECT_NE(server_->peer(), Address());
}

TEST_F(ConnectionTest, FramesArriveInOrder) {
  ConnectPair();
  for (uint64_t i = 0; i < 500; ++i) ASSERT_TRUE(client_->Send(FrameType::kAck, AckAt(i)).ok());
  for (uint64_t i = 0; i < 500; ++i) {
    Frame frame = ReceiveFrame(*server_);
    Ack ack;
    ASSERT_TRUE(ParsePayload(frame, &ack).ok());
    ASSERT_EQ(ack.position().value(), FormatPgLsn(i));
  }
}

TEST_F(ConnectionTest, LargeChangesFramePasses) {
  ConnectPair();
  const Changes changes = BigChanges(8 << 20, 64);
  ASSERT_GT(changes.ByteSizeLong(), 8u << 20);
  // The frame is bigger than the socket buffers, so the sender blocks until the receiver reads.
  auto sent =
      std::async(std::launch::async, [&] { return client_->Send(FrameType::kChanges, changes); });
  Frame frame = ReceiveFrame(*server_, 20s);
  ASSERT_TRUE(sent.get().ok());
  ASSERT_EQ(frame.type, FrameType::kChanges);
  Changes received;
  ASSERT_TRUE(ParsePayload(frame, &received).ok());
  ASSERT_EQ(received.changes_size(), 64);
  EXPECT_EQ(received.changes(63).row().new_values(1).bytes(), std::string((8 << 20) / 64, '\x3F'));
  EXPECT_EQ(received.SerializeAsString(), changes.SerializeAsString());
}

TEST_F(ConnectionTest, SendRefusesAFrameAboveItsOwnLimit) {
  ConnectPair(1 << 20);
  Status status = client_->Send(FrameType::kChanges, BigChanges(2 << 20, 2));
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.message(), "send Changes frame to " + Address() + ": frame of "))
      << status.message();
  EXPECT_TRUE(Contains(status.message(), "exceeds the maximum of 1048576 (max_frame_bytes)"))
      << status.message();
  // Nothing was written: the connection still works.
  ASSERT_TRUE(client_->Send(FrameType::kAck, AckAt(1)).ok());
  EXPECT_EQ(ReceiveFrame(*server_).type, FrameType::kAck);
}

TEST_F(ConnectionTest, ReceiverRefusesAFrameAboveItsLimit) {
  Result<std::unique_ptr<FrameListener>> small = FrameListener::Listen("127.0.0.1:0", 1 << 20);
  ASSERT_TRUE(small.ok()) << small.message();
  Result<std::unique_ptr<FrameConnection>> client =
      FrameConnection::Connect("127.0.0.1:" + std::to_string((*small)->port()), 2s);
  ASSERT_TRUE(client.ok()) << client.message();
  Result<std::unique_ptr<FrameConnection>> server = (*small)->Accept(2s);
  ASSERT_TRUE(server.ok() && *server) << server.message();

  auto sent = std::async(std::launch::async, [&] {
    return (*client)->Send(FrameType::kChanges, BigChanges(2 << 20, 2));
  });
  Result<std::optional<Frame>> frame = (*server)->Receive(5s);
  ASSERT_FALSE(frame.ok());
  EXPECT_TRUE(Contains(frame.message(), "exceeds the maximum of 1048576 (max_frame_bytes)"))
      << frame.message();
  (*server)->Close();  // a receiver closes on a bad frame; that unblocks the sender
  sent.wait();
}

// ---- Timeouts ---------------------------------------------------------------------------------

TEST_F(ConnectionTest, ReceiveTimesOutWithNothing) {
  ConnectPair();
  const auto start = Clock::now();
  Result<std::optional<Frame>> frame = server_->Receive(150ms);
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(frame.ok()) << frame.message();
  EXPECT_FALSE(frame->has_value());
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(ConnectionTest, ZeroTimeoutPollsWithoutWaiting) {
  ConnectPair();
  Result<std::optional<Frame>> frame = server_->Receive(0ms);
  ASSERT_TRUE(frame.ok()) << frame.message();
  EXPECT_FALSE(frame->has_value());
  ASSERT_TRUE(client_->Send(FrameType::kAck, AckAt(3)).ok());
  EXPECT_EQ(ReceiveFrame(*server_).type, FrameType::kAck);
}

TEST_F(ConnectionTest, PartialFrameTimesOutThenCompletes) {
  RawClient raw(listener_->port());
  ASSERT_TRUE(raw.connected());
  std::unique_ptr<FrameConnection> server = AcceptOne();
  ASSERT_NE(server, nullptr);
  const std::string frame = EncodeFrame(FrameType::kAck, AckAt(9));
  raw.Write(frame.substr(0, 7));
  Result<std::optional<Frame>> first = server->Receive(100ms);
  ASSERT_TRUE(first.ok()) << first.message();
  EXPECT_FALSE(first->has_value());
  raw.Write(frame.substr(7));
  Frame got = ReceiveFrame(*server);
  Ack ack;
  ASSERT_TRUE(ParsePayload(got, &ack).ok());
  EXPECT_EQ(ack.position().value(), "0/9");
}

// ---- Closing ----------------------------------------------------------------------------------

TEST_F(ConnectionTest, PeerCloseIsAnError) {
  ConnectPair();
  server_.reset();
  Result<std::optional<Frame>> frame = client_->Receive(2s);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.message(), "receive from " + Address() + ": the peer closed the connection");
}

TEST_F(ConnectionTest, PeerCloseMidFrameSaysSo) {
  RawClient raw(listener_->port());
  ASSERT_TRUE(raw.connected());
  std::unique_ptr<FrameConnection> server = AcceptOne();
  ASSERT_NE(server, nullptr);
  raw.Write(EncodeFrame(FrameType::kAck, AckAt(9)).substr(0, 10));
  raw.CloseNow();
  Result<std::optional<Frame>> frame = server->Receive(2s);
  ASSERT_FALSE(frame.ok());
  EXPECT_TRUE(Contains(frame.message(),
                       ": the peer closed the connection in the middle of a frame (10 bytes "
                       "received)"))
      << frame.message();
}

TEST_F(ConnectionTest, GarbageFromPeerIsAnError) {
  RawClient raw(listener_->port());
  ASSERT_TRUE(raw.connected());
  std::unique_ptr<FrameConnection> server = AcceptOne();
  ASSERT_NE(server, nullptr);
  raw.Write("GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
  Result<std::optional<Frame>> frame = server->Receive(2s);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.message(), "receive from " + server->peer() +
                                 ": frame of 1195725856 bytes exceeds the maximum of 16777216 "
                                 "(max_frame_bytes); the peer is not a Ferry agent or uses a "
                                 "larger limit");
}

TEST_F(ConnectionTest, CorruptedFrameFromPeerIsAnError) {
  RawClient raw(listener_->port());
  ASSERT_TRUE(raw.connected());
  std::unique_ptr<FrameConnection> server = AcceptOne();
  ASSERT_NE(server, nullptr);
  std::string frame = EncodeFrame(FrameType::kCommit, Commit());
  frame[4] = static_cast<char>(FrameType::kBegin);
  raw.Write(frame);
  Result<std::optional<Frame>> got = server->Receive(2s);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(Contains(got.message(), "CRC mismatch on Begin frame")) << got.message();
}

TEST_F(ConnectionTest, SendAfterPeerCloseFails) {
  ConnectPair();
  server_.reset();
  // The first writes may still land in the kernel buffer before the RST comes back.
  Status status = Status::Ok();
  for (int i = 0; i < 100 && status.ok(); ++i) {
    status = client_->Send(FrameType::kAck, AckAt(i));
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.message(), "send Ack frame to " + Address() + ": "))
      << status.message();
}

TEST_F(ConnectionTest, SendAndReceiveAfterCloseFail) {
  ConnectPair();
  client_->Close();
  client_->Close();  // idempotent
  Status status = client_->Send(FrameType::kAck, AckAt(1));
  EXPECT_EQ(status.message(), "send Ack frame to " + Address() + ": the connection is closed");
  Result<std::optional<Frame>> frame = client_->Receive(1s);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.message(), "receive from " + Address() + ": the connection was closed locally");
  // The peer sees the shutdown as a close.
  Result<std::optional<Frame>> peer = server_->Receive(2s);
  ASSERT_FALSE(peer.ok());
  EXPECT_TRUE(Contains(peer.message(), "the peer closed the connection")) << peer.message();
}

TEST_F(ConnectionTest, CloseFromAnotherThreadWakesABlockedReceive) {
  ConnectPair();
  const auto start = Clock::now();
  auto received = std::async(std::launch::async, [&] { return client_->Receive(30s); });
  std::this_thread::sleep_for(100ms);
  client_->Close();
  ASSERT_EQ(received.wait_for(5s), std::future_status::ready);
  Result<std::optional<Frame>> frame = received.get();
  EXPECT_LT(Clock::now() - start, 5s);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.message(), "receive from " + Address() + ": the connection was closed locally");
}

TEST_F(ConnectionTest, SendBlocksWhenThePeerDoesNotReadAndCloseWakesIt) {
  ConnectPair();
  const Changes chunk = BigChanges(1 << 20, 4);
  std::atomic<int> sent{0};
  auto sender = std::async(std::launch::async, [&] {
    for (;;) {
      Status status = client_->Send(FrameType::kChanges, chunk);
      if (!status.ok()) return status;
      ++sent;
    }
  });
  // Backpressure: the server never reads, so after the socket buffers fill Send must block
  // instead of queueing without bound.
  std::this_thread::sleep_for(500ms);
  const int sent_before_close = sent.load();
  EXPECT_LT(sent_before_close, 64);
  EXPECT_EQ(sender.wait_for(0ms), std::future_status::timeout);
  client_->Close();
  ASSERT_EQ(sender.wait_for(5s), std::future_status::ready);
  Status status = sender.get();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "send Changes frame to " + Address() + ": the connection was closed locally");
}

// ---- Concurrency ------------------------------------------------------------------------------

TEST_F(ConnectionTest, SendWhileAnotherThreadIsBlockedInReceive) {
  ConnectPair();
  auto received = std::async(std::launch::async, [&] { return client_->Receive(10s); });
  std::this_thread::sleep_for(50ms);  // let the receiver block
  for (uint64_t i = 0; i < 200; ++i) ASSERT_TRUE(client_->Send(FrameType::kAck, AckAt(i)).ok());
  for (uint64_t i = 0; i < 200; ++i) {
    Ack ack;
    ASSERT_TRUE(ParsePayload(ReceiveFrame(*server_), &ack).ok());
    ASSERT_EQ(ack.position().value(), FormatPgLsn(i));
  }
  EXPECT_EQ(received.wait_for(0ms), std::future_status::timeout);  // still waiting, untouched

  Heartbeat heartbeat;
  heartbeat.set_source_time_us(123);
  ASSERT_TRUE(server_->Send(FrameType::kHeartbeat, heartbeat).ok());
  Result<std::optional<Frame>> frame = received.get();
  ASSERT_TRUE(frame.ok()) << frame.message();
  ASSERT_TRUE(frame->has_value());
  EXPECT_EQ((*frame)->type, FrameType::kHeartbeat);
}

TEST_F(ConnectionTest, ConcurrentSendersNeverInterleaveFrames) {
  ConnectPair();
  constexpr int kThreads = 4, kFramesEach = 300;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kFramesEach; ++i) {
        // Big enough that one write can be split by the kernel.
        EXPECT_TRUE(client_->Send(FrameType::kChanges, BigChanges(20000 + t, 1)).ok());
      }
    });
  }
  int per_thread[kThreads] = {};
  for (int i = 0; i < kThreads * kFramesEach; ++i) {
    Changes changes;
    ASSERT_TRUE(ParsePayload(ReceiveFrame(*server_), &changes).ok());
    ASSERT_EQ(changes.changes_size(), 1);
    const size_t size = changes.changes(0).row().new_values(1).bytes().size();
    ASSERT_GE(size, 20000u);
    ASSERT_LT(size, 20000u + kThreads);
    ++per_thread[size - 20000];
  }
  for (std::thread& sender : senders) sender.join();
  for (int count : per_thread) EXPECT_EQ(count, kFramesEach);
}

// ---- Connecting and listening -----------------------------------------------------------------

TEST_F(ConnectionTest, ConnectRefusedNamesTheCause) {
  const std::string address = Address();
  listener_.reset();  // nobody listens there any more
  Result<std::unique_ptr<FrameConnection>> connection = FrameConnection::Connect(address, 2s);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.message(), "connect to " + address +
                                      ": Connection refused; is the capture agent running and "
                                      "listening there?");
}

TEST(FrameConnectionTest, ConnectTimesOutAgainstAFullBacklog) {
  // A listener with a backlog of 0 that never accepts: once its queue holds one connection the
  // kernel drops further SYNs, so a connect can only time out.
  const int listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listen_fd, 0), 0);
  socklen_t size = sizeof address;
  ASSERT_EQ(::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  const uint16_t port = ntohs(address.sin_port);
  std::vector<std::unique_ptr<RawClient>> fillers;
  fillers.push_back(std::make_unique<RawClient>(port));

  const std::string target = "127.0.0.1:" + std::to_string(port);
  const auto start = Clock::now();
  Result<std::unique_ptr<FrameConnection>> connection = FrameConnection::Connect(target, 300ms);
  const auto elapsed = Clock::now() - start;
  ::close(listen_fd);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.message(), "connect to " + target +
                                      ": timed out after 300 ms; is the host reachable, and is a "
                                      "firewall dropping the connection?");
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 3s);
}

TEST(FrameConnectionTest, InvalidAddresses) {
  for (const char* address : {"", "localhost", "127.0.0.1:", ":7400", "127.0.0.1:port",
                              "127.0.0.1:70000", "::1:7400", "[::1]7400", "[::1"}) {
    Result<std::unique_ptr<FrameConnection>> connection = FrameConnection::Connect(address, 100ms);
    ASSERT_FALSE(connection.ok()) << address;
    EXPECT_EQ(connection.message(), std::string("connect: invalid address '") + address +
                                        "': expected host:port, e.g. 127.0.0.1:7400 or "
                                        "[::1]:7400");
  }
}

TEST(FrameConnectionTest, UnresolvableHost) {
  Result<std::unique_ptr<FrameConnection>> connection =
      FrameConnection::Connect("no-such-host.invalid:7400", 2s);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(
      connection.message().rfind(
          "connect to no-such-host.invalid:7400: cannot resolve host 'no-such-host.invalid'", 0),
      0u)
      << connection.message();
}

TEST_F(ConnectionTest, AcceptTimesOut) {
  const auto start = Clock::now();
  Result<std::unique_ptr<FrameConnection>> connection = listener_->Accept(150ms);
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(connection.ok()) << connection.message();
  EXPECT_EQ(*connection, nullptr);
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(ConnectionTest, AcceptsSeveralConnections) {
  std::vector<std::unique_ptr<FrameConnection>> clients, servers;
  for (int i = 0; i < 3; ++i) {
    Result<std::unique_ptr<FrameConnection>> client = FrameConnection::Connect(Address(), 2s);
    ASSERT_TRUE(client.ok()) << client.message();
    clients.push_back(std::move(*client));
  }
  for (int i = 0; i < 3; ++i) {
    servers.push_back(AcceptOne());
    ASSERT_NE(servers.back(), nullptr);
  }
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(clients[i]->Send(FrameType::kAck, AckAt(i)).ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ReceiveFrame(*servers[i]).type, FrameType::kAck);
}

TEST_F(ConnectionTest, ListenOnAPortInUseFails) {
  Result<std::unique_ptr<FrameListener>> second = FrameListener::Listen(Address());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.message(), "listen on " + Address() +
                                  ": Address already in use; another process (perhaps another "
                                  "capture agent) already listens on that port");
}

TEST(FrameListenerTest, ListenOnAnInvalidAddressFails) {
  Result<std::unique_ptr<FrameListener>> listener = FrameListener::Listen("7400");
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.message(),
            "listen (use 0.0.0.0:PORT for all interfaces): invalid address '7400': expected "
            "host:port, e.g. 127.0.0.1:7400 or [::1]:7400");
}

TEST_F(ConnectionTest, CloseFromAnotherThreadWakesABlockedAccept) {
  auto accepted = std::async(std::launch::async, [&] { return listener_->Accept(30s); });
  std::this_thread::sleep_for(100ms);
  listener_->Close();
  ASSERT_EQ(accepted.wait_for(5s), std::future_status::ready);
  Result<std::unique_ptr<FrameConnection>> connection = accepted.get();
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.message(), "accept on " + Address() + ": the listener was closed");
}

}  // namespace
}  // namespace ferry::wire
