// Reading a MySQL/MariaDB ChangeSource the way a capture agent would, for the tests that run one
// against a real MariaDB server: whole transactions with their framing checked, values rendered
// for exact comparison.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "capture/mysql/mysql_source.h"
#include "tests/harness/mariadb_server.h"
#include "wire/position.h"

namespace ferry::capture::mysql {

using ferry::testing::MariaDbOptions;
using ferry::testing::MariaDbServer;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// One source transaction as the agent would receive it.
struct Tx {
  wire::Begin begin;
  std::vector<wire::Relation> relations;
  std::vector<wire::RowChange> rows;
  wire::Commit commit;
  // The relation each row refers to, as last sent before it.
  std::vector<wire::Relation> row_relations;
};

inline std::string Render(const wire::Value& value) {
  switch (value.kind_case()) {
    case wire::Value::kNull:
      return "NULL";
    case wire::Value::kUnchanged:
      return "UNCHANGED";
    case wire::Value::kBoolean:
      return value.boolean() ? "true" : "false";
    case wire::Value::kInt64:
      return std::to_string(value.int64());
    case wire::Value::kUint64:
      return std::to_string(value.uint64());
    case wire::Value::kDecimal:
      return "dec:" + value.decimal();
    case wire::Value::kText:
      return "'" + value.text() + "'";
    case wire::Value::kTimestamp:
      return "ts:" + value.timestamp();
    case wire::Value::kDate:
      return "date:" + value.date();
    case wire::Value::kEnumValue:
      return "enum:" + value.enum_value();
    case wire::Value::kSetValue:
      return "set:" + value.set_value();
    default:
      return value.ShortDebugString();
  }
}

inline std::vector<std::string> Render(
    const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  std::vector<std::string> out;
  for (const wire::Value& value : values) out.push_back(Render(value));
  return out;
}

inline std::vector<std::string> Names(const wire::Relation& relation) {
  std::vector<std::string> names;
  for (const wire::Column& column : relation.columns()) names.push_back(column.name());
  return names;
}

inline wire::Position Mariadb(const std::string& value) {
  wire::Position position;
  position.set_engine("mariadb");
  position.set_value(value);
  return position;
}

// Reads until `count` transactions are complete. Checks the framing on the way: Begin, then
// relations and rows, then a Commit at the Begin's position; rows only after their relation.
inline Result<std::vector<Tx>> ReadTransactions(ChangeSource& source, size_t count,
                                                seconds timeout = seconds(30)) {
  std::vector<Tx> done;
  std::optional<Tx> open;
  std::map<uint32_t, wire::Relation> relations;
  const auto deadline = Clock::now() + timeout;
  while (done.size() < count) {
    if (Clock::now() > deadline) {
      return Status::Error("timed out with " + std::to_string(done.size()) + " of " +
                           std::to_string(count) + " transactions");
    }
    Result<SourceEvent> event = source.Next(milliseconds(200));
    if (!event.ok()) return event.status();
    if (auto* begin = std::get_if<wire::Begin>(&*event)) {
      if (open) return Status::Error("Begin inside a transaction");
      open.emplace();
      open->begin = *begin;
    } else if (auto* relation = std::get_if<wire::Relation>(&*event)) {
      if (!open) return Status::Error("Relation outside a transaction");
      open->relations.push_back(*relation);
      relations[relation->id()] = *relation;
    } else if (auto* row = std::get_if<wire::RowChange>(&*event)) {
      if (!open) return Status::Error("RowChange outside a transaction");
      auto it = relations.find(row->relation_id());
      if (it == relations.end()) return Status::Error("RowChange before its Relation");
      open->rows.push_back(*row);
      open->row_relations.push_back(it->second);
    } else if (auto* commit = std::get_if<wire::Commit>(&*event)) {
      if (!open) return Status::Error("Commit outside a transaction");
      open->commit = *commit;
      if (commit->position().SerializeAsString() != open->begin.position().SerializeAsString()) {
        return Status::Error("Commit position " + commit->position().ShortDebugString() +
                             " differs from Begin position " +
                             open->begin.position().ShortDebugString());
      }
      done.push_back(std::move(*open));
      open.reset();
    } else if (std::holds_alternative<SourceHeartbeat>(*event) && open) {
      return Status::Error("heartbeat inside a transaction");
    }
  }
  return done;
}

// Reads for `duration` and fails on any transaction.
inline void ExpectNoTransaction(ChangeSource& source, milliseconds duration) {
  const auto deadline = Clock::now() + duration;
  while (Clock::now() < deadline) {
    Result<SourceEvent> event = source.Next(milliseconds(100));
    ASSERT_TRUE(event.ok()) << event.message();
    ASSERT_FALSE(std::holds_alternative<wire::Begin>(*event))
        << "unexpected transaction at " << std::get<wire::Begin>(*event).position().value();
  }
}

inline std::unique_ptr<ChangeSource> Source(const MariaDbServer& server,
                                            std::vector<std::string> tables,
                                            uint32_t server_id = 1001) {
  MysqlSourceOptions options;
  options.dsn = server.dsn();
  options.server_id = server_id;
  options.tables = std::move(tables);
  return MakeMysqlSource(std::move(options));
}

inline std::string GtidPos(const MariaDbServer& server) {
  return server.Scalar("SELECT @@global.gtid_binlog_pos");
}

// SHOW MASTER STATUS as a file position.
inline std::string FilePos(const MariaDbServer& server) {
  auto rows = server.Query("SHOW MASTER STATUS");
  if (!rows.ok() || rows->empty()) return "ERROR";
  return wire::FormatBinlogFilePosition(*(*rows)[0][0], std::stoull(*(*rows)[0][1]));
}

inline std::string CurrentBinlog(const MariaDbServer& server) {
  auto rows = server.Query("SHOW MASTER STATUS");
  if (!rows.ok() || rows->empty()) return "ERROR";
  return *(*rows)[0][0];
}

inline std::unique_ptr<MariaDbServer> StartServer(const std::string& name,
                                                  MariaDbOptions options = {}) {
  auto server = MariaDbServer::Start(name, std::move(options));
  EXPECT_TRUE(server.ok()) << server.message();
  return server.ok() ? std::move(*server) : nullptr;
}

// One server for a whole test suite, named `kName`, with binlog_row_metadata as `kRowMetadata`
// ("FULL", or "" for the server's default); each test uses its own tables.
template <const char* kName, const char* kRowMetadata>
class OneServerPerSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    MariaDbOptions options;
    options.binlog_row_metadata = kRowMetadata;
    server_ = StartServer(kName, options).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "MariaDB did not start"; }

  const MariaDbServer& db() const { return *server_; }
  void Exec(const std::string& sql) { ASSERT_TRUE(db().Exec(sql).ok()) << sql; }

  inline static MariaDbServer* server_ = nullptr;
};

inline constexpr char kFullRowMetadata[] = "FULL";
inline constexpr char kServerDefaultRowMetadata[] = "";

}  // namespace ferry::capture::mysql
