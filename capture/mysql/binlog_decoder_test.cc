// BinlogDecoder on hand-built events: every event kind it handles, the transaction and GTID
// bookkeeping, rotation, checksums, and the errors it must give. Row values are only checked
// for INT and VARCHAR here; binlog_fixtures_test.cc checks real servers' rows exactly.
#include "capture/mysql/binlog_decoder.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "capture/mysql/inspect.h"
#include "capture/mysql/mysql_charset.h"

namespace ferry::capture::mysql {

// Shared with binlog_fixtures_test.cc: one line per decoded event, e.g.
//   begin 0-1-5 t=1700000000 xid=5 | relation 1 shop.items id*,name | insert 1 (1, 'a')
//   update 1 (1, 'a') -> (1, 'b') | delete 1 key-only (1, NULL) | commit 0-1-5 t=1700000000
//   ddl shop: CREATE TABLE t (a INT) | heartbeat 0-1-5 | truncate 2
//   ddl s: DROP TABLE x {DROP TABLE s.x at 0-1-7}   (a statement that changes rows)
std::string DescribeValue(const wire::Value& value);
std::string Describe(const DecodedEvent& event);

std::string DescribeValue(const wire::Value& value) {
  switch (value.kind_case()) {
    case wire::Value::kNull:
      return "NULL";
    case wire::Value::kUnchanged:
      return "-";
    case wire::Value::kInt64:
      return std::to_string(value.int64());
    case wire::Value::kUint64:
      return std::to_string(value.uint64()) + "u";
    case wire::Value::kText:
      return "'" + value.text() + "'";
    case wire::Value::kDecimal:
      return value.decimal();
    case wire::Value::kFloat64: {
      std::ostringstream text;
      text.precision(17);
      text << "f:" << value.float64();
      return text.str();
    }
    case wire::Value::kDate:
      return "date:" + value.date();
    case wire::Value::kTime:
      return "time:" + value.time();
    case wire::Value::kTimestamp:
      return "ts:" + value.timestamp();
    case wire::Value::kTimestampTz:
      return "tstz:" + value.timestamp_tz();
    case wire::Value::kJson:
      return "json:" + value.json();
    case wire::Value::kEnumValue:
      return "enum:" + value.enum_value();
    case wire::Value::kSetValue:
      return "set:" + value.set_value();
    case wire::Value::kBytes: {
      std::string hex = "x'";
      for (unsigned char c : value.bytes()) {
        static constexpr char kDigits[] = "0123456789abcdef";
        hex += kDigits[c >> 4];
        hex += kDigits[c & 15];
      }
      return hex + "'";
    }
    default:
      return value.ShortDebugString();
  }
}

namespace {
std::string DescribeValues(const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  std::string text = "(";
  for (int i = 0; i < values.size(); ++i) text += (i ? ", " : "") + DescribeValue(values[i]);
  return text + ")";
}

std::string DescribeRow(const wire::RowChange& row) {
  const std::string id = " " + std::to_string(row.relation_id()) + " ";
  const std::string key_only = row.old_is_key_only() ? "key-only " : "";
  switch (row.op()) {
    case wire::RowChange::INSERT:
      return "insert" + id + DescribeValues(row.new_values());
    case wire::RowChange::UPDATE:
      return "update" + id + key_only + DescribeValues(row.old_values()) + " -> " +
             DescribeValues(row.new_values());
    case wire::RowChange::DELETE:
      return "delete" + id + key_only + DescribeValues(row.old_values());
    case wire::RowChange::TRUNCATE:
      return "truncate" + id.substr(0, id.size() - 1);
    default:
      return "row? " + row.ShortDebugString();
  }
}
}  // namespace

std::string Describe(const DecodedEvent& event) {
  if (const Ddl* ddl = std::get_if<Ddl>(&event)) {
    std::string text = "ddl " + ddl->schema + ": " + ddl->statement;
    if (ddl->effect.kind == StatementEffect::Kind::kNone) return text;
    text += " {" + ddl->effect.summary;
    for (const StatementTable& table : ddl->effect.tables) {
      text += " " + table.schema + "." + table.table;
    }
    return text + " at " + ddl->at + "}";
  }
  const SourceEvent& source = std::get<SourceEvent>(event);
  if (auto* begin = std::get_if<wire::Begin>(&source)) {
    return "begin " + begin->position().value() +
           " t=" + std::to_string(begin->commit_time_us() / 1000000) +
           " xid=" + std::to_string(begin->xid());
  }
  if (auto* commit = std::get_if<wire::Commit>(&source)) {
    return "commit " + commit->position().value() +
           " t=" + std::to_string(commit->commit_time_us() / 1000000);
  }
  if (auto* relation = std::get_if<wire::Relation>(&source)) {
    std::string text = "relation " + std::to_string(relation->id()) + " " + relation->schema() +
                       "." + relation->table() + " ";
    for (int i = 0; i < relation->columns_size(); ++i) {
      text +=
          (i ? "," : "") + relation->columns(i).name() + (relation->columns(i).key() ? "*" : "");
    }
    return text;
  }
  if (auto* row = std::get_if<wire::RowChange>(&source)) return DescribeRow(*row);
  if (auto* heartbeat = std::get_if<SourceHeartbeat>(&source)) {
    return "heartbeat " + heartbeat->head.value() +
           " t=" + std::to_string(heartbeat->source_time_us / 1000000);
  }
  return "?";
}

namespace {

// ---- building events ---------------------------------------------------------------------------

enum : uint8_t {
  kQuery = 2,
  kStop = 3,
  kRotate = 4,
  kFde = 15,
  kXid = 16,
  kTableMap = 19,
  kWriteV1 = 23,
  kUpdateV1 = 24,
  kDeleteV1 = 25,
  kIncident = 26,
  kHeartbeat = 27,
  kRowsQuery = 29,
  kWriteV2 = 30,
  kUpdateV2 = 31,
  kDeleteV2 = 32,
  kGtid = 33,
  kAnonymousGtid = 34,
  kPreviousGtids = 35,
  kXaPrepare = 38,
  kPayload = 40,
  kAnnotateRows = 160,
  kCheckpoint = 161,
  kMariaGtid = 162,
  kGtidList = 163,
  kQueryCompressed = 165,
  kWriteCompressedV1 = 166,
  kUpdateCompressedV1 = 167,
  kDeleteCompressedV1 = 168,
  kWriteCompressedV2 = 169,
  kUpdateCompressedV2 = 170,
  kDeleteCompressedV2 = 171,
};

constexpr uint32_t kTime = 1700000000;
constexpr int kInt = 3, kVarchar = 15;

std::string Le(uint64_t value, size_t width) {
  std::string bytes;
  for (size_t i = 0; i < width; ++i) bytes += static_cast<char>(value >> (8 * i) & 0xff);
  return bytes;
}

std::string Packed(uint64_t value) {
  if (value < 251) return std::string(1, static_cast<char>(value));
  if (value < 65536) return "\xfc" + Le(value, 2);
  if (value < (1u << 24)) return "\xfd" + Le(value, 3);
  return "\xfe" + Le(value, 8);
}

uint32_t Crc(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// MariaDB's compressed-binlog format: 0x80|L, L length bytes big-endian, zlib data.
std::string MariaCompress(const std::string& data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  compress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(data.data()),
           data.size());
  out.resize(size);
  std::string header(1, static_cast<char>(0x82));
  header += static_cast<char>(data.size() >> 8);
  header += static_cast<char>(data.size() & 0xff);
  return header + out;
}

const std::string kUuid = "\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62";
const std::string kUuidText = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

struct Col {
  int type;
  uint16_t meta = 0;
};

// Writes events the way a server would: log_pos is the end of each event, and with checksums on
// each ends in its CRC32.
class Binlog {
 public:
  Binlog(bool mariadb, bool checksum, std::string file = "bin.000001")
      : mariadb_(mariadb), checksum_(checksum), file_(std::move(file)) {}

  uint64_t offset() const { return offset_; }
  const std::string& file() const { return file_; }

  std::string Event(uint8_t type, const std::string& body, uint16_t flags = 0,
                    uint32_t timestamp = kTime, uint32_t server_id = 1) {
    const uint32_t size = 19 + body.size() + (checksum_ ? 4 : 0);
    std::string event = Le(timestamp, 4) + static_cast<char>(type) + Le(server_id, 4) +
                        Le(size, 4) + Le(offset_ + size, 4) + Le(flags, 2) + body;
    if (checksum_) event += Le(Crc(event), 4);
    offset_ += size;
    return event;
  }
  // An event as it sits inside a TRANSACTION_PAYLOAD: no checksum, log_pos 0.
  static std::string Inner(uint8_t type, const std::string& body) {
    return Le(kTime, 4) + static_cast<char>(type) + Le(1, 4) + Le(19 + body.size(), 4) + Le(0, 4) +
           Le(0, 2) + body;
  }

  std::string Fde() {
    std::string version = mariadb_ ? "10.11.6-MariaDB-log" : "8.0.31";
    version.resize(50, '\0');
    std::vector<uint8_t> lengths(mariadb_ ? 171 : 41, 0);
    auto set = [&](int type, int length) { lengths[type - 1] = length; };
    set(kQuery, 13);
    set(kRotate, 8);
    set(kFde, 84);
    set(kTableMap, 8);
    for (int t : {kWriteV1, kUpdateV1, kDeleteV1}) set(t, 8);
    for (int t : {kWriteV2, kUpdateV2, kDeleteV2}) set(t, 10);
    set(kGtid, 42);
    set(kAnonymousGtid, 42);
    set(kPayload, 40);  // as MySQL 8 writes it, although the fields start at once
    if (mariadb_) {
      set(kMariaGtid, 19);
      set(kGtidList, 4);
      set(kCheckpoint, 4);
      set(kQueryCompressed, 13);
      for (int t : {kWriteCompressedV1, kUpdateCompressedV1, kDeleteCompressedV1}) set(t, 8);
      for (int t : {kWriteCompressedV2, kUpdateCompressedV2, kDeleteCompressedV2}) set(t, 10);
    }
    std::string body = Le(4, 2) + version + Le(kTime, 4) + "\x13" +
                       std::string(lengths.begin(), lengths.end()) +
                       std::string(1, checksum_ ? '\x01' : '\0');
    if (!checksum_) body += Le(0, 4);  // the FDE's checksum field is there even when off
    offset_ = 4;
    return Event(kFde, body);
  }
  std::string Query(const std::string& db, const std::string& sql, bool compressed = false) {
    const std::string text = compressed ? MariaCompress(sql) : sql;
    return Event(compressed ? kQueryCompressed : kQuery,
                 Le(7, 4) + Le(0, 4) + static_cast<char>(db.size()) + Le(0, 2) + Le(0, 2) + db +
                     '\0' + text);
  }
  std::string Xid(uint64_t xid) { return Event(kXid, Le(xid, 8)); }
  static std::string TableMapBody(uint64_t id, const std::string& schema, const std::string& table,
                                  const std::vector<Col>& cols) {
    std::string types, meta;
    for (const Col& col : cols) {
      types += static_cast<char>(col.type);
      if (col.type == kVarchar) meta += Le(col.meta, 2);
    }
    return Le(id, 6) + Le(1, 2) + static_cast<char>(schema.size()) + schema + '\0' +
           static_cast<char>(table.size()) + table + '\0' + Packed(cols.size()) + types +
           Packed(meta.size()) + meta + std::string((cols.size() + 7) / 8, '\xff');
  }
  std::string TableMap(uint64_t id, const std::string& schema, const std::string& table,
                       const std::vector<Col>& cols) {
    return Event(kTableMap, TableMapBody(id, schema, table, cols));
  }
  // Rows of a table whose columns are all present.
  static std::string RowsBody(uint8_t type, uint64_t id, size_t columns, const std::string& rows,
                              bool compressed = false) {
    const bool v2 = (type >= kWriteV2 && type <= kDeleteV2) || type >= kWriteCompressedV2;
    const bool update = type == kUpdateV1 || type == kUpdateV2 || type == kUpdateCompressedV1 ||
                        type == kUpdateCompressedV2;
    const std::string bitmap((columns + 7) / 8, '\xff');
    return Le(id, 6) + Le(1, 2) + (v2 ? Le(2, 2) : "") + Packed(columns) + bitmap +
           (update ? bitmap : "") + (compressed ? MariaCompress(rows) : rows);
  }
  std::string Rows(uint8_t type, uint64_t id, size_t columns, const std::string& rows) {
    const bool compressed = type >= kWriteCompressedV1;
    return Event(type, RowsBody(type, id, columns, rows, compressed));
  }
  std::string MariaGtid(uint64_t seq, uint32_t domain, uint8_t flags, uint32_t server_id = 1) {
    return Event(kMariaGtid, Le(seq, 8) + Le(domain, 4) + static_cast<char>(flags) + Le(0, 6), 0,
                 kTime, server_id);
  }
  std::string GtidList(const std::vector<std::array<uint64_t, 3>>& gtids) {
    std::string body = Le(gtids.size(), 4);
    for (const auto& [domain, server, seq] : gtids) {
      body += Le(domain, 4) + Le(server, 4) + Le(seq, 8);
    }
    return Event(kGtidList, body);
  }
  static std::string MySqlGtidBody(uint64_t gno, bool anonymous = false) {
    return std::string(1, '\x01') + (anonymous ? std::string(16, '\0') : kUuid) + Le(gno, 8) +
           '\x02' + Le(0, 8) + Le(1, 8);
  }
  std::string MySqlGtid(uint64_t gno) { return Event(kGtid, MySqlGtidBody(gno)); }
  std::string AnonymousGtid() { return Event(kAnonymousGtid, MySqlGtidBody(0, true), 0x80); }
  std::string Rotate(uint64_t position, const std::string& name, bool fake = false) {
    std::string event = fake ? Event(kRotate, Le(position, 8) + name, 0x20, 0)
                             : Event(kRotate, Le(position, 8) + name);
    if (fake) {  // log_pos 0 (and so a fresh checksum)
      event.replace(13, 4, Le(0, 4));
      if (checksum_)
        event.replace(event.size() - 4, 4, Le(Crc(event.substr(0, event.size() - 4)), 4));
    }
    if (!fake) offset_ = position;
    return event;
  }

 private:
  bool mariadb_;
  bool checksum_;
  std::string file_;
  uint64_t offset_ = 4;
};

// One row image of a table (id INT, name VARCHAR(20)) with both columns present.
std::string Row(int32_t id, std::optional<std::string> name) {
  std::string image(1, name ? '\0' : '\x02');
  image += Le(static_cast<uint32_t>(id), 4);
  if (name) image += static_cast<char>(name->size()) + *name;
  return image;
}

const std::vector<Col> kItems = {{kInt}, {kVarchar, 80}};

DecoderOptions Options(const std::string& engine, const std::string& file = "bin.000001",
                       const std::string& gtid_state = "") {
  DecoderOptions options;
  options.engine = engine;
  options.file = file;
  options.gtid_state = gtid_state;
  return options;
}

// Decodes each event in order; returns the descriptions of everything decoded, or the first
// error as "error: ...".
std::vector<std::string> Feed(BinlogDecoder& decoder, const std::vector<std::string>& events) {
  std::vector<std::string> lines;
  for (const std::string& event : events) {
    Result<std::vector<DecodedEvent>> decoded = decoder.Decode(event);
    if (!decoded.ok()) {
      lines.push_back("error: " + decoded.message());
      break;
    }
    for (const DecodedEvent& e : *decoded) lines.push_back(Describe(e));
  }
  return lines;
}

using Lines = std::vector<std::string>;

// ---- transactions ------------------------------------------------------------------------------

TEST(BinlogDecoderTest, MariaDbTransactionWithChecksums) {
  Binlog b(true, true);
  BinlogDecoder decoder(Options("mariadb"));
  const std::vector<std::string> head = {b.Fde(), b.GtidList({}),
                                         b.Event(kCheckpoint, Le(10, 4) + "bin.000001")};
  const uint64_t gtid_at = b.offset();
  std::vector<std::string> events = head;
  for (std::string e : {b.MariaGtid(5, 0, 0x0c), b.Query("shop", "BEGIN"),
                        b.Event(kAnnotateRows, "INSERT INTO items VALUES (1,'a'),(2,NULL)"),
                        b.TableMap(18, "shop", "items", kItems),
                        b.Rows(kWriteV1, 18, 2, Row(1, "a") + Row(2, std::nullopt)), b.Xid(99)}) {
    events.push_back(e);
  }
  EXPECT_EQ(Feed(decoder, events),
            (Lines{"begin 0-1-5 t=1700000000 xid=5", "relation 1 shop.items @1*,@2*",
                   "insert 1 (1, 'a')", "insert 1 (2, NULL)", "commit 0-1-5 t=1700000000"}));
  EXPECT_GT(b.offset(), gtid_at);
  EXPECT_EQ(decoder.next_position(), b.offset());
  EXPECT_EQ(decoder.file(), "bin.000001");
}

TEST(BinlogDecoderTest, PositionsCarryTheEngineTag) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  std::vector<wire::Position> positions;
  for (const std::string& e :
       {b.Fde(), b.MariaGtid(1, 0, 0), b.Query("s", "BEGIN"), b.TableMap(1, "s", "t", kItems),
        b.Rows(kWriteV1, 1, 2, Row(1, "x")), b.Xid(1)}) {
    Result<std::vector<DecodedEvent>> decoded = decoder.Decode(e);
    ASSERT_TRUE(decoded.ok()) << decoded.message();
    for (const DecodedEvent& d : *decoded) {
      const SourceEvent& s = std::get<SourceEvent>(d);
      if (auto* begin = std::get_if<wire::Begin>(&s)) positions.push_back(begin->position());
      if (auto* commit = std::get_if<wire::Commit>(&s)) positions.push_back(commit->position());
    }
  }
  ASSERT_EQ(positions.size(), 2u);
  EXPECT_EQ(positions[0].engine(), "mariadb");
  EXPECT_EQ(positions[0].SerializeAsString(), positions[1].SerializeAsString());
}

TEST(BinlogDecoderTest, UpdateAndDeleteV2WithoutChecksums) {
  Binlog b(false, false);
  BinlogDecoder decoder(Options("mysql"));
  Lines lines = Feed(decoder, {b.Fde()});
  const uint64_t gtid_at = b.offset();
  lines = Feed(decoder, {b.AnonymousGtid()});
  lines = Feed(decoder, {b.Query("shop", "BEGIN"), b.TableMap(7, "shop", "items", kItems),
                         b.Rows(kUpdateV2, 7, 2, Row(1, "a") + Row(1, "b")),
                         b.Rows(kDeleteV2, 7, 2, Row(2, std::nullopt)), b.Xid(3)});
  const std::string at = "file:bin.000001:" + std::to_string(gtid_at);  // the GTID event
  EXPECT_EQ(lines, (Lines{"begin " + at + " t=1700000000 xid=0", "relation 1 shop.items @1*,@2*",
                          "update 1 (1, 'a') -> (1, 'b')", "delete 1 (2, NULL)",
                          "commit " + at + " t=1700000000"}));
}

TEST(BinlogDecoderTest, FilePositionIsTheFirstEventOfTheTransaction) {
  // No GTID events at all (MySQL 5.5 style): the group starts at BEGIN.
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql", "mysql-bin.000042"));
  Feed(decoder, {b.Fde()});
  const std::string at = "file:mysql-bin.000042:" + std::to_string(b.offset());
  EXPECT_EQ(Feed(decoder, {b.Query("d", "BEGIN"), b.TableMap(1, "d", "t", kItems),
                           b.Rows(kWriteV2, 1, 2, Row(1, "x")), b.Xid(1)}),
            (Lines{"begin " + at + " t=1700000000 xid=0", "relation 1 d.t @1*,@2*",
                   "insert 1 (1, 'x')", "commit " + at + " t=1700000000"}));
}

TEST(BinlogDecoderTest, EmptyAndDdlOnlyTransactionsOnlyAdvanceTheState) {
  Binlog b(true, true);
  BinlogDecoder decoder(Options("mariadb"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.MariaGtid(1, 0, 0x21),  // standalone DDL
                           b.Query("shop", "CREATE TABLE t (a INT)"), b.MariaGtid(2, 0, 0x0c),
                           b.Query("shop", "BEGIN"), b.Xid(5),  // empty
                           b.MariaGtid(3, 0, 0), b.Query("shop", "BEGIN"),
                           b.Query("shop", "ROLLBACK")}),  // discarded
            (Lines{"ddl shop: CREATE TABLE t (a INT)"}));
  EXPECT_EQ(Feed(decoder, {b.MariaGtid(4, 0, 0x0c), b.Query("shop", "BEGIN"),
                           b.TableMap(1, "shop", "t", kItems), b.Rows(kWriteV1, 1, 2, Row(1, "x")),
                           b.Xid(6)}),
            (Lines{"begin 0-1-4 t=1700000000 xid=4", "relation 1 shop.t @1*,@2*",
                   "insert 1 (1, 'x')", "commit 0-1-4 t=1700000000"}));
}

TEST(BinlogDecoderTest, CommitQueryEndsANonTransactionalGroup) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.MariaGtid(6, 0, 0), b.Query("shop", "BEGIN"),
                           b.TableMap(22, "shop", "counters", kItems),
                           b.Rows(kWriteV1, 22, 2, Row(1, "hits")), b.Query("shop", "COMMIT")}),
            (Lines{"begin 0-1-6 t=1700000000 xid=6", "relation 1 shop.counters @1*,@2*",
                   "insert 1 (1, 'hits')", "commit 0-1-6 t=1700000000"}));
}

TEST(BinlogDecoderTest, RollbackAfterStreamedRowsCommits) {
  // Only groups that changed non-transactional tables are binlogged with ROLLBACK: the source
  // kept those rows, so the group ends as a commit.
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.MariaGtid(6, 0, 0), b.Query("shop", "BEGIN"),
                           b.TableMap(22, "shop", "counters", kItems),
                           b.Rows(kWriteV1, 22, 2, Row(1, "hits")), b.Query("shop", "ROLLBACK")})
                .back(),
            "commit 0-1-6 t=1700000000");
}

TEST(BinlogDecoderTest, DdlInsideAGroupKeepsItOpen) {
  // MariaDB logs CREATE TABLE ... SELECT as GTID (not standalone), the CREATE, rows, COMMIT.
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.MariaGtid(2, 0, 0x08),
                           b.Query("s", "CREATE TABLE c SELECT 1"), b.TableMap(3, "s", "c", kItems),
                           b.Rows(kWriteV1, 3, 2, Row(1, "x")), b.Query("s", "COMMIT")}),
            (Lines{"ddl s: CREATE TABLE c SELECT 1", "begin 0-1-2 t=1700000000 xid=2",
                   "relation 1 s.c @1*,@2*", "insert 1 (1, 'x')", "commit 0-1-2 t=1700000000"}));
}

TEST(BinlogDecoderTest, SavepointsAreNotDdl) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.MariaGtid(2, 0, 0), b.Query("s", "BEGIN"),
                           b.Query("s", "SAVEPOINT `a`"), b.Query("s", "ROLLBACK TO `a`"),
                           b.Query("s", "COMMIT")}),
            Lines{});
}

TEST(BinlogDecoderTest, RowsOutsideATransactionAreAnError) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  Feed(decoder, {b.Fde(), b.TableMap(1, "s", "t", kItems)});
  const uint64_t at = b.offset();
  EXPECT_EQ(Feed(decoder, {b.Rows(kWriteV1, 1, 2, Row(1, "x"))}),
            (Lines{"error: WRITE_ROWS event at bin.000001:" + std::to_string(at) +
                   " is outside a transaction (no BEGIN or GTID before it)"}));
}

TEST(BinlogDecoderTest, UnfinishedTransactionIsAnError) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  const Lines lines = Feed(decoder, {b.Fde(), b.MariaGtid(2, 0, 0), b.Query("s", "BEGIN"),
                                     b.TableMap(1, "s", "t", kItems),
                                     b.Rows(kWriteV1, 1, 2, Row(1, "x")), b.MariaGtid(3, 0, 0)});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines.back().find("has no commit before the next one"), std::string::npos)
      << lines.back();
}

// ---- relations ---------------------------------------------------------------------------------

TEST(BinlogDecoderTest, RelationOncePerTableAndAgainWhenItChanges) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  Feed(decoder, {b.Fde()});
  auto tx = [&](uint64_t seq, uint64_t table_id, const std::string& table,
                const std::vector<Col>& cols, const std::string& rows) {
    return Feed(decoder, {b.MariaGtid(seq, 0, 0), b.Query("s", "BEGIN"),
                          b.TableMap(table_id, "s", table, cols),
                          b.Rows(kWriteV1, table_id, cols.size(), rows), b.Xid(seq)});
  };
  EXPECT_EQ(tx(1, 18, "a", kItems, Row(1, "x"))[1], "relation 1 s.a @1*,@2*");
  EXPECT_EQ(
      tx(2, 18, "a", kItems, Row(2, "y")),  // same map: no relation
      (Lines{"begin 0-1-2 t=1700000000 xid=2", "insert 1 (2, 'y')", "commit 0-1-2 t=1700000000"}));
  EXPECT_EQ(tx(3, 19, "b", kItems, Row(3, "z"))[1], "relation 2 s.b @1*,@2*");
  // Table id 18 now maps a table with one column: the relation is sent again, same id.
  EXPECT_EQ(tx(4, 18, "a", {{kInt}}, std::string("\0\x05\0\0\0", 5)),
            (Lines{"begin 0-1-4 t=1700000000 xid=4", "relation 1 s.a @1*", "insert 1 (5)",
                   "commit 0-1-4 t=1700000000"}));
}

TEST(BinlogDecoderTest, PartialBeforeImageIsKeyOnly) {
  // binlog_row_image=MINIMAL: the before image holds the key column only.
  Binlog b(false, false);
  BinlogDecoder decoder(Options("mysql"));
  Feed(decoder, {b.Fde(), b.Query("s", "BEGIN"), b.TableMap(1, "s", "t", kItems)});
  const std::string body = Le(1, 6) + Le(1, 2) + Le(2, 2) + Packed(2) + "\x01" + "\x02" +
                           std::string("\0", 1) + Le(1, 4) +       // before: id = 1
                           std::string("\0", 1) + "\x03" + "new";  // after: name = 'new'
  const Lines lines = Feed(decoder, {b.Event(kUpdateV2, body)});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "update 1 key-only (1, NULL) -> (-, 'new')");
}

TEST(BinlogDecoderTest, RowsOfAnUnknownTableAreAnError) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  Feed(decoder, {b.Fde(), b.MariaGtid(1, 0, 0), b.Query("s", "BEGIN")});
  const uint64_t at = b.offset();
  EXPECT_EQ(Feed(decoder, {b.Rows(kWriteV1, 77, 2, Row(1, "x"))}),
            (Lines{"error: WRITE_ROWS event at bin.000001:" + std::to_string(at) +
                   " refers to table id 77, which no TABLE_MAP in this stream defined (a stream "
                   "must start at a transaction boundary)"}));
}

TEST(BinlogDecoderTest, ColumnCountMismatchIsAnError) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  Feed(decoder,
       {b.Fde(), b.MariaGtid(1, 0, 0), b.Query("s", "BEGIN"), b.TableMap(1, "s", "t", kItems)});
  const Lines lines = Feed(decoder, {b.Rows(kWriteV1, 1, 3, Row(1, "x"))});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("it has 3 columns but the TABLE_MAP of `s`.`t` has 2"), std::string::npos)
      << lines[0];
}

TEST(BinlogDecoderTest, TableMapsWithoutMetadataAreCompletedFromTheCatalog) {
  // binlog_row_metadata=NO_LOG: the TABLE_MAP has no names, signedness or charsets; the reader's
  // catalog has them.
  Binlog b(true, false);
  DecoderOptions options = Options("mariadb");
  std::vector<std::string> asked;
  CatalogTable catalog;
  catalog.columns = {{"id", "int", "int(10) unsigned", true, kBinaryCollation, 0},
                     {"name", "varchar", "varchar(80)", false, 9, 80}};  // latin2
  catalog.changed_at = kTime - 60;
  options.catalog = [&](const TableMap& table) -> Result<const CatalogTable*> {
    asked.push_back(table.table);
    if (table.table == "gone") return Status::Error("no such table");
    if (table.table == "other") return nullptr;  // not a table it wants
    return &catalog;
  };
  BinlogDecoder decoder(options);
  Feed(decoder, {b.Fde()});
  auto tx = [&](uint64_t seq, uint64_t table_id, const std::string& table,
                const std::vector<Col>& cols, const std::string& rows) {
    return Feed(decoder, {b.MariaGtid(seq, 0, 0), b.Query("s", "BEGIN"),
                          b.TableMap(table_id, "s", table, cols),
                          b.Rows(kWriteV1, table_id, cols.size(), rows), b.Xid(seq)});
  };
  const std::string max_uint32 = Le(0xffffffff, 4);
  EXPECT_EQ(tx(1, 18, "a", kItems, std::string("\0", 1) + max_uint32 + "\x03\xb3\xf3\x64"),
            (Lines{"begin 0-1-1 t=1700000000 xid=1", "relation 1 s.a id*,name",
                   "insert 1 (4294967295u, 'łód')", "commit 0-1-1 t=1700000000"}));
  EXPECT_EQ(tx(2, 19, "other", kItems, std::string("\0", 1) + max_uint32 + "\x01\xb3")[2],
            "insert 2 (-1, x'b3')");
  EXPECT_EQ(asked, (std::vector<std::string>{"a", "other"}));

  Feed(decoder, {b.MariaGtid(4, 0, 0), b.Query("s", "BEGIN")});
  const uint64_t at = b.offset();
  EXPECT_EQ(Feed(decoder, {b.TableMap(21, "s", "gone", kItems)}),
            (Lines{"error: TABLE_MAP event of `s`.`gone` at bin.000001:" + std::to_string(at) +
                   ": no such table"}));
}

TEST(BinlogDecoderTest, CatalogThatDescribesAnotherTableIsRefused) {
  Binlog b(true, false);
  DecoderOptions options = Options("mariadb");
  CatalogTable catalog;
  catalog.columns = {{"id", "int", "int(11)", true, kBinaryCollation, 0},
                     {"name", "varchar", "varchar(80)", false, 8, 80}};
  catalog.changed_at = kTime + 1;  // altered after the event was written
  options.catalog = [&](const TableMap&) -> Result<const CatalogTable*> { return &catalog; };
  BinlogDecoder decoder(options);
  Feed(decoder, {b.Fde(), b.MariaGtid(1, 0, 0), b.Query("s", "BEGIN")});
  Lines lines = Feed(decoder, {b.TableMap(5, "s", "t", kItems)});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("table `s`.`t` was altered (information_schema: at 1700000001, Unix "
                          "time) after this event was written (at 1700000000)"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("Set binlog_row_metadata=FULL"), std::string::npos) << lines[0];

  catalog.changed_at = kTime;  // the same second: cannot be told from before the event
  catalog.columns[1] = {"name", "text", "text", false, 8, 65535};
  lines = Feed(decoder, {b.TableMap(5, "s", "t", kItems)});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("column 2 is varchar in the binlog event but information_schema "
                          "says name text"),
            std::string::npos)
      << lines[0];
  catalog.columns[1] = {"name", "varchar", "varchar(100)", false, 8, 100};  // wider since
  lines = Feed(decoder, {b.TableMap(5, "s", "t", kItems)});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("varchar of 80 bytes at most in the binlog event"), std::string::npos)
      << lines[0];
  catalog.columns.pop_back();
  lines = Feed(decoder, {b.TableMap(5, "s", "t", kItems)});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("the binlog event has 2 columns but information_schema lists 1"),
            std::string::npos)
      << lines[0];
}

TEST(BinlogDecoderTest, TruncateBecomesATruncateChangeOfItsOwn) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.MariaGtid(1, 0, 0x21), b.Query("shop", "TRUNCATE TABLE t"),
                           b.MariaGtid(2, 0, 0x21), b.Query("", "truncate `other`.`u`"),
                           b.MariaGtid(3, 0, 0x21), b.Query("shop", "TRUNCATE t")}),
            (Lines{"begin 0-1-1 t=1700000000 xid=1", "relation 1 shop.t ", "truncate 1",
                   "commit 0-1-1 t=1700000000", "begin 0-1-2 t=1700000000 xid=2",
                   "relation 2 other.u ", "truncate 2", "commit 0-1-2 t=1700000000",
                   "begin 0-1-3 t=1700000000 xid=3", "truncate 1", "commit 0-1-3 t=1700000000"}));
  // Rows of the same table later come with a relation of their own that has columns.
  EXPECT_EQ(Feed(decoder, {b.MariaGtid(4, 0, 0), b.Query("shop", "BEGIN"),
                           b.TableMap(9, "shop", "t", kItems), b.Rows(kWriteV1, 9, 2, Row(1, "x")),
                           b.Xid(4)})[1],
            "relation 3 shop.t @1*,@2*");
}

TEST(BinlogDecoderTest, TruncateWithoutGtidsIsPositionedByFile) {
  Binlog b(false, false);
  BinlogDecoder decoder(Options("mysql", "bin.000001"));
  Feed(decoder, {b.Fde()});
  const std::string at = "file:bin.000001:" + std::to_string(b.offset());
  EXPECT_EQ(Feed(decoder, {b.Query("s", "TRUNCATE t")}),
            (Lines{"begin " + at + " t=1700000000 xid=0", "relation 1 s.t ", "truncate 1",
                   "commit " + at + " t=1700000000"}));
}

TEST(BinlogDecoderTest, StatementsThatChangeRowsSayWhereTheyAre) {
  Binlog b(true, false);
  BinlogDecoder decoder(Options("mariadb"));
  Feed(decoder, {b.Fde()});
  EXPECT_EQ(Feed(decoder, {b.MariaGtid(7, 0, 0x21),
                           b.Query("s", "DROP TABLE `x`,`y` /* generated by server */")}),
            (Lines{"ddl s: DROP TABLE `x`,`y` /* generated by server */ {DROP TABLE s.x s.y at "
                   "0-1-7}"}));
  // Statement-based DML in a group: the group stays open for what follows.
  EXPECT_EQ(Feed(decoder, {b.MariaGtid(8, 0, 0), b.Query("s", "START TRANSACTION"),
                           b.Query("s", "DELETE FROM t"), b.Query("s", "COMMIT")}),
            (Lines{"ddl s: DELETE FROM t {statement-based DELETE s.FROM s.t at 0-1-8}"}));
}

TEST(BinlogDecoderTest, EmptyRowsEventIsAStatementEndMarker) {
  Binlog b(false, false);
  BinlogDecoder decoder(Options("mysql"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.Query("s", "BEGIN"),
                           b.Event(kWriteV2, Le(0xffffff, 6) + Le(1, 2) + Le(2, 2) + Packed(1) +
                                                 std::string(1, '\x01')),
                           b.Xid(1)}),
            Lines{});
}

// ---- rotation ----------------------------------------------------------------------------------

TEST(BinlogDecoderTest, RotateSwitchesFileAndResetsTableMaps) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql", "bin.000001"));
  Feed(decoder, {b.Fde(), b.Query("s", "BEGIN"), b.TableMap(5, "s", "t", kItems),
                 b.Rows(kWriteV2, 5, 2, Row(1, "x")), b.Xid(1)});
  Feed(decoder, {b.Rotate(4, "bin.000002")});
  EXPECT_EQ(decoder.file(), "bin.000002");
  EXPECT_EQ(decoder.next_position(), 4u);
  Binlog next(false, true, "bin.000002");
  Feed(decoder, {next.Fde()});
  const Lines lines =
      Feed(decoder, {next.Query("s", "BEGIN"), next.Rows(kWriteV2, 5, 2, Row(1, "x"))});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("refers to table id 5, which no TABLE_MAP"), std::string::npos)
      << lines[0];
  // After a fresh TABLE_MAP the same table needs no new relation, and positions name the new file.
  BinlogDecoder again(Options("mysql", "bin.000001"));
  Binlog c(false, true);
  Feed(again, {c.Fde(), c.Query("s", "BEGIN"), c.TableMap(5, "s", "t", kItems),
               c.Rows(kWriteV2, 5, 2, Row(1, "x")), c.Xid(1), c.Rotate(4, "bin.000002")});
  Binlog d(false, true, "bin.000002");
  Feed(again, {d.Fde()});
  const std::string at = "file:bin.000002:" + std::to_string(d.offset());
  EXPECT_EQ(Feed(again, {d.Query("s", "BEGIN"), d.TableMap(5, "s", "t", kItems),
                         d.Rows(kWriteV2, 5, 2, Row(2, "y")), d.Xid(2)}),
            (Lines{"begin " + at + " t=1700000000 xid=0", "insert 1 (2, 'y')",
                   "commit " + at + " t=1700000000"}));
}

TEST(BinlogDecoderTest, FakeRotateOnConnectKeepsTablesAndDetectsItsChecksum) {
  for (bool checksum : {false, true}) {
    SCOPED_TRACE(checksum);
    Binlog b(false, checksum, "bin.000007");
    BinlogDecoder decoder(Options("mysql", ""));
    // A new connection: fake ROTATE (before any FDE), then the FDE resent with log_pos 0.
    EXPECT_EQ(Feed(decoder, {b.Rotate(1234, "bin.000007", /*fake=*/true)}), Lines{});
    EXPECT_EQ(decoder.file(), "bin.000007");
    EXPECT_EQ(decoder.next_position(), 1234u);
    std::string fde = b.Fde();
    fde.replace(13, 4, Le(0, 4));
    if (checksum) fde.replace(fde.size() - 4, 4, Le(Crc(fde.substr(0, fde.size() - 4)), 4));
    EXPECT_EQ(Feed(decoder, {fde}), Lines{});
    EXPECT_EQ(decoder.next_position(), 1234u);
  }
}

TEST(BinlogDecoderTest, StopResetsTableMaps) {
  Binlog b(false, false);
  BinlogDecoder decoder(Options("mysql"));
  Feed(decoder, {b.Fde(), b.TableMap(5, "s", "t", kItems), b.Event(kStop, ""), b.Fde()});
  const Lines lines = Feed(decoder, {b.Query("s", "BEGIN"), b.Rows(kWriteV2, 5, 2, Row(1, "x"))});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("which no TABLE_MAP"), std::string::npos);
}

// ---- GTIDs -------------------------------------------------------------------------------------

TEST(BinlogDecoderTest, MariaDbGtidStateAcrossDomains) {
  Binlog b(true, true);
  BinlogDecoder decoder(Options("mariadb", "bin.000001", "0-1-10"));
  auto tx = [&](uint64_t seq, uint32_t domain, uint32_t server) {
    const Lines lines = Feed(decoder, {b.MariaGtid(seq, domain, 0x0c, server),
                                       b.Query("s", "BEGIN"), b.TableMap(1, "s", "t", kItems),
                                       b.Rows(kWriteV1, 1, 2, Row(1, "x")), b.Xid(seq)});
    return lines.empty() ? "" : lines.front();
  };
  Feed(decoder, {b.Fde()});
  EXPECT_EQ(tx(1, 2, 1), "begin 0-1-10,2-1-1 t=1700000000 xid=1");
  EXPECT_EQ(tx(11, 0, 3), "begin 0-3-11,2-1-1 t=1700000000 xid=11");
  EXPECT_EQ(tx(2, 2, 1), "begin 0-3-11,2-1-2 t=1700000000 xid=2");
  EXPECT_EQ(Feed(decoder, {b.Event(kHeartbeat, "bin.000001", 0, 0)}),
            (Lines{"heartbeat 0-3-11,2-1-2 t=0"}));
}

TEST(BinlogDecoderTest, GtidListFillsDomainsTheStateLacks) {
  Binlog b(true, true);
  BinlogDecoder decoder(Options("mariadb", "bin.000003", "1-1-50"));
  Feed(decoder, {b.Fde(), b.GtidList({{0, 1, 7}, {0, 2, 9}, {1, 1, 40}, {3, 1, 2}})});
  EXPECT_EQ(Feed(decoder,
                 {b.MariaGtid(10, 0, 0x0c), b.Query("s", "BEGIN"), b.TableMap(1, "s", "t", kItems),
                  b.Rows(kWriteV1, 1, 2, Row(1, "x")), b.Xid(1)})
                .front(),
            "begin 0-1-10,1-1-50,3-1-2 t=1700000000 xid=10");
}

TEST(BinlogDecoderTest, MySqlGtidSet) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql", "bin.000001"));
  const std::string previous = Le(1, 8) + kUuid + Le(1, 8) + Le(1, 8) + Le(11, 8);  // 1-10
  Feed(decoder, {b.Fde(), b.Event(kPreviousGtids, previous, 0x80)});
  EXPECT_EQ(Feed(decoder,
                 {b.MySqlGtid(11), b.Query("s", "BEGIN"), b.Event(kRowsQuery, "\x03x=1"),
                  b.TableMap(1, "s", "t", kItems), b.Rows(kWriteV2, 1, 2, Row(1, "x")), b.Xid(1)}),
            (Lines{"begin " + kUuidText + ":1-11 t=1700000000 xid=11", "relation 1 s.t @1*,@2*",
                   "insert 1 (1, 'x')", "commit " + kUuidText + ":1-11 t=1700000000"}));
  // A DDL group (no BEGIN) still moves the set on.
  EXPECT_EQ(Feed(decoder, {b.MySqlGtid(12), b.Query("s", "DROP TABLE x")}),
            (Lines{"ddl s: DROP TABLE x {DROP TABLE s.x at " + kUuidText + ":12}"}));
  EXPECT_EQ(Feed(decoder, {b.MySqlGtid(14), b.Query("s", "BEGIN"), b.TableMap(1, "s", "t", kItems),
                           b.Rows(kWriteV2, 1, 2, Row(2, "y")), b.Xid(2)})
                .front(),
            "begin " + kUuidText + ":1-12:14 t=1700000000 xid=14");
}

TEST(BinlogDecoderTest, BadStartStateIsAnErrorOnFirstDecode) {
  BinlogDecoder decoder(Options("mariadb", "bin.000001", "0-1"));
  Binlog b(true, true);
  const Lines lines = Feed(decoder, {b.Fde()});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("error: binlog decoder start position: invalid MariaDB GTID", 0), 0u)
      << lines[0];
  BinlogDecoder wrong_engine(Options("postgres"));
  EXPECT_EQ(Feed(wrong_engine, {b.Fde()})[0],
            "error: binlog decoder: engine must be \"mariadb\" or \"mysql\", not \"postgres\"");
}

// ---- MySQL 8 TRANSACTION_PAYLOAD
// -----------------------------------------------------------------

std::string ZstdCompress(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
  return out;
}

std::string PayloadBody(const std::string& inner, bool compress = true) {
  const std::string payload = compress ? ZstdCompress(inner) : inner;
  auto field = [](uint64_t type, uint64_t value) {
    const std::string v = Packed(value);
    return Packed(type) + Packed(v.size()) + v;
  };
  return field(2, compress ? 0 : 255) + field(3, inner.size()) + field(1, payload.size()) +
         std::string(1, '\0') + payload;
}

std::string InnerTransaction() {
  return Binlog::Inner(kQuery,
                       Le(7, 4) + Le(0, 4) + "\x01" + Le(0, 2) + Le(0, 2) + "s" + '\0' + "BEGIN") +
         Binlog::Inner(kTableMap, Binlog::TableMapBody(9, "s", "t", kItems)) +
         Binlog::Inner(kWriteV2, Binlog::RowsBody(kWriteV2, 9, 2, Row(1, "x") + Row(2, "y"))) +
         Binlog::Inner(kXid, Le(77, 8));
}

TEST(BinlogDecoderTest, TransactionPayloadIsDecompressedAndDecoded) {
  for (bool compress : {true, false}) {
    SCOPED_TRACE(compress);
    Binlog b(false, true);
    BinlogDecoder decoder(Options("mysql"));
    EXPECT_EQ(Feed(decoder, {b.Fde(), b.MySqlGtid(3),
                             b.Event(kPayload, PayloadBody(InnerTransaction(), compress))}),
              (Lines{"begin " + kUuidText + ":3 t=1700000000 xid=3", "relation 1 s.t @1*,@2*",
                     "insert 1 (1, 'x')", "insert 1 (2, 'y')",
                     "commit " + kUuidText + ":3 t=1700000000"}));
    EXPECT_EQ(decoder.next_position(), b.offset());
  }
}

TEST(BinlogDecoderTest, TransactionPayloadStreamsToTheCallback) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql"));
  ASSERT_TRUE(decoder.Decode(b.Fde()).ok());
  ASSERT_TRUE(decoder.Decode(b.MySqlGtid(3)).ok());
  int seen = 0;
  Status status =
      decoder.DecodeTo(b.Event(kPayload, PayloadBody(InnerTransaction())), [&seen](DecodedEvent&&) {
        // Stop after the Begin and Relation: the rest is not decoded.
        return ++seen == 2 ? Status::Error("stop") : Status::Ok();
      });
  EXPECT_EQ(status.message(), "stop");
  EXPECT_EQ(seen, 2);
}

TEST(BinlogDecoderTest, CorruptTransactionPayloadIsAnError) {
  const std::string good = PayloadBody(InnerTransaction());
  std::string corrupt = good;
  corrupt[corrupt.size() - 6] ^= 0x55;
  std::string truncated = good.substr(0, good.size() - 10);
  std::string lying = PayloadBody(InnerTransaction().substr(0, 50));  // ends inside an event
  for (const std::string& body : {corrupt, truncated, lying}) {
    Binlog b(false, true);
    BinlogDecoder decoder(Options("mysql"));
    Feed(decoder, {b.Fde(), b.MySqlGtid(3)});
    const uint64_t at = b.offset();
    const Lines lines = Feed(decoder, {b.Event(kPayload, body)});
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(
        lines.back().rfind(
            "error: malformed TRANSACTION_PAYLOAD event at bin.000001:" + std::to_string(at), 0),
        0u)
        << lines.back();
  }
}

// ---- MariaDB compressed events
// -------------------------------------------------------------------

TEST(BinlogDecoderTest, MariaDbCompressedEvents) {
  for (bool v2 : {false, true}) {
    SCOPED_TRACE(v2);
    Binlog b(true, true);
    BinlogDecoder decoder(Options("mariadb"));
    const uint8_t write = v2 ? kWriteCompressedV2 : kWriteCompressedV1;
    const uint8_t update = v2 ? kUpdateCompressedV2 : kUpdateCompressedV1;
    const uint8_t del = v2 ? kDeleteCompressedV2 : kDeleteCompressedV1;
    EXPECT_EQ(
        Feed(decoder,
             {b.Fde(), b.MariaGtid(1, 0, 0x21),
              b.Query("s", "CREATE TABLE t (id INT, name VARCHAR(20))", true),
              b.MariaGtid(2, 0, 0x0c), b.Query("s", "BEGIN"), b.TableMap(4, "s", "t", kItems),
              b.Rows(write, 4, 2, Row(1, "one") + Row(2, "two")),
              b.Rows(update, 4, 2, Row(1, "one") + Row(1, "uno")), b.Rows(del, 4, 2, Row(2, "two")),
              b.Xid(9)}),
        (Lines{"ddl s: CREATE TABLE t (id INT, name VARCHAR(20))", "begin 0-1-2 t=1700000000 xid=2",
               "relation 1 s.t @1*,@2*", "insert 1 (1, 'one')", "insert 1 (2, 'two')",
               "update 1 (1, 'one') -> (1, 'uno')", "delete 1 (2, 'two')",
               "commit 0-1-2 t=1700000000"}));
  }
}

TEST(BinlogDecoderTest, CorruptMariaDbCompressionIsAnError) {
  Binlog b(true, true);
  BinlogDecoder decoder(Options("mariadb"));
  Feed(decoder,
       {b.Fde(), b.MariaGtid(2, 0, 0x0c), b.Query("s", "BEGIN"), b.TableMap(4, "s", "t", kItems)});
  std::string compressed = MariaCompress(Row(1, "one"));
  compressed[compressed.size() - 2] ^= 0x33;
  const Lines lines =
      Feed(decoder,
           {b.Event(kWriteCompressedV1, Le(4, 6) + Le(1, 2) + Packed(2) + "\x03" + compressed)});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("error: malformed WRITE_ROWS_COMPRESSED event at bin.000001:", 0), 0u)
      << lines[0];
  // A declared size beyond what the data inflates to.
  BinlogDecoder second(Options("mariadb"));
  Binlog c(true, true);
  std::string lying = MariaCompress("BEGIN");
  lying[2] = 9;
  EXPECT_EQ(Feed(second, {c.Fde(), c.Event(kQueryCompressed,
                                           std::string(11, '\0') + Le(0, 2) + '\0' + lying)})
                .back()
                .rfind("error: malformed QUERY_COMPRESSED event", 0),
            0u);
}

// ---- event kinds that are skipped or refused
// -----------------------------------------------------

TEST(BinlogDecoderTest, IgnorableUnknownEventIsSkipped) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.Event(100, std::string(900, 'p'), 0x80)}), Lines{});
  EXPECT_EQ(decoder.next_position(), b.offset());
}

TEST(BinlogDecoderTest, UnknownEventIsAnError) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql", "mysql-bin.000003"));
  Feed(decoder, {b.Fde()});
  const uint64_t at = b.offset();
  EXPECT_EQ(Feed(decoder, {b.Event(99, "xyz")}),
            (Lines{"error: binlog event type 99 at mysql-bin.000003:" + std::to_string(at) +
                   " is not supported"}));
}

TEST(BinlogDecoderTest, XaIsRefused) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql"));
  Feed(decoder, {b.Fde()});
  Lines lines =
      Feed(decoder, {b.Event(kXaPrepare, "\x00" + Le(1, 4) + Le(1, 4) + Le(1, 4) + "ab")});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(
      lines[0].rfind("error: XA transactions are not supported yet (XA_PREPARE at bin.000001:", 0),
      0u)
      << lines[0];
  Binlog m(true, true);
  BinlogDecoder maria(Options("mariadb"));
  lines = Feed(maria, {m.Fde(), m.MariaGtid(4, 0, 0x40)});
  EXPECT_EQ(lines.back().rfind("error: XA transactions are not supported yet (GTID 0-1-4 at", 0),
            0u)
      << lines.back();
  BinlogDecoder query(Options("mariadb"));
  Binlog q(true, true);
  lines = Feed(query, {q.Fde(), q.MariaGtid(4, 0, 0), q.Query("s", "XA START 'x'")});
  EXPECT_EQ(lines.back().rfind("error: XA transactions are not supported yet", 0), 0u)
      << lines.back();
}

TEST(BinlogDecoderTest, IncidentIsAnError) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql"));
  const Lines lines =
      Feed(decoder, {b.Fde(), b.Event(kIncident, Le(1, 2) + "\x0b" + "LOST_EVENTS")});
  EXPECT_NE(lines.back().find("incident at bin.000001:"), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find("(type 1: LOST_EVENTS)"), std::string::npos) << lines.back();
}

TEST(BinlogDecoderTest, VariablesAndAnnotationsAreSkipped) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql"));
  EXPECT_EQ(Feed(decoder, {b.Fde(), b.Event(5, "\x02" + Le(7, 8)), b.Event(13, Le(1, 8) + Le(2, 8)),
                           b.Event(14, Le(1, 4) + "v" + '\x01'), b.Event(28, "pad", 0x80)}),
            Lines{});
}

// ---- checksums and framing
// -----------------------------------------------------------------------

TEST(BinlogDecoderTest, ChecksumMismatchIsAnError) {
  Binlog b(false, true);
  BinlogDecoder decoder(Options("mysql", "mysql-bin.000001"));
  Feed(decoder, {b.Fde()});
  const uint64_t at = b.offset();
  std::string query = b.Query("s", "BEGIN");
  query[25] ^= 1;  // inside the body
  const Lines lines = Feed(decoder, {query});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("error: QUERY event (type 2) at mysql-bin.000001:" + std::to_string(at) +
                               " fails its CRC32 checksum (stored 0x",
                           0),
            0u)
      << lines[0];
  EXPECT_NE(lines[0].find("): the binlog is corrupt or was damaged in transit"), std::string::npos);
}

TEST(BinlogDecoderTest, DamagedFormatDescriptionIsAnError) {
  Binlog b(false, true);
  std::string fde = b.Fde();
  fde[40] ^= 1;
  BinlogDecoder decoder(Options("mysql"));
  EXPECT_NE(Feed(decoder, {fde})[0].find("FORMAT_DESCRIPTION event (type 15) at bin.000001:4 fails "
                                         "its CRC32 checksum"),
            std::string::npos);
  BinlogDecoder short_fde(Options("mysql"));
  EXPECT_EQ(Feed(short_fde, {b.Event(kFde, Le(4, 2) + "8.0")})[0],
            "error: malformed FORMAT_DESCRIPTION event at bin.000001:126: shorter than its fixed "
            "fields");
}

TEST(BinlogDecoderTest, MisframedEventsAreErrors) {
  Binlog b(false, false);
  BinlogDecoder decoder(Options("mysql"));
  Feed(decoder, {b.Fde()});
  EXPECT_EQ(Feed(decoder, {"short"})[0],
            "error: binlog event at bin.000001:" + std::to_string(b.offset()) +
                " is 5 bytes, shorter than the 19-byte event header");
  std::string event = b.Xid(1);
  EXPECT_NE(Feed(decoder, {event + "extra"})[0].find("its header says 27 bytes but 32 arrived"),
            std::string::npos);
  // Every truncation of real events is an error or nothing, never a crash.
  Binlog c(true, true);
  for (const std::string& e :
       {c.MariaGtid(1, 0, 0), c.Query("s", "BEGIN"), c.TableMap(1, "s", "t", kItems),
        c.Rows(kWriteV1, 1, 2, Row(1, "x")), c.GtidList({{0, 1, 1}}), c.Rotate(4, "b.2")}) {
    for (size_t n = 19; n < e.size(); ++n) {
      std::string cut = e.substr(0, n);
      cut.replace(9, 4, Le(n, 4));
      BinlogDecoder fresh(Options("mariadb"));
      Binlog d(true, false);
      (void)fresh.Decode(d.Fde());
      (void)fresh.Decode(cut);
    }
  }
}

// ---- ReadBinlogFile and inspect
// ------------------------------------------------------------------

class TempFile {
 public:
  explicit TempFile(const std::string& bytes) {
    char name[] = "/tmp/ferry-binlog-test-XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    if (fd >= 0) close(fd);
    std::ofstream(path_, std::ios::binary) << bytes;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Status ReadAll(const std::string& path, std::vector<std::string>& events) {
  return ReadBinlogFile(path, [&events](std::string_view event) {
    events.emplace_back(event);
    return Status::Ok();
  });
}

TEST(BinlogFileTest, ReadsEventsAfterTheMagic) {
  Binlog b(false, true);
  const std::vector<std::string> written = {b.Fde(), b.Query("s", "BEGIN"), b.Xid(1)};
  std::string bytes =
      "\xfe"
      "bin";
  for (const std::string& e : written) bytes += e;
  TempFile file(bytes);
  std::vector<std::string> events;
  ASSERT_TRUE(ReadAll(file.path(), events).ok());
  EXPECT_EQ(events, written);
  TempFile empty(
      "\xfe"
      "bin");
  events.clear();
  EXPECT_TRUE(ReadAll(empty.path(), events).ok());
  EXPECT_TRUE(events.empty());
}

TEST(BinlogFileTest, RefusesWhatIsNotABinlog) {
  for (const std::string& bytes : {std::string(""),
                                   std::string("\xfe"
                                               "bi"),
                                   std::string("hello world, not a binlog")}) {
    TempFile file(bytes);
    std::vector<std::string> events;
    EXPECT_EQ(ReadAll(file.path(), events).message(),
              "not a binlog file (missing the 0xfe 'bin' magic): " + file.path());
  }
  std::vector<std::string> events;
  EXPECT_EQ(ReadAll("/nonexistent/ferry.bin", events).message(),
            "cannot open binlog file /nonexistent/ferry.bin: No such file or directory");
}

TEST(BinlogFileTest, TruncatedEventsAreErrorsNamingTheOffset) {
  Binlog b(false, true);
  const std::string fde = b.Fde();
  const std::string query = b.Query("s", "BEGIN");
  const std::string magic =
      "\xfe"
      "bin";
  const std::string at = std::to_string(4 + fde.size());
  {
    TempFile file(magic + fde + query.substr(0, 10));
    std::vector<std::string> events;
    EXPECT_EQ(ReadAll(file.path(), events).message(),
              "truncated binlog event at offset " + at + " of " + file.path() +
                  ": only 10 of the 19 header bytes are there");
    EXPECT_EQ(events.size(), 1u);
  }
  {
    TempFile file(magic + fde + query.substr(0, query.size() - 1));
    std::vector<std::string> events;
    EXPECT_EQ(ReadAll(file.path(), events).message(),
              "truncated binlog event at offset " + at + " of " + file.path() +
                  ": its header says " + std::to_string(query.size()) + " bytes but only " +
                  std::to_string(query.size() - 1) + " remain");
  }
  {
    std::string bad = query;
    bad.replace(9, 4, Le(7, 4));
    TempFile file(magic + fde + bad);
    std::vector<std::string> events;
    EXPECT_EQ(ReadAll(file.path(), events).message(),
              "malformed binlog event at offset " + at + " of " + file.path() +
                  ": its header says it is 7 bytes, less than the 19-byte header");
  }
  {
    // A length far beyond the file: refused before anything is allocated.
    std::string huge = query;
    huge.replace(9, 4, Le(0xffffffff, 4));
    TempFile file(magic + huge);
    std::vector<std::string> events;
    EXPECT_NE(ReadAll(file.path(), events).message().find("its header says 4294967295 bytes"),
              std::string::npos);
  }
}

TEST(InspectTest, PrintsJsonLines) {
  Binlog b(true, true, "mariadb-bin.000001");
  std::string bytes =
      "\xfe"
      "bin";
  for (const std::string& e :
       {b.Fde(), b.MariaGtid(1, 0, 0x21), b.Query("s", "CREATE TABLE \"t\"\n(a INT)"),
        b.MariaGtid(2, 0, 0x0c), b.Query("s", "BEGIN"), b.TableMap(1, "s", "t", kItems),
        b.Rows(kWriteV1, 1, 2, Row(1, "x")), b.Xid(1)}) {
    bytes += e;
  }
  TempFile file(bytes);
  std::ostringstream out, err;
  EXPECT_EQ(InspectBinlog(file.path(), out, err), 0) << err.str();
  EXPECT_EQ(err.str(), "");
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 6u) << out.str();
  EXPECT_EQ(lines[0], R"x({"ddl": {"schema": "s", "statement": "CREATE TABLE \"t\"\n(a INT)"}})x");
  // The TABLE_MAP has no optional metadata (binlog_row_metadata=NO_LOG).
  EXPECT_EQ(
      lines[1].rfind(R"({"note": "table `s`.`t`: the binlog does not log its column names)", 0), 0u)
      << lines[1];
  EXPECT_EQ(lines[2], R"({"begin": {"position":{"engine":"mariadb","value":"0-1-2"},)"
                      R"("commit_time_us":"1700000000000000","xid":"2"}})");
  EXPECT_EQ(lines[3].rfind(R"({"relation": {"id":1,"schema":"s","table":"t","columns":[)", 0), 0u)
      << lines[3];
  EXPECT_EQ(lines[4].rfind(R"({"row": {"op":"INSERT","relation_id":1,"new_values":[)", 0), 0u)
      << lines[4];
  EXPECT_EQ(lines[5], R"({"commit": {"position":{"engine":"mariadb","value":"0-1-2"},)"
                      R"("commit_time_us":"1700000000000000"}})");
}

TEST(InspectTest, GarbageAndTruncationFailCleanly) {
  Binlog b(false, true);
  const std::string good = std::string(
                               "\xfe"
                               "bin") +
                           b.Fde() + b.Query("s", "BEGIN");
  for (const std::string& bytes : {std::string("garbage"), good.substr(0, good.size() - 3),
                                   std::string("\xfe"
                                               "bin") +
                                       std::string(40, '\x7f')}) {
    TempFile file(bytes);
    std::ostringstream out, err;
    EXPECT_EQ(InspectBinlog(file.path(), out, err), 1);
    EXPECT_EQ(err.str().rfind("ferry inspect binlog: ", 0), 0u) << err.str();
    EXPECT_EQ(err.str().back(), '\n');
  }
}

}  // namespace
}  // namespace ferry::capture::mysql
