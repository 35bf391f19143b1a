// How long an apply stream waits before it connects again after a failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace ferry::apply {

// Exponential back-off with jitter: the n-th wait since the last success is drawn between half
// and all of min(first * 2^(n-1), cap). A target that is down, or a transaction that fails the
// same way each time, is then retried a few times quickly and after that at most once per `cap`,
// instead of every `first` forever; the jitter keeps several agents that failed together (their
// upstream restarted) from reconnecting in step. Reset() after the stream applies again.
class ReconnectBackoff {
 public:
  // `seed` makes the draws reproducible in tests; each stream seeds its own generator (no
  // state shared between threads).
  ReconnectBackoff(std::chrono::milliseconds first, std::chrono::milliseconds cap, uint64_t seed);

  std::chrono::milliseconds Next();
  void Reset() { failures_ = 0; }
  uint64_t failures() const { return failures_; }  // since the last Reset

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds cap_;
  uint64_t failures_ = 0;
  std::mt19937_64 random_;
};

}  // namespace ferry::apply
