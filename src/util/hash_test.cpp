#include "util/hash.h"

#include <gtest/gtest.h>

namespace hashlock::util {
namespace {

TEST(Sha256, MatchesKnownVector) {
  EXPECT_EQ(to_hex(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(PaymentPreimage, HashIsSha256OfPreimage) {
  auto preimage = PaymentPreimage::from_hex(std::string(64, '0'));
  ASSERT_TRUE(preimage.is_ok());
  EXPECT_EQ(PaymentPreimage(*preimage).payment_hash().to_hex(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
}

TEST(PaymentHash, WrongLengthHexIsRejectedByName) {
  auto hash = PaymentHash::from_hex("abcd");
  ASSERT_FALSE(hash.is_ok());
  EXPECT_NE(hash.status().message().find("payment hash must be 64 hex characters"),
            std::string::npos);
}

TEST(PaymentHash, NonHexIsRejectedWithPosition) {
  auto hash = ChannelId::from_hex(std::string(63, '0') + "x");
  ASSERT_FALSE(hash.is_ok());
  EXPECT_NE(hash.status().message().find("channel id"), std::string::npos);
  EXPECT_NE(hash.status().message().find("position 63"), std::string::npos);
}

}  // namespace
}  // namespace hashlock::util
