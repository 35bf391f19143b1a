// PostgreSQL's ChunkChecksummer (checksum.h) over libpq, in the table reader's session.
#include <libpq-fe.h>

#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apply/postgres/pg_text.h"               // ValueToPgText: keys as the reader sends them
#include "capture/postgres/replication_stream.h"  // SessionConnectParams, OpenConnection
#include "verify/checksum.h"

namespace ferry::verify {
namespace {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresChecksummer final : public ChunkChecksummer {
 public:
  explicit PostgresChecksummer(PGconn* conn) : conn_(conn) {}
  ~PostgresChecksummer() override { PQfinish(conn_); }
  PostgresChecksummer(const PostgresChecksummer&) = delete;
  PostgresChecksummer& operator=(const PostgresChecksummer&) = delete;

  Result<ChunkSum> NextChunk(const KeyedRelation& table, const std::vector<int>& columns,
                             const Key& after, size_t limit) override {
    std::vector<std::string> params;
    FERRY_RETURN_IF_ERROR(AddKey(after, params));
    Result<ResultPtr> result =
        Query(PgNextChunkSql(table, columns, !after.empty(), limit), params, table);
    if (!result.ok()) return result.status();
    Result<ChunkSum> sum = Sums(result->get());
    if (!sum.ok() || sum->rows == 0) return sum;
    for (size_t i = 0; i < table.key.size(); ++i) {
      Result<wire::Value> value =
          KeyValueFromText(table.relation.columns(table.key[i]), Engine::kPostgres,
                           PQgetvalue(result->get(), 0, static_cast<int>(3 + i)));
      if (!value.ok()) return value.status();
      sum->last.push_back(std::move(value).value());
    }
    return sum;
  }

  Result<ChunkSum> Range(const KeyedRelation& table, const std::vector<int>& columns,
                         const Key& after, const Key& upto) override {
    std::vector<std::string> params;
    FERRY_RETURN_IF_ERROR(AddKey(after, params));
    FERRY_RETURN_IF_ERROR(AddKey(upto, params));
    Result<ResultPtr> result =
        Query(PgRangeSql(table, columns, !after.empty(), !upto.empty()), params, table);
    if (!result.ok()) return result.status();
    return Sums(result->get());
  }

 private:
  static Status AddKey(const Key& key, std::vector<std::string>& params) {
    for (const wire::Value& value : key) {
      Result<std::optional<std::string>> text = apply::postgres::ValueToPgText(value);
      if (!text.ok()) return text.status();
      if (!text->has_value()) return Status::Error("a key value is NULL");
      params.push_back(std::move(**text));
    }
    return Status::Ok();
  }

  Result<ResultPtr> Query(const std::string& sql, const std::vector<std::string>& params,
                          const KeyedRelation& table) {
    std::vector<const char*> values;
    for (const std::string& param : params) values.push_back(param.c_str());
    // Parameter types are left to the server: each is compared with a key column.
    ResultPtr result(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0));
    if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK ||
        PQntuples(result.get()) != 1) {
      std::string message = PQerrorMessage(conn_);
      while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
      }
      return Status::Error("checksumming a chunk of " + table.relation.schema() + "." +
                           table.relation.table() + ": " + message);
    }
    return result;
  }

  static Result<ChunkSum> Sums(const PGresult* result) {
    ChunkSum sum;
    const std::string count = PQgetvalue(result, 0, 0);
    auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), sum.rows);
    if (error != std::errc() || end != count.data() + count.size()) {
      return Status::Error("checksumming a chunk: the server counted \"" + count + "\" rows");
    }
    sum.checksum = std::string(PQgetvalue(result, 0, 1)) + ":" + PQgetvalue(result, 0, 2);
    return sum;
  }

  PGconn* conn_;
};

}  // namespace

Result<std::unique_ptr<ChunkChecksummer>> ConnectPostgresChecksummer(const std::string& dsn) {
  Result<std::vector<std::pair<std::string, std::string>>> params =
      capture::postgres::SessionConnectParams(dsn);
  if (!params.ok()) return params.status();
  Result<PGconn*> conn =
      capture::postgres::OpenConnection(*params, "connecting to PostgreSQL for checksums");
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<ChunkChecksummer>(new PostgresChecksummer(*conn));
}

}  // namespace ferry::verify
