#include "wire/connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

#include "wire/socket_wait.h"

namespace ferry::wire {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = SocketClock;

// One read pulls at most this much from the kernel; big enough that an 8 MiB Changes frame takes
// a few dozen reads, small enough to keep per-connection memory modest.
constexpr size_t kReadChunkBytes = 256 * 1024;

struct HostPort {
  std::string host;
  std::string port;
};

// Splits "host:port" or "[v6-address]:port".
Result<HostPort> SplitAddress(const std::string& address) {
  const auto invalid = [&address] {
    return Status::Error("invalid address '" + address +
                         "': expected host:port, e.g. 127.0.0.1:7400 or [::1]:7400");
  };
  HostPort out;
  size_t colon;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return invalid();
    }
    out.host = address.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = address.rfind(':');
    if (colon == std::string::npos) return invalid();
    out.host = address.substr(0, colon);
    if (out.host.find(':') != std::string::npos) return invalid();  // bare IPv6 needs brackets
  }
  out.port = address.substr(colon + 1);
  if (out.host.empty() || out.port.empty() || out.port.size() > 5 ||
      out.port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(out.port) > 65535) {
    return invalid();
  }
  return out;
}

std::string EndpointText(const tcp::endpoint& endpoint) {
  const std::string ip = endpoint.address().to_string();
  const std::string port = std::to_string(endpoint.port());
  return endpoint.address().is_v6() ? "[" + ip + "]:" + port : ip + ":" + port;
}

boost::system::error_code LastError() {
  return boost::system::error_code(errno, boost::system::system_category());
}

// Connects `socket` to `endpoint` before `deadline`. Asio's synchronous connect waits without a
// limit, so this starts a non-blocking connect and polls for its completion.
boost::system::error_code ConnectBefore(tcp::socket& socket, const tcp::endpoint& endpoint,
                                        Clock::time_point deadline) {
  boost::system::error_code ec;
  socket.close(ec);
  socket.open(endpoint.protocol(), ec);
  if (ec) return ec;
  socket.non_blocking(true, ec);
  if (ec) return ec;
  const int fd = socket.native_handle();
  if (::connect(fd, endpoint.data(), endpoint.size()) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) return LastError();
    const int ready = WaitForSocket(fd, POLLOUT, deadline);
    if (ready == 0) return asio::error::timed_out;
    if (ready < 0) return LastError();
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return LastError();
    if (error != 0) return boost::system::error_code(error, boost::system::system_category());
  }
  socket.non_blocking(false, ec);
  return ec;
}

std::string ConnectHint(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused) {
    return "; is the capture agent running and listening there?";
  }
  if (ec == asio::error::timed_out) {
    return "; is the host reachable, and is a firewall dropping the connection?";
  }
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) {
    return "; check the address and the network route to it";
  }
  return "";
}

}  // namespace

// ---- FrameConnection --------------------------------------------------------------------------

struct FrameConnection::Impl {
  explicit Impl(size_t max_frame_bytes)
      : socket(io), max_frame_bytes(max_frame_bytes), decoder(max_frame_bytes) {}

  // Declared before the socket: the socket must be destroyed first.
  asio::io_context io;
  tcp::socket socket;
  std::string peer;
  const size_t max_frame_bytes;
  std::atomic<bool> closed{false};

  std::mutex send_mutex;  // one frame at a time on the wire

  std::mutex receive_mutex;  // guards the receiving state below
  FrameDecoder decoder;
  std::vector<char> read_buffer;

  // Set on a TLS connection, before any other thread can see it; reads and writes go through it.
  std::unique_ptr<TlsSession> tls;
};

namespace {

// Finishes a freshly connected or accepted socket: no Nagle delay (frames are written whole, and
// an Ack or Heartbeat must not wait for a timer), and the peer's name for every later message.
// With `tls`, the TLS session starts over the socket (`host`: the name a client verifies).
Result<std::unique_ptr<FrameConnection>> MakeConnection(std::unique_ptr<FrameConnection::Impl> impl,
                                                        std::shared_ptr<const TlsContext> tls,
                                                        const std::string& host) {
  boost::system::error_code ec;
  impl->socket.set_option(tcp::no_delay(true), ec);
  if (ec) return Status::Error("set TCP_NODELAY: " + ec.message());
  const tcp::endpoint remote = impl->socket.remote_endpoint(ec);
  if (ec) return Status::Error("read peer address: " + ec.message());
  impl->peer = EndpointText(remote);
  if (tls != nullptr) {
    Result<std::unique_ptr<TlsSession>> session =
        TlsSession::Start(std::move(tls), impl->socket.native_handle(), host);
    if (!session.ok()) return session.status();
    impl->tls = std::move(session).value();
  }
  return std::make_unique<FrameConnection>(std::move(impl));
}

Result<std::unique_ptr<FrameConnection>> ConnectUnguarded(const std::string& address,
                                                          std::chrono::milliseconds timeout,
                                                          size_t max_frame_bytes,
                                                          std::shared_ptr<const TlsContext> tls) {
  Result<HostPort> host_port = SplitAddress(address);
  if (!host_port.ok()) return host_port.status().WithContext("connect");
  const Clock::time_point deadline = DeadlineAfter(timeout);

  auto impl = std::make_unique<FrameConnection::Impl>(max_frame_bytes);
  boost::system::error_code ec;
  // getaddrinfo has no timeout of its own; numeric addresses and /etc/hosts names return at once.
  tcp::resolver resolver(impl->io);
  const tcp::resolver::results_type endpoints =
      resolver.resolve(host_port->host, host_port->port, ec);
  if (ec) {
    return Status::Error("connect to " + address + ": cannot resolve host '" + host_port->host +
                         "': " + ec.message() + "; check the host name");
  }
  for (const auto& entry : endpoints) {
    ec = ConnectBefore(impl->socket, entry.endpoint(), deadline);
    if (!ec || ec == asio::error::timed_out) break;
  }
  if (!ec && endpoints.empty()) ec = asio::error::host_not_found;
  if (ec == asio::error::timed_out) {
    return Status::Error("connect to " + address + ": timed out after " +
                         std::to_string(timeout.count()) + " ms" + ConnectHint(ec));
  }
  if (ec) return Status::Error("connect to " + address + ": " + ec.message() + ConnectHint(ec));
  FrameConnection::Impl& made = *impl;
  Result<std::unique_ptr<FrameConnection>> connection =
      MakeConnection(std::move(impl), std::move(tls), host_port->host);
  if (!connection.ok()) return connection.status().WithContext("connect to " + address);
  if (made.tls != nullptr) {
    Status shaken = made.tls->Handshake(deadline);
    if (!shaken.ok()) return shaken.WithContext("connect to " + address);
  }
  return connection;
}

}  // namespace

Result<std::unique_ptr<FrameConnection>> FrameConnection::Connect(
    const std::string& address, std::chrono::milliseconds timeout, size_t max_frame_bytes,
    std::shared_ptr<const TlsContext> tls) {
  try {
    return ConnectUnguarded(address, timeout, max_frame_bytes, std::move(tls));
  } catch (const std::exception& e) {  // e.g. io_context setup failing for lack of descriptors
    return Status::Error("connect to " + address + ": " + e.what());
  }
}

FrameConnection::FrameConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FrameConnection::~FrameConnection() {
  Close();
  // Only now, with no other thread left inside Send or Receive, is the descriptor released.
  boost::system::error_code ignored;
  impl_->socket.close(ignored);
}

void FrameConnection::SetMaxReceiveBytes(size_t bytes) {
  impl_->decoder.set_max_frame_bytes(bytes);
}

Status FrameConnection::Send(FrameType type, const google::protobuf::MessageLite& message) {
  const std::string what = "send " + FrameTypeName(type) + " frame to " + impl_->peer;
  // Check the size before serializing: an oversized frame would only be refused by the peer.
  const size_t length = 1 + message.ByteSizeLong() + kFrameTrailerBytes;
  if (length > impl_->max_frame_bytes) {
    return Status::Error(what + ": frame of " + std::to_string(length) +
                         " bytes exceeds the maximum of " + std::to_string(impl_->max_frame_bytes) +
                         " (max_frame_bytes): a row this large needs a larger max_frame_bytes "
                         "in both agents' configs");
  }
  const std::string frame = EncodeFrame(type, message);

  std::lock_guard<std::mutex> lock(impl_->send_mutex);
  if (impl_->closed) return Status::Error(what + ": the connection is closed");
  if (impl_->tls != nullptr) {
    Status sent = SendTls(frame);
    if (!sent.ok() && impl_->closed) {
      return Status::Error(what + ": the connection was closed locally");
    }
    return sent.WithContext(what);
  }
  boost::system::error_code ec;
  asio::write(impl_->socket, asio::buffer(frame), ec);
  if (ec) {
    if (impl_->closed) return Status::Error(what + ": the connection was closed locally");
    return Status::Error(what + ": " + ec.message());
  }
  return Status::Ok();
}

Result<std::optional<Frame>> FrameConnection::Receive(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  const Clock::time_point deadline = DeadlineAfter(timeout);
  const std::string what = "receive from " + impl.peer;
  std::lock_guard<std::mutex> lock(impl.receive_mutex);
  if (impl.read_buffer.empty()) impl.read_buffer.resize(kReadChunkBytes);
  for (;;) {
    // Frames already buffered are handed out before touching the socket again.
    Result<std::optional<Frame>> next = impl.decoder.Next();
    if (!next.ok()) return next.status().WithContext(what);
    if (next->has_value()) return next;
    if (impl.closed) return Status::Error(what + ": the connection was closed locally");

    Result<size_t> received = impl.tls != nullptr ? ReadTls(deadline) : ReadPlain(deadline);
    if (impl.closed) return Status::Error(what + ": the connection was closed locally");
    if (!received.ok()) return received.status().WithContext(what);
    if (*received == 0) return std::optional<Frame>();
    impl.decoder.Feed(std::string_view(impl.read_buffer.data(), *received));
  }
}

// What the peer closing the connection means to the stream, from where it left the decoder.
Status FrameConnection::PeerClosed() const {
  const size_t partial = impl_->decoder.buffered();
  return Status::Error("the peer closed the connection" +
                       (partial == 0 ? std::string()
                                     : " in the middle of a frame (" + std::to_string(partial) +
                                           " bytes received)"));
}

// Reads what the socket has into read_buffer; 0 when nothing came by `deadline`.
Result<size_t> FrameConnection::ReadPlain(std::chrono::steady_clock::time_point deadline) {
  Impl& impl = *impl_;
  const int ready = WaitForSocket(impl.socket.native_handle(), POLLIN, deadline);
  if (ready == 0) return size_t{0};
  if (ready < 0) return Status::Error(std::string("poll: ") + std::strerror(errno));
  boost::system::error_code ec;
  const size_t n = impl.socket.read_some(asio::buffer(impl.read_buffer), ec);
  if (ec == asio::error::eof) return PeerClosed();
  if (ec) return Status::Error(ec.message());
  return n;
}

// As ReadPlain, through TLS; a server's handshake happens in its first read.
Result<size_t> FrameConnection::ReadTls(std::chrono::steady_clock::time_point deadline) {
  Impl& impl = *impl_;
  if (!impl.tls->handshake_done()) FERRY_RETURN_IF_ERROR(impl.tls->Handshake(deadline));
  Result<TlsSession::ReadOutcome> read =
      impl.tls->Read(impl.read_buffer.data(), impl.read_buffer.size(), deadline);
  if (!read.ok()) return read.status();
  if (read->peer_closed) return PeerClosed();
  return read->bytes;
}

// A server that sends before it has received (e.g. to refuse a connection) shakes hands here,
// within kSendHandshakeTimeout: a peer that never answers must not hold the sender.
Status FrameConnection::SendTls(const std::string& frame) {
  Impl& impl = *impl_;
  if (!impl.tls->handshake_done()) {
    FERRY_RETURN_IF_ERROR(impl.tls->Handshake(DeadlineAfter(kSendHandshakeTimeout)));
  }
  return impl.tls->Write(frame);
}

bool FrameConnection::tls() const { return impl_->tls != nullptr; }

std::string FrameConnection::PeerCertificateName() const {
  return impl_->tls != nullptr ? impl_->tls->PeerCommonName() : "";
}

void FrameConnection::Close() {
  impl_->closed = true;
  // shutdown(), not close(): another thread may be inside poll() or send() on this descriptor,
  // and shutdown wakes it without freeing a number the kernel could hand to a new socket.
  boost::system::error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
}

const std::string& FrameConnection::peer() const { return impl_->peer; }

// ---- FrameListener ----------------------------------------------------------------------------

struct FrameListener::Impl {
  explicit Impl(size_t max_frame_bytes) : acceptor(io), max_frame_bytes(max_frame_bytes) {}

  asio::io_context io;
  tcp::acceptor acceptor;
  std::string address;
  uint16_t port = 0;
  const size_t max_frame_bytes;
  std::shared_ptr<const TlsContext> tls;  // set: every connection is TLS
  std::atomic<bool> closed{false};
  std::mutex accept_mutex;
};

namespace {

Result<std::unique_ptr<FrameListener>> ListenUnguarded(const std::string& address,
                                                       size_t max_frame_bytes,
                                                       std::shared_ptr<const TlsContext> tls) {
  const std::string what = "listen on " + address;
  Result<HostPort> host_port = SplitAddress(address);
  if (!host_port.ok()) {
    return host_port.status().WithContext("listen (use 0.0.0.0:PORT for all interfaces)");
  }
  auto impl = std::make_unique<FrameListener::Impl>(max_frame_bytes);
  impl->tls = std::move(tls);
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  const tcp::resolver::results_type endpoints =
      resolver.resolve(host_port->host, host_port->port,
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Status::Error(what + ": cannot resolve host '" + host_port->host +
                         "': " + (ec ? ec.message() : "no addresses") + "; check the host name");
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& acceptor = impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return Status::Error(what + ": " + ec.message());
  // A restarted agent must be able to rebind while old connections sit in TIME_WAIT.
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) {
    std::string hint;
    if (ec == asio::error::address_in_use) {
      hint = "; another process (perhaps another capture agent) already listens on that port";
    }
    return Status::Error(what + ": " + ec.message() + hint);
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Error(what + ": " + ec.message());
  // Non-blocking so that a client that resets between poll() and accept() cannot hang Accept.
  acceptor.non_blocking(true, ec);
  if (ec) return Status::Error(what + ": " + ec.message());
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  if (ec) return Status::Error(what + ": " + ec.message());
  impl->port = bound.port();
  impl->address = EndpointText(bound);  // with the real port when port 0 was asked for
  return std::make_unique<FrameListener>(std::move(impl));
}

bool IsTransientAcceptError(const boost::system::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again ||
         ec == asio::error::connection_aborted || ec == asio::error::interrupted;
}

}  // namespace

Result<std::unique_ptr<FrameListener>> FrameListener::Listen(
    const std::string& address, size_t max_frame_bytes, std::shared_ptr<const TlsContext> tls) {
  try {
    return ListenUnguarded(address, max_frame_bytes, std::move(tls));
  } catch (const std::exception& e) {
    return Status::Error("listen on " + address + ": " + e.what());
  }
}

FrameListener::FrameListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FrameListener::~FrameListener() {
  Close();
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

Result<std::unique_ptr<FrameConnection>> FrameListener::Accept(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  const Clock::time_point deadline = DeadlineAfter(timeout);
  const std::string what = "accept on " + impl.address;
  std::lock_guard<std::mutex> lock(impl.accept_mutex);
  try {
    for (;;) {
      if (impl.closed) return Status::Error(what + ": the listener was closed");
      const int ready = WaitForSocket(impl.acceptor.native_handle(), POLLIN, deadline);
      if (ready == 0) return std::unique_ptr<FrameConnection>();
      if (ready < 0) return Status::Error(what + ": poll: " + std::strerror(errno));
      if (impl.closed) return Status::Error(what + ": the listener was closed");

      auto connection = std::make_unique<FrameConnection::Impl>(impl.max_frame_bytes);
      boost::system::error_code ec;
      impl.acceptor.accept(connection->socket, ec);
      if (IsTransientAcceptError(ec)) continue;
      if (ec) return Status::Error(what + ": " + ec.message());
      Result<std::unique_ptr<FrameConnection>> made =
          MakeConnection(std::move(connection), impl.tls, "");
      if (!made.ok()) return made.status().WithContext(what);
      return made;
    }
  } catch (const std::exception& e) {
    return Status::Error(what + ": " + e.what());
  }
}

uint16_t FrameListener::port() const { return impl_->port; }

void FrameListener::Close() {
  impl_->closed = true;
  // As with connections: shutdown wakes a thread polling in Accept; the destructor closes.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
}

}  // namespace ferry::wire
