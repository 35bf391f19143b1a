// Making sure a mapped relation's target table is there before anything is written to it: the
// table exists (or, with the apply config's create_tables, is created from the relation) and has
// every mapped column. A column the target lacks would fail on the first row anyway; failing on
// the relation names the fix instead of an SQL error.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "apply/sink.h"
#include "apply/table_mapping.h"
#include "common/status.h"

namespace spdlog {
class logger;
}

namespace ferry::apply {

// Checks target tables through one sink, each mapped shape once (the sink's connection sees the
// tables it created; another connection may not yet). Used from the sink's one thread.
class TargetTables {
 public:
  // `upstream` names the stream in logs; `source_engine` is the capture agent's
  // (Welcome.engine), which decides the types of a created table.
  TargetTables(Sink& sink, bool create_tables, std::string upstream, std::string source_engine);

  // Ok once `mapped`'s target table exists with every mapped column; the error names the fix.
  // A table it creates is recorded as created (Sink::RecordTableCreated) in the open transaction.
  Status Check(const MappedRelation& mapped);

  // The source's secondary indexes (a copy's last chunk), created on `mapped`'s target table when
  // create_tables created it, never on a table of the user's; what is not created is logged.
  Status CreateIndexes(const MappedRelation& mapped,
                       const google::protobuf::RepeatedPtrField<wire::SecondaryIndex>& indexes);

 private:
  Result<bool> CreatedByFerry(const std::string& source_table);
  Status Create(const MappedRelation& mapped);

  Sink& sink_;
  const bool create_tables_;
  const std::string upstream_;
  const std::string source_engine_;
  std::shared_ptr<spdlog::logger> log_;
  std::set<std::string> checked_;  // target name and mapped column names
};

}  // namespace ferry::apply
