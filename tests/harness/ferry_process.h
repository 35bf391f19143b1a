// Test helpers around the real `ferry` binary and the files it needs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry::testing {

// A temporary directory, removed with everything in it when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ferry-test");
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name and returns the full path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// A running `ferry` process (FERRY_BINARY) with its output going to a log file.
class FerryProcess {
 public:
  static Result<std::unique_ptr<FerryProcess>> Start(const std::vector<std::string>& args,
                                                     const std::string& log_path);
  ~FerryProcess();  // SIGKILL if still running

  void Kill9();     // SIGKILL and reap
  int Terminate();  // SIGTERM, wait, return the exit status (or -1)
  bool Running();
  // Waits for the process to exit on its own; its exit code, or -1 on timeout / signal.
  int Wait(std::chrono::milliseconds timeout);
  std::string Log() const;  // everything it printed so far
  pid_t pid() const { return pid_; }
  // Peak resident memory so far (VmHWM), in kB; 0 when unknown.
  long PeakRssKb() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// Runs `ferry <args>` to completion; returns exit code and combined output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunFerry(const std::vector<std::string>& args);

// A free TCP port on 127.0.0.1 at the time of the call.
uint16_t FreePort();

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// GET http://127.0.0.1:<port><path>, or https:// when `https_ca_file` names the CA that must
// have signed the server's certificate (for 127.0.0.1); the body on HTTP 200, an error otherwise.
Result<std::string> HttpGet(uint16_t port, const std::string& path,
                            const std::string& https_ca_file = "");

// The sum of the samples of metric `family` ("ferry_target_commits_total") on the /metrics of the
// admin endpoint at `port`; 0 when the family has no sample; an error if /metrics fails.
Result<uint64_t> MetricSum(uint16_t port, const std::string& family);

}  // namespace ferry::testing
