// The bodies of conflict_applier.h's templates; include conflict_applier.h, not this file.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apply/conflict_applier.h"

namespace ferry::apply {
namespace conflict_detail {

// The target column names of `table`, in its order: the names of LocalRow's values.
template <typename Table>
std::vector<std::string> ColumnNames(const Table& table) {
  std::vector<std::string> names;
  for (const auto& column : table.columns) names.push_back(column.name);
  return names;
}

template <typename Column>
std::vector<std::string> NamesOf(const std::vector<Column>& columns) {
  std::vector<std::string> names;
  for (const Column& column : columns) names.push_back(column.name);
  return names;
}

template <typename Column>
const Column* Named(const std::vector<Column>& columns, const std::string& name) {
  for (const Column& column : columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

inline bool AllEqual(const LocalRow& local) {
  return std::all_of(local.equal.begin(), local.equal.end(), [](bool equal) { return equal; });
}

// A full old image holds every value, so an unchanged (TOASTed) value in the new image is the
// old one: filled in, the new row can be inserted or compared whole.
inline RowImage FilledNewImage(const MappedRelation& relation, const wire::RowChange& change) {
  RowImage image = change.new_values();
  if (!relation.full_old_image || change.old_values_size() != image.size()) return image;
  for (int i = 0; i < image.size(); ++i) {
    if (image.Get(i).has_unchanged() && !change.old_values(i).has_unchanged()) {
      *image.Mutable(i) = change.old_values(i);
    }
  }
  return image;
}

inline bool Complete(const RowImage& image) {
  return std::none_of(image.begin(), image.end(),
                      [](const wire::Value& value) { return value.has_unchanged(); });
}

// The mapped column whose target column is `name`.
inline const MappedColumn* MappedNamed(const MappedRelation& relation, const std::string& name) {
  for (const MappedColumn& column : relation.columns) {
    if (column.target_name == name) return &column;
  }
  return nullptr;
}

inline bool IsNull(const wire::Value& value) {
  return value.kind_case() == wire::Value::kNull || value.kind_case() == wire::Value::KIND_NOT_SET;
}

// The same columns, in any order.
inline bool SameColumns(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

// True when the update's new image holds another value than its old image for one of the key
// columns `key`: the row moves. Compared as sent (both images come from the same source, in
// the same types); an unchanged value keeps the key.
inline bool KeyChanged(const MappedRelation& relation, const wire::RowChange& source,
                       const RowImage& new_image, const std::vector<std::string>& key) {
  for (const std::string& name : key) {
    const MappedColumn* column = MappedNamed(relation, name);
    if (column == nullptr) continue;
    const int i = column->source_index;
    if (i >= source.old_values_size() || i >= new_image.size()) continue;
    if (new_image.Get(i).has_unchanged()) continue;
    if (new_image.Get(i).SerializeAsString() != source.old_values(i).SerializeAsString()) {
      return true;
    }
  }
  return false;
}

}  // namespace conflict_detail

template <typename Table, typename Column>
Result<std::vector<ConflictRecord>> ConflictApplier<Table, Column>::Apply(
    const MappedRelation& relation, const Table& target, const wire::RowChange& source,
    const ConflictContext& context) {
  if (MatchesWholeRow(relation, target.unique_indexes) || !relation.has_key) {
    return Status::Error(
        "master-master needs a primary key (or a unique index on NOT NULL "
        "columns) on target table " +
        target.name() +
        " to find the row a change concerns: add one, or replicate this "
        "table master-slave");
  }
  Change change;
  change.relation = &relation;
  change.target = &target;
  change.context = &context;
  change.match_columns = MatchColumns(relation, target.unique_indexes);
  change.arbiter = ArbiterColumns(relation, target.unique_indexes).value_or(change.match_columns);
  const bool has_old = source.old_values_size() > 0;
  // Checked before binding, which would otherwise fail first with a less telling error (a delete
  // without old image has no value for the key).
  if (source.op() != wire::RowChange::INSERT && source.op() != wire::RowChange::UPDATE &&
      source.op() != wire::RowChange::DELETE) {
    return Status::Error("unsupported operation " + std::to_string(static_cast<int>(source.op())) +
                         ": the change stream is malformed");
  }
  if (source.op() == wire::RowChange::DELETE && !has_old) {
    return Status::Error("the delete carries no old image: the change stream is malformed");
  }
  if (has_old) {
    Result<Rows> old_row = engine_->Bind(relation, target, source.old_values());
    if (!old_row.ok()) return old_row.status().WithContext("old image");
    change.old_row = std::move(old_row).value();
  }
  if (source.op() != wire::RowChange::DELETE) {
    change.new_image = conflict_detail::FilledNewImage(relation, source);
    Result<Rows> new_row = engine_->Bind(relation, target, change.new_image);
    if (!new_row.ok()) return new_row.status().WithContext("new image");
    change.new_row = std::move(new_row).value();
  }
  Result<Rows> match = Select(has_old ? change.old_row : change.new_row, change.match_columns);
  if (!match.ok()) return match.status();
  change.match = std::move(match).value();
  change.key_changed =
      source.op() == wire::RowChange::UPDATE && has_old &&
      conflict_detail::KeyChanged(relation, source, change.new_image, change.match_columns);
  switch (source.op()) {
    case wire::RowChange::INSERT:
      return ApplyInsert(change, source);
    case wire::RowChange::UPDATE:
      return ApplyUpdate(change, source);
    case wire::RowChange::DELETE:
      return ApplyDelete(change, source);
    default:
      return Status::Error("unsupported operation " +
                           std::to_string(static_cast<int>(source.op())) +
                           ": the change stream is malformed");  // checked above
  }
}

template <typename Table, typename Column>
Result<std::vector<ConflictRecord>> ConflictApplier<Table, Column>::ApplyInsert(
    Change& change, const wire::RowChange& source) {
  const Table& target = *change.target;
  const conflict::ConflictType type = conflict::ConflictType::kInsertExists;
  const conflict::Resolver& resolver = change.context->policy->For(target.name(), type);
  Result<std::optional<LocalRow>> local =
      engine_->ReadLocal(target, change.match, change.new_row, OrderValue(change, resolver));
  if (!local.ok()) return local.status();
  if (!local->has_value()) {
    std::optional<ConflictRecord> none;
    return WriteClear(change, source, nullptr, none, [&]() -> Status {
      Result<Insertion> inserted = engine_->Insert(target, change.new_row, &change.arbiter);
      if (!inserted.ok()) return inserted.status();
      if (inserted->kind == Insertion::Kind::kRefused) return inserted->refusal;
      if (inserted->kind != Insertion::Kind::kNew) {
        return Status::Error(
            "a row with the key was inserted concurrently on the target: retrying");
      }
      return Status::Ok();
    });
  }
  // The same row is there already (e.g. copied both ways): nothing to decide.
  if (conflict_detail::AllEqual(**local)) return Found();
  conflict::ConflictFacts facts =
      Facts(change, type, *local, conflict_detail::NamesOf(change.new_row));
  facts.remote_changed.clear();
  for (const Column& column : change.new_row) facts.remote_changed.insert(column.name);
  const conflict::Decision decision = conflict::Resolve(resolver, facts);
  std::optional<ConflictRecord> record = Record(change, source, type, *local, resolver, decision);
  if (decision.outcome == conflict::Outcome::kAppliedRemote) {
    return WriteClear(change, source, nullptr, record, [&]() -> Status {
      Rows set;
      for (const Column& column : change.new_row) {
        if (std::find(change.match_columns.begin(), change.match_columns.end(), column.name) ==
            change.match_columns.end()) {
          set.push_back(column);
        }
      }
      if (set.empty()) return Status::Ok();
      return engine_->Update(target, set, change.match, false).status();
    });
  }
  if (decision.outcome == conflict::Outcome::kMerged) {
    return WriteClear(change, source, &decision.take_remote, record, [&]() -> Status {
      FERRY_RETURN_IF_ERROR(Merge(change, resolver, decision));
      Result<std::optional<std::string>> final_row = FinalRow(change);
      if (!final_row.ok()) return final_row.status();
      record->final_row = std::move(final_row).value();
      return Status::Ok();
    });
  }
  return Found{std::move(*record)};
}

template <typename Table, typename Column>
Result<std::vector<ConflictRecord>> ConflictApplier<Table, Column>::ApplyUpdate(
    Change& change, const wire::RowChange& source) {
  const Table& target = *change.target;
  // The source's old image compared with the row: all of it when it is whole, else only the
  // key, which cannot differ (a table without a full old image has no update_differs).
  const Rows compare = change.relation->full_old_image ? change.old_row : Rows();
  const conflict::Resolver& differs =
      change.context->policy->For(target.name(), conflict::ConflictType::kUpdateDiffers);
  Result<std::optional<LocalRow>> local =
      engine_->ReadLocal(target, change.match, compare, OrderValue(change, differs));
  if (!local.ok()) return local.status();
  if (!local->has_value()) {
    const conflict::ConflictType type = conflict::ConflictType::kUpdateMissing;
    const conflict::Resolver& resolver = change.context->policy->For(target.name(), type);
    conflict::ConflictFacts facts = Facts(change, type, std::nullopt, {});
    facts.remote_complete = conflict_detail::Complete(change.new_image);
    const conflict::Decision decision = conflict::Resolve(resolver, facts);
    std::optional<ConflictRecord> record =
        Record(change, source, type, std::nullopt, resolver, decision);
    if (decision.outcome != conflict::Outcome::kAppliedRemote) return Found{std::move(*record)};
    return WriteClear(change, source, nullptr, record, [&]() -> Status {
      Result<Insertion> inserted = engine_->Insert(target, change.new_row, &change.arbiter);
      if (!inserted.ok()) return inserted.status();
      if (inserted->kind == Insertion::Kind::kRefused) return inserted->refusal;
      // Not applied, so not to be recorded as applied: the row stays as another change left it.
      if (inserted->kind == Insertion::Kind::kKeyTaken) {
        return Status::Error(
            "the row the update would insert meets a row with its key on the target (a row was "
            "inserted concurrently): nothing was written");
      }
      return Status::Ok();
    });
  }
  if (conflict_detail::AllEqual(**local)) {
    std::optional<ConflictRecord> none;
    return WriteClear(change, source, nullptr, none, [&]() -> Status {
      return engine_->Update(target, change.new_row, change.match, false).status();
    });
  }
  const conflict::ConflictType type = conflict::ConflictType::kUpdateDiffers;
  conflict::ConflictFacts facts = Facts(change, type, *local, conflict_detail::NamesOf(compare));
  for (const MappedColumn& column : change.relation->columns) {
    const int i = column.source_index;
    if (i >= source.old_values_size() || i >= change.new_image.size()) continue;
    if (change.new_image.Get(i).SerializeAsString() != source.old_values(i).SerializeAsString()) {
      facts.remote_changed.insert(column.target_name);
    }
  }
  const conflict::Decision decision = conflict::Resolve(differs, facts);
  std::optional<ConflictRecord> record = Record(change, source, type, *local, differs, decision);
  if (decision.outcome == conflict::Outcome::kAppliedRemote) {
    return WriteClear(change, source, nullptr, record, [&]() -> Status {
      return engine_->Update(target, change.new_row, change.match, false).status();
    });
  }
  if (decision.outcome == conflict::Outcome::kMerged) {
    return WriteClear(change, source, &decision.take_remote, record, [&]() -> Status {
      FERRY_RETURN_IF_ERROR(Merge(change, differs, decision));
      Result<std::optional<std::string>> final_row = FinalRow(change);
      if (!final_row.ok()) return final_row.status();
      record->final_row = std::move(final_row).value();
      return Status::Ok();
    });
  }
  return Found{std::move(*record)};
}

template <typename Table, typename Column>
template <typename Write>
Result<std::vector<ConflictRecord>> ConflictApplier<Table, Column>::WriteClear(
    const Change& change, const wire::RowChange& source, const std::set<std::string>* written,
    std::optional<ConflictRecord>& own, Write write) {
  Result<Way> way = ClearTheWay(change, source, written);
  if (!way.ok()) return way.status();
  if (!way->clear) {
    // An update whose row lost to a row in its way: on the node it came from, that row reached
    // the updated row and replaced it (insert_exists) or deleted it (unique_exists), so the
    // updated row goes here too, or the nodes would end with different rows.
    const bool lost = way->change_lost && source.op() == wire::RowChange::UPDATE;
    if (lost) FERRY_RETURN_IF_ERROR(engine_->Delete(*change.target, change.match, false).status());
    return Blocked(std::move(*way), std::move(own), lost);
  }
  FERRY_RETURN_IF_ERROR(write());
  return Cleared(std::move(*way), std::move(own));
}

template <typename Table, typename Column>
Result<typename ConflictApplier<Table, Column>::Way> ConflictApplier<Table, Column>::ClearTheWay(
    const Change& change, const wire::RowChange& source, const std::set<std::string>* written) {
  Result<std::vector<InTheWay>> rows = RowsInTheWay(change, written);
  if (!rows.ok()) return rows.status();
  Way way;
  for (const InTheWay& row : *rows) {
    const conflict::Resolver& resolver =
        change.context->policy->For(change.target->name(), row.type);
    const conflict::Decision decision =
        conflict::Resolve(resolver, Facts(change, row.type, row.row, {}));
    way.records.push_back(Record(change, source, row.type, row.row, resolver, decision));
    // Deleting some rows in the way and not writing the change would lose them for nothing.
    if (decision.outcome == conflict::Outcome::kAppliedRemote) continue;
    way.clear = false;
    if (decision.outcome != conflict::Outcome::kKeptLocal ||
        !conflict::PicksAWinner(resolver.kind)) {
      way.change_lost = false;
    }
  }
  if (!way.clear) return way;
  for (const InTheWay& row : *rows) {
    FERRY_RETURN_IF_ERROR(engine_->Delete(*change.target, row.match, false).status());
  }
  return way;
}

template <typename Table, typename Column>
Result<std::vector<typename ConflictApplier<Table, Column>::InTheWay>>
ConflictApplier<Table, Column>::RowsInTheWay(const Change& change,
                                             const std::set<std::string>* written) {
  std::vector<InTheWay> found;
  // A write that takes only some of the new row's columns (a merge) changes only those.
  auto writes_all = [&](const std::vector<std::string>& columns) {
    return written == nullptr ||
           std::all_of(columns.begin(), columns.end(),
                       [&](const std::string& name) { return written->contains(name); });
  };
  if (change.key_changed && writes_all(change.match_columns) &&
      HasValues(change, change.match_columns)) {
    Result<Rows> new_key = Select(change.new_row, change.match_columns);
    if (new_key.ok()) {
      FERRY_RETURN_IF_ERROR(FindInTheWay(change, conflict::ConflictType::kUpdateExists,
                                         std::move(new_key).value(), found));
    }
  }
  for (const UniqueIndex& index : change.target->unique_indexes) {
    // The key's own index finds the changed row (insert_exists, or update_exists above).
    if (conflict_detail::SameColumns(index.columns, change.match_columns)) continue;
    // A merge that leaves some of the index's columns as they are: what the row then holds
    // there is not the new row's values (left out, as a merge of a unique column is unusual).
    if (!writes_all(index.columns) || !HasValues(change, index.columns)) continue;
    Result<Rows> match = Select(change.new_row, index.columns);
    if (!match.ok()) continue;  // checked by HasValues
    FERRY_RETURN_IF_ERROR(FindInTheWay(change, conflict::ConflictType::kUniqueExists,
                                       std::move(match).value(), found));
  }
  return found;
}

template <typename Table, typename Column>
Status ConflictApplier<Table, Column>::FindInTheWay(const Change& change,
                                                    conflict::ConflictType type, Rows match,
                                                    std::vector<InTheWay>& found) {
  const conflict::Resolver& resolver = change.context->policy->For(change.target->name(), type);
  // Compared with the changed row's key, in the target's types: equal, it is the changed row.
  Result<std::optional<LocalRow>> row =
      engine_->ReadLocal(*change.target, match, change.match, OrderValue(change, resolver));
  if (!row.ok()) return row.status();
  if (!row->has_value() || conflict_detail::AllEqual(**row)) return Status::Ok();
  // One row may hold several of the values (the key and a unique value): resolved once.
  for (const InTheWay& other : found) {
    if (other.row.values == (*row)->values) return Status::Ok();
  }
  found.push_back(InTheWay{type, std::move(match), std::move(**row)});
  return Status::Ok();
}

template <typename Table, typename Column>
bool ConflictApplier<Table, Column>::HasValues(const Change& change,
                                               const std::vector<std::string>& columns) const {
  for (const std::string& name : columns) {
    if (conflict_detail::Named(change.new_row, name) == nullptr) return false;
    const MappedColumn* mapped = conflict_detail::MappedNamed(*change.relation, name);
    if (mapped == nullptr || mapped->source_index >= change.new_image.size()) return false;
    if (conflict_detail::IsNull(change.new_image.Get(mapped->source_index))) return false;
  }
  return true;
}

template <typename Table, typename Column>
std::vector<ConflictRecord> ConflictApplier<Table, Column>::Blocked(
    Way way, std::optional<ConflictRecord> own, bool row_deleted) {
  Found records = std::move(way.records);
  if (row_deleted) {
    for (ConflictRecord& record : records) {
      record.reason += "; the row the change updated lost to it and was deleted";
    }
  }
  if (own) records.push_back(std::move(*own));
  for (ConflictRecord& record : records) {
    if (record.outcome != conflict::Outcome::kAppliedRemote &&
        record.outcome != conflict::Outcome::kMerged) {
      continue;
    }
    record.outcome = conflict::Outcome::kKeptLocal;
    if (row_deleted) {
      record.reason += "; the change lost to a row in its way: the row it updated was deleted";
      record.final_row.reset();
    } else {
      record.reason += "; the change was dropped: a row in its way stays";
      record.final_row = record.local;
    }
  }
  return records;
}

template <typename Table, typename Column>
std::vector<ConflictRecord> ConflictApplier<Table, Column>::Cleared(
    Way way, std::optional<ConflictRecord> own) {
  Found records = std::move(way.records);
  if (own) {
    // The rows in the way are gone; the changed row is what the change's own conflict left.
    for (ConflictRecord& record : records) record.final_row = own->final_row;
    records.push_back(std::move(*own));
  }
  return records;
}

template <typename Table, typename Column>
Result<std::vector<ConflictRecord>> ConflictApplier<Table, Column>::ApplyDelete(
    Change& change, const wire::RowChange& source) {
  const Table& target = *change.target;
  const Rows compare = change.relation->full_old_image ? change.old_row : Rows();
  Result<std::optional<LocalRow>> local =
      engine_->ReadLocal(target, change.match, compare, nullptr);
  if (!local.ok()) return local.status();
  if (local->has_value() && conflict_detail::AllEqual(**local)) {
    FERRY_RETURN_IF_ERROR(engine_->Delete(target, change.match, false).status());
    return Found();
  }
  const conflict::ConflictType type = local->has_value() ? conflict::ConflictType::kDeleteDiffers
                                                         : conflict::ConflictType::kDeleteMissing;
  const conflict::Resolver& resolver = change.context->policy->For(target.name(), type);
  const conflict::ConflictFacts facts =
      Facts(change, type, *local, conflict_detail::NamesOf(compare));
  const conflict::Decision decision = conflict::Resolve(resolver, facts);
  ConflictRecord record = Record(change, source, type, *local, resolver, decision);
  if (type == conflict::ConflictType::kDeleteDiffers &&
      decision.outcome == conflict::Outcome::kAppliedRemote) {
    FERRY_RETURN_IF_ERROR(engine_->Delete(target, change.match, false).status());
  }
  return Found{std::move(record)};
}

template <typename Table, typename Column>
conflict::ConflictFacts ConflictApplier<Table, Column>::Facts(
    const Change& change, conflict::ConflictType type, const std::optional<LocalRow>& local,
    const std::vector<std::string>& compared) const {
  conflict::ConflictFacts facts;
  facts.type = type;
  facts.local_node = change.context->local_node;
  facts.remote_origin = change.context->origin;
  if (local) {
    facts.remote_vs_local = local->order;
    for (size_t i = 0; i < compared.size() && i < local->equal.size(); ++i) {
      if (!local->equal[i]) facts.local_changed.insert(compared[i]);
    }
  }
  return facts;
}

template <typename Table, typename Column>
const Column* ConflictApplier<Table, Column>::OrderValue(const Change& change,
                                                         const conflict::Resolver& resolver) const {
  switch (resolver.kind) {
    case conflict::ResolverKind::kLastWriterWins:
    case conflict::ResolverKind::kMax:
    case conflict::ResolverKind::kMin:
      return conflict_detail::Named(change.new_row, resolver.column);
    default:
      return nullptr;
  }
}

template <typename Table, typename Column>
Status ConflictApplier<Table, Column>::Merge(const Change& change,
                                             const conflict::Resolver& resolver,
                                             const conflict::Decision& decision) {
  Rows set;
  std::vector<DeltaTerm<Column>> deltas;
  for (const Column& column : change.new_row) {
    const bool counter = std::find(resolver.columns.begin(), resolver.columns.end(), column.name) !=
                         resolver.columns.end();
    if (counter) {
      const Column* old = conflict_detail::Named(change.old_row, column.name);
      deltas.push_back({column, old ? std::optional<Column>(*old) : std::nullopt});
    } else if (decision.take_remote.contains(column.name)) {
      set.push_back(column);
    }
  }
  if (set.empty() && deltas.empty()) return Status::Ok();
  return engine_->UpdateMerged(*change.target, set, deltas, change.match).status();
}

template <typename Table, typename Column>
Result<std::optional<std::string>> ConflictApplier<Table, Column>::FinalRow(const Change& change) {
  // The key may have changed with the merge's columns; the new row's key finds it then.
  Result<Rows> match = Select(change.new_row, change.match_columns);
  Result<std::optional<LocalRow>> row =
      engine_->ReadLocal(*change.target, match.ok() ? *match : change.match, {}, nullptr);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(
      TextRowJson(conflict_detail::ColumnNames(*change.target), (*row)->values));
}

template <typename Table, typename Column>
ConflictRecord ConflictApplier<Table, Column>::Record(const Change& change,
                                                      const wire::RowChange& source,
                                                      conflict::ConflictType type,
                                                      const std::optional<LocalRow>& local,
                                                      const conflict::Resolver& resolver,
                                                      const conflict::Decision& decision) const {
  const ConflictContext& context = *change.context;
  const MappedRelation& relation = *change.relation;
  ConflictRecord record;
  record.upstream = context.upstream;
  record.origin = context.origin;
  record.position = context.position;
  record.remote_commit_us = context.commit_time_us;
  record.table = change.target->name();
  record.type = type;
  const bool has_old = source.old_values_size() > 0;
  record.key =
      ImageJson(relation, has_old ? source.old_values() : change.new_image, &change.arbiter);
  if (has_old) record.remote_old = ImageJson(relation, source.old_values());
  if (source.op() != wire::RowChange::DELETE)
    record.remote_new = ImageJson(relation, change.new_image);
  if (local)
    record.local = TextRowJson(conflict_detail::ColumnNames(*change.target), local->values);
  record.resolver = conflict::Describe(resolver);
  record.outcome = decision.outcome;
  record.reason = decision.reason;
  const bool applied = decision.outcome == conflict::Outcome::kAppliedRemote;
  if (applied && source.op() == wire::RowChange::DELETE) {
    record.final_row = std::nullopt;
  } else if (applied && type != conflict::ConflictType::kDeleteMissing) {
    record.final_row = record.remote_new;
  } else {
    record.final_row = record.local;
  }
  return record;
}

}  // namespace ferry::apply
