#include "capture/origin_filter.h"

#include <string>
#include <utility>
#include <variant>

namespace ferry::capture {
namespace {

const wire::Value* ValueAt(const wire::RowChange& row, int index) {
  if (index < 0 || index >= row.new_values_size()) return nullptr;
  return &row.new_values(index);
}

std::string TextAt(const wire::RowChange& row, int index) {
  const wire::Value* value = ValueAt(row, index);
  return value && value->has_text() ? value->text() : "";
}

}  // namespace

// Columns are found by name: their positions differ between the tables, and between ferry_meta
// created by different versions (columns added later come last).
OriginFilter::MetaRelation OriginFilter::DescribeMeta(const wire::Relation& relation) {
  MetaRelation meta;
  const bool checkpoints = relation.table() == kOriginMarkerTable;
  meta.marker = checkpoints || relation.table() == kCopyMarkerTable;
  meta.needs_origin = !checkpoints;
  if (!meta.marker) return meta;
  for (int i = 0; i < relation.columns_size(); ++i) {
    if (relation.columns(i).name() == "origin") meta.origin = i;
    if (checkpoints && relation.columns(i).name() == "origin_commit_us") meta.origin_commit_us = i;
  }
  return meta;
}

std::vector<SourceEvent> OriginFilter::Take(SourceEvent event) {
  std::vector<SourceEvent> out;
  if (auto* begin = std::get_if<wire::Begin>(&event)) {
    in_transaction_ = true;
    decision_ = Decision::kUndecided;
    held_begin_ = std::move(*begin);
    begin_sent_ = false;
  } else if (auto* relation = std::get_if<wire::Relation>(&event)) {
    TakeRelation(std::move(*relation), out);
  } else if (auto* row = std::get_if<wire::RowChange>(&event)) {
    TakeRow(std::move(*row), out);
  } else if (auto* commit = std::get_if<wire::Commit>(&event)) {
    TakeCommit(std::move(*commit), out);
  } else {
    out.push_back(std::move(event));
  }
  return out;
}

void OriginFilter::TakeRelation(wire::Relation relation, std::vector<SourceEvent>& out) {
  const uint32_t id = relation.id();
  if (relation.schema() == kFerrySchema) {
    owed_relations_.erase(id);
    meta_relations_[id] = DescribeMeta(relation);
    return;
  }
  meta_relations_.erase(id);
  if (decision_ != Decision::kForward) {
    owed_relations_[id] = std::move(relation);
    return;
  }
  Release(out);
  out.push_back(std::move(relation));
}

void OriginFilter::TakeRow(wire::RowChange row, std::vector<SourceEvent>& out) {
  auto meta = meta_relations_.find(row.relation_id());
  if (meta != meta_relations_.end()) {
    // Only the transaction's first change is a marker: the apply agent writes it first.
    const MetaRelation& described = meta->second;
    if (decision_ == Decision::kUndecided && described.marker &&
        row.op() != wire::RowChange::DELETE && row.op() != wire::RowChange::TRUNCATE &&
        (!described.needs_origin || !TextAt(row, described.origin).empty())) {
      ReadMarker(row, described);
    }
    return;  // Ferry's own rows are never forwarded
  }
  if (decision_ == Decision::kUndecided) decision_ = Decision::kForward;  // a local transaction
  if (decision_ == Decision::kDrop) return;
  Release(out);
  out.push_back(std::move(row));
}

void OriginFilter::ReadMarker(const wire::RowChange& row, const MetaRelation& meta) {
  const wire::Value* commit_us = ValueAt(row, meta.origin_commit_us);
  std::string node = TextAt(row, meta.origin);
  const bool from_subscriber = !node.empty() && node == options_.subscriber;
  const bool from_elsewhere = !node.empty() && !options_.forward_remote;
  decision_ = from_subscriber || from_elsewhere ? Decision::kDrop : Decision::kForward;
  if (decision_ == Decision::kDrop) {
    ++filtered_transactions_;
    return;
  }
  if (!held_begin_ || node.empty()) return;
  held_begin_->set_origin(node);
  if (commit_us && commit_us->has_int64())
    held_begin_->set_origin_commit_time_us(commit_us->int64());
}

void OriginFilter::TakeCommit(wire::Commit commit, std::vector<SourceEvent>& out) {
  if (begin_sent_) out.push_back(std::move(commit));
  in_transaction_ = false;
  decision_ = Decision::kUndecided;
  held_begin_.reset();
  begin_sent_ = false;
}

void OriginFilter::Release(std::vector<SourceEvent>& out) {
  if (!begin_sent_ && held_begin_) {
    out.push_back(std::move(*held_begin_));
    held_begin_.reset();
    begin_sent_ = true;
  }
  for (auto& [id, relation] : owed_relations_) out.push_back(std::move(relation));
  owed_relations_.clear();
}

}  // namespace ferry::capture
