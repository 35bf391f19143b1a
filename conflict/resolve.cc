// ConflictPolicy::For, DefaultPolicy and Resolve: pure functions of the policy and the facts, so
// that every node running the same policy decides a conflict the same way.
#include <algorithm>
#include <cstddef>

#include "conflict/conflict.h"

namespace ferry::conflict {
namespace {

bool IsRowConflict(ConflictType type) {
  return type == ConflictType::kInsertExists || type == ConflictType::kUniqueExists ||
         type == ConflictType::kUpdateExists || type == ConflictType::kUpdateDiffers;
}

Decision Decide(Outcome outcome, std::string reason) {
  Decision decision;
  decision.outcome = outcome;
  decision.reason = std::move(reason);
  return decision;
}

// Node names are the last word so that both nodes pick the same winner: each sees the other as
// remote, and exactly one of them sees remote > local.
bool RemoteWinsByName(const ConflictFacts& facts) { return facts.remote_origin > facts.local_node; }

std::string NameOrder(const ConflictFacts& facts) {
  if (facts.remote_origin == facts.local_node) {
    return "both nodes are named " + facts.local_node + ", the local row stays";
  }
  if (RemoteWinsByName(facts)) return "node " + facts.remote_origin + " > " + facts.local_node;
  return "node " + facts.local_node + " > " + facts.remote_origin;
}

Decision ByName(const ConflictFacts& facts, const std::string& basis) {
  return Decide(RemoteWinsByName(facts) ? Outcome::kAppliedRemote : Outcome::kKeptLocal,
                basis + ": " + NameOrder(facts));
}

// A deleted row has no value to compare, so under the comparing resolvers the delete wins:
// the node that deleted keeps the row deleted and the node that updated deletes it.
Decision DeleteWins(ConflictType type) {
  if (type == ConflictType::kUpdateMissing) {
    return Decide(Outcome::kKeptLocal, "the local delete wins over a remote update");
  }
  return Decide(Outcome::kAppliedRemote, "the remote delete wins over a local update");
}

Decision Incomplete() {
  return Decide(Outcome::kKeptLocal,
                "the remote row lacks values for some columns and cannot be inserted");
}

Decision Compare(const Resolver& resolver, const ConflictFacts& facts) {
  if (!IsRowConflict(facts.type)) return DeleteWins(facts.type);
  const std::string& column = resolver.column;
  std::optional<int> sense = facts.remote_vs_local;
  if (sense && resolver.kind == ResolverKind::kMin) sense = -*sense;
  if (!sense) return ByName(facts, "no comparable " + column);
  if (*sense == 0) return ByName(facts, "tie on " + column);
  const bool remote = *sense > 0;
  std::string quality = resolver.kind == ResolverKind::kLastWriterWins ? "later"
                        : resolver.kind == ResolverKind::kMax          ? "larger"
                                                                       : "smaller";
  return Decide(remote ? Outcome::kAppliedRemote : Outcome::kKeptLocal,
                std::string(remote ? "remote " : "local ") + column + " is " + quality);
}

// A node missing from the list ranks after every listed one.
std::size_t Rank(const std::vector<std::string>& nodes, const std::string& node) {
  return static_cast<std::size_t>(std::find(nodes.begin(), nodes.end(), node) - nodes.begin());
}

Decision ByPriority(const Resolver& resolver, const ConflictFacts& facts) {
  const std::size_t remote = Rank(resolver.nodes, facts.remote_origin);
  const std::size_t local = Rank(resolver.nodes, facts.local_node);
  Decision decision;
  if (remote == local) {
    decision = ByName(facts, "equal rank in priority");
  } else {
    const bool remote_wins = remote < local;
    decision = Decide(remote_wins ? Outcome::kAppliedRemote : Outcome::kKeptLocal,
                      (remote_wins ? facts.remote_origin : facts.local_node) + " precedes " +
                          (remote_wins ? facts.local_node : facts.remote_origin) + " in priority");
  }
  if (decision.outcome == Outcome::kAppliedRemote && facts.type == ConflictType::kUpdateMissing &&
      !facts.remote_complete) {
    return Incomplete();
  }
  return decision;
}

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// Counters add up on both nodes; the other columns each go to one side, the same on both nodes.
Decision ByDelta(const Resolver& resolver, const ConflictFacts& facts) {
  const bool remote_wins = RemoteWinsByName(facts);
  if (facts.type == ConflictType::kUpdateDiffers) {
    Decision decision = Decide(
        Outcome::kMerged, "counters added; columns changed on both nodes: " + NameOrder(facts));
    for (const std::string& column : facts.remote_changed) {
      if (Contains(resolver.columns, column)) continue;
      if (!facts.local_changed.contains(column) || remote_wins) decision.take_remote.insert(column);
    }
    return decision;
  }
  if (facts.type == ConflictType::kInsertExists) {
    Decision decision =
        Decide(Outcome::kMerged, "counters added; the other columns: " + NameOrder(facts));
    if (!remote_wins) return decision;
    for (const std::string& column : facts.remote_changed) {
      if (!Contains(resolver.columns, column)) decision.take_remote.insert(column);
    }
    return decision;
  }
  if (IsRowConflict(facts.type)) return ByName(facts, "no counters to add");
  return DeleteWins(facts.type);
}

Decision SourceWins(const ConflictFacts& facts) {
  if (facts.type == ConflictType::kUpdateMissing && !facts.remote_complete) return Incomplete();
  return Decide(Outcome::kAppliedRemote, "source_wins: the remote change is applied");
}

}  // namespace

const Resolver& ConflictPolicy::For(const std::string& table, ConflictType type) const {
  if (auto t = tables.find(table); t != tables.end()) {
    if (auto r = t->second.by_type.find(type); r != t->second.by_type.end()) return r->second;
    if (t->second.fallback) return *t->second.fallback;
  }
  if (auto r = by_type.find(type); r != by_type.end()) return r->second;
  return fallback;
}

ConflictPolicy DefaultPolicy(Mode mode) {
  ConflictPolicy policy;
  policy.mode = mode;
  if (mode == Mode::kMasterMaster) {
    policy.fallback.kind = ResolverKind::kError;
    policy.by_type[ConflictType::kDeleteMissing].kind = ResolverKind::kSkip;
  } else {
    policy.fallback.kind = ResolverKind::kSourceWins;
  }
  return policy;
}

Decision Resolve(const Resolver& resolver, const ConflictFacts& facts) {
  if (resolver.kind == ResolverKind::kError) {
    return Decide(Outcome::kStopped, "error: the stream stops until an operator fixes the row");
  }
  if (facts.type == ConflictType::kDeleteMissing) {
    return Decide(Outcome::kSkipped, "the row is already gone: nothing to do");
  }
  switch (resolver.kind) {
    case ResolverKind::kSourceWins:
      return SourceWins(facts);
    case ResolverKind::kTargetWins:
      return Decide(Outcome::kKeptLocal, "target_wins: the local row stays");
    case ResolverKind::kSkip:
      return Decide(Outcome::kSkipped, "skip: the remote change is dropped");
    case ResolverKind::kLastWriterWins:
    case ResolverKind::kMax:
    case ResolverKind::kMin:
      return Compare(resolver, facts);
    case ResolverKind::kPriority:
      return ByPriority(resolver, facts);
    case ResolverKind::kDelta:
      return ByDelta(resolver, facts);
    case ResolverKind::kError:
      break;
  }
  return Decide(Outcome::kStopped, "unknown resolver: the stream stops");
}

}  // namespace ferry::conflict
