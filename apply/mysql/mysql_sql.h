// SQL the MySQL/MariaDB sink sends, built from a mapped relation, what information_schema says
// about the target table, and one row change. Pure functions, no Connector/C++, so that the
// statement text is unit-tested without a server. Which columns match a row is chosen by
// apply/row_match.h.
//
// Rows are matched with the NULL-safe `<=>`, so one statement text serves every null pattern
// (MySQL uses indexes for `<=>` as for `=`). A DECIMAL column is compared with
// CAST(? AS DECIMAL(p,s)): MySQL compares a DECIMAL with a string parameter as DOUBLE, which
// would let keys differing beyond the 15th digit match each other; MySQL's JSON type is
// compared with CAST(? AS JSON) (MariaDB's JSON is LONGTEXT and compares as text).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apply/mysql/mysql_values.h"
#include "apply/row_applier.h"
#include "apply/row_match.h"
#include "apply/table_mapping.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply::mysql {

// What information_schema says about one target table.
struct TargetColumn {
  std::string name;
  ColumnType type;
  bool nullable = true;
  // MariaDB's JSON: LONGTEXT with a json_valid() check. Its text is kept as written, so two
  // equal documents may be spelled differently ({"a":1} and {"a": 1}): compared as JSON.
  bool json_text = false;
};

struct TargetTable {
  std::string schema;  // the MySQL database
  std::string table;
  std::vector<TargetColumn> columns;
  std::vector<UniqueIndex> unique_indexes;  // primary key first; see FlagIdentityIndexes

  std::string name() const { return schema + "." + table; }
  std::string quoted() const;
  const TargetColumn* Find(const std::string& column) const;
};

// One column of a statement: its name, the value to bind, and how a WHERE clause compares it.
struct BoundColumn {
  std::string name;
  Param value;
  std::string placeholder = "?";  // "?" or e.g. "CAST(? AS DECIMAL(10,2))"
  bool json_text = false;         // TargetColumn::json_text
};

struct Statement {
  std::string sql;
  std::vector<Param> params;
};

// Quotes an identifier with backticks (inner backticks doubled), so that any name refers to
// exactly that name whatever the sql_mode (ANSI_QUOTES does not change backticks).
std::string QuoteIdent(const std::string& name);

// The placeholder a WHERE clause compares a column of `type` with (see the header comment).
std::string ComparePlaceholder(const ColumnType& type);

// Binds the mapped columns of `values` (a RowChange's old or new image), leaving out unchanged
// values. Fails when the image does not fit the relation, a mapped column is missing on the
// target, or a value cannot be written exactly (the error names the column and the value).
Result<std::vector<BoundColumn>> BindImage(
    const MappedRelation& relation, const TargetTable& target,
    const google::protobuf::RepeatedPtrField<wire::Value>& values);

// Flags as `identity` each unique index whose columns are all NOT NULL: it identifies a row as
// well as a primary key does (a unique index on a nullable column may hold several NULL rows).
void FlagIdentityIndexes(TargetTable* target);

// INSERT INTO t (cols) VALUES (?...).
Statement InsertStatement(const TargetTable& target, const std::vector<BoundColumn>& columns);

// A multi-row INSERT of literals (see AppendLiteral) for rows of `columns`: "INSERT INTO t
// (cols) VALUES " here, then a tuple per row (AppendLiteralTuple). Literals, not placeholders:
// Connector/C++ binds each parameter through a map, which cost more than the statement itself.
std::string InsertLiteralsHead(const TargetTable& target, const std::vector<BoundColumn>& columns);
// Appends "(v1, v2, ...)": the bound row's values as literals.
void AppendLiteralTuple(const std::vector<BoundColumn>& row, std::string* out);

// UPDATE t SET cols WHERE match [LIMIT 1]. An empty `set` assigns the first match column to
// itself, so the (found) row count still tells whether the row exists.
Statement UpdateStatement(const TargetTable& target, const std::vector<BoundColumn>& set,
                          const std::vector<BoundColumn>& match, bool one_row);

// DELETE FROM t WHERE match [LIMIT 1].
Statement DeleteStatement(const TargetTable& target, const std::vector<BoundColumn>& match,
                          bool one_row);

// SELECT every column, then (column <=> value) for each of `compare`, then, given `order`, the
// sign of its value against its column (NULL when the column is), FROM t WHERE match LIMIT 1
// FOR UPDATE: RowEngine::ReadLocal.
Statement ReadLocalStatement(const TargetTable& target, const std::vector<BoundColumn>& match,
                             const std::vector<BoundColumn>& compare, const BoundColumn* order);

// UPDATE t SET set..., c = COALESCE(c, 0) + (COALESCE(add, 0) - COALESCE(subtract, 0))...
// WHERE match: RowEngine::UpdateMerged; a delta without subtract adds only.
Statement MergeStatement(const TargetTable& target, const std::vector<BoundColumn>& set,
                         const std::vector<DeltaTerm<BoundColumn>>& deltas,
                         const std::vector<BoundColumn>& match);

// A source TRUNCATE: DELETE FROM t (see mysql_sink.h for why not TRUNCATE TABLE).
Statement DeleteAllStatement(const TargetTable& target);

// DELETE FROM t WHERE key > after AND key <= upto AND key NOT IN keep (apply/key_range_sql.h),
// each part only when given: a re-copy's range delete.
Statement DeleteRangeStatement(const TargetTable& target,
                               const std::optional<std::vector<BoundColumn>>& after,
                               const std::optional<std::vector<BoundColumn>>& upto,
                               const std::vector<std::vector<BoundColumn>>& keep);

// ---- the bulk path of copy chunks ---------------------------------------------------------------
// A chunk's rows go in multi-row INSERTs whose values are SQL literals, not placeholders: no
// statement to prepare per row count, no parameter to bind per value, and any number of rows per
// statement (up to a size in bytes). Values are converted exactly as ToParam converts them.

// What a bulk copy needs of one mapped column, worked out once for all the rows.
struct CopyColumn {
  std::string name;  // target column
  int source_index = 0;
  const ColumnType* type = nullptr;  // the target column's, in the TargetTable (which outlives it)
  TypeClass cls = TypeClass::kUnsupported;
};

// The mapped columns of `relation` on `target`; fails naming a column the target lacks.
Result<std::vector<CopyColumn>> CopyColumns(const MappedRelation& relation,
                                            const TargetTable& target);

// Appends `param` as an SQL literal: NULL; an integer; a double with an exponent (so that it is
// read as the double it is, not as a DECIMAL); '...' with \, ', ", NUL, newline, carriage return
// and ^Z escaped (the sink's sql_mode keeps backslash escapes); X'...' for bytes.
void AppendLiteral(const Param& param, std::string* out);

// Appends "(v1, v2, ...)": `image`'s values of `columns` as literals. Fails as BindImage does
// (the error names the column).
Status AppendCopyTuple(const MappedRelation& relation, const std::vector<CopyColumn>& columns,
                       const google::protobuf::RepeatedPtrField<wire::Value>& image,
                       std::string* out);

// "INSERT INTO t (cols) VALUES ": what precedes the tuples.
std::string CopyInsertHead(const TargetTable& target, const std::vector<CopyColumn>& columns);

// What follows the tuples: nothing without `arbiter`; with one, an ON DUPLICATE KEY UPDATE that
// overwrites the row the insert met with the inserted row. MySQL does not say which unique index
// an insert met: the first assignment sets the first arbiter column to NULL (an error, since
// the column must be NOT NULL) when the row met has other arbiter values, i.e. the insert
// clashed on another unique index; that row must not be overwritten (see mysql_sink.h).
std::string CopyInsertTail(const std::vector<CopyColumn>& columns,
                           const std::vector<std::string>* arbiter);

// ---- batches of statements sent ahead (MariaDB) ------------------------------------------------
// Connector/C++ sends one statement at a time and waits for it, and cannot read the row counts of
// a multi-statement string. A MariaDB compound statement runs many in one round trip, each
// recording its row count (found rows, under CLIENT_FOUND_ROWS) in a session variable that the
// compound returns at its end. A statement that fails ends the compound; InnoDB undoes that
// statement alone, and the counts recorded so far tell which one it was.

// One statement of a batch: an UPDATE or DELETE, or a part of a multi-row INSERT (one source of
// rows may need several statements), or a row too large to send (it and the rows after it go
// one at a time).
struct BatchEntry {
  enum Kind { kRows, kInsert, kNotSent };
  std::string sql;  // literal SQL (InlineParams, AppendLiteralTuple)
  Kind kind = kRows;
  size_t first_row = 0;        // kInsert, kNotSent: the index of its first row
  bool ends_statement = true;  // false for a part of an INSERT that more parts follow
};

// `statement`'s SQL with each ? replaced by its parameter as a literal (AppendLiteral). A ?
// inside a backquoted name is part of the name and stays.
std::string InlineParams(const Statement& statement);

// BEGIN NOT ATOMIC, then each statement followed by the append of its ROW_COUNT() to
// @ferry_counts, then SELECT @ferry_counts; END.
std::string BatchStatement(const std::vector<BatchEntry>& entries);

// Reads @ferry_counts after a batch that failed.
inline constexpr char kBatchCountsSql[] = "SELECT @ferry_counts";

// @ferry_counts as numbers, in order; NULL (no statement finished) is none.
Result<std::vector<uint64_t>> ParseBatchCounts(const std::optional<std::string>& text);

// A key (the match columns of a row) as a string equal for two keys exactly when the target
// takes them for the same key. Integers and bytes compare as their values do. Text is compared
// by the column's collation, which may equate 'a' and 'A' (or 'e' and 'é'), and a double may be
// rounded by a FLOAT column: every key holding either is taken for the same key, so that
// statements touching such keys are never reordered against each other.
std::string EncodeBatchKey(const std::vector<BoundColumn>& key);

}  // namespace ferry::apply::mysql
