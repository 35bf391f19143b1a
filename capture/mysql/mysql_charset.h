// MySQL/MariaDB character sets: which charset a collation id belongs to, and how the bytes of a
// character column become UTF-8 text, exactly as the server itself reads them (what
// CONVERT(column USING utf8mb4) gives on MariaDB 10.11).
//
//   utf8mb3, utf8mb4          as they are, when valid UTF-8
//   latin1                    MySQL's latin1 is Windows-1252, its five unassigned bytes being
//                             the C1 controls of the same number
//   ucs2, utf16, utf16le,     decoded here
//   utf32
//   the other charsets        glibc iconv, with the encoding whose table matches MySQL's, plus
//                             the few characters where MySQL's table differs from glibc's
//   ascii, keybcs2, gb18030   text only when every byte is ASCII (glibc has no KEYBCS2; MySQL
//                             8's gb18030 could not be checked against a server)
//   binary                    never text
//
// Bytes that have no text in their charset — a sequence the charset does not define, or one it
// defines but where iconv and MySQL disagree and no correction is known (big5's ETEN kana and
// Cyrillic C6A1-C7FE, ujis's user-defined rows) — give no text at all: the caller keeps them as
// bytes, never as a guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::capture::mysql {

inline constexpr uint32_t kBinaryCollation = 63;

// The charset of a collation id, as MySQL names it ("latin2", "utf8mb4"); empty when the id is
// unknown. Ids below 256 are shared by MySQL and MariaDB; above them, MySQL 8's utf8mb4_0900
// collations and MariaDB 10.10+'s UCA and NO PAD collations.
std::string_view CharsetName(uint32_t collation);

// A collation id of the charset MySQL calls `name` ("latin2"; "utf8" is utf8mb3, as older
// servers call it), for decoding, which needs only the charset; 0 when the name is unknown.
uint32_t CollationOfCharset(std::string_view name);

// Bytes per character at most (mbmaxlen); 0 when the collation id is unknown.
uint32_t CharsetMaxBytes(uint32_t collation);

// The UTF-8 text of `bytes` stored in a column of `collation`; nullopt when they have none (see
// above). An unknown collation id (0 included) gives text only when the bytes are valid UTF-8.
std::optional<std::string> CharsetToUtf8(std::string_view bytes, uint32_t collation);

// ISO-8859-1: each byte is the code point of the same number. Lossless; for names that must be
// text whatever bytes they hold.
std::string Iso88591ToUtf8(std::string_view bytes);

}  // namespace ferry::capture::mysql
