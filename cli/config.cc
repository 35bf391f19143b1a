#include "cli/config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "apply/type_override.h"
#include "capture/table_copier.h"
#include "common/log.h"

namespace ferry::cli {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxIntervalMs = 3600 * 1000;
constexpr int64_t kMinFrameBytes = 4096;
constexpr int64_t kMaxFrameBytes = int64_t{1} << 30;
constexpr int64_t kMaxRowsPerFrame = 1000000;
constexpr int64_t kMaxCopyChunkRows = 1000000;
constexpr int64_t kMaxCopyRowsPerSecond = 100000000;
// A token shorter than this is refused: the token is all that stands between the network and
// the stream (or the admin endpoint), and a short one can be guessed.
constexpr size_t kMinTokenBytes = 16;

std::string TokenHowTo(const std::string& file) {
  return "(umask 077; head -c 32 /dev/urandom | base64 > " + file + ")";
}

// ---------------------------------------------------------------------------------------------
// Collecting problems

// Every problem found in one file, each rendered as "<file>: <key path>: <message>".
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}

  void Add(const std::string& path, const std::string& message) {
    lines_.push_back(file_ + ": " + (path.empty() ? "" : path + ": ") + message);
  }
  bool empty() const { return lines_.empty(); }
  const std::string& file() const { return file_; }

  Status ToStatus() const {
    std::string joined;
    for (const auto& line : lines_) joined += (joined.empty() ? "" : "\n") + line;
    return Status::Error(joined);
  }

 private:
  std::string file_;
  std::vector<std::string> lines_;
};

std::string Child(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string Item(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string Quote(const std::string& text) { return "\"" + text + "\""; }

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Suggestions for misspelt keys and values

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the commonest
// typo ("tabels").
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The closest candidate, if it is close enough to be what the user meant.
std::optional<std::string> Closest(const std::string& word, const std::vector<std::string>& known) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const auto& candidate : known) {
    const size_t distance = EditDistance(word, candidate);
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  const size_t allowed = std::max<size_t>(2, word.size() / 3);
  if (!best || best_distance > allowed) return std::nullopt;
  return best;
}

// ---------------------------------------------------------------------------------------------
// Reading typed values out of YAML maps

// Keys of the other agent's file, with the hint given when one turns up in the wrong file.
using ForeignKeys = std::map<std::string, std::string>;

// One YAML map being read. Checks its keys and reads typed values, reporting each problem under
// the key's full path ("upstreams[0].address") and leaving the default in place.
class MapReader {
 public:
  MapReader(Problems& problems, YAML::Node node, std::string path)
      : problems_(problems), node_(std::move(node)), path_(std::move(path)) {}

  Problems& problems() const { return problems_; }
  std::string PathOf(const std::string& key) const { return Child(path_, key); }

  // Reports keys not in `known` (suggesting the closest) and keys given twice.
  void CheckKeys(const std::vector<std::string>& known, const ForeignKeys& foreign = {}) const;

  // The value of `key`; undefined when absent. `null` ("key:" with nothing after it) counts as
  // absent so that an emptied value is reported as missing, not as the string "".
  YAML::Node Get(const std::string& key) const {
    const YAML::Node value = node_[key];
    if (!value.IsDefined() || value.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
    return value;
  }
  bool Has(const std::string& key) const { return Get(key).IsDefined(); }
  // Whether `key` is written at all, even with a null value ("key: null", "key:").
  bool Written(const std::string& key) const { return node_[key].IsDefined(); }

  // A non-empty string; reports `missing` (when not empty) if the key is absent.
  std::optional<std::string> String(const std::string& key, const std::string& missing) const;
  void OptionalString(const std::string& key, std::string& out) const {
    if (auto value = String(key, "")) out = *value;
  }
  // true or false (YAML's spellings of them); left as it is when absent.
  void Boolean(const std::string& key, bool& out) const;
  // A whole number in [min, max]; `unit` names what it counts, for the message.
  template <typename T>
  void Integer(const std::string& key, T& out, int64_t min, int64_t max,
               const std::string& unit) const;

 private:
  Problems& problems_;
  YAML::Node node_;
  std::string path_;
};

void MapReader::CheckKeys(const std::vector<std::string>& known, const ForeignKeys& foreign) const {
  std::set<std::string> seen;
  for (const auto& entry : node_) {
    const YAML::Node& key_node = entry.first;
    if (!key_node.IsScalar()) {
      problems_.Add(path_, "keys must be plain names, not lists or maps");
      continue;
    }
    const std::string key = key_node.Scalar();
    if (!seen.insert(key).second) {
      problems_.Add(path_, "key " + Quote(key) + " is given twice; keep one");
      continue;
    }
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown key " + Quote(key);
    if (auto hint = foreign.find(key); hint != foreign.end()) {
      message += " (" + hint->second + ")";
    } else if (auto suggestion = Closest(key, known)) {
      message += " (did you mean " + Quote(*suggestion) + "?)";
    } else {
      message += "; known keys: " + JoinNames(known);
    }
    problems_.Add(path_, message);
  }
}

void MapReader::Boolean(const std::string& key, bool& out) const {
  const std::optional<std::string> text = String(key, "");
  if (!text) return;
  if (*text == "true" || *text == "yes" || *text == "on") {
    out = true;
  } else if (*text == "false" || *text == "no" || *text == "off") {
    out = false;
  } else {
    problems_.Add(PathOf(key), "expected true or false, not " + Quote(*text));
  }
}

std::optional<std::string> MapReader::String(const std::string& key,
                                             const std::string& missing) const {
  const YAML::Node value = Get(key);
  if (!value.IsDefined()) {
    if (!missing.empty()) problems_.Add(PathOf(key), missing);
    return std::nullopt;
  }
  if (!value.IsScalar()) {
    problems_.Add(PathOf(key), "expected a single value, not a list or map");
    return std::nullopt;
  }
  if (value.Scalar().empty()) {
    problems_.Add(PathOf(key), "is empty; " + (missing.empty() ? "remove it or set it" : missing));
    return std::nullopt;
  }
  return value.Scalar();
}

template <typename T>
void MapReader::Integer(const std::string& key, T& out, int64_t min, int64_t max,
                        const std::string& unit) const {
  const YAML::Node value = Get(key);
  if (!value.IsDefined()) return;
  const std::string text = value.IsScalar() ? value.Scalar() : "";
  int64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    problems_.Add(PathOf(key), "expected a whole number of " + unit +
                                   (value.IsScalar() ? ", got " + Quote(text) : ""));
    return;
  }
  if (number < min || number > max) {
    problems_.Add(PathOf(key), text + " is out of range; use " + std::to_string(min) + " to " +
                                   std::to_string(max) + " " + unit);
    return;
  }
  out = static_cast<T>(number);
}

// A YAML value that must be a map; reports and returns false when it is something else.
bool ExpectMap(Problems& problems, const YAML::Node& node, const std::string& path,
               const std::string& example) {
  if (node.IsMap()) return true;
  problems.Add(path, "expected a map, e.g. " + example);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Value checks

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsName(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsNameChar);
}

// Node and upstream names end up in slot and publication names and in log lines, so they are
// kept to a safe alphabet.
void CheckName(Problems& problems, const std::string& path,
               const std::optional<std::string>& name) {
  if (name && !IsName(*name)) {
    problems.Add(
        path,
        Quote(*name) + " is not a valid name; use letters, digits, '_' and '-' only, e.g. east");
  }
}

// "" when `address` is a valid "host:port" (host may be "[v6]"), else what is wrong with it.
std::string AddressProblem(const std::string& address) {
  const std::string example = "expected host:port, e.g. 127.0.0.1:7400";
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return Quote(address) + " is not host:port, e.g. 127.0.0.1:7400";
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return Quote(address) + ": unbalanced '['; " + example;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return Quote(address) + ": write an IPv6 host in brackets, e.g. [::1]:7400";
  }
  if (host.empty()) return Quote(address) + " has no host; " + example;
  int number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number < 1 ||
      number > 65535) {
    return Quote(address) + ": port must be a number from 1 to 65535";
  }
  return "";
}

void ReadAddress(const MapReader& map, const std::string& key, std::string& out,
                 const std::string& missing = "") {
  auto value = map.String(key, missing);
  if (!value) return;
  if (std::string problem = AddressProblem(*value); !problem.empty()) {
    map.problems().Add(map.PathOf(key), problem);
    return;
  }
  out = *value;
}

// The host of a valid "host:port" (brackets of an IPv6 host removed).
std::string HostOf(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// A path from a config file, relative to the file's directory unless absolute.
std::string ConfigPath(const fs::path& config_dir, const std::string& path) {
  return fs::path(path).is_absolute() ? path : (config_dir / path).string();
}

// `tls:` of a listener or an upstream: a map of files (TLS), `disabled` (plain TCP, said
// explicitly), or absent (plain TCP, allowed only on loopback addresses). `read_files` reads the
// map's keys. Returns whether the map form was given.
template <typename ReadFiles>
bool ReadTransport(const MapReader& map, const std::string& address_key, const std::string& address,
                   const std::string& example, TransportConfig& out, ReadFiles read_files) {
  const YAML::Node node = map.Get("tls");
  const std::string path = map.PathOf("tls");
  if (!node.IsDefined()) {
    if (!address.empty() && !IsLoopbackHost(HostOf(address))) {
      map.problems().Add(map.PathOf(address_key),
                         Quote(address) +
                             " is not a loopback address, and the stream would cross the network "
                             "in clear text, its auth token readable on the way: add tls: " +
                             example + ", or tls: disabled on a network you trust");
    }
    return false;
  }
  if (node.IsScalar() && node.Scalar() == "disabled") {
    out.tls_disabled = true;
    return false;
  }
  if (!ExpectMap(map.problems(), node, path, example + " or disabled")) return false;
  read_files(MapReader(map.problems(), node, path));
  return true;
}

void ReadCaptureTransport(const MapReader& map, const fs::path& config_dir,
                          const std::string& listen, CaptureTransport& out) {
  const std::string example = "{cert_file: capture.crt, key_file: capture.key}";
  wire::TlsServerConfig files;
  const bool given = ReadTransport(map, "listen", listen, example, out, [&](const MapReader& tls) {
    tls.CheckKeys({"cert_file", "key_file", "client_ca_file"});
    const auto cert = tls.String("cert_file", "missing; the capture agent's certificate (PEM)");
    const auto key = tls.String("key_file", "missing; the certificate's private key (PEM)");
    if (cert) files.cert_file = ConfigPath(config_dir, *cert);
    if (key) files.key_file = ConfigPath(config_dir, *key);
    if (auto ca = tls.String("client_ca_file", "")) {
      files.client_ca_file = ConfigPath(config_dir, *ca);
    }
  });
  if (given) out.tls = files;
}

void ReadUpstreamTransport(const MapReader& map, const fs::path& config_dir,
                           const std::string& address, UpstreamTransport& out) {
  const std::string example = "{ca_file: ca.crt}";
  wire::TlsClientConfig files;
  const bool given =
      ReadTransport(map, "address", address, example, out, [&](const MapReader& tls) {
        tls.CheckKeys({"ca_file", "server_name", "cert_file", "key_file"});
        if (auto ca = tls.String("ca_file", "")) files.ca_file = ConfigPath(config_dir, *ca);
        tls.OptionalString("server_name", files.server_name);
        const auto cert = tls.String("cert_file", "");
        const auto key = tls.String("key_file", "");
        if (cert) files.cert_file = ConfigPath(config_dir, *cert);
        if (key) files.key_file = ConfigPath(config_dir, *key);
        if (cert.has_value() != key.has_value()) {
          tls.problems().Add(tls.PathOf(cert ? "key_file" : "cert_file"),
                             "missing; a client certificate needs both cert_file and key_file");
        }
      });
  if (given) out.tls = files;
}

// Whether the agent can open `file` (named by `key` of `map`) now; reports why not, with `fix`.
// A missing or misspelt file is found with every other problem instead of when the agent starts.
bool CheckReadable(const MapReader& map, const std::string& key, const std::string& file,
                   const std::string& fix) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    map.problems().Add(map.PathOf(key),
                       "cannot read " + Quote(file) + ": it is a directory; " + fix);
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    map.problems().Add(map.PathOf(key),
                       "cannot read " + Quote(file) + ": " + std::strerror(errno) + "; " + fix);
    return false;
  }
  return true;
}

// `health: {max_lag_seconds: 30}`: a stream further behind makes GET /healthz answer 503.
void ReadHealth(const MapReader& parent, admin::HealthPolicy& out) {
  const YAML::Node node = parent.Get("health");
  if (!node.IsDefined()) return;
  const std::string path = parent.PathOf("health");
  if (!ExpectMap(parent.problems(), node, path, "{max_lag_seconds: 30}")) return;
  const MapReader map(parent.problems(), node, path);
  map.CheckKeys({"max_lag_seconds"});
  map.Integer("max_lag_seconds", out.max_lag_seconds, 0, 86400 * 365, "seconds (0: no limit)");
}

// `admin_tls:` the admin endpoint serves HTTPS with this certificate and key. Both files must be
// readable here; whether they hold a certificate and its key is checked when the agent starts
// (admin::AdminTls::Load), before it serves anything, as for `tls:`.
void ReadAdminTls(const MapReader& parent, const fs::path& config_dir,
                  std::optional<admin::AdminTlsConfig>& out) {
  const YAML::Node node = parent.Get("admin_tls");
  if (!node.IsDefined()) return;
  const std::string path = parent.PathOf("admin_tls");
  if (!ExpectMap(parent.problems(), node, path, "{cert_file: admin.crt, key_file: admin.key}")) {
    return;
  }
  const MapReader map(parent.problems(), node, path);
  map.CheckKeys({"cert_file", "key_file"});
  const std::string relative = " (a relative path starts at this config file's directory)";
  const auto cert = map.String(
      "cert_file", "missing; the admin endpoint's certificate chain (PEM), e.g. admin.crt");
  const auto key =
      map.String("key_file", "missing; the certificate's private key (PEM), e.g. admin.key");
  admin::AdminTlsConfig files;
  bool readable = cert.has_value() && key.has_value();
  if (cert) {
    files.cert_file = ConfigPath(config_dir, *cert);
    readable = CheckReadable(map, "cert_file", files.cert_file,
                             "set cert_file to the admin endpoint's PEM certificate" + relative) &&
               readable;
  }
  if (key) {
    files.key_file = ConfigPath(config_dir, *key);
    readable = CheckReadable(map, "key_file", files.key_file,
                             "set key_file to the certificate's PEM private key" + relative) &&
               readable;
  }
  if (readable) out = files;
}

// Splits "schema.table"; nullopt unless both parts are present and there is exactly one dot.
std::optional<std::pair<std::string, std::string>> SplitTableName(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size() ||
      name.find('.', dot + 1) != std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(name.substr(0, dot), name.substr(dot + 1));
}

bool IsQualifiedTable(const std::string& name, bool allow_wildcard) {
  const auto parts = SplitTableName(name);
  if (!parts || parts->first == "*") return false;
  if (parts->second == "*") return allow_wildcard;
  return parts->second.find('*') == std::string::npos;
}

void ReadLogLevel(const MapReader& map, std::string& out) {
  static const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  auto value = map.String("log_level", "");
  if (!value) return;
  if (std::find(kLevels.begin(), kLevels.end(), *value) == kLevels.end()) {
    map.problems().Add(map.PathOf("log_level"),
                       "unknown level " + Quote(*value) + "; use one of " + JoinNames(kLevels));
    return;
  }
  out = *value;
}

// `log_format: text | journal | json`; absent: journal under systemd, text otherwise.
void ReadLogFormat(const MapReader& map, std::string& out) {
  auto value = map.String("log_format", "");
  if (!value) return;
  if (!ParseLogFormat(*value)) {
    map.problems().Add(map.PathOf("log_format"),
                       "unknown format " + Quote(*value) +
                           "; use text, journal (no timestamps, for systemd's journal) or json "
                           "(one object per line, for log shippers)");
    return;
  }
  out = *value;
}

// How a statement's place in a binlog is named (see Ddl::at in capture/mysql/binlog_decoder.h):
// a MariaDB GTID "0-1-57", a MySQL GTID "uuid:57", or "file:<binlog file>:<offset>".
bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

bool IsStatementPlace(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view head = text.substr(0, colon), number = text.substr(colon + 1);
    return IsDigits(number) && (IsUuid(head) || (head.size() > 5 && head.substr(0, 5) == "file:"));
  }
  const size_t first = text.find('-'), second = text.find('-', first + 1);
  return first != std::string_view::npos && second != std::string_view::npos &&
         IsDigits(text.substr(0, first)) && IsDigits(text.substr(first + 1, second - first - 1)) &&
         IsDigits(text.substr(second + 1));
}

void ReadSkipStatements(const MapReader& map, std::vector<std::string>& out) {
  const YAML::Node node = map.Get("skip_statements");
  if (!node.IsDefined()) return;
  const std::string message =
      "expected a list of statement positions as the capture agent's error names them, e.g. "
      "[\"0-1-57\", \"file:mysql-bin.000003:4711\"]";
  if (!node.IsSequence()) {
    map.problems().Add(map.PathOf("skip_statements"), message);
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar() || !IsStatementPlace(node[i].Scalar())) {
      map.problems().Add(Item(map.PathOf("skip_statements"), i), message);
      continue;
    }
    out.push_back(node[i].Scalar());
  }
}

// Zero and partial dates used to be chosen by the capture agent, which cost a MariaDB/MySQL
// target the exact values; an old capture config that still sets them must say where it went.
void RefuseCaptureZeroDates(const MapReader& map) {
  if (!map.Written("zero_dates")) return;
  map.problems().Add(
      map.PathOf("zero_dates"),
      "moved to the apply config: zero and partial dates (0000-00-00, 2024-00-10) now travel "
      "exactly, so that a MariaDB/MySQL target stores them as they are, and only a PostgreSQL "
      "target, which cannot hold them, chooses NULL or an error; remove it here and, to keep "
      "its effect, set target.zero_dates (null or error) in the apply config of each PostgreSQL "
      "target");
}

// What a PostgreSQL target does with a zero or partial date it cannot hold.
void ReadTargetZeroDates(const MapReader& map, const std::string& path, DatabaseConfig& out) {
  if (!map.Written("zero_dates")) return;
  if (!out.engine.empty() && out.engine != "postgres") {
    map.problems().Add(path, "zero_dates applies only to postgres targets: a " + out.engine +
                                 " target stores zero and partial dates exactly; remove it");
    return;
  }
  // YAML reads a bare `null` as no value: that is the default, NULL.
  auto zero_dates = map.String("zero_dates", "");
  if (!zero_dates) return;
  if (*zero_dates != "null" && *zero_dates != "error") {
    map.problems().Add(map.PathOf("zero_dates"),
                       "expected null (write zero and partial dates such as 0000-00-00 as NULL) "
                       "or error (stop the stream on one)");
    return;
  }
  out.zero_dates = *zero_dates;
}

void ReadTargetSynchronousCommit(const MapReader& map, const std::string& path,
                                 DatabaseConfig& out) {
  if (!map.Written("synchronous_commit")) return;
  if (!out.engine.empty() && out.engine != "postgres") {
    map.problems().Add(path, "synchronous_commit applies only to postgres targets (a " +
                                 out.engine +
                                 " target's durability is the server's "
                                 "innodb_flush_log_at_trx_commit); remove it");
    return;
  }
  map.Boolean("synchronous_commit", out.synchronous_commit);
}

// `source:` / `target:` — the database this agent reads or writes. A source may have the settings
// only a binlog reader has (server_id, skip_statements); a target the one only a PostgreSQL
// target has (zero_dates).
void ReadDatabase(const MapReader& parent, const std::string& key, bool is_source,
                  DatabaseConfig& out) {
  const std::string path = parent.PathOf(key);
  const std::string example = "{engine: postgres, dsn: \"host=localhost dbname=app\"}";
  const YAML::Node node = parent.Get(key);
  if (!node.IsDefined()) {
    parent.problems().Add(path, "missing; set the database to connect to, e.g. " + example);
    return;
  }
  if (!ExpectMap(parent.problems(), node, path, example)) return;
  MapReader map(parent.problems(), node, path);
  std::vector<std::string> keys = {"engine", "dsn", "zero_dates", "synchronous_commit"};
  if (is_source) keys.insert(keys.end(), {"server_id", "skip_statements"});
  if (!is_source) keys.push_back("lock_timeout_ms");
  map.CheckKeys(keys);
  static const std::vector<std::string> kEngines = {"postgres", "mariadb", "mysql"};
  if (auto engine = map.String("engine", "missing; set it to postgres, mariadb or mysql")) {
    if (std::find(kEngines.begin(), kEngines.end(), *engine) != kEngines.end()) {
      out.engine = *engine;
    } else {
      map.problems().Add(map.PathOf("engine"), "unknown engine " + Quote(*engine) +
                                                   "; supported engines: " + JoinNames(kEngines));
    }
  }
  if (auto dsn = map.String("dsn",
                            "missing; set a connection string, e.g. "
                            "\"host=localhost port=5432 dbname=app user=ferry\"")) {
    out.dsn = *dsn;
  }
  if (!is_source) {
    ReadTargetZeroDates(map, path, out);
    ReadTargetSynchronousCommit(map, path, out);
    map.Integer("lock_timeout_ms", out.lock_timeout_ms, 0, kMaxIntervalMs, "milliseconds");
    return;
  }
  RefuseCaptureZeroDates(map);
  const bool binlog = out.engine == "mariadb" || out.engine == "mysql";
  if (!binlog && (map.Has("server_id") || map.Has("skip_statements"))) {
    map.problems().Add(path,
                       "server_id and skip_statements apply only to mariadb and mysql sources");
  }
  ReadSkipStatements(map, out.skip_statements);
  // Leaves room for the per-subscriber offset (0..65535) added to it.
  map.Integer("server_id", out.server_id, 1, 4294901759LL, "replica server id");
}

// ---------------------------------------------------------------------------------------------
// Auth tokens

std::string TrimTrailingWhitespace(std::string text) {
  const size_t end = text.find_last_not_of(" \t\r\n");
  text.erase(end == std::string::npos ? 0 : end + 1);
  return text;
}

bool LongEnough(Problems& problems, const std::string& path, const std::string& token,
                const std::string& where) {
  if (token.size() >= kMinTokenBytes) return true;
  problems.Add(path, "the token in " + where + " is " + std::to_string(token.size()) +
                         " bytes; use at least " + std::to_string(kMinTokenBytes) +
                         ", e.g. one made by " + TokenHowTo("secret.token"));
  return false;
}

std::optional<std::string> ReadTokenFile(Problems& problems, const std::string& path,
                                         const fs::path& file) {
  const std::string create = "; create it with: " + TokenHowTo(file.string());
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    problems.Add(path, "cannot read " + Quote(file.string()) + ": it is a directory" + create);
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problems.Add(path,
                 "cannot read " + Quote(file.string()) + ": " + std::strerror(errno) + create);
    return std::nullopt;
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string token = TrimTrailingWhitespace(contents.str());
  if (token.empty()) {
    problems.Add(path, Quote(file.string()) + " is empty; put the shared token in it" + create);
    return std::nullopt;
  }
  // As ssh does with private keys. The file's group may read it (e.g. a ferry group).
  struct stat info {};
  if (stat(file.c_str(), &info) == 0 && (info.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    problems.Add(path, Quote(file.string()) + " can be " +
                           ((info.st_mode & S_IROTH) != 0 ? "read" : "written") +
                           " by every user (mode " + mode +
                           "); a token must be private: chmod 600 " + file.string() +
                           " (or 640, with the file's group one the agent's user is in)");
    return std::nullopt;
  }
  if (!LongEnough(problems, path, token, Quote(file.string()))) return std::nullopt;
  return token;
}

// A secret from exactly one of <prefix>_file (relative to the config file's directory) and
// <prefix>_env. `what` names it in messages; a required one missing is a problem.
void ReadToken(const MapReader& map, const fs::path& config_dir, const std::string& prefix,
               const std::string& what, bool required, std::string& out) {
  const std::string file_key = prefix + "_file";
  const std::string env_key = prefix + "_env";
  const bool from_file = map.Has(file_key);
  const bool from_env = map.Has(env_key);
  if (from_file && from_env) {
    map.problems().Add(map.PathOf(file_key),
                       "set only one of " + file_key + " and " + env_key + ", not both");
    return;
  }
  if (!from_file && !from_env) {
    if (!required) return;
    map.problems().Add(
        map.PathOf(file_key),
        "missing " + what + ": set " + file_key +
            " (a file holding the shared token; create one with: " + TokenHowTo("secret.token") +
            ") or " + env_key + " (an environment variable holding it)");
    return;
  }
  if (from_file) {
    const auto name = map.String(file_key, "");
    if (!name) return;
    const fs::path file = fs::path(*name).is_absolute() ? fs::path(*name) : config_dir / *name;
    if (auto token = ReadTokenFile(map.problems(), map.PathOf(file_key), file)) out = *token;
    return;
  }
  const auto variable = map.String(env_key, "");
  if (!variable) return;
  const char* value = std::getenv(variable->c_str());
  const std::string token = TrimTrailingWhitespace(value ? value : "");
  if (token.empty()) {
    map.problems().Add(map.PathOf(env_key),
                       "environment variable " + *variable +
                           " is not set or empty; export it before starting ferry");
    return;
  }
  if (!LongEnough(map.problems(), map.PathOf(env_key), token,
                  "environment variable " + *variable)) {
    return;
  }
  out = token;
}

// The shared token apply agents present to the capture agent.
void ReadAuthToken(const MapReader& map, const fs::path& config_dir, std::string& out) {
  ReadToken(map, config_dir, "auth_token", "auth token", /*required=*/true, out);
}

// Optional: when set, the admin endpoint answers only requests with this bearer token.
void ReadAdminToken(const MapReader& map, const fs::path& config_dir, std::string& out) {
  ReadToken(map, config_dir, "admin_token", "admin token", /*required=*/false, out);
}

// ---------------------------------------------------------------------------------------------
// Files

// Reads and parses `path`; reports and returns nullopt when it cannot, or when the top level is
// not a map.
std::optional<YAML::Node> LoadYamlMap(Problems& problems, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.Add("", std::string("cannot read the file: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::ParserException& e) {
    problems.Add("", "line " + std::to_string(e.mark.line + 1) + ", column " +
                         std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
    return std::nullopt;
  }
  if (!root.IsMap()) {
    problems.Add("", root.IsNull() ? "the file is empty; expected a map of settings"
                                   : "expected a map of settings (key: value lines) at the top");
    return std::nullopt;
  }
  return root;
}

// Empty for a file in the working directory, so that messages show "secret.token", not
// "./secret.token".
fs::path DirectoryOf(const std::string& path) { return fs::path(path).parent_path(); }

// yaml-cpp throws from a few accessors on shapes we did not expect; this turns any such escape
// into a Status instead of a crash.
template <typename Config, typename Fill>
Result<Config> LoadConfig(const std::string& path, Fill fill) {
  Problems problems(path);
  Config config;
  config.file = path;
  try {
    if (auto root = LoadYamlMap(problems, path)) fill(problems, *root, config);
  } catch (const std::exception& e) {
    problems.Add("", std::string("cannot interpret the file: ") + e.what());
  }
  if (!problems.empty()) return problems.ToStatus();
  return config;
}

// ---------------------------------------------------------------------------------------------
// Capture

const std::string kWrongFile = "that key belongs in an apply config; is this the right file?";

// `tables:`: required in a capture config (what to capture); optional in an apply config (the
// target tables the stream may write).
void ReadTables(const MapReader& map, std::vector<std::string>& out, bool required = true) {
  const std::string example = "[public.orders, inventory.*]";
  const YAML::Node node = map.Get("tables");
  if (!node.IsDefined() && !required) return;
  if (!node.IsDefined()) {
    map.problems().Add(map.PathOf("tables"),
                       "missing; list the tables to capture, e.g. " + example);
    return;
  }
  if (!node.IsSequence() || node.size() == 0) {
    map.problems().Add(map.PathOf("tables"),
                       "expected a non-empty list of tables, e.g. " + example);
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = Item(map.PathOf("tables"), i);
    const std::string name = node[i].IsScalar() ? node[i].Scalar() : "";
    if (!IsQualifiedTable(name, /*allow_wildcard=*/true)) {
      map.problems().Add(path, (name.empty() ? "expected" : Quote(name) + " is not") +
                                   std::string(" a schema.table or schema.* name, e.g. ") +
                                   "public.orders");
      continue;
    }
    out.push_back(name);
  }
}

// Publication and slot names are created on the source; PostgreSQL identifiers are safest
// lower-case, and slot names may not hold anything else.
void ReadIdentifier(const MapReader& map, const std::string& key, size_t max_length,
                    std::string& out) {
  auto value = map.String(key, "");
  if (!value) return;
  const bool ok = value->size() <= max_length &&
                  std::all_of(value->begin(), value->end(), IsIdentifierChar) &&
                  !std::isdigit(static_cast<unsigned char>(value->front()));
  if (!ok) {
    map.problems().Add(map.PathOf(key),
                       Quote(*value) + " is not a valid name; use at most " +
                           std::to_string(max_length) +
                           " lower-case letters, digits and '_', not starting with a digit");
    return;
  }
  out = *value;
}

std::string DefaultIdentifier(const std::string& node) {
  std::string out = "ferry_";
  for (char c : node) {
    out += IsIdentifierChar(c)      ? c
           : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a')
                                    : '_';
  }
  return out;
}

void ReadSubscriber(Problems& problems, const YAML::Node& node, const std::string& path,
                    const fs::path& config_dir, capture::SubscriberCredentials& out) {
  const std::string example = "{id: west, auth_token_file: west.token}";
  if (!ExpectMap(problems, node, path, example)) return;
  const MapReader map(problems, node, path);
  map.CheckKeys({"id", "auth_token_file", "auth_token_env", "certificate_name"});
  const auto id = map.String(
      "id", "missing; the subscriber's id is its apply agent's node name, e.g. id: west");
  CheckName(problems, map.PathOf("id"), id);
  if (id) out.id = *id;
  ReadToken(map, config_dir, "auth_token", "auth token", /*required=*/false, out.auth_token);
  map.OptionalString("certificate_name", out.certificate_name);
}

// `subscribers:` lists the only ids that may connect (capture/subscriber_auth.h). Each proves its
// own token, or the shared one when it has none.
void ReadSubscribers(const MapReader& map, const fs::path& config_dir, CaptureConfig& config) {
  const YAML::Node node = map.Get("subscribers");
  if (!node.IsDefined()) return;
  if (!node.IsSequence() || node.size() == 0) {
    map.problems().Add("subscribers",
                       "expected a non-empty list of the apply agents that may connect, e.g. "
                       "[{id: west, auth_token_file: west.token}]; or leave it out to admit any "
                       "id holding the shared auth token");
    return;
  }
  const bool shared_token = map.Has("auth_token_file") || map.Has("auth_token_env");
  std::map<std::string, size_t> first_use;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = Item("subscribers", i);
    capture::SubscriberCredentials subscriber;
    ReadSubscriber(map.problems(), node[i], path, config_dir, subscriber);
    if (!subscriber.id.empty() && !first_use.emplace(subscriber.id, i).second) {
      map.problems().Add(path + ".id", Quote(subscriber.id) + " is already listed at " +
                                           Item("subscribers", first_use[subscriber.id]));
    }
    const YAML::Node entry = node[i];
    const bool own_token = entry.IsMap() && (entry["auth_token_file"].IsDefined() ||
                                             entry["auth_token_env"].IsDefined());
    if (entry.IsMap() && !own_token && !shared_token) {
      map.problems().Add(
          path,
          "has no token of its own and there is no shared one: set its "
          "auth_token_file (create one with: " +
              TokenHowTo(subscriber.id.empty() ? "west.token" : subscriber.id + ".token") +
              "), or a shared auth_token_file at the top level");
    }
    if (!subscriber.certificate_name.empty() &&
        (!config.transport.tls || config.transport.tls->client_ca_file.empty())) {
      map.problems().Add(path + ".certificate_name",
                         "needs client certificates: set tls.client_ca_file to the CA that "
                         "issued the apply agents' certificates");
    }
    config.subscribers.push_back(std::move(subscriber));
  }
}

void FillCapture(Problems& problems, const YAML::Node& root, CaptureConfig& config) {
  const MapReader map(problems, root, "");
  map.CheckKeys({"node",
                 "source",
                 "listen",
                 "tls",
                 "auth_token_file",
                 "auth_token_env",
                 "subscribers",
                 "admin",
                 "admin_token_file",
                 "admin_token_env",
                 "admin_tls",
                 "health",
                 "tables",
                 "publication",
                 "slot_prefix",
                 "max_connections",
                 "heartbeat_interval_ms",
                 "retention_check_interval_ms",
                 "max_frame_bytes",
                 "rows_per_frame",
                 "copy_chunk_rows",
                 "copy_max_rows_per_second",
                 "forward_remote_changes",
                 "log_level",
                 "log_format"},
                {{"target", kWrongFile},
                 {"copy_data", kWrongFile},
                 {"copy_parallel_tables", kWrongFile},
                 {"create_tables", kWrongFile},
                 {"grouping", kWrongFile},
                 {"upstreams", kWrongFile},
                 {"mappings", kWrongFile},
                 {"reconnect_delay_ms", kWrongFile},
                 {"reconnect_delay_max_ms", kWrongFile}});
  const auto node = map.String("node", "missing; name this agent, e.g. node: east");
  CheckName(problems, "node", node);
  if (node) config.node = *node;
  ReadDatabase(map, "source", /*is_source=*/true, config.source);
  ReadAddress(map, "listen", config.listen);
  ReadCaptureTransport(map, DirectoryOf(config.file), config.listen, config.transport);
  // With subscribers listed, each may have its own token instead of a shared one.
  ReadToken(map, DirectoryOf(config.file), "auth_token", "auth token",
            /*required=*/!map.Has("subscribers"), config.auth_token);
  ReadSubscribers(map, DirectoryOf(config.file), config);
  ReadAddress(map, "admin", config.admin);
  ReadAdminToken(map, DirectoryOf(config.file), config.admin_token);
  ReadAdminTls(map, DirectoryOf(config.file), config.admin_tls);
  ReadHealth(map, config.health);
  ReadTables(map, config.tables);
  ReadIdentifier(map, "publication", 63, config.publication);
  // Leaves room for "_<subscriber>" within PostgreSQL's 63-byte slot names.
  ReadIdentifier(map, "slot_prefix", 40, config.slot_prefix);
  if (config.publication.empty()) config.publication = DefaultIdentifier(config.node);
  if (config.slot_prefix.empty()) config.slot_prefix = DefaultIdentifier(config.node);
  map.Integer("heartbeat_interval_ms", config.heartbeat_interval_ms, 10, kMaxIntervalMs,
              "milliseconds");
  map.Integer("retention_check_interval_ms", config.retention_check_interval_ms, 100,
              kMaxIntervalMs, "milliseconds");
  map.Integer("max_frame_bytes", config.max_frame_bytes, kMinFrameBytes, kMaxFrameBytes, "bytes");
  map.Integer("max_connections", config.max_connections, 1, 10000, "connections");
  map.Integer("rows_per_frame", config.rows_per_frame, 1, kMaxRowsPerFrame, "rows");
  map.Integer("copy_chunk_rows", config.copy_chunk_rows, 1, kMaxCopyChunkRows, "rows");
  map.Integer("copy_max_rows_per_second", config.copy_max_rows_per_second, 0, kMaxCopyRowsPerSecond,
              "rows per second");
  map.Boolean("forward_remote_changes", config.forward_remote_changes);
  ReadLogLevel(map, config.log_level);
  ReadLogFormat(map, config.log_format);
}

// ---------------------------------------------------------------------------------------------
// Apply

const std::string kCaptureKey = "that key belongs in a capture config; is this the right file?";
const std::string kUpstreamKey = "auth tokens are set on each entry of upstreams:";

void ReadUpstream(Problems& problems, const YAML::Node& node, const std::string& path,
                  const fs::path& config_dir, UpstreamConfig& out) {
  const std::string example =
      "{name: east, address: \"10.0.0.1:7400\", auth_token_file: secret.token}";
  if (!ExpectMap(problems, node, path, example)) return;
  const MapReader map(problems, node, path);
  map.CheckKeys({"name", "address", "tls", "auth_token_file", "auth_token_env"});
  const auto name = map.String("name", "missing; name the upstream, e.g. name: east");
  CheckName(problems, map.PathOf("name"), name);
  if (name) out.name = *name;
  ReadAddress(map, "address", out.address,
              "missing; set the capture agent's listen address, e.g. 10.0.0.1:7400");
  ReadUpstreamTransport(map, config_dir, out.address, out.transport);
  ReadAuthToken(map, config_dir, out.auth_token);
}

void ReadUpstreams(const MapReader& map, const fs::path& config_dir,
                   std::vector<UpstreamConfig>& out) {
  const YAML::Node node = map.Get("upstreams");
  if (!node.IsDefined() || !node.IsSequence() || node.size() == 0) {
    map.problems().Add("upstreams", std::string(node.IsDefined() ? "expected" : "missing;") +
                                        " a non-empty list of capture agents to pull from, e.g. "
                                        "[{name: east, address: \"10.0.0.1:7400\", "
                                        "auth_token_file: secret.token}]");
    return;
  }
  std::map<std::string, size_t> first_use;
  for (size_t i = 0; i < node.size(); ++i) {
    UpstreamConfig upstream;
    ReadUpstream(map.problems(), node[i], Item("upstreams", i), config_dir, upstream);
    if (!upstream.name.empty()) {
      auto [it, inserted] = first_use.emplace(upstream.name, i);
      if (!inserted) {
        map.problems().Add(Item("upstreams", i) + ".name",
                           Quote(upstream.name) + " is already used by " +
                               Item("upstreams", it->second) +
                               "; upstream names must be unique (each has its own slot)");
      }
    }
    out.push_back(std::move(upstream));
  }
}

void ReadTableName(const MapReader& map, const std::string& key, const std::string& missing,
                   std::string& out) {
  auto value = map.String(key, missing);
  if (!value) return;
  if (!IsQualifiedTable(*value, /*allow_wildcard=*/false)) {
    map.problems().Add(map.PathOf(key),
                       Quote(*value) + " is not a schema.table name, e.g. public.orders");
    return;
  }
  out = *value;
}

void ReadRenames(const MapReader& map, std::map<std::string, std::string>& out) {
  const YAML::Node node = map.Get("columns");
  if (!node.IsDefined()) return;
  const std::string path = map.PathOf("columns");
  if (!node.IsMap()) {
    map.problems().Add(
        path, "expected a map of source column to target column, e.g. {total: total_cents}");
    return;
  }
  std::map<std::string, std::string> renamed_to;  // target -> source, to find collisions
  for (const auto& entry : node) {
    const bool scalars = entry.first.IsScalar() && entry.second.IsScalar();
    if (!scalars || entry.first.Scalar().empty() || entry.second.Scalar().empty()) {
      map.problems().Add(path,
                         "expected a map of source column to target column, e.g. "
                         "{total: total_cents}");
      continue;
    }
    const std::string& source = entry.first.Scalar();
    const std::string& target = entry.second.Scalar();
    if (!out.emplace(source, target).second) {
      map.problems().Add(path, "column " + Quote(source) + " is renamed twice; keep one");
      continue;
    }
    if (auto [it, inserted] = renamed_to.emplace(target, source); !inserted) {
      map.problems().Add(path, "columns " + Quote(it->second) + " and " + Quote(source) +
                                   " are both renamed to " + Quote(target));
    }
  }
}

void ReadExclude(const MapReader& map, std::set<std::string>& out) {
  const YAML::Node node = map.Get("exclude");
  if (!node.IsDefined()) return;
  const std::string message = "expected a list of source columns, e.g. [internal_notes]";
  if (!node.IsSequence()) {
    map.problems().Add(map.PathOf("exclude"), message);
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar() || node[i].Scalar().empty()) {
      map.problems().Add(Item(map.PathOf("exclude"), i), message);
      continue;
    }
    out.insert(node[i].Scalar());
  }
}

void ReadTypes(const MapReader& map, std::map<std::string, wire::LogicalType>& out) {
  const YAML::Node node = map.Get("types");
  if (!node.IsDefined()) return;
  const std::string path = map.PathOf("types");
  const std::string message =
      "expected a map of source column to type, e.g. {active: boolean}; the types are " +
      std::string(apply::kOverrideTypeNames);
  if (!node.IsMap()) {
    map.problems().Add(path, message);
    return;
  }
  for (const auto& entry : node) {
    if (!entry.first.IsScalar() || !entry.second.IsScalar() || entry.first.Scalar().empty()) {
      map.problems().Add(path, message);
      continue;
    }
    const std::string& column = entry.first.Scalar();
    std::optional<wire::LogicalType> type = apply::OverrideTypeFromName(entry.second.Scalar());
    if (!type) {
      map.problems().Add(path + "." + column, Quote(entry.second.Scalar()) +
                                                  " is not a type Ferry converts to; use one of " +
                                                  std::string(apply::kOverrideTypeNames));
      continue;
    }
    out[column] = *type;
  }
}

void ReadMapping(Problems& problems, const YAML::Node& node, const std::string& path,
                 apply::MappingRule& out) {
  if (!ExpectMap(problems, node, path, "{source: public.orders, target: sales.orders}")) return;
  const MapReader map(problems, node, path);
  map.CheckKeys({"source", "target", "columns", "exclude", "types"});
  ReadTableName(map, "source", "missing; name the source table, e.g. source: public.orders",
                out.source);
  ReadTableName(map, "target", "", out.target);
  ReadRenames(map, out.renames);
  ReadExclude(map, out.exclude);
  ReadTypes(map, out.types);
  for (const auto& [column, target] : out.renames) {
    if (out.exclude.count(column) != 0) {
      problems.Add(path, "column " + Quote(column) +
                             " is both renamed (columns) and excluded (exclude); drop one");
    }
  }
  for (const auto& [column, type] : out.types) {
    if (out.exclude.count(column) != 0) {
      problems.Add(path, "column " + Quote(column) +
                             " is both given a type (types) and excluded (exclude); drop one");
    }
  }
}

void ReadMappings(const MapReader& map, std::vector<apply::MappingRule>& out) {
  const YAML::Node node = map.Get("mappings");
  if (!node.IsDefined()) return;
  if (!node.IsSequence()) {
    map.problems().Add("mappings",
                       "expected a list of table mappings, e.g. "
                       "[{source: public.orders, target: sales.orders}]");
    return;
  }
  std::map<std::string, size_t> first_use;
  for (size_t i = 0; i < node.size(); ++i) {
    apply::MappingRule rule;
    ReadMapping(map.problems(), node[i], Item("mappings", i), rule);
    if (!rule.source.empty()) {
      auto [it, inserted] = first_use.emplace(rule.source, i);
      if (!inserted) {
        map.problems().Add(Item("mappings", i) + ".source",
                           Quote(rule.source) + " is already mapped by " +
                               Item("mappings", it->second) + "; merge the two entries");
      }
    }
    out.push_back(std::move(rule));
  }
}

void ReadGrouping(const MapReader& parent, apply::GroupingOptions& out) {
  const YAML::Node node = parent.Get("grouping");
  if (!node.IsDefined()) return;
  const std::string path = parent.PathOf("grouping");
  if (!ExpectMap(parent.problems(), node, path, "{max_transactions: 1000, max_rows: 20000}")) {
    return;
  }
  const MapReader map(parent.problems(), node, path);
  map.CheckKeys({"max_transactions", "max_rows", "max_delay_ms"});
  map.Integer("max_transactions", out.max_transactions, 1, 1000000, "source transactions");
  map.Integer("max_rows", out.max_rows, 1, 100000000, "rows");
  int delay_ms = static_cast<int>(out.max_delay.count());
  map.Integer("max_delay_ms", delay_ms, 0, kMaxIntervalMs, "milliseconds");
  out.max_delay = std::chrono::milliseconds(delay_ms);
}

// A list of plain strings, e.g. [east, west]; reports anything else.
void ReadStringList(const MapReader& map, const std::string& key, const std::string& example,
                    std::vector<std::string>& out) {
  const YAML::Node node = map.Get(key);
  if (!node.IsDefined()) return;
  if (!node.IsSequence()) {
    map.problems().Add(map.PathOf(key), "expected a list, e.g. " + example);
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar() || node[i].Scalar().empty()) {
      map.problems().Add(Item(map.PathOf(key), i), "expected a name, as in " + example);
      continue;
    }
    out.push_back(node[i].Scalar());
  }
}

constexpr const char* kResolverNames =
    "source_wins, target_wins, last_writer_wins, priority, max, min, delta, skip, error";

std::optional<conflict::ResolverKind> ResolverKindOf(Problems& problems, const YAML::Node& node,
                                                     const std::string& path) {
  auto kind = node.IsScalar() ? conflict::ParseResolverKind(node.Scalar()) : std::nullopt;
  if (!kind) {
    problems.Add(path, "expected a resolver, one of " + std::string(kResolverNames));
  }
  return kind;
}

// "skip", or {resolver: last_writer_wins, column: updated_at}. The parameters a resolver needs
// are checked with the whole policy (conflict::CheckPolicy).
void ReadResolver(Problems& problems, const YAML::Node& node, const std::string& path,
                  conflict::Resolver& out) {
  if (!node.IsMap()) {
    if (auto kind = ResolverKindOf(problems, node, path))
      out = conflict::Resolver{*kind, {}, {}, {}};
    return;
  }
  const MapReader map(problems, node, path);
  map.CheckKeys({"resolver", "column", "columns", "nodes"});
  const YAML::Node kind_node = map.Get("resolver");
  if (!kind_node.IsDefined()) {
    problems.Add(path, "missing resolver, e.g. {resolver: last_writer_wins, column: updated_at}");
    return;
  }
  auto kind = ResolverKindOf(problems, kind_node, map.PathOf("resolver"));
  if (!kind) return;
  out = conflict::Resolver{*kind, {}, {}, {}};
  map.OptionalString("column", out.column);
  ReadStringList(map, "columns", "[balance, stock]", out.columns);
  ReadStringList(map, "nodes", "[east, west]", out.nodes);
}

// The conflict types given as keys of `map` (insert_exists: error, ...).
void ReadTypeResolvers(const MapReader& map, const YAML::Node& node,
                       std::map<conflict::ConflictType, conflict::Resolver>& out) {
  for (conflict::ConflictType type : conflict::AllConflictTypes()) {
    const std::string name = conflict::ConflictTypeName(type);
    const YAML::Node value = map.Get(name);
    if (value.IsDefined()) ReadResolver(map.problems(), value, map.PathOf(name), out[type]);
  }
  (void)node;
}

std::vector<std::string> ConflictKeys(std::vector<std::string> keys) {
  for (conflict::ConflictType type : conflict::AllConflictTypes()) {
    keys.push_back(conflict::ConflictTypeName(type));
  }
  return keys;
}

// tables: {public.accounts: {resolver: delta, columns: [balance]},
//          public.orders: {default: last_writer_wins, insert_exists: error}}
void ReadTablePolicies(const MapReader& parent, conflict::ConflictPolicy& out) {
  const YAML::Node node = parent.Get("tables");
  if (!node.IsDefined()) return;
  const std::string path = parent.PathOf("tables");
  if (!ExpectMap(parent.problems(), node, path,
                 "{public.accounts: {resolver: delta, columns: [balance]}}")) {
    return;
  }
  for (const auto& entry : node) {
    const std::string table = entry.first.Scalar();
    const std::string table_path = Child(path, table);
    if (table.find('.') == std::string::npos) {
      parent.problems().Add(table_path,
                            "name the target table as schema.table (MySQL/MariaDB: "
                            "database.table)");
      continue;
    }
    conflict::TablePolicy& policy = out.tables[table];
    if (!entry.second.IsMap()) {  // "public.t: skip": the table's default
      conflict::Resolver resolver;
      ReadResolver(parent.problems(), entry.second, table_path, resolver);
      policy.fallback = resolver;
      continue;
    }
    const MapReader map(parent.problems(), entry.second, table_path);
    map.CheckKeys(ConflictKeys({"default", "resolver", "column", "columns", "nodes"}));
    if (map.Has("resolver")) {
      if (map.Has("default")) {
        parent.problems().Add(table_path,
                              "give either resolver (with its parameters) or "
                              "default, not both");
      }
      conflict::Resolver resolver;
      YAML::Node own = YAML::Clone(entry.second);
      for (conflict::ConflictType type : conflict::AllConflictTypes()) {
        own.remove(conflict::ConflictTypeName(type));
      }
      ReadResolver(parent.problems(), own, table_path, resolver);
      policy.fallback = resolver;
    } else if (map.Has("default")) {
      conflict::Resolver resolver;
      ReadResolver(parent.problems(), map.Get("default"), map.PathOf("default"), resolver);
      policy.fallback = resolver;
    }
    ReadTypeResolvers(map, entry.second, policy.by_type);
  }
}

// mode: master-slave | master-master, and the conflicts section (conflict/conflict.h).
void ReadConflictPolicy(const MapReader& parent, conflict::ConflictPolicy& out) {
  conflict::Mode mode = conflict::Mode::kMasterSlave;
  if (auto text = parent.String("mode", "")) {
    if (*text == "master-master") {
      mode = conflict::Mode::kMasterMaster;
    } else if (*text != "master-slave") {
      parent.problems().Add(parent.PathOf("mode"),
                            "expected master-slave (the default: the target follows its "
                            "source) or master-master (every node takes writes)");
    }
  }
  out = conflict::DefaultPolicy(mode);
  const YAML::Node node = parent.Get("conflicts");
  if (node.IsDefined()) {
    const std::string path = parent.PathOf("conflicts");
    if (!ExpectMap(parent.problems(), node, path,
                   "{default: {resolver: last_writer_wins, column: updated_at}}")) {
      return;
    }
    const MapReader map(parent.problems(), node, path);
    map.CheckKeys(ConflictKeys({"default", "tables"}));
    if (map.Has("default"))
      ReadResolver(parent.problems(), map.Get("default"), map.PathOf("default"), out.fallback);
    ReadTypeResolvers(map, node, out.by_type);
    ReadTablePolicies(map, out);
  }
  Status checked = conflict::CheckPolicy(out);
  if (checked.ok()) return;
  std::string lines = checked.message();
  size_t start = 0;
  while (start <= lines.size()) {
    const size_t end = lines.find('\n', start);
    const std::string line = lines.substr(start, end - start);
    if (!line.empty()) parent.problems().Add("", line);
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

// Ferry never writes its own schema or a system schema from a stream (apply/target_allow_list.h):
// a config that asks for it is wrong, whatever the stream would carry.
void CheckWritableTargets(Problems& problems, const ApplyConfig& config) {
  auto check = [&](const std::string& path, const std::string& name) {
    const std::string schema = name.substr(0, name.find('.'));
    if (!apply::TargetAllowList::IsReservedSchema(config.target.engine, schema)) return;
    problems.Add(path, Quote(name) + ": Ferry never writes " + schema +
                           " from a stream (its own bookkeeping or a system schema); name a "
                           "user table");
  };
  for (size_t i = 0; i < config.tables.size(); ++i) check(Item("tables", i), config.tables[i]);
  for (size_t i = 0; i < config.mappings.size(); ++i) {
    if (!config.mappings[i].target.empty()) {
      check(Item("mappings", i) + ".target", config.mappings[i].target);
    }
  }
}

void FillApply(Problems& problems, const YAML::Node& root, ApplyConfig& config) {
  const MapReader map(problems, root, "");
  map.CheckKeys({"node",
                 "target",
                 "upstreams",
                 "admin",
                 "admin_token_file",
                 "admin_token_env",
                 "admin_tls",
                 "mappings",
                 "reconnect_delay_ms",
                 "reconnect_delay_max_ms",
                 "max_frame_bytes",
                 "copy_data",
                 "copy_parallel_tables",
                 "create_tables",
                 "grouping",
                 "mode",
                 "conflicts",
                 "tables",
                 "health",
                 "log_level",
                 "log_format"},
                {{"source", kCaptureKey},
                 {"copy_chunk_rows", kCaptureKey},
                 {"copy_max_rows_per_second", kCaptureKey},
                 {"forward_remote_changes", kCaptureKey},
                 {"listen", kCaptureKey},
                 {"publication", kCaptureKey},
                 {"slot_prefix", kCaptureKey},
                 {"heartbeat_interval_ms", kCaptureKey},
                 {"rows_per_frame", kCaptureKey},
                 {"auth_token_file", kUpstreamKey},
                 {"auth_token_env", kUpstreamKey}});
  const auto node = map.String("node", "missing; name this agent, e.g. node: west");
  CheckName(problems, "node", node);
  if (node) config.node = *node;
  ReadDatabase(map, "target", /*is_source=*/false, config.target);
  ReadUpstreams(map, DirectoryOf(config.file), config.upstreams);
  ReadAddress(map, "admin", config.admin);
  ReadAdminToken(map, DirectoryOf(config.file), config.admin_token);
  ReadAdminTls(map, DirectoryOf(config.file), config.admin_tls);
  ReadHealth(map, config.health);
  ReadMappings(map, config.mappings);
  ReadTables(map, config.tables, /*required=*/false);
  CheckWritableTargets(problems, config);
  map.Integer("reconnect_delay_ms", config.reconnect_delay_ms, 10, kMaxIntervalMs, "milliseconds");
  map.Integer("reconnect_delay_max_ms", config.reconnect_delay_max_ms, 10, kMaxIntervalMs,
              "milliseconds");
  if (config.reconnect_delay_max_ms < config.reconnect_delay_ms) {
    problems.Add("reconnect_delay_max_ms",
                 std::to_string(config.reconnect_delay_max_ms) +
                     " is less than reconnect_delay_ms (" +
                     std::to_string(config.reconnect_delay_ms) +
                     "); the waits grow from the first to the most, so make it at least that");
  }
  map.Integer("max_frame_bytes", config.max_frame_bytes, kMinFrameBytes, kMaxFrameBytes, "bytes");
  map.Boolean("copy_data", config.copy_data);
  map.Integer("copy_parallel_tables", config.copy_parallel_tables, 1,
              static_cast<int64_t>(capture::kMaxParallelTables), "tables");
  map.Boolean("create_tables", config.create_tables);
  ReadGrouping(map, config.grouping);
  ReadConflictPolicy(map, config.conflicts);
  config.conflicts_given = map.Has("conflicts");
  // A copy is a snapshot of the other node: on a node that takes writes meanwhile it would
  // overwrite them, so in master-master it runs only where asked for (toward an empty node).
  if (config.conflicts.mode == conflict::Mode::kMasterMaster && !map.Has("copy_data")) {
    config.copy_data = false;
  }
  ReadLogLevel(map, config.log_level);
  ReadLogFormat(map, config.log_format);
}

}  // namespace

Result<CaptureConfig> LoadCaptureConfig(const std::string& path) {
  return LoadConfig<CaptureConfig>(path, FillCapture);
}

Result<ApplyConfig> LoadApplyConfig(const std::string& path) {
  return LoadConfig<ApplyConfig>(path, FillApply);
}

}  // namespace ferry::cli
