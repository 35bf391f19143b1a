#include "capture/mysql/mysql_charset.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <span>

#include "common/json_text.h"

namespace ferry::capture::mysql {
namespace {

// How the bytes of a charset become UTF-8 text.
enum class Encoding : uint8_t {
  kBinary,     // never text
  kUtf8,       // utf8mb3, utf8mb4: text as is
  kLatin1,     // MySQL's latin1 is Windows-1252 (with the 5 unassigned bytes as C1 controls)
  kAsciiOnly,  // no converter whose table is known to match: text only when all ASCII
  kIconv,      // glibc iconv from Charset::iconv_name, then Charset::overrides
  kUcs2,       // UCS-2 big-endian
  kUtf16,      // UTF-16 big-endian
  kUtf16le,
  kUtf32,  // UTF-32 big-endian
};

// Where a character ends, for finding the characters of Charset::overrides in a string.
enum class Layout : uint8_t {
  kSingleByte,
  kShiftJis,    // 0x81-0x9f and 0xe0-0xfc lead two-byte characters
  kDoubleByte,  // 0x81-0xfe lead two-byte characters (big5, gbk, euckr, gb2312)
  kEucJp,       // 0x8e leads two bytes, 0x8f three, 0xa1-0xfe two
};

constexpr char32_t kUndefined = 0xffffffff;

// A character (or a range of them) that MySQL's table maps differently from the iconv encoding.
// A character's bytes are written as one big-endian number: 0x5c, 0x815f, 0x8fa2b7.
struct Override {
  uint32_t first;
  uint32_t last;
  char32_t code;  // what MySQL maps it to; kUndefined where MySQL defines no character
};

constexpr Override Map(uint32_t bytes, char32_t code) { return {bytes, bytes, code}; }
constexpr Override Undefined(uint32_t first, uint32_t last) { return {first, last, kUndefined}; }
constexpr Override Undefined(uint32_t bytes) { return {bytes, bytes, kUndefined}; }

struct Charset {
  std::string_view name;
  Encoding encoding;
  uint8_t max_bytes;  // bytes per character at most (mbmaxlen)
  const char* iconv_name = nullptr;
  std::span<const Override> overrides = {};
  Layout layout = Layout::kSingleByte;
  bool ascii = true;  // its bytes below 0x80 are ASCII (all but swe7)
};

// The differences between MySQL's tables and glibc's, found by comparing every byte sequence with
// MariaDB 10.11's CONVERT(... USING utf8mb4) (mariadb_source_test.cc does so on every run).
// Elsewhere the two agree on every character.
constexpr auto kCp1256Overrides = std::to_array<Override>({
    // MySQL's cp1256 is the Windows code page before its 1998 update: these are unassigned.
    Undefined(0x8a),
    Undefined(0x8f),
    Undefined(0x98),
    Undefined(0x9a),
    Undefined(0x9f),
    Undefined(0xaa),
    Undefined(0xc0),
    Undefined(0xff),
});
constexpr auto kCp866Overrides = std::to_array<Override>({Map(0xfc, 0x207f), Map(0xfd, 0x00b2)});
constexpr auto kGreekOverrides = std::to_array<Override>({
    // ISO-8859-7:1987, before the 2003 edition glibc follows.
    Map(0xa1, 0x02bd),
    Map(0xa2, 0x02bc),
    Undefined(0xa4),
    Undefined(0xa5),
    Undefined(0xaa),
});
constexpr auto kHebrewOverrides = std::to_array<Override>({Map(0xaf, 0x203e)});
constexpr auto kKoi8uOverrides = std::to_array<Override>({Map(0x95, 0x2022)});
constexpr auto kMacromanOverrides = std::to_array<Override>({Map(0xc6, 0x2206), Map(0xf0, 0xf8ff)});
constexpr auto kArmscii8Overrides = std::to_array<Override>({
    Map(0xa1, 0x2741),
    Map(0xa2, 0x00a7),
    Map(0xad, 0x055f),
    Map(0xfe, 0x2019),
    Map(0xff, 0x0027),
});
constexpr auto kTis620Overrides = std::to_array<Override>({Undefined(0xa0)});
constexpr auto kGeostd8Overrides = std::to_array<Override>({
    Map(0x80, 0x20ac),
    Undefined(0x81),
    Undefined(0x83),
    Undefined(0x88),
    Undefined(0x8a),
    Undefined(0x8c, 0x90),
    Undefined(0x98, 0x9a),
    Undefined(0x9c, 0x9f),
    Undefined(0xe6, 0xfc),
    Map(0xfd, 0x2116),
    Undefined(0xfe, 0xff),
});
constexpr auto kSwe7Overrides = std::to_array<Override>({Map(0x24, 0x0024), Undefined(0x7f)});
constexpr auto kDec8Overrides = std::to_array<Override>({Map(0xa0, 0x00a0)});
// glibc's Shift_JIS and EUC-JP follow JIS X 0201 (0x5c yen sign, 0x7e overline); MySQL keeps
// ASCII there and maps the fullwidth backslash and tilde to ASCII too.
constexpr auto kSjisOverrides = std::to_array<Override>({
    Map(0x5c, 0x005c),
    Map(0x7e, 0x007e),
    Map(0x815f, 0x005c),
});
constexpr auto kUjisOverrides = std::to_array<Override>({
    Map(0xa1c0, 0x005c),
    Map(0x8fa2b7, 0x007e),
});
constexpr auto kBig5Overrides = std::to_array<Override>({
    Map(0xa145, 0x2022),
    Map(0xa14e, 0xff64),
    Map(0xa1c2, 0x203e),
    Map(0xa1e3, 0x223c),
    Map(0xa1f2, 0x2641),
    Map(0xa1f3, 0x2609),
    Map(0xa241, 0xff0f),
    Map(0xa242, 0xff3c),
    Map(0xa244, 0x00a5),
    Map(0xa246, 0x00a2),
    Map(0xa247, 0x00a3),
    // MySQL has no character (or U+FFFD) here where glibc has one.
    Undefined(0xa15a),
    Undefined(0xa1c3),
    Undefined(0xa1c5),
    Undefined(0xa1fe),
    Undefined(0xa240),
    Undefined(0xa2cc),
    Undefined(0xa2ce),
    Undefined(0xa3e1),
    Undefined(0xc840, 0xc8fe),
    Undefined(0xf9dd, 0xf9fe),
    // The ETEN extension: MySQL maps kana, Cyrillic and circled numbers, glibc private-use code
    // points. Not worth a 250-entry table: such values stay bytes.
    Undefined(0xc6a1, 0xc7fe),
});

constexpr Charset kArmscii8{"armscii8", Encoding::kIconv, 1, "ARMSCII-8", kArmscii8Overrides};
constexpr Charset kAscii{"ascii", Encoding::kAsciiOnly, 1};
constexpr Charset kBig5{"big5", Encoding::kIconv, 2, "BIG5", kBig5Overrides, Layout::kDoubleByte};
constexpr Charset kBinaryCharset{"binary", Encoding::kBinary, 1};
constexpr Charset kCp1250{"cp1250", Encoding::kIconv, 1, "CP1250"};
constexpr Charset kCp1251{"cp1251", Encoding::kIconv, 1, "CP1251"};
constexpr Charset kCp1256{"cp1256", Encoding::kIconv, 1, "CP1256", kCp1256Overrides};
constexpr Charset kCp1257{"cp1257", Encoding::kIconv, 1, "CP1257"};
constexpr Charset kCp850{"cp850", Encoding::kIconv, 1, "CP850"};
constexpr Charset kCp852{"cp852", Encoding::kIconv, 1, "CP852"};
constexpr Charset kCp866{"cp866", Encoding::kIconv, 1, "CP866", kCp866Overrides};
constexpr Charset kCp932{"cp932", Encoding::kIconv, 2, "CP932"};
constexpr Charset kDec8{"dec8", Encoding::kIconv, 1, "DEC-MCS", kDec8Overrides};
constexpr Charset kEucjpms{"eucjpms", Encoding::kIconv, 3, "EUC-JP-MS"};
// MySQL's euckr takes the Unified Hangul Code extension too: glibc's CP949 matches it, EUC-KR
// does not.
constexpr Charset kEuckr{"euckr", Encoding::kIconv, 2, "CP949"};
constexpr Charset kGb18030{"gb18030", Encoding::kAsciiOnly, 4};
constexpr Charset kGb2312{"gb2312", Encoding::kIconv, 2, "GB2312"};
constexpr Charset kGbk{"gbk", Encoding::kIconv, 2, "GBK"};
constexpr Charset kGeostd8{"geostd8", Encoding::kIconv, 1, "GEORGIAN-PS", kGeostd8Overrides};
constexpr Charset kGreek{"greek", Encoding::kIconv, 1, "ISO-8859-7", kGreekOverrides};
constexpr Charset kHebrew{"hebrew", Encoding::kIconv, 1, "ISO-8859-8", kHebrewOverrides};
constexpr Charset kHp8{"hp8", Encoding::kIconv, 1, "HP-ROMAN8"};
constexpr Charset kKeybcs2{"keybcs2", Encoding::kAsciiOnly, 1};
constexpr Charset kKoi8r{"koi8r", Encoding::kIconv, 1, "KOI8-R"};
constexpr Charset kKoi8u{"koi8u", Encoding::kIconv, 1, "KOI8-U", kKoi8uOverrides};
constexpr Charset kLatin1{"latin1", Encoding::kLatin1, 1};
constexpr Charset kLatin2{"latin2", Encoding::kIconv, 1, "ISO-8859-2"};
constexpr Charset kLatin5{"latin5", Encoding::kIconv, 1, "ISO-8859-9"};
constexpr Charset kLatin7{"latin7", Encoding::kIconv, 1, "ISO-8859-13"};
constexpr Charset kMacce{"macce", Encoding::kIconv, 1, "MAC-CENTRALEUROPE"};
constexpr Charset kMacroman{"macroman", Encoding::kIconv, 1, "MACINTOSH", kMacromanOverrides};
constexpr Charset kSjis{"sjis", Encoding::kIconv, 2, "SJIS", kSjisOverrides, Layout::kShiftJis};
constexpr Charset kSwe7{"swe7",         Encoding::kIconv, 1,
                        "SEN_850200_C", kSwe7Overrides,   Layout::kSingleByte,
                        /*ascii=*/false};
// MySQL maps 0x80-0x9f to the C1 controls, as glibc's ISO-8859-11 does and its TIS-620 does not.
constexpr Charset kTis620{"tis620", Encoding::kIconv, 1, "ISO-8859-11", kTis620Overrides};
constexpr Charset kUcs2{"ucs2", Encoding::kUcs2, 2};
constexpr Charset kUjis{"ujis", Encoding::kIconv, 3, "EUC-JP", kUjisOverrides, Layout::kEucJp};
constexpr Charset kUtf16{"utf16", Encoding::kUtf16, 4};
constexpr Charset kUtf16le{"utf16le", Encoding::kUtf16le, 4};
constexpr Charset kUtf32{"utf32", Encoding::kUtf32, 4};
constexpr Charset kUtf8mb3{"utf8mb3", Encoding::kUtf8, 3};
constexpr Charset kUtf8mb4{"utf8mb4", Encoding::kUtf8, 4};

struct CollationRange {
  uint16_t first;
  uint16_t last;
  const Charset* charset;
};

// Collation ids below 256, which MySQL and MariaDB share (taken from MariaDB 10.11's
// information_schema.COLLATION_CHARACTER_SET_APPLICABILITY, plus MySQL 8's 76 utf8mb3_tolower_ci,
// 248-250 gb18030 and 255 utf8mb4_0900_ai_ci).
constexpr auto kCollations = std::to_array<CollationRange>({
    {1, 1, &kBig5},        {2, 2, &kLatin2},          {3, 3, &kDec8},
    {4, 4, &kCp850},       {5, 5, &kLatin1},          {6, 6, &kHp8},
    {7, 7, &kKoi8r},       {8, 8, &kLatin1},          {9, 9, &kLatin2},
    {10, 10, &kSwe7},      {11, 11, &kAscii},         {12, 12, &kUjis},
    {13, 13, &kSjis},      {14, 14, &kCp1251},        {15, 15, &kLatin1},
    {16, 16, &kHebrew},    {18, 18, &kTis620},        {19, 19, &kEuckr},
    {20, 20, &kLatin7},    {21, 21, &kLatin2},        {22, 22, &kKoi8u},
    {23, 23, &kCp1251},    {24, 24, &kGb2312},        {25, 25, &kGreek},
    {26, 26, &kCp1250},    {27, 27, &kLatin2},        {28, 28, &kGbk},
    {29, 29, &kCp1257},    {30, 30, &kLatin5},        {31, 31, &kLatin1},
    {32, 32, &kArmscii8},  {33, 33, &kUtf8mb3},       {34, 34, &kCp1250},
    {35, 35, &kUcs2},      {36, 36, &kCp866},         {37, 37, &kKeybcs2},
    {38, 38, &kMacce},     {39, 39, &kMacroman},      {40, 40, &kCp852},
    {41, 42, &kLatin7},    {43, 43, &kMacce},         {44, 44, &kCp1250},
    {45, 46, &kUtf8mb4},   {47, 49, &kLatin1},        {50, 52, &kCp1251},
    {53, 53, &kMacroman},  {54, 55, &kUtf16},         {56, 56, &kUtf16le},
    {57, 57, &kCp1256},    {58, 59, &kCp1257},        {60, 61, &kUtf32},
    {62, 62, &kUtf16le},   {63, 63, &kBinaryCharset}, {64, 64, &kArmscii8},
    {65, 65, &kAscii},     {66, 66, &kCp1250},        {67, 67, &kCp1256},
    {68, 68, &kCp866},     {69, 69, &kDec8},          {70, 70, &kGreek},
    {71, 71, &kHebrew},    {72, 72, &kHp8},           {73, 73, &kKeybcs2},
    {74, 74, &kKoi8r},     {75, 75, &kKoi8u},         {76, 76, &kUtf8mb3},
    {77, 77, &kLatin2},    {78, 78, &kLatin5},        {79, 79, &kLatin7},
    {80, 80, &kCp850},     {81, 81, &kCp852},         {82, 82, &kSwe7},
    {83, 83, &kUtf8mb3},   {84, 84, &kBig5},          {85, 85, &kEuckr},
    {86, 86, &kGb2312},    {87, 87, &kGbk},           {88, 88, &kSjis},
    {89, 89, &kTis620},    {90, 90, &kUcs2},          {91, 91, &kUjis},
    {92, 93, &kGeostd8},   {94, 94, &kLatin1},        {95, 96, &kCp932},
    {97, 98, &kEucjpms},   {99, 99, &kCp1250},        {101, 124, &kUtf16},
    {128, 151, &kUcs2},    {159, 159, &kUcs2},        {160, 183, &kUtf32},
    {192, 215, &kUtf8mb3}, {223, 223, &kUtf8mb3},     {224, 247, &kUtf8mb4},
    {248, 250, &kGb18030}, {255, 255, &kUtf8mb4},
});

constexpr std::array<const Charset*, 256> kCollationTable = [] {
  std::array<const Charset*, 256> table{};
  for (const CollationRange& range : kCollations) {
    for (uint32_t id = range.first; id <= range.last; ++id) table[id] = range.charset;
  }
  return table;
}();

// The charset of a collation id; nullptr when the id is unknown.
const Charset* CharsetOf(uint32_t collation) {
  if (collation < 256) return kCollationTable[collation];
  if (collation <= 323) return &kUtf8mb4;  // MySQL 8 utf8mb4_*_0900_* collations
  // MariaDB 10.10+: extra UCA collations, then NO PAD variants (base id + 1024), then the
  // uca1400 family in blocks of 256 per charset.
  if (collation >= 576 && collation <= 578) return &kUtf8mb3;
  if (collation >= 608 && collation <= 610) return &kUtf8mb4;
  if (collation >= 640 && collation <= 642) return &kUcs2;
  if (collation >= 672 && collation <= 674) return &kUtf16;
  if (collation >= 736 && collation <= 738) return &kUtf32;
  if (collation >= 1024 && collation < 1280) return kCollationTable[collation - 1024];
  static constexpr std::array<const Charset*, 5> kUca1400 = {&kUtf8mb3, &kUtf8mb4, &kUcs2, &kUtf16,
                                                             &kUtf32};
  if (collation >= 2048 && collation < 2048 + 256 * kUca1400.size()) {
    return kUca1400[(collation - 2048) / 256];
  }
  return nullptr;
}

// ---- UTF-8 ------------------------------------------------------------------------------------

void AppendUtf8(uint32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else if (code < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (code >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  }
}

bool IsAscii(std::string_view bytes) {
  for (char c : bytes) {
    if (static_cast<uint8_t>(c) >= 0x80) return false;
  }
  return true;
}

// MySQL's latin1 (ctype-latin1.c): Windows-1252, whose five unassigned bytes (0x81, 0x8d, 0x8f,
// 0x90, 0x9d) map to the C1 controls of the same number, as CONVERT(... USING utf8mb4) does.
constexpr std::array<uint16_t, 32> kCp1252High = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};

std::string Latin1ToUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  for (char ch : bytes) {
    uint8_t c = static_cast<uint8_t>(ch);
    AppendUtf8(c >= 0x80 && c < 0xa0 ? kCp1252High[c - 0x80] : c, &out);
  }
  return out;
}

// UCS-2, UTF-16 and UTF-32 to UTF-8; nullopt when the bytes are not valid in the encoding.
std::optional<std::string> WideToUtf8(std::string_view bytes, Encoding encoding) {
  size_t unit = encoding == Encoding::kUtf32 ? 4 : 2;
  if (bytes.size() % unit != 0) return std::nullopt;
  auto read = [&](size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < unit; ++k) {
      uint8_t b = static_cast<uint8_t>(bytes[at + k]);
      v = encoding == Encoding::kUtf16le ? v | (uint32_t{b} << (8 * k)) : (v << 8) | b;
    }
    return v;
  };
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += unit) {
    uint32_t code = read(i);
    bool utf16 = encoding == Encoding::kUtf16 || encoding == Encoding::kUtf16le;
    if (utf16 && code >= 0xd800 && code <= 0xdbff && i + 2 < bytes.size()) {
      uint32_t low = read(i + 2);
      if (low < 0xdc00 || low > 0xdfff) return std::nullopt;
      code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      i += 2;
    }
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return std::nullopt;
    AppendUtf8(code, &out);
  }
  return out;
}

// ---- iconv ------------------------------------------------------------------------------------

// One glibc iconv conversion to UTF-8. Opened per value: that costs about 0.2 µs, and keeping
// descriptors would need state shared across rows.
class Iconv {
 public:
  explicit Iconv(const char* from) : cd_(iconv_open("UTF-8", from)) {}
  ~Iconv() {
    if (ok()) iconv_close(cd_);
  }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;

  // False when glibc lacks the encoding (its gconv modules are not installed).
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }

  // Appends the UTF-8 of `bytes`, whole characters only; false at a byte sequence the encoding
  // does not define or that ends mid-character.
  bool Append(std::string_view bytes, std::string* out) {
    // iconv's input parameter is not const-qualified, but iconv only reads through it.
    char* in = const_cast<char*>(bytes.data());
    size_t in_left = bytes.size();
    std::array<char, 256> buffer;
    while (in_left > 0) {
      char* at = buffer.data();
      size_t room = buffer.size();
      size_t converted = iconv(cd_, &in, &in_left, &at, &room);
      out->append(buffer.data(), at);
      if (converted == static_cast<size_t>(-1) && errno != E2BIG) return false;
      // A positive count means characters converted "irreversibly": never wanted here.
      if (converted != static_cast<size_t>(-1) && converted > 0) return false;
    }
    return true;
  }

 private:
  iconv_t cd_;
};

// The length of the character at bytes[at], cut short at the end of `bytes`.
size_t CharacterLength(Layout layout, std::string_view bytes, size_t at) {
  uint8_t lead = static_cast<uint8_t>(bytes[at]);
  size_t length = 1;
  switch (layout) {
    case Layout::kSingleByte:
      break;
    case Layout::kShiftJis:
      if ((lead >= 0x81 && lead <= 0x9f) || (lead >= 0xe0 && lead <= 0xfc)) length = 2;
      break;
    case Layout::kDoubleByte:
      if (lead >= 0x81 && lead <= 0xfe) length = 2;
      break;
    case Layout::kEucJp:
      if (lead == 0x8f) {
        length = 3;
      } else if (lead == 0x8e || (lead >= 0xa1 && lead <= 0xfe)) {
        length = 2;
      }
      break;
  }
  return std::min(length, bytes.size() - at);
}

const Override* FindOverride(std::span<const Override> overrides, std::string_view character) {
  uint32_t key = 0;
  for (char c : character) key = (key << 8) | static_cast<uint8_t>(c);
  for (const Override& entry : overrides) {
    if (key >= entry.first && key <= entry.last) return &entry;
  }
  return nullptr;
}

// iconv for the runs between the characters MySQL maps differently, the override for those.
std::optional<std::string> IconvToUtf8(std::string_view bytes, const Charset& charset) {
  if (charset.ascii && IsAscii(bytes)) return std::string(bytes);
  Iconv converter(charset.iconv_name);
  if (!converter.ok()) return std::nullopt;
  std::string out;
  size_t run = 0;  // start of the bytes not yet converted
  for (size_t at = 0; at < bytes.size() && !charset.overrides.empty();) {
    const size_t length = CharacterLength(charset.layout, bytes, at);
    const Override* entry = FindOverride(charset.overrides, bytes.substr(at, length));
    if (entry != nullptr) {
      if (entry->code == kUndefined || !converter.Append(bytes.substr(run, at - run), &out)) {
        return std::nullopt;
      }
      AppendUtf8(entry->code, &out);
      run = at + length;
    }
    at += length;
  }
  if (!converter.Append(bytes.substr(run), &out)) return std::nullopt;
  return out;
}

}  // namespace

std::string_view CharsetName(uint32_t collation) {
  const Charset* charset = CharsetOf(collation);
  return charset == nullptr ? std::string_view() : charset->name;
}

uint32_t CollationOfCharset(std::string_view name) {
  if (name == "utf8") name = kUtf8mb3.name;
  for (const CollationRange& range : kCollations) {
    if (range.charset->name == name) return range.first;
  }
  return 0;
}

uint32_t CharsetMaxBytes(uint32_t collation) {
  const Charset* charset = CharsetOf(collation);
  return charset == nullptr ? 0 : charset->max_bytes;
}

std::optional<std::string> CharsetToUtf8(std::string_view bytes, uint32_t collation) {
  const Charset* charset = CharsetOf(collation);
  if (charset == nullptr) {  // unknown collation: trust bytes that are UTF-8
    if (IsValidUtf8(bytes)) return std::string(bytes);
    return std::nullopt;
  }
  switch (charset->encoding) {
    case Encoding::kUtf8:
      if (IsValidUtf8(bytes)) return std::string(bytes);
      return std::nullopt;
    case Encoding::kLatin1:
      return Latin1ToUtf8(bytes);
    case Encoding::kAsciiOnly:
      if (IsAscii(bytes)) return std::string(bytes);
      return std::nullopt;
    case Encoding::kIconv:
      return IconvToUtf8(bytes, *charset);
    case Encoding::kUcs2:
    case Encoding::kUtf16:
    case Encoding::kUtf16le:
    case Encoding::kUtf32:
      return WideToUtf8(bytes, charset->encoding);
    case Encoding::kBinary:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string Iso88591ToUtf8(std::string_view bytes) {
  std::string out;
  for (char ch : bytes) AppendUtf8(static_cast<uint8_t>(ch), &out);
  return out;
}

}  // namespace ferry::capture::mysql
