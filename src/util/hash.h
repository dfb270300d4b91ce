// Fixed-size byte identifiers: payment hashes and preimages, payment and
// channel ids, and SHA-256 (via OpenSSL).
//
// Each identifier is its own type, so a PaymentHash cannot be passed where a
// PaymentPreimage is expected. PaymentPreimage::payment_hash() is the SHA-256
// of the preimage, the only way the two are related. Thread-safety: value types.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/result.h"

namespace hashlock::util {

using Sha256Digest = std::array<uint8_t, 32>;
Sha256Digest sha256(ByteView data);

// A 32-byte value with a distinct type per Tag.
template <typename Tag>
class Bytes32 {
 public:
  static constexpr size_t kSize = 32;

  constexpr Bytes32() = default;
  explicit Bytes32(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // Fails unless `bytes` is exactly 32 bytes long.
  static Result<Bytes32> from_bytes(ByteView bytes) {
    if (bytes.size() != kSize) {
      return invalid_argument(std::string(Tag::kName) + " must be 32 bytes, got " +
                              std::to_string(bytes.size()));
    }
    Bytes32 out;
    std::memcpy(out.bytes_.data(), bytes.data(), kSize);
    return out;
  }
  // Fails unless `hex` is 64 hex characters; the message names the type.
  static Result<Bytes32> from_hex(std::string_view hex) {
    if (hex.size() != 2 * kSize) {
      return invalid_argument(std::string(Tag::kName) + " must be 64 hex characters, got " +
                              std::to_string(hex.size()));
    }
    auto bytes = util::from_hex(hex);
    if (!bytes.is_ok()) return bytes.status().with_context(Tag::kName);
    return from_bytes(bytes.value());
  }

  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }
  ByteView view() const { return {bytes_.data(), kSize}; }
  std::string to_hex() const { return util::to_hex(view()); }
  bool is_zero() const { return *this == Bytes32(); }

  auto operator<=>(const Bytes32&) const = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

struct PaymentHashTag {
  static constexpr const char* kName = "payment hash";
};
struct PaymentPreimageTag {
  static constexpr const char* kName = "payment preimage";
};
struct PaymentIdTag {
  static constexpr const char* kName = "payment id";
};
struct ChannelIdTag {
  static constexpr const char* kName = "channel id";
};

using PaymentHash = Bytes32<PaymentHashTag>;
using PaymentId = Bytes32<PaymentIdTag>;
using ChannelId = Bytes32<ChannelIdTag>;

class PaymentPreimage : public Bytes32<PaymentPreimageTag> {
 public:
  using Bytes32::Bytes32;
  PaymentPreimage(const Bytes32& base) : Bytes32(base) {}  // NOLINT(google-explicit-constructor)
  PaymentHash payment_hash() const { return PaymentHash(sha256(view())); }
};

struct Bytes32Hash {
  template <typename Tag>
  size_t operator()(const Bytes32<Tag>& value) const {
    size_t h = 0;
    std::memcpy(&h, value.bytes().data(), sizeof h);
    return h;
  }
};

}  // namespace hashlock::util
