#include "ln/channel_tx.h"

#include <gtest/gtest.h>

#include "chain/simulated_chain.h"

namespace hashlock::ln {
namespace {

const chain::FixedFeeEstimator kFees(AmountMsat(10));

PaymentPreimage preimage(const char* text) {
  return PaymentPreimage(util::sha256(util::as_bytes(text)));
}
Secret secret(const char* text) {
  return util::sha256(util::as_bytes(text));
}

// Alice (node 1) and Bob (node 2) with a funded 1'000'000 msat channel.
struct Funded {
  chain::SimulatedChain chain{42};
  ChannelTxParams alice;
  ChannelTxParams bob;

  Funded() {
    const chain::PublicKey a = node_key(NodeId(1));
    const chain::PublicKey b = node_key(NodeId(2));
    const AmountMsat value(1'000'000);
    const chain::Txid funding = chain.deposit({funding_output(a, b, value)}).value();
    chain.mine_block();
    alice = ChannelTxParams{{funding, 0}, value, a, b, 144, 72};
    bob = ChannelTxParams{{funding, 0}, value, b, a, 72, 144};
  }

  // Alice's commitment 5: 600k to her, 300k to Bob, an HTLC she offered
  // (60k, expiring at 200) and one she received (40k, expiring at 210).
  static CommitmentData alice_commitment() {
    return CommitmentData{
        .number = 5,
        .to_holder = AmountMsat(600'000),
        .to_counterparty = AmountMsat(300'000),
        .htlcs = {CommitmentHtlc{true, HtlcId(0), AmountMsat(60'000),
                                 preimage("offered").payment_hash(), 200, std::nullopt},
                  CommitmentHtlc{false, HtlcId(1), AmountMsat(40'000),
                                 preimage("received").payment_hash(), 210, std::nullopt}},
        .revocation_hash = commitment_point(secret("alice 5"))};
  }

  chain::Transaction confirm_alice_commitment() {
    chain::Transaction tx = build_commitment_tx(alice, true, alice_commitment()).value();
    EXPECT_TRUE(chain.broadcast(tx).is_ok());
    chain.mine_block();
    EXPECT_EQ(chain.confirmations(tx.txid()), 1u);
    return tx;
  }

  util::Status sweep(const chain::Transaction& parent, uint32_t index, chain::Witness witness,
                     uint32_t sequence = 0, uint32_t lock_time = 0) {
    auto tx =
        build_sweep_tx(parent, index, std::move(witness), sequence, lock_time, witness_key_, kFees);
    if (!tx.is_ok()) return tx.status();
    return chain.broadcast(*tx);
  }
  chain::PublicKey witness_key_ = node_key(NodeId(9));
};

chain::Witness sign(chain::SpendPath path, const chain::PublicKey& key) {
  return chain::Witness{path, {key}, std::nullopt, std::nullopt};
}

TEST(ChannelTx, BothSidesBuildTheSameCommitment) {
  Funded f;
  CommitmentData seen_by_bob = Funded::alice_commitment();
  auto ours = build_commitment_tx(f.alice, true, seen_by_bob);
  auto theirs = build_commitment_tx(f.bob, false, seen_by_bob);
  ASSERT_TRUE(ours.is_ok()) << ours.status().to_string();
  ASSERT_TRUE(theirs.is_ok());
  EXPECT_EQ(ours->txid(), theirs->txid());
  EXPECT_EQ(commitment_number_of(*ours), 5u);
  ASSERT_EQ(ours->outputs.size(), 4u);
  const auto& to_local = std::get<chain::DelayedCondition>(ours->outputs[0].condition);
  EXPECT_EQ(to_local.delayed_key, f.alice.holder_key);
  EXPECT_EQ(to_local.delay_blocks, 144u);
  EXPECT_EQ(to_local.revocation_key, f.bob.holder_key);
  EXPECT_EQ(std::get<chain::KeyCondition>(ours->outputs[1].condition).key, f.bob.holder_key);
  // A different number or revocation hash is a different transaction.
  CommitmentData next = seen_by_bob;
  next.number = 6;
  EXPECT_NE(build_commitment_tx(f.alice, true, next)->txid(), ours->txid());
}

TEST(ChannelTx, CommitmentMustSpendExactlyTheFunding) {
  Funded f;
  CommitmentData wrong = Funded::alice_commitment();
  wrong.to_holder = AmountMsat(600'001);
  auto built = build_commitment_tx(f.alice, true, wrong);
  ASSERT_FALSE(built.is_ok());
  EXPECT_NE(built.status().message().find("of a funding output"), std::string::npos);
  wrong = Funded::alice_commitment();
  wrong.number = uint64_t{UINT32_MAX} + 1;
  EXPECT_FALSE(build_commitment_tx(f.alice, true, wrong).is_ok());
}

TEST(ChannelTx, ToLocalSweepWaitsForTheDelay) {
  Funded f;
  const chain::Transaction commitment = f.confirm_alice_commitment();
  const auto early =
      f.sweep(commitment, 0, sign(chain::SpendPath::kDelayed, f.alice.holder_key), 144);
  EXPECT_EQ(early.code(), util::StatusCode::kFailedPrecondition) << early.to_string();
  f.chain.mine_blocks(142);  // the commitment confirmed at 2; the next block is 145 < 146
  EXPECT_FALSE(
      f.sweep(commitment, 0, sign(chain::SpendPath::kDelayed, f.alice.holder_key), 144).is_ok());
  f.chain.mine_block();
  EXPECT_TRUE(
      f.sweep(commitment, 0, sign(chain::SpendPath::kDelayed, f.alice.holder_key), 144).is_ok());
  // Bob's to-remote output is his at once.
  EXPECT_TRUE(f.sweep(commitment, 1, sign(chain::SpendPath::kKey, f.bob.holder_key)).is_ok());
}

TEST(ChannelTx, HtlcOutputsGoToTheReceiverWithThePreimageOrBackAfterExpiry) {
  Funded f;
  const chain::Transaction commitment = f.confirm_alice_commitment();
  // Alice offered output 2: Bob claims it with the preimage...
  chain::Witness claim{
      chain::SpendPath::kPreimage, {f.bob.holder_key}, preimage("offered"), std::nullopt};
  chain::Witness wrong_claim = claim;
  wrong_claim.preimage = preimage("received");
  EXPECT_FALSE(f.sweep(commitment, 2, wrong_claim).is_ok());
  // ... while Alice can only time it out after height 200.
  EXPECT_EQ(
      f.sweep(commitment, 2, sign(chain::SpendPath::kTimeout, f.alice.holder_key), 0, 200).code(),
      util::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(f.sweep(commitment, 2, claim).is_ok());
  // Alice received output 3: she claims it with its preimage.
  chain::Witness alice_claim{
      chain::SpendPath::kPreimage, {f.alice.holder_key}, preimage("received"), std::nullopt};
  EXPECT_TRUE(f.sweep(commitment, 3, alice_claim).is_ok());
}

TEST(ChannelTx, OfferedHtlcTimesOutAfterItsExpiry) {
  Funded f;
  const chain::Transaction commitment = f.confirm_alice_commitment();
  f.chain.mine_blocks(198);  // tip 200
  const chain::Witness timeout = sign(chain::SpendPath::kTimeout, f.alice.holder_key);
  EXPECT_FALSE(f.sweep(commitment, 2, timeout, 0, 199).is_ok());  // lock time below expiry
  EXPECT_TRUE(f.sweep(commitment, 2, timeout, 0, 200).is_ok());
  // Bob may not time out what Alice offered.
  EXPECT_FALSE(
      f.sweep(commitment, 3, sign(chain::SpendPath::kTimeout, f.alice.holder_key), 0, 210).is_ok());
}

TEST(ChannelTx, RevokedCommitmentLosesEverythingToTheCounterparty) {
  Funded f;
  const chain::Transaction commitment = f.confirm_alice_commitment();
  chain::Witness punish{
      chain::SpendPath::kRevocation, {f.bob.holder_key}, std::nullopt, secret("alice 5")};
  EXPECT_TRUE(f.sweep(commitment, 0, punish).is_ok());
  EXPECT_TRUE(f.sweep(commitment, 2, punish).is_ok());
  EXPECT_TRUE(f.sweep(commitment, 3, punish).is_ok());
  f.chain.mine_block();
  EXPECT_EQ(f.chain.mempool().size(), 0u);
  for (uint32_t index : {0u, 2u, 3u}) {
    EXPECT_TRUE(f.chain.spender(chain::OutPoint{commitment.txid(), index}).has_value()) << index;
  }
  // Only Bob's to-remote output is left, and it is his anyway.
  EXPECT_NE(f.chain.find_utxo(chain::OutPoint{commitment.txid(), 1}), nullptr);
}

TEST(ChannelTx, RevocationNeedsTheRightSecretAndKey) {
  Funded f;
  const chain::Transaction commitment = f.confirm_alice_commitment();
  EXPECT_FALSE(
      f.sweep(
           commitment, 0,
           chain::Witness{
               chain::SpendPath::kRevocation, {f.bob.holder_key}, std::nullopt, secret("alice 6")})
          .is_ok());
  EXPECT_FALSE(f.sweep(commitment, 0,
                       chain::Witness{chain::SpendPath::kRevocation,
                                      {f.alice.holder_key},
                                      std::nullopt,
                                      secret("alice 5")})
                   .is_ok());
}

TEST(ChannelTx, ClosingTransactionPaysBothSidesAndTheFee) {
  Funded f;
  auto ours =
      build_closing_tx(f.alice, AmountMsat(700'000), AmountMsat(300'000), AmountMsat(500), true);
  auto theirs =
      build_closing_tx(f.bob, AmountMsat(300'000), AmountMsat(700'000), AmountMsat(500), false);
  ASSERT_TRUE(ours.is_ok()) << ours.status().to_string();
  EXPECT_EQ(ours->txid(), theirs->txid());
  ASSERT_TRUE(f.chain.broadcast(*ours).is_ok());
  f.chain.mine_block();
  EXPECT_EQ(f.chain.confirmed_fees(), AmountMsat(500));
  EXPECT_FALSE(
      build_closing_tx(f.alice, AmountMsat(100), AmountMsat(999'900), AmountMsat(500), true)
          .is_ok());
}

TEST(ChannelTx, SweepPaysTheEstimatedFeeAndNeverMore) {
  Funded f;
  const chain::Transaction commitment = f.confirm_alice_commitment();
  auto sweep = build_sweep_tx(commitment, 1, sign(chain::SpendPath::kKey, f.bob.holder_key), 0, 0,
                              f.bob.holder_key, kFees);
  ASSERT_TRUE(sweep.is_ok());
  const uint64_t fee = 300'000 - sweep->outputs[0].value.value();
  EXPECT_EQ(fee, 10 * sweep->encode().size());
  const chain::FixedFeeEstimator expensive(AmountMsat(1'000'000));
  auto all_fee = build_sweep_tx(commitment, 1, sign(chain::SpendPath::kKey, f.bob.holder_key), 0, 0,
                                f.bob.holder_key, expensive);
  EXPECT_EQ(all_fee->outputs[0].value, AmountMsat(0));
  EXPECT_FALSE(build_sweep_tx(commitment, 9, sign(chain::SpendPath::kKey, f.bob.holder_key), 0, 0,
                              f.bob.holder_key, kFees)
                   .is_ok());
}

TEST(ChannelTx, ParamsRoundTrip) {
  Funded f;
  auto decoded = decode_tx_params(encode_tx_params(f.alice));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, f.alice);
}

}  // namespace
}  // namespace hashlock::ln
