// libFuzzer target for the config loader (LoadCaptureConfig and LoadApplyConfig): any file
// contents must load or give an error, never crash or let an exception escape. An error lists
// the problems, naming the file; a config that loads remembers its file.
// The loaders take a path, so each input is written to one file in a private temporary
// directory (made once per process, removed at exit); token and TLS file names in the input
// resolve against that directory.
// Built only with -DFERRY_FUZZ=ON and clang:
//   CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DFERRY_FUZZ=ON
//   cmake --build build-fuzz --target config_fuzz
//   build-fuzz/cli/config_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "cli/config.h"

namespace {

namespace fs = std::filesystem;

void Check(bool condition) {
  if (!condition) std::abort();
}

fs::path& Directory() {
  static fs::path directory;
  return directory;
}

void RemoveDirectory() {
  std::error_code ignored;
  fs::remove_all(Directory(), ignored);
}

// The file every input is written to, in a directory of its own so that parallel fuzzing
// processes do not share it.
const std::string& ConfigPath() {
  static const std::string path = [] {
    std::string pattern = (fs::temp_directory_path() / "ferry-config-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    Directory() = pattern;
    std::atexit(RemoveDirectory);
    return (Directory() / "ferry.yaml").string();
  }();
  return path;
}

void Write(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  Check(out.good());
}

// An error starts with the file's name (its problems may quote values that hold line breaks,
// so later lines are not checked).
template <typename Config>
void CheckOutcome(const ferry::Result<Config>& config, const std::string& path) {
  if (config.ok()) {
    Check(config->file == path);
    return;
  }
  Check(config.message().rfind(path + ": ", 0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = ConfigPath();
  Write(path, std::string_view(reinterpret_cast<const char*>(data), size));
  CheckOutcome(ferry::cli::LoadCaptureConfig(path), path);
  CheckOutcome(ferry::cli::LoadApplyConfig(path), path);
  return 0;
}
