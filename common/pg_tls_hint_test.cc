#include "common/pg_tls_hint.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

// The messages are libpq 15's own (fe-secure-openssl.c and the server's pg_hba refusal).
TEST(PostgresTlsHintTest, NamesTheDsnKeyThatFixesEachTlsFailure) {
  EXPECT_NE(PostgresTlsHint("connection to server at \"127.0.0.1\", port 5432 failed: SSL error: "
                            "certificate verify failed")
                .find("set sslrootcert to the file of the CA"),
            std::string::npos);
  EXPECT_NE(PostgresTlsHint("server certificate for \"localhost\" does not match host name "
                            "\"127.0.0.1\"")
                .find("sslmode=verify-ca"),
            std::string::npos);
  EXPECT_NE(
      PostgresTlsHint("server does not support SSL, but SSL was required").find("sslmode=disable"),
      std::string::npos);
  EXPECT_NE(PostgresTlsHint("FATAL:  no pg_hba.conf entry for host \"127.0.0.1\", user "
                            "\"postgres\", database \"ferry\", no encryption")
                .find("sslmode=verify-full"),
            std::string::npos);
}

TEST(PostgresTlsHintTest, AddsNothingToOtherFailures) {
  EXPECT_EQ(PostgresTlsHint("connection refused"), "");
  EXPECT_EQ(PostgresTlsHint("FATAL:  password authentication failed for user \"ferry\""), "");
  EXPECT_EQ(PostgresTlsHint("FATAL:  no pg_hba.conf entry for host \"10.0.0.1\", user \"a\", "
                            "database \"b\", SSL encryption"),
            "");
}

TEST(PostgresTlsHintTest, StatesWhetherAConnectionUsesTls) {
  EXPECT_EQ(PostgresTlsState(nullptr), "without TLS");
  EXPECT_EQ(PostgresTlsState("TLS_AES_256_GCM_SHA384"), "over TLS (TLS_AES_256_GCM_SHA384)");
}

}  // namespace
}  // namespace ferry
