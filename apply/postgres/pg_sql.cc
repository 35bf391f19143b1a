#include "apply/postgres/pg_sql.h"

#include <algorithm>

#include "apply/key_range_sql.h"
#include "apply/postgres/pg_text.h"
#include "apply/row_applier.h"

namespace ferry::apply::postgres {
namespace {

bool OneRowPossible(const TargetTable& target) {
  // Only heap tables (and partitioned tables of them) have a ctid to pin one row with.
  return target.relkind == 'r' || target.relkind == 'p';
}

// Appends `$n` for `value`, recording it as the next parameter.
std::string Param(const std::optional<std::string>& value, Statement* statement) {
  statement->params.push_back(value);
  return "$" + std::to_string(statement->params.size());
}

// `$n` cast to the type `column` has on the target. A parameter compared with a column is not
// always inferred from it: against a composite PostgreSQL picks record = record and cannot
// read the text as an anonymous record. The cast names the base type without modifier, so a
// value is never cut to a declared length (character(3), bit(4), a domain over varchar(5))
// before it is compared.
std::string TypedParam(const TargetTable& target, const BoundColumn& column, Statement* statement) {
  const std::string param = Param(column.value, statement);
  const TargetColumn* target_column = target.Find(column.name);
  if (target_column == nullptr || target_column->param_type.empty()) return param;
  return param + "::" + target_column->param_type;
}

// "a = $1::t AND b IS NULL AND c::text = $2::text". NULLs are matched with IS NULL, not IS NOT
// DISTINCT FROM, so that non-null comparisons stay plain equalities an index can serve; the
// null pattern is part of the SQL text, so each pattern gets its own prepared statement.
std::string MatchCondition(const TargetTable& target, const std::vector<BoundColumn>& match,
                           Statement* statement) {
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
      sql += name + " = " + TypedParam(target, column, statement);
    }
  }
  return sql;
}

// The WHERE clause (without "WHERE") for an UPDATE or DELETE.
std::string WhereClause(const TargetTable& target, const std::vector<BoundColumn>& match,
                        bool one_row, Statement* statement) {
  const std::string condition = MatchCondition(target, match, statement);
  if (!one_row || !OneRowPossible(target)) return condition;
  // The condition is repeated outside the subquery: a ctid is only unique within one table,
  // and the target may have partitions or inheritance children.
  return "ctid = (SELECT ctid FROM " + target.quoted() + " WHERE " + condition + " LIMIT 1) AND " +
         condition;
}

std::string SourceColumnName(const MappedRelation& relation, const MappedColumn& column) {
  return relation.source.schema() + "." + relation.source.table() + "." + column.source.name();
}

// PostgreSQL parses every parameter with the target column's input function, which for a few
// value kinds would read something other than the value instead of failing:
//  - 0/1 (and bits) into boolean: which integers are booleans is the operator's call
//    (TINYINT(1) is also used for small counters), so that takes a `types:` override, which
//    converts them exactly or stops with the value;
//  - binary data into a non-bytea column would arrive as its "\x..." hex text.
Status CheckKindFitsTarget(const MappedRelation& relation, const MappedColumn& column,
                           const TargetColumn& target, const wire::Value& value) {
  const std::string source_table = relation.source.schema() + "." + relation.source.table();
  if (target.type == "boolean" && (value.has_int64() || value.has_uint64() || value.has_bits())) {
    return Status::Error("column " + column.target_name + " is boolean on the target, but " +
                         SourceColumnName(relation, column) + " (" + column.source.source_type() +
                         ") carries " + (value.has_bits() ? "bits" : "integers") +
                         ": to write 0 and 1 as false and true, add `types: {" +
                         column.source.name() + ": boolean}` to the mapping of " + source_table +
                         " in the apply config");
  }
  if (value.has_bytes() && target.base_type != "bytea") {
    return Status::Error("column " + column.target_name + " is " + target.type +
                         " on the target, but " + SourceColumnName(relation, column) + " (" +
                         column.source.source_type() +
                         ") carries binary data: make the target column bytea, or, if the bytes "
                         "are UTF-8 text, add `types: {" +
                         column.source.name() + ": text}` to the mapping of " + source_table);
  }
  return Status::Ok();
}

// Appends the text for non-null `value` in `target`: text into bytea goes as hex of its UTF-8
// bytes, since bytea's input would read backslashes in it as escapes.
Status AppendParamText(const TargetColumn& target, const wire::Value& value, std::string* out) {
  if (value.has_text() && target.base_type == "bytea") {
    AppendByteaHex(value.text(), out);
    return Status::Ok();
  }
  return AppendPgText(value, out);
}

}  // namespace

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += QuoteIdent(names[i]);
  }
  return out;
}

std::string TargetTable::quoted() const { return QuoteIdent(schema) + "." + QuoteIdent(table); }

const TargetColumn* TargetTable::Find(const std::string& column) const {
  for (const TargetColumn& candidate : columns) {
    if (candidate.name == column) return &candidate;
  }
  return nullptr;
}

Status AppendColumnText(const MappedRelation& relation, const MappedColumn& column,
                        const TargetColumn& target, const wire::Value& value, std::string* out) {
  FERRY_RETURN_IF_ERROR(CheckKindFitsTarget(relation, column, target, value));
  return AppendParamText(target, value, out).WithContext("column " + column.target_name);
}

Result<std::optional<std::string>> ColumnText(const MappedRelation& relation,
                                              const MappedColumn& column,
                                              const TargetColumn& target,
                                              const wire::Value& value) {
  if (value.has_null()) return std::optional<std::string>();
  std::string text;
  FERRY_RETURN_IF_ERROR(AppendColumnText(relation, column, target, value, &text));
  return std::optional<std::string>(std::move(text));
}

Result<std::vector<BoundColumn>> BindImage(
    const MappedRelation& relation, const TargetTable& target,
    const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  return BindMapped<BoundColumn>(
      relation, target, values,
      [&](const MappedColumn& column, const TargetColumn& target_column,
          const wire::Value& value) -> Result<BoundColumn> {
        Result<std::optional<std::string>> text =
            ColumnText(relation, column, target_column, value);
        if (!text.ok()) return text.status();
        return BoundColumn{column.target_name, std::move(text).value(), target_column.text_compare};
      });
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

Statement InsertRowsStatement(const TargetTable& target,
                              const std::vector<std::vector<BoundColumn>>& rows,
                              const std::vector<std::string>* arbiter) {
  Statement statement;
  std::string names;
  for (const BoundColumn& column : rows.front()) {
    names += (names.empty() ? "" : ", ") + QuoteIdent(column.name);
  }
  std::string tuples;
  for (const std::vector<BoundColumn>& row : rows) {
    std::string values;
    for (const BoundColumn& column : row) {
      values += (values.empty() ? "" : ", ") + Param(column.value, &statement);
    }
    tuples += (tuples.empty() ? "(" : ", (") + values + ")";
  }
  statement.sql = "INSERT INTO " + target.quoted() + " (" + names + ") VALUES " + tuples;
  if (arbiter != nullptr) {
    statement.sql +=
        " ON CONFLICT (" + JoinQuoted(*arbiter) + ") DO NOTHING RETURNING " + JoinQuoted(*arbiter);
  }
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

Statement ReadLocalStatement(const TargetTable& target, const std::vector<BoundColumn>& match,
                             const std::vector<BoundColumn>& compare, const BoundColumn* order) {
  Statement statement;
  std::string select;
  for (const TargetColumn& column : target.columns) {
    select += (select.empty() ? "" : ", ") + QuoteIdent(column.name) + "::text";
  }
  for (const BoundColumn& column : compare) {
    const std::string name = QuoteIdent(column.name);
    if (!column.value) {
      select += ", (" + name + " IS NULL)";
    } else if (column.text_compare) {
      select += ", (" + name + "::text IS NOT DISTINCT FROM " + Param(column.value, &statement) +
                "::text)";
    } else {
      select +=
          ", (" + name + " IS NOT DISTINCT FROM " + TypedParam(target, column, &statement) + ")";
    }
  }
  if (order != nullptr) {
    const std::string name = QuoteIdent(order->name);
    const std::string value = TypedParam(target, *order, &statement);
    select += ", CASE WHEN " + name + " IS NULL OR " + value + " IS NULL THEN NULL WHEN " + value +
              " > " + name + " THEN 1 WHEN " + value + " < " + name + " THEN -1 ELSE 0 END";
  }
  statement.sql = "SELECT " + select + " FROM " + target.quoted() + " WHERE " +
                  MatchCondition(target, match, &statement) + " LIMIT 1 FOR UPDATE";
  return statement;
}

Statement MergeStatement(const TargetTable& target, const std::vector<BoundColumn>& set,
                         const std::vector<DeltaTerm<BoundColumn>>& deltas,
                         const std::vector<BoundColumn>& match) {
  Statement statement;
  std::string assignments;
  for (const BoundColumn& column : set) {
    assignments += (assignments.empty() ? "" : ", ") + QuoteIdent(column.name) + " = " +
                   TypedParam(target, column, &statement);
  }
  for (const auto& [add, subtract] : deltas) {
    const std::string name = QuoteIdent(add.name);
    std::string sum =
        "coalesce(" + name + ", 0) + (coalesce(" + TypedParam(target, add, &statement) + ", 0)";
    if (subtract) sum += " - coalesce(" + TypedParam(target, *subtract, &statement) + ", 0)";
    assignments += (assignments.empty() ? "" : ", ") + name + " = " + sum + ")";
  }
  statement.sql = "UPDATE " + target.quoted() + " SET " + assignments + " WHERE " +
                  MatchCondition(target, match, &statement);
  return statement;
}

Statement DeleteRangeStatement(const TargetTable& target,
                               const std::optional<std::vector<BoundColumn>>& after,
                               const std::optional<std::vector<BoundColumn>>& upto,
                               const std::vector<std::vector<BoundColumn>>& keep) {
  Statement statement;
  statement.sql = KeyRangeDeleteSql<BoundColumn>(
      target.quoted(), after, upto, keep, QuoteIdent,
      [&](const BoundColumn& column) { return TypedParam(target, column, &statement); });
  return statement;
}

std::string TruncateStatement(const std::vector<const TargetTable*>& targets, bool cascade,
                              bool restart_identity) {
  std::vector<std::string> names;
  for (const TargetTable* target : targets) {
    // Two source tables may be mapped onto one target table.
    if (std::find(names.begin(), names.end(), target->quoted()) == names.end()) {
      names.push_back(target->quoted());
    }
  }
  std::string sql = "TRUNCATE ";
  for (size_t i = 0; i < names.size(); ++i) sql += (i > 0 ? ", " : "") + names[i];
  if (restart_identity) sql += " RESTART IDENTITY";
  if (cascade) sql += " CASCADE";
  return sql;
}

}  // namespace ferry::apply::postgres
