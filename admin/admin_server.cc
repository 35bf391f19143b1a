#include "admin/admin_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

#include "common/log.h"
#include "common/secrets.h"
#include "wire/tls.h"

namespace ferry::admin {

namespace net = boost::asio;
namespace ssl = net::ssl;

struct AdminTls::Native {
  ssl::context context{ssl::context::tls_server};
};

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using RequestParser = http::request_parser<http::string_body>;

// A slow or silent client must not hold a connection (and its memory) forever.
constexpr auto kIoTimeout = std::chrono::seconds(30);
// A client that does not speak TLS to an HTTPS endpoint (plain HTTP, or nothing) is dropped after
// this long at most; one that sends plain HTTP fails the handshake at once.
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// How long a closing connection waits for the client's half of the TLS shutdown.
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);
// Commands carry their parameters in the query; a request body this large is not one we want.
constexpr uint64_t kMaxBodyBytes = 64 * 1024;

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

// Splits "host:port" or "[v6]:port".
std::optional<Endpoint> ParseAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return std::nullopt;
  std::string host = address.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  return Endpoint{host, static_cast<uint16_t>(port)};
}

// Beast 1.74 hands out boost::string_view.
std::string_view View(beast::string_view v) { return {v.data(), v.size()}; }

std::string Dump(const nlohmann::json& json) {
  // Stream errors may quote bytes from a server that are not UTF-8; replace them rather than
  // throw.
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Response MakeResponse(const Request& request, http::status status, std::string content_type,
                      std::string body) {
  Response response{status, request.version()};
  response.set(http::field::server, "ferry");
  response.set(http::field::content_type, std::move(content_type));
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response JsonResponse(const Request& request, http::status status, const nlohmann::json& json) {
  return MakeResponse(request, status, "application/json", Dump(json));
}

Response ErrorResponse(const Request& request, http::status status, const std::string& message) {
  return JsonResponse(request, status, {{"error", message}});
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX and '+' (a space in a query); a malformed escape stays as it was.
std::string PercentDecode(std::string_view text) {
  std::string decoded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      decoded.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
               HexDigit(text[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2])));
      i += 2;
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

// "a=1&b=x%2Ey" -> {a: 1, b: x.y}; a name without '=' has the empty value.
// GET /conflicts?table=&type=&since=&limit=: since in microseconds since the epoch.
Result<ConflictQuery> ParseConflictQuery(const std::map<std::string, std::string>& params) {
  ConflictQuery query;
  for (const auto& [name, value] : params) {
    if (name == "table") {
      query.table = value;
    } else if (name == "type") {
      query.type = value;
    } else if (name == "since" || name == "limit") {
      // Digits only: strtoull would take "-1" as the largest number, and a decoded NUL would
      // end the value early.
      uint64_t number = 0;
      const auto [end, error] =
          std::from_chars(value.data(), value.data() + value.size(), number, 10);
      if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
        return Status::Error(
            name + "=" + value + " is not a number: give " +
            (name == "since" ? "microseconds since the Unix epoch" : "how many conflicts to list"));
      }
      if (name == "since") query.since_us = static_cast<int64_t>(number);
      if (name == "limit") query.limit = static_cast<size_t>(number);
    } else {
      return Status::Error("unknown parameter " + name +
                           ": /conflicts takes table, type, since "
                           "and limit");
    }
  }
  return query;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> parameters;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t equals = pair.find('=');
    if (!pair.empty()) {
      parameters[PercentDecode(pair.substr(0, equals))] =
          equals == std::string_view::npos ? "" : PercentDecode(pair.substr(equals + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return parameters;
}

// Turns one request into its response; the only place that knows the paths.
class Router {
 public:
  Router(const MetricsRegistry& registry, std::string token, CommandHandler commands)
      : registry_(registry), token_(std::move(token)), commands_(std::move(commands)) {}

  Response Handle(const Request& request) const {
    try {
      return Route(request);
    } catch (const std::exception& e) {
      return ErrorResponse(request, http::status::internal_server_error,
                           std::string("internal error: ") + e.what());
    } catch (...) {
      return ErrorResponse(request, http::status::internal_server_error, "internal error");
    }
  }

 private:
  Response Route(const Request& request) const {
    const bool post = request.method() == http::verb::post && commands_;
    if (request.method() != http::verb::get && !post) {
      Response response =
          ErrorResponse(request, http::status::method_not_allowed,
                        "method " + std::string(request.method_string()) + " is not allowed: " +
                            (commands_ ? "use GET, or POST for a command"
                                       : "this endpoint is read-only, use GET"));
      response.set(http::field::allow, commands_ ? "GET, POST" : "GET");
      return response;
    }
    const std::string_view target = View(request.target());
    const size_t question = target.find('?');
    const std::string_view path = target.substr(0, question);
    // Without a token, for load balancers, systemd and monitoring checks: /livez says the agent
    // runs, /healthz also that every stream works (registry.h, HealthProblems).
    if (path == "/livez") {
      return MakeResponse(request, http::status::ok, "text/plain; charset=utf-8", "ok\n");
    }
    if (path == "/healthz") return HealthResponse(request);
    if (!Authorized(request)) {
      Response response = ErrorResponse(
          request, http::status::unauthorized,
          "missing or wrong bearer token: send \"Authorization: Bearer <token>\" with the "
          "agent's auth token");
      response.set(http::field::www_authenticate, "Bearer realm=\"ferry\"");
      return response;
    }
    if (post) {
      const std::string_view query =
          question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
      std::optional<CommandReply> reply = commands_(std::string(path), ParseQuery(query));
      if (!reply) {
        return ErrorResponse(request, http::status::not_found,
                             "no such command " + std::string(path) + "; POST /snapshot?table=...");
      }
      return MakeResponse(request, static_cast<http::status>(reply->status), "application/json",
                          std::move(reply->json));
    }
    if (path == "/status") return JsonResponse(request, http::status::ok, registry_.StatusJson());
    if (path == "/lag") return JsonResponse(request, http::status::ok, registry_.LagJson());
    if (path == "/conflicts") {
      const std::string_view query =
          question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
      Result<ConflictQuery> parsed = ParseConflictQuery(ParseQuery(query));
      if (!parsed.ok()) return ErrorResponse(request, http::status::bad_request, parsed.message());
      return JsonResponse(request, http::status::ok, registry_.ConflictsJson(*parsed));
    }
    if (path == "/metrics") {
      return MakeResponse(request, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                          registry_.PrometheusText());
    }
    return ErrorResponse(
        request, http::status::not_found,
        "no such path " + std::string(path) +
            "; the admin endpoint serves /livez, /healthz, /status, /lag, /conflicts and /metrics");
  }

  Response HealthResponse(const Request& request) const {
    const std::vector<std::string> problems = registry_.HealthProblems();
    if (problems.empty()) {
      return MakeResponse(request, http::status::ok, "text/plain; charset=utf-8", "ok\n");
    }
    std::string body = "unhealthy\n";
    for (const std::string& problem : problems) body += "- " + problem + "\n";
    return MakeResponse(request, http::status::service_unavailable, "text/plain; charset=utf-8",
                        std::move(body));
  }

  bool Authorized(const Request& request) const {
    if (token_.empty()) return true;
    const auto header = request.find(http::field::authorization);
    if (header == request.end()) return false;
    const std::string_view value = View(header->value());
    constexpr std::string_view kScheme = "Bearer ";
    if (value.size() < kScheme.size()) return false;
    const std::string_view scheme = value.substr(0, kScheme.size());
    if (!beast::iequals({scheme.data(), scheme.size()}, {kScheme.data(), kScheme.size()})) {
      return false;
    }
    return ConstantTimeEquals(value.substr(kScheme.size()), token_);
  }

  const MetricsRegistry& registry_;
  const std::string token_;
  const CommandHandler commands_;
};

// A fresh parser for the next request on a connection, with the server's limits.
void NewRequestParser(std::optional<RequestParser>& parser) {
  parser.emplace();
  parser->body_limit(kMaxBodyBytes);
}

// Read errors after which the server closes the connection without answering: the client hung
// up between requests, went silent, or the server is stopping. Any other error is a malformed
// request.
bool ClosesSilently(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == net::error::operation_aborted || ec == ssl::error::stream_truncated;
}

// The answer to bytes that are not a request: said once, then the server hangs up.
Response MalformedRequestResponse(const beast::error_code& ec) {
  Request dummy;
  dummy.version(11);
  dummy.keep_alive(false);
  return ErrorResponse(dummy, http::status::bad_request, "malformed HTTP request: " + ec.message());
}

// One client connection: (over HTTPS, the TLS handshake, then) read a request, write its
// response, repeat while the client keeps the connection alive. Owned by the handlers in flight,
// so it lives exactly as long as its I/O. `Stream` is beast::tcp_stream or TlsStream.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... StreamArgs>
  explicit Session(const Router& router, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...), router_(router) {}

  void Start() {
    if constexpr (kTls) {
      beast::error_code ignored;
      peer_ = Tcp().socket().remote_endpoint(ignored);  // before a timeout closes the socket
      Tcp().expires_after(kHandshakeTimeout);
      stream_.async_handshake(
          ssl::stream_base::server,
          [self = this->shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
    } else {
      ReadRequest();
    }
  }

 private:
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  void OnHandshake(beast::error_code ec) {
    if (!ec) {
      handshake_done_ = true;
      return ReadRequest();
    }
    // At info: a scanner or a client with an http:// URL should be findable in the log without
    // flooding it with warnings.
    Logger("admin")->info(
        "admin endpoint: dropped a connection from {}:{} that did not complete a TLS handshake "
        "({}); the endpoint serves HTTPS only",
        peer_.address().to_string(), peer_.port(), ec.message());
    CloseSocket();
  }

  void ReadRequest() {
    NewRequestParser(parser_);
    Tcp().expires_after(kIoTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ClosesSilently(ec)) return Close();
    if (ec) return Write(MalformedRequestResponse(ec));  // garbage on the socket
    Write(router_.Handle(parser_->get()));
  }

  void Write(Response response) {
    response_ = std::move(response);
    Tcp().expires_after(kIoTimeout);
    http::async_write(
        stream_, response_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    if (ec || response_.need_eof()) return Close();
    ReadRequest();
  }

  // Over TLS, says close_notify first, so that a client reading to the end of the stream knows
  // the response was not cut short.
  void Close() {
    if constexpr (kTls) {
      if (handshake_done_ && Tcp().socket().is_open()) {
        Tcp().expires_after(kTlsShutdownTimeout);
        stream_.async_shutdown(
            [self = this->shared_from_this()](beast::error_code) { self->CloseSocket(); });
        return;
      }
    }
    CloseSocket();
  }

  void CloseSocket() {
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Tcp().close();
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  const Router& router_;
  tcp::endpoint peer_;  // over TLS, for the log
  bool handshake_done_ = false;
};

// A client that sent `bytes` and then closed its end: a SyncReadStream for http::read, which
// reads from it as http::async_read reads from a socket.
class BytesStream {
 public:
  explicit BytesStream(std::string_view bytes) : bytes_(bytes) {}

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    ec = {};
    if (bytes_.empty()) {
      ec = net::error::eof;
      return 0;
    }
    const size_t copied = net::buffer_copy(buffers, net::buffer(bytes_.data(), bytes_.size()));
    bytes_.remove_prefix(copied);
    return copied;
  }

  // The throwing form, which the SyncReadStream concept requires as well.
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    beast::error_code ec;
    const size_t copied = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return copied;
  }

 private:
  std::string_view bytes_;
};

std::string BindError(const std::string& address, const beast::error_code& ec) {
  const std::string fix = "; choose another `admin:` address";
  if (ec == net::error::address_in_use) {
    return "admin address " + address + " is already in use" + fix;
  }
  if (ec == net::error::access_denied) {
    return "admin address " + address + ": permission denied (ports below 1024 need privileges)" +
           fix;
  }
  if (ec == boost::system::errc::address_not_available) {
    return "admin address " + address + " is not an address of this host" + fix;
  }
  return "admin address " + address + ": cannot listen: " + ec.message() + fix;
}

bool IsLoopback(const net::ip::address& address) {
  // An IPv4 address mapped into IPv6 (::ffff:127.0.0.1) is loopback too.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

}  // namespace

AdminTls::AdminTls(std::unique_ptr<Native> native) : native_(std::move(native)) {}

AdminTls::~AdminTls() = default;

Result<std::shared_ptr<AdminTls>> AdminTls::Load(const AdminTlsConfig& config) {
  auto native = std::make_unique<Native>();
  SSL_CTX* ctx = native->context.native_handle();
  // Not TLS 1.3 only, as between the agents: the clients here are whatever scrapes and browses.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  FERRY_RETURN_IF_ERROR(
      wire::LoadCertificateAndKey(ctx, config.cert_file, config.key_file, "admin_tls"));
  return std::make_shared<AdminTls>(std::move(native));
}

struct AdminServer::Impl {
  Impl(std::string address_in, const MetricsRegistry& registry, std::string token_in,
       CommandHandler commands, std::shared_ptr<AdminTls> tls_in)
      : address(std::move(address_in)),
        has_token(!token_in.empty()),
        router(registry, std::move(token_in), std::move(commands)),
        tls(std::move(tls_in)) {}

  Status Open(const tcp::endpoint& endpoint);
  void Accept();
  void Run();
  void ResetIo();

  const std::string address;
  const bool has_token;
  const Router router;
  const std::shared_ptr<AdminTls> tls;  // null: plain HTTP
  std::unique_ptr<net::io_context> io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> retry_timer;
  std::thread thread;
  std::atomic<uint16_t> port{0};
  bool started = false;
  bool stopped = false;
};

Status AdminServer::Impl::Open(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  // SO_REUSEADDR lets a restarted agent bind while old connections sit in TIME_WAIT; on Linux it
  // still refuses a port another process is listening on.
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor->close(ignored);
    return Status::Error(BindError(address, ec));
  }
  port = acceptor->local_endpoint(ec).port();
  return Status::Ok();
}

void AdminServer::Impl::Accept() {
  acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // Usually out of file descriptors: back off instead of spinning on the failing accept.
      Logger("admin")->warn("admin endpoint cannot accept a connection: {}", ec.message());
      retry_timer->expires_after(std::chrono::milliseconds(100));
      retry_timer->async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    if (tls != nullptr) {
      std::make_shared<Session<TlsStream>>(router, std::move(socket), tls->native().context)
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(router, std::move(socket))->Start();
    }
    Accept();
  });
}

// The I/O objects must go before the io_context they were made from.
void AdminServer::Impl::ResetIo() {
  retry_timer.reset();
  acceptor.reset();
  io.reset();
}

void AdminServer::Impl::Run() {
  // Handlers catch their own errors; this is the last line so that a bug cannot kill the process
  // through an exception escaping a thread.
  for (;;) {
    try {
      io->run();
      return;
    } catch (const std::exception& e) {
      Logger("admin")->error("admin endpoint handler failed: {}", e.what());
    } catch (...) {
      Logger("admin")->error("admin endpoint handler failed with an unknown error");
    }
  }
}

AdminServer::AdminServer(std::string address, const MetricsRegistry& registry,
                         std::string bearer_token, CommandHandler commands,
                         std::shared_ptr<AdminTls> tls)
    : impl_(std::make_unique<Impl>(std::move(address), registry, std::move(bearer_token),
                                   std::move(commands), std::move(tls))) {}

AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Start() {
  Impl& s = *impl_;
  if (s.started) return Status::Error("admin endpoint on " + s.address + " was already started");
  const auto parsed = ParseAddress(s.address);
  if (!parsed) {
    return Status::Error("admin address \"" + s.address +
                         "\" is malformed: expected host:port, e.g. 127.0.0.1:7480");
  }
  s.ResetIo();  // a Start that failed before may have left them behind
  s.io = std::make_unique<net::io_context>(1);
  tcp::resolver resolver(*s.io);
  beast::error_code ec;
  const auto endpoints =
      resolver.resolve(parsed->host, std::to_string(parsed->port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Status::Error("admin address " + s.address + ": cannot resolve host \"" + parsed->host +
                         "\": " + ec.message() + "; use an IP address");
  }
  s.acceptor = std::make_unique<tcp::acceptor>(*s.io);
  s.retry_timer = std::make_unique<net::steady_timer>(*s.io);
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  FERRY_RETURN_IF_ERROR(s.Open(endpoint));
  s.started = true;
  s.Accept();
  s.thread = std::thread([&s] { s.Run(); });
  Logger("admin")->info("admin endpoint listening on {}:{} ({})", parsed->host, s.port.load(),
                        s.tls != nullptr ? "HTTPS" : "HTTP, no admin_tls");
  if (s.tls == nullptr && s.has_token && !IsLoopback(endpoint.address())) {
    Logger("admin")->warn(
        "admin endpoint on {} is reachable from other hosts over plain HTTP: its bearer token "
        "crosses the network in clear text with every request; set admin_tls (a certificate and "
        "key) to serve HTTPS, or listen on a loopback address",
        s.address);
  }
  return Status::Ok();
}

void AdminServer::Stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.io->stop();
  if (s.thread.joinable()) s.thread.join();
  // Destroying the io_context destroys the handlers still queued, and with them the sessions
  // and their sockets, so no client is left hanging on a keep-alive connection.
  s.ResetIo();
}

uint16_t AdminServer::port() const { return impl_->port.load(); }

std::optional<std::string> AnswerRawRequest(std::string_view request,
                                            const MetricsRegistry& registry,
                                            const std::string& bearer_token,
                                            const CommandHandler& commands) {
  const Router router(registry, bearer_token, commands);
  BytesStream client(request);
  beast::flat_buffer buffer;
  std::optional<RequestParser> parser;
  NewRequestParser(parser);
  beast::error_code ec;
  http::read(client, buffer, *parser, ec);
  if (ClosesSilently(ec)) return std::nullopt;
  std::ostringstream out;
  out << (ec ? MalformedRequestResponse(ec) : router.Handle(parser->get()));
  return out.str();
}

}  // namespace ferry::admin
