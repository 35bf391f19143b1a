#include "capture/subscriber_auth.h"

#include <gtest/gtest.h>

#include "wire/auth.h"

namespace ferry::capture {
namespace {

const std::string kShared = "shared-token-0123456789";
const std::string kWest = "west-token-0123456789";
const std::string kServerNonce(wire::kNonceBytes, 'S');

// The Hello an apply agent holding `token` sends as `id`.
wire::Hello HelloFrom(const std::string& id, const std::string& token) {
  wire::Hello hello;
  hello.set_subscriber_id(id);
  hello.set_client_nonce(std::string(wire::kNonceBytes, 'C'));
  hello.set_auth_proof(wire::HelloProof(token, {kServerNonce, hello.client_nonce(), id}));
  return hello;
}

TEST(SubscriberAuthTest, WithoutAListAnyIdProvingTheSharedTokenIsAdmitted) {
  const SubscriberAuthenticator auth(SubscriberPolicy{kShared, {}});
  for (const std::string id : {"west", "east"}) {
    Result<std::string> token = auth.Admit(HelloFrom(id, kShared), kServerNonce, "");
    ASSERT_TRUE(token.ok()) << token.message();
    EXPECT_EQ(*token, kShared);
  }
  Result<std::string> wrong = auth.Admit(HelloFrom("west", kWest), kServerNonce, "");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("authentication failed for subscriber 'west'"), std::string::npos)
      << wrong.message();
  EXPECT_NE(auth.Describe().find("any subscriber id"), std::string::npos);
}

// A proof made for another connection's challenge (a recorded Hello played again) is refused.
TEST(SubscriberAuthTest, AReplayedHelloIsRefused) {
  const SubscriberAuthenticator auth(SubscriberPolicy{kShared, {}});
  const wire::Hello recorded = HelloFrom("west", kShared);
  ASSERT_TRUE(auth.Admit(recorded, kServerNonce, "").ok());
  const std::string next_nonce(wire::kNonceBytes, 'T');
  EXPECT_FALSE(auth.Admit(recorded, next_nonce, "").ok());
}

// With a list only the listed ids get in, each with its own token (or the shared one when it has
// none): west's token does not open east's slot, nor the shared token west's.
TEST(SubscriberAuthTest, AListAdmitsOnlyItsIdsEachWithItsOwnToken) {
  const SubscriberAuthenticator auth(
      SubscriberPolicy{kShared, {{"west", kWest, ""}, {"east", "", ""}}});
  EXPECT_TRUE(auth.Admit(HelloFrom("west", kWest), kServerNonce, "").ok());
  EXPECT_FALSE(auth.Admit(HelloFrom("west", kShared), kServerNonce, "").ok());
  EXPECT_TRUE(auth.Admit(HelloFrom("east", kShared), kServerNonce, "").ok());
  EXPECT_FALSE(auth.Admit(HelloFrom("east", kWest), kServerNonce, "").ok());
  Result<std::string> stranger = auth.Admit(HelloFrom("north", kShared), kServerNonce, "");
  ASSERT_FALSE(stranger.ok());
  EXPECT_NE(stranger.message().find("'north' is not listed"), std::string::npos)
      << stranger.message();
  EXPECT_EQ(auth.Describe(), "only the listed subscribers (west, east)");
}

TEST(SubscriberAuthTest, AListedCertificateNameMustBeTheClientCertificates) {
  const SubscriberAuthenticator auth(SubscriberPolicy{"", {{"west", kWest, "apply-west"}}});
  EXPECT_TRUE(auth.Admit(HelloFrom("west", kWest), kServerNonce, "apply-west").ok());
  Result<std::string> other = auth.Admit(HelloFrom("west", kWest), kServerNonce, "apply-east");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.message().find("named 'apply-west', not one named 'apply-east'"),
            std::string::npos)
      << other.message();
  EXPECT_FALSE(auth.Admit(HelloFrom("west", kWest), kServerNonce, "").ok());
}

TEST(SubscriberAuthTest, AHelloWithoutIdOrNonceIsRefused) {
  const SubscriberAuthenticator auth(SubscriberPolicy{kShared, {}});
  EXPECT_FALSE(auth.Admit(HelloFrom("", kShared), kServerNonce, "").ok());
  wire::Hello no_nonce = HelloFrom("west", kShared);
  no_nonce.clear_client_nonce();
  no_nonce.set_auth_proof(wire::HelloProof(kShared, {kServerNonce, "", "west"}));
  Result<std::string> refused = auth.Admit(no_nonce, kServerNonce, "");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("client nonce"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace ferry::capture
