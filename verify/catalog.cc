#include "verify/catalog.h"

#include <set>

#include "apply/table_mapping.h"

namespace ferry::verify {

Result<std::unique_ptr<Catalog>> ConnectCatalog(Engine engine, const std::string& dsn,
                                                const std::string& side) {
  return engine == Engine::kPostgres ? ConnectPostgresCatalog(dsn, side)
                                     : ConnectMysqlCatalog(dsn, side);
}

std::vector<TableName> MatchTables(const std::vector<TableName>& all,
                                   const std::vector<std::string>& patterns) {
  if (patterns.empty()) return all;
  std::set<std::string> schemas;
  std::vector<TableName> named;
  for (const std::string& pattern : patterns) {
    TableName name = ParseTableName(pattern);
    if (name.table == "*") {
      schemas.insert(name.schema);
    } else {
      named.push_back(std::move(name));
    }
  }
  std::vector<TableName> matched;
  std::set<TableName> seen;
  for (const TableName& table : all) {
    bool wanted = schemas.contains(table.schema);
    for (const TableName& name : named) wanted |= name == table;
    if (wanted && seen.insert(table).second) matched.push_back(table);
  }
  for (const TableName& name : named) {
    if (seen.insert(name).second) matched.push_back(name);
  }
  return matched;
}

Result<std::vector<TableName>> ReplicatedTables(Catalog& source,
                                                const std::vector<std::string>& patterns,
                                                const std::string& publication) {
  if (!publication.empty()) {
    Result<std::optional<std::vector<TableName>>> published = source.PublicationTables(publication);
    if (!published.ok()) return published.status();
    if (published->has_value()) return **published;
  }
  Result<std::vector<TableName>> all = source.AllTables();
  if (!all.ok()) return all.status();
  return MatchTables(*all, patterns);
}

TableName ParseTableName(const std::string& name) {
  auto [schema, table] = apply::SplitQualifiedName(name);
  return TableName{schema, table};
}

}  // namespace ferry::verify
