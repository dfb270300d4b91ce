#include "util/amount.h"

#include <gtest/gtest.h>

namespace hashlock::util {
namespace {

TEST(AmountMsat, AddsAndSubtractsWithinRange) {
  auto sum = AmountMsat(1500).checked_add(AmountMsat(500));
  ASSERT_TRUE(sum.is_ok());
  EXPECT_EQ(sum->value(), 2000u);
  auto difference = AmountMsat(2000).checked_sub(AmountMsat(2000));
  ASSERT_TRUE(difference.is_ok());
  EXPECT_EQ(*difference, AmountMsat::zero());
}

TEST(AmountMsat, OverflowIsAnErrorNeverAWrap) {
  auto sum = AmountMsat(UINT64_MAX).checked_add(AmountMsat(1));
  ASSERT_FALSE(sum.is_ok());
  EXPECT_EQ(sum.status().code(), StatusCode::kOverflow);
  auto product = AmountMsat(UINT64_MAX / 2 + 1).checked_mul(2);
  EXPECT_EQ(product.status().code(), StatusCode::kOverflow);
  EXPECT_EQ(msat_from_sat(UINT64_MAX / 1000 + 1).status().code(), StatusCode::kOverflow);
}

TEST(AmountMsat, NegativeResultIsAnError) {
  auto difference = AmountMsat(1).checked_sub(AmountMsat(2));
  ASSERT_FALSE(difference.is_ok());
  EXPECT_EQ(difference.status().code(), StatusCode::kOverflow);
  EXPECT_NE(difference.status().message().find("negative"), std::string::npos);
}

TEST(AmountMsat, ProportionalFeeIsExactInMsat) {
  // 1 ppm of 999'999 msat rounds down to 0 msat, never through satoshis.
  auto fee = AmountMsat(999'999).checked_mul_div(1, 1'000'000);
  ASSERT_TRUE(fee.is_ok());
  EXPECT_EQ(fee->value(), 0u);
  auto big = AmountMsat(UINT64_MAX).checked_mul_div(1'000'000, 1'000'000);
  ASSERT_TRUE(big.is_ok());
  EXPECT_EQ(big->value(), UINT64_MAX);
  EXPECT_EQ(AmountMsat(UINT64_MAX).checked_mul_div(2, 1).status().code(), StatusCode::kOverflow);
  EXPECT_EQ(AmountMsat(1).checked_mul_div(1, 0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hashlock::util

namespace hashlock::util {
namespace {

TEST(BaseUnits, IsItsOwnTypeWithTheSameChecks) {
  static_assert(!std::is_convertible_v<BaseUnits, AmountMsat>);
  static_assert(!std::is_convertible_v<uint64_t, BaseUnits>);
  EXPECT_EQ(BaseUnits(5).to_string(), "5 units");
  EXPECT_EQ(BaseUnits(0).checked_sub(BaseUnits(1)).status().code(), StatusCode::kOverflow);
}

}  // namespace
}  // namespace hashlock::util
