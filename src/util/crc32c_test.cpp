#include "util/crc32c.h"

#include <gtest/gtest.h>

namespace hashlock::util {
namespace {

TEST(Crc32c, MatchesPublishedCheckValue) {
  // The standard check value of CRC-32C over "123456789".
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xe3069283u);
  EXPECT_EQ(crc32c(ByteView()), 0u);
}

TEST(Crc32c, ExtendingEqualsOneShot) {
  const std::string text = "hash-time-locked contracts settle exactly once";
  const uint32_t one_shot = crc32c(as_bytes(text));
  for (size_t split = 0; split <= text.size(); ++split) {
    const uint32_t first = crc32c(as_bytes(std::string_view(text).substr(0, split)));
    EXPECT_EQ(crc32c_extend(first, as_bytes(std::string_view(text).substr(split))), one_shot);
  }
}

TEST(Crc32c, DetectsEverySingleBitFlip) {
  Bytes data(64);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  const uint32_t good = crc32c(data);
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(crc32c(data), good) << "bit " << bit;
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace hashlock::util
