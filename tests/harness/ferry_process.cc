#include "tests/harness/ferry_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "wire/tls.h"

namespace ferry::testing {

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = std::filesystem::temp_directory_path() / (prefix + "-XXXXXX");
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty() && std::getenv("FERRY_KEEP_TEST_FILES") == nullptr) {
    std::filesystem::remove_all(path_, ignored);
  }
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  std::string full = path_ + "/" + name;
  std::ofstream(full, std::ios::binary | std::ios::trunc) << content;
  // Ferry refuses a token file that every user may read, as a deployment must keep it.
  if (name.ends_with(".token")) chmod(full.c_str(), 0600);
  return full;
}

Result<std::unique_ptr<FerryProcess>> FerryProcess::Start(const std::vector<std::string>& args,
                                                          const std::string& log_path) {
  std::vector<char*> argv;
  std::string binary = FERRY_BINARY;
  argv.push_back(binary.data());
  std::vector<std::string> copies = args;
  for (auto& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return Status::Error("fork failed");
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto process = std::unique_ptr<FerryProcess>(new FerryProcess());
  process->pid_ = pid;
  process->log_path_ = log_path;
  return process;
}

FerryProcess::~FerryProcess() { Kill9(); }

void FerryProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int FerryProcess::Terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = Wait(std::chrono::seconds(20));
  if (pid_ > 0) Kill9();
  return code;
}

bool FerryProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int FerryProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

long FerryProcess::PeakRssKb() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string FerryProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

CommandResult RunFerry(const std::vector<std::string>& args) {
  std::string command = FERRY_BINARY;
  for (const auto& a : args) {
    command += " '";
    for (char c : a) command += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    command += "'";
  }
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Whether `port` on the loopback can be bound right now.
static bool CanBind(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

// The first port of the kernel's ephemeral range (outgoing connections take their local port
// from it).
static uint16_t EphemeralRangeStart() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned first = 0;
  if (!(range >> first) || first <= 12000 || first > 65535) return 32768;
  return static_cast<uint16_t>(first);
}

// A port below the ephemeral range: a port the kernel hands out (bind to port 0) can be taken
// by any outgoing connection of the tests running in parallel before our agent binds it, which
// made "admin address … already in use" fail a CI run.
uint16_t FreePort() {
  std::random_device seed;
  std::uniform_int_distribution<unsigned> pick(10000, EphemeralRangeStart() - 1);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<uint16_t>(pick(seed));
    if (CanBind(port)) return port;
  }
  return 0;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Sends `request` on the connected socket `fd` and reads until the server closes: in clear, or
// with `https_ca_file` over TLS (the agents' own wire/tls.h), the certificate checked for
// 127.0.0.1.
static Result<std::string> Exchange(int fd, const std::string& request,
                                    const std::string& https_ca_file) {
  std::string response;
  char buffer[4096];
  if (https_ca_file.empty()) {
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return Status::Error("send failed");
    }
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
    return response;
  }
  auto context = wire::TlsContext::ForClient({https_ca_file, "", "", ""});
  if (!context.ok()) return context.status();
  auto session = wire::TlsSession::Start(*context, fd, "127.0.0.1");
  if (!session.ok()) return session.status();
  const auto deadline = wire::DeadlineAfter(std::chrono::seconds(10));
  FERRY_RETURN_IF_ERROR((*session)->Handshake(deadline));
  FERRY_RETURN_IF_ERROR((*session)->Write(request));
  for (;;) {
    auto read = (*session)->Read(buffer, sizeof buffer, deadline);
    if (!read.ok()) return read.status();
    if (read->timed_out) return Status::Error("no whole HTTPS response within 10 s");
    if (read->peer_closed) return response;
    response.append(buffer, read->bytes);
  }
}

Result<std::string> HttpGet(uint16_t port, const std::string& path,
                            const std::string& https_ca_file) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return Status::Error("connect to admin port " + std::to_string(port) + " failed");
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  Result<std::string> exchanged = Exchange(fd, request, https_ca_file);
  close(fd);
  if (!exchanged.ok()) return exchanged.status();
  const std::string& response = *exchanged;
  size_t header_end = response.find("\r\n\r\n");
  if (header_end == std::string::npos) return Status::Error("malformed HTTP response: " + response);
  if (response.compare(0, 12, "HTTP/1.1 200") != 0) {
    return Status::Error("HTTP error: " + response.substr(0, response.find("\r\n")));
  }
  std::string body = response.substr(header_end + 4);
  // Beast may answer with chunked encoding when the body size is not known in advance.
  if (response.substr(0, header_end).find("chunked") != std::string::npos) {
    std::string decoded;
    size_t pos = 0;
    while (pos < body.size()) {
      size_t line_end = body.find("\r\n", pos);
      if (line_end == std::string::npos) break;
      size_t size = std::stoul(body.substr(pos, line_end - pos), nullptr, 16);
      if (size == 0) break;
      decoded += body.substr(line_end + 2, size);
      pos = line_end + 2 + size + 2;
    }
    body = decoded;
  }
  return body;
}

Result<uint64_t> MetricSum(uint16_t port, const std::string& family) {
  Result<std::string> body = HttpGet(port, "/metrics");
  if (!body.ok()) return body.status();
  std::istringstream lines(*body);
  uint64_t sum = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(family, 0) != 0) continue;
    const char next = line.size() > family.size() ? line[family.size()] : '\0';
    if (next != '{' && next != ' ') continue;  // another family sharing the prefix
    sum += std::stoull(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace ferry::testing
