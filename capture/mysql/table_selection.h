// Which MySQL/MariaDB tables a subscriber wants, from the capture config's `tables:` patterns:
// "schema.table" or "schema.*". No patterns select every table outside the system schemas
// (mysql, information_schema, performance_schema, sys) and Ferry's own ferry_meta; a pattern
// may name a system schema's tables explicitly. The change stream filters by it and the initial
// copy lists by it, so both carry the same tables. The stream also carries
// ferry_meta.checkpoints and ferry_meta.copy_progress, whatever the patterns: the capture agent
// reads their rows as origin markers and never forwards them (capture/origin_filter.h).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry::capture::mysql {

class TableSelection {
 public:
  // Errors name the pattern that is neither form.
  static Result<TableSelection> Parse(const std::vector<std::string>& patterns);

  bool Wants(const std::string& schema, const std::string& table) const;

  // Wants(schema, table), or an origin marker table: what the change stream carries.
  bool Streams(const std::string& schema, const std::string& table) const;

  // Wants(schema, table), or with an empty `table` (every table of `schema`): wants any of them.
  bool Touches(const std::string& schema, const std::string& table) const;

 private:
  bool SelectsAll() const { return schemas_.empty() && tables_.empty(); }

  std::set<std::string> schemas_;  // "schema.*"
  std::set<std::string> tables_;   // "schema.table"
};

}  // namespace ferry::capture::mysql
