#include "apply/conflict_record.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ferry::apply {
namespace {

// public.t(id key, note, n), mapped from src.t(id, note, n).
MappedRelation Relation() {
  MappedRelation relation;
  relation.target_schema = "public";
  relation.target_table = "t";
  relation.has_key = true;
  int index = 0;
  for (const char* name : {"id", "note", "n"}) {
    MappedColumn column;
    column.source_index = index++;
    column.target_name = name;
    column.key = column.target_name == "id";
    relation.columns.push_back(column);
  }
  return relation;
}

wire::Value Int(int64_t value) {
  wire::Value out;
  out.set_int64(value);
  return out;
}

wire::Value Text(const std::string& value) {
  wire::Value out;
  out.set_text(value);
  return out;
}

wire::Value Null() {
  wire::Value out;
  out.mutable_null();
  return out;
}

wire::Value Unchanged() {
  wire::Value out;
  out.mutable_unchanged();
  return out;
}

google::protobuf::RepeatedPtrField<wire::Value> Image(std::vector<wire::Value> values) {
  google::protobuf::RepeatedPtrField<wire::Value> image;
  for (wire::Value& value : values) *image.Add() = std::move(value);
  return image;
}

// --- ImageJson -------------------------------------------------------------------------------

TEST(ConflictRecordTest, ImageJsonNamesTargetColumns) {
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1), Text("hi"), Int(-3)})),
            R"({"id":"1","n":"-3","note":"hi"})");
}

TEST(ConflictRecordTest, ImageJsonWritesNullAsNull) {
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1), Null(), Int(2)})),
            R"({"id":"1","n":"2","note":null})");
}

TEST(ConflictRecordTest, ImageJsonLeavesOutUnchangedValues) {
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1), Unchanged(), Int(2)})), R"({"id":"1","n":"2"})");
}

TEST(ConflictRecordTest, ImageJsonKeepsOnlyTheColumnsAsked) {
  const std::vector<std::string> only = {"id"};
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1), Text("hi"), Int(2)}), &only), R"({"id":"1"})");
  const std::vector<std::string> two = {"n", "note"};
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1), Unchanged(), Int(2)}), &two), R"({"n":"2"})");
  const std::vector<std::string> none;
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1), Text("hi"), Int(2)}), &none), "{}");
}

TEST(ConflictRecordTest, ImageJsonUsesRenamedAndSkipsUnmappedColumns) {
  MappedRelation relation = Relation();
  relation.columns[1].target_name = "remark";
  relation.columns.erase(relation.columns.begin() + 2);  // n excluded
  EXPECT_EQ(ImageJson(relation, Image({Int(1), Text("hi"), Int(2)})),
            R"({"id":"1","remark":"hi"})");
}

TEST(ConflictRecordTest, ImageJsonIgnoresColumnsBeyondTheImage) {
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1)})), R"({"id":"1"})");
  EXPECT_EQ(ImageJson(Relation(), Image({})), "{}");
}

TEST(ConflictRecordTest, LongValuesAreShortenedSayingTheirLength) {
  const std::string fits(kMaxLoggedValueBytes, 'x');
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1), Text(fits), Int(2)})),
            R"({"id":"1","n":"2","note":")" + fits + R"("})");

  const std::string longer(kMaxLoggedValueBytes + 1, 'y');
  EXPECT_EQ(ImageJson(Relation(), Image({Int(1), Text(longer), Int(2)})),
            R"({"id":"1","n":"2","note":")" + std::string(kMaxLoggedValueBytes, 'y') + "... (" +
                std::to_string(kMaxLoggedValueBytes + 1) + " bytes)\"}");

  const std::string huge(1 << 20, 'z');
  const std::string json = TextRowJson({"v"}, {huge});
  EXPECT_LT(json.size(), 2 * kMaxLoggedValueBytes);
  EXPECT_NE(json.find("... (1048576 bytes)"), std::string::npos);
}

TEST(ConflictRecordTest, InvalidUtf8DoesNotThrow) {
  std::string json;
  EXPECT_NO_THROW(json = ImageJson(Relation(), Image({Int(1),
                                                      Text("a\xff\xfe"
                                                           "b"),
                                                      Int(2)})));
  EXPECT_NE(json.find(R"("id":"1")"), std::string::npos) << json;
  EXPECT_NE(json.find("\xEF\xBF\xBD"), std::string::npos) << json;  // U+FFFD replaces the bytes

  EXPECT_NO_THROW(json = TextRowJson({"v"}, {std::string("\xc3\x28")}));
  EXPECT_FALSE(json.empty());

  // Shortening may cut a multi-byte character in two.
  const std::string cut = std::string(kMaxLoggedValueBytes - 1, 'a') + "\xc3\xa9\xc3\xa9";
  EXPECT_NO_THROW(json = TextRowJson({"v"}, {cut}));
  EXPECT_NE(json.find("bytes)"), std::string::npos) << json;
}

// --- LoggedValue -----------------------------------------------------------------------------

TEST(ConflictRecordTest, LoggedValueOfEachKind) {
  wire::Value value;
  value.set_boolean(true);
  EXPECT_EQ(LoggedValue(value), "true");
  value.set_boolean(false);
  EXPECT_EQ(LoggedValue(value), "false");
  value.set_int64(-42);
  EXPECT_EQ(LoggedValue(value), "-42");
  value.set_uint64(18446744073709551615ULL);
  EXPECT_EQ(LoggedValue(value), "18446744073709551615");
  value.set_float64(1.5);
  EXPECT_EQ(LoggedValue(value), "1.5");
  value.set_float64(-0.25);
  EXPECT_EQ(LoggedValue(value), "-0.25");
  value.set_bytes(std::string("\x00\x0f\xab\xff", 4));
  EXPECT_EQ(LoggedValue(value), "\\x000fabff");
  value.set_bytes("");
  EXPECT_EQ(LoggedValue(value), "\\x");
  value.set_decimal("-0.50");
  EXPECT_EQ(LoggedValue(value), "-0.50");
  value.set_text("hello");
  EXPECT_EQ(LoggedValue(value), "hello");
  value.set_date("2024-02-29");
  EXPECT_EQ(LoggedValue(value), "2024-02-29");
  value.set_timestamp_tz("2024-02-29 12:00:00+00");
  EXPECT_EQ(LoggedValue(value), "2024-02-29 12:00:00+00");
  value.set_json(R"({"a":1})");
  EXPECT_EQ(LoggedValue(value), R"({"a":1})");
  value.set_uuid("0b5e8f3c-0000-4000-8000-000000000001");
  EXPECT_EQ(LoggedValue(value), "0b5e8f3c-0000-4000-8000-000000000001");
  value.set_bits("0101");
  EXPECT_EQ(LoggedValue(value), "0101");
}

TEST(ConflictRecordTest, LoggedValueOfAnArray) {
  wire::Value value;
  wire::ArrayValue* array = value.mutable_array();
  *array->add_elements() = Int(1);
  *array->add_elements() = Null();
  *array->add_elements() = Text("x");
  EXPECT_EQ(LoggedValue(value), "{1,NULL,x}");

  wire::Value empty;
  empty.mutable_array();
  EXPECT_EQ(LoggedValue(empty), "{}");

  wire::Value nested;
  *nested.mutable_array()->add_elements() = value;
  EXPECT_EQ(LoggedValue(nested), "{{1,NULL,x}}");
}

TEST(ConflictRecordTest, LoggedValueOfNullIsNone) {
  EXPECT_EQ(LoggedValue(Null()), std::nullopt);
  EXPECT_EQ(LoggedValue(Unchanged()), std::nullopt);
  EXPECT_EQ(LoggedValue(wire::Value()), std::nullopt);
}

// --- TextRowJson, Summary --------------------------------------------------------------------

TEST(ConflictRecordTest, TextRowJson) {
  EXPECT_EQ(TextRowJson({"id", "note", "n"}, {"1", std::nullopt, "7"}),
            R"({"id":"1","n":"7","note":null})");
  EXPECT_EQ(TextRowJson({}, {}), "{}");
  // Only the values that have a name (and the names that have a value).
  EXPECT_EQ(TextRowJson({"id", "note"}, {"1"}), R"({"id":"1"})");
  EXPECT_EQ(TextRowJson({"id"}, {"1", "2"}), R"({"id":"1"})");
  // Quotes and control characters are escaped.
  EXPECT_EQ(TextRowJson({"v"}, {"a\"b\n"}), R"({"v":"a\"b\n"})");
}

TEST(ConflictRecordTest, SummaryIsOneLine) {
  ConflictRecord record;
  record.table = "public.t";
  record.key = R"({"id":"1"})";
  record.type = conflict::ConflictType::kUpdateDiffers;
  record.resolver = "last_writer_wins(ts)";
  record.outcome = conflict::Outcome::kAppliedRemote;
  record.reason = "remote ts is later";
  EXPECT_EQ(Summary(record),
            R"(public.t {"id":"1"}: update_differs, last_writer_wins(ts): applied_remote )"
            R"((remote ts is later))");

  record.type = conflict::ConflictType::kDeleteMissing;
  record.resolver = "skip";
  record.outcome = conflict::Outcome::kSkipped;
  record.reason.clear();
  EXPECT_EQ(Summary(record), R"(public.t {"id":"1"}: delete_missing, skip: skipped)");
}

}  // namespace
}  // namespace ferry::apply
