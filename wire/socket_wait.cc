#include "wire/socket_wait.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>

namespace ferry::wire {
namespace {

// Milliseconds left until `deadline`, rounded up so a wait never ends before it, clamped for poll
// (-1, no limit, for kNoDeadline).
int PollMillis(SocketClock::time_point deadline) {
  if (deadline == kNoDeadline) return -1;
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - SocketClock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

}  // namespace

int WaitForSocket(int fd, short events, SocketClock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    const int ready = ::poll(&pfd, 1, PollMillis(deadline));
    if (ready > 0) return pfd.revents != 0 ? pfd.revents : events;
    if (ready == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

SocketClock::time_point DeadlineAfter(std::chrono::milliseconds timeout) {
  return SocketClock::now() + std::max(timeout, std::chrono::milliseconds(0));
}

}  // namespace ferry::wire
