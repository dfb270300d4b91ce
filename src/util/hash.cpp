#include "util/hash.h"

#include <openssl/evp.h>

#include "util/check.h"

namespace hashlock::util {

Sha256Digest sha256(ByteView data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  const int ok =
      EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  HASHLOCK_CHECK(ok == 1 && length == digest.size(), "OpenSSL SHA-256 failed");
  return digest;
}

}  // namespace hashlock::util
