#include "apply/table_mapping.h"

#include <algorithm>
#include <utility>

#include "apply/type_override.h"

namespace ferry::apply {
namespace {

std::string QualifiedName(const std::string& schema, const std::string& table) {
  return schema + "." + table;
}

// Normalises a rule's "table" or "schema.table" to "schema.table" so that "orders" and
// "public.orders" name the same source.
std::string Normalise(const std::string& name) {
  auto [schema, table] = SplitQualifiedName(name);
  return QualifiedName(schema, table);
}

const MappingRule* FindRule(const std::vector<MappingRule>& rules, const std::string& source) {
  for (const MappingRule& rule : rules) {
    if (Normalise(rule.source) == source) return &rule;
  }
  return nullptr;
}

bool HasColumn(const wire::Relation& relation, const std::string& name) {
  for (const wire::Column& column : relation.columns()) {
    if (column.name() == name) return true;
  }
  return false;
}

// A rename or exclusion of a column the relation does not have is almost always a typo in the
// config; applying without it would silently write a column the operator meant to drop.
Status CheckRuleColumns(const MappingRule& rule, const wire::Relation& relation,
                        const std::string& source) {
  for (const auto& [from, to] : rule.renames) {
    if (!HasColumn(relation, from)) {
      return Status::Error("mapping " + rule.source + ": renames column " + from + " to " + to +
                           ", but " + source + " has no column " + from +
                           ": fix the column name in the mapping's renames");
    }
  }
  for (const std::string& name : rule.exclude) {
    if (!HasColumn(relation, name)) {
      return Status::Error("mapping " + rule.source + ": excludes column " + name + ", but " +
                           source + " has no column " + name +
                           ": fix the column name in the mapping's exclude list");
    }
  }
  for (const auto& [name, type] : rule.types) {
    if (!HasColumn(relation, name)) {
      return Status::Error("mapping " + rule.source + ": gives column " + name + " the type " +
                           OverrideTypeName(type) + ", but " + source + " has no column " + name +
                           ": fix the column name in the mapping's types");
    }
  }
  return Status::Ok();
}

bool HasKey(const wire::Relation& relation) {
  for (const wire::Column& column : relation.columns()) {
    if (column.key()) return true;
  }
  return false;
}

// Builds the mapped columns. With a full old image (REPLICA IDENTITY FULL) the source flags every
// column as key, so excluding one only narrows the row match; with a real key, dropping a key
// column would leave the target unable to tell rows apart, so that is refused. A relation
// without any key column maps as it is (see the header).
Result<std::vector<MappedColumn>> MapColumns(const wire::Relation& relation,
                                             const MappingRule* rule, const std::string& source) {
  std::vector<MappedColumn> columns;
  std::set<std::string> target_names;
  bool any_key = false;
  for (int i = 0; i < relation.columns_size(); ++i) {
    const wire::Column& column = relation.columns(i);
    if (rule != nullptr && rule->exclude.contains(column.name())) {
      if (column.key() && !relation.full_old_image()) {
        return Status::Error("mapping " + rule->source + ": excludes column " + column.name() +
                             ", which is part of the key of " + source +
                             ": key columns identify rows on the target and cannot be excluded; "
                             "remove it from the mapping's exclude list");
      }
      continue;
    }
    MappedColumn mapped;
    mapped.source_index = i;
    mapped.target_name = column.name();
    if (rule != nullptr) {
      if (auto it = rule->renames.find(column.name()); it != rule->renames.end()) {
        mapped.target_name = it->second;
      }
    }
    if (!target_names.insert(mapped.target_name).second) {
      return Status::Error("mapping " + (rule != nullptr ? rule->source : source) +
                           ": two columns of " + source + " map to target column " +
                           mapped.target_name + ": fix the mapping's renames");
    }
    mapped.key = column.key();
    mapped.source = column;
    if (rule != nullptr) {
      if (auto it = rule->types.find(column.name()); it != rule->types.end()) {
        mapped.convert_to = it->second;
        mapped.source.set_type(it->second);
      }
    }
    any_key = any_key || mapped.key;
    columns.push_back(std::move(mapped));
  }
  if (!any_key && HasKey(relation)) {
    // Only reachable through a rule: without one every key column is kept.
    return Status::Error("mapping " + (rule != nullptr ? rule->source : source) +
                         ": excludes every key column of " + source +
                         ", so rows cannot be found on the target: keep at least one");
  }
  return columns;
}

}  // namespace

Status NoKeyError(const MappedRelation& relation) {
  const std::string source = QualifiedName(relation.source.schema(), relation.source.table());
  return Status::Error(
      "table " + source +
      " has no primary key and no REPLICA IDENTITY FULL, so updates and deletes "
      "cannot find their row on the target: add a primary key or run ALTER TABLE " +
      source + " REPLICA IDENTITY FULL on the source");
}

std::pair<std::string, std::string> SplitQualifiedName(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos) return {"public", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

namespace {

std::vector<std::string> RuleTargets(const std::vector<MappingRule>& rules) {
  std::vector<std::string> targets;
  for (const MappingRule& rule : rules) {
    if (rule.target.empty()) continue;
    auto [schema, table] = SplitQualifiedName(rule.target);
    targets.push_back(schema + "." + table);
  }
  return targets;
}

}  // namespace

TableMapper::TableMapper(std::vector<MappingRule> rules,
                         const std::vector<std::string>& allowed_tables,
                         const std::string& target_engine)
    : rules_(std::move(rules)), allowed_(target_engine, allowed_tables, RuleTargets(rules_)) {}

Result<MappedRelation> TableMapper::Map(const wire::Relation& relation) const {
  const std::string source = QualifiedName(relation.schema(), relation.table());
  const MappingRule* rule = FindRule(rules_, source);
  // A relation known by name only (a MySQL/MariaDB TRUNCATE) has no columns to check the
  // rule's against; its first row change would bring them.
  if (rule != nullptr && relation.columns_size() > 0) {
    FERRY_RETURN_IF_ERROR(CheckRuleColumns(*rule, relation, source));
  }

  Result<std::vector<MappedColumn>> columns = MapColumns(relation, rule, source);
  if (!columns.ok()) return columns.status();

  MappedRelation mapped;
  if (rule != nullptr && !rule->target.empty()) {
    std::tie(mapped.target_schema, mapped.target_table) = SplitQualifiedName(rule->target);
  } else {
    mapped.target_schema = relation.schema();
    mapped.target_table = relation.table();
  }
  FERRY_RETURN_IF_ERROR(allowed_.Check(mapped.target_schema, mapped.target_table));
  mapped.columns = std::move(columns).value();
  mapped.full_old_image = relation.full_old_image();
  mapped.has_key = std::any_of(mapped.columns.begin(), mapped.columns.end(),
                               [](const MappedColumn& column) { return column.key; });
  mapped.converts =
      std::any_of(mapped.columns.begin(), mapped.columns.end(),
                  [](const MappedColumn& column) { return column.convert_to.has_value(); });
  mapped.source = relation;
  return mapped;
}

}  // namespace ferry::apply
