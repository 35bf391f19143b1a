// A certificate authority of a test's own, in a temporary directory removed with it: a CA the
// servers do not know (a client trusting it must refuse them), or one that signs a server
// certificate for a name the client does not connect by.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "wire/testing/test_certificates.h"

namespace ferry::testing {

class OwnTestCa {
 public:
  explicit OwnTestCa(const std::string& name) : dir_(MakeDir()), ca_(dir_, name) {}
  ~OwnTestCa() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  OwnTestCa(const OwnTestCa&) = delete;
  OwnTestCa& operator=(const OwnTestCa&) = delete;

  const std::string& cert_file() const { return ca_.cert_file(); }
  wire::testing::TestCa::Issued Issue(const std::string& common_name,
                                      const std::vector<std::string>& alt_names) const {
    return ca_.Issue(common_name, alt_names);
  }

  // mariadbd arguments that serve TLS with a certificate this CA issued for `host` only.
  std::vector<std::string> ServerArgsFor(const std::string& host) const {
    wire::testing::TestCa::Issued issued = Issue(host, {"DNS:" + host});
    return {"--ssl-cert=" + issued.cert_file, "--ssl-key=" + issued.key_file,
            "--ssl-ca=" + ca_.cert_file()};
  }

 private:
  static std::string MakeDir() {
    std::string pattern = std::filesystem::temp_directory_path() / "ferry-test-ca-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return "/nonexistent-ferry-test-ca";
    return pattern;
  }

  std::string dir_;
  wire::testing::TestCa ca_;
};

}  // namespace ferry::testing
