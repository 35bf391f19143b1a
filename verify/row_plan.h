// How the rows of one source table and its target table are compared: which target column holds
// which source column (the apply config's mapping: renames, excluded columns, type overrides),
// how a row's key on one side is found on the other, and which columns of a pair of rows differ.
// Pure: built from the two readers' Relations and the mapping, so it is unit-tested without
// servers.
// Invariant: every key column of either side is written from a mapped column of the other, so
// every row of either side can be looked up on the other by its key; Build fails (naming the
// fix) when the mapping and the two tables do not allow that.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apply/table_mapping.h"
#include "capture/table_reader.h"
#include "common/status.h"
#include "verify/canonical.h"

namespace ferry::verify {

using capture::Key;
using capture::KeyedRelation;
using capture::Row;

// One compared column: a source column and the target column apply writes it to.
struct ColumnPair {
  int source_index = 0;
  int target_index = 0;
  std::string source_name;
  std::string target_name;
  std::optional<wire::LogicalType> convert_to;  // the mapping's type override
  ColumnTraits source;
  ColumnTraits target;

  // "name", or "name->target_name" when the mapping renames the column.
  std::string Label() const;
};

class RowPlan {
 public:
  // Fails when the target lacks a mapped column, or a key column of either table is not written
  // from the other.
  static Result<RowPlan> Build(const apply::MappedRelation& mapped, const KeyedRelation& source,
                               Engine source_engine, const KeyedRelation& target,
                               Engine target_engine, bool zero_dates_as_null);

  // The key the target row apply wrote for `source_row` has, typed as the target's reader
  // types it. Fails for a row apply cannot write (a key value it refuses).
  Result<Key> TargetKeyOf(const Row& source_row) const;
  // The key of the source row that `target_row` was written from, typed as the source's reader
  // types it.
  Result<Key> SourceKeyOf(const Row& target_row) const;

  // One text per key value (canonical, see canonical.h), for matching rows across the sides.
  std::string TargetKeyText(const Key& target_key) const;
  std::string SourceKeyText(const Key& source_key) const;

  // The labels of the columns whose values differ; empty when the rows agree.
  std::vector<std::string> DifferingColumns(const Row& source_row, const Row& target_row) const;

  // "id=42", "a=1, b='x'": a key as reports show it.
  std::string DescribeSourceKey(const Key& source_key) const;
  std::string DescribeTargetKey(const Key& target_key) const;
  std::vector<std::string> SourceKeyNames() const;
  std::vector<std::string> TargetKeyNames() const;

  // The columns chunk checksums are computed over (verify/checksum.h), in pair order on each
  // side; nullopt unless both sides are one engine, every compared column has the same type on
  // both, no type override applies, the two keys are the same columns and order keys alike on
  // every server: only then are equal rows equal text inside both databases.
  struct ChecksumColumns {
    std::vector<int> source;
    std::vector<int> target;
  };
  std::optional<ChecksumColumns> ChecksumColumnsIfComparable() const;

  const std::vector<ColumnPair>& columns() const { return columns_; }

 private:
  RowPlan() = default;
  bool SameValue(const ColumnPair& pair, const Row& source_row, const Row& target_row) const;

  std::vector<ColumnPair> columns_;
  // For each column of the target's key, in its order: the pair that writes it.
  std::vector<size_t> target_key_pairs_;
  // For each column of the source's key, in its order: the pair that reads it.
  std::vector<size_t> source_key_pairs_;
};

}  // namespace ferry::verify
