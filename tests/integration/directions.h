// The four replication directions (PostgreSQL and MariaDB on either side), for value-
// parameterised end-to-end tests: INSTANTIATE_TEST_SUITE_P(AllDirections, T, kAllDirections,
// DirectionName).
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace ferry::testing {

struct Direction {
  std::string source;
  std::string target;
  // Both servers with their engine's defaults for every setting Ferry does not require
  // (ServerSettings), as a new user's servers have them.
  bool server_defaults = false;
};

inline std::string DirectionName(const ::testing::TestParamInfo<Direction>& info) {
  return info.param.source + "_to_" + info.param.target +
         (info.param.server_defaults ? "_at_defaults" : "");
}

inline const auto kAllDirections =
    ::testing::Values(Direction{"postgres", "postgres"}, Direction{"postgres", "mariadb"},
                      Direction{"mariadb", "postgres"}, Direction{"mariadb", "mariadb"});

// A table's qualified name on `engine`: the tests keep MariaDB tables in the database "ferry",
// PostgreSQL tables in the schema "public".
inline std::string Qualified(const std::string& engine, const std::string& table) {
  return (engine == "postgres" ? "public." : "ferry.") + table;
}

}  // namespace ferry::testing
