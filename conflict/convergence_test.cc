// Master-master convergence, checked against a model of the rows themselves: two nodes run the
// same policy, each gets the other's conflicting change, and both must end with the same row.
// The model is built here from the outcomes Resolve returns (and, for delta, the columns it
// takes), not from CheckPolicy's own simulation, so the two check each other.
#include <gtest/gtest.h>

#include "conflict/conflict.h"

namespace ferry::conflict {
namespace {

using enum ConflictType;

Resolver Make(ResolverKind kind) {
  Resolver resolver;
  resolver.kind = kind;
  switch (kind) {
    case ResolverKind::kLastWriterWins:
      resolver.column = "updated_at";
      break;
    case ResolverKind::kMax:
    case ResolverKind::kMin:
      resolver.column = "version";
      break;
    case ResolverKind::kDelta:
      resolver.columns = {"stock"};
      break;
    case ResolverKind::kPriority:
      resolver.nodes = {"east", "west"};
      break;
    default:
      break;
  }
  return resolver;
}

std::vector<ResolverKind> AllKinds() {
  return {ResolverKind::kSourceWins, ResolverKind::kTargetWins, ResolverKind::kLastWriterWins,
          ResolverKind::kPriority,   ResolverKind::kMax,        ResolverKind::kMin,
          ResolverKind::kDelta,      ResolverKind::kSkip,       ResolverKind::kError};
}

// A row: absent (deleted), or column values. `version` is the compared column of every
// comparing resolver in these tests (last_writer_wins reads updated_at, which follows it).
using Values = std::map<std::string, std::optional<int>>;
struct Row {
  bool exists = false;
  Values values;
  bool operator==(const Row&) const = default;
};

Row Version(int name, int note, std::optional<int> version, int stock) {
  return Row{true,
             {{"name", name},
              {"note", note},
              {"version", version},
              {"updated_at", version},
              {"stock", stock}}};
}

std::string Show(const Row& row) {
  if (!row.exists) return "deleted";
  std::string out;
  for (const auto& [column, value] : row.values) {
    out += column + "=" + (value ? std::to_string(*value) : "null") + " ";
  }
  return out;
}

// The remote change one node receives: its old image (none for an insert) and new image (none
// for a delete).
struct Change {
  std::string origin;
  std::optional<Row> old_image;
  std::optional<Row> new_image;
};

// How the local row compares with the remote change on the compared column, as the target would
// report it.
std::optional<int> Compare(const Row& local, const Change& change, const std::string& column) {
  if (!local.exists || !change.new_image) return std::nullopt;
  const std::optional<int> remote = change.new_image->values.at(column);
  const std::optional<int> mine = local.values.at(column);
  if (!remote || !mine) return std::nullopt;
  return (*remote > *mine) - (*remote < *mine);
}

std::set<std::string> Differing(const Values& a, const Values& b) {
  std::set<std::string> out;
  for (const auto& [column, value] : a) {
    if (b.at(column) != value) out.insert(column);
  }
  return out;
}

struct Applied {
  Row row;
  bool stopped = false;
};

// One node handles one conflicting change: gather the facts, resolve, carry the decision out.
Applied Handle(const ConflictPolicy& policy, const std::string& table, ConflictType type,
               const std::string& node, const Row& local, const Change& change) {
  const Resolver& resolver = policy.For(table, type);
  ConflictFacts facts;
  facts.type = type;
  facts.local_node = node;
  facts.remote_origin = change.origin;
  facts.remote_vs_local =
      Compare(local, change, resolver.column.empty() ? "version" : resolver.column);
  if (change.new_image) {
    const Values before = change.old_image ? change.old_image->values : Values{};
    for (const auto& [column, value] : change.new_image->values) {
      if (!before.contains(column) || before.at(column) != value) {
        facts.remote_changed.insert(column);
      }
    }
    facts.local_changed = change.old_image && local.exists
                              ? Differing(local.values, change.old_image->values)
                              : facts.remote_changed;
  }
  const Decision decision = Resolve(resolver, facts);
  switch (decision.outcome) {
    case Outcome::kAppliedRemote:
      return {change.new_image ? *change.new_image : Row{}};
    case Outcome::kKeptLocal:
    case Outcome::kSkipped:
      return {local};
    case Outcome::kStopped:
      return {local, true};
    case Outcome::kMerged:
      break;
  }
  Row merged = local;
  for (const std::string& column : decision.take_remote) {
    merged.values[column] = change.new_image->values.at(column);
  }
  for (const std::string& column : resolver.columns) {
    const int old_value = change.old_image ? change.old_image->values.at(column).value_or(0) : 0;
    merged.values[column] = local.values.at(column).value_or(0) +
                            change.new_image->values.at(column).value_or(0) - old_value;
  }
  return {merged};
}

// Starting rows and changes of one race between nodes x and y.
struct Race {
  ConflictType at_x;
  ConflictType at_y;
  Row x_row, y_row;
  Change to_x, to_y;
};

// `x_version` and `y_version`: the compared column each node writes.
std::vector<Race> Races(const std::string& x, const std::string& y, std::optional<int> x_version,
                        std::optional<int> y_version) {
  const Row base = Version(0, 0, 0, 10);
  const Row x_new = Version(1, 0, x_version, 11);
  const Row y_new = Version(2, 2, y_version, 12);
  const Row x_insert = Version(1, 1, x_version, 1);
  const Row y_insert = Version(2, 2, y_version, 2);
  std::vector<Race> races;
  // Both insert the same key.
  races.push_back(
      {kInsertExists, kInsertExists, x_insert, y_insert, {y, {}, y_insert}, {x, {}, x_insert}});
  // Both write rows holding the same unique value, or moving onto the same key: whole rows.
  races.push_back(
      {kUniqueExists, kUniqueExists, x_insert, y_insert, {y, {}, y_insert}, {x, {}, x_insert}});
  races.push_back({kUpdateExists, kUpdateExists, x_new, y_new, {y, base, y_new}, {x, base, x_new}});
  // Both update the same row.
  races.push_back(
      {kUpdateDiffers, kUpdateDiffers, x_new, y_new, {y, base, y_new}, {x, base, x_new}});
  // x deletes while y updates.
  races.push_back({kUpdateMissing, kDeleteDiffers, Row{}, y_new, {y, base, y_new}, {x, base, {}}});
  // Both delete.
  races.push_back({kDeleteMissing, kDeleteMissing, Row{}, Row{}, {y, base, {}}, {x, base, {}}});
  return races;
}

// Both priority nodes, and two it does not list.
const std::vector<std::string>& Nodes() {
  static const std::vector<std::string> kNodes = {"east", "west", "north", "a"};
  return kNodes;
}

// Node x moved a row from another key onto key K while y inserted a row with key K: x gets the
// insert (insert_exists), y the update (update_exists, y's row in its way). Besides the row at
// K, the moved row's old key matters: x moved the row away from it, so y must not keep it
// there. The applier deletes it on y when the update lost to the row in its way by a resolver
// that picks a winner. Returns the divergence as text, or empty.
std::string KeyMoveDivergence(const ConflictPolicy& policy, const std::string& table,
                              const std::string& x, const std::string& y,
                              std::optional<int> x_version, std::optional<int> y_version) {
  const Row base = Version(0, 0, 0, 10);
  const Row x_moved = Version(1, 0, x_version, 11);
  const Row y_insert = Version(2, 2, y_version, 2);
  const Applied at_x = Handle(policy, table, kInsertExists, x, x_moved, {y, {}, y_insert});
  const Applied at_y = Handle(policy, table, kUpdateExists, y, y_insert, {x, base, x_moved});
  if (at_x.stopped || at_y.stopped) return "";
  const bool old_key_kept_at_y =
      at_y.row != x_moved && !PicksAWinner(policy.For(table, kUpdateExists).kind);
  if (at_x.row == at_y.row && !old_key_kept_at_y) return "";
  return "key move onto an inserted key between " + x + " and " + y + ": " + x + " ends with " +
         Show(at_x.row) + ", " + y + " with " + Show(at_y.row) +
         (old_key_kept_at_y ? " and the moved row under its old key" : "");
}

// Every race between every two nodes: the first where the nodes end with different rows, as
// text, or empty when they all converge (a stop counts: the operator decides then).
std::string FirstDivergence(const ConflictPolicy& policy, const std::string& table) {
  const std::vector<std::optional<int>> versions = {1, 2, std::nullopt};
  for (const std::string& x : Nodes()) {
    for (const std::string& y : Nodes()) {
      if (x == y) continue;
      for (const std::optional<int>& xv : versions) {
        for (const std::optional<int>& yv : versions) {
          const std::string moved = KeyMoveDivergence(policy, table, x, y, xv, yv);
          if (!moved.empty()) return moved;
          for (const Race& race : Races(x, y, xv, yv)) {
            const Applied at_x = Handle(policy, table, race.at_x, x, race.x_row, race.to_x);
            const Applied at_y = Handle(policy, table, race.at_y, y, race.y_row, race.to_y);
            if (at_x.stopped || at_y.stopped || at_x.row == at_y.row) continue;
            return ConflictTypeName(race.at_x) + " between " + x + " and " + y + ": " + x +
                   " ends with " + Show(at_x.row) + ", " + y + " with " + Show(at_y.row);
          }
        }
      }
    }
  }
  return "";
}

std::string FirstDivergenceAnywhere(const ConflictPolicy& policy) {
  std::string found = FirstDivergence(policy, "public.any");
  for (const auto& entry : policy.tables) {
    if (found.empty()) found = FirstDivergence(policy, entry.first);
  }
  return found;
}

ConflictPolicy MasterMaster(Resolver fallback) {
  ConflictPolicy policy;
  policy.mode = Mode::kMasterMaster;
  policy.fallback = std::move(fallback);
  return policy;
}

struct Named {
  std::string name;
  ConflictPolicy policy;
};

std::vector<Named> Accepted() {
  std::vector<Named> out;
  for (ResolverKind kind : {ResolverKind::kLastWriterWins, ResolverKind::kPriority,
                            ResolverKind::kMax, ResolverKind::kMin, ResolverKind::kError}) {
    out.push_back({"default " + ResolverName(kind), MasterMaster(Make(kind))});
  }
  {
    // delta merges two inserts of one key, but not a row moved onto an inserted key.
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kDelta));
    policy.by_type[kInsertExists] = Make(ResolverKind::kPriority);
    policy.by_type[kUpdateExists] = Make(ResolverKind::kPriority);
    out.push_back({"default delta, priority for keys", policy});
  }
  out.push_back({"the master-master default", DefaultPolicy(Mode::kMasterMaster)});
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kError));
    policy.by_type[kInsertExists] = Make(ResolverKind::kPriority);
    policy.by_type[kUpdateDiffers] = Make(ResolverKind::kLastWriterWins);
    policy.by_type[kDeleteMissing] = Make(ResolverKind::kSkip);
    out.push_back({"per-type mix", policy});
  }
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kLastWriterWins));
    policy.by_type[kUpdateMissing] = Make(ResolverKind::kSourceWins);
    policy.by_type[kDeleteDiffers] = Make(ResolverKind::kTargetWins);
    out.push_back({"the update wins", policy});
  }
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kMax));
    policy.by_type[kUpdateMissing] = Make(ResolverKind::kSkip);
    policy.by_type[kDeleteDiffers] = Make(ResolverKind::kMin);
    out.push_back({"the delete wins, skipped on one side", policy});
  }
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kDelta));
    policy.by_type[kInsertExists] = Make(ResolverKind::kMin);
    policy.by_type[kUpdateExists] = Make(ResolverKind::kMin);
    policy.by_type[kUpdateMissing] = Make(ResolverKind::kPriority);
    policy.by_type[kDeleteDiffers] = Make(ResolverKind::kPriority);
    policy.by_type[kUniqueExists] = Make(ResolverKind::kMin);
    out.push_back({"delta with priority for deletes", policy});
  }
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kLastWriterWins));
    TablePolicy counters;
    counters.fallback = Make(ResolverKind::kDelta);
    counters.by_type[kInsertExists] = Make(ResolverKind::kLastWriterWins);
    counters.by_type[kUpdateExists] = Make(ResolverKind::kLastWriterWins);
    policy.tables["public.stock"] = counters;
    TablePolicy ranked;
    ranked.by_type[kUpdateDiffers] = Make(ResolverKind::kPriority);
    ranked.by_type[kDeleteMissing] = Make(ResolverKind::kError);
    policy.tables["public.accounts"] = ranked;
    out.push_back({"per-table resolvers", policy});
  }
  return out;
}

TEST(ConvergenceTest, AcceptedPoliciesConverge) {
  for (const Named& named : Accepted()) {
    const Status status = CheckPolicy(named.policy);
    EXPECT_TRUE(status.ok()) << named.name << ": " << status.message();
    EXPECT_EQ(FirstDivergenceAnywhere(named.policy), "") << named.name;
  }
}

struct Rejected {
  std::string name;
  ConflictPolicy policy;
  std::vector<std::string> in_message;
};

std::vector<Rejected> RejectedPolicies() {
  std::vector<Rejected> out;
  out.push_back({"default source_wins",
                 MasterMaster(Make(ResolverKind::kSourceWins)),
                 {"conflicts: (every table), insert_exists: source_wins",
                  "update_differs: source_wins", "swap them", "priority: [this node, other]"}});
  out.push_back({"default delta",
                 MasterMaster(Make(ResolverKind::kDelta)),
                 {"conflicts: (every table), update_exists: delta(stock) with insert_exists: "
                  "delta(stock)",
                  "moves a row onto a key the other inserts", "merge"}});
  out.push_back({"default target_wins",
                 MasterMaster(Make(ResolverKind::kTargetWins)),
                 {"conflicts: (every table), unique_exists: target_wins",
                  "update_exists: target_wins", "keep their own row", "opposite way"}});
  out.push_back({"default skip",
                 MasterMaster(Make(ResolverKind::kSkip)),
                 {"conflicts: (every table), update_differs: skip", "insert_exists: skip"}});
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kLastWriterWins));
    policy.by_type[kUpdateMissing] = Make(ResolverKind::kSourceWins);
    policy.by_type[kDeleteDiffers] = Make(ResolverKind::kSourceWins);
    out.push_back({"both sides of the race source_wins",
                   policy,
                   {"conflicts: (every table), update_missing: source_wins with delete_differs: "
                    "source_wins does not converge"}});
  }
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kLastWriterWins));
    policy.by_type[kUpdateMissing] = Make(ResolverKind::kSkip);
    policy.by_type[kDeleteDiffers] = Make(ResolverKind::kTargetWins);
    out.push_back({"the race kept on both sides",
                   policy,
                   {"update_missing: skip with delete_differs: target_wins", "keep it deleted"}});
  }
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kLastWriterWins));
    policy.by_type[kUpdateMissing] = Make(ResolverKind::kPriority);
    out.push_back({"priority against a delete that wins",
                   policy,
                   {"update_missing: priority(east,west) with delete_differs: "
                    "last_writer_wins(updated_at)"}});
  }
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kMax));
    TablePolicy table;
    table.by_type[kUpdateDiffers] = Make(ResolverKind::kSourceWins);
    policy.tables["public.t"] = table;
    out.push_back({"one table's type",
                   policy,
                   {"conflicts: table public.t, update_differs: source_wins does not converge"}});
  }
  {
    ConflictPolicy policy = MasterMaster(Make(ResolverKind::kMax));
    TablePolicy table;
    table.fallback = Make(ResolverKind::kTargetWins);
    policy.tables["db.orders"] = table;
    out.push_back({"one table's default",
                   policy,
                   {"conflicts: table db.orders, insert_exists: target_wins",
                    "conflicts: table db.orders, update_missing: target_wins with delete_differs: "
                    "target_wins"}});
  }
  return out;
}

TEST(ConvergenceTest, RejectedPoliciesDivergeAndSayWhere) {
  for (const Rejected& rejected : RejectedPolicies()) {
    EXPECT_NE(FirstDivergenceAnywhere(rejected.policy), "") << rejected.name;
    const Status status = CheckPolicy(rejected.policy);
    ASSERT_FALSE(status.ok()) << rejected.name;
    for (const std::string& part : rejected.in_message) {
      EXPECT_NE(status.message().find(part), std::string::npos)
          << rejected.name << ": no \"" << part << "\" in:\n"
          << status.message();
    }
    // The same policy is fine where nodes follow a source.
    ConflictPolicy master_slave = rejected.policy;
    master_slave.mode = Mode::kMasterSlave;
    EXPECT_TRUE(CheckPolicy(master_slave).ok()) << rejected.name;
  }
}

// CheckPolicy and the row model agree on every resolver in every single place.
TEST(ConvergenceTest, CheckPolicyAgreesWithTheRowModelForEveryResolver) {
  for (ResolverKind kind : AllKinds()) {
    const ConflictPolicy policy = MasterMaster(Make(kind));
    EXPECT_EQ(CheckPolicy(policy).ok(), FirstDivergenceAnywhere(policy).empty())
        << "default " << ResolverName(kind);
    for (ConflictType type : AllConflictTypes()) {
      ConflictPolicy one_type = MasterMaster(Make(ResolverKind::kLastWriterWins));
      one_type.by_type[type] = Make(kind);
      EXPECT_EQ(CheckPolicy(one_type).ok(), FirstDivergenceAnywhere(one_type).empty())
          << ConflictTypeName(type) << ": " << ResolverName(kind);
    }
  }
}

TEST(ConvergenceTest, CheckPolicyAgreesWithTheRowModelOnEveryUpdateDeleteMix) {
  int accepted = 0;
  for (ResolverKind at_deleter : AllKinds()) {
    for (ResolverKind at_updater : AllKinds()) {
      ConflictPolicy policy = MasterMaster(Make(ResolverKind::kError));
      TablePolicy table;
      table.by_type[kUpdateMissing] = Make(at_deleter);
      table.by_type[kDeleteDiffers] = Make(at_updater);
      policy.tables["public.t"] = table;
      const Status status = CheckPolicy(policy);
      const std::string divergence = FirstDivergenceAnywhere(policy);
      EXPECT_EQ(status.ok(), divergence.empty())
          << ResolverName(at_deleter) << "/" << ResolverName(at_updater) << ": " << status.message()
          << " / " << divergence;
      if (!status.ok()) {
        EXPECT_NE(status.message().find("table public.t, update_missing: "), std::string::npos);
        EXPECT_NE(status.message().find("delete_differs: "), std::string::npos);
      }
      accepted += status.ok();
    }
  }
  // A stop on either side (17); the delete wins: target_wins, skip or a comparing resolver where
  // the row was deleted, source_wins or a comparing resolver where it was updated (6 x 5); the
  // update wins: source_wins against target_wins or skip (2); priority on both sides (1).
  EXPECT_EQ(accepted, 50);
}

TEST(ConvergenceTest, DeltaAddsCountersOnBothNodes) {
  // Worked example: both nodes end with stock 10 + 1 + 2 and one name, whichever node wins it.
  const ConflictPolicy policy = MasterMaster(Make(ResolverKind::kDelta));
  const Row base = Version(0, 0, 0, 10);
  const Row east = Version(1, 0, 5, 11);
  const Row west = Version(2, 2, 5, 12);
  const Applied at_east = Handle(policy, "t", kUpdateDiffers, "east", east, {"west", base, west});
  const Applied at_west = Handle(policy, "t", kUpdateDiffers, "west", west, {"east", base, east});
  EXPECT_EQ(at_east.row, at_west.row) << Show(at_east.row) << " / " << Show(at_west.row);
  EXPECT_EQ(at_east.row.values.at("stock"), 13);
  EXPECT_EQ(at_east.row.values.at("name"), 2);  // west > east
  EXPECT_EQ(at_east.row.values.at("note"), 2);  // changed by west only
}

TEST(ConvergenceTest, ATableInheritingTheProblemIsReportedOnce) {
  ConflictPolicy policy = MasterMaster(Make(ResolverKind::kSourceWins));
  TablePolicy table;
  table.by_type[kUpdateDiffers] = Make(ResolverKind::kLastWriterWins);
  policy.tables["public.t"] = table;
  const Status status = CheckPolicy(policy);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("(every table), insert_exists"), std::string::npos);
  EXPECT_EQ(status.message().find("table public.t"), std::string::npos) << status.message();
}

TEST(ConvergenceTest, OneLinePerProblem) {
  const Status status = CheckPolicy(MasterMaster(Make(ResolverKind::kSourceWins)));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "conflicts: (every table), insert_exists: source_wins does not converge in "
            "master-master (both nodes would apply the other's row and swap them): source_wins "
            "converges only if the other node is configured the opposite way: use `priority: "
            "[this node, other]` instead, which says the same on both nodes\n"
            "conflicts: (every table), unique_exists: source_wins does not converge in "
            "master-master (both nodes would apply the other's row and swap them): source_wins "
            "converges only if the other node is configured the opposite way: use `priority: "
            "[this node, other]` instead, which says the same on both nodes\n"
            "conflicts: (every table), update_exists: source_wins does not converge in "
            "master-master (both nodes would apply the other's row and swap them): source_wins "
            "converges only if the other node is configured the opposite way: use `priority: "
            "[this node, other]` instead, which says the same on both nodes\n"
            "conflicts: (every table), update_differs: source_wins does not converge in "
            "master-master (both nodes would apply the other's row and swap them): source_wins "
            "converges only if the other node is configured the opposite way: use `priority: "
            "[this node, other]` instead, which says the same on both nodes\n"
            "conflicts: (every table), update_missing: source_wins with delete_differs: "
            "source_wins does not converge in master-master (the node that deleted the row would "
            "insert the other's update while the other deletes the row): use the same "
            "last_writer_wins, priority, max, min or delta for both types (the delete wins, or "
            "priority decides), or update_missing: source_wins with delete_differs: target_wins "
            "(the update wins)");
}

TEST(ConvergenceTest, PriorityRanksUnlistedNodesToo) {
  // Three nodes, two listed: the unlisted one loses to both, the same way on every node.
  Resolver priority = Make(ResolverKind::kPriority);
  priority.nodes = {"west", "east"};
  const ConflictPolicy policy = MasterMaster(priority);
  EXPECT_TRUE(CheckPolicy(policy).ok());
  EXPECT_EQ(FirstDivergenceAnywhere(policy), "");
}

}  // namespace
}  // namespace ferry::conflict
