// Agent configuration: one YAML file per agent (see README "Configuration").
// Loading never stops at the first problem: every unknown key, missing required key, bad value
// and unreadable token file is collected, each naming the file, the key and a hint, so that
// `ferry --check` reports them all at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "apply/apply_agent.h"
#include "apply/table_mapping.h"
#include "capture/subscriber_auth.h"
#include "common/status.h"
#include "wire/tls.h"

namespace ferry::cli {

struct DatabaseConfig {
  std::string engine;  // "postgres", "mariadb" or "mysql"
  std::string dsn;     // "key=value ..." connection string (libpq syntax for every engine)
  // Binlog sources only: the replica server id Ferry reads with (default: derived from the
  // node name).
  uint32_t server_id = 0;
  // PostgreSQL targets only: what becomes of a MySQL/MariaDB zero or partial date (0000-00-00,
  // 2024-00-10) written to a column that cannot hold it: "null" or "error".
  std::string zero_dates = "null";
  // PostgreSQL targets only: commit with synchronous_commit on (each commit waits for its WAL
  // flush) instead of off, where acks wait for the flush instead (as a PostgreSQL subscription
  // does by default).
  bool synchronous_commit = false;
  // Targets: the longest a statement waits for a lock another session holds; 0: no limit.
  int64_t lock_timeout_ms = 60000;
  // Binlog sources: statements (by position) to pass over although they change rows of
  // replicated tables without row events; see capture/mysql/mysql_source.h.
  std::vector<std::string> skip_statements;
};

// The stream's transport. Without a `tls:` block the stream is plain TCP, which the config
// allows only on a loopback address; `tls: disabled` allows it anywhere (a network the user
// trusts), and says so in the log.
struct TransportConfig {
  bool tls_disabled = false;  // `tls: disabled`
};

struct CaptureTransport : TransportConfig {
  std::optional<wire::TlsServerConfig> tls;  // paths resolved against the config's directory
};

struct UpstreamTransport : TransportConfig {
  std::optional<wire::TlsClientConfig> tls;
};

struct CaptureConfig {
  std::string file;  // where it was loaded from, for messages
  std::string node;
  DatabaseConfig source;
  std::string listen = "127.0.0.1:7400";
  CaptureTransport transport;
  // The shared token: read from auth_token_file or the auth_token_env variable. Optional when
  // every listed subscriber has a token of its own.
  std::string auth_token;
  // Empty: any subscriber id holding the shared token may connect; otherwise only these
  // (capture/subscriber_auth.h).
  std::vector<capture::SubscriberCredentials> subscribers;
  std::string admin = "127.0.0.1:7480";
  std::string admin_token;  // optional bearer token for the admin endpoint
  // `admin_tls:` the admin endpoint serves HTTPS only (paths resolved against the config's
  // directory); absent: plain HTTP.
  std::optional<admin::AdminTlsConfig> admin_tls;
  admin::HealthPolicy health;       // `health:` when GET /healthz answers 503
  std::vector<std::string> tables;  // "schema.table" or "schema.*"
  std::string publication;          // default: ferry_<node>
  std::string slot_prefix;          // default: ferry_<node>; slot = <prefix>_<subscriber>
  int heartbeat_interval_ms = 1000;
  // How often the log the source keeps for each subscriber is checked (PostgreSQL slots).
  int retention_check_interval_ms = 10000;
  size_t max_frame_bytes = 16 * 1024 * 1024;
  size_t max_connections = 64;  // connections served at once, authenticated or not
  size_t rows_per_frame = 1000;
  size_t copy_chunk_rows = 10000;       // rows per chunk when copying a table's existing rows
  size_t copy_max_rows_per_second = 0;  // per subscriber's copy, to spare the source; 0: no limit
  // Master-master: forward what apply agents wrote here from other nodes (a ring), or only what
  // was written here (false: a full mesh). The subscriber's own transactions never go back.
  bool forward_remote_changes = true;
  std::string log_level = "info";
  std::string log_format;  // text, journal or json; "": journal under systemd, else text
};

struct UpstreamConfig {
  std::string name;
  std::string address;  // "host:port" of the capture agent
  UpstreamTransport transport;
  std::string auth_token;
};

struct ApplyConfig {
  std::string file;
  std::string node;
  DatabaseConfig target;
  std::vector<UpstreamConfig> upstreams;
  std::string admin = "127.0.0.1:7481";
  std::string admin_token;                         // optional bearer token for the admin endpoint
  std::optional<admin::AdminTlsConfig> admin_tls;  // as CaptureConfig::admin_tls
  admin::HealthPolicy health;                      // as CaptureConfig::health
  std::vector<apply::MappingRule> mappings;
  // The target tables the stream may write ("schema.table" or "schema.*"), besides the mappings'
  // targets; empty: every table outside ferry_meta and the system schemas.
  std::vector<std::string> tables;
  // After a failure the stream connects again after reconnect_delay_ms, then waits twice as long
  // after each further failure (with jitter), up to reconnect_delay_max_ms, until it applies.
  int reconnect_delay_ms = 1000;
  int reconnect_delay_max_ms = 30000;
  size_t max_frame_bytes = 16 * 1024 * 1024;
  // A new subscriber first copies the existing rows of every replicated table (as PostgreSQL's
  // copy_data). false: the target was seeded by other means; only changes are streamed. In
  // master-master false unless the file sets it (a copy would overwrite the node's own writes).
  bool copy_data = true;
  // Chunks of this many tables are written at once during a copy, each on a target connection of
  // its own (as PostgreSQL's max_sync_workers_per_subscription, whose default is also 2).
  uint32_t copy_parallel_tables = 2;
  // A target table missing for a replicated source table is created from the source's columns
  // through the type mapping, with its primary key (apply/table_creator.h).
  bool create_tables = false;
  // Back-to-back source transactions share one target commit (`grouping:`).
  apply::GroupingOptions grouping;
  // `mode` and `conflicts`: how conflicts are detected and resolved (conflict/conflict.h).
  conflict::ConflictPolicy conflicts;
  bool conflicts_given = false;  // the config has a `conflicts` section
  std::string log_level = "info";
  std::string log_format;  // text, journal or json; "": journal under systemd, else text
};

// Parses and validates; the error lists every problem found, one per line.
Result<CaptureConfig> LoadCaptureConfig(const std::string& path);
Result<ApplyConfig> LoadApplyConfig(const std::string& path);

}  // namespace ferry::cli
