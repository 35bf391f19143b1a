#include "capture/mysql/mysql_charset.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::capture::mysql {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

struct Sample {
  uint32_t collation;
  std::string_view hex;   // what MariaDB 10.11 stores: HEX(CONVERT(_utf8mb4'...' USING cs))
  std::string_view text;  // what CONVERT(column USING utf8mb4) gives back
};

// Each charset's default collation id, bytes recorded from a live server.
const std::vector<Sample>& Samples() {
  static const std::vector<Sample> samples = {
      {9, "5A61BFF3B3E62067EAB66CB1206A61BCF1", "Zażółć gęślą jaźń"},            // latin2
      {26, "50F8ED6C699A209E6C759D6F75E86BFD206BF9F2", "Příliš žluťoučký kůň"},  // cp1250
      {14, "D1FAE5F8FC20E6E520E5F9B8", "Съешь же ещё"},                          // cp1251
      {7, "F0D2C9D7C5D42C20CDC9D2", "Привет, мир"},                              // koi8r
      {22, "BDC1CECFCB209520A7", "Ґанок • ї"},        // koi8u, 0x95 as MySQL maps it
      {25, "CAE1EBE7ECDDF1E120A1", "Καλημέρα ʽ"},     // greek, 0xa1 as ISO-8859-7:1987
      {16, "F9ECE5ED20AF", "שלום ‾"},                 // hebrew, 0xaf as MySQL maps it
      {30, "54FC726BE76520FDF0FE", "Türkçe ığş"},     // latin5
      {20, "C0FE756F6C617320F8", "Ąžuolas ų"},        // latin7
      {57, "E3D1CDC8C7", "مرحبا"},                    // cp1256
      {29, "C0E8E6EBE1F0F8FBFE", "Ąčęėįšųūž"},        // cp1257
      {4, "80612082748220AB", "Ça été ½"},            // cp850
      {40, "9DA264AB20FD", "Łódź ř"},                 // cp852
      {36, "8FE0A8A2A5E220FCFD", "Привет ⁿ²"},        // cp866, 0xfc 0xfd as MySQL maps them
      {39, "4361668E20C620F0", "Café ∆ \uf8ff"},      // macroman, 0xc6 and the Apple logo
      {38, "FC976490", "Łódź"},                       // macce
      {32, "B4B3F1BBF5", "Բարեւ"},                    // armscii8
      {18, "CAC7D1CAB4D5", "สวัสดี"},                   // tis620
      {92, "C2C0CCC0D2E3CFC1C02080", "გამარჯობა €"},  // geostd8
      {10, "5D7361205C62657267", "Åsa Öberg"},        // swe7: its 7-bit bytes are not all ASCII
      {6, "B6616E64C7", "Ñandú"},                     // hp8
      {3, "D1616E64FA", "Ñandú"},                     // dec8
      {28, "D6D0CEC4D7D6B7FB", "中文字符"},           // gbk
      {24, "D6D0CEC4", "中文"},                       // gb2312
      {1, "A4A4A4E520C163C5E9", "中文 繁體"},         // big5
      {13, "82B182F182C982BF82CD5C7EB1815F", "こんにちは\\~ｱ\\"},  // sjis: ASCII stays ASCII
      {95, "8740B1878A5C", "①ｱ㈱\\"},                              // cp932
      {12, "C6FCCBDCB8EC8EB1A1C0", "日本語ｱ\\"},                   // ujis
      {97, "ADA1C6FCCBDC", "①日本"},                               // eucjpms
      {19, "C7D1B1B9BEEE208C63", "한국어 똠"},  // euckr, with a UHC extension character
      {11, "706C61696E", "plain"},              // ascii
      {8, "636166E980", "café€"},               // latin1 is Windows-1252
      {45, "F09F9880C3A9", "😀é"},               // utf8mb4
      {54, "D83DDE0000E9", "😀é"},               // utf16
      {56, "3DD800DEE900", "😀é"},               // utf16le
      {60, "0001F600000000E9", "😀é"},           // utf32
      {35, "00E920AC", "é€"},                   // ucs2
  };
  return samples;
}

TEST(CharsetToUtf8, EveryCharsetGivesTheTextTheServerReads) {
  for (const Sample& sample : Samples()) {
    std::optional<std::string> text = CharsetToUtf8(Unhex(sample.hex), sample.collation);
    ASSERT_TRUE(text.has_value()) << CharsetName(sample.collation) << " " << sample.hex;
    EXPECT_EQ(*text, sample.text) << CharsetName(sample.collation) << " " << sample.hex;
  }
}

TEST(CharsetToUtf8, OtherCollationsOfACharsetConvertAlike) {
  // latin2_bin, cp1251_general_cs, gbk_bin, sjis_bin, the NO PAD variants (base + 1024).
  EXPECT_EQ(CharsetToUtf8(Unhex("B3F364"), 77), "łód");
  EXPECT_EQ(CharsetToUtf8(Unhex("B3F364"), 1024 + 9), "łód");
  EXPECT_EQ(CharsetToUtf8(Unhex("D1FAE5F8FC"), 52), "Съешь");
  EXPECT_EQ(CharsetToUtf8(Unhex("D6D0CEC4"), 87), "中文");
  EXPECT_EQ(CharsetToUtf8(Unhex("82B1"), 88), "こ");
}

TEST(CharsetToUtf8, BytesWithoutTextInTheirCharsetGiveNone) {
  const struct {
    uint32_t collation;
    std::string_view hex;
    const char* why;
  } cases[] = {
      {26, "6181", "cp1250 leaves 0x81 unassigned"},
      {57, "618A", "MySQL's cp1256 predates 0x8a"},
      {25, "AA", "MySQL's greek has no 0xaa"},
      {92, "E6", "geostd8 has no 0xe6"},
      {10, "7F", "swe7 has no 0x7f"},
      {18, "A0", "MySQL's tis620 has no 0xa0"},
      {28, "D67F", "gbk: not a character"},
      {28, "D6", "gbk: cut mid-character"},
      {13, "82", "sjis: cut mid-character"},
      {1, "A4A4C840", "big5 has nothing at 0xc840"},
      {1, "C6E7", "big5 ETEN kana: glibc and MySQL differ, not converted"},
      {12, "F5A1", "ujis user-defined row: glibc has no mapping"},
      {11, "80", "ascii is 7-bit"},
      {37, "61A0", "keybcs2: no converter"},
      {45, "C328", "invalid UTF-8 in utf8mb4"},
      {54, "D83D", "utf16: a lone high surrogate"},
      {63, "616263", "binary is never text"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(CharsetToUtf8(Unhex(c.hex), c.collation), std::nullopt) << c.why;
  }
}

TEST(CharsetToUtf8, AsciiIsTextInAsciiCompatibleCharsets) {
  for (uint32_t collation : {1u, 9u, 13u, 28u, 12u, 37u, 248u}) {
    EXPECT_EQ(CharsetToUtf8("a\\b~", collation), "a\\b~") << CharsetName(collation);
  }
  EXPECT_EQ(CharsetToUtf8("a[b", 10), "aÄb");  // not swe7
}

TEST(CharsetToUtf8, UnknownCollationsTrustUtf8Only) {
  EXPECT_EQ(CharsetToUtf8("é", 0), "é");
  EXPECT_EQ(CharsetToUtf8(Unhex("E9"), 0), std::nullopt);
  EXPECT_EQ(CharsetToUtf8("é", 5000), "é");
}

TEST(CharsetName, CollationIdsOfBothServers) {
  EXPECT_EQ(CharsetName(2), "latin2");
  EXPECT_EQ(CharsetName(51), "cp1251");
  EXPECT_EQ(CharsetName(255), "utf8mb4");   // MySQL 8 utf8mb4_0900_ai_ci
  EXPECT_EQ(CharsetName(309), "utf8mb4");   // MySQL 8 utf8mb4_0900_bin
  EXPECT_EQ(CharsetName(1033), "latin2");   // MariaDB latin2_general_nopad_ci
  EXPECT_EQ(CharsetName(2304), "utf8mb4");  // MariaDB utf8mb4_uca1400_ai_ci
  EXPECT_EQ(CharsetName(2816), "utf16");    // MariaDB utf16_uca1400_ai_ci
  EXPECT_EQ(CharsetName(17), "");           // unused
  EXPECT_EQ(CharsetName(0), "");
  EXPECT_EQ(CharsetMaxBytes(12), 3u);  // ujis
  EXPECT_EQ(CharsetMaxBytes(0), 0u);
}

TEST(CollationOfCharset, NamesMapToACollationOfThatCharset) {
  for (std::string_view name :
       {"big5",    "dec8",    "cp850",   "hp8",     "koi8r",   "latin1",   "latin2",
        "swe7",    "ascii",   "ujis",    "sjis",    "hebrew",  "tis620",   "euckr",
        "koi8u",   "gb2312",  "greek",   "cp1250",  "gbk",     "latin5",   "armscii8",
        "utf8mb3", "ucs2",    "cp866",   "keybcs2", "macce",   "macroman", "cp852",
        "latin7",  "utf8mb4", "cp1251",  "utf16",   "utf16le", "cp1256",   "cp1257",
        "utf32",   "binary",  "geostd8", "cp932",   "eucjpms", "gb18030"}) {
    uint32_t collation = CollationOfCharset(name);
    EXPECT_NE(collation, 0u) << name;
    EXPECT_EQ(CharsetName(collation), name);
  }
  EXPECT_EQ(CollationOfCharset("utf8"), 33u);  // older servers' name of utf8mb3
  EXPECT_EQ(CollationOfCharset("binary"), kBinaryCollation);
  EXPECT_EQ(CollationOfCharset("klingon"), 0u);
}

}  // namespace
}  // namespace ferry::capture::mysql
