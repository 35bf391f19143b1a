// Small engine-neutral texts the sinks build: names and errors, statement-cache keys and
// timestamps.
#pragma once

#include <cstdint>
#include <string>

#include "apply/table_mapping.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply {

// "INSERT", "UPDATE", "DELETE", "TRUNCATE" ("UNKNOWN" otherwise), for error contexts.
const char* OpName(wire::RowChange::Op op);

// The mapped target columns of a relation, in order, with their key flags: the cache key of what
// a sink read about the target table for it.
std::string TargetShape(const MappedRelation& relation);

// Fails when a source transaction cannot begin: one is open already (`in_transaction`), or its
// Begin carries no position to record as the checkpoint.
Status CheckBegin(const std::string& upstream, const wire::Begin& begin, bool in_transaction);

// Fails when a source transaction cannot join the open target transaction
// (Sink::ContinueTransaction): none is open, or its Begin carries no position.
Status CheckContinue(const std::string& upstream, const wire::Begin& begin, bool in_transaction);

// The checkpoint a group of source transactions commits with (Sink::ContinueTransaction): the
// last one's. Written just before COMMIT, so a group pays one checkpoint write, not one per
// transaction.
struct GroupCheckpoint {
  std::string upstream;
  wire::Begin begin;
};

// Fails when a row image does not hold one value per column of the relation's source table.
Status CheckImageSize(const MappedRelation& relation, int values);

// The error for a mapped column the target table `target` lacks.
Status MissingTargetColumn(const std::string& target, const MappedColumn& column);

// "2024-02-29 11:45:10.123456" for microseconds since the Unix epoch (UTC).
std::string EpochMicrosText(int64_t micros);

}  // namespace ferry::apply
