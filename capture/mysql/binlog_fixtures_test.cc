// The decoder on real servers' binlogs: MySQL 5.7/8.0 recordings in shared/fixtures (outside the
// project) and our own MariaDB 10.11 recording in testdata/. Expected rows were read off
// `mariadb-binlog -vv --base64-output=decode-rows FILE` (for MySQL 8's TRANSACTION_PAYLOAD, which
// mariadb-binlog cannot read, off the same tool run on the payload's inner events after
// decompressing them by hand) and are asserted exactly.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "capture/mysql/binlog_decoder.h"
#include "capture/mysql/inspect.h"

namespace ferry::capture::mysql {

// From binlog_decoder_test.cc: one readable line per decoded event.
std::string Describe(const DecodedEvent& event);

namespace {

using Lines = std::vector<std::string>;

const std::string kMysqlDir = std::string(FERRY_SHARED_FIXTURES) + "/mysql-binlog/";
const std::string kTestdata = std::string(FERRY_TESTDATA) + "/";

#define SKIP_WITHOUT_FIXTURES()                                                  \
  if (!std::filesystem::is_directory(kMysqlDir)) {                               \
    GTEST_SKIP() << "recorded MySQL binlogs not found at " << kMysqlDir          \
                 << " (shared/fixtures/mysql-binlog sits beside the work tree)"; \
  }

struct Decoded {
  Lines lines;
  Status status = Status::Ok();
  std::map<std::string, int> counts;  // by first word: begin, commit, insert, ...
  std::string file;                   // where the decoder ended: file and next position
  uint64_t next_position = 0;
};

// Decodes whole files in order with one decoder, as a reader following rotations would.
Decoded DecodeFiles(const std::vector<std::string>& paths, const std::string& engine) {
  Decoded out;
  DecoderOptions options;
  options.engine = engine;
  options.file = std::filesystem::path(paths.front()).filename();
  BinlogDecoder decoder(options);
  for (const std::string& path : paths) {
    out.status = ReadBinlogFile(path, [&](std::string_view event) {
      return decoder.DecodeTo(event, [&](DecodedEvent&& decoded) {
        out.lines.push_back(Describe(decoded));
        ++out.counts[out.lines.back().substr(0, out.lines.back().find(' '))];
        return Status::Ok();
      });
    });
    if (!out.status.ok()) break;
  }
  out.file = decoder.file();
  out.next_position = decoder.next_position();
  return out;
}

Decoded DecodeFile(const std::string& path, const std::string& engine) {
  return DecodeFiles({path}, engine);
}

// The lines from the first that starts with `first` on, `n` of them.
Lines Slice(const Lines& lines, const std::string& first, size_t n) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(first, 0) == 0) {
      return Lines(lines.begin() + i, lines.begin() + std::min(lines.size(), i + n));
    }
  }
  return {"no line starts with: " + first};
}

TEST(BinlogFixturesTest, Checksum32MySql57) {
  SKIP_WITHOUT_FIXTURES();
  // MySQL 5.7.21, CRC32 on every event, anonymous GTIDs (so file positions), 60 transactions of
  // WRITE/UPDATE/DELETE_ROWS v2, ending in a ROTATE to mysql-bin.000002.
  const std::string path = kMysqlDir + "mysql-bin.checksum-crc32";
  DecoderOptions options;
  options.engine = "mysql";
  options.file = "mysql-bin.checksum-crc32";
  BinlogDecoder decoder(options);
  Lines lines;
  ASSERT_TRUE(ReadBinlogFile(path, [&](std::string_view event) {
                return decoder.DecodeTo(event, [&](DecodedEvent&& decoded) {
                  lines.push_back(Describe(decoded));
                  return Status::Ok();
                });
              }).ok());
  EXPECT_EQ(decoder.file(), "mysql-bin.000002");  // the ROTATE at the end
  EXPECT_EQ(decoder.next_position(), 4u);
  const Decoded decoded = DecodeFile(path, "mysql");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  EXPECT_EQ(decoded.lines, lines);
  EXPECT_EQ(decoded.counts, (std::map<std::string, int>{{"begin", 60},
                                                        {"commit", 60},
                                                        {"relation", 17},
                                                        {"insert", 34},
                                                        {"update", 23},
                                                        {"delete", 6}}));
  // The first transaction: INT, VARCHAR, BIGINT, TIMESTAMP2 (UTC), TINYINT.
  EXPECT_EQ(
      Slice(lines, "begin file:mysql-bin.checksum-crc32:154 ", 4),
      (Lines{"begin file:mysql-bin.checksum-crc32:154 t=1525422719 xid=0",
             "relation 1 simu_file_dev.folder @1*,@2*,@3*,@4*,@5*,@6*,@7*,@8*,@9*,@10*,@11*,@12*",
             "insert 1 (12300113, 'test2', '/', 116103, tstz:2018-05-04 08:31:59+00, 906703, 0, 0, "
             "0, tstz:2018-05-04 08:31:59+00, 0, 12200009)",
             "commit file:mysql-bin.checksum-crc32:154 t=1525422719"}));
  // UPDATE v2 with a multi-byte name and DOUBLE.
  EXPECT_EQ(
      Slice(lines, "begin file:mysql-bin.checksum-crc32:2096 ", 3),
      (Lines{
          "begin file:mysql-bin.checksum-crc32:2096 t=1525426069 xid=0",
          "update 2 (12600330, '陶瓷.jpg', '/', 130607, 0, "
          "'affair/130607/files/7JoDL5Ct4/Balance(magazine)-04-2.3.001-bigpicture_04_2.jpg', "
          "920914, tstz:2018-05-04 09:27:33+00, f:449847, 0, 0, 1, 0, tstz:2018-05-04 09:27:33+00, "
          "920914, 0, 12000005) -> (12600330, '陶瓷.jpg', '/12300105/', 130607, 12300105, "
          "'affair/130607/files/7JoDL5Ct4/Balance(magazine)-04-2.3.001-bigpicture_04_2.jpg', "
          "920914, tstz:2018-05-04 09:27:33+00, f:449847, 0, 0, 1, 0, tstz:2018-05-04 09:27:33+00, "
          "920914, 0, 12000005)",
          "commit file:mysql-bin.checksum-crc32:2096 t=1525426069"}));
  EXPECT_EQ(
      Slice(lines, "delete 2 (12600333,", 1),
      (Lines{"delete 2 (12600333, 'IMG_0084.JPG', '/12300106/', 970303, 12300106, "
             "'affair/970303/files/Mrb2kfOv4/IMG_0084.JPG', 1771703, tstz:2018-05-04 11:09:53+00, "
             "f:1726649, 1, 0, 1, 2, tstz:2018-05-04 11:14:10+00, 1771703, 0, 12200003)"}));
  // A TEXT column: without binlog_row_metadata=FULL a TEXT is a BLOB to the binlog, so bytes
  // (here the UTF-8 of 'zxff zxff 添加成员 zxfff 加入事务 zxff的事务').
  EXPECT_EQ(
      Slice(lines, "insert 7 ", 1),
      (Lines{"insert 7 (13700504, 13500016, 12100007, "
             "x'"
             "7a786666207a78666620e6b7bbe58aa0e68890e59198207a7866666620e58aa0e585a5e4ba8be58aa1207"
             "a786666e79a84e4ba8be58aa1', 1005, 0, tstz:2018-05-04 11:35:51+00, 0, 0)"}));
  // NEWDECIMAL(17,2) and (15,2).
  EXPECT_EQ(
      Slice(lines, "insert 15 ", 1),
      (Lines{
          "insert 15 (13500014, 0.00, 13500110, 13100009, 13600306, 0, '', 'CNY', 'yan闫庆庆', 0, "
          "tstz:2018-05-04 11:42:33+00, tstz:2018-05-04 11:42:33+00, 0.00, 2, 0, 13500013)"}));
  EXPECT_EQ(Slice(lines, "begin file:mysql-bin.checksum-crc32:27572 ", 3),
            (Lines{"begin file:mysql-bin.checksum-crc32:27572 t=1525435531 xid=0",
                   "insert 1 (12300116, 'OPPO呢', '/', 130607, tstz:2018-05-04 12:05:31+00, "
                   "920914, 0, 0, 0, tstz:2018-05-04 12:05:31+00, 0, 12000005)",
                   "commit file:mysql-bin.checksum-crc32:27572 t=1525435531"}));
}

TEST(BinlogFixturesTest, ChecksumNoneMySql57) {
  SKIP_WITHOUT_FIXTURES();
  // MySQL 5.7.20 without checksums: DDL, WRITE/UPDATE_ROWS v2, DATETIME, CHAR, and a STOP.
  const Decoded decoded = DecodeFile(kMysqlDir + "mysql-bin.checksum-none", "mysql");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  EXPECT_EQ(decoded.counts, (std::map<std::string, int>{{"begin", 36},
                                                        {"commit", 36},
                                                        {"ddl", 4},
                                                        {"relation", 4},
                                                        {"insert", 34},
                                                        {"update", 2}}));
  EXPECT_EQ(
      Slice(decoded.lines, "ddl account_db: CREATE DATABASE", 11),
      (Lines{"ddl account_db: CREATE DATABASE IF NOT EXISTS account_db default charset utf8 "
             "COLLATE utf8_general_ci",
             "ddl account_db: create table account (id CHAR(36) not null, created_at DATETIME not "
             "null, updated_at DATETIME, country_code VARCHAR(16), lang VARCHAR(16), mobile "
             "VARCHAR(36), nickname VARCHAR(200), password VARCHAR(36), username VARCHAR(200), "
             "primary key (id)) ENGINE=InnoDB",
             "ddl account_db: create table refresh_token (id CHAR(36) not null, created_at "
             "DATETIME not null, updated_at DATETIME, account_id VARCHAR(36), is_enable TINYINT(1) "
             "UNSIGNED, refresh_token VARCHAR(2000), primary key (id)) ENGINE=InnoDB",
             "begin file:mysql-bin.checksum-none:1138 t=1540893729 xid=0",
             "relation 1 account_db.account @1*,@2*,@3*,@4*,@5*,@6*,@7*,@8*,@9*",
             "insert 1 ('42b0a771-9345-4b19-b503-d51b5fff30ef', ts:2018-10-30 18:02:09, "
             "ts:2018-10-30 18:02:09, '086', 'zh-cn', '18888888888', 'test_nickname', "
             "'14e1b600b1fd579f47433b88e8d85291', 'test_user_name')",
             "commit file:mysql-bin.checksum-none:1138 t=1540893729",
             "begin file:mysql-bin.checksum-none:1544 t=1540895506 xid=0",
             "relation 2 account_db.refresh_token @1*,@2*,@3*,@4*,@5*,@6*",
             "insert 2 ('9812c919-4193-4163-8fef-decfad5d6916', ts:2018-10-30 18:31:47, "
             "ts:2018-10-30 18:31:47, '42b0a771-9345-4b19-b503-d51b5fff30ef', 1, "
             "'eyJhbGciOiJSUzI1NiJ9."
             "eyJqdGkiOiJqd3QiLCJpYXQiOjE1NDA4OTU1MDYsInN1YiI6IntcImFjY291bnRJZFwiOlwiNDJiMGE3NzEtO"
             "TM0NS00YjE5LWI1MDMtZDUxYjVmZmYzMGVmXCIsXCJsYW5nXCI6XCJ6aC1jblwiLFwibmlja25hbWVcIjpcIn"
             "Rlc3Rfbmlja25hbWVcIn0iLCJpc3MiOiJqd3RfaXNzdWVyIiwiZXhwIjoxNTQyMzY2NzM1fQ.JF-"
             "RTZ2zKOlsdi8RlBWxbZOaow4R7e7xM89j3NwQ_l3CMHFFvEZSA46K4sHJNU-zyXRd7_"
             "D8I4u6ItSUdQoCGYzemeJ7PcT1ZIEeiNb2LfmeZWaD591bnZJFgMi_"
             "zs3kXG1KONaGsHgvse8LezKZXjuKczPczo_UvOBQlzByOsz50CTLZqG7zYX5LHF0U7ZcwTrSA8wWcwhb6n_"
             "mvKy6S8o5py0HFw-MHc1uvPZXKv3ssjJBYJjd6LIyZi3iSfiXutFFpjH-3Gx1w4rDFYxmCJzGNkYJ4R8H-"
             "46ot3oLtBRn6rAth3l3j-XuhRBxj3TKKnROrrGsv_vd0LLgLy7WYN3z-"
             "ZGrD7ishsSBce5ypXGSzqSnyc4H4GYR_AmsSjr6kn_5XHNV2gzXMBvowMJ1c8p9vevserTotGfl73k2zz-"
             "cUnXJqx5kLRUUjWrx1Ns_rBy0ql1DPqpyuPFPWPBND-0wJ4F2DgWI9uGO75eEfAXdSrmDyUc05s_AgQ0wz-"
             "NoS69aBw2oWEI0Bv5ubiLTdvCt0LpvWVPY1p0JljWJFQvFJsjcjXqiywaInbaCS3lL4FbFZY3_"
             "Rs4YsMmj5OicEu_7_9aT05Qjkn06Kv7kAZrdJYMcQXTm0k2wUgbWC_eJ2GH3zFSRy3d_8rvb0-"
             "5iy6ZHIN1lR4L1FDIYyNqrdA4')",
             "commit file:mysql-bin.checksum-none:1544 t=1540895506"}));
  EXPECT_EQ(Slice(decoded.lines, "begin file:mysql-bin.checksum-none:37210 ", 4),
            (Lines{"begin file:mysql-bin.checksum-none:37210 t=1541473983 xid=0",
                   "relation 4 meeteam_file_storage.meeteam_fs_storage "
                   "@1*,@2*,@3*,@4*,@5*,@6*,@7*,@8*,@9*,@10*",
                   "insert 4 ('7f4545f7-6ed0-4b18-8560-acf4e300e2bd', ts:2018-11-06 11:13:04, "
                   "ts:2018-11-06 11:13:04, NULL, 66499413, 'a43ca46da303ad2ffc7419bc2ffe4bac', "
                   "'/file_key_3O9A3957.jpg', 0, 1, NULL)",
                   "commit file:mysql-bin.checksum-none:37210 t=1541473983"}));
}

TEST(BinlogFixturesTest, AuroraPaddingIsSkipped) {
  SKIP_WITHOUT_FIXTURES();
  // Aurora's event type 100 is flagged ignorable; the file ends after a BEGIN, so no transaction
  // completes and nothing is emitted.
  const Decoded decoded = DecodeFile(kMysqlDir + "mysql-bin.aurora-padding", "mysql");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  EXPECT_EQ(decoded.lines, Lines{});
}

TEST(BinlogFixturesTest, TransactionPayloadMySql8) {
  SKIP_WITHOUT_FIXTURES();
  // MySQL 8.0.28 binlog_transaction_compression: QUERY, TABLE_MAP, UPDATE_ROWS v2 and XID inside
  // one zstd TRANSACTION_PAYLOAD, positioned at its ANONYMOUS_GTID.
  const Decoded decoded = DecodeFile(kMysqlDir + "mysql-bin.compressed", "mysql");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  EXPECT_EQ(
      decoded.lines,
      (Lines{"begin file:mysql-bin.compressed:157 t=1646406641 xid=0",
             "relation 1 demo.movies @1*,@2*,@3*,@4*,@5*,@6*,@7*,@8*,@9*,@10*,@11*",
             "update 1 (1, 'Once Upon a Time in the West', 1968, 'Italy', 'Western', 'Claudia "
             "Cardinale|Charles Bronson|Henry Fonda|Gabriele Ferzetti|Frank Wolff|Al Mulock|Jason "
             "Robards|Woody Strode|Jack Elam|Lionel Stander|Paolo Stoppa|Keenan Wynn|Aldo "
             "Sambrell', 'Sergio Leone', 'Ennio Morricone', 'Sergio Leone|Sergio Donati|Dario "
             "Argento|Bernardo Bertolucci', 'Tonino Delli Colli', 'Paramount Pictures') -> (1, "
             "'Once Upon a Time in the West', 1968, 'Italy', 'Western|Action', 'Claudia "
             "Cardinale|Charles Bronson|Henry Fonda|Gabriele Ferzetti|Frank Wolff|Al Mulock|Jason "
             "Robards|Woody Strode|Jack Elam|Lionel Stander|Paolo Stoppa|Keenan Wynn|Aldo "
             "Sambrell', 'Sergio Leone', 'Ennio Morricone', 'Sergio Leone|Sergio Donati|Dario "
             "Argento|Bernardo Bertolucci', 'Tonino Delli Colli', 'Paramount Pictures')",
             "commit file:mysql-bin.compressed:157 t=1646406641"}));
}

TEST(BinlogFixturesTest, GtidsAndJsonMySql8) {
  SKIP_WITHOUT_FIXTURES();
  // MySQL 8.0.31 with GTIDs: PREVIOUS_GTIDS 1-10, a DDL (11), then two TRANSACTION_PAYLOADs with
  // ROWS_QUERY, a 20-column TABLE_MAP (DATE, TIMESTAMP2, ENUM/SET as ordinals without metadata,
  // BINARY, JSON), UPDATE v2 and WRITE v2.
  const Decoded decoded = DecodeFile(kMysqlDir + "mysql-bin.000057", "mysql");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  EXPECT_EQ(
      decoded.lines,
      (Lines{
          "ddl a: create table b(id int)",
          "begin 76f3e7be-6720-11ed-9cad-0242ac110002:1-12 t=1668952358 xid=12",
          "relation 1 a.b @1*", "insert 1 (1)",
          "commit 76f3e7be-6720-11ed-9cad-0242ac110002:1-12 t=1668952358",
          "begin 76f3e7be-6720-11ed-9cad-0242ac110002:1-13 t=1668952413 xid=13",
          "relation 2 a.test_table_3 "
          "@1*,@2*,@3*,@4*,@5*,@6*,@7*,@8*,@9*,@10*,@11*,@12*,@13*,@14*,@15*,@16*,@17*,@18*,@19*,@"
          "20*",
          "update 2 (55555, 'product_item_value_2', date:2022-11-20, 111, 'description_1', "
          "tstz:2022-11-20 13:40:30+00, enum:4, set:8, x'623300', json:{\"c\":1}, "
          "'product_item_2_value', date:2022-11-20, date:2022-11-20, 2222, 'description_3_value', "
          "tstz:2022-11-20 13:40:30+00, date:2022-11-20, 222, 'description_4_value', "
          "tstz:2022-11-20 13:40:30+00) -> (55555, 'product_item_value_2', date:2022-11-20, 111, "
          "'description_1', tstz:2022-11-20 13:40:30+00, enum:4, set:4, x'623300', json:{\"c\":1}, "
          "'product_3_value', date:2022-11-20, date:2022-11-20, 2222, 'description_3_value', "
          "tstz:2022-11-20 13:40:30+00, date:2022-11-20, 222, 'description_4_value', "
          "tstz:2022-11-20 13:40:30+00)",
          "insert 2 (6666, 'product_item_value_2', date:2022-11-20, 111, 'description_1', "
          "tstz:2022-11-20 13:53:32+00, enum:4, set:8, x'623300', json:{\"c\":1}, "
          "'product_item_2_value', date:2022-11-20, date:2022-11-20, 2222, 'description_3_value', "
          "tstz:2022-11-20 13:53:32+00, date:2022-11-20, 222, 'description_4_value', "
          "tstz:2022-11-20 13:53:32+00)",
          "commit 76f3e7be-6720-11ed-9cad-0242ac110002:1-13 t=1668952413"}));
}

TEST(BinlogFixturesTest, DdlAndUtf8mb4MySql57) {
  SKIP_WITHOUT_FIXTURES();
  // MySQL 5.7.40 with GTIDs: DELETE/WRITE v2, DDL groups that only advance the GTID set, and a
  // utf8mb4 table (whose one recorded row holds an empty string: 42-byte event, 0-length value).
  const Decoded decoded = DecodeFile(kMysqlDir + "mysql-bin.000080", "mysql");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  EXPECT_EQ(decoded.lines,
            (Lines{"begin 58cf6502-63db-11ed-8079-0242ac110002:1-53 t=1669270045 xid=53",
                   "relation 1 a.b @1*",
                   "delete 1 (12)",
                   "delete 1 (12)",
                   "commit 58cf6502-63db-11ed-8079-0242ac110002:1-53 t=1669270045",
                   "begin 58cf6502-63db-11ed-8079-0242ac110002:1-54 t=1669270083 xid=54",
                   "delete 1 (12)",
                   "delete 1 (12)",
                   "commit 58cf6502-63db-11ed-8079-0242ac110002:1-54 t=1669270083",
                   "begin 58cf6502-63db-11ed-8079-0242ac110002:1-55 t=1669271856 xid=55",
                   "insert 1 (12)",
                   "commit 58cf6502-63db-11ed-8079-0242ac110002:1-55 t=1669271856",
                   "begin 58cf6502-63db-11ed-8079-0242ac110002:1-56 t=1669271883 xid=56",
                   "insert 1 (12)",
                   "commit 58cf6502-63db-11ed-8079-0242ac110002:1-56 t=1669271883",
                   "ddl a: create table aaa(id int, value int)",
                   "ddl a: create table bbba(id int, value int)",
                   "ddl a: DROP TABLE `bbba` /* generated by server */ {DROP TABLE a.bbba "
                   "at 58cf6502-63db-11ed-8079-0242ac110002:59}",
                   "ddl a: DROP TABLE `aaa` /* generated by server */ {DROP TABLE a.aaa at "
                   "58cf6502-63db-11ed-8079-0242ac110002:60}",
                   "ddl a: CREATE TABLE `emoji` (\n  `id` int(11) NOT NULL,\n  `value` "
                   "varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,\n  "
                   "PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                   "begin 58cf6502-63db-11ed-8079-0242ac110002:1-62 t=1669286059 xid=62",
                   "relation 2 a.emoji @1*,@2*",
                   "insert 2 (2, '')",
                   "commit 58cf6502-63db-11ed-8079-0242ac110002:1-62 t=1669286059"}));
}

// The first `count` events of a binlog file, as their bytes.
std::vector<std::string> FirstEvents(const std::string& path, size_t count) {
  std::vector<std::string> events;
  const Status read = ReadBinlogFile(path, [&](std::string_view event) {
    if (events.size() < count) events.emplace_back(event);
    return Status::Ok();
  });
  EXPECT_TRUE(read.ok()) << read.message();
  return events;
}

// Decodes events with a fresh decoder; the first error, if any.
Status DecodeEvents(const std::vector<std::string>& events, const std::string& engine) {
  DecoderOptions options;
  options.engine = engine;
  BinlogDecoder decoder(options);
  for (const std::string& event : events) FERRY_RETURN_IF_ERROR(decoder.Decode(event).status());
  return Status::Ok();
}

// A server sets LOG_EVENT_BINLOG_IN_USE_F (0x1) in the flags of the FORMAT_DESCRIPTION_EVENT of
// the binlog it is writing after computing that event's checksum, and clears it when it closes
// the file; so a copy of an open binlog has the flag set under a checksum computed without it.
// The recorded files were closed (flag clear): with the flag set their FDE must still decode, a
// damaged FDE must still be refused, and the flag excuses no other event.
TEST(BinlogFixturesTest, FormatDescriptionOfAnOpenBinlogPassesItsChecksum) {
  constexpr size_t kFlagsOffset = 17;                // in the common header
  constexpr size_t kCreateTimeOffset = 19 + 2 + 50;  // in the FDE body: not otherwise checked
  std::vector<std::pair<std::string, std::string>> files = {
      {kTestdata + "mariadb-bin.000001", "mariadb"}};  // MariaDB 10.11
  if (std::filesystem::is_directory(kMysqlDir)) {
    files.emplace_back(kMysqlDir + "mysql-bin.000057", "mysql");  // MySQL 8.0.31
  }
  for (const auto& [path, engine] : files) {
    SCOPED_TRACE(path);
    const std::vector<std::string> events = FirstEvents(path, 2);
    ASSERT_EQ(events.size(), 2u);
    ASSERT_TRUE(DecodeEvents(events, engine).ok());

    std::string in_use = events[0];
    in_use[kFlagsOffset] |= 0x01;
    const Status open = DecodeEvents({in_use, events[1]}, engine);
    EXPECT_TRUE(open.ok()) << open.message();

    std::string damaged = in_use;
    damaged[kCreateTimeOffset] ^= 0x01;
    EXPECT_EQ(
        DecodeEvents({damaged}, engine)
            .message()
            .rfind("FORMAT_DESCRIPTION event (type 15) at offset 4 fails its CRC32 checksum", 0),
        0u)
        << DecodeEvents({damaged}, engine).message();

    std::string other_flagged = events[1];
    other_flagged[kFlagsOffset] |= 0x01;
    EXPECT_NE(
        DecodeEvents({events[0], other_flagged}, engine).message().find("fails its CRC32 checksum"),
        std::string::npos);
  }
}

TEST(BinlogFixturesTest, NonBinlogIsRefused) {
  SKIP_WITHOUT_FIXTURES();
  const std::string path = kMysqlDir + "non-binlog";
  const Decoded decoded = DecodeFile(path, "mysql");
  EXPECT_EQ(decoded.status.message(), "not a binlog file (missing the 0xfe 'bin' magic): " + path);
  std::ostringstream out, err;
  EXPECT_EQ(InspectBinlog(path, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), "ferry inspect binlog: not a binlog file (missing the 0xfe 'bin' magic): " +
                           path + "\n");
}

TEST(BinlogFixturesTest, InspectPrintsTheCompressedTransaction) {
  SKIP_WITHOUT_FIXTURES();
  std::ostringstream out, err;
  ASSERT_EQ(InspectBinlog(kMysqlDir + "mysql-bin.compressed", out, err), 0) << err.str();
  std::istringstream in(out.str());
  Lines lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);
  // MySQL 8's default binlog_row_metadata=MINIMAL logs no column names: said once per table.
  EXPECT_EQ(lines[0].rfind(R"({"note": "table `demo`.`movies`: the binlog does not log)", 0), 0u)
      << lines[0];
  lines.erase(lines.begin());
  EXPECT_EQ(lines[0],
            R"({"begin": {"position":{"engine":"mysql","value":"file:mysql-bin.compressed:157"},)"
            R"("commit_time_us":"1646406641000000"}})");
  EXPECT_EQ(lines[1].rfind(R"({"relation": {"id":1,"schema":"demo","table":"movies",)", 0), 0u);
  EXPECT_EQ(lines[2].rfind(R"({"row": {"op":"UPDATE","relation_id":1,"old_values":[{"int64":"1"},)"
                           R"({"text":"Once Upon a Time in the West"})",
                           0),
            0u)
      << lines[2];
  EXPECT_NE(lines[2].find(R"({"text":"Western|Action"})"), std::string::npos);
  EXPECT_EQ(lines[3].rfind(R"({"commit": )", 0), 0u);
}

TEST(BinlogFixturesTest, InspectEveryFixtureCleanly) {
  SKIP_WITHOUT_FIXTURES();
  for (const auto& entry : std::filesystem::directory_iterator(kMysqlDir)) {
    std::ostringstream out, err;
    const int code = InspectBinlog(entry.path(), out, err);
    const bool refused = entry.path().filename() == "non-binlog";
    EXPECT_EQ(code, refused ? 1 : 0) << entry.path() << ": " << err.str();
  }
}

// Our own MariaDB 10.11 recording (testdata/README.md): GTID, GTID_LIST, BINLOG_CHECKPOINT,
// ANNOTATE_ROWS, QUERY_COMPRESSED, WRITE/UPDATE/DELETE_ROWS_COMPRESSED v1, one plain UPDATE v1,
// binlog_row_metadata=FULL (names, keys, enum/set strings), a second GTID domain, a MyISAM
// group ended by a COMMIT query, a ROTATE into the second file, and an ALTER TABLE.
TEST(BinlogFixturesTest, MariaDb1011AcrossRotation) {
  const Decoded decoded =
      DecodeFiles({kTestdata + "mariadb-bin.000001", kTestdata + "mariadb-bin.000002"}, "mariadb");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  // The server called the files binlog.00000N; the ROTATE at the end of the first names the next.
  EXPECT_EQ(decoded.file, "binlog.000002");
  EXPECT_EQ(decoded.next_position, 1402u);  // after the STOP event that ends the second file
  EXPECT_EQ(
      decoded.lines,
      (Lines{
          "ddl shop: CREATE DATABASE shop",
          "ddl shop: CREATE TABLE items (\n  id INT NOT NULL PRIMARY KEY,\n  qty BIGINT "
          "UNSIGNED,\n  price DECIMAL(10,2),\n  name VARCHAR(64) CHARACTER SET utf8mb4,\n  made "
          "DATETIME(6),\n  seen TIMESTAMP(3) NULL,\n  day DATE,\n  data BLOB,\n  size "
          "ENUM('small','medium','large'),\n  tags SET('a','b','c'),\n  doc JSON\n) ENGINE=InnoDB",
          "ddl shop: CREATE TABLE counters (k VARCHAR(10) NOT NULL PRIMARY KEY, v INT) "
          "ENGINE=MyISAM",
          "begin 0-1-4 t=1795607088 xid=4",
          "relation 1 shop.items id*,qty,price,name,made,seen,day,data,size,tags,doc",
          "insert 1 (1, 18446744073709551615u, -12.50, 'café', ts:2024-02-29 13:45:10.123456, "
          "tstz:2024-02-29 11:45:10.500+00, date:2024-02-29, x'00ff10', enum:small, set:a,c, "
          "'{\"k\": [1, 2]}')",
          "insert 1 (2, NULL, 0.05, 'πλοίο 🚢', ts:1999-12-31 23:59:59.000000, NULL, "
          "date:1000-01-01, NULL, enum:large, set:, NULL)",
          "commit 0-1-4 t=1795607088",
          "begin 0-1-5 t=1795607088 xid=5",
          "update 1 (1, 18446744073709551615u, -12.50, 'café', ts:2024-02-29 13:45:10.123456, "
          "tstz:2024-02-29 11:45:10.500+00, date:2024-02-29, x'00ff10', enum:small, set:a,c, "
          "'{\"k\": [1, 2]}') -> (1, 7u, -12.50, 'coffee', ts:2024-02-29 13:45:10.123456, "
          "tstz:2024-02-29 11:45:10.500+00, date:2024-02-29, x'00ff10', enum:small, set:a,c, "
          "'{\"k\": [1, 2]}')",
          "delete 1 (2, NULL, 0.05, 'πλοίο 🚢', ts:1999-12-31 23:59:59.000000, NULL, "
          "date:1000-01-01, NULL, enum:large, set:, NULL)",
          "commit 0-1-5 t=1795607088",
          "begin 0-1-6 t=1795607088 xid=6",
          "relation 2 shop.counters k*,v",
          "insert 2 ('hits', 1)",
          "commit 0-1-6 t=1795607088",
          "begin 0-1-6,2-1-1 t=1795607088 xid=1",
          "insert 1 (3, NULL, NULL, 'domain two', NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
          "commit 0-1-6,2-1-1 t=1795607088",
          "begin 0-1-7,2-1-1 t=1795607092 xid=7",
          "update 1 (1, 7u, -12.50, 'coffee', ts:2024-02-29 13:45:10.123456, tstz:2024-02-29 "
          "11:45:10.500+00, date:2024-02-29, x'00ff10', enum:small, set:a,c, '{\"k\": [1, 2]}') -> "
          "(1, 7u, 99999999.99, 'coffee', ts:2024-02-29 13:45:10.123456, tstz:2024-02-29 "
          "11:45:10.500+00, date:2024-02-29, x'00ff10', enum:small, set:a,c, '[]')",
          "commit 0-1-7,2-1-1 t=1795607092",
          "begin 0-1-8,2-1-1 t=1795607092 xid=8",
          "insert 1 (4, 0u, NULL, 'after rotate', NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
          "commit 0-1-8,2-1-1 t=1795607092",
          "ddl shop: ALTER TABLE items ADD COLUMN note VARCHAR(20) DEFAULT 'x' AFTER name",
          "begin 0-1-10,2-1-1 t=1795607092 xid=10",
          "relation 3 shop.items id*,qty,price,name,note,made,seen,day,data,size,tags,doc",
          "update 3 (4, 0u, NULL, 'after rotate', 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL) "
          "-> (4, 0u, NULL, 'after rotate', 'changed', NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
          "commit 0-1-10,2-1-1 t=1795607092"}));
}

TEST(BinlogFixturesTest, MariaDbSecondFileAloneTakesItsGtidList) {
  // Read on its own, the second file's GTID_LIST (0-1-7, 2-1-1) completes the positions, and the
  // table needs its relation again.
  const Decoded decoded = DecodeFile(kTestdata + "mariadb-bin.000002", "mariadb");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  ASSERT_GE(decoded.lines.size(), 2u);
  EXPECT_EQ(decoded.lines[0], "begin 0-1-8,2-1-1 t=1795607092 xid=8");
  EXPECT_EQ(decoded.lines[1],
            "relation 1 shop.items id*,qty,price,name,made,seen,day,data,size,tags,doc");
}

}  // namespace
}  // namespace ferry::capture::mysql
