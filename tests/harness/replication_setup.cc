#include "tests/harness/replication_setup.h"

#include <fstream>
#include <sstream>

#include "tests/harness/mariadb_server.h"
#include "tests/harness/postgres_server.h"

namespace ferry::testing {

std::string RowsAsText(const TestDatabase& server, const std::string& query) {
  auto rows = server.Query(query);
  if (!rows.ok()) return "ERROR: " + rows.message();
  std::string text;
  for (const Row& row : *rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) text += "|";
      text += row[i] ? *row[i] : "<NULL>";
    }
    text += "\n";
  }
  return text;
}

Result<std::unique_ptr<TestDatabase>> StartDatabase(const std::string& engine,
                                                    const std::string& name, bool server_defaults,
                                                    bool tls) {
  if (engine == "postgres") {
    PostgresOptions options;
    options.tls = tls;
    auto server = PostgresServer::Start(name, options);
    if (!server.ok()) return server.status();
    return std::unique_ptr<TestDatabase>(std::move(*server));
  }
  if (engine == "mariadb") {
    MariaDbOptions options;
    if (server_defaults) options.binlog_row_metadata.clear();
    options.tls = tls;
    auto server = MariaDbServer::Start(name, options);
    if (!server.ok()) return server.status();
    return std::unique_ptr<TestDatabase>(std::move(*server));
  }
  return Status::Error("no test server for engine " + engine);
}

Result<std::unique_ptr<ReplicationSetup>> ReplicationSetup::Create(const std::string& source_engine,
                                                                   const std::string& target_engine,
                                                                   const std::string& source_schema,
                                                                   const std::string& target_schema,
                                                                   ServerSettings settings) {
  std::unique_ptr<ReplicationSetup> setup(new ReplicationSetup());
  auto source = StartDatabase(source_engine, "source", settings.source_defaults, settings.tls);
  if (!source.ok()) return source.status();
  auto target = StartDatabase(target_engine, "target", settings.target_defaults, settings.tls);
  if (!target.ok()) return target.status();
  setup->source_ = std::move(*source);
  setup->target_ = std::move(*target);
  if (settings.tls) {
    setup->source_dsn = setup->source_->tls_dsn();
    setup->target_dsn = setup->target_->tls_dsn();
  }
  if (!source_schema.empty()) {
    FERRY_RETURN_IF_ERROR(setup->source_->Exec(source_schema).WithContext("source schema"));
  }
  if (!target_schema.empty()) {
    FERRY_RETURN_IF_ERROR(setup->target_->Exec(target_schema).WithContext("target schema"));
  }
  setup->ChoosePorts();
  return setup;
}

Result<std::unique_ptr<ReplicationSetup>> ReplicationSetup::Reverse(
    const ReplicationSetup& forward) {
  auto setup =
      Link(forward.target_, forward.target_node, forward.source_, forward.source_node, {&forward});
  setup->capture_tables = forward.capture_tables;
  return setup;
}

std::unique_ptr<ReplicationSetup> ReplicationSetup::Link(
    std::shared_ptr<TestDatabase> source, const std::string& source_node,
    std::shared_ptr<TestDatabase> target, const std::string& target_node,
    const std::vector<const ReplicationSetup*>& others) {
  std::unique_ptr<ReplicationSetup> setup(new ReplicationSetup());
  setup->source_ = std::move(source);
  setup->target_ = std::move(target);
  setup->source_node = source_node;
  setup->target_node = target_node;
  // FreePort only says what is free now: ports that other setups' agents will take are skipped.
  auto clashes = [&] {
    for (const ReplicationSetup* other : others) {
      if (setup->SharesPortWith(*other)) return true;
    }
    return false;
  };
  do setup->ChoosePorts();
  while (clashes());
  return setup;
}

bool ReplicationSetup::SharesPortWith(const ReplicationSetup& other) const {
  for (uint16_t mine : {capture_port_, capture_admin_port_, apply_admin_port_}) {
    for (uint16_t theirs :
         {other.capture_port_, other.capture_admin_port_, other.apply_admin_port_}) {
      if (mine == theirs) return true;
    }
  }
  return false;
}

void ReplicationSetup::ChoosePorts() {
  capture_port_ = FreePort();
  do capture_admin_port_ = FreePort();
  while (capture_admin_port_ == capture_port_);
  do apply_admin_port_ = FreePort();
  while (apply_admin_port_ == capture_port_ || apply_admin_port_ == capture_admin_port_);
  dir_.Write("secret.token", "e2e-test-token-0123456789\n");
}

// Both agents serve the one certificate MakeAdminCertificate() issues.
static constexpr char kAdminTls[] = "admin_tls: {cert_file: admin.crt, key_file: admin.key}\n";

void ReplicationSetup::MakeAdminCertificate() {
  if (!admin_tls || admin_ca_ != nullptr) return;
  admin_ca_ = std::make_unique<wire::testing::TestCa>(dir_.path(), "admin-ca");
  admin_ca_->Issue("admin", {"IP:127.0.0.1", "DNS:localhost"});
}

std::string ReplicationSetup::admin_ca_file() const {
  return admin_tls && admin_ca_ != nullptr ? admin_ca_->cert_file() : "";
}

std::string ReplicationSetup::CaptureConfig() const {
  std::ostringstream yaml;
  yaml << "node: " << source_node << "\n"
       << "source:\n  engine: " << source_->engine() << "\n  dsn: \""
       << (source_dsn.empty() ? source_->dsn() : source_dsn) << "\"\n"
       << (source_->engine() == "postgres" ? "" : "  server_id: 4242\n") << capture_source_settings
       << "listen: 127.0.0.1:" << capture_port_ << "\n"
       << "auth_token_file: secret.token\n"
       << "admin: 127.0.0.1:" << capture_admin_port_ << "\n"
       << "tables: " << capture_tables << "\n"
       << "heartbeat_interval_ms: " << heartbeat_interval_ms << "\n"
       << "log_level: debug\n"
       << (admin_tls ? kAdminTls : "") << capture_settings;
  return yaml.str();
}

std::string ReplicationSetup::ApplyConfig() const {
  std::ostringstream yaml;
  yaml << "node: " << target_node << "\n"
       << "target:\n  engine: " << target_->engine() << "\n  dsn: \""
       << (target_dsn.empty() ? target_->dsn() : target_dsn) << "\"\n"
       << apply_target_settings << "upstreams:\n  - name: " << source_node
       << "\n    address: 127.0.0.1:" << (upstream_port != 0 ? upstream_port : capture_port_)
       << "\n"
       << "    auth_token_file: secret.token\n"
       << upstream_settings << "admin: 127.0.0.1:" << apply_admin_port_ << "\n"
       << "reconnect_delay_ms: 200\n"
       << "reconnect_delay_max_ms: 1000\n"
       << "log_level: debug\n"
       << (admin_tls ? kAdminTls : "") << apply_settings;
  if (!apply_mappings.empty()) yaml << "mappings:\n" << apply_mappings;
  return yaml.str();
}

Status ReplicationSetup::StartCapture() {
  MakeAdminCertificate();
  std::string config = dir_.Write("capture.yaml", CaptureConfig());
  auto process = FerryProcess::Start({"capture", "--config", config}, dir_.path() + "/capture.log");
  if (!process.ok()) return process.status();
  capture_ = std::move(*process);
  if (!WaitFor(
          [&] {
            return HttpGet(capture_admin_port_, "/livez", admin_ca_file()).ok() ||
                   !capture_->Running();
          },
          std::chrono::seconds(20)) ||
      !capture_->Running()) {
    return Status::Error("capture agent did not come up; its log:\n" + capture_log());
  }
  return Status::Ok();
}

Status ReplicationSetup::StartApply(bool wait_until_streaming) {
  MakeAdminCertificate();
  std::string config = dir_.Write("apply.yaml", ApplyConfig());
  const size_t log_before = apply_log().size();
  auto process = FerryProcess::Start({"apply", "--config", config}, dir_.path() + "/apply.log");
  if (!process.ok()) return process.status();
  apply_ = std::move(*process);
  if (!WaitFor(
          [&] {
            return HttpGet(apply_admin_port_, "/livez", admin_ca_file()).ok() || !apply_->Running();
          },
          std::chrono::seconds(20)) ||
      !apply_->Running()) {
    return Status::Error("apply agent did not come up; its log:\n" + apply_log());
  }
  if (wait_until_streaming &&
      !WaitFor(
          [&] { return apply_log().find("connected to node", log_before) != std::string::npos; },
          std::chrono::seconds(60))) {
    return Status::Error("apply agent did not start streaming; its log:\n" + apply_log() +
                         "\ncapture log:\n" + capture_log());
  }
  return Status::Ok();
}

static std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ReplicationSetup::capture_log() const { return ReadFile(dir_.path() + "/capture.log"); }
std::string ReplicationSetup::apply_log() const { return ReadFile(dir_.path() + "/apply.log"); }

bool ReplicationSetup::WaitForSameRows(const std::string& query,
                                       std::chrono::milliseconds timeout) {
  return WaitFor([&] { return RowsAsText(*source_, query) == RowsAsText(*target_, query); },
                 timeout);
}

std::string ReplicationSetup::DescribeDifference(const std::string& query,
                                                 const std::string& target_query) {
  std::string source_rows = RowsAsText(*source_, query);
  std::string target_rows = RowsAsText(*target_, target_query.empty() ? query : target_query);
  auto clip = [](const std::string& s) { return s.size() > 4000 ? s.substr(0, 4000) + "..." : s; };
  return "source:\n" + clip(source_rows) + "\ntarget:\n" + clip(target_rows) +
         "\n--- capture log (tail) ---\n" +
         clip(capture_log().substr(capture_log().size() > 4000 ? capture_log().size() - 4000 : 0)) +
         "\n--- apply log (tail) ---\n" +
         clip(apply_log().substr(apply_log().size() > 4000 ? apply_log().size() - 4000 : 0));
}

}  // namespace ferry::testing
