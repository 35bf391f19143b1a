#include "wire/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <utility>

namespace ferry::wire {

struct TlsContext::Native {
  SSL_CTX* ctx = nullptr;
  ~Native() { SSL_CTX_free(ctx); }
};

struct TlsSession::Native {
  std::shared_ptr<const TlsContext> context;
  int fd = -1;
  SSL* ssl = nullptr;
  // Held only for OpenSSL calls, which return at once on the non-blocking socket.
  mutable std::mutex mutex;
  ~Native() { SSL_free(ssl); }
};

namespace {

// Every queued OpenSSL error of this thread, oldest first, as one line; the queue is left empty.
std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    out += (out.empty() ? "" : "; ") + std::string(text);
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

bool IsIpAddress(const std::string& host) {
  in6_addr v6;
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// ---- a socket BIO that never raises SIGPIPE -----------------------------------------------------
// OpenSSL's own socket BIO writes with write(), which raises SIGPIPE when the peer has gone; a
// library must not depend on the process ignoring it. This one sends with MSG_NOSIGNAL.

int SocketOf(BIO* bio) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio))); }

int BioWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t sent = ::send(SocketOf(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(sent);
}

int BioRead(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t received = ::recv(SocketOf(bio), data, static_cast<size_t>(size), 0);
  if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_read(bio);
  }
  return static_cast<int>(received);
}

long BioControl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* SocketBioMethod() {
  // Built once and never changed: a table of functions, not state.
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ferry socket");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioControl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  return method;
}

// ---- contexts -----------------------------------------------------------------------------------

Result<std::unique_ptr<TlsContext::Native>> NewContext(const SSL_METHOD* method) {
  auto native = std::make_unique<TlsContext::Native>();
  native->ctx = SSL_CTX_new(method);
  if (native->ctx == nullptr) return Status::Error("create TLS context: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(native->ctx, TLS1_3_VERSION);
  // A peer that closes without a close_notify is a closed connection, as on plain TCP: every
  // frame carries its own length and CRC, so a cut-off stream is detected anyway.
  SSL_CTX_set_options(native->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(native->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return native;
}

}  // namespace

Status LoadCertificateAndKey(SSL_CTX* ctx, const std::string& cert_file,
                             const std::string& key_file, const std::string& setting) {
  const std::string mismatch = "TLS key " + key_file + " does not belong to certificate " +
                               cert_file + ": set " + setting +
                               ".key_file to the certificate's own key";
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::Error("read TLS certificate " + cert_file + ": " + OpenSslErrors() + "; " +
                         setting + ".cert_file must be a PEM certificate chain the agent can read");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return Status::Error(mismatch);
    }
    return Status::Error("read TLS key " + key_file + ": " + OpenSslErrors() + "; " + setting +
                         ".key_file must be an unencrypted PEM private key the agent can read");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Status::Error(mismatch);
  }
  return Status::Ok();
}

namespace {

Status LoadTrustedCas(SSL_CTX* ctx, const std::string& ca_file, const char* key) {
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    return Status::Error("read TLS CA certificates " + ca_file + ": " + OpenSslErrors() + "; " +
                         key + " must be a PEM file of one or more CA certificates");
  }
  return Status::Ok();
}

// ---- sessions -----------------------------------------------------------------------------------

// Why a handshake failed, with what to do about it.
std::string HandshakeFailure(const TlsSession::Native& native, int error, const std::string& ssl) {
  const bool server = native.context->is_server();
  const long verify = SSL_get_verify_result(native.ssl);
  if (verify != X509_V_OK) {
    std::string text =
        std::string("the peer's certificate was refused: ") + X509_verify_cert_error_string(verify);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      text +=
          "; the capture agent's certificate must name the host the apply agent connects to "
          "(or set tls.server_name to a name it carries)";
    } else if (verify == X509_V_ERR_CERT_HAS_EXPIRED || verify == X509_V_ERR_CERT_NOT_YET_VALID) {
      text += std::string("; the ") + (server ? "apply" : "capture") +
              " agent must present a current certificate (renew its tls.cert_file), or a host's "
              "clock is wrong";
    } else if (verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
               verify == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
               verify == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN) {
      text += server ? "; it must be signed by a CA in tls.client_ca_file"
                     : "; it must be signed by a CA in tls.ca_file";
    }
    return text;
  }
  if (error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN ||
      ssl.find("wrong version number") != std::string::npos ||
      ssl.find("packet length too long") != std::string::npos ||
      ssl.find("record layer failure") != std::string::npos) {
    return "the peer does not speak TLS, or ended the handshake (" + ssl +
           "); TLS must be configured on both agents, or on neither";
  }
  // The peer's verdict on this agent's own certificate, sent as an alert.
  if (ssl.find("alert certificate expired") != std::string::npos) {
    return "the peer refused this agent's certificate as expired (" + ssl +
           "): renew tls.cert_file, or check the hosts' clocks";
  }
  if (ssl.find("peer did not return a certificate") != std::string::npos ||
      ssl.find("certificate required") != std::string::npos) {
    return server ? "the peer presented no client certificate, which tls.client_ca_file requires"
                  : "the capture agent requires a client certificate (" + ssl +
                        "): set tls.cert_file and tls.key_file in the apply agent's config";
  }
  return ssl;
}

}  // namespace

TlsContext::TlsContext(std::unique_ptr<Native> native, bool server, std::string server_name)
    : native_(std::move(native)), server_(server), server_name_(std::move(server_name)) {}

TlsContext::~TlsContext() = default;

Result<std::shared_ptr<const TlsContext>> TlsContext::ForServer(const TlsServerConfig& config) {
  if (config.cert_file.empty() || config.key_file.empty()) {
    return Status::Error("TLS needs both tls.cert_file and tls.key_file");
  }
  Result<std::unique_ptr<Native>> native = NewContext(TLS_server_method());
  if (!native.ok()) return native.status();
  SSL_CTX* ctx = (*native)->ctx;
  FERRY_RETURN_IF_ERROR(LoadCertificateAndKey(ctx, config.cert_file, config.key_file, "tls"));
  if (!config.client_ca_file.empty()) {
    FERRY_RETURN_IF_ERROR(LoadTrustedCas(ctx, config.client_ca_file, "tls.client_ca_file"));
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return std::make_shared<const TlsContext>(std::move(native).value(), true, "");
}

Result<std::shared_ptr<const TlsContext>> TlsContext::ForClient(const TlsClientConfig& config) {
  Result<std::unique_ptr<Native>> native = NewContext(TLS_client_method());
  if (!native.ok()) return native.status();
  SSL_CTX* ctx = (*native)->ctx;
  if (config.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Status::Error(
          "load the system's trusted CAs: " + OpenSslErrors() +
          "; set tls.ca_file to the CA that signed the capture agent's certificate");
    }
  } else {
    FERRY_RETURN_IF_ERROR(LoadTrustedCas(ctx, config.ca_file, "tls.ca_file"));
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!config.cert_file.empty() || !config.key_file.empty()) {
    if (config.cert_file.empty() || config.key_file.empty()) {
      return Status::Error("a client certificate needs both tls.cert_file and tls.key_file");
    }
    FERRY_RETURN_IF_ERROR(LoadCertificateAndKey(ctx, config.cert_file, config.key_file, "tls"));
  }
  return std::make_shared<const TlsContext>(std::move(native).value(), false, config.server_name);
}

TlsSession::TlsSession(std::unique_ptr<Native> native) : native_(std::move(native)) {}

TlsSession::~TlsSession() = default;

Result<std::unique_ptr<TlsSession>> TlsSession::Start(std::shared_ptr<const TlsContext> context,
                                                      int fd, const std::string& host) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Status::Error(std::string("make the socket non-blocking for TLS: ") +
                         std::strerror(errno));
  }
  auto native = std::make_unique<Native>();
  native->context = std::move(context);
  native->fd = fd;
  native->ssl = SSL_new(native->context->native().ctx);
  BIO* bio = native->ssl == nullptr ? nullptr : BIO_new(SocketBioMethod());
  if (bio == nullptr) return Status::Error("start a TLS session: " + OpenSslErrors());
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(native->ssl, bio, bio);  // the session owns the BIO from here
  if (native->context->is_server()) {
    SSL_set_accept_state(native->ssl);
  } else {
    const std::string& configured = native->context->server_name();
    const std::string& name = configured.empty() ? host : configured;
    if (IsIpAddress(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native->ssl), name.c_str());
    } else {
      SSL_set_tlsext_host_name(native->ssl, name.c_str());
      SSL_set1_host(native->ssl, name.c_str());
    }
    SSL_set_connect_state(native->ssl);
  }
  return std::make_unique<TlsSession>(std::move(native));
}

Status TlsSession::Handshake(SocketClock::time_point deadline) {
  Native& native = *native_;
  for (;;) {
    int error = SSL_ERROR_NONE;
    std::string ssl_errors;
    {
      std::lock_guard lock(native.mutex);
      ERR_clear_error();
      const int done = SSL_do_handshake(native.ssl);
      if (done == 1) {
        handshake_done_ = true;
        return Status::Ok();
      }
      error = SSL_get_error(native.ssl, done);
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
        ssl_errors = OpenSslErrors();
        return Status::Error("TLS handshake: " + HandshakeFailure(native, error, ssl_errors));
      }
    }
    const int ready =
        WaitForSocket(native.fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
    if (ready == 0) {
      return Status::Error(
          "TLS handshake: the peer did not complete it in time (does it speak "
          "TLS? TLS must be configured on both agents, or on neither)");
    }
    if (ready < 0)
      return Status::Error(std::string("TLS handshake: poll: ") + std::strerror(errno));
  }
}

Result<TlsSession::ReadOutcome> TlsSession::Read(char* data, size_t size,
                                                 SocketClock::time_point deadline) {
  Native& native = *native_;
  for (;;) {
    int error = SSL_ERROR_NONE;
    {
      std::lock_guard lock(native.mutex);
      ERR_clear_error();
      size_t read = 0;
      if (SSL_read_ex(native.ssl, data, size, &read) == 1) return ReadOutcome{read, false, false};
      error = SSL_get_error(native.ssl, 0);
      if (error == SSL_ERROR_ZERO_RETURN) return ReadOutcome{0, false, true};
      if (error == SSL_ERROR_SYSCALL && (errno == 0 || errno == ECONNRESET)) {
        return ReadOutcome{0, false, true};
      }
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
        const std::string detail =
            error == SSL_ERROR_SYSCALL ? std::strerror(errno) : OpenSslErrors();
        return Status::Error("TLS read: " + detail);
      }
    }
    const int ready =
        WaitForSocket(native.fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
    if (ready == 0) return ReadOutcome{0, true, false};
    if (ready < 0) return Status::Error(std::string("TLS read: poll: ") + std::strerror(errno));
  }
}

Status TlsSession::Write(std::string_view bytes) {
  Native& native = *native_;
  size_t at = 0;
  while (at < bytes.size()) {
    int error = SSL_ERROR_NONE;
    {
      std::lock_guard lock(native.mutex);
      ERR_clear_error();
      size_t written = 0;
      if (SSL_write_ex(native.ssl, bytes.data() + at, bytes.size() - at, &written) == 1) {
        at += written;
        continue;
      }
      error = SSL_get_error(native.ssl, 0);
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
        const std::string detail =
            error == SSL_ERROR_SYSCALL ? std::strerror(errno) : OpenSslErrors();
        return Status::Error("TLS write: " + detail);
      }
    }
    // No deadline, as on plain TCP: a peer that does not read holds the writer back (and a
    // shutdown of the socket wakes it).
    const int ready =
        WaitForSocket(native.fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, kNoDeadline);
    if (ready < 0) return Status::Error(std::string("TLS write: poll: ") + std::strerror(errno));
  }
  return Status::Ok();
}

std::string TlsSession::PeerCommonName() const {
  std::lock_guard lock(native_->mutex);
  X509* certificate = SSL_get1_peer_certificate(native_->ssl);
  if (certificate == nullptr) return "";
  char name[256] = {};
  const int length = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName,
                                               name, sizeof name);
  X509_free(certificate);
  return length > 0 ? std::string(name, static_cast<size_t>(length)) : "";
}

}  // namespace ferry::wire
