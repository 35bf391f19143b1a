// Two nodes that both take writes, east and west, each with a capture agent and an apply agent
// toward the other: the set-up every master-master end-to-end test starts from.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/harness/replication_setup.h"
#include "tests/integration/directions.h"

namespace ferry::testing {

// RowsAsText's answer when the query failed: two failures must not pass for equal rows.
inline bool IsError(const std::string& rows) { return rows.rfind("ERROR", 0) == 0; }

// GET `path` of an admin endpoint as JSON; an empty object when it does not answer.
inline nlohmann::json GetJson(uint16_t port, const std::string& path) {
  auto body = HttpGet(port, path);
  if (!body.ok()) return nlohmann::json::object();
  return nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
}

// A positive number from the environment (longer runs of a test), else `fallback`.
inline int EnvNumber(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && std::atoi(value) > 0 ? std::atoi(value) : fallback;
}

// The end of an agent's log, for failure messages.
inline std::string Tail(const std::string& log, size_t size = 3000) {
  return log.size() > size ? log.substr(log.size() - size) : log;
}

class NodePair {
 public:
  // Starts east (engine `d.source`) and west (`d.target`) with their schemas and configures both
  // links: each replicates `tables` (unqualified names; the harness's schema or database on
  // each engine) in master-master mode with `apply_settings` added to both apply configs. No
  // agent runs yet, so a test may still change either link's settings.
  void Create(const Direction& d, const std::string& east_schema, const std::string& west_schema,
              const std::vector<std::string>& tables, const std::string& apply_settings) {
    auto forward = ReplicationSetup::Create(
        d.source, d.target, east_schema, west_schema,
        {.source_defaults = d.server_defaults, .target_defaults = d.server_defaults});
    ASSERT_TRUE(forward.ok()) << forward.message();
    east_to_west_ = std::move(*forward);
    auto reverse = ReplicationSetup::Reverse(*east_to_west_);
    ASSERT_TRUE(reverse.ok()) << reverse.message();
    west_to_east_ = std::move(*reverse);
    for (ReplicationSetup* link : links()) {
      const std::string source = link->source().engine(), target = link->target().engine();
      std::string listed, mappings;
      for (const std::string& table : tables) {
        listed += (listed.empty() ? "\"" : ", \"") + Qualified(source, table) + "\"";
        if (source != target) {
          mappings += "  - source: " + Qualified(source, table) +
                      "\n    target: " + Qualified(target, table) + "\n";
        }
      }
      link->capture_tables = "[" + listed + "]";
      link->apply_mappings = mappings;
      link->apply_settings = "mode: master-master\n" + apply_settings;
    }
  }

  // Both capture agents, then both apply agents (each waits until it streams).
  void StartAgents() {
    for (ReplicationSetup* link : links()) {
      ASSERT_TRUE(link->StartCapture().ok()) << link->capture_log();
    }
    for (ReplicationSetup* link : links()) {
      ASSERT_TRUE(link->StartApply().ok()) << link->apply_log();
    }
  }

  // Stops both apply agents: what each node writes now meets what the other wrote.
  void Partition() {
    east_to_west_->KillApply();
    west_to_east_->KillApply();
  }
  void Heal() {
    for (ReplicationSetup* link : links()) {
      ASSERT_TRUE(link->StartApply().ok()) << link->apply_log();
    }
  }

  TestDatabase& east() { return east_to_west_->source(); }
  TestDatabase& west() { return west_to_east_->source(); }
  // The link whose apply agent writes into west, and the one writing into east.
  ReplicationSetup& east_to_west() { return *east_to_west_; }
  ReplicationSetup& west_to_east() { return *west_to_east_; }
  std::vector<ReplicationSetup*> links() { return {east_to_west_.get(), west_to_east_.get()}; }

  // Every agent's recent log.
  std::string Logs() const {
    return "--- east capture ---\n" + Tail(east_to_west_->capture_log()) +
           "\n--- west apply ---\n" + Tail(east_to_west_->apply_log()) +
           "\n--- west capture ---\n" + Tail(west_to_east_->capture_log()) +
           "\n--- east apply ---\n" + Tail(west_to_east_->apply_log());
  }

 private:
  std::unique_ptr<ReplicationSetup> east_to_west_;
  std::unique_ptr<ReplicationSetup> west_to_east_;
};

}  // namespace ferry::testing
