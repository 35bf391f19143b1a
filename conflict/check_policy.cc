// CheckPolicy: every resolver has what it needs, and in master-master the policy converges. The
// convergence check simulates two nodes running the policy on each pair of conflicting changes
// and compares the rows they end with, rather than listing the good resolvers: that way a mix of
// resolvers per type (update_missing against delete_differs) is judged as a whole.
#include <algorithm>
#include <array>
#include <set>

#include "conflict/conflict.h"

namespace ferry::conflict {
namespace {

constexpr std::array<ConflictType, 4> kSymmetricTypes = {
    ConflictType::kInsertExists, ConflictType::kUniqueExists, ConflictType::kUpdateExists,
    ConflictType::kUpdateDiffers};

// Problems in the order found, each once.
class Problems {
 public:
  void Add(std::string line) {
    if (std::find(lines_.begin(), lines_.end(), line) == lines_.end()) {
      lines_.push_back(std::move(line));
    }
  }
  Status ToStatus() const {
    if (lines_.empty()) return Status::Ok();
    std::string message;
    for (const std::string& line : lines_) {
      if (!message.empty()) message += "\n";
      message += line;
    }
    return Status::Error(message);
  }

 private:
  std::vector<std::string> lines_;
};

std::string PlaceName(const std::string* table) {
  return table ? "table " + *table : "(every table)";
}

std::string Where(const std::string* table, const std::optional<ConflictType>& type) {
  return "conflicts: " + PlaceName(table) + ", " +
         (type ? ConflictTypeName(*type) : std::string("(every type)"));
}

bool HasDuplicates(std::vector<std::string> nodes) {
  std::sort(nodes.begin(), nodes.end());
  return std::adjacent_find(nodes.begin(), nodes.end()) != nodes.end();
}

void CheckParameters(const Resolver& resolver, const std::string& where, Problems& problems) {
  const std::string name = ResolverName(resolver.kind);
  switch (resolver.kind) {
    case ResolverKind::kLastWriterWins:
    case ResolverKind::kMax:
    case ResolverKind::kMin:
      if (resolver.column.empty()) {
        problems.Add(where + ": " + name + " needs `column`: name the column to compare");
      }
      return;
    case ResolverKind::kDelta:
      if (resolver.columns.empty()) {
        problems.Add(where + ": delta needs `columns`: name the counter columns");
      }
      return;
    case ResolverKind::kPriority:
      if (resolver.nodes.empty()) {
        problems.Add(where + ": priority needs `nodes`: list the node names, the strongest first");
      } else if (HasDuplicates(resolver.nodes)) {
        problems.Add(where + ": " + Describe(resolver) +
                     " names a node more than once: list each node once");
      }
      return;
    case ResolverKind::kSourceWins:
    case ResolverKind::kTargetWins:
    case ResolverKind::kSkip:
    case ResolverKind::kError:
      return;
  }
}

void CheckAllParameters(const ConflictPolicy& policy, Problems& problems) {
  CheckParameters(policy.fallback, Where(nullptr, std::nullopt), problems);
  for (const auto& [type, resolver] : policy.by_type) {
    CheckParameters(resolver, Where(nullptr, type), problems);
  }
  for (const auto& [table, own] : policy.tables) {
    if (own.fallback) CheckParameters(*own.fallback, Where(&table, std::nullopt), problems);
    for (const auto& [type, resolver] : own.by_type) {
      CheckParameters(resolver, Where(&table, type), problems);
    }
  }
}

// Two arbitrary names, every node a priority lists and one no priority lists: the node names
// are the only input besides the facts, so every pair of these covers every ranking case.
std::vector<std::string> NodeNames(const ConflictPolicy& policy) {
  std::set<std::string> names = {"a", "b"};
  auto add = [&names](const Resolver& resolver) {
    if (resolver.kind == ResolverKind::kPriority) {
      names.insert(resolver.nodes.begin(), resolver.nodes.end());
    }
  };
  add(policy.fallback);
  for (const auto& entry : policy.by_type) add(entry.second);
  for (const auto& entry : policy.tables) {
    if (entry.second.fallback) add(*entry.second.fallback);
    for (const auto& by_type : entry.second.by_type) add(by_type.second);
  }
  std::string unlisted = "unlisted";
  while (names.contains(unlisted)) unlisted += "_";
  names.insert(unlisted);
  return {names.begin(), names.end()};
}

// What a node ends with, seen from the row: skipping the remote change keeps the local row.
enum class End { kOwn, kOther, kMerged, kStopped };

End EndOf(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAppliedRemote:
      return End::kOther;
    case Outcome::kMerged:
      return End::kMerged;
    case Outcome::kStopped:
      return End::kStopped;
    case Outcome::kKeptLocal:
    case Outcome::kSkipped:
      break;
  }
  return End::kOwn;
}

ConflictFacts Facts(ConflictType type, const std::string& local, const std::string& remote,
                    std::optional<int> remote_vs_local) {
  ConflictFacts facts;
  facts.type = type;
  facts.local_node = local;
  facts.remote_origin = remote;
  facts.remote_vs_local = remote_vs_local;
  facts.remote_complete = true;
  return facts;
}

// Plays a race between every two of `names`, in each sense the compared column can take (x's
// value later, equal, earlier, unknown): `why(x, y, s, minus_s)` says why that race diverges.
// Returns the first reason.
template <typename Race>
std::optional<std::string> AnyRaceDiverges(const std::vector<std::string>& names, Race why) {
  const std::array<std::optional<int>, 4> senses = {-1, 0, 1, std::nullopt};
  for (const std::string& x : names) {
    for (const std::string& y : names) {
      if (x == y) continue;
      for (const std::optional<int>& s : senses) {
        const std::optional<int> minus_s = s ? std::optional<int>(-*s) : std::nullopt;
        if (std::optional<std::string> reason = why(x, y, s, minus_s)) return reason;
      }
    }
  }
  return std::nullopt;
}

// Why two nodes that each got the other's row end differently: converged when one node's row
// wins on both, both merge, or one stops (the operator decides then).
std::optional<std::string> EndsDiverge(End at_x, End at_y) {
  if (at_x == End::kStopped || at_y == End::kStopped) return std::nullopt;
  if (at_x == End::kMerged && at_y == End::kMerged) return std::nullopt;
  if ((at_x == End::kOther && at_y == End::kOwn) || (at_x == End::kOwn && at_y == End::kOther)) {
    return std::nullopt;
  }
  if (at_x == End::kOther && at_y == End::kOther) {
    return "both nodes would apply the other's row and swap them";
  }
  if (at_x == End::kOwn && at_y == End::kOwn) return "both nodes would keep their own row";
  return "one node would merge the rows and the other would not";
}

// Nodes x and y both changed the row; each gets the other's change. Returns why they diverge.
std::optional<std::string> SymmetricDivergence(const Resolver& resolver, ConflictType type,
                                               const std::vector<std::string>& names) {
  return AnyRaceDiverges(names, [&](const std::string& x, const std::string& y,
                                    std::optional<int> s, std::optional<int> minus_s) {
    return EndsDiverge(EndOf(Resolve(resolver, Facts(type, x, y, s)).outcome),
                       EndOf(Resolve(resolver, Facts(type, y, x, minus_s)).outcome));
  });
}

// Node x deleted the row while y updated it: x gets the update (update_missing), y the delete
// (delete_differs). Returns why they diverge.
std::optional<std::string> RaceDivergence(const Resolver& at_deleter, const Resolver& at_updater,
                                          const std::vector<std::string>& names) {
  for (const std::string& x : names) {
    for (const std::string& y : names) {
      if (x == y) continue;
      const End at_x = EndOf(
          Resolve(at_deleter, Facts(ConflictType::kUpdateMissing, x, y, std::nullopt)).outcome);
      const End at_y = EndOf(
          Resolve(at_updater, Facts(ConflictType::kDeleteDiffers, y, x, std::nullopt)).outcome);
      if (at_x == End::kStopped || at_y == End::kStopped) continue;
      if ((at_x == End::kOther && at_y == End::kOwn) ||
          (at_x == End::kOwn && at_y == End::kOther)) {
        continue;
      }
      if (at_x == End::kOther && at_y == End::kOther) {
        return "the node that deleted the row would insert the other's update while the other "
               "deletes the row";
      }
      if (at_x == End::kOwn && at_y == End::kOwn) {
        return "the node that deleted the row would keep it deleted while the other keeps its "
               "update";
      }
      return "one node would merge the rows and the other would not";
    }
  }
  return std::nullopt;
}

// Node x moved a row onto a key (an update) while y inserted a row with that key: x gets the
// insert (insert_exists), y the update (update_exists, the inserted row in its way). Where y's
// row wins, x's moved row is gone on x (the insert replaced it), so on y the update's row must
// go too: the applier deletes it when a resolver that picks a winner kept the row in the way.
// Returns why they diverge.
std::optional<std::string> KeyMoveDivergence(const Resolver& at_x, const Resolver& at_y,
                                             const std::vector<std::string>& names) {
  return AnyRaceDiverges(
      names,
      [&](const std::string& x, const std::string& y, std::optional<int> s,
          std::optional<int> minus_s) -> std::optional<std::string> {
        const End end_x = EndOf(Resolve(at_x, Facts(ConflictType::kInsertExists, x, y, s)).outcome);
        const End end_y =
            EndOf(Resolve(at_y, Facts(ConflictType::kUpdateExists, y, x, minus_s)).outcome);
        if (end_x == End::kOther && end_y == End::kOwn && !PicksAWinner(at_y.kind)) {
          return "the node that inserted the key would keep the moved row under its old key, which "
                 "the other node no longer has";
        }
        return EndsDiverge(end_x, end_y);
      });
}

bool OneSided(ResolverKind kind) {
  return kind == ResolverKind::kSourceWins || kind == ResolverKind::kTargetWins;
}

std::string SymmetricFix(const Resolver& resolver) {
  if (OneSided(resolver.kind)) {
    return ResolverName(resolver.kind) +
           " converges only if the other node is configured the opposite way: use `priority: "
           "[this node, other]` instead, which says the same on both nodes";
  }
  return "use last_writer_wins, priority, max, min or delta";
}

// Checks one place a resolver can be chosen. At a table, `own` tells which types the table
// decides itself; a problem made only of inherited resolvers is reported for every table.
void CheckPlace(const ConflictPolicy& policy, const std::string* table,
                const std::vector<std::string>& names, Problems& problems) {
  const TablePolicy* own = nullptr;
  if (table) own = &policy.tables.at(*table);
  auto decided_here = [own](ConflictType type) {
    return own == nullptr || own->fallback.has_value() || own->by_type.contains(type);
  };
  const std::string key = table ? *table : std::string();
  std::set<ConflictType> refused;
  for (ConflictType type : kSymmetricTypes) {
    const Resolver& resolver = policy.For(key, type);
    std::optional<std::string> why = SymmetricDivergence(resolver, type, names);
    if (!why) continue;
    refused.insert(type);
    if (!decided_here(type)) continue;
    problems.Add(Where(table, type) + ": " + Describe(resolver) +
                 " does not converge in master-master (" + *why + "): " + SymmetricFix(resolver));
  }
  // Reported once: a resolver refused on its own type already names its fix.
  const bool keys_refused = refused.contains(ConflictType::kInsertExists) ||
                            refused.contains(ConflictType::kUpdateExists);
  if (!keys_refused &&
      (decided_here(ConflictType::kInsertExists) || decided_here(ConflictType::kUpdateExists))) {
    const Resolver& at_x = policy.For(key, ConflictType::kInsertExists);
    const Resolver& at_y = policy.For(key, ConflictType::kUpdateExists);
    if (auto why = KeyMoveDivergence(at_x, at_y, names)) {
      problems.Add(Where(table, ConflictType::kUpdateExists) + ": " + Describe(at_y) +
                   " with insert_exists: " + Describe(at_x) +
                   " does not converge in master-master when one node moves a row onto a key "
                   "the other inserts (" +
                   *why + "): use the same last_writer_wins, priority, max or min for both types" +
                   (at_x.kind == ResolverKind::kDelta || at_y.kind == ResolverKind::kDelta
                        ? " (delta merges two inserts of one key, not a row moved onto it: keep "
                          "delta for update_differs)"
                        : ""));
    }
  }
  if (!decided_here(ConflictType::kUpdateMissing) && !decided_here(ConflictType::kDeleteDiffers)) {
    return;
  }
  const Resolver& at_deleter = policy.For(key, ConflictType::kUpdateMissing);
  const Resolver& at_updater = policy.For(key, ConflictType::kDeleteDiffers);
  if (auto why = RaceDivergence(at_deleter, at_updater, names)) {
    problems.Add(Where(table, ConflictType::kUpdateMissing) + ": " + Describe(at_deleter) +
                 " with delete_differs: " + Describe(at_updater) +
                 " does not converge in master-master (" + *why +
                 "): use the same last_writer_wins, priority, max, min or delta for both types "
                 "(the delete wins, or priority decides), or update_missing: source_wins with "
                 "delete_differs: target_wins (the update wins)");
  }
}

}  // namespace

Status CheckPolicy(const ConflictPolicy& policy) {
  Problems problems;
  CheckAllParameters(policy, problems);
  if (policy.mode == Mode::kMasterMaster) {
    const std::vector<std::string> names = NodeNames(policy);
    CheckPlace(policy, nullptr, names, problems);
    for (const auto& entry : policy.tables) CheckPlace(policy, &entry.first, names, problems);
  }
  return problems.ToStatus();
}

}  // namespace ferry::conflict
