// How channels start and end on chain: the funding depth, the cooperative
// close, force closes on unrecoverable peer errors and on HTLC expiries,
// and forwards failed back upstream in time. Every test runs in the four
// modes (monitor events persistent or legacy, persistence sync or async).
#include <gtest/gtest.h>

#include "ln/harness.h"
#include "ln/messages.h"
#include "ln/test_modes.h"

namespace hashlock::ln {
namespace {

using test_modes::Mode;

constexpr uint64_t kCapacity = 10'000'000;
constexpr uint64_t kPush = 1'000'000;
constexpr uint64_t kAmount = 250'000;

PaymentPreimage preimage_of(int n) { return test_modes::preimage_for("closing ", n); }
PaymentId payment_id_of(int n) { return test_modes::payment_id_for("closing ", n); }

class Closing : public ::testing::TestWithParam<Mode> {
 protected:
  HarnessOptions options(uint64_t seed) const {
    return HarnessOptions{.persistent_monitor_events = GetParam().persistent,
                          .async_persistence = GetParam().async,
                          .seed = seed};
  }
  static util::Status pay(LnHarness& h, int n, const ChannelId& channel) {
    return h.on_node(0, [&](ChannelManager& m) {
      return m.send_payment(payment_id_of(n), preimage_of(n).payment_hash(), AmountMsat(kAmount),
                            channel);
    });
  }
  static AmountMsat owned_on_chain(const LnHarness& h, size_t i) { return h.owned_on_chain(i); }
  static const ChannelMonitor& monitor(LnHarness& h, size_t node, const ChannelId& channel) {
    return *h.node(node).chain_monitor().get(channel);
  }
  static std::string close_reason(LnHarness& h, size_t node) {
    for (const Event& e : h.events(node)) {
      if (const auto* closed = std::get_if<ChannelClosed>(&e)) return closed->reason;
    }
    return "";
  }
};

// --- funding depth ------------------------------------------------------------------

TEST_P(Closing, ChannelCarriesHtlcsOnlyOnceTheFundingIsDeepEnough) {
  LnHarness h(2, options(11));
  chain::Transaction funding;
  funding.outputs.push_back(
      funding_output(node_key(h.node_id(0)), node_key(h.node_id(1)), AmountMsat(kCapacity)));
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush),
                                           chain::OutPoint{funding.txid(), 0});
  util::Status early = pay(h, 1, channel);
  EXPECT_EQ(early.code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(early.message().find("not ready"), std::string::npos) << early.to_string();

  ASSERT_TRUE(h.chain().deposit_transaction(funding).is_ok());
  const uint32_t depth = ManagerConfig{}.min_funding_depth;
  for (uint32_t block = 1; block < depth; ++block) {
    h.mine(1);
    EXPECT_FALSE(h.node(0).manager().channel(channel)->ready()) << block << " confirmations";
  }
  // A restart of the acceptor just before the last block: channel_ready is
  // sent again after the reconnection.
  h.crash(1);
  h.mine(1);
  ASSERT_TRUE(h.settle());
  for (size_t node : {0u, 1u}) EXPECT_TRUE(h.node(node).manager().channel(channel)->ready());

  h.expect_payment(preimage_of(2), true);
  ASSERT_TRUE(pay(h, 2, channel).is_ok());
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(Funding, PeerMayNotAddAnHtlcBeforeChannelReady) {
  const ChannelId id(util::sha256(util::as_bytes("funding channel")));
  const chain::OutPoint funding{chain::Txid(util::sha256(util::as_bytes("funding tx"))), 0};
  auto [opener, open] = Channel::open(id, NodeId(2), AmountMsat(kCapacity), AmountMsat(kPush),
                                      ChannelConfig{}, util::sha256(util::as_bytes("a")), funding);
  auto accepted = Channel::accept(open, NodeId(1), ChannelConfig{}, util::sha256(util::as_bytes("b")));
  ASSERT_TRUE(accepted.is_ok());
  Channel& acceptor = accepted->first;
  const UpdateAddHtlc add{id, HtlcId(0), AmountMsat(kAmount), preimage_of(1).payment_hash(), 500, {}};
  auto early = acceptor.on_update_add(add);
  EXPECT_EQ(early.status().code(), util::StatusCode::kProtocolError);
  EXPECT_NE(early.status().message().find("before channel_ready"), std::string::npos);
  // Only our own channel_ready is not enough.
  (void)acceptor.mark_funding_confirmed();
  EXPECT_FALSE(acceptor.on_update_add(add).is_ok());
  ASSERT_TRUE(acceptor.on_channel_ready(ChannelReady{id}).is_ok());
  EXPECT_TRUE(acceptor.ready());
  EXPECT_TRUE(acceptor.on_update_add(add).is_ok());
  // channel_ready on a channel without a funding output is refused.
  auto [plain, plain_open] = Channel::open(id, NodeId(2), AmountMsat(kCapacity), AmountMsat(kPush),
                                           ChannelConfig{}, util::sha256(util::as_bytes("c")));
  (void)plain_open;
  EXPECT_TRUE(plain.ready());
  EXPECT_EQ(plain.on_channel_ready(ChannelReady{id}).code(), util::StatusCode::kProtocolError);
}

// --- cooperative close ----------------------------------------------------------------

TEST_P(Closing, CooperativeCloseWaitsForPendingHtlcsThenSettlesOnChain) {
  LnHarness h(2, options(12));
  const ChannelId channel =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  ASSERT_TRUE(pay(h, 1, channel).is_ok());  // held by the receiver: no policy yet
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(1, "PaymentClaimable"), 1u);

  ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) { return m.close_channel(channel); }).is_ok());
  ASSERT_TRUE(h.settle());
  for (size_t node : {0u, 1u}) {
    const Channel& c = *h.node(node).manager().channel(channel);
    EXPECT_TRUE(c.is_open()) << "an HTLC is pending: node " << node;
    EXPECT_TRUE(c.shutting_down());
  }
  util::Status refused = pay(h, 2, channel);
  EXPECT_EQ(refused.code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("shutting down"), std::string::npos);

  // The HTLC settles; then the closing transaction is agreed and broadcast.
  ASSERT_TRUE(h.on_node(1, [&](ChannelManager& m) { return m.claim_funds(preimage_of(1)); })
                  .is_ok());
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  for (size_t node : {0u, 1u}) {
    EXPECT_EQ(h.node(node).manager().channel(channel)->phase(), ChannelPhase::kClosed);
    EXPECT_EQ(h.count_events(node, "ChannelClosed"), 1u);
    EXPECT_EQ(close_reason(h, node), "cooperative close");
    EXPECT_EQ(h.node(node).manager().stats().cooperative_closes, 1u);
  }
  h.mine(1);
  for (size_t node : {0u, 1u}) {
    EXPECT_EQ(monitor(h, node, channel).funding_spend_kind(), FundingSpendKind::kCooperativeClose);
  }
  h.mine(kAntiReorgDelayBlocks);  // each side's output is buried
  for (size_t node : {0u, 1u}) EXPECT_TRUE(monitor(h, node, channel).claimable_balances().empty());
  const AmountMsat fee = ChannelConfig{}.closing_fee;
  EXPECT_EQ(owned_on_chain(h, 0), AmountMsat(kCapacity - kPush - kAmount - fee.value()));
  EXPECT_EQ(owned_on_chain(h, 1), AmountMsat(kPush + kAmount));
  EXPECT_EQ(h.chain().confirmed_fees(), fee);
  // Later blocks change nothing.
  h.mine(5);
  for (size_t node : {0u, 1u}) EXPECT_EQ(h.count_events(node, "ChannelClosed"), 1u);
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST_P(Closing, CooperativeCloseSurvivesACrashAtEveryStep) {
  for (size_t crash_after = 0; crash_after < 12; ++crash_after) {
    SCOPED_TRACE("crash after step " + std::to_string(crash_after));
    LnHarness h(2, options(100 + crash_after));
    const ChannelId channel =
        h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
    // The acceptor asks: the opener still proposes the fee.
    ASSERT_TRUE(
        h.on_node(1, [&](ChannelManager& m) { return m.close_channel(channel); }).is_ok());
    for (size_t step = 0; step < crash_after; ++step) h.step();
    h.crash(crash_after % 2);
    ASSERT_TRUE(h.settle());
    h.mine(1);
    for (size_t node : {0u, 1u}) {
      EXPECT_EQ(h.node(node).manager().channel(channel)->phase(), ChannelPhase::kClosed);
      EXPECT_EQ(h.count_events(node, "ChannelClosed"), 1u) << "node " << node;
      EXPECT_EQ(monitor(h, node, channel).funding_spend_kind(),
                FundingSpendKind::kCooperativeClose);
    }
    EXPECT_EQ(owned_on_chain(h, 1), AmountMsat(kPush));
    EXPECT_EQ(h.duplicate_deliveries(), 0u);
    for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
  }
}

TEST_P(Closing, CooperativeCloseWithoutAFundingOutputEndsOffChain) {
  LnHarness h(2, options(13));
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush));
  ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) { return m.close_channel(channel); }).is_ok());
  ASSERT_TRUE(h.settle());
  for (size_t node : {0u, 1u}) {
    EXPECT_EQ(h.node(node).manager().channel(channel)->phase(), ChannelPhase::kClosed);
    EXPECT_EQ(h.count_events(node, "ChannelClosed"), 1u);
  }
  EXPECT_EQ(h.node(0).manager().channel(channel)->closing_fee(), ChannelConfig{}.closing_fee);
}

TEST_P(Closing, BadCloseRequestsAreRefusedClearly) {
  LnHarness h(2, options(14));
  const ChannelId channel =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  const ChannelId unknown(util::sha256(util::as_bytes("no such channel")));
  util::Status missing =
      h.on_node(0, [&](ChannelManager& m) { return m.close_channel(unknown); });
  EXPECT_EQ(missing.code(), util::StatusCode::kNotFound);

  // A closing_signed before any shutdown is refused.
  util::Status early = h.on_node(1, [&](ChannelManager& m) {
    return m.handle_message(h.node_id(0),
                            encode_message(ClosingSigned{channel, AmountMsat(1000), {}}));
  });
  EXPECT_EQ(early.code(), util::StatusCode::kProtocolError);
  EXPECT_NE(early.message().find("before both shutdowns"), std::string::npos);

  ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) { return m.close_channel(channel); }).is_ok());
  ASSERT_TRUE(h.settle());
  util::Status again = h.on_node(0, [&](ChannelManager& m) { return m.close_channel(channel); });
  EXPECT_EQ(again.code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("not open"), std::string::npos);
}

TEST_P(Closing, AcceptorRefusesAClosingFeeAboveItsMaximum) {
  LnHarness h(2, options(15));
  const ChannelId channel =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  h.disconnect(0, 1);
  // Both sides have said shutdown (delivered by hand, the link being down).
  ASSERT_TRUE(h.on_node(1, [&](ChannelManager& m) {
                 return m.handle_message(h.node_id(0), encode_message(Shutdown{channel}));
               }).is_ok());
  const AmountMsat too_much = ChannelConfig{}.max_closing_fee.checked_add(AmountMsat(1)).value();
  util::Status refused = h.on_node(1, [&](ChannelManager& m) {
    return m.handle_message(h.node_id(0),
                            encode_message(ClosingSigned{channel, too_much, {}}));
  });
  EXPECT_EQ(refused.code(), util::StatusCode::kProtocolError);
  EXPECT_TRUE(h.node(1).manager().channel(channel)->is_open());
}

// --- unrecoverable peer errors ---------------------------------------------------------

TEST_P(Closing, PeerErrorForceClosesTheChannelAndTheChainSettlesIt) {
  LnHarness h(2, options(16));
  const ChannelId channel =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  ASSERT_TRUE(pay(h, 1, channel).is_ok());
  ASSERT_TRUE(h.settle());
  util::Status handled = h.on_node(0, [&](ChannelManager& m) {
    return m.handle_message(h.node_id(1),
                            encode_message(ErrorMessage{channel, "internal error"}));
  });
  EXPECT_TRUE(handled.is_ok()) << handled.to_string();
  EXPECT_EQ(h.node(0).manager().channel(channel)->phase(), ChannelPhase::kClosed);
  EXPECT_EQ(h.node(0).manager().stats().peer_error_force_closes, 1u);
  // Our commitment goes on chain; the held HTLC times out there.
  for (int i = 0; i < 400 && h.count_events(0, "PaymentFailed") == 0; ++i) h.mine(1);
  EXPECT_NE(close_reason(h, 0).find("internal error"), std::string::npos) << close_reason(h, 0);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_EQ(monitor(h, 0, channel).funding_spend_kind(), FundingSpendKind::kHolderCommitment);
  EXPECT_EQ(h.count_events(1, "ChannelClosed"), 1u);
  // An error for a channel the sender does not hold changes nothing.
  util::Status stray = h.on_node(0, [&](ChannelManager& m) {
    return m.handle_message(h.node_id(1), encode_message(ErrorMessage{
                                              ChannelId(util::sha256(util::as_bytes("x"))), "?"}));
  });
  EXPECT_EQ(stray.code(), util::StatusCode::kProtocolError);
}

// --- HTLC expiries ---------------------------------------------------------------

TEST_P(Closing, OutboundHtlcUnresolvedPastItsExpiryClosesTheChannel) {
  LnHarness h(2, options(17));
  const ChannelId channel =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  const uint64_t sent_at = h.chain().tip_height().value();
  ASSERT_TRUE(pay(h, 1, channel).is_ok());  // the receiver never decides
  ASSERT_TRUE(h.settle());
  // Nor does its fail-back near the expiry reach us: the peer is gone.
  h.disconnect(0, 1);
  const uint64_t expiry = sent_at + ManagerConfig{}.final_cltv_expiry;
  while (h.chain().tip_height().value() < expiry + kHtlcExpiryGraceBlocks - 1) h.mine(1);
  EXPECT_TRUE(h.node(0).manager().channel(channel)->is_open());
  h.mine(1);
  EXPECT_EQ(h.node(0).manager().channel(channel)->phase(), ChannelPhase::kClosed);
  EXPECT_EQ(h.node(0).manager().stats().expiry_force_closes, 1u);
  EXPECT_NE(close_reason(h, 0).find("expired at height " + std::to_string(expiry)),
            std::string::npos)
      << close_reason(h, 0);
  for (int i = 0; i < 40 && h.count_events(0, "PaymentFailed") == 0; ++i) h.mine(1);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  h.mine(ChannelConfig{}.to_self_delay + kAntiReorgDelayBlocks);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 0u);
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST_P(Closing, ClaimTheOfflinePeerNeverAcknowledgedGoesOnChainBeforeExpiry) {
  LnHarness h(2, options(18));
  const ChannelId channel =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  const uint64_t sent_at = h.chain().tip_height().value();
  ASSERT_TRUE(pay(h, 1, channel).is_ok());
  ASSERT_TRUE(h.settle());
  h.disconnect(0, 1);
  ASSERT_TRUE(h.on_node(1, [&](ChannelManager& m) { return m.claim_funds(preimage_of(1)); })
                  .is_ok());
  ASSERT_TRUE(h.settle());
  const uint64_t expiry = sent_at + ManagerConfig{}.final_cltv_expiry;
  while (h.chain().tip_height().value() + kClaimBufferBlocks < expiry - 1) h.mine(1);
  EXPECT_TRUE(h.node(1).manager().channel(channel)->is_open());
  h.mine(1);
  EXPECT_EQ(h.node(1).manager().channel(channel)->phase(), ChannelPhase::kClosed);
  EXPECT_EQ(h.node(1).manager().stats().expiry_force_closes, 1u);
  // The receiver's monitor claims with the preimage; the sender learns it
  // from the chain.
  for (int i = 0; i < 10 && h.count_events(0, "PaymentSent") == 0; ++i) h.mine(1);
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(h.count_events(1, "PaymentClaimed"), 1u);
  h.mine(ManagerConfig{}.final_cltv_expiry + ChannelConfig{}.to_self_delay);
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 0u);
  EXPECT_GE(owned_on_chain(h, 1).value() + 10'000, kPush + kAmount);
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

// A receiver that claims this late might not settle the HTLC, off chain or
// on it, before the sender can time it out: it fails the payment back.
TEST_P(Closing, UnclaimedPaymentNearItsExpiryIsFailedBackAndNoLongerClaimable) {
  LnHarness h(2, options(21));
  const ChannelId channel =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  const uint64_t expiry = h.chain().tip_height().value() + ManagerConfig{}.final_cltv_expiry;
  ASSERT_TRUE(pay(h, 1, channel).is_ok());  // the receiver holds it
  ASSERT_TRUE(h.settle());
  while (h.chain().tip_height().value() + kLastClaimBlocks < expiry - 1) h.mine(1);
  EXPECT_EQ(h.node(1).manager().stats().claimables_failed_near_expiry, 0u);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 0u);
  h.mine(1);
  EXPECT_EQ(h.node(1).manager().stats().claimables_failed_near_expiry, 1u);
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  // Failed and gone: nothing is left to claim.
  const util::Status late =
      h.on_node(1, [&](ChannelManager& m) { return m.claim_funds(preimage_of(1)); });
  EXPECT_EQ(late.code(), util::StatusCode::kNotFound) << late.to_string();
  EXPECT_EQ(h.count_events(1, "PaymentClaimed"), 0u);
  EXPECT_TRUE(h.node(1).manager().channel(channel)->is_open());
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

// The same deadline holds for a claim the receiver asks for itself while it
// has not heard the block that crosses it.
TEST_P(Closing, ClaimInsideTheLastClaimBlocksIsRefusedAndFailsThePaymentBack) {
  HarnessOptions o = options(22);
  LnHarness h(2, o);
  const ChannelId channel =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  const uint64_t expiry = h.chain().tip_height().value() + ManagerConfig{}.final_cltv_expiry;
  ASSERT_TRUE(pay(h, 1, channel).is_ok());
  ASSERT_TRUE(h.settle());
  // Blocks reach the monitors at once; the manager acts on them when it next
  // processes events, so a claim can come first.
  while (h.chain().tip_height().value() + kLastClaimBlocks < expiry)
    h.chain().mine_block();
  const util::Status late =
      h.on_node(1, [&](ChannelManager& m) { return m.claim_funds(preimage_of(1)); });
  EXPECT_EQ(late.code(), util::StatusCode::kFailedPrecondition) << late.to_string();
  EXPECT_NE(late.message().find("too close"), std::string::npos) << late.to_string();
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_EQ(h.count_events(1, "PaymentClaimed"), 0u);
  EXPECT_TRUE(h.node(0).manager().channel(channel)->is_open());
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST_P(Closing, ForwardIsFailedBackUpstreamOnceBeforeItsInboundExpiry) {
  // The forwarder asks only 10 blocks between its HTLCs: its outbound HTLC
  // is still waiting on chain when the inbound one nears expiry.
  HarnessOptions o = options(19);
  o.cltv_expiry_delta = 10;
  LnHarness h(3, o);
  const ChannelId ab =
      h.open_funded_channel(0, 1, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  const ChannelId bc =
      h.open_funded_channel(1, 2, AmountMsat(kCapacity), AmountMsat(kPush)).value();
  const FeePolicy hop{.cltv_expiry_delta = 10};
  const uint64_t sent_at = h.chain().tip_height().value();
  ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) {
                 return m.send_payment_route(payment_id_of(3), preimage_of(3).payment_hash(),
                                             AmountMsat(kAmount),
                                             {RouteHop{ab, hop}, RouteHop{bc, hop}});
               }).is_ok());
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(2, "PaymentClaimable"), 1u);
  h.disconnect(1, 2);  // the receiver goes silent

  const uint64_t inbound_expiry = sent_at + ManagerConfig{}.final_cltv_expiry + 10;
  while (h.count_events(0, "PaymentFailed") == 0 &&
         h.chain().tip_height().value() < inbound_expiry) {
    h.mine(1);
  }
  // Failed back off-chain, before the sender had to close: once.
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_LE(h.chain().tip_height().value(), inbound_expiry - kFailBackBufferBlocks);
  EXPECT_TRUE(h.node(0).manager().channel(ab)->is_open());
  EXPECT_EQ(h.node(1).manager().channel(bc)->phase(), ChannelPhase::kClosed);
  EXPECT_EQ(h.node(1).manager().stats().failed_back_near_expiry, 1u);
  // The outbound HTLC times out on chain later: no second failure.
  h.mine(ManagerConfig{}.final_cltv_expiry + ChannelConfig{}.to_self_delay);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_EQ(h.count_events(1, "HTLCHandlingFailed"), 1u);
  EXPECT_EQ(h.count_events(1, "PaymentForwarded"), 0u);
  EXPECT_EQ(h.node(1).manager().stats().failed_back_near_expiry, 1u);
  EXPECT_TRUE(monitor(h, 1, bc).claimable_balances().empty());
  h.reconnect(1, 2);
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

INSTANTIATE_TEST_SUITE_P(Modes, Closing,
                         ::testing::Values(Mode{true, false}, Mode{true, true},
                                           Mode{false, false}, Mode{false, true}),
                         test_modes::mode_name);

}  // namespace
}  // namespace hashlock::ln
