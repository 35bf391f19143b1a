#include "admin/admin_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "common/log.h"
#include "wire/testing/raw_client.h"
#include "wire/testing/test_certificates.h"

namespace ferry::admin {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct Reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

http::request<http::string_body> MakeRequest(http::verb verb, const std::string& target,
                                             const std::string& token) {
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  request.prepare_payload();
  return request;
}

template <class Stream>
Reply ReadReply(Stream& socket, beast::flat_buffer& buffer) {
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return {response.result_int(), std::string(response[http::field::content_type]), response.body()};
}

// One request on a fresh connection, as curl or a Prometheus scraper would send it.
Reply Fetch(uint16_t port, const std::string& target, const std::string& token = "",
            http::verb verb = http::verb::get) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  http::write(socket, MakeRequest(verb, target, token));
  beast::flat_buffer buffer;
  return ReadReply(socket, buffer);
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry.UpdateStream("upstream-a", [](StreamStatus& s) {
      s.state = "streaming";
      s.transactions = 7;
    });
  }
  MetricsRegistry registry{"apply", "replica1"};
};

TEST_F(AdminServerTest, ServesHealthStatusLagAndMetrics) {
  AdminServer server("127.0.0.1:0", registry);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_NE(server.port(), 0);

  const Reply health = Fetch(server.port(), "/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body, "ok\n");

  const Reply status = Fetch(server.port(), "/status");
  EXPECT_EQ(status.status, 200u);
  EXPECT_EQ(status.content_type, "application/json");
  const auto json = nlohmann::json::parse(status.body);
  EXPECT_EQ(json["node"], "replica1");
  EXPECT_EQ(json["streams"]["upstream-a"]["transactions"], 7);

  const Reply lag = Fetch(server.port(), "/lag?pretty=1");
  EXPECT_EQ(lag.status, 200u);
  EXPECT_TRUE(nlohmann::json::parse(lag.body)["streams"].contains("upstream-a"));

  const Reply metrics = Fetch(server.port(), "/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_EQ(metrics.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(metrics.body.find("ferry_transactions_total{stream=\"upstream-a\"} 7"),
            std::string::npos);
}

TEST_F(AdminServerTest, StatusShowsLaterUpdates) {
  AdminServer server("127.0.0.1:0", registry);
  ASSERT_TRUE(server.Start().ok());
  registry.UpdateStream("upstream-b", [](StreamStatus& s) { s.last_error = "boom"; });
  const auto json = nlohmann::json::parse(Fetch(server.port(), "/status").body);
  EXPECT_EQ(json["streams"]["upstream-b"]["last_error"], "boom");
}

TEST_F(AdminServerTest, UnknownPathIs404WithJsonError) {
  AdminServer server("127.0.0.1:0", registry);
  ASSERT_TRUE(server.Start().ok());
  const Reply reply = Fetch(server.port(), "/nope");
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_NE(nlohmann::json::parse(reply.body)["error"].get<std::string>().find("/nope"),
            std::string::npos);
}

TEST_F(AdminServerTest, NonGetIs405) {
  AdminServer server("127.0.0.1:0", registry);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(Fetch(server.port(), "/status", "", http::verb::post).status, 405u);
  EXPECT_EQ(Fetch(server.port(), "/healthz", "", http::verb::delete_).status, 405u);
}

TEST_F(AdminServerTest, PostRunsTheCommandWithItsDecodedQuery) {
  std::string seen_path;
  std::map<std::string, std::string> seen_query;
  AdminServer server(
      "127.0.0.1:0", registry, "s3cret",
      [&](const std::string& path,
          const std::map<std::string, std::string>& query) -> std::optional<CommandReply> {
        if (path != "/snapshot") return std::nullopt;
        seen_path = path;
        seen_query = query;
        return CommandReply{202, "{\"state\": \"requested\"}"};
      });
  ASSERT_TRUE(server.Start().ok());
  Reply reply = Fetch(server.port(), "/snapshot?table=app.%22odd%20name%22&upstream=east+1",
                      "s3cret", http::verb::post);
  EXPECT_EQ(reply.status, 202u);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(seen_path, "/snapshot");
  EXPECT_EQ(seen_query["table"], "app.\"odd name\"");
  EXPECT_EQ(seen_query["upstream"], "east 1");
  EXPECT_EQ(Fetch(server.port(), "/nope", "s3cret", http::verb::post).status, 404u);
  // A command changes something: the token guards it like every path but /healthz.
  EXPECT_EQ(Fetch(server.port(), "/snapshot?table=x", "", http::verb::post).status, 401u);
  EXPECT_EQ(Fetch(server.port(), "/status", "s3cret", http::verb::delete_).status, 405u);
}

TEST_F(AdminServerTest, HealthzAnswers503WithTheProblemsAndLivezStill200) {
  AdminServer server("127.0.0.1:0", registry, "s3cret");
  ASSERT_TRUE(server.Start().ok());
  registry.UpdateStream("upstream-a", [](StreamStatus& s) { s.failures = 2; });
  const Reply health = Fetch(server.port(), "/healthz");
  EXPECT_EQ(health.status, 503u);
  EXPECT_EQ(health.body,
            "unhealthy\n- stream upstream-a is failing (2 failures in a row; GET /status has the "
            "last error)\n");
  EXPECT_EQ(Fetch(server.port(), "/livez").status, 200u);
  registry.UpdateStream("upstream-a", [](StreamStatus& s) { s.failures = 0; });
  EXPECT_EQ(Fetch(server.port(), "/healthz").status, 200u);
}

TEST_F(AdminServerTest, TokenRequiredOnAllButLivezAndHealthz) {
  AdminServer server("127.0.0.1:0", registry, "s3cret");
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(Fetch(server.port(), "/healthz").status, 200u);
  EXPECT_EQ(Fetch(server.port(), "/livez").status, 200u);
  for (const char* path : {"/status", "/lag", "/metrics", "/nope"}) {
    EXPECT_EQ(Fetch(server.port(), path).status, 401u) << path;
    EXPECT_EQ(Fetch(server.port(), path, "wrong!").status, 401u) << path;
  }
  EXPECT_EQ(Fetch(server.port(), "/status", "s3cret").status, 200u);
  EXPECT_EQ(Fetch(server.port(), "/metrics", "s3cret").status, 200u);
}

TEST_F(AdminServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  AdminServer server("127.0.0.1:0", registry);
  ASSERT_TRUE(server.Start().ok());
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), server.port()});
  beast::flat_buffer buffer;
  for (const char* path : {"/healthz", "/status", "/metrics"}) {
    http::write(socket, MakeRequest(http::verb::get, path, ""));
    EXPECT_EQ(ReadReply(socket, buffer).status, 200u) << path;
  }
}

TEST_F(AdminServerTest, GarbageGets400) {
  AdminServer server("127.0.0.1:0", registry);
  ASSERT_TRUE(server.Start().ok());
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), server.port()});
  net::write(socket, net::buffer(std::string("\x01\x02 not http\r\n\r\n")));
  beast::flat_buffer buffer;
  EXPECT_EQ(ReadReply(socket, buffer).status, 400u);
}

TEST_F(AdminServerTest, AddressInUseIsAClearError) {
  AdminServer first("127.0.0.1:0", registry);
  ASSERT_TRUE(first.Start().ok());
  const std::string address = "127.0.0.1:" + std::to_string(first.port());
  AdminServer second(address, registry);
  const Status status = second.Start();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "admin address " + address + " is already in use; choose another `admin:` address");
}

TEST_F(AdminServerTest, MalformedAddressIsAClearError) {
  for (const char* address : {"127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":80", "[::1"}) {
    AdminServer server(address, registry);
    const Status status = server.Start();
    ASSERT_FALSE(status.ok()) << address;
    EXPECT_NE(status.message().find("host:port"), std::string::npos) << status.message();
  }
}

TEST_F(AdminServerTest, StopIsIdempotentAndClosesTheListener) {
  AdminServer server("127.0.0.1:0", registry);
  server.Stop();  // before Start: nothing to do
  ASSERT_TRUE(server.Start().ok());
  const uint16_t port = server.port();
  EXPECT_EQ(Fetch(port, "/healthz").status, 200u);
  server.Stop();
  server.Stop();
  net::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect({net::ip::make_address("127.0.0.1"), port}, ec);
  EXPECT_TRUE(ec) << "still accepting after Stop";
}

TEST_F(AdminServerTest, StopClosesIdleKeepAliveConnections) {
  auto server = std::make_unique<AdminServer>("127.0.0.1:0", registry);
  ASSERT_TRUE(server->Start().ok());
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), server->port()});
  beast::flat_buffer buffer;
  http::write(socket, MakeRequest(http::verb::get, "/healthz", ""));
  EXPECT_EQ(ReadReply(socket, buffer).status, 200u);
  server.reset();
  char byte;
  beast::error_code ec;
  socket.read_some(net::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, net::error::eof);
}

// Parses a response AnswerRawRequest returned; it must be exactly one complete response.
Reply ParseReply(const std::string& bytes) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  beast::error_code ec;
  const size_t used = parser.put(net::buffer(bytes), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(used, bytes.size());
  const auto& response = parser.get();
  return {response.result_int(), std::string(response[http::field::content_type]), response.body()};
}

TEST_F(AdminServerTest, AnswerRawRequestRoutesAndAuthenticatesWithoutASocket) {
  const std::string token = "s3cret";
  auto answer = [&](const std::string& request) {
    std::optional<std::string> bytes = AnswerRawRequest(request, registry, token);
    EXPECT_TRUE(bytes.has_value()) << request;
    return ParseReply(bytes.value_or(""));
  };
  EXPECT_EQ(answer("GET /healthz HTTP/1.1\r\n\r\n").body, "ok\n");
  EXPECT_EQ(answer("GET /status HTTP/1.1\r\n\r\n").status, 401u);
  const Reply status = answer("GET /status HTTP/1.1\r\nAuthorization: bearer s3cret\r\n\r\n");
  EXPECT_EQ(status.status, 200u);
  EXPECT_EQ(nlohmann::json::parse(status.body)["node"], "replica1");
  // Digits only: "-1" is not the largest number, "+5" or a decoded NUL is not 5.
  for (const char* limit : {"x", "-1", "+5", "%205", "5%00x"}) {
    EXPECT_EQ(answer(std::string("GET /conflicts?limit=") + limit +
                     " HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n")
                  .status,
              400u)
        << limit;
  }
  EXPECT_EQ(answer("PUT /status HTTP/1.1\r\n\r\n").status, 405u);
}

TEST_F(AdminServerTest, AnswerRawRequestTreatsGarbageAndTruncationAsTheServerDoes) {
  EXPECT_FALSE(AnswerRawRequest("", registry).has_value());  // nothing sent: hang up silently
  for (const std::string request : {"\x01\x02 not http\r\n\r\n", "GET /healthz HTTP/1.1\r\n",
                                    "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"}) {
    const std::optional<std::string> bytes = AnswerRawRequest(request, registry);
    ASSERT_TRUE(bytes.has_value()) << request;
    const Reply reply = ParseReply(*bytes);
    EXPECT_EQ(reply.status, 400u) << request;
    EXPECT_NE(reply.body.find("malformed HTTP request"), std::string::npos) << reply.body;
  }
}

TEST_F(AdminServerTest, AnswerRawRequestRunsCommands) {
  std::map<std::string, std::string> seen;
  const CommandHandler commands =
      [&](const std::string& path,
          const std::map<std::string, std::string>& query) -> std::optional<CommandReply> {
    if (path != "/snapshot") return std::nullopt;
    seen = query;
    return CommandReply{202, "{}"};
  };
  const auto bytes =
      AnswerRawRequest("POST /snapshot?table=a.%62+c HTTP/1.1\r\n\r\n", registry, "", commands);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(ParseReply(*bytes).status, 202u);
  EXPECT_EQ(seen["table"], "a.b c");
}

// An HTTPS client that trusts `ca_file` and wants a certificate for 127.0.0.1, as curl --cacert
// would; it keeps its connection for several requests. Beast throws on errors, which fail the
// test.
class HttpsClient {
 public:
  HttpsClient(uint16_t port, const std::string& ca_file)
      : context_(TrustingOnly(ca_file)), stream_(io_, context_) {
    stream_.set_verify_mode(ssl::verify_peer);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(stream_.native_handle()), "127.0.0.1");
    beast::get_lowest_layer(stream_).connect({net::ip::make_address("127.0.0.1"), port});
    stream_.handshake(ssl::stream_base::client);
  }

  Reply Get(const std::string& target, const std::string& token = "") {
    http::write(stream_, MakeRequest(http::verb::get, target, token));
    return ReadReply(stream_, buffer_);
  }

 private:
  static ssl::context TrustingOnly(const std::string& ca_file) {
    ssl::context context(ssl::context::tls_client);
    context.load_verify_file(ca_file);
    return context;
  }

  net::io_context io_;
  ssl::context context_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

class AdminHttpsTest : public AdminServerTest {
 protected:
  void SetUp() override {
    AdminServerTest::SetUp();
    char pattern[] = "/tmp/ferry-admin-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ca_ = std::make_unique<wire::testing::TestCa>(dir_, "ca");
    issued_ = ca_->Issue("admin", {"IP:127.0.0.1", "DNS:localhost"});
    Result<std::shared_ptr<AdminTls>> tls = AdminTls::Load({issued_.cert_file, issued_.key_file});
    ASSERT_TRUE(tls.ok()) << tls.message();
    tls_ = *tls;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<wire::testing::TestCa> ca_;
  wire::testing::TestCa::Issued issued_;
  std::shared_ptr<AdminTls> tls_;
};

TEST_F(AdminHttpsTest, ServesHealthAndStatusOverHttps) {
  AdminServer server("127.0.0.1:0", registry, "", nullptr, tls_);
  ASSERT_TRUE(server.Start().ok());
  HttpsClient client(server.port(), ca_->cert_file());
  const Reply health = client.Get("/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body, "ok\n");
  // The same connection again (keep-alive through TLS).
  const Reply status = client.Get("/status");
  EXPECT_EQ(status.status, 200u);
  EXPECT_EQ(status.content_type, "application/json");
  const auto json = nlohmann::json::parse(status.body);
  EXPECT_EQ(json["node"], "replica1");
  EXPECT_EQ(json["streams"]["upstream-a"]["transactions"], 7);
}

// A plain HTTP client is dropped unanswered (it would otherwise see a response it should have
// asked for over TLS), and neither it nor a client that sends nothing holds up the next one.
TEST_F(AdminHttpsTest, APlainClientGetsNoAnswerAndTheNextHttpsClientIsServed) {
  AdminServer server("127.0.0.1:0", registry, "", nullptr, tls_);
  ASSERT_TRUE(server.Start().ok());
  wire::testing::RawClient silent(
      server.port());  // connects and never speaks: waits for the deadline
  ASSERT_TRUE(silent.connected());

  wire::testing::RawClient plain(server.port());
  ASSERT_TRUE(plain.connected());
  const std::optional<std::string> answer =
      plain.SendAndReadToEnd("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(answer.has_value()) << "the server kept a plain HTTP client waiting";
  EXPECT_EQ(answer->find("HTTP/"), std::string::npos) << *answer;
  EXPECT_EQ(answer->find("ok"), std::string::npos) << *answer;

  HttpsClient client(server.port(), ca_->cert_file());
  EXPECT_EQ(client.Get("/healthz").status, 200u);
}

TEST_F(AdminHttpsTest, TheBearerTokenIsStillRequiredOverHttps) {
  AdminServer server("127.0.0.1:0", registry, "s3cret", nullptr, tls_);
  ASSERT_TRUE(server.Start().ok());
  HttpsClient client(server.port(), ca_->cert_file());
  EXPECT_EQ(client.Get("/healthz").status, 200u);
  EXPECT_EQ(client.Get("/status").status, 401u);
  EXPECT_EQ(client.Get("/status", "wrong!").status, 401u);
  EXPECT_EQ(client.Get("/status", "s3cret").status, 200u);
}

TEST_F(AdminHttpsTest, BadFilesAreRefusedAtLoadNamingTheSetting) {
  const Result<std::shared_ptr<AdminTls>> missing =
      AdminTls::Load({dir_ + "/none.crt", issued_.key_file});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("none.crt"), std::string::npos) << missing.message();
  EXPECT_NE(missing.message().find("admin_tls.cert_file"), std::string::npos) << missing.message();

  const wire::testing::TestCa::Issued other = ca_->Issue("other", {});
  const Result<std::shared_ptr<AdminTls>> mismatch =
      AdminTls::Load({issued_.cert_file, other.key_file});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.message().find("does not belong to certificate"), std::string::npos)
      << mismatch.message();
  EXPECT_NE(mismatch.message().find("admin_tls.key_file"), std::string::npos) << mismatch.message();

  const Result<std::shared_ptr<AdminTls>> not_a_key =
      AdminTls::Load({issued_.cert_file, issued_.cert_file});
  ASSERT_FALSE(not_a_key.ok());
  EXPECT_NE(not_a_key.message().find("admin_tls.key_file must be an unencrypted PEM private key"),
            std::string::npos)
      << not_a_key.message();
}

// What the admin logger says while `start` runs.
std::string LoggedDuring(const std::function<void()>& start) {
  std::ostringstream lines;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines);
  const std::shared_ptr<spdlog::logger> logger = Logger("admin");
  logger->sinks().push_back(sink);
  start();
  logger->flush();
  logger->sinks().pop_back();
  return lines.str();
}

// The log says which the endpoint serves, and warns when a bearer token would cross the network
// in clear text: a token and a non-loopback address without admin_tls.
TEST_F(AdminHttpsTest, TheLogSaysHttpOrHttpsAndWarnsOfATokenInClearText) {
  const std::string kWarning = "crosses the network in clear text";
  AdminServer exposed("0.0.0.0:0", registry, "s3cret");
  std::string log = LoggedDuring([&] { ASSERT_TRUE(exposed.Start().ok()); });
  EXPECT_NE(log.find("(HTTP, no admin_tls)"), std::string::npos) << log;
  EXPECT_NE(log.find(kWarning), std::string::npos) << log;

  AdminServer encrypted("0.0.0.0:0", registry, "s3cret", nullptr, tls_);
  log = LoggedDuring([&] { ASSERT_TRUE(encrypted.Start().ok()); });
  EXPECT_NE(log.find("(HTTPS)"), std::string::npos) << log;
  EXPECT_EQ(log.find(kWarning), std::string::npos) << log;

  AdminServer local("127.0.0.1:0", registry, "s3cret");
  log = LoggedDuring([&] { ASSERT_TRUE(local.Start().ok()); });
  EXPECT_EQ(log.find(kWarning), std::string::npos) << log;

  AdminServer tokenless("0.0.0.0:0", registry);
  log = LoggedDuring([&] { ASSERT_TRUE(tokenless.Start().ok()); });
  EXPECT_EQ(log.find(kWarning), std::string::npos) << log;
}

}  // namespace
}  // namespace ferry::admin
