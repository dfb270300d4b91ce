// The on-chain side of channels and monitors: commitment transactions built
// by both monitors from what the channels told them, checked against a
// simulated chain.
#include <gtest/gtest.h>

#include "chain/simulated_chain.h"
#include "ln/harness.h"
#include "ln/messages.h"

namespace hashlock::ln {
namespace {

constexpr uint64_t kCapacity = 10'000'000;

PaymentPreimage preimage_of(int n) {
  return PaymentPreimage(util::sha256(util::as_bytes("onchain preimage " + std::to_string(n))));
}
PaymentId payment_id_of(int n) {
  return PaymentId(util::sha256(util::as_bytes("onchain payment " + std::to_string(n))));
}

// Two nodes with a channel funded on a simulated chain.
struct FundedPair {
  chain::SimulatedChain chain{5};
  LnHarness harness{2, HarnessOptions{}};
  ChannelId channel;
  chain::OutPoint funding;

  FundedPair() {
    const chain::Txid txid =
        chain
            .deposit({funding_output(node_key(harness.node_id(0)), node_key(harness.node_id(1)),
                                     AmountMsat(kCapacity))})
            .value();
    chain.mine_block();
    funding = chain::OutPoint{txid, 0};
    channel = harness.open_channel(0, 1, AmountMsat(kCapacity), AmountMsat(1'000'000), funding);
  }

  const ChannelMonitor& monitor(size_t node) {
    return *harness.node(node).chain_monitor().get(channel);
  }
};

TEST(OnChain, MonitorsOfBothSidesBuildTheSameCommitments) {
  FundedPair pair;
  // An unclaimed payment leaves an HTLC in both commitments.
  util::Status sent = pair.harness.on_node(0, [&](ChannelManager& m) {
    return m.send_payment(payment_id_of(1), preimage_of(1).payment_hash(), AmountMsat(250'000),
                          pair.channel);
  });
  ASSERT_TRUE(sent.is_ok()) << sent.to_string();
  ASSERT_TRUE(pair.harness.settle());

  for (size_t holder : {0u, 1u}) {
    const ChannelMonitor& own = pair.monitor(holder);
    const ChannelMonitor& other = pair.monitor(1 - holder);
    auto ours = own.holder_commitment_tx();
    ASSERT_TRUE(ours.is_ok()) << ours.status().to_string();
    const std::vector<uint64_t> numbers = other.unrevoked_counterparty_commitments();
    ASSERT_FALSE(numbers.empty());
    auto theirs = other.counterparty_commitment_tx(numbers.back());
    ASSERT_TRUE(theirs.is_ok()) << theirs.status().to_string();
    EXPECT_EQ(ours->txid(), theirs->txid()) << "holder " << holder;
    EXPECT_EQ(commitment_number_of(*ours), own.holder_commitment_number());
    // to-local, to-remote and the HTLC.
    ASSERT_EQ(ours->outputs.size(), 3u);
    const auto& htlc = std::get<chain::HtlcCondition>(ours->outputs[2].condition);
    EXPECT_EQ(htlc.payment_hash, preimage_of(1).payment_hash());
    EXPECT_EQ(ours->outputs[2].value, AmountMsat(250'000));
  }
  // The commitment is valid on chain.
  auto commitment = pair.monitor(0).holder_commitment_tx();
  EXPECT_TRUE(pair.chain.broadcast(*commitment).is_ok());
}

TEST(OnChain, MonitorKeepsItsChainDataAcrossARestart) {
  FundedPair pair;
  const chain::Txid before = pair.monitor(1).holder_commitment_tx()->txid();
  pair.harness.crash(1);
  ASSERT_TRUE(pair.harness.settle());
  auto after = pair.monitor(1).holder_commitment_tx();
  ASSERT_TRUE(after.is_ok()) << after.status().to_string();
  EXPECT_EQ(after->txid(), before);
  ASSERT_TRUE(pair.monitor(1).tx_params().has_value());
  EXPECT_EQ(pair.monitor(1).tx_params()->funding_outpoint, pair.funding);
  EXPECT_EQ(pair.monitor(1).tx_params()->holder_to_self_delay, ChannelConfig{}.to_self_delay);
}

TEST(OnChain, ChannelWithoutFundingHasNoCommitmentTransaction) {
  LnHarness harness(2, HarnessOptions{});
  const ChannelId channel = harness.open_channel(0, 1, AmountMsat(kCapacity));
  const ChannelMonitor* monitor = harness.node(0).chain_monitor().get(channel);
  ASSERT_NE(monitor, nullptr);
  EXPECT_EQ(monitor->holder_commitment_tx().status().code(), util::StatusCode::kFailedPrecondition);
}

TEST(OnChain, RevokedCounterpartyCommitmentIsNoLongerBuilt) {
  FundedPair pair;
  const std::vector<uint64_t> before = pair.monitor(0).unrevoked_counterparty_commitments();
  util::Status sent = pair.harness.on_node(0, [&](ChannelManager& m) {
    return m.send_payment(payment_id_of(2), preimage_of(2).payment_hash(), AmountMsat(1'000),
                          pair.channel);
  });
  ASSERT_TRUE(sent.is_ok());
  ASSERT_TRUE(pair.harness.settle());
  const std::vector<uint64_t> after = pair.monitor(0).unrevoked_counterparty_commitments();
  ASSERT_FALSE(after.empty());
  EXPECT_GT(after.front(), before.back());
  EXPECT_EQ(pair.monitor(0).counterparty_commitment_tx(before.back()).status().code(),
            util::StatusCode::kNotFound);
}

TEST(OnChain, ChainFieldsSurviveTheirEncodings) {
  OpenChannel open{
      .channel_id = ChannelId(util::sha256(util::as_bytes("c"))),
      .capacity = AmountMsat(5),
      .funding_outpoint = chain::OutPoint{chain::Txid(util::sha256(util::as_bytes("f"))), 3},
      .to_self_delay = 77};
  auto decoded = decode_message(encode_message(open));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(std::get<OpenChannel>(*decoded), open);
  AcceptChannel accept{.channel_id = open.channel_id, .to_self_delay = 99};
  EXPECT_EQ(std::get<AcceptChannel>(decode_message(encode_message(accept)).value()), accept);

  ChannelMonitorUpdate update{open.channel_id, 1, {}};
  update.steps.push_back(
      LatestHolderCommitment{.commitment_number = 4,
                             .to_holder = AmountMsat(3),
                             .to_counterparty = AmountMsat(2),
                             .per_commitment_point = util::sha256(util::as_bytes("p"))});
  update.steps.push_back(LatestCounterpartyCommitment{
      5, {}, CommitmentBalances{AmountMsat(2), AmountMsat(3), util::sha256(util::as_bytes("q"))}});
  update.steps.push_back(LatestCounterpartyCommitment{6, {}, std::nullopt});
  auto round_trip = decode_update(encode_update(update));
  ASSERT_TRUE(round_trip.is_ok()) << round_trip.status().to_string();
  EXPECT_EQ(*round_trip, update);
}

}  // namespace
}  // namespace hashlock::ln
