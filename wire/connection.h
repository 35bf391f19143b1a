// Blocking frame transport over a TCP socket (Boost.Asio underneath), optionally TLS (wire/tls.h).
// Invariants: Send writes whole frames or fails; it is safe to call Send from one thread while
// another thread is blocked in Receive on the same connection; Close() from any thread wakes both.
// Nothing buffers without bound: Send blocks while the peer is not reading, which is how
// backpressure reaches the capture agent's source reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "wire/frame.h"
#include "wire/tls.h"

namespace ferry::wire {

class FrameConnection {
 public:
  // Connects to "host:port" (IPv6 as "[::1]:7400") within `timeout`. Name resolution itself is
  // not bounded by the timeout (getaddrinfo has none); numeric addresses resolve at once.
  // With `tls` (a client context), the connection is TLS, its handshake done within `timeout`
  // too: the capture agent's certificate verified against the context's CAs and name (the
  // address's host when the context names none).
  static Result<std::unique_ptr<FrameConnection>> Connect(
      const std::string& address, std::chrono::milliseconds timeout,
      size_t max_frame_bytes = kDefaultMaxFrameBytes,
      std::shared_ptr<const TlsContext> tls = nullptr);
  ~FrameConnection();
  FrameConnection(const FrameConnection&) = delete;
  FrameConnection& operator=(const FrameConnection&) = delete;

  // Writes one whole frame; blocks while the peer is not reading. Refuses a frame larger than
  // max_frame_bytes without writing anything. Thread-safe against other Send calls.
  Status Send(FrameType type, const google::protobuf::MessageLite& message);
  // The next frame; nullopt if none arrived within `timeout`; an error when the peer closed the
  // connection, the connection broke, or the bytes are not a valid frame.
  Result<std::optional<Frame>> Receive(std::chrono::milliseconds timeout);
  // The largest frame Receive accepts from now on; Send's limit stays. A server keeps it small
  // until the peer has authenticated, so that a stranger cannot make it hold a large buffer.
  // Call from the thread that receives.
  void SetMaxReceiveBytes(size_t bytes);
  // Shuts the socket down; pending and later Send/Receive calls fail. Idempotent and callable
  // from any thread; the descriptor itself is released by the destructor.
  void Close();
  // "ip:port" of the other side, for logs.
  const std::string& peer() const;
  // Whether the connection is TLS.
  bool tls() const;
  // The common name of the certificate the peer presented and the context verified (mutual
  // TLS); empty on plain TCP or when it presented none. Valid once a frame was received.
  std::string PeerCertificateName() const;

  struct Impl;
  explicit FrameConnection(std::unique_ptr<Impl> impl);

 private:
  static constexpr std::chrono::seconds kSendHandshakeTimeout{10};

  Result<size_t> ReadPlain(std::chrono::steady_clock::time_point deadline);
  Result<size_t> ReadTls(std::chrono::steady_clock::time_point deadline);
  Status SendTls(const std::string& frame);
  Status PeerClosed() const;

  std::unique_ptr<Impl> impl_;
};

// A listening TCP socket that hands out FrameConnections.
class FrameListener {
 public:
  // Binds "host:port" (port 0 picks a free port). With `tls` (a server context), every
  // connection is TLS; its handshake happens in the first Receive (or Send), in the thread that
  // serves it, bounded by that call's timeout (10 s for a Send), so that a slow or silent peer
  // never holds up Accept.
  static Result<std::unique_ptr<FrameListener>> Listen(
      const std::string& address, size_t max_frame_bytes = kDefaultMaxFrameBytes,
      std::shared_ptr<const TlsContext> tls = nullptr);
  ~FrameListener();
  // The next connection; nullptr if none arrived within `timeout`.
  Result<std::unique_ptr<FrameConnection>> Accept(std::chrono::milliseconds timeout);
  // The bound port (the real one when port 0 was asked for).
  uint16_t port() const;
  // Stops listening; wakes a thread blocked in Accept, which then fails. Callable from any thread.
  void Close();

  struct Impl;
  explicit FrameListener(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::wire
