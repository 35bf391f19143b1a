#include "common/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ferry {
namespace {

TEST(LogFormatTest, TextLinesStartWithTheLocalTime) {
  const std::string line = FormatLogLine(LogFormat::kText, spdlog::level::warn, "apply", "slow");
  ASSERT_GT(line.size(), 24u);
  EXPECT_EQ(line[4], '-');
  EXPECT_EQ(line[10], 'T');
  EXPECT_EQ(line.substr(23), " warning [apply] slow") << line;
}

// journald adds its own timestamp and reads the level from the "<N>" prefix.
TEST(LogFormatTest, JournalLinesCarryThePriorityAndNoTimestamp) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJournal, spdlog::level::err, "apply", "lost"),
            "<3>error [apply] lost");
  EXPECT_EQ(FormatLogLine(LogFormat::kJournal, spdlog::level::warn, "capture", "x"),
            "<4>warning [capture] x");
  EXPECT_EQ(FormatLogLine(LogFormat::kJournal, spdlog::level::info, "wire", "y"),
            "<6>info  [wire] y");
  EXPECT_EQ(FormatLogLine(LogFormat::kJournal, spdlog::level::debug, "wire", "z"),
            "<7>debug [wire] z");
}

TEST(LogFormatTest, JsonLinesAreObjectsWhateverTheMessageHolds) {
  const std::string line = FormatLogLine(LogFormat::kJson, spdlog::level::info, "apply",
                                         "a \"quoted\"\nline \\ with \xff byte");
  const nlohmann::json json = nlohmann::json::parse(line);
  EXPECT_EQ(json["level"], "info");
  EXPECT_EQ(json["component"], "apply");
  EXPECT_EQ(json["message"], "a \"quoted\"\nline \\ with \xEF\xBF\xBD byte");
  const std::string time = json["time"];
  ASSERT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogFormatTest, NamesAndTheDefault) {
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("journal"), LogFormat::kJournal);
  EXPECT_EQ(ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("JSON"), std::nullopt);
  unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(DefaultLogFormat(), LogFormat::kText);
  setenv("JOURNAL_STREAM", "8:12345", 1);
  EXPECT_EQ(DefaultLogFormat(), LogFormat::kJournal);
  unsetenv("JOURNAL_STREAM");
}

}  // namespace
}  // namespace ferry
