// The service manager's notification protocol (sd_notify(3)), spoken directly rather than through
// libsystemd: one datagram per state change to the unix socket named by $NOTIFY_SOCKET. Without
// that variable (not started by systemd with Type=notify) every call does nothing, so the agents
// call it unconditionally.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace ferry {

class SystemdNotifier {
 public:
  // From $NOTIFY_SOCKET and $WATCHDOG_USEC (ignored when $WATCHDOG_PID names another process).
  static SystemdNotifier FromEnvironment();
  // `socket_path`: a file system path, or "@name" for an abstract socket; "" disables.
  // `watchdog`: the timeout systemd enforces (WatchdogSec=), zero for none.
  SystemdNotifier(std::string socket_path, std::chrono::microseconds watchdog);

  bool enabled() const { return !socket_path_.empty(); }
  // Sends "READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=..." (several as lines of one message).
  Status Notify(const std::string& state) const;
  // How often to send WATCHDOG=1: half the timeout, as sd_watchdog_enabled(3) advises; zero
  // when systemd expects no pings.
  std::chrono::microseconds watchdog_interval() const { return watchdog_ / 2; }

 private:
  std::string socket_path_;
  std::chrono::microseconds watchdog_;
};

// Sends WATCHDOG=1 every watchdog_interval() from a thread of its own for as long as `alive()`
// answers true: an agent whose registry stays locked (a deadlock) stops answering, and systemd
// restarts it. Does nothing when the notifier expects no pings. Stops when destroyed.
class WatchdogPinger {
 public:
  WatchdogPinger(const SystemdNotifier& notifier, std::function<bool()> alive);
  ~WatchdogPinger();
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

 private:
  void Run(const SystemdNotifier& notifier, const std::function<bool()>& alive);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ferry
