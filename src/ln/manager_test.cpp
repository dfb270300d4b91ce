// Two-node functional tests of off-chain HTLC resolution through persistent
// monitor events. Every test runs in both modes (persistent monitor events
// and legacy) and with both persister kinds (synchronous and asynchronous).
#include "ln/manager.h"

#include <gtest/gtest.h>

#include "ln/harness.h"
#include "ln/manager_store.h"
#include "ln/test_modes.h"

namespace hashlock::ln {
namespace {

using test_modes::Mode;
using test_modes::mode_name;
PaymentPreimage preimage_of(int n) {
  return test_modes::preimage_for("", n);
}
PaymentId payment_id_of(int n) {
  return test_modes::payment_id_for("", n);
}

constexpr uint64_t kCapacity = 100'000'000;

// Node 0 pays node 1 payment n over `channel`; node 1 claims it, and node
// 0's user answers every event with kReplay, so the claim event stays un-acked.
void pay_and_leave_unhandled(LnHarness& h, const ChannelId& channel, int n, uint64_t amount) {
  h.expect_payment(preimage_of(n), true);
  ASSERT_TRUE(h.node(0)
                  .manager()
                  .send_payment(payment_id_of(n), preimage_of(n).payment_hash(), AmountMsat(amount),
                                channel)
                  .is_ok());
  h.replay_next(0, 1'000'000);  // the user never handles anything
  for (int i = 0; i < 200; ++i) h.step();
}

class TwoNodes : public ::testing::TestWithParam<Mode> {
 protected:
  HarnessOptions options(uint64_t seed = 1) const {
    return HarnessOptions{.persistent_monitor_events = GetParam().persistent,
                          .async_persistence = GetParam().async,
                          .seed = seed};
  }

  // Opens A->B and sends payment `n` of `amount`; the receiver claims or fails.
  static ChannelId start_payment(LnHarness& h, int n, uint64_t amount, bool claim) {
    const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
    h.expect_payment(preimage_of(n), claim);
    util::Status sent = h.on_node(0, [&](ChannelManager& m) {
      return m.send_payment(payment_id_of(n), preimage_of(n).payment_hash(), AmountMsat(amount),
                            channel);
    });
    EXPECT_TRUE(sent.is_ok()) << sent.to_string();
    return channel;
  }

  static void expect_quiescent(const LnHarness& h) {
    for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
  }
};

TEST_P(TwoNodes, PaymentSucceedsWithExactlyOnePaymentSent) {
  LnHarness h(2, options());
  const ChannelId channel = start_payment(h, 1, 250'000, true);
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(0, "PaymentSent"), 1u);
  const auto& sent = std::get<PaymentSent>(h.events(0).back());
  EXPECT_EQ(sent.payment_id, payment_id_of(1));
  EXPECT_EQ(sent.preimage, preimage_of(1));
  EXPECT_EQ(sent.amount, AmountMsat(250'000));
  EXPECT_EQ(sent.fee_paid, AmountMsat(0));
  EXPECT_EQ(h.count_events(1, "PaymentClaimable"), 1u);
  EXPECT_EQ(h.count_events(1, "PaymentClaimed"), 1u);
  EXPECT_EQ(h.node(0).manager().channel(channel)->local_state().to_us,
            AmountMsat(kCapacity - 250'000));
  EXPECT_EQ(h.node(1).manager().channel(channel)->local_state().to_us, AmountMsat(250'000));
  expect_quiescent(h);
}

TEST_P(TwoNodes, ReceiverFailsAndTheReasonReachesTheSender) {
  LnHarness h(2, options());
  start_payment(h, 2, 1000, false);
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 0u);
  const auto& failed = std::get<PaymentFailed>(h.events(0).back());
  EXPECT_EQ(failed.reason.code, FailureCode::kIncorrectPaymentDetails);
  expect_quiescent(h);
}

TEST_P(TwoNodes, ManyPaymentsInFlightAllResolveOnce) {
  LnHarness h(2, options(7));
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  for (int n = 0; n < 40; ++n) {
    h.expect_payment(preimage_of(100 + n), n % 5 != 0);
    ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) {
                   return m.send_payment(payment_id_of(100 + n),
                                         preimage_of(100 + n).payment_hash(), AmountMsat(1000 + n),
                                         channel);
                 }).is_ok());
    if (n % 3 == 0) h.step();
  }
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 32u);
  EXPECT_EQ(h.count_events(0, "PaymentFailed"), 8u);
  expect_quiescent(h);
}

TEST_P(TwoNodes, SendingTheSamePaymentIdTwiceIsRefused) {
  LnHarness h(2, options());
  const ChannelId channel = start_payment(h, 3, 1000, true);
  util::Status again = h.node(0).manager().send_payment(
      payment_id_of(3), preimage_of(3).payment_hash(), AmountMsat(1000), channel);
  EXPECT_EQ(again.code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("pending"), std::string::npos);
  ASSERT_TRUE(h.settle());
  again = h.node(0).manager().send_payment(payment_id_of(3), preimage_of(3).payment_hash(),
                                           AmountMsat(1000), channel);
  EXPECT_NE(again.message().find("already succeeded"), std::string::npos);
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
}

TEST_P(TwoNodes, HandlerReturningReplayGetsTheEventAgain) {
  LnHarness h(2, options());
  start_payment(h, 4, 1000, true);
  h.replay_next(0, 3);
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  EXPECT_GE(h.node(0).manager().stats().user_events_delivered, 4u);
  expect_quiescent(h);
}

// The sender's store goes down at its n-th persistence operation, for every
// n of a whole payment round trip: the payment still ends in exactly one
// PaymentSent and nothing stays pending.
TEST_P(TwoNodes, SenderRestartsAtEveryPersistencePoint) {
  uint64_t operations = 0;
  {
    LnHarness clean(2, options());
    const ChannelId channel = clean.open_channel(0, 1, AmountMsat(kCapacity));
    const uint64_t after_open = clean.store(0).operations();
    clean.expect_payment(preimage_of(5), true);
    ASSERT_TRUE(clean.node(0)
                    .manager()
                    .send_payment(payment_id_of(5), preimage_of(5).payment_hash(), AmountMsat(5000),
                                  channel)
                    .is_ok());
    ASSERT_TRUE(clean.settle());
    operations = clean.store(0).operations() - after_open;
  }
  ASSERT_GT(operations, 20u);
  for (uint64_t n = 1; n <= operations; ++n) {
    SCOPED_TRACE("sender store down after operation " + std::to_string(n));
    LnHarness h(2, options(n));
    const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
    h.expect_payment(preimage_of(5), true);
    h.store(0).go_down_after(n);
    (void)h.on_node(0, [&](ChannelManager& m) {
      return m.send_payment(payment_id_of(5), preimage_of(5).payment_hash(), AmountMsat(5000),
                            channel);
    });
    ASSERT_TRUE(h.settle());
    EXPECT_GE(h.crashes(), 1u) << "the sender must actually have crashed";
    const size_t sent = h.count_events(0, "PaymentSent");
    const size_t failed = h.count_events(0, "PaymentFailed");
    // A crash before the HTLC was durably committed may lose the send itself;
    // the user then sees no payment at all, never a half one.
    if (sent + failed == 0) {
      EXPECT_EQ(h.count_events(1, "PaymentClaimed"), 0u)
          << "the receiver was paid but the sender has no outcome";
    } else {
      EXPECT_EQ(sent + failed, 1u);
      EXPECT_EQ(sent, 1u);
    }
    expect_quiescent(h);
  }
}

TEST_P(TwoNodes, ReceiverRestartsAtEveryPersistencePoint) {
  uint64_t operations = 0;
  {
    LnHarness clean(2, options());
    const ChannelId channel = clean.open_channel(0, 1, AmountMsat(kCapacity));
    const uint64_t after_open = clean.store(1).operations();
    clean.expect_payment(preimage_of(6), true);
    ASSERT_TRUE(clean.node(0)
                    .manager()
                    .send_payment(payment_id_of(6), preimage_of(6).payment_hash(), AmountMsat(5000),
                                  channel)
                    .is_ok());
    ASSERT_TRUE(clean.settle());
    operations = clean.store(1).operations() - after_open;
  }
  for (uint64_t n = 1; n <= operations; ++n) {
    SCOPED_TRACE("receiver store down after operation " + std::to_string(n));
    LnHarness h(2, options(n));
    const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
    h.expect_payment(preimage_of(6), true);
    h.store(1).go_down_after(n);
    ASSERT_TRUE(h.on_node(0, [&](ChannelManager& m) {
                   return m.send_payment(payment_id_of(6), preimage_of(6).payment_hash(),
                                         AmountMsat(5000), channel);
                 }).is_ok());
    ASSERT_TRUE(h.settle());
    EXPECT_GE(h.crashes(), 1u) << "the receiver must actually have crashed";
    EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
    EXPECT_EQ(h.count_events(1, "PaymentClaimed"), 1u);
    EXPECT_EQ(h.node(1).manager().channel(channel)->local_state().to_us, AmountMsat(5000));
    expect_quiescent(h);
  }
}

TEST_P(TwoNodes, DisconnectAndReestablishAtEveryMessage) {
  size_t messages = 0;
  {
    LnHarness clean(2, options());
    start_payment(clean, 7, 1000, true);
    const uint64_t before = clean.network().messages_sent();
    ASSERT_TRUE(clean.settle());
    messages = static_cast<size_t>(clean.network().messages_sent() - before) + 4;
  }
  for (size_t cut = 0; cut < messages; ++cut) {
    SCOPED_TRACE("disconnect after " + std::to_string(cut) + " deliveries");
    LnHarness h(2, options(cut + 1));
    start_payment(h, 7, 1000, true);
    for (size_t i = 0; i < cut; ++i) h.step();
    h.disconnect(0, 1);
    h.reconnect(0, 1);
    ASSERT_TRUE(h.settle());
    EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
    expect_quiescent(h);
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, TwoNodes,
                         ::testing::Values(Mode{true, false}, Mode{true, true}, Mode{false, false},
                                           Mode{false, true}),
                         mode_name);

// --- persistent-mode hard cases -----------------------------------------------

TEST(PersistentEvents, AsyncCompletionsInEveryOrderOverManySeeds) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    LnHarness h(2, HarnessOptions{
                       .persistent_monitor_events = true, .async_persistence = true, .seed = seed});
    const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
    for (int n = 0; n < 6; ++n) {
      h.expect_payment(preimage_of(200 + n), true);
      ASSERT_TRUE(h.node(0)
                      .manager()
                      .send_payment(payment_id_of(200 + n), preimage_of(200 + n).payment_hash(),
                                    AmountMsat(3000), channel)
                      .is_ok());
      h.step();
    }
    ASSERT_TRUE(h.settle());
    EXPECT_EQ(h.count_events(0, "PaymentSent"), 6u);
    for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
  }
}

TEST(PersistentEvents, ClaimEventStaysStoredUntilPaymentSentIsHandled) {
  LnHarness h(2, HarnessOptions{});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  pay_and_leave_unhandled(h, channel, 8, 1000);
  ASSERT_EQ(h.node(0).chain_monitor().unacked_events(), 1u)
      << "the claim must stay un-acked until handled";
  // Restart: the un-acked event replays, and still only one PaymentSent comes out.
  h.crash(0);
  h.replay_next(0, 0);
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(h.node(0).chain_monitor().unacked_events(), 0u);
}

// A crash after PaymentSent was durably handled but before the ack was
// durable: the event replays, the manager knows it was handled, and acks it
// without a second PaymentSent.
TEST(PersistentEvents, CrashBetweenAckAndItsPersistence) {
  uint64_t replays_seen = 0;
  for (uint64_t extra = 0; extra < 6; ++extra) {
    LnHarness h(2, HarnessOptions{.seed = extra + 1});
    const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
    pay_and_leave_unhandled(h, channel, 9, 1000);
    ASSERT_EQ(h.node(0).chain_monitor().unacked_events(), 1u);
    h.replay_next(0, 0);
    // The handled-record write is operation 1, the ack write operation 2.
    h.store(0).go_down_after(1 + extra);
    ASSERT_TRUE(h.settle());
    EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
    EXPECT_EQ(h.duplicate_deliveries(), 0u);
    EXPECT_EQ(h.node(0).chain_monitor().unacked_events(), 0u);
    replays_seen += h.node(0).manager().stats().monitor_events_replayed;
  }
  EXPECT_GT(replays_seen, 0u)
      << "at least one crash point must leave the ack undone and replay the event";
}

// The manager's state is replaced by an older copy while its monitor is
// ahead: the channel is force-closed with a clear reason, and the payment the
// monitor already resolved still ends in exactly one PaymentSent.
TEST(PersistentEvents, StaleManagerSnapshotWithMonitorAhead) {
  LnHarness h(2, HarnessOptions{});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  auto stale = snapshot_manager_records(h.store(0));
  ASSERT_TRUE(stale.is_ok());
  pay_and_leave_unhandled(h, channel, 10, 7000);
  ASSERT_EQ(h.node(0).chain_monitor().unacked_events(), 1u);
  ASSERT_TRUE(restore_manager_records(h.store(0), *stale).is_ok());
  h.crash(0);
  h.replay_next(0, 0);
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u)
      << "the payment missing from the stale manager still completes once";
  EXPECT_EQ(h.count_events(0, "ChannelClosed"), 1u);
  const auto closed = std::find_if(h.events(0).begin(), h.events(0).end(), [](const Event& e) {
    return std::holds_alternative<ChannelClosed>(e);
  });
  EXPECT_NE(std::get<ChannelClosed>(*closed).reason.find("older than its monitor"),
            std::string::npos);
  EXPECT_EQ(h.node(0).chain_monitor().unacked_events(), 0u);
}

// The manager's state is replaced by a copy taken while PaymentSent was
// queued, after the user handled it and its monitor event was acked: the
// stale state lags behind the completed-payment record, which the restart
// must read (the handled count tells it so) to drop the event instead of
// delivering it again. A restart from the current state reads none.
TEST(PersistentEvents, StaleSnapshotBehindAHandledPaymentIsCaughtByTheHandledCount) {
  LnHarness h(2, HarnessOptions{});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  pay_and_leave_unhandled(h, channel, 13, 5000);
  ASSERT_EQ(h.node(0).manager().queued_user_events(), 1u);
  ASSERT_EQ(h.node(0).chain_monitor().unacked_events(), 1u);
  auto stale = snapshot_manager_records(h.store(0));
  ASSERT_TRUE(stale.is_ok());
  h.replay_next(0, 0);
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(0, "PaymentSent"), 1u);
  ASSERT_EQ(h.node(0).chain_monitor().unacked_events(), 0u);

  ASSERT_TRUE(restore_manager_records(h.store(0), *stale).is_ok());
  h.crash(0);
  EXPECT_EQ(h.node(0).manager().stats().lagging_state_loads, 1u);
  EXPECT_EQ(h.node(0).manager().queued_user_events(), 0u)
      << "the completed-payment record drops the stale state's PaymentSent";
  EXPECT_EQ(h.node(0).manager().pending_outbound_payments(), 0u);
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  EXPECT_EQ(h.duplicate_deliveries(), 0u);
  EXPECT_EQ(h.count_events(0, "ChannelClosed"), 0u) << "the monitor was not ahead";

  // The reconciled state took the stored count: the next restart reads nothing.
  h.crash(0);
  EXPECT_EQ(h.node(0).manager().stats().lagging_state_loads, 0u);
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);

  // A node record written by a build before the count has none: it may lag,
  // so the restart reads, and writes the count for the next one.
  auto raw = h.store(0).get(kManagerNamespace, kManagerNodeKey);
  ASSERT_TRUE(raw.is_ok() && raw->has_value());
  auto node = decode_manager_node(**raw);
  ASSERT_TRUE(node.is_ok());
  ASSERT_TRUE(node->handled_count.has_value());
  node->handled_count.reset();
  ASSERT_TRUE(h.store(0).put(kManagerNamespace, kManagerNodeKey, encode_manager_node(*node)).is_ok());
  h.crash(0);
  EXPECT_EQ(h.node(0).manager().stats().lagging_state_loads, 1u);
  h.crash(0);
  EXPECT_EQ(h.node(0).manager().stats().lagging_state_loads, 0u);
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(CompatibilityFlag, UpgradeLegacyToPersistentMidPayment) {
  LnHarness h(2, HarnessOptions{.persistent_monitor_events = false});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  h.expect_payment(preimage_of(11), true);
  ASSERT_TRUE(h.node(0)
                  .manager()
                  .send_payment(payment_id_of(11), preimage_of(11).payment_hash(), AmountMsat(1000),
                                channel)
                  .is_ok());
  h.step();
  h.step();
  ASSERT_TRUE(h.restart_with_mode(0, true).is_ok());
  EXPECT_TRUE(h.node(0).manager().persistent_monitor_events());
  EXPECT_TRUE(h.node(0).chain_monitor().get(channel)->persistent_events());
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
}

TEST(CompatibilityFlag, DowngradeWithUnackedEventsIsRefused) {
  LnHarness h(2, HarnessOptions{});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  pay_and_leave_unhandled(h, channel, 12, 1000);
  ASSERT_EQ(h.node(0).chain_monitor().unacked_events(), 1u);
  util::Status downgrade = h.restart_with_mode(0, false);
  ASSERT_FALSE(downgrade.is_ok());
  EXPECT_EQ(downgrade.code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(downgrade.message().find("not acked"), std::string::npos);
  // Nothing was lost: the node runs on in persistent mode and completes.
  h.replay_next(0, 0);
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(0, "PaymentSent"), 1u);
  // With nothing un-acked, the downgrade is allowed.
  EXPECT_TRUE(h.restart_with_mode(0, false).is_ok());
}

TEST(BadPeerMessages, AreRejectedClearlyAndChangeNothing) {
  LnHarness h(2, HarnessOptions{});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  const Bytes before = h.node(1).manager().channel(channel)->encode();
  ChannelManager& b = h.node(1).manager();

  util::Status garbage = b.handle_message(NodeId(1), Bytes{1, 2, 3});
  EXPECT_EQ(garbage.code(), util::StatusCode::kCorruption);

  const ChannelId unknown(util::sha256(util::as_bytes("nope")));
  util::Status wrong_channel =
      b.handle_message(NodeId(1), encode_message(UpdateFailHtlc{unknown, HtlcId(0), {}}));
  EXPECT_EQ(wrong_channel.code(), util::StatusCode::kProtocolError);
  EXPECT_NE(wrong_channel.message().find("unknown channel"), std::string::npos);

  util::Status wrong_peer =
      b.handle_message(NodeId(9), encode_message(UpdateFailHtlc{channel, HtlcId(0), {}}));
  EXPECT_NE(wrong_peer.message().find("not the channel's peer"), std::string::npos);

  util::Status unknown_htlc = b.handle_message(
      NodeId(1), encode_message(UpdateFulfillHtlc{channel, HtlcId(5), preimage_of(1)}));
  EXPECT_EQ(unknown_htlc.code(), util::StatusCode::kProtocolError);

  util::Status too_big = b.handle_message(
      NodeId(1),
      encode_message(UpdateAddHtlc{
          channel, HtlcId(0), AmountMsat(kCapacity * 2), preimage_of(1).payment_hash(), 100, {}}));
  EXPECT_EQ(too_big.code(), util::StatusCode::kProtocolError);

  EXPECT_EQ(h.node(1).manager().channel(channel)->encode(), before);

  // A commitment signature that does not match cannot be repaired off-chain:
  // refused, then the channel is closed and the peer told.
  util::Status bad_signature =
      b.handle_message(NodeId(1), encode_message(CommitmentSigned{channel, 1, {}}));
  EXPECT_EQ(bad_signature.code(), util::StatusCode::kProtocolError);
  EXPECT_NE(bad_signature.message().find("does not match"), std::string::npos);
  EXPECT_EQ(b.channel(channel)->phase(), ChannelPhase::kClosed);
  EXPECT_EQ(b.stats().peer_error_force_closes, 1u);
  ASSERT_TRUE(h.settle());
  // The peer's error reached node 0, which closed its side too.
  EXPECT_EQ(h.node(0).manager().channel(channel)->phase(), ChannelPhase::kClosed);
  EXPECT_EQ(h.count_events(0, "ChannelClosed"), 1u);
  EXPECT_EQ(h.count_events(1, "ChannelClosed"), 1u);
}

// A store with monitors but no manager state: a plain start refuses it and
// names the channels; with recovery, each channel is closed from its monitor.
TEST(Recovery, StoreWithMonitorsButNoManagerStateIsRefusedUnlessRecoveryIsAsked) {
  LnHarness h(2, HarnessOptions{});
  const ChannelId channel = h.open_channel(0, 1, AmountMsat(kCapacity));
  ASSERT_TRUE(restore_manager_records(h.kv(0), ManagerSnapshot{}).is_ok());
  InProcessNetwork network;
  NodeOptions options;
  options.manager.node_id = h.node_id(0);
  auto refused = Node::start(options, h.kv(0), network);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), util::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(channel.to_hex()), std::string::npos)
      << refused.status().to_string();
  EXPECT_NE(refused.status().message().find("--recover-from-monitors"), std::string::npos);
  // Refused without a trace: the store still has no manager state.
  auto again = Node::start(options, h.kv(0), network);
  EXPECT_EQ(again.status().code(), util::StatusCode::kFailedPrecondition);
  options.manager.recover_from_monitors = true;
  auto recovered = Node::start(options, h.kv(0), network);
  ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
  EXPECT_EQ((*recovered)->manager().stats().orphan_monitors_closed, 1u);
  EXPECT_TRUE((*recovered)->chain_monitor().get(channel)->closed());
}

}  // namespace
}  // namespace hashlock::ln
