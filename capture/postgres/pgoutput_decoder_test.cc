#include "capture/postgres/pgoutput_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "capture/postgres/pgoutput_recorded.h"
#include "capture/postgres/test_util.h"
#include "wire/row_change.h"

namespace ferry::capture::postgres {
namespace {

using testdata::kRecorded;
using testing::FromHex;
using testing::Show;
namespace v = testing::v;

// ---- helpers ----------------------------------------------------------------------------------

char Kind(const SourceEvent& event) {
  return std::visit(
      [](const auto& e) -> char {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, wire::Begin>) return 'B';
        if constexpr (std::is_same_v<T, wire::Commit>) return 'C';
        if constexpr (std::is_same_v<T, wire::Relation>) return 'R';
        if constexpr (std::is_same_v<T, wire::RowChange>) {
          switch (e.op()) {
            case wire::RowChange::INSERT:
              return 'I';
            case wire::RowChange::UPDATE:
              return 'U';
            case wire::RowChange::DELETE:
              return 'D';
            case wire::RowChange::TRUNCATE:
              return 'T';
            default:
              return '?';
          }
        }
        return '-';
      },
      event);
}

std::string Kinds(const std::vector<SourceEvent>& events) {
  std::string kinds;
  for (const SourceEvent& e : events) kinds += Kind(e);
  return kinds;
}

// Decodes the whole recording with one decoder, as the replication stream would feed it.
const std::vector<SourceEvent>& RecordedEvents() {
  static const std::vector<SourceEvent> events = [] {
    std::vector<SourceEvent> all;
    PgOutputDecoder decoder;
    for (const auto& message : kRecorded) {
      Result<std::vector<SourceEvent>> decoded = decoder.Decode(FromHex(message.hex));
      EXPECT_TRUE(decoded.ok()) << message.lsn << ": " << decoded.message();
      if (!decoded.ok()) break;
      for (SourceEvent& e : decoded.value()) all.push_back(std::move(e));
    }
    EXPECT_FALSE(decoder.in_transaction());
    EXPECT_FALSE(decoder.holding_begin());
    return all;
  }();
  return events;
}

template <typename T>
const T& At(size_t index) {
  static const T kEmpty;
  const std::vector<SourceEvent>& events = RecordedEvents();
  if (index >= events.size() || !std::holds_alternative<T>(events[index])) {
    ADD_FAILURE() << "event " << index << " is not a " << T().GetTypeName();
    return kEmpty;
  }
  return std::get<T>(events[index]);
}

std::vector<std::string> Show(const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  std::vector<std::string> shown;
  for (const wire::Value& value : values) shown.push_back(Show(value));
  return shown;
}

std::vector<std::string> Show(std::initializer_list<wire::Value> values) {
  std::vector<std::string> shown;
  for (const wire::Value& value : values) shown.push_back(Show(value));
  return shown;
}

// n nulls, for the key-only images of the 31-column table.
std::vector<wire::Value> Nulls(size_t n) { return std::vector<wire::Value>(n, v::Null()); }

constexpr uint32_t kAllTypes = 16448, kToasty = 16455, kFullRow = 16462, kTruncA = 16468,
                   kTruncB = 16474;

// ---- the recorded stream ----------------------------------------------------------------------

TEST(RecordedStreamTest, EventSequence) {
  // The rolled-back transaction and the ALTER TABLE's are absent; the 'M' message is skipped.
  EXPECT_EQ(Kinds(RecordedEvents()),
            "BRIIIC"
            "BRIC"
            "BUC"
            "BUUDC"
            "BRIC"
            "BUC"
            "BDC"
            "BRIC"
            "BRIC"
            "BRIC"
            "BRRTC"
            "BRTC"
            "BIC"
            "BIC");
}

TEST(RecordedStreamTest, TransactionsCarryPositionTimeXidAndOrigin) {
  struct Tx {
    size_t begin, commit;
    const char* lsn;
    uint64_t xid;
    int64_t time_us;
    const char* origin;
  };
  const Tx txs[] = {
      {0, 5, "0/1DCAFE0", 777, 1795604814068014, ""},
      {6, 9, "0/1DCBE28", 778, 1795604814068757, ""},
      {10, 12, "0/1DCBEF8", 779, 1795604814069455, ""},
      {13, 17, "0/1DCC2E0", 780, 1795604814070076, ""},
      {18, 21, "0/1DCC400", 782, 1795604814070568, ""},
      {22, 24, "0/1DCC488", 783, 1795604814070836, ""},
      {25, 27, "0/1DCC500", 784, 1795604814071048, ""},
      {28, 31, "0/1DCC8E8", 786, 1795604814071626, ""},
      {32, 35, "0/1DCCA60", 787, 1795604814072019, ""},
      {36, 39, "0/1DCCBA8", 788, 1795604814072561, ""},
      {40, 44, "0/1DCDA10", 789, 1795604814073878, ""},
      {45, 48, "0/1DCE198", 790, 1795604814075078, ""},
      {49, 51, "0/1DCE330", 791, 1795604814075816, ""},
      // pg_replication_origin_xact_setup('0/ABCDEF', '2024-01-02 03:04:05+00') set its time.
      {52, 54, "0/1DCE3F0", 792, 1704164645000000, "node_b"},
  };
  for (const Tx& tx : txs) {
    const wire::Begin& begin = At<wire::Begin>(tx.begin);
    const wire::Commit& commit = At<wire::Commit>(tx.commit);
    EXPECT_EQ(begin.position().engine(), "postgres");
    EXPECT_EQ(begin.position().value(), tx.lsn);
    EXPECT_EQ(begin.xid(), tx.xid);
    EXPECT_EQ(begin.commit_time_us(), tx.time_us);
    EXPECT_EQ(begin.origin(), tx.origin);
    EXPECT_EQ(commit.position().engine(), "postgres");
    EXPECT_EQ(commit.position().value(), tx.lsn);
    EXPECT_EQ(commit.commit_time_us(), tx.time_us);
  }
}

TEST(RecordedStreamTest, AllTypesRelation) {
  const wire::Relation& r = At<wire::Relation>(1);
  EXPECT_EQ(r.id(), kAllTypes);
  EXPECT_EQ(r.schema(), "public");
  EXPECT_EQ(r.table(), "alltypes");
  EXPECT_FALSE(r.full_old_image());
  struct Col {
    const char* name;
    const char* source_type;
    wire::LogicalType type;
    wire::LogicalType element = wire::LOGICAL_TYPE_UNSPECIFIED;
  };
  using enum wire::LogicalType;
  const Col cols[] = {
      {"id", "int4", LOGICAL_TYPE_INT},
      {"c_bool", "bool", LOGICAL_TYPE_BOOL},
      {"c_bytea", "bytea", LOGICAL_TYPE_BYTES},
      {"c_char", "char", LOGICAL_TYPE_TEXT},
      {"c_name", "name", LOGICAL_TYPE_TEXT},
      {"c_int8", "int8", LOGICAL_TYPE_INT},
      {"c_int2", "int2", LOGICAL_TYPE_INT},
      {"c_text", "text", LOGICAL_TYPE_TEXT},
      {"c_oid", "oid", LOGICAL_TYPE_INT},
      {"c_json", "json", LOGICAL_TYPE_JSON},
      {"c_xml", "xml", LOGICAL_TYPE_TEXT},
      {"c_float4", "float4", LOGICAL_TYPE_FLOAT},
      {"c_float8", "float8", LOGICAL_TYPE_FLOAT},
      {"c_bpchar", "bpchar(5)", LOGICAL_TYPE_TEXT},
      {"c_varchar", "varchar(20)", LOGICAL_TYPE_TEXT},
      {"c_date", "date", LOGICAL_TYPE_DATE},
      {"c_time", "time(3)", LOGICAL_TYPE_TIME},
      {"c_timestamp", "timestamp", LOGICAL_TYPE_TIMESTAMP},
      {"c_timestamptz", "timestamptz", LOGICAL_TYPE_TIMESTAMP_TZ},
      {"c_interval", "interval", LOGICAL_TYPE_INTERVAL},
      {"c_timetz", "timetz", LOGICAL_TYPE_TIME_TZ},
      {"c_bit", "bit(4)", LOGICAL_TYPE_BIT},
      {"c_varbit", "varbit(8)", LOGICAL_TYPE_BIT},
      {"c_numeric", "numeric(10,2)", LOGICAL_TYPE_DECIMAL},
      {"c_numeric_any", "numeric", LOGICAL_TYPE_DECIMAL},
      {"c_uuid", "uuid", LOGICAL_TYPE_UUID},
      {"c_jsonb", "jsonb", LOGICAL_TYPE_JSON},
      {"c_int4_arr", "int4[]", LOGICAL_TYPE_ARRAY, LOGICAL_TYPE_INT},
      {"c_text_arr", "text[]", LOGICAL_TYPE_ARRAY, LOGICAL_TYPE_TEXT},
      {"c_int4_2d", "int4[]", LOGICAL_TYPE_ARRAY, LOGICAL_TYPE_INT},
      {"c_mood", "mood", LOGICAL_TYPE_OTHER},  // named by the Type message before it
  };
  ASSERT_EQ(r.columns_size(), static_cast<int>(std::size(cols)));
  for (int i = 0; i < r.columns_size(); ++i) {
    const wire::Column& c = r.columns(i);
    EXPECT_EQ(c.name(), cols[i].name);
    EXPECT_EQ(c.source_type(), cols[i].source_type) << c.name();
    EXPECT_EQ(c.type(), cols[i].type) << c.name();
    EXPECT_EQ(c.element_type(), cols[i].element) << c.name();
    EXPECT_EQ(c.key(), i == 0) << c.name();
  }
}

std::vector<std::string> Row1(const std::string& text) {
  return Show({
      v::Int(1),
      v::Bool(true),
      v::Bytes(std::string("\x00\xff\x10", 3)),
      v::Text("x"),
      v::Text("a_name"),
      v::Int(std::numeric_limits<int64_t>::max()),
      v::Int(-32768),
      v::Text(text),
      v::Int(4294967295),
      v::Json(R"({"a": [1, 2]})"),
      v::Text(R"(<r a="1">t</r>)"),
      v::Float(1.5),
      v::Float(0.1),
      v::Text("ab   "),
      v::Text("varchar val"),
      v::Date("2024-02-29"),
      v::Time("13:45:10.123"),
      v::Timestamp("2024-02-29 13:45:10.123456"),
      v::TimestampTz("2024-02-29 11:45:10.123456+00"),  // written as +02, sent in UTC
      v::Interval("1 year 2 mons 3 days 04:05:06.789"),
      v::TimeTz("13:45:10+02"),
      v::Bits("1010"),
      v::Bits("101"),
      v::Decimal("-0.50"),
      v::Decimal("123456789012345678901234567890.123456789"),
      v::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
      v::Json(R"({"a": null, "b": 1})"),
      v::Array({v::Int(1), v::Null(), v::Int(3)}),
      v::Array({v::Text("a b"), v::Text("q\"uote"), v::Text("back\\slash"), v::Null(),
                v::Text("NULL"), v::Text(""), v::Text("{x}")}),
      v::Array({v::Array({v::Int(1), v::Int(2)}), v::Array({v::Int(3), v::Int(4)})}),
      v::Other("happy"),
  });
}

std::vector<std::string> Row3(int64_t id) {
  std::vector<wire::Value> row = Nulls(31);
  row[0] = v::Int(id);
  row[2] = v::Bytes("");
  row[5] = v::Int(std::numeric_limits<int64_t>::min());
  row[11] = v::Float(std::numeric_limits<double>::quiet_NaN());
  row[12] = v::Float(-std::numeric_limits<double>::infinity());
  row[15] = v::Date("infinity");
  row[17] = v::Timestamp("-infinity");
  row[18] = v::TimestampTz("0044-03-15 12:00:00+00 BC");
  row[19] = v::Interval("-1 days +02:03:00");
  row[23] = v::Decimal("NaN");
  row[24] = v::Decimal("Infinity");
  row[27] = v::Array({});
  row[28] = v::Array({});
  row[29] = v::Other("[2:3]={7,8}");  // explicit lower bound: travels as literal text
  std::vector<std::string> shown;
  for (const wire::Value& value : row) shown.push_back(Show(value));
  return shown;
}

TEST(RecordedStreamTest, InsertsOfEveryType) {
  const wire::RowChange& row1 = At<wire::RowChange>(2);
  EXPECT_EQ(row1.op(), wire::RowChange::INSERT);
  EXPECT_EQ(row1.relation_id(), kAllTypes);
  EXPECT_TRUE(row1.old_values().empty());
  EXPECT_EQ(Show(row1.new_values()), Row1("héllo \"quoted\"\nline2"));

  std::vector<wire::Value> all_null = Nulls(31);
  all_null[0] = v::Int(2);
  const wire::RowChange& row2 = At<wire::RowChange>(3);
  EXPECT_EQ(row2.relation_id(), kAllTypes);
  EXPECT_EQ(Show(row2.new_values()), Show(google::protobuf::RepeatedPtrField<wire::Value>(
                                         all_null.begin(), all_null.end())));

  const wire::RowChange& row3 = At<wire::RowChange>(4);
  EXPECT_EQ(Show(row3.new_values()), Row3(3));
  EXPECT_TRUE(std::isnan(row3.new_values(11).float64()));  // float4 'NaN'
}

TEST(RecordedStreamTest, ToastValueLeftOutIsUnchanged) {
  const wire::Relation& r = At<wire::Relation>(7);
  EXPECT_EQ(r.id(), kToasty);
  EXPECT_EQ(r.table(), "toasty");
  ASSERT_EQ(r.columns_size(), 3);
  EXPECT_EQ(r.columns(0).source_type(), "int8");
  EXPECT_TRUE(r.columns(0).key());
  EXPECT_FALSE(r.columns(2).key());

  std::string big;
  for (int i = 0; i < 300; ++i) big += "0123456789";
  const wire::RowChange& insert = At<wire::RowChange>(8);
  EXPECT_EQ(Show(insert.new_values()), Show({v::Int(1), v::Text("first"), v::Text(big)}));

  const wire::RowChange& update = At<wire::RowChange>(11);
  EXPECT_EQ(update.op(), wire::RowChange::UPDATE);
  EXPECT_EQ(update.relation_id(), kToasty);
  EXPECT_TRUE(update.old_values().empty());  // key unchanged: no old image
  EXPECT_EQ(Show(update.new_values()), Show({v::Int(1), v::Text("second"), v::Unchanged()}));
}

TEST(RecordedStreamTest, ReplicaIdentityDefaultSendsKeysOnly) {
  // UPDATE alltypes SET id = 10 WHERE id = 3: the old key comes as a 'K' tuple.
  const wire::RowChange& key_change = At<wire::RowChange>(14);
  EXPECT_EQ(key_change.op(), wire::RowChange::UPDATE);
  EXPECT_TRUE(key_change.old_is_key_only());
  std::vector<wire::Value> old_key = Nulls(31);
  old_key[0] = v::Int(3);
  EXPECT_EQ(Show(key_change.old_values()),
            Show(google::protobuf::RepeatedPtrField<wire::Value>(old_key.begin(), old_key.end())));
  EXPECT_EQ(Show(key_change.new_values()), Row3(10));

  // An update that keeps the key: no old image at all.
  const wire::RowChange& plain = At<wire::RowChange>(15);
  EXPECT_EQ(plain.op(), wire::RowChange::UPDATE);
  EXPECT_FALSE(plain.old_is_key_only());
  EXPECT_TRUE(plain.old_values().empty());
  EXPECT_EQ(Show(plain.new_values()), Row1("changed"));

  const wire::RowChange& del = At<wire::RowChange>(16);
  EXPECT_EQ(del.op(), wire::RowChange::DELETE);
  EXPECT_EQ(del.relation_id(), kAllTypes);
  EXPECT_TRUE(del.old_is_key_only());
  EXPECT_TRUE(del.new_values().empty());
  old_key[0] = v::Int(2);
  EXPECT_EQ(Show(del.old_values()),
            Show(google::protobuf::RepeatedPtrField<wire::Value>(old_key.begin(), old_key.end())));
}

TEST(RecordedStreamTest, ReplicaIdentityFullSendsWholeRows) {
  const wire::Relation& r = At<wire::Relation>(19);
  EXPECT_EQ(r.id(), kFullRow);
  EXPECT_EQ(r.schema(), "sales");
  EXPECT_EQ(r.table(), "fullrow");
  EXPECT_TRUE(r.full_old_image());
  ASSERT_EQ(r.columns_size(), 2);
  // With REPLICA IDENTITY FULL every column is part of the identity.
  EXPECT_TRUE(r.columns(0).key());
  EXPECT_TRUE(r.columns(1).key());

  EXPECT_EQ(Show(At<wire::RowChange>(20).new_values()), Show({v::Text("k1"), v::Int(1)}));
  const wire::RowChange& update = At<wire::RowChange>(23);
  EXPECT_FALSE(update.old_is_key_only());
  EXPECT_EQ(Show(update.old_values()), Show({v::Text("k1"), v::Int(1)}));
  EXPECT_EQ(Show(update.new_values()), Show({v::Text("k1"), v::Int(2)}));
  const wire::RowChange& del = At<wire::RowChange>(26);
  EXPECT_EQ(del.op(), wire::RowChange::DELETE);
  EXPECT_FALSE(del.old_is_key_only());
  EXPECT_EQ(Show(del.old_values()), Show({v::Text("k1"), v::Int(2)}));
}

TEST(RecordedStreamTest, SchemaChangeResendsTheRelation) {
  const wire::Relation& r = At<wire::Relation>(29);
  EXPECT_EQ(r.id(), kFullRow);
  ASSERT_EQ(r.columns_size(), 3);
  EXPECT_EQ(r.columns(2).name(), "extra");
  EXPECT_EQ(r.columns(2).source_type(), "bool");
  EXPECT_EQ(Show(At<wire::RowChange>(30).new_values()),
            Show({v::Text("k2"), v::Int(3), v::Bool(false)}));
}

TEST(RecordedStreamTest, Truncate) {
  EXPECT_EQ(At<wire::Relation>(41).table(), "trunc_a");
  EXPECT_EQ(At<wire::Relation>(42).table(), "trunc_b");
  // TRUNCATE trunc_a RESTART IDENTITY CASCADE reaches trunc_b through its foreign key: one
  // change names both, since they can only be emptied together.
  const wire::RowChange& both = At<wire::RowChange>(43);
  EXPECT_EQ(both.op(), wire::RowChange::TRUNCATE);
  EXPECT_EQ(both.relation_id(), kTruncA);
  EXPECT_EQ(std::vector<uint32_t>(both.truncate_relation_ids().begin(),
                                  both.truncate_relation_ids().end()),
            (std::vector<uint32_t>{kTruncA, kTruncB}));
  EXPECT_TRUE(both.cascade());
  EXPECT_TRUE(both.restart_identity());
  EXPECT_TRUE(both.old_values().empty());
  EXPECT_TRUE(both.new_values().empty());
  const wire::RowChange& plain = At<wire::RowChange>(47);
  EXPECT_EQ(plain.op(), wire::RowChange::TRUNCATE);
  EXPECT_EQ(plain.relation_id(), kTruncB);
  EXPECT_EQ(wire::TruncatedRelationIds(plain), std::vector<uint32_t>{kTruncB});
  EXPECT_FALSE(plain.cascade());
  EXPECT_FALSE(plain.restart_identity());
}

TEST(RecordedStreamTest, LogicalMessageIsSkippedAndOriginIsKept) {
  EXPECT_EQ(Show(At<wire::RowChange>(50).new_values()),
            Show({v::Int(2), v::Text("msg"), v::Null()}));
  EXPECT_EQ(At<wire::Begin>(52).origin(), "node_b");
  EXPECT_EQ(Show(At<wire::RowChange>(53).new_values()),
            Show({v::Int(3), v::Text("from node_b"), v::Text("x")}));
}

// ---- malformed input --------------------------------------------------------------------------

// The decoder state before each recorded message, so a damaged message meets the relations it
// would have met.
std::vector<PgOutputDecoder> DecoderBeforeEachMessage() {
  std::vector<PgOutputDecoder> states;
  PgOutputDecoder decoder;
  for (const auto& message : kRecorded) {
    states.push_back(decoder);
    EXPECT_TRUE(decoder.Decode(FromHex(message.hex)).ok());
  }
  return states;
}

TEST(MalformedTest, EveryTruncationIsAnError) {
  const std::vector<PgOutputDecoder> states = DecoderBeforeEachMessage();
  for (size_t i = 0; i < std::size(kRecorded); ++i) {
    const std::string message = FromHex(kRecorded[i].hex);
    for (size_t length = 0; length < message.size(); ++length) {
      PgOutputDecoder decoder = states[i];
      Result<std::vector<SourceEvent>> result =
          decoder.Decode(std::string_view(message).substr(0, length));
      // 'M' is skipped unread; every other message is read to its last byte.
      if (message[0] != 'M' || length == 0) {
        EXPECT_FALSE(result.ok()) << "message " << i << " cut to " << length << " bytes";
      }
    }
  }
}

TEST(MalformedTest, TrailingBytesAreAnError) {
  const std::vector<PgOutputDecoder> states = DecoderBeforeEachMessage();
  for (size_t i = 0; i < std::size(kRecorded); ++i) {
    const std::string message = FromHex(kRecorded[i].hex) + '\0';
    PgOutputDecoder decoder = states[i];
    Result<std::vector<SourceEvent>> result = decoder.Decode(message);
    if (message[0] != 'M') {
      ASSERT_FALSE(result.ok()) << "message " << i;
      // Truncate checks its id list's length up front.
      EXPECT_TRUE(result.message().find("unexpected bytes") != std::string::npos ||
                  (message[0] == 'T' && result.message().find("bytes of ids") != std::string::npos))
          << result.message();
    }
  }
}

// Every single-byte corruption of every message decodes or fails cleanly (run under
// FERRY_SANITIZE to catch what does not crash outright).
TEST(MalformedTest, CorruptedBytesNeverCrash) {
  const std::vector<PgOutputDecoder> states = DecoderBeforeEachMessage();
  for (size_t i = 0; i < std::size(kRecorded); ++i) {
    const std::string original = FromHex(kRecorded[i].hex);
    // The big TOAST value is 3000 bytes of the same kind; its first 200 cover every path.
    const size_t limit = std::min<size_t>(original.size(), 200);
    for (size_t pos = 0; pos < limit; ++pos) {
      for (uint8_t replacement : {0x00, 0x7f, 0xff}) {
        std::string message = original;
        message[pos] = static_cast<char>(replacement);
        PgOutputDecoder decoder = states[i];
        (void)decoder.Decode(message);
      }
    }
  }
}

TEST(MalformedTest, RandomBytesNeverCrash) {
  std::mt19937 random(20240229);
  const std::string types = "BORYIUDTCMxSk";
  PgOutputDecoder primed;
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(primed.Decode(FromHex(kRecorded[i].hex)).ok());
  for (int round = 0; round < 20000; ++round) {
    std::string message(1, types[random() % types.size()]);
    const size_t length = random() % 64;
    for (size_t i = 0; i < length; ++i)
      message.push_back(static_cast<char>(random() % 4 == 0 ? 0 : random()));
    PgOutputDecoder decoder = primed;
    (void)decoder.Decode(message);
  }
}

// Builds a pgoutput message by hand.
class Msg {
 public:
  explicit Msg(char type) { bytes_.push_back(type); }
  Msg& U8(uint8_t v) { return Put(v, 1); }
  Msg& U16(uint16_t v) { return Put(v, 2); }
  Msg& U32(uint32_t v) { return Put(v, 4); }
  Msg& U64(uint64_t v) { return Put(v, 8); }
  Msg& Str(const std::string& s) {
    bytes_ += s;
    bytes_.push_back('\0');
    return *this;
  }
  Msg& Text(const std::string& s) {
    U8('t').U32(static_cast<uint32_t>(s.size()));
    bytes_ += s;
    return *this;
  }
  operator std::string_view() const { return bytes_; }  // NOLINT: implicit for brevity

 private:
  Msg& Put(uint64_t v, int size) {
    for (int i = size - 1; i >= 0; --i) bytes_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  std::string bytes_;
};

Msg Begin(uint64_t lsn, int64_t time = 0) {
  return std::move(Msg('B').U64(lsn).U64(static_cast<uint64_t>(time)).U32(42));
}
Msg Commit(uint64_t lsn) { return std::move(Msg('C').U8(0).U64(lsn).U64(lsn + 48).U64(0)); }
// Relation 7: public.t (id int4 key, v text).
Msg Relation() {
  return std::move(Msg('R')
                       .U32(7)
                       .Str("public")
                       .Str("t")
                       .U8('d')
                       .U16(2)
                       .U8(1)
                       .Str("id")
                       .U32(23)
                       .U32(0xffffffff)
                       .U8(0)
                       .Str("v")
                       .U32(25)
                       .U32(0xffffffff));
}

// A decoder inside a transaction that knows relation 7.
PgOutputDecoder InTransaction() {
  PgOutputDecoder decoder;
  EXPECT_TRUE(decoder.Decode(Begin(0x100)).ok());
  EXPECT_TRUE(decoder.Decode(Relation()).ok());
  return decoder;
}

std::string ErrorOf(PgOutputDecoder& decoder, std::string_view message) {
  Result<std::vector<SourceEvent>> result = decoder.Decode(message);
  EXPECT_FALSE(result.ok()) << "decoded " << result.value().size() << " events";
  return result.ok() ? "" : result.message();
}

TEST(DecoderTest, BeginIsHeldForOneMessage) {
  PgOutputDecoder decoder;
  Result<std::vector<SourceEvent>> begin = decoder.Decode(Begin(0x1234, 0));
  ASSERT_TRUE(begin.ok()) << begin.message();
  EXPECT_TRUE(begin->empty());
  EXPECT_TRUE(decoder.holding_begin());
  EXPECT_TRUE(decoder.in_transaction());
  Result<std::vector<SourceEvent>> commit = decoder.Decode(Commit(0x1234));
  ASSERT_TRUE(commit.ok()) << commit.message();
  EXPECT_EQ(Kinds(*commit), "BC");
  EXPECT_FALSE(decoder.holding_begin());
  EXPECT_FALSE(decoder.in_transaction());
  const auto& b = std::get<wire::Begin>((*commit)[0]);
  EXPECT_EQ(b.position().value(), "0/1234");
  EXPECT_EQ(b.commit_time_us(), 946684800000000);  // PostgreSQL's epoch, 2000-01-01
  EXPECT_EQ(b.xid(), 42u);
  EXPECT_EQ(b.origin(), "");
}

TEST(DecoderTest, OriginFillsTheHeldBegin) {
  PgOutputDecoder decoder;
  ASSERT_TRUE(decoder.Decode(Begin(0x10)).ok());
  Result<std::vector<SourceEvent>> origin = decoder.Decode(Msg('O').U64(0xabc).Str("east"));
  ASSERT_TRUE(origin.ok()) << origin.message();
  ASSERT_EQ(Kinds(*origin), "B");
  EXPECT_EQ(std::get<wire::Begin>((*origin)[0]).origin(), "east");
  EXPECT_TRUE(decoder.Decode(Commit(0x10)).ok());
}

TEST(DecoderTest, OriginWithoutBeginIsAnError) {
  PgOutputDecoder decoder;
  EXPECT_NE(ErrorOf(decoder, Msg('O').U64(1).Str("x")).find("does not follow a Begin"),
            std::string::npos);
}

TEST(DecoderTest, CommitMustMatchBegin) {
  PgOutputDecoder decoder;
  ASSERT_TRUE(decoder.Decode(Begin(0x1000)).ok());
  const std::string error = ErrorOf(decoder, Commit(0x2000));
  EXPECT_NE(error.find("0/2000"), std::string::npos) << error;
  EXPECT_NE(error.find("0/1000"), std::string::npos) << error;
  PgOutputDecoder fresh;
  EXPECT_NE(ErrorOf(fresh, Commit(0x2000)).find("without a Begin"), std::string::npos);
}

TEST(DecoderTest, BeginInsideATransactionIsAnError) {
  PgOutputDecoder decoder;
  ASSERT_TRUE(decoder.Decode(Begin(0x1000)).ok());
  EXPECT_NE(ErrorOf(decoder, Begin(0x2000)).find("has not committed"), std::string::npos);
}

TEST(DecoderTest, RowChangeOutsideTransactionIsAnError) {
  PgOutputDecoder decoder;
  ASSERT_TRUE(decoder.Decode(Relation()).ok());
  EXPECT_NE(ErrorOf(decoder, Msg('I').U32(7).U8('N').U16(2).Text("1").Text("x"))
                .find("outside a transaction"),
            std::string::npos);
}

TEST(DecoderTest, UnknownRelationIsAnError) {
  PgOutputDecoder decoder = InTransaction();
  const std::string error = ErrorOf(decoder, Msg('I').U32(99).U8('N').U16(0));
  EXPECT_NE(error.find("relation id 99"), std::string::npos) << error;
  EXPECT_NE(ErrorOf(decoder, Msg('T').U32(1).U8(0).U32(99)).find("relation id 99"),
            std::string::npos);
}

TEST(DecoderTest, ErrorsNameMessageAndOffset) {
  PgOutputDecoder decoder = InTransaction();
  const std::string error = ErrorOf(decoder, Msg('I').U32(7).U8('N').U16(2).Text("1").U8('t'));
  EXPECT_NE(error.find("Insert message ('I') at offset 15"), std::string::npos) << error;
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST(DecoderTest, BadTupleContents) {
  PgOutputDecoder decoder = InTransaction();
  std::string error = ErrorOf(decoder, Msg('I').U32(7).U8('N').U16(2).Text("1").U8('b').U32(0));
  EXPECT_NE(error.find("binary value for column v"), std::string::npos) << error;
  error = ErrorOf(decoder, Msg('I').U32(7).U8('N').U16(2).Text("1").U8('q'));
  EXPECT_NE(error.find("unknown tuple value kind 0x71"), std::string::npos) << error;
  error = ErrorOf(decoder, Msg('I').U32(7).U8('N').U16(3).Text("1").Text("x").Text("y"));
  EXPECT_NE(error.find("tuple has 3 columns, relation public.t has 2"), std::string::npos) << error;
  error = ErrorOf(decoder, Msg('I').U32(7).U8('N').U16(2).Text("1").U8('t').U32(0xfffffffe));
  EXPECT_NE(error.find("negative value length"), std::string::npos) << error;
  error = ErrorOf(decoder, Msg('I').U32(7).U8('N').U16(2).Text("1").U8('t').U32(1000).U8('x'));
  EXPECT_NE(error.find("needs 1000 bytes, 1 left"), std::string::npos) << error;
  error = ErrorOf(decoder, Msg('I').U32(7).U8('X').U16(2).Text("1").Text("x"));
  EXPECT_NE(error.find("expected 'N'"), std::string::npos) << error;
  error = ErrorOf(decoder, Msg('U').U32(7).U8('X'));
  EXPECT_NE(error.find("expected 'K', 'O' or 'N'"), std::string::npos) << error;
  error = ErrorOf(decoder, Msg('D').U32(7).U8('N').U16(2).Text("1").Text("x"));
  EXPECT_NE(error.find("expected 'K' or 'O'"), std::string::npos) << error;
}

TEST(DecoderTest, BadValueNamesColumnTableTypeAndText) {
  PgOutputDecoder decoder = InTransaction();
  const std::string error = ErrorOf(decoder, Msg('I').U32(7).U8('N').U16(2).Text("12x").Text("x"));
  EXPECT_NE(error.find("column id of public.t"), std::string::npos) << error;
  EXPECT_NE(error.find("invalid int4 value \"12x\""), std::string::npos) << error;
}

TEST(DecoderTest, UpdateWithoutOldImage) {
  PgOutputDecoder decoder = InTransaction();
  Result<std::vector<SourceEvent>> result =
      decoder.Decode(Msg('U').U32(7).U8('N').U16(2).Text("5").U8('u'));
  ASSERT_TRUE(result.ok()) << result.message();
  ASSERT_EQ(Kinds(*result), "U");
  const auto& row = std::get<wire::RowChange>((*result)[0]);
  EXPECT_TRUE(row.old_values().empty());
  EXPECT_FALSE(row.old_is_key_only());
  EXPECT_EQ(Show(row.new_values()), Show({v::Int(5), v::Unchanged()}));
}

TEST(DecoderTest, TruncateOfSeveralRelationsIsOneChange) {
  PgOutputDecoder decoder = InTransaction();
  ASSERT_TRUE(decoder.Decode(Msg('R').U32(8).Str("public").Str("u").U8('d').U16(0)).ok());
  Result<std::vector<SourceEvent>> events =
      decoder.Decode(Msg('T').U32(2).U8(1).U32(8).U32(7));  // CASCADE, u before t
  ASSERT_TRUE(events.ok()) << events.message();
  ASSERT_EQ(events->size(), 1u);
  const wire::RowChange& row = std::get<wire::RowChange>((*events)[0]);
  EXPECT_EQ(row.op(), wire::RowChange::TRUNCATE);
  EXPECT_EQ(row.relation_id(), 8u);
  EXPECT_EQ(wire::TruncatedRelationIds(row), (std::vector<uint32_t>{8, 7}));
  EXPECT_TRUE(row.cascade());
  EXPECT_FALSE(row.restart_identity());
}

TEST(DecoderTest, TruncateCountIsCheckedBeforeLooping) {
  PgOutputDecoder decoder = InTransaction();
  EXPECT_NE(ErrorOf(decoder, Msg('T').U32(0xffffffff).U8(0).U32(7)).find("4294967295 relations"),
            std::string::npos);
  EXPECT_FALSE(decoder.Decode(Msg('T').U32(2).U8(0).U32(7)).ok());
}

TEST(DecoderTest, UnknownAndUnrequestedMessageTypes) {
  PgOutputDecoder decoder;
  EXPECT_NE(ErrorOf(decoder, "Z").find("unknown message type 0x5a"), std::string::npos);
  EXPECT_NE(
      ErrorOf(decoder, std::string_view("S\x00\x00\x00\x01\x01", 6)).find("protocol version 2"),
      std::string::npos);
  EXPECT_NE(ErrorOf(decoder, "").find("empty"), std::string::npos);
  // A logical decoding message is skipped whatever it holds.
  EXPECT_TRUE(decoder.Decode("M\x01garbage").ok());
}

TEST(DecoderTest, RelationDetails) {
  PgOutputDecoder decoder;
  ASSERT_TRUE(decoder.Decode(Msg('Y').U32(20001).Str("sales").Str("mood")).ok());
  Result<std::vector<SourceEvent>> result = decoder.Decode(Msg('R')
                                                               .U32(9)
                                                               .Str("")
                                                               .Str("catalog_table")
                                                               .U8('i')
                                                               .U16(3)
                                                               .U8(0)
                                                               .Str("m")
                                                               .U32(20001)
                                                               .U32(0xffffffff)
                                                               .U8(0)
                                                               .Str("u")
                                                               .U32(20002)
                                                               .U32(0xffffffff)
                                                               .U8(1)
                                                               .Str("n")
                                                               .U32(1231)
                                                               .U32((12 << 16 | 4) + 4));
  ASSERT_TRUE(result.ok()) << result.message();
  const auto& r = std::get<wire::Relation>((*result)[0]);
  EXPECT_EQ(r.schema(), "pg_catalog");  // pgoutput leaves pg_catalog's name out
  EXPECT_EQ(r.columns(0).source_type(), "sales.mood");
  EXPECT_EQ(r.columns(0).type(), wire::LOGICAL_TYPE_OTHER);
  EXPECT_EQ(r.columns(1).source_type(), "pg_type oid 20002");
  EXPECT_EQ(r.columns(2).source_type(), "numeric(12,4)[]");
  EXPECT_EQ(r.columns(2).element_type(), wire::LOGICAL_TYPE_DECIMAL);
  EXPECT_TRUE(r.columns(2).key());

  const std::string error = ErrorOf(decoder, Msg('R').U32(9).Str("s").Str("t").U8('x').U16(0));
  EXPECT_NE(error.find("unknown replica identity 0x78"), std::string::npos) << error;
}

TEST(DecoderTest, CommitTimeOverflowIsAnError) {
  PgOutputDecoder decoder;
  EXPECT_NE(ErrorOf(decoder, Begin(1, std::numeric_limits<int64_t>::max())).find("out of range"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::capture::postgres
