// Waiting on a socket with a deadline: the one primitive the blocking transports share
// (wire/connection.cc, wire/tls.cc). Asio's synchronous operations ignore SO_RCVTIMEO, and
// OpenSSL on a non-blocking socket only says what it wants, so every wait goes through poll().
#pragma once

#include <chrono>

namespace ferry::wire {

using SocketClock = std::chrono::steady_clock;

// A deadline that never comes, for waits that end only when the socket is ready or shut down.
inline constexpr SocketClock::time_point kNoDeadline = SocketClock::time_point::max();

// Waits until `fd` reports one of `events` (POLLIN, POLLOUT) or `deadline` passes. Returns the
// events that occurred (errors and hang-ups included), 0 on timeout, or -1 with errno set.
int WaitForSocket(int fd, short events, SocketClock::time_point deadline);

// `timeout` from now; a negative timeout is now.
SocketClock::time_point DeadlineAfter(std::chrono::milliseconds timeout);

}  // namespace ferry::wire
