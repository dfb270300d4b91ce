#include "util/hash.h"

#include <openssl/evp.h>

#include <memory>

#include "util/check.h"

namespace hashlock::util {
namespace {

// OpenSSL 3 looks the algorithm up by name on every EVP_sha256() digest; the
// engine hashes on every commitment step, so the lookup is done once, and
// each thread keeps one digest context.
const EVP_MD* sha256_algorithm() {
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  HASHLOCK_CHECK(algorithm != nullptr, "OpenSSL has no SHA-256");
  return algorithm;
}

struct ContextFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

EVP_MD_CTX* thread_context() {
  thread_local const std::unique_ptr<EVP_MD_CTX, ContextFree> context(EVP_MD_CTX_new());
  HASHLOCK_CHECK(context != nullptr, "OpenSSL could not allocate a digest context");
  return context.get();
}

}  // namespace

Sha256Digest sha256(ByteView data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  EVP_MD_CTX* context = thread_context();
  const int ok = EVP_DigestInit_ex(context, sha256_algorithm(), nullptr) == 1 &&
                 EVP_DigestUpdate(context, data.data(), data.size()) == 1 &&
                 EVP_DigestFinal_ex(context, digest.data(), &length) == 1;
  HASHLOCK_CHECK(ok && length == digest.size(), "OpenSSL SHA-256 failed");
  return digest;
}

}  // namespace hashlock::util
