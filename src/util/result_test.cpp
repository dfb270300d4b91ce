#include "util/result.h"

#include <gtest/gtest.h>

namespace hashlock::util {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return invalid_argument("not positive: " + std::to_string(x));
  return x;
}

Result<int> doubled(int x) {
  HASHLOCK_ASSIGN_OR_RETURN(int value, parse_positive(x));
  return value * 2;
}

TEST(Result, CarriesValueOrStatus) {
  EXPECT_EQ(*doubled(4), 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().to_string(), "InvalidArgument: not positive: -1");
}

TEST(Result, ContextKeepsTheCode) {
  Status s = corruption("checksum mismatch").with_context("monitors/abc");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "monitors/abc: checksum mismatch");
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  EXPECT_DEATH((void)parse_positive(0).value(), "invariant violated");
}

}  // namespace
}  // namespace hashlock::util
