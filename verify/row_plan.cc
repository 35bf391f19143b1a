#include "verify/row_plan.h"

#include <strings.h>

#include <utility>

#include "apply/type_override.h"
#include "verify/checksum.h"

namespace ferry::verify {
namespace {

std::string QualifiedName(const wire::Relation& relation) {
  return relation.schema() + "." + relation.table();
}

// MariaDB column names are case-insensitive; PostgreSQL's are exact once quoted, as apply quotes
// them.
std::optional<int> FindColumn(const wire::Relation& relation, const std::string& name,
                              Engine engine) {
  for (int i = 0; i < relation.columns_size(); ++i) {
    if (relation.columns(i).name() == name) return i;
  }
  if (engine != Engine::kMysql) return std::nullopt;
  for (int i = 0; i < relation.columns_size(); ++i) {
    if (strcasecmp(relation.columns(i).name().c_str(), name.c_str()) == 0) return i;
  }
  return std::nullopt;
}

// The value apply writes to the pair's target column for `source_row`, typed as the target's
// reader types it.
Result<wire::Value> ExpectedTargetValue(const ColumnPair& pair, const Row& source_row) {
  const wire::Value& value = source_row.at(pair.source_index);
  if (!pair.convert_to) return AsColumnValue(value, pair.target);
  Result<wire::Value> converted = apply::ConvertValue(value, *pair.convert_to);
  if (!converted.ok()) return converted.status();
  return AsColumnValue(*converted, pair.target);
}

// Key values joined so that no value's text can be mistaken for a delimiter.
std::string KeyText(const Key& key, const std::vector<const ColumnTraits*>& traits) {
  std::string text;
  for (size_t i = 0; i < key.size() && i < traits.size(); ++i) {
    std::optional<std::string> canonical = Canonical(key[i], *traits[i]);
    text += canonical ? std::to_string(canonical->size()) + ":" + *canonical + ";" : "NULL;";
  }
  return text;
}

std::string DescribeKey(const Key& key, const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < key.size() && i < names.size(); ++i) {
    text += (i > 0 ? ", " : "") + names[i] + "=" + DisplayText(key[i]);
  }
  return text;
}

}  // namespace

std::string ColumnPair::Label() const {
  return source_name == target_name ? source_name : source_name + "->" + target_name;
}

Result<RowPlan> RowPlan::Build(const apply::MappedRelation& mapped, const KeyedRelation& source,
                               Engine source_engine, const KeyedRelation& target,
                               Engine target_engine, bool zero_dates_as_null) {
  RowPlan plan;
  const std::string target_name = QualifiedName(target.relation);
  for (const apply::MappedColumn& column : mapped.columns) {
    const wire::Column& source_column = source.relation.columns(column.source_index);
    std::optional<int> at = FindColumn(target.relation, column.target_name, target_engine);
    if (!at) {
      return Status::Error("target table " + target_name + " has no column " + column.target_name +
                           " (written from source column " + source_column.name() +
                           "): add it to the target table, or rename or exclude the column "
                           "under mappings: in the apply config");
    }
    ColumnPair pair;
    pair.source_index = column.source_index;
    pair.target_index = *at;
    pair.source_name = source_column.name();
    pair.target_name = target.relation.columns(*at).name();
    pair.convert_to = column.convert_to;
    pair.source = TraitsOf(source_column, source_engine);
    pair.target = TraitsOf(target.relation.columns(*at), target_engine);
    pair.target.zero_dates_as_null = zero_dates_as_null;
    plan.columns_.push_back(std::move(pair));
  }
  for (int key_column : target.key) {
    size_t found = plan.columns_.size();
    for (size_t p = 0; p < plan.columns_.size(); ++p) {
      if (plan.columns_[p].target_index == key_column) found = p;
    }
    if (found == plan.columns_.size()) {
      return Status::Error("key column " + target.relation.columns(key_column).name() +
                           " of target table " + target_name +
                           " is written from no source column, so verify cannot find a "
                           "target row from its source row: map a source column to it, or "
                           "give the target table the source's primary key");
    }
    plan.target_key_pairs_.push_back(found);
  }
  for (int key_column : source.key) {
    size_t found = plan.columns_.size();
    for (size_t p = 0; p < plan.columns_.size(); ++p) {
      if (plan.columns_[p].source_index == key_column) found = p;
    }
    if (found == plan.columns_.size()) {
      return Status::Error("key column " + source.relation.columns(key_column).name() +
                           " of source table " + QualifiedName(source.relation) +
                           " is excluded by the mapping: verify finds rows by their key; stop "
                           "excluding it under mappings: in the apply config");
    }
    plan.source_key_pairs_.push_back(found);
  }
  return plan;
}

Result<Key> RowPlan::TargetKeyOf(const Row& source_row) const {
  Key key;
  key.reserve(target_key_pairs_.size());
  for (size_t p : target_key_pairs_) {
    Result<wire::Value> value = ExpectedTargetValue(columns_[p], source_row);
    if (!value.ok()) return value.status().WithContext("key column " + columns_[p].source_name);
    key.push_back(std::move(value).value());
  }
  return key;
}

Result<Key> RowPlan::SourceKeyOf(const Row& target_row) const {
  Key key;
  key.reserve(source_key_pairs_.size());
  for (size_t p : source_key_pairs_) {
    Result<wire::Value> value =
        AsColumnValue(target_row.at(columns_[p].target_index), columns_[p].source);
    if (!value.ok()) return value.status().WithContext("key column " + columns_[p].target_name);
    key.push_back(std::move(value).value());
  }
  return key;
}

std::string RowPlan::TargetKeyText(const Key& target_key) const {
  std::vector<const ColumnTraits*> traits;
  for (size_t p : target_key_pairs_) traits.push_back(&columns_[p].target);
  return KeyText(target_key, traits);
}

std::string RowPlan::SourceKeyText(const Key& source_key) const {
  std::vector<const ColumnTraits*> traits;
  for (size_t p : source_key_pairs_) traits.push_back(&columns_[p].source);
  return KeyText(source_key, traits);
}

bool RowPlan::SameValue(const ColumnPair& pair, const Row& source_row,
                        const Row& target_row) const {
  Result<wire::Value> expected = ExpectedTargetValue(pair, source_row);
  // A value apply refuses to write is never on the target.
  if (!expected.ok()) return false;
  return Canonical(*expected, pair.target) ==
         Canonical(target_row.at(pair.target_index), pair.target);
}

std::vector<std::string> RowPlan::DifferingColumns(const Row& source_row,
                                                   const Row& target_row) const {
  std::vector<std::string> differing;
  for (const ColumnPair& pair : columns_) {
    if (!SameValue(pair, source_row, target_row)) differing.push_back(pair.Label());
  }
  return differing;
}

std::optional<RowPlan::ChecksumColumns> RowPlan::ChecksumColumnsIfComparable() const {
  if (target_key_pairs_ != source_key_pairs_) return std::nullopt;
  for (size_t p : source_key_pairs_) {
    if (!OrderedAlikeOnEveryServer(columns_[p].source.type)) return std::nullopt;
  }
  ChecksumColumns checksummed;
  for (const ColumnPair& pair : columns_) {
    const bool alike = pair.source.engine == pair.target.engine &&
                       pair.source.type == pair.target.type &&
                       pair.source.source_type == pair.target.source_type && !pair.convert_to;
    if (!alike) return std::nullopt;
    checksummed.source.push_back(pair.source_index);
    checksummed.target.push_back(pair.target_index);
  }
  return checksummed;
}

std::vector<std::string> RowPlan::SourceKeyNames() const {
  std::vector<std::string> names;
  for (size_t p : source_key_pairs_) names.push_back(columns_[p].source_name);
  return names;
}

std::vector<std::string> RowPlan::TargetKeyNames() const {
  std::vector<std::string> names;
  for (size_t p : target_key_pairs_) names.push_back(columns_[p].target_name);
  return names;
}

std::string RowPlan::DescribeSourceKey(const Key& source_key) const {
  return DescribeKey(source_key, SourceKeyNames());
}

std::string RowPlan::DescribeTargetKey(const Key& target_key) const {
  return DescribeKey(target_key, TargetKeyNames());
}

}  // namespace ferry::verify
