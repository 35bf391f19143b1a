// MySQL's binary JSON (the storage and binlog form of a MySQL 5.7+ JSON column; MariaDB keeps
// JSON as plain LONGTEXT and never writes this). Layout (sql-common/json_binary.h):
//   doc      ::= type value
//   type     ::= 0x00 small object | 0x01 large object | 0x02 small array | 0x03 large array
//              | 0x04 literal | 0x05 int16 | 0x06 uint16 | 0x07 int32 | 0x08 uint32
//              | 0x09 int64 | 0x0a uint64 | 0x0b double | 0x0c string | 0x0f opaque
//   object   ::= count size key-entry* value-entry* key* value*
//   array    ::= count size value-entry* value*
//     count, size, key-offset and value offsets are uint16 (small) or uint32 (large), all
//     little-endian; offsets count from the start of the object/array (its count field).
//   key-entry   ::= key-offset uint16-key-length
//   value-entry ::= type offset-or-inlined-value   (literals and 16-bit ints are inlined, and in
//                                                   large containers 32-bit ints too)
//   literal  ::= 0x00 null | 0x01 true | 0x02 false
//   string   ::= var-length utf8mb4-bytes      (var-length: 7 bits per byte, low bits first,
//                                               high bit set on every byte but the last)
//   opaque   ::= field-type var-length bytes   (DECIMAL: precision, scale, binary decimal;
//                                               DATE/TIME/DATETIME/TIMESTAMP: 8-byte packed int)
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry::capture::mysql {

// The JSON text of a binary JSON document: compact (no spaces), object keys in stored order
// (MySQL sorts them by length, then bytes), strings escaped per RFC 8259. Opaque values print as
// MySQL prints them: DECIMAL as a number, DATE as "2015-01-15", DATETIME/TIMESTAMP as
// "2015-01-15 23:24:25.000000", TIME as "23:24:25.000000", anything else as
// "base64:type<N>:<base64 bytes>". Doubles use the shortest text that reads back exactly, with
// ".0" added to whole numbers so that they stay doubles. An empty document (length 0 in the row
// image) is JSON null. Malformed input is an error naming the offset, never a crash.
Result<std::string> MysqlJsonToText(std::string_view binary);

}  // namespace ferry::capture::mysql
