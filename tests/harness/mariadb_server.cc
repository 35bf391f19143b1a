#include "tests/harness/mariadb_server.h"

#include <mysql.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/harness/ferry_process.h"
#include "wire/testing/test_certificates.h"

namespace ferry::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct MysqlCloser {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
using MysqlPtr = std::unique_ptr<MYSQL, MysqlCloser>;

Result<MysqlPtr> ConnectTo(const std::string& host, uint16_t port, const std::string& db) {
  MysqlPtr conn(mysql_init(nullptr));
  unsigned int timeout = 5;
  mysql_optionsv(conn.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  if (mysql_real_connect(conn.get(), host.c_str(), "root", "", db.empty() ? nullptr : db.c_str(),
                         port, nullptr, CLIENT_MULTI_STATEMENTS) == nullptr) {
    return Status::Error("connect to MariaDB at " + host + ":" + std::to_string(port) + ": " +
                         mysql_error(conn.get()));
  }
  return conn;
}

// Runs statements and drains every result; returns the rows of the last result set.
Result<std::vector<Row>> Run(MYSQL* conn, const std::string& sql) {
  if (mysql_real_query(conn, sql.data(), sql.size()) != 0) {
    return Status::Error("SQL failed: " + sql.substr(0, 200) + ": " + mysql_error(conn));
  }
  std::vector<Row> rows;
  for (;;) {
    MYSQL_RES* result = mysql_store_result(conn);
    if (result != nullptr) {
      rows.clear();
      unsigned int fields = mysql_num_fields(result);
      while (MYSQL_ROW row = mysql_fetch_row(result)) {
        unsigned long* lengths = mysql_fetch_lengths(result);
        Row out;
        for (unsigned int i = 0; i < fields; ++i) {
          if (row[i] == nullptr) {
            out.push_back(std::nullopt);
          } else {
            out.emplace_back(std::string(row[i], lengths[i]));
          }
        }
        rows.push_back(std::move(out));
      }
      mysql_free_result(result);
    } else if (mysql_field_count(conn) != 0) {
      return Status::Error(std::string("reading result: ") + mysql_error(conn));
    }
    int next = mysql_next_result(conn);
    if (next > 0)
      return Status::Error("SQL failed: " + sql.substr(0, 200) + ": " + mysql_error(conn));
    if (next < 0) break;
  }
  return rows;
}

}  // namespace

Result<std::unique_ptr<MariaDbServer>> MariaDbServer::Start(const std::string& name,
                                                            MariaDbOptions options) {
  std::unique_ptr<MariaDbServer> server(new MariaDbServer());
  server->options_ = std::move(options);
  std::string pattern = std::filesystem::temp_directory_path() / ("ferry-" + name + "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return Status::Error("mkdtemp failed");
  server->root_dir_ = pattern;
  server->data_dir_ = server->root_dir_ + "/data";
  server->socket_ = server->root_dir_ + "/mysqld.sock";
  server->error_log_ = server->root_dir_ + "/error.log";
  // A private tmpdir: a mariadbd starting elsewhere on the machine deletes every "#sql*" file in
  // its tmpdir, which breaks a concurrent mariadb-install-db sharing /tmp with it.
  server->tmp_dir_ = server->root_dir_ + "/tmp";
  std::filesystem::create_directories(server->tmp_dir_);
  if (server->options_.tls) server->MakeCertificates();
  std::string install =
      "mariadb-install-db --no-defaults --datadir=" + server->data_dir_ +
      " --auth-root-authentication-method=normal --skip-test-db --tmpdir=" + server->tmp_dir_ +
      (geteuid() == 0 ? " --user=root" : "") + " > " + server->root_dir_ + "/install.log 2>&1";
  if (std::system(install.c_str()) != 0) {
    return Status::Error("mariadb-install-db failed:\n" +
                         ReadFile(server->root_dir_ + "/install.log"));
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    Status launched = server->Launch();
    if (launched.ok()) break;
    if (attempt == 4) return launched;
  }
  auto conn = ConnectTo(server->host_, server->port_, "");
  if (!conn.ok()) return conn.status();
  auto created = Run(conn->get(), "CREATE DATABASE ferry");
  if (!created.ok()) return created.status();
  if (server->options_.tls) {
    auto user = Run(conn->get(), "CREATE USER tls_only@'%' IDENTIFIED BY 'pw' REQUIRE SSL");
    if (!user.ok()) return user.status();
    auto granted = Run(conn->get(), "GRANT ALL ON *.* TO tls_only@'%'");
    if (!granted.ok()) return granted.status();
  }
  return server;
}

void MariaDbServer::MakeCertificates() {
  const std::string dir = root_dir_ + "/tls";
  std::filesystem::create_directories(dir);
  tls_ca_ = std::make_unique<wire::testing::TestCa>(dir, "mariadb-test-ca");
  wire::testing::TestCa::Issued issued =
      tls_ca_->Issue("localhost", {"DNS:localhost", "IP:127.0.0.1"});
  server_cert_file_ = issued.cert_file;
  server_key_file_ = issued.key_file;
}

Status MariaDbServer::Launch() {
  std::vector<std::string> args = {"/usr/sbin/mariadbd",
                                   "--no-defaults",
                                   "--datadir=" + data_dir_,
                                   "--socket=" + socket_,
                                   "--port=" + std::to_string(port_),
                                   "--bind-address=127.0.0.1",
                                   "--log-error=" + error_log_,
                                   "--tmpdir=" + tmp_dir_,
                                   "--pid-file=" + root_dir_ + "/mysqld.pid",
                                   "--log-bin=" + root_dir_ + "/binlog",
                                   "--binlog-format=ROW",
                                   "--binlog-row-image=FULL",
                                   "--server-id=" + std::to_string(options_.server_id),
                                   "--innodb-buffer-pool-size=32M",
                                   "--innodb-log-file-size=16M",
                                   "--skip-name-resolve",
                                   "--max-connections=100",
                                   "--character-set-server=utf8mb4",
                                   "--collation-server=utf8mb4_general_ci"};
  if (!options_.binlog_row_metadata.empty()) {
    args.push_back("--binlog-row-metadata=" + options_.binlog_row_metadata);
  }
  if (geteuid() == 0) args.push_back("--user=root");
  if (tls_ca_ != nullptr) {
    args.push_back("--ssl-cert=" + server_cert_file_);
    args.push_back("--ssl-key=" + server_key_file_);
    args.push_back("--ssl-ca=" + tls_ca_->cert_file());
  }
  for (const auto& extra : options_.extra_args) args.push_back(extra);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Status::Error("fork failed");
  if (pid == 0) {
    (void)!freopen("/dev/null", "w", stdout);
    (void)!freopen("/dev/null", "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  bool up = WaitFor(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;  // exited: stop waiting, report below
        }
        return ConnectTo(host_, port_, "").ok();
      },
      std::chrono::seconds(60));
  if (!up || pid_ < 0) {
    if (pid_ > 0) Kill().ok();
    return Status::Error("mariadbd did not start on port " + std::to_string(port_) +
                         "; its log:\n" + ReadFile(error_log_));
  }
  return Status::Ok();
}

MariaDbServer::~MariaDbServer() {
  (void)Kill();
  std::error_code ignored;
  if (!root_dir_.empty() && std::getenv("FERRY_KEEP_TEST_FILES") == nullptr) {
    std::filesystem::remove_all(root_dir_, ignored);
  }
}

std::string MariaDbServer::tls_dsn() const {
  if (tls_ca_ == nullptr) return "";
  return "host=" + host_ + " port=" + std::to_string(port_) +
         " user=tls_only password=pw dbname=" + database_ +
         " sslmode=verify-full sslrootcert=" + tls_ca_->cert_file();
}

std::string MariaDbServer::dsn() const {
  return "host=" + host_ + " port=" + std::to_string(port_) + " user=" + user_ +
         " dbname=" + database_;
}

Status MariaDbServer::Exec(const std::string& sql) const {
  auto rows = Query(sql);
  return rows.ok() ? Status::Ok() : rows.status();
}

Result<std::vector<Row>> MariaDbServer::Query(const std::string& sql) const {
  auto conn = ConnectTo(host_, port_, database_);
  if (!conn.ok()) return conn.status();
  return Run(conn->get(), sql);
}

Status MariaDbServer::Kill() {
  if (pid_ <= 0) return Status::Ok();
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return Status::Ok();
}

Status MariaDbServer::Restart() {
  FERRY_RETURN_IF_ERROR(Kill());
  return Launch();
}

}  // namespace ferry::testing
