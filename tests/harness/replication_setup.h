// A complete replication setup for end-to-end tests: a throwaway source and target server of any
// engines (postgres, mariadb), a shared token, config files, and the real `ferry capture` /
// `ferry apply` processes, which a test can kill and restart at will.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/harness/ferry_process.h"
#include "tests/harness/test_database.h"
#include "wire/testing/test_certificates.h"

namespace ferry::testing {

// How the throwaway servers are set up beyond what their engine needs.
struct ServerSettings {
  // MariaDB source: the server's own default for every setting Ferry does not require (today:
  // binlog_row_metadata=NO_LOG instead of FULL), as a new user's server has it.
  bool source_defaults = false;
  // The same for the target (in a master-master pair, the other node's source).
  bool target_defaults = false;
  // Both servers serve TLS and admit the agents' user only over it; the agents connect with
  // TestDatabase::tls_dsn() (sslmode=verify-full).
  bool tls = false;
};

class ReplicationSetup {
 public:
  // Starts a source and a target server of the given engines ("postgres", "mariadb") and runs
  // each one's schema SQL on it.
  static Result<std::unique_ptr<ReplicationSetup>> Create(const std::string& source_engine,
                                                          const std::string& target_engine,
                                                          const std::string& source_schema,
                                                          const std::string& target_schema,
                                                          ServerSettings settings = {});
  // The other direction of a master-master pair: `forward`'s target as its source and
  // `forward`'s source as its target (the servers are shared), the node names swapped, with
  // ports, a directory and agents of its own.
  static Result<std::unique_ptr<ReplicationSetup>> Reverse(const ReplicationSetup& forward);
  // A link between servers that other setups already run (rings and meshes of nodes): from
  // `source` (node `source_node`) to `target`, with ports none of `others` uses.
  static std::unique_ptr<ReplicationSetup> Link(std::shared_ptr<TestDatabase> source,
                                                const std::string& source_node,
                                                std::shared_ptr<TestDatabase> target,
                                                const std::string& target_node,
                                                const std::vector<const ReplicationSetup*>& others);
  // PostgreSQL -> PostgreSQL with the same schema on both sides.
  static Result<std::unique_ptr<ReplicationSetup>> Create(const std::string& schema_sql) {
    return Create("postgres", "postgres", schema_sql, schema_sql);
  }

  // Node names: the capture agent's (also the apply agent's upstream) and the apply agent's.
  std::string source_node = "east";
  std::string target_node = "west";
  // The agents' database connection strings; empty: the server's dsn() (its tls_dsn() under
  // ServerSettings::tls).
  std::string source_dsn;
  std::string target_dsn;
  // Config file bodies are generated; these add to them before the agents start.
  std::string capture_tables = "[\"public.*\"]";
  std::string apply_mappings;           // YAML block under `mappings:` (already indented), or empty
  std::string capture_source_settings;  // more YAML lines under `source:` (indented), or empty
  std::string apply_target_settings;    // YAML lines added under `target:` (already indented)
  std::string capture_settings;         // more top-level YAML lines of the capture config
  int heartbeat_interval_ms = 200;      // the capture config's
  std::string apply_settings;           // more top-level YAML lines of the apply config
  std::string upstream_settings;        // more YAML lines of the apply config's upstream (indented)
  uint16_t upstream_port = 0;  // where the apply agent connects; 0: the capture agent's port
  // Both agents' admin endpoints serve HTTPS (`admin_tls:`), with a certificate for 127.0.0.1
  // that admin_ca_file() signed; the harness's own requests use it.
  bool admin_tls = false;

  Status StartCapture();
  // Starts the apply agent and, unless told not to, waits until it streams from the capture
  // agent: only then does the source keep every change for it (a PostgreSQL slot is created on
  // the first connection), so a test may write on the source as soon as this returns.
  Status StartApply(bool wait_until_streaming = true);
  void KillCapture() { capture_.reset(); }
  void KillApply() { apply_.reset(); }
  FerryProcess* capture_process() { return capture_.get(); }
  FerryProcess* apply_process() { return apply_.get(); }

  TestDatabase& source() { return *source_; }
  TestDatabase& target() { return *target_; }
  std::shared_ptr<TestDatabase> shared_source() const { return source_; }
  std::shared_ptr<TestDatabase> shared_target() const { return target_; }
  uint16_t capture_admin_port() const { return capture_admin_port_; }
  uint16_t capture_port() const { return capture_port_; }
  uint16_t apply_admin_port() const { return apply_admin_port_; }
  std::string capture_log() const;
  std::string apply_log() const;
  const TempDir& dir() const { return dir_; }
  // The CA to give HttpGet for the admin endpoints: empty unless admin_tls.
  std::string admin_ca_file() const;

  // Waits until `query` returns the same rows on source and target.
  bool WaitForSameRows(const std::string& query, std::chrono::milliseconds timeout);
  // Both sides' rows of `query`, for a readable failure message.
  std::string DescribeDifference(const std::string& query, const std::string& target_query = "");

 private:
  ReplicationSetup() = default;
  void ChoosePorts();
  void MakeAdminCertificate();  // when admin_tls, once
  bool SharesPortWith(const ReplicationSetup& other) const;
  std::string CaptureConfig() const;
  std::string ApplyConfig() const;

  TempDir dir_{"ferry-e2e"};
  std::shared_ptr<TestDatabase> source_;  // shared with the Reverse() of a pair
  std::shared_ptr<TestDatabase> target_;
  uint16_t capture_port_ = 0;
  uint16_t capture_admin_port_ = 0;
  uint16_t apply_admin_port_ = 0;
  std::unique_ptr<FerryProcess> capture_;
  std::unique_ptr<FerryProcess> apply_;
  std::unique_ptr<wire::testing::TestCa> admin_ca_;  // made with the first config that needs it
};

using PgReplicationSetup = ReplicationSetup;

// Rows of a query as one text block ("a|b\n..."), for exact comparisons.
std::string RowsAsText(const TestDatabase& server, const std::string& query);

// Starts a throwaway server of `engine` ("postgres" or "mariadb"); `server_defaults` as
// ServerSettings::source_defaults, `tls` as ServerSettings::tls.
Result<std::unique_ptr<TestDatabase>> StartDatabase(const std::string& engine,
                                                    const std::string& name,
                                                    bool server_defaults = false, bool tls = false);

}  // namespace ferry::testing
