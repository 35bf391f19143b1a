#include "apply/table_creator.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ferry::apply {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// "10,2" -> {10, 2}; a part that is not a number is left out (the engine halves check counts).
std::vector<int64_t> ParseParams(std::string_view inside) {
  std::vector<int64_t> params;
  while (!inside.empty()) {
    const size_t comma = inside.find(',');
    std::string_view part = inside.substr(0, comma);
    while (!part.empty() && IsSpace(part.front())) part.remove_prefix(1);
    while (!part.empty() && IsSpace(part.back())) part.remove_suffix(1);
    int64_t number = 0;
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), number);
    if (error == std::errc() && end == part.data() + part.size()) params.push_back(number);
    if (comma == std::string_view::npos) break;
    inside.remove_prefix(comma + 1);
  }
  return params;
}

}  // namespace

Result<SourceEngine> SourceEngineFromName(std::string_view engine) {
  if (engine == "postgres") return SourceEngine::kPostgres;
  if (engine == "mariadb" || engine == "mysql") return SourceEngine::kMysql;
  return Status::Error("create_tables: the upstream's source engine \"" + std::string(engine) +
                       "\" is unknown, so its column types cannot be mapped");
}

SourceType ParseSourceType(std::string_view text) {
  SourceType type;
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  if (text.size() >= 2 && text.substr(text.size() - 2) == "[]") {
    type.is_array = true;
    text.remove_suffix(2);
  }
  size_t at = 0;
  while (at < text.size()) {
    if (IsSpace(text[at])) {
      ++at;
    } else if (text[at] == '(') {
      const size_t close = text.find(')', at);
      const size_t end = close == std::string_view::npos ? text.size() : close;
      if (type.params.empty()) type.params = ParseParams(text.substr(at + 1, end - at - 1));
      at = end + 1;
    } else {
      size_t end = at;
      while (end < text.size() && !IsSpace(text[end]) && text[end] != '(') ++end;
      const std::string_view word = text.substr(at, end - at);
      if (type.base.empty()) {
        type.base = std::string(word);
      } else if (word == "unsigned") {
        type.is_unsigned = true;
      } else {
        type.rest += (type.rest.empty() ? "" : " ") + std::string(word);
      }
      at = end;
    }
  }
  return type;
}

bool KeyIsPrimaryKey(const MappedRelation& relation) {
  if (!relation.has_key) return false;
  const auto& source_columns = relation.source.columns();
  const auto flagged = std::ranges::count_if(
      source_columns, [](const wire::Column& column) { return column.key(); });
  // Every source column flagged, excluded ones included: the whole row identifies it.
  if (relation.full_old_image && flagged == source_columns.size()) return false;
  // Part of the key excluded (a full image lets a mapping do that): what is left may repeat.
  const auto mapped = std::ranges::count_if(relation.columns,
                                            [](const MappedColumn& column) { return column.key; });
  return mapped == flagged;
}

NewTable PlanNewTable(const MappedRelation& relation, SourceEngine source_engine) {
  NewTable table;
  table.schema = relation.target_schema;
  table.table = relation.target_table;
  table.source_name = relation.source.schema() + "." + relation.source.table();
  table.source_engine = source_engine;
  const bool primary_key = KeyIsPrimaryKey(relation);
  for (const MappedColumn& mapped : relation.columns) {
    NewColumn column;
    column.name = mapped.target_name;
    column.source = mapped.source;
    column.source_type = ParseSourceType(mapped.source.source_type());
    column.override_type = mapped.convert_to;
    column.primary_key = primary_key && mapped.key;
    if (column.primary_key) table.primary_key.push_back(column.name);
    table.columns.push_back(std::move(column));
  }
  return table;
}

namespace {

// True when `index` is unique over exactly the primary key's columns, whole and in order: a
// PostgreSQL replica identity index, which became the table's primary key.
bool IsThePrimaryKey(const NewTable& table, const NewIndex& index) {
  if (index.columns.size() != table.primary_key.size()) return false;
  for (size_t i = 0; i < index.columns.size(); ++i) {
    if (index.columns[i].prefix_length != 0 ||
        table.columns[index.columns[i].column].name != table.primary_key[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

PlannedIndexes PlanNewIndexes(
    const NewTable& table, const google::protobuf::RepeatedPtrField<wire::SecondaryIndex>& source) {
  PlannedIndexes planned;
  for (const wire::SecondaryIndex& index : source) {
    NewIndex created;
    created.source_name = index.name();
    created.unique = index.unique();
    std::string missing;
    for (int i = 0; i < index.columns_size() && missing.empty(); ++i) {
      const auto column = std::find_if(
          table.columns.begin(), table.columns.end(),
          [&](const NewColumn& candidate) { return candidate.source.name() == index.columns(i); });
      if (column == table.columns.end()) {
        missing = index.columns(i);
        break;
      }
      NewIndexColumn part;
      part.column = static_cast<size_t>(column - table.columns.begin());
      part.prefix_length = i < index.prefix_lengths_size() ? index.prefix_lengths(i) : 0;
      created.columns.push_back(part);
    }
    if (!missing.empty() || created.columns.empty()) {
      planned.not_created.push_back(IndexNotCreated(
          table, created, "the mapping excludes its column " + table.source_name + "." + missing));
      continue;
    }
    if (created.unique && IsThePrimaryKey(table, created)) continue;  // already there
    planned.indexes.push_back(std::move(created));
  }
  return planned;
}

std::string TruncateIdentifier(std::string_view name, size_t max_bytes) {
  if (name.size() <= max_bytes) return std::string(name);
  size_t end = max_bytes;
  // Back off continuation bytes (10xxxxxx) so no character is cut in two.
  while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;
  return std::string(name.substr(0, end));
}

std::string IndexNotCreated(const NewTable& table, const NewIndex& index, std::string_view why) {
  return "create_tables: index " + index.source_name + " of source table " + table.source_name +
         " is not created on " + table.target_name() + ": " + std::string(why) +
         "; create it on the target yourself if you need it";
}

Status IndexFailed(const NewTable& table, const NewIndex& index, const Status& failure) {
  return Status::Error(
      "create_tables: creating index " + index.source_name + " (of source table " +
      table.source_name + ") on " + table.target_name() + " failed: " + failure.message() +
      "; create the index on the target yourself under the name the statement gives "
      "it (the copy then finds it and goes on), or drop the target table and "
      "re-copy it (ferry snapshot) to have it created again");
}

Status UnmappableColumn(const NewTable& table, const NewColumn& column,
                        std::string_view target_engine, std::string_view why) {
  return Status::Error("create_tables: cannot create " + table.target_name() +
                       " (for source table " + table.source_name + "): column " + column.name +
                       " of source type " + column.source.source_type() + " has no exact " +
                       std::string(target_engine) + " type (" + std::string(why) +
                       "); create the table on the target yourself, " +
                       "or exclude the column or give it a type under the mapping's `types:`");
}

}  // namespace ferry::apply
