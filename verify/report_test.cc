// The command's edges that need no server: arguments, table patterns, the text and JSON report.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "verify/catalog.h"
#include "verify/verify.h"
#include "wire/testing/change_records.h"

namespace ferry::verify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(VerifyArgumentsTest, ParsesEveryOption) {
  Result<VerifyArguments> args =
      ParseVerifyArguments({"--config", "apply.yaml", "--source=capture.yaml", "--table",
                            "public.a", "--table=b.c", "--columns", "--json", "--chunk-rows", "500",
                            "--recheck-delay-ms=0", "--recheck-rounds", "5"});
  ASSERT_TRUE(args.ok()) << args.message();
  EXPECT_EQ(args->apply_config, "apply.yaml");
  EXPECT_EQ(args->capture_config, "capture.yaml");
  EXPECT_EQ(args->tables, (std::vector<std::string>{"public.a", "b.c"}));
  EXPECT_TRUE(args->json);
  EXPECT_TRUE(args->options.columns);
  EXPECT_EQ(args->options.chunk_rows, 500u);
  EXPECT_EQ(args->options.recheck_delay.count(), 0);
  EXPECT_EQ(args->options.recheck_rounds, 5);
}

TEST(VerifyArgumentsTest, DefaultsAndErrors) {
  Result<VerifyArguments> args = ParseVerifyArguments({"--config", "a", "--source", "c"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->options.recheck_delay.count(), 2000);
  EXPECT_EQ(args->options.recheck_rounds, 3);
  EXPECT_FALSE(args->json);
  EXPECT_THAT(ParseVerifyArguments({"--config", "a"}).message(), HasSubstr("--source"));
  EXPECT_THAT(
      ParseVerifyArguments({"--config", "a", "--source", "c", "--chunk-rows", "0"}).message(),
      HasSubstr("--chunk-rows needs a number"));
  EXPECT_THAT(ParseVerifyArguments({"--config", "a", "--source", "c", "--fast"}).message(),
              HasSubstr("unknown argument \"--fast\""));
  EXPECT_THAT(ParseVerifyArguments({"--config"}).message(), HasSubstr("--config needs a value"));
}

TEST(VerifyMatchTablesTest, SchemasTablesAndEverything) {
  const std::vector<TableName> all = {{"app", "a"}, {"app", "b"}, {"public", "c"}};
  EXPECT_EQ(MatchTables(all, {}), all);
  EXPECT_EQ(MatchTables(all, {"app.*"}), (std::vector<TableName>{{"app", "a"}, {"app", "b"}}));
  EXPECT_EQ(MatchTables(all, {"public.c", "app.b"}),
            (std::vector<TableName>{{"app", "b"}, {"public", "c"}}));
  // A named table the source lacks stays, so that reading it says so.
  EXPECT_EQ(MatchTables(all, {"app.*", "app.gone"}),
            (std::vector<TableName>{{"app", "a"}, {"app", "b"}, {"app", "gone"}}));
  EXPECT_EQ(MatchTables(all, {"c"}), (std::vector<TableName>{{"public", "c"}}));
}

VerifyReport SampleReport() {
  VerifyReport report;
  report.seconds = 2;
  TableReport equal;
  equal.source_table = equal.target_table = "public.orders";
  equal.source_rows = equal.target_rows = 1000;
  report.tables.push_back(equal);
  TableReport differ;
  differ.source_table = "public.items";
  differ.target_table = "ferry.items";
  differ.source_rows = 10;
  differ.target_rows = 10;
  differ.missing.count = 1;
  differ.missing.listed.push_back({{{"id", wire::testing::Int(3)}}, {}});
  differ.extra.count = 25;
  differ.extra.listed.push_back({{{"id", wire::testing::Int(99)}}, {}});
  differ.differing.count = 1;
  differ.differing.listed.push_back({{{"id", wire::testing::Int(2)}}, {"name", "total"}});
  differ.recheck_rounds = 1;
  report.tables.push_back(differ);
  return report;
}

TEST(VerifyReportTest, ExitCodes) {
  VerifyReport report = SampleReport();
  EXPECT_EQ(report.ExitCode(), 1);
  report.tables.pop_back();
  EXPECT_EQ(report.ExitCode(), 0);
  TableReport failed;
  failed.source_table = "public.nokey";
  failed.error = "no primary key";
  report.tables.push_back(failed);
  EXPECT_EQ(report.ExitCode(), 2);
  EXPECT_EQ(VerifyReport().ExitCode(), 2);  // nothing verified is no agreement
}

TEST(VerifyReportTest, TextHasALinePerTableThenTheKeys) {
  const std::string text = TextReport(SampleReport());
  EXPECT_THAT(text, HasSubstr("public.orders: 1000 rows compared, 0 missing, 0 extra, 0 "
                              "differing\n"));
  EXPECT_THAT(text, HasSubstr("public.items -> ferry.items: 10 rows compared, 1 missing, 25 "
                              "extra, 1 differing\n"));
  EXPECT_THAT(text, HasSubstr("  missing on the target: 1\n    id=3\n"));
  EXPECT_THAT(text, HasSubstr("  extra on the target: 25\n    id=99\n    ... and 24 more\n"));
  EXPECT_THAT(text, HasSubstr("    id=2  columns: name, total\n"));
  EXPECT_THAT(text, HasSubstr("still different when re-checked 2000 ms later"));
  VerifyReport rounds = SampleReport();
  rounds.tables[1].recheck_rounds = 3;
  EXPECT_THAT(TextReport(rounds), HasSubstr("still different after 3 re-checks, 2000 ms apart"));
  rounds.tables[1].recheck_rounds = 0;
  EXPECT_THAT(TextReport(rounds), HasSubstr("not re-checked (--recheck-rounds 0)"));
  EXPECT_THAT(text, HasSubstr("verify: 2 tables, 1010 source rows in 2.0 s (505 rows/s): 1 "
                              "equal, 1 differ, 0 failed; source and target differ\n"));
  EXPECT_THAT(TextReport(VerifyReport{{}, "cannot connect", {}, 0}),
              HasSubstr("verify: error: cannot connect"));
}

TEST(VerifyReportTest, JsonIsOneDocument) {
  const nlohmann::json json = nlohmann::json::parse(JsonReport(SampleReport()));
  EXPECT_EQ(json["exit_code"], 1);
  EXPECT_EQ(json["equal"], false);
  ASSERT_EQ(json["tables"].size(), 2u);
  EXPECT_EQ(json["tables"][0]["status"], "equal");
  const nlohmann::json& items = json["tables"][1];
  EXPECT_EQ(items["status"], "differ");
  EXPECT_EQ(items["target"], "ferry.items");
  EXPECT_EQ(items["missing"]["count"], 1);
  EXPECT_EQ(items["missing"]["listed"][0]["key"]["id"], 3);
  EXPECT_EQ(items["extra"]["count"], 25);
  EXPECT_EQ(items["differing"]["listed"][0]["columns"],
            (std::vector<std::string>{"name", "total"}));
  EXPECT_EQ(items["recheck"]["delay_ms"], 2000);
  EXPECT_EQ(json["rows_per_second"], 505);
  EXPECT_THAT(JsonReport(SampleReport()), Not(HasSubstr("\n{")));
}

}  // namespace
}  // namespace ferry::verify
