// What a statement logged as a QUERY event does to the rows of tables. In a ROW-format binlog
// every row a DML statement writes arrives as a row event, but a few statements still change
// rows with no row event for them: TRUNCATE, DROP/RENAME TABLE, partition maintenance, and DML
// from a session that switched itself to binlog_format=STATEMENT or MIXED. A replica that passes
// over them silently differs from its source, so the capture side must replicate each one
// (TRUNCATE becomes a truncate change) or stop at it with the statement named. This module only
// reads the SQL text: which tables are replicated is the caller's business.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry::capture::mysql {

// A table as a statement names it, with the QUERY event's default database filled in for an
// unqualified name. `table` is empty for "every table of `schema`" (DROP DATABASE).
struct StatementTable {
  std::string schema;
  std::string table;
  bool operator==(const StatementTable&) const = default;
};

struct StatementEffect {
  enum class Kind {
    kNone,         // changes no rows, or only through row events (CREATE, most ALTERs, GRANT...)
    kTruncate,     // TRUNCATE [TABLE] t: `tables` holds t
    kChangesRows,  // changes rows of `tables` with no row events: cannot be replicated
  };
  Kind kind = Kind::kNone;
  // What the statement is, for messages: "TRUNCATE", "DROP TABLE", "RENAME TABLE",
  // "ALTER TABLE ... DROP PARTITION", "statement-based UPDATE", ...
  std::string summary;
  // kTruncate: the table emptied. kChangesRows: every table whose rows may change. For
  // statement-based DML that is every name the statement mentions (a column that shares a
  // table's name is counted too: a false alarm costs a stop with the statement named, a miss
  // would cost a silent divergence).
  std::vector<StatementTable> tables;
};

// Reads `statement` (as the server logged it: comments, backquoted names, any letter case) run
// with `default_schema` as the current database.
StatementEffect EffectOfStatement(std::string_view default_schema, std::string_view statement);

}  // namespace ferry::capture::mysql
