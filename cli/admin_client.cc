#include "cli/admin_client.h"

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace ferry::cli {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

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

// Makes `context` trust exactly the certificate the agent serves: the first one in `cert_file`.
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

template <class Config>
AdminEndpoint EndpointFrom(const Config& config, std::string agent) {
  return AdminEndpoint{config.admin, config.admin_token,
                       config.admin_tls ? config.admin_tls->cert_file : "", std::move(agent)};
}

}  // namespace

AdminEndpoint EndpointOf(const ApplyConfig& config) {
  return EndpointFrom(config, "the apply agent");
}
AdminEndpoint EndpointOf(const CaptureConfig& config) {
  return EndpointFrom(config, "the capture agent");
}

Result<HttpReply> AdminRequest(const AdminEndpoint& endpoint, const std::string& method,
                               const std::string& target, int timeout_seconds) {
  const auto [host, port] = ClientEndpoint(endpoint.address);
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, host);
  if (!endpoint.token.empty()) request.set(http::field::authorization, "Bearer " + endpoint.token);
  request.prepare_payload();
  const bool https = !endpoint.pinned_cert.empty();
  try {
    net::io_context io;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(host, port);
    if (!https) {
      beast::tcp_stream stream(io);
      stream.expires_after(std::chrono::seconds(timeout_seconds));
      stream.connect(endpoints);
      return Exchange(stream, request);
    }
    ssl::context context(ssl::context::tls_client);
    FERRY_RETURN_IF_ERROR(TrustOnly(context, endpoint.pinned_cert));
    beast::ssl_stream<beast::tcp_stream> stream(io, context);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(timeout_seconds));
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(ssl::stream_base::client);
    return Exchange(stream, request);
  } catch (const std::exception& e) {
    return Status::Error("cannot reach " + endpoint.agent + "'s admin endpoint at " +
                         endpoint.address + (https ? " (HTTPS)" : " (HTTP)") + ": " + e.what());
  }
}

std::string ErrorOf(const HttpReply& reply) {
  nlohmann::json body = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return body["error"].get<std::string>();
  }
  return "HTTP " + std::to_string(reply.status) + ": " + reply.body;
}

}  // namespace ferry::cli
