// Who may subscribe to a capture agent, and how each proves it (README "Security").
//
// Without a list of subscribers, any apply agent that proves the shared token may connect under
// any subscriber id (one trusted apply side, or tests). With a list, only the listed ids may
// connect, so slots are made for them alone, and each proves its own token (or the shared one
// when it has none); a listed certificate name must also be the common name of the client
// certificate the connection was verified with (mutual TLS). Either way the token never travels:
// the Hello carries a proof bound to this connection's nonces (wire/auth.h).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::capture {

struct SubscriberCredentials {
  std::string id;
  std::string auth_token;        // empty: the shared token
  std::string certificate_name;  // set: the client certificate's common name must be this
};

struct SubscriberPolicy {
  std::string shared_token;                        // empty: none (every listed id has its own)
  std::vector<SubscriberCredentials> subscribers;  // empty: any id holding the shared token
};

class SubscriberAuthenticator {
 public:
  explicit SubscriberAuthenticator(SubscriberPolicy policy);

  // Who may connect, for the capture agent's log at start.
  std::string Describe() const;

  // Whether `hello`, answering a Challenge with `server_nonce` on a connection whose verified
  // client certificate has `certificate_name` (empty: none), may subscribe. On success, the token
  // the capture agent proves in its Welcome; otherwise an error to send to the peer, which names
  // what to fix without revealing any secret.
  Result<std::string> Admit(const wire::Hello& hello, const std::string& server_nonce,
                            const std::string& certificate_name) const;

 private:
  const SubscriberCredentials* Find(const std::string& id) const;

  SubscriberPolicy policy_;
};

}  // namespace ferry::capture
