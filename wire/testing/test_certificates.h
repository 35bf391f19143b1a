// Certificates for tests, made when the test runs (nothing secret in the repository): a CA and
// the certificates it issues, as PEM files in a directory the test owns.
#pragma once

#include <string>
#include <vector>

namespace ferry::wire::testing {

// A certificate authority with a fresh P-256 key. Aborts the test program if OpenSSL fails:
// a test without its certificates has nothing to say.
class TestCa {
 public:
  // Writes `dir`/`name`.crt; `dir` must exist.
  TestCa(std::string dir, std::string name);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& cert_file() const { return cert_file_; }

  struct Issued {
    std::string cert_file;
    std::string key_file;
  };
  // kCurrent: valid from an hour ago for a day; kExpired: its notAfter passed a day ago.
  enum class Validity { kCurrent, kExpired };
  // A leaf certificate for `common_name` with subject alternative names such as
  // "DNS:localhost" or "IP:127.0.0.1", signed by this CA, and its key (mode 0600), as
  // `common_name`.crt and .key.
  Issued Issue(const std::string& common_name, const std::vector<std::string>& alt_names,
               Validity validity = Validity::kCurrent) const;

 private:
  struct Keys;
  std::string dir_;
  std::string cert_file_;
  Keys* keys_;
};

}  // namespace ferry::wire::testing
