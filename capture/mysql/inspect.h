// `ferry inspect binlog FILE`: decodes a MySQL/MariaDB binlog file offline and prints the change
// records Ferry would send for it — the same model an apply agent receives — one JSON object per
// line:
//   {"begin": {...}}      wire::Begin (position, commit_time_us, xid)
//   {"relation": {...}}   wire::Relation, before a table's first row and when it changes
//   {"row": {...}}        wire::RowChange
//   {"commit": {...}}     wire::Commit
//   {"ddl": {"schema": "...", "statement": "..."}}   a statement outside row events
// Messages use protobuf's JSON mapping with the .proto field names (64-bit integers as strings).
// Only transactions with row changes produce begin/row/commit lines. The engine tag of positions
// is "mariadb" when the file's FORMAT_DESCRIPTION_EVENT names a MariaDB server, else "mysql".
#pragma once

#include <ostream>
#include <string>

namespace ferry::capture::mysql {

// Returns 0 after printing every record of the file to `out`; on a missing, garbage, truncated or
// undecodable file prints what was decoded up to the problem, then one line naming the problem
// (with the file offset) to `err`, and returns 1. Never throws.
int InspectBinlog(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace ferry::capture::mysql
