// MySQL/MariaDB row-based binlog: TABLE_MAP parsing and row image decoding into Ferry's typed
// values. Untrusted bytes: every read is bounds-checked; malformed input is an error naming the
// table, column and offset, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::capture::mysql {

// One column of a TABLE_MAP event, with what the optional metadata (binlog_row_metadata) adds.
struct ColumnInfo {
  uint8_t type = 0;       // enum_field_types as written in the binlog (MYSQL_TYPE_*)
  uint16_t metadata = 0;  // per-type metadata from the TABLE_MAP
  bool nullable = true;
  bool is_unsigned = false;  // from optional metadata SIGNEDNESS
  std::string name;          // from optional metadata COLUMN_NAME; empty when absent
  uint32_t charset = 0;      // collation id (optional metadata or SetCollations); 0: unknown
  std::vector<std::string> enum_values;  // ENUM_STR_VALUE
  std::vector<std::string> set_values;   // SET_STR_VALUE
  bool primary_key = false;              // from optional metadata SIMPLE/PREFIX_PRIMARY_KEY
  uint8_t real_type = 0;  // for MYSQL_TYPE_STRING: the real type (ENUM/SET/STRING) from metadata
};

struct TableMap {
  uint64_t table_id = 0;
  std::string schema;
  std::string table;
  std::vector<ColumnInfo> columns;
  // What the optional metadata held (binlog_row_metadata=FULL logs all three, MINIMAL only
  // signedness); table_catalog.h fills in the rest.
  bool has_column_names = false;
  bool has_signedness = false;
  bool has_enum_and_set_values = false;
};

// Which server wrote the binlog. The optional metadata of a TABLE_MAP counts columns
// differently: MariaDB gives YEAR a SIGNEDNESS bit and GEOMETRY (and its COMPRESSED column types)
// a charset entry, MySQL gives neither. When the given flavor's counts do not fit the metadata
// but the other's do, the other is used.
enum class BinlogFlavor { kMariadb, kMysql };

// Parses the post-header + body of a TABLE_MAP event (everything after the common 19-byte
// header and before the checksum). `table_id_size` is 6 (or 4 for very old servers).
Result<TableMap> ParseTableMap(std::string_view body, size_t table_id_size = 6,
                               BinlogFlavor flavor = BinlogFlavor::kMariadb);

// Decodes one row image: the null bitmap over the present columns, then each present non-null
// value. `present` has one entry per column of `table`. Appends one wire::Value per column of the
// table (absent columns become Value.unchanged) to `out`. Returns the bytes consumed.
Result<size_t> DecodeRowImage(const TableMap& table, const std::vector<bool>& present,
                              std::string_view data, std::vector<wire::Value>* out);

// True when a TABLE_MAP has character columns without a collation: the server logged no charsets
// (binlog_row_metadata=NO_LOG, MySQL 5.7), so their bytes cannot become exact text yet.
bool LacksCollations(const TableMap& table);

// Gives those columns the collations the reader found elsewhere (information_schema): one id per
// column of the table, kBinaryCollation (63) for binary strings, 0 where unknown. A list of
// another length changes nothing: it describes another shape of the table.
void SetCollations(TableMap& table, const std::vector<uint32_t>& collations);

// The neutral type and a readable source type name ("bigint unsigned", "decimal(10,2)",
// "datetime(6)", "varchar", "enum", ...) of a column.
wire::LogicalType MysqlLogicalType(const ColumnInfo& column);
std::string MysqlTypeName(const ColumnInfo& column);

// Character data of a CHAR, VARCHAR, TEXT or BLOB column: text when the column's charset gives
// exact UTF-8 (mysql_charset.h), else bytes.
wire::Value CharacterValue(const ColumnInfo& column, std::string_view bytes);

// The `bits` low bits of big-endian `bytes` as a bit string ("0101"), as a BIT column's value
// travels.
std::string BitsText(std::string_view bytes, size_t bits);

// The TABLE_MAP column a MariaDB server logs for a column declared as information_schema
// shows it (DATA_TYPE "decimal", COLUMN_TYPE "decimal(10,2) unsigned", CHARACTER_OCTET_LENGTH,
// the charset's collation id or kBinaryCollation), with binlog_row_metadata=FULL, name and
// members aside. An error names the types this cannot describe (MariaDB's UUID, INET4, INET6,
// MySQL's JSON, compressed columns).
Result<ColumnInfo> LoggedColumn(std::string_view data_type, std::string_view column_type,
                                uint64_t octet_length, uint32_t collation);

// The wire::Relation for a table map (column names "@1", "@2", ... when the binlog has none;
// key flags from the primary key metadata, or every column when there is none).
wire::Relation RelationFromTableMap(const TableMap& table, uint32_t relation_id);

}  // namespace ferry::capture::mysql
