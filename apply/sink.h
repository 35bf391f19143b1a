// The apply side's view of a target database. Engine adapters (apply/postgres, apply/mysql)
// implement Sink; the apply agent drives it and knows nothing of the engine. Each upstream's
// stream thread makes its own sink (one per connection) and is the only thread that calls it.
// Invariant (ARCHITECTURE.md #1): every source transaction is written in exactly one target
// transaction, alone or grouped with the ones right after it (ContinueTransaction), and that
// target transaction records the position of the last one it holds as the upstream's checkpoint,
// so the target always holds exactly the transactions up to its checkpoint.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "apply/conflict_record.h"
#include "apply/table_creator.h"
#include "apply/table_mapping.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply {

// What the sink did with one row change, for logs and metrics. Upserts on a missing or
// existing row are not errors in master-slave mode, but they mean the replica had diverged.
enum class RowOutcome {
  kApplied,
  kInsertedOverExisting,   // insert met an existing key: row overwritten
  kUpdateInsertedMissing,  // update found no row: inserted
  kDeleteMissing,          // delete found no row: nothing to do
  // Update found no row, and the source did not send every value (unchanged TOAST values), so
  // the row cannot be inserted: nothing written.
  kUpdateMissingNotInserted,
};

// Outcomes a sink learned after ApplyRow had returned kApplied for the rows: a sink may defer
// consecutive inserts and run them as one statement, and only then see that some met an
// existing row; it may send updates and deletes without waiting, and only later see that one
// found no row (reported one row at a time, as ApplyRow would have). `rows` rows of `target`
// ("schema.table") had `outcome`.
struct LateOutcome {
  std::string target;
  RowOutcome outcome = RowOutcome::kApplied;
  uint64_t rows = 0;
};

// One source table's copy into this target (ferry_meta.copy_progress).
struct CopyProgress {
  std::string table;      // source "schema.table"
  std::string after_key;  // the apply agent's encoding of the last copied row's key; "" = none
  uint64_t rows_copied = 0;
  bool done = false;
  // A re-copy of a table already replicated (ferry snapshot): the copy also removes target rows
  // the source does not have, where a first copy leaves the target's other rows alone.
  bool resync = false;
  // create_tables created the target table (read only: Sink::RecordTableCreated sets it, and it
  // stays set). Only such a table gets the source's secondary indexes after its copy.
  bool created_table = false;
  // The node the copied rows come from (the upstream's Welcome.node), written with the progress
  // so that a capture agent on this target reads the copy's transactions as applied ones, not
  // local ones (loop prevention, capture/origin_filter.h); "" writes NULL. Not read back. The
  // initializer lets brace initializations leave it out (-Wmissing-field-initializers).
  std::string origin{};
};

// How long a target statement waits for a lock held by another session before it fails, unless
// the apply config says otherwise (target.lock_timeout_ms).
inline constexpr std::chrono::milliseconds kDefaultLockTimeout{60000};

// A RowChange's old or new image: one value per source column.
using RowImage = google::protobuf::RepeatedPtrField<wire::Value>;

// A re-copy chunk's key range on the target (Sink::DeleteCopyRange). Keys are images of the
// relation's source columns with the key's values in `key_columns` (indexes into the source
// columns, in the order keys compare) and the other values null.
struct CopyRange {
  std::vector<int> key_columns;
  std::optional<RowImage> after;  // rows with a key above it; none: from the first row
  std::optional<RowImage> upto;   // rows with a key up to it; none: to the last row
  std::vector<RowImage> keep;     // keys in the range that stay
};

// Rows of a copy chunk, as they came off the wire.
using ChunkRows = google::protobuf::RepeatedPtrField<wire::RowChange>;

// What a copy chunk's rows meet in their target table (Sink::CopyRows).
enum class CopyInto {
  kExisting,  // rows the stream wrote before the chunk's read: a row with the key is overwritten
  kEmptied,   // nothing: the table was emptied for a chunk that replaces it whole
};

class Sink {
 public:
  virtual ~Sink() = default;

  // Connects and creates the ferry_meta schema (checkpoints, conflicts, copy_progress) if
  // missing.
  virtual Status Open() = 0;

  // The one call made from another thread (the agent's, stopping): asks the server to cancel
  // the statement the sink's thread may be blocked in (a lock wait, a long statement), so that
  // SIGTERM does not wait for it. The interrupted call returns an error and the target rolls
  // the transaction back, as after any failure. Safe at any time, also while the sink's thread
  // opens or closes it; does nothing when no statement runs.
  virtual void Cancel() {}

  // The upstream's checkpoint, or nullopt when this upstream never applied anything here.
  virtual Result<std::optional<wire::Position>> ReadCheckpoint(const std::string& upstream) = 0;

  // Every table copy recorded for `upstream`, by table.
  virtual Result<std::vector<CopyProgress>> ReadCopyProgress(const std::string& upstream) = 0;

  // Starts a target transaction that is not a source transaction (a chunk of a table's copy, or
  // the list of tables a copy will fill): the checkpoint is left as it is. Ended by
  // CommitTransaction or AbortTransaction.
  virtual Status BeginCopyTransaction() = 0;

  // Deletes every row of `relation`'s target table in the open transaction (a DELETE: MySQL's
  // TRUNCATE would commit it), for a copy chunk that replaces the whole table.
  virtual Status EmptyTable(const MappedRelation& relation) = 0;

  // Deletes, in the open transaction, the rows of `relation`'s target table whose key lies in
  // `range` other than range.keep, as one statement; the number deleted. The range compares
  // keys as the target orders them, so it is only meaningful where that is the source's order.
  virtual Result<uint64_t> DeleteCopyRange(const MappedRelation& relation,
                                           const CopyRange& range) = 0;

  // Writes rows of a copy chunk into `relation`'s target table, in the open copy transaction
  // (BeginCopyTransaction), by the target's bulk path, with the meaning ApplyRow gives an INSERT
  // of each: with CopyInto::kExisting a row whose key is already there (the stream inserted it
  // before the chunk's read) is overwritten with the chunk's row; with CopyInto::kEmptied the
  // table was emptied in this transaction (EmptyTable) and every row is inserted as it is, also
  // into a table without key. `rows` are INSERTs with whole new images, type overrides already
  // converted (ConvertRow). A chunk's rows may come in several calls. Everything ApplyRow
  // deferred runs first; the rows are written when it returns, or the error says why not
  // (errors start with "copy into schema.table (N rows)"). A row met again is expected here
  // and is not reported as a LateOutcome.
  virtual Status CopyRows(const MappedRelation& relation, const ChunkRows& rows, CopyInto into) = 0;

  // Records `progress` (with its origin) as `upstream`'s copy of progress.table, in the open
  // transaction, so that it commits (or not) with the rows it describes.
  virtual Status RecordCopyProgress(const std::string& upstream, const CopyProgress& progress) = 0;

  // Starts the target transaction for a source transaction; its first write records
  // `begin.position()` (and commit time, origin) as `upstream`'s checkpoint.
  virtual Status BeginTransaction(const std::string& upstream, const wire::Begin& begin) = 0;

  // Takes the next source transaction into the target transaction already open, after the
  // previous one's rows (grouping: one target commit for many small source transactions, as
  // GoldenGate's GROUPTRANSOPS does during catch-up). `begin.position()` becomes the checkpoint
  // the group commits with; a source transaction is never split, and the group commits, or not,
  // as a whole. Fails when no source transaction is open.
  virtual Status ContinueTransaction(const std::string& upstream, const wire::Begin& begin) = 0;

  virtual Result<RowOutcome> ApplyRow(const MappedRelation& relation,
                                      const wire::RowChange& change) = 0;

  // Applies one row change with conflict detection and resolution (master-master; see
  // apply/conflict_applier.h): the target row is read and compared first, and a conflict is
  // resolved as `context.policy` says and recorded in ferry_meta.conflicts in the open
  // transaction. Returns the conflicts met, if any; when one's outcome is kStopped nothing of
  // the change was written or recorded, and the caller aborts the transaction.
  virtual Result<std::vector<ConflictRecord>> ApplyCheckedRow(const MappedRelation& relation,
                                                              const wire::RowChange& change,
                                                              const ConflictContext& context) {
    (void)relation, (void)change, (void)context;
    return Status::Error(engine() + " targets cannot detect conflicts");
  }

  // Records `record` in ferry_meta.conflicts in the open transaction, so that the conflict is
  // logged once whatever happens: it commits, or not, with its resolution.
  virtual Status RecordConflict(const ConflictRecord& record) {
    (void)record;
    return Status::Error(engine() + " targets cannot record conflicts");
  }

  // The conflicts ferry_meta.conflicts holds that `filter` selects, newest first (outside any
  // transaction of the stream: used by ferry conflicts).
  virtual Result<std::vector<LoggedConflict>> ReadConflicts(const ConflictFilter& filter) {
    (void)filter;
    return Status::Error(engine() + " targets cannot read conflicts");
  }

  // Empties the target tables of `relations` together, as the one source TRUNCATE `change`
  // (which says cascade and restart_identity) emptied them: tables that reference each other
  // cannot be emptied one at a time.
  virtual Status ApplyTruncate(const std::vector<const MappedRelation*>& relations,
                               const wire::RowChange& change) = 0;

  // Runs whatever ApplyRow deferred and waits for what it sent ahead, records the checkpoint of
  // the last transaction ContinueTransaction took (if any), then commits; returns once the
  // commit is durable on the target. An error in a deferred row surfaces here (or in the next
  // ApplyRow).
  virtual Status CommitTransaction() = 0;

  // Durability of commits that return before their log is on disk (PostgreSQL with
  // synchronous_commit off), so that acks wait for it (ARCHITECTURE.md invariant 3). The mark of
  // the last commit (or, before any, of everything the target held when Open returned): a place in
  // the target's log at or past it; 0 when commits are durable as they return.
  virtual uint64_t LastCommitMark() const { return 0; }
  // Commits whose mark is at or below this are durable (the target's log is on disk so far).
  virtual Result<uint64_t> DurableMark() { return UINT64_MAX; }

  // The late outcomes (see LateOutcome) since the last call, other than kApplied.
  virtual std::vector<LateOutcome> TakeLateOutcomes() { return {}; }

  // Rolls back the open transaction, if any. Safe to call at any time.
  virtual void AbortTransaction() = 0;

  // Column names of a target table, or nullopt when it does not exist. Used to check mappings.
  virtual Result<std::optional<std::vector<std::string>>> TargetColumns(
      const std::string& schema, const std::string& table) = 0;

  // Creates the table `table` describes (apply/table_creator.h: columns, primary key) when the
  // target has no table of that name, with its schema (PostgreSQL) or database (MySQL/MariaDB)
  // if missing, and returns the DDL it ran; nothing and no change when the table exists (an
  // existing table is never altered). A column with no exact target type fails it before
  // anything runs. It never commits or aborts the open transaction: PostgreSQL runs the DDL in
  // it (the table then commits, or rolls back, with it), MySQL/MariaDB, whose DDL commits
  // implicitly, on a connection of its own, so the table exists at once.
  virtual Result<std::vector<std::string>> CreateTable(const NewTable& table) = 0;

  // Records in the open transaction that create_tables created the target table of source table
  // `table` ("schema.table"), on its row of ferry_meta.copy_progress if it has one (a table no
  // copy is recorded for is not copied, and gets no indexes).
  virtual Status RecordTableCreated(const std::string& upstream, const std::string& table) = 0;

  // Creates `indexes` on the table `table` describes, each unless an index of its name is there,
  // before anything of the open transaction commits: PostgreSQL in it, MySQL/MariaDB on a
  // connection of its own (so run it before the transaction writes to the table, whose lock
  // the DDL waits for). An index the engine cannot hold is skipped and said why; a statement the
  // server refuses is an error naming table, index and the fix.
  virtual Result<IndexDdl> CreateIndexes(const NewTable& table,
                                         const std::vector<NewIndex>& indexes) = 0;

  // "postgres", ...
  virtual std::string engine() const = 0;
};

}  // namespace ferry::apply
