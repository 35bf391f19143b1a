// A TCP proxy that stands between an apply agent and its capture agent and injects the faults a
// real network has: delay, a stall, a reset or a close in the middle of a frame, a flipped bit,
// a half-open connection. Tests only. Each accepted connection is forwarded to the target port
// by two pumps, one per direction; faults act on the capture -> apply direction (the stream),
// where a fault is hardest to survive.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"

namespace ferry::testing {

class FaultProxy {
 public:
  enum class Fault {
    kNone,
    kDelay,     // every chunk waits `delay` before it is forwarded, until cleared
    kStall,     // nothing is forwarded (both connections stay open) until cleared
    kReset,     // once: half of the next chunk, then both connections reset (RST)
    kTruncate,  // once: half of the next chunk, then both connections closed (FIN)
    kFlipByte,  // once: one bit of the next chunk flipped
    kHalfOpen,  // once: the capture side closed, the apply side left open and silent
  };

  // Listens on a free port of 127.0.0.1 and forwards to 127.0.0.1:`target_port`.
  static Result<std::unique_ptr<FaultProxy>> Start(uint16_t target_port);
  ~FaultProxy();

  uint16_t port() const { return port_; }
  void Inject(Fault fault, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  void Clear() { Inject(Fault::kNone); }
  // Once-only faults applied so far (a kReset counts when its connection is cut).
  uint64_t faults_applied() const { return applied_; }
  uint64_t connections() const { return connections_; }

 private:
  struct Link;
  FaultProxy() = default;
  void AcceptLoop();
  void Pump(std::shared_ptr<Link> link, bool downstream);
  // Forwards `bytes` from the capture agent to the apply agent as the current fault says; false
  // once the link is cut.
  bool ForwardDownstream(const std::shared_ptr<Link>& link, char* bytes, size_t size);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  uint16_t target_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> connections_{0};
  std::thread acceptor_;
  std::mutex threads_mutex_;
  std::vector<std::thread> pumps_;
  std::vector<std::shared_ptr<Link>> parked_;  // half-open links, kept open until the end
};

}  // namespace ferry::testing
