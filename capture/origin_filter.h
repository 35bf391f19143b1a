// Loop prevention for master-master topologies (ARCHITECTURE.md, "Origins and loop prevention").
//
// Every target transaction an apply agent writes starts with an upsert of its checkpoint row in
// ferry_meta.checkpoints, whose `origin` column names the node where the transaction was first
// written and `origin_commit_us` its commit time there; a copy chunk's transaction starts with
// an upsert of its table's ferry_meta.copy_progress row, whose `origin` names the node the rows
// were copied from (no commit time: copied rows have none). When that node's database is also a
// source, its change stream carries those rows, and OriginFilter reads them as origin markers:
//  - a transaction whose first change is a marker came from another node: its Begin is tagged
//    with the marker's origin and original commit time, and it is dropped when it originated at
//    the subscriber (it would go back where it was made) or, without `forward_remote`, at any
//    other node (a full mesh, where every node hears every other directly);
//  - rows of Ferry's own schema (ferry_meta) are never forwarded, and a transaction left with
//    no rows is not sent at all (so two idle nodes send each other nothing);
//  - a transaction without a marker first is a local one and goes out untouched.
// The decision is made at the transaction's first change, so nothing is buffered but its Begin.
// Engine-neutral: it sees only change records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capture/source.h"

namespace ferry::capture {

inline constexpr const char* kFerrySchema = "ferry_meta";
inline constexpr const char* kOriginMarkerTable = "checkpoints";
// A copy chunk's marker: a first change here marks the transaction only when it names an origin
// (progress an older apply agent wrote names none).
inline constexpr const char* kCopyMarkerTable = "copy_progress";

struct OriginFilterOptions {
  std::string subscriber;      // the apply agent's node name, as it names itself in Hello
  bool forward_remote = true;  // forward transactions that came from a third node (a ring)
};

class OriginFilter {
 public:
  explicit OriginFilter(OriginFilterOptions options) : options_(std::move(options)) {}

  // Takes the source's next event and returns what to send in its place, in order: nothing
  // (held back or dropped), the event, or held events followed by it.
  std::vector<SourceEvent> Take(SourceEvent event);

  // Between a source Begin and its Commit, whether or not anything of it was sent.
  bool in_transaction() const { return in_transaction_; }
  // Transactions dropped because of their origin, since construction.
  uint64_t filtered_transactions() const { return filtered_transactions_; }

 private:
  enum class Decision { kUndecided, kForward, kDrop };

  void TakeRelation(wire::Relation relation, std::vector<SourceEvent>& out);
  void TakeRow(wire::RowChange row, std::vector<SourceEvent>& out);
  void TakeCommit(wire::Commit commit, std::vector<SourceEvent>& out);

  // Where a ferry_meta relation's marker columns sit: -1 when absent (an older apply agent's
  // table lacks origin_commit_us, or copy_progress.origin).
  struct MetaRelation {
    bool marker = false;        // a marker table (checkpoints or copy_progress)
    bool needs_origin = false;  // a row without origin is no marker (copy_progress)
    int origin = -1;
    int origin_commit_us = -1;
  };
  static MetaRelation DescribeMeta(const wire::Relation& relation);
  // Reads a marker row: the origin it names, and tags the held Begin.
  void ReadMarker(const wire::RowChange& row, const MetaRelation& meta);
  // Sends the held Begin and every relation a dropped transaction described, before `out`'s
  // next change.
  void Release(std::vector<SourceEvent>& out);

  const OriginFilterOptions options_;
  bool in_transaction_ = false;
  Decision decision_ = Decision::kUndecided;
  std::optional<wire::Begin> held_begin_;
  bool begin_sent_ = false;
  // Relations of ferry_meta tables, by id.
  std::map<uint32_t, MetaRelation> meta_relations_;
  // Relations described inside transactions that were not sent: the apply side has not seen
  // them, and a later row may refer to them.
  std::map<uint32_t, wire::Relation> owed_relations_;
  uint64_t filtered_transactions_ = 0;
};

}  // namespace ferry::capture
