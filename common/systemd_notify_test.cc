#include "common/systemd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>

namespace ferry {
namespace {

// A unix datagram socket standing in for systemd's notification socket.
class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    if (path[0] == '@') address.sun_path[0] = '\0';
    const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0) << std::strerror(errno);
    timeval timeout{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~FakeNotifySocket() {
    close(fd_);
    if (path_[0] != '@') std::filesystem::remove(path_);
  }
  // The next message, or "" after 2 s without one.
  std::string Receive() {
    char buffer[512];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_;
};

std::string TempSocketPath() {
  return (std::filesystem::temp_directory_path() /
          ("ferry-notify-" + std::to_string(getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000)))
      .string();
}

TEST(SystemdNotifierTest, SendsEachStateAsOneDatagram) {
  const std::string path = TempSocketPath();
  FakeNotifySocket systemd(path);
  SystemdNotifier notifier(path, std::chrono::microseconds(0));
  ASSERT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.Notify("READY=1\nSTATUS=streaming").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=streaming");
  ASSERT_TRUE(notifier.Notify("STOPPING=1").ok());
  EXPECT_EQ(systemd.Receive(), "STOPPING=1");
}

TEST(SystemdNotifierTest, ReachesAnAbstractSocket) {
  std::string name = "@";  // (not "@" + ...: GCC 12 at -O3 warns falsely, -Wrestrict)
  name += TempSocketPath();
  FakeNotifySocket systemd(name);
  ASSERT_TRUE(SystemdNotifier(name, std::chrono::microseconds(0)).Notify("READY=1").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1");
}

TEST(SystemdNotifierTest, DoesNothingOutsideSystemdAndSaysWhenTheSocketIsGone) {
  SystemdNotifier none("", std::chrono::microseconds(0));
  EXPECT_FALSE(none.enabled());
  EXPECT_TRUE(none.Notify("READY=1").ok());
  Status gone =
      SystemdNotifier("/nonexistent/ferry-notify", std::chrono::microseconds(0)).Notify("READY=1");
  EXPECT_FALSE(gone.ok());
  EXPECT_NE(gone.message().find("/nonexistent/ferry-notify"), std::string::npos);
}

TEST(SystemdNotifierTest, ReadsTheEnvironmentAndHalvesTheWatchdogTimeout) {
  setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  setenv("WATCHDOG_USEC", "30000000", 1);
  unsetenv("WATCHDOG_PID");
  SystemdNotifier notifier = SystemdNotifier::FromEnvironment();
  EXPECT_TRUE(notifier.enabled());
  EXPECT_EQ(notifier.watchdog_interval(), std::chrono::seconds(15));
  setenv("WATCHDOG_PID", "1", 1);  // meant for another process
  EXPECT_EQ(SystemdNotifier::FromEnvironment().watchdog_interval().count(), 0);
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  EXPECT_FALSE(SystemdNotifier::FromEnvironment().enabled());
}

TEST(WatchdogPingerTest, PingsWhileAliveAndStopsWhenNot) {
  const std::string path = TempSocketPath();
  FakeNotifySocket systemd(path);
  SystemdNotifier notifier(path, std::chrono::milliseconds(100));  // a ping every 50 ms
  std::atomic<bool> alive{true};
  {
    WatchdogPinger pinger(notifier, [&] { return alive.load(); });
    EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
    EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
    alive = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    while (!systemd.Receive().empty()) {
    }  // drain what was sent before
    EXPECT_EQ(systemd.Receive(), "");
  }
}

}  // namespace
}  // namespace ferry
