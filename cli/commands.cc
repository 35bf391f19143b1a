#include "cli/commands.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "admin/admin_server.h"
#include "admin/registry.h"
#include "apply/apply_agent.h"
#include "apply/mysql/mysql_sink.h"
#include "apply/postgres/postgres_sink.h"
#include "capture/capture_agent.h"
#include "capture/mysql/inspect.h"
#include "capture/mysql/mysql_chunk_reader.h"
#include "capture/mysql/mysql_retention.h"
#include "capture/mysql/mysql_source.h"
#include "capture/postgres/pg_chunk_reader.h"
#include "capture/postgres/pg_retention.h"
#include "capture/postgres/postgres_source.h"
#include "cli/config.h"
#include "cli/conflicts_command.h"
#include "cli/snapshot_command.h"
#include "cli/status_command.h"
#include "cli/verify_command.h"
#include "common/log.h"
#include "common/systemd_notify.h"

namespace ferry::cli {
namespace {

constexpr char kUsage[] = R"(ferry — database replication and change data capture

Usage:
  ferry capture --config FILE [--check]   run a capture agent beside a source database
  ferry apply   --config FILE [--check]   run an apply agent beside a target database
  ferry verify --config APPLY.yaml --source CAPTURE.yaml [--table schema.table]... [--columns]
               [--json] [--chunk-rows N] [--recheck-delay-ms N] [--recheck-rounds N]
               [--row-by-row]
                                          compare the replicated tables of source and target
                                          (exit 0 equal, 1 differ, 2 error)
  ferry snapshot --config APPLY.yaml --table schema.table [--table ...] [--upstream NAME]
                                          copy tables again into a running replica while
                                          replication runs (asks the running apply agent)
  ferry status [--json] [--watch [SECONDS]] CONFIG.yaml|HOST:PORT ...
                                          one line per stream of running agents (exit 0
                                          healthy, 1 lagging, 2 down, 3 bad usage)
  ferry conflicts list --config APPLY.yaml [--table schema.table] [--type TYPE] [--limit N]
                       [--json]           the conflicts logged in the target's
                                          ferry_meta.conflicts, newest first
  ferry inspect binlog FILE               decode a MySQL/MariaDB binlog file offline and print
                                          Ferry's change records as JSON lines
  ferry --version
  ferry --help

Options:
  --config FILE   the agent's YAML configuration (see README.md, "Configuration")
  --check         validate the configuration (and, for apply, the mappings against the
                  target database), report every problem, and exit: 0 when valid, 2 otherwise

The admin endpoint of a running agent answers GET /livez, /healthz, /status, /lag and /metrics, an
apply agent's also GET /conflicts?table=&type=&since=&limit= (conflicts since it started)
and POST /snapshot?table=schema.table[&upstream=NAME] (ferry snapshot).
)";

struct Arguments {
  std::string command;
  std::string config;
  bool check = false;
};

Result<Arguments> ParseArguments(int argc, char** argv) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      args.config = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      args.config = arg.substr(9);
    } else if (arg == "--check") {
      args.check = true;
    } else if (args.command.empty() && arg[0] != '-') {
      args.command = arg;
    } else {
      return Status::Error("unknown argument \"" + arg + "\"; see ferry --help");
    }
  }
  if (args.command != "capture" && args.command != "apply") {
    return Status::Error(args.command.empty() ? "no command given; see ferry --help"
                                              : "unknown command \"" + args.command +
                                                    "\"; the commands are capture, apply, verify, "
                                                    "snapshot, status, conflicts and inspect");
  }
  if (args.config.empty()) {
    return Status::Error("ferry " + args.command + " needs --config FILE; see ferry --help");
  }
  return args;
}

// Blocks SIGINT/SIGTERM in every thread; WaitForStopSignal() then receives them synchronously,
// so no agent code ever runs inside a signal handler.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// Then a second signal, while the agent stops, ends the process at once: as safe as kill -9,
// which loses nothing and applies nothing twice (ARCHITECTURE.md, invariants).
void WaitForStopSignal(const sigset_t& signals) {
  int received = 0;
  sigwait(&signals, &received);
  Logger("ferry")->info("received {}, stopping (a second signal exits at once)",
                        strsignal(received));
  std::thread([signals] {
    int again = 0;
    sigwait(&signals, &again);
    Logger("ferry")->warn("received {} again: exiting at once", strsignal(again));
    std::_Exit(1);
  }).detach();
}

// Under systemd (Type=notify): READY=1 once the agent serves, STOPPING=1 when it stops. A failure
// is logged, not fatal: the service manager then times the start out and says so itself.
void NotifySystemd(const SystemdNotifier& systemd, const std::string& state) {
  Status sent = systemd.Notify(state);
  if (!sent.ok()) Logger("ferry")->warn("{}", sent.message());
}

// The watchdog's question: does the registry, which every agent thread updates, still answer?
// An agent thread that deadlocks holding its lock makes this block, so the pings stop.
std::function<bool()> RegistryAnswers(const admin::MetricsRegistry& registry) {
  return [&registry] {
    (void)registry.HealthProblems();
    return true;
  };
}

int ConfigError(const Status& status) {
  std::cerr << "ferry: configuration is not valid:\n" << status.message() << "\n";
  return 2;
}

// The admin endpoint's HTTPS settings (null without admin_tls), loaded before --check answers, so
// that a certificate or key that cannot serve is a configuration error, not a failed request.
Result<std::shared_ptr<admin::AdminTls>> LoadAdminTls(
    const std::string& file, const std::optional<admin::AdminTlsConfig>& config) {
  if (!config) return std::shared_ptr<admin::AdminTls>();
  Result<std::shared_ptr<admin::AdminTls>> tls = admin::AdminTls::Load(*config);
  if (!tls.ok()) return tls.status().WithContext(file + ": admin_tls");
  return tls;
}

// A binlog reader is a replica to its server and needs a server id no other replica uses; each
// subscriber gets its own, so that two apply agents reading one source do not end each other's
// dumps: the configured base (default 4000000000) plus a number derived from the subscriber.
uint32_t ServerIdFor(uint32_t base, const std::string& subscriber) {
  uint32_t hash = 2166136261u;  // FNV-1a
  for (unsigned char c : subscriber) hash = (hash ^ c) * 16777619u;
  const uint32_t start = base != 0 ? base : 4000000000u;
  return start + hash % 65536u;
}

// The source for the configured engine, one per subscriber connection.
capture::ChangeSourceFactory SourceFactoryFor(const CaptureConfig& config) {
  if (config.source.engine == "postgres") {
    capture::postgres::PostgresSourceOptions options;
    options.dsn = config.source.dsn;
    options.publication = config.publication;
    options.tables = config.tables;
    std::string slot_prefix = config.slot_prefix;
    return [options, slot_prefix](
               const std::string& subscriber,
               const std::vector<std::string>&) -> Result<std::unique_ptr<capture::ChangeSource>> {
      capture::postgres::PostgresSourceOptions for_subscriber = options;
      for_subscriber.slot = capture::postgres::SlotName(slot_prefix, subscriber);
      return capture::postgres::MakePostgresSource(for_subscriber);
    };
  }
  capture::mysql::MysqlSourceOptions options;
  options.dsn = config.source.dsn;
  options.tables = config.tables;
  options.skip_statements = config.source.skip_statements;
  uint32_t base = config.source.server_id;
  return [options, base](
             const std::string& subscriber,
             const std::vector<std::string>&) -> Result<std::unique_ptr<capture::ChangeSource>> {
    capture::mysql::MysqlSourceOptions for_subscriber = options;
    for_subscriber.server_id = ServerIdFor(base, subscriber);
    return capture::mysql::MakeMysqlSource(for_subscriber);
  };
}

// Reads existing rows for subscribers that ask for a copy: an ordinary connection to the same
// source, covering the same tables as the stream.
capture::ChunkReaderFactory ChunkReaderFactoryFor(const CaptureConfig& config) {
  const std::string dsn = config.source.dsn;
  if (config.source.engine == "postgres") {
    const std::string publication = config.publication;
    return [dsn, publication](const std::string&) {
      return capture::postgres::ConnectPostgresChunkReader(dsn, publication);
    };
  }
  const std::vector<std::string> tables = config.tables;
  return [dsn, tables](const std::string&) {
    return capture::mysql::ConnectMysqlChunkReader(dsn, tables);
  };
}

int RunCapture(const Arguments& args, const sigset_t& signals) {
  auto config = LoadCaptureConfig(args.config);
  if (!config.ok()) return ConfigError(config.status());
  std::shared_ptr<const wire::TlsContext> tls;
  if (config->transport.tls) {
    auto context = wire::TlsContext::ForServer(*config->transport.tls);
    if (!context.ok()) return ConfigError(context.status().WithContext(args.config + ": tls"));
    tls = *context;
  }
  auto admin_tls = LoadAdminTls(args.config, config->admin_tls);
  if (!admin_tls.ok()) return ConfigError(admin_tls.status());
  if (args.check) {
    std::cout << args.config << ": ok\n";
    return 0;
  }
  SetLogLevel(config->log_level);
  if (!config->log_format.empty()) SetLogFormat(*ParseLogFormat(config->log_format));
  admin::MetricsRegistry registry("capture", config->node, config->health);
  admin::AdminServer admin_server(config->admin, registry, config->admin_token, nullptr,
                                  *admin_tls);
  if (Status s = admin_server.Start(); !s.ok()) {
    Logger("ferry")->error("{}", s.message());
    return 1;
  }

  capture::ChangeSourceFactory factory = SourceFactoryFor(*config);
  capture::CaptureAgentOptions options;
  options.node = config->node;
  options.listen = config->listen;
  options.tls = tls;
  if (config->transport.tls_disabled) options.plain_tcp_note = "tls: disabled in the config";
  options.subscribers = capture::SubscriberPolicy{config->auth_token, config->subscribers};
  options.heartbeat_interval = std::chrono::milliseconds(config->heartbeat_interval_ms);
  options.max_frame_bytes = config->max_frame_bytes;
  options.max_connections = config->max_connections;
  // A frame is flushed once it passes bytes_per_frame, so it may hold one more row: a quarter of
  // the limit leaves room for rows up to three quarters of it.
  options.bytes_per_frame = std::min(options.bytes_per_frame, config->max_frame_bytes / 4);
  options.rows_per_frame = config->rows_per_frame;
  options.copy_chunk_rows = config->copy_chunk_rows;
  options.copy_max_rows_per_second = config->copy_max_rows_per_second;
  options.forward_remote_changes = config->forward_remote_changes;
  if (config->source.engine == "postgres") {
    options.retention_probe =
        capture::postgres::PgRetentionProbe(config->source.dsn, config->slot_prefix);
  } else {
    options.retention_probe = capture::mysql::MysqlRetentionProbe(config->source.dsn);
  }
  options.retention_interval = std::chrono::milliseconds(config->retention_check_interval_ms);
  capture::CaptureAgent agent(options, factory, ChunkReaderFactoryFor(*config), registry);
  if (Status s = agent.Start(); !s.ok()) {
    Logger("ferry")->error("{}", s.message());
    return 1;
  }
  const SystemdNotifier systemd = SystemdNotifier::FromEnvironment();
  NotifySystemd(systemd, "READY=1\nSTATUS=listening on " + config->listen);
  WatchdogPinger watchdog(systemd, RegistryAnswers(registry));
  std::thread stopper([&] {
    WaitForStopSignal(signals);
    NotifySystemd(systemd, "STOPPING=1");
    agent.Stop();
  });
  agent.Run();
  stopper.join();
  admin_server.Stop();
  return 0;
}

}  // namespace

apply::SinkFactory SinkFactoryFor(const DatabaseConfig& target) {
  std::string dsn = target.dsn;
  const std::chrono::milliseconds lock_timeout(target.lock_timeout_ms);
  if (target.engine == "postgres") {
    const auto zero_dates = target.zero_dates == "error" ? apply::postgres::ZeroDates::kError
                                                         : apply::postgres::ZeroDates::kNull;
    const bool synchronous_commit = target.synchronous_commit;
    return [dsn, zero_dates, synchronous_commit, lock_timeout] {
      return apply::postgres::MakePostgresSink(dsn, zero_dates, synchronous_commit, lock_timeout);
    };
  }
  return [dsn, lock_timeout] { return apply::mysql::MakeMysqlSink(dsn, lock_timeout); };
}

namespace {

int RunApply(const Arguments& args, const sigset_t& signals) {
  auto config = LoadApplyConfig(args.config);
  if (!config.ok()) return ConfigError(config.status());
  std::vector<apply::Upstream> upstreams;
  for (const auto& upstream : config->upstreams) {
    apply::Upstream stream{upstream.name, upstream.address, nullptr, "a loopback address",
                           upstream.auth_token};
    if (upstream.transport.tls) {
      auto context = wire::TlsContext::ForClient(*upstream.transport.tls);
      if (!context.ok()) {
        return ConfigError(
            context.status().WithContext(args.config + ": upstream " + upstream.name + ": tls"));
      }
      stream.tls = *context;
    }
    if (upstream.transport.tls_disabled) stream.plain_tcp_note = "tls: disabled in the config";
    upstreams.push_back(std::move(stream));
  }
  auto admin_tls = LoadAdminTls(args.config, config->admin_tls);
  if (!admin_tls.ok()) return ConfigError(admin_tls.status());
  apply::SinkFactory make_sink = SinkFactoryFor(config->target);
  if (args.check) {
    auto sink = make_sink();
    Status status = sink->Open();
    if (status.ok())
      status = apply::CheckMappingsAgainstTarget(config->mappings, *sink, config->create_tables);
    if (!status.ok()) return ConfigError(status.WithContext(args.config + ": target"));
    std::cout << args.config << ": ok\n";
    return 0;
  }
  SetLogLevel(config->log_level);
  if (!config->log_format.empty()) SetLogFormat(*ParseLogFormat(config->log_format));
  admin::MetricsRegistry registry("apply", config->node, config->health);
  apply::ApplyAgentOptions options;
  options.node = config->node;
  options.upstreams = std::move(upstreams);
  options.reconnect_delay = std::chrono::milliseconds(config->reconnect_delay_ms);
  options.reconnect_delay_max = std::chrono::milliseconds(config->reconnect_delay_max_ms);
  options.max_frame_bytes = config->max_frame_bytes;
  options.copy_data = config->copy_data;
  options.copy_parallel_tables = config->copy_parallel_tables;
  options.create_tables = config->create_tables;
  options.grouping = config->grouping;
  options.conflicts = config->conflicts;
  options.detect_conflicts = config->conflicts_given;
  apply::TableMapper mapper(config->mappings, config->tables, config->target.engine);
  Logger("apply")->info("node {} writes {} (tables:)", config->node, mapper.allowed().Describe());
  apply::ApplyAgent agent(options, make_sink, std::move(mapper), registry);
  admin::AdminServer admin_server(
      config->admin, registry, config->admin_token,
      [&agent](const std::string& path, const std::map<std::string, std::string>& query) {
        return ApplyAdminCommand(agent, path, query);
      },
      *admin_tls);
  // The agent's streams exist before a command can reach them.
  agent.Start();
  if (Status s = admin_server.Start(); !s.ok()) {
    Logger("ferry")->error("{}", s.message());
    agent.Stop();
    return 1;
  }
  const SystemdNotifier systemd = SystemdNotifier::FromEnvironment();
  NotifySystemd(systemd, "READY=1\nSTATUS=serving the admin endpoint on " + config->admin);
  WatchdogPinger watchdog(systemd, RegistryAnswers(registry));
  WaitForStopSignal(signals);
  NotifySystemd(systemd, "STOPPING=1");
  agent.Stop();
  admin_server.Stop();
  return 0;
}

}  // namespace

int RunCommandLine(int argc, char** argv) {
  SetLogFormat(DefaultLogFormat());
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << kUsage;
      return 0;
    }
    if (std::strcmp(argv[i], "--version") == 0) {
      std::cout << "ferry " << FERRY_VERSION << "\n";
      return 0;
    }
  }
  if (argc >= 2 && std::strcmp(argv[1], "inspect") == 0) {
    if (argc != 4 || std::strcmp(argv[2], "binlog") != 0) {
      std::cerr << "ferry: usage: ferry inspect binlog FILE\n";
      return 2;
    }
    return capture::mysql::InspectBinlog(argv[3], std::cout, std::cerr);
  }
  if (argc >= 2 && std::strcmp(argv[1], "snapshot") == 0) {
    return RunSnapshot(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  }
  if (argc >= 2 && std::strcmp(argv[1], "status") == 0) {
    return RunStatus(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  }
  if (argc >= 2 && std::strcmp(argv[1], "conflicts") == 0) {
    return RunConflicts(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  }
  if (argc >= 2 && std::strcmp(argv[1], "verify") == 0) {
    return RunVerify(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  }
  auto args = ParseArguments(argc, argv);
  if (!args.ok()) {
    std::cerr << "ferry: " << args.message() << "\n";
    return 2;
  }
  sigset_t signals = BlockStopSignals();
  return args->command == "capture" ? RunCapture(*args, signals) : RunApply(*args, signals);
}

}  // namespace ferry::cli
