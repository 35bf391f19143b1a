// The bodies of row_applier.h's templates; include row_applier.h, not this file.
#pragma once

#include <algorithm>
#include <utility>

#include "apply/conflict_applier.h"
#include "apply/row_applier.h"
#include "apply/row_match.h"
#include "apply/sink_text.h"

namespace ferry::apply {

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::Apply(const MappedRelation& relation,
                                                    const wire::RowChange& change) {
  const std::string name = relation.target_name();
  const std::string context = "apply to " + name + " (" + OpName(change.op()) + ")";
  FERRY_RETURN_IF_ERROR(engine_->CheckOpen().WithContext(context));
  if (!engine_->InTransaction()) {
    return Status::Error(context + ": no transaction is open: call BeginTransaction first");
  }
  const bool pipelines = engine_->PipelinesRowStatements();
  const bool ahead = pipelines && (change.op() == wire::RowChange::UPDATE ||
                                   change.op() == wire::RowChange::DELETE);
  // An insert joins the deferred batch, which is sent ahead in turn where the engine can.
  const bool deferred =
      pipelines && engine_->PipelinesInserts() && change.op() == wire::RowChange::INSERT;
  // Anything else comes after the statements in flight; so does reading a table's catalog,
  // which uses the connection.
  const std::string shape = TargetShape(relation);  // once per change: it is on the row path
  // Anything but another insert into the same table runs (or sends) the pending inserts first,
  // in order; so does a relation that changed shape, before its table is read again.
  const bool pending_fits = !pending_ || (pending_->target == name && pending_->shape == shape);
  if (change.op() != wire::RowChange::INSERT || !pending_fits) {
    FERRY_RETURN_IF_ERROR(RunPendingInserts());
  }
  if (!(ahead || deferred) || !TableCached(name, shape)) FERRY_RETURN_IF_ERROR(Drain());
  Result<const Table*> target = Target(relation, name, shape);
  if (!target.ok()) return target.status().WithContext(context);
  if (!ahead) return Finished(name, context, Dispatch(relation, **target, shape, change));

  Result<std::optional<SentStatement>> statement = ToSend(relation, **target, change);
  if (!statement.ok()) return Finished(name, context, statement.status());
  if (!statement->has_value()) {  // runs in place, after the statements in flight
    FERRY_RETURN_IF_ERROR(Drain());
    return Finished(name, context, Dispatch(relation, **target, shape, change));
  }
  if (MustDrainBefore(**statement)) FERRY_RETURN_IF_ERROR(Drain());
  Status sent = Send(std::move(**statement));
  if (!sent.ok()) return Finished(name, context, sent);
  return RowOutcome::kApplied;  // a row not found shows later, as a LateOutcome
}

template <typename Table, typename Column>
Result<std::vector<ConflictRecord>> RowApplier<Table, Column>::ApplyChecked(
    const MappedRelation& relation, const wire::RowChange& change, const ConflictContext& context) {
  const std::string name = relation.target_name();
  const std::string where = "apply to " + name + " (" + OpName(change.op()) + ")";
  FERRY_RETURN_IF_ERROR(engine_->CheckOpen().WithContext(where));
  if (!engine_->InTransaction()) {
    return Status::Error(where + ": no transaction is open: call BeginTransaction first");
  }
  FERRY_RETURN_IF_ERROR(Flush());
  Result<const Table*> target = Target(relation, name, TargetShape(relation));
  if (!target.ok()) return target.status().WithContext(where);
  Result<std::vector<ConflictRecord>> applied =
      ConflictApplier<Table, Column>(engine_).Apply(relation, **target, change, context);
  if (!applied.ok()) {
    tables_.erase(name);  // as in Apply: the table may have been altered under us
    return applied.status().WithContext(where);
  }
  return applied;
}

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::Finished(const std::string& name,
                                                       const std::string& context,
                                                       Result<RowOutcome> outcome) {
  if (outcome.ok()) return outcome;
  tables_.erase(name);
  pending_.reset();
  if (!sent_.empty()) {
    ForgetSent();
    (void)engine_->FinishSent();  // the transaction is lost; its results no longer matter
  }
  return outcome.status().WithContext(context);
}

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::Dispatch(const MappedRelation& relation,
                                                       const Table& target,
                                                       const std::string& shape,
                                                       const wire::RowChange& change) {
  switch (change.op()) {
    case wire::RowChange::INSERT:
      return ApplyInsert(relation, target, shape, change);
    case wire::RowChange::UPDATE:
      return ApplyUpdate(relation, target, change);
    case wire::RowChange::DELETE:
      return ApplyDelete(relation, target, change);
    case wire::RowChange::TRUNCATE:
      FERRY_RETURN_IF_ERROR(engine_->Truncate({&target}, change));
      return RowOutcome::kApplied;
    default:
      return Status::Error("unsupported operation " +
                           std::to_string(static_cast<int>(change.op())) +
                           ": the change stream is malformed");
  }
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::Truncate(const std::vector<const MappedRelation*>& relations,
                                           const wire::RowChange& change) {
  std::string names;
  for (const MappedRelation* relation : relations) {
    names += (names.empty() ? "" : ", ") + relation->target_name();
  }
  const std::string context = "apply to " + names + " (TRUNCATE)";
  FERRY_RETURN_IF_ERROR(engine_->CheckOpen().WithContext(context));
  if (!engine_->InTransaction()) {
    return Status::Error(context + ": no transaction is open: call BeginTransaction first");
  }
  FERRY_RETURN_IF_ERROR(Flush());
  std::vector<const Table*> tables;
  Status status = Status::Ok();
  for (const MappedRelation* relation : relations) {
    // tables_ is a std::map: loading one table leaves the others' addresses alone.
    Result<const Table*> target =
        Target(*relation, relation->target_name(), TargetShape(*relation));
    if (!target.ok()) {
      status = target.status();
      break;
    }
    tables.push_back(*target);
  }
  if (status.ok()) status = engine_->Truncate(tables, change);
  if (!status.ok()) {
    // As in Apply: any of the tables may have been altered under us.
    for (const MappedRelation* relation : relations) tables_.erase(relation->target_name());
    return status.WithContext(context);
  }
  return Status::Ok();
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::Copy(const MappedRelation& relation, const ChunkRows& rows,
                                       CopyInto into) {
  const std::string name = relation.target_name();
  const std::string context = "copy into " + name + " (" + std::to_string(rows.size()) + " rows)";
  FERRY_RETURN_IF_ERROR(engine_->CheckOpen().WithContext(context));
  if (!engine_->InTransaction()) {
    return Status::Error(context + ": no transaction is open: call BeginCopyTransaction first");
  }
  FERRY_RETURN_IF_ERROR(Flush());  // inserts deferred before the copy go first
  const std::string shape = TargetShape(relation);
  Result<const Table*> target = Target(relation, name, shape);
  if (!target.ok()) return target.status().WithContext(context);
  // A copied row met again is expected (see Sink::CopyRows): rows written by the row path must
  // not report it.
  const size_t late = late_.size();
  Status status = CopyRows(relation, **target, shape, rows, into);
  late_.resize(late);
  if (!status.ok()) {
    // As in Apply: the table may have been altered under us, and the transaction is lost.
    tables_.erase(name);
    pending_.reset();
    return status.WithContext(context);
  }
  return Status::Ok();
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::CopyRows(const MappedRelation& relation, const Table& target,
                                           const std::string& shape, const ChunkRows& rows,
                                           CopyInto into) {
  for (const wire::RowChange& row : rows) {
    if (row.op() != wire::RowChange::INSERT) {
      return Status::Error(std::string("a copied row is not an INSERT (") + OpName(row.op()) +
                           "): the copy is malformed");
    }
  }
  // An emptied table holds nothing a row could meet: every row is inserted as it is.
  std::optional<std::vector<std::string>> arbiter;
  if (into == CopyInto::kExisting) {
    arbiter = ArbiterColumns(relation, target.unique_indexes);
    if (!arbiter && RequiresArbiter(relation)) return NoArbiterError(relation, target);
  }
  const std::vector<std::string>* on = arbiter ? &*arbiter : nullptr;
  std::vector<size_t> by_row;
  if (engine_->CopiesInBulk(target, on)) {
    Result<std::vector<size_t>> left = engine_->CopyRows(relation, target, rows, on);
    if (!left.ok()) return left.status();
    by_row = std::move(left).value();
  } else {
    by_row.resize(static_cast<size_t>(rows.size()));
    for (size_t i = 0; i < static_cast<size_t>(rows.size()); ++i) by_row[i] = i;
  }
  for (size_t i : by_row) {
    Result<RowOutcome> outcome = ApplyInsert(relation, target, shape, rows[i]);
    if (!outcome.ok()) return outcome.status();
  }
  return Flush();
}

template <typename Table, typename Column>
Result<const Table*> RowApplier<Table, Column>::Target(const MappedRelation& relation,
                                                       const std::string& name,
                                                       const std::string& shape) {
  if (auto it = tables_.find(name); it != tables_.end() && it->second.shape == shape) {
    return &it->second.table;
  }
  Result<std::optional<Table>> loaded =
      engine_->LoadTable(relation.target_schema, relation.target_table);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    return Status::Error("target table " + name +
                         " does not exist: create it on the target (or set create_tables: true "
                         "in the apply config) or map the source table onto an existing one");
  }
  CachedTable& cached =
      tables_.insert_or_assign(name, CachedTable{shape, std::move(**loaded)}).first->second;
  return &cached.table;
}

template <typename Table, typename Column>
Result<std::optional<std::vector<std::string>>> RowApplier<Table, Column>::TargetColumns(
    const std::string& schema, const std::string& table) {
  FERRY_RETURN_IF_ERROR(Drain());  // reading the catalog uses the connection
  Result<std::optional<Table>> loaded = engine_->LoadTable(schema, table);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> names;
  for (const auto& column : (*loaded)->columns) names.push_back(column.name);
  return std::optional<std::vector<std::string>>(std::move(names));
}

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::ApplyInsert(const MappedRelation& relation,
                                                          const Table& target,
                                                          const std::string& shape,
                                                          const wire::RowChange& change) {
  Result<std::vector<Column>> row = engine_->Bind(relation, target, change.new_values());
  if (!row.ok()) return row.status();
  if (engine_->MaxInsertBatch(row->size()) > 1) {
    std::optional<std::vector<std::string>> arbiter =
        ArbiterColumns(relation, target.unique_indexes);
    if (!arbiter && RequiresArbiter(relation)) return NoArbiterError(relation, target);
    return DeferInsert(relation, shape, target, std::move(row).value(),
                       arbiter.value_or(std::vector<std::string>{}));
  }
  FERRY_RETURN_IF_ERROR(Drain());  // a row inserted in place comes after those in flight
  return InsertRow(relation, target, *row, RowOutcome::kApplied, RowOutcome::kInsertedOverExisting);
}

template <typename Table, typename Column>
Result<std::optional<typename RowApplier<Table, Column>::SentStatement>>
RowApplier<Table, Column>::ToSend(const MappedRelation& relation, const Table& target,
                                  const wire::RowChange& change) {
  using Sendable = std::optional<SentStatement>;
  const bool update = change.op() == wire::RowChange::UPDATE;
  // Checked in the order ApplyUpdate / ApplyDelete check, so that errors read the same.
  if (!update && change.old_values_size() == 0) {
    return Status::Error("the delete carries no old image: the change stream is malformed");
  }
  if (MatchesWholeRow(relation, target.unique_indexes)) return Sendable();
  SentStatement statement;
  statement.target = relation.target_name();
  statement.table = &target;
  statement.op = change.op();
  if (update) {
    Result<std::vector<Column>> row = engine_->Bind(relation, target, change.new_values());
    if (!row.ok()) return row.status().WithContext("new image");
    statement.row = std::move(row).value();
  }
  Result<std::vector<Column>> match = MatchOf(relation, target, change);
  if (!match.ok()) return match.status();
  statement.match = std::move(match).value();
  const std::string table_key = statement.target + '\0';
  statement.keys.push_back(table_key + engine_->EncodeKey(statement.match));
  if (!update) return Sendable(std::move(statement));

  // The row the update leaves: a later statement finds it by the new image's key.
  Result<std::vector<Column>> new_key =
      Select(statement.row, MatchColumns(relation, target.unique_indexes));
  if (!new_key.ok()) return Sendable();
  std::string left = table_key + engine_->EncodeKey(*new_key);
  if (left != statement.keys.front()) statement.keys.push_back(std::move(left));
  statement.complete = std::none_of(change.new_values().begin(), change.new_values().end(),
                                    [](const wire::Value& value) { return value.has_unchanged(); });
  if (statement.complete) {
    statement.arbiter = ArbiterColumns(relation, target.unique_indexes);
    if (!statement.arbiter && RequiresArbiter(relation)) {
      statement.no_arbiter = NoArbiterError(relation, target);
    }
  }
  return Sendable(std::move(statement));
}

template <typename Table, typename Column>
bool RowApplier<Table, Column>::MustDrainBefore(const SentStatement& statement) const {
  if (sent_.size() >= kMaxSentStatements || sent_bytes_ >= kMaxSentBytes) return true;
  return std::any_of(statement.keys.begin(), statement.keys.end(),
                     [this](const std::string& key) { return sent_keys_.contains(key); });
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::Send(SentStatement statement) {
  const bool one_row = false;  // whole-row matches run in place (ToSend)
  const std::vector<std::string>* arbiter = statement.arbiter ? &*statement.arbiter : nullptr;
  switch (statement.op) {
    case wire::RowChange::INSERT:
      FERRY_RETURN_IF_ERROR(engine_->SendInsertBatch(*statement.table, statement.inserts, arbiter));
      break;
    case wire::RowChange::UPDATE:
      FERRY_RETURN_IF_ERROR(
          engine_->SendUpdate(*statement.table, statement.row, statement.match, one_row));
      break;
    default:
      FERRY_RETURN_IF_ERROR(engine_->SendDelete(*statement.table, statement.match, one_row));
  }
  // Only what Drain needs stays.
  statement.match = {};
  if (!statement.complete) statement.row = {};
  statement.bytes = engine_->RowBytes(statement.row);
  for (const std::vector<Column>& row : statement.inserts)
    statement.bytes += engine_->RowBytes(row);
  // Only a statement whose late outcome writes (an update that finds no row inserts it, an
  // insert overwrites a row in its way) holds its rows' keys: a later statement on them must
  // wait for that write. A delete that finds no row writes nothing, so a delete and the insert
  // of the same key after it (e.g. a row deleted and inserted again) go in the same batch.
  const bool writes_late = statement.op == wire::RowChange::INSERT || statement.complete;
  for (std::string& key : statement.keys) {
    if (!writes_late) break;
    statement.bytes += key.size();
    sent_keys_.insert(std::move(key));
  }
  statement.keys = {};
  sent_bytes_ += statement.bytes;
  sent_.push_back(std::move(statement));
  return Status::Ok();
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::Drain() {
  if (sent_.empty()) return Status::Ok();
  std::vector<SentStatement> sent = std::exchange(sent_, {});
  ForgetSent();
  // Every result is read before anything else runs: the connection is busy until then.
  // found_none: updates and deletes that found no row; taken: inserts that met existing rows.
  std::vector<size_t> found_none;
  std::vector<std::pair<size_t, BatchInsertion>> taken;
  size_t failed = 0;
  Status status = Status::Ok();
  for (size_t i = 0; i < sent.size() && status.ok(); ++i) {
    if (sent[i].op == wire::RowChange::INSERT) {
      const auto* arbiter = sent[i].arbiter ? &*sent[i].arbiter : nullptr;
      Result<BatchInsertion> inserted = engine_->NextBatchInsertion(sent[i].inserts, arbiter);
      if (!inserted.ok()) {
        status = inserted.status();
        failed = i;
      } else if (inserted->skipped > 0 || inserted->refused_from) {
        taken.emplace_back(i, std::move(inserted).value());
      }
      continue;
    }
    Result<uint64_t> rows = engine_->NextRowCount();
    if (!rows.ok()) {
      status = rows.status();
      failed = i;
    } else if (*rows == 0) {
      found_none.push_back(i);
    }
  }
  Status finished = engine_->FinishSent();
  if (status.ok() && !finished.ok()) {
    status = finished;
    failed = sent.size() - 1;
  }
  // No statement after one of these touched its rows (MustDrainBefore), so handling them now is
  // handling them where they were.
  for (size_t i = 0; i < taken.size() && status.ok(); ++i) {
    const SentStatement& batch = sent[taken[i].first];
    status = Settle(batch.target, *batch.table, batch.inserts,
                    batch.arbiter ? &*batch.arbiter : nullptr, std::move(taken[i].second));
    if (!status.ok()) failed = taken[i].first;
  }
  for (size_t i = 0; i < found_none.size() && status.ok(); ++i) {
    status = FoundNone(sent[found_none[i]]);
    if (!status.ok()) failed = found_none[i];
  }
  if (!status.ok()) {
    const SentStatement& statement = sent[failed];
    tables_.erase(statement.target);  // the table may have been altered under us
    pending_.reset();
    return status.WithContext(SentContext(statement));
  }
  return Status::Ok();
}

template <typename Table, typename Column>
std::string RowApplier<Table, Column>::SentContext(const SentStatement& statement) {
  if (statement.op == wire::RowChange::INSERT) {
    return "apply to " + statement.target + " (INSERT of " +
           std::to_string(statement.inserts.size()) + " rows)";
  }
  return "apply to " + statement.target + " (" + OpName(statement.op) + ")";
}

// As ApplyUpdate / ApplyDelete do when they find no row, with the outcome reported late.
template <typename Table, typename Column>
Status RowApplier<Table, Column>::FoundNone(const SentStatement& statement) {
  RowOutcome outcome = RowOutcome::kDeleteMissing;
  if (statement.op == wire::RowChange::UPDATE) {
    outcome = RowOutcome::kUpdateMissingNotInserted;
    if (statement.complete) {
      FERRY_RETURN_IF_ERROR(statement.no_arbiter);
      Result<RowOutcome> inserted = InsertOn(
          *statement.table, statement.row, statement.arbiter ? &*statement.arbiter : nullptr,
          RowOutcome::kUpdateInsertedMissing, RowOutcome::kUpdateInsertedMissing);
      if (!inserted.ok()) return inserted.status();
      outcome = *inserted;
    }
  }
  // One report per row, as an outcome returned in place is reported.
  late_.push_back({statement.target, outcome, 1});
  return Status::Ok();
}

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::DeferInsert(const MappedRelation& relation,
                                                          const std::string& shape,
                                                          const Table& target,
                                                          std::vector<Column> row,
                                                          std::vector<std::string> arbiter) {
  const std::string name = relation.target_name();
  // Rows of one batch share one column list (an insert leaves out no column today, but the
  // statement must fit every row).
  const auto same_columns = [&row](const std::vector<Column>& other) {
    return std::equal(row.begin(), row.end(), other.begin(), other.end(),
                      [](const Column& a, const Column& b) { return a.name == b.name; });
  };
  if (pending_ && !same_columns(pending_->rows.front())) {
    FERRY_RETURN_IF_ERROR(RunPendingInserts());
  }
  if (!pending_) {
    pending_ = PendingInserts{name, shape, &target, std::nullopt, {}, {}, 0};
    if (!arbiter.empty()) pending_->arbiter = std::move(arbiter);
    if (!MatchesWholeRow(relation, target.unique_indexes)) {
      pending_->match_columns = MatchColumns(relation, target.unique_indexes);
    }
  }
  pending_->bytes += engine_->RowBytes(row);
  pending_->rows.push_back(std::move(row));
  if (Full()) FERRY_RETURN_IF_ERROR(RunPendingInserts());
  return RowOutcome::kApplied;  // a divergence shows later, as a LateOutcome
}

template <typename Table, typename Column>
bool RowApplier<Table, Column>::LongRun() const {
  return pending_->rows.size() >= engine_->MaxInsertBatch(pending_->rows.front().size()) ||
         pending_->bytes >= kMaxInsertBatchBytes;
}

template <typename Table, typename Column>
bool RowApplier<Table, Column>::Full() const {
  if (!engine_->CopiesInsertRuns(*pending_->table)) return LongRun();
  return pending_->rows.size() >= engine_->MaxCopyInsertRows() ||
         pending_->bytes >= kMaxCopyInsertBytes;
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::Flush() {
  FERRY_RETURN_IF_ERROR(RunPendingInserts());
  return Drain();
}

// A run longer than one INSERT batch is most likely a bulk load of new rows: the bulk path costs
// the target less than INSERTs that check every key for an existing row.
template <typename Table, typename Column>
Status RowApplier<Table, Column>::RunPendingInserts() {
  if (!pending_) return Status::Ok();
  if (!engine_->CopiesInsertRuns(*pending_->table) || !LongRun()) return InsertPending();
  Result<bool> copied = CopyPendingInserts();
  if (!copied.ok()) return copied.status();
  return *copied ? Status::Ok() : InsertInBatches();
}

template <typename Table, typename Column>
Result<bool> RowApplier<Table, Column>::CopyPendingInserts() {
  FERRY_RETURN_IF_ERROR(Drain());  // statements in flight come first, and use the connection
  Result<bool> copied = engine_->CopyInsertBatch(*pending_->table, pending_->rows);
  if (!copied.ok()) {
    const std::string context = "apply to " + pending_->target + " (COPY of " +
                                std::to_string(pending_->rows.size()) + " inserted rows)";
    tables_.erase(pending_->target);  // the table may have been altered under us
    pending_.reset();
    return copied.status().WithContext(context);
  }
  if (*copied) pending_.reset();
  return copied;
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::InsertInBatches() {
  PendingInserts run = std::move(*pending_);
  pending_.reset();
  const size_t most = engine_->MaxInsertBatch(run.rows.front().size());
  std::vector<std::vector<Column>> rows = std::move(run.rows);
  run.rows.clear();
  run.bytes = 0;
  for (std::vector<Column>& row : rows) {
    if (!pending_) pending_ = run;
    pending_->bytes += engine_->RowBytes(row);
    pending_->rows.push_back(std::move(row));
    if (pending_->rows.size() >= most || pending_->bytes >= kMaxInsertBatchBytes) {
      FERRY_RETURN_IF_ERROR(InsertPending());
    }
  }
  return pending_ ? InsertPending() : Status::Ok();
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::InsertPending() {
  if (engine_->PipelinesRowStatements() && engine_->PipelinesInserts()) {
    return SendPendingInserts();
  }
  FERRY_RETURN_IF_ERROR(Drain());  // none are in flight while inserts wait; kept for safety
  PendingInserts batch = std::move(*pending_);
  pending_.reset();
  const std::string context =
      "apply to " + batch.target + " (INSERT of " + std::to_string(batch.rows.size()) + " rows)";
  const std::vector<std::string>* arbiter = batch.arbiter ? &*batch.arbiter : nullptr;
  Result<BatchInsertion> inserted = engine_->InsertBatch(*batch.table, batch.rows, arbiter);
  Status status = inserted.ok() ? Settle(batch.target, *batch.table, batch.rows, arbiter,
                                         std::move(inserted).value())
                                : inserted.status();
  if (!status.ok()) {
    tables_.erase(batch.target);  // the table may have been altered under us
    return status.WithContext(context);
  }
  return Status::Ok();
}

// The batch goes ahead with the keys of its rows, as a later update or delete would name them:
// one of those touching a row of the batch waits for it, and so does the batch for a statement
// in flight on one of its rows.
template <typename Table, typename Column>
Status RowApplier<Table, Column>::SendPendingInserts() {
  PendingInserts batch = std::move(*pending_);
  pending_.reset();
  SentStatement statement;
  statement.target = batch.target;
  statement.table = batch.table;
  statement.op = wire::RowChange::INSERT;
  statement.arbiter = std::move(batch.arbiter);
  const std::string table_key = statement.target + '\0';
  for (const std::vector<Column>& row : batch.rows) {
    if (batch.match_columns.empty()) break;
    Result<std::vector<Column>> key = Select(row, batch.match_columns);
    if (key.ok()) statement.keys.push_back(table_key + engine_->EncodeKey(*key));
  }
  statement.inserts = std::move(batch.rows);
  if (MustDrainBefore(statement)) FERRY_RETURN_IF_ERROR(Drain());
  Status sent = Send(std::move(statement));
  if (!sent.ok()) {
    tables_.erase(batch.target);
    return sent.WithContext("apply to " + batch.target + " (INSERT)");
  }
  return Status::Ok();
}

// Finishes what a multi-row INSERT left: the rows from `refused_from` on go in one at a time;
// then the rows that met an existing row are overwritten (OverwriteTaken).
template <typename Table, typename Column>
Status RowApplier<Table, Column>::Settle(const std::string& target, const Table& table,
                                         const std::vector<std::vector<Column>>& rows,
                                         const std::vector<std::string>* arbiter,
                                         BatchInsertion inserted) {
  if (inserted.refused_from) {
    Result<uint64_t> existing = InsertOneByOne(table, rows, *inserted.refused_from, arbiter);
    if (!existing.ok()) return existing.status();
    inserted = BatchInsertion{*existing, {}, {}};
  }
  return OverwriteTaken(target, table, rows, arbiter, inserted);
}

// Rows that met an existing row are overwritten with the source's row, as one at a time would
// be; a row the batch itself inserted is found and rewritten with the same values.
template <typename Table, typename Column>
Status RowApplier<Table, Column>::OverwriteTaken(const std::string& target, const Table& table,
                                                 const std::vector<std::vector<Column>>& rows,
                                                 const std::vector<std::string>* arbiter,
                                                 const BatchInsertion& inserted) {
  if (arbiter == nullptr || inserted.skipped == 0) return Status::Ok();
  for (size_t index : inserted.maybe_skipped) {
    Result<RowOutcome> overwritten = Overwrite(table, rows[index], *arbiter, Insertion::KeyTaken(),
                                               RowOutcome::kInsertedOverExisting);
    if (!overwritten.ok()) return overwritten.status();
  }
  const bool same = !late_.empty() && late_.back().target == target &&
                    late_.back().outcome == RowOutcome::kInsertedOverExisting;
  if (same) {
    late_.back().rows += inserted.skipped;  // one report per table and transaction
  } else {
    late_.push_back({target, RowOutcome::kInsertedOverExisting, inserted.skipped});
  }
  return Status::Ok();
}

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::ApplyUpdate(const MappedRelation& relation,
                                                          const Table& target,
                                                          const wire::RowChange& change) {
  Result<std::vector<Column>> row = engine_->Bind(relation, target, change.new_values());
  if (!row.ok()) return row.status().WithContext("new image");
  Result<std::vector<Column>> match = MatchOf(relation, target, change);
  if (!match.ok()) return match.status();
  Result<uint64_t> updated =
      engine_->Update(target, *row, *match, MatchesWholeRow(relation, target.unique_indexes));
  if (!updated.ok()) return updated.status();
  if (*updated > 0) return RowOutcome::kApplied;
  // No row: the replica had diverged. Insert the source's row so the replica follows its
  // source; unless the source left values out (unchanged TOAST values): a row with defaults in
  // their place would be a row the source never had.
  for (const wire::Value& value : change.new_values()) {
    if (value.has_unchanged()) return RowOutcome::kUpdateMissingNotInserted;
  }
  return InsertRow(relation, target, *row, RowOutcome::kUpdateInsertedMissing,
                   RowOutcome::kUpdateInsertedMissing);
}

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::ApplyDelete(const MappedRelation& relation,
                                                          const Table& target,
                                                          const wire::RowChange& change) {
  if (change.old_values_size() == 0) {
    return Status::Error("the delete carries no old image: the change stream is malformed");
  }
  Result<std::vector<Column>> match = MatchOf(relation, target, change);
  if (!match.ok()) return match.status();
  Result<uint64_t> deleted =
      engine_->Delete(target, *match, MatchesWholeRow(relation, target.unique_indexes));
  if (!deleted.ok()) return deleted.status();
  return *deleted > 0 ? RowOutcome::kApplied : RowOutcome::kDeleteMissing;
}

// The values that find the row an update or delete refers to: from the old image when the
// source sent one (key change, or a full old image), else from the new image's key.
template <typename Table, typename Column>
Result<std::vector<Column>> RowApplier<Table, Column>::MatchOf(const MappedRelation& relation,
                                                               const Table& target,
                                                               const wire::RowChange& change) {
  // The apply agent refuses these rows already; checked again so that no sink path ever
  // builds a match from a key that is not there.
  if (!relation.has_key) return NoKeyError(relation);
  const bool has_old = change.old_values_size() > 0;
  Result<std::vector<Column>> image =
      engine_->Bind(relation, target, has_old ? change.old_values() : change.new_values());
  if (!image.ok()) return image.status().WithContext(has_old ? "old image" : "new image");
  std::vector<Column> match;
  if (MatchesWholeRow(relation, target.unique_indexes)) {
    // Every mapped column the source sent (unchanged ones were left out by Bind).
    match = std::move(image).value();
  } else {
    Result<std::vector<Column>> keys =
        Select(*image, MatchColumns(relation, target.unique_indexes));
    if (!keys.ok()) return keys.status();
    match = std::move(keys).value();
  }
  if (match.empty()) {
    return Status::Error(
        "the change carries no values to find its row by: the change stream is malformed");
  }
  return match;
}

template <typename Table, typename Column>
Result<uint64_t> RowApplier<Table, Column>::DeleteRange(const MappedRelation& relation,
                                                        const CopyRange& range) {
  const std::string name = relation.target_name();
  const std::string context = "apply to " + name + " (DELETE of a copied key range)";
  FERRY_RETURN_IF_ERROR(engine_->CheckOpen().WithContext(context));
  if (!engine_->InTransaction()) {
    return Status::Error(context + ": no transaction is open: call BeginCopyTransaction first");
  }
  FERRY_RETURN_IF_ERROR(Flush());  // rows inserted before the delete are in the range too
  Result<const Table*> target = Target(relation, name, TargetShape(relation));
  if (!target.ok()) return target.status().WithContext(context);
  auto bind = [&](const RowImage& image) {
    return BindKey(relation, **target, range.key_columns, image);
  };
  std::optional<std::vector<Column>> after, upto;
  std::vector<std::vector<Column>> keep;
  if (range.after) {
    Result<std::vector<Column>> key = bind(*range.after);
    if (!key.ok()) return key.status().WithContext(context + ": the range's start");
    after = std::move(key).value();
  }
  if (range.upto) {
    Result<std::vector<Column>> key = bind(*range.upto);
    if (!key.ok()) return key.status().WithContext(context + ": the range's end");
    upto = std::move(key).value();
  }
  for (const RowImage& image : range.keep) {
    Result<std::vector<Column>> key = bind(image);
    if (!key.ok()) return key.status().WithContext(context + ": a key kept");
    keep.push_back(std::move(key).value());
  }
  Result<uint64_t> deleted = engine_->DeleteRange(**target, after, upto, keep);
  if (!deleted.ok()) {
    tables_.erase(name);
    return deleted.status().WithContext(context);
  }
  return deleted;
}

template <typename Table, typename Column>
Result<std::vector<Column>> RowApplier<Table, Column>::BindKey(const MappedRelation& relation,
                                                               const Table& target,
                                                               const std::vector<int>& key_columns,
                                                               const RowImage& image) {
  Result<std::vector<Column>> bound = engine_->Bind(relation, target, image);
  if (!bound.ok()) return bound.status();
  std::vector<std::string> names;
  for (int index : key_columns) {
    auto mapped =
        std::find_if(relation.columns.begin(), relation.columns.end(),
                     [&](const MappedColumn& column) { return column.source_index == index; });
    if (mapped == relation.columns.end()) {
      return Status::Error("key column #" + std::to_string(index) +
                           " is not mapped onto the target: the change stream is malformed");
    }
    names.push_back(mapped->target_name);
  }
  return Select(*bound, names);
}

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::InsertRow(const MappedRelation& relation,
                                                        const Table& target,
                                                        const std::vector<Column>& row,
                                                        RowOutcome on_new, RowOutcome on_existing) {
  const std::optional<std::vector<std::string>> arbiter =
      ArbiterColumns(relation, target.unique_indexes);
  if (!arbiter && RequiresArbiter(relation)) return NoArbiterError(relation, target);
  // A full-image relation without any unique index on the target is a table that may hold
  // identical rows, and a relation without key has nothing to find an existing row by: a plain
  // INSERT, as the source did.
  return InsertOn(target, row, arbiter ? &*arbiter : nullptr, on_new, on_existing);
}

template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::InsertOn(const Table& target,
                                                       const std::vector<Column>& row,
                                                       const std::vector<std::string>* arbiter,
                                                       RowOutcome on_new, RowOutcome on_existing) {
  Result<Insertion> inserted = engine_->Insert(target, row, arbiter);
  if (!inserted.ok()) return inserted.status();
  if (arbiter == nullptr || inserted->kind == Insertion::Kind::kNew) return on_new;
  return Overwrite(target, row, *arbiter, *inserted, on_existing);
}

// The insert met an existing row: overwrite the row with the key with the source's row, as the
// replica follows its source.
template <typename Table, typename Column>
Result<RowOutcome> RowApplier<Table, Column>::Overwrite(const Table& target,
                                                        const std::vector<Column>& row,
                                                        const std::vector<std::string>& arbiter,
                                                        const Insertion& insertion,
                                                        RowOutcome on_existing) {
  Result<std::vector<Column>> match = Select(row, arbiter);
  if (!match.ok()) return match.status();
  std::vector<Column> set;
  for (const Column& column : row) {
    if (std::find(arbiter.begin(), arbiter.end(), column.name) == arbiter.end()) {
      set.push_back(column);
    }
  }
  const bool key_taken = insertion.kind == Insertion::Kind::kKeyTaken;
  // The row with the key is known to exist and the source's row has nothing else to set.
  if (key_taken && set.empty()) return on_existing;
  Result<uint64_t> updated = engine_->Update(target, set, *match, false);
  if (!updated.ok()) return updated.status();
  if (key_taken && *updated != 1) {
    return Status::Error("the existing row the insert met changed concurrently: retry");
  }
  // A refused insert and no row with the key: the INSERT clashed on another unique index, which
  // the source's row does not own. Report that, not a divergence on the key.
  if (!key_taken && *updated == 0) return insertion.refusal;
  return on_existing;
}

template <typename Table, typename Column>
Result<uint64_t> RowApplier<Table, Column>::InsertOneByOne(
    const Table& target, const std::vector<std::vector<Column>>& rows, size_t from,
    const std::vector<std::string>* arbiter) {
  uint64_t existing = 0;
  for (size_t i = from; i < rows.size(); ++i) {
    Result<Insertion> inserted = engine_->Insert(target, rows[i], arbiter);
    if (!inserted.ok()) return inserted.status();
    if (inserted->kind == Insertion::Kind::kNew) continue;
    Result<RowOutcome> overwritten =
        Overwrite(target, rows[i], *arbiter, *inserted, RowOutcome::kInsertedOverExisting);
    if (!overwritten.ok()) return overwritten.status();
    ++existing;
  }
  return existing;
}

template <typename Table, typename Column>
Status RowApplier<Table, Column>::NoArbiterError(const MappedRelation& relation,
                                                 const Table& target) const {
  std::string list;
  for (const std::string& key : MatchColumns(relation, target.unique_indexes)) {
    list += (list.empty() ? "" : ", ") + engine_->HintIdent(key);
  }
  const std::string table =
      engine_->HintIdent(target.schema) + "." + engine_->HintIdent(target.table);
  return Status::Error("target table " + target.name() +
                       " needs a primary key or unique index on (" + list +
                       "), the key of the source table: add one, e.g. ALTER TABLE " + table +
                       " ADD PRIMARY KEY (" + list + ")");
}

template <typename Column, typename Table, typename BindOne>
Result<std::vector<Column>> BindMapped(const MappedRelation& relation, const Table& target,
                                       const RowImage& image, BindOne bind) {
  FERRY_RETURN_IF_ERROR(CheckImageSize(relation, image.size()));
  std::vector<Column> bound;
  bound.reserve(relation.columns.size());
  for (const MappedColumn& column : relation.columns) {
    const wire::Value& value = image.Get(column.source_index);
    if (value.has_unchanged()) continue;
    const auto* target_column = target.Find(column.target_name);
    if (target_column == nullptr) return MissingTargetColumn(target.name(), column);
    Result<Column> one = bind(column, *target_column, value);
    if (!one.ok()) return one.status();
    bound.push_back(std::move(one).value());
  }
  return bound;
}

template <typename Table>
auto MappedTargetColumns(const MappedRelation& relation, const Table& target)
    -> Result<std::vector<decltype(target.Find(std::string()))>> {
  std::vector<decltype(target.Find(std::string()))> columns;
  columns.reserve(relation.columns.size());
  for (const MappedColumn& column : relation.columns) {
    const auto* target_column = target.Find(column.target_name);
    if (target_column == nullptr) return MissingTargetColumn(target.name(), column);
    columns.push_back(target_column);
  }
  return columns;
}

}  // namespace ferry::apply
