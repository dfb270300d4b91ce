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
  // The funding confirmed before the channel was opened, on a chain the
  // nodes do not watch: usable at once.
  LnHarness harness{2, HarnessOptions{.min_funding_depth = 0}};
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

// --- resolution on chain ------------------------------------------------------

constexpr uint64_t kHtlcAmount = 250'000;

// Node 0 pays node 1 over a funded channel; node 1 holds the HTLC without
// claiming it (no receiver policy), so it stays in both commitments.
struct PendingHtlc {
  LnHarness h{2, HarnessOptions{.seed = 3}};
  ChannelId channel;

  PendingHtlc() {
    channel = h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(1'000'000)).value();
    util::Status sent = h.on_node(0, [&](ChannelManager& m) {
      return m.send_payment(payment_id_of(7), preimage_of(7).payment_hash(),
                            AmountMsat(kHtlcAmount), channel);
    });
    EXPECT_TRUE(sent.is_ok()) << sent.to_string();
    EXPECT_TRUE(h.settle());
    EXPECT_EQ(h.count_events(1, "PaymentClaimable"), 1u);
  }

  const ChannelMonitor& monitor(size_t node) { return *h.node(node).chain_monitor().get(channel); }
  void force_close(size_t node) {
    util::Status closed = h.on_node(node, [&](ChannelManager& m) {
      return m.force_close_channel(channel, "closed by the test");
    });
    ASSERT_TRUE(closed.is_ok()) << closed.to_string();
    ASSERT_TRUE(h.settle());
  }
  // Mines until `done` holds, at most `limit` blocks; false if it never did.
  template <typename Done>
  bool mine_until(Done done, size_t limit = 400) {
    for (size_t i = 0; i < limit; ++i) {
      if (done()) return true;
      h.mine(1);
    }
    return done();
  }
  // What the chain holds for node i's key.
  AmountMsat owned_on_chain(size_t i) { return h.owned_on_chain(i); }
};

TEST(OnChain, HolderForceCloseTimesOutTheOutboundHtlcAfterSixConfirmations) {
  PendingHtlc p;
  p.force_close(0);
  EXPECT_EQ(p.h.count_events(0, "ChannelClosed"), 1u);
  // The commitment is broadcast on the next block and confirms on the one after.
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(0).funding_spent(); }, 3));
  EXPECT_EQ(p.monitor(0).funding_spend_kind(), FundingSpendKind::kHolderCommitment);
  EXPECT_EQ(p.monitor(1).funding_spend_kind(), FundingSpendKind::kCounterpartyCommitment);
  EXPECT_EQ(p.h.count_events(1, "ChannelClosed"), 1u);  // the counterparty learns from the chain

  // Until the timeout transaction is buried, nothing is decided.
  const chain::Transaction commitment = *p.monitor(0).holder_commitment_tx();
  const chain::OutPoint htlc_output{commitment.txid(), 2};
  ASSERT_TRUE(p.mine_until([&] { return p.h.chain().spender(htlc_output).has_value(); }));
  EXPECT_GT(p.h.chain().tip_height().value(), ManagerConfig{}.final_cltv_expiry);
  for (uint32_t block = 1; block < kAntiReorgDelayBlocks; ++block) {
    EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 0u) << "after " << block << " confirmations";
    p.h.mine(1);
  }
  EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_EQ(p.h.count_events(0, "PaymentSent"), 0u);

  // The to-local output is swept after its delay; then everything is settled.
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(0).claimable_balances().empty(); }));
  EXPECT_EQ(p.owned_on_chain(0),
            AmountMsat(kCapacity - 1'000'000).checked_sub(p.h.chain().confirmed_fees()).value());
  EXPECT_EQ(p.owned_on_chain(1), AmountMsat(1'000'000));
  for (const std::string& problem : p.h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(OnChain, PreimageClaimOnChainYieldsPaymentSentAtOnce) {
  PendingHtlc p;
  p.force_close(0);
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(1).funding_spent(); }, 3));
  // The receiver claims now: its monitor takes the HTLC output with the preimage.
  util::Status claimed =
      p.h.on_node(1, [&](ChannelManager& m) { return m.claim_funds(preimage_of(7)); });
  ASSERT_TRUE(claimed.is_ok()) << claimed.to_string();
  ASSERT_TRUE(p.h.settle());
  const chain::Transaction commitment = *p.monitor(0).holder_commitment_tx();
  const chain::OutPoint htlc_output{commitment.txid(), 2};
  ASSERT_TRUE(p.mine_until([&] { return p.h.chain().spender(htlc_output).has_value(); }, 3));
  // One confirmation is enough for a claim: the preimage is known.
  EXPECT_EQ(p.h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 0u);
  p.h.mine(ManagerConfig{}.final_cltv_expiry + 10);
  EXPECT_EQ(p.h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 0u);
  EXPECT_EQ(p.owned_on_chain(1).value() + 3'000 > 1'000'000 + kHtlcAmount, true);
  for (const std::string& problem : p.h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(OnChain, ClaimsAndForceCloseInOneRoundGiveTheMonitorThePreimagesFirst) {
  PendingHtlc p;
  util::Status sent = p.h.on_node(0, [&](ChannelManager& m) {
    return m.send_payment(payment_id_of(8), preimage_of(8).payment_hash(),
                          AmountMsat(kHtlcAmount), p.channel);
  });
  ASSERT_TRUE(sent.is_ok()) << sent.to_string();
  ASSERT_TRUE(p.h.settle());
  ASSERT_EQ(p.h.count_events(1, "PaymentClaimable"), 2u);
  // The first claim's update goes out with a commitment; the second claim,
  // made while that is in flight, is a preimage alone: it waits for the
  // round to commit, or for the next update of the channel, here the close.
  util::Status closed = p.h.on_node(1, [&](ChannelManager& m) {
    m.begin_round();
    util::Status status = m.claim_funds(preimage_of(7));
    if (status.is_ok()) status = m.claim_funds(preimage_of(8));
    if (status.is_ok()) status = m.force_close_channel(p.channel, "closed by the test");
    util::Status ended = m.end_round();
    return status.is_ok() ? ended : status;
  });
  ASSERT_TRUE(closed.is_ok()) << closed.to_string();
  ASSERT_TRUE(p.h.node(1).manager().fatal_error().is_ok())
      << p.h.node(1).manager().fatal_error().to_string();
  for (int n : {7, 8}) {
    EXPECT_TRUE(p.monitor(1).preimage_for(preimage_of(n).payment_hash()).has_value()) << n;
  }
  ASSERT_TRUE(p.h.settle());
  // The receiver's commitment confirms and its monitor takes both HTLCs with the preimages.
  ASSERT_TRUE(p.mine_until([&] { return p.h.count_events(0, "PaymentSent") == 2; }));
  EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 0u);
}

TEST(OnChain, ReorgAfterAnOnChainClaimGivesNoSecondEvent) {
  PendingHtlc p;
  p.force_close(0);
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(1).funding_spent(); }, 3));
  ASSERT_TRUE(
      p.h.on_node(1, [&](ChannelManager& m) { return m.claim_funds(preimage_of(7)); }).is_ok());
  ASSERT_TRUE(p.mine_until([&] { return p.h.count_events(0, "PaymentSent") == 1; }, 3));
  for (size_t depth : {1u, 2u, 3u}) {
    ASSERT_TRUE(p.h.chain().reorg(depth).is_ok());
    ASSERT_TRUE(p.h.settle());
    p.h.mine(2);
  }
  p.h.mine(ManagerConfig{}.final_cltv_expiry + 10);
  EXPECT_EQ(p.h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 0u);
  EXPECT_EQ(p.h.duplicate_deliveries(), 0u);
  for (const std::string& problem : p.h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(OnChain, RestartReplaysTheChainWithoutDuplicateEvents) {
  PendingHtlc p;
  p.force_close(0);
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(0).funding_spent(); }, 3));
  p.h.crash(0);
  p.h.crash(1);
  ASSERT_TRUE(p.h.settle());
  EXPECT_TRUE(p.monitor(0).funding_spent());  // rebuilt from the chain
  ASSERT_TRUE(p.mine_until([&] { return p.h.count_events(0, "PaymentFailed") == 1; }));
  p.h.crash(0);
  ASSERT_TRUE(p.h.settle());
  p.h.mine(10);
  EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_EQ(p.h.count_events(0, "ChannelClosed"), 1u);
  for (const std::string& problem : p.h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(OnChain, RevokedCommitmentIsPunished) {
  PendingHtlc p;
  // Node 0 keeps its current commitment, which the fail below revokes.
  const chain::Transaction old = *p.monitor(0).holder_commitment_tx();
  ASSERT_TRUE(p.h.on_node(1,
                          [&](ChannelManager& m) {
                            return m.fail_htlc_backwards(preimage_of(7).payment_hash());
                          })
                  .is_ok());
  ASSERT_TRUE(p.h.settle());
  ASSERT_EQ(p.h.count_events(0, "PaymentFailed"), 1u);
  ASSERT_NE(p.monitor(0).holder_commitment_tx()->txid(), old.txid());
  // Node 0 cheats with the revoked commitment.
  ASSERT_TRUE(p.h.chain().broadcast(old).is_ok());
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(1).funding_spent(); }, 2));
  EXPECT_EQ(p.monitor(1).funding_spend_kind(), FundingSpendKind::kRevokedCommitment);
  // The cheater's own monitor knows the commitment as its own revoked one and
  // claims nothing from it.
  EXPECT_EQ(p.monitor(0).funding_spend_kind(), FundingSpendKind::kRevokedHolderCommitment);
  EXPECT_TRUE(p.monitor(0).claimable_balances().empty());
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(1).claimable_balances().empty(); }, 20));
  EXPECT_EQ(p.monitor(1).punishments_broadcast(), 2u);  // to-local and the HTLC
  // Node 1 owns the whole channel, less the fees of its punishments.
  EXPECT_EQ(p.owned_on_chain(1),
            AmountMsat(kCapacity).checked_sub(p.h.chain().confirmed_fees()).value());
  EXPECT_EQ(p.owned_on_chain(0), AmountMsat(0));
  EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 1u);
  for (const std::string& problem : p.h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(OnChain, ChannelClosedWhileAFulfillIsInFlightIsClaimedOnChain) {
  PendingHtlc p;
  p.h.disconnect(0, 1);
  // The receiver claims, but the fulfill cannot leave; then it force-closes.
  ASSERT_TRUE(
      p.h.on_node(1, [&](ChannelManager& m) { return m.claim_funds(preimage_of(7)); }).is_ok());
  p.force_close(1);
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(0).funding_spent(); }, 3));
  EXPECT_EQ(p.monitor(0).funding_spend_kind(), FundingSpendKind::kCounterpartyCommitment);
  ASSERT_TRUE(p.mine_until([&] { return p.h.count_events(0, "PaymentSent") == 1; }, 3));
  p.h.mine(ManagerConfig{}.final_cltv_expiry + ChannelConfig{}.to_self_delay);
  EXPECT_EQ(p.h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(p.h.count_events(0, "PaymentFailed"), 0u);
  EXPECT_EQ(p.h.count_events(1, "PaymentClaimed"), 1u);
  EXPECT_TRUE(p.monitor(1).claimable_balances().empty());
  AmountMsat total = p.owned_on_chain(0).checked_add(p.owned_on_chain(1)).value();
  EXPECT_EQ(total.checked_add(p.h.chain().confirmed_fees()).value(), AmountMsat(kCapacity));
  EXPECT_GE(p.owned_on_chain(1), AmountMsat(1'000'000));
  for (const std::string& problem : p.h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(OnChain, ForwardWhoseInboundChannelClosedIsClaimedOnChainAndAckedOnce) {
  LnHarness h(3, HarnessOptions{.seed = 4});
  const ChannelId ab =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(1'000'000)).value();
  const ChannelId bc =
      h.open_funded_channel(1, 2, AmountMsat(kCapacity), AmountMsat(1'000'000)).value();
  util::Status sent = h.on_node(0, [&](ChannelManager& m) {
    return m.send_payment_route(payment_id_of(9), preimage_of(9).payment_hash(),
                                AmountMsat(kHtlcAmount),
                                {RouteHop{ab, FeePolicy{}}, RouteHop{bc, FeePolicy{}}});
  });
  ASSERT_TRUE(sent.is_ok()) << sent.to_string();
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(2, "PaymentClaimable"), 1u);
  // The sender closes the inbound channel of the forwarder.
  ASSERT_TRUE(
      h.on_node(0, [&](ChannelManager& m) { return m.force_close_channel(ab, "test"); }).is_ok());
  ASSERT_TRUE(h.settle());
  const ChannelMonitor& forwarder_in = *h.node(1).chain_monitor().get(ab);
  for (int i = 0; i < 3 && !forwarder_in.funding_spent(); ++i) h.mine(1);
  ASSERT_TRUE(forwarder_in.funding_spent());
  // The receiver claims: the forwarder learns the preimage off-chain and takes
  // its inbound HTLC on chain.
  ASSERT_TRUE(
      h.on_node(2, [&](ChannelManager& m) { return m.claim_funds(preimage_of(9)); }).is_ok());
  ASSERT_TRUE(h.settle());
  for (int i = 0; i < 4 && h.count_events(0, "PaymentSent") == 0; ++i) h.mine(1);
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  h.mine(ManagerConfig{}.final_cltv_expiry + 2 * FeePolicy{}.cltv_expiry_delta +
         ChannelConfig{}.to_self_delay);
  EXPECT_EQ(h.count_events(1, "PaymentForwarded"), 1u);
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 0u);
  EXPECT_TRUE(forwarder_in.claimable_balances().empty());
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(OnChain, ClaimableBalancesFollowTheClose) {
  PendingHtlc p;
  std::vector<ClaimableBalance> open = p.monitor(0).claimable_balances();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].kind, BalanceKind::kOnChannelClose);
  EXPECT_EQ(open[0].amount, AmountMsat(kCapacity - 1'000'000 - kHtlcAmount));
  p.force_close(0);
  ASSERT_TRUE(p.mine_until([&] { return p.monitor(0).funding_spent(); }, 3));
  std::vector<ClaimableBalance> closed = p.monitor(0).claimable_balances();
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].kind, BalanceKind::kAwaitingConfirmations);  // to-local, delayed
  EXPECT_EQ(closed[0].height, p.h.chain().tip_height().value() + ChannelConfig{}.to_self_delay);
  EXPECT_EQ(closed[1].kind, BalanceKind::kMaybeTimeoutClaimable);
  EXPECT_EQ(closed[1].amount, AmountMsat(kHtlcAmount));
  // The counterparty's view: its to-remote output is waiting for confirmations.
  std::vector<ClaimableBalance> theirs = p.monitor(1).claimable_balances();
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0].amount, AmountMsat(1'000'000));
}

}  // namespace
}  // namespace hashlock::ln
