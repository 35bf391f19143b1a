// create_tables: true, in every direction, through the real ferry binary: the target starts with
// no tables at all; the apply agent creates each from its source relation through the type
// mapping (with the primary key, none for a table without one) before the copy's first chunk or
// the stream's first change, and the rows that arrive are the source's, value for value; after a
// table's copy, the source's secondary indexes the target can hold, on tables it created only.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/harness/replication_setup.h"
#include "tests/integration/directions.h"

namespace ferry::testing {
namespace {

using std::chrono::seconds;

// A variety of types on each engine. `items` has an integer key, `tags` a composite key with a
// text part, `notes` no key.
constexpr char kPgSchema[] = R"sql(
  CREATE TABLE items (id bigint PRIMARY KEY, small smallint, amount numeric(12,2), big numeric,
    name varchar(40), note text, raw bytea, born date, at timestamp, seen timestamptz,
    doc jsonb, flag boolean);
  CREATE TABLE tags (a int, b text, val int, PRIMARY KEY (a, b));
  CREATE TABLE notes (body varchar(50), n int);
)sql";

constexpr char kMariaSchema[] = R"sql(
  CREATE TABLE items (id bigint unsigned PRIMARY KEY, small tinyint, amount decimal(12,2),
    big decimal(30,10), name varchar(40), note text, raw blob, born date, at datetime(6),
    seen timestamp(6) NULL, doc json, flag tinyint(1), u int unsigned);
  CREATE TABLE tags (a int, b varchar(20), val int, PRIMARY KEY (a, b));
  CREATE TABLE notes (body varchar(50), n int);
)sql";

constexpr char kPgRows[] = R"sql(
  INSERT INTO items SELECT g, g % 100, g * 1.25, g / 8.0, 'name ' || g, repeat('x', g % 20),
    decode(lpad(to_hex(g), 8, '0'), 'hex'), '2024-02-29'::date + g,
    '2024-02-29 13:45:10.123456'::timestamp + g * interval '1 minute',
    '2024-02-29 13:45:10.5+02'::timestamptz + g * interval '1 second',
    ('{"n": ' || g || ', "tags": ["a", "b"]}')::jsonb, g % 2 = 0
  FROM generate_series(1, 300) g;
  INSERT INTO items (id, name) VALUES (1000, 'mostly null');
  INSERT INTO tags SELECT g, b, g * 10 FROM generate_series(1, 50) g,
    unnest(ARRAY['x', 'y', 'long text part']) b;
  INSERT INTO notes SELECT 'note ' || g, g FROM generate_series(1, 20) g;
  INSERT INTO notes VALUES ('note 1', 1);
)sql";

constexpr char kMariaRows[] = R"sql(
  SET time_zone = '+00:00';
  INSERT INTO items SELECT seq, seq % 100, seq * 1.25, seq / 8, CONCAT('name ', seq),
    REPEAT('x', seq % 20), UNHEX(LPAD(HEX(seq), 8, '0')), '2024-02-29' + INTERVAL seq DAY,
    '2024-02-29 13:45:10.123456' + INTERVAL seq MINUTE,
    '2024-02-29 11:45:10.5' + INTERVAL seq SECOND,
    CONCAT('{"n": ', seq, ', "tags": ["a", "b"]}'), seq % 2, 4294967295 - seq
  FROM seq_1_to_300;
  INSERT INTO items (id, name, u) VALUES (18446744073709551615, 'largest key', 0);
  INSERT INTO tags SELECT seq, b.v, seq * 10 FROM seq_1_to_50,
    (SELECT 'x' AS v UNION ALL SELECT 'y' UNION ALL SELECT 'long text part') b;
  INSERT INTO notes SELECT CONCAT('note ', seq), seq FROM seq_1_to_20;
  INSERT INTO notes VALUES ('note 1', 1);
)sql";

// Changes streamed after the copy: inserts, updates (a key too) and deletes on every table.
constexpr char kChanges[] = R"sql(
  INSERT INTO items (id, small, amount, big, name, note, born) VALUES
    (2000, -5, -0.50, 7, 'streamed', 'after the copy', '2000-01-01');
  UPDATE items SET name = 'updated', amount = amount + 1 WHERE id = 7;
  UPDATE items SET id = 3000 WHERE id = 8;
  DELETE FROM items WHERE id = 9;
  INSERT INTO tags VALUES (500, 'streamed key', 1);
  UPDATE tags SET val = -1 WHERE a = 3 AND b = 'long text part';
  DELETE FROM tags WHERE a = 4;
  INSERT INTO notes VALUES ('streamed note', 99);
)sql";

// The same text for the same value on either engine: decimals without trailing zeros, bytes as
// hex, timestamps as UTC wall time with microseconds, booleans as 0/1.
std::string ItemsQuery(const std::string& engine, bool mariadb_source) {
  const std::string unsigned_column = mariadb_source ? ", u" : "";
  if (engine == "postgres") {
    return "SELECT id, small, trim_scale(amount)::text, trim_scale(big)::text, name, note, "
           "encode(raw, 'hex'), born::text, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), "
           "to_char(seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), doc::text, " +
           std::string(mariadb_source ? "flag" : "flag::int") + unsigned_column +
           " FROM items ORDER BY id";
  }
  auto decimal = [](const std::string& column) {
    return "IF(" + column + " = FLOOR(" + column + "), CAST(FLOOR(" + column +
           ") AS CHAR), TRIM(TRAILING '0' FROM CAST(" + column + " AS CHAR)))";
  };
  return "SET time_zone = '+00:00'; SELECT id, small, " + decimal("amount") + ", " +
         decimal("big") +
         ", name, note, lower(hex(raw)), born, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), "
         "DATE_FORMAT(seen, '%Y-%m-%d %H:%i:%s.%f'), doc, flag" +
         unsigned_column + " FROM items ORDER BY id";
}

// Lines of ItemsQuery's text on every engine: a copied row, and the row the changes inserted.
constexpr char kCopiedRow[] =
    "|name 2|xx|00000002|2024-03-02|2024-02-29 13:47:10.123456|2024-02-29 11:45:12.500000|";
constexpr char kStreamedRow[] = "2000|-5|-0.5|7|streamed|after the copy|<NULL>|2000-01-01|";

constexpr char kTags[] = "SELECT a, b, val FROM tags ORDER BY a, b";
constexpr char kNotes[] = "SELECT n, body FROM notes ORDER BY n, body";

class CreateTablesTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    const Direction& d = GetParam();
    const std::string schema = pg_source() ? kPgSchema : kMariaSchema;
    // The target has no tables at all.
    auto setup = ReplicationSetup::Create(d.source, d.target, schema, "");
    ASSERT_TRUE(setup.ok()) << setup.message();
    setup_ = std::move(*setup);
    setup_->capture_tables = "[\"" + Qualified(d.source, "items") + "\", \"" +
                             Qualified(d.source, "tags") + "\", \"" + Qualified(d.source, "notes") +
                             "\"]";
    if (d.source != d.target) {
      for (const char* table : {"items", "tags", "notes"}) {
        setup_->apply_mappings += "  - source: " + Qualified(d.source, table) +
                                  "\n    target: " + Qualified(d.target, table) + "\n";
      }
    }
    setup_->apply_settings = "create_tables: true\n";
  }

  bool pg_source() const { return GetParam().source == "postgres"; }

  void Exec(const std::string& sql) {
    Status status = setup_->source().Exec(sql);
    ASSERT_TRUE(status.ok()) << status.message();
  }

  std::string SourceRows(const std::string& query) const {
    return RowsAsText(setup_->source(), query);
  }
  std::string TargetRows(const std::string& query) const {
    return RowsAsText(setup_->target(), query);
  }

  // Waits until every table holds the source's rows on the target; `expected` is a line the
  // source's items must show (so that two failing queries never compare equal).
  void ExpectSameAsSource(const std::string& expected) {
    const Direction& d = GetParam();
    const std::string source_items = ItemsQuery(d.source, !pg_source());
    const std::string target_items = ItemsQuery(d.target, !pg_source());
    ASSERT_NE(SourceRows(source_items).find(expected), std::string::npos)
        << SourceRows(source_items);
    ASSERT_NE(SourceRows(kTags).find("\n2|x|20\n"), std::string::npos) << SourceRows(kTags);
    EXPECT_TRUE(
        WaitFor([&] { return SourceRows(source_items) == TargetRows(target_items); }, seconds(120)))
        << "source:\n"
        << SourceRows(source_items) << "\ntarget:\n"
        << TargetRows(target_items) << "\napply log:\n"
        << setup_->apply_log();
    EXPECT_TRUE(setup_->WaitForSameRows(kTags, seconds(60))) << setup_->DescribeDifference(kTags);
    EXPECT_TRUE(setup_->WaitForSameRows(kNotes, seconds(60))) << setup_->DescribeDifference(kNotes);
  }

  // The number of primary keys the target's `table` has (0 or 1).
  std::string TargetPrimaryKeys(const std::string& table) const {
    const std::string schema = GetParam().target == "postgres" ? "public" : "ferry";
    return setup_->target().Scalar(
        "SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = '" +
        schema + "' AND table_name = '" + table + "' AND constraint_type = 'PRIMARY KEY'");
  }

  // The target's secondary indexes of `table`, one line each: name|non-unique (0/1)|columns,
  // comma-separated, a prefix as MariaDB writes it ("note(10)") or PostgreSQL's expression.
  // Source rows and indexes, a target table `notes` the user made, and both agents started.
  void StartWithIndexesAndAUserMadeTable();  // defined below the indexes

  std::string TargetIndexes(const std::string& table) const {
    if (GetParam().target == "postgres") {
      return TargetRows(
          "SELECT c.relname, CASE WHEN i.indisunique THEN 0 ELSE 1 END, "
          "string_agg(pg_get_indexdef(i.indexrelid, k.n, true), ',' ORDER BY k.n) "
          "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
          "CROSS JOIN generate_series(1, i.indnkeyatts) AS k(n) "
          "WHERE i.indrelid = 'public." +
          table +
          "'::regclass AND NOT i.indisprimary GROUP BY c.relname, i.indisunique ORDER BY 1");
    }
    return TargetRows(
        "SELECT INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(CONCAT(COLUMN_NAME, "
        "IFNULL(CONCAT('(', SUB_PART, ')'), '')) ORDER BY SEQ_IN_INDEX) "
        "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'ferry' AND TABLE_NAME = '" +
        table + "' AND INDEX_NAME <> 'PRIMARY' GROUP BY INDEX_NAME, NON_UNIQUE ORDER BY 1");
  }

  // TargetIndexes("items") once the copy carried kPgIndexes / kMariaIndexes: MariaDB index names
  // are per table, PostgreSQL's per schema, so onto PostgreSQL they get the table's name in front.
  std::string ExpectedItemsIndexes() const {
    const Direction& d = GetParam();
    const std::string prefix = d.target == "postgres" && !pg_source() ? "items_" : "";
    std::string expected =
        prefix + "items_born_flag|1|born,flag\n" + prefix + "items_name_key|0|name\n";
    if (!pg_source()) {
      expected += prefix + "items_note_prefix|1|" +
                  (d.target == "postgres" ? "\"left\"(note, 10)" : "note(10)") + "\n";
    }
    return expected;
  }

  std::unique_ptr<ReplicationSetup> setup_;
};

// Source indexes for IndexesAreCreatedAfterTheCopyOnTablesItCreated: on items a two-column one,
// a unique one, and one the capture agent does not carry (PostgreSQL: an expression) or a prefix
// of a TEXT (MariaDB); on notes, whose target table the test makes itself, one that must not
// appear there.
constexpr char kPgIndexes[] = R"sql(
  CREATE INDEX items_born_flag ON items (born, flag);
  CREATE UNIQUE INDEX items_name_key ON items (name);
  CREATE INDEX items_lower_name ON items (lower(name));
  CREATE INDEX notes_n ON notes (n);
)sql";

constexpr char kMariaIndexes[] = R"sql(
  CREATE INDEX items_born_flag ON items (born, flag);
  CREATE UNIQUE INDEX items_name_key ON items (name);
  CREATE INDEX items_note_prefix ON items (note(10));
  CREATE INDEX notes_n ON notes (n);
)sql";

TEST_P(CreateTablesTest, CopyCreatesMissingTablesWithTheirKeys) {
  Exec(pg_source() ? kPgRows : kMariaRows);
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  ExpectSameAsSource(kCopiedRow);
  Exec(kChanges);
  ExpectSameAsSource(kStreamedRow);
  EXPECT_EQ(TargetPrimaryKeys("items"), "1");
  EXPECT_EQ(TargetPrimaryKeys("tags"), "1");
  EXPECT_EQ(TargetPrimaryKeys("notes"), "0");
  const std::string log = setup_->apply_log();
  EXPECT_NE(log.find("create_tables: " + Qualified(GetParam().target, "tags")), std::string::npos)
      << log;
  EXPECT_NE(log.find("has no primary key"), std::string::npos) << log;
}

// Without a copy the first streamed change's relation creates the table.
TEST_P(CreateTablesTest, StreamCreatesMissingTablesWithoutACopy) {
  setup_->apply_settings += "copy_data: false\n";
  Exec(pg_source() ? kPgIndexes : kMariaIndexes);
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
  Exec(pg_source() ? kPgRows : kMariaRows);
  Exec(kChanges);
  ExpectSameAsSource(kStreamedRow);
  EXPECT_EQ(TargetPrimaryKeys("tags"), "1");
  EXPECT_EQ(TargetPrimaryKeys("notes"), "0");
  EXPECT_EQ(TargetIndexes("items"), "");  // no copy, so no secondary indexes
}

void CreateTablesTest::StartWithIndexesAndAUserMadeTable() {
  Exec(pg_source() ? kPgRows : kMariaRows);
  Exec(pg_source() ? kPgIndexes : kMariaIndexes);
  Status made = setup_->target().Exec("CREATE TABLE notes (body varchar(50), n int)");
  ASSERT_TRUE(made.ok()) << made.message();
  ASSERT_TRUE(setup_->StartCapture().ok()) << setup_->capture_log();
  ASSERT_TRUE(setup_->StartApply().ok()) << setup_->apply_log();
}

// The copy's last chunk brings the source's secondary indexes: a table create_tables made gets
// the ones the target can hold, under the target's naming; a table the user made gets none.
TEST_P(CreateTablesTest, IndexesAreCreatedAfterTheCopyOnTablesItCreated) {
  ASSERT_NO_FATAL_FAILURE(StartWithIndexesAndAUserMadeTable());
  ExpectSameAsSource(kCopiedRow);

  EXPECT_EQ(TargetIndexes("items"), ExpectedItemsIndexes()) << setup_->apply_log();
  EXPECT_EQ(TargetIndexes("notes"), "") << setup_->apply_log();
  const std::string apply_log = setup_->apply_log();
  EXPECT_NE(apply_log.find("CREATE UNIQUE INDEX"), std::string::npos) << apply_log;
  if (pg_source()) {
    const std::string capture_log = setup_->capture_log();
    EXPECT_NE(capture_log.find("index items_lower_name is not carried to the target: it is an "
                               "expression index"),
              std::string::npos)
        << capture_log;
  }
  // The unique index holds on the target as on the source.
  Exec(kChanges);
  ExpectSameAsSource(kStreamedRow);
}

// An apply agent killed after the first chunks of a table it created: restarted, it finds the
// table there, and still gives it its indexes (ferry_meta.copy_progress.created_table), while a
// table the user made still gets none.
TEST_P(CreateTablesTest, IndexesAreCreatedOnATableItCreatedBeforeARestart) {
  // Paced to about three seconds for `items`, so the kill lands mid-copy.
  setup_->capture_settings = "copy_chunk_rows: 50\ncopy_max_rows_per_second: 100\n";
  ASSERT_NO_FATAL_FAILURE(StartWithIndexesAndAUserMadeTable());
  auto items_copied = [&] {
    const std::string count = setup_->target().Scalar("SELECT count(*) FROM items");
    return count.starts_with("ERROR") || count.empty() ? 0L : std::stol(count);
  };
  ASSERT_TRUE(WaitFor([&] { return items_copied() > 0; }, seconds(60))) << setup_->apply_log();
  setup_->KillApply();
  ASSERT_LT(items_copied(), 301) << "the copy of items ended before the kill";
  ASSERT_TRUE(setup_->StartApply(/*wait_until_streaming=*/false).ok()) << setup_->apply_log();
  ExpectSameAsSource(kCopiedRow);

  EXPECT_EQ(TargetIndexes("items"), ExpectedItemsIndexes()) << setup_->apply_log();
  EXPECT_EQ(TargetIndexes("notes"), "") << setup_->apply_log();
}

INSTANTIATE_TEST_SUITE_P(AllDirections, CreateTablesTest, kAllDirections, DirectionName);

}  // namespace
}  // namespace ferry::testing
