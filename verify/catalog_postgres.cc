// PostgreSQL's Catalog (catalog.h): plain queries on pg_catalog over libpq.
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "capture/postgres/replication_stream.h"  // SessionConnectParams, OpenConnection
#include "verify/catalog.h"

namespace ferry::verify {
namespace {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

constexpr char kAllTablesSql[] =
    "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
    " AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'ferry_meta')"
    " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
    " ORDER BY 1, 2";

class PostgresCatalog final : public Catalog {
 public:
  PostgresCatalog(PGconn* conn, std::string side) : conn_(conn), side_(std::move(side)) {}
  ~PostgresCatalog() override { PQfinish(conn_); }
  PostgresCatalog(const PostgresCatalog&) = delete;
  PostgresCatalog& operator=(const PostgresCatalog&) = delete;

  Result<std::vector<TableName>> AllTables() override {
    Result<ResultPtr> result = Query(kAllTablesSql, {}, "listing the tables");
    if (!result.ok()) return result.status();
    return Names(result->get());
  }

  Result<std::optional<std::vector<TableName>>> PublicationTables(
      const std::string& publication) override {
    Result<ResultPtr> found = Query("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1",
                                    {publication}, "looking up publication " + publication);
    if (!found.ok()) return found.status();
    if (PQntuples(found->get()) == 0) return std::optional<std::vector<TableName>>();
    Result<ResultPtr> tables = Query(
        "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables WHERE pubname = $1"
        " ORDER BY 1, 2",
        {publication}, "listing the tables of publication " + publication);
    if (!tables.ok()) return tables.status();
    return std::optional<std::vector<TableName>>(Names(tables->get()));
  }

  Result<bool> HasTable(const TableName& table) override {
    Result<ResultPtr> found = Query(
        "SELECT 1 FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
        {table.schema, table.table}, "looking up table " + table.Qualified());
    if (!found.ok()) return found.status();
    return PQntuples(found->get()) > 0;
  }

 private:
  Result<ResultPtr> Query(const char* sql, const std::vector<std::string>& params,
                          const std::string& what) {
    std::vector<const char*> values;
    for (const std::string& param : params) values.push_back(param.c_str());
    ResultPtr result(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0));
    if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      std::string message = PQerrorMessage(conn_);
      while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
      }
      return Status::Error(side_ + " PostgreSQL: " + what + ": " + message);
    }
    return result;
  }

  static std::vector<TableName> Names(const PGresult* result) {
    std::vector<TableName> names;
    for (int row = 0; row < PQntuples(result); ++row) {
      names.push_back({PQgetvalue(result, row, 0), PQgetvalue(result, row, 1)});
    }
    return names;
  }

  PGconn* conn_;
  std::string side_;
};

}  // namespace

Result<std::unique_ptr<Catalog>> ConnectPostgresCatalog(const std::string& dsn,
                                                        const std::string& side) {
  Result<std::vector<std::pair<std::string, std::string>>> params =
      capture::postgres::SessionConnectParams(dsn);
  if (!params.ok()) return params.status().WithContext(side + " dsn");
  Result<PGconn*> conn =
      capture::postgres::OpenConnection(*params, "connecting to the " + side + " PostgreSQL");
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<Catalog>(new PostgresCatalog(*conn, side));
}

}  // namespace ferry::verify
