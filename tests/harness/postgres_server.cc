#include "tests/harness/postgres_server.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/harness/ferry_process.h"
#include "wire/testing/test_certificates.h"

namespace ferry::testing {
namespace {

constexpr char kPgBin[] = "/usr/lib/postgresql/15/bin";
constexpr char kDatabase[] = "ferry";

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; returns its exit status and output.
std::pair<int, std::string> RunShell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// PostgreSQL refuses to run as root: run its programs as "postgres" when we are root.
std::string OsUser() {
  if (geteuid() != 0) {
    passwd* pw = getpwuid(geteuid());
    return pw != nullptr ? pw->pw_name : "";
  }
  return "postgres";
}

std::string AsUser(const std::string& user, const std::string& command) {
  if (geteuid() != 0) return command;
  return "runuser -u " + user + " -- " + command;
}

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

Result<PgConn> Connect(const std::string& dsn) {
  PgConn conn(PQconnectdb(dsn.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Error("connect " + dsn + ": " + PQerrorMessage(conn.get()));
  }
  return conn;
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start(const std::string& name,
                                                              PostgresOptions options) {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->name_ = name;
  server->os_user_ = OsUser();
  std::string pattern = (std::filesystem::temp_directory_path() / ("ferry-" + name + "-XXXXXX"));
  if (mkdtemp(pattern.data()) == nullptr) return Status::Error("mkdtemp failed for " + pattern);
  server->root_dir_ = pattern;
  server->data_dir_ = server->root_dir_ + "/data";
  server->log_file_ = server->root_dir_ + "/postgres.log";
  if (geteuid() == 0) {
    auto [rc, out] = RunShell("chown " + server->os_user_ + " " + ShellQuote(server->root_dir_));
    if (rc != 0) return Status::Error("chown " + server->root_dir_ + ": " + out);
  }
  auto [rc, out] = RunShell(
      AsUser(server->os_user_, std::string(kPgBin) +
                                   "/initdb -A trust -E UTF8 --locale=C.UTF-8 -U postgres -D " +
                                   ShellQuote(server->data_dir_)));
  if (rc != 0) return Status::Error("initdb failed: " + out);
  {
    std::ofstream conf(server->data_dir_ + "/postgresql.conf", std::ios::app);
    conf << "\n# ferry test harness\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << server->root_dir_ << "'\n"
         << "wal_level = logical\n"
         << "max_wal_senders = 20\n"
         << "max_replication_slots = 20\n"
         << "fsync = off\n"  // throwaway data: speed over durability of the test server itself
         << "shared_buffers = 32MB\n"
         << "max_connections = 50\n"
         << "log_min_messages = warning\n";
  }
  if (options.tls) FERRY_RETURN_IF_ERROR(server->ServeTlsOnly());
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    if (server->RunPgCtl("start").ok()) {
      server->running_ = true;
      break;
    }
  }
  if (!server->running_) {
    std::ifstream log(server->log_file_);
    std::stringstream text;
    text << log.rdbuf();
    return Status::Error("PostgreSQL did not start; its log:\n" + text.str());
  }
  auto admin = Connect("host=127.0.0.1 port=" + std::to_string(server->port_) +
                       " dbname=postgres user=postgres");
  if (!admin.ok()) return admin.status();
  PgResult created(PQexec(admin->get(), "CREATE DATABASE ferry"));
  if (PQresultStatus(created.get()) != PGRES_COMMAND_OK) {
    return Status::Error(std::string("CREATE DATABASE: ") + PQerrorMessage(admin->get()));
  }
  return server;
}

// The certificate and key go in the data directory, owned by the server's user: PostgreSQL
// refuses a key that others may read.
Status PostgresServer::ServeTlsOnly() {
  const std::string dir = root_dir_ + "/tls";
  std::filesystem::create_directories(dir);
  tls_ca_ = std::make_unique<wire::testing::TestCa>(dir, "postgres-test-ca");
  wire::testing::TestCa::Issued issued =
      tls_ca_->Issue("localhost", {"DNS:localhost", "IP:127.0.0.1"});
  std::error_code error;
  std::filesystem::copy_file(issued.cert_file, data_dir_ + "/server.crt", error);
  if (!error) std::filesystem::copy_file(issued.key_file, data_dir_ + "/server.key", error);
  if (error) return Status::Error("copy the server certificate: " + error.message());
  if (geteuid() == 0) {
    auto [rc, out] = RunShell("chown " + os_user_ + " " + ShellQuote(data_dir_ + "/server.crt") +
                              " " + ShellQuote(data_dir_ + "/server.key"));
    if (rc != 0) return Status::Error("chown the server certificate: " + out);
  }
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n";
  std::ofstream hba(data_dir_ + "/pg_hba.conf", std::ios::trunc);
  hba << "local all all trust\n"
      << "local replication all trust\n"
      << "hostssl all all 127.0.0.1/32 trust\n"
      << "hostssl replication all 127.0.0.1/32 trust\n";
  return Status::Ok();
}

PostgresServer::~PostgresServer() {
  if (running_) (void)RunPgCtl("stop -m immediate");
  std::error_code ignored;
  if (!root_dir_.empty()) std::filesystem::remove_all(root_dir_, ignored);
}

std::string PostgresServer::dsn() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + kDatabase + " user=postgres";
}

std::string PostgresServer::tls_dsn() const {
  if (tls_ca_ == nullptr) return "";
  return dsn() + " sslmode=verify-full sslrootcert=" + tls_ca_->cert_file();
}

Status PostgresServer::RunPgCtl(const std::string& args) const {
  std::string command = std::string(kPgBin) + "/pg_ctl -w -t 60 -D " + ShellQuote(data_dir_) +
                        " -l " + ShellQuote(log_file_) + " -o " +
                        ShellQuote("-p " + std::to_string(port_)) + " " + args;
  auto [rc, out] = RunShell(AsUser(os_user_, command));
  if (rc != 0) return Status::Error("pg_ctl " + args + " failed: " + out);
  return Status::Ok();
}

Status PostgresServer::Exec(const std::string& sql) const {
  auto conn = Connect(dsn());
  if (!conn.ok()) return conn.status();
  PgResult result(PQexec(conn->get(), sql.c_str()));
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Status::Error("SQL failed: " + sql.substr(0, 200) + ": " + PQerrorMessage(conn->get()));
  }
  return Status::Ok();
}

Result<std::vector<Row>> PostgresServer::Query(const std::string& sql) const {
  auto conn = Connect(dsn());
  if (!conn.ok()) return conn.status();
  PgResult result(PQexec(conn->get(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return Status::Error("query failed: " + sql.substr(0, 200) + ": " +
                         PQerrorMessage(conn->get()));
  }
  std::vector<Row> rows;
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    Row row;
    for (int c = 0; c < PQnfields(result.get()); ++c) {
      if (PQgetisnull(result.get(), r, c)) {
        row.push_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(result.get(), r, c),
                                     static_cast<size_t>(PQgetlength(result.get(), r, c))));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Status PostgresServer::Kill() {
  FERRY_RETURN_IF_ERROR(RunPgCtl("stop -m immediate"));
  running_ = false;
  return Status::Ok();
}

Status PostgresServer::Restart() {
  if (running_) FERRY_RETURN_IF_ERROR(Kill());
  FERRY_RETURN_IF_ERROR(RunPgCtl("start"));
  running_ = true;
  return Status::Ok();
}

}  // namespace ferry::testing
