// Which tables verify compares, and whether a target table exists: the little of each engine's
// catalog that the table readers do not cover. One plain connection per side; the listing
// logic (patterns, system schemas) is shared and pure.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "verify/canonical.h"

namespace ferry::verify {

struct TableName {
  std::string schema;
  std::string table;

  std::string Qualified() const { return schema + "." + table; }
  auto operator<=>(const TableName&) const = default;
};

class Catalog {
 public:
  virtual ~Catalog() = default;
  // Every base table outside the engine's system schemas and Ferry's own ferry_meta.
  virtual Result<std::vector<TableName>> AllTables() = 0;
  // PostgreSQL: the tables of `publication`, nullopt when it does not exist (the capture agent
  // creates it on a subscriber's first contact). MariaDB has no publications: nullopt.
  virtual Result<std::optional<std::vector<TableName>>> PublicationTables(
      const std::string& publication) = 0;
  virtual Result<bool> HasTable(const TableName& table) = 0;
};

// `side` ("source", "target") names the database in errors.
Result<std::unique_ptr<Catalog>> ConnectCatalog(Engine engine, const std::string& dsn,
                                                const std::string& side);
// The engine adapters ConnectCatalog picks from (catalog_postgres.cc, catalog_mysql.cc).
Result<std::unique_ptr<Catalog>> ConnectPostgresCatalog(const std::string& dsn,
                                                        const std::string& side);
Result<std::unique_ptr<Catalog>> ConnectMysqlCatalog(const std::string& dsn,
                                                     const std::string& side);

// The tables `patterns` ("schema.table", "schema.*"; none: every table) name among `all`, in
// `all`'s order; a "schema.table" pattern is kept even when `all` lacks it, so that reading it
// reports it missing.
std::vector<TableName> MatchTables(const std::vector<TableName>& all,
                                   const std::vector<std::string>& patterns);

// The tables the capture agent replicates: the publication's when it exists, else MatchTables.
Result<std::vector<TableName>> ReplicatedTables(Catalog& source,
                                                const std::vector<std::string>& patterns,
                                                const std::string& publication);

// "schema.table" (no schema: "public") as a TableName.
TableName ParseTableName(const std::string& name);

}  // namespace ferry::verify
