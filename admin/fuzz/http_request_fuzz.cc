// libFuzzer target for the admin endpoint's request path (AnswerRawRequest): Beast's request
// parser with the server's limits, then Ferry's routing, bearer-token check, query-string
// decoding and /conflicts parameters. Arbitrary bytes must never crash it, and the answer must
// hold: exactly one well-formed HTTP response (none only for no bytes at all), with a status the
// router can give, a JSON body wherever it says JSON, nothing but /healthz served and no command
// run without the token, and a 500 only when the command itself threw.
// Built only with -DFERRY_FUZZ=ON and clang:
//   CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DFERRY_FUZZ=ON
//   cmake --build build-fuzz --target http_request_fuzz
//   build-fuzz/admin/http_request_fuzz -max_total_time=60
// Input: one control byte, then the request. Control bits:
//   0x01  the endpoint requires the bearer token kToken
//   0x02  the endpoint takes commands (POST /snapshot, as the apply agent's)
//   0x04  the rest is not the raw request but drives SynthesizeRequest, which writes a request
//         line and headers around fuzzed parts, so that the router is reached: random bytes
//         almost never make a request line with a known path
#include <fuzzer/FuzzedDataProvider.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "admin/admin_server.h"
#include "admin/registry.h"

namespace {

namespace http = boost::beast::http;
using ferry::admin::CommandReply;

constexpr std::string_view kToken = "fuzz-admin-token";

void Check(bool condition) {
  if (!condition) std::abort();
}

// A registry with something in every view, including an error quoting bytes that are not UTF-8.
const ferry::admin::MetricsRegistry& Registry() {
  static const auto* registry = [] {
    auto* r = new ferry::admin::MetricsRegistry("apply", "node1");
    r->UpdateStream("east", [](ferry::admin::StreamStatus& s) {
      s.state = "error";
      s.last_error = "bad byte \xff from the server";
      s.transactions = 3;
    });
    r->AddCounter("conflicts", "east");
    for (int i = 0; i < 3; ++i) {
      ferry::admin::ConflictReport report;
      report.at_us = 1'700'000'000'000'000 + i;
      report.upstream = "east";
      report.table = i == 0 ? "app.orders" : "app.items";
      report.type = "update_missing";
      r->RecordConflict(report);
    }
    return r;
  }();
  return *registry;
}

// What one input did to the command handler.
struct Commands {
  bool ran = false;
  bool threw = false;
};

// Answers as the apply agent's ApplyAdminCommand does (cli/snapshot_command.cc), including its
// json.dump, which throws on a table name that is not UTF-8.
ferry::admin::CommandHandler SnapshotCommand(Commands& commands) {
  return
      [&commands](const std::string& path,
                  const std::map<std::string, std::string>& query) -> std::optional<CommandReply> {
        if (path != "/snapshot") return std::nullopt;
        commands.ran = true;
        const auto table = query.find("table");
        if (table == query.end() || table->second.empty()) {
          return CommandReply{400, R"({"error": "POST /snapshot needs ?table=schema.table"})"};
        }
        try {
          return CommandReply{202, nlohmann::json{{"table", table->second}}.dump(2)};
        } catch (...) {
          commands.threw = true;
          throw;
        }
      };
}

// A request that Beast mostly accepts: a known method and path (or a fuzzed one), a fuzzed query,
// an Authorization header that is right, wrong or absent, and perhaps a body; the fuzzed parts
// may still break it. Whatever input is left follows it (a pipelined request, or garbage).
std::string SynthesizeRequest(FuzzedDataProvider& input) {
  constexpr const char* kMethods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"};
  constexpr const char* kPaths[] = {"/healthz", "/livez",    "/status", "/lag", "/conflicts",
                                    "/metrics", "/snapshot", "/",       "/nope"};
  std::string request = input.PickValueInArray(kMethods);
  request += ' ';
  request +=
      input.ConsumeBool() ? input.PickValueInArray(kPaths) : input.ConsumeRandomLengthString(32);
  if (input.ConsumeBool()) request += '?' + input.ConsumeRandomLengthString(256);
  request += input.ConsumeBool() ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n";
  switch (input.ConsumeIntegralInRange(0, 3)) {
    case 0:
      request += "Authorization: Bearer " + std::string(kToken) + "\r\n";
      break;
    case 1:
      request += "Authorization: " + input.ConsumeRandomLengthString(64) + "\r\n";
      break;
    case 2:
      request += input.ConsumeRandomLengthString(128);  // any header lines, or none
      break;
    default:
      break;
  }
  const std::string body = input.ConsumeBool() ? input.ConsumeRandomLengthString(256) : "";
  if (!body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  return request + input.ConsumeRemainingBytesAsString();
}

// Parses `bytes` as exactly one complete response.
http::response<http::string_body> ParseResponse(const std::string& bytes) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  boost::beast::error_code ec;
  const size_t used = parser.put(boost::asio::buffer(bytes), ec);
  Check(!ec && parser.is_done() && used == bytes.size());
  return parser.release();
}

void CheckResponse(const http::response<http::string_body>& response, std::string_view request,
                   bool token_required, const Commands& commands) {
  const unsigned status = response.result_int();
  Check(status == 200 || status == 202 || status == 400 || status == 401 || status == 404 ||
        status == 405 || status == 500 || status == 503);
  Check(status != 500 || commands.threw);
  // Only /healthz answers 503: the registry's stream is failing.
  Check(status != 503 || response.body().rfind("unhealthy\n- stream east failed", 0) == 0);
  if (response[http::field::content_type] == "application/json") {
    Check(!nlohmann::json::parse(response.body(), nullptr, /*allow_exceptions=*/false)
               .is_discarded());
  }
  // Without the token only /livez and /healthz answer (and only errors otherwise), and never
  // with an error's text.
  const bool sent_token = request.find(kToken) != std::string_view::npos;
  if (token_required && !sent_token) {
    Check(!commands.ran);
    Check(status != 202 && (status != 200 || response.body() == "ok\n"));
    Check(response.body().find("bad byte") == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  FuzzedDataProvider rest(data + 1, size - 1);
  const std::string request =
      control & 0x04 ? SynthesizeRequest(rest) : rest.ConsumeRemainingBytesAsString();
  const bool token_required = control & 0x01;
  Commands commands;
  const std::optional<std::string> answer =
      ferry::admin::AnswerRawRequest(request, Registry(), token_required ? std::string(kToken) : "",
                                     control & 0x02 ? SnapshotCommand(commands) : nullptr);
  Check(answer.has_value() == !request.empty());
  if (answer) CheckResponse(ParseResponse(*answer), request, token_required, commands);
  return 0;
}
