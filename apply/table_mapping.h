// Maps source relations onto target tables: table renames, column renames, excluded columns and
// column type overrides from the apply config. Engine-neutral; every sink receives MappedRelations.
// Invariant: a MappedRelation's columns refer to source positions that exist in the relation,
// and every key column of the source survives the mapping (or Map fails with the fix).
// A relation without key columns (no primary key, REPLICA IDENTITY DEFAULT or NOTHING) maps
// too: PostgreSQL refuses UPDATE and DELETE on such a published table, so only INSERT and
// TRUNCATE can arrive for it, and those need no key. An UPDATE or DELETE that does arrive is
// refused at row time with NoKeyError.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apply/target_allow_list.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply {

// One `mappings:` entry of the apply config.
struct MappingRule {
  std::string source;                          // "schema.table"
  std::string target;                          // "schema.table"; empty = same as source
  std::map<std::string, std::string> renames;  // source column -> target column
  std::set<std::string> exclude;               // source columns not written to the target
  // source column -> override type (apply/type_override.h): its values are converted first
  std::map<std::string, wire::LogicalType> types;
};

struct MappedColumn {
  int source_index = 0;  // index into the RowChange value lists
  std::string target_name;
  bool key = false;
  // The source column; its `type` is the override type when the mapping has one.
  wire::Column source;
  // Set when the mapping overrides the column's type: values are converted to it before the
  // sink sees them.
  std::optional<wire::LogicalType> convert_to;
};

struct MappedRelation {
  std::string target_schema;
  std::string target_table;
  std::vector<MappedColumn> columns;  // in source order, excluded columns left out
  bool full_old_image = false;
  // At least one mapped column is a key column. False only when the source flagged no key.
  bool has_key = false;
  // Some column has a type override (see MappedColumn::convert_to).
  bool converts = false;
  wire::Relation source;

  std::string target_name() const { return target_schema + "." + target_table; }
};

// The error for an UPDATE or DELETE on a relation without key columns, with the fix on the
// source: such a row cannot be found on the target.
Status NoKeyError(const MappedRelation& relation);

// Splits "schema.table" (no schema = "public").
std::pair<std::string, std::string> SplitQualifiedName(const std::string& name);

class TableMapper {
 public:
  // `allowed_tables`: the apply config's `tables:` (apply/target_allow_list.h); the rules'
  // targets are allowed too. `target_engine` says which system schemas are reserved.
  explicit TableMapper(std::vector<MappingRule> rules = {},
                       const std::vector<std::string>& allowed_tables = {},
                       const std::string& target_engine = "");

  // The target of `relation`: its rule if one names it, else the same schema and table.
  // Fails when a rule excludes a key column (or every column of a full image), or when the
  // target is not a table the stream may write.
  Result<MappedRelation> Map(const wire::Relation& relation) const;

  const std::vector<MappingRule>& rules() const { return rules_; }
  const TargetAllowList& allowed() const { return allowed_; }

 private:
  std::vector<MappingRule> rules_;
  TargetAllowList allowed_;
};

}  // namespace ferry::apply
