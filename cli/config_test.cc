#include "cli/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ferry::cli {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test holding the config files and token files it writes.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ferry-config-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Write("secret.token", "s3cret-token-0123456789\n");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Write(const std::string& name, const std::string& contents) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << contents;
    // Ferry refuses a token file that every user may read, as a deployment must keep it.
    if (path.extension() == ".token")
      fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    return path.string();
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // The error of loading `yaml` as a capture (or apply) config, which must fail.
  std::string CaptureError(const std::string& yaml) {
    auto config = LoadCaptureConfig(Write("capture.yaml", yaml));
    EXPECT_FALSE(config.ok()) << "expected an error for:\n" << yaml;
    return config.ok() ? "" : config.message();
  }
  std::string ApplyError(const std::string& yaml) {
    auto config = LoadApplyConfig(Write("apply.yaml", yaml));
    EXPECT_FALSE(config.ok()) << "expected an error for:\n" << yaml;
    return config.ok() ? "" : config.message();
  }

  fs::path dir_;
};

// A complete valid capture config, to break one key at a time.
const char kCapture[] = R"(node: east
source:
  engine: postgres
  dsn: "host=localhost dbname=app"
auth_token_file: secret.token
tables: [public.orders]
)";

const char kApply[] = R"(node: west
target:
  engine: postgres
  dsn: "host=localhost dbname=replica"
upstreams:
  - name: east
    address: 127.0.0.1:7400
    auth_token_file: secret.token
)";

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

size_t LineCount(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// --- capture ---------------------------------------------------------------------------------

TEST_F(ConfigTest, CaptureLoadsEveryField) {
  const std::string path = Write("capture.yaml", R"(
node: east-1
source:
  engine: postgres
  dsn: "host=db port=5432 dbname=app user=ferry"
listen: 0.0.0.0:7500
tls:
  cert_file: capture.crt
  key_file: /etc/ferry/capture.key
  client_ca_file: subscribers.crt
auth_token_file: secret.token
admin: "[::1]:9000"
tables:
  - public.orders
  - inventory.*
publication: my_pub
slot_prefix: my_slot
heartbeat_interval_ms: 250
max_frame_bytes: 1048576
rows_per_frame: 50
log_level: debug
)");
  auto config = LoadCaptureConfig(path);
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->file, path);
  EXPECT_EQ(config->node, "east-1");
  EXPECT_EQ(config->source.engine, "postgres");
  EXPECT_EQ(config->source.dsn, "host=db port=5432 dbname=app user=ferry");
  EXPECT_EQ(config->listen, "0.0.0.0:7500");
  ASSERT_TRUE(config->transport.tls.has_value());
  // Relative paths are read from the config's directory.
  EXPECT_EQ(config->transport.tls->cert_file, Path("capture.crt"));
  EXPECT_EQ(config->transport.tls->key_file, "/etc/ferry/capture.key");
  EXPECT_EQ(config->transport.tls->client_ca_file, Path("subscribers.crt"));
  EXPECT_FALSE(config->transport.tls_disabled);
  EXPECT_EQ(config->auth_token, "s3cret-token-0123456789");
  EXPECT_EQ(config->admin, "[::1]:9000");
  EXPECT_EQ(config->tables, (std::vector<std::string>{"public.orders", "inventory.*"}));
  EXPECT_EQ(config->publication, "my_pub");
  EXPECT_EQ(config->slot_prefix, "my_slot");
  EXPECT_EQ(config->heartbeat_interval_ms, 250);
  EXPECT_EQ(config->max_frame_bytes, 1048576u);
  EXPECT_EQ(config->rows_per_frame, 50u);
  EXPECT_EQ(config->log_level, "debug");
}

TEST_F(ConfigTest, CaptureDefaults) {
  auto config = LoadCaptureConfig(Write("capture.yaml", kCapture));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->listen, "127.0.0.1:7400");
  EXPECT_EQ(config->admin, "127.0.0.1:7480");
  EXPECT_EQ(config->publication, "ferry_east");
  EXPECT_EQ(config->slot_prefix, "ferry_east");
  EXPECT_EQ(config->heartbeat_interval_ms, 1000);
  EXPECT_EQ(config->max_frame_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(config->rows_per_frame, 1000u);
  EXPECT_EQ(config->log_level, "info");
}

TEST_F(ConfigTest, DefaultPublicationIsAValidIdentifierForAnyNodeName) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("east"), 4, "East-Coast");
  auto config = LoadCaptureConfig(Write("capture.yaml", yaml));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->publication, "ferry_east_coast");
  EXPECT_EQ(config->slot_prefix, "ferry_east_coast");
}

TEST_F(ConfigTest, UnknownKeySuggestsTheClosest) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("tables:"), 7, "tabels:");
  const std::string error = CaptureError(yaml);
  EXPECT_TRUE(
      Contains(error, Path("capture.yaml") + ": unknown key \"tabels\" (did you mean \"tables\"?)"))
      << error;
  EXPECT_TRUE(Contains(error, Path("capture.yaml") + ": tables: missing")) << error;
}

TEST_F(ConfigTest, UnknownNestedKeyNamesItsParent) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("dsn:"), 4, "dns:");
  const std::string error = CaptureError(yaml);
  EXPECT_TRUE(Contains(error, ": source: unknown key \"dns\" (did you mean \"dsn\"?)")) << error;
  EXPECT_TRUE(Contains(error, ": source.dsn: missing")) << error;
}

TEST_F(ConfigTest, UnknownKeyFarFromAnyListsKnownKeys) {
  const std::string error = CaptureError(std::string(kCapture) + "zzzzzzzz: 1\n");
  EXPECT_TRUE(Contains(error, "unknown key \"zzzzzzzz\"; known keys: node, source, listen"))
      << error;
}

TEST_F(ConfigTest, ApplyKeyInCaptureFileSaysWrongFile) {
  const std::string error = CaptureError(std::string(kCapture) + "upstreams: []\n");
  EXPECT_TRUE(Contains(error, "unknown key \"upstreams\" (that key belongs in an apply config"))
      << error;
}

TEST_F(ConfigTest, MissingRequiredKeysAreAllReported) {
  const std::string error = CaptureError("log_level: info\n");
  for (const char* key : {"node: missing", "source: missing", "tables: missing",
                          "auth_token_file: missing auth token"}) {
    EXPECT_TRUE(Contains(error, Path("capture.yaml") + ": " + key)) << key << "\n" << error;
  }
  EXPECT_EQ(LineCount(error), 4u) << error;
}

TEST_F(ConfigTest, Engines) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("postgres"), 8, "oracle");
  EXPECT_TRUE(Contains(CaptureError(yaml), "source.engine: unknown engine \"oracle\""));
}

TEST_F(ConfigTest, BinlogSourceSettings) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("engine: postgres"), 16, "engine: mariadb\n  server_id: 4001");
  auto config = LoadCaptureConfig(Write("capture.yaml", yaml));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->source.engine, "mariadb");
  EXPECT_EQ(config->source.server_id, 4001u);

  std::string on_postgres = kCapture;
  on_postgres.replace(on_postgres.find("engine: postgres"), 16,
                      "engine: postgres\n  server_id: 4001");
  EXPECT_TRUE(Contains(CaptureError(on_postgres),
                       "server_id and skip_statements apply only to mariadb and mysql sources"));
}

// zero_dates moved from the capture config to the apply config: an old capture config that
// still sets it (even to null, the old default) is told where it went and why.
TEST_F(ConfigTest, ZeroDatesInTheCaptureConfigSayItMovedToTheApplyConfig) {
  for (const char* value : {"null", "error"}) {
    std::string yaml = kCapture;
    yaml.replace(yaml.find("engine: postgres"), 16,
                 std::string("engine: mariadb\n  zero_dates: ") + value);
    const std::string error = CaptureError(yaml);
    EXPECT_TRUE(Contains(error, Path("capture.yaml") + ": source.zero_dates: moved to the apply "
                                                       "config: zero and partial dates"))
        << error;
    EXPECT_TRUE(Contains(error,
                         "set target.zero_dates (null or error) in the apply config of "
                         "each PostgreSQL target"))
        << error;
  }
}

TEST_F(ConfigTest, ZeroDatesOfAPostgresTarget) {
  auto defaults = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(defaults.ok()) << defaults.message();
  EXPECT_EQ(defaults->target.zero_dates, "null");

  auto with = [&](const std::string& engine, const std::string& setting) {
    std::string yaml = kApply;
    yaml.replace(yaml.find("engine: postgres"), 16, "engine: " + engine + "\n  " + setting);
    return yaml;
  };
  for (const char* value : {"null", "error"}) {
    auto config =
        LoadApplyConfig(Write("apply.yaml", with("postgres", std::string("zero_dates: ") + value)));
    ASSERT_TRUE(config.ok()) << config.message();
    EXPECT_EQ(config->target.zero_dates, value);
  }
  EXPECT_TRUE(Contains(ApplyError(with("postgres", "zero_dates: zero")),
                       "target.zero_dates: expected null (write zero and partial dates"));
  EXPECT_TRUE(Contains(ApplyError(with("mariadb", "zero_dates: error")),
                       "target: zero_dates applies only to postgres targets: a mariadb target "
                       "stores zero and partial dates exactly; remove it"));
}

TEST_F(ConfigTest, SynchronousCommitOfAPostgresTarget) {
  auto defaults = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(defaults.ok()) << defaults.message();
  EXPECT_FALSE(defaults->target.synchronous_commit);  // as a PostgreSQL subscription

  auto with = [&](const std::string& engine, const std::string& setting) {
    std::string yaml = kApply;
    yaml.replace(yaml.find("engine: postgres"), 16, "engine: " + engine + "\n  " + setting);
    return yaml;
  };
  auto on = LoadApplyConfig(Write("apply.yaml", with("postgres", "synchronous_commit: on")));
  ASSERT_TRUE(on.ok()) << on.message();
  EXPECT_TRUE(on->target.synchronous_commit);
  EXPECT_TRUE(Contains(ApplyError(with("postgres", "synchronous_commit: local")),
                       "target.synchronous_commit: expected true or false"));
  EXPECT_TRUE(Contains(ApplyError(with("mariadb", "synchronous_commit: on")),
                       "synchronous_commit applies only to postgres targets"));
}

TEST_F(ConfigTest, SkipStatementsNamePositionsAsTheErrorsGiveThem) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("engine: postgres"), 16,
               "engine: mariadb\n  skip_statements: [\"0-1-57\", "
               "\"3e11fa47-71ca-11e1-9e33-c80aa9429562:12\", \"file:mysql-bin.000003:4711\"]");
  auto config = LoadCaptureConfig(Write("capture.yaml", yaml));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->source.skip_statements,
            (std::vector<std::string>{"0-1-57", "3e11fa47-71ca-11e1-9e33-c80aa9429562:12",
                                      "file:mysql-bin.000003:4711"}));

  for (const char* wrong : {"0-1", "0-1-2-3", "x-1-2", "file:b.000001", "abc:12", "0-1-57 "}) {
    std::string bad = yaml;
    bad.replace(bad.find("\"0-1-57\""), 8, "\"" + std::string(wrong) + "\"");
    EXPECT_TRUE(Contains(CaptureError(bad),
                         "source.skip_statements[0]: expected a list of "
                         "statement positions"))
        << wrong;
  }
  std::string on_postgres = kCapture;
  on_postgres.replace(on_postgres.find("engine: postgres"), 16,
                      "engine: postgres\n  skip_statements: [\"0-1-2\"]");
  EXPECT_TRUE(Contains(CaptureError(on_postgres), "apply only to mariadb and mysql sources"));
}

TEST_F(ConfigTest, BadNodeName) {
  std::string yaml = kCapture;
  yaml.replace(0, 10, "node: \"east coast\"");
  EXPECT_TRUE(Contains(CaptureError(yaml), ": node: \"east coast\" is not a valid name"));
}

TEST_F(ConfigTest, BadValuesAreAllReportedAtOnce) {
  const std::string error = CaptureError(std::string(kCapture) + R"(listen: localhost
admin: 127.0.0.1:70000
heartbeat_interval_ms: fast
max_frame_bytes: -1
rows_per_frame: 0
log_level: verbose
publication: My-Pub
)");
  EXPECT_TRUE(Contains(error, ": listen: \"localhost\" is not host:port")) << error;
  EXPECT_TRUE(
      Contains(error, ": admin: \"127.0.0.1:70000\": port must be a number from 1 to 65535"))
      << error;
  EXPECT_TRUE(Contains(error,
                       ": heartbeat_interval_ms: expected a whole number of milliseconds, "
                       "got \"fast\""))
      << error;
  EXPECT_TRUE(Contains(error, ": max_frame_bytes: -1 is out of range")) << error;
  EXPECT_TRUE(Contains(error, ": rows_per_frame: 0 is out of range; use 1 to")) << error;
  EXPECT_TRUE(Contains(error, ": log_level: unknown level \"verbose\"; use one of trace, debug"))
      << error;
  EXPECT_TRUE(Contains(error, ": publication: \"My-Pub\" is not a valid name")) << error;
  EXPECT_EQ(LineCount(error), 7u) << error;
}

TEST_F(ConfigTest, TablesMustBeQualifiedNames) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("[public.orders]"), 15, "[orders, public.*, \"*.*\", a.b.c]");
  const std::string error = CaptureError(yaml);
  EXPECT_TRUE(Contains(error, ": tables[0]: \"orders\" is not a schema.table or schema.* name"))
      << error;
  EXPECT_TRUE(Contains(error, ": tables[2]: \"*.*\" is not")) << error;
  EXPECT_TRUE(Contains(error, ": tables[3]: \"a.b.c\" is not")) << error;
  EXPECT_FALSE(Contains(error, "tables[1]")) << error;

  yaml = kCapture;
  yaml.replace(yaml.find("[public.orders]"), 15, "[]");
  EXPECT_TRUE(Contains(CaptureError(yaml), ": tables: expected a non-empty list"));
}

TEST_F(ConfigTest, UnparseableYamlGivesLineAndColumn) {
  const std::string error = CaptureError("node: east\nsource: {engine: postgres\ntables: [a.b]\n");
  EXPECT_TRUE(Contains(error, Path("capture.yaml") + ": line ")) << error;
  EXPECT_TRUE(Contains(error, ", column ")) << error;
  EXPECT_TRUE(Contains(error, "invalid YAML")) << error;
}

TEST_F(ConfigTest, EmptyOrMissingFile) {
  EXPECT_TRUE(Contains(CaptureError(""), "the file is empty"));
  EXPECT_TRUE(Contains(CaptureError("- a\n- b\n"), "expected a map of settings"));
  auto config = LoadCaptureConfig(Path("nope.yaml"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.message(),
            Path("nope.yaml") + ": cannot read the file: No such file or directory");
}

TEST_F(ConfigTest, DuplicateKey) {
  const std::string error = CaptureError(std::string(kCapture) + "node: west\n");
  EXPECT_TRUE(Contains(error, ": key \"node\" is given twice")) << error;
}

// --- auth tokens -----------------------------------------------------------------------------

TEST_F(ConfigTest, TokenFileIsRelativeToTheConfigFile) {
  Write("conf/tokens/east.token", "  token with spaces inside \t\r\n\n");
  std::string yaml = kCapture;
  yaml.replace(yaml.find("secret.token"), 12, "tokens/east.token");
  const std::string path = Write("conf/capture.yaml", yaml);
  // Loading from another working directory must still find the token.
  const fs::path cwd = fs::current_path();
  fs::current_path(fs::temp_directory_path());
  auto config = LoadCaptureConfig(path);
  fs::current_path(cwd);
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->auth_token, "  token with spaces inside");
}

TEST_F(ConfigTest, AbsoluteTokenPath) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("secret.token"), 12, Path("secret.token"));
  auto config = LoadCaptureConfig(Write("sub/capture.yaml", yaml));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->auth_token, "s3cret-token-0123456789");
}

TEST_F(ConfigTest, MissingTokenFileNamesThePathAndHowToCreateIt) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("secret.token"), 12, "missing.token");
  const std::string error = CaptureError(yaml);
  const std::string token = (dir_ / "missing.token").string();
  EXPECT_TRUE(Contains(error, ": auth_token_file: cannot read \"" + token +
                                  "\": No such file or directory; create it with: (umask 077; "
                                  "head -c 32 /dev/urandom | base64 > " +
                                  token + ")"))
      << error;
}

TEST_F(ConfigTest, UnreadableTokenFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  Write("locked.token", "x\n");
  ASSERT_EQ(chmod(Path("locked.token").c_str(), 0), 0);
  std::string yaml = kCapture;
  yaml.replace(yaml.find("secret.token"), 12, "locked.token");
  const std::string error = CaptureError(yaml);
  EXPECT_TRUE(Contains(error, "cannot read \"" + Path("locked.token") + "\": Permission denied"))
      << error;
}

TEST_F(ConfigTest, TokenPathThatIsADirectory) {
  fs::create_directories(dir_ / "tokdir");
  std::string yaml = kCapture;
  yaml.replace(yaml.find("secret.token"), 12, "tokdir");
  EXPECT_TRUE(Contains(CaptureError(yaml), "tokdir\": it is a directory"));
}

// A token is all that stands between the network and the stream: short ones and files every
// user may read are refused, as ssh refuses such private keys.
TEST_F(ConfigTest, ShortTokensAndTokenFilesEveryoneMayReadAreRefused) {
  Write("short.token", "s3cret\n");
  std::string with_short = kCapture;
  with_short.replace(with_short.find("secret.token"), 12, "short.token");
  EXPECT_TRUE(Contains(CaptureError(with_short),
                       "the token in \"" + Path("short.token") + "\" is 6 bytes; use at least 16"));

  Write("open.token", "a-long-enough-token-0123456789\n");
  fs::permissions(Path("open.token"), fs::perms::others_read, fs::perm_options::add);
  std::string with_open = kCapture;
  with_open.replace(with_open.find("secret.token"), 12, "open.token");
  EXPECT_TRUE(Contains(CaptureError(with_open),
                       "\"" + Path("open.token") +
                           "\" can be read by every user (mode 0604); a token must be private: "
                           "chmod 600 " +
                           Path("open.token")));
  // The group may read it (a ferry group, say).
  fs::permissions(Path("open.token"), fs::perms::others_read, fs::perm_options::remove);
  fs::permissions(Path("open.token"), fs::perms::group_read, fs::perm_options::add);
  EXPECT_TRUE(LoadCaptureConfig(Write("capture-open.yaml", with_open)).ok());

  setenv("FERRY_CONFIG_TEST_SHORT", "short", 1);
  std::string from_env = kCapture;
  from_env.replace(from_env.find("auth_token_file: secret.token"), 29,
                   "auth_token_env: FERRY_CONFIG_TEST_SHORT");
  EXPECT_TRUE(Contains(CaptureError(from_env),
                       "the token in environment variable FERRY_CONFIG_TEST_SHORT is 5 bytes"));
  unsetenv("FERRY_CONFIG_TEST_SHORT");
}

TEST_F(ConfigTest, EmptyTokenFile) {
  Write("empty.token", " \n\n");
  std::string yaml = kCapture;
  yaml.replace(yaml.find("secret.token"), 12, "empty.token");
  const std::string error = CaptureError(yaml);
  EXPECT_TRUE(Contains(error, "\"" + Path("empty.token") + "\" is empty; put the shared token"))
      << error;
}

TEST_F(ConfigTest, TokenFromEnvironment) {
  std::string yaml = kCapture;
  yaml.replace(yaml.find("auth_token_file: secret.token"), 29,
               "auth_token_env: FERRY_CONFIG_TEST_TOKEN");
  setenv("FERRY_CONFIG_TEST_TOKEN", "from-env-0123456789\n", 1);
  auto config = LoadCaptureConfig(Write("capture.yaml", yaml));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->auth_token, "from-env-0123456789");

  unsetenv("FERRY_CONFIG_TEST_TOKEN");
  EXPECT_TRUE(
      Contains(CaptureError(yaml),
               ": auth_token_env: environment variable FERRY_CONFIG_TEST_TOKEN is not set"));
}

TEST_F(ConfigTest, ExactlyOneTokenSource) {
  const std::string both = CaptureError(std::string(kCapture) + "auth_token_env: X\n");
  EXPECT_TRUE(Contains(both, "set only one of auth_token_file and auth_token_env")) << both;
  std::string neither = kCapture;
  neither.erase(neither.find("auth_token_file: secret.token\n"), 30);
  EXPECT_TRUE(Contains(CaptureError(neither), ": auth_token_file: missing auth token"));
}

TEST_F(ConfigTest, AdminTokenIsOptionalAndReadLikeTheAuthToken) {
  auto without = LoadCaptureConfig(Write("capture.yaml", kCapture));
  ASSERT_TRUE(without.ok()) << without.message();
  EXPECT_EQ(without->admin_token, "");

  Write("admin.token", "admin-secret-0123456789\n");
  auto capture = LoadCaptureConfig(
      Write("capture.yaml", std::string(kCapture) + "admin_token_file: admin.token\n"));
  ASSERT_TRUE(capture.ok()) << capture.message();
  EXPECT_EQ(capture->admin_token, "admin-secret-0123456789");
  EXPECT_EQ(capture->auth_token, "s3cret-token-0123456789");

  setenv("FERRY_CONFIG_TEST_ADMIN", "from-env-0123456789", 1);
  auto apply = LoadApplyConfig(
      Write("apply.yaml", std::string(kApply) + "admin_token_env: FERRY_CONFIG_TEST_ADMIN\n"));
  unsetenv("FERRY_CONFIG_TEST_ADMIN");
  ASSERT_TRUE(apply.ok()) << apply.message();
  EXPECT_EQ(apply->admin_token, "from-env-0123456789");

  const std::string both =
      ApplyError(std::string(kApply) + "admin_token_file: admin.token\nadmin_token_env: X\n");
  EXPECT_TRUE(Contains(both,
                       ": admin_token_file: set only one of admin_token_file and "
                       "admin_token_env"))
      << both;
}

// A stream off the loopback interface is TLS, unless the config says it may be clear text.
TEST_F(ConfigTest, PlainTcpOffLoopbackMustBeAskedFor) {
  const std::string capture =
      Write("capture.yaml", std::string(kCapture) + "listen: 0.0.0.0:7400\n");
  auto refused = LoadCaptureConfig(capture);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.message(), "listen: \"0.0.0.0:7400\" is not a loopback address"))
      << refused.message();
  EXPECT_TRUE(Contains(refused.message(), "clear text")) << refused.message();
  EXPECT_TRUE(Contains(refused.message(), "tls: disabled")) << refused.message();

  for (const char* loopback : {"127.0.0.1:7400", "localhost:7400", "[::1]:7400"}) {
    Write("capture.yaml", std::string(kCapture) + "listen: \"" + loopback + "\"\n");
    auto plain = LoadCaptureConfig(capture);
    EXPECT_TRUE(plain.ok()) << loopback << ": " << plain.message();
  }
  Write("capture.yaml", std::string(kCapture) + "listen: 0.0.0.0:7400\ntls: disabled\n");
  auto disabled = LoadCaptureConfig(capture);
  ASSERT_TRUE(disabled.ok()) << disabled.message();
  EXPECT_TRUE(disabled->transport.tls_disabled);

  std::string apply = kApply;
  apply.replace(apply.find("127.0.0.1:7400"), 14, "10.0.0.1:7400");
  const std::string apply_path = Write("apply.yaml", apply);
  auto upstream = LoadApplyConfig(apply_path);
  ASSERT_FALSE(upstream.ok());
  EXPECT_TRUE(Contains(upstream.message(),
                       "upstreams[0].address: \"10.0.0.1:7400\" is not a loopback address"))
      << upstream.message();
}

TEST_F(ConfigTest, TlsBlocksNameWhatIsMissingOrUnknown) {
  const std::string capture = Write(
      "capture.yaml",
      std::string(kCapture) + "listen: 0.0.0.0:7400\ntls: {cert_file: a.crt, client_ca: ca.crt}\n");
  auto config = LoadCaptureConfig(capture);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(config.message(), "tls.key_file: missing")) << config.message();
  EXPECT_TRUE(Contains(config.message(), "tls: unknown key \"client_ca\"")) << config.message();
  EXPECT_TRUE(Contains(config.message(), "client_ca_file")) << config.message();  // suggested

  Write("capture.yaml", std::string(kCapture) + "tls: yes please\n");
  auto scalar = LoadCaptureConfig(capture);
  ASSERT_FALSE(scalar.ok());
  EXPECT_TRUE(Contains(scalar.message(), "or disabled")) << scalar.message();

  std::string apply = kApply;
  apply += "    tls: {cert_file: client.crt}\n";
  const std::string apply_path = Write("apply.yaml", apply);
  auto half = LoadApplyConfig(apply_path);
  ASSERT_FALSE(half.ok());
  EXPECT_TRUE(Contains(half.message(), "upstreams[0].tls.key_file: missing")) << half.message();
}

// `admin_tls:` in either config: the paths are read from the config's directory, and both files
// must be readable when the config loads.
TEST_F(ConfigTest, AdminTlsNamesItsFilesRelativeToTheConfig) {
  Write("admin.crt", "certificate\n");
  Write("keys/admin.key", "key\n");
  auto capture = LoadCaptureConfig(Write(
      "capture.yaml",
      std::string(kCapture) + "admin_tls:\n  cert_file: admin.crt\n  key_file: keys/admin.key\n"));
  ASSERT_TRUE(capture.ok()) << capture.message();
  ASSERT_TRUE(capture->admin_tls.has_value());
  EXPECT_EQ(capture->admin_tls->cert_file, Path("admin.crt"));
  EXPECT_EQ(capture->admin_tls->key_file, Path("keys/admin.key"));

  auto apply = LoadApplyConfig(
      Write("apply.yaml", std::string(kApply) + "admin_tls: {cert_file: " + Path("admin.crt") +
                              ", key_file: keys/admin.key}\n"));
  ASSERT_TRUE(apply.ok()) << apply.message();
  ASSERT_TRUE(apply->admin_tls.has_value());
  EXPECT_EQ(apply->admin_tls->cert_file, Path("admin.crt"));  // absolute stays as it is
  EXPECT_EQ(apply->admin_tls->key_file, Path("keys/admin.key"));

  // Without the block, plain HTTP.
  auto plain = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(plain.ok()) << plain.message();
  EXPECT_FALSE(plain->admin_tls.has_value());
}

TEST_F(ConfigTest, AdminTlsNamesAMissingKeyOrFileAndTheFix) {
  Write("admin.crt", "certificate\n");
  // No key_file at all.
  std::string error = CaptureError(std::string(kCapture) + "admin_tls: {cert_file: admin.crt}\n");
  EXPECT_TRUE(Contains(error, "admin_tls.key_file: missing; the certificate's private key (PEM)"))
      << error;

  // A key file that is not there, and a certificate path that is a directory: both reported.
  fs::create_directories(dir_ / "certs");
  error = ApplyError(std::string(kApply) + "admin_tls: {cert_file: certs, key_file: admin.key}\n");
  EXPECT_TRUE(Contains(error, "admin_tls.key_file: cannot read \"" + Path("admin.key") +
                                  "\": No such file or directory; set key_file to the "
                                  "certificate's PEM private key"))
      << error;
  EXPECT_TRUE(Contains(
      error, "admin_tls.cert_file: cannot read \"" + Path("certs") + "\": it is a directory"))
      << error;

  // Not a map, and a misspelt key.
  error = CaptureError(std::string(kCapture) + "admin_tls: admin.crt\n");
  EXPECT_TRUE(Contains(error, "admin_tls: expected a map, e.g. {cert_file: admin.crt")) << error;
  error = CaptureError(std::string(kCapture) +
                       "admin_tls: {cert_file: admin.crt, key_fle: admin.crt}\n");
  EXPECT_TRUE(Contains(error, "admin_tls: unknown key \"key_fle\" (did you mean \"key_file\"?)"))
      << error;
}

// `subscribers:` binds ids to tokens (their own, else the shared one) and certificate names.
TEST_F(ConfigTest, SubscribersListTheOnlyIdsWithTheirTokens) {
  Write("west.token", "west-own-token-0123456789\n");
  auto listed = LoadCaptureConfig(
      Write("capture.yaml", std::string(kCapture) +
                                "subscribers:\n  - {id: west, auth_token_file: west.token}\n"
                                "  - {id: south}\n"));
  ASSERT_TRUE(listed.ok()) << listed.message();
  ASSERT_EQ(listed->subscribers.size(), 2u);
  EXPECT_EQ(listed->subscribers[0].id, "west");
  EXPECT_EQ(listed->subscribers[0].auth_token, "west-own-token-0123456789");
  EXPECT_EQ(listed->subscribers[1].id, "south");
  EXPECT_EQ(listed->subscribers[1].auth_token, "");  // the shared one
  EXPECT_EQ(listed->auth_token, "s3cret-token-0123456789");

  // Every subscriber with a token of its own: no shared token needed.
  std::string own = kCapture;
  own.replace(own.find("auth_token_file: secret.token\n"), 30, "");
  auto without_shared = LoadCaptureConfig(
      Write("capture.yaml", own + "subscribers: [{id: west, auth_token_file: west.token}]\n"));
  ASSERT_TRUE(without_shared.ok()) << without_shared.message();
  EXPECT_EQ(without_shared->auth_token, "");

  const std::string errors =
      CaptureError(own +
                   "subscribers:\n  - {id: west}\n  - {id: west, auth_token_file: west.token}\n"
                   "  - {id: bad name, auth_token_file: west.token}\n"
                   "  - {id: north, auth_token_file: west.token, certificate_name: apply-north}\n"
                   "  - {id: east, token: x}\n");
  EXPECT_TRUE(
      Contains(errors, "subscribers[0]: has no token of its own and there is no shared one"))
      << errors;
  EXPECT_TRUE(Contains(errors, "subscribers[1].id: \"west\" is already listed at subscribers[0]"))
      << errors;
  EXPECT_TRUE(Contains(errors, "subscribers[2].id: \"bad name\" is not a valid name")) << errors;
  EXPECT_TRUE(Contains(errors,
                       "subscribers[3].certificate_name: needs client certificates: set "
                       "tls.client_ca_file"))
      << errors;
  EXPECT_TRUE(Contains(errors, "subscribers[4]: unknown key \"token\"")) << errors;
  EXPECT_TRUE(Contains(CaptureError(std::string(kCapture) + "subscribers: []\n"),
                       "subscribers: expected a non-empty list"));
  // Without subscribers the shared token stays required.
  EXPECT_TRUE(Contains(CaptureError(own), "auth_token_file: missing auth token"));
}

// --- apply -----------------------------------------------------------------------------------

// `tables:` in an apply config lists the target tables the stream may write; Ferry's own schema
// and the target engine's system schemas can be neither listed nor mapped to.
TEST_F(ConfigTest, ApplyTablesAllowTargetsButNeverReservedSchemas) {
  auto config = LoadApplyConfig(
      Write("apply.yaml", std::string(kApply) + "tables: [public.orders, shop.*]\n"));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->tables, (std::vector<std::string>{"public.orders", "shop.*"}));
  auto none = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(none.ok()) << none.message();
  EXPECT_TRUE(none->tables.empty());

  const std::string errors =
      ApplyError(std::string(kApply) +
                 "tables: [ferry_meta.checkpoints, pg_catalog.*]\n"
                 "mappings:\n  - {source: public.a, target: ferry_meta.copy_progress}\n");
  EXPECT_TRUE(Contains(errors,
                       "tables[0]: \"ferry_meta.checkpoints\": Ferry never writes "
                       "ferry_meta from a stream"))
      << errors;
  EXPECT_TRUE(Contains(errors, "tables[1]: \"pg_catalog.*\": Ferry never writes")) << errors;
  EXPECT_TRUE(Contains(errors, "mappings[0].target: \"ferry_meta.copy_progress\"")) << errors;
}

TEST_F(ConfigTest, ApplyLoadsEveryField) {
  setenv("FERRY_CONFIG_TEST_SOUTH", "south-token-0123456789", 1);
  const std::string path = Write("apply.yaml", R"(
node: west
target:
  engine: postgres
  dsn: "host=replica dbname=app"
upstreams:
  - name: east
    address: 10.0.0.1:7400
    tls: {ca_file: ca.crt, server_name: capture.east.example}
    auth_token_file: secret.token
  - name: south
    address: "[fd00::1]:7401"
    tls: disabled
    auth_token_env: FERRY_CONFIG_TEST_SOUTH
admin: 0.0.0.0:9481
mappings:
  - source: public.orders
    target: sales.orders
    columns: {total: total_cents, note: comment}
    exclude: [internal_notes, secret]
    types: {active: boolean, flags: integer}
  - source: public.customers
reconnect_delay_ms: 5000
reconnect_delay_max_ms: 60000
max_frame_bytes: 65536
log_level: warn
)");
  auto config = LoadApplyConfig(path);
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->file, path);
  EXPECT_EQ(config->node, "west");
  EXPECT_EQ(config->target.engine, "postgres");
  EXPECT_EQ(config->target.dsn, "host=replica dbname=app");
  ASSERT_EQ(config->upstreams.size(), 2u);
  EXPECT_EQ(config->upstreams[0].name, "east");
  EXPECT_EQ(config->upstreams[0].address, "10.0.0.1:7400");
  EXPECT_EQ(config->upstreams[0].auth_token, "s3cret-token-0123456789");
  ASSERT_TRUE(config->upstreams[0].transport.tls.has_value());
  EXPECT_EQ(config->upstreams[0].transport.tls->ca_file, Path("ca.crt"));
  EXPECT_EQ(config->upstreams[0].transport.tls->server_name, "capture.east.example");
  EXPECT_FALSE(config->upstreams[1].transport.tls.has_value());
  EXPECT_TRUE(config->upstreams[1].transport.tls_disabled);
  EXPECT_EQ(config->upstreams[1].name, "south");
  EXPECT_EQ(config->upstreams[1].address, "[fd00::1]:7401");
  EXPECT_EQ(config->upstreams[1].auth_token, "south-token-0123456789");
  EXPECT_EQ(config->admin, "0.0.0.0:9481");
  ASSERT_EQ(config->mappings.size(), 2u);
  const apply::MappingRule& orders = config->mappings[0];
  EXPECT_EQ(orders.source, "public.orders");
  EXPECT_EQ(orders.target, "sales.orders");
  EXPECT_EQ(orders.renames,
            (std::map<std::string, std::string>{{"total", "total_cents"}, {"note", "comment"}}));
  EXPECT_EQ(orders.exclude, (std::set<std::string>{"internal_notes", "secret"}));
  EXPECT_EQ(orders.types,
            (std::map<std::string, wire::LogicalType>{{"active", wire::LOGICAL_TYPE_BOOL},
                                                      {"flags", wire::LOGICAL_TYPE_INT}}));
  EXPECT_EQ(config->mappings[1].source, "public.customers");
  EXPECT_EQ(config->mappings[1].target, "");
  EXPECT_EQ(config->reconnect_delay_ms, 5000);
  EXPECT_EQ(config->reconnect_delay_max_ms, 60000);
  EXPECT_EQ(config->max_frame_bytes, 65536u);
  EXPECT_EQ(config->log_level, "warn");
  unsetenv("FERRY_CONFIG_TEST_SOUTH");
}

TEST_F(ConfigTest, ApplyDefaults) {
  auto config = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->admin, "127.0.0.1:7481");
  EXPECT_TRUE(config->mappings.empty());
  EXPECT_EQ(config->reconnect_delay_ms, 1000);
  EXPECT_EQ(config->reconnect_delay_max_ms, 30000);
  EXPECT_EQ(config->target.lock_timeout_ms, 60000);
  EXPECT_EQ(config->max_frame_bytes, 16u * 1024 * 1024);
  EXPECT_TRUE(config->copy_data);       // as PostgreSQL's copy_data: a new replica is filled
  EXPECT_FALSE(config->create_tables);  // target tables are the operator's unless asked
  EXPECT_EQ(config->log_level, "info");
}

TEST_F(ConfigTest, LockTimeoutIsATargetSetting) {
  std::string yaml = kApply;
  const size_t target = yaml.find("target:");
  ASSERT_NE(target, std::string::npos);
  yaml.insert(yaml.find('\n', yaml.find("dsn:", target)) + 1, "  lock_timeout_ms: 2500\n");
  auto config = LoadApplyConfig(Write("apply.yaml", yaml));
  ASSERT_TRUE(config.ok()) << config.message() << "\n" << yaml;
  EXPECT_EQ(config->target.lock_timeout_ms, 2500);
  std::string source = kCapture;
  source.insert(source.find('\n', source.find("dsn:")) + 1, "  lock_timeout_ms: 2500\n");
  EXPECT_TRUE(Contains(CaptureError(source), "unknown key \"lock_timeout_ms\"")) << source;
}

TEST_F(ConfigTest, TheLongestReconnectWaitIsNoShorterThanTheFirst) {
  const std::string error =
      ApplyError(std::string(kApply) + "reconnect_delay_ms: 5000\nreconnect_delay_max_ms: 1000\n");
  EXPECT_TRUE(Contains(error, Path("apply.yaml") + ": reconnect_delay_max_ms: 1000 is less than "
                                                   "reconnect_delay_ms (5000)"))
      << error;
}

TEST_F(ConfigTest, CreateTablesIsABoolean) {
  auto on = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "create_tables: true\n"));
  ASSERT_TRUE(on.ok()) << on.message();
  EXPECT_TRUE(on->create_tables);
  auto off = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "create_tables: false\n"));
  ASSERT_TRUE(off.ok()) << off.message();
  EXPECT_FALSE(off->create_tables);
  const std::string error = ApplyError(std::string(kApply) + "create_tables: maybe\n");
  EXPECT_TRUE(Contains(error, "create_tables: expected true or false, not \"maybe\"")) << error;
  EXPECT_TRUE(Contains(CaptureError(std::string(kCapture) + "create_tables: true\n"),
                       "belongs in an apply config"));
}

TEST_F(ConfigTest, GroupingBoundsTheTransactionsOneTargetCommitTakes) {
  auto defaults = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(defaults.ok()) << defaults.message();
  EXPECT_EQ(defaults->grouping.max_transactions, 1000u);
  EXPECT_EQ(defaults->grouping.max_rows, 20000u);
  EXPECT_EQ(defaults->grouping.max_delay.count(), 500);
  auto set = LoadApplyConfig(Write(
      "apply.yaml",
      std::string(kApply) + "grouping: {max_transactions: 1, max_rows: 50, max_delay_ms: 0}\n"));
  ASSERT_TRUE(set.ok()) << set.message();
  EXPECT_EQ(set->grouping.max_transactions, 1u);
  EXPECT_EQ(set->grouping.max_rows, 50u);
  EXPECT_EQ(set->grouping.max_delay.count(), 0);

  std::string error = ApplyError(std::string(kApply) + "grouping: {max_transactions: 0}\n");
  EXPECT_TRUE(Contains(error, "grouping.max_transactions")) << error;
  error = ApplyError(std::string(kApply) + "grouping: {max_txns: 10}\n");
  EXPECT_TRUE(Contains(error, "unknown key \"max_txns\"")) << error;
  EXPECT_TRUE(Contains(error, "max_transactions")) << error;  // the suggestion
  error = ApplyError(std::string(kApply) + "grouping: 10\n");
  EXPECT_TRUE(Contains(error, "grouping")) << error;
  EXPECT_TRUE(Contains(CaptureError(std::string(kCapture) + "grouping: {max_rows: 5}\n"),
                       "belongs in an apply config"));
}

TEST_F(ConfigTest, HealthSetsTheLagAboveWhichHealthzAnswers503) {
  auto defaults = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(defaults.ok()) << defaults.message();
  EXPECT_EQ(defaults->health.max_lag_seconds, 0);
  auto apply =
      LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "health: {max_lag_seconds: 30}\n"));
  ASSERT_TRUE(apply.ok()) << apply.message();
  EXPECT_EQ(apply->health.max_lag_seconds, 30);
  auto capture = LoadCaptureConfig(
      Write("capture.yaml", std::string(kCapture) + "health: {max_lag_seconds: 5}\n"));
  ASSERT_TRUE(capture.ok()) << capture.message();
  EXPECT_EQ(capture->health.max_lag_seconds, 5);

  std::string error = ApplyError(std::string(kApply) + "health: {max_lag_seconds: -1}\n");
  EXPECT_TRUE(Contains(error, "health.max_lag_seconds")) << error;
  error = ApplyError(std::string(kApply) + "health: {max_lag: 30}\n");
  EXPECT_TRUE(Contains(error, "unknown key \"max_lag\"")) << error;
  error = ApplyError(std::string(kApply) + "health: 30\n");
  EXPECT_TRUE(Contains(error, "{max_lag_seconds: 30}")) << error;
}

TEST_F(ConfigTest, CopyDataIsABoolean) {
  auto off = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "copy_data: false\n"));
  ASSERT_TRUE(off.ok()) << off.message();
  EXPECT_FALSE(off->copy_data);
  auto on = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "copy_data: true\n"));
  ASSERT_TRUE(on.ok()) << on.message();
  EXPECT_TRUE(on->copy_data);
  const std::string error = ApplyError(std::string(kApply) + "copy_data: sometimes\n");
  EXPECT_TRUE(Contains(error, "copy_data: expected true or false, not \"sometimes\"")) << error;
  EXPECT_TRUE(Contains(ApplyError(std::string(kApply) + "copy_chunk_rows: 10\n"),
                       "belongs in a capture config"));
  EXPECT_TRUE(Contains(CaptureError(std::string(kCapture) + "copy_data: false\n"), "copy_data"));
}

TEST_F(ConfigTest, CopyParallelTables) {
  auto defaults = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(defaults.ok()) << defaults.message();
  EXPECT_EQ(defaults->copy_parallel_tables, 2u);  // as max_sync_workers_per_subscription
  auto four =
      LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "copy_parallel_tables: 4\n"));
  ASSERT_TRUE(four.ok()) << four.message();
  EXPECT_EQ(four->copy_parallel_tables, 4u);
  const std::string error = ApplyError(std::string(kApply) + "copy_parallel_tables: 17\n");
  EXPECT_TRUE(Contains(error, "copy_parallel_tables: 17 is out of range")) << error;
  EXPECT_TRUE(Contains(ApplyError(std::string(kApply) + "copy_parallel_tables: 0\n"),
                       "copy_parallel_tables: 0 is out of range"));
  EXPECT_TRUE(Contains(CaptureError(std::string(kCapture) + "copy_parallel_tables: 4\n"),
                       "copy_parallel_tables"));
}

TEST_F(ConfigTest, CopyChunkRows) {
  auto config =
      LoadCaptureConfig(Write("capture.yaml", std::string(kCapture) + "copy_chunk_rows: 500\n"));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->copy_chunk_rows, 500u);
  auto defaults = LoadCaptureConfig(Write("capture.yaml", kCapture));
  ASSERT_TRUE(defaults.ok()) << defaults.message();
  EXPECT_EQ(defaults->copy_chunk_rows, 10000u);
  EXPECT_TRUE(Contains(CaptureError(std::string(kCapture) + "copy_chunk_rows: 0\n"),
                       "copy_chunk_rows: 0 is out of range"));
}

TEST_F(ConfigTest, CopyMaxRowsPerSecond) {
  auto config = LoadCaptureConfig(
      Write("capture.yaml", std::string(kCapture) + "copy_max_rows_per_second: 5000\n"));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->copy_max_rows_per_second, 5000u);
  auto defaults = LoadCaptureConfig(Write("capture.yaml", kCapture));
  ASSERT_TRUE(defaults.ok()) << defaults.message();
  EXPECT_EQ(defaults->copy_max_rows_per_second, 0u);  // no limit
  EXPECT_TRUE(Contains(CaptureError(std::string(kCapture) + "copy_max_rows_per_second: -1\n"),
                       "copy_max_rows_per_second: -1 is out of range"));
  const std::string misplaced =
      ApplyError(std::string(kApply) + "copy_max_rows_per_second: 5000\n");
  EXPECT_TRUE(Contains(misplaced, "copy_max_rows_per_second")) << misplaced;
  EXPECT_TRUE(Contains(misplaced, "capture")) << misplaced;
}

TEST_F(ConfigTest, ForwardRemoteChanges) {
  auto defaults = LoadCaptureConfig(Write("capture.yaml", kCapture));
  ASSERT_TRUE(defaults.ok()) << defaults.message();
  EXPECT_TRUE(defaults->forward_remote_changes);  // a ring needs it; a pair is the same either way
  auto mesh = LoadCaptureConfig(
      Write("capture.yaml", std::string(kCapture) + "forward_remote_changes: false\n"));
  ASSERT_TRUE(mesh.ok()) << mesh.message();
  EXPECT_FALSE(mesh->forward_remote_changes);
  EXPECT_TRUE(Contains(CaptureError(std::string(kCapture) + "forward_remote_changes: maybe\n"),
                       "forward_remote_changes"));
  const std::string misplaced = ApplyError(std::string(kApply) + "forward_remote_changes: true\n");
  EXPECT_TRUE(Contains(misplaced, "capture")) << misplaced;
}

TEST_F(ConfigTest, ColumnsMustBeAMap) {
  const std::string error = ApplyError(std::string(kApply) + R"(mappings:
  - source: public.orders
    columns: [total, total_cents]
)");
  EXPECT_EQ(error, Path("apply.yaml") +
                       ": mappings[0].columns: expected a map of source column to target column, "
                       "e.g. {total: total_cents}");
}

TEST_F(ConfigTest, TypeOverridesNameKnownTypesOfColumnsNotExcluded) {
  const std::string error = ApplyError(std::string(kApply) + R"(mappings:
  - source: app.flags
    types: {active: bool, flags: integer, secret: text}
    exclude: [secret]
  - source: app.other
    types: [active]
)");
  EXPECT_TRUE(Contains(error,
                       ": mappings[0].types.active: \"bool\" is not a type Ferry converts to; "
                       "use one of boolean, integer, text, json, bytes"))
      << error;
  EXPECT_TRUE(Contains(error,
                       ": mappings[0]: column \"secret\" is both given a type (types) and "
                       "excluded (exclude)"))
      << error;
  EXPECT_TRUE(Contains(error, ": mappings[1].types: expected a map of source column to type"))
      << error;
  EXPECT_FALSE(Contains(error, "flags")) << error;
}

TEST_F(ConfigTest, MappingProblemsAreAllReported) {
  const std::string error = ApplyError(std::string(kApply) + R"(mappings:
  - source: public.orders
    columns: {total: total_cents, note: total_cents}
    exclude: [total]
  - target: sales.orders
  - source: public.orders
    exclude: internal
  - source: orders
    colums: {}
)");
  EXPECT_TRUE(Contains(error,
                       ": mappings[0].columns: columns \"total\" and \"note\" are both "
                       "renamed to \"total_cents\""))
      << error;
  EXPECT_TRUE(Contains(error,
                       ": mappings[0]: column \"total\" is both renamed (columns) and "
                       "excluded (exclude)"))
      << error;
  EXPECT_TRUE(Contains(error, ": mappings[1].source: missing")) << error;
  EXPECT_TRUE(Contains(error, ": mappings[2].exclude: expected a list of source columns")) << error;
  EXPECT_TRUE(Contains(error,
                       ": mappings[2].source: \"public.orders\" is already mapped by "
                       "mappings[0]"))
      << error;
  EXPECT_TRUE(Contains(error, ": mappings[3].source: \"orders\" is not a schema.table name"))
      << error;
  EXPECT_TRUE(Contains(error, ": mappings[3]: unknown key \"colums\" (did you mean \"columns\"?)"))
      << error;
  EXPECT_EQ(LineCount(error), 7u) << error;
}

TEST_F(ConfigTest, UpstreamProblems) {
  const std::string error = ApplyError(R"(node: west
target: {engine: postgres, dsn: "dbname=x"}
auth_token_file: secret.token
upstreams:
  - name: east
    address: 127.0.0.1:0
    auth_token_file: secret.token
  - name: east
    address: 127.0.0.1:7401
    auth_token_file: secret.token
  - adress: 127.0.0.1:7402
    auth_token_env: FERRY_CONFIG_TEST_UNSET_VARIABLE
  - just-a-string
)");
  EXPECT_TRUE(Contains(error,
                       ": unknown key \"auth_token_file\" (auth tokens are set on each "
                       "entry of upstreams:)"))
      << error;
  EXPECT_TRUE(Contains(error, ": upstreams[0].address: \"127.0.0.1:0\": port must be")) << error;
  EXPECT_TRUE(Contains(error, ": upstreams[1].name: \"east\" is already used by upstreams[0]"))
      << error;
  EXPECT_TRUE(Contains(error, ": upstreams[2]: unknown key \"adress\" (did you mean \"address\"?)"))
      << error;
  EXPECT_TRUE(Contains(error, ": upstreams[2].name: missing")) << error;
  EXPECT_TRUE(Contains(error, ": upstreams[2].address: missing")) << error;
  EXPECT_TRUE(Contains(error, ": upstreams[2].auth_token_env: environment variable")) << error;
  EXPECT_TRUE(Contains(error, ": upstreams[3]: expected a map")) << error;
  EXPECT_EQ(LineCount(error), 8u) << error;
}

TEST_F(ConfigTest, ApplyRequiredKeys) {
  const std::string error = ApplyError("node: west\nupstreams: []\n");
  EXPECT_TRUE(Contains(error, ": target: missing")) << error;
  EXPECT_TRUE(Contains(error, ": upstreams: expected a non-empty list")) << error;
  EXPECT_TRUE(Contains(ApplyError("node: west\n"), ": upstreams: missing"));
}

TEST_F(ConfigTest, CaptureKeyInApplyFileSaysWrongFile) {
  const std::string error = ApplyError(std::string(kApply) + "publication: pub\n");
  EXPECT_TRUE(Contains(error, "unknown key \"publication\" (that key belongs in a capture config"))
      << error;
}

// --- mode and conflicts ----------------------------------------------------------------------

// The conflicts section of the apply config documentation, as written.
const char kConflictsExample[] = R"(mode: master-master
conflicts:
  default: {resolver: last_writer_wins, column: updated_at}
  insert_exists: error
  tables:
    public.accounts: {resolver: delta, columns: [balance]}
    public.settings: priority
    public.orders: {default: skip, update_differs: {resolver: max, column: version}}
)";

TEST_F(ConfigTest, ModeDefaultsToMasterSlaveWhereTheSourceWins) {
  auto config = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(config.ok()) << config.message();
  const conflict::ConflictPolicy& policy = config->conflicts;
  EXPECT_EQ(policy.mode, conflict::Mode::kMasterSlave);
  EXPECT_EQ(policy.fallback.kind, conflict::ResolverKind::kSourceWins);
  EXPECT_TRUE(policy.by_type.empty());
  EXPECT_TRUE(policy.tables.empty());
  for (conflict::ConflictType type : conflict::AllConflictTypes()) {
    EXPECT_EQ(policy.For("public.orders", type).kind, conflict::ResolverKind::kSourceWins)
        << conflict::ConflictTypeName(type);
  }

  config = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "mode: master-slave\n"));
  ASSERT_TRUE(config.ok()) << config.message();
  EXPECT_EQ(config->conflicts.mode, conflict::Mode::kMasterSlave);
}

TEST_F(ConfigTest, MasterMasterWithoutConflictsStopsAtEveryConflictButADeletedRow) {
  auto config = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "mode: master-master\n"));
  ASSERT_TRUE(config.ok()) << config.message();
  const conflict::ConflictPolicy& policy = config->conflicts;
  EXPECT_EQ(policy.mode, conflict::Mode::kMasterMaster);
  EXPECT_EQ(policy.fallback.kind, conflict::ResolverKind::kError);
  for (conflict::ConflictType type : conflict::AllConflictTypes()) {
    const conflict::ResolverKind expected = type == conflict::ConflictType::kDeleteMissing
                                                ? conflict::ResolverKind::kSkip
                                                : conflict::ResolverKind::kError;
    EXPECT_EQ(policy.For("public.orders", type).kind, expected) << conflict::ConflictTypeName(type);
  }
}

// The documented example, with the parameters the bare `priority` lacks, in master-slave (where
// `skip` needs no counterpart on another node).
TEST_F(ConfigTest, ConflictsExampleLoads) {
  std::string yaml = kConflictsExample;
  yaml.replace(yaml.find("mode: master-master"), 19, "mode: master-slave");
  yaml.replace(yaml.find("public.settings: priority"), 25,
               "public.settings: {resolver: priority, nodes: [east, west]}");
  auto config = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + yaml));
  ASSERT_TRUE(config.ok()) << config.message();
  const conflict::ConflictPolicy& policy = config->conflicts;
  using conflict::ConflictType;
  using conflict::ResolverKind;
  EXPECT_EQ(policy.mode, conflict::Mode::kMasterSlave);
  EXPECT_EQ(conflict::Describe(policy.fallback), "last_writer_wins(updated_at)");
  ASSERT_EQ(policy.tables.size(), 3u);

  // A table not named: the type's resolver, else the default.
  EXPECT_EQ(policy.For("public.other", ConflictType::kInsertExists).kind, ResolverKind::kError);
  const conflict::Resolver& other = policy.For("public.other", ConflictType::kUpdateDiffers);
  EXPECT_EQ(other.kind, ResolverKind::kLastWriterWins);
  EXPECT_EQ(other.column, "updated_at");

  // A table's own default beats the policy's resolver for a type.
  for (ConflictType type : conflict::AllConflictTypes()) {
    const conflict::Resolver& accounts = policy.For("public.accounts", type);
    EXPECT_EQ(accounts.kind, ResolverKind::kDelta) << conflict::ConflictTypeName(type);
    EXPECT_EQ(accounts.columns, std::vector<std::string>{"balance"});
    const conflict::Resolver& settings = policy.For("public.settings", type);
    EXPECT_EQ(settings.kind, ResolverKind::kPriority) << conflict::ConflictTypeName(type);
    EXPECT_EQ(settings.nodes, (std::vector<std::string>{"east", "west"}));
  }

  // A table's resolver for a type beats its default.
  EXPECT_EQ(policy.For("public.orders", ConflictType::kInsertExists).kind, ResolverKind::kSkip);
  EXPECT_EQ(policy.For("public.orders", ConflictType::kDeleteDiffers).kind, ResolverKind::kSkip);
  const conflict::Resolver& orders = policy.For("public.orders", ConflictType::kUpdateDiffers);
  EXPECT_EQ(orders.kind, ResolverKind::kMax);
  EXPECT_EQ(orders.column, "version");
}

// In master-master the example as written is refused, saying why for each table and type.
TEST_F(ConfigTest, ConflictsExampleAsWrittenNeedsNodesAndConvergence) {
  const std::string error = ApplyError(std::string(kApply) + kConflictsExample);
  EXPECT_TRUE(
      Contains(error, ": conflicts: table public.settings, (every type): priority needs `nodes`"))
      << error;
  for (const char* type : {"insert_exists", "unique_exists", "update_exists"}) {
    EXPECT_TRUE(Contains(error, ": conflicts: table public.orders, " + std::string(type) +
                                    ": skip does not converge in master-master"))
        << type << "\n"
        << error;
  }
  EXPECT_TRUE(Contains(error,
                       ": conflicts: table public.orders, update_missing: skip with "
                       "delete_differs: skip does not converge"))
      << error;
  // delta as the table's default takes insert_exists too, which a row moved onto the key
  // cannot converge under.
  EXPECT_TRUE(Contains(error,
                       ": conflicts: table public.accounts, update_exists: delta(balance) with "
                       "insert_exists: delta(balance) does not converge"))
      << error;
  EXPECT_EQ(LineCount(error), 6u) << error;
}

// A master-master example that converges: every table's policy has a counterpart on the other
// node (the same policy).
TEST_F(ConfigTest, ConvergingMasterMasterPolicyLoads) {
  auto config = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + R"(mode: master-master
conflicts:
  default: {resolver: last_writer_wins, column: updated_at}
  insert_exists: error
  tables:
    public.accounts: {update_differs: {resolver: delta, columns: [balance]}}
    public.settings: {resolver: priority, nodes: [east, west]}
    public.orders:
      default: {resolver: min, column: version}
      update_differs: {resolver: max, column: version}
)"));
  ASSERT_TRUE(config.ok()) << config.message();
  const conflict::ConflictPolicy& policy = config->conflicts;
  EXPECT_EQ(policy.mode, conflict::Mode::kMasterMaster);
  EXPECT_EQ(policy.For("public.other", conflict::ConflictType::kInsertExists).kind,
            conflict::ResolverKind::kError);
  // The section is laid over the master-master default: delete_missing stays skip unless named.
  EXPECT_EQ(conflict::Describe(policy.For("public.other", conflict::ConflictType::kDeleteMissing)),
            "skip");
  EXPECT_EQ(conflict::Describe(policy.For("public.other", conflict::ConflictType::kUpdateMissing)),
            "last_writer_wins(updated_at)");
  EXPECT_EQ(
      conflict::Describe(policy.For("public.accounts", conflict::ConflictType::kUpdateDiffers)),
      "delta(balance)");
  EXPECT_EQ(conflict::Describe(policy.For("public.orders", conflict::ConflictType::kUpdateDiffers)),
            "max(version)");
  EXPECT_EQ(conflict::Describe(policy.For("public.orders", conflict::ConflictType::kInsertExists)),
            "min(version)");
}

// In master-master a node copies only when told to: a copy is a snapshot of the other node and
// would overwrite what this node writes meanwhile.
TEST_F(ConfigTest, MasterMasterCopiesOnlyWhenAskedTo) {
  auto quiet = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + "mode: master-master\n"));
  ASSERT_TRUE(quiet.ok()) << quiet.message();
  EXPECT_FALSE(quiet->copy_data);
  auto asked = LoadApplyConfig(
      Write("apply.yaml", std::string(kApply) + "mode: master-master\ncopy_data: true\n"));
  ASSERT_TRUE(asked.ok()) << asked.message();
  EXPECT_TRUE(asked->copy_data);
  auto slave = LoadApplyConfig(Write("apply.yaml", kApply));
  ASSERT_TRUE(slave.ok()) << slave.message();
  EXPECT_TRUE(slave->copy_data);
}

TEST_F(ConfigTest, ResolverMayBeABareName) {
  auto config = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + R"(conflicts:
  default: target_wins
  update_missing: skip
  tables:
    public.t: error
    public.u: {insert_exists: source_wins}
)"));
  ASSERT_TRUE(config.ok()) << config.message();
  const conflict::ConflictPolicy& policy = config->conflicts;
  using conflict::ConflictType;
  using conflict::ResolverKind;
  EXPECT_EQ(policy.fallback.kind, ResolverKind::kTargetWins);
  EXPECT_EQ(policy.For("public.x", ConflictType::kUpdateMissing).kind, ResolverKind::kSkip);
  EXPECT_EQ(policy.For("public.x", ConflictType::kInsertExists).kind, ResolverKind::kTargetWins);
  EXPECT_EQ(policy.For("public.t", ConflictType::kUpdateMissing).kind, ResolverKind::kError);
  EXPECT_EQ(policy.For("public.u", ConflictType::kInsertExists).kind, ResolverKind::kSourceWins);
  EXPECT_EQ(policy.For("public.u", ConflictType::kUpdateMissing).kind, ResolverKind::kSkip);
  EXPECT_EQ(policy.For("public.u", ConflictType::kDeleteDiffers).kind, ResolverKind::kTargetWins);
}

TEST_F(ConfigTest, TableResolverWithParametersAndTypes) {
  auto config = LoadApplyConfig(Write("apply.yaml", std::string(kApply) + R"(conflicts:
  tables:
    public.accounts: {resolver: delta, columns: [balance, stock], insert_exists: error}
)"));
  ASSERT_TRUE(config.ok()) << config.message();
  const conflict::ConflictPolicy& policy = config->conflicts;
  EXPECT_EQ(
      conflict::Describe(policy.For("public.accounts", conflict::ConflictType::kUpdateDiffers)),
      "delta(balance,stock)");
  EXPECT_EQ(
      conflict::Describe(policy.For("public.accounts", conflict::ConflictType::kInsertExists)),
      "error");

  const std::string error = ApplyError(std::string(kApply) + R"(conflicts:
  tables:
    public.accounts: {resolver: skip, default: error}
)");
  EXPECT_TRUE(Contains(error,
                       ": conflicts.tables.public.accounts: give either resolver (with its "
                       "parameters) or default, not both"))
      << error;
}

TEST_F(ConfigTest, UnknownResolverListsTheResolvers) {
  std::string error = ApplyError(std::string(kApply) + "conflicts:\n  default: newest\n");
  EXPECT_TRUE(Contains(error,
                       ": conflicts.default: expected a resolver, one of source_wins, "
                       "target_wins, last_writer_wins, priority, max, min, delta, skip, error"))
      << error;
  EXPECT_EQ(LineCount(error), 1u) << error;

  error = ApplyError(std::string(kApply) +
                     "conflicts:\n  tables:\n    public.t: {update_differs: {resolver: latest}}\n");
  EXPECT_TRUE(
      Contains(error, ": conflicts.tables.public.t.update_differs.resolver: expected a resolver"))
      << error;

  error = ApplyError(std::string(kApply) + "conflicts:\n  default: {column: updated_at}\n");
  EXPECT_TRUE(Contains(error, ": conflicts.default: missing resolver")) << error;

  error = ApplyError(std::string(kApply) + "conflicts:\n  default: [skip]\n");
  EXPECT_TRUE(Contains(error, ": conflicts.default: expected a resolver")) << error;
}

TEST_F(ConfigTest, UnknownConflictTypeSuggestsTheClosest) {
  std::string error = ApplyError(std::string(kApply) + "conflicts:\n  insert_exist: error\n");
  EXPECT_TRUE(Contains(error,
                       ": conflicts: unknown key \"insert_exist\" (did you mean "
                       "\"insert_exists\"?)"))
      << error;

  error = ApplyError(std::string(kApply) +
                     "conflicts:\n  tables:\n    public.t: {update_diff: skip}\n");
  EXPECT_TRUE(Contains(error,
                       ": conflicts.tables.public.t: unknown key \"update_diff\" (did you mean "
                       "\"update_differs\"?)"))
      << error;

  error =
      ApplyError(std::string(kApply) + "conflicts:\n  default: {resolver: max, colum: version}\n");
  EXPECT_TRUE(Contains(error, ": conflicts.default: unknown key \"colum\"")) << error;
}

TEST_F(ConfigTest, BadModeNamesBothModes) {
  const std::string error = ApplyError(std::string(kApply) + "mode: multi-master\n");
  EXPECT_TRUE(Contains(error, ": mode: expected master-slave")) << error;
  EXPECT_TRUE(Contains(error, "master-master")) << error;
  EXPECT_EQ(LineCount(error), 1u) << error;
}

TEST_F(ConfigTest, ResolverParametersAreRequired) {
  std::string error = ApplyError(std::string(kApply) + "conflicts:\n  default: last_writer_wins\n");
  EXPECT_TRUE(Contains(error,
                       ": conflicts: (every table), (every type): last_writer_wins needs "
                       "`column`"))
      << error;
  EXPECT_EQ(LineCount(error), 1u) << error;

  error = ApplyError(std::string(kApply) + R"(conflicts:
  update_differs: {resolver: max}
  tables:
    public.t: {resolver: delta}
    public.u: {resolver: priority, nodes: [east, east]}
)");
  EXPECT_TRUE(Contains(error, ": conflicts: (every table), update_differs: max needs `column`"))
      << error;
  EXPECT_TRUE(Contains(error, ": conflicts: table public.t, (every type): delta needs `columns`"))
      << error;
  EXPECT_TRUE(Contains(error,
                       ": conflicts: table public.u, (every type): priority(east,east) names a "
                       "node more than once"))
      << error;
  EXPECT_EQ(LineCount(error), 3u) << error;
}

TEST_F(ConfigTest, MasterMasterRefusesSourceWinsAsTheDefault) {
  const std::string error =
      ApplyError(std::string(kApply) + "mode: master-master\nconflicts:\n  default: source_wins\n");
  EXPECT_TRUE(Contains(error,
                       ": conflicts: (every table), insert_exists: source_wins does not "
                       "converge in master-master"))
      << error;
  EXPECT_TRUE(Contains(error, "update_differs: source_wins does not converge")) << error;
  // Each problem is its own line, after the file name.
  for (size_t start = 0; start < error.size();) {
    const size_t end = error.find('\n', start);
    EXPECT_EQ(error.rfind(Path("apply.yaml") + ": ", start), start) << error;
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

TEST_F(ConfigTest, ConflictTablesAreSchemaQualified) {
  const std::string error = ApplyError(std::string(kApply) + R"(conflicts:
  tables:
    accounts: skip
    public.orders: skip
)");
  EXPECT_TRUE(Contains(error, ": conflicts.tables.accounts: name the target table as schema.table"))
      << error;
  EXPECT_EQ(LineCount(error), 1u) << error;
}

TEST_F(ConfigTest, ConflictsMustBeAMap) {
  const std::string error = ApplyError(std::string(kApply) + "conflicts: [skip]\n");
  EXPECT_TRUE(Contains(error, ": conflicts: expected a map")) << error;
}

// --- the example files under configs/ --------------------------------------------------------

#ifdef FERRY_SOURCE_DIR
// Copies an example directory next to a token file, as an operator following its comments would
// set it up, so the examples cannot drift from what the loader accepts.
TEST_F(ConfigTest, ExampleConfigsLoad) {
  const fs::path examples = fs::path(FERRY_SOURCE_DIR) / "configs";
  ASSERT_TRUE(fs::is_directory(examples)) << examples;
  size_t loaded = 0;
  for (const auto& entry : fs::recursive_directory_iterator(examples)) {
    const std::string name = entry.path().filename().string();
    if (name != "capture.yaml" && name != "apply.yaml") continue;
    const fs::path copy = dir_ / fs::relative(entry.path(), examples);
    fs::create_directories(copy.parent_path());
    fs::copy_file(entry.path(), copy, fs::copy_options::overwrite_existing);
    std::ofstream(copy.parent_path() / "secret.token") << "example-token-0123456789\n";
    fs::permissions(copy.parent_path() / "secret.token",
                    fs::perms::owner_read | fs::perms::owner_write);
    // Every example carries its stream over TLS, as a deployment across hosts must.
    if (name == "capture.yaml") {
      auto config = LoadCaptureConfig(copy.string());
      ASSERT_TRUE(config.ok()) << config.message();
      EXPECT_TRUE(config->transport.tls.has_value()) << entry.path();
    } else {
      auto config = LoadApplyConfig(copy.string());
      ASSERT_TRUE(config.ok()) << config.message();
      for (const UpstreamConfig& upstream : config->upstreams) {
        EXPECT_TRUE(upstream.transport.tls.has_value()) << entry.path() << " " << upstream.name;
      }
    }
    ++loaded;
  }
  // Four directions, a master-master pair, and a three-node ring and full mesh: two agents each.
  EXPECT_EQ(loaded, 24u);
}

// The commented-out mappings example in apply.yaml, uncommented, must load too.
TEST_F(ConfigTest, ExampleMappingsLoad) {
  std::ifstream in(fs::path(FERRY_SOURCE_DIR) / "configs/postgres-to-postgres/apply.yaml");
  ASSERT_TRUE(in) << "example apply.yaml not found";
  std::string yaml;
  bool in_example = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "#   mappings:") in_example = true;
    if (in_example && line.rfind("#   ", 0) != 0) in_example = false;
    if (in_example) line = line.substr(4);
    if (line == "mappings: []") continue;
    yaml += line + "\n";
  }
  Write("secret.token", "example-token-0123456789\n");
  auto config = LoadApplyConfig(Write("apply.yaml", yaml));
  ASSERT_TRUE(config.ok()) << config.message();
  ASSERT_EQ(config->mappings.size(), 1u);
  EXPECT_EQ(config->mappings[0].target, "sales.orders");
  EXPECT_EQ(config->mappings[0].renames.at("total"), "total_cents");
  EXPECT_EQ(config->mappings[0].exclude.count("internal_notes"), 1u);
}
#endif

}  // namespace
}  // namespace ferry::cli
