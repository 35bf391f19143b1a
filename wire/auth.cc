#include "wire/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace ferry::wire {
namespace {

// Each field is preceded by its length, so that no two different inputs give the same message
// (a subscriber id cannot be shifted into a nonce).
void AppendField(std::string& out, const std::string& field) {
  const auto size = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  out += field;
}

std::string ProofMessage(const char* label, const AuthExchange& exchange) {
  std::string message;
  AppendField(message, label);
  AppendField(message, exchange.server_nonce);
  AppendField(message, exchange.client_nonce);
  AppendField(message, exchange.subscriber);
  return message;
}

}  // namespace

Result<std::string> RandomNonce() {
  std::string nonce(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), static_cast<int>(nonce.size())) !=
      1) {
    return Status::Error(
        "cannot draw random bytes for an authentication nonce (OpenSSL RAND_bytes)");
  }
  return nonce;
}

std::string HmacSha256(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string HelloProof(const std::string& token, const AuthExchange& exchange) {
  return HmacSha256(token, ProofMessage("ferry hello", exchange));
}

std::string WelcomeProof(const std::string& token, const AuthExchange& exchange) {
  return HmacSha256(token, ProofMessage("ferry welcome", exchange));
}

}  // namespace ferry::wire
