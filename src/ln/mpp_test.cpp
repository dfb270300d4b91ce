// Multi-part payments: A pays D over two routes, A -> B -> D and A -> C -> D.
// One PaymentSent per payment, one path event per part, retries over another
// route, the receiver's timeout, and crashes at every persistence point of
// every node. Every test runs in both modes and with both persister kinds.
#include <gtest/gtest.h>

#include "ln/harness.h"
#include "ln/test_modes.h"

namespace hashlock::ln {
namespace {

using test_modes::Mode;
using test_modes::mode_name;
PaymentPreimage preimage_of(int n) {
  return test_modes::preimage_for("mpp ", n);
}
PaymentId payment_id_of(int n) {
  return test_modes::payment_id_for("mpp ", n);
}

constexpr uint64_t kCapacity = 100'000'000;
constexpr uint64_t kAmount = 3'000'001;
constexpr size_t kA = 0, kB = 1, kC = 2, kD = 3;

class MultiPart : public ::testing::TestWithParam<Mode> {
 protected:
  HarnessOptions options(uint64_t seed = 1) const {
    return HarnessOptions{.persistent_monitor_events = GetParam().persistent,
                          .async_persistence = GetParam().async,
                          .seed = seed};
  }
  void open(LnHarness& h) {
    ab_ = h.open_channel(kA, kB, AmountMsat(kCapacity));
    bd_ = h.open_channel(kB, kD, AmountMsat(kCapacity));
    ac_ = h.open_channel(kA, kC, AmountMsat(kCapacity));
    cd_ = h.open_channel(kC, kD, AmountMsat(kCapacity));
  }
  // Makes the graph claim that B forwards for free: routes through B look
  // cheapest, and B refuses them (fee_insufficient).
  static void advertise_free_forwarding_at_b(LnHarness& h, const ChannelId& bd) {
    ASSERT_EQ(h.graph().set_fees(bd, h.node_id(kB), AmountMsat(0), 0), 1u);
  }
  util::Status pay(LnHarness& h, int n, bool claim, size_t parts, uint32_t retries = 3) {
    h.expect_payment(preimage_of(n), claim);
    const PaymentParams params{.payee = h.node_id(kD),
                               .payment_hash = preimage_of(n).payment_hash(),
                               .amount = AmountMsat(kAmount),
                               .max_parts = parts,
                               .max_retries = retries};
    return h.on_node(
        kA, [&](ChannelManager& m) { return m.send_payment_mpp(payment_id_of(n), params); });
  }
  static size_t count_forwarded(const LnHarness& h, AmountMsat* fees) {
    size_t count = 0;
    for (size_t i : {kB, kC}) {
      for (const Event& e : h.events(i)) {
        if (const auto* f = std::get_if<PaymentForwarded>(&e)) {
          ++count;
          *fees = fees->checked_add(f->total_fee_earned_msat).value();
        }
      }
    }
    return count;
  }
  static void expect_quiescent(const LnHarness& h) {
    for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
  }
  static AmountMsat balance(LnHarness& h, size_t node, const ChannelId& channel) {
    return h.node(node).manager().channel(channel)->local_state().to_us;
  }

  ChannelId ab_, bd_, ac_, cd_;
};

TEST_P(MultiPart, TwoPartsOverTwoRoutesEndInOnePaymentSent) {
  LnHarness h(4, options());
  open(h);
  ASSERT_TRUE(pay(h, 1, true, 2).is_ok());
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(kA, "PaymentSent"), 1u);
  EXPECT_EQ(h.count_events(kA, "PaymentPathSuccessful"), 2u);
  EXPECT_EQ(h.count_events(kA, "PaymentPathFailed"), 0u);
  EXPECT_EQ(h.count_events(kA, "PaymentFailed"), 0u);
  // The receiver saw one payment of the whole amount and claimed it once.
  ASSERT_EQ(h.count_events(kD, "PaymentClaimable"), 1u);
  ASSERT_EQ(h.count_events(kD, "PaymentClaimed"), 1u);
  for (const Event& e : h.events(kD)) {
    if (const auto* c = std::get_if<PaymentClaimed>(&e)) {
      EXPECT_EQ(c->amount, AmountMsat(kAmount));
    }
  }
  // Each route carried one part; the fees the sender paid are what the forwarders earned.
  AmountMsat earned;
  EXPECT_EQ(count_forwarded(h, &earned), 2u);
  const PaymentSent* sent = nullptr;
  for (const Event& e : h.events(kA)) {
    if (const auto* s = std::get_if<PaymentSent>(&e)) sent = s;
  }
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(sent->amount, AmountMsat(kAmount));
  EXPECT_EQ(sent->fee_paid, earned);
  EXPECT_EQ(balance(h, kD, bd_).checked_add(balance(h, kD, cd_)).value(), AmountMsat(kAmount));
  EXPECT_GT(balance(h, kD, bd_).value(), 0u);
  EXPECT_GT(balance(h, kD, cd_).value(), 0u);
  expect_quiescent(h);
}

TEST_P(MultiPart, FailedPartIsRetriedOverAnotherRoute) {
  LnHarness h(4, options());
  open(h);
  advertise_free_forwarding_at_b(h, bd_);
  ASSERT_TRUE(pay(h, 2, true, 2).is_ok());
  ASSERT_TRUE(h.settle());
  EXPECT_EQ(h.count_events(kA, "PaymentSent"), 1u);
  EXPECT_EQ(h.count_events(kA, "PaymentFailed"), 0u);
  EXPECT_EQ(h.count_events(kA, "PaymentPathFailed"), 1u);
  EXPECT_EQ(h.count_events(kA, "PaymentPathSuccessful"), 2u);
  for (const Event& e : h.events(kA)) {
    if (const auto* f = std::get_if<PaymentPathFailed>(&e)) {
      EXPECT_EQ(f->reason.code, FailureCode::kFeeInsufficient);
      EXPECT_EQ(f->reason.failing_hop, 0u);  // B, the first hop after A
    }
  }
  // The retry avoided the channel B could not be paid to forward into.
  EXPECT_EQ(balance(h, kD, bd_), AmountMsat(0));
  EXPECT_EQ(balance(h, kD, cd_), AmountMsat(kAmount));
  EXPECT_EQ(h.count_events(kB, "HTLCHandlingFailed"), 1u);
  expect_quiescent(h);
}

TEST_P(MultiPart, ReceiverTimesOutAnIncompletePaymentAndTheSenderFailsOnce) {
  LnHarness h(4, options());
  open(h);
  advertise_free_forwarding_at_b(h, bd_);
  ASSERT_TRUE(pay(h, 3, true, 2, /*retries=*/0).is_ok());
  ASSERT_TRUE(h.settle());  // settle lets time pass while a part waits at D
  EXPECT_EQ(h.count_events(kA, "PaymentSent"), 0u);
  ASSERT_EQ(h.count_events(kA, "PaymentFailed"), 1u);
  EXPECT_EQ(h.count_events(kA, "PaymentPathFailed"), 2u);
  EXPECT_EQ(h.count_events(kD, "PaymentClaimable"), 0u);
  bool saw_timeout = false;
  for (const Event& e : h.events(kA)) {
    if (const auto* f = std::get_if<PaymentPathFailed>(&e))
      saw_timeout |= f->reason.code == FailureCode::kMppTimeout;
  }
  EXPECT_TRUE(saw_timeout);
  EXPECT_EQ(balance(h, kA, ab_), AmountMsat(kCapacity));
  EXPECT_EQ(balance(h, kA, ac_), AmountMsat(kCapacity));
  expect_quiescent(h);
}

TEST_P(MultiPart, ReceiverFailureEndsThePaymentWithoutRetries) {
  LnHarness h(4, options());
  open(h);
  ASSERT_TRUE(pay(h, 4, false, 2).is_ok());
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(kA, "PaymentFailed"), 1u);
  EXPECT_EQ(h.count_events(kA, "PaymentPathFailed"), 2u);  // both parts, neither re-sent
  for (const Event& e : h.events(kA)) {
    if (const auto* f = std::get_if<PaymentFailed>(&e)) {
      EXPECT_EQ(f->reason.code, FailureCode::kIncorrectPaymentDetails);
      EXPECT_EQ(f->reason.failing_hop, 1u);  // D, the receiver
    }
  }
  expect_quiescent(h);
}

TEST_P(MultiPart, PaymentPastItsExpiryIsNotRetried) {
  LnHarness h(4, options());
  open(h);
  advertise_free_forwarding_at_b(h, bd_);
  h.expect_payment(preimage_of(5), true);
  const PaymentParams params{.payee = h.node_id(kD),
                             .payment_hash = preimage_of(5).payment_hash(),
                             .amount = AmountMsat(kAmount),
                             .max_parts = 2,
                             .max_retries = 3,
                             .expiry_ticks = 1};
  ASSERT_TRUE(h.on_node(kA, [&](ChannelManager& m) {
                 return m.send_payment_mpp(payment_id_of(5), params);
               }).is_ok());
  h.tick();  // the payment expires before its first part fails
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(kA, "PaymentFailed"), 1u);
  EXPECT_EQ(h.count_events(kA, "PaymentSent"), 0u);
  expect_quiescent(h);
}

TEST_P(MultiPart, BadRequestsAreRefusedAndSendNothing) {
  LnHarness h(4, options());
  open(h);
  const PaymentHash hash = preimage_of(6).payment_hash();
  std::vector<PartSpec> parts{
      {{RouteHop{ab_, FeePolicy{}}, RouteHop{bd_, FeePolicy{}}}, AmountMsat(1000)}};
  const PaymentParams params{
      .payee = h.node_id(kD), .payment_hash = hash, .amount = AmountMsat(2000)};
  util::Status mismatch = h.on_node(
      kA, [&](ChannelManager& m) { return m.send_payment_parts(payment_id_of(6), params, parts); });
  EXPECT_EQ(mismatch.code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("add up to"), std::string::npos) << mismatch.to_string();
  const PaymentParams no_route{
      .payee = NodeId(99), .payment_hash = hash, .amount = AmountMsat(2000), .max_parts = 2};
  util::Status unreachable = h.on_node(
      kA, [&](ChannelManager& m) { return m.send_payment_mpp(payment_id_of(6), no_route); });
  EXPECT_EQ(unreachable.code(), util::StatusCode::kNotFound) << unreachable.to_string();
  EXPECT_EQ(h.node(kA).manager().pending_htlcs(), 0u);
  EXPECT_EQ(h.node(kA).manager().pending_outbound_payments(), 0u);
}

// Every node crashes at every persistence point of a two-part payment in turn:
// still one PaymentSent, the receiver claims every part, nothing left pending.
TEST_P(MultiPart, CrashAtEveryPointOfEveryNodeStillEndsInOnePaymentSent) {
  for (size_t victim : {kA, kB, kD}) {
    for (uint64_t point = 1; point <= 40; ++point) {
      SCOPED_TRACE("node " + std::to_string(victim) + " crashes after " + std::to_string(point) +
                   " operations");
      LnHarness h(4, options(point));
      open(h);
      const int n = 100 + static_cast<int>(point);
      h.store(victim).go_down_after(point);
      util::Status sent = pay(h, n, true, 2);
      ASSERT_TRUE(h.settle());
      // A sender that crashed inside send_payment_mpp may or may not have recorded it.
      const size_t terminal =
          h.count_events(kA, "PaymentSent") + h.count_events(kA, "PaymentFailed");
      if (sent.is_ok()) {
        EXPECT_EQ(terminal, 1u);
      } else {
        EXPECT_LE(terminal, 1u);
      }
      if (h.count_events(kD, "PaymentClaimed") > 0) {
        EXPECT_EQ(h.count_events(kA, "PaymentSent"), 1u);
        EXPECT_EQ(balance(h, kD, bd_).checked_add(balance(h, kD, cd_)).value(),
                  AmountMsat(kAmount));
      }
      EXPECT_EQ(h.duplicate_deliveries(), 0u);
      expect_quiescent(h);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, MultiPart,
                         ::testing::Values(Mode{true, false}, Mode{true, true}, Mode{false, false},
                                           Mode{false, true}),
                         mode_name);

}  // namespace
}  // namespace hashlock::ln
