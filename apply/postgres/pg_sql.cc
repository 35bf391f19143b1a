#include "apply/postgres/pg_sql.h"

#include <algorithm>
#include <set>

#include "apply/postgres/pg_text.h"

namespace ferry::apply::postgres {
namespace {

std::set<std::string> MappedNames(const MappedRelation& relation, bool keys_only) {
  std::set<std::string> names;
  for (const MappedColumn& column : relation.columns) {
    if (!keys_only || column.key) names.insert(column.target_name);
  }
  return names;
}

bool Covers(const std::set<std::string>& names, const std::vector<std::string>& columns) {
  return std::all_of(columns.begin(), columns.end(),
                     [&](const std::string& c) { return names.contains(c); });
}

// The target's primary key, or failing that its replica identity index, when the mapping
// writes every one of its columns.
const UniqueIndex* IdentityIndex(const MappedRelation& relation, const TargetTable& target) {
  const std::set<std::string> mapped = MappedNames(relation, false);
  for (bool want_primary : {true, false}) {
    for (const UniqueIndex& index : target.unique_indexes) {
      const bool fits = want_primary ? index.primary : index.replica_identity;
      if (fits && Covers(mapped, index.columns)) return &index;
    }
  }
  return nullptr;
}

bool OneRowPossible(const TargetTable& target) {
  // Only heap tables (and partitioned tables of them) have a ctid to pin one row with.
  return target.relkind == 'r' || target.relkind == 'p';
}

// Appends `$n` for `value`, recording it as the next parameter.
std::string Param(const std::optional<std::string>& value, Statement* statement) {
  statement->params.push_back(value);
  return "$" + std::to_string(statement->params.size());
}

// "a = $1 AND b IS NULL AND c::text = $2::text". NULLs are matched with IS NULL, not IS NOT
// DISTINCT FROM, so that non-null comparisons stay plain equalities an index can serve; the
// null pattern is part of the SQL text, so each pattern gets its own prepared statement.
std::string MatchCondition(const std::vector<BoundColumn>& match, Statement* statement) {
  std::string sql;
  for (size_t i = 0; i < match.size(); ++i) {
    if (i > 0) sql += " AND ";
    const BoundColumn& column = match[i];
    const std::string name = QuoteIdent(column.name);
    if (!column.value) {
      sql += name + " IS NULL";
    } else if (column.text_compare) {
      sql += name + "::text = " + Param(column.value, statement) + "::text";
    } else {
      sql += name + " = " + Param(column.value, statement);
    }
  }
  return sql;
}

// The WHERE clause (without "WHERE") for an UPDATE or DELETE.
std::string WhereClause(const TargetTable& target, const std::vector<BoundColumn>& match,
                        bool one_row, Statement* statement) {
  const std::string condition = MatchCondition(match, statement);
  if (!one_row || !OneRowPossible(target)) return condition;
  // The condition is repeated outside the subquery: a ctid is only unique within one table,
  // and the target may have partitions or inheritance children.
  return "ctid = (SELECT ctid FROM " + target.quoted() + " WHERE " + condition + " LIMIT 1) AND " +
         condition;
}

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += QuoteIdent(names[i]);
  }
  return out;
}

}  // namespace

std::string TargetTable::quoted() const { return QuoteIdent(schema) + "." + QuoteIdent(table); }

const TargetColumn* TargetTable::Find(const std::string& column) const {
  for (const TargetColumn& candidate : columns) {
    if (candidate.name == column) return &candidate;
  }
  return nullptr;
}

Result<std::vector<BoundColumn>> BindImage(
    const MappedRelation& relation, const TargetTable& target,
    const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  if (values.size() != relation.source.columns_size()) {
    return Status::Error("row has " + std::to_string(values.size()) + " values but relation " +
                         relation.source.schema() + "." + relation.source.table() + " has " +
                         std::to_string(relation.source.columns_size()) +
                         " columns: the change stream is malformed");
  }
  std::vector<BoundColumn> bound;
  bound.reserve(relation.columns.size());
  for (const MappedColumn& column : relation.columns) {
    const wire::Value& value = values.Get(column.source_index);
    if (value.has_unchanged()) continue;
    const TargetColumn* target_column = target.Find(column.target_name);
    if (target_column == nullptr) {
      return Status::Error("target table " + target.name() + " has no column " +
                           column.target_name + " (from source column " + column.source.name() +
                           "): add it on the target, or rename or exclude it in the mapping");
    }
    Result<std::optional<std::string>> text = ValueToPgText(value);
    if (!text.ok()) return text.status().WithContext("column " + column.target_name);
    bound.push_back({column.target_name, std::move(text).value(), target_column->text_compare});
  }
  return bound;
}

std::vector<std::string> MatchColumns(const MappedRelation& relation, const TargetTable& target) {
  if (relation.full_old_image) {
    if (const UniqueIndex* index = IdentityIndex(relation, target)) return index->columns;
  }
  std::vector<std::string> names;
  for (const MappedColumn& column : relation.columns) {
    if (relation.full_old_image || column.key) names.push_back(column.target_name);
  }
  return names;
}

bool MatchesWholeRow(const MappedRelation& relation, const TargetTable& target) {
  return relation.full_old_image && IdentityIndex(relation, target) == nullptr;
}

std::optional<std::vector<std::string>> ArbiterColumns(const MappedRelation& relation,
                                                       const TargetTable& target) {
  if (!relation.has_key) return std::nullopt;
  const std::set<std::string> candidates = MappedNames(relation, !relation.full_old_image);
  const UniqueIndex* best = nullptr;
  auto rank = [&](const UniqueIndex& index) {
    const std::set<std::string> columns(index.columns.begin(), index.columns.end());
    if (columns == candidates) return 3;
    return index.primary ? 2 : 1;
  };
  for (const UniqueIndex& index : target.unique_indexes) {
    if (!Covers(candidates, index.columns)) continue;
    if (best == nullptr || rank(index) > rank(*best)) best = &index;
  }
  if (best == nullptr) return std::nullopt;
  return best->columns;
}

bool RequiresArbiter(const MappedRelation& relation) {
  return relation.has_key && !relation.full_old_image;
}

Result<std::vector<BoundColumn>> Select(const std::vector<BoundColumn>& bound,
                                        const std::vector<std::string>& names) {
  std::vector<BoundColumn> selected;
  for (const std::string& name : names) {
    auto it = std::find_if(bound.begin(), bound.end(),
                           [&](const BoundColumn& column) { return column.name == name; });
    if (it == bound.end()) {
      return Status::Error("the row carries no value for column " + name +
                           ", which identifies rows on the target");
    }
    selected.push_back(*it);
  }
  return selected;
}

Statement InsertStatement(const TargetTable& target, const std::vector<BoundColumn>& columns,
                          const std::vector<std::string>* arbiter) {
  Statement statement;
  std::string names;
  std::string values;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) {
      names += ", ";
      values += ", ";
    }
    names += QuoteIdent(columns[i].name);
    values += Param(columns[i].value, &statement);
  }
  statement.sql = "INSERT INTO " + target.quoted();
  statement.sql += columns.empty() ? " DEFAULT VALUES" : " (" + names + ") VALUES (" + values + ")";
  if (arbiter != nullptr) statement.sql += " ON CONFLICT (" + JoinQuoted(*arbiter) + ") DO NOTHING";
  return statement;
}

Statement UpdateStatement(const TargetTable& target, const std::vector<BoundColumn>& set,
                          const std::vector<BoundColumn>& match, bool one_row) {
  Statement statement;
  std::string assignments;
  for (size_t i = 0; i < set.size(); ++i) {
    if (i > 0) assignments += ", ";
    assignments += QuoteIdent(set[i].name) + " = " + Param(set[i].value, &statement);
  }
  if (set.empty() && !match.empty()) {
    assignments = QuoteIdent(match[0].name) + " = " + QuoteIdent(match[0].name);
  }
  statement.sql = "UPDATE " + target.quoted() + " SET " + assignments + " WHERE " +
                  WhereClause(target, match, one_row, &statement);
  return statement;
}

Statement DeleteStatement(const TargetTable& target, const std::vector<BoundColumn>& match,
                          bool one_row) {
  Statement statement;
  statement.sql = "DELETE FROM " + target.quoted() + " WHERE " +
                  WhereClause(target, match, one_row, &statement);
  return statement;
}

std::string TruncateStatement(const TargetTable& target, bool cascade, bool restart_identity) {
  std::string sql = "TRUNCATE " + target.quoted();
  if (restart_identity) sql += " RESTART IDENTITY";
  if (cascade) sql += " CASCADE";
  return sql;
}

}  // namespace ferry::apply::postgres
