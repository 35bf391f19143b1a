// The bodies of conflict_applier.h's templates; include conflict_applier.h, not this file.
#pragma once

#include <algorithm>
#include <utility>

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

}  // namespace conflict_detail

template <typename Table, typename Column>
Result<std::optional<ConflictRecord>> ConflictApplier<Table, Column>::Apply(
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
Result<std::optional<ConflictRecord>> ConflictApplier<Table, Column>::ApplyInsert(
    Change& change, const wire::RowChange& source) {
  const Table& target = *change.target;
  const conflict::ConflictType type = conflict::ConflictType::kInsertExists;
  const conflict::Resolver& resolver = change.context->policy->For(target.name(), type);
  Result<std::optional<LocalRow>> local =
      engine_->ReadLocal(target, change.match, change.new_row, OrderValue(change, resolver));
  if (!local.ok()) return local.status();
  if (!local->has_value()) {
    Result<Insertion> inserted = engine_->Insert(target, change.new_row, &change.arbiter);
    if (!inserted.ok()) return inserted.status();
    if (inserted->kind == Insertion::Kind::kRefused) return inserted->refusal;
    if (inserted->kind != Insertion::Kind::kNew) {
      return Status::Error("a row with the key was inserted concurrently on the target: retrying");
    }
    return Found();
  }
  // The same row is there already (e.g. copied both ways): nothing to decide.
  if (conflict_detail::AllEqual(**local)) return Found();
  conflict::ConflictFacts facts =
      Facts(change, type, *local, conflict_detail::NamesOf(change.new_row));
  facts.remote_changed.clear();
  for (const Column& column : change.new_row) facts.remote_changed.insert(column.name);
  const conflict::Decision decision = conflict::Resolve(resolver, facts);
  ConflictRecord record = Record(change, source, type, *local, resolver, decision);
  if (decision.outcome == conflict::Outcome::kAppliedRemote) {
    Rows set;
    for (const Column& column : change.new_row) {
      if (std::find(change.match_columns.begin(), change.match_columns.end(), column.name) ==
          change.match_columns.end()) {
        set.push_back(column);
      }
    }
    if (!set.empty())
      FERRY_RETURN_IF_ERROR(engine_->Update(target, set, change.match, false).status());
  } else if (decision.outcome == conflict::Outcome::kMerged) {
    FERRY_RETURN_IF_ERROR(Merge(change, resolver, decision));
    Result<std::optional<std::string>> final_row = FinalRow(change);
    if (!final_row.ok()) return final_row.status();
    record.final_row = std::move(final_row).value();
  }
  return Found(std::move(record));
}

template <typename Table, typename Column>
Result<std::optional<ConflictRecord>> ConflictApplier<Table, Column>::ApplyUpdate(
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
    ConflictRecord record = Record(change, source, type, std::nullopt, resolver, decision);
    if (decision.outcome == conflict::Outcome::kAppliedRemote) {
      Result<Insertion> inserted = engine_->Insert(target, change.new_row, &change.arbiter);
      if (!inserted.ok()) return inserted.status();
      if (inserted->kind == Insertion::Kind::kRefused) return inserted->refusal;
      // Not applied, so not to be recorded as applied: the row stays as another change left it.
      if (inserted->kind == Insertion::Kind::kKeyTaken) {
        return Status::Error(
            "the row the update would insert meets a row with its key on the target (the update "
            "moved the row to a key another row holds, or a row was inserted concurrently): "
            "nothing was written");
      }
    }
    return Found(std::move(record));
  }
  if (conflict_detail::AllEqual(**local)) {
    Result<uint64_t> updated = engine_->Update(target, change.new_row, change.match, false);
    if (!updated.ok()) return updated.status();
    return Found();
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
  ConflictRecord record = Record(change, source, type, *local, differs, decision);
  if (decision.outcome == conflict::Outcome::kAppliedRemote) {
    FERRY_RETURN_IF_ERROR(engine_->Update(target, change.new_row, change.match, false).status());
  } else if (decision.outcome == conflict::Outcome::kMerged) {
    FERRY_RETURN_IF_ERROR(Merge(change, differs, decision));
    Result<std::optional<std::string>> final_row = FinalRow(change);
    if (!final_row.ok()) return final_row.status();
    record.final_row = std::move(final_row).value();
  }
  return Found(std::move(record));
}

template <typename Table, typename Column>
Result<std::optional<ConflictRecord>> ConflictApplier<Table, Column>::ApplyDelete(
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
  return Found(std::move(record));
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
