// What a TABLE_MAP event leaves out, taken from the server's catalog. With binlog_row_metadata
// NO_LOG (MariaDB's default) or MINIMAL (MySQL 8's), or on servers without the setting (MySQL
// 5.7), a TABLE_MAP gives each column's storage type but not some of: its name, whether an
// integer is UNSIGNED, its charset, the members of an ENUM or SET, the primary key. Without
// them values come out wrong (18446744073709551615 reads as -1, an ENUM as its number), so they
// are taken from information_schema, which describes the table as it is *now*.
//
// That is exact for an event only if the table has not changed since the event was written.
// Two checks stand guard, and a failing one is an error with the fix, never a guess:
//   - every column's type in the catalog must be the one the event logged, to the width
//     (DECIMAL precision and scale, BIT length, fractional seconds, string byte lengths);
//   - the table's last DDL (information_schema.TABLES.CREATE_TIME, which ALTER, RENAME and
//     CREATE INDEX move) must not be later than the event. A change within the same second as
//     the event cannot be told from one before it; binlog_row_metadata=FULL has no such gap.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/mysql/row_decoder.h"
#include "common/status.h"

namespace ferry::capture::mysql {

// A column as information_schema.COLUMNS describes it.
struct CatalogColumn {
  std::string name;
  std::string data_type;    // DATA_TYPE: "int", "varchar", "enum", "point", ...
  std::string column_type;  // COLUMN_TYPE: "int(10) unsigned", "enum('a','it''s')", ...
  bool primary_key = false;
  uint32_t collation = 0;     // of CHARACTER_SET_NAME; kBinaryCollation when it has none
  uint64_t octet_length = 0;  // CHARACTER_OCTET_LENGTH; 0 when NULL
};

struct CatalogTable {
  std::vector<CatalogColumn> columns;  // in ORDINAL_POSITION order
  // UNIX_TIMESTAMP(information_schema.TABLES.CREATE_TIME): when its last DDL ran; 0 unknown.
  int64_t changed_at = 0;
};

// True when `table` lacks something a CatalogTable gives: column names, the signedness of an
// integer column, the charset of a character column, or the members of an ENUM or SET column.
bool NeedsCatalog(const TableMap& table);

// Fills in what `table` lacks from `catalog`, after checking that the catalog describes the
// table as the event (written at `event_time`, Unix seconds; 0 when unknown) logged it.
// Errors name the table, the column and the fix.
Status CompleteFromCatalog(TableMap& table, const CatalogTable& catalog, uint32_t event_time);

// The query that reads a table's CatalogColumns, `schema` and `table` being SQL string literals,
// and its rows (text, nullopt for NULL) as CatalogColumns.
std::string CatalogColumnsQuery(const std::string& schema, const std::string& table);
std::vector<CatalogColumn> CatalogColumnsFromRows(
    const std::vector<std::vector<std::optional<std::string>>>& rows);

// The TABLE_MAP a MariaDB server with binlog_row_metadata=FULL logs for a table whose columns
// are `columns` (see LoggedColumn in row_decoder.h): what a reader of the table's rows needs to
// describe and type them as the binlog stream does. An error names the column it cannot describe.
Result<TableMap> TableMapFromCatalog(const std::string& schema, const std::string& table,
                                     const std::vector<CatalogColumn>& columns);

// The members of an ENUM or SET from its COLUMN_TYPE ("enum('a','it''s','b\\c')"), unescaped as
// the server escapes them there; an error for anything else.
Result<std::vector<std::string>> ParseMembers(const std::string& column_type);

}  // namespace ferry::capture::mysql
