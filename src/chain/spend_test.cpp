#include "chain/spend.h"

#include <gtest/gtest.h>

#include <map>

namespace hashlock::chain {
namespace {

PublicKey key(uint8_t n) {
  std::array<uint8_t, 32> bytes{};
  bytes[0] = n;
  return PublicKey(bytes);
}

class MapView final : public CoinView {
 public:
  const Coin* find(const OutPoint& outpoint) const override {
    auto it = coins.find(outpoint);
    return it == coins.end() ? nullptr : &it->second;
  }
  std::map<OutPoint, Coin> coins;
};

const RevocationSecret kSecret = util::sha256(util::as_bytes("per-commitment secret"));
const PaymentPreimage kPreimage(util::sha256(util::as_bytes("preimage")));

struct Fixture {
  MapView view;
  OutPoint outpoint{Txid(util::sha256(util::as_bytes("funding"))), 1};

  // A transaction spending `condition` (worth 10'000 msat, confirmed at
  // height 100) through `witness`, paying 9'000 msat to key 50.
  Transaction spend(SpendCondition condition, Witness witness, uint32_t sequence = 0,
                    uint32_t lock_time = 0) {
    view.coins[outpoint] = Coin{TxOut{AmountMsat(10'000), std::move(condition)}, BlockHeight(100)};
    Transaction tx;
    tx.inputs.push_back(TxIn{outpoint, sequence, std::move(witness)});
    tx.outputs.push_back(TxOut{AmountMsat(9'000), KeyCondition{key(50)}});
    tx.lock_time = lock_time;
    return tx;
  }
  util::Result<AmountMsat> check(const Transaction& tx, uint64_t height) {
    return check_transaction(tx, view, BlockHeight(height), default_spend_model());
  }
};

Witness signed_by(SpendPath path, std::vector<PublicKey> keys) {
  return Witness{path, std::move(keys), std::nullopt, std::nullopt};
}

DelayedCondition to_local() {
  return DelayedCondition{key(1), 144, key(2), util::sha256(kSecret)};
}
HtlcCondition htlc() {
  return HtlcCondition{kPreimage.payment_hash(), 500, key(3), key(4), key(2),
                       util::sha256(kSecret)};
}

TEST(Spend, KeyOutputNeedsItsKeyAndReturnsTheFee) {
  Fixture f;
  auto ok = f.check(f.spend(KeyCondition{key(1)}, signed_by(SpendPath::kKey, {key(1)})), 101);
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok.value(), AmountMsat(1'000));
  auto wrong = f.check(f.spend(KeyCondition{key(1)}, signed_by(SpendPath::kKey, {key(2)})), 101);
  EXPECT_EQ(wrong.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("did not sign"), std::string::npos);
}

TEST(Spend, FundingOutputNeedsBothKeys) {
  Fixture f;
  const MultisigCondition funding{key(1), key(2)};
  EXPECT_TRUE(
      f.check(f.spend(funding, signed_by(SpendPath::kMultisig, {key(2), key(1)})), 101).is_ok());
  EXPECT_FALSE(f.check(f.spend(funding, signed_by(SpendPath::kMultisig, {key(1)})), 101).is_ok());
  EXPECT_FALSE(
      f.check(f.spend(funding, signed_by(SpendPath::kKey, {key(1), key(2)})), 101).is_ok());
}

TEST(Spend, ToLocalWaitsForTheRelativeDelay) {
  Fixture f;
  const Transaction tx = f.spend(to_local(), signed_by(SpendPath::kDelayed, {key(1)}), 144);
  auto early = f.check(tx, 243);
  EXPECT_EQ(early.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(f.check(tx, 244).is_ok());
  // The input must ask for the delay itself.
  auto short_sequence =
      f.check(f.spend(to_local(), signed_by(SpendPath::kDelayed, {key(1)}), 143), 1000);
  EXPECT_EQ(short_sequence.status().code(), util::StatusCode::kInvalidArgument);
  // Only the delayed key.
  EXPECT_FALSE(
      f.check(f.spend(to_local(), signed_by(SpendPath::kDelayed, {key(2)}), 144), 1000).is_ok());
}

TEST(Spend, ToLocalGoesAtOnceWithTheRevocationSecret) {
  Fixture f;
  Witness revoke{SpendPath::kRevocation, {key(2)}, std::nullopt, kSecret};
  EXPECT_TRUE(f.check(f.spend(to_local(), revoke), 101).is_ok());
  Witness wrong_secret = revoke;
  wrong_secret.revocation_secret = util::sha256(util::as_bytes("another"));
  auto refused = f.check(f.spend(to_local(), wrong_secret), 101);
  EXPECT_NE(refused.status().message().find("revocation hash"), std::string::npos);
  Witness no_secret = revoke;
  no_secret.revocation_secret.reset();
  EXPECT_FALSE(f.check(f.spend(to_local(), no_secret), 101).is_ok());
  Witness wrong_key = revoke;
  wrong_key.signers = {key(1)};
  EXPECT_FALSE(f.check(f.spend(to_local(), wrong_key), 101).is_ok());
}

TEST(Spend, HtlcClaimNeedsThePreimageAndTheClaimKey) {
  Fixture f;
  Witness claim{SpendPath::kPreimage, {key(3)}, kPreimage, std::nullopt};
  EXPECT_TRUE(f.check(f.spend(htlc(), claim), 101).is_ok());
  Witness wrong = claim;
  wrong.preimage = PaymentPreimage(util::sha256(util::as_bytes("guess")));
  auto refused = f.check(f.spend(htlc(), wrong), 101);
  EXPECT_NE(refused.status().message().find("payment hash"), std::string::npos);
  Witness timeout_key_claims = claim;
  timeout_key_claims.signers = {key(4)};
  EXPECT_FALSE(f.check(f.spend(htlc(), timeout_key_claims), 101).is_ok());
}

TEST(Spend, HtlcTimeoutNeedsTheLockTimeAtTheExpiryAndFinality) {
  Fixture f;
  const Witness timeout = signed_by(SpendPath::kTimeout, {key(4)});
  auto low_lock = f.check(f.spend(htlc(), timeout, 0, 499), 1000);
  EXPECT_EQ(low_lock.status().code(), util::StatusCode::kInvalidArgument);
  const Transaction tx = f.spend(htlc(), timeout, 0, 500);
  EXPECT_EQ(f.check(tx, 500).status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(f.check(tx, 501).is_ok());
  EXPECT_FALSE(
      f.check(f.spend(htlc(), signed_by(SpendPath::kTimeout, {key(3)}), 0, 500), 501).is_ok());
}

TEST(Spend, HtlcRevocationSpendNeedsTheSecret) {
  Fixture f;
  Witness revoke{SpendPath::kRevocation, {key(2)}, std::nullopt, kSecret};
  EXPECT_TRUE(f.check(f.spend(htlc(), revoke), 101).is_ok());
  revoke.revocation_secret = util::sha256(util::as_bytes("nope"));
  EXPECT_FALSE(f.check(f.spend(htlc(), revoke), 101).is_ok());
}

TEST(Spend, TransactionLevelChecks) {
  Fixture f;
  Transaction tx = f.spend(KeyCondition{key(1)}, signed_by(SpendPath::kKey, {key(1)}));
  Transaction missing = tx;
  missing.inputs[0].prevout.index = 7;
  EXPECT_EQ(f.check(missing, 101).status().code(), util::StatusCode::kNotFound);
  Transaction twice = tx;
  twice.inputs.push_back(tx.inputs[0]);
  EXPECT_NE(f.check(twice, 101).status().message().find("twice"), std::string::npos);
  Transaction inflating = tx;
  inflating.outputs[0].value = AmountMsat(10'001);
  EXPECT_NE(f.check(inflating, 101).status().message().find("creates"), std::string::npos);
  Transaction no_outputs = tx;
  no_outputs.outputs.clear();
  EXPECT_FALSE(f.check(no_outputs, 101).is_ok());
  Transaction no_inputs = tx;
  no_inputs.inputs.clear();
  EXPECT_FALSE(f.check(no_inputs, 101).is_ok());
  Transaction wrong_path = f.spend(KeyCondition{key(1)}, signed_by(SpendPath::kPreimage, {key(1)}));
  EXPECT_NE(f.check(wrong_path, 101).status().message().find("does not fit"), std::string::npos);
}

}  // namespace
}  // namespace hashlock::chain
