#include "cli/snapshot_command.h"

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/config.h"

namespace ferry::cli {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr char kSnapshotUsage[] =
    "usage: ferry snapshot --config APPLY.yaml --table schema.table [--table ...] "
    "[--upstream NAME]";

struct SnapshotArguments {
  std::string config;
  std::vector<std::string> tables;
  std::string upstream;
};

Result<SnapshotArguments> ParseSnapshotArguments(const std::vector<std::string>& args) {
  SnapshotArguments parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--config" && has_value) {
      parsed.config = args[++i];
    } else if (arg == "--table" && has_value) {
      parsed.tables.push_back(args[++i]);
    } else if (arg == "--upstream" && has_value) {
      parsed.upstream = args[++i];
    } else {
      return Status::Error("unexpected argument \"" + arg + "\"; " + kSnapshotUsage);
    }
  }
  if (parsed.config.empty() || parsed.tables.empty()) {
    return Status::Error(std::string("--config and --table are required; ") + kSnapshotUsage);
  }
  return parsed;
}

std::string PercentEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0xf];
    }
  }
  return encoded;
}

// Where a client reaches an agent listening on `address`: a wildcard listen address is reached
// on the loopback.
std::pair<std::string, std::string> ClientEndpoint(const std::string& address) {
  const size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  return {host, port};
}

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// Makes `context` trust exactly the certificate the agent serves: the first one in its
// admin_tls.cert_file, read from the same config. `ferry snapshot` runs beside the agent and
// reaches it by whatever address it listens on, so the certificate is pinned rather than checked
// for a name and a CA.
Status TrustOnly(ssl::context& context, const std::string& cert_file) {
  FILE* file = std::fopen(cert_file.c_str(), "r");
  X509* leaf = file == nullptr ? nullptr : PEM_read_X509(file, nullptr, nullptr, nullptr);
  if (file != nullptr) std::fclose(file);
  if (leaf == nullptr) {
    return Status::Error("cannot read the admin endpoint's certificate " + cert_file +
                         " (admin_tls.cert_file) to trust it");
  }
  SSL_CTX* ctx = context.native_handle();
  const bool added = X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), leaf) == 1;
  X509_free(leaf);
  if (!added) return Status::Error("cannot trust the admin endpoint's certificate " + cert_file);
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
  context.set_verify_mode(ssl::verify_peer);
  return Status::Ok();
}

template <class Stream>
HttpReply Exchange(Stream& stream, const http::request<http::string_body>& request) {
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return HttpReply{response.result_int(), response.body()};
}

// One POST to the admin endpoint, over HTTPS when the config has admin_tls; an error names the
// address when it cannot be reached.
Result<HttpReply> Post(const ApplyConfig& config, const std::string& target) {
  const auto [host, port] = ClientEndpoint(config.admin);
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, host);
  if (!config.admin_token.empty()) {
    request.set(http::field::authorization, "Bearer " + config.admin_token);
  }
  request.prepare_payload();
  try {
    net::io_context io;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(host, port);
    if (!config.admin_tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(std::chrono::seconds(30));
      stream.connect(endpoints);
      return Exchange(stream, request);
    }
    ssl::context context(ssl::context::tls_client);
    FERRY_RETURN_IF_ERROR(TrustOnly(context, config.admin_tls->cert_file));
    beast::ssl_stream<beast::tcp_stream> stream(io, context);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(ssl::stream_base::client);
    return Exchange(stream, request);
  } catch (const std::exception& e) {
    return Status::Error("cannot reach the apply agent's admin endpoint at " + config.admin +
                         (config.admin_tls ? " (HTTPS)" : " (HTTP)") + ": " + e.what() +
                         "; is the agent running (ferry apply --config ...) with this config?");
  }
}

std::string ErrorOf(const HttpReply& reply) {
  nlohmann::json body = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return body["error"].get<std::string>();
  }
  return "HTTP " + std::to_string(reply.status) + ": " + reply.body;
}

admin::CommandReply Json(unsigned status, const nlohmann::json& json) {
  // A table name from the request may hold bytes that are not UTF-8: replaced, never thrown on.
  return {status, json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

}  // namespace

std::optional<admin::CommandReply> ApplyAdminCommand(
    apply::ApplyAgent& agent, const std::string& path,
    const std::map<std::string, std::string>& query) {
  if (path != "/snapshot") return std::nullopt;
  const auto table = query.find("table");
  if (table == query.end() || table->second.empty()) {
    return Json(400, {{"error", "POST /snapshot needs ?table=schema.table"}});
  }
  const auto upstream = query.find("upstream");
  const std::string upstream_name = upstream == query.end() ? "" : upstream->second;
  Status requested = agent.RequestRecopy(upstream_name, table->second);
  if (!requested.ok()) return Json(400, {{"error", requested.message()}});
  return Json(202, {{"table", table->second},
                    {"upstream", upstream_name},
                    {"state", "requested"},
                    {"follow", "GET /status: streams.<upstream>.copy"}});
}

int RunSnapshot(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Result<SnapshotArguments> parsed = ParseSnapshotArguments(args);
  if (!parsed.ok()) {
    err << "ferry snapshot: " << parsed.message() << "\n";
    return 2;
  }
  Result<ApplyConfig> config = LoadApplyConfig(parsed->config);
  if (!config.ok()) {
    err << "ferry snapshot: " << config.message() << "\n";
    return 2;
  }
  int exit_code = 0;
  for (const std::string& table : parsed->tables) {
    std::string target = "/snapshot?table=" + PercentEncode(table);
    if (!parsed->upstream.empty()) target += "&upstream=" + PercentEncode(parsed->upstream);
    Result<HttpReply> reply = Post(*config, target);
    if (!reply.ok()) {
      err << "ferry snapshot: " << reply.message() << "\n";
      return 1;
    }
    if (reply->status != 202) {
      err << "ferry snapshot: " << table << ": " << ErrorOf(*reply) << "\n";
      exit_code = 1;
      continue;
    }
    out << table << ": re-copy requested; the apply agent copies it again while replication "
        << "runs; follow it on GET /status (streams.<upstream>.copy) of " << config->admin << "\n";
  }
  return exit_code;
}

}  // namespace ferry::cli
