// TLS for Ferry's connections (OpenSSL, TLS 1.3 only: both ends are Ferry).
//
// Why OpenSSL directly and not Boost.Asio's ssl::stream: a FrameConnection is read by one
// thread while another writes to it, and one OpenSSL session must never be used by two threads
// at once. Asio's synchronous ssl operations hold the session while they block. TlsSession
// drives a non-blocking socket instead: it takes its lock only for an OpenSSL call that returns
// at once, and waits (poll) without it, so a reader waiting for data never holds up a writer.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "wire/socket_wait.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace ferry::wire {

// The capture agent's side: its certificate and, for mutual TLS, the CA its subscribers'
// certificates must be signed by.
struct TlsServerConfig {
  std::string cert_file;       // PEM, the certificate chain, leaf first
  std::string key_file;        // PEM, the certificate's private key
  std::string client_ca_file;  // PEM; when set, a client without a certificate it signed is refused
};

// The apply agent's side: what the capture agent's certificate must be signed by and name.
struct TlsClientConfig {
  std::string ca_file;      // PEM; empty: the system's trusted CAs
  std::string server_name;  // the name (DNS or IP) the certificate must carry; empty: the host
  std::string cert_file;    // PEM, a client certificate for mutual TLS (optional)
  std::string key_file;
};

// Certificates, keys and verification settings, loaded once and shared by every connection of
// an agent. Immutable once made.
class TlsContext {
 public:
  static Result<std::shared_ptr<const TlsContext>> ForServer(const TlsServerConfig& config);
  static Result<std::shared_ptr<const TlsContext>> ForClient(const TlsClientConfig& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool is_server() const { return server_; }
  // Client: the name the server's certificate must carry, when configured.
  const std::string& server_name() const { return server_name_; }

  struct Native;
  TlsContext(std::unique_ptr<Native> native, bool server, std::string server_name);
  Native& native() const { return *native_; }

 private:
  std::unique_ptr<Native> native_;
  bool server_;
  std::string server_name_;
};

// Loads a PEM certificate chain (leaf first) and its unencrypted private key into an OpenSSL
// context and checks that the key is the certificate's. Errors name `setting`.cert_file or
// `setting`.key_file ("tls", "admin_tls") and the fix. Shared by the stream and the admin
// endpoint's HTTPS, so both report a bad file alike.
Status LoadCertificateAndKey(ssl_ctx_st* ctx, const std::string& cert_file,
                             const std::string& key_file, const std::string& setting);

// One TLS session over a connected socket, which it switches to non-blocking. Read and Write may
// run at the same time from two threads (one each); the socket's shutdown() wakes both.
class TlsSession {
 public:
  // `host` is what the client connected to: the name verified when the context names none.
  static Result<std::unique_ptr<TlsSession>> Start(std::shared_ptr<const TlsContext> context,
                                                   int fd, const std::string& host);
  ~TlsSession();

  // Connects or accepts, by `deadline`. An error names what failed: a certificate not trusted or
  // not for this name, no client certificate where one is required, a peer not speaking TLS.
  Status Handshake(SocketClock::time_point deadline);
  bool handshake_done() const { return handshake_done_.load(); }

  struct ReadOutcome {
    size_t bytes = 0;          // bytes read into the buffer
    bool timed_out = false;    // nothing arrived by the deadline
    bool peer_closed = false;  // the peer ended the session or closed the connection
  };
  Result<ReadOutcome> Read(char* data, size_t size, SocketClock::time_point deadline);
  // Writes all of `bytes`; waits while the peer is not reading.
  Status Write(std::string_view bytes);

  // The common name of the peer's verified certificate; empty when it presented none.
  std::string PeerCommonName() const;

  struct Native;
  explicit TlsSession(std::unique_ptr<Native> native);

 private:
  std::unique_ptr<Native> native_;
  std::atomic<bool> handshake_done_{false};
};

}  // namespace ferry::wire
