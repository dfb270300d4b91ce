#include "util/bytes.h"

#include <gtest/gtest.h>

namespace hashlock::util {
namespace {

TEST(Hex, RoundTripsBytes) {
  Bytes bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(to_hex(bytes), "0001abff");
  auto parsed = from_hex("0001ABff");
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, bytes);
}

TEST(Hex, OddLengthIsRejected) {
  auto parsed = from_hex("abc");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("odd length"), std::string::npos);
}

TEST(Hex, BadCharacterIsNamedWithItsPosition) {
  auto parsed = from_hex("00zz");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_NE(parsed.status().message().find("'z' at position 2"), std::string::npos);
}

}  // namespace
}  // namespace hashlock::util
