// Connection strings in libpq's key=value syntax, for the engines whose client library has no
// parser of its own (MySQL/MariaDB; PostgreSQL's go to libpq). Only the syntax lives here: which
// keys exist and what their values mean is the caller's (common/mysql_dsn.h).
//
// A connection string may hold a password, so no error here ever shows any of its text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry {

// One key=value pair of a connection string, its value unquoted and unescaped.
struct DsnPair {
  std::string key;
  std::string value;
};

// Splits "host=db.example port=3306 password='s3 cr\'et'" into its pairs, in order:
//   - pairs are separated by white space; white space around '=' is allowed;
//   - a value is single-quoted ('...', may hold spaces; empty as '') or runs up to the next
//     white space;
//   - in either form, a backslash makes the next character literal (\' and \\).
// The same key may come twice; what that means is the caller's. Errors say where (a byte
// offset) and never quote the text.
Result<std::vector<DsnPair>> SplitDsn(std::string_view text);

}  // namespace ferry
