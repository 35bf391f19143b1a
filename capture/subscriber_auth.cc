#include "capture/subscriber_auth.h"

#include "common/secrets.h"
#include "wire/auth.h"

namespace ferry::capture {

SubscriberAuthenticator::SubscriberAuthenticator(SubscriberPolicy policy)
    : policy_(std::move(policy)) {}

std::string SubscriberAuthenticator::Describe() const {
  if (policy_.subscribers.empty()) {
    return "any subscriber id holding the shared auth token (list `subscribers:` to bind each id "
           "to its own token)";
  }
  std::string ids;
  for (const SubscriberCredentials& subscriber : policy_.subscribers) {
    ids += (ids.empty() ? "" : ", ") + subscriber.id;
  }
  return "only the listed subscribers (" + ids + ")";
}

const SubscriberCredentials* SubscriberAuthenticator::Find(const std::string& id) const {
  for (const SubscriberCredentials& subscriber : policy_.subscribers) {
    if (subscriber.id == id) return &subscriber;
  }
  return nullptr;
}

Result<std::string> SubscriberAuthenticator::Admit(const wire::Hello& hello,
                                                   const std::string& server_nonce,
                                                   const std::string& certificate_name) const {
  const std::string& id = hello.subscriber_id();
  if (id.empty()) return Status::Error("Hello without subscriber id");
  std::string token = policy_.shared_token;
  if (!policy_.subscribers.empty()) {
    const SubscriberCredentials* listed = Find(id);
    if (listed == nullptr) {
      return Status::Error("subscriber '" + id +
                           "' is not listed in this capture agent's `subscribers:`; add it "
                           "there, or set the apply agent's node name to a listed id");
    }
    if (!listed->auth_token.empty()) token = listed->auth_token;
    if (!listed->certificate_name.empty() && certificate_name != listed->certificate_name) {
      return Status::Error("subscriber '" + id +
                           "' must connect with a client certificate named '" +
                           listed->certificate_name + "', not " +
                           (certificate_name.empty() ? std::string("without one")
                                                     : "one named '" + certificate_name + "'") +
                           "; give its upstream's tls: the certificate issued for it");
    }
  }
  if (hello.client_nonce().size() != wire::kNonceBytes) {
    return Status::Error("Hello without a client nonce of " + std::to_string(wire::kNonceBytes) +
                         " bytes");
  }
  const wire::AuthExchange exchange{server_nonce, hello.client_nonce(), id};
  if (!ConstantTimeEquals(hello.auth_proof(), wire::HelloProof(token, exchange))) {
    return Status::Error("authentication failed for subscriber '" + id +
                         "': the apply agent's auth token does not match the one this capture "
                         "agent holds for it (its auth_token_file)");
  }
  return token;
}

}  // namespace ferry::capture
