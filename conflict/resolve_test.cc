// Resolve, resolver by resolver and type by type.
#include <gtest/gtest.h>

#include "conflict/conflict.h"

namespace ferry::conflict {
namespace {

using enum ConflictType;
constexpr Outcome kA = Outcome::kAppliedRemote;
constexpr Outcome kK = Outcome::kKeptLocal;
constexpr Outcome kM = Outcome::kMerged;
constexpr Outcome kS = Outcome::kSkipped;
constexpr Outcome kX = Outcome::kStopped;

Resolver Make(ResolverKind kind, std::string column = "", std::vector<std::string> columns = {},
              std::vector<std::string> nodes = {}) {
  Resolver resolver;
  resolver.kind = kind;
  resolver.column = std::move(column);
  resolver.columns = std::move(columns);
  resolver.nodes = std::move(nodes);
  return resolver;
}

ConflictFacts Facts(ConflictType type, std::string local, std::string remote,
                    std::optional<int> remote_vs_local = std::nullopt, bool complete = true) {
  ConflictFacts facts;
  facts.type = type;
  facts.local_node = std::move(local);
  facts.remote_origin = std::move(remote);
  facts.remote_vs_local = remote_vs_local;
  facts.remote_complete = complete;
  return facts;
}

// Every resolver against every type, on node east receiving a change from west (which wins any
// name tie) whose compared column is larger than the local one.
struct MatrixRow {
  Resolver resolver;
  std::vector<Outcome> outcomes;  // in AllConflictTypes() order
};

TEST(ResolveTest, EveryResolverForEveryType) {
  const std::vector<MatrixRow> rows = {
      // insert, unique, update_exists, update_missing, update_differs, delete_missing, d_differs
      {Make(ResolverKind::kSourceWins), {kA, kA, kA, kA, kA, kS, kA}},
      {Make(ResolverKind::kTargetWins), {kK, kK, kK, kK, kK, kS, kK}},
      {Make(ResolverKind::kLastWriterWins, "updated_at"), {kA, kA, kA, kK, kA, kS, kA}},
      {Make(ResolverKind::kMax, "version"), {kA, kA, kA, kK, kA, kS, kA}},
      {Make(ResolverKind::kMin, "price"), {kK, kK, kK, kK, kK, kS, kA}},
      {Make(ResolverKind::kPriority, "", {}, {"east", "west"}), {kK, kK, kK, kK, kK, kS, kK}},
      {Make(ResolverKind::kPriority, "", {}, {"west", "east"}), {kA, kA, kA, kA, kA, kS, kA}},
      {Make(ResolverKind::kDelta, "", {"stock"}), {kM, kA, kA, kK, kM, kS, kA}},
      {Make(ResolverKind::kSkip), {kS, kS, kS, kS, kS, kS, kS}},
      {Make(ResolverKind::kError), {kX, kX, kX, kX, kX, kX, kX}},
  };
  for (const MatrixRow& row : rows) {
    ASSERT_EQ(row.outcomes.size(), AllConflictTypes().size());
    for (std::size_t i = 0; i < row.outcomes.size(); ++i) {
      const ConflictType type = AllConflictTypes()[i];
      const Decision decision = Resolve(row.resolver, Facts(type, "east", "west", 1));
      EXPECT_EQ(OutcomeName(decision.outcome), OutcomeName(row.outcomes[i]))
          << Describe(row.resolver) << " on " << ConflictTypeName(type);
      EXPECT_FALSE(decision.reason.empty());
    }
  }
}

// One case: a resolver, the facts, and what must come out.
struct Case {
  std::string name;
  Resolver resolver;
  ConflictFacts facts;
  Outcome outcome;
  std::string reason;  // when not empty: the exact reason
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const Decision decision = Resolve(c.resolver, c.facts);
    EXPECT_EQ(OutcomeName(decision.outcome), OutcomeName(c.outcome)) << c.name;
    if (!c.reason.empty()) {
      EXPECT_EQ(decision.reason, c.reason) << c.name;
    }
    EXPECT_TRUE(decision.take_remote.empty()) << c.name;
  }
}

TEST(ResolveTest, LastWriterWinsComparesThenTiesByNodeName) {
  const Resolver lww = Make(ResolverKind::kLastWriterWins, "updated_at");
  RunCases({
      {"later", lww, Facts(kUpdateDiffers, "west", "east", 1), kA, "remote updated_at is later"},
      {"earlier", lww, Facts(kUpdateDiffers, "east", "west", -1), kK, "local updated_at is later"},
      {"tie, remote name larger", lww, Facts(kInsertExists, "east", "west", 0), kA,
       "tie on updated_at: node west > east"},
      {"tie, local name larger", lww, Facts(kInsertExists, "west", "east", 0), kK,
       "tie on updated_at: node west > east"},
      {"null, remote name larger", lww, Facts(kUniqueExists, "east", "west"), kA, ""},
      {"null, local name larger", lww, Facts(kUpdateExists, "west", "east"), kK, ""},
      {"same node name", lww, Facts(kUpdateDiffers, "east", "east", 0), kK, ""},
      {"names compare as strings", lww, Facts(kUpdateDiffers, "node10", "node9", 0), kA, ""},
      {"local delete wins", lww, Facts(kUpdateMissing, "west", "east", 1), kK,
       "the local delete wins over a remote update"},
      {"remote delete wins", lww, Facts(kDeleteDiffers, "west", "east"), kA,
       "the remote delete wins over a local update"},
  });
}

TEST(ResolveTest, MaxAndMinCompareInOppositeSenses) {
  const Resolver max = Make(ResolverKind::kMax, "version");
  const Resolver min = Make(ResolverKind::kMin, "price");
  RunCases({
      {"max larger", max, Facts(kUpdateDiffers, "west", "east", 1), kA, "remote version is larger"},
      {"max smaller", max, Facts(kUpdateDiffers, "east", "west", -1), kK,
       "local version is larger"},
      {"max tie", max, Facts(kInsertExists, "east", "west", 0), kA,
       "tie on version: node west > east"},
      {"min smaller", min, Facts(kUpdateDiffers, "west", "east", -1), kA,
       "remote price is smaller"},
      {"min larger", min, Facts(kUpdateDiffers, "east", "west", 1), kK, "local price is smaller"},
      {"min tie keeps name order", min, Facts(kInsertExists, "east", "west", 0), kA,
       "tie on price: node west > east"},
      {"min null", min, Facts(kInsertExists, "west", "east"), kK, ""},
      {"min update_missing", min, Facts(kUpdateMissing, "east", "west", -1), kK, ""},
      {"min delete_differs", min, Facts(kDeleteDiffers, "west", "east"), kA, ""},
      {"max update_missing", max, Facts(kUpdateMissing, "east", "west", 1), kK, ""},
  });
}

TEST(ResolveTest, PriorityRanksListedNodesBeforeUnlistedOnes) {
  const Resolver east_first = Make(ResolverKind::kPriority, "", {}, {"east", "west"});
  const Resolver only_east = Make(ResolverKind::kPriority, "", {}, {"east"});
  RunCases({
      {"remote first", east_first, Facts(kUpdateDiffers, "west", "east"), kA,
       "east precedes west in priority"},
      {"local first", east_first, Facts(kUpdateDiffers, "east", "west"), kK,
       "east precedes west in priority"},
      {"priority beats a larger column", east_first, Facts(kInsertExists, "east", "west", 1), kK,
       ""},
      {"listed remote beats unlisted local", only_east, Facts(kInsertExists, "north", "east"), kA,
       "east precedes north in priority"},
      {"listed local beats unlisted remote", only_east, Facts(kInsertExists, "east", "zulu"), kK,
       "east precedes zulu in priority"},
      {"unlisted pair ties by name, remote larger", only_east,
       Facts(kUpdateDiffers, "north", "south"), kA, ""},
      {"unlisted pair ties by name, local larger", only_east,
       Facts(kUpdateDiffers, "south", "north"), kK, ""},
      {"update_missing, remote first: inserted", east_first, Facts(kUpdateMissing, "west", "east"),
       kA, ""},
      {"update_missing, local first: stays deleted", east_first,
       Facts(kUpdateMissing, "east", "west"), kK, ""},
      {"delete_differs, remote first: deleted", east_first, Facts(kDeleteDiffers, "west", "east"),
       kA, ""},
      {"delete_differs, local first: kept", east_first, Facts(kDeleteDiffers, "east", "west"), kK,
       ""},
      {"unique_exists", east_first, Facts(kUniqueExists, "west", "east"), kA, ""},
      {"update_exists", east_first, Facts(kUpdateExists, "east", "west"), kK, ""},
      {"delete_missing", east_first, Facts(kDeleteMissing, "west", "east"), kS, ""},
  });
}

TEST(ResolveTest, AnIncompleteRowIsNotInserted) {
  const std::string reason = "the remote row lacks values for some columns and cannot be inserted";
  const Resolver source = Make(ResolverKind::kSourceWins);
  const Resolver east_first = Make(ResolverKind::kPriority, "", {}, {"east", "west"});
  RunCases({
      {"source_wins", source, Facts(kUpdateMissing, "west", "east", std::nullopt, false), kK,
       reason},
      {"source_wins complete", source, Facts(kUpdateMissing, "west", "east", std::nullopt, true),
       kA, "source_wins: the remote change is applied"},
      {"source_wins, not an insert", source,
       Facts(kUpdateDiffers, "west", "east", std::nullopt, false), kA, ""},
      {"source_wins, delete", source, Facts(kDeleteDiffers, "west", "east", std::nullopt, false),
       kA, ""},
      {"priority, remote first", east_first,
       Facts(kUpdateMissing, "west", "east", std::nullopt, false), kK, reason},
      {"priority, local first", east_first,
       Facts(kUpdateMissing, "east", "west", std::nullopt, false), kK,
       "east precedes west in priority"},
      {"priority, not an insert", east_first,
       Facts(kUpdateDiffers, "west", "east", std::nullopt, false), kA, ""},
  });
}

TEST(ResolveTest, FixedResolvers) {
  RunCases({
      {"target_wins", Make(ResolverKind::kTargetWins), Facts(kUpdateMissing, "a", "b"), kK,
       "target_wins: the local row stays"},
      {"skip", Make(ResolverKind::kSkip), Facts(kInsertExists, "a", "b"), kS,
       "skip: the remote change is dropped"},
      {"error", Make(ResolverKind::kError), Facts(kUpdateDiffers, "a", "b", 1), kX,
       "error: the stream stops until an operator fixes the row"},
  });
}

TEST(ResolveTest, DeleteMissingLeavesNothingToDoExceptUnderError) {
  for (ResolverKind kind :
       {ResolverKind::kSourceWins, ResolverKind::kTargetWins, ResolverKind::kLastWriterWins,
        ResolverKind::kPriority, ResolverKind::kMax, ResolverKind::kMin, ResolverKind::kDelta,
        ResolverKind::kSkip}) {
    const Decision decision =
        Resolve(Make(kind, "c", {"c"}, {"b", "a"}), Facts(kDeleteMissing, "a", "b", 1));
    EXPECT_EQ(decision.outcome, Outcome::kSkipped) << ResolverName(kind);
    EXPECT_EQ(decision.reason, "the row is already gone: nothing to do");
  }
  EXPECT_EQ(Resolve(Make(ResolverKind::kError), Facts(kDeleteMissing, "a", "b")).outcome,
            Outcome::kStopped);
}

// delta: the facts of one update/update or insert/insert conflict and the columns taken.
struct DeltaCase {
  std::string name;
  ConflictFacts facts;
  std::set<std::string> remote_changed;
  std::set<std::string> local_changed;
  std::set<std::string> take_remote;
};

TEST(ResolveTest, DeltaTakesTheRemoteColumnsItShould) {
  const Resolver delta = Make(ResolverKind::kDelta, "", {"stock", "balance"});
  const std::vector<DeltaCase> cases = {
      {"update, remote wins the name tie",
       Facts(kUpdateDiffers, "east", "west"),
       {"stock", "name", "price"},
       {"stock", "price", "note"},
       {"name", "price"}},
      {"update, local wins the name tie",
       Facts(kUpdateDiffers, "west", "east"),
       {"stock", "name", "price"},
       {"stock", "price", "note"},
       {"name"}},
      {"update, only counters changed remotely",
       Facts(kUpdateDiffers, "east", "west"),
       {"stock", "balance"},
       {"name"},
       {}},
      {"update, nothing changed locally",
       Facts(kUpdateDiffers, "west", "east"),
       {"name", "balance"},
       {},
       {"name"}},
      {"update, the compared column does not matter",
       Facts(kUpdateDiffers, "west", "east", 1),
       {"name"},
       {"name"},
       {}},
      {"insert, remote wins the name tie",
       Facts(kInsertExists, "east", "west"),
       {"id", "stock", "name", "balance"},
       {"id", "name"},
       {"id", "name"}},
      {"insert, local wins the name tie",
       Facts(kInsertExists, "west", "east"),
       {"id", "stock", "name", "balance"},
       {"id", "name"},
       {}},
  };
  for (const DeltaCase& c : cases) {
    ConflictFacts facts = c.facts;
    facts.remote_changed = c.remote_changed;
    facts.local_changed = c.local_changed;
    const Decision decision = Resolve(delta, facts);
    EXPECT_EQ(decision.outcome, Outcome::kMerged) << c.name;
    EXPECT_EQ(decision.take_remote, c.take_remote) << c.name;
    EXPECT_FALSE(decision.reason.empty()) << c.name;
  }
}

TEST(ResolveTest, DeltaDecidesOtherTypesByNameOrDelete) {
  const Resolver delta = Make(ResolverKind::kDelta, "", {"stock"});
  RunCases({
      {"unique_exists, remote larger", delta, Facts(kUniqueExists, "east", "west"), kA, ""},
      {"unique_exists, local larger", delta, Facts(kUniqueExists, "west", "east"), kK, ""},
      {"update_exists, remote larger", delta, Facts(kUpdateExists, "east", "west"), kA, ""},
      {"update_exists, local larger", delta, Facts(kUpdateExists, "west", "east"), kK, ""},
      {"update_missing", delta, Facts(kUpdateMissing, "east", "west"), kK,
       "the local delete wins over a remote update"},
      {"delete_differs", delta, Facts(kDeleteDiffers, "west", "east"), kA,
       "the remote delete wins over a local update"},
  });
}

}  // namespace
}  // namespace ferry::conflict
