#include "common/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ferry {
namespace {

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

SystemdNotifier SystemdNotifier::FromEnvironment() {
  std::chrono::microseconds watchdog{0};
  const std::string usec = Environment("WATCHDOG_USEC");
  const std::string pid = Environment("WATCHDOG_PID");
  const bool for_us = pid.empty() || pid == std::to_string(getpid());
  if (!usec.empty() && for_us)
    watchdog = std::chrono::microseconds(std::strtoll(usec.c_str(), nullptr, 10));
  if (watchdog.count() < 0) watchdog = std::chrono::microseconds(0);
  return SystemdNotifier(Environment("NOTIFY_SOCKET"), watchdog);
}

SystemdNotifier::SystemdNotifier(std::string socket_path, std::chrono::microseconds watchdog)
    : socket_path_(std::move(socket_path)), watchdog_(watchdog) {}

Status SystemdNotifier::Notify(const std::string& state) const {
  if (!enabled()) return Status::Ok();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(address.sun_path)) {
    return Status::Error("NOTIFY_SOCKET is longer than a unix socket path may be");
  }
  std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // an abstract socket
  const socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Error(std::string("notify systemd: socket: ") + std::strerror(errno));
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                              reinterpret_cast<const sockaddr*>(&address), length);
  const int error = errno;
  close(fd);
  if (sent < 0) {
    return Status::Error("notify systemd at " + socket_path_ + ": " + std::strerror(error));
  }
  return Status::Ok();
}

WatchdogPinger::WatchdogPinger(const SystemdNotifier& notifier, std::function<bool()> alive) {
  if (!notifier.enabled() || notifier.watchdog_interval().count() <= 0) return;
  thread_ = std::thread([this, notifier, alive = std::move(alive)] { Run(notifier, alive); });
}

WatchdogPinger::~WatchdogPinger() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WatchdogPinger::Run(const SystemdNotifier& notifier, const std::function<bool()>& alive) {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (alive()) (void)notifier.Notify("WATCHDOG=1");
    lock.lock();
    wake_.wait_for(lock, notifier.watchdog_interval(), [this] { return stopping_; });
  }
}

}  // namespace ferry
