#include "capture/mysql/table_catalog.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <string_view>

#include "capture/mysql/mysql_charset.h"

namespace ferry::capture::mysql {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

const std::set<std::string_view> kIntegerTypes = {"tinyint", "smallint", "mediumint", "int",
                                                  "bigint"};

// The first word of MysqlTypeName: "decimal(10,2) unsigned" -> "decimal".
std::string_view BaseName(std::string_view type_name) {
  return type_name.substr(0, type_name.find_first_of("( "));
}

// "(10,2)" of "decimal(10,2) unsigned", "" when there is none; "(0)" counts as none, as the
// server writes datetime(0) as "datetime".
std::string_view Parenthesized(std::string_view type_name) {
  const size_t open = type_name.find('(');
  const size_t close = type_name.find(')', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return "";
  std::string_view inside = type_name.substr(open, close - open + 1);
  return inside == "(0)" ? "" : inside;
}

// The DATA_TYPE values a column the binlog logged as `logged` (a MysqlTypeName base name) may
// have. The binlog cannot tell CHAR from BINARY, TEXT from BLOB or VARCHAR from VARBINARY
// without charsets, nor one geometry from another; MariaDB's JSON is LONGTEXT, its INET4, INET6
// and UUID are fixed-length binary strings.
std::set<std::string_view> CatalogTypesFor(std::string_view logged) {
  if (logged == "varchar" || logged == "varbinary") return {"varchar", "varbinary"};
  if (logged == "char" || logged == "binary") return {"char", "binary", "inet4", "inet6", "uuid"};
  if (logged == "tinyblob" || logged == "tinytext") return {"tinyblob", "tinytext"};
  if (logged == "blob" || logged == "text") return {"blob", "text"};
  if (logged == "mediumblob" || logged == "mediumtext") return {"mediumblob", "mediumtext"};
  if (logged == "longblob" || logged == "longtext") return {"longblob", "longtext"};
  if (logged == "geometry") {
    return {"geometry",   "point",           "linestring",   "polygon",
            "multipoint", "multilinestring", "multipolygon", "geometrycollection"};
  }
  return {logged};
}

std::string TableName(const TableMap& table) {
  return "`" + table.schema + "`.`" + table.table + "`";
}

constexpr char kFix[] =
    ": without binlog_row_metadata=FULL the binlog does not say how the table looked when the "
    "event was written, and information_schema only says how it looks now. Set "
    "binlog_row_metadata=FULL on the source (MariaDB 10.5+, MySQL 8.0.1+) so that new events "
    "describe themselves; events already written this way cannot be read exactly: re-snapshot "
    "the target from a position after the change";

Status Mismatch(const TableMap& table, size_t index, const std::string& logged,
                const CatalogColumn& now) {
  return Status::Error("table " + TableName(table) + ": column " + std::to_string(index + 1) +
                       " is " + logged + " in the binlog event but information_schema says " +
                       now.name + " " + now.column_type + kFix);
}

// How many bytes the server packs an ENUM or SET of `members` into.
size_t EnumPackLength(size_t members) { return members < 256 ? 1 : 2; }
size_t SetPackLength(size_t members) {
  const size_t bytes = (members + 7) / 8;
  return bytes > 4 ? 8 : bytes;
}

// The catalog describes the column as the event logged it, as far as the event tells.
Status CheckColumn(const TableMap& table, size_t index, const CatalogColumn& now) {
  const ColumnInfo& column = table.columns[index];
  const std::string logged = MysqlTypeName(column);
  const std::string_view base = BaseName(logged);
  if (CatalogTypesFor(base).count(now.data_type) == 0) {
    return Mismatch(table, index, logged, now);
  }
  if ((base == "decimal" || base == "bit" || base == "time" || base == "datetime" ||
       base == "timestamp") &&
      Parenthesized(logged) != Parenthesized(now.column_type)) {
    return Mismatch(table, index, logged, now);
  }
  const bool compressed = logged.find(" compressed") != std::string::npos;
  if ((base == "varchar" || base == "varbinary") && !compressed &&
      column.metadata != now.octet_length) {
    return Mismatch(table, index,
                    logged + " of " + std::to_string(column.metadata) + " bytes at most", now);
  }
  if (base == "enum" || base == "set") {
    Result<std::vector<std::string>> members = ParseMembers(now.column_type);
    if (!members.ok()) return members.status().WithContext("table " + TableName(table));
    const size_t pack = column.metadata & 0xff;
    const size_t expected =
        base == "enum" ? EnumPackLength(members->size()) : SetPackLength(members->size());
    if (pack != expected) {
      return Mismatch(table, index, logged + " of " + std::to_string(pack) + " bytes", now);
    }
  }
  return Status::Ok();
}

Status CheckUnchangedSince(const TableMap& table, const CatalogTable& catalog,
                           uint32_t event_time) {
  if (event_time == 0 || catalog.changed_at <= static_cast<int64_t>(event_time)) {
    return Status::Ok();
  }
  return Status::Error("table " + TableName(table) + " was altered (information_schema: at " +
                       std::to_string(catalog.changed_at) + ", Unix time) after this event was " +
                       "written (at " + std::to_string(event_time) + ")" + kFix);
}

void FillColumn(ColumnInfo& column, const CatalogColumn& now, const TableMap& table,
                bool has_primary_key) {
  if (!table.has_column_names) {
    column.name = now.name;
    if (has_primary_key) column.primary_key = now.primary_key;
  }
  const std::string type_name = MysqlTypeName(column);
  const std::string_view base = BaseName(type_name);
  if (!table.has_signedness && kIntegerTypes.count(base) != 0) {
    column.is_unsigned = now.column_type.find(" unsigned") != std::string::npos;
  }
  if (!table.has_enum_and_set_values && (base == "enum" || base == "set")) {
    Result<std::vector<std::string>> members = ParseMembers(now.column_type);
    if (members.ok()) (base == "enum" ? column.enum_values : column.set_values) = *members;
  }
}

}  // namespace

bool NeedsCatalog(const TableMap& table) {
  if (!table.has_column_names || LacksCollations(table)) return true;
  return std::any_of(table.columns.begin(), table.columns.end(), [&](const ColumnInfo& column) {
    const std::string type_name = MysqlTypeName(column);
    const std::string_view base = BaseName(type_name);
    return (!table.has_signedness && kIntegerTypes.count(base) != 0) ||
           (!table.has_enum_and_set_values && (base == "enum" || base == "set"));
  });
}

Status CompleteFromCatalog(TableMap& table, const CatalogTable& catalog, uint32_t event_time) {
  if (catalog.columns.empty()) {
    return Status::Error("table " + TableName(table) +
                         " is not in information_schema.COLUMNS (dropped since, or the capture "
                         "user lacks SELECT on it)" +
                         kFix);
  }
  if (catalog.columns.size() != table.columns.size()) {
    return Status::Error("table " + TableName(table) + ": the binlog event has " +
                         std::to_string(table.columns.size()) +
                         " columns but information_schema lists " +
                         std::to_string(catalog.columns.size()) + kFix);
  }
  FERRY_RETURN_IF_ERROR(CheckUnchangedSince(table, catalog, event_time));
  for (size_t i = 0; i < table.columns.size(); ++i) {
    FERRY_RETURN_IF_ERROR(CheckColumn(table, i, catalog.columns[i]));
  }
  std::vector<uint32_t> collations;
  for (const CatalogColumn& column : catalog.columns) collations.push_back(column.collation);
  SetCollations(table, collations);
  const bool has_primary_key =
      std::any_of(catalog.columns.begin(), catalog.columns.end(),
                  [](const CatalogColumn& column) { return column.primary_key; });
  for (size_t i = 0; i < table.columns.size(); ++i) {
    FillColumn(table.columns[i], catalog.columns[i], table, has_primary_key);
  }
  table.has_column_names = true;
  table.has_signedness = true;
  table.has_enum_and_set_values = true;
  return Status::Ok();
}

std::string CatalogColumnsQuery(const std::string& schema, const std::string& table) {
  return "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COLUMN_KEY, CHARACTER_SET_NAME,"
         " CHARACTER_OCTET_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
         schema + " AND TABLE_NAME = " + table + " ORDER BY ORDINAL_POSITION";
}

std::vector<CatalogColumn> CatalogColumnsFromRows(
    const std::vector<std::vector<std::optional<std::string>>>& rows) {
  std::vector<CatalogColumn> columns;
  for (const auto& row : rows) {
    if (row.size() < 6) continue;
    // No charset: a binary string (or not a string at all, where the decoder ignores it).
    const uint32_t collation = row[4] ? CollationOfCharset(Lower(*row[4])) : kBinaryCollation;
    columns.push_back({row[0].value_or(""), Lower(row[1].value_or("")), row[2].value_or(""),
                       row[3] == "PRI", collation,
                       std::strtoull(row[5].value_or("0").c_str(), nullptr, 10)});
  }
  return columns;
}

Result<TableMap> TableMapFromCatalog(const std::string& schema, const std::string& table,
                                     const std::vector<CatalogColumn>& columns) {
  TableMap map;
  map.schema = schema;
  map.table = table;
  for (const CatalogColumn& now : columns) {
    Result<ColumnInfo> column =
        LoggedColumn(now.data_type, now.column_type, now.octet_length, now.collation);
    if (!column.ok()) {
      return column.status().WithContext("table `" + schema + "`.`" + table + "` column " +
                                         now.name);
    }
    column->name = now.name;
    column->primary_key = now.primary_key;
    map.columns.push_back(std::move(*column));
  }
  map.has_column_names = map.has_signedness = map.has_enum_and_set_values = true;
  return map;
}

Result<std::vector<std::string>> ParseMembers(const std::string& column_type) {
  const size_t open = column_type.find('(');
  const std::string_view kind = std::string_view(column_type).substr(0, open);
  if (open == std::string::npos || (kind != "enum" && kind != "set")) {
    return Status::Error("\"" + column_type + "\" is not an ENUM or SET column type");
  }
  std::vector<std::string> members;
  size_t at = open + 1;
  auto malformed = [&] {
    return Status::Error("cannot read the members of \"" + column_type + "\"");
  };
  while (at < column_type.size() && column_type[at] == '\'') {
    std::string member;
    for (++at;; ++at) {
      if (at >= column_type.size()) return malformed();
      const char c = column_type[at];
      if (c == '\\' && at + 1 < column_type.size()) {
        const char escaped = column_type[++at];
        // The escapes the server writes in COLUMN_TYPE; any other stands for itself.
        member.push_back(escaped == '0'   ? '\0'
                         : escaped == 'n' ? '\n'
                         : escaped == 'r' ? '\r'
                         : escaped == 'Z' ? '\032'
                                          : escaped);
      } else if (c == '\'' && at + 1 < column_type.size() && column_type[at + 1] == '\'') {
        member.push_back('\'');
        ++at;
      } else if (c == '\'') {
        break;
      } else {
        member.push_back(c);
      }
    }
    members.push_back(std::move(member));
    ++at;  // past the closing quote
    if (at < column_type.size() && column_type[at] == ',') ++at;
  }
  if (at >= column_type.size() || column_type[at] != ')') return malformed();
  return members;
}

}  // namespace ferry::capture::mysql
