// What to change when a PostgreSQL connection fails over TLS. libpq names the failure
// ("certificate verify failed") but not the dsn key that fixes it; the apply agent's sink and the
// capture agent's connections both add this to its message. Pure text: no libpq here.
#pragma once

#include <string>
#include <string_view>

namespace ferry {

// The advice for libpq's connection error `message`, starting with "; ", or "" when the message
// is not about TLS (nothing is added then).
std::string PostgresTlsHint(std::string_view message);

// How a connection is protected, for the log line each agent writes when it connects: "over TLS
// (<cipher>)", or "without TLS" when `cipher` (libpq's PQsslAttribute(conn, "cipher")) is null.
std::string PostgresTlsState(const char* cipher);

}  // namespace ferry
