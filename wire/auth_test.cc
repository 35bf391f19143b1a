#include "wire/auth.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace ferry::wire {
namespace {

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// RFC 4231, test case 2: the HMAC is the standard one, so another implementation can check it.
TEST(AuthTest, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AuthTest, NoncesAreFreshAndFullLength) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    Result<std::string> nonce = RandomNonce();
    ASSERT_TRUE(nonce.ok()) << nonce.message();
    EXPECT_EQ(nonce->size(), kNonceBytes);
    seen.insert(*nonce);
  }
  EXPECT_EQ(seen.size(), 100u);
}

// A proof holds for the one exchange it was made for: another server nonce (a replay on a new
// connection), another client nonce, another subscriber or another token each change it.
TEST(AuthTest, AProofBindsTheTokenBothNoncesAndTheSubscriber) {
  const std::string token = "0123456789abcdef-token";
  const AuthExchange exchange{std::string(32, 'S'), std::string(32, 'C'), "west"};
  const std::string proof = HelloProof(token, exchange);
  EXPECT_EQ(proof.size(), 32u);
  EXPECT_EQ(proof, HelloProof(token, exchange));
  AuthExchange other = exchange;
  other.server_nonce[0] = 'T';
  EXPECT_NE(HelloProof(token, other), proof);
  other = exchange;
  other.client_nonce[31] = 'D';
  EXPECT_NE(HelloProof(token, other), proof);
  other = exchange;
  other.subscriber = "east";
  EXPECT_NE(HelloProof(token, other), proof);
  EXPECT_NE(HelloProof(token + "x", exchange), proof);
  // Fields are length-prefixed: moving a byte from one field to the next is another message.
  const AuthExchange shifted{std::string(32, 'S') + "C", std::string(31, 'C'), "west"};
  EXPECT_NE(HelloProof(token, shifted), proof);
}

TEST(AuthTest, TheCaptureAgentsProofIsNotTheApplyAgents) {
  const AuthExchange exchange{std::string(32, 'S'), std::string(32, 'C'), "west"};
  EXPECT_NE(WelcomeProof("some-long-token-value", exchange),
            HelloProof("some-long-token-value", exchange));
}

}  // namespace
}  // namespace ferry::wire
