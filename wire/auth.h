// Authentication without sending the secret (wire/PROTOCOL.md, "Authentication"). The capture
// agent opens each connection with a Challenge carrying a fresh random nonce; the apply agent
// answers in its Hello with a nonce of its own and an HMAC-SHA256, keyed with the subscriber's
// token, over both nonces and the subscriber id; the capture agent answers in its Welcome with
// an HMAC over the same inputs under another label. An eavesdropper learns neither the token nor
// anything it could replay: every connection has new nonces, so every proof is new.
#pragma once

#include <string>

#include "common/status.h"

namespace ferry::wire {

// Bytes of a nonce; one from either side enters every proof.
inline constexpr size_t kNonceBytes = 32;

// kNonceBytes from the operating system's random source (through OpenSSL).
Result<std::string> RandomNonce();

// The nonces and the subscriber a proof binds to.
struct AuthExchange {
  std::string server_nonce;  // Challenge.nonce
  std::string client_nonce;  // Hello.client_nonce
  std::string subscriber;    // Hello.subscriber_id
};

// What the apply agent sends in Hello.auth_proof: it holds `token`.
std::string HelloProof(const std::string& token, const AuthExchange& exchange);
// What the capture agent sends in Welcome.auth_proof: it holds `token` too. Under another label
// than HelloProof, so the capture agent's proof is never the one it was just sent.
std::string WelcomeProof(const std::string& token, const AuthExchange& exchange);

// HMAC-SHA256 of `message` under `key` (RFC 2104), 32 raw bytes.
std::string HmacSha256(const std::string& key, const std::string& message);

}  // namespace ferry::wire
