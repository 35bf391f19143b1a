#include "conflict/conflict.h"

#include <utility>

namespace ferry::conflict {
namespace {

// One table per enum keeps each name and its parse in step.
const std::vector<std::pair<ConflictType, std::string_view>>& TypeNames() {
  static const std::vector<std::pair<ConflictType, std::string_view>> kNames = {
      {ConflictType::kInsertExists, "insert_exists"},
      {ConflictType::kUniqueExists, "unique_exists"},
      {ConflictType::kUpdateExists, "update_exists"},
      {ConflictType::kUpdateMissing, "update_missing"},
      {ConflictType::kUpdateDiffers, "update_differs"},
      {ConflictType::kDeleteMissing, "delete_missing"},
      {ConflictType::kDeleteDiffers, "delete_differs"},
  };
  return kNames;
}

const std::vector<std::pair<ResolverKind, std::string_view>>& ResolverNames() {
  static const std::vector<std::pair<ResolverKind, std::string_view>> kNames = {
      {ResolverKind::kSourceWins, "source_wins"},
      {ResolverKind::kTargetWins, "target_wins"},
      {ResolverKind::kLastWriterWins, "last_writer_wins"},
      {ResolverKind::kPriority, "priority"},
      {ResolverKind::kMax, "max"},
      {ResolverKind::kMin, "min"},
      {ResolverKind::kDelta, "delta"},
      {ResolverKind::kSkip, "skip"},
      {ResolverKind::kError, "error"},
  };
  return kNames;
}

template <typename Enum>
std::string NameOf(const std::vector<std::pair<Enum, std::string_view>>& names, Enum value) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return std::string(name);
  }
  return "unknown";
}

template <typename Enum>
std::optional<Enum> Parse(const std::vector<std::pair<Enum, std::string_view>>& names,
                          std::string_view text) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  return std::nullopt;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

}  // namespace

std::string ConflictTypeName(ConflictType type) { return NameOf(TypeNames(), type); }

std::optional<ConflictType> ParseConflictType(std::string_view name) {
  return Parse(TypeNames(), name);
}

const std::vector<ConflictType>& AllConflictTypes() {
  static const std::vector<ConflictType> kAll = [] {
    std::vector<ConflictType> all;
    for (const auto& entry : TypeNames()) all.push_back(entry.first);
    return all;
  }();
  return kAll;
}

std::string ResolverName(ResolverKind kind) { return NameOf(ResolverNames(), kind); }

bool PicksAWinner(ResolverKind kind) {
  return kind == ResolverKind::kLastWriterWins || kind == ResolverKind::kPriority ||
         kind == ResolverKind::kMax || kind == ResolverKind::kMin || kind == ResolverKind::kDelta;
}

std::optional<ResolverKind> ParseResolverKind(std::string_view name) {
  return Parse(ResolverNames(), name);
}

std::string Describe(const Resolver& resolver) {
  const std::string name = ResolverName(resolver.kind);
  switch (resolver.kind) {
    case ResolverKind::kLastWriterWins:
    case ResolverKind::kMax:
    case ResolverKind::kMin:
      return name + "(" + resolver.column + ")";
    case ResolverKind::kDelta:
      return name + "(" + Join(resolver.columns) + ")";
    case ResolverKind::kPriority:
      return name + "(" + Join(resolver.nodes) + ")";
    case ResolverKind::kSourceWins:
    case ResolverKind::kTargetWins:
    case ResolverKind::kSkip:
    case ResolverKind::kError:
      break;
  }
  return name;
}

std::string OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAppliedRemote:
      return "applied_remote";
    case Outcome::kKeptLocal:
      return "kept_local";
    case Outcome::kMerged:
      return "merged";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kStopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace ferry::conflict
