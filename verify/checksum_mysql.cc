// MariaDB's (and MySQL's) ChunkChecksummer (checksum.h) over Connector/C, in a UTC session as
// the table reader's.
#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "capture/mysql/binlog_stream.h"  // MysqlConnection
#include "common/mysql_dsn.h"
#include "verify/checksum.h"

namespace ferry::verify {
namespace {

using capture::mysql::MysqlConnection;
using capture::mysql::SqlRow;

constexpr unsigned kReadTimeoutS = 300;

// "-12.50": digits with at most a sign and a point, safe to write into SQL as they are.
bool IsPlainNumber(const std::string& text) {
  if (text.empty() || text == "-") return false;
  return text.find_first_not_of("0123456789.-") == std::string::npos &&
         text.find('-', 1) == std::string::npos;
}

class MysqlChecksummer final : public ChunkChecksummer {
 public:
  explicit MysqlChecksummer(std::unique_ptr<MysqlConnection> connection)
      : connection_(std::move(connection)) {}

  Result<ChunkSum> NextChunk(const KeyedRelation& table, const std::vector<int>& columns,
                             const Key& after, size_t limit) override {
    Result<std::vector<std::string>> bound = Literals(after);
    if (!bound.ok()) return bound.status();
    // Rows deleted between the two statements leave the last key short: sum again.
    constexpr int kAttempts = 5;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      Result<ChunkSum> sum = Sums(MysqlNextChunkSql(table, columns, *bound, limit), table);
      if (!sum.ok() || sum->rows == 0) return sum;
      // A second statement: MariaDB has no aggregate for "the last row's key". A key read
      // after rows were inserted is an earlier one: that chunk's checksums differ, and it is
      // read row by row.
      Result<std::vector<SqlRow>> last =
          connection_->Query(MysqlLastKeySql(table, *bound, sum->rows - 1));
      if (!last.ok()) return last.status();
      if (last->empty()) continue;
      for (size_t i = 0; i < table.key.size() && i < last->front().size(); ++i) {
        Result<wire::Value> value = KeyValueFromText(table.relation.columns(table.key[i]),
                                                     Engine::kMysql, last->front()[i].value_or(""));
        if (!value.ok()) return value.status();
        sum->last.push_back(std::move(value).value());
      }
      return sum;
    }
    return Status::Error("checksumming a chunk of " + table.relation.schema() + "." +
                         table.relation.table() + ": its rows kept being deleted");
  }

  Result<ChunkSum> Range(const KeyedRelation& table, const std::vector<int>& columns,
                         const Key& after, const Key& upto) override {
    Result<std::vector<std::string>> lower = Literals(after);
    if (!lower.ok()) return lower.status();
    Result<std::vector<std::string>> upper = Literals(upto);
    if (!upper.ok()) return upper.status();
    return Sums(MysqlRangeSql(table, columns, *lower, *upper), table);
  }

 private:
  // Numbers bare (a number in quotes is compared with a BIGINT UNSIGNED or a DECIMAL as a
  // double, which loses digits), the rest quoted.
  Result<std::vector<std::string>> Literals(const Key& key) {
    std::vector<std::string> literals;
    for (const wire::Value& value : key) {
      if (value.has_int64()) {
        literals.push_back(std::to_string(value.int64()));
      } else if (value.has_uint64()) {
        literals.push_back(std::to_string(value.uint64()));
      } else if (value.has_decimal() && IsPlainNumber(value.decimal())) {
        literals.push_back(value.decimal());
      } else if (value.has_timestamp_tz()) {
        std::string text = value.timestamp_tz();
        if (text.ends_with("+00")) text.resize(text.size() - 3);
        literals.push_back(connection_->Quote(text));
      } else if (value.has_date() || value.has_time() || value.has_timestamp()) {
        literals.push_back(connection_->Quote(value.has_date()   ? value.date()
                                              : value.has_time() ? value.time()
                                                                 : value.timestamp()));
      } else {
        return Status::Error("a key value of kind " + value.ShortDebugString() +
                             " cannot bound a checksum chunk");
      }
    }
    return literals;
  }

  Result<ChunkSum> Sums(const std::string& sql, const KeyedRelation& table) {
    Result<std::vector<SqlRow>> rows = connection_->Query(sql);
    if (!rows.ok()) {
      return rows.status().WithContext("checksumming a chunk of " + table.relation.schema() + "." +
                                       table.relation.table());
    }
    if (rows->size() != 1 || rows->front().size() < 3) {
      return Status::Error("checksumming a chunk: the server returned no sums");
    }
    const SqlRow& row = rows->front();
    ChunkSum sum;
    const std::string count = row[0].value_or("");
    auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), sum.rows);
    if (error != std::errc() || end != count.data() + count.size()) {
      return Status::Error("checksumming a chunk: the server counted \"" + count + "\" rows");
    }
    sum.checksum = row[1].value_or("") + ":" + row[2].value_or("");
    return sum;
  }

  std::unique_ptr<MysqlConnection> connection_;
};

}  // namespace

Result<std::unique_ptr<ChunkChecksummer>> ConnectMysqlChecksummer(const std::string& dsn) {
  Result<MysqlDsn> params = ParseMysqlDsn(dsn, MysqlDsnRole::kSource);
  if (!params.ok()) return params.status();
  Result<std::unique_ptr<MysqlConnection>> connection =
      MysqlConnection::Connect(*params, kReadTimeoutS, "MariaDB (checksums)");
  if (!connection.ok()) return connection.status();
  // UTC, as the table reader: a TIMESTAMP key prints as the instant the reader gives.
  FERRY_RETURN_IF_ERROR((*connection)->Exec("SET time_zone = '+00:00'"));
  return std::unique_ptr<ChunkChecksummer>(new MysqlChecksummer(std::move(*connection)));
}

}  // namespace ferry::verify
