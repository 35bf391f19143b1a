#include "apply/postgres/postgres_sink.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apply/postgres/pg_copy.h"
#include "apply/postgres/pg_ddl.h"
#include "apply/postgres/pg_sql.h"
#include "apply/postgres/pg_text.h"
#include "apply/row_applier.h"
#include "common/log.h"
#include "common/pg_tls_hint.h"
#include "common/redact.h"
#include "wire/position.h"

namespace ferry::apply::postgres {
namespace {

using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Session settings of every apply connection.
//  - synchronous_commit=on: COMMIT returns only once the commit is on disk, so the apply agent
//    may ack the position as soon as CommitTransaction returns (ARCHITECTURE.md invariant 3).
//  - TimeZone, DateStyle, IntervalStyle, extra_float_digits: values are parsed and compared the
//    same way whatever the server's or role's defaults are (timestamptz text carries its offset;
//    ISO and postgres interval style are what capture produces; 3 makes float text exact).
//  - session_replication_role=replica: the target behaves like a native logical replica.
//    Ordinary triggers and foreign-key checks (which are triggers) do not fire, because the
//    source already ran its triggers and checked its constraints, and the rows those produced
//    arrive through the stream themselves: firing them again would apply side effects twice,
//    and FK checks would refuse rows the source accepted (a parent table that is not
//    replicated, a deferred constraint checked only at the source's commit, rows applied in an
//    order the source never had to validate). Triggers marked ENABLE REPLICA / ALWAYS still
//    fire, so an operator can opt in per trigger, as on a native subscriber.
// A multi-row INSERT carries at most this many rows, and PostgreSQL takes at most this many
// parameters in one statement.
constexpr size_t kMaxRowsPerInsert = 1000;
constexpr size_t kMaxParameters = 65535;

// COPY data goes to libpq in pieces of about this many bytes, so the server parses rows while
// later ones are still being encoded.
constexpr size_t kCopySendBytes = 256 << 10;

// After a COPY straight into a table met an existing row, this many writes of copied rows into
// that table go through the staging table before a COPY straight in is tried again.
constexpr int kStagedWritesAfterClash = 16;

constexpr char kUniqueViolation[] = "23505";
// ON CONFLICT DO UPDATE met one row twice: two staged rows have the same key on the target.
constexpr char kCardinalityViolation[] = "21000";

// SQLSTATE lock_not_available: lock_timeout expired.
constexpr char kLockNotAvailable[] = "55P03";
constexpr char kLockTimeoutHint[] =
    ": another session of the target held a lock on the row or table for longer than the apply "
    "agent's target.lock_timeout_ms; pg_locks and pg_stat_activity name it. The stream retries "
    "by itself";

constexpr const char* kSessionSettings[] = {
    "SET TimeZone = 'UTC'",         "SET DateStyle = ISO",
    "SET IntervalStyle = postgres", "SET extra_float_digits = 3",
    "SET client_encoding = 'UTF8'", "SET session_replication_role = replica",
};

// Any constant works; it only has to be the same for every Ferry apply agent, so that two
// agents creating ferry_meta at once take turns instead of failing on pg_namespace/pg_type.
constexpr const char* kMetaLockSql = "SELECT pg_advisory_xact_lock(7310575183440030066)";

// Scans pg_class rather than calling to_regclass(): a scan sees everything committed before the
// statement started, while to_regclass() goes through the catalog cache, which is not refreshed
// by waiting on an advisory lock and so can miss tables another agent just created.
// copy_progress.resync, created_table and origin came after the table: a ferry_meta without them
// is brought up to date.
constexpr const char* kMetaExistsSql =
    "SELECT (SELECT count(*) = 3 FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'ferry_meta' AND c.relname IN ('checkpoints', 'conflicts', "
    "'copy_progress')) AND (SELECT count(*) = 3 FROM pg_catalog.pg_attribute a"
    " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'ferry_meta' AND c.relname = 'copy_progress'"
    " AND a.attname IN ('resync', 'created_table', 'origin') AND NOT a.attisdropped)"
    " AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a"
    " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'ferry_meta' AND c.relname = 'checkpoints'"
    " AND a.attname = 'origin_commit_us' AND NOT a.attisdropped)"
    " AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a"
    " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'ferry_meta' AND c.relname = 'conflicts'"
    " AND a.attname = 'reason' AND NOT a.attisdropped)";

constexpr const char* kMetaDdl[] = {
    "CREATE SCHEMA IF NOT EXISTS ferry_meta",
    "CREATE TABLE IF NOT EXISTS ferry_meta.checkpoints ("
    " upstream text PRIMARY KEY,"
    " engine text NOT NULL,"
    " position text NOT NULL,"
    " commit_time timestamptz,"
    " origin text,"
    " applied_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS ferry_meta.conflicts ("
    " id bigserial PRIMARY KEY,"
    " at timestamptz NOT NULL DEFAULT now(),"
    " upstream text,"
    " table_name text,"
    " key jsonb,"
    " conflict_type text,"
    " remote_row jsonb,"
    " local_row jsonb,"
    " resolver text,"
    " outcome text)",
    "CREATE TABLE IF NOT EXISTS ferry_meta.copy_progress ("
    " upstream text NOT NULL,"
    " source_table text NOT NULL,"
    " after_key text NOT NULL DEFAULT '',"
    " rows_copied bigint NOT NULL DEFAULT 0,"
    " done boolean NOT NULL DEFAULT false,"
    " updated_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (upstream, source_table))",
    "ALTER TABLE ferry_meta.copy_progress"
    " ADD COLUMN IF NOT EXISTS resync boolean NOT NULL DEFAULT false",
    "ALTER TABLE ferry_meta.copy_progress"
    " ADD COLUMN IF NOT EXISTS created_table boolean NOT NULL DEFAULT false",
    "ALTER TABLE ferry_meta.checkpoints ADD COLUMN IF NOT EXISTS origin_commit_us bigint",
    // The copy's origin marker (loop prevention: a copy chunk's first write is its progress).
    "ALTER TABLE ferry_meta.copy_progress ADD COLUMN IF NOT EXISTS origin text",
    // What came with master-master (remote_row is the remote change's new image).
    "ALTER TABLE ferry_meta.conflicts ADD COLUMN IF NOT EXISTS origin text,"
    " ADD COLUMN IF NOT EXISTS remote_position text,"
    " ADD COLUMN IF NOT EXISTS remote_commit_time timestamptz,"
    " ADD COLUMN IF NOT EXISTS remote_old_row jsonb,"
    " ADD COLUMN IF NOT EXISTS final_row jsonb,"
    " ADD COLUMN IF NOT EXISTS reason text",
};

constexpr const char* kReadConflictsSql =
    "SELECT id::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), upstream,"
    " origin, remote_position, table_name, key::text, conflict_type, resolver, outcome, reason,"
    " remote_old_row::text, remote_row::text, local_row::text, final_row::text"
    " FROM ferry_meta.conflicts WHERE ($1 = '' OR table_name = $1)"
    " AND ($2 = '' OR conflict_type = $2) ORDER BY id DESC LIMIT $3::bigint";

constexpr const char* kConflictSql =
    "INSERT INTO ferry_meta.conflicts (upstream, origin, remote_position, remote_commit_time,"
    " table_name, key, conflict_type, remote_old_row, remote_row, local_row, resolver, outcome,"
    " final_row, reason) VALUES ($1, $2, $3,"
    " 'epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5, $6::jsonb, $7,"
    " $8::jsonb, $9::jsonb, $10::jsonb, $11, $12, $13::jsonb, $14)";

constexpr const char* kReadCopyProgressSql =
    "SELECT source_table, after_key, rows_copied, done, resync, created_table"
    " FROM ferry_meta.copy_progress WHERE upstream = $1 ORDER BY source_table";

// Only ever set: a re-copy's progress keeps it (the upsert below leaves it alone).
constexpr const char* kTableCreatedSql =
    "UPDATE ferry_meta.copy_progress SET created_table = true"
    " WHERE upstream = $1 AND source_table = $2";

// Whether the relation named $2 in schema $1, if any, is an index of table $3: index names are
// per schema, so the name may be another table's (two source schemas mapped into one).
constexpr const char* kIndexNameTakenSql =
    "SELECT coalesce(i.indrelid = to_regclass($3), false)"
    " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid"
    " WHERE n.nspname = $1 AND c.relname = $2";

constexpr const char* kCopyProgressSql =
    "INSERT INTO ferry_meta.copy_progress AS p (upstream, source_table, after_key, rows_copied,"
    " done, resync, origin) VALUES ($1, $2, $3, $4::bigint, $5::boolean, $6::boolean,"
    " NULLIF($7::text, '')) ON CONFLICT (upstream, source_table) DO UPDATE SET"
    " after_key = EXCLUDED.after_key, rows_copied = EXCLUDED.rows_copied, done = EXCLUDED.done,"
    " resync = EXCLUDED.resync, origin = EXCLUDED.origin, updated_at = now()";

constexpr const char* kCheckpointStatement = "ferry_checkpoint";
// commit_time from microseconds since the epoch by interval arithmetic, which is exact (a
// to_timestamp(double) would round).
constexpr const char* kCheckpointSql =
    "INSERT INTO ferry_meta.checkpoints AS c (upstream, engine, position, commit_time, origin,"
    " origin_commit_us)"
    " VALUES ($1, $2, $3, 'epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5,"
    " $6::bigint)"
    " ON CONFLICT (upstream) DO UPDATE SET engine = EXCLUDED.engine,"
    " position = EXCLUDED.position, commit_time = EXCLUDED.commit_time,"
    " origin = EXCLUDED.origin, origin_commit_us = EXCLUDED.origin_commit_us, applied_at = now()";

constexpr const char* kReadCheckpointSql =
    "SELECT engine, position FROM ferry_meta.checkpoints WHERE upstream = $1";

// One row per column (NULL attname for a table without columns), with relkind, the declared
// type, the type whose equality matters (array element, domain base), the domain base, and the
// domain base as a cast names it. That name is schema.typname, both quoted, not format_type():
// format_type(oid, NULL) spells bpchar and bit as "character" and "bit", which in a cast mean
// character(1) and bit(1) and would cut the value; a qualified name carries no modifier
// ("pg_catalog.bpchar", "pg_catalog._int4" for int[]).
constexpr const char* kTargetColumnsSql =
    "SELECT c.oid, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod),"
    "       coalesce(e.typname, b.typname), b.typname,"
    "       quote_ident(bn.nspname) || '.' || quote_ident(b.typname)"
    " FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_catalog.pg_attribute a"
    "   ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
    " LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
    " LEFT JOIN pg_catalog.pg_type b"
    "   ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END"
    " LEFT JOIN pg_catalog.pg_namespace bn ON bn.oid = b.typnamespace"
    " LEFT JOIN pg_catalog.pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'"
    " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'f')"
    " ORDER BY a.attnum";

// Unique indexes that can be ON CONFLICT arbiters (immediate, valid, plain columns, no
// predicate), one row per key column in index order.
constexpr const char* kUniqueIndexesSql =
    "SELECT i.indexrelid, i.indisprimary, i.indisreplident, a.attname"
    " FROM pg_catalog.pg_index i"
    " CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
    " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
    " WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indimmediate"
    "   AND i.indpred IS NULL AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts"
    " ORDER BY i.indisprimary DESC, i.indexrelid, k.ord";

// Types without an equality operator (or, for box, with one that compares areas): rows are
// matched on their text form. Only reachable with REPLICA IDENTITY FULL, since key columns
// always have equality.
bool NeedsTextCompare(const std::string& type_name) {
  static const char* const kTypes[] = {"json", "xml",  "point",   "line",  "lseg",
                                       "box",  "path", "polygon", "circle"};
  for (const char* type : kTypes) {
    if (type_name == type) return true;
  }
  return false;
}

// Drops surrounding whitespace and folds the lines of a libpq message into one.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  const size_t begin = text.find_first_not_of(' ');
  const size_t end = text.find_last_not_of(' ');
  if (begin == std::string::npos) return "";
  std::string out;
  for (size_t i = begin; i <= end; ++i) {
    if (text[i] == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(text[i]);
  }
  return out;
}

// "ERROR: message (DETAIL: ...) (HINT: ...)" from a failed result, or the connection's error.
std::string ServerMessage(PGconn* conn, const PGresult* result) {
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (primary == nullptr) {
    std::string message = OneLine(conn ? PQerrorMessage(conn) : "no connection");
    return message.empty() ? "unknown libpq error" : message;
  }
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY);
  std::string message = std::string(severity ? severity : "ERROR") + ": " + primary;
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    message += " (DETAIL: " + std::string(detail) + ")";
  }
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
    message += " (HINT: " + std::string(hint) + ")";
  }
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if (state != nullptr && std::string(state) == kLockNotAvailable) message += kLockTimeoutHint;
  return OneLine(message);
}

// The parameters as libpq takes them: C strings, null for SQL NULL; valid while `params` lives.
std::vector<const char*> ParamValues(const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  return values;
}

bool IsOk(const PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// PQcmdTuples takes a non-const result though it only reads it.
long AffectedRows(PGresult* result) { return std::strtol(PQcmdTuples(result), nullptr, 10); }

std::optional<std::string> Field(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return std::nullopt;
  return std::string(PQgetvalue(result, row, column));
}

// The image with each zero or partial date that its target column cannot hold replaced as
// `policy` says (ZeroDateFor): NULL, or an error naming the target and source column. Columns
// the image or the target lacks are left for BindImage to report.
Result<RowImage> ResolveZeroDates(const MappedRelation& relation, const TargetTable& target,
                                  RowImage image, ZeroDates policy) {
  for (const MappedColumn& column : relation.columns) {
    if (column.source_index >= image.size()) continue;
    wire::Value& value = *image.Mutable(column.source_index);
    const TargetColumn* target_column = target.Find(column.target_name);
    if (target_column == nullptr || !IsZeroOrPartialDate(value)) continue;
    Result<ZeroDateAction> action =
        ZeroDateFor(value, target_column->type, target_column->base_type, policy);
    if (!action.ok()) {
      return action.status().WithContext("column " + column.target_name + " (from " +
                                         relation.source.schema() + "." + relation.source.table() +
                                         "." + column.source.name() + ")");
    }
    if (*action == ZeroDateAction::kWriteNull) value.mutable_null();
  }
  return image;
}

bool HasZeroOrPartialDate(const RowImage& image) {
  return std::any_of(image.begin(), image.end(),
                     [](const wire::Value& value) { return IsZeroOrPartialDate(value); });
}

// `use(image)`, with the image's zero dates first resolved as `policy` says. Only rows from a
// MySQL/MariaDB source hold zero dates: other rows are used as they are, without a copy.
template <typename Use>
auto WithZeroDatesResolved(const MappedRelation& relation, const TargetTable& target,
                           const RowImage& image, ZeroDates policy, Use use)
    -> decltype(use(image)) {
  if (!HasZeroOrPartialDate(image)) return use(image);
  Result<RowImage> resolved = ResolveZeroDates(relation, target, image, policy);
  if (!resolved.ok()) return resolved.status();
  return use(*resolved);
}

void LogNotice(void* logger, const char* message) {
  static_cast<spdlog::logger*>(logger)->debug("target: {}", OneLine(message));
}

class PostgresSink final : public Sink, private RowEngine<TargetTable, BoundColumn> {
 public:
  PostgresSink(std::string dsn, ZeroDates zero_dates, bool synchronous_commit,
               std::chrono::milliseconds lock_timeout)
      : dsn_(std::move(dsn)),
        zero_dates_(zero_dates),
        synchronous_commit_(synchronous_commit),
        lock_timeout_(lock_timeout),
        log_(Logger("apply.postgres")) {}
  ~PostgresSink() override { Close(); }

  Status Open() override;
  void Cancel() override {
    std::lock_guard lock(cancel_mutex_);
    char error[256];
    if (cancel_ != nullptr) (void)PQcancel(cancel_, error, sizeof error);
  }
  Result<std::optional<wire::Position>> ReadCheckpoint(const std::string& upstream) override;
  Result<std::vector<CopyProgress>> ReadCopyProgress(const std::string& upstream) override;
  Status BeginCopyTransaction() override;
  Status EmptyTable(const MappedRelation& relation) override {
    FERRY_RETURN_IF_ERROR(CheckOpen());
    FERRY_RETURN_IF_ERROR(rows_.Flush());
    return ExecSimple("DELETE FROM " + QuoteIdent(relation.target_schema) + "." +
                      QuoteIdent(relation.target_table));
  }
  Result<uint64_t> DeleteCopyRange(const MappedRelation& relation,
                                   const CopyRange& range) override {
    return rows_.DeleteRange(relation, range);
  }
  Status RecordCopyProgress(const std::string& upstream, const CopyProgress& progress) override;
  Status BeginTransaction(const std::string& upstream, const wire::Begin& begin) override;
  Status ContinueTransaction(const std::string& upstream, const wire::Begin& begin) override {
    FERRY_RETURN_IF_ERROR(CheckOpen());
    FERRY_RETURN_IF_ERROR(CheckContinue(upstream, begin, in_transaction_));
    group_checkpoint_ = GroupCheckpoint{upstream, begin};
    return Status::Ok();
  }
  Result<RowOutcome> ApplyRow(const MappedRelation& relation,
                              const wire::RowChange& change) override {
    return rows_.Apply(relation, change);
  }
  Result<std::vector<ConflictRecord>> ApplyCheckedRow(const MappedRelation& relation,
                                                      const wire::RowChange& change,
                                                      const ConflictContext& context) override {
    return rows_.ApplyChecked(relation, change, context);
  }
  Status RecordConflict(const ConflictRecord& record) override;
  Result<std::vector<LoggedConflict>> ReadConflicts(const ConflictFilter& filter) override;
  Status CopyRows(const MappedRelation& relation, const ChunkRows& rows, CopyInto into) override {
    return rows_.Copy(relation, rows, into);
  }
  Status ApplyTruncate(const std::vector<const MappedRelation*>& relations,
                       const wire::RowChange& change) override {
    return rows_.Truncate(relations, change);
  }
  Status CommitTransaction() override;
  void AbortTransaction() override;
  Result<std::optional<std::vector<std::string>>> TargetColumns(const std::string& schema,
                                                                const std::string& table) override;
  std::vector<LateOutcome> TakeLateOutcomes() override { return rows_.TakeLateOutcomes(); }
  uint64_t LastCommitMark() const override { return last_commit_mark_; }
  Result<uint64_t> DurableMark() override {
    if (synchronous_commit_) return UINT64_MAX;
    FERRY_RETURN_IF_ERROR(rows_.Drain());  // the query needs the connection to itself
    return QueryLsn("SELECT pg_current_wal_flush_lsn()");
  }
  Result<std::vector<std::string>> CreateTable(const NewTable& table) override;
  Status RecordTableCreated(const std::string& upstream, const std::string& table) override;
  Result<IndexDdl> CreateIndexes(const NewTable& table,
                                 const std::vector<NewIndex>& indexes) override;
  std::string engine() const override { return "postgres"; }

 private:
  void Close();
  // The pg_lsn one-value query `sql` returns, as a number.
  Result<uint64_t> QueryLsn(const char* sql);
  // With synchronous_commit off: the WAL insert position, at or past every commit so far.
  Status MarkCommit();
  // Records `begin`'s position as `upstream`'s checkpoint in the open transaction.
  Status WriteCheckpoint(const std::string& upstream, const wire::Begin& begin);
  Status ExecSimple(const std::string& sql);
  Result<bool> MetaExists();
  Status CreateMeta();
  Result<PgResult> ExecParams(const std::string& sql,
                              const std::vector<std::optional<std::string>>& params);
  Result<PgResult> ExecPrepared(const Statement& statement);
  Result<std::string> Prepare(const std::string& sql);
  // A name for a new prepared statement, never used before in the session.
  std::string NewStatementName() { return "ferry_s_" + std::to_string(++statements_named_); }
  // Sends `statement` in pipeline mode (entered if need be), prepared first if its text is new,
  // without waiting for it (RowEngine::SendUpdate).
  Status SendPrepared(const Statement& statement);
  // Sends `statement` unprepared in the pipeline.
  Status SendParams(const Statement& statement);
  // Records a statement just sent in the pipeline and flushes it to the server.
  Status StatementSent();
  Status EnterPipeline();
  // The result of the oldest statement sent (past the prepares sent before it), waiting for it.
  Result<PgResult> NextSentResult();
  // What an INSERT of `rows` with `arbiter` returned (InsertRowsStatement), as InsertBatch
  // reports it.
  static Result<BatchInsertion> BatchInsertionOf(PGresult* returned,
                                                 const std::vector<std::vector<BoundColumn>>& rows,
                                                 const std::vector<std::string>* arbiter);
  // The result of the oldest statement sent, consumed to its end; null if the connection has
  // none to give (it broke).
  PgResult TakeSentResult();
  // Runs `sql`; an error says `what` failed (not the statement, which can be long), and its
  // SQLSTATE goes to `sqlstate`.
  Status Run(const std::string& sql, const std::string& what, std::string* sqlstate = nullptr);
  // The staging table (its bare name) for rows of `columns` of `target`, created on first use.
  Result<std::string> Stage(const TargetTable& target, const std::vector<std::string>& columns);
  // Runs the COPY `sql` with `rows` as its data; a server error's SQLSTATE goes to `sqlstate`.
  Status CopyIn(const std::string& sql, const MappedRelation& relation, const TargetTable& target,
                const std::vector<const TargetColumn*>& columns, const ChunkRows& rows,
                std::string* sqlstate = nullptr);
  // Runs the COPY `sql` with the `lines` lines `append_line(i, data)` appends as its data.
  Status CopyLinesIn(const std::string& sql, size_t lines,
                     const std::function<Status(size_t, std::string*)>& append_line,
                     std::string* sqlstate = nullptr);
  // Tries a COPY of `rows` straight into `target`, which holds no row with their keys in the
  // common case; rolls it back when one was there. True when the rows are written.
  Result<bool> CopyStraightIn(const MappedRelation& relation, const TargetTable& target,
                              const std::vector<const TargetColumn*>& columns,
                              const std::vector<std::string>& names, const ChunkRows& rows);
  // Copies `rows` into the staging table and merges them into `target`. False when two of them
  // have the same key on the target (which ON CONFLICT DO UPDATE refuses): nothing is written
  // then, and the rows are left to the row path, where the later one overwrites the earlier.
  Result<bool> CopyThroughStage(const MappedRelation& relation, const TargetTable& target,
                                const std::vector<const TargetColumn*>& columns,
                                const std::vector<std::string>& names, const ChunkRows& rows,
                                const std::vector<std::string>& arbiter);
  // Appends `image` as a line of COPY data, zero dates first resolved as Bind resolves them.
  Status AppendLine(const MappedRelation& relation, const TargetTable& target,
                    const std::vector<const TargetColumn*>& columns, const RowImage& image,
                    std::string* out);

  // RowEngine: what the shared row-apply flow needs from PostgreSQL.
  Status CheckOpen() const override;
  bool InTransaction() const override { return in_transaction_; }
  Result<std::optional<TargetTable>> LoadTable(const std::string& schema,
                                               const std::string& table) override;
  Result<std::vector<BoundColumn>> Bind(const MappedRelation& relation, const TargetTable& target,
                                        const RowImage& image) override {
    return WithZeroDatesResolved(relation, target, image, zero_dates_, [&](const RowImage& row) {
      return BindImage(relation, target, row);
    });
  }
  Result<Insertion> Insert(const TargetTable& target, const std::vector<BoundColumn>& row,
                           const std::vector<std::string>* arbiter) override;
  Result<uint64_t> Update(const TargetTable& target, const std::vector<BoundColumn>& set,
                          const std::vector<BoundColumn>& match, bool one_row) override;
  // Once per chunk, with a key list that varies: not worth a prepared statement.
  Result<uint64_t> DeleteRange(const TargetTable& target,
                               const std::optional<std::vector<BoundColumn>>& after,
                               const std::optional<std::vector<BoundColumn>>& upto,
                               const std::vector<std::vector<BoundColumn>>& keep) override {
    const Statement statement = DeleteRangeStatement(target, after, upto, keep);
    Result<PgResult> deleted = ExecParams(statement.sql, statement.params);
    if (!deleted.ok()) return deleted.status();
    return static_cast<uint64_t>(AffectedRows(deleted->get()));
  }
  Result<uint64_t> Delete(const TargetTable& target, const std::vector<BoundColumn>& match,
                          bool one_row) override;
  Result<std::optional<LocalRow>> ReadLocal(const TargetTable& target,
                                            const std::vector<BoundColumn>& match,
                                            const std::vector<BoundColumn>& compare,
                                            const BoundColumn* order) override;
  Result<uint64_t> UpdateMerged(const TargetTable& target, const std::vector<BoundColumn>& set,
                                const std::vector<DeltaTerm<BoundColumn>>& deltas,
                                const std::vector<BoundColumn>& match) override {
    Result<PgResult> updated = ExecPrepared(MergeStatement(target, set, deltas, match));
    if (!updated.ok()) return updated.status();
    return static_cast<uint64_t>(AffectedRows(updated->get()));
  }
  // Updates and deletes go out in libpq's pipeline mode: a run of them costs one round trip
  // (RowApplier drains it). Anything else leaves pipeline mode first (FinishSent).
  bool PipelinesRowStatements() const override { return true; }
  Status SendUpdate(const TargetTable& target, const std::vector<BoundColumn>& set,
                    const std::vector<BoundColumn>& match, bool one_row) override {
    return SendPrepared(UpdateStatement(target, set, match, one_row));
  }
  Status SendDelete(const TargetTable& target, const std::vector<BoundColumn>& match,
                    bool one_row) override {
    return SendPrepared(DeleteStatement(target, match, one_row));
  }
  Result<uint64_t> NextRowCount() override;
  Status FinishSent() override;
  // Multi-row INSERTs go out in the same pipeline.
  bool PipelinesInserts() const override { return true; }
  Status SendInsertBatch(const TargetTable& target,
                         const std::vector<std::vector<BoundColumn>>& rows,
                         const std::vector<std::string>* arbiter) override;
  Result<BatchInsertion> NextBatchInsertion(const std::vector<std::vector<BoundColumn>>& rows,
                                            const std::vector<std::string>* arbiter) override;
  // Each value as its length and text, or N for NULL: equal exactly when the values are.
  std::string EncodeKey(const std::vector<BoundColumn>& key) const override {
    std::string out;
    for (const BoundColumn& column : key) {
      if (!column.value) {
        out.push_back('N');
        continue;
      }
      out += std::to_string(column.value->size());
      out.push_back(':');
      out += *column.value;
    }
    return out;
  }
  Status Truncate(const std::vector<const TargetTable*>& targets,
                  const wire::RowChange& change) override;
  size_t MaxInsertBatch(size_t columns) const override;
  size_t RowBytes(const std::vector<BoundColumn>& row) const override;
  Result<BatchInsertion> InsertBatch(const TargetTable& target,
                                     const std::vector<std::vector<BoundColumn>>& rows,
                                     const std::vector<std::string>* arbiter) override;
  // Views and foreign tables take the row path: COPY and ON CONFLICT DO UPDATE into them work
  // only in part (INSTEAD OF triggers, the foreign server's support).
  bool CopiesInBulk(const TargetTable& target, const std::vector<std::string>*) const override {
    return target.relkind == 'r' || target.relkind == 'p';
  }
  Result<std::vector<size_t>> CopyRows(const MappedRelation& relation, const TargetTable& target,
                                       const ChunkRows& rows,
                                       const std::vector<std::string>* arbiter) override;
  bool CopiesInsertRuns(const TargetTable& target) const override {
    return target.relkind == 'r' || target.relkind == 'p';
  }
  Result<bool> CopyInsertBatch(const TargetTable& target,
                               const std::vector<std::vector<BoundColumn>>& rows) override;
  // The SQL an error message suggests quotes names, so that it is right for any name.
  std::string HintIdent(const std::string& name) const override { return QuoteIdent(name); }

  const std::string dsn_;
  const ZeroDates zero_dates_;
  const bool synchronous_commit_;
  const std::chrono::milliseconds lock_timeout_;
  // What Cancel() needs, made at Open: libpq's cancel request may be sent from any thread.
  std::mutex cancel_mutex_;
  PGcancel* cancel_ = nullptr;
  std::shared_ptr<spdlog::logger> log_;
  uint64_t last_commit_mark_ = 0;  // LastCommitMark(); stays 0 with synchronous_commit on
  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
  // Set while the open transaction groups several source transactions: the last one's
  // checkpoint, written by CommitTransaction.
  std::optional<GroupCheckpoint> group_checkpoint_;
  // Prepared statements by SQL text. The text names the target table, the operation, the
  // columns present and the null pattern of the match, so a relation that changes shape simply
  // gets new statements; prepared statements live as long as the connection.
  std::map<std::string, std::string> statements_;
  size_t statements_named_ = 0;  // names new prepared statements uniquely within the session
  bool checkpoint_prepared_ = false;
  // What was sent in pipeline mode and whose result is not read yet, oldest first: a prepare
  // (its SQL text, forgotten in statements_ if it fails) or a row statement (nullopt).
  std::deque<std::optional<std::string>> sent_;
  bool sent_synced_ = false;  // a sync follows what was sent: the server answers all of it
  // Staging tables of CopyRows by target table and column list (names and types), each a
  // temporary table of this session. A stage created in a transaction that does not commit
  // is gone with it: the map is cleared whenever a transaction ends without a commit.
  std::map<std::string, std::string> stages_;
  size_t stages_created_ = 0;  // names new stages uniquely within the session
  // By target table: the writes of copied rows left to go through the stage before a COPY
  // straight in is tried again (kStagedWritesAfterClash).
  std::map<std::string, int> staged_writes_;
  // By target table: the runs of inserts left to go as INSERTs before a COPY is tried again
  // (kStagedWritesAfterClash), after one that met an existing row.
  std::map<std::string, int> inserted_runs_;
  // Applies rows through this sink's RowEngine side; holds the catalog cache Close() clears.
  RowApplier<TargetTable, BoundColumn> rows_{this};
};

void PostgresSink::Close() {
  {
    std::lock_guard lock(cancel_mutex_);
    if (cancel_ != nullptr) PQfreeCancel(cancel_);
    cancel_ = nullptr;
  }
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  in_transaction_ = false;
  group_checkpoint_.reset();
  statements_.clear();
  checkpoint_prepared_ = false;
  sent_.clear();
  sent_synced_ = false;
  stages_.clear();
  rows_.ForgetTables();
}

Status PostgresSink::CheckOpen() const {
  if (conn_ == nullptr) return Status::Error("PostgreSQL target is not open: call Open() first");
  return Status::Ok();
}

Status PostgresSink::ExecSimple(const std::string& sql) {
  PgResult result(PQexec(conn_, sql.c_str()), &PQclear);
  if (IsOk(result.get())) return Status::Ok();
  return Status::Error(sql + ": " + ServerMessage(conn_, result.get()));
}

Result<PgResult> PostgresSink::ExecParams(const std::string& sql,
                                          const std::vector<std::optional<std::string>>& params) {
  const std::vector<const char*> values = ParamValues(params);
  PgResult result(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0),
                  &PQclear);
  if (!IsOk(result.get())) return Status::Error(ServerMessage(conn_, result.get()));
  return result;
}

Status PostgresSink::Run(const std::string& sql, const std::string& what, std::string* sqlstate) {
  PgResult result(PQexec(conn_, sql.c_str()), &PQclear);
  if (IsOk(result.get())) return Status::Ok();
  const char* code = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
  if (sqlstate != nullptr && code != nullptr) *sqlstate = code;
  return Status::Error(what + ": " + ServerMessage(conn_, result.get()));
}

Result<std::string> PostgresSink::Prepare(const std::string& sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  std::string name = NewStatementName();
  PgResult result(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), &PQclear);
  if (!IsOk(result.get())) return Status::Error(ServerMessage(conn_, result.get()));
  log_->debug("prepared {}: {}", name, sql);
  statements_.emplace(sql, name);
  return name;
}

Result<PgResult> PostgresSink::ExecPrepared(const Statement& statement) {
  Result<std::string> name = Prepare(statement.sql);
  if (!name.ok()) return name.status();
  const std::vector<const char*> values = ParamValues(statement.params);
  PgResult result(PQexecPrepared(conn_, name->c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0),
                  &PQclear);
  if (!IsOk(result.get())) return Status::Error(ServerMessage(conn_, result.get()));
  return result;
}

Status PostgresSink::EnterPipeline() {
  if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) != 1) {
    return Status::Error("enter pipeline mode: " + ServerMessage(conn_, nullptr));
  }
  return Status::Ok();
}

Status PostgresSink::SendParams(const Statement& statement) {
  FERRY_RETURN_IF_ERROR(EnterPipeline());
  const std::vector<const char*> values = ParamValues(statement.params);
  if (PQsendQueryParams(conn_, statement.sql.c_str(), static_cast<int>(values.size()), nullptr,
                        values.data(), nullptr, nullptr, 0) != 1) {
    return Status::Error("send a statement: " + ServerMessage(conn_, nullptr));
  }
  return StatementSent();
}

Status PostgresSink::StatementSent() {
  sent_.emplace_back(std::nullopt);
  sent_synced_ = false;
  // Out at once, so that the server works on it while the next rows are read and bound.
  if (PQflush(conn_) != 0)
    return Status::Error("send a statement: " + ServerMessage(conn_, nullptr));
  return Status::Ok();
}

Status PostgresSink::SendPrepared(const Statement& statement) {
  FERRY_RETURN_IF_ERROR(EnterPipeline());
  std::string name;
  if (auto it = statements_.find(statement.sql); it != statements_.end()) {
    name = it->second;
  } else {
    name = NewStatementName();
    if (PQsendPrepare(conn_, name.c_str(), statement.sql.c_str(), 0, nullptr) != 1) {
      return Status::Error("send a prepare: " + ServerMessage(conn_, nullptr));
    }
    log_->debug("preparing {}: {}", name, statement.sql);
    statements_.emplace(statement.sql, name);
    sent_.emplace_back(statement.sql);
  }
  const std::vector<const char*> values = ParamValues(statement.params);
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, 0) != 1) {
    return Status::Error("send a statement: " + ServerMessage(conn_, nullptr));
  }
  return StatementSent();
}

PgResult PostgresSink::TakeSentResult() {
  PgResult result(PQgetResult(conn_), &PQclear);
  // In pipeline mode each statement's results end with a null one (a sync's result does not).
  if (result != nullptr) {
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  }
  return result;
}

Result<PgResult> PostgresSink::NextSentResult() {
  if (!sent_synced_) {
    if (PQpipelineSync(conn_) != 1) {
      return Status::Error("send the statements: " + ServerMessage(conn_, nullptr));
    }
    sent_synced_ = true;
  }
  while (!sent_.empty()) {
    const std::optional<std::string> prepared = std::move(sent_.front());
    sent_.pop_front();
    PgResult result = TakeSentResult();
    if (!IsOk(result.get())) {
      // A statement whose prepare failed does not exist: prepared again on next use.
      if (prepared) statements_.erase(*prepared);
      return Status::Error(ServerMessage(conn_, result.get()));
    }
    if (!prepared) return result;
  }
  return Status::Error("no statement was sent ahead");
}

Result<uint64_t> PostgresSink::NextRowCount() {
  Result<PgResult> result = NextSentResult();
  if (!result.ok()) return result.status();
  return static_cast<uint64_t>(AffectedRows(result->get()));
}

// As InsertBatch: full batches repeat one prepared statement, a last, shorter one runs
// unprepared.
Status PostgresSink::SendInsertBatch(const TargetTable& target,
                                     const std::vector<std::vector<BoundColumn>>& rows,
                                     const std::vector<std::string>* arbiter) {
  const Statement statement = InsertRowsStatement(target, rows, arbiter);
  return rows.size() == MaxInsertBatch(rows.front().size()) ? SendPrepared(statement)
                                                            : SendParams(statement);
}

Result<BatchInsertion> PostgresSink::NextBatchInsertion(
    const std::vector<std::vector<BoundColumn>>& rows, const std::vector<std::string>* arbiter) {
  Result<PgResult> result = NextSentResult();
  if (!result.ok()) return result.status();
  return BatchInsertionOf(result->get(), rows, arbiter);
}

// Results not taken are those after a failed statement (the server skipped them) or of a
// transaction being rolled back; a prepare among them that did not come about is forgotten.
Status PostgresSink::FinishSent() {
  if (conn_ == nullptr || PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) {
    sent_.clear();
    sent_synced_ = false;
    return Status::Ok();
  }
  Status status = Status::Ok();
  if (!sent_synced_ && PQpipelineSync(conn_) != 1) {
    status = Status::Error(ServerMessage(conn_, nullptr));
  }
  sent_synced_ = false;
  while (status.ok() && !sent_.empty()) {
    const std::optional<std::string> prepared = std::move(sent_.front());
    sent_.pop_front();
    PgResult result = TakeSentResult();
    if (result == nullptr) status = Status::Error(ServerMessage(conn_, nullptr));
    if (prepared && !IsOk(result.get())) statements_.erase(*prepared);
  }
  if (status.ok()) {
    PgResult sync(PQgetResult(conn_), &PQclear);
    if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
      status = Status::Error(ServerMessage(conn_, sync.get()));
    }
  }
  if (status.ok() && PQexitPipelineMode(conn_) != 1) {
    status = Status::Error(ServerMessage(conn_, nullptr));
  }
  for (const std::optional<std::string>& prepared : sent_) {
    if (prepared) statements_.erase(*prepared);  // unknown whether it came about
  }
  sent_.clear();
  return status.WithContext("end the statements sent ahead");
}

// libpq's own message for a malformed connection string quotes the piece it stopped at, which
// may be part of a password: checked first, so that connecting never reports it.
Status CheckDsnSyntax(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  if (parsed != nullptr) {
    PQconninfoFree(parsed);
    return Status::Ok();
  }
  std::string message = error != nullptr ? error : "out of memory";
  PQfreemem(error);
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
    message.pop_back();
  }
  return Status::Error("invalid target dsn: " + RedactQuoted(message) + kDsnNotShown);
}

Status PostgresSink::Open() {
  Close();
  FERRY_RETURN_IF_ERROR(CheckDsnSyntax(dsn_));
  // expand_dbname lets `dsn` be a keyword string or a URI; the application name shows the
  // connection for what it is in pg_stat_activity unless the DSN sets its own.
  const char* keys[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {dsn_.c_str(), "ferry-apply", nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = ServerMessage(conn_, nullptr);
    const std::string tls_hint = PostgresTlsHint(message);
    Status error = Status::Error(
        "connect to target PostgreSQL: " + message +
        (tls_hint.empty() ? ": check the target dsn and that the server is up" : tls_hint));
    Close();
    return error;
  }
  {
    std::lock_guard lock(cancel_mutex_);
    cancel_ = PQgetCancel(conn_);
  }
  // Server notices ("truncate cascades to table ...") go to the log instead of stderr.
  PQsetNoticeProcessor(conn_, &LogNotice, log_.get());
  std::vector<std::string> settings(std::begin(kSessionSettings), std::end(kSessionSettings));
  settings.push_back(synchronous_commit_ ? "SET synchronous_commit = on"
                                         : "SET synchronous_commit = off");
  settings.push_back("SET lock_timeout = " + std::to_string(lock_timeout_.count()));
  for (const std::string& sql : settings) {
    Status status = ExecSimple(sql);
    if (!status.ok()) {
      Close();
      if (sql.find("session_replication_role") != std::string::npos) {
        return status.WithContext(
            "configure target session (the apply user must be a superuser, or be granted it "
            "with GRANT SET ON PARAMETER session_replication_role TO <user>)");
      }
      return status.WithContext("configure target session");
    }
  }
  Status meta = CreateMeta();
  if (!meta.ok()) {
    Close();
    return meta.WithContext("create ferry_meta on the target");
  }
  // The checkpoint read next may itself be an asynchronous commit not yet on disk: the
  // transactions it covers are acknowledged only once the WAL is flushed past here too.
  Status marked = MarkCommit();
  if (!marked.ok()) {
    Close();
    return marked;
  }
  log_->info("connected to target PostgreSQL {} (database {}) {}",
             PQparameterStatus(conn_, "server_version"), PQdb(conn_),
             PostgresTlsState(PQsslAttribute(conn_, "cipher")));
  return Status::Ok();
}

// Creates ferry_meta.checkpoints and ferry_meta.conflicts unless both exist. Checking first
// lets an apply user without CREATE privilege run against a prepared schema; the advisory lock
// makes concurrent first starts of several agents wait for each other instead of colliding on
// the catalog's unique indexes (IF NOT EXISTS alone does not prevent that race).
Result<bool> PostgresSink::MetaExists() {
  PgResult exists(PQexec(conn_, kMetaExistsSql), &PQclear);
  if (!IsOk(exists.get())) return Status::Error(ServerMessage(conn_, exists.get()));
  return std::string(PQgetvalue(exists.get(), 0, 0)) == "t";
}

Status PostgresSink::CreateMeta() {
  Result<bool> exists = MetaExists();
  if (!exists.ok()) return exists.status();
  if (*exists) return Status::Ok();

  FERRY_RETURN_IF_ERROR(ExecSimple("BEGIN"));
  Status status = ExecSimple(kMetaLockSql);
  if (status.ok()) {
    // Another agent may have created everything while this one waited for the lock.
    exists = MetaExists();
    if (!exists.ok()) status = exists.status();
  }
  bool created = false;
  if (status.ok() && !*exists) {
    for (const char* ddl : kMetaDdl) {
      status = ExecSimple(ddl);
      if (!status.ok()) break;
    }
    created = status.ok();
  }
  if (status.ok()) status = ExecSimple("COMMIT");
  if (!status.ok()) {
    AbortTransaction();
    return status;
  }
  if (created) log_->info("created ferry_meta (checkpoints, conflicts, copy_progress)");
  return Status::Ok();
}

Result<std::optional<wire::Position>> PostgresSink::ReadCheckpoint(const std::string& upstream) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<PgResult> result = ExecParams(kReadCheckpointSql, {upstream});
  if (!result.ok()) {
    return result.status().WithContext("read checkpoint of upstream " + upstream);
  }
  if (PQntuples(result->get()) == 0) return std::optional<wire::Position>();
  wire::Position position;
  position.set_engine(PQgetvalue(result->get(), 0, 0));
  position.set_value(PQgetvalue(result->get(), 0, 1));
  return std::optional<wire::Position>(std::move(position));
}

Result<std::vector<CopyProgress>> PostgresSink::ReadCopyProgress(const std::string& upstream) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<PgResult> result = ExecParams(kReadCopyProgressSql, {upstream});
  if (!result.ok())
    return result.status().WithContext("read copy progress of upstream " + upstream);
  std::vector<CopyProgress> progress;
  for (int row = 0; row < PQntuples(result->get()); ++row) {
    CopyProgress table;
    table.table = PQgetvalue(result->get(), row, 0);
    table.after_key = PQgetvalue(result->get(), row, 1);
    table.rows_copied = std::strtoull(PQgetvalue(result->get(), row, 2), nullptr, 10);
    table.done = std::string(PQgetvalue(result->get(), row, 3)) == "t";
    table.resync = std::string(PQgetvalue(result->get(), row, 4)) == "t";
    table.created_table = std::string(PQgetvalue(result->get(), row, 5)) == "t";
    progress.push_back(std::move(table));
  }
  return progress;
}

Status PostgresSink::BeginCopyTransaction() {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  if (in_transaction_) return Status::Error("begin copy transaction: a transaction is open");
  FERRY_RETURN_IF_ERROR(ExecSimple("BEGIN").WithContext("begin copy transaction"));
  in_transaction_ = true;
  return Status::Ok();
}

Status PostgresSink::RecordCopyProgress(const std::string& upstream, const CopyProgress& progress) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  if (!in_transaction_) return Status::Error("record copy progress: no transaction is open");
  Result<PgResult> result = ExecParams(
      kCopyProgressSql,
      {upstream, progress.table, progress.after_key, std::to_string(progress.rows_copied),
       progress.done ? "true" : "false", progress.resync ? "true" : "false", progress.origin});
  if (!result.ok()) return result.status().WithContext("record copy progress of " + progress.table);
  return Status::Ok();
}

Status PostgresSink::BeginTransaction(const std::string& upstream, const wire::Begin& begin) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  FERRY_RETURN_IF_ERROR(CheckBegin(upstream, begin, in_transaction_));
  Status begun = ExecSimple("BEGIN");
  if (!begun.ok()) return begun.WithContext("begin transaction for upstream " + upstream);
  in_transaction_ = true;
  group_checkpoint_.reset();
  // The checkpoint is the transaction's first write (ARCHITECTURE.md: exactly-once and loop
  // prevention both rely on it).
  return WriteCheckpoint(upstream, begin);
}

Status PostgresSink::WriteCheckpoint(const std::string& upstream, const wire::Begin& begin) {
  const std::string context = "write checkpoint of upstream " + upstream;
  if (!checkpoint_prepared_) {
    PgResult prepared(PQprepare(conn_, kCheckpointStatement, kCheckpointSql, 0, nullptr), &PQclear);
    if (!IsOk(prepared.get())) {
      return Status::Error(context + ": prepare: " + ServerMessage(conn_, prepared.get()));
    }
    checkpoint_prepared_ = true;
  }
  // A commit time of 0 means the source did not say.
  const std::string commit_time_us = std::to_string(begin.commit_time_us());
  const std::string origin_commit_us = std::to_string(begin.origin_commit_time_us());
  const char* values[] = {
      upstream.c_str(),
      begin.position().engine().c_str(),
      begin.position().value().c_str(),
      begin.commit_time_us() != 0 ? commit_time_us.c_str() : nullptr,
      begin.origin().empty() ? nullptr : begin.origin().c_str(),
      begin.origin_commit_time_us() != 0 ? origin_commit_us.c_str() : nullptr,
  };
  PgResult result(PQexecPrepared(conn_, kCheckpointStatement, 6, values, nullptr, nullptr, 0),
                  &PQclear);
  if (!IsOk(result.get()))
    return Status::Error(context + ": " + ServerMessage(conn_, result.get()));
  return Status::Ok();
}

Result<std::optional<TargetTable>> PostgresSink::LoadTable(const std::string& schema,
                                                           const std::string& table) {
  Result<PgResult> columns = ExecParams(kTargetColumnsSql, {schema, table});
  if (!columns.ok()) return columns.status().WithContext("read catalog of " + schema + "." + table);
  const PGresult* rows = columns->get();
  if (PQntuples(rows) == 0) return std::optional<TargetTable>();

  TargetTable target;
  target.schema = schema;
  target.table = table;
  target.relkind = PQgetvalue(rows, 0, 1)[0];
  const std::string oid = PQgetvalue(rows, 0, 0);
  for (int row = 0; row < PQntuples(rows); ++row) {
    if (PQgetisnull(rows, row, 2)) continue;
    target.columns.push_back({PQgetvalue(rows, row, 2), PQgetvalue(rows, row, 3),
                              NeedsTextCompare(Field(rows, row, 4).value_or("")),
                              Field(rows, row, 5).value_or(""), Field(rows, row, 6).value_or("")});
  }

  Result<PgResult> indexes = ExecParams(kUniqueIndexesSql, {oid});
  if (!indexes.ok()) return indexes.status().WithContext("read indexes of " + target.name());
  std::string current;
  for (int row = 0; row < PQntuples(indexes->get()); ++row) {
    const PGresult* index_rows = indexes->get();
    if (current != PQgetvalue(index_rows, row, 0)) {
      current = PQgetvalue(index_rows, row, 0);
      target.unique_indexes.push_back({{},
                                       std::string(PQgetvalue(index_rows, row, 1)) == "t",
                                       std::string(PQgetvalue(index_rows, row, 2)) == "t"});
    }
    target.unique_indexes.back().columns.push_back(PQgetvalue(index_rows, row, 3));
  }
  return std::optional<TargetTable>(std::move(target));
}

Result<Insertion> PostgresSink::Insert(const TargetTable& target,
                                       const std::vector<BoundColumn>& row,
                                       const std::vector<std::string>* arbiter) {
  Result<PgResult> inserted = ExecPrepared(InsertStatement(target, row, arbiter));
  if (!inserted.ok()) return inserted.status();
  if (arbiter == nullptr || AffectedRows(inserted->get()) == 1) return Insertion::New();
  // ON CONFLICT DO NOTHING met the row with the key; RowApplier overwrites it with an UPDATE.
  // DO NOTHING + UPDATE rather than DO UPDATE ... RETURNING (xmax = 0) because partitioned
  // tables cannot return system columns.
  return Insertion::KeyTaken();
}

// Up to 1000 rows a statement, within PostgreSQL's 65535 parameters; no batching for an
// insert of no columns (DEFAULT VALUES).
size_t PostgresSink::MaxInsertBatch(size_t columns) const {
  if (columns == 0) return 1;
  return std::min<size_t>(kMaxRowsPerInsert, kMaxParameters / columns);
}

size_t PostgresSink::RowBytes(const std::vector<BoundColumn>& row) const {
  size_t bytes = 0;
  for (const BoundColumn& column : row) bytes += column.value ? column.value->size() : 0;
  return bytes;
}

// Rows whose arbiter values are not among those the INSERT returned may have met an existing
// row. Text forms are compared, so a value PostgreSQL prints differently from how it was sent
// (1.0 as 1.00) makes a row look skipped that was not; RowApplier then rewrites it with the
// same values, which is harmless. The count comes from the server and is exact.
Result<BatchInsertion> PostgresSink::InsertBatch(const TargetTable& target,
                                                 const std::vector<std::vector<BoundColumn>>& rows,
                                                 const std::vector<std::string>* arbiter) {
  const Statement statement = InsertRowsStatement(target, rows, arbiter);
  // Full batches repeat one statement: prepare it. A last, shorter one runs unprepared, so
  // that the statement cache does not grow with every batch length.
  Result<PgResult> inserted = rows.size() == MaxInsertBatch(rows.front().size())
                                  ? ExecPrepared(statement)
                                  : ExecParams(statement.sql, statement.params);
  if (!inserted.ok()) return inserted.status();
  return BatchInsertionOf(inserted->get(), rows, arbiter);
}

Result<BatchInsertion> PostgresSink::BatchInsertionOf(
    PGresult* returned, const std::vector<std::vector<BoundColumn>>& rows,
    const std::vector<std::string>* arbiter) {
  BatchInsertion result;
  const uint64_t count = static_cast<uint64_t>(AffectedRows(returned));
  if (arbiter == nullptr || count == rows.size()) return result;
  result.skipped = rows.size() - count;
  std::set<std::vector<std::optional<std::string>>> present;
  for (int r = 0; r < PQntuples(returned); ++r) {
    std::vector<std::optional<std::string>> key;
    for (int c = 0; c < PQnfields(returned); ++c) key.push_back(Field(returned, r, c));
    present.insert(std::move(key));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    Result<std::vector<BoundColumn>> match = Select(rows[i], *arbiter);
    if (!match.ok()) return match.status();
    std::vector<std::optional<std::string>> key;
    for (const BoundColumn& column : *match) key.push_back(column.value);
    if (!present.contains(key)) result.maybe_skipped.push_back(i);
  }
  return result;
}

// Keyless or emptied: COPY straight into the table. Else, first COPY straight in as well: until
// the stream has written rows the copy has not reached, none of them is there, and a COPY costs
// the target less than half of what staging and merging do. When one is there (a unique
// violation), that COPY is rolled back and the rows go through the staging table (pg_copy.h).
Result<std::vector<size_t>> PostgresSink::CopyRows(const MappedRelation& relation,
                                                   const TargetTable& target, const ChunkRows& rows,
                                                   const std::vector<std::string>* arbiter) {
  std::vector<size_t> by_row;
  if (relation.columns.empty()) {  // no column to COPY: INSERT ... DEFAULT VALUES, row by row
    for (size_t i = 0; i < static_cast<size_t>(rows.size()); ++i) by_row.push_back(i);
    return by_row;
  }
  Result<std::vector<const TargetColumn*>> columns = MappedTargetColumns(relation, target);
  if (!columns.ok()) return columns.status();
  std::vector<std::string> names;
  for (const MappedColumn& column : relation.columns) names.push_back(column.target_name);
  if (arbiter == nullptr) {
    FERRY_RETURN_IF_ERROR(
        CopyIn(CopyFromStdinStatement(target.quoted(), names), relation, target, *columns, rows));
    return by_row;
  }
  Result<bool> written = CopyStraightIn(relation, target, *columns, names, rows);
  if (written.ok() && !*written) {
    written = CopyThroughStage(relation, target, *columns, names, rows, *arbiter);
  }
  if (!written.ok()) return written.status();
  if (!*written) {
    for (size_t i = 0; i < static_cast<size_t>(rows.size()); ++i) by_row.push_back(i);
  }
  return by_row;
}

// The bound values are the text the INSERT would send as parameters, which COPY's text format
// reads with the same input functions. A COPY that fails for any reason is rolled back to its
// savepoint and the rows go in as INSERTs: those tell which rows met an existing one, and fail
// with the error the row path gives.
Result<bool> PostgresSink::CopyInsertBatch(const TargetTable& target,
                                           const std::vector<std::vector<BoundColumn>>& rows) {
  int& inserted = inserted_runs_[target.name()];
  if (inserted > 0 || rows.front().empty()) {
    if (inserted > 0) --inserted;
    return false;
  }
  std::vector<std::string> names;
  for (const BoundColumn& column : rows.front()) names.push_back(column.name);
  FERRY_RETURN_IF_ERROR(Run("SAVEPOINT ferry_insert_copy", "set a savepoint"));
  Status copied = CopyLinesIn(CopyFromStdinStatement(target.quoted(), names), rows.size(),
                              [&rows](size_t i, std::string* data) {
                                AppendBoundLine(rows[i], data);
                                return Status::Ok();
                              });
  if (copied.ok()) {
    FERRY_RETURN_IF_ERROR(Run("RELEASE SAVEPOINT ferry_insert_copy", "release the savepoint"));
    return true;
  }
  FERRY_RETURN_IF_ERROR(
      Run("ROLLBACK TO SAVEPOINT ferry_insert_copy; RELEASE SAVEPOINT ferry_insert_copy",
          "roll back to the savepoint"));
  log_->debug("COPY of {} inserted rows into {}: {}; they and the next {} runs go as INSERTs",
              rows.size(), target.name(), copied.message(), kStagedWritesAfterClash);
  inserted = kStagedWritesAfterClash;
  return false;
}

Result<bool> PostgresSink::CopyThroughStage(const MappedRelation& relation,
                                            const TargetTable& target,
                                            const std::vector<const TargetColumn*>& columns,
                                            const std::vector<std::string>& names,
                                            const ChunkRows& rows,
                                            const std::vector<std::string>& arbiter) {
  Result<std::string> stage = Stage(target, names);
  if (!stage.ok()) return stage.status();
  const std::string staged = QuotedStage(*stage);
  FERRY_RETURN_IF_ERROR(
      CopyIn(CopyFromStdinStatement(staged, names), relation, target, columns, rows));
  FERRY_RETURN_IF_ERROR(Run("SAVEPOINT ferry_merge", "set a savepoint"));
  std::string sqlstate;
  Status merged = Run(MergeStageStatement(target, *stage, names, arbiter),
                      "merge the copied rows into the table", &sqlstate);
  if (!merged.ok() && sqlstate != kCardinalityViolation) return merged;
  FERRY_RETURN_IF_ERROR(Run(merged.ok() ? "RELEASE SAVEPOINT ferry_merge"
                                        : "ROLLBACK TO SAVEPOINT ferry_merge; RELEASE SAVEPOINT "
                                          "ferry_merge",
                            "end the savepoint"));
  FERRY_RETURN_IF_ERROR(Run("TRUNCATE " + staged, "empty the staging table"));
  return merged.ok();
}

Result<bool> PostgresSink::CopyStraightIn(const MappedRelation& relation, const TargetTable& target,
                                          const std::vector<const TargetColumn*>& columns,
                                          const std::vector<std::string>& names,
                                          const ChunkRows& rows) {
  int& staged = staged_writes_[target.name()];
  if (staged > 0) {
    --staged;
    return false;
  }
  FERRY_RETURN_IF_ERROR(Run("SAVEPOINT ferry_copy", "set a savepoint"));
  std::string sqlstate;
  Status copied = CopyIn(CopyFromStdinStatement(target.quoted(), names), relation, target, columns,
                         rows, &sqlstate);
  if (copied.ok()) {
    FERRY_RETURN_IF_ERROR(Run("RELEASE SAVEPOINT ferry_copy", "release the savepoint"));
    return true;
  }
  if (sqlstate != kUniqueViolation) return copied;
  FERRY_RETURN_IF_ERROR(Run("ROLLBACK TO SAVEPOINT ferry_copy; RELEASE SAVEPOINT ferry_copy",
                            "roll back to the savepoint"));
  log_->debug("copy into {}: {}; these rows and the next {} writes go through a staging table",
              target.name(), copied.message(), kStagedWritesAfterClash);
  staged = kStagedWritesAfterClash;
  return false;
}

Result<std::string> PostgresSink::Stage(const TargetTable& target,
                                        const std::vector<std::string>& columns) {
  // The types are part of the key: a target column whose type changed gets a new stage.
  std::string key = target.quoted();
  for (const std::string& name : columns) {
    const TargetColumn* column = target.Find(name);
    key += '\0' + name + '\0' + (column != nullptr ? column->type : "");
  }
  if (auto it = stages_.find(key); it != stages_.end()) return it->second;
  const std::string stage = "ferry_copy_stage_" + std::to_string(++stages_created_);
  FERRY_RETURN_IF_ERROR(Run(CreateStageStatement(stage, target, columns),
                            "create the staging table " + QuotedStage(stage)));
  stages_.emplace(key, stage);
  return stage;
}

Status PostgresSink::AppendLine(const MappedRelation& relation, const TargetTable& target,
                                const std::vector<const TargetColumn*>& columns,
                                const RowImage& image, std::string* out) {
  return WithZeroDatesResolved(relation, target, image, zero_dates_, [&](const RowImage& row) {
    return AppendCopyLine(relation, columns, row, out);
  });
}

// The data goes out in pieces while rows are encoded. A row that cannot be encoded ends the COPY
// with an error (PQputCopyEnd's message), which rolls back what was sent; the connection is
// back to accepting statements whatever happened.
Status PostgresSink::CopyIn(const std::string& sql, const MappedRelation& relation,
                            const TargetTable& target,
                            const std::vector<const TargetColumn*>& columns, const ChunkRows& rows,
                            std::string* sqlstate) {
  return CopyLinesIn(
      sql, static_cast<size_t>(rows.size()),
      [&](size_t i, std::string* data) {
        return AppendLine(relation, target, columns, rows[i].new_values(), data);
      },
      sqlstate);
}

Status PostgresSink::CopyLinesIn(const std::string& sql, size_t lines,
                                 const std::function<Status(size_t, std::string*)>& append_line,
                                 std::string* sqlstate) {
  PgResult started(PQexec(conn_, sql.c_str()), &PQclear);
  if (PQresultStatus(started.get()) != PGRES_COPY_IN) {
    return Status::Error("start COPY: " + ServerMessage(conn_, started.get()));
  }
  Status status = Status::Ok();
  std::string data;
  data.reserve(kCopySendBytes + (kCopySendBytes >> 2));
  const auto send = [&] {
    if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) {
      status = Status::Error("send COPY data: " + ServerMessage(conn_, nullptr));
    }
    data.clear();
  };
  for (size_t i = 0; i < lines && status.ok(); ++i) {
    status = append_line(i, &data);
    if (status.ok() && data.size() >= kCopySendBytes) send();
  }
  if (status.ok() && !data.empty()) send();
  if (PQputCopyEnd(conn_, status.ok() ? nullptr : "a copied row could not be encoded") != 1 &&
      status.ok()) {
    status = Status::Error("end COPY: " + ServerMessage(conn_, nullptr));
  }
  // Every result is read, so that the connection takes the next statement.
  for (PGresult* raw = PQgetResult(conn_); raw != nullptr; raw = PQgetResult(conn_)) {
    PgResult result(raw, &PQclear);
    if (status.ok() && !IsOk(result.get())) {
      const char* code = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      if (sqlstate != nullptr && code != nullptr) *sqlstate = code;
      const char* where = PQresultErrorField(result.get(), PG_DIAG_CONTEXT);
      status = Status::Error("COPY: " + ServerMessage(conn_, result.get()) +
                             (where != nullptr ? " (CONTEXT: " + OneLine(where) + ")" : ""));
    }
  }
  return status;
}

Result<uint64_t> PostgresSink::Update(const TargetTable& target,
                                      const std::vector<BoundColumn>& set,
                                      const std::vector<BoundColumn>& match, bool one_row) {
  Result<PgResult> updated = ExecPrepared(UpdateStatement(target, set, match, one_row));
  if (!updated.ok()) return updated.status();
  return static_cast<uint64_t>(AffectedRows(updated->get()));
}

Result<std::optional<LocalRow>> PostgresSink::ReadLocal(const TargetTable& target,
                                                        const std::vector<BoundColumn>& match,
                                                        const std::vector<BoundColumn>& compare,
                                                        const BoundColumn* order) {
  if (order != nullptr && !order->value) order = nullptr;  // NULL orders against nothing
  Result<PgResult> read = ExecPrepared(ReadLocalStatement(target, match, compare, order));
  if (!read.ok()) return read.status();
  PGresult* result = read->get();
  if (PQntuples(result) == 0) return std::optional<LocalRow>();
  LocalRow row;
  int column = 0;
  for (; column < static_cast<int>(target.columns.size()); ++column) {
    row.values.push_back(Field(result, 0, column));
  }
  for (size_t i = 0; i < compare.size(); ++i, ++column) {
    row.equal.push_back(std::string(PQgetvalue(result, 0, column)) == "t");
  }
  if (order != nullptr && !PQgetisnull(result, 0, column)) {
    row.order = std::stoi(PQgetvalue(result, 0, column));
  }
  return std::optional<LocalRow>(std::move(row));
}

Result<std::vector<LoggedConflict>> PostgresSink::ReadConflicts(const ConflictFilter& filter) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<PgResult> result =
      ExecParams(kReadConflictsSql, {filter.table, filter.type, std::to_string(filter.limit)});
  if (!result.ok()) return result.status().WithContext("read ferry_meta.conflicts");
  std::vector<LoggedConflict> conflicts;
  for (int row = 0; row < PQntuples(result->get()); ++row) {
    std::vector<std::string> fields;
    for (int column = 0; column < PQnfields(result->get()); ++column) {
      fields.push_back(Field(result->get(), row, column).value_or(""));
    }
    conflicts.push_back(LoggedConflictOf(fields));
  }
  return conflicts;
}

Status PostgresSink::RecordConflict(const ConflictRecord& record) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  if (!in_transaction_) return Status::Error("record a conflict: no transaction is open");
  Result<PgResult> result = ExecParams(
      kConflictSql,
      {record.upstream, record.origin, record.position, std::to_string(record.remote_commit_us),
       record.table, record.key, conflict::ConflictTypeName(record.type), record.remote_old,
       record.remote_new, record.local, record.resolver, conflict::OutcomeName(record.outcome),
       record.final_row, record.reason});
  if (!result.ok()) return result.status().WithContext("record a conflict on " + record.table);
  return Status::Ok();
}

Result<uint64_t> PostgresSink::Delete(const TargetTable& target,
                                      const std::vector<BoundColumn>& match, bool one_row) {
  Result<PgResult> deleted = ExecPrepared(DeleteStatement(target, match, one_row));
  if (!deleted.ok()) return deleted.status();
  return static_cast<uint64_t>(AffectedRows(deleted->get()));
}

// CASCADE is passed on as the source had it. PostgreSQL's own apply worker ignores it (a
// subscriber's tables that reference the truncated ones only through foreign keys are left
// alone), but Ferry's replica follows its source: the source emptied those tables too, and
// those it replicates are named in the statement anyway.
Status PostgresSink::Truncate(const std::vector<const TargetTable*>& targets,
                              const wire::RowChange& change) {
  return ExecSimple(TruncateStatement(targets, change.cascade(), change.restart_identity()));
}

Status PostgresSink::CommitTransaction() {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  if (!in_transaction_) return Status::Error("commit: no transaction is open");
  FERRY_RETURN_IF_ERROR(rows_.Flush());
  if (group_checkpoint_) {
    FERRY_RETURN_IF_ERROR(WriteCheckpoint(group_checkpoint_->upstream, group_checkpoint_->begin));
    group_checkpoint_.reset();
  }
  // If COMMIT fails because the connection broke, whether it committed is unknown; the
  // checkpoint, read again after reconnecting, is what tells (ARCHITECTURE.md invariant 2).
  // With asynchronous commits the WAL position that marks the commit is asked in the same
  // round trip (MarkCommit's query, run right after the COMMIT).
  const bool mark = !synchronous_commit_;
  in_transaction_ = false;
  if (PQsendQuery(conn_, mark ? "COMMIT; SELECT pg_current_wal_insert_lsn()" : "COMMIT") != 1) {
    stages_.clear();
    return Status::Error("commit on target: " + ServerMessage(conn_, nullptr));
  }
  PgResult result(PQgetResult(conn_), &PQclear);
  PgResult position(mark && IsOk(result.get()) ? PQgetResult(conn_) : nullptr, &PQclear);
  while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  if (!IsOk(result.get())) {
    stages_.clear();
    return Status::Error("commit on target: " + ServerMessage(conn_, result.get()));
  }
  // COMMIT of a transaction that already failed succeeds as a ROLLBACK; that must not pass
  // for a commit, or the apply agent would ack a transaction that is not there.
  if (std::string(PQcmdStatus(result.get())) != "COMMIT") {
    stages_.clear();
    return Status::Error(
        "commit on target: the transaction was rolled back because an earlier "
        "statement in it failed");
  }
  if (!mark) return Status::Ok();
  if (!IsOk(position.get()) || PQntuples(position.get()) != 1) {
    return Status::Error("read the target's WAL position after commit: " +
                         ServerMessage(conn_, position.get()));
  }
  Result<uint64_t> lsn = wire::ParsePgLsn(PQgetvalue(position.get(), 0, 0));
  if (!lsn.ok()) return lsn.status().WithContext("read the target's WAL position after commit");
  last_commit_mark_ = *lsn;
  return Status::Ok();
}

Result<uint64_t> PostgresSink::QueryLsn(const char* sql) {
  PgResult result(PQexec(conn_, sql), &PQclear);
  if (!IsOk(result.get()) || PQntuples(result.get()) != 1) {
    return Status::Error(std::string(sql) + ": " + ServerMessage(conn_, result.get()));
  }
  return wire::ParsePgLsn(PQgetvalue(result.get(), 0, 0));
}

Status PostgresSink::MarkCommit() {
  if (synchronous_commit_) return Status::Ok();
  Result<uint64_t> mark = QueryLsn("SELECT pg_current_wal_insert_lsn()");
  if (!mark.ok()) return mark.status().WithContext("read the target's WAL position after commit");
  last_commit_mark_ = *mark;
  return Status::Ok();
}

void PostgresSink::AbortTransaction() {
  in_transaction_ = false;
  group_checkpoint_.reset();
  rows_.Discard();  // ends the statements it sent ahead
  stages_.clear();
  if (conn_ == nullptr) return;
  // Still in pipeline mode (leaving it failed, e.g. after a drain that failed halfway): the
  // connection takes no ROLLBACK until it is left; a connection that cannot leave it is closed
  // (the transaction goes with it), and Open starts over.
  if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) {
    Status finished = FinishSent();
    if (!finished.ok()) {
      log_->warn("rollback on target: {}: closing the connection", finished.message());
      Close();
      return;
    }
  }
  const PGTransactionStatusType state = PQtransactionStatus(conn_);
  if (state != PQTRANS_INTRANS && state != PQTRANS_INERROR) return;
  PgResult result(PQexec(conn_, "ROLLBACK"), &PQclear);
  if (!IsOk(result.get())) {
    log_->warn("rollback on target failed: {}", ServerMessage(conn_, result.get()));
  }
}

Result<std::optional<std::vector<std::string>>> PostgresSink::TargetColumns(
    const std::string& schema, const std::string& table) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  return rows_.TargetColumns(schema, table);
}

// PostgreSQL DDL is transactional: inside the open transaction the table commits with the rows
// written to it, or is gone again if they roll back.
Result<std::vector<std::string>> PostgresSink::CreateTable(const NewTable& table) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  FERRY_RETURN_IF_ERROR(rows_.Drain());  // the DDL runs after the statements in flight
  Result<std::string> create = PgCreateTableSql(table);
  if (!create.ok()) return create.status();
  Result<std::optional<std::vector<std::string>>> existing =
      rows_.TargetColumns(table.schema, table.table);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return std::vector<std::string>();
  Result<PgResult> schema =
      ExecParams("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", {table.schema});
  if (!schema.ok()) return schema.status();
  std::vector<std::string> ddl;
  if (PQntuples(schema->get()) == 0) ddl.push_back(PgCreateSchemaSql(table));
  ddl.push_back(*create);
  for (const std::string& sql : ddl) {
    FERRY_RETURN_IF_ERROR(ExecSimple(sql).WithContext("create_tables: create " +
                                                      table.target_name() + " on the target"));
  }
  return ddl;
}

Status PostgresSink::RecordTableCreated(const std::string& upstream, const std::string& table) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  FERRY_RETURN_IF_ERROR(rows_.Drain());
  Result<PgResult> result = ExecParams(kTableCreatedSql, {upstream, table});
  if (!result.ok())
    return result.status().WithContext("record that create_tables created " + table);
  return Status::Ok();
}

// In the open transaction, like CreateTable: the indexes commit with the rows after them.
Result<IndexDdl> PostgresSink::CreateIndexes(const NewTable& table,
                                             const std::vector<NewIndex>& indexes) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  FERRY_RETURN_IF_ERROR(rows_.Drain());
  IndexDdl ddl;
  for (const NewIndex& index : indexes) {
    Result<std::string> sql = PgCreateIndexSql(table, index);
    if (!sql.ok()) {
      ddl.not_created.push_back(IndexNotCreated(table, index, sql.message()));
      continue;
    }
    const std::string name = PgIndexName(table, index);
    Result<PgResult> taken =
        ExecParams(kIndexNameTakenSql,
                   {table.schema, name, QuoteIdent(table.schema) + "." + QuoteIdent(table.table)});
    if (!taken.ok()) return IndexFailed(table, index, taken.status());
    if (PQntuples(taken->get()) > 0) {
      if (std::string(PQgetvalue(taken->get(), 0, 0)) == "t") continue;  // created before
      ddl.not_created.push_back(IndexNotCreated(
          table, index, "schema " + table.schema + " already has a relation named " + name));
      continue;
    }
    Status created = ExecSimple(*sql);
    if (!created.ok()) return IndexFailed(table, index, created);
    ddl.run.push_back(*sql);
  }
  return ddl;
}

}  // namespace

std::unique_ptr<Sink> MakePostgresSink(std::string dsn, ZeroDates zero_dates,
                                       bool synchronous_commit,
                                       std::chrono::milliseconds lock_timeout) {
  return std::make_unique<PostgresSink>(std::move(dsn), zero_dates, synchronous_commit,
                                        lock_timeout);
}

}  // namespace ferry::apply::postgres
