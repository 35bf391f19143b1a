#include "capture/mysql/table_selection.h"

#include <algorithm>

#include "capture/origin_filter.h"

namespace ferry::capture::mysql {
namespace {

bool IsSystemSchema(const std::string& schema) {
  return schema == "mysql" || schema == "information_schema" || schema == "performance_schema" ||
         schema == "sys" || schema == kFerrySchema;
}

}  // namespace

Result<TableSelection> TableSelection::Parse(const std::vector<std::string>& patterns) {
  TableSelection selection;
  for (const std::string& pattern : patterns) {
    const size_t dot = pattern.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == pattern.size()) {
      return Status::Error("MySQL/MariaDB source: table \"" + pattern +
                           "\" must be \"schema.table\" or \"schema.*\"");
    }
    const std::string schema = pattern.substr(0, dot);
    const std::string table = pattern.substr(dot + 1);
    if (table == "*") {
      selection.schemas_.insert(schema);
    } else {
      selection.tables_.insert(schema + "." + table);
    }
  }
  return selection;
}

bool TableSelection::Wants(const std::string& schema, const std::string& table) const {
  if (SelectsAll()) return !IsSystemSchema(schema);
  return schemas_.count(schema) > 0 || tables_.count(schema + "." + table) > 0;
}

bool TableSelection::Streams(const std::string& schema, const std::string& table) const {
  const bool marker = table == kOriginMarkerTable || table == kCopyMarkerTable;
  return (schema == kFerrySchema && marker) || Wants(schema, table);
}

bool TableSelection::Touches(const std::string& schema, const std::string& table) const {
  if (!table.empty()) return Wants(schema, table);
  if (SelectsAll()) return !IsSystemSchema(schema);
  return schemas_.count(schema) > 0 ||
         std::any_of(tables_.begin(), tables_.end(), [&](const std::string& name) {
           return name.compare(0, schema.size() + 1, schema + ".") == 0;
         });
}

}  // namespace ferry::capture::mysql
