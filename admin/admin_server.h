// The admin HTTP endpoint (Boost.Beast), serving a MetricsRegistry:
//   GET /livez    -> 200 "ok" while the agent runs
//   GET /healthz  -> 200 "ok", or 503 and the registry's HealthProblems, one per line
//   GET /status   -> registry StatusJson
//   GET /lag      -> registry LagJson
//   GET /metrics  -> Prometheus text
//   POST /<command>?name=value&...  -> the agent's CommandHandler (e.g. POST /snapshot)
// Runs on its own thread; handlers never throw past the server (errors become 500s). Serves plain
// HTTP, or with an AdminTls only HTTPS (TLS 1.2 or later, for curl, Prometheus and browsers).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "admin/registry.h"
#include "common/status.h"

namespace ferry::admin {

// The agent's answer to a command: an HTTP status (200, 202, 400, ...) and a JSON body.
struct CommandReply {
  unsigned status = 200;
  std::string json;
};

// Runs the command POSTed to `path` with the query's (decoded) parameters, on the server's
// thread: it must return promptly. nullopt when there is no such command.
using CommandHandler = std::function<std::optional<CommandReply>(
    const std::string& path, const std::map<std::string, std::string>& query)>;

// The admin endpoint's certificate and key (`admin_tls:`), PEM files.
struct AdminTlsConfig {
  std::string cert_file;  // the certificate chain, leaf first
  std::string key_file;   // its unencrypted private key
};

// HTTPS settings made from an AdminTlsConfig: the files are read, and the key checked against the
// certificate, once, when the agent starts, so that a mistake stops the start instead of failing
// every request.
class AdminTls {
 public:
  static Result<std::shared_ptr<AdminTls>> Load(const AdminTlsConfig& config);
  ~AdminTls();
  AdminTls(const AdminTls&) = delete;
  AdminTls& operator=(const AdminTls&) = delete;

  struct Native;
  explicit AdminTls(std::unique_ptr<Native> native);
  Native& native() const { return *native_; }

 private:
  std::unique_ptr<Native> native_;
};

class AdminServer {
 public:
  // `address` is "host:port" (port 0 picks a free one). An optional bearer token, when not empty,
  // is required on every path but /livez and /healthz. Without `commands`, the endpoint is
  // read-only. With `tls`, it serves HTTPS only: a client that does not complete a TLS handshake
  // within 10 s is dropped unanswered.
  AdminServer(std::string address, const MetricsRegistry& registry, std::string bearer_token = "",
              CommandHandler commands = nullptr, std::shared_ptr<AdminTls> tls = nullptr);
  ~AdminServer();  // stops

  Status Start();  // binds and starts serving; fails when the address is taken
  void Stop();
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What an AdminServer with these settings answers a client that sends `request` (raw bytes,
// everything it sends before closing its end) on a new connection: the serialized response to
// the first request in it, or nullopt when the server would hang up without answering (the
// client sent nothing). Parsing, limits, authentication and routing are the server's own; only
// the socket is missing. For tests and fuzzing.
std::optional<std::string> AnswerRawRequest(std::string_view request,
                                            const MetricsRegistry& registry,
                                            const std::string& bearer_token = "",
                                            const CommandHandler& commands = nullptr);

}  // namespace ferry::admin
