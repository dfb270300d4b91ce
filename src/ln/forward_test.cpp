// Three nodes, A -> B -> C: forwarding through B, with the forward's
// resolution acked only once B's inbound HTLC is settled. Every test runs in
// both modes and with both persister kinds.
#include <gtest/gtest.h>

#include "ln/harness.h"
#include "ln/test_modes.h"

namespace hashlock::ln {
namespace {

using test_modes::Mode;
using test_modes::mode_name;
PaymentPreimage preimage_of(int n) {
  return test_modes::preimage_for("fwd ", n);
}
PaymentId payment_id_of(int n) {
  return test_modes::payment_id_for("fwd ", n);
}

constexpr uint64_t kCapacity = 100'000'000;
constexpr uint64_t kAmount = 500'000;

class Forwarding : public ::testing::TestWithParam<Mode> {
 protected:
  void open(LnHarness& h) {
    ab_ = h.open_channel(0, 1, AmountMsat(kCapacity));
    bc_ = h.open_channel(1, 2, AmountMsat(kCapacity));
  }
  HarnessOptions options(uint64_t seed = 1) const {
    return HarnessOptions{.persistent_monitor_events = GetParam().persistent,
                          .async_persistence = GetParam().async,
                          .seed = seed};
  }
  util::Status pay(LnHarness& h, int n, bool claim, std::vector<RouteHop> route = {}) {
    if (route.empty()) route = {RouteHop{ab_, FeePolicy{}}, RouteHop{bc_, FeePolicy{}}};
    h.expect_payment(preimage_of(n), claim);
    return h.on_node(0, [&](ChannelManager& m) {
      return m.send_payment_route(payment_id_of(n), preimage_of(n).payment_hash(),
                                  AmountMsat(kAmount), route);
    });
  }
  static uint64_t fee() { return FeePolicy{}.fee_for(AmountMsat(kAmount)).value().value(); }
  static void expect_quiescent(const LnHarness& h) {
    for (const std::string& problem : h.check_quiescent()) ADD_FAILURE() << problem;
  }

  ChannelId ab_, bc_;
};

TEST_P(Forwarding, PaymentCrossesOneHopAndEveryoneIsPaidExactly) {
  LnHarness h(3, options());
  open(h);
  ASSERT_TRUE(pay(h, 1, true).is_ok());
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(0, "PaymentSent"), 1u);
  const auto& sent = std::get<PaymentSent>(h.events(0).back());
  EXPECT_EQ(sent.amount, AmountMsat(kAmount));
  EXPECT_EQ(sent.fee_paid, AmountMsat(fee()));
  ASSERT_EQ(h.count_events(1, "PaymentForwarded"), 1u);
  for (const Event& e : h.events(1)) {
    if (const auto* f = std::get_if<PaymentForwarded>(&e)) {
      EXPECT_EQ(f->total_fee_earned_msat, AmountMsat(fee()));
      EXPECT_EQ(f->outbound_amount_forwarded_msat, AmountMsat(kAmount));
      EXPECT_EQ(f->prev_channel_id, ab_);
      EXPECT_EQ(f->next_channel_id, bc_);
    }
  }
  EXPECT_EQ(h.count_events(2, "PaymentClaimed"), 1u);
  EXPECT_EQ(h.node(0).manager().channel(ab_)->local_state().to_us,
            AmountMsat(kCapacity - kAmount - fee()));
  EXPECT_EQ(h.node(1).manager().channel(ab_)->local_state().to_us, AmountMsat(kAmount + fee()));
  EXPECT_EQ(h.node(1).manager().channel(bc_)->local_state().to_us, AmountMsat(kCapacity - kAmount));
  EXPECT_EQ(h.node(2).manager().channel(bc_)->local_state().to_us, AmountMsat(kAmount));
  expect_quiescent(h);
}

TEST_P(Forwarding, ReceiverFailureTravelsBackWithItsHopIndex) {
  LnHarness h(3, options());
  open(h);
  ASSERT_TRUE(pay(h, 2, false).is_ok());
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  const auto& failed = std::get<PaymentFailed>(h.events(0).back());
  EXPECT_EQ(failed.reason.code, FailureCode::kIncorrectPaymentDetails);
  EXPECT_EQ(failed.reason.failing_hop, 1u);
  EXPECT_EQ(h.count_events(1, "PaymentForwarded"), 0u);
  EXPECT_EQ(h.node(0).manager().channel(ab_)->local_state().to_us, AmountMsat(kCapacity));
  expect_quiescent(h);
}

TEST_P(Forwarding, ForwarderRejectsWithItsOwnReason) {
  LnHarness h(3, options());
  open(h);
  const ChannelId unknown(util::sha256(util::as_bytes("no such channel")));
  ASSERT_TRUE(
      pay(h, 3, true, {RouteHop{ab_, FeePolicy{}}, RouteHop{unknown, FeePolicy{}}}).is_ok());
  FeePolicy stingy;
  stingy.base_fee = AmountMsat(0);
  stingy.proportional_millionths = 0;
  ASSERT_TRUE(pay(h, 4, true, {RouteHop{ab_, FeePolicy{}}, RouteHop{bc_, stingy}}).is_ok());
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(0, "PaymentFailed"), 2u);
  std::vector<FailureCode> codes;
  for (const Event& e : h.events(0)) {
    if (const auto* f = std::get_if<PaymentFailed>(&e)) {
      codes.push_back(f->reason.code);
      EXPECT_EQ(f->reason.failing_hop, 0u) << "the forwarder is hop 0";
    }
  }
  EXPECT_NE(std::find(codes.begin(), codes.end(), FailureCode::kUnknownNextPeer), codes.end());
  EXPECT_NE(std::find(codes.begin(), codes.end(), FailureCode::kFeeInsufficient), codes.end());
  EXPECT_EQ(h.count_events(1, "HTLCHandlingFailed"), 2u);
  expect_quiescent(h);
}

// The forwarder's store goes down at each of its persistence points of a
// forwarded payment: exactly one PaymentSent, at most one PaymentForwarded
// (exactly one when the payment succeeded), nothing left pending.
TEST_P(Forwarding, ForwarderRestartsAtEveryPersistencePoint) {
  uint64_t operations = 0;
  {
    LnHarness clean(3, options());
    open(clean);
    const uint64_t before = clean.store(1).operations();
    ASSERT_TRUE(pay(clean, 5, true).is_ok());
    ASSERT_TRUE(clean.settle());
    operations = clean.store(1).operations() - before;
  }
  ASSERT_GT(operations, 20u);
  for (uint64_t n = 1; n <= operations; ++n) {
    SCOPED_TRACE("forwarder store down after operation " + std::to_string(n));
    LnHarness h(3, options(n));
    open(h);
    h.store(1).go_down_after(n);
    ASSERT_TRUE(pay(h, 5, true).is_ok());
    ASSERT_TRUE(h.settle());
    EXPECT_GE(h.crashes(), 1u);
    const size_t sent = h.count_events(0, "PaymentSent");
    EXPECT_EQ(sent + h.count_events(0, "PaymentFailed"), 1u);
    EXPECT_EQ(h.count_events(1, "PaymentForwarded"), sent)
        << "one PaymentForwarded per settled forward";
    if (h.count_events(2, "PaymentClaimed") > 0) {
      EXPECT_EQ(sent, 1u) << "the receiver was paid, so the sender must know";
    }
    expect_quiescent(h);
  }
}

TEST_P(Forwarding, SkimmedFeeIsKeptByTheForwarderWhenTheReceiverAgreed) {
  constexpr uint64_t kSkim = 777;
  HarnessOptions with_skim = options();
  with_skim.forward_skim_msat = AmountMsat(kSkim);
  with_skim.accept_underpaying_htlcs = true;
  LnHarness h(3, with_skim);
  open(h);
  ASSERT_TRUE(pay(h, 20, true).is_ok());
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(0, "PaymentSent"), 1u);
  ASSERT_EQ(h.count_events(1, "PaymentForwarded"), 1u);
  for (const Event& e : h.events(1)) {
    if (const auto* f = std::get_if<PaymentForwarded>(&e)) {
      EXPECT_EQ(f->skimmed_fee_msat, AmountMsat(kSkim));
      EXPECT_EQ(f->total_fee_earned_msat, AmountMsat(fee() + kSkim));
      EXPECT_EQ(f->outbound_amount_forwarded_msat, AmountMsat(kAmount - kSkim));
    }
  }
  ASSERT_EQ(h.count_events(2, "PaymentClaimable"), 1u);
  for (const Event& e : h.events(2)) {
    if (const auto* c = std::get_if<PaymentClaimable>(&e)) {
      EXPECT_EQ(c->amount, AmountMsat(kAmount - kSkim));
      EXPECT_EQ(c->counterparty_skimmed_fee_msat, AmountMsat(kSkim));
    }
  }
  EXPECT_EQ(h.node(2).manager().channel(bc_)->local_state().to_us, AmountMsat(kAmount - kSkim));
  expect_quiescent(h);
}

TEST_P(Forwarding, SkimmedHtlcIsRefusedByAReceiverThatDidNotAgree) {
  HarnessOptions with_skim = options();
  with_skim.forward_skim_msat = AmountMsat(777);
  LnHarness h(3, with_skim);
  open(h);
  ASSERT_TRUE(pay(h, 21, true).is_ok());
  ASSERT_TRUE(h.settle());
  ASSERT_EQ(h.count_events(0, "PaymentFailed"), 1u);
  EXPECT_EQ(h.count_events(2, "PaymentClaimable"), 0u);
  EXPECT_EQ(h.count_events(1, "PaymentForwarded"), 0u);
  for (const Event& e : h.events(0)) {
    if (const auto* f = std::get_if<PaymentFailed>(&e)) {
      EXPECT_EQ(f->reason.code, FailureCode::kIncorrectPaymentDetails);
    }
  }
  expect_quiescent(h);
}

INSTANTIATE_TEST_SUITE_P(AllModes, Forwarding,
                         ::testing::Values(Mode{true, false}, Mode{true, true}, Mode{false, false},
                                           Mode{false, true}),
                         mode_name);

}  // namespace
}  // namespace hashlock::ln
