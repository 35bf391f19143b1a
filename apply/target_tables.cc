#include "apply/target_tables.h"

#include "apply/table_creator.h"
#include "common/log.h"

namespace ferry::apply {

TargetTables::TargetTables(Sink& sink, bool create_tables, std::string upstream,
                           std::string source_engine)
    : sink_(sink),
      create_tables_(create_tables),
      upstream_(std::move(upstream)),
      source_engine_(std::move(source_engine)),
      log_(Logger("apply")) {}

Status TargetTables::Check(const MappedRelation& mapped) {
  std::string signature = mapped.target_name();
  for (const auto& column : mapped.columns) signature += "," + column.target_name;
  if (checked_.count(signature) != 0) return Status::Ok();
  auto columns = sink_.TargetColumns(mapped.target_schema, mapped.target_table);
  if (!columns.ok()) return columns.status();
  if (!columns->has_value() && create_tables_) {
    FERRY_RETURN_IF_ERROR(Create(mapped));
    columns = sink_.TargetColumns(mapped.target_schema, mapped.target_table);
    if (!columns.ok()) return columns.status();
  }
  std::string source = mapped.source.schema() + "." + mapped.source.table();
  if (!columns->has_value()) {
    return Status::Error("target table " + mapped.target_name() + " (for source table " + source +
                         ") does not exist: create it on the target, map " + source +
                         " to an existing table under `mappings:`, or set create_tables: true in "
                         "the apply config");
  }
  std::set<std::string> present((*columns)->begin(), (*columns)->end());
  for (const auto& column : mapped.columns) {
    if (present.count(column.target_name) == 0) {
      return Status::Error("target table " + mapped.target_name() + " has no column \"" +
                           column.target_name + "\" (source column " + source + "." +
                           column.source.name() + "): add the column on the target, rename it " +
                           "under the mapping's `columns:`, or list it under `exclude:`");
    }
  }
  checked_.insert(signature);
  return Status::Ok();
}

// create_tables: the table is created before anything is written to it, from the relation that
// precedes its first change or first copied chunk.
Status TargetTables::Create(const MappedRelation& mapped) {
  Result<SourceEngine> engine = SourceEngineFromName(source_engine_);
  if (!engine.ok()) return engine.status();
  const NewTable table = PlanNewTable(mapped, *engine);
  Result<std::vector<std::string>> ddl = sink_.CreateTable(table);
  if (!ddl.ok()) return ddl.status();
  if (!ddl->empty()) FERRY_RETURN_IF_ERROR(sink_.RecordTableCreated(upstream_, table.source_name));
  for (const std::string& sql : *ddl) {
    log_->info("upstream {}: create_tables: {} (for source table {}): {}", upstream_,
               table.target_name(), table.source_name, sql);
  }
  if (!ddl->empty() && table.primary_key.empty()) {
    log_->info(
        "upstream {}: create_tables: {} has no primary key: its source table has none, identifies "
        "rows by the whole row, or the mapping excludes part of its key; add one on the target if "
        "it should have one",
        upstream_, table.target_name());
  }
  return Status::Ok();
}

Result<bool> TargetTables::CreatedByFerry(const std::string& source_table) {
  Result<std::vector<CopyProgress>> copies = sink_.ReadCopyProgress(upstream_);
  if (!copies.ok()) return copies.status();
  for (const CopyProgress& copy : *copies) {
    if (copy.table == source_table) return copy.created_table;
  }
  return false;
}

// After a copy's rows, the indexes: built once over the loaded table rather than kept up row by
// row. The last chunk's rows still go in after them, which is what lets a crash before its commit
// simply repeat the idempotent statements when the chunk is sent again.
Status TargetTables::CreateIndexes(
    const MappedRelation& mapped,
    const google::protobuf::RepeatedPtrField<wire::SecondaryIndex>& indexes) {
  if (indexes.empty()) return Status::Ok();
  const std::string source = mapped.source.schema() + "." + mapped.source.table();
  Result<bool> created = CreatedByFerry(source);
  if (!created.ok()) return created.status();
  if (!*created) return Status::Ok();  // the user's table: its indexes are the user's
  Result<SourceEngine> engine = SourceEngineFromName(source_engine_);
  if (!engine.ok()) return engine.status();
  const NewTable table = PlanNewTable(mapped, *engine);
  PlannedIndexes planned = PlanNewIndexes(table, indexes);
  Result<IndexDdl> ddl = sink_.CreateIndexes(table, planned.indexes);
  if (!ddl.ok()) return ddl.status();
  for (const std::string& sql : ddl->run) {
    log_->info("upstream {}: create_tables: {} (for source table {}): {}", upstream_,
               table.target_name(), table.source_name, sql);
  }
  for (const auto* skipped : {&planned.not_created, &ddl->not_created}) {
    for (const std::string& why : *skipped) log_->info("upstream {}: {}", upstream_, why);
  }
  return Status::Ok();
}

}  // namespace ferry::apply
