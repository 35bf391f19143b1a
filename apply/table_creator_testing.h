// Test helpers shared by the engines' DDL tests (apply/postgres/pg_ddl_test.cc,
// apply/mysql/mysql_ddl_test.cc): a new table of app.t from columns given by their source types.
#pragma once

#include <string>
#include <vector>

#include "apply/table_creator.h"

namespace ferry::apply::testing {

inline NewColumn Column(const std::string& name, const std::string& source_type,
                        wire::LogicalType type, bool key = false) {
  NewColumn column;
  column.name = name;
  column.source.set_name(name);
  column.source.set_source_type(source_type);
  column.source.set_type(type);
  column.source.set_key(key);
  column.source_type = ParseSourceType(source_type);
  column.primary_key = key;
  return column;
}

// app.t from `source_name`, its primary key the columns flagged so.
inline NewTable Table(SourceEngine engine, std::vector<NewColumn> columns,
                      const std::string& source_name = "src.t") {
  NewTable table;
  table.schema = "app";
  table.table = "t";
  table.source_name = source_name;
  table.source_engine = engine;
  for (const NewColumn& column : columns) {
    if (column.primary_key) table.primary_key.push_back(column.name);
  }
  table.columns = std::move(columns);
  return table;
}

// A secondary index `name` of the source over `columns` (column index, prefix length).
inline NewIndex Index(const std::string& name, bool unique, std::vector<NewIndexColumn> columns) {
  NewIndex index;
  index.source_name = name;
  index.unique = unique;
  index.columns = std::move(columns);
  return index;
}

// A source column type and the target type expected for it.
struct TypeCase {
  std::string source_type;
  wire::LogicalType type;
  std::string expected;
};

}  // namespace ferry::apply::testing
