// Which target tables the stream may write (apply config `tables:`; README "Security"). The
// stream names its tables, so an apply agent that wrote wherever it was told would let anyone who
// can feed it a stream write into any table its database user can reach, with triggers and
// foreign keys off. So: Ferry's own schema (ferry_meta) and the engines' system schemas are never
// written from a stream, whatever the config says; with `tables:` given, only the tables it
// names (and those the mappings name as targets) are written. Without it, every other table is.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry::apply {

class TargetAllowList {
 public:
  // `target_engine`: "postgres", "mariadb" or "mysql" (whose system schemas are reserved; empty:
  // only those of every engine). `patterns`: "schema.table" or "schema.*"; empty: every table
  // outside the reserved schemas. `mapped_targets`: "schema.table" names the mappings write,
  // allowed in either case.
  explicit TargetAllowList(std::string target_engine = "",
                           const std::vector<std::string>& patterns = {},
                           const std::vector<std::string>& mapped_targets = {});

  // Ok, or an error naming the table, why it may not be written and the fix.
  Status Check(const std::string& schema, const std::string& table) const;

  // For the log at start: "every table outside ferry_meta and the system schemas" or the list.
  std::string Describe() const;

  // ferry_meta and information_schema on every engine; PostgreSQL's pg_catalog, pg_toast and
  // pg_temp_* / pg_toast_temp_*; MariaDB's and MySQL's mysql, performance_schema and sys.
  // Compared case-insensitively.
  static bool IsReservedSchema(const std::string& target_engine, const std::string& schema);

 private:
  std::string engine_;
  bool everything_ = true;
  std::set<std::string> schemas_;  // "schema.*"
  std::set<std::string> tables_;   // "schema.table"
};

}  // namespace ferry::apply
