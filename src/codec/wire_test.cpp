#include "codec/wire.h"

#include <gtest/gtest.h>

namespace hashlock::codec {
namespace {

TEST(BigSize, UsesShortestEncodingAtEachBoundary) {
  const std::pair<uint64_t, size_t> cases[] = {
      {0, 1},       {0xfc, 1},       {0xfd, 3},           {0xffff, 3},
      {0x10000, 5}, {0xffffffff, 5}, {0x100000000ULL, 9}, {UINT64_MAX, 9}};
  for (auto [value, length] : cases) {
    ByteWriter out;
    out.bigsize(value);
    EXPECT_EQ(out.size(), length) << value;
    EXPECT_EQ(bigsize_length(value), length) << value;
    ByteReader in(out.bytes());
    EXPECT_EQ(*in.bigsize("value"), value);
    EXPECT_TRUE(in.at_end());
  }
}

TEST(ByteReader, TruncationNamesWhatWasBeingRead) {
  const Bytes input = {0x01};
  ByteReader in(input);
  auto value = in.u32("commitment number");
  ASSERT_FALSE(value.is_ok());
  EXPECT_EQ(value.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(value.status().message().find("truncated commitment number"), std::string::npos);
}

TEST(ByteReader, OversizedLengthPrefixIsTruncation) {
  ByteWriter out;
  out.bigsize(1000);
  out.raw(util::as_bytes("short"));
  ByteReader in(out.bytes());
  EXPECT_EQ(in.var_bytes("blob").status().code(), util::StatusCode::kCorruption);
}

}  // namespace
}  // namespace hashlock::codec
