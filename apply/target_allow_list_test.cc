#include "apply/target_allow_list.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace ferry::apply {
namespace {

TEST(TargetAllowListTest, WithoutPatternsEveryTableOutsideReservedSchemasMayBeWritten) {
  const TargetAllowList allowed("postgres");
  EXPECT_TRUE(allowed.Check("public", "orders").ok());
  EXPECT_TRUE(allowed.Check("shop", "items").ok());
  // A PostgreSQL schema may be called sys; on MariaDB it is the server's.
  EXPECT_TRUE(allowed.Check("sys", "items").ok());
  const TargetAllowList mariadb("mariadb");
  EXPECT_TRUE(mariadb.Check("pg_catalog", "items").ok());
  for (const auto& [list, schema] :
       std::vector<std::pair<const TargetAllowList*, std::string>>{{&allowed, "ferry_meta"},
                                                                   {&allowed, "FERRY_META"},
                                                                   {&allowed, "pg_catalog"},
                                                                   {&allowed, "information_schema"},
                                                                   {&allowed, "pg_toast"},
                                                                   {&allowed, "pg_temp_3"},
                                                                   {&mariadb, "ferry_meta"},
                                                                   {&mariadb, "mysql"},
                                                                   {&mariadb, "performance_schema"},
                                                                   {&mariadb, "sys"}}) {
    Status refused = list->Check(schema, "anything");
    ASSERT_FALSE(refused.ok()) << schema;
    EXPECT_NE(refused.message().find("never writes from a stream"), std::string::npos)
        << refused.message();
    EXPECT_NE(refused.message().find("nothing was written"), std::string::npos);
  }
  EXPECT_EQ(allowed.Describe(), "every table outside ferry_meta and the system schemas");
}

TEST(TargetAllowListTest, PatternsAndMappedTargetsAreTheOnlyTablesWritten) {
  const TargetAllowList allowed("postgres", {"public.orders", "shop.*"}, {"archive.old_orders"});
  EXPECT_TRUE(allowed.Check("public", "orders").ok());
  EXPECT_TRUE(allowed.Check("shop", "anything").ok());
  EXPECT_TRUE(allowed.Check("archive", "old_orders").ok());
  Status refused = allowed.Check("public", "users");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("public.users, which is not in this apply agent's tables:"),
            std::string::npos)
      << refused.message();
  // Listing a reserved schema does not open it.
  EXPECT_FALSE(
      TargetAllowList("postgres", {"ferry_meta.*"}).Check("ferry_meta", "checkpoints").ok());
  EXPECT_EQ(allowed.Describe(), "shop.*, archive.old_orders, public.orders");
}

}  // namespace
}  // namespace ferry::apply
