// The engine-neutral flow of applying one row change to a SQL target: which statements a change
// becomes, how an insert meeting an existing row and an update or delete finding none are
// resolved (the replica follows its source; see RowOutcome in sink.h), and the per-table cache
// of what the target's catalog says. A SQL sink implements RowEngine (its catalog, SQL text,
// value binding and connection) and hands its rows to a RowApplier. The templates' bodies are
// in row_applier_impl.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "apply/conflict_record.h"
#include "apply/sink.h"
#include "apply/table_mapping.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply {

// How an INSERT of a source row ended when it did not fail. Engines tell an existing row
// differently, and what the follow-up UPDATE's row count means depends on how.
struct Insertion {
  enum class Kind {
    kNew,  // the row was inserted
    // Nothing was inserted because a row with the arbiter's values exists (PostgreSQL's
    // ON CONFLICT DO NOTHING).
    kKeyTaken,
    // A unique index refused the row (MySQL's duplicate-key error); it may be another index
    // than the arbiter, so only the follow-up UPDATE tells whether the row with the key exists.
    kRefused,
  };

  static Insertion New() { return {Kind::kNew, Status::Ok()}; }
  static Insertion KeyTaken() { return {Kind::kKeyTaken, Status::Ok()}; }
  static Insertion Refused(Status error) { return {Kind::kRefused, std::move(error)}; }

  Kind kind;
  Status refusal;  // kRefused: the error, which stands when no row has the arbiter's values
};

// How a multi-row INSERT ended: `skipped` rows met an existing row on the arbiter and were not
// inserted; `maybe_skipped` lists at least those rows (by index), possibly more. An engine that
// learns of an existing row only from a duplicate-key error that undoes its whole statement
// (MySQL) sets `refused_from` instead: rows from that index on were not inserted, and go in
// one at a time, as without batching.
struct BatchInsertion {
  uint64_t skipped = 0;
  std::vector<size_t> maybe_skipped;
  std::optional<size_t> refused_from;
};

// A target row as RowEngine::ReadLocal found it: its values as text (nullopt: NULL), one per
// column of the engine's table, in the table's order, and what the target said comparing it.
struct LocalRow {
  std::vector<std::optional<std::string>> values;
  std::vector<bool> equal;   // one per column compared: the row's value is the same
  std::optional<int> order;  // the value ordered against the row's: <0, 0, >0; nullopt: a NULL
};

// One counter column of a merged update (conflict resolver `delta`): column = column + add -
// subtract (no subtract: column + add).
template <typename Column>
struct DeltaTerm {
  Column add;
  std::optional<Column> subtract;
};

// What RowApplier needs from an engine. `Table` is the engine's view of a target table, with
// `schema`, `table`, `name()` ("schema.table"), `columns` (each with a `name`), `Find(name)`
// and `unique_indexes` (apply/row_match.h); `Column` is one bound column of a statement, with
// its target column's `name`.
template <typename Table, typename Column>
class RowEngine {
 public:
  virtual ~RowEngine() = default;

  // Ok when connected; the error says how to connect.
  virtual Status CheckOpen() const = 0;
  virtual bool InTransaction() const = 0;

  // What the catalog says about schema.table; nullopt when there is no such table.
  virtual Result<std::optional<Table>> LoadTable(const std::string& schema,
                                                 const std::string& table) = 0;

  // The mapped columns of `image`, unchanged values left out (see BindMapped).
  virtual Result<std::vector<Column>> Bind(const MappedRelation& relation, const Table& table,
                                           const RowImage& image) = 0;

  // Inserts `row`. Without `arbiter` the row is inserted or the statement fails; with one, an
  // existing row with the arbiter's values is reported as the Insertion's kind, not an error.
  virtual Result<Insertion> Insert(const Table& table, const std::vector<Column>& row,
                                   const std::vector<std::string>* arbiter) = 0;

  // How many rows of `columns` bound columns one multi-row INSERT may carry; 1 (the default)
  // means the engine inserts row by row and InsertBatch is never called.
  virtual size_t MaxInsertBatch(size_t columns) const {
    (void)columns;
    return 1;
  }

  // The bytes a bound row holds, to bound the memory a batch keeps.
  virtual size_t RowBytes(const std::vector<Column>& row) const {
    (void)row;
    return 0;
  }

  // Inserts `rows` (the same columns each, in order) in one statement. Without `arbiter` every
  // row is inserted or the statement fails; with one, rows whose arbiter values exist are
  // skipped and reported, not an error.
  virtual Result<BatchInsertion> InsertBatch(const Table& table,
                                             const std::vector<std::vector<Column>>& rows,
                                             const std::vector<std::string>* arbiter) {
    (void)table, (void)rows, (void)arbiter;
    return Status::Error("this engine inserts row by row");
  }

  // True when CopyRows writes copied rows into `table` (with `arbiter`, as CopyRows says) in
  // bulk; false (the default): RowApplier writes them as it writes ApplyRow's inserts.
  virtual bool CopiesInBulk(const Table& table, const std::vector<std::string>* arbiter) const {
    (void)table, (void)arbiter;
    return false;
  }

  // Writes the copied rows `rows` (INSERTs of whole rows of `relation`) into `table` in bulk.
  // With `arbiter` a row whose arbiter values exist overwrites that row; without, every row is
  // inserted. Returns the indexes of the rows it left unwritten, which RowApplier then writes
  // as it writes ApplyRow's inserts (one at a time where they clash, so that an error names
  // what clashed): e.g. the rows of a statement the target refused because one clashed on
  // another unique index than the arbiter, which no bulk statement tells apart.
  virtual Result<std::vector<size_t>> CopyRows(const MappedRelation& relation, const Table& table,
                                               const ChunkRows& rows,
                                               const std::vector<std::string>* arbiter) {
    (void)relation, (void)table, (void)rows, (void)arbiter;
    return Status::Error("this engine has no bulk copy");
  }

  // Sets `set` in the rows matching `match`, only one of them with `one_row`; the number of
  // rows found (not only changed). An empty `set` still finds the row.
  virtual Result<uint64_t> Update(const Table& table, const std::vector<Column>& set,
                                  const std::vector<Column>& match, bool one_row) = 0;

  // Deletes the rows matching `match`, only one of them with `one_row`; the number deleted.
  virtual Result<uint64_t> Delete(const Table& table, const std::vector<Column>& match,
                                  bool one_row) = 0;

  // Pipelining: true when the engine can send an UPDATE or DELETE without waiting for it
  // (SendUpdate, SendDelete) and tell its row count later (NextRowCount), so that a run of them
  // costs one round trip instead of one each. False (the default): only Update and Delete.
  // While statements are sent and not finished (FinishSent), RowApplier calls nothing else that
  // uses the connection; Bind and EncodeKey must not use it.
  virtual bool PipelinesRowStatements() const { return false; }

  // Sends what Update / Delete would run, without waiting for its result.
  virtual Status SendUpdate(const Table& table, const std::vector<Column>& set,
                            const std::vector<Column>& match, bool one_row) {
    (void)table, (void)set, (void)match, (void)one_row;
    return Status::Error("this engine runs updates one at a time");
  }
  virtual Status SendDelete(const Table& table, const std::vector<Column>& match, bool one_row) {
    (void)table, (void)match, (void)one_row;
    return Status::Error("this engine runs deletes one at a time");
  }

  // The row count (found, as Update / Delete return it) of the oldest statement sent whose count
  // was not taken yet, waiting for it; or that statement's error.
  virtual Result<uint64_t> NextRowCount() {
    return Status::Error("this engine sends no statements ahead");
  }

  // Ends a run of sent statements: results not taken (those after an error) are dropped, and
  // the connection takes other statements again. Ok when nothing was sent.
  virtual Status FinishSent() { return Status::Ok(); }

  // The values of `key` (the match columns of a row, in order) as a string that is equal for
  // two keys exactly when their bound values are, to tell whether statements in flight touch
  // the same row.
  virtual std::string EncodeKey(const std::vector<Column>& key) const {
    (void)key;
    return "";
  }

  // Long runs of inserts: true when the engine can write rows that InsertBatch would insert
  // (whole rows, the same columns each) with its bulk path (CopyInsertBatch), for runs longer
  // than a batch. The bulk path costs the target less per row, but it cannot tell which rows
  // met an existing one; mostly none does (a bulk load adds new rows).
  virtual bool CopiesInsertRuns(const Table& table) const {
    (void)table;
    return false;
  }

  // The most rows one CopyInsertBatch takes (and so the most a run of inserts holds in memory).
  virtual size_t MaxCopyInsertRows() const { return 10000; }

  // Inserts every row of `rows` by the bulk path, or none: false when any row was refused
  // (e.g. a key taken), and then nothing was written and RowApplier inserts them as InsertBatch
  // does, which tells which rows met an existing one (and names the one that failed).
  virtual Result<bool> CopyInsertBatch(const Table& table,
                                       const std::vector<std::vector<Column>>& rows) {
    (void)table, (void)rows;
    return Status::Error("this engine has no bulk path for inserts");
  }

  // Pipelined inserts (only where PipelinesRowStatements): true when the engine can also send a
  // multi-row INSERT without waiting for it (SendInsertBatch) and tell its outcome later
  // (NextBatchInsertion), in order with the updates and deletes sent, so that a source
  // transaction's inserts cost no round trip of their own either.
  virtual bool PipelinesInserts() const { return false; }

  // Sends what InsertBatch would run, without waiting for its result.
  virtual Status SendInsertBatch(const Table& table, const std::vector<std::vector<Column>>& rows,
                                 const std::vector<std::string>* arbiter) {
    (void)table, (void)rows, (void)arbiter;
    return Status::Error("this engine runs inserts as they come");
  }

  // The outcome (as InsertBatch returns it, `refused_from` included) of the oldest statement
  // sent whose result was not taken yet, which is the INSERT of `rows` with `arbiter`, waiting
  // for it; or its error. Rows from `refused_from` on are written one at a time once every
  // result is read: no statement sent after the INSERT touches their keys.
  virtual Result<BatchInsertion> NextBatchInsertion(const std::vector<std::vector<Column>>& rows,
                                                    const std::vector<std::string>* arbiter) {
    (void)rows, (void)arbiter;
    return Status::Error("this engine sends no inserts ahead");
  }

  // Empties the tables together, in one statement where the engine has one, for a source
  // TRUNCATE (`change` says cascade and restart_identity).
  virtual Status Truncate(const std::vector<const Table*>& tables,
                          const wire::RowChange& change) = 0;

  // Deletes the rows whose key (the columns of each Column list, in order) is above `after`, up
  // to `upto` and not in `keep`, each condition only when given; the number deleted.
  virtual Result<uint64_t> DeleteRange(const Table& table,
                                       const std::optional<std::vector<Column>>& after,
                                       const std::optional<std::vector<Column>>& upto,
                                       const std::vector<std::vector<Column>>& keep) = 0;

  // `name` as the SQL an error message suggests spells it.
  virtual std::string HintIdent(const std::string& name) const = 0;

  // ---- conflict detection (master-master; apply/conflict_applier.h) ----------------------------

  // The row of `table` that `match` finds, locked until the transaction ends (SELECT ... FOR
  // UPDATE), compared by the target in its own types: with each of `compare` (IS NOT DISTINCT
  // FROM) and, given `order`, the sign of `order`'s value against the row's column of its name.
  // nullopt when there is no such row.
  virtual Result<std::optional<LocalRow>> ReadLocal(const Table& table,
                                                    const std::vector<Column>& match,
                                                    const std::vector<Column>& compare,
                                                    const Column* order) {
    (void)table, (void)match, (void)compare, (void)order;
    return Status::Error("this engine cannot detect conflicts");
  }

  // UPDATE table SET each of `set`, and each delta column to itself + add - subtract, WHERE
  // `match`; the number of rows found.
  virtual Result<uint64_t> UpdateMerged(const Table& table, const std::vector<Column>& set,
                                        const std::vector<DeltaTerm<Column>>& deltas,
                                        const std::vector<Column>& match) {
    (void)table, (void)set, (void)deltas, (void)match;
    return Status::Error("this engine cannot merge rows");
  }
};

// Applies row changes through a RowEngine, from the sink's one thread.
// Consecutive inserts into one table are deferred and run as one multi-row INSERT where the
// engine can (a round trip per row is what bounds a bulk load); any other change, Flush() and
// the sink's commit run them first, so the target sees every change in source order.
// Updates and deletes are sent without waiting where the engine pipelines them: their row
// counts are read later, in order, at a drain (Drain), which handles one that found no row as
// it would have been handled in place: an update's row is inserted, and the outcome is reported
// as a LateOutcome. That is the same only when no later statement sent touched the same row, so
// the keys in flight are kept, and a statement with one of them (or anything but another
// update or delete) drains first. Where the engine pipelines inserts too (PipelinesInserts), a
// batch of deferred inserts is sent ahead the same way, with the keys of its rows, and its rows
// that met an existing row are overwritten at the drain. Where the engine has a bulk path for
// inserts (CopiesInsertRuns), a run longer than an INSERT batch is held up to MaxCopyInsertRows
// and written by it, or, when a row was refused, in INSERT batches as usual; elsewhere deferred
// inserts and statements in flight never coexist: whatever runs inserts drains first, and an update
// or delete runs the inserts before it. Invariant: a cached table is what the catalog said when it
// was read for the relation's current shape (TargetShape). It is read again when the relation
// mapped onto it changes shape (the target was likely altered first, e.g. a column added on both
// sides) and after any failed change on the table, which may have been altered under us.
template <typename Table, typename Column>
class RowApplier {
 public:
  explicit RowApplier(RowEngine<Table, Column>* engine) : engine_(engine) {}

  // Applies one change inside the engine's open transaction. Errors start with
  // "apply to schema.table (OP)".
  Result<RowOutcome> Apply(const MappedRelation& relation, const wire::RowChange& change);

  // Applies one change with conflict detection and resolution (apply/conflict_applier.h), after
  // everything deferred or in flight, inside the engine's open transaction; the conflicts met,
  // if any. Errors start with "apply to schema.table (OP)".
  Result<std::vector<ConflictRecord>> ApplyChecked(const MappedRelation& relation,
                                                   const wire::RowChange& change,
                                                   const ConflictContext& context);

  // Writes a copy chunk's rows (see Sink::CopyRows) inside the engine's open transaction: in
  // bulk where the engine can, else as Apply writes inserts. Errors start with "copy into
  // schema.table (N rows)".
  Status Copy(const MappedRelation& relation, const ChunkRows& rows, CopyInto into);

  // Empties the target tables of `relations` together for one source TRUNCATE, inside the
  // engine's open transaction. Errors start with "apply to schema.a, schema.b (TRUNCATE)".
  Status Truncate(const std::vector<const MappedRelation*>& relations,
                  const wire::RowChange& change);

  // Deletes the target rows of `relation` in `range` but its kept keys (Sink::DeleteCopyRange),
  // inside the engine's open transaction. Errors start with "apply to schema.table (DELETE of a
  // copied key range)".
  Result<uint64_t> DeleteRange(const MappedRelation& relation, const CopyRange& range);

  // The column names of schema.table as the catalog has them now (the cache is left alone);
  // nullopt when there is no such table.
  Result<std::optional<std::vector<std::string>>> TargetColumns(const std::string& schema,
                                                                const std::string& table);

  // Runs (or sends) the deferred inserts, if any, then drains the statements in flight (Drain).
  // Errors start with "apply to schema.table (INSERT of N rows)" or as Drain's do.
  Status Flush();

  // Waits for the updates and deletes sent ahead, in order; one that found no row is handled
  // now and reported as a LateOutcome. Then the connection takes other statements again. An
  // error is the first statement's that failed, starting "apply to schema.table (UPDATE)" (or
  // DELETE); the transaction is lost with it. Ok at once when nothing is in flight.
  Status Drain();

  // Forgets the deferred inserts, the statements in flight (dropping their results) and what
  // was learned running earlier ones: their transaction is being rolled back.
  void Discard() {
    pending_.reset();
    late_.clear();
    if (!sent_.empty()) {
      ForgetSent();
      (void)engine_->FinishSent();  // the sink's rollback follows; it checks the connection
    }
  }

  // Divergences found when deferred inserts ran or statements in flight were drained (see
  // LateOutcome), since the last call.
  std::vector<LateOutcome> TakeLateOutcomes() { return std::exchange(late_, {}); }

  // Drops every cached table and the statements in flight, e.g. when the connection is closed.
  void ForgetTables() {
    pending_.reset();
    ForgetSent();
    tables_.clear();
  }

 private:
  // `shape` is TargetShape(relation), worked out once per change.
  Result<RowOutcome> Dispatch(const MappedRelation& relation, const Table& target,
                              const std::string& shape, const wire::RowChange& change);
  // The cached table `name` ("schema.table"), read again when `shape` changed.
  Result<const Table*> Target(const MappedRelation& relation, const std::string& name,
                              const std::string& shape);

  // Copy's work once the target table is known.
  Status CopyRows(const MappedRelation& relation, const Table& target, const std::string& shape,
                  const ChunkRows& rows, CopyInto into);

  Result<RowOutcome> ApplyInsert(const MappedRelation& relation, const Table& target,
                                 const std::string& shape, const wire::RowChange& change);
  // Adds the insert to the pending batch for table `name` as mapped with `shape` (running the
  // batch first if it is for another column list, and after if it is full).
  Result<RowOutcome> DeferInsert(const MappedRelation& relation, const std::string& shape,
                                 const Table& target, std::vector<Column> row,
                                 std::vector<std::string> arbiter);
  // Runs the deferred inserts, or sends them ahead where the engine pipelines inserts;
  // statements in flight are drained first when the engine does not, or when they touch the
  // same rows.
  Status RunPendingInserts();
  // True when the pending inserts are more than one INSERT batch takes.
  bool LongRun() const;
  // True when the pending inserts should be run now, before another row joins them.
  bool Full() const;
  // Writes a long run by the engine's bulk path; false when it refused a row and wrote none.
  Result<bool> CopyPendingInserts();
  // Runs the pending inserts in INSERT batches (of MaxInsertBatch rows and kMaxInsertBatchBytes).
  Status InsertInBatches();
  // Runs (or sends) the pending inserts as one INSERT batch.
  Status InsertPending();
  Status SendPendingInserts();
  // Writes the rows an INSERT left to the row path (`inserted.refused_from` on), then overwrites
  // those it found taken (OverwriteTaken).
  Status Settle(const std::string& target, const Table& table,
                const std::vector<std::vector<Column>>& rows,
                const std::vector<std::string>* arbiter, BatchInsertion inserted);

  // Overwrites the rows of `rows` that an INSERT with `arbiter` found taken (`inserted`), as one
  // at a time would, and reports them as a LateOutcome of `target`.
  Status OverwriteTaken(const std::string& target, const Table& table,
                        const std::vector<std::vector<Column>>& rows,
                        const std::vector<std::string>* arbiter, const BatchInsertion& inserted);

  // An update, a delete or a batch of inserts sent ahead, with what Drain needs if it finds no
  // row (or, for inserts, a row taken).
  struct SentStatement {
    std::string target;            // "schema.table"
    const Table* table = nullptr;  // in tables_; stays put while statements are in flight
    wire::RowChange::Op op = wire::RowChange::UPDATE;
    std::vector<std::vector<Column>> inserts;  // INSERT: the batch's rows
    std::vector<Column> match;                 // what finds its row (MatchOf); dropped once sent
    // UPDATE: the source's row, inserted when no row is found, unless the source left values
    // out (`complete` false: unchanged TOAST values).
    std::vector<Column> row;
    bool complete = false;
    std::optional<std::vector<std::string>> arbiter;  // ArbiterColumns when inserting
    Status no_arbiter = Status::Ok();  // UPDATE: NoArbiterError when an insert needs one
    // The keys (table and encoded values) of the rows it touches: the one it finds and, for an
    // update, the one it leaves.
    std::vector<std::string> keys;
    size_t bytes = 0;  // of its values, to bound what the window holds
  };
  // The update or delete `change` ready to be sent ahead; nullopt when it must run in place: a
  // whole-row match (identical rows, which no key tells apart) or a key change whose new image
  // lacks a key value.
  Result<std::optional<SentStatement>> ToSend(const MappedRelation& relation, const Table& target,
                                              const wire::RowChange& change);
  // "apply to schema.table (OP)" for a statement sent ahead.
  static std::string SentContext(const SentStatement& statement);
  // True when `statement` must wait for the statements in flight: it touches a row one of them
  // touches, or the window is full.
  bool MustDrainBefore(const SentStatement& statement) const;
  // Sends `statement` ahead and keeps it in the window.
  Status Send(SentStatement statement);
  // `outcome` of a change to `name`; on error with `context` and the table forgotten: it may
  // have been altered under us, and the transaction is lost with the error, with its deferred
  // inserts and statements in flight.
  Result<RowOutcome> Finished(const std::string& name, const std::string& context,
                              Result<RowOutcome> outcome);
  // What ApplyUpdate / ApplyDelete do after finding no row, for a statement drained.
  Status FoundNone(const SentStatement& statement);
  void ForgetSent() {
    sent_.clear();
    sent_keys_.clear();
    sent_bytes_ = 0;
  }
  bool TableCached(const std::string& name, const std::string& shape) const {
    auto it = tables_.find(name);
    return it != tables_.end() && it->second.shape == shape;
  }

  Result<RowOutcome> ApplyUpdate(const MappedRelation& relation, const Table& target,
                                 const wire::RowChange& change);
  Result<RowOutcome> ApplyDelete(const MappedRelation& relation, const Table& target,
                                 const wire::RowChange& change);
  Result<std::vector<Column>> MatchOf(const MappedRelation& relation, const Table& target,
                                      const wire::RowChange& change);
  // The key columns of `image` bound for `target`, in `key_columns` order.
  Result<std::vector<Column>> BindKey(const MappedRelation& relation, const Table& target,
                                      const std::vector<int>& key_columns, const RowImage& image);

  // Inserts `row`; when it meets an existing row on the arbiter index, overwrites that row and
  // reports `on_existing`, else reports `on_new`.
  Result<RowOutcome> InsertRow(const MappedRelation& relation, const Table& target,
                               const std::vector<Column>& row, RowOutcome on_new,
                               RowOutcome on_existing);
  // InsertRow's work once the arbiter is known (none: a plain INSERT).
  Result<RowOutcome> InsertOn(const Table& target, const std::vector<Column>& row,
                              const std::vector<std::string>* arbiter, RowOutcome on_new,
                              RowOutcome on_existing);
  Result<RowOutcome> Overwrite(const Table& target, const std::vector<Column>& row,
                               const std::vector<std::string>& arbiter, const Insertion& insertion,
                               RowOutcome on_existing);
  Status NoArbiterError(const MappedRelation& relation, const Table& target) const;
  // Inserts rows[from..] one at a time (after a refused batch); the rows that met an existing
  // row, which are overwritten.
  Result<uint64_t> InsertOneByOne(const Table& target, const std::vector<std::vector<Column>>& rows,
                                  size_t from, const std::vector<std::string>* arbiter);

  RowEngine<Table, Column>* engine_;
  struct CachedTable {
    std::string shape;  // TargetShape() of the relation it was read for
    Table table;
  };
  std::map<std::string, CachedTable> tables_;  // by "schema.table"

  // Inserts deferred into one multi-row INSERT: same table, same shape, same columns (those of
  // the first row).
  struct PendingInserts {
    std::string target;            // "schema.table"
    std::string shape;             // TargetShape() of the relation
    const Table* table = nullptr;  // in tables_; stays put while inserts are pending
    std::optional<std::vector<std::string>> arbiter;
    // MatchColumns: how a later update or delete finds these rows (empty: by the whole row), so
    // that the keys of a batch sent ahead compare with theirs.
    std::vector<std::string> match_columns;
    std::vector<std::vector<Column>> rows;
    size_t bytes = 0;
  };
  std::optional<PendingInserts> pending_;
  std::vector<LateOutcome> late_;

  // Updates and deletes in flight, oldest first, and the keys they touch.
  std::vector<SentStatement> sent_;
  std::unordered_set<std::string> sent_keys_;
  size_t sent_bytes_ = 0;
};

// A batch is run once it holds this many bytes of values, whatever the engine's row limit.
inline constexpr size_t kMaxInsertBatchBytes = 4 << 20;
// The same for a long run of inserts held for the engine's bulk path (CopiesInsertRuns).
inline constexpr size_t kMaxCopyInsertBytes = 16 << 20;

// Statements in flight are drained once this many are, or once they hold this many bytes of
// values (ARCHITECTURE.md invariant 4: what is held for them is bounded).
inline constexpr size_t kMaxSentStatements = 1000;
inline constexpr size_t kMaxSentBytes = 4 << 20;

// The walk over a relation's mapped columns that every engine's image binding shares: checks
// that `image` fits the relation, leaves out unchanged values, finds each column on `target`
// (failing when it is missing) and has `bind(mapped, target_column, value)` make the Column.
template <typename Column, typename Table, typename BindOne>
Result<std::vector<Column>> BindMapped(const MappedRelation& relation, const Table& target,
                                       const RowImage& image, BindOne bind);

// The target column of each of `relation`'s mapped columns, in order, found once for a bulk
// write of many rows (BindMapped finds them for every row); fails naming a missing one.
template <typename Table>
auto MappedTargetColumns(const MappedRelation& relation, const Table& target)
    -> Result<std::vector<decltype(target.Find(std::string()))>>;

}  // namespace ferry::apply

#include "apply/row_applier_impl.h"  // IWYU pragma: export
