// A MariaDB server with TLS shared by a test suite (MariaDbOptions::tls), and users it lets in
// only over TLS (`tls_only`, REQUIRE SSL) or only with a client certificate its CA signed
// (`cert_only`, REQUIRE X509): a session the server accepts for them cannot be a clear one.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tests/harness/mariadb_server.h"
#include "wire/testing/test_certificates.h"

namespace ferry::testing {

template <const char* kName>
class MariaDbTlsSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    MariaDbOptions options;
    options.tls = true;
    Result<std::unique_ptr<MariaDbServer>> server = MariaDbServer::Start(kName, options);
    ASSERT_TRUE(server.ok()) << server.message();
    server_ = std::move(server).value().release();
    // The server made tls_only itself (MariaDbOptions::tls).
    Status users = server_->Exec(
        "CREATE USER cert_only@'%' IDENTIFIED BY 'pw' REQUIRE X509; "
        "GRANT ALL ON *.* TO cert_only@'%'");
    ASSERT_TRUE(users.ok()) << users.message();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "MariaDB with TLS did not start"; }

  // A dsn for `user` on the suite's server, with `tls` (TLS keys) appended.
  static std::string Dsn(const std::string& user, const std::string& tls) {
    return "host=127.0.0.1 port=" + std::to_string(server_->port()) + " user=" + user +
           " password=pw dbname=ferry " + tls;
  }
  static std::string VerifyFull() {
    return "sslmode=verify-full sslrootcert=" + server_->tls_ca()->cert_file();
  }

  inline static MariaDbServer* server_ = nullptr;
};

}  // namespace ferry::testing
