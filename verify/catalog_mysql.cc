// MariaDB's (and MySQL's) Catalog (catalog.h): information_schema over Connector/C.
#include <memory>
#include <string>
#include <vector>

#include "capture/mysql/binlog_stream.h"  // MysqlConnection
#include "common/mysql_dsn.h"
#include "verify/catalog.h"

namespace ferry::verify {
namespace {

using capture::mysql::MysqlConnection;
using capture::mysql::SqlRow;

constexpr unsigned kReadTimeoutS = 300;

class MysqlCatalog final : public Catalog {
 public:
  explicit MysqlCatalog(std::unique_ptr<MysqlConnection> connection)
      : connection_(std::move(connection)) {}

  Result<std::vector<TableName>> AllTables() override {
    Result<std::vector<SqlRow>> rows = connection_->Query(
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES"
        " WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN"
        " ('mysql', 'information_schema', 'performance_schema', 'sys', 'ferry_meta')"
        " ORDER BY 1, 2");
    if (!rows.ok()) return rows.status().WithContext("listing the tables");
    std::vector<TableName> names;
    for (const SqlRow& row : *rows) {
      if (row.size() >= 2) names.push_back({row[0].value_or(""), row[1].value_or("")});
    }
    return names;
  }

  Result<std::optional<std::vector<TableName>>> PublicationTables(const std::string&) override {
    return std::optional<std::vector<TableName>>();
  }

  Result<bool> HasTable(const TableName& table) override {
    Result<std::vector<SqlRow>> rows = connection_->Query(
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
        connection_->Quote(table.schema) + " AND TABLE_NAME = " + connection_->Quote(table.table));
    if (!rows.ok()) return rows.status().WithContext("looking up table " + table.Qualified());
    return !rows->empty();
  }

 private:
  std::unique_ptr<MysqlConnection> connection_;
};

}  // namespace

Result<std::unique_ptr<Catalog>> ConnectMysqlCatalog(const std::string& dsn,
                                                     const std::string& side) {
  Result<MysqlDsn> params = ParseMysqlDsn(dsn, MysqlDsnRole::kSource);
  if (!params.ok()) return params.status().WithContext(side + " dsn");
  Result<std::unique_ptr<MysqlConnection>> connection =
      MysqlConnection::Connect(*params, kReadTimeoutS, side + " MariaDB");
  if (!connection.ok()) return connection.status().WithContext("connecting to the " + side);
  return std::unique_ptr<Catalog>(new MysqlCatalog(std::move(*connection)));
}

}  // namespace ferry::verify
