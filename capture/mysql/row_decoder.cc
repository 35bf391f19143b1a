// TABLE_MAP parsing and row image decoding. Byte layouts follow MySQL's libbinlogevents
// (rows_event.h, table_map event), sql/rpl_utility.cc (per-type metadata) and sql/field.cc
// (Field::pack of each type), and MariaDB's sql/log_event_server.cc for its differences; see
// mysql_decimal.h, mysql_temporal.h and mysql_json.h for the value formats they describe. The
// tests check them against events recorded from MariaDB 10.11 (row_decoder_recorded.h).
//
// ColumnInfo.metadata holds the per-type metadata the way MySQL's table_def does (and
// mariadb-binlog -vv prints it as "meta="):
//   FLOAT, DOUBLE, BLOB, GEOMETRY, JSON   pack length (bytes of the length prefix / value)
//   TIME2, DATETIME2, TIMESTAMP2          fractional digits (0..6)
//   VARCHAR, VAR_STRING                   maximum length in bytes (little-endian on disk)
//   BIT                                   bits % 8 | whole bytes << 8
//   NEWDECIMAL                            precision << 8 | scale
//   STRING, ENUM, SET                     first byte << 8 | second byte: real type and length,
//                                         with bits 8-9 of a CHAR length folded into the
//                                         real type (see StringMaxLength)
//
// How values travel (wire::Value):
//   - Character columns become UTF-8 text exactly as the server reads them in their charset
//     (mysql_charset.h: utf8mb3/mb4, latin1 as Windows-1252, the UTF-16/32 family, and through
//     glibc iconv latin2, cp1251, gbk, big5, sjis, ujis, euckr and the rest). Bytes that have no
//     text in their charset (undefined there, or invalid UTF-8 in utf8mb4) stay bytes, as binary
//     values always do: nothing is guessed, nothing altered. An unknown collation id is text when
//     the bytes are valid UTF-8, else bytes. Without charset metadata (MySQL 5.7,
//     binlog_row_metadata=NO_LOG) the reader may supply the collations (SetCollations); else
//     BLOB/TEXT is bytes and the rest is text when valid UTF-8.
//   - BINARY(n) gets back the trailing zero bytes the binlog drops; CHAR keeps the trailing
//     spaces dropped, as SELECT shows it.
//   - Integers are int64, or uint64 when ColumnInfo.is_unsigned: from SIGNEDNESS, or from the
//     catalog (table_catalog.h) when the server logged none. A TABLE_MAP left without it reads
//     every integer as signed, so the live source always completes it.
//   - DATE, TIME, DATETIME are ISO text; TIMESTAMP is the UTC instant with "+00". Zero and
//     partial dates ('0000-00-00', '2024-00-10', '2024-02-00 10:00:00') travel exactly, as the
//     text the server shows, so that a MySQL/MariaDB target stores the same value; TIMESTAMP 0
//     is the zero TIMESTAMP '0000-00-00 00:00:00+00'. A target that cannot hold them
//     (PostgreSQL) decides what to do with them (the apply config's zero_dates).
//   - ENUM and SET carry member names (logged with binlog_row_metadata=FULL, or from the
//     catalog), else their numbers as text (only `ferry inspect binlog`, which has no server to
//     ask); index 0 (MySQL's '' for an invalid value) is "".
//   - MySQL binary JSON becomes compact JSON text; MariaDB's JSON is LONGTEXT and stays text.
//   - GEOMETRY is bytes: MySQL's internal form, a 4-byte SRID then WKB.
#include "capture/mysql/row_decoder.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <optional>
#include <set>

#include "capture/mysql/mysql_charset.h"
#include "capture/mysql/mysql_decimal.h"
#include "capture/mysql/mysql_json.h"
#include "capture/mysql/mysql_temporal.h"
#include "capture/mysql/table_catalog.h"
#include "common/json_text.h"

namespace ferry::capture::mysql {
namespace {

// enum_field_types (include/mysql_com.h, MariaDB include/mysql_com.h).
enum FieldType : uint8_t {
  kDecimal = 0,  // pre-5.0 DECIMAL, stored as text of a length the binlog does not give
  kTiny = 1,
  kShort = 2,
  kLong = 3,
  kFloat = 4,
  kDouble = 5,
  kNullType = 6,
  kTimestamp = 7,
  kLongLong = 8,
  kInt24 = 9,
  kDate = 10,
  kTime = 11,
  kDatetime = 12,
  kYear = 13,
  kNewDate = 14,
  kVarchar = 15,
  kBit = 16,
  kTimestamp2 = 17,
  kDatetime2 = 18,
  kTime2 = 19,
  kBlobCompressed = 140,     // MariaDB: TEXT/BLOB ... COMPRESSED
  kVarcharCompressed = 141,  // MariaDB: VARCHAR ... COMPRESSED
  kVector = 242,             // MySQL 9
  kJson = 245,
  kNewDecimal = 246,
  kEnum = 247,
  kSet = 248,
  kTinyBlob = 249,
  kMediumBlob = 250,
  kLongBlob = 251,
  kBlob = 252,
  kVarString = 253,
  kString = 254,
  kGeometry = 255,
};

// Optional metadata field types (Table_map_event::Optional_metadata_field_type).
enum OptionalField : uint8_t {
  kSignedness = 1,
  kDefaultCharset = 2,
  kColumnCharset = 3,
  kColumnName = 4,
  kSetStrValue = 5,
  kEnumStrValue = 6,
  kGeometryType = 7,
  kSimplePrimaryKey = 8,
  kPrimaryKeyWithPrefix = 9,
  kEnumAndSetDefaultCharset = 10,
  kEnumAndSetColumnCharset = 11,
  kColumnVisibility = 12,
};

// ---- bytes ----------------------------------------------------------------------------------

// A bounds-checked cursor over untrusted bytes. Every read either succeeds whole or fails
// without moving.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  std::string_view rest() const { return data_.substr(pos_); }

  bool Bytes(uint64_t n, std::string_view* out) {
    if (n > remaining()) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool LittleEndian(size_t n, uint64_t* out) {
    std::string_view bytes;
    if (!Bytes(n, &bytes)) return false;
    *out = 0;
    for (size_t i = n; i-- > 0;) *out = (*out << 8) | static_cast<uint8_t>(bytes[i]);
    return true;
  }

  // A length-encoded integer (net_field_length): < 251 in one byte, 252 + 2 bytes, 253 + 3
  // bytes, 254 + 8 bytes. 251 (SQL NULL) and 255 are not valid here.
  bool Packed(uint64_t* out) {
    if (remaining() == 0) return false;
    uint8_t first = static_cast<uint8_t>(data_[pos_]);
    size_t width = first < 251 ? 0 : first == 252 ? 2 : first == 253 ? 3 : first == 254 ? 8 : 9;
    if (width == 9 || 1 + width > remaining()) return false;
    ++pos_;
    if (width == 0) {
      *out = first;
      return true;
    }
    return LittleEndian(width, out);
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

uint64_t LittleEndianValue(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = bytes.size(); i-- > 0;) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

// ---- column kinds -----------------------------------------------------------------------------

bool IsBlobType(uint8_t type) {
  return type == kBlob || type == kTinyBlob || type == kMediumBlob || type == kLongBlob;
}

bool IsEnumOrSet(const ColumnInfo& column) {
  return column.real_type == kEnum || column.real_type == kSet;
}

// Columns that get a SIGNEDNESS bit. MariaDB's YEAR is a Field_tiny underneath and gets one.
bool IsNumeric(const ColumnInfo& column, BinlogFlavor flavor) {
  switch (column.real_type) {
    case kTiny:
    case kShort:
    case kInt24:
    case kLong:
    case kLongLong:
    case kNewDecimal:
    case kFloat:
    case kDouble:
      return true;
    case kYear:
      return flavor == BinlogFlavor::kMariadb;
    default:
      return false;
  }
}

// Columns that get a DEFAULT_CHARSET / COLUMN_CHARSET entry. MariaDB counts every field with a
// charset, which includes GEOMETRY (a BLOB underneath) and its compressed types.
bool IsCharacter(const ColumnInfo& column, BinlogFlavor flavor) {
  switch (column.real_type) {
    case kString:
    case kVarString:
    case kVarchar:
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
      return true;
    case kVector:
      return flavor == BinlogFlavor::kMysql;
    case kGeometry:
    case kVarcharCompressed:
    case kBlobCompressed:
      return flavor == BinlogFlavor::kMariadb;
    default:
      return false;
  }
}

// Columns whose values are character data in the column's charset. ENUM and SET are not: their
// values are member numbers, and their members come with FULL metadata and its charsets.
bool HoldsCharacters(const ColumnInfo& column) {
  switch (column.real_type) {
    case kString:
    case kVarString:
    case kVarchar:
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
    case kVarcharCompressed:
    case kBlobCompressed:
      return true;
    default:
      return false;
  }
}

BinlogFlavor Other(BinlogFlavor flavor) {
  return flavor == BinlogFlavor::kMariadb ? BinlogFlavor::kMysql : BinlogFlavor::kMariadb;
}

template <typename Predicate>
std::vector<size_t> ColumnsWhere(const std::vector<ColumnInfo>& columns, Predicate predicate) {
  std::vector<size_t> indexes;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (predicate(columns[i])) indexes.push_back(i);
  }
  return indexes;
}

// The maximum byte length of a CHAR column from its STRING metadata. Field_string folds bits 8-9
// of the length into the real-type byte: byte0 = real_type ^ ((length & 0x300) >> 4).
uint32_t StringMaxLength(uint16_t metadata) {
  uint32_t byte0 = metadata >> 8;
  uint32_t byte1 = metadata & 0xff;
  if (metadata < 256 || (byte0 & 0x30) == 0x30) return byte1;
  return byte1 | (((byte0 & 0x30) ^ 0x30) << 4);
}

uint8_t StringRealType(uint16_t metadata) {
  uint8_t byte0 = static_cast<uint8_t>(metadata >> 8);
  if (metadata < 256) return kString;
  if ((byte0 & 0x30) != 0x30) return static_cast<uint8_t>(byte0 | 0x30);
  return byte0;
}

// ---- TABLE_MAP --------------------------------------------------------------------------------

// Bytes of per-type metadata in the TABLE_MAP metadata block.
size_t MetadataBytes(uint8_t type) {
  switch (type) {
    case kFloat:
    case kDouble:
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
    case kGeometry:
    case kJson:
    case kVector:
    case kTime2:
    case kDatetime2:
    case kTimestamp2:
    case kBlobCompressed:
      return 1;
    case kVarchar:
    case kVarString:
    case kVarcharCompressed:
    case kBit:
    case kNewDecimal:
    case kString:
    case kEnum:
    case kSet:
      return 2;
    default:
      return 0;
  }
}

uint16_t MetadataValue(uint8_t type, std::string_view bytes) {
  if (bytes.size() == 1) return static_cast<uint8_t>(bytes[0]);
  if (bytes.size() != 2) return 0;
  uint16_t first = static_cast<uint8_t>(bytes[0]);
  uint16_t second = static_cast<uint8_t>(bytes[1]);
  switch (type) {
    case kVarchar:
    case kVarString:
    case kVarcharCompressed:
    case kBit:
      return static_cast<uint16_t>(first | second << 8);
    default:  // NEWDECIMAL, STRING, ENUM, SET
      return static_cast<uint16_t>(first << 8 | second);
  }
}

class TableMapParser {
 public:
  TableMapParser(std::string_view body, size_t table_id_size, BinlogFlavor flavor)
      : in_(body), table_id_size_(table_id_size), flavor_(flavor) {}

  Result<TableMap> Parse() {
    if (table_id_size_ != 4 && table_id_size_ != 6) {
      return Error("table id size " + std::to_string(table_id_size_) + " (expected 4 or 6)");
    }
    uint64_t flags = 0;
    if (!in_.LittleEndian(table_id_size_, &map_.table_id) || !in_.LittleEndian(2, &flags)) {
      return Truncated("table id");
    }
    FERRY_RETURN_IF_ERROR(Name(&map_.schema, "schema name"));
    FERRY_RETURN_IF_ERROR(Name(&map_.table, "table name"));
    FERRY_RETURN_IF_ERROR(Columns());
    FERRY_RETURN_IF_ERROR(OptionalMetadata(in_.rest()));
    ConvertEnumAndSetStrings();
    return std::move(map_);
  }

 private:
  Status Error(const std::string& what) const {
    std::string table = map_.table.empty() ? "" : " of " + map_.schema + "." + map_.table;
    return Status::Error("malformed TABLE_MAP" + table + ": " + what);
  }
  Status Truncated(const std::string& what) const {
    return Error("truncated at offset " + std::to_string(in_.offset()) + " reading the " + what);
  }

  // A length byte, the name, and a NUL. Names are utf8mb3 on both servers.
  Status Name(std::string* out, const char* what) {
    uint64_t length = 0;
    std::string_view name;
    std::string_view nul;
    if (!in_.LittleEndian(1, &length) || !in_.Bytes(length, &name) || !in_.Bytes(1, &nul)) {
      return Truncated(what);
    }
    if (nul[0] != '\0') return Error(std::string(what) + " is not NUL-terminated");
    if (!IsValidUtf8(name)) return Error(std::string(what) + " is not UTF-8");
    *out = std::string(name);
    return Status::Ok();
  }

  Status Columns() {
    uint64_t count = 0;
    std::string_view types;
    if (!in_.Packed(&count)) return Truncated("column count");
    // Each column takes at least its type byte: a count beyond the bytes left is corrupt, and
    // checking it first keeps a hostile count from allocating.
    if (count > in_.remaining() || !in_.Bytes(count, &types)) return Truncated("column types");
    map_.columns.resize(count);
    for (size_t i = 0; i < count; ++i) {
      map_.columns[i].type = static_cast<uint8_t>(types[i]);
      map_.columns[i].real_type = map_.columns[i].type;
    }
    uint64_t metadata_length = 0;
    std::string_view metadata;
    if (!in_.Packed(&metadata_length) || !in_.Bytes(metadata_length, &metadata)) {
      return Truncated("column metadata");
    }
    FERRY_RETURN_IF_ERROR(ColumnMetadata(metadata));
    std::string_view nullable;
    if (!in_.Bytes((count + 7) / 8, &nullable)) return Truncated("null bitmap");
    for (size_t i = 0; i < count; ++i) {
      map_.columns[i].nullable = (static_cast<uint8_t>(nullable[i / 8]) >> (i % 8)) & 1;
    }
    return Status::Ok();
  }

  Status ColumnMetadata(std::string_view block) {
    Reader metadata(block);
    for (size_t i = 0; i < map_.columns.size(); ++i) {
      ColumnInfo& column = map_.columns[i];
      std::string_view bytes;
      if (!metadata.Bytes(MetadataBytes(column.type), &bytes)) {
        return Error("metadata block of " + std::to_string(block.size()) +
                     " bytes ends before column " + std::to_string(i + 1) + " (type " +
                     std::to_string(column.type) + ")");
      }
      column.metadata = MetadataValue(column.type, bytes);
      if (column.type == kString) column.real_type = StringRealType(column.metadata);
    }
    if (metadata.remaining() != 0) {
      return Error("metadata block has " + std::to_string(metadata.remaining()) +
                   " bytes more than its column types take (a column type Ferry does not know?)");
    }
    return Status::Ok();
  }

  Status OptionalMetadata(std::string_view block) {
    Reader fields(block);
    while (fields.remaining() > 0) {
      size_t start = fields.offset();
      uint64_t type = 0;
      uint64_t length = 0;
      std::string_view value;
      if (!fields.LittleEndian(1, &type) || !fields.Packed(&length) ||
          !fields.Bytes(length, &value)) {
        return Error("optional metadata field at offset " + std::to_string(start) +
                     " is truncated");
      }
      Status field = OptionalField(static_cast<uint8_t>(type), value);
      if (!field.ok()) {
        return Error("optional metadata field " + std::to_string(type) + ": " + field.message());
      }
    }
    return Status::Ok();
  }

  Status OptionalField(uint8_t type, std::string_view value) {
    switch (type) {
      case kSignedness:
        return Signedness(value);
      case kDefaultCharset:
        return DefaultCharset(value, /*enum_and_set=*/false);
      case kColumnCharset:
        return ColumnCharset(value, /*enum_and_set=*/false);
      case kEnumAndSetDefaultCharset:
        return DefaultCharset(value, /*enum_and_set=*/true);
      case kEnumAndSetColumnCharset:
        return ColumnCharset(value, /*enum_and_set=*/true);
      case kColumnName:
        return ColumnNames(value);
      case kSetStrValue:
        return StringValues(value, kSet);
      case kEnumStrValue:
        return StringValues(value, kEnum);
      case kSimplePrimaryKey:
        return PrimaryKey(value, /*with_prefix=*/false);
      case kPrimaryKeyWithPrefix:
        return PrimaryKey(value, /*with_prefix=*/true);
      default:  // GEOMETRY_TYPE, COLUMN_VISIBILITY and types added later carry nothing we use
        return Status::Ok();
    }
  }

  // One bit per numeric column, most significant bit first; 1 = UNSIGNED.
  Status Signedness(std::string_view bits) {
    std::vector<size_t> numeric = NumericColumns(flavor_);
    if (bits.size() != (numeric.size() + 7) / 8) {
      std::vector<size_t> other = NumericColumns(Other(flavor_));
      if (bits.size() != (other.size() + 7) / 8) {
        return Status::Error(std::to_string(bits.size()) + " bytes for " +
                             std::to_string(numeric.size()) + " numeric columns");
      }
      numeric = std::move(other);
    }
    for (size_t k = 0; k < numeric.size(); ++k) {
      map_.columns[numeric[k]].is_unsigned = (static_cast<uint8_t>(bits[k / 8]) >> (7 - k % 8)) & 1;
    }
    map_.has_signedness = true;
    return Status::Ok();
  }

  std::vector<size_t> NumericColumns(BinlogFlavor flavor) const {
    return ColumnsWhere(map_.columns,
                        [flavor](const ColumnInfo& c) { return IsNumeric(c, flavor); });
  }

  std::vector<size_t> CharsetColumns(bool enum_and_set, BinlogFlavor flavor) const {
    if (enum_and_set) return ColumnsWhere(map_.columns, IsEnumOrSet);
    return ColumnsWhere(map_.columns,
                        [flavor](const ColumnInfo& c) { return IsCharacter(c, flavor); });
  }

  // The most common collation, then (index among the charset columns, collation) pairs for the
  // columns that differ.
  Status DefaultCharset(std::string_view value, bool enum_and_set) {
    Reader in(value);
    uint64_t default_collation = 0;
    if (!in.Packed(&default_collation)) return Status::Error("no default collation");
    std::vector<std::pair<uint64_t, uint64_t>> exceptions;
    uint64_t highest = 0;
    while (in.remaining() > 0) {
      uint64_t index = 0;
      uint64_t collation = 0;
      if (!in.Packed(&index) || !in.Packed(&collation)) {
        return Status::Error("truncated at offset " + std::to_string(in.offset()));
      }
      // No list of charset columns is longer than the table (and index + 1 cannot overflow).
      if (index >= map_.columns.size()) {
        return Status::Error("names charset column " + std::to_string(index) + " of a table of " +
                             std::to_string(map_.columns.size()) + " columns");
      }
      exceptions.emplace_back(index, collation);
      highest = std::max(highest, index + 1);
    }
    std::vector<size_t> columns = CharsetColumns(enum_and_set, flavor_);
    if (highest > columns.size()) columns = CharsetColumns(enum_and_set, Other(flavor_));
    if (highest > columns.size()) {
      return Status::Error("names charset column " + std::to_string(highest - 1) + " of " +
                           std::to_string(columns.size()));
    }
    for (size_t index : columns) map_.columns[index].charset = Collation(default_collation);
    for (auto [index, collation] : exceptions) {
      map_.columns[columns[index]].charset = Collation(collation);
    }
    return Status::Ok();
  }

  // One collation per charset column.
  Status ColumnCharset(std::string_view value, bool enum_and_set) {
    Reader in(value);
    std::vector<uint64_t> collations;
    while (in.remaining() > 0) {
      uint64_t collation = 0;
      if (!in.Packed(&collation)) {
        return Status::Error("truncated at offset " + std::to_string(in.offset()));
      }
      collations.push_back(collation);
    }
    std::vector<size_t> columns = CharsetColumns(enum_and_set, flavor_);
    if (collations.size() != columns.size()) {
      columns = CharsetColumns(enum_and_set, Other(flavor_));
    }
    if (collations.size() != columns.size()) {
      return Status::Error(std::to_string(collations.size()) + " collations for " +
                           std::to_string(columns.size()) + " charset columns");
    }
    for (size_t k = 0; k < columns.size(); ++k) {
      map_.columns[columns[k]].charset = Collation(collations[k]);
    }
    return Status::Ok();
  }

  static uint32_t Collation(uint64_t id) { return id > UINT32_MAX ? 0 : static_cast<uint32_t>(id); }

  Status ColumnNames(std::string_view value) {
    Reader in(value);
    for (ColumnInfo& column : map_.columns) {
      uint64_t length = 0;
      std::string_view name;
      if (!in.Packed(&length) || !in.Bytes(length, &name)) {
        return Status::Error("fewer names than columns");
      }
      if (!IsValidUtf8(name)) return Status::Error("column name is not UTF-8");
      column.name = std::string(name);
    }
    map_.has_column_names = true;
    return Status::Ok();
  }

  // For each ENUM (or SET) column: a count, then each member as length + bytes.
  Status StringValues(std::string_view value, uint8_t real_type) {
    Reader in(value);
    for (ColumnInfo& column : map_.columns) {
      if (column.real_type != real_type) continue;
      uint64_t count = 0;
      if (!in.Packed(&count) || count > in.remaining()) {
        return Status::Error("member list truncated at offset " + std::to_string(in.offset()));
      }
      std::vector<std::string>& members =
          real_type == kEnum ? column.enum_values : column.set_values;
      members.clear();
      for (uint64_t k = 0; k < count; ++k) {
        uint64_t length = 0;
        std::string_view member;
        if (!in.Packed(&length) || !in.Bytes(length, &member)) {
          return Status::Error("member truncated at offset " + std::to_string(in.offset()));
        }
        members.emplace_back(member);
      }
    }
    map_.has_enum_and_set_values = true;
    return Status::Ok();
  }

  Status PrimaryKey(std::string_view value, bool with_prefix) {
    Reader in(value);
    while (in.remaining() > 0) {
      uint64_t index = 0;
      uint64_t prefix = 0;
      if (!in.Packed(&index) || (with_prefix && !in.Packed(&prefix))) {
        return Status::Error("truncated at offset " + std::to_string(in.offset()));
      }
      if (index >= map_.columns.size()) {
        return Status::Error("key column " + std::to_string(index) + " of " +
                             std::to_string(map_.columns.size()));
      }
      map_.columns[index].primary_key = true;
    }
    return Status::Ok();
  }

  // ENUM and SET members arrive in the column's charset: make them UTF-8 now that the charsets
  // are known. Bytes that have no exact text (a binary-charset ENUM) read as ISO-8859-1, which
  // keeps every byte distinguishable.
  void ConvertEnumAndSetStrings() {
    for (ColumnInfo& column : map_.columns) {
      for (std::vector<std::string>* members : {&column.enum_values, &column.set_values}) {
        for (std::string& member : *members) {
          std::optional<std::string> text = CharsetToUtf8(member, column.charset);
          member = text ? std::move(*text) : Iso88591ToUtf8(member);
        }
      }
    }
  }

  Reader in_;
  size_t table_id_size_;
  BinlogFlavor flavor_;
  TableMap map_;
};

// ---- row values -------------------------------------------------------------------------------

wire::Value NullValue() {
  wire::Value value;
  value.mutable_null();
  return value;
}

std::string ColumnLabel(const TableMap& table, size_t index) {
  const ColumnInfo& column = table.columns[index];
  return column.name.empty() ? "@" + std::to_string(index + 1) : column.name;
}

// MariaDB's column compression (sql/field_comp.cc): an empty value is empty; otherwise a header
// byte, 0x80 set when compressed: then (header & 7) bytes of original length (big-endian) and a
// zlib stream, raw deflate when header & 8. Without 0x80 the rest is the value itself.
Result<std::string> MariadbDecompress(std::string_view stored) {
  if (stored.empty()) return std::string();
  uint8_t header = static_cast<uint8_t>(stored[0]);
  if ((header & 0x80) == 0) return std::string(stored.substr(1));
  size_t length_bytes = header & 7;
  if ((header & 0x70) != 0 || length_bytes == 0 || length_bytes > 4 ||
      stored.size() < 1 + length_bytes) {
    return Status::Error("unknown compressed column header " + std::to_string(header));
  }
  uint64_t length = 0;
  for (size_t i = 1; i <= length_bytes; ++i)
    length = (length << 8) | static_cast<uint8_t>(stored[i]);
  std::string_view compressed = stored.substr(1 + length_bytes);
  // Deflate expands at most ~1032:1; a larger claim is corrupt and must not allocate.
  if (length > 1032 * static_cast<uint64_t>(compressed.size()) + 64) {
    return Status::Error("compressed column claims " + std::to_string(length) + " bytes from " +
                         std::to_string(compressed.size()));
  }
  std::string out(length, '\0');
  z_stream stream{};
  if (inflateInit2(&stream, (header & 8) ? -MAX_WBITS : MAX_WBITS) != Z_OK) {
    return Status::Error("zlib initialisation failed");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&stream, Z_FINISH);
  uint64_t produced = stream.total_out;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END || produced != length) {
    return Status::Error("compressed column does not inflate to its " + std::to_string(length) +
                         " bytes");
  }
  return out;
}

// Decodes the present, non-null values of one row image.
class ValueDecoder {
 public:
  ValueDecoder(const TableMap& table, Reader* in) : table_(table), in_(*in) {}

  Result<wire::Value> Decode(size_t index) {
    index_ = index;
    start_ = in_.offset();
    const ColumnInfo& column = table_.columns[index];
    switch (column.real_type) {
      case kTiny:
        return Integer(1);
      case kShort:
        return Integer(2);
      case kInt24:
        return Integer(3);
      case kLong:
        return Integer(4);
      case kLongLong:
        return Integer(8);
      case kYear:
        return Year();
      case kFloat:
        return Float();
      case kDouble:
        return Double();
      case kNewDecimal:
        return Decimal();
      case kBit:
        return Bit();
      case kVarchar:
      case kVarString:
        return Varchar();
      case kString:
        return Char();
      case kEnum:
        return Enum();
      case kSet:
        return Set();
      case kBlob:
      case kTinyBlob:
      case kMediumBlob:
      case kLongBlob:
      case kGeometry:
      case kJson:
      case kVector:
        return Blob();
      case kVarcharCompressed:
      case kBlobCompressed:
        return Compressed();
      case kDate:
      case kNewDate:
        return Date();
      case kTime:
      case kTime2:
        return Time();
      case kDatetime:
      case kDatetime2:
        return Datetime();
      case kTimestamp:
      case kTimestamp2:
        return Timestamp();
      case kDecimal:
        return Error(
            "pre-MySQL-5.0 DECIMAL is not supported (its length is not in the binlog): "
            "ALTER TABLE to rebuild the column as a current DECIMAL");
      default:
        return Error("column type " + std::to_string(column.real_type) +
                     " is not supported by Ferry");
    }
  }

 private:
  const ColumnInfo& column() const { return table_.columns[index_]; }

  Status Error(const std::string& what) const {
    return Status::Error("row image of " + table_.schema + "." + table_.table + ", column " +
                         ColumnLabel(table_, index_) + " (#" + std::to_string(index_ + 1) + ", " +
                         MysqlTypeName(column()) + ") at offset " + std::to_string(start_) + ": " +
                         what);
  }

  // Reads `n` bytes or explains that the image ends first.
  Result<std::string_view> Take(uint64_t n) {
    std::string_view bytes;
    if (!in_.Bytes(n, &bytes)) {
      return Error("truncated: the value needs " + std::to_string(n) + " bytes, " +
                   std::to_string(in_.remaining()) + " left");
    }
    return bytes;
  }

  // A little-endian length prefix of `width` bytes, then that many bytes.
  Result<std::string_view> LengthPrefixed(size_t width) {
    Result<std::string_view> prefix = Take(width);
    if (!prefix.ok()) return prefix.status();
    return Take(LittleEndianValue(*prefix));
  }

  Result<wire::Value> Integer(size_t width) {
    Result<std::string_view> bytes = Take(width);
    if (!bytes.ok()) return bytes.status();
    uint64_t raw = LittleEndianValue(*bytes);
    wire::Value value;
    if (column().is_unsigned) {
      value.set_uint64(raw);
    } else {
      uint64_t sign = uint64_t{1} << (8 * width - 1);
      uint64_t masked = width == 8 ? raw : raw & ((sign << 1) - 1);
      value.set_int64(static_cast<int64_t>((masked ^ sign) - sign));
    }
    return value;
  }

  Result<wire::Value> Year() {
    Result<std::string_view> bytes = Take(1);
    if (!bytes.ok()) return bytes.status();
    uint8_t raw = static_cast<uint8_t>((*bytes)[0]);
    wire::Value value;
    value.set_int64(raw == 0 ? 0 : 1900 + raw);
    return value;
  }

  Result<wire::Value> Float() {
    Result<std::string_view> bytes = Take(4);
    if (!bytes.ok()) return bytes.status();
    wire::Value value;
    value.set_float64(std::bit_cast<float>(static_cast<uint32_t>(LittleEndianValue(*bytes))));
    return value;
  }

  Result<wire::Value> Double() {
    Result<std::string_view> bytes = Take(8);
    if (!bytes.ok()) return bytes.status();
    wire::Value value;
    value.set_float64(std::bit_cast<double>(LittleEndianValue(*bytes)));
    return value;
  }

  Result<wire::Value> Decimal() {
    int precision = column().metadata >> 8;
    int scale = column().metadata & 0xff;
    size_t size = DecimalBinarySize(precision, scale);
    if (size == 0) return Error("invalid precision and scale in the TABLE_MAP");
    Result<std::string_view> bytes = Take(size);
    if (!bytes.ok()) return bytes.status();
    Result<std::string> text = DecodeDecimal(*bytes, precision, scale);
    if (!text.ok()) return Error(text.message());
    wire::Value value;
    value.set_decimal(std::move(*text));
    return value;
  }

  // Big-endian bytes; the column's bits are the low `bits` bits.
  Result<wire::Value> Bit() {
    size_t bits = static_cast<size_t>(column().metadata >> 8) * 8 + (column().metadata & 0xff);
    if (bits == 0) return Error("BIT of 0 bits in the TABLE_MAP");
    Result<std::string_view> bytes = Take((bits + 7) / 8);
    if (!bytes.ok()) return bytes.status();
    wire::Value value;
    value.set_bits(BitsText(*bytes, bits));
    return value;
  }

  Result<wire::Value> Varchar() {
    Result<std::string_view> bytes = LengthPrefixed(column().metadata > 255 ? 2 : 1);
    if (!bytes.ok()) return bytes.status();
    return Character(*bytes);
  }

  // CHAR/BINARY: stored without trailing pad (spaces; 0x00 for BINARY), length-prefixed.
  Result<wire::Value> Char() {
    uint32_t max_length = StringMaxLength(column().metadata);
    Result<std::string_view> bytes = LengthPrefixed(max_length > 255 ? 2 : 1);
    if (!bytes.ok()) return bytes.status();
    if (column().charset == kBinaryCollation && bytes->size() < max_length) {
      // BINARY(n) always holds n bytes; the binlog drops the trailing zeros, put them back.
      std::string padded(*bytes);
      padded.resize(max_length, '\0');
      wire::Value value;
      value.set_bytes(std::move(padded));
      return value;
    }
    return Character(*bytes);
  }

  Result<wire::Value> Blob() {
    size_t width = column().metadata;
    if (width < 1 || width > 4) {
      return Error("length prefix of " + std::to_string(width) + " bytes in the TABLE_MAP");
    }
    Result<std::string_view> bytes = LengthPrefixed(width);
    if (!bytes.ok()) return bytes.status();
    wire::Value value;
    switch (column().real_type) {
      case kGeometry:  // MySQL's internal form: 4-byte SRID, then WKB
      case kVector:
        value.set_bytes(std::string(*bytes));
        return value;
      case kJson:
        return Json(*bytes);
      default:
        return Character(*bytes);
    }
  }

  Result<wire::Value> Json(std::string_view binary) {
    Result<std::string> text = MysqlJsonToText(binary);
    if (!text.ok()) return Error(text.message());
    if (!IsValidUtf8(*text)) return Error("JSON string is not UTF-8");
    wire::Value value;
    value.set_json(std::move(*text));
    return value;
  }

  Result<wire::Value> Compressed() {
    size_t width = 0;
    if (column().real_type == kVarcharCompressed) {
      width = column().metadata > 255 ? 2 : 1;
    } else {
      width = column().metadata;
      if (width < 1 || width > 4) return Error("bad length prefix in the TABLE_MAP");
    }
    Result<std::string_view> stored = LengthPrefixed(width);
    if (!stored.ok()) return stored.status();
    Result<std::string> bytes = MariadbDecompress(*stored);
    if (!bytes.ok()) return Error(bytes.message());
    return Character(*bytes);
  }

  Result<wire::Value> Character(std::string_view bytes) { return CharacterValue(column(), bytes); }

  Result<wire::Value> Enum() {
    size_t width = column().metadata & 0xff;
    if (width != 1 && width != 2) return Error("ENUM of " + std::to_string(width) + " bytes");
    Result<std::string_view> bytes = Take(width);
    if (!bytes.ok()) return bytes.status();
    uint64_t index = LittleEndianValue(*bytes);
    const std::vector<std::string>& members = column().enum_values;
    wire::Value value;
    if (index == 0) {  // the '' MySQL stores for an invalid value
      value.set_enum_value("");
    } else if (members.empty()) {
      value.set_enum_value(std::to_string(index));
    } else if (index <= members.size()) {
      value.set_enum_value(members[index - 1]);
    } else {
      return Error("ENUM index " + std::to_string(index) + " but only " +
                   std::to_string(members.size()) + " members");
    }
    return value;
  }

  Result<wire::Value> Set() {
    size_t width = column().metadata & 0xff;
    if (width < 1 || width > 8) return Error("SET of " + std::to_string(width) + " bytes");
    Result<std::string_view> bytes = Take(width);
    if (!bytes.ok()) return bytes.status();
    uint64_t bits = LittleEndianValue(*bytes);
    const std::vector<std::string>& members = column().set_values;
    wire::Value value;
    if (members.empty()) {
      value.set_set_value(bits == 0 ? "" : std::to_string(bits));
      return value;
    }
    if (members.size() < 64 && (bits >> members.size()) != 0) {
      return Error("SET value " + std::to_string(bits) + " has bits beyond its " +
                   std::to_string(members.size()) + " members");
    }
    std::string text;
    for (size_t k = 0; k < members.size(); ++k) {
      if (((bits >> k) & 1) == 0) continue;
      if (!text.empty()) text.push_back(',');
      text += members[k];
    }
    value.set_set_value(std::move(text));
    return value;
  }

  // Fractional digits of TIME2/DATETIME2/TIMESTAMP2; the old types have none.
  Result<int> Fsp() {
    if (column().real_type != kTime2 && column().real_type != kDatetime2 &&
        column().real_type != kTimestamp2) {
      return 0;
    }
    if (column().metadata > 6) {
      return Error(std::to_string(column().metadata) + " fractional digits in the TABLE_MAP");
    }
    return static_cast<int>(column().metadata);
  }

  // Zero and partial dates ('0000-00-00', '2024-00-10') are carried as the text the server
  // shows; only fields out of range make a date corrupt.
  Result<wire::Value> Date() {
    Result<std::string_view> bytes = Take(3);
    if (!bytes.ok()) return bytes.status();
    TemporalParts parts = DecodeDate(*bytes);
    if (!IsPlausibleDatetime(parts)) return Error("corrupt DATE '" + FormatDate(parts) + "'");
    wire::Value value;
    value.set_date(FormatDate(parts));
    return value;
  }

  Result<wire::Value> Time() {
    Result<int> fsp = Fsp();
    if (!fsp.ok()) return fsp.status();
    Result<std::string_view> bytes = Take(3 + FractionBytes(*fsp));
    if (!bytes.ok()) return bytes.status();
    TemporalParts parts =
        column().real_type == kTime ? DecodeOldTime(*bytes) : DecodeTime2(*bytes, *fsp);
    if (!IsPlausibleTime(parts)) return Error("corrupt TIME '" + FormatTime(parts, *fsp) + "'");
    wire::Value value;
    value.set_time(FormatTime(parts, *fsp));
    return value;
  }

  Result<wire::Value> Datetime() {
    Result<int> fsp = Fsp();
    if (!fsp.ok()) return fsp.status();
    bool old = column().real_type == kDatetime;
    Result<std::string_view> bytes = Take(old ? 8 : 5 + FractionBytes(*fsp));
    if (!bytes.ok()) return bytes.status();
    TemporalParts parts = old ? DecodeOldDatetime(*bytes) : DecodeDatetime2(*bytes, *fsp);
    std::string text = FormatDatetime(parts, *fsp);
    if (!IsPlausibleDatetime(parts)) return Error("corrupt DATETIME '" + text + "'");
    wire::Value value;
    value.set_timestamp(std::move(text));
    return value;
  }

  // Seconds since the epoch: the instant, printed in UTC. 0 is MySQL's zero TIMESTAMP, printed
  // as the server shows it ('0000-00-00 00:00:00') with the "+00" of every TIMESTAMP; it has no
  // fraction, since the first second of 1970 UTC is outside TIMESTAMP's range.
  Result<wire::Value> Timestamp() {
    Result<int> fsp = Fsp();
    if (!fsp.ok()) return fsp.status();
    bool old = column().real_type == kTimestamp;
    Result<std::string_view> bytes = Take(4 + (old ? 0 : FractionBytes(*fsp)));
    if (!bytes.ok()) return bytes.status();
    int64_t seconds = 0;
    uint32_t micros = 0;
    if (old) {
      seconds = static_cast<int64_t>(LittleEndianValue(*bytes));
    } else {
      DecodeTimestamp2(*bytes, *fsp, &seconds, &micros);
    }
    if (seconds == 0 && micros != 0) {
      return Error("corrupt zero TIMESTAMP with a fraction of " + std::to_string(micros) +
                   " microseconds");
    }
    if (micros > 999'999) return Error("corrupt TIMESTAMP fraction " + std::to_string(micros));
    const TemporalParts parts =
        seconds == 0 ? TemporalParts{} : UtcFromUnixSeconds(seconds, micros);
    wire::Value value;
    value.set_timestamp_tz(FormatDatetime(parts, *fsp) + "+00");
    return value;
  }

  const TableMap& table_;
  Reader& in_;
  size_t index_ = 0;
  size_t start_ = 0;
};

// "varchar(20)" when the charset's bytes per character are known, else "varchar".
std::string WithCharacterLength(const std::string& name, uint32_t bytes, uint32_t collation) {
  const uint32_t max_bytes = CharsetMaxBytes(collation);
  if (max_bytes == 0) return name;
  return name + "(" + std::to_string(bytes / max_bytes) + ")";
}

std::string BlobName(const ColumnInfo& column, bool text) {
  static constexpr std::array<const char*, 5> kSizes = {"", "tiny", "", "medium", "long"};
  std::string size = column.metadata < kSizes.size() ? kSizes[column.metadata] : "";
  return size + (text ? "text" : "blob");
}

bool IsBinaryOrUnknown(const ColumnInfo& column) {
  return column.charset == 0 || column.charset == kBinaryCollation;
}

std::string WithFsp(const std::string& name, const ColumnInfo& column) {
  bool fractional = column.real_type == kTime2 || column.real_type == kDatetime2 ||
                    column.real_type == kTimestamp2;
  if (!fractional || column.metadata == 0) return name;
  return name + "(" + std::to_string(column.metadata) + ")";
}

}  // namespace

Result<TableMap> ParseTableMap(std::string_view body, size_t table_id_size, BinlogFlavor flavor) {
  return TableMapParser(body, table_id_size, flavor).Parse();
}

Result<size_t> DecodeRowImage(const TableMap& table, const std::vector<bool>& present,
                              std::string_view data, std::vector<wire::Value>* out) {
  if (present.size() != table.columns.size()) {
    return Status::Error("row image of " + table.schema + "." + table.table + ": " +
                         std::to_string(present.size()) + " column flags for " +
                         std::to_string(table.columns.size()) + " columns");
  }
  size_t present_count = 0;
  for (bool p : present) present_count += p ? 1 : 0;
  Reader in(data);
  std::string_view nulls;
  if (!in.Bytes((present_count + 7) / 8, &nulls)) {
    return Status::Error("row image of " + table.schema + "." + table.table +
                         ": truncated in its null bitmap");
  }
  std::vector<wire::Value> values;
  values.reserve(table.columns.size());
  ValueDecoder decoder(table, &in);
  size_t position = 0;  // index among the present columns, which the null bitmap counts
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (!present[i]) {
      values.emplace_back().mutable_unchanged();
      continue;
    }
    bool is_null = (static_cast<uint8_t>(nulls[position / 8]) >> (position % 8)) & 1;
    ++position;
    if (is_null) {
      values.push_back(NullValue());
      continue;
    }
    Result<wire::Value> value = decoder.Decode(i);
    if (!value.ok()) return value.status();
    values.push_back(std::move(*value));
  }
  out->insert(out->end(), std::make_move_iterator(values.begin()),
              std::make_move_iterator(values.end()));
  return in.offset();
}

wire::Value CharacterValue(const ColumnInfo& column, std::string_view bytes) {
  wire::Value value;
  bool blob = IsBlobType(column.real_type) || column.real_type == kBlobCompressed;
  if (column.charset == 0 && blob) {  // no charset metadata: BLOB or TEXT is unknowable
    value.set_bytes(std::string(bytes));
    return value;
  }
  std::optional<std::string> text = CharsetToUtf8(bytes, column.charset);
  if (text) {
    value.set_text(std::move(*text));
  } else {
    value.set_bytes(std::string(bytes));
  }
  return value;
}

std::string BitsText(std::string_view bytes, size_t bits) {
  std::string text;
  if (bits > bytes.size() * 8) bits = bytes.size() * 8;
  text.reserve(bits);
  const size_t skip = bytes.size() * 8 - bits;
  for (size_t i = skip; i < bytes.size() * 8; ++i) {
    text.push_back((static_cast<uint8_t>(bytes[i / 8]) >> (7 - i % 8)) & 1 ? '1' : '0');
  }
  return text;
}

namespace {

// "(10,2)" of "decimal(10,2) unsigned" as numbers; {} when there are none.
std::vector<uint32_t> DeclaredNumbers(std::string_view column_type) {
  std::vector<uint32_t> numbers;
  const size_t open = column_type.find('(');
  if (open == std::string_view::npos) return numbers;
  uint32_t n = 0;
  bool digits = false;
  for (size_t i = open + 1; i < column_type.size() && column_type[i] != ')'; ++i) {
    const char c = column_type[i];
    if (c >= '0' && c <= '9') {
      n = n * 10 + static_cast<uint32_t>(c - '0');
      digits = true;
    } else if (c == ',') {
      numbers.push_back(n);
      n = 0;
      digits = false;
    } else {
      return {};  // ENUM/SET members, not numbers
    }
  }
  if (digits) numbers.push_back(n);
  return numbers;
}

// Field_string's metadata: the real type with bits 8-9 of the byte length folded in (see
// StringMaxLength), then the low byte of the length.
uint16_t StringMetadata(uint8_t real_type, uint64_t length) {
  const auto byte0 = static_cast<uint8_t>(real_type ^ ((length & 0x300) >> 4));
  return static_cast<uint16_t>(byte0 << 8 | (length & 0xff));
}

}  // namespace

Result<ColumnInfo> LoggedColumn(std::string_view data_type, std::string_view column_type,
                                uint64_t octet_length, uint32_t collation) {
  ColumnInfo column;
  column.is_unsigned = column_type.find(" unsigned") != std::string_view::npos;
  const std::vector<uint32_t> numbers = DeclaredNumbers(column_type);
  const uint32_t first = numbers.empty() ? 0 : numbers[0];
  auto set = [&](uint8_t type, uint16_t metadata) {
    column.type = column.real_type = type;
    column.metadata = metadata;
  };
  static const std::map<std::string_view, uint8_t> kFixed = {
      {"tinyint", kTiny}, {"smallint", kShort},  {"mediumint", kInt24},
      {"int", kLong},     {"bigint", kLongLong}, {"year", kYear},
      {"float", kFloat},  {"double", kDouble},   {"date", kDate}};
  static const std::map<std::string_view, uint16_t> kBlobLengthBytes = {
      {"tinyblob", 1},   {"tinytext", 1},   {"blob", 2},     {"text", 2},
      {"mediumblob", 3}, {"mediumtext", 3}, {"longblob", 4}, {"longtext", 4}};
  static const std::set<std::string_view> kGeometries = {
      "geometry",   "point",           "linestring",   "polygon",
      "multipoint", "multilinestring", "multipolygon", "geometrycollection"};
  if (auto fixed = kFixed.find(data_type); fixed != kFixed.end()) {
    set(fixed->second, fixed->second == kFloat ? 4 : fixed->second == kDouble ? 8 : 0);
  } else if (data_type == "decimal" && numbers.size() == 2) {
    set(kNewDecimal, static_cast<uint16_t>(numbers[0] << 8 | numbers[1]));
  } else if (data_type == "bit") {
    set(kBit, static_cast<uint16_t>((first / 8) << 8 | (first % 8)));
  } else if (data_type == "time" || data_type == "datetime" || data_type == "timestamp") {
    set(data_type == "time"       ? kTime2
        : data_type == "datetime" ? kDatetime2
                                  : kTimestamp2,
        static_cast<uint16_t>(first));
  } else if (data_type == "varchar" || data_type == "varbinary") {
    set(kVarchar, static_cast<uint16_t>(octet_length));
  } else if (data_type == "char" || data_type == "binary") {
    set(kString, StringMetadata(kString, octet_length));
  } else if (data_type == "enum" || data_type == "set") {
    Result<std::vector<std::string>> members = ParseMembers(std::string(column_type));
    if (!members.ok()) return members.status();
    const bool is_enum = data_type == "enum";
    const size_t count = members->size();
    const uint8_t pack =
        is_enum ? (count < 256 ? 1 : 2) : ((count + 7) / 8 > 4 ? 8 : (count + 7) / 8);
    column.type = kString;
    column.real_type = is_enum ? kEnum : kSet;
    column.metadata = static_cast<uint16_t>(column.real_type << 8 | pack);
    (is_enum ? column.enum_values : column.set_values) = std::move(*members);
  } else if (auto blob = kBlobLengthBytes.find(data_type); blob != kBlobLengthBytes.end()) {
    set(kBlob, blob->second);
  } else if (kGeometries.count(data_type) != 0) {
    set(kGeometry, 4);
  } else {
    return Status::Error("columns of type " + std::string(column_type) +
                         " cannot be read as the binlog logs them yet");
  }
  if (column_type.find(" compressed") != std::string_view::npos) {
    return Status::Error("columns of type " + std::string(column_type) +
                         " cannot be read as the binlog logs them yet");
  }
  // ENUM and SET members are in the column's charset too (FULL metadata logs it for them).
  if (HoldsCharacters(column) || column.real_type == kEnum || column.real_type == kSet) {
    column.charset = collation;
  }
  return column;
}

wire::LogicalType MysqlLogicalType(const ColumnInfo& column) {
  switch (column.real_type) {
    case kTiny:
    case kShort:
    case kInt24:
    case kLong:
    case kLongLong:
      return column.is_unsigned ? wire::LOGICAL_TYPE_UINT : wire::LOGICAL_TYPE_INT;
    case kYear:
      return wire::LOGICAL_TYPE_INT;
    case kDecimal:
    case kNewDecimal:
      return wire::LOGICAL_TYPE_DECIMAL;
    case kFloat:
    case kDouble:
      return wire::LOGICAL_TYPE_FLOAT;
    case kBit:
      return wire::LOGICAL_TYPE_BIT;
    case kDate:
    case kNewDate:
      return wire::LOGICAL_TYPE_DATE;
    case kTime:
    case kTime2:
      return wire::LOGICAL_TYPE_TIME;
    case kDatetime:
    case kDatetime2:
      return wire::LOGICAL_TYPE_TIMESTAMP;
    case kTimestamp:
    case kTimestamp2:
      return wire::LOGICAL_TYPE_TIMESTAMP_TZ;
    case kVarchar:
    case kVarString:
    case kString:
    case kVarcharCompressed:
      return column.charset == kBinaryCollation ? wire::LOGICAL_TYPE_BYTES
                                                : wire::LOGICAL_TYPE_TEXT;
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
    case kBlobCompressed:
      return IsBinaryOrUnknown(column) ? wire::LOGICAL_TYPE_BYTES : wire::LOGICAL_TYPE_TEXT;
    case kEnum:
      return wire::LOGICAL_TYPE_ENUM;
    case kSet:
      return wire::LOGICAL_TYPE_SET;
    case kJson:
      return wire::LOGICAL_TYPE_JSON;
    case kGeometry:
    case kVector:
      return wire::LOGICAL_TYPE_BYTES;
    default:
      return wire::LOGICAL_TYPE_OTHER;
  }
}

std::string MysqlTypeName(const ColumnInfo& column) {
  std::string unsigned_suffix = column.is_unsigned ? " unsigned" : "";
  bool binary = column.charset == kBinaryCollation;
  switch (column.real_type) {
    case kTiny:
      return "tinyint" + unsigned_suffix;
    case kShort:
      return "smallint" + unsigned_suffix;
    case kInt24:
      return "mediumint" + unsigned_suffix;
    case kLong:
      return "int" + unsigned_suffix;
    case kLongLong:
      return "bigint" + unsigned_suffix;
    case kYear:
      return "year";
    case kDecimal:
      return "decimal" + unsigned_suffix;
    case kNewDecimal:
      return "decimal(" + std::to_string(column.metadata >> 8) + "," +
             std::to_string(column.metadata & 0xff) + ")" + unsigned_suffix;
    case kFloat:
      return "float" + unsigned_suffix;
    case kDouble:
      return "double" + unsigned_suffix;
    case kBit:
      return "bit(" + std::to_string((column.metadata >> 8) * 8 + (column.metadata & 0xff)) + ")";
    case kDate:
    case kNewDate:
      return "date";
    case kTime:
    case kTime2:
      return WithFsp("time", column);
    case kDatetime:
    case kDatetime2:
      return WithFsp("datetime", column);
    case kTimestamp:
    case kTimestamp2:
      return WithFsp("timestamp", column);
    case kVarchar:
    case kVarString:
      return WithCharacterLength(binary ? "varbinary" : "varchar", column.metadata, column.charset);
    case kVarcharCompressed:  // the length counts the compression header byte
      return WithCharacterLength("varchar", column.metadata - 1u, column.charset) + " compressed";
    case kString:
      return WithCharacterLength(binary ? "binary" : "char", StringMaxLength(column.metadata),
                                 column.charset);
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
      return BlobName(column, !IsBinaryOrUnknown(column));
    case kBlobCompressed:
      return BlobName(column, !IsBinaryOrUnknown(column)) + " compressed";
    case kEnum:
      return "enum";
    case kSet:
      return "set";
    case kJson:
      return "json";
    case kGeometry:
      return "geometry";
    case kVector:
      return "vector";
    default:
      return "type " + std::to_string(column.real_type);
  }
}

bool LacksCollations(const TableMap& table) {
  return std::any_of(table.columns.begin(), table.columns.end(), [](const ColumnInfo& column) {
    return HoldsCharacters(column) && column.charset == 0;
  });
}

void SetCollations(TableMap& table, const std::vector<uint32_t>& collations) {
  if (collations.size() != table.columns.size()) return;
  for (size_t i = 0; i < collations.size(); ++i) {
    ColumnInfo& column = table.columns[i];
    if (HoldsCharacters(column) && column.charset == 0) column.charset = collations[i];
  }
}

wire::Relation RelationFromTableMap(const TableMap& table, uint32_t relation_id) {
  wire::Relation relation;
  relation.set_id(relation_id);
  relation.set_schema(table.schema);
  relation.set_table(table.table);
  // binlog_row_image=FULL logs whole rows on update and delete, like REPLICA IDENTITY FULL.
  relation.set_full_old_image(true);
  bool has_key = false;
  for (const ColumnInfo& column : table.columns) has_key |= column.primary_key;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const ColumnInfo& info = table.columns[i];
    wire::Column* column = relation.add_columns();
    column->set_name(ColumnLabel(table, i));
    column->set_source_type(MysqlTypeName(info));
    column->set_type(MysqlLogicalType(info));
    // Without a primary key in the metadata, the whole row identifies it.
    column->set_key(has_key ? info.primary_key : true);
  }
  return relation;
}

}  // namespace ferry::capture::mysql
