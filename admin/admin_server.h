// The admin HTTP endpoint (Boost.Beast), serving a MetricsRegistry:
//   GET /healthz  -> 200 "ok"
//   GET /status   -> registry StatusJson
//   GET /lag      -> registry LagJson
//   GET /metrics  -> Prometheus text
// Runs on its own thread; handlers never throw past the server (errors become 500s).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "admin/registry.h"
#include "common/status.h"

namespace ferry::admin {

class AdminServer {
 public:
  // `address` is "host:port" (port 0 picks a free one). An optional bearer token, when not empty,
  // is required on every path but /healthz.
  AdminServer(std::string address, const MetricsRegistry& registry, std::string bearer_token = "");
  ~AdminServer();  // stops

  Status Start();  // binds and starts serving; fails when the address is taken
  void Stop();
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::admin
