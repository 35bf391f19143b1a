#include "common/mysql_dsn.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace ferry {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

Result<MysqlDsn> Source(const std::string& text) {
  return ParseMysqlDsn(text, MysqlDsnRole::kSource);
}
Result<MysqlDsn> Target(const std::string& text) {
  return ParseMysqlDsn(text, MysqlDsnRole::kTarget);
}

TEST(MysqlDsnParserTest, EveryCommonKey) {
  Result<MysqlDsn> dsn = Source(
      "host=db.example port=3307 user=ferry password='s3 cr\\'et' dbname=app "
      "socket=/run/mysqld/mysqld.sock connect_timeout=3");
  ASSERT_TRUE(dsn.ok()) << dsn.message();
  EXPECT_EQ(dsn->host, "db.example");
  EXPECT_EQ(dsn->port, 3307);
  EXPECT_EQ(dsn->user, "ferry");
  EXPECT_EQ(dsn->password, "s3 cr'et");
  EXPECT_EQ(dsn->dbname, "app");
  EXPECT_EQ(dsn->socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(dsn->connect_timeout_s, 3u);
  EXPECT_EQ(dsn->address(), "/run/mysqld/mysqld.sock");
  EXPECT_EQ(Source("user=a database=shop")->dbname, "shop");
}

TEST(MysqlDsnParserTest, Defaults) {
  Result<MysqlDsn> dsn = Target("");
  ASSERT_TRUE(dsn.ok()) << dsn.message();
  EXPECT_EQ(dsn->host, "127.0.0.1");
  EXPECT_EQ(dsn->port, 3306);
  EXPECT_FALSE(dsn->password.has_value());
  EXPECT_EQ(dsn->connect_timeout_s, 10u);
  EXPECT_FALSE(dsn->read_timeout_s.has_value());
  EXPECT_FALSE(dsn->write_timeout_s.has_value());
  EXPECT_EQ(dsn->tls.mode, SslMode::kDisable);
  EXPECT_EQ(dsn->address(), "127.0.0.1:3306");
  EXPECT_EQ(Target("password=''")->password, "");
  EXPECT_EQ(Target("host=a host=b")->host, "b");  // the last one counts, as in libpq
}

// The only differences between the roles (MysqlDsnRole).
TEST(MysqlDsnParserTest, EachRoleHasItsOwnKeys) {
  Result<MysqlDsn> target = Target("read_timeout=30 write_timeout=0");
  ASSERT_TRUE(target.ok()) << target.message();
  EXPECT_EQ(target->read_timeout_s, 30u);
  EXPECT_EQ(target->write_timeout_s, 0u);
  EXPECT_TRUE(Contains(Source("user=a read_timeout=30").message(),
                       "MySQL/MariaDB connection string: an unknown key (known: host, port, user, "
                       "password, dbname, socket, connect_timeout, sslmode, sslrootcert, sslcert, "
                       "sslkey; quote values that hold spaces"));
  EXPECT_TRUE(Contains(Target("colour=blue").message(),
                       "target dsn: an unknown key (known: host, port, user, password, dbname, "
                       "socket, connect_timeout, read_timeout, write_timeout, sslmode, "
                       "sslrootcert, sslcert, sslkey;"));

  EXPECT_TRUE(Target("host=x").ok());  // a target may take its user from elsewhere
  EXPECT_EQ(Source("host=x").message(),
            "MySQL/MariaDB connection string: no user= given: name the replication user "
            "(user=ferry)");
}

TEST(MysqlDsnParserTest, NumbersAreCheckedWithoutShowingThem) {
  EXPECT_EQ(Target("port=70000").message(),
            "target dsn: port must be a whole number from 0 to 65535 (the connection string's "
            "text is not shown: it may hold a password)");
  EXPECT_FALSE(Target("port=33x").ok());
  EXPECT_FALSE(Target("port=-1").ok());
  EXPECT_FALSE(Target("port=").ok());
  EXPECT_TRUE(Contains(Target("connect_timeout=86401").message(),
                       "connect_timeout must be a whole number from 0 to 86400"));
  EXPECT_TRUE(Contains(Target("read_timeout=x").message(), "read_timeout must be"));
}

TEST(MysqlDsnParserTest, SyntaxErrorsCarryTheRolesName) {
  EXPECT_TRUE(Contains(Target("host").message(), "target dsn: the word at byte 0 has no '='"));
  EXPECT_TRUE(Contains(Source("user=a password='open").message(),
                       "MySQL/MariaDB connection string: a quoted value has no closing quote"));
}

// An unquoted password with a space splits into words the parser cannot read, or that it reads
// as other keys; its errors never show them (they reach the log, /status and the other agent).
TEST(MysqlDsnParserTest, ErrorsNeverShowAPassword) {
  for (const std::string dsn :
       {"user=a password=top secret", "user=a password=top sec=ret", "user=a password='top secret",
        "user=a password=top port=secret", "user=a password=top sslmode=secret",
        "user=a password=top connect_timeout=secret"}) {
    for (MysqlDsnRole role : {MysqlDsnRole::kSource, MysqlDsnRole::kTarget}) {
      const std::string message = ParseMysqlDsn(dsn, role).message();
      EXPECT_FALSE(message.empty()) << dsn;
      EXPECT_EQ(message.find("top"), std::string::npos) << message;
      EXPECT_EQ(message.find("sec"), std::string::npos) << message;
    }
  }
}

// ---- TLS --------------------------------------------------------------------------------------

TEST(MysqlDsnParserTest, TlsKeys) {
  Result<MysqlDsn> dsn = Target(
      "sslmode=verify-full sslrootcert=/etc/ferry/ca.pem sslcert='/etc/ferry/my cert.pem' "
      "sslkey=/etc/ferry/key.pem");
  ASSERT_TRUE(dsn.ok()) << dsn.message();
  EXPECT_EQ(dsn->tls.mode, SslMode::kVerifyFull);
  EXPECT_TRUE(dsn->tls.enabled());
  EXPECT_EQ(dsn->tls.root_cert, "/etc/ferry/ca.pem");
  EXPECT_FALSE(dsn->tls.system_roots);
  EXPECT_EQ(dsn->tls.cert, "/etc/ferry/my cert.pem");
  EXPECT_EQ(dsn->tls.key, "/etc/ferry/key.pem");

  EXPECT_EQ(Target("sslmode=require")->tls.mode, SslMode::kRequire);
  EXPECT_EQ(Target("sslmode=require sslrootcert=ca.pem")->tls.root_cert, "ca.pem");
  EXPECT_EQ(Target("sslmode=verify-ca sslrootcert=ca.pem")->tls.mode, SslMode::kVerifyCa);
  EXPECT_EQ(Target("sslmode=disable")->tls.mode, SslMode::kDisable);
  EXPECT_FALSE(Target("sslmode=disable")->tls.enabled());

  Result<MysqlDsn> system = Source("user=a sslmode=verify-full sslrootcert=system");
  ASSERT_TRUE(system.ok()) << system.message();
  EXPECT_TRUE(system->tls.system_roots);
  EXPECT_EQ(system->tls.root_cert, "");
}

TEST(MysqlDsnParserTest, SslModeNames) {
  for (SslMode mode :
       {SslMode::kDisable, SslMode::kRequire, SslMode::kVerifyCa, SslMode::kVerifyFull}) {
    const std::string name(SslModeName(mode));
    Result<MysqlDsn> dsn = Target("sslmode=" + name + " sslrootcert=ca.pem");
    if (mode == SslMode::kDisable) continue;  // sslrootcert needs TLS: below
    ASSERT_TRUE(dsn.ok()) << name << ": " << dsn.message();
    EXPECT_EQ(dsn->tls.mode, mode) << name;
  }
}

TEST(MysqlDsnParserTest, ABadSslModeNamesTheKeyAndTheValuesAllowed) {
  for (const std::string mode : {"prefer", "allow", "VERIFY-FULL", "verify_full", "", "s3cr3t"}) {
    EXPECT_TRUE(Contains(Target("sslmode=" + mode).message(),
                         "target dsn: sslmode must be disable, require, verify-ca or verify-full"))
        << mode;
  }
  EXPECT_EQ(Target("sslmode=s3cr3t").message().find("s3cr3t"), std::string::npos);
}

TEST(MysqlDsnParserTest, InconsistentTlsKeysAreRefusedWithTheFix) {
  EXPECT_EQ(Target("sslrootcert=ca.pem").message(),
            "target dsn: sslrootcert is set but sslmode is disable (its default): set "
            "sslmode=verify-full (or verify-ca, require) to connect over TLS");
  EXPECT_TRUE(Contains(Target("sslmode=disable sslcert=c.pem sslkey=k.pem").message(),
                       "sslcert is set but sslmode is disable"));
  EXPECT_TRUE(Contains(Target("sslmode=require sslcert=c.pem").message(),
                       "sslcert and sslkey go together"));
  EXPECT_TRUE(
      Contains(Target("sslmode=require sslkey=k.pem").message(), "sslcert and sslkey go together"));
  EXPECT_EQ(Target("sslmode=verify-full").message(),
            "target dsn: sslmode=verify-full needs sslrootcert: the file of the CA that signed the "
            "server's certificate (or sslrootcert=system for the system's trusted CAs)");
  EXPECT_TRUE(Contains(Source("user=a sslmode=verify-ca").message(),
                       "sslmode=verify-ca needs sslrootcert"));
  EXPECT_TRUE(Contains(Target("sslmode=verify-ca sslrootcert=system").message(),
                       "sslrootcert=system needs sslmode=verify-full"));
  EXPECT_TRUE(Contains(Target("sslmode=require sslrootcert=system").message(),
                       "sslrootcert=system needs sslmode=verify-full"));
}

TEST(MysqlDsnParserTest, TlsFilesMustBeReadable) {
  char dir[] = "/tmp/ferry-mysql-dsn-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string ca = std::string(dir) + "/ca.pem";
  std::ofstream(ca) << "not checked here\n";
  MysqlTls tls;
  tls.mode = SslMode::kVerifyFull;
  tls.root_cert = ca;
  EXPECT_TRUE(CheckTlsFiles(tls).ok());
  tls.cert = std::string(dir) + "/missing.pem";
  tls.key = ca;
  Status status = CheckTlsFiles(tls);
  EXPECT_EQ(status.message(),
            "the file sslcert names in the dsn cannot be read: No such file or directory");
  EXPECT_TRUE(CheckTlsFiles(MysqlTls()).ok());
  unlink(ca.c_str());
  rmdir(dir);
}

TEST(MysqlDsnParserTest, AnUnencryptedSessionIsRefusedUnlessTlsIsOff) {
  MysqlTls tls;
  EXPECT_TRUE(CheckEncrypted(false, tls).ok());
  tls.mode = SslMode::kRequire;
  EXPECT_TRUE(CheckEncrypted(true, tls).ok());
  Status refused = CheckEncrypted(false, tls);
  EXPECT_TRUE(Contains(refused.message(),
                       "sslmode=require, but the server did not encrypt the connection (it offers "
                       "no TLS): give the server a certificate (ssl_cert and ssl_key"));
  EXPECT_TRUE(Contains(refused.message(), "or set sslmode=disable"));
}

TEST(MysqlDsnParserTest, HintsNameTheSettingToFix) {
  MysqlTls tls;
  tls.mode = SslMode::kVerifyFull;
  tls.root_cert = "ca.pem";
  const unsigned kTlsError = 2026;
  EXPECT_TRUE(Contains(
      TlsConnectHint(kTlsError, "TLS/SSL error: self-signed certificate in certificate chain", tls),
      "; the server's certificate was not accepted: set sslrootcert in the dsn to the file of "
      "the CA that signed it"));
  EXPECT_TRUE(Contains(
      TlsConnectHint(kTlsError, "TLS/SSL error: Validation of SSL server certificate failed", tls),
      "does not carry the name in host= (sslmode=verify-full)"));
  EXPECT_TRUE(Contains(
      TlsConnectHint(kTlsError,
                     "TLS/SSL error: SSL is required, but the server does not support it", tls),
      "the server offers no TLS: give the server a certificate"));
  EXPECT_EQ(TlsConnectHint(1045, "Access denied", tls), "");
  EXPECT_EQ(TlsConnectHint(kTlsError, "anything", MysqlTls()), "");
}

}  // namespace
}  // namespace ferry
