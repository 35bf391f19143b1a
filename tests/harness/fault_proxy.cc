#include "tests/harness/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry::testing {
namespace {

constexpr int kPollMs = 50;
constexpr size_t kChunkBytes = 16 * 1024;

bool WriteAll(int fd, const char* bytes, size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(fd, bytes, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes += sent;
    size -= static_cast<size_t>(sent);
  }
  return true;
}

// True when `fd` has something to read (or has closed) within one poll interval.
bool Readable(int fd) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, kPollMs) > 0;
}

int ConnectLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

// One proxied connection. The descriptors are closed only when both pumps are done with it (and,
// for a half-open link, when the proxy ends), so a pump never touches a descriptor number that
// was closed and reused.
struct FaultProxy::Link {
  int apply_fd = -1;
  int capture_fd = -1;
  std::atomic<bool> cut{false};

  ~Link() {
    if (apply_fd >= 0) ::close(apply_fd);
    if (capture_fd >= 0) ::close(capture_fd);
  }
  // With linger 0, the close that follows sends RST instead of FIN.
  void ResetOnClose() {
    linger abort{1, 0};
    ::setsockopt(apply_fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    ::setsockopt(capture_fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
};

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(uint16_t target_port) {
  std::unique_ptr<FaultProxy> proxy(new FaultProxy());
  proxy->target_port_ = target_port;
  proxy->listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (proxy->listen_fd_ < 0) return Status::Error(std::string("socket: ") + std::strerror(errno));
  const int on = 1;
  ::setsockopt(proxy->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(proxy->listen_fd_, 16) != 0 ||
      ::getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Status::Error(std::string("fault proxy listen: ") + std::strerror(errno));
  }
  proxy->port_ = ntohs(address.sin_port);
  proxy->acceptor_ = std::thread([raw = proxy.get()] { raw->AcceptLoop(); });
  return proxy;
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> pumps;
  {
    std::lock_guard lock(threads_mutex_);
    pumps.swap(pumps_);
  }
  for (std::thread& pump : pumps) pump.join();
  parked_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void FaultProxy::Inject(Fault fault, std::chrono::milliseconds delay) {
  delay_ms_ = delay.count();
  fault_ = fault;
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    if (!Readable(listen_fd_)) continue;
    const int apply_fd = ::accept(listen_fd_, nullptr, nullptr);
    if (apply_fd < 0) continue;
    auto link = std::make_shared<Link>();
    link->apply_fd = apply_fd;
    link->capture_fd = ConnectLoopback(target_port_);
    if (link->capture_fd < 0) continue;  // the capture agent is down: the apply side sees a close
    ++connections_;
    std::lock_guard lock(threads_mutex_);
    pumps_.emplace_back([this, link] { Pump(link, /*downstream=*/true); });
    pumps_.emplace_back([this, link] { Pump(link, /*downstream=*/false); });
  }
}

void FaultProxy::Pump(std::shared_ptr<Link> link, bool downstream) {
  const int from = downstream ? link->capture_fd : link->apply_fd;
  const int to = downstream ? link->apply_fd : link->capture_fd;
  char buffer[kChunkBytes];
  while (!stopping_ && !link->cut) {
    // A stall reads nothing, so the sender's socket buffer fills and it blocks, as on a network
    // that stopped delivering.
    if (downstream && fault_ == Fault::kStall) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
      continue;
    }
    if (!Readable(from)) continue;
    const ssize_t got = ::recv(from, buffer, sizeof buffer, 0);
    if (got <= 0) break;
    const bool forwarded = downstream ? ForwardDownstream(link, buffer, static_cast<size_t>(got))
                                      : WriteAll(to, buffer, static_cast<size_t>(got));
    if (!forwarded) break;
  }
  // One side ended: pass the close on (a cut link was already dealt with).
  if (!link->cut.exchange(true)) {
    ::shutdown(link->apply_fd, SHUT_RDWR);
    ::shutdown(link->capture_fd, SHUT_RDWR);
  }
}

bool FaultProxy::ForwardDownstream(const std::shared_ptr<Link>& link, char* bytes, size_t size) {
  Fault fault = fault_;
  if (fault == Fault::kDelay) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));
    return WriteAll(link->apply_fd, bytes, size);
  }
  const bool once = fault == Fault::kReset || fault == Fault::kTruncate ||
                    fault == Fault::kFlipByte || fault == Fault::kHalfOpen;
  // A one-time fault hits one chunk of one connection: whichever pump claims it first.
  if (!once || !fault_.compare_exchange_strong(fault, Fault::kNone)) {
    return WriteAll(link->apply_fd, bytes, size);
  }
  ++applied_;
  switch (fault) {
    case Fault::kFlipByte:
      bytes[size / 2] ^= 0x10;
      return WriteAll(link->apply_fd, bytes, size);
    case Fault::kReset:
      (void)WriteAll(link->apply_fd, bytes, size / 2);
      link->ResetOnClose();
      link->cut = true;  // the descriptors close (with RST) when the pumps let go of the link
      return false;
    case Fault::kTruncate:
      (void)WriteAll(link->apply_fd, bytes, size / 2);
      link->cut = true;
      ::shutdown(link->apply_fd, SHUT_RDWR);
      ::shutdown(link->capture_fd, SHUT_RDWR);
      return false;
    case Fault::kHalfOpen: {
      // The capture agent sees the connection end; the apply agent sees nothing at all, until
      // its own silence limit says the connection is dead.
      link->cut = true;
      ::shutdown(link->capture_fd, SHUT_RDWR);
      std::lock_guard lock(threads_mutex_);
      parked_.push_back(link);
      return false;
    }
    default:
      return WriteAll(link->apply_fd, bytes, size);
  }
}

}  // namespace ferry::testing
