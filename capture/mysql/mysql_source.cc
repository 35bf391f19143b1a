#include "capture/mysql/mysql_source.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "capture/mysql/binlog_decoder.h"
#include "capture/mysql/binlog_stream.h"
#include "capture/mysql/mysql_charset.h"
#include "capture/mysql/table_selection.h"
#include "common/log.h"
#include "wire/position.h"

namespace ferry::capture::mysql {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The reader runs at most this far ahead of Next(): batches (one per binlog event) and bytes.
// The bytes are encoded sizes; decoded rows take several times that in memory (about 10 times
// for short rows: 16 MB of them took the agent to 93 MB during a bulk backlog, 139 MB when the
// subscriber was slower). 4 MB is about 100,000 short rows, half a second of sending at bulk
// speed, which keeps the reader and the sender both busy (the same drain speed as 16 MB) at
// 53 MB.
constexpr size_t kQueueBatches = 1024;
constexpr size_t kQueueBytes = 4 << 20;
constexpr size_t kEventsPerBatch = 256;
// The server sends a HEARTBEAT event after this long without events, so the reader wakes up.
constexpr milliseconds kHeartbeatPeriod{1000};
// With heartbeats every second, a minute of silence means the connection is dead.
constexpr unsigned kStreamReadTimeoutS = 60;
constexpr unsigned kQueryReadTimeoutS = 30;
// Transactions on tables nobody wants still move the head; tell the agent at most this often.
constexpr milliseconds kSkippedHeartbeatInterval{200};
// Server error 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG): the dump cannot start or go on.
constexpr unsigned kErrFatalReadingBinlog = 1236;

int64_t NowUnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a queued event costs, roughly: its encoded size.
size_t EventBytes(const SourceEvent& event) {
  if (const auto* row = std::get_if<wire::RowChange>(&event)) return row->ByteSizeLong();
  if (const auto* relation = std::get_if<wire::Relation>(&event)) return relation->ByteSizeLong();
  return 64;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

wire::Position MakePosition(const std::string& engine, const std::string& value) {
  wire::Position position;
  position.set_engine(engine);
  position.set_value(value);
  return position;
}

// ---- the queue between the reader thread and Next() -----------------------------------------

// What the reader made of one binlog event, or the error that ended the stream.
struct Batch {
  std::vector<SourceEvent> events;
  Status error = Status::Ok();
  size_t bytes = 0;
  // The reader's position after these events, when they end at a transaction boundary.
  std::optional<wire::Position> head;
};

class BatchQueue {
 public:
  // Waits while the queue is full (so the reader stops reading the server); false once closed.
  bool Push(Batch batch) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] {
      return closed_ || items_.empty() ||
             (items_.size() < kQueueBatches && bytes_ + batch.bytes <= kQueueBytes);
    });
    if (closed_) return false;
    bytes_ += batch.bytes;
    items_.push_back(std::move(batch));
    not_empty_.notify_one();
    return true;
  }

  std::optional<Batch> Pop(milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!not_empty_.wait_for(lock, timeout, [&] { return !items_.empty(); })) return std::nullopt;
    Batch batch = std::move(items_.front());
    items_.pop_front();
    bytes_ -= batch.bytes;
    not_full_.notify_one();
    return batch;
  }

  // Wakes a waiting Push, which then gives up.
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_full_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<Batch> items_;
  size_t bytes_ = 0;
  bool closed_ = false;
};

// ---- what the binlog leaves out: the catalog -------------------------------------------------

// True when `text` holds `name` as a whole word, not inside a longer identifier. A false match
// (a column of the same name) only costs one query.
bool MentionsIdentifier(const std::string& text, const std::string& name) {
  auto identifier_char = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
  };
  for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
    const bool starts = at == 0 || !identifier_char(text[at - 1]);
    const size_t end = at + name.size();
    const bool ends = end >= text.size() || !identifier_char(text[end]);
    if (starts && ends) return true;
  }
  return false;
}

// Tables as information_schema describes them now (see table_catalog.h for why and when that is
// exact), on a connection of its own, cached per table until a DDL statement mentions it.
class SchemaCatalog {
 public:
  SchemaCatalog(MysqlDsn params, std::string label)
      : params_(std::move(params)), label_(std::move(label)) {}

  // The table as the catalog describes it; valid until the next call.
  Result<const CatalogTable*> Describe(const std::string& schema, const std::string& table) {
    const std::string key = schema + "." + table;
    if (auto it = cache_.find(key); it != cache_.end()) return &it->second.catalog;
    Result<std::vector<SqlRow>> columns = Query(
        [&] { return CatalogColumnsQuery(connection_->Quote(schema), connection_->Quote(table)); });
    if (!columns.ok()) return columns.status();
    Result<std::vector<SqlRow>> changed = Query([&] {
      return "SELECT UNIX_TIMESTAMP(CREATE_TIME) FROM information_schema.TABLES"
             " WHERE TABLE_SCHEMA = " +
             connection_->Quote(schema) + " AND TABLE_NAME = " + connection_->Quote(table);
    });
    if (!changed.ok()) return changed.status();
    Entry entry{table, {}};
    entry.catalog.columns = CatalogColumnsFromRows(*columns);
    if (!changed->empty() && changed->front()[0]) {
      entry.catalog.changed_at = std::strtoll(changed->front()[0]->c_str(), nullptr, 10);
    }
    return &cache_.insert_or_assign(key, std::move(entry)).first->second.catalog;
  }

  // Forgets every cached table that `statement` mentions.
  void Forget(const std::string& statement) {
    const std::string text = Lower(statement);
    std::erase_if(cache_, [&](const auto& item) {
      return MentionsIdentifier(text, Lower(item.second.table));
    });
  }

 private:
  struct Entry {
    std::string table;
    CatalogTable catalog;
  };

  // One reconnect: an idle connection may have been closed by the server's wait_timeout. `sql`
  // quotes through the connection, so it is built once connected.
  Result<std::vector<SqlRow>> Query(const std::function<std::string()>& sql) {
    for (int attempt = 0;; ++attempt) {
      if (!connection_) {
        Result<std::unique_ptr<MysqlConnection>> connection =
            MysqlConnection::Connect(params_, kQueryReadTimeoutS);
        if (!connection.ok()) return connection.status();
        connection_ = std::move(*connection);
        connection_->set_label(label_);
      }
      Result<std::vector<SqlRow>> rows = connection_->Query(sql());
      if (rows.ok() || attempt > 0) return rows;
      connection_.reset();
    }
  }

  MysqlDsn params_;
  std::string label_;
  std::unique_ptr<MysqlConnection> connection_;
  std::map<std::string, Entry> cache_;  // by "schema.table"
};

// ---- transactions, the table filter, statements ------------------------------------------------

// Emits Relation/RowChange of the wanted tables only, and a transaction's Begin and Commit only
// when it has one of their rows: the Begin is held until then. Stops at a statement that changes
// rows of a wanted table without row events (statement_effect.h), unless the operator listed
// it in `skip_statements`.
class TransactionFilter {
 public:
  TransactionFilter(TableSelection tables, SchemaCatalog& catalog,
                    std::set<std::string> skip_statements, std::string where)
      : tables_(std::move(tables)),
        catalog_(catalog),
        skip_statements_(std::move(skip_statements)),
        where_(std::move(where)),
        log_(Logger("capture.mysql")) {}

  Status Add(DecodedEvent decoded, std::vector<SourceEvent>& out) {
    if (auto* ddl = std::get_if<Ddl>(&decoded)) {
      catalog_.Forget(ddl->statement);
      return CheckStatement(*ddl);
    }
    SourceEvent& event = std::get<SourceEvent>(decoded);
    if (auto* begin = std::get_if<wire::Begin>(&event)) {
      in_transaction_ = true;
      held_begin_ = std::move(*begin);
      begin_sent_ = false;
    } else if (auto* relation = std::get_if<wire::Relation>(&event)) {
      AddRelation(std::move(*relation));
    } else if (auto* row = std::get_if<wire::RowChange>(&event)) {
      return AddRow(std::move(*row), out);
    } else if (auto* commit = std::get_if<wire::Commit>(&event)) {
      if (begin_sent_) out.push_back(std::move(*commit));
      in_transaction_ = false;
      begin_sent_ = false;
      held_begin_.reset();
    }
    return Status::Ok();
  }

  bool in_transaction() const { return in_transaction_; }

  // For the decoder: a wanted table as the catalog describes it; nothing for other tables.
  Result<const CatalogTable*> Catalog(const TableMap& table) {
    if (!tables_.Streams(table.schema, table.table)) return nullptr;
    return catalog_.Describe(table.schema, table.table);
  }

 private:
  struct RelationState {
    bool wanted = false;
    bool sent = false;  // `relation` went out since it last changed
    wire::Relation relation;
  };

  // Relations go out just before their first row, so a skipped table's never do. The decoder
  // repeats a relation only when it changed.
  void AddRelation(wire::Relation relation) {
    RelationState& state = relations_[relation.id()];
    state.wanted = tables_.Streams(relation.schema(), relation.table());
    state.sent = false;
    state.relation = std::move(relation);
  }

  Status AddRow(wire::RowChange row, std::vector<SourceEvent>& out) {
    auto it = relations_.find(row.relation_id());
    if (it == relations_.end()) {
      return Status::Error("binlog decoder gave a row change for relation " +
                           std::to_string(row.relation_id()) + " before the relation itself");
    }
    RelationState& state = it->second;
    if (!state.wanted) return Status::Ok();
    if (held_begin_) {
      out.push_back(std::move(*held_begin_));
      held_begin_.reset();
      begin_sent_ = true;
    }
    if (!state.sent) {
      out.push_back(state.relation);
      state.sent = true;
    }
    out.push_back(std::move(row));
    return Status::Ok();
  }

  Status CheckStatement(const Ddl& ddl) {
    if (ddl.effect.kind != StatementEffect::Kind::kChangesRows) return Status::Ok();
    std::string touched;
    for (const StatementTable& table : ddl.effect.tables) {
      if (!tables_.Touches(table.schema, table.table)) continue;
      touched += (touched.empty() ? "" : ", ") + table.schema +
                 (table.table.empty() ? " (every table)" : "." + table.table);
    }
    if (touched.empty()) return Status::Ok();
    std::string statement = ddl.statement.substr(0, 300);
    if (statement.size() < ddl.statement.size()) statement += "...";
    if (skip_statements_.count(ddl.at) != 0) {
      log_->warn(
          "{}: passing over {} at {} (listed in skip_statements), which changed rows of "
          "replicated {}: \"{}\"",
          where_, ddl.effect.summary, ddl.at, touched, statement);
      return Status::Ok();
    }
    const bool dml = ddl.effect.summary.rfind("statement-based", 0) == 0;
    return Status::Error(
        ddl.effect.summary + " at " + ddl.at + " changes rows of replicated " + touched +
        " without row events, so Ferry cannot replicate it (\"" + statement + "\")" +
        (dml ? "; the session that ran it had binlog_format=STATEMENT or MIXED: make sure "
               "every writer uses binlog_format=ROW"
             : "") +
        ". Make the same change on the target yourself, then let the stream pass it: add \"" +
        ddl.at +
        "\" to source.skip_statements in the capture config and restart the capture agent (or "
        "stop replicating the table: remove it from tables:)");
  }

  TableSelection tables_;
  SchemaCatalog& catalog_;
  const std::set<std::string> skip_statements_;
  const std::string where_;
  std::shared_ptr<spdlog::logger> log_;
  bool in_transaction_ = false;
  bool begin_sent_ = false;
  std::optional<wire::Begin> held_begin_;
  std::unordered_map<uint32_t, RelationState> relations_;
};

// ---- the server ------------------------------------------------------------------------------

struct ServerInfo {
  std::string version;
  bool mariadb = false;
  std::string engine;
  uint32_t server_id = 0;
  bool log_bin = false;
  std::string binlog_format;
  std::string binlog_row_image;
  std::string binlog_row_metadata;  // empty when the server has no such setting
  std::string gtid_binlog_pos;      // MariaDB
  std::string gtid_mode;            // MySQL
  bool mysql_gtids = false;         // MySQL with gtid_mode=ON: positions are GTID sets
};

bool IsOn(const std::optional<std::string>& value) {
  return value && (*value == "1" || Lower(*value) == "on");
}

Result<ServerInfo> ReadServerInfo(MysqlConnection& connection) {
  Result<std::vector<SqlRow>> rows = connection.Query(
      "SELECT @@version, @@global.server_id, @@global.log_bin, @@global.binlog_format,"
      " @@global.binlog_row_image");
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1 || rows->front().size() != 5) {
    return Status::Error(connection.Describe() + ": reading server settings: unexpected result");
  }
  const SqlRow& row = rows->front();
  ServerInfo info;
  info.version = row[0].value_or("");
  info.mariadb = info.version.find("MariaDB") != std::string::npos;
  info.engine = info.mariadb ? wire::kEngineMariaDb : wire::kEngineMySql;
  info.server_id = static_cast<uint32_t>(std::strtoul(row[1].value_or("0").c_str(), nullptr, 10));
  info.log_bin = IsOn(row[2]);
  info.binlog_format = row[3].value_or("");
  info.binlog_row_image = row[4].value_or("");
  // binlog_row_metadata exists from MariaDB 10.5 and MySQL 8.0.1; older servers say "unknown
  // system variable", which only means the names must come from information_schema.
  Result<std::optional<std::string>> metadata =
      connection.Scalar("SELECT @@global.binlog_row_metadata");
  if (metadata.ok()) info.binlog_row_metadata = metadata->value_or("");
  if (info.mariadb) {
    Result<std::optional<std::string>> gtid = connection.Scalar("SELECT @@global.gtid_binlog_pos");
    if (!gtid.ok()) return gtid.status();
    info.gtid_binlog_pos = gtid->value_or("");
  } else {
    Result<std::optional<std::string>> mode = connection.Scalar("SELECT @@global.gtid_mode");
    if (!mode.ok()) return mode.status();
    info.gtid_mode = mode->value_or("");
    info.mysql_gtids = Lower(info.gtid_mode) == "on";
  }
  return info;
}

Status CheckSettings(const ServerInfo& info, const std::string& where, uint32_t reader_id) {
  if (!info.log_bin) {
    return Status::Error(where +
                         " has log_bin=OFF; start it with binary logging (log_bin=<base name> "
                         "in my.cnf, and a server_id) — Ferry reads the binary log");
  }
  if (Lower(info.binlog_format) != "row") {
    return Status::Error(where + " has binlog_format=" + info.binlog_format +
                         "; set binlog_format=ROW (SET GLOBAL binlog_format=ROW and in my.cnf) — "
                         "Ferry reads row events only");
  }
  if (Lower(info.binlog_row_image) != "full") {
    return Status::Error(where + " has binlog_row_image=" + info.binlog_row_image +
                         "; set binlog_row_image=FULL (SET GLOBAL binlog_row_image=FULL and in "
                         "my.cnf) — Ferry needs whole rows before and after each change");
  }
  if (!info.mariadb && Lower(info.gtid_mode) != "off" && !info.mysql_gtids) {
    return Status::Error(where + " has gtid_mode=" + info.gtid_mode +
                         ", where some transactions have GTIDs and some do not, so no single kind "
                         "of position covers them: finish the change to gtid_mode=ON (or back to "
                         "OFF) first");
  }
  if (reader_id == 0) {
    return Status::Error(where +
                         ": server_id 0 cannot read a binlog stream; give this source a "
                         "server_id unique among the replicas of " +
                         where);
  }
  if (reader_id == info.server_id) {
    return Status::Error(where + ": server_id " + std::to_string(reader_id) +
                         " is the source's own server_id; give this source a server_id unique "
                         "among the source's replicas");
  }
  return Status::Ok();
}

// The binary logs the server still has: name -> size.
Result<std::map<std::string, uint64_t>> BinaryLogs(MysqlConnection& connection) {
  Result<std::vector<SqlRow>> rows = connection.Query("SHOW BINARY LOGS");
  if (!rows.ok()) return rows.status();
  std::map<std::string, uint64_t> logs;
  for (const SqlRow& row : *rows) {
    if (row.size() < 2 || !row[0]) continue;
    logs[*row[0]] = std::strtoull(row[1].value_or("0").c_str(), nullptr, 10);
  }
  return logs;
}

std::string PurgedMessage(const std::string& where, const std::string& position,
                          const std::string& detail) {
  return where + ": the position " + position +
         " has been purged from the source's binary logs; Ferry cannot resume without losing "
         "changes: re-snapshot the target (" +
         detail + ")";
}

// Where the dump starts, and the reader's position before its first event.
struct StartPoint {
  DumpRequest request;
  // The GTID state before the first event read; the decoder builds positions on it.
  std::string decoder_gtid_state;
  wire::Position head;
  std::string resume;  // the position as the subscriber gave it
  std::string Describe() const {
    if (request.mysql_gtid_set) {
      return request.mysql_gtid_set->empty()
                 ? "the oldest binary log (empty GTID set)"
                 : "after GTID set " + wire::FormatMySqlGtidSet(*request.mysql_gtid_set);
    }
    if (request.gtid_state) {
      return request.gtid_state->empty() ? "the oldest binary log (empty GTID state)"
                                         : "after GTID state " + *request.gtid_state;
    }
    return request.file + ":" + std::to_string(request.offset);
  }
};

Result<wire::MySqlGtidSet> ServerGtidSet(MysqlConnection& connection, const std::string& variable) {
  Result<std::optional<std::string>> text = connection.Scalar("SELECT @@global." + variable);
  if (!text.ok()) return text.status();
  Result<wire::MySqlGtidSet> set = wire::ParseMySqlGtidSet(text->value_or(""));
  if (!set.ok()) return set.status().WithContext(connection.Describe() + ": " + variable);
  return set;
}

// MySQL with GTIDs: the dump sends every transaction not in the set (auto-position), from the
// subscriber's checkpoint or, on first contact, from everything the server has executed. A
// checkpoint missing transactions the server has purged cannot be served without a gap.
Result<StartPoint> MySqlGtidStart(MysqlConnection& connection, const ServerInfo& info,
                                  const std::optional<wire::Position>& resume) {
  Result<wire::MySqlGtidSet> executed = ServerGtidSet(connection, "gtid_executed");
  if (!executed.ok()) return executed.status();
  wire::MySqlGtidSet from = *executed;
  StartPoint start;
  start.resume = "the current end of the binary log";
  if (resume) {
    Result<wire::MySqlGtidSet> wanted = wire::ParseMySqlGtidSet(resume->value());
    if (!wanted.ok())
      return wanted.status().WithContext(connection.Describe() + ": resume position");
    Result<wire::MySqlGtidSet> purged = ServerGtidSet(connection, "gtid_purged");
    if (!purged.ok()) return purged.status();
    if (!wire::IsMySqlGtidSubset(*purged, *wanted)) {
      return Status::Error(
          PurgedMessage(connection.Describe(), resume->value(),
                        "the server has purged " + wire::FormatMySqlGtidSet(*purged)));
    }
    if (!wire::IsMySqlGtidSubset(*wanted, *executed)) {
      return Status::Error(connection.Describe() + ": the position " + resume->value() +
                           " holds transactions this server never executed (it has " +
                           wire::FormatMySqlGtidSet(*executed) +
                           "): the checkpoint comes from another server; point the apply agent "
                           "at that source, or re-snapshot");
    }
    from = std::move(*wanted);
    start.resume = resume->value();
  }
  start.request.mysql_gtid_set = from;
  start.decoder_gtid_state = wire::FormatMySqlGtidSet(from);
  start.head = MakePosition(info.engine, start.decoder_gtid_state);
  return start;
}

Result<StartPoint> CurrentEnd(MysqlConnection& connection, const ServerInfo& info) {
  StartPoint start;
  start.resume = "the current end of the binary log";
  if (info.mariadb) {
    start.request.gtid_state = info.gtid_binlog_pos;
    start.decoder_gtid_state = info.gtid_binlog_pos;
    start.head = MakePosition(info.engine, info.gtid_binlog_pos);
    return start;
  }
  if (info.mysql_gtids) return MySqlGtidStart(connection, info, std::nullopt);
  // MySQL 8.4 renamed SHOW MASTER STATUS.
  Result<std::vector<SqlRow>> rows = connection.Query("SHOW MASTER STATUS");
  if (!rows.ok()) rows = connection.Query("SHOW BINARY LOG STATUS");
  if (!rows.ok()) return rows.status();
  if (rows->empty() || rows->front().size() < 2 || !rows->front()[0]) {
    return Status::Error(connection.Describe() +
                         ": SHOW MASTER STATUS gave no binary log; is log_bin on?");
  }
  start.request.file = *rows->front()[0];
  start.request.offset = std::strtoull(rows->front()[1].value_or("4").c_str(), nullptr, 10);
  start.head = MakePosition(
      info.engine, wire::FormatBinlogFilePosition(start.request.file, start.request.offset));
  return start;
}

Result<StartPoint> FileStart(MysqlConnection& connection, const ServerInfo& info,
                             const wire::Position& resume) {
  Result<wire::BinlogFilePosition> file = wire::ParseBinlogFilePosition(resume.value());
  if (!file.ok()) return file.status().WithContext(connection.Describe() + ": resume position");
  Result<std::map<std::string, uint64_t>> logs = BinaryLogs(connection);
  if (!logs.ok()) return logs.status();
  auto it = logs->find(file->file);
  if (it == logs->end()) {
    std::string have =
        logs->empty() ? "none" : logs->begin()->first + " .. " + logs->rbegin()->first;
    return Status::Error(
        PurgedMessage(connection.Describe(), resume.value(), "the server has binary logs " + have));
  }
  if (file->offset < 4 || file->offset > it->second) {
    return Status::Error(connection.Describe() + ": the position " + resume.value() +
                         " lies outside " + file->file + " (" + std::to_string(it->second) +
                         " bytes): the checkpoint does not come from this server's binary logs; "
                         "point the apply agent at the source it came from, or re-snapshot");
  }
  StartPoint start;
  start.resume = resume.value();
  start.request.file = file->file;
  start.request.offset = file->offset;
  start.head = resume;
  if (!info.mariadb) return start;
  // MariaDB logs a GTID for every transaction, and the decoder gives positions as GTID states:
  // they build on the state at this offset, which only the server can tell.
  Result<std::optional<std::string>> state =
      connection.Scalar("SELECT BINLOG_GTID_POS(" + connection.Quote(file->file) + ", " +
                        std::to_string(file->offset) + ")");
  if (!state.ok()) return state.status();
  if (!*state) {
    return Status::Error(connection.Describe() + ": the position " + resume.value() +
                         " is not at an event in " + file->file +
                         " (BINLOG_GTID_POS found none): the checkpoint does not come from this "
                         "server's binary logs; point the apply agent at the source it came "
                         "from, or re-snapshot");
  }
  start.decoder_gtid_state = **state;
  start.head = MakePosition(info.engine, **state);
  return start;
}

Result<StartPoint> ResumePoint(MysqlConnection& connection, const ServerInfo& info,
                               const wire::Position& resume) {
  if (resume.engine().empty()) return CurrentEnd(connection, info);
  if (resume.engine() != info.engine) {
    return Status::Error(connection.Describe() +
                         ": the subscriber resumes from a position of engine \"" + resume.engine() +
                         "\"; it was made by another kind of source, so point "
                         "the apply agent at that source or re-snapshot");
  }
  const bool file_position = wire::IsBinlogFilePosition(resume.value());
  if (info.mysql_gtids && file_position) {
    // The positions the decoder gives from here would be GTID sets holding only what it read,
    // and resuming from such a set would send the server's whole history again.
    return Status::Error(connection.Describe() + ": the checkpoint " + resume.value() +
                         " is a file position, but the server now has gtid_mode=ON, and which "
                         "GTIDs that position covers cannot be known: re-snapshot the target");
  }
  if (file_position) return FileStart(connection, info, resume);
  if (!info.mariadb) {
    if (!info.mysql_gtids) {
      return Status::Error(connection.Describe() + ": the checkpoint is the GTID set " +
                           resume.value() +
                           ", but the server has gtid_mode=OFF: set gtid_mode=ON again, or "
                           "re-snapshot the target");
    }
    return MySqlGtidStart(connection, info, resume);
  }
  Result<wire::MariaDbGtidState> state = wire::ParseMariaDbGtidState(resume.value());
  if (!state.ok()) return state.status().WithContext(connection.Describe() + ": resume position");
  StartPoint start;
  start.resume = resume.value();
  start.request.gtid_state = wire::FormatMariaDbGtidState(*state);
  start.decoder_gtid_state = *start.request.gtid_state;
  start.head = resume;
  return start;
}

// Turns the server's refusal of the start position into what the operator must do.
Status StartError(const Status& error, unsigned error_number, const StartPoint& start,
                  const std::string& where) {
  if (error_number != kErrFatalReadingBinlog) return error;
  const std::string& text = error.message();
  const bool purged = text.find("Could not find GTID state") != std::string::npos ||
                      text.find("Could not find first log file") != std::string::npos ||
                      text.find("purged") != std::string::npos;
  if (purged) return Status::Error(PurgedMessage(where, start.resume, "server: " + text));
  return Status::Error(where + ": the server cannot stream from " + start.Describe() + ": " + text +
                       "; if the source was restored or replaced, re-snapshot the target");
}

// ---- the source ------------------------------------------------------------------------------

class MysqlSource final : public ChangeSource {
 public:
  explicit MysqlSource(MysqlSourceOptions options)
      : options_(std::move(options)), log_(Logger("capture.mysql")) {}
  ~MysqlSource() override { Stop(); }

  Status Start(const wire::Position& resume) override {
    Stop();
    Result<TableSelection> tables = TableSelection::Parse(options_.tables);
    if (!tables.ok()) return tables.status();
    Result<MysqlDsn> params = ParseMysqlDsn(options_.dsn, MysqlDsnRole::kSource);
    if (!params.ok()) return params.status();
    Result<std::unique_ptr<MysqlConnection>> checks =
        MysqlConnection::Connect(*params, kQueryReadTimeoutS);
    if (!checks.ok()) return Logged(checks.status());
    Result<ServerInfo> info = ReadServerInfo(**checks);
    if (!info.ok()) return Logged(info.status());
    engine_ = info->engine;
    where_ = std::string("source ") + (info->mariadb ? "MariaDB" : "MySQL") + " at " +
             (*checks)->address();
    (*checks)->set_label(std::string("source ") + (info->mariadb ? "MariaDB" : "MySQL"));
    FERRY_RETURN_IF_ERROR(Logged(CheckSettings(*info, where_, options_.server_id)));
    Result<StartPoint> start = ResumePoint(**checks, *info, resume);
    if (!start.ok()) return Logged(start.status());
    start_position_.reset();
    if (resume.engine().empty()) start_position_ = start->head;
    LogConnected(*info, *start, (*checks)->tls_cipher());
    checks->reset();
    return Logged(StartStreaming(*params, *info, std::move(*start), std::move(*tables)));
  }

  Result<SourceEvent> Next(milliseconds timeout) override {
    if (!reader_.joinable())
      return Status::Error("MySQL/MariaDB source: not streaming (call Start)");
    if (pending_.empty()) {
      std::optional<Batch> batch = queue_->Pop(timeout);
      if (!batch) return IdleEvent();
      if (!batch->error.ok()) return Fail(batch->error);
      if (batch->head) head_ = std::move(batch->head);
      for (SourceEvent& event : batch->events) pending_.push_back(std::move(event));
      if (pending_.empty()) return IdleEvent();
    }
    SourceEvent event = std::move(pending_.front());
    pending_.pop_front();
    if (std::holds_alternative<wire::Begin>(event)) in_transaction_ = true;
    if (std::holds_alternative<wire::Commit>(event)) in_transaction_ = false;
    return event;
  }

  // MySQL and MariaDB keep binary logs by age (binlog_expire_logs_seconds), not by reader: there
  // is nothing to tell the server.
  Status Confirm(const wire::Position& position) override {
    if (!reader_.joinable())
      return Status::Error("MySQL/MariaDB source: not streaming (call Start)");
    if (position.engine() != engine_) {
      return Status::Error("MySQL/MariaDB source: cannot confirm a position of engine \"" +
                           position.engine() + "\"");
    }
    log_->debug("subscriber holds everything up to {}", position.value());
    return Status::Ok();
  }

  void Stop() override {
    if (!reader_.joinable()) return;
    stopping_ = true;
    queue_->Close();
    stream_->Cancel();
    reader_.join();
    stream_.reset();
    queue_.reset();
    filter_.reset();
    catalog_.reset();
    decoder_.reset();
    pending_.clear();
    log_->info("stopped streaming from {}", where_);
  }

  std::string engine() const override { return engine_; }

  // The server keeps no bookmark per reader: a subscriber without a checkpoint must record where
  // this stream began, or a reconnect would start at a later end of log and skip what came
  // between.
  std::optional<wire::Position> start_position() const override { return start_position_; }

 private:
  Status StartStreaming(const MysqlDsn& params, const ServerInfo& info, StartPoint start,
                        TableSelection tables) {
    Result<std::unique_ptr<MysqlConnection>> connection =
        MysqlConnection::Connect(params, kStreamReadTimeoutS);
    if (!connection.ok()) return connection.status();
    (*connection)->set_label(std::string("source ") + (info.mariadb ? "MariaDB" : "MySQL"));
    start.request.server_id = options_.server_id;
    start.request.mariadb = info.mariadb;
    start.request.heartbeat_period = kHeartbeatPeriod;
    Result<std::unique_ptr<BinlogStream>> stream =
        BinlogStream::Open(std::move(*connection), start.request);
    if (!stream.ok()) return stream.status();
    // The server checks the start position before it sends anything: fetch the first event here
    // so that a purged position fails Start() rather than the first Next().
    Result<std::string_view> first = (*stream)->Fetch();
    if (!first.ok()) {
      return StartError(first.status(), (*stream)->connection().last_errno(), start, where_);
    }
    std::string first_event(*first);

    DecoderOptions decoder_options;
    decoder_options.engine = info.engine;
    decoder_options.file = start.request.file;
    decoder_options.gtid_state = start.decoder_gtid_state;
    // Called on the reader thread, which owns filter_.
    decoder_options.catalog = [this](const TableMap& table) { return filter_->Catalog(table); };
    decoder_ = std::make_unique<BinlogDecoder>(decoder_options);
    catalog_ = std::make_unique<SchemaCatalog>(params, (*stream)->connection().Describe());
    filter_ = std::make_unique<TransactionFilter>(
        std::move(tables), *catalog_,
        std::set<std::string>(options_.skip_statements.begin(), options_.skip_statements.end()),
        where_);
    queue_ = std::make_unique<BatchQueue>();
    stream_ = std::move(*stream);
    reader_head_ = start.head;
    head_ = start.head;
    in_transaction_ = false;
    stopping_ = false;
    log_->info("streaming from {} ({})", where_, start.Describe());
    reader_ =
        std::thread([this, event = std::move(first_event)]() mutable { Read(std::move(event)); });
    return Status::Ok();
  }

  // `cipher`: the connection's TLS cipher, "" without TLS.
  void LogConnected(const ServerInfo& info, const StartPoint& start, const std::string& cipher) {
    log_->info("connected to {} {}: {} server_id {}, binlog_row_metadata={}, {}", where_,
               cipher.empty() ? "without TLS (sslmode=disable)" : "over TLS (" + cipher + ")",
               info.version, info.server_id,
               info.binlog_row_metadata.empty() ? "(none)" : info.binlog_row_metadata,
               start.request.gtid_state ? "dump by GTID" : "dump by file and offset");
    if (Lower(info.binlog_row_metadata) != "full") {
      log_->warn(
          "{} has binlog_row_metadata={}: what its binlog leaves out of each table (names, "
          "UNSIGNED, charsets, ENUM/SET members) comes from information_schema, which describes "
          "tables as they are now, so an event written before its table was last altered stops "
          "the stream; set binlog_row_metadata=FULL (MariaDB 10.5+, MySQL 8.0.1+) to avoid that",
          where_, info.binlog_row_metadata.empty() ? "(unsupported)" : info.binlog_row_metadata);
    }
  }

  // The reader thread: every failure, even an exception, becomes a queued Status.
  void Read(std::string first_event) {
    Status status = Status::Ok();
    try {
      status = ReadEvents(first_event);
    } catch (const std::exception& e) {
      status = Status::Error(where_ + ": binlog reader failed: " + e.what());
    } catch (...) {
      status = Status::Error(where_ + ": binlog reader failed with an unknown exception");
    }
    if (stopping_) return;
    Batch batch;
    batch.error = status;
    (void)queue_->Push(std::move(batch));
  }

  Status ReadEvents(const std::string& first_event) {
    FERRY_RETURN_IF_ERROR(Process(first_event));
    while (!stopping_) {
      Result<std::string_view> event = stream_->Fetch();
      if (!event.ok()) return event.status();
      FERRY_RETURN_IF_ERROR(Process(*event));
    }
    return Status::Ok();
  }

  Status Process(std::string_view event) {
    const std::string file = decoder_->file();
    const uint64_t offset = decoder_->next_position();
    Batch batch;
    bool committed = false;
    Status status = decoder_->DecodeTo(event, [&](DecodedEvent&& item) -> Status {
      if (auto* source_event = std::get_if<SourceEvent>(&item)) {
        if (auto* heartbeat = std::get_if<SourceHeartbeat>(source_event)) {
          return AddHeartbeat(std::move(*heartbeat), batch);
        }
        if (auto* commit = std::get_if<wire::Commit>(source_event)) {
          reader_head_ = commit->position();
          committed = true;
        }
      }
      FERRY_RETURN_IF_ERROR(filter_->Add(std::move(item), batch.events));
      // A MySQL 8 TRANSACTION_PAYLOAD holds a whole transaction: pass it on in pieces.
      if (batch.events.size() < kEventsPerBatch) return Status::Ok();
      return Push(std::exchange(batch, Batch()));
    });
    if (!status.ok()) {
      return status.WithContext(where_ + ": decoding the binlog event after " + file + ":" +
                                std::to_string(offset));
    }
    LogRotation(file);
    if (committed) batch.head = reader_head_;
    if (!batch.events.empty()) return Push(std::move(batch));
    // Nothing to send, but the head moved past a transaction nobody here wants: say so now and
    // then, so that the agent's view of the source's head keeps up.
    if (committed && Clock::now() - last_heartbeat_ >= kSkippedHeartbeatInterval) {
      FERRY_RETURN_IF_ERROR(AddHeartbeat(SourceHeartbeat{reader_head_, 0}, batch));
    }
    return Push(std::move(batch));
  }

  void LogRotation(const std::string& before) {
    if (decoder_->file() == before) return;
    if (before.empty()) {
      log_->info("reading binary log {}", decoder_->file());
    } else {
      log_->info("binary log rotated from {} to {}", before, decoder_->file());
    }
  }

  // The server's HEARTBEAT (the decoder fills in its position: GTIDs of DDL included), or a
  // transaction skipped. Never inside a transaction: the agent takes it as an idle moment.
  Status AddHeartbeat(SourceHeartbeat heartbeat, Batch& batch) {
    if (filter_->in_transaction()) return Status::Ok();
    // Heartbeats carry no clock (timestamp 0); this reader runs beside the source.
    if (heartbeat.source_time_us == 0) heartbeat.source_time_us = NowUnixMicros();
    reader_head_ = heartbeat.head;
    batch.head = reader_head_;
    batch.events.push_back(std::move(heartbeat));
    last_heartbeat_ = Clock::now();
    return Status::Ok();
  }

  Status Push(Batch batch) {
    if (batch.events.empty()) return Status::Ok();
    for (const SourceEvent& event : batch.events) batch.bytes += EventBytes(event);
    if (!queue_->Push(std::move(batch))) return Status::Error(where_ + ": binlog stream stopped");
    return Status::Ok();
  }

  // Nothing arrived: outside a transaction, the reader's position is the source's head as far as
  // this reader knows.
  Result<SourceEvent> IdleEvent() {
    if (in_transaction_ || !head_) return SourceEvent(NoEvent{});
    return SourceEvent(SourceHeartbeat{*head_, NowUnixMicros()});
  }

  // Errors end the stream (the interface says: call Start again).
  Status Fail(Status status) {
    log_->error("{}", status.message());
    Stop();
    return status;
  }

  Status Logged(Status status) {
    if (!status.ok()) log_->error("{}", status.message());
    return status;
  }

  MysqlSourceOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::string engine_ = wire::kEngineMariaDb;     // known after Start()
  std::optional<wire::Position> start_position_;  // see start_position()
  std::string where_ = "source MySQL/MariaDB";

  // Shared with the reader thread: set up before it starts, torn down after it ends.
  std::unique_ptr<BinlogStream> stream_;
  std::unique_ptr<BatchQueue> queue_;
  std::atomic<bool> stopping_{false};
  std::thread reader_;

  // Reader thread only.
  std::unique_ptr<BinlogDecoder> decoder_;
  std::unique_ptr<SchemaCatalog> catalog_;
  std::unique_ptr<TransactionFilter> filter_;
  wire::Position reader_head_;
  Clock::time_point last_heartbeat_{};

  // Next() only.
  std::deque<SourceEvent> pending_;
  std::optional<wire::Position> head_;
  bool in_transaction_ = false;
};

}  // namespace

std::unique_ptr<ChangeSource> MakeMysqlSource(MysqlSourceOptions options) {
  return std::make_unique<MysqlSource>(std::move(options));
}

}  // namespace ferry::capture::mysql
