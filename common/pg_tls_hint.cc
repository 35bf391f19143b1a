#include "common/pg_tls_hint.h"

namespace ferry {
namespace {

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

std::string PostgresTlsHint(std::string_view message) {
  if (Has(message, "certificate verify failed")) {
    return "; the server's certificate is not signed by the CA in sslrootcert (or has expired): "
           "set sslrootcert to the file of the CA that signed it";
  }
  if (Has(message, "does not match host name")) {
    return "; connect by a name the server's certificate holds (the dsn's host), or use "
           "sslmode=verify-ca, which checks the CA but not the name";
  }
  if (Has(message, "server does not support SSL")) {
    return "; the server does not serve TLS: turn ssl on in its postgresql.conf, or set "
           "sslmode=disable to connect in clear text";
  }
  if (Has(message, "no encryption") && Has(message, "pg_hba.conf")) {
    return "; the server admits this user only over TLS (hostssl in pg_hba.conf): set "
           "sslmode=verify-full sslrootcert=<the CA's file> in the dsn";
  }
  return "";
}

std::string PostgresTlsState(const char* cipher) {
  if (cipher == nullptr) return "without TLS";
  return std::string("over TLS (") + cipher + ")";
}

}  // namespace ferry
