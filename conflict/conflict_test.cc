// Names, policy lookup, defaults and CheckPolicy's parameter checks. Resolve is covered in
// resolve_test.cc and master-master convergence in convergence_test.cc.
#include "conflict/conflict.h"

#include <gtest/gtest.h>

namespace ferry::conflict {
namespace {

Resolver Make(ResolverKind kind) {
  Resolver resolver;
  resolver.kind = kind;
  return resolver;
}

Resolver Column(ResolverKind kind, std::string column) {
  Resolver resolver = Make(kind);
  resolver.column = std::move(column);
  return resolver;
}

Resolver Priority(std::vector<std::string> nodes) {
  Resolver resolver = Make(ResolverKind::kPriority);
  resolver.nodes = std::move(nodes);
  return resolver;
}

Resolver Delta(std::vector<std::string> columns) {
  Resolver resolver = Make(ResolverKind::kDelta);
  resolver.columns = std::move(columns);
  return resolver;
}

TEST(ConflictNamesTest, TypesRoundTripInDeclaredOrder) {
  const std::vector<std::string> expected = {"insert_exists",  "unique_exists",  "update_exists",
                                             "update_missing", "update_differs", "delete_missing",
                                             "delete_differs"};
  ASSERT_EQ(AllConflictTypes().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const ConflictType type = AllConflictTypes()[i];
    EXPECT_EQ(ConflictTypeName(type), expected[i]);
    EXPECT_EQ(ParseConflictType(expected[i]), type);
  }
  EXPECT_EQ(AllConflictTypes().front(), ConflictType::kInsertExists);
  EXPECT_EQ(AllConflictTypes().back(), ConflictType::kDeleteDiffers);
}

TEST(ConflictNamesTest, UnknownNamesDoNotParse) {
  EXPECT_FALSE(ParseConflictType(""));
  EXPECT_FALSE(ParseConflictType("Insert_Exists"));
  EXPECT_FALSE(ParseConflictType("insert_exists "));
  EXPECT_FALSE(ParseResolverKind("lww"));
  EXPECT_FALSE(ParseResolverKind("SOURCE_WINS"));
  EXPECT_FALSE(ParseResolverKind(""));
}

TEST(ConflictNamesTest, ResolversRoundTrip) {
  const std::vector<std::pair<ResolverKind, std::string>> expected = {
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
  for (const auto& [kind, name] : expected) {
    EXPECT_EQ(ResolverName(kind), name);
    EXPECT_EQ(ParseResolverKind(name), kind);
  }
}

TEST(ConflictNamesTest, Outcomes) {
  EXPECT_EQ(OutcomeName(Outcome::kAppliedRemote), "applied_remote");
  EXPECT_EQ(OutcomeName(Outcome::kKeptLocal), "kept_local");
  EXPECT_EQ(OutcomeName(Outcome::kMerged), "merged");
  EXPECT_EQ(OutcomeName(Outcome::kSkipped), "skipped");
  EXPECT_EQ(OutcomeName(Outcome::kStopped), "stopped");
}

TEST(DescribeTest, ShowsParameters) {
  EXPECT_EQ(Describe(Make(ResolverKind::kSourceWins)), "source_wins");
  EXPECT_EQ(Describe(Make(ResolverKind::kTargetWins)), "target_wins");
  EXPECT_EQ(Describe(Make(ResolverKind::kSkip)), "skip");
  EXPECT_EQ(Describe(Make(ResolverKind::kError)), "error");
  EXPECT_EQ(Describe(Column(ResolverKind::kLastWriterWins, "updated_at")),
            "last_writer_wins(updated_at)");
  EXPECT_EQ(Describe(Column(ResolverKind::kMax, "version")), "max(version)");
  EXPECT_EQ(Describe(Column(ResolverKind::kMin, "price")), "min(price)");
  EXPECT_EQ(Describe(Delta({"balance", "stock"})), "delta(balance,stock)");
  EXPECT_EQ(Describe(Priority({"east", "west"})), "priority(east,west)");
}

TEST(DescribeTest, IgnoresParametersOfOtherResolvers) {
  Resolver resolver = Make(ResolverKind::kSourceWins);
  resolver.column = "updated_at";
  resolver.nodes = {"east"};
  EXPECT_EQ(Describe(resolver), "source_wins");
}

TEST(PolicyForTest, LooksUpTableTypeThenTableThenTypeThenDefault) {
  ConflictPolicy policy;
  policy.fallback = Make(ResolverKind::kSourceWins);
  policy.by_type[ConflictType::kUpdateMissing] = Make(ResolverKind::kSkip);
  policy.by_type[ConflictType::kDeleteDiffers] = Make(ResolverKind::kTargetWins);
  TablePolicy with_default;
  with_default.fallback = Column(ResolverKind::kMax, "version");
  with_default.by_type[ConflictType::kDeleteDiffers] = Make(ResolverKind::kError);
  policy.tables["public.a"] = with_default;
  TablePolicy by_type_only;
  by_type_only.by_type[ConflictType::kInsertExists] = Priority({"east"});
  policy.tables["public.b"] = by_type_only;

  // public.a: its own type, then its own default (which hides the policy's types).
  EXPECT_EQ(policy.For("public.a", ConflictType::kDeleteDiffers).kind, ResolverKind::kError);
  EXPECT_EQ(policy.For("public.a", ConflictType::kUpdateMissing).kind, ResolverKind::kMax);
  EXPECT_EQ(policy.For("public.a", ConflictType::kInsertExists).kind, ResolverKind::kMax);
  // public.b: no default of its own, so the policy's types and default.
  EXPECT_EQ(policy.For("public.b", ConflictType::kInsertExists).kind, ResolverKind::kPriority);
  EXPECT_EQ(policy.For("public.b", ConflictType::kUpdateMissing).kind, ResolverKind::kSkip);
  EXPECT_EQ(policy.For("public.b", ConflictType::kUpdateDiffers).kind, ResolverKind::kSourceWins);
  // Any other table.
  EXPECT_EQ(policy.For("public.c", ConflictType::kDeleteDiffers).kind, ResolverKind::kTargetWins);
  EXPECT_EQ(policy.For("public.c", ConflictType::kUniqueExists).kind, ResolverKind::kSourceWins);
  EXPECT_EQ(policy.For("", ConflictType::kUpdateMissing).kind, ResolverKind::kSkip);
}

TEST(PolicyForTest, ReturnsTheConfiguredResolver) {
  ConflictPolicy policy;
  TablePolicy table;
  table.by_type[ConflictType::kUpdateDiffers] = Column(ResolverKind::kLastWriterWins, "ts");
  policy.tables["db.t"] = table;
  EXPECT_EQ(&policy.For("db.t", ConflictType::kUpdateDiffers),
            &policy.tables["db.t"].by_type[ConflictType::kUpdateDiffers]);
  EXPECT_EQ(&policy.For("db.t", ConflictType::kInsertExists), &policy.fallback);
}

TEST(DefaultPolicyTest, MasterSlaveFollowsTheSource) {
  const ConflictPolicy policy = DefaultPolicy(Mode::kMasterSlave);
  EXPECT_EQ(policy.mode, Mode::kMasterSlave);
  EXPECT_EQ(policy.fallback.kind, ResolverKind::kSourceWins);
  EXPECT_TRUE(policy.by_type.empty());
  EXPECT_TRUE(policy.tables.empty());
  for (ConflictType type : AllConflictTypes()) {
    EXPECT_EQ(policy.For("public.t", type).kind, ResolverKind::kSourceWins);
  }
  EXPECT_TRUE(CheckPolicy(policy).ok());
}

TEST(DefaultPolicyTest, MasterMasterStopsExceptOnDeleteMissing) {
  const ConflictPolicy policy = DefaultPolicy(Mode::kMasterMaster);
  EXPECT_EQ(policy.mode, Mode::kMasterMaster);
  EXPECT_EQ(policy.fallback.kind, ResolverKind::kError);
  ASSERT_EQ(policy.by_type.size(), 1u);
  EXPECT_TRUE(policy.tables.empty());
  for (ConflictType type : AllConflictTypes()) {
    EXPECT_EQ(policy.For("public.t", type).kind,
              type == ConflictType::kDeleteMissing ? ResolverKind::kSkip : ResolverKind::kError);
  }
  EXPECT_TRUE(CheckPolicy(policy).ok()) << CheckPolicy(policy).message();
}

ConflictPolicy MasterSlave(Resolver fallback) {
  ConflictPolicy policy;
  policy.fallback = std::move(fallback);
  return policy;
}

TEST(CheckPolicyTest, MasterSlaveTakesEveryResolverWithItsParameters) {
  for (const Resolver& resolver :
       {Make(ResolverKind::kSourceWins), Make(ResolverKind::kTargetWins), Make(ResolverKind::kSkip),
        Make(ResolverKind::kError), Column(ResolverKind::kLastWriterWins, "updated_at"),
        Column(ResolverKind::kMax, "v"), Column(ResolverKind::kMin, "v"), Delta({"stock"}),
        Priority({"east", "west"})}) {
    const Status status = CheckPolicy(MasterSlave(resolver));
    EXPECT_TRUE(status.ok()) << Describe(resolver) << ": " << status.message();
  }
}

TEST(CheckPolicyTest, ComparingResolversNeedColumn) {
  for (ResolverKind kind :
       {ResolverKind::kLastWriterWins, ResolverKind::kMax, ResolverKind::kMin}) {
    const Status status = CheckPolicy(MasterSlave(Make(kind)));
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.message(), "conflicts: (every table), (every type): " + ResolverName(kind) +
                                    " needs `column`: name the column to compare");
  }
}

TEST(CheckPolicyTest, DeltaNeedsColumns) {
  ConflictPolicy policy;
  policy.by_type[ConflictType::kUpdateDiffers] = Make(ResolverKind::kDelta);
  const Status status = CheckPolicy(policy);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "conflicts: (every table), update_differs: delta needs `columns`: name the counter "
            "columns");
}

TEST(CheckPolicyTest, PriorityNeedsDistinctNodes) {
  ConflictPolicy policy;
  TablePolicy empty;
  empty.fallback = Priority({});
  policy.tables["public.a"] = empty;
  TablePolicy twice;
  twice.by_type[ConflictType::kInsertExists] = Priority({"east", "west", "east"});
  policy.tables["public.b"] = twice;
  const Status status = CheckPolicy(policy);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "conflicts: table public.a, (every type): priority needs `nodes`: list the node names, "
            "the strongest first\n"
            "conflicts: table public.b, insert_exists: priority(east,west,east) names a node more "
            "than once: list each node once");
}

TEST(CheckPolicyTest, ParametersAreCheckedInMasterMasterToo) {
  ConflictPolicy policy = DefaultPolicy(Mode::kMasterMaster);
  policy.by_type[ConflictType::kUpdateDiffers] = Make(ResolverKind::kLastWriterWins);
  const Status status = CheckPolicy(policy);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "conflicts: (every table), update_differs: last_writer_wins needs `column`: name the "
            "column to compare");
}

TEST(CheckPolicyTest, ParametersOfOtherKindsAreIgnored) {
  Resolver resolver = Make(ResolverKind::kError);
  resolver.nodes = {"east", "east"};
  EXPECT_TRUE(CheckPolicy(MasterSlave(resolver)).ok());
}

}  // namespace
}  // namespace ferry::conflict
