// `ferry snapshot` reaches the apply agent's admin endpoint as the apply config says: over HTTPS
// when it has admin_tls, trusting exactly the certificate the agent serves, with the admin token.
#include "cli/snapshot_command.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "admin/admin_server.h"
#include "admin/registry.h"
#include "wire/testing/test_certificates.h"

namespace ferry::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kAdminToken[] = "admin-token-0123456789";

class SnapshotCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ferry-snapshot-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ca_ = std::make_unique<wire::testing::TestCa>(dir_, "ca");
    // A name the command does not connect by: the certificate is pinned, not matched to a name.
    served_ = ca_->Issue("admin", {"DNS:admin.example"});
    Result<std::shared_ptr<admin::AdminTls>> tls =
        admin::AdminTls::Load({served_.cert_file, served_.key_file});
    ASSERT_TRUE(tls.ok()) << tls.message();
    server_ = std::make_unique<admin::AdminServer>(
        "127.0.0.1:0", registry_, kAdminToken,
        [this](const std::string& path, const std::map<std::string, std::string>& query)
            -> std::optional<admin::CommandReply> {
          if (path != "/snapshot") return std::nullopt;
          std::lock_guard lock(mutex_);
          requested_ = query.at("table");
          return admin::CommandReply{202, "{}"};
        },
        *tls);
    ASSERT_TRUE(server_->Start().ok());
    Write("secret.token", "stream-token-0123456789\n");
    Write("admin.token", std::string(kAdminToken) + "\n");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void Write(const std::string& name, const std::string& contents) const {
    std::ofstream(dir_ / name) << contents;
    fs::permissions(dir_ / name, fs::perms::owner_read | fs::perms::owner_write);
  }

  // An apply config for the server's address, with `admin_tls` lines (or none).
  std::string ApplyConfig(const std::string& admin_tls) const {
    const fs::path path = dir_ / "apply.yaml";
    std::ofstream(path) << "node: west\n"
                        << "target: {engine: postgres, dsn: \"host=localhost dbname=replica\"}\n"
                        << "upstreams:\n"
                        << "  - {name: east, address: 127.0.0.1:7400, "
                           "auth_token_file: secret.token}\n"
                        << "admin: 127.0.0.1:" << server_->port() << "\n"
                        << "admin_token_file: admin.token\n"
                        << admin_tls;
    return path.string();
  }

  std::string requested() {
    std::lock_guard lock(mutex_);
    return requested_;
  }

  int Run(const std::string& config, std::string& output) {
    std::ostringstream out, err;
    const int code = RunSnapshot({"--config", config, "--table", "public.items"}, out, err);
    output = out.str() + err.str();
    return code;
  }

  fs::path dir_;
  std::unique_ptr<wire::testing::TestCa> ca_;
  wire::testing::TestCa::Issued served_;
  admin::MetricsRegistry registry_{"apply", "west"};
  std::unique_ptr<admin::AdminServer> server_;
  std::mutex mutex_;
  std::string requested_;  // the table of the last POST /snapshot, on the server's thread
};

TEST_F(SnapshotCommandTest, PostsOverHttpsToAnEndpointWithAdminTls) {
  std::string output;
  EXPECT_EQ(Run(ApplyConfig("admin_tls: {cert_file: admin.crt, key_file: admin.key}\n"), output), 0)
      << output;
  EXPECT_EQ(requested(), "public.items");
  EXPECT_NE(output.find("re-copy requested"), std::string::npos) << output;
}

TEST_F(SnapshotCommandTest, TrustsOnlyTheCertificateTheConfigNames) {
  // Another certificate of the same CA: not the one the agent serves, so not trusted.
  ca_->Issue("other", {"IP:127.0.0.1"});
  std::string output;
  EXPECT_EQ(Run(ApplyConfig("admin_tls: {cert_file: other.crt, key_file: other.key}\n"), output),
            1);
  EXPECT_EQ(requested(), "");
  EXPECT_NE(output.find("cannot reach the apply agent's admin endpoint at 127.0.0.1:"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("(HTTPS)"), std::string::npos) << output;

  // A config without admin_tls speaks plain HTTP, which the endpoint drops unanswered.
  EXPECT_EQ(Run(ApplyConfig(""), output), 1);
  EXPECT_EQ(requested(), "");
  EXPECT_NE(output.find("(HTTP)"), std::string::npos) << output;
}

}  // namespace
}  // namespace ferry::cli
