#include "apply/mysql/mysql_sink.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>
#include <mysql_driver.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "apply/mysql/mysql_ddl.h"
#include "apply/mysql/mysql_sql.h"
#include "apply/mysql/mysql_values.h"
#include "apply/row_applier.h"
#include "apply/sink_text.h"
#include "common/log.h"
#include "common/mysql_dsn.h"

namespace ferry::apply::mysql {
namespace {

using Row = std::vector<std::optional<std::string>>;

// Session settings of every apply connection.
//  - time_zone UTC: TIMESTAMP values arrive as UTC wall time and are written and compared in
//    the session time zone, so it must be UTC whatever the server's default.
//  - sql_mode strict: a value the column cannot hold is an error, never a silent truncation
//    (the sink checks first, the server is the second line); NO_AUTO_VALUE_ON_ZERO keeps a
//    replicated id 0 as 0 instead of drawing the next AUTO_INCREMENT value. Without
//    NO_ZERO_DATE and NO_ZERO_IN_DATE: a MySQL/MariaDB source's zero and partial dates
//    ('0000-00-00', '2024-01-00') are written exactly, also into NOT NULL columns, as native
//    row-based replication copies them; no other source sends them (the sink refuses the one
//    kind a column cannot hold, a partial date in a TIMESTAMP), and strictness is otherwise the
//    same.
//  - utf8mb4: every character the wire's UTF-8 text can hold.
//  - foreign_key_checks=0: the target behaves like a native replica of a source that checked
//    its constraints already. Parents may arrive later or not at all (a table that is not
//    replicated, rows applied in an order the source never had to validate, a deferred
//    PostgreSQL constraint); and InnoDB's cascades are off too, which is right, because the
//    rows a source cascade changed arrive through the stream themselves.
//  - unique_checks=1 (the default, set explicitly): a native replica checks uniqueness unless
//    the source session had turned it off, and the sink relies on duplicate-key errors to find
//    an insert over an existing row; with 0, InnoDB may skip the check on secondary unique
//    indexes and let the replica silently diverge.
//  - READ COMMITTED: each statement sees the latest committed rows and InnoDB takes no gap
//    locks, so applying does not block (or deadlock with) local writers on ranges it does not
//    touch; the apply agent is the only writer of its rows and reads nothing it depends on.
//  - @ferry_apply = 1: MySQL and MariaDB cannot switch triggers off for one session (there is no
//    session_replication_role), so target triggers fire for replicated rows. A trigger that
//    must not (as a PostgreSQL trigger does not on a replica) tests `@ferry_apply IS NULL`.
constexpr const char* kSessionSettings[] = {
    "SET time_zone = '+00:00'",
    // One element split over two lines: the parentheses tell clang it is not a missing comma.
    ("SET sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_VALUE_ON_ZERO,"
     "NO_ENGINE_SUBSTITUTION'"),
    "SET NAMES utf8mb4",
    "SET SESSION foreign_key_checks = 0",
    "SET SESSION unique_checks = 1",
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SET @ferry_apply = 1",
};

// copy_progress.resync, created_table and origin came after the table: a ferry_meta without them
// is brought up to date (CreateMeta expects kMetaExistsCount).
constexpr const char* kMetaExistsSql =
    "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ferry_meta'"
    " AND TABLE_NAME IN ('checkpoints', 'conflicts', 'copy_progress'))"
    " + (SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ferry_meta'"
    " AND TABLE_NAME = 'copy_progress' AND COLUMN_NAME IN ('resync', 'created_table', 'origin'))"
    " + (SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ferry_meta'"
    " AND TABLE_NAME = 'checkpoints' AND COLUMN_NAME = 'origin_commit_us')"
    " + (SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ferry_meta'"
    " AND TABLE_NAME = 'conflicts' AND COLUMN_NAME = 'reason')";
constexpr const char* kMetaExistsCount = "8";

// upstream is compared byte for byte (utf8mb4_bin): two upstreams differing in case are two.
constexpr const char* kMetaDdl[] = {
    "CREATE DATABASE IF NOT EXISTS ferry_meta CHARACTER SET utf8mb4",
    "CREATE TABLE IF NOT EXISTS ferry_meta.checkpoints ("
    " upstream VARCHAR(255) COLLATE utf8mb4_bin PRIMARY KEY,"
    " engine VARCHAR(32) NOT NULL,"
    " position TEXT NOT NULL,"
    " commit_time DATETIME(6) NULL,"
    " origin VARCHAR(255) NULL,"
    " applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS ferry_meta.conflicts ("
    " id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,"
    " at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    " upstream TEXT NULL,"
    " table_name TEXT NULL,"
    " `key` JSON NULL,"
    " conflict_type TEXT NULL,"
    " remote_row JSON NULL,"
    " local_row JSON NULL,"
    " resolver TEXT NULL,"
    " outcome TEXT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS ferry_meta.copy_progress ("
    " upstream VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,"
    " source_table VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,"
    " after_key LONGTEXT NOT NULL,"
    " rows_copied BIGINT UNSIGNED NOT NULL DEFAULT 0,"
    " done BOOLEAN NOT NULL DEFAULT FALSE,"
    " updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
    " PRIMARY KEY (upstream, source_table)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "ALTER TABLE ferry_meta.copy_progress"
    " ADD COLUMN IF NOT EXISTS resync BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE ferry_meta.copy_progress"
    " ADD COLUMN IF NOT EXISTS created_table BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE ferry_meta.checkpoints ADD COLUMN IF NOT EXISTS origin_commit_us BIGINT NULL",
    // The copy's origin marker (loop prevention: a copy chunk's first write is its progress).
    "ALTER TABLE ferry_meta.copy_progress ADD COLUMN IF NOT EXISTS origin VARCHAR(255) NULL",
    // What came with master-master (remote_row is the remote change's new image).
    "ALTER TABLE ferry_meta.conflicts ADD COLUMN IF NOT EXISTS origin TEXT NULL,"
    " ADD COLUMN IF NOT EXISTS remote_position TEXT NULL,"
    " ADD COLUMN IF NOT EXISTS remote_commit_time DATETIME(6) NULL,"
    " ADD COLUMN IF NOT EXISTS remote_old_row JSON NULL,"
    " ADD COLUMN IF NOT EXISTS final_row JSON NULL,"
    " ADD COLUMN IF NOT EXISTS reason TEXT NULL",
};

constexpr const char* kReadConflictsSql =
    "SELECT id, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), upstream, origin, remote_position,"
    " table_name, `key`, conflict_type, resolver, outcome, reason, remote_old_row, remote_row,"
    " local_row, final_row FROM ferry_meta.conflicts WHERE (? = '' OR table_name = ?)"
    " AND (? = '' OR conflict_type = ?) ORDER BY id DESC LIMIT ?";

constexpr const char* kConflictSql =
    "INSERT INTO ferry_meta.conflicts (upstream, origin, remote_position, remote_commit_time,"
    " table_name, `key`, conflict_type, remote_old_row, remote_row, local_row, resolver, outcome,"
    " final_row, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

// MariaDB's JSON columns are LONGTEXT with this check (MySQL has no TABLE_NAME here, and a JSON
// type of its own).
constexpr const char* kJsonChecksSql =
    "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
    " WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND CHECK_CLAUSE LIKE 'json_valid(%'";

constexpr const char* kReadCopyProgressSql =
    "SELECT source_table, after_key, rows_copied, done, resync, created_table"
    " FROM ferry_meta.copy_progress WHERE upstream = ? ORDER BY source_table";

// Only ever set: a re-copy's progress keeps it (the upsert below leaves it alone).
constexpr const char* kTableCreatedSql =
    "UPDATE ferry_meta.copy_progress SET created_table = TRUE"
    " WHERE upstream = ? AND source_table = ?";

constexpr const char* kIndexNamesSql =
    "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS"
    " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?";

// Seconds an index's DDL waits for the table's metadata lock (see CreateIndexes).
constexpr const char* kIndexLockWaitSql = "SET SESSION lock_wait_timeout = 300";

constexpr const char* kCopyProgressSql =
    "INSERT INTO ferry_meta.copy_progress (upstream, source_table, after_key, rows_copied, done,"
    " resync, origin, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP(6))"
    " ON DUPLICATE KEY UPDATE after_key = VALUES(after_key), rows_copied = VALUES(rows_copied),"
    " done = VALUES(done), resync = VALUES(resync), origin = VALUES(origin),"
    " updated_at = CURRENT_TIMESTAMP(6)";

// commit_time is DATETIME(6) holding UTC wall time. VALUES() rather than MySQL 8.0.19's row
// alias because MariaDB knows only VALUES() (MySQL 8 accepts it with a deprecation warning).
constexpr const char* kCheckpointSql =
    "INSERT INTO ferry_meta.checkpoints (upstream, engine, position, commit_time, origin,"
    " origin_commit_us, applied_at) VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP(6))"
    " ON DUPLICATE KEY UPDATE engine = VALUES(engine), position = VALUES(position),"
    " commit_time = VALUES(commit_time), origin = VALUES(origin),"
    " origin_commit_us = VALUES(origin_commit_us), applied_at = CURRENT_TIMESTAMP(6)";

// The upsert of `upstream`'s checkpoint to `begin`'s position.
Statement CheckpointStatement(const std::string& upstream, const wire::Begin& begin) {
  // A commit time of 0 means the source did not say.
  return {kCheckpointSql,
          {Param::String(upstream), Param::String(begin.position().engine()),
           Param::String(begin.position().value()),
           begin.commit_time_us() != 0 ? Param::String(EpochMicrosText(begin.commit_time_us()))
                                       : Param::Null(),
           begin.origin().empty() ? Param::Null() : Param::String(begin.origin()),
           begin.origin_commit_time_us() != 0 ? Param::Int64(begin.origin_commit_time_us())
                                              : Param::Null()}};
}

constexpr const char* kReadCheckpointSql =
    "SELECT engine, position FROM ferry_meta.checkpoints WHERE upstream = ?";

constexpr const char* kColumnsSql =
    "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,"
    " CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, IS_NULLABLE"
    " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?"
    " ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION";

// Unique indexes, primary key first, one row per column in index order. A functional index
// part (MySQL 8) has no COLUMN_NAME; such an index cannot identify rows by column values.
constexpr const char* kUniqueIndexesSql =
    "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS"
    " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0"
    " ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX";

// A multi-row INSERT of the row path carries at most this many rows (and kMaxInsertBatchBytes).
constexpr size_t kMaxRowsPerInsert = 10000;

// What a statement adds to a compound statement besides its own text (BatchStatement).
constexpr size_t kBatchBytesPerStatement = 64;

// An INSERT of this many bytes of SQL or more is not put in a compound statement (Alone).
constexpr size_t kInsertAloneBytes = 64 << 10;

// The outcome of a statement of a batch: its row count or error. `refused_from`: an INSERT not
// written from that row on (a duplicate key, or a row too large to send), whose rows from there
// go one at a time. `ends_statement`: the last result of what RowApplier sent as one statement.
struct BatchResult {
  Result<uint64_t> count;
  std::optional<size_t> refused_from;
  bool ends_statement = true;
};

BatchResult Failed(Status error) { return {std::move(error), std::nullopt, true}; }

constexpr int kErrDupEntry = 1062;
constexpr int kErrDupEntryWithKeyName = 1586;
constexpr int kErrBadNull = 1048;
constexpr int kErrLockWaitTimeout = 1205;

constexpr char kLockTimeoutHint[] =
    ": another session of the target held a lock on the row or table for longer than the apply "
    "agent's target.lock_timeout_ms; information_schema.INNODB_LOCK_WAITS and the processlist "
    "name it. The stream retries by itself";

// Both waits: for a row lock (InnoDB) and for a table's metadata lock (LOCK TABLES, DDL). The
// server counts whole seconds; no limit (0) is each variable's largest value.
std::string LockTimeoutSetting(std::chrono::milliseconds timeout) {
  const int64_t seconds = (timeout.count() + 999) / 1000;
  const int64_t row_lock = timeout.count() == 0 ? 100000000 : std::min<int64_t>(seconds, 100000000);
  const int64_t table_lock = timeout.count() == 0 ? 31536000 : std::min<int64_t>(seconds, 31536000);
  return "SET SESSION innodb_lock_wait_timeout = " + std::to_string(row_lock) +
         ", lock_wait_timeout = " + std::to_string(table_lock);
}

// One multi-row INSERT of a copy chunk carries at most this many bytes (as mariadb-dump's
// extended inserts, large enough that the statement's own cost no longer counts).
constexpr size_t kCopyStatementBytes = 4 << 20;

std::optional<uint64_t> Number(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  uint64_t number = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), number);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return number;
}

// The first value of a one-row result ("" when there is none or it is NULL).
std::string FirstValue(const std::vector<Row>& rows, size_t column = 0) {
  if (rows.empty() || rows.front().size() <= column) return "";
  return rows.front()[column].value_or("");
}

std::optional<uint32_t> Number32(const std::optional<std::string>& text) {
  std::optional<uint64_t> number = Number(text);
  if (!number) return std::nullopt;
  return static_cast<uint32_t>(*number);
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The driver instance is created once: Connector/C++ initialises the client library there,
// which is not safe to do from several threads at once.
sql::mysql::MySQL_Driver* Driver() {
  static sql::mysql::MySQL_Driver* const driver = sql::mysql::get_mysql_driver_instance();
  return driver;
}

// The dsn's TLS keys as Connector/C++ options. Debian's Connector/C++ 1.1 runs on MariaDB
// Connector/C: sslEnforce is MYSQL_OPT_SSL_ENFORCE (ask for TLS), sslVerify
// MYSQL_OPT_SSL_VERIFY_SERVER_CERT (check the host name, and refuse a server without TLS before
// logging in); sslCA, sslCert and sslKey go to mysql_ssl_set. A CA makes Connector/C check the
// server's chain against it, with or without sslVerify. Without a CA, verify-full checks against
// the system's trusted CAs.
void AddTlsOptions(const MysqlTls& tls, sql::ConnectOptionsMap& options) {
  if (!tls.enabled()) return;
  options["sslEnforce"] = true;
  if (!tls.root_cert.empty()) options["sslCA"] = sql::SQLString(tls.root_cert);
  if (!tls.cert.empty()) {
    options["sslCert"] = sql::SQLString(tls.cert);
    options["sslKey"] = sql::SQLString(tls.key);
  }
  if (tls.mode == SslMode::kVerifyFull) options["sslVerify"] = true;
}

// How every connection to the target is made.
sql::ConnectOptionsMap ConnectOptions(const MysqlDsn& dsn) {
  sql::ConnectOptionsMap options;
  options["hostName"] = sql::SQLString(dsn.host);
  options["port"] = static_cast<int>(dsn.port);
  options["userName"] = sql::SQLString(dsn.user);
  options["password"] = sql::SQLString(dsn.password.value_or(""));
  if (!dsn.dbname.empty()) options["schema"] = sql::SQLString(dsn.dbname);
  if (!dsn.socket.empty()) options["socket"] = sql::SQLString(dsn.socket);
  options["OPT_CONNECT_TIMEOUT"] = static_cast<int>(dsn.connect_timeout_s);
  if (dsn.read_timeout_s) options["OPT_READ_TIMEOUT"] = static_cast<int>(*dsn.read_timeout_s);
  if (dsn.write_timeout_s) options["OPT_WRITE_TIMEOUT"] = static_cast<int>(*dsn.write_timeout_s);
  AddTlsOptions(dsn.tls, options);
  // Found (matched) rows, not changed rows: see the header.
  options["CLIENT_FOUND_ROWS"] = true;
  options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  // A silent reconnect would lose the open transaction and the session settings.
  options["OPT_RECONNECT"] = false;
  return options;
}

// The cipher of `connection`'s session as the server reports it, "" when it is not encrypted.
// Connector/C++ does not say whether its own connection is (see CheckEncrypted).
std::string SessionCipher(sql::Connection& connection) {
  std::unique_ptr<sql::Statement> statement(connection.createStatement());
  std::unique_ptr<sql::ResultSet> result(
      statement->executeQuery("SHOW SESSION STATUS LIKE 'Ssl_cipher'"));
  return result->next() ? std::string(result->getString(2)) : "";
}

// A new connection to the target as `dsn` says, and, with TLS, its session's cipher in
// `cipher` (left as it is without). Throws what Connector/C++ throws.
std::unique_ptr<sql::Connection> ConnectTarget(const MysqlDsn& dsn, std::string* cipher) {
  sql::ConnectOptionsMap options = ConnectOptions(dsn);
  std::unique_ptr<sql::Connection> connection(Driver()->connect(options));
  if (dsn.tls.enabled()) *cipher = SessionCipher(*connection);
  return connection;
}

class MysqlSink final : public Sink, private RowEngine<TargetTable, BoundColumn> {
 public:
  MysqlSink(std::string dsn, std::chrono::milliseconds lock_timeout)
      : dsn_(std::move(dsn)), lock_timeout_(lock_timeout), log_(Logger("apply.mysql")) {}
  ~MysqlSink() override { Close(); }

  Status Open() override;
  void Cancel() override;
  Result<std::optional<wire::Position>> ReadCheckpoint(const std::string& upstream) override;
  Result<std::vector<CopyProgress>> ReadCopyProgress(const std::string& upstream) override;
  Status BeginCopyTransaction() override;
  Status EmptyTable(const MappedRelation& relation) override {
    FERRY_RETURN_IF_ERROR(CheckOpen());
    FERRY_RETURN_IF_ERROR(rows_.Flush());
    Status status = Exec("DELETE FROM " + QuoteIdent(relation.target_schema) + "." +
                         QuoteIdent(relation.target_table));
    if (!status.ok()) transaction_failed_ = true;
    return status;
  }
  Result<uint64_t> DeleteCopyRange(const MappedRelation& relation,
                                   const CopyRange& range) override {
    Result<uint64_t> deleted = rows_.DeleteRange(relation, range);
    if (!deleted.ok()) transaction_failed_ = true;
    return deleted;
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
                              const wire::RowChange& change) override;
  Result<std::vector<ConflictRecord>> ApplyCheckedRow(const MappedRelation& relation,
                                                      const wire::RowChange& change,
                                                      const ConflictContext& context) override {
    Result<std::vector<ConflictRecord>> applied = rows_.ApplyChecked(relation, change, context);
    if (!applied.ok()) transaction_failed_ = true;  // as in ApplyRow
    return applied;
  }
  Status RecordConflict(const ConflictRecord& record) override;
  Result<std::vector<LoggedConflict>> ReadConflicts(const ConflictFilter& filter) override;
  Status CopyRows(const MappedRelation& relation, const ChunkRows& rows, CopyInto into) override {
    Status status = rows_.Copy(relation, rows, into);
    if (!status.ok()) transaction_failed_ = true;  // as in ApplyRow
    return status;
  }
  Status ApplyTruncate(const std::vector<const MappedRelation*>& relations,
                       const wire::RowChange& change) override;
  Status CommitTransaction() override;
  void AbortTransaction() override;
  std::vector<LateOutcome> TakeLateOutcomes() override { return rows_.TakeLateOutcomes(); }
  size_t MaxInsertBatch(size_t columns) const override;
  size_t RowBytes(const std::vector<BoundColumn>& row) const override;
  Result<BatchInsertion> InsertBatch(const TargetTable& target,
                                     const std::vector<std::vector<BoundColumn>>& rows,
                                     const std::vector<std::string>* arbiter) override;
  // The bulk path's check for an insert that met a row on another unique index than the
  // arbiter needs a first arbiter column that cannot be NULL (see CopyInsertTail); else the row
  // path, which asks the row with the key itself.
  bool CopiesInBulk(const TargetTable& target,
                    const std::vector<std::string>* arbiter) const override {
    if (arbiter == nullptr) return true;
    const TargetColumn* first = arbiter->empty() ? nullptr : target.Find(arbiter->front());
    return first != nullptr && !first->nullable;
  }
  Result<std::vector<size_t>> CopyRows(const MappedRelation& relation, const TargetTable& target,
                                       const ChunkRows& rows,
                                       const std::vector<std::string>* arbiter) override;
  Result<std::optional<std::vector<std::string>>> TargetColumns(const std::string& schema,
                                                                const std::string& table) override;
  Result<std::vector<std::string>> CreateTable(const NewTable& table) override;
  Status RecordTableCreated(const std::string& upstream, const std::string& table) override;
  Result<IndexDdl> CreateIndexes(const NewTable& table,
                                 const std::vector<NewIndex>& indexes) override;
  std::string engine() const override { return "mysql"; }

 private:
  void Close();
  // Records `begin`'s position as `upstream`'s checkpoint in the open transaction.
  Status WriteCheckpoint(const std::string& upstream, const wire::Begin& begin);
  // Sets `connection` to a new connection to the target as `dsn` says, encrypted when its
  // sslmode asks for TLS (CheckEncrypted); `cipher`: its session's cipher, "" without TLS.
  Status NewConnection(const MysqlDsn& dsn, std::unique_ptr<sql::Connection>* connection,
                       std::string* cipher);
  void CheckDurability();
  Status CreateMeta();
  // Commits the transaction a read outside BeginTransaction opened (autocommit is off), so it
  // holds no snapshot or metadata lock until the next source transaction.
  Status EndRead();

  // Runs `body`, turning a Connector/C++ exception into a Status ("MariaDB error 1406: ...")
  // and remembering the server's error code (0 when the failure was not the server's).
  template <typename Body>
  Status Guard(Body&& body);
  Status Exec(const std::string& sql);
  void AddToBatch(BatchEntry entry);
  void RunBatch();
  BatchEntry TakeFromBatch();
  static bool Alone(const BatchEntry& entry);
  void RunAlone(BatchEntry entry);
  void DropRestOfInsert();
  void RunCompound(std::vector<BatchEntry> entries);
  Result<BatchResult> NextResult();
  Result<sql::PreparedStatement*> Prepare(const std::string& sql);
  // Executes a prepared statement; the number of rows it found (CLIENT_FOUND_ROWS).
  Result<uint64_t> Execute(const Statement& statement);
  // Runs one multi-row INSERT of CopyRows: copy_statement_ (holding the rows `rows`) followed by
  // `tail`. Rows the target refused for a clash go to `refused`, for the row path to write one
  // at a time.
  Status ExecCopyStatement(const std::string& tail, const std::vector<size_t>& rows,
                           std::vector<size_t>* refused);
  Result<std::vector<Row>> Query(const std::string& sql, const std::vector<std::string>& params);
  // Runs a prepared query with typed parameters; its rows as text.
  Result<std::vector<Row>> Query(const Statement& statement);
  // Marks the columns of `target` that are MariaDB JSON (TargetColumn::json_text).
  Status FlagJsonColumns(TargetTable& target);
  // Sets the parameters of `ps` from `params`; blobs are streamed from `blobs` at execution.
  static void BindParams(sql::PreparedStatement* ps, const std::vector<Param>& params,
                         std::vector<std::unique_ptr<std::istringstream>>* blobs);
  static Row ReadRow(sql::ResultSet* result, unsigned int width);
  // Runs `ddl` after `settings` on a new connection; `running` is the statement that failed.
  Status RunDdl(const std::vector<std::string>& ddl, const std::vector<std::string>& settings,
                std::string* running);
  Result<std::set<std::string>> IndexNames(const NewTable& table);

  // RowEngine: what the shared row-apply flow needs from MySQL/MariaDB.
  Status CheckOpen() const override;
  bool InTransaction() const override { return in_transaction_; }
  Result<std::optional<TargetTable>> LoadTable(const std::string& schema,
                                               const std::string& table) override;
  Result<std::vector<BoundColumn>> Bind(const MappedRelation& relation, const TargetTable& target,
                                        const RowImage& image) override {
    return BindImage(relation, target, image);
  }
  Result<Insertion> Insert(const TargetTable& target, const std::vector<BoundColumn>& row,
                           const std::vector<std::string>* arbiter) override;
  Result<uint64_t> Update(const TargetTable& target, const std::vector<BoundColumn>& set,
                          const std::vector<BoundColumn>& match, bool one_row) override {
    return Execute(UpdateStatement(target, set, match, one_row));
  }
  Result<uint64_t> Delete(const TargetTable& target, const std::vector<BoundColumn>& match,
                          bool one_row) override {
    return Execute(DeleteStatement(target, match, one_row));
  }
  // On MariaDB, updates, deletes and multi-row inserts are sent ahead in batches: one compound
  // statement that runs them all and returns their row counts (mysql_sql.h), instead of a round
  // trip each. MySQL has no compound statement outside stored programs: one at a time there.
  bool PipelinesRowStatements() const override { return product_ == "MariaDB"; }
  bool PipelinesInserts() const override { return product_ == "MariaDB"; }
  Status SendUpdate(const TargetTable& target, const std::vector<BoundColumn>& set,
                    const std::vector<BoundColumn>& match, bool one_row) override {
    AddToBatch({InlineParams(UpdateStatement(target, set, match, one_row)), BatchEntry::kRows});
    return Status::Ok();
  }
  Status SendDelete(const TargetTable& target, const std::vector<BoundColumn>& match,
                    bool one_row) override {
    AddToBatch({InlineParams(DeleteStatement(target, match, one_row)), BatchEntry::kRows});
    return Status::Ok();
  }
  Status SendInsertBatch(const TargetTable& target,
                         const std::vector<std::vector<BoundColumn>>& rows,
                         const std::vector<std::string>* arbiter) override;
  Result<uint64_t> NextRowCount() override;
  Result<BatchInsertion> NextBatchInsertion(const std::vector<std::vector<BoundColumn>>& rows,
                                            const std::vector<std::string>* arbiter) override;
  Status FinishSent() override {
    batch_.clear();
    batch_bytes_ = 0;
    results_.clear();
    return Status::Ok();
  }
  std::string EncodeKey(const std::vector<BoundColumn>& key) const override {
    return EncodeBatchKey(key);
  }
  Result<std::optional<LocalRow>> ReadLocal(const TargetTable& target,
                                            const std::vector<BoundColumn>& match,
                                            const std::vector<BoundColumn>& compare,
                                            const BoundColumn* order) override;
  Result<uint64_t> UpdateMerged(const TargetTable& target, const std::vector<BoundColumn>& set,
                                const std::vector<DeltaTerm<BoundColumn>>& deltas,
                                const std::vector<BoundColumn>& match) override {
    return Execute(MergeStatement(target, set, deltas, match));
  }
  Result<uint64_t> DeleteRange(const TargetTable& target,
                               const std::optional<std::vector<BoundColumn>>& after,
                               const std::optional<std::vector<BoundColumn>>& upto,
                               const std::vector<std::vector<BoundColumn>>& keep) override {
    return Execute(DeleteRangeStatement(target, after, upto, keep));
  }
  // A source TRUNCATE becomes DELETE FROM of each table, in the one transaction (see
  // mysql_sink.h for why); foreign_key_checks=0 lets tables that reference each other go in
  // any order.
  Status Truncate(const std::vector<const TargetTable*>& tables, const wire::RowChange&) override {
    for (const TargetTable* table : tables) {
      FERRY_RETURN_IF_ERROR(Execute(DeleteAllStatement(*table)).status());
    }
    return Status::Ok();
  }
  // Error messages quote names with backticks, so the suggested SQL runs as it stands.
  std::string HintIdent(const std::string& name) const override { return QuoteIdent(name); }

  const std::string dsn_;
  const std::chrono::milliseconds lock_timeout_;
  // Statements sent ahead (SendUpdate, SendDelete, SendInsertBatch) and not yet run; and the
  // outcomes of those run and not yet taken (NextRowCount, NextBatchInsertion), in order.
  std::deque<BatchEntry> batch_;
  size_t batch_bytes_ = 0;
  std::deque<BatchResult> results_;
  // The server's id of the connection, for Cancel()'s KILL QUERY from a connection of its own.
  std::mutex cancel_mutex_;
  std::optional<uint64_t> connection_id_;
  std::shared_ptr<spdlog::logger> log_;
  std::string product_ = "server";  // "MariaDB" or "MySQL" once connected
  int last_error_code_ = 0;
  // The bytes of one statement of CopyRows: kCopyStatementBytes, less when the server's
  // max_allowed_packet is smaller.
  size_t copy_statement_bytes_ = kCopyStatementBytes;
  std::string copy_statement_;  // the statement CopyRows is building
  // Declared before the statements: they must be closed before their connection.
  std::unique_ptr<sql::Connection> conn_;
  bool in_transaction_ = false;
  // A statement of the open transaction failed. MySQL, unlike PostgreSQL, would still commit
  // the statements before it, so CommitTransaction refuses and rolls back instead.
  bool transaction_failed_ = false;
  // Set while the open transaction groups several source transactions: the last one's
  // checkpoint, written by CommitTransaction.
  std::optional<GroupCheckpoint> group_checkpoint_;
  // Prepared statements by SQL text. The text names the target table, the operation and the
  // columns present, so a relation that changes shape gets new statements; they live as long
  // as the connection.
  std::map<std::string, std::unique_ptr<sql::PreparedStatement>> statements_;
  // Applies rows through this sink's RowEngine side; holds the catalog cache Close() clears.
  RowApplier<TargetTable, BoundColumn> rows_{this};
};

template <typename Body>
Status MysqlSink::Guard(Body&& body) {
  last_error_code_ = 0;
  try {
    body();
    return Status::Ok();
  } catch (const sql::SQLException& e) {
    last_error_code_ = e.getErrorCode();
    const std::string code = std::to_string(e.getErrorCode());
    if (e.getErrorCode() == 0) return Status::Error(std::string("Connector/C++: ") + e.what());
    // 2000..2999 are the client library's own errors (connection refused, lost, ...).
    if (e.getErrorCode() >= 2000 && e.getErrorCode() < 3000) {
      return Status::Error("client error " + code + ": " + e.what());
    }
    const std::string hint = e.getErrorCode() == kErrLockWaitTimeout ? kLockTimeoutHint : "";
    return Status::Error(product_ + " error " + code + ": " + e.what() + hint);
  } catch (const std::exception& e) {
    return Status::Error(std::string("Connector/C++: ") + e.what());
  } catch (...) {
    return Status::Error("Connector/C++: unknown exception");
  }
}

void MysqlSink::Close() {
  {
    std::lock_guard lock(cancel_mutex_);
    connection_id_.reset();
  }
  statements_.clear();
  (void)FinishSent();
  if (conn_ != nullptr) {
    (void)Guard([&] { conn_->close(); });
  }
  conn_.reset();
  in_transaction_ = false;
  transaction_failed_ = false;
  group_checkpoint_.reset();
  rows_.ForgetTables();
}

Status MysqlSink::CheckOpen() const {
  if (conn_ == nullptr) return Status::Error("MySQL target is not open: call Open() first");
  return Status::Ok();
}

Status MysqlSink::Exec(const std::string& sql) {
  Status status = Guard([&] {
    std::unique_ptr<sql::Statement> statement(conn_->createStatement());
    statement->execute(sql);
  });
  return status.WithContext(sql);
}

Result<sql::PreparedStatement*> MysqlSink::Prepare(const std::string& sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second.get();
  std::unique_ptr<sql::PreparedStatement> prepared;
  Status status = Guard([&] { prepared.reset(conn_->prepareStatement(sql)); });
  if (!status.ok()) return status.WithContext("prepare " + sql);
  sql::PreparedStatement* raw = prepared.get();
  statements_[sql] = std::move(prepared);
  return raw;
}

void MysqlSink::BindParams(sql::PreparedStatement* ps, const std::vector<Param>& params,
                           std::vector<std::unique_ptr<std::istringstream>>* blobs) {
  ps->clearParameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& param = params[i];
    const auto index = static_cast<unsigned int>(i + 1);
    switch (param.kind) {
      case Param::Kind::kNull:
        ps->setNull(index, sql::DataType::VARCHAR);
        break;
      case Param::Kind::kInt64:
        ps->setInt64(index, param.int64);
        break;
      case Param::Kind::kUInt64:
        ps->setUInt64(index, param.uint64);
        break;
      case Param::Kind::kDouble:
        ps->setDouble(index, param.float64);
        break;
      case Param::Kind::kString:
        ps->setString(index, param.text);
        break;
      case Param::Kind::kBytes:
        blobs->push_back(std::make_unique<std::istringstream>(param.text));
        ps->setBlob(index, blobs->back().get());
        break;
    }
  }
}

Row MysqlSink::ReadRow(sql::ResultSet* result, unsigned int width) {
  Row row;
  for (unsigned int column = 1; column <= width; ++column) {
    if (result->isNull(column)) {
      row.push_back(std::nullopt);
    } else {
      row.push_back(std::string(result->getString(column)));
    }
  }
  return row;
}

Result<uint64_t> MysqlSink::Execute(const Statement& statement) {
  Result<sql::PreparedStatement*> prepared = Prepare(statement.sql);
  if (!prepared.ok()) return prepared.status();
  sql::PreparedStatement* ps = *prepared;
  // Blob parameters are streamed from these at execution; they must outlive it.
  std::vector<std::unique_ptr<std::istringstream>> blobs;
  uint64_t rows = 0;
  Status status = Guard([&] {
    BindParams(ps, statement.params, &blobs);
    rows = static_cast<uint64_t>(ps->executeUpdate());
    ps->clearParameters();
  });
  if (!status.ok()) return status;
  return rows;
}

Result<std::vector<Row>> MysqlSink::Query(const Statement& statement) {
  Result<sql::PreparedStatement*> prepared = Prepare(statement.sql);
  if (!prepared.ok()) return prepared.status();
  std::vector<std::unique_ptr<std::istringstream>> blobs;
  std::vector<Row> rows;
  Status status = Guard([&] {
    sql::PreparedStatement* ps = *prepared;
    BindParams(ps, statement.params, &blobs);
    std::unique_ptr<sql::ResultSet> result(ps->executeQuery());
    const unsigned int width = result->getMetaData()->getColumnCount();
    while (result->next()) rows.push_back(ReadRow(result.get(), width));
    ps->clearParameters();
  });
  if (!status.ok()) return status;
  return rows;
}

Result<std::vector<Row>> MysqlSink::Query(const std::string& sql,
                                          const std::vector<std::string>& params) {
  Statement statement{sql, {}};
  for (const std::string& param : params) statement.params.push_back(Param::String(param));
  return Query(statement);
}

Result<std::optional<LocalRow>> MysqlSink::ReadLocal(const TargetTable& target,
                                                     const std::vector<BoundColumn>& match,
                                                     const std::vector<BoundColumn>& compare,
                                                     const BoundColumn* order) {
  if (order != nullptr && order->value.kind == Param::Kind::kNull) order = nullptr;
  Result<std::vector<Row>> rows = Query(ReadLocalStatement(target, match, compare, order));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<LocalRow>();
  const Row& found = rows->front();
  LocalRow row;
  size_t column = 0;
  for (; column < target.columns.size(); ++column) row.values.push_back(found[column]);
  for (size_t i = 0; i < compare.size(); ++i, ++column) {
    row.equal.push_back(found[column] && *found[column] == "1");
  }
  if (order != nullptr && found[column]) row.order = std::stoi(*found[column]);
  return std::optional<LocalRow>(std::move(row));
}

Result<std::vector<LoggedConflict>> MysqlSink::ReadConflicts(const ConflictFilter& filter) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Statement read{
      kReadConflictsSql,
      {Param::String(filter.table), Param::String(filter.table), Param::String(filter.type),
       Param::String(filter.type), Param::UInt64(filter.limit)}};
  Result<std::vector<Row>> rows = Query(read);
  FERRY_RETURN_IF_ERROR(EndRead());
  if (!rows.ok()) return rows.status().WithContext("read ferry_meta.conflicts");
  std::vector<LoggedConflict> conflicts;
  for (const Row& row : *rows) {
    std::vector<std::string> fields;
    for (const auto& field : row) fields.push_back(field.value_or(""));
    conflicts.push_back(LoggedConflictOf(fields));
  }
  return conflicts;
}

Status MysqlSink::RecordConflict(const ConflictRecord& record) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  if (!in_transaction_) return Status::Error("record a conflict: no transaction is open");
  auto text = [](const std::optional<std::string>& value) {
    return value ? Param::String(*value) : Param::Null();
  };
  Statement insert{
      kConflictSql,
      {Param::String(record.upstream), Param::String(record.origin), Param::String(record.position),
       record.remote_commit_us != 0 ? Param::String(EpochMicrosText(record.remote_commit_us))
                                    : Param::Null(),
       Param::String(record.table), Param::String(record.key),
       Param::String(conflict::ConflictTypeName(record.type)), text(record.remote_old),
       text(record.remote_new), text(record.local), Param::String(record.resolver),
       Param::String(conflict::OutcomeName(record.outcome)), text(record.final_row),
       Param::String(record.reason)}};
  Result<uint64_t> written = Execute(insert);
  if (!written.ok()) {
    transaction_failed_ = true;
    return written.status().WithContext("record a conflict on " + record.table);
  }
  return Status::Ok();
}

Status MysqlSink::NewConnection(const MysqlDsn& dsn, std::unique_ptr<sql::Connection>* connection,
                                std::string* cipher) {
  FERRY_RETURN_IF_ERROR(CheckTlsFiles(dsn.tls));
  cipher->clear();
  Status connected = Guard([&] { *connection = ConnectTarget(dsn, cipher); });
  if (!connected.ok()) {
    connection->reset();
    std::string hint = TlsConnectHint(last_error_code_, connected.message(), dsn.tls);
    if (hint.empty()) hint = ": check the target dsn and that the server is up";
    return Status::Error(connected.message() + hint);
  }
  Status encrypted = CheckEncrypted(!cipher->empty(), dsn.tls);
  if (!encrypted.ok()) {
    (void)Guard([&] { (*connection)->close(); });
    connection->reset();
  }
  return encrypted;
}

Status MysqlSink::Open() {
  Close();
  Result<MysqlDsn> dsn = ParseMysqlDsn(dsn_, MysqlDsnRole::kTarget);
  if (!dsn.ok()) return dsn.status();
  std::string cipher;
  Status connected = NewConnection(*dsn, &conn_, &cipher);
  if (!connected.ok()) {
    Close();
    return connected.WithContext("connect to target MySQL/MariaDB at " + dsn->address());
  }
  Result<std::vector<Row>> version =
      Query("SELECT VERSION(), @@max_allowed_packet, CONNECTION_ID()", {});
  if (!version.ok()) {
    Close();
    return version.status().WithContext("read the target's version");
  }
  const std::string server_version = FirstValue(*version);
  // A statement over max_allowed_packet is refused and the connection dropped.
  if (std::optional<uint64_t> packet = Number(FirstValue(*version, 1))) {
    copy_statement_bytes_ = std::min<uint64_t>(kCopyStatementBytes, *packet / 2);
  }
  product_ = server_version.find("MariaDB") != std::string::npos ? "MariaDB" : "MySQL";
  {
    std::lock_guard lock(cancel_mutex_);
    connection_id_ = Number(FirstValue(*version, 2));
  }
  Status status = Guard([&] { conn_->setAutoCommit(false); });
  for (const char* sql : kSessionSettings) {
    if (status.ok()) status = Exec(sql);
  }
  if (status.ok()) status = Exec(LockTimeoutSetting(lock_timeout_));
  if (!status.ok()) {
    Close();
    return status.WithContext("configure target session");
  }
  CheckDurability();
  Status meta = CreateMeta();
  if (!meta.ok()) {
    Close();
    return meta.WithContext("create ferry_meta on the target");
  }
  log_->info("connected to target {} (database {}) {}", server_version,
             dsn->dbname.empty() ? "none" : dsn->dbname,
             cipher.empty() ? "without TLS (sslmode=disable)" : "over TLS (" + cipher + ")");
  return Status::Ok();
}

// The rows go in multi-row INSERTs of up to copy_statement_bytes_ each, as InsertBatch writes
// them; a row too large for a statement of its own is not sent, and it and the rows after it go
// one at a time (the row path streams large values as prepared-statement parameters).
Status MysqlSink::SendInsertBatch(const TargetTable& target,
                                  const std::vector<std::vector<BoundColumn>>& rows,
                                  const std::vector<std::string>* arbiter) {
  (void)arbiter;  // a duplicate is handled row by row, where the arbiter matters
  const std::string head = InsertLiteralsHead(target, rows.front());
  std::string sql = head;
  size_t from = 0;  // the first row of `sql`
  std::string tuple;
  for (size_t i = 0; i < rows.size(); ++i) {
    tuple.clear();
    AppendLiteralTuple(rows[i], &tuple);
    if (head.size() + tuple.size() > copy_statement_bytes_) {
      if (i > from) AddToBatch({std::exchange(sql, head), BatchEntry::kInsert, from, false});
      AddToBatch({"", BatchEntry::kNotSent, i, true});
      return Status::Ok();
    }
    if (i > from && sql.size() + 2 + tuple.size() > copy_statement_bytes_) {
      AddToBatch({std::exchange(sql, head), BatchEntry::kInsert, from, false});
      from = i;
    }
    if (i > from) sql.append(", ");
    sql.append(tuple);
  }
  AddToBatch({std::move(sql), BatchEntry::kInsert, from, true});
  return Status::Ok();
}

void MysqlSink::AddToBatch(BatchEntry entry) {
  // A compound statement must fit in max_allowed_packet, as a copy statement does.
  if (!batch_.empty() && batch_bytes_ + entry.sql.size() > copy_statement_bytes_) RunBatch();
  batch_bytes_ += entry.sql.size() + kBatchBytesPerStatement;
  batch_.push_back(std::move(entry));
}

// Runs the oldest statements sent, as many as fit in one compound statement.
void MysqlSink::RunBatch() {
  if (batch_.empty()) return;
  if (batch_.front().kind == BatchEntry::kNotSent) {
    results_.push_back({uint64_t{0}, batch_.front().first_row, true});
    TakeFromBatch();
    return;
  }
  if (Alone(batch_.front())) {
    RunAlone(TakeFromBatch());
    return;
  }
  size_t count = 0;
  size_t bytes = 0;
  for (const BatchEntry& entry : batch_) {
    if (entry.kind == BatchEntry::kNotSent || Alone(entry)) break;
    if (count > 0 && bytes + entry.sql.size() > copy_statement_bytes_) break;
    bytes += entry.sql.size() + kBatchBytesPerStatement;
    ++count;
  }
  std::vector<BatchEntry> entries;
  while (entries.size() < count) entries.push_back(TakeFromBatch());
  RunCompound(std::move(entries));
}

BatchEntry MysqlSink::TakeFromBatch() {
  BatchEntry entry = std::move(batch_.front());
  batch_.pop_front();
  batch_bytes_ -= entry.sql.size() + kBatchBytesPerStatement;
  return entry;
}

// Queues a result per statement that ran. A statement that failed ends the compound: an INSERT
// refused for a duplicate key (InnoDB undoes that statement alone) is refused from its first
// row, the rest of the same source INSERT is dropped (those rows go one at a time), and the
// statements after it go back to run next; any other error is the failed statement's result,
// and those after it get none (RowApplier stops reading at an error).
void MysqlSink::RunCompound(std::vector<BatchEntry> entries) {
  std::optional<std::string> returned;
  Status ran = Guard([&] {
    std::unique_ptr<sql::Statement> statement(conn_->createStatement());
    if (statement->execute(BatchStatement(entries))) {
      std::unique_ptr<sql::ResultSet> result(statement->getResultSet());
      if (result->next() && !result->isNull(1)) returned = std::string(result->getString(1));
    }
    // The compound's own status follows its result set; reading it frees the connection.
    const auto kNoMore = static_cast<decltype(statement->getUpdateCount())>(-1);
    while (statement->getMoreResults() || statement->getUpdateCount() != kNoMore) {
    }
  });
  const int error_code = last_error_code_;
  Result<std::vector<uint64_t>> counts = ParseBatchCounts(returned);
  if (!ran.ok()) {  // the counts so far are in the session variable
    Result<std::vector<Row>> read = Query(kBatchCountsSql, {});
    counts = read.ok() ? ParseBatchCounts(read->empty() ? std::nullopt : read->front()[0])
                       : Result<std::vector<uint64_t>>(read.status());
  }
  if (!counts.ok()) {
    results_.push_back(Failed(ran.ok() ? counts.status() : ran));
    return;
  }
  const size_t failed = std::min(counts->size(), entries.size());
  for (size_t i = 0; i < failed; ++i) {
    results_.push_back({(*counts)[i], std::nullopt, entries[i].ends_statement});
  }
  if (ran.ok()) {
    if (counts->size() != entries.size()) {
      results_.push_back(
          Failed(Status::Error("the target ran " + std::to_string(counts->size()) + " of " +
                               std::to_string(entries.size()) + " statements of a batch")));
    }
    return;
  }
  const bool duplicate = error_code == kErrDupEntry || error_code == kErrDupEntryWithKeyName;
  if (failed == entries.size() || !duplicate || entries[failed].kind != BatchEntry::kInsert) {
    results_.push_back(Failed(ran));
    return;
  }
  results_.push_back({uint64_t{0}, entries[failed].first_row, true});
  // The same INSERT's other parts are dropped, in this compound or still queued.
  size_t next = failed;
  while (next < entries.size() && !entries[next].ends_statement) ++next;
  if (next == entries.size()) DropRestOfInsert();
  for (size_t i = entries.size(); i-- > next + 1;) {
    batch_bytes_ += entries[i].sql.size() + kBatchBytesPerStatement;
    batch_.push_front(std::move(entries[i]));
  }
}

// A large INSERT runs as a statement of its own: inside a compound statement the server's cost
// of a 10,000-row INSERT grows by a third, and its round trip is already a small share.
bool MysqlSink::Alone(const BatchEntry& entry) {
  return entry.kind == BatchEntry::kInsert && entry.sql.size() >= kInsertAloneBytes;
}

void MysqlSink::RunAlone(BatchEntry entry) {
  Status ran = Guard([&] {
    std::unique_ptr<sql::Statement> statement(conn_->createStatement());
    statement->execute(entry.sql);
  });
  const bool duplicate =
      last_error_code_ == kErrDupEntry || last_error_code_ == kErrDupEntryWithKeyName;
  if (ran.ok()) {
    results_.push_back({uint64_t{0}, std::nullopt, entry.ends_statement});
  } else if (!duplicate) {
    results_.push_back(Failed(ran));
  } else {
    results_.push_back({uint64_t{0}, entry.first_row, true});
    if (!entry.ends_statement) DropRestOfInsert();
  }
}

// Drops the queued parts of an INSERT whose rows go one at a time from an earlier part on.
void MysqlSink::DropRestOfInsert() {
  while (!batch_.empty() && !TakeFromBatch().ends_statement) {
  }
}

Result<BatchResult> MysqlSink::NextResult() {
  if (results_.empty()) RunBatch();
  if (results_.empty()) return Status::Error("no statement was sent ahead");
  BatchResult next = std::move(results_.front());
  results_.pop_front();
  return next;
}

Result<uint64_t> MysqlSink::NextRowCount() {
  Result<BatchResult> next = NextResult();
  if (!next.ok()) return next.status();
  if (next->refused_from) return Status::Error("the result of an INSERT was taken for an UPDATE's");
  return std::move(next->count);
}

// An INSERT sent in parts has a result per part; the last part's, or a refusal, ends it.
Result<BatchInsertion> MysqlSink::NextBatchInsertion(
    const std::vector<std::vector<BoundColumn>>& rows, const std::vector<std::string>* arbiter) {
  (void)rows, (void)arbiter;
  while (true) {
    Result<BatchResult> next = NextResult();
    if (!next.ok()) return next.status();
    if (!next->count.ok()) return next->count.status();
    if (next->refused_from) return BatchInsertion{0, {}, next->refused_from};
    if (next->ends_statement) return BatchInsertion{};
  }
}

// Connector/C++ has no cancel call: a second connection asks the server to end the statement.
// Only the statement goes (KILL QUERY); the sink's own call then fails as after any error.
void MysqlSink::Cancel() {
  std::optional<uint64_t> id;
  {
    std::lock_guard lock(cancel_mutex_);
    id = connection_id_;
  }
  if (!id) return;
  Result<MysqlDsn> dsn = ParseMysqlDsn(dsn_, MysqlDsnRole::kTarget);
  if (!dsn.ok()) return;
  try {
    std::string cipher;
    std::unique_ptr<sql::Connection> killer = ConnectTarget(*dsn, &cipher);
    Status encrypted = CheckEncrypted(!cipher.empty(), dsn->tls);
    if (!encrypted.ok()) {
      log_->warn("stopping: could not ask the target to end the running statement: {}",
                 encrypted.message());
      return;
    }
    std::unique_ptr<sql::Statement> statement(killer->createStatement());
    statement->execute("KILL QUERY " + std::to_string(*id));
    log_->info("stopping: asked the target to end the running statement (KILL QUERY {})", *id);
  } catch (const std::exception& e) {
    log_->warn("stopping: could not ask the target to end the running statement: {}", e.what());
  }
}

// Acks are only as durable as the target's commits (see the header).
void MysqlSink::CheckDurability() {
  Result<std::vector<Row>> settings = Query(
      "SELECT @@GLOBAL.innodb_flush_log_at_trx_commit, @@GLOBAL.log_bin, @@GLOBAL.sync_binlog", {});
  if (!settings.ok()) {
    log_->warn("could not read the target's durability settings: {}", settings.message());
    return;
  }
  const std::string flush_log = FirstValue(*settings, 0);
  const std::string sync_binlog = FirstValue(*settings, 2);
  if (flush_log != "1") {
    log_->warn(
        "target has innodb_flush_log_at_trx_commit={}: a commit Ferry acknowledges can be lost "
        "in a target crash after the source discarded it; set it to 1",
        flush_log);
  }
  if (FirstValue(*settings, 1) == "1" && sync_binlog != "1") {
    log_->warn(
        "target writes a binary log with sync_binlog={}: a commit Ferry acknowledges can be "
        "rolled back in crash recovery after the source discarded it; set sync_binlog=1",
        sync_binlog);
  }
  (void)EndRead();
}

// Creates the ferry_meta database and tables unless both tables exist, so that an apply user
// without CREATE privilege runs against a prepared database. CREATE ... IF NOT EXISTS is safe
// when several agents start at once: the server serialises DDL on the same name.
Status MysqlSink::CreateMeta() {
  Result<std::vector<Row>> exists = Query(kMetaExistsSql, {});
  if (!exists.ok()) return exists.status();
  FERRY_RETURN_IF_ERROR(EndRead());
  if (FirstValue(*exists) == kMetaExistsCount) return Status::Ok();
  for (const char* ddl : kMetaDdl) FERRY_RETURN_IF_ERROR(Exec(ddl));
  log_->info("created ferry_meta (checkpoints, conflicts, copy_progress)");
  return Status::Ok();
}

Status MysqlSink::EndRead() {
  if (in_transaction_ || conn_ == nullptr) return Status::Ok();
  return Guard([&] { conn_->commit(); }).WithContext("end read transaction");
}

Result<std::optional<wire::Position>> MysqlSink::ReadCheckpoint(const std::string& upstream) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<std::vector<Row>> rows = Query(kReadCheckpointSql, {upstream});
  if (!rows.ok()) return rows.status().WithContext("read checkpoint of upstream " + upstream);
  FERRY_RETURN_IF_ERROR(EndRead());
  if (rows->empty()) return std::optional<wire::Position>();
  wire::Position position;
  position.set_engine(FirstValue(*rows, 0));
  position.set_value(FirstValue(*rows, 1));
  return std::optional<wire::Position>(std::move(position));
}

Result<std::vector<CopyProgress>> MysqlSink::ReadCopyProgress(const std::string& upstream) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<std::vector<Row>> rows = Query(kReadCopyProgressSql, {upstream});
  if (!rows.ok()) return rows.status().WithContext("read copy progress of upstream " + upstream);
  FERRY_RETURN_IF_ERROR(EndRead());
  std::vector<CopyProgress> progress;
  for (const Row& row : *rows) {
    CopyProgress table;
    table.table = row[0].value_or("");
    table.after_key = row[1].value_or("");
    table.rows_copied = std::strtoull(row[2].value_or("0").c_str(), nullptr, 10);
    table.done = row[3].value_or("0") == "1";
    table.resync = row[4].value_or("0") == "1";
    table.created_table = row[5].value_or("0") == "1";
    progress.push_back(std::move(table));
  }
  return progress;
}

Status MysqlSink::BeginCopyTransaction() {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  if (in_transaction_) return Status::Error("begin copy transaction: a transaction is open");
  FERRY_RETURN_IF_ERROR(Exec("START TRANSACTION").WithContext("begin copy transaction"));
  in_transaction_ = true;
  transaction_failed_ = false;
  return Status::Ok();
}

Status MysqlSink::RecordCopyProgress(const std::string& upstream, const CopyProgress& progress) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  if (!in_transaction_) return Status::Error("record copy progress: no transaction is open");
  Statement record{kCopyProgressSql,
                   {Param::String(upstream), Param::String(progress.table),
                    Param::String(progress.after_key), Param::UInt64(progress.rows_copied),
                    Param::Int64(progress.done ? 1 : 0), Param::Int64(progress.resync ? 1 : 0),
                    progress.origin.empty() ? Param::Null() : Param::String(progress.origin)}};
  Result<uint64_t> written = Execute(record);
  if (!written.ok()) {
    transaction_failed_ = true;
    return written.status().WithContext("record copy progress of " + progress.table);
  }
  return Status::Ok();
}

Status MysqlSink::BeginTransaction(const std::string& upstream, const wire::Begin& begin) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  FERRY_RETURN_IF_ERROR(CheckBegin(upstream, begin, in_transaction_));
  // Ends whatever a read left open, then starts this source transaction's own. The checkpoint
  // is the transaction's first write (ARCHITECTURE.md: exactly-once and loop prevention both
  // rely on it). MariaDB does both in one round trip.
  if (product_ == "MariaDB") {
    Status begun = Exec("BEGIN NOT ATOMIC START TRANSACTION; " +
                        InlineParams(CheckpointStatement(upstream, begin)) + "; END");
    if (!begun.ok()) return begun.WithContext("begin transaction for upstream " + upstream);
    in_transaction_ = true;
    transaction_failed_ = false;
    group_checkpoint_.reset();
    return Status::Ok();
  }
  Status begun = Exec("START TRANSACTION");
  if (!begun.ok()) return begun.WithContext("begin transaction for upstream " + upstream);
  in_transaction_ = true;
  transaction_failed_ = false;
  group_checkpoint_.reset();
  return WriteCheckpoint(upstream, begin);
}

Status MysqlSink::WriteCheckpoint(const std::string& upstream, const wire::Begin& begin) {
  Result<uint64_t> written = Execute(CheckpointStatement(upstream, begin));
  if (!written.ok()) {
    transaction_failed_ = true;
    return written.status().WithContext("write checkpoint of upstream " + upstream);
  }
  return Status::Ok();
}

Result<RowOutcome> MysqlSink::ApplyRow(const MappedRelation& relation,
                                       const wire::RowChange& change) {
  Result<RowOutcome> outcome = rows_.Apply(relation, change);
  // MySQL would still commit the statements before the failed one: see transaction_failed_.
  if (!outcome.ok()) transaction_failed_ = true;
  return outcome;
}

Status MysqlSink::ApplyTruncate(const std::vector<const MappedRelation*>& relations,
                                const wire::RowChange& change) {
  Status status = rows_.Truncate(relations, change);
  if (!status.ok()) transaction_failed_ = true;  // as in ApplyRow
  return status;
}

Status MysqlSink::FlagJsonColumns(TargetTable& target) {
  Result<std::vector<Row>> checks = Query(kJsonChecksSql, {target.schema, target.table});
  if (!checks.ok()) return checks.status().WithContext("read checks of " + target.name());
  for (TargetColumn& column : target.columns) {
    const std::string clause = "json_valid(`" + column.name + "`)";
    for (const Row& check : *checks) {
      if (check[0] == clause) column.json_text = true;
    }
  }
  return Status::Ok();
}

Result<std::optional<TargetTable>> MysqlSink::LoadTable(const std::string& schema,
                                                        const std::string& table) {
  Result<std::vector<Row>> rows = Query(kColumnsSql, {schema, table});
  if (!rows.ok()) return rows.status().WithContext("read columns of " + schema + "." + table);
  // information_schema compares names case-insensitively: prefer the table spelled exactly so;
  // else (lower_case_table_names) the one table the server found.
  std::vector<Row> exact;
  for (const Row& row : *rows) {
    if (row[0] == schema && row[1] == table) exact.push_back(row);
  }
  if (exact.empty() && !rows->empty()) {
    for (const Row& row : *rows) {
      if (row[0] == rows->front()[0] && row[1] == rows->front()[1]) exact.push_back(row);
    }
  }
  if (exact.empty()) return std::optional<TargetTable>();

  TargetTable target;
  target.schema = exact.front()[0].value_or(schema);
  target.table = exact.front()[1].value_or(table);
  for (const Row& row : exact) {
    TargetColumn column;
    column.name = row[2].value_or("");
    column.type.data_type = Lower(row[3].value_or(""));
    column.type.column_type = row[4].value_or("");
    column.type.max_length = Number(row[5]);
    column.type.precision = Number32(row[6]);
    column.type.scale = Number32(row[7]);
    column.type.datetime_precision = Number32(row[8]);
    column.nullable = row[9] == "YES";
    target.columns.push_back(std::move(column));
  }

  if (product_ == "MariaDB") FERRY_RETURN_IF_ERROR(FlagJsonColumns(target));

  Result<std::vector<Row>> indexes = Query(kUniqueIndexesSql, {target.schema, target.table});
  if (!indexes.ok()) return indexes.status().WithContext("read indexes of " + target.name());
  std::set<std::string> expression_indexes;
  for (const Row& row : *indexes) {
    if (!row[1]) expression_indexes.insert(row[0].value_or(""));
  }
  std::string current;
  for (const Row& row : *indexes) {
    const std::string index = row[0].value_or("");
    if (expression_indexes.contains(index)) continue;
    if (target.unique_indexes.empty() || current != index) {
      current = index;
      target.unique_indexes.push_back({{}, index == "PRIMARY", false});
    }
    target.unique_indexes.back().columns.push_back(row[1].value_or(""));
  }
  FlagIdentityIndexes(&target);
  return std::optional<TargetTable>(std::move(target));
}

// No batching for an insert of no columns; else as many rows as kMaxInsertBatchBytes lets in.
size_t MysqlSink::MaxInsertBatch(size_t columns) const {
  if (columns == 0) return 1;
  return kMaxRowsPerInsert;
}

size_t MysqlSink::RowBytes(const std::vector<BoundColumn>& row) const {
  size_t bytes = 0;
  for (const BoundColumn& column : row) bytes += column.value.text.size() + 8;
  return bytes;
}

// Rows go in multi-row INSERTs of literals, each up to copy_statement_bytes_. MySQL has no
// per-row ON CONFLICT: a duplicate key fails its whole statement, which InnoDB rolls back alone,
// and the rows from that statement on go in one at a time (RowApplier does that).
Result<BatchInsertion> MysqlSink::InsertBatch(const TargetTable& target,
                                              const std::vector<std::vector<BoundColumn>>& rows,
                                              const std::vector<std::string>* arbiter) {
  (void)arbiter;  // a duplicate is handled row by row, where the arbiter matters
  BatchInsertion result;
  const std::string head = InsertLiteralsHead(target, rows.front());
  std::string& sql = copy_statement_;  // kept: a statement of megabytes is not allocated per call
  std::string tuple;
  size_t from = 0;  // the first row of the statement being built
  sql.assign(head);
  for (size_t i = 0; i <= rows.size(); ++i) {
    tuple.clear();
    if (i < rows.size()) AppendLiteralTuple(rows[i], &tuple);
    // A row too big for a statement of its own goes, with the rest, through the row path, which
    // streams large values as prepared-statement parameters.
    const bool oversized = head.size() + tuple.size() > copy_statement_bytes_;
    const bool last = i == rows.size() || oversized;
    if (i > from && (last || sql.size() + 2 + tuple.size() > copy_statement_bytes_)) {
      Status inserted = Guard([&] {
        std::unique_ptr<sql::Statement> statement(conn_->createStatement());
        statement->execute(sql);
      });
      if (!inserted.ok()) {
        const bool duplicate =
            last_error_code_ == kErrDupEntry || last_error_code_ == kErrDupEntryWithKeyName;
        if (!duplicate) return inserted;
        result.refused_from = from;
        return result;
      }
      from = i;
      sql.assign(head);
    }
    if (oversized) result.refused_from = i;
    if (last) break;
    if (i > from) sql.append(", ");
    sql.append(tuple);
  }
  return result;
}

// Rows go in multi-row INSERTs of literals (see mysql_sql.h), each up to copy_statement_bytes_.
// A row too big for a statement of its own is left to the row path, which streams large values
// as prepared-statement parameters.
Result<std::vector<size_t>> MysqlSink::CopyRows(const MappedRelation& relation,
                                                const TargetTable& target, const ChunkRows& rows,
                                                const std::vector<std::string>* arbiter) {
  Result<std::vector<CopyColumn>> columns = CopyColumns(relation, target);
  if (!columns.ok()) return columns.status();
  const std::string head = CopyInsertHead(target, *columns);
  const std::string tail = CopyInsertTail(*columns, arbiter);
  std::vector<size_t> left;
  std::vector<size_t> in_statement;
  // Kept by the sink: a statement of megabytes is not allocated (and faulted in) again per call.
  std::string& sql = copy_statement_;
  sql.assign(head);
  std::string tuple;
  for (size_t i = 0; i < static_cast<size_t>(rows.size()); ++i) {
    tuple.clear();
    FERRY_RETURN_IF_ERROR(AppendCopyTuple(relation, *columns, rows[i].new_values(), &tuple));
    if (head.size() + tuple.size() + tail.size() > copy_statement_bytes_) {
      left.push_back(i);
      continue;
    }
    if (sql.size() + 1 + tuple.size() + tail.size() > copy_statement_bytes_) {
      FERRY_RETURN_IF_ERROR(ExecCopyStatement(tail, in_statement, &left));
      sql.assign(head);
      in_statement.clear();
    }
    if (!in_statement.empty()) sql.push_back(',');
    sql += tuple;
    in_statement.push_back(i);
  }
  if (!in_statement.empty()) FERRY_RETURN_IF_ERROR(ExecCopyStatement(tail, in_statement, &left));
  std::sort(left.begin(), left.end());  // the row path writes them in the chunk's order
  return left;
}

// InnoDB rolls back a refused statement alone, so its rows are simply written again.
Status MysqlSink::ExecCopyStatement(const std::string& tail, const std::vector<size_t>& rows,
                                    std::vector<size_t>* refused) {
  copy_statement_ += tail;
  Status status = Guard([&] {
    std::unique_ptr<sql::Statement> statement(conn_->createStatement());
    statement->execute(copy_statement_);
  });
  const bool clash = last_error_code_ == kErrDupEntry ||
                     last_error_code_ == kErrDupEntryWithKeyName || last_error_code_ == kErrBadNull;
  if (status.ok() || !clash) return status;
  refused->insert(refused->end(), rows.begin(), rows.end());
  return Status::Ok();
}

Result<Insertion> MysqlSink::Insert(const TargetTable& target, const std::vector<BoundColumn>& row,
                                    const std::vector<std::string>* arbiter) {
  Result<uint64_t> inserted = Execute(InsertStatement(target, row));
  if (inserted.ok()) return Insertion::New();
  const bool duplicate =
      last_error_code_ == kErrDupEntry || last_error_code_ == kErrDupEntryWithKeyName;
  // Without an arbiter (a full image or keyless relation) a duplicate is the target's own
  // constraint refusing a row the source accepted: the error stands.
  if (!duplicate || arbiter == nullptr) return inserted.status();
  // InnoDB rolled back only the failed INSERT; RowApplier overwrites the row with the key, and
  // the error stands if there is none.
  return Insertion::Refused(inserted.status());
}

Status MysqlSink::CommitTransaction() {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  if (!in_transaction_) return Status::Error("commit: no transaction is open");
  if (transaction_failed_) {
    AbortTransaction();
    return Status::Error(
        "commit on target: the transaction was rolled back because an earlier statement in it "
        "failed");
  }
  // MariaDB undoes only a failed statement: the transaction must not commit after one, even if
  // the caller asks again.
  Status flushed = rows_.Flush();
  // MariaDB writes a group's last checkpoint and commits in one round trip.
  std::string commit = "COMMIT";
  if (flushed.ok() && group_checkpoint_) {
    const Statement checkpoint =
        CheckpointStatement(group_checkpoint_->upstream, group_checkpoint_->begin);
    if (product_ == "MariaDB") {
      commit = "BEGIN NOT ATOMIC " + InlineParams(checkpoint) + "; COMMIT; END";
    } else {
      flushed = WriteCheckpoint(group_checkpoint_->upstream, group_checkpoint_->begin);
    }
    group_checkpoint_.reset();
  }
  if (!flushed.ok()) {
    transaction_failed_ = true;
    return flushed;
  }
  // If COMMIT fails because the connection broke, whether it committed is unknown; the
  // checkpoint, read again after reconnecting, is what tells (ARCHITECTURE.md invariant 2).
  // (The checkpoint failing before a MariaDB COMMIT leaves the transaction open: the stream
  // reconnects after any failure, which rolls it back.)
  Status committed = Guard([&] {
    std::unique_ptr<sql::Statement> statement(conn_->createStatement());
    statement->execute(commit);
  });
  in_transaction_ = false;
  if (!committed.ok()) return committed.WithContext("commit on target");
  return Status::Ok();
}

void MysqlSink::AbortTransaction() {
  const bool was_open = in_transaction_;
  in_transaction_ = false;
  group_checkpoint_.reset();
  transaction_failed_ = false;
  rows_.Discard();
  (void)FinishSent();
  if (conn_ == nullptr) return;
  Status rolled_back = Guard([&] { conn_->rollback(); });
  if (!rolled_back.ok() && was_open) {
    log_->warn("rollback on target failed: {}", rolled_back.message());
  }
}

Result<std::optional<std::vector<std::string>>> MysqlSink::TargetColumns(const std::string& schema,
                                                                         const std::string& table) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<std::optional<std::vector<std::string>>> names = rows_.TargetColumns(schema, table);
  if (!names.ok()) return names.status();
  FERRY_RETURN_IF_ERROR(EndRead());
  return names;
}

// MySQL/MariaDB commit the open transaction before any DDL, which would commit half a source
// transaction with its checkpoint; so the table is created on a connection of its own, and
// exists at once whatever becomes of the open transaction.
Result<std::vector<std::string>> MysqlSink::CreateTable(const NewTable& table) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<std::string> create =
      MysqlCreateTableSql(table, MysqlDialect{.mariadb = product_ == "MariaDB"});
  if (!create.ok()) return create.status();
  Result<std::optional<std::vector<std::string>>> existing =
      TargetColumns(table.schema, table.table);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return std::vector<std::string>();
  Result<std::vector<Row>> database =
      Query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", {table.schema});
  if (!database.ok()) return database.status();
  FERRY_RETURN_IF_ERROR(EndRead());
  std::vector<std::string> ddl;
  if (database->empty()) ddl.push_back(MysqlCreateDatabaseSql(table));
  ddl.push_back(*create);
  std::string running;
  Status created = RunDdl(ddl, {}, &running);
  if (!created.ok()) {
    return created.WithContext("create_tables: create " + table.target_name() +
                               " on the target: " + running);
  }
  return ddl;
}

// DDL commits implicitly, so it runs on a connection of its own, leaving the open transaction be.
Status MysqlSink::RunDdl(const std::vector<std::string>& ddl,
                         const std::vector<std::string>& settings, std::string* running) {
  Result<MysqlDsn> dsn = ParseMysqlDsn(dsn_, MysqlDsnRole::kTarget);
  if (!dsn.ok()) return dsn.status();
  std::unique_ptr<sql::Connection> connection;
  std::string cipher;
  FERRY_RETURN_IF_ERROR(NewConnection(*dsn, &connection, &cipher));
  return Guard([&] {
    std::unique_ptr<sql::Statement> statement(connection->createStatement());
    for (const char* setting : kSessionSettings) statement->execute(setting);
    for (const std::string& setting : settings) statement->execute(setting);
    for (const std::string& sql : ddl) {
      *running = sql;
      statement->execute(sql);
    }
    connection->close();
  });
}

Status MysqlSink::RecordTableCreated(const std::string& upstream, const std::string& table) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<uint64_t> updated =
      Execute(Statement{kTableCreatedSql, {Param::String(upstream), Param::String(table)}});
  if (!updated.ok()) {
    if (in_transaction_) transaction_failed_ = true;
    return updated.status().WithContext("record that create_tables created " + table);
  }
  return EndRead();  // outside a transaction (a skipped one's relation), it commits at once
}

Result<std::set<std::string>> MysqlSink::IndexNames(const NewTable& table) {
  Result<std::vector<Row>> rows = Query(kIndexNamesSql, {table.schema, table.table});
  if (!rows.ok()) return rows.status();
  FERRY_RETURN_IF_ERROR(EndRead());
  std::set<std::string> names;
  for (const Row& row : *rows) names.insert(row[0].value_or(""));
  return names;
}

// Each index unless one of its name is there (MySQL has no CREATE INDEX IF NOT EXISTS), on a
// connection of its own. A bounded lock wait: the DDL waits for every transaction that touched
// the table, and one that waits in turn for this copy would otherwise hang both.
Result<IndexDdl> MysqlSink::CreateIndexes(const NewTable& table,
                                          const std::vector<NewIndex>& indexes) {
  FERRY_RETURN_IF_ERROR(CheckOpen());
  Result<std::set<std::string>> existing = IndexNames(table);
  if (!existing.ok()) return existing.status();
  const MysqlDialect dialect{.mariadb = product_ == "MariaDB"};
  IndexDdl ddl;
  for (const NewIndex& index : indexes) {
    Result<std::string> sql = MysqlCreateIndexSql(table, index, dialect);
    if (!sql.ok()) {
      ddl.not_created.push_back(IndexNotCreated(table, index, sql.message()));
      continue;
    }
    if (existing->count(MysqlIndexName(index)) != 0) continue;
    std::string running;
    Status created = RunDdl({*sql}, {kIndexLockWaitSql}, &running);
    if (!created.ok()) return IndexFailed(table, index, created.WithContext(*sql));
    ddl.run.push_back(*sql);
  }
  return ddl;
}

}  // namespace

std::unique_ptr<Sink> MakeMysqlSink(std::string dsn, std::chrono::milliseconds lock_timeout) {
  return std::make_unique<MysqlSink>(std::move(dsn), lock_timeout);
}

}  // namespace ferry::apply::mysql
