#include "apply/type_override.h"

#include <gtest/gtest.h>

#include "wire/testing/change_records.h"

namespace ferry::apply {
namespace {

using wire::testing::Bits;
using wire::testing::Bytes;
using wire::testing::Dec;
using wire::testing::Int;
using wire::testing::Uint;

using wire::testing::Text;

// The converted value, or a failed test with the error.
wire::Value Converted(const wire::Value& value, wire::LogicalType to) {
  Result<wire::Value> converted = ConvertValue(value, to);
  EXPECT_TRUE(converted.ok()) << converted.message();
  return converted.ok() ? *converted : wire::Value();
}

std::string ErrorOf(const wire::Value& value, wire::LogicalType to) {
  Result<wire::Value> converted = ConvertValue(value, to);
  EXPECT_FALSE(converted.ok()) << "converted to " << converted->ShortDebugString();
  return converted.message();
}

TEST(TypeOverrideTest, NamesRoundTrip) {
  for (const char* name : {"boolean", "integer", "text", "json", "bytes"}) {
    std::optional<wire::LogicalType> type = OverrideTypeFromName(name);
    ASSERT_TRUE(type.has_value()) << name;
    EXPECT_EQ(OverrideTypeName(*type), name);
  }
  EXPECT_FALSE(OverrideTypeFromName("bool").has_value());
  EXPECT_FALSE(OverrideTypeFromName("").has_value());
}

TEST(TypeOverrideTest, BooleanFromZeroOneAndSingleBits) {
  EXPECT_FALSE(Converted(Int(0), wire::LOGICAL_TYPE_BOOL).boolean());
  EXPECT_TRUE(Converted(Int(1), wire::LOGICAL_TYPE_BOOL).boolean());
  EXPECT_TRUE(Converted(Uint(1), wire::LOGICAL_TYPE_BOOL).boolean());
  EXPECT_TRUE(Converted(Bits("1"), wire::LOGICAL_TYPE_BOOL).boolean());
  EXPECT_FALSE(Converted(Bits("0"), wire::LOGICAL_TYPE_BOOL).has_int64());
  EXPECT_TRUE(Converted(Bits("0"), wire::LOGICAL_TYPE_BOOL).has_boolean());
}

TEST(TypeOverrideTest, BooleanRefusesEverythingElseNamingTheValue) {
  EXPECT_EQ(ErrorOf(Int(2), wire::LOGICAL_TYPE_BOOL),
            "value 2 cannot be converted to boolean: only 0 and 1 are booleans");
  EXPECT_EQ(ErrorOf(Int(-1), wire::LOGICAL_TYPE_BOOL),
            "value -1 cannot be converted to boolean: only 0 and 1 are booleans");
  EXPECT_NE(ErrorOf(Bits("10"), wire::LOGICAL_TYPE_BOOL).find("\"10\""), std::string::npos);
  EXPECT_NE(ErrorOf(Text("yes"), wire::LOGICAL_TYPE_BOOL).find("\"yes\""), std::string::npos);
}

TEST(TypeOverrideTest, IntegerFromBooleansBitsAndWholeDecimals) {
  wire::Value truth;
  truth.set_boolean(true);
  EXPECT_EQ(Converted(truth, wire::LOGICAL_TYPE_INT).int64(), 1);
  EXPECT_EQ(Converted(Bits("101"), wire::LOGICAL_TYPE_INT).uint64(), 5u);
  EXPECT_EQ(Converted(Bits(std::string(64, '1')), wire::LOGICAL_TYPE_INT).uint64(), UINT64_MAX);
  EXPECT_EQ(Converted(Dec("-42"), wire::LOGICAL_TYPE_INT).int64(), -42);
  EXPECT_EQ(Converted(Dec("18446744073709551615"), wire::LOGICAL_TYPE_INT).uint64(), UINT64_MAX);
  EXPECT_EQ(Converted(Dec("7.000"), wire::LOGICAL_TYPE_INT).uint64(), 7u);
  EXPECT_EQ(Converted(Int(-5), wire::LOGICAL_TYPE_INT).int64(), -5);
}

TEST(TypeOverrideTest, IntegerRefusesFractionsAndOverflow) {
  EXPECT_EQ(ErrorOf(Dec("7.5"), wire::LOGICAL_TYPE_INT),
            "value \"7.5\" cannot be converted to integer: it has a fraction");
  EXPECT_NE(ErrorOf(Dec("18446744073709551616"), wire::LOGICAL_TYPE_INT)
                .find("not an integer within 64 bits"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Dec("-9223372036854775809"), wire::LOGICAL_TYPE_INT)
                .find("not an integer within 64 bits"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Dec("NaN"), wire::LOGICAL_TYPE_INT).find("\"NaN\""), std::string::npos);
  EXPECT_NE(ErrorOf(Bits(std::string(65, '1')), wire::LOGICAL_TYPE_INT).find("1 to 64 bits"),
            std::string::npos);
}

TEST(TypeOverrideTest, TextFromScalarsAndUtf8Bytes) {
  EXPECT_EQ(Converted(Int(-3), wire::LOGICAL_TYPE_TEXT).text(), "-3");
  wire::Value real;
  real.set_float64(0.1);
  EXPECT_EQ(Converted(real, wire::LOGICAL_TYPE_TEXT).text(), "0.1");
  wire::Value uuid;
  uuid.set_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(Converted(uuid, wire::LOGICAL_TYPE_TEXT).text(),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(Converted(Bytes("caf\xc3\xa9"), wire::LOGICAL_TYPE_TEXT).text(), "caf\xc3\xa9");
  EXPECT_EQ(ErrorOf(Bytes("caf\xe9"), wire::LOGICAL_TYPE_TEXT),
            "value a 4-byte binary value cannot be converted to text: its bytes are not valid "
            "UTF-8");
}

TEST(TypeOverrideTest, JsonAndBytesFromText) {
  EXPECT_EQ(Converted(Text("{\"a\":1}"), wire::LOGICAL_TYPE_JSON).json(), "{\"a\":1}");
  EXPECT_EQ(Converted(Text("abc"), wire::LOGICAL_TYPE_BYTES).bytes(), "abc");
  EXPECT_NE(ErrorOf(Int(1), wire::LOGICAL_TYPE_JSON).find("json comes from json or text"),
            std::string::npos);
}

TEST(TypeOverrideTest, NullAndUnchangedPassThrough) {
  wire::Value null;
  null.mutable_null();
  EXPECT_TRUE(Converted(null, wire::LOGICAL_TYPE_BOOL).has_null());
  wire::Value unchanged;
  unchanged.mutable_unchanged();
  EXPECT_TRUE(Converted(unchanged, wire::LOGICAL_TYPE_INT).has_unchanged());
}

// flags(id int key, active tinyint(1)) with `types: {active: boolean}`.
MappedRelation FlagsWithBooleanOverride() {
  wire::Relation relation;
  relation.set_schema("app");
  relation.set_table("flags");
  wire::Column* id = relation.add_columns();
  id->set_name("id");
  id->set_type(wire::LOGICAL_TYPE_INT);
  id->set_key(true);
  wire::Column* active = relation.add_columns();
  active->set_name("active");
  active->set_source_type("tinyint(1)");
  active->set_type(wire::LOGICAL_TYPE_INT);
  MappingRule rule;
  rule.source = "app.flags";
  rule.types = {{"active", wire::LOGICAL_TYPE_BOOL}};
  Result<MappedRelation> mapped = TableMapper({rule}).Map(relation);
  EXPECT_TRUE(mapped.ok()) << mapped.message();
  return mapped.ok() ? *mapped : MappedRelation();
}

TEST(TypeOverrideTest, ConvertRowConvertsBothImagesOfOverriddenColumnsOnly) {
  MappedRelation relation = FlagsWithBooleanOverride();
  ASSERT_TRUE(relation.converts);
  EXPECT_EQ(relation.columns[1].source.type(), wire::LOGICAL_TYPE_BOOL);
  wire::RowChange change;
  change.set_op(wire::RowChange::UPDATE);
  *change.add_old_values() = Int(1);
  *change.add_old_values() = Int(0);
  *change.add_new_values() = Int(1);
  *change.add_new_values() = Int(1);
  ASSERT_TRUE(ConvertRow(relation, change).ok());
  EXPECT_EQ(change.old_values(0).int64(), 1);  // id is not overridden
  EXPECT_FALSE(change.old_values(1).boolean());
  EXPECT_TRUE(change.new_values(1).boolean());
}

TEST(TypeOverrideTest, ConvertRowErrorNamesTableColumnValueAndMapping) {
  MappedRelation relation = FlagsWithBooleanOverride();
  wire::RowChange change;
  change.set_op(wire::RowChange::INSERT);
  *change.add_new_values() = Int(7);
  *change.add_new_values() = Int(2);
  Status status = ConvertRow(relation, change);
  EXPECT_EQ(status.message(),
            "table app.flags, column active (mapping types: {active: boolean}): value 2 cannot "
            "be converted to boolean: only 0 and 1 are booleans");
}

TEST(TypeOverrideTest, MapperRefusesAnOverrideOfAMissingColumn) {
  wire::Relation relation;
  relation.set_schema("app");
  relation.set_table("flags");
  wire::Column* id = relation.add_columns();
  id->set_name("id");
  id->set_key(true);
  MappingRule rule;
  rule.source = "app.flags";
  rule.types = {{"actve", wire::LOGICAL_TYPE_BOOL}};
  Result<MappedRelation> mapped = TableMapper({rule}).Map(relation);
  ASSERT_FALSE(mapped.ok());
  EXPECT_EQ(mapped.message(),
            "mapping app.flags: gives column actve the type boolean, but app.flags has no column "
            "actve: fix the column name in the mapping's types");
}

TEST(TypeOverrideTest, RelationWithoutOverridesDoesNotConvert) {
  wire::Relation relation;
  relation.set_schema("app");
  relation.set_table("flags");
  relation.add_columns()->set_name("id");
  Result<MappedRelation> mapped = TableMapper().Map(relation);
  ASSERT_TRUE(mapped.ok());
  EXPECT_FALSE(mapped->converts);
  EXPECT_FALSE(mapped->columns[0].convert_to.has_value());
}

}  // namespace
}  // namespace ferry::apply
