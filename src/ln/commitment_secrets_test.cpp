#include "ln/commitment_secrets.h"

#include <gtest/gtest.h>

namespace hashlock::ln {
namespace {

Secret secret_from_hex(const std::string& hex) {
  Secret out{};
  auto bytes = util::from_hex(hex).value();
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Secret filled(uint8_t byte) {
  Secret out{};
  out.fill(byte);
  return out;
}

// Test vectors of BOLT 3, appendix D.
TEST(CommitmentSecrets, MatchBolt3GenerationVectors) {
  EXPECT_EQ(util::to_hex(derive_secret(filled(0x00), 281474976710655ULL)),
            "02a40c85b6f28da08dfdbe0926c53fab2de6d28c10301f8f7c4073d5e42e3148");
  EXPECT_EQ(util::to_hex(derive_secret(filled(0xff), 281474976710655ULL)),
            "7cc854b54e3e0dcdb010d7a3fee464a9687be6e8db3be6854c475621e007a5dc");
  EXPECT_EQ(util::to_hex(derive_secret(filled(0xff), 0xaaaaaaaaaaaULL)),
            "56f4008fb007ca9acf0e15b054d5c9fd12ee06cea347914ddbaed70d1c13a528");
  EXPECT_EQ(util::to_hex(derive_secret(filled(0xff), 0x555555555555ULL)),
            "9015daaeb06dba4ccc05b91b2f73bd54405f2be9f217fbacd3c5ac2e62327d31");
  EXPECT_EQ(util::to_hex(derive_secret(filled(0x01), 1)),
            "915c75942a26bb3a433a8ce2cb0427c29ec6c1775cfc78328b57f6ba7bfeaa9c");
}

TEST(CommitmentSecrets, StoreKeepsAtMost49EntriesAndDerivesEveryEarlierSecret) {
  const Secret seed =
      secret_from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  CommitmentSecretStore store;
  constexpr uint64_t kCommitments = 5000;
  for (uint64_t n = 0; n < kCommitments; ++n) {
    ASSERT_TRUE(store.insert(shachain_index(n), secret_for_commitment(seed, n)).is_ok()) << n;
  }
  EXPECT_LE(store.encode().size(), CommitmentSecretStore::kSlots * (1 + 8 + 32));
  for (uint64_t n = 0; n < kCommitments; n += 97) {
    auto secret = store.get(shachain_index(n));
    ASSERT_TRUE(secret.has_value()) << n;
    EXPECT_EQ(*secret, secret_for_commitment(seed, n)) << n;
  }
  auto round_trip = CommitmentSecretStore::decode(store.encode());
  ASSERT_TRUE(round_trip.is_ok());
  EXPECT_EQ(round_trip->get(shachain_index(1234)), store.get(shachain_index(1234)));
}

TEST(CommitmentSecrets, WrongSecretIsRejected) {
  const Secret seed = filled(0x42);
  CommitmentSecretStore store;
  ASSERT_TRUE(store.insert(shachain_index(0), secret_for_commitment(seed, 0)).is_ok());
  // Commitment 1's index has trailing zeros: it must derive commitment 0's secret.
  util::Status bad = store.insert(shachain_index(1), filled(0x13));
  EXPECT_EQ(bad.code(), util::StatusCode::kProtocolError);
  EXPECT_NE(bad.message().find("does not derive"), std::string::npos);
}

}  // namespace
}  // namespace hashlock::ln
