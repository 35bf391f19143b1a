// A client of an agent's admin endpoint, for the commands that talk to a running agent
// (`ferry snapshot`, `ferry status`): plain HTTP, or HTTPS trusting exactly the certificate the
// agent serves, with its bearer token.
#pragma once

#include <string>

#include "cli/config.h"
#include "common/status.h"

namespace ferry::cli {

// Where an agent's admin endpoint is and how to reach it.
struct AdminEndpoint {
  std::string address;      // "host:port" as the agent listens; a wildcard host means loopback
  std::string token;        // bearer token; "" sends none
  std::string pinned_cert;  // HTTPS trusting only this PEM certificate; "" plain HTTP
  std::string agent;        // what to call the agent in errors, e.g. "the apply agent"
};

// The endpoint a config describes (`admin`, `admin_token_*`, `admin_tls`). The certificate is
// pinned rather than checked for a name and a CA: these commands run beside the agent and reach
// it by whatever address it listens on.
AdminEndpoint EndpointOf(const ApplyConfig& config);
AdminEndpoint EndpointOf(const CaptureConfig& config);

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// One request ("GET" or "POST") for `target` ("/status", "/snapshot?table=..."), within
// `timeout_seconds`. An error names the address when the agent cannot be reached; an HTTP error
// status is a reply, not an error.
Result<HttpReply> AdminRequest(const AdminEndpoint& endpoint, const std::string& method,
                               const std::string& target, int timeout_seconds = 30);

// The "error" of a JSON error reply, or its status and body.
std::string ErrorOf(const HttpReply& reply);

}  // namespace ferry::cli
