#include "apply/mysql/mysql_sql.h"

#include <gtest/gtest.h>

#include <limits>

#include "common/mysql_dsn.h"
#include "wire/testing/change_records.h"

namespace ferry::apply::mysql {
namespace {

wire::Column MakeColumn(const std::string& name, bool key) {
  wire::Column column;
  column.set_name(name);
  column.set_key(key);
  return column;
}

// app.t(id key, a, b) mapped onto itself; with a full image every column is flagged key.
MappedRelation Relation(bool full_old_image = false, bool keyless = false) {
  wire::Relation relation;
  relation.set_schema("app");
  relation.set_table("t");
  relation.set_full_old_image(full_old_image);
  *relation.add_columns() = MakeColumn("id", !keyless);
  *relation.add_columns() = MakeColumn("a", full_old_image);
  *relation.add_columns() = MakeColumn("b", full_old_image);
  Result<MappedRelation> mapped = TableMapper().Map(relation);
  EXPECT_TRUE(mapped.ok()) << mapped.message();
  return *mapped;
}

ColumnType IntType() { return {"int", "int(11)", {}, 10, 0, {}}; }
ColumnType TextType() { return {"varchar", "varchar(10)", 10, {}, {}, {}}; }
ColumnType DecimalType() { return {"decimal", "decimal(65,30)", {}, 65, 30, {}}; }

TargetTable Target(std::vector<UniqueIndex> indexes = {}, bool a_nullable = true) {
  TargetTable target;
  target.schema = "app";
  target.table = "t";
  target.columns = {
      {"id", IntType(), false}, {"a", TextType(), a_nullable}, {"b", DecimalType(), true}};
  target.unique_indexes = std::move(indexes);
  return target;
}

const UniqueIndex kPrimary{{"id"}, true, false};

using wire::testing::Dec;
using wire::testing::Int;
using wire::testing::Null;
using wire::testing::Text;
using wire::testing::Unchanged;

google::protobuf::RepeatedPtrField<wire::Value> Image(std::vector<wire::Value> values) {
  google::protobuf::RepeatedPtrField<wire::Value> image;
  for (const wire::Value& value : values) *image.Add() = value;
  return image;
}

TEST(MysqlSqlTest, QuoteIdentUsesBackticks) {
  EXPECT_EQ(QuoteIdent("orders"), "`orders`");
  EXPECT_EQ(QuoteIdent("we`ird name"), "`we``ird name`");
  EXPECT_EQ(Target().quoted(), "`app`.`t`");
}

TEST(MysqlSqlTest, ComparePlaceholderCastsDecimalsJsonAndFloats) {
  EXPECT_EQ(ComparePlaceholder(DecimalType()), "CAST(? AS DECIMAL(65,30))");
  EXPECT_EQ(ComparePlaceholder({"json", "json", {}, {}, {}, {}}), "CAST(? AS JSON)");
  EXPECT_EQ(ComparePlaceholder({"float", "float", {}, {}, {}, {}}), "CAST(? AS FLOAT)");
  EXPECT_EQ(ComparePlaceholder({"double", "double", {}, {}, {}, {}}), "?");
  EXPECT_EQ(ComparePlaceholder(IntType()), "?");
  EXPECT_EQ(ComparePlaceholder({"longtext", "longtext", {}, {}, {}, {}}), "?");
}

TEST(MysqlSqlTest, BindImageConvertsByTargetTypeAndSkipsUnchanged) {
  Result<std::vector<BoundColumn>> bound =
      BindImage(Relation(), Target(), Image({Int(7), Unchanged(), Dec("-0.50")}));
  ASSERT_TRUE(bound.ok()) << bound.message();
  ASSERT_EQ(bound->size(), 2u);
  EXPECT_EQ((*bound)[0].name, "id");
  EXPECT_EQ((*bound)[0].value, Param::Int64(7));
  EXPECT_EQ((*bound)[0].placeholder, "?");
  EXPECT_EQ((*bound)[1].name, "b");
  EXPECT_EQ((*bound)[1].value, Param::String("-0.5"));
  EXPECT_EQ((*bound)[1].placeholder, "CAST(? AS DECIMAL(65,30))");
}

TEST(MysqlSqlTest, BindImageErrorsNameTheColumn) {
  Result<std::vector<BoundColumn>> bound =
      BindImage(Relation(), Target(), Image({Int(1), Text("much too long"), Null()}));
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.message(),
            "column a: value 'much too long' cannot be held exactly by varchar(10) (13 "
            "characters, the column holds 10): widen or change the target column");

  TargetTable narrow = Target();
  narrow.columns.pop_back();
  bound = BindImage(Relation(), narrow, Image({Int(1), Null(), Null()}));
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.message(),
            "target table app.t has no column b (from source column b): add it on the target, or "
            "rename or exclude it in the mapping");

  bound = BindImage(Relation(), Target(), Image({Int(1)}));
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.message(),
            "row has 1 values but relation app.t has 3 columns: the change stream is malformed");
}

// A unique index on a nullable column may hold several NULL rows: not an identity.
TEST(MysqlSqlTest, UniqueIndexOnNotNullColumnsIsAnIdentity) {
  const UniqueIndex on_a{{"a"}, false, false};
  TargetTable not_null = Target({kPrimary, on_a}, /*a_nullable=*/false);
  FlagIdentityIndexes(&not_null);
  EXPECT_TRUE(not_null.unique_indexes[0].identity);
  EXPECT_TRUE(not_null.unique_indexes[1].identity);
  EXPECT_EQ(MatchColumns(Relation(true), {on_a}), (std::vector<std::string>{"id", "a", "b"}));
  EXPECT_EQ(MatchColumns(Relation(true), {not_null.unique_indexes[1]}),
            std::vector<std::string>{"a"});

  TargetTable nullable = Target({on_a, {{"id", "missing"}, false, false}}, /*a_nullable=*/true);
  FlagIdentityIndexes(&nullable);
  EXPECT_FALSE(nullable.unique_indexes[0].identity);
  EXPECT_FALSE(nullable.unique_indexes[1].identity);  // a column the target lacks
}

TEST(MysqlSqlTest, Statements) {
  const BoundColumn id{"id", Param::Int64(1)};
  const BoundColumn a{"a", Param::Null()};
  const BoundColumn b{"b", Param::String("2.5"), "CAST(? AS DECIMAL(65,30))"};

  Statement insert = InsertStatement(Target(), {id, a, b});
  EXPECT_EQ(insert.sql, "INSERT INTO `app`.`t` (`id`, `a`, `b`) VALUES (?, ?, ?)");
  EXPECT_EQ(insert.params,
            (std::vector<Param>{Param::Int64(1), Param::Null(), Param::String("2.5")}));
  EXPECT_EQ(InsertStatement(Target(), {}).sql, "INSERT INTO `app`.`t` () VALUES ()");

  Statement update = UpdateStatement(Target(), {a}, {id, b}, false);
  EXPECT_EQ(update.sql,
            "UPDATE `app`.`t` SET `a` = ? WHERE `id` <=> ? AND `b` <=> CAST(? AS DECIMAL(65,30))");
  EXPECT_EQ(update.params,
            (std::vector<Param>{Param::Null(), Param::Int64(1), Param::String("2.5")}));
  EXPECT_EQ(UpdateStatement(Target(), {}, {id}, true).sql,
            "UPDATE `app`.`t` SET `id` = `id` WHERE `id` <=> ? LIMIT 1");

  Statement remove = DeleteStatement(Target(), {id, a}, true);
  EXPECT_EQ(remove.sql, "DELETE FROM `app`.`t` WHERE `id` <=> ? AND `a` <=> ? LIMIT 1");
  EXPECT_EQ(remove.params, (std::vector<Param>{Param::Int64(1), Param::Null()}));
  EXPECT_EQ(DeleteAllStatement(Target()).sql, "DELETE FROM `app`.`t`");
}

// Resolver delta: each counter column becomes itself plus (add - subtract), NULLs counted as 0;
// the other columns are set as in an update.
TEST(MysqlSqlTest, MergeAddsEachDeltaToItsColumn) {
  const BoundColumn id{"id", Param::Int64(1)};
  const BoundColumn a{"a", Param::String("x")};
  const BoundColumn b_add{"b", Param::String("5.5"), "CAST(? AS DECIMAL(65,30))"};
  const BoundColumn b_subtract{"b", Param::String("2"), "CAST(? AS DECIMAL(65,30))"};
  const BoundColumn id_add{"id", Param::Int64(3)};
  Statement merge =
      MergeStatement(Target(), {a}, {{b_add, b_subtract}, {id_add, std::nullopt}}, {id});
  EXPECT_EQ(merge.sql,
            "UPDATE `app`.`t` SET `a` = ?, `b` = COALESCE(`b`, 0) + (COALESCE(CAST(? AS "
            "DECIMAL(65,30)), 0) - COALESCE(CAST(? AS DECIMAL(65,30)), 0)), `id` = COALESCE(`id`, "
            "0) + (COALESCE(?, 0)) WHERE `id` <=> ?");
  EXPECT_EQ(merge.params,
            (std::vector<Param>{Param::String("x"), Param::String("5.5"), Param::String("2"),
                                Param::Int64(3), Param::Int64(1)}));
}

TEST(MysqlSqlTest, DeleteRangeComparesKeysAsRowsAndKeepsTheKeysKept) {
  const BoundColumn a1{"a", Param::Int64(1)};
  const BoundColumn b1{"b", Param::String("x")};
  const BoundColumn a2{"a", Param::Int64(9)};
  const BoundColumn b2{"b", Param::String("q"), "CAST(? AS CHAR)"};
  Statement range = DeleteRangeStatement(Target(), std::vector<BoundColumn>{a1, b1},
                                         std::vector<BoundColumn>{a2, b2}, {{a1, b2}});
  EXPECT_EQ(range.sql,
            "DELETE FROM `app`.`t` WHERE (`a`, `b`) > (?, ?) AND (`a`, `b`) <= (?, CAST(? AS "
            "CHAR)) AND (`a`, `b`) NOT IN ((?, CAST(? AS CHAR)))");
  EXPECT_EQ(range.params,
            (std::vector<Param>{Param::Int64(1), Param::String("x"), Param::Int64(9),
                                Param::String("q"), Param::Int64(1), Param::String("q")}));
  EXPECT_EQ(DeleteRangeStatement(Target(), std::nullopt, std::nullopt, {{a1, b1}}).sql,
            "DELETE FROM `app`.`t` WHERE (`a`, `b`) NOT IN ((?, ?))");
}

std::string Literal(const Param& param) {
  std::string out = "|";
  AppendLiteral(param, &out);
  return out;
}

TEST(MysqlSqlTest, LiteralsEscapeWhatAQuotedStringMustNotHold) {
  EXPECT_EQ(Literal(Param::Null()), "|NULL");
  EXPECT_EQ(Literal(Param::Int64(std::numeric_limits<int64_t>::min())), "|-9223372036854775808");
  EXPECT_EQ(Literal(Param::UInt64(std::numeric_limits<uint64_t>::max())), "|18446744073709551615");
  // A double always has an exponent: 3 would be an integer, 0.1 a DECIMAL.
  EXPECT_EQ(Literal(Param::Double(3)), "|3e0");
  EXPECT_EQ(Literal(Param::Double(0.1)), "|0.1e0");
  EXPECT_EQ(Literal(Param::Double(-1e300)), "|-1e+300");
  EXPECT_EQ(Literal(Param::String("plain ünï")), "|'plain ünï'");
  EXPECT_EQ(Literal(Param::String(std::string("'\"\\\0\n\r\x1a\t%_", 10))),
            "|'\\'\\\"\\\\\\0\\n\\r\\Z\t%_'");
  EXPECT_EQ(Literal(Param::String("")), "|''");
  EXPECT_EQ(Literal(Param::Bytes(std::string("\x00\xff'", 3))), "|X'00FF27'");
  EXPECT_EQ(Literal(Param::Bytes("")), "|X''");
}

TEST(MysqlSqlTest, CopyStatementPieces) {
  const TargetTable target = Target();  // the columns point into it
  Result<std::vector<CopyColumn>> columns = CopyColumns(Relation(), target);
  ASSERT_TRUE(columns.ok()) << columns.message();
  EXPECT_EQ(CopyInsertHead(Target(), *columns), "INSERT INTO `app`.`t` (`id`, `a`, `b`) VALUES ");
  EXPECT_EQ(CopyInsertTail(*columns, nullptr), "");
  const std::vector<std::string> key = {"id"};
  EXPECT_EQ(CopyInsertTail(*columns, &key),
            " ON DUPLICATE KEY UPDATE `id` = IF(`id` <=> VALUES(`id`), `id`, NULL), `a` = "
            "VALUES(`a`), `b` = VALUES(`b`)");
  const std::vector<std::string> pair = {"a", "id"};
  EXPECT_EQ(CopyInsertTail(*columns, &pair),
            " ON DUPLICATE KEY UPDATE `a` = IF(`a` <=> VALUES(`a`) AND `id` <=> VALUES(`id`), `a`, "
            "NULL), `b` = VALUES(`b`)");

  std::string tuples = "VALUES ";
  ASSERT_TRUE(
      AppendCopyTuple(Relation(), *columns, Image({Int(7), Text("it's"), Dec("-0.50")}), &tuples)
          .ok());
  ASSERT_TRUE(AppendCopyTuple(Relation(), *columns, Image({Int(8), Null(), Null()}), &tuples).ok());
  EXPECT_EQ(tuples, "VALUES (7, 'it\\'s', '-0.5')(8, NULL, NULL)");

  EXPECT_EQ(
      AppendCopyTuple(Relation(), *columns, Image({Int(1), Text("much too long"), Null()}), &tuples)
          .message(),
      "column a: value 'much too long' cannot be held exactly by varchar(10) (13 characters, the "
      "column holds 10): widen or change the target column");
  EXPECT_EQ(AppendCopyTuple(Relation(), *columns, Image({Int(1)}), &tuples).message(),
            "row has 1 values but relation app.t has 3 columns: the change stream is malformed");

  TargetTable narrow = Target();
  narrow.columns.pop_back();
  EXPECT_EQ(CopyColumns(Relation(), narrow).message(),
            "target table app.t has no column b (from source column b): add it on the target, or "
            "rename or exclude it in the mapping");
}

// The sink's connection string: the shared parser (common/mysql_dsn.h) in the target's role.
Result<MysqlDsn> ParseDsn(const std::string& text) {
  return ParseMysqlDsn(text, MysqlDsnRole::kTarget);
}

TEST(MysqlSqlTest, ParseDsn) {
  Result<MysqlDsn> dsn = ParseDsn(
      "host=db.example port=3307 user=ferry password='p a\\'ss' dbname=app connect_timeout=5 "
      "read_timeout=30");
  ASSERT_TRUE(dsn.ok()) << dsn.message();
  EXPECT_EQ(dsn->host, "db.example");
  EXPECT_EQ(dsn->port, 3307);
  EXPECT_EQ(dsn->user, "ferry");
  EXPECT_EQ(dsn->password, "p a'ss");
  EXPECT_EQ(dsn->dbname, "app");
  EXPECT_EQ(dsn->connect_timeout_s, 5u);
  EXPECT_EQ(dsn->read_timeout_s, 30u);
  EXPECT_FALSE(dsn->write_timeout_s.has_value());

  Result<MysqlDsn> defaults = ParseDsn("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->host, "127.0.0.1");
  EXPECT_EQ(defaults->port, 3306);
  EXPECT_EQ(ParseDsn("password=''").value().password, "");

  // sslmode is a key now (issue 12): a misspelt one stands for the unknown key. The TLS keys join
  // the list; a number's error no longer shows the value.
  EXPECT_NE(ParseDsn("host=x sslmod=require")
                .message()
                .find("target dsn: an unknown key (known: host, port, user, password, dbname, "
                      "socket, connect_timeout, read_timeout, write_timeout, sslmode, sslrootcert, "
                      "sslcert, sslkey;"),
            std::string::npos);
  EXPECT_EQ(ParseDsn("port=70000").message(),
            "target dsn: port must be a whole number from 0 to 65535 (the connection string's "
            "text is not shown: it may hold a password)");
  EXPECT_FALSE(ParseDsn("port=33x").ok());
  EXPECT_FALSE(ParseDsn("password='open").ok());
  EXPECT_TRUE(ParseDsn("host").message().find("is not key=value") != std::string::npos);
}

// An unquoted password with a space splits into words the parser cannot read; its errors never
// show them (they reach the log, /status and the other agent).
TEST(MysqlDsnTest, ErrorsNeverShowAPassword) {
  for (const std::string dsn : {"user=a password=top secret", "user=a password=top sec=ret",
                                "user=a password='top secret"}) {
    const std::string message = ParseDsn(dsn).message();
    EXPECT_FALSE(message.empty()) << dsn;
    EXPECT_EQ(message.find("top"), std::string::npos) << message;
    EXPECT_EQ(message.find("sec"), std::string::npos) << message;
  }
}

TEST(MysqlBatchTest, InlineParamsPutsLiteralsWhereThePlaceholdersAre) {
  Statement statement;
  statement.sql =
      "UPDATE `d`.`t?` SET `a` = ? WHERE `id` <=> CAST(? AS DECIMAL(5,2)) AND `b` <=> ?";
  statement.params = {Param::String("it's"), Param::String("1.50"), Param::Null()};
  EXPECT_EQ(InlineParams(statement),
            "UPDATE `d`.`t?` SET `a` = 'it\\'s' WHERE `id` <=> CAST('1.50' AS DECIMAL(5,2)) AND "
            "`b` <=> NULL");
  statement.sql = "DELETE FROM `a``?` WHERE `x` <=> ? AND `y` <=> ?";
  statement.params = {Param::Int64(-3), Param::Bytes(std::string("\x00\xff", 2))};
  EXPECT_EQ(InlineParams(statement), "DELETE FROM `a``?` WHERE `x` <=> -3 AND `y` <=> X'00FF'");
}

TEST(MysqlBatchTest, ABatchRecordsEachRowCountAndReturnsThem) {
  EXPECT_EQ(BatchStatement({{"UPDATE t SET a = 1", BatchEntry::kRows},
                            {"INSERT INTO t VALUES (1)", BatchEntry::kInsert}}),
            "BEGIN NOT ATOMIC SET @ferry_counts = NULL; UPDATE t SET a = 1; SET @ferry_counts = "
            "CONCAT_WS(',', @ferry_counts, ROW_COUNT()); INSERT INTO t VALUES (1); SET "
            "@ferry_counts = CONCAT_WS(',', @ferry_counts, ROW_COUNT()); SELECT @ferry_counts; "
            "END");
  EXPECT_EQ(ParseBatchCounts(std::string("1,0,12")).value(), (std::vector<uint64_t>{1, 0, 12}));
  EXPECT_TRUE(ParseBatchCounts(std::nullopt).value().empty());
  EXPECT_TRUE(ParseBatchCounts(std::string("")).value().empty());
  EXPECT_FALSE(ParseBatchCounts(std::string("1,x")).ok());
  EXPECT_FALSE(ParseBatchCounts(std::string("1,")).ok());
  EXPECT_FALSE(ParseBatchCounts(std::string("-1")).ok());
}

TEST(MysqlBatchTest, KeysAreEqualWhenTheTargetTakesThemForTheSameRow) {
  auto key = [](std::vector<Param> values) {
    std::vector<BoundColumn> columns;
    for (Param& value : values) columns.push_back({"c", std::move(value)});
    return EncodeBatchKey(columns);
  };
  EXPECT_EQ(key({Param::Int64(5)}), key({Param::UInt64(5)}));
  EXPECT_NE(key({Param::Int64(5)}), key({Param::Int64(6)}));
  EXPECT_NE(key({Param::Int64(1), Param::Int64(23)}), key({Param::Int64(12), Param::Int64(3)}));
  EXPECT_NE(key({Param::Null()}), key({Param::Int64(0)}));
  EXPECT_NE(key({Param::Bytes("a;")}), key({Param::Bytes("a")}));
  // Collations may equate different strings; a FLOAT column may round two doubles alike.
  EXPECT_EQ(key({Param::Int64(1), Param::String("a")}), key({Param::Int64(2), Param::String("B")}));
  EXPECT_EQ(key({Param::Double(1.5)}), key({Param::Double(2.5)}));
}

}  // namespace
}  // namespace ferry::apply::mysql
