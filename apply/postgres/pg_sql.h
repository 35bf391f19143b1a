// SQL the PostgreSQL sink sends, built from a mapped relation, what the target's catalog says
// about the target table, and one row change. Pure functions, no libpq, so that the statement
// text is unit-tested without a server. Which columns match a row, and which unique index is
// the conflict arbiter, is chosen by apply/row_match.h.
//
// Parameters are text with an unspecified type: the server infers each one inserted or
// assigned from its column, so its own input function parses the value, and type modifiers
// behave as for a literal (a too-long varchar is an error, never a silent truncation as an
// explicit ::varchar(n) cast would do). A parameter compared with a column (WHERE) is cast to
// the column's base type without modifier (TargetColumn::param_type), because a comparison
// does not always let the server infer it (a composite key would be read as an anonymous
// record).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apply/row_applier.h"
#include "apply/row_match.h"
#include "apply/table_mapping.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply::postgres {

// What the target's catalog says about one target table.
struct TargetColumn {
  std::string name;
  std::string type;  // format_type(), e.g. "numeric(10,2)"
  // The type (or its array element / domain base type) has no equality operator (json, xml,
  // geometric types): rows are matched on its text form instead.
  bool text_compare = false;
  // The type's name with domains resolved to their base ("bytea" for a domain over bytea).
  std::string base_type;
  // What a parameter compared with this column is cast to: the base type, schema-qualified and
  // quoted, without type modifier ("public.pair", "pg_catalog.bpchar"). Empty: no cast.
  std::string param_type;
};

struct TargetTable {
  std::string schema;
  std::string table;
  char relkind = 'r';  // pg_class.relkind: r table, p partitioned, v view, f foreign
  std::vector<TargetColumn> columns;
  // Usable as ON CONFLICT arbiters: unique, valid, immediate, no expressions, no predicate.
  // The replica identity index is flagged `identity`.
  std::vector<UniqueIndex> unique_indexes;

  std::string name() const { return schema + "." + table; }
  std::string quoted() const;
  const TargetColumn* Find(const std::string& column) const;
};

// One column of a statement and the text of its value (nullopt = NULL).
struct BoundColumn {
  std::string name;
  std::optional<std::string> value;
  bool text_compare = false;
};

struct Statement {
  std::string sql;
  std::vector<std::optional<std::string>> params;
};

// The names quoted (QuoteIdent) and joined with ", ".
std::string JoinQuoted(const std::vector<std::string>& names);

// The text of `value` written to `target`, the target column of the mapped `column` (nullopt:
// NULL); fails when the value cannot be written there (the error names the column).
Result<std::optional<std::string>> ColumnText(const MappedRelation& relation,
                                              const MappedColumn& column,
                                              const TargetColumn& target, const wire::Value& value);

// The same for a `value` that is not null, appended to `out` (which may hold part of it when
// this fails).
Status AppendColumnText(const MappedRelation& relation, const MappedColumn& column,
                        const TargetColumn& target, const wire::Value& value, std::string* out);

// Binds the mapped columns of `values` (a RowChange's old or new image), leaving out unchanged
// values. Fails when the image does not fit the relation, a mapped column is missing on the
// target, or a value cannot be written (the error names the column).
Result<std::vector<BoundColumn>> BindImage(
    const MappedRelation& relation, const TargetTable& target,
    const google::protobuf::RepeatedPtrField<wire::Value>& values);

// INSERT INTO t (cols) VALUES ($1...) [ON CONFLICT (arbiter) DO NOTHING].
Statement InsertStatement(const TargetTable& target, const std::vector<BoundColumn>& columns,
                          const std::vector<std::string>* arbiter);

// INSERT INTO t (cols) VALUES ($1, ...), ($n, ...) for rows with the same columns (at least one
// column); with an arbiter, ON CONFLICT (arbiter) DO NOTHING RETURNING the arbiter's columns of
// the rows inserted.
Statement InsertRowsStatement(const TargetTable& target,
                              const std::vector<std::vector<BoundColumn>>& rows,
                              const std::vector<std::string>* arbiter);

// UPDATE t SET cols WHERE match. With `one_row` only one matching row is changed (by ctid).
// An empty `set` assigns the first match column to itself, so the row count still tells
// whether the row exists.
Statement UpdateStatement(const TargetTable& target, const std::vector<BoundColumn>& set,
                          const std::vector<BoundColumn>& match, bool one_row);

// DELETE FROM t WHERE match, one row only with `one_row`.
Statement DeleteStatement(const TargetTable& target, const std::vector<BoundColumn>& match,
                          bool one_row);

// SELECT every column as text, then (column IS NOT DISTINCT FROM value) for each of `compare`,
// then, given `order`, the sign of its value against its column (NULL when the column is), FROM t
// WHERE match LIMIT 1 FOR UPDATE: RowEngine::ReadLocal.
Statement ReadLocalStatement(const TargetTable& target, const std::vector<BoundColumn>& match,
                             const std::vector<BoundColumn>& compare, const BoundColumn* order);

// UPDATE t SET set..., c = coalesce(c, 0) + (coalesce(add, 0) - coalesce(subtract, 0))... WHERE
// match: RowEngine::UpdateMerged; a delta without subtract adds only.
Statement MergeStatement(const TargetTable& target, const std::vector<BoundColumn>& set,
                         const std::vector<DeltaTerm<BoundColumn>>& deltas,
                         const std::vector<BoundColumn>& match);

// DELETE FROM t WHERE key > after AND key <= upto AND key NOT IN keep (apply/key_range_sql.h),
// each part only when given: a re-copy's range delete.
Statement DeleteRangeStatement(const TargetTable& target,
                               const std::optional<std::vector<BoundColumn>>& after,
                               const std::optional<std::vector<BoundColumn>>& upto,
                               const std::vector<std::vector<BoundColumn>>& keep);

// TRUNCATE a, b [RESTART IDENTITY] [CASCADE]: the tables of one source TRUNCATE in one statement
// (each named once), since tables that reference each other cannot be emptied one by one.
std::string TruncateStatement(const std::vector<const TargetTable*>& targets, bool cascade,
                              bool restart_identity);

}  // namespace ferry::apply::postgres
