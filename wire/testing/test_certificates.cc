#include "wire/testing/test_certificates.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace ferry::wire::testing {
namespace {

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "test certificates: %s failed\n", what);
  std::abort();
}

void AddExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  Check(extension != nullptr && X509_add_ext(certificate, extension, -1) == 1, "add extension");
  X509_EXTENSION_free(extension);
}

// A certificate for `name` and `key`, valid as `validity` says; self-signed when `issuer` is
// null.
X509* NewCertificate(const std::string& name, EVP_PKEY* key, X509* issuer, long serial,
                     TestCa::Validity validity = TestCa::Validity::kCurrent) {
  constexpr long kDay = 24 * 3600;
  const bool expired = validity == TestCa::Validity::kExpired;
  X509* certificate = X509_new();
  Check(certificate != nullptr, "X509_new");
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate), expired ? -2 * kDay : -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), expired ? -kDay : kDay);
  X509_set_pubkey(certificate, key);
  X509_NAME* subject = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(certificate, issuer != nullptr ? X509_get_subject_name(issuer) : subject);
  return certificate;
}

void WritePem(const std::string& path, X509* certificate, EVP_PKEY* key) {
  FILE* file = std::fopen(path.c_str(), "w");
  Check(file != nullptr, "open a certificate file");
  if (certificate != nullptr) Check(PEM_write_X509(file, certificate) == 1, "write certificate");
  if (key != nullptr) {
    Check(PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "write key");
  }
  std::fclose(file);
  if (key != nullptr) ::chmod(path.c_str(), 0600);
}

}  // namespace

struct TestCa::Keys {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
};

TestCa::TestCa(std::string dir, std::string name)
    : dir_(std::move(dir)), cert_file_(dir_ + "/" + name + ".crt"), keys_(new Keys) {
  keys_->key = EVP_EC_gen("P-256");
  Check(keys_->key != nullptr, "generate the CA key");
  keys_->certificate = NewCertificate(name, keys_->key, nullptr, 1);
  AddExtension(keys_->certificate, keys_->certificate, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(keys_->certificate, keys_->certificate, NID_key_usage,
               "critical,keyCertSign,cRLSign");
  AddExtension(keys_->certificate, keys_->certificate, NID_subject_key_identifier, "hash");
  Check(X509_sign(keys_->certificate, keys_->key, EVP_sha256()) > 0, "sign the CA");
  WritePem(cert_file_, keys_->certificate, nullptr);
}

TestCa::~TestCa() {
  X509_free(keys_->certificate);
  EVP_PKEY_free(keys_->key);
  delete keys_;
}

TestCa::Issued TestCa::Issue(const std::string& common_name,
                             const std::vector<std::string>& alt_names, Validity validity) const {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "generate a key");
  static_assert(sizeof(long) >= 8);
  X509* certificate =
      NewCertificate(common_name, key, keys_->certificate,
                     static_cast<long>(std::hash<std::string>()(common_name) >> 2), validity);
  AddExtension(certificate, keys_->certificate, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(certificate, keys_->certificate, NID_authority_key_identifier, "keyid");
  std::string names;
  for (const std::string& name : alt_names) names += (names.empty() ? "" : ",") + name;
  if (!names.empty()) {
    AddExtension(certificate, keys_->certificate, NID_subject_alt_name, names);
  }
  Check(X509_sign(certificate, keys_->key, EVP_sha256()) > 0, "sign a certificate");
  Issued issued{dir_ + "/" + common_name + ".crt", dir_ + "/" + common_name + ".key"};
  WritePem(issued.cert_file, certificate, nullptr);
  WritePem(issued.key_file, nullptr, key);
  X509_free(certificate);
  EVP_PKEY_free(key);
  return issued;
}

}  // namespace ferry::wire::testing
