#include "capture/mysql/mysql_retention.h"

#include <algorithm>
#include <map>
#include <memory>

#include "capture/mysql/binlog_stream.h"
#include "common/mysql_dsn.h"
#include "wire/position.h"

namespace ferry::capture::mysql {
namespace {

constexpr unsigned kReadTimeoutSeconds = 10;

// SHOW BINLOG EVENTS columns: Log_name, Pos, Event_type, Server_id, End_log_pos, Info.
constexpr size_t kEventTypeColumn = 2;
constexpr size_t kInfoColumn = 5;

// The Info of a Gtid_list event ("[0-1-42,1-2-7]") or a Previous_gtids event (a GTID set, maybe
// over several lines), as a position value of the same form as the decoder's.
std::string StartStateFromInfo(std::string info) {
  std::erase_if(info, [](char c) { return c == '[' || c == ']' || c == '\n' || c == ' '; });
  return info;
}

// The GTID state before the file's first transaction; "" when the file has neither event (a
// server without GTIDs). Only the first few events are read: the event comes right after the
// format description (and the encryption start, when binary logs are encrypted).
Result<std::string> ReadStartState(MysqlConnection& connection, const std::string& file) {
  Result<std::vector<SqlRow>> rows =
      connection.Query("SHOW BINLOG EVENTS IN " + connection.Quote(file) + " LIMIT 4");
  if (!rows.ok()) return rows.status();
  for (const SqlRow& row : *rows) {
    if (row.size() <= kInfoColumn || !row[kEventTypeColumn]) continue;
    const std::string& type = *row[kEventTypeColumn];
    if (type == "Gtid_list" || type == "Previous_gtids") {
      return StartStateFromInfo(row[kInfoColumn].value_or(""));
    }
  }
  return std::string();
}

int64_t Integer(const std::optional<std::string>& text) {
  return text ? std::strtoll(text->c_str(), nullptr, 10) : 0;
}

// Start states never change, so each file is read once per agent; purged files are forgotten.
class MysqlRetention {
 public:
  explicit MysqlRetention(std::string dsn) : dsn_(std::move(dsn)) {}

  Result<RetentionSample> Check(const std::vector<AcknowledgedPosition>& acknowledged) {
    Result<MysqlDsn> params = ParseMysqlDsn(dsn_, MysqlDsnRole::kSource);
    if (!params.ok()) return params.status();
    auto connection = MysqlConnection::Connect(*params, kReadTimeoutSeconds);
    if (!connection.ok()) return connection.status();
    Result<std::vector<SqlRow>> clock =
        (*connection)
            ->Query("SELECT @@global.binlog_expire_logs_seconds, UNIX_TIMESTAMP(NOW(6)) * 1000000");
    if (!clock.ok()) return clock.status();
    if (clock->empty() || clock->front().size() < 2) {
      return Status::Error((*connection)->Describe() + ": no binlog_expire_logs_seconds");
    }
    const int64_t expire_seconds = Integer(clock->front()[0]);
    const int64_t server_time_us = Integer(clock->front()[1]);
    Result<std::vector<BinaryLog>> logs = ReadLogs(**connection, NeedsStartStates(acknowledged));
    if (!logs.ok()) return logs.status();

    RetentionSample sample;
    for (const BinaryLog& log : *logs) sample.head_bytes += log.size;
    for (const AcknowledgedPosition& subscriber : acknowledged) {
      sample.bookmarks.push_back(
          BinlogRetention(subscriber, *logs, expire_seconds, server_time_us));
    }
    return sample;
  }

 private:
  static bool NeedsStartStates(const std::vector<AcknowledgedPosition>& acknowledged) {
    return std::any_of(acknowledged.begin(), acknowledged.end(), [](const auto& subscriber) {
      return !subscriber.position.engine().empty() &&
             !wire::IsBinlogFilePosition(subscriber.position.value());
    });
  }

  Result<std::vector<BinaryLog>> ReadLogs(MysqlConnection& connection, bool with_start_states) {
    Result<std::vector<SqlRow>> rows = connection.Query("SHOW BINARY LOGS");
    if (!rows.ok()) return rows.status().WithContext("is log_bin on?");
    std::vector<BinaryLog> logs;
    std::map<std::string, std::string> still_there;
    for (const SqlRow& row : *rows) {
      if (row.size() < 2 || !row[0]) continue;
      BinaryLog log{*row[0], static_cast<uint64_t>(Integer(row[1])), ""};
      if (with_start_states) {
        auto known = start_states_.find(log.name);
        if (known == start_states_.end()) {
          Result<std::string> state = ReadStartState(connection, log.name);
          if (!state.ok()) return state.status();
          known = start_states_.emplace(log.name, *state).first;
        }
        log.start_state = known->second;
        still_there.insert(*known);
      }
      logs.push_back(std::move(log));
    }
    if (with_start_states) start_states_ = std::move(still_there);
    return logs;
  }

  const std::string dsn_;
  std::map<std::string, std::string> start_states_;  // binary log name -> its start state
};

// The index in `logs` of the file holding `position`; nullopt when it has been purged.
std::optional<size_t> FileHolding(const wire::Position& position,
                                  const std::vector<BinaryLog>& logs, uint64_t& offset) {
  offset = 0;
  if (wire::IsBinlogFilePosition(position.value())) {
    Result<wire::BinlogFilePosition> file = wire::ParseBinlogFilePosition(position.value());
    if (!file.ok()) return std::nullopt;
    for (size_t i = 0; i < logs.size(); ++i) {
      if (logs[i].name == file->file) {
        offset = std::min(file->offset, logs[i].size);
        return i;
      }
    }
    return std::nullopt;
  }
  for (size_t i = logs.size(); i-- > 0;) {
    wire::Position start;
    start.set_engine(position.engine());
    start.set_value(logs[i].start_state);
    Result<bool> covered = wire::IsCovered(start, position);
    if (covered.ok() && *covered) return i;
  }
  return std::nullopt;
}

}  // namespace

BookmarkRetention BinlogRetention(const AcknowledgedPosition& acknowledged,
                                  const std::vector<BinaryLog>& logs, int64_t expire_seconds,
                                  int64_t server_time_us) {
  BookmarkRetention bookmark;
  bookmark.name = acknowledged.subscriber;
  if (acknowledged.position.engine().empty()) {
    bookmark.status = "unknown";
    return bookmark;
  }
  uint64_t offset = 0;
  std::optional<size_t> holding = FileHolding(acknowledged.position, logs, offset);
  if (!holding) {
    bookmark.status = "lost";
    return bookmark;
  }
  for (size_t i = *holding; i < logs.size(); ++i) bookmark.retained_bytes += logs[i].size;
  bookmark.retained_bytes -= offset;
  // The file being written is never purged; no expiry, nothing is.
  const bool current_file = *holding + 1 == logs.size();
  if (expire_seconds <= 0 || current_file) {
    bookmark.status = "kept";
    return bookmark;
  }
  bookmark.status = "expiring";
  if (acknowledged.commit_time_us > 0) {
    const double left =
        static_cast<double>(acknowledged.commit_time_us - server_time_us) / 1e6 + expire_seconds;
    bookmark.seconds_until_lost = std::max(0.0, left);
  }
  return bookmark;
}

RetentionProbe MysqlRetentionProbe(std::string dsn) {
  auto retention = std::make_shared<MysqlRetention>(std::move(dsn));
  return [retention](const std::vector<AcknowledgedPosition>& acknowledged) {
    return retention->Check(acknowledged);
  };
}

}  // namespace ferry::capture::mysql
