// Blocking frame transport over a TCP socket (Boost.Asio underneath).
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

namespace ferry::wire {

class FrameConnection {
 public:
  // Connects to "host:port" (IPv6 as "[::1]:7400") within `timeout`. Name resolution itself is
  // not bounded by the timeout (getaddrinfo has none); numeric addresses resolve at once.
  static Result<std::unique_ptr<FrameConnection>> Connect(
      const std::string& address, std::chrono::milliseconds timeout,
      size_t max_frame_bytes = kDefaultMaxFrameBytes);
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

  struct Impl;
  explicit FrameConnection(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// A listening TCP socket that hands out FrameConnections.
class FrameListener {
 public:
  // Binds "host:port" (port 0 picks a free port).
  static Result<std::unique_ptr<FrameListener>> Listen(
      const std::string& address, size_t max_frame_bytes = kDefaultMaxFrameBytes);
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
