// OutboundPayment: its record round-trips, damaged records are refused with
// a clear error, and the part bookkeeping (fees, due acks, finished) holds.
#include "ln/outbound_payment.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace hashlock::ln {
namespace {

ChannelId channel_of(uint64_t n) {
  return ChannelId(util::sha256(util::as_bytes("channel " + std::to_string(n))));
}

OutboundPayment two_part_payment() {
  OutboundPayment p;
  p.payment_hash = PaymentHash(util::sha256(util::as_bytes("hash")));
  p.amount = AmountMsat(3000);
  p.multipath = true;
  p.payee = NodeId(4);
  p.retries_left = 2;
  p.expires_at_tick = 9;
  p.next_part_id = 2;
  p.excluded = {channel_of(9)};
  p.parts.push_back(PaymentPart{.part_id = 0,
                                .amount = AmountMsat(1000),
                                .fee = AmountMsat(10),
                                .route = {channel_of(1), channel_of(2)},
                                .state = PartState::kSucceeded,
                                .acks = {MonitorEventSource{channel_of(1), 5}}});
  p.parts.push_back(PaymentPart{.part_id = 1,
                                .amount = AmountMsat(2000),
                                .fee = AmountMsat(20),
                                .route = {channel_of(3)},
                                .state = PartState::kFailed,
                                .failure = FailureReason{FailureCode::kFeeInsufficient, 0, {}},
                                .releases = {HtlcRelease{channel_of(3), HtlcId(7)}}});
  p.last_failure = p.parts[1].failure;
  return p;
}

TEST(OutboundPayment, RecordRoundTrips) {
  const PaymentId id(util::sha256(util::as_bytes("id")));
  const OutboundPayment p = two_part_payment();
  auto decoded = decode_outbound_payment(encode_outbound_payment(id, p));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->first, id);
  EXPECT_EQ(decoded->second, p);
}

TEST(OutboundPayment, EveryTruncationIsAnErrorNotACrash) {
  const Bytes encoded = encode_outbound_payment(PaymentId(), two_part_payment());
  for (size_t n = 0; n < encoded.size(); ++n) {
    auto decoded = decode_outbound_payment(ByteView(encoded.data(), n));
    EXPECT_FALSE(decoded.is_ok()) << "a record cut to " << n << " bytes was accepted";
  }
}

TEST(OutboundPayment, UnknownStateIsNamed) {
  OutboundPayment p = two_part_payment();
  p.parts[0].state = static_cast<PartState>(7);
  auto decoded = decode_outbound_payment(encode_outbound_payment(PaymentId(), p));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("part state 7"), std::string::npos)
      << decoded.status().to_string();
}

TEST(OutboundPayment, FeesCountPartsThatDidNotFail) {
  const OutboundPayment p = two_part_payment();
  EXPECT_EQ(p.fees(), AmountMsat(10));
  EXPECT_EQ(p.live_amount(), AmountMsat(1000));
  EXPECT_EQ(p.in_flight(), 0u);
}

TEST(OutboundPayment, AcksAreDueOnlyAfterTheTerminalAndThePathEvent) {
  OutboundPayment p = two_part_payment();
  p.state = PaymentState::kSucceeded;
  std::vector<MonitorEventSource> acks;
  std::vector<HtlcRelease> releases;
  p.parts[0].path_handled = true;
  p.take_due(&acks, &releases);
  EXPECT_TRUE(acks.empty()) << "acked before the terminal event was handled";
  p.terminal_handled = true;
  p.take_due(&acks, &releases);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(releases.empty()) << "part 1's path event is not handled yet";
  EXPECT_FALSE(p.finished());
  p.parts[1].path_handled = true;
  p.take_due(&acks, &releases);
  EXPECT_EQ(releases.size(), 1u);
  EXPECT_TRUE(p.finished());
}

TEST(OutboundPayment, RetryableFailuresAndTheChannelTheyBlame) {
  const std::vector<ChannelId> route{channel_of(1), channel_of(2), channel_of(3)};
  const FailureReason at_b{FailureCode::kTemporaryChannelFailure, 0, {}};
  EXPECT_TRUE(retryable(at_b, route.size()));
  EXPECT_EQ(blamed_channel(at_b, route), channel_of(2));
  const FailureReason at_payee{FailureCode::kIncorrectPaymentDetails, 2, {}};
  EXPECT_FALSE(retryable(at_payee, route.size()));
  EXPECT_EQ(blamed_channel(at_payee, route), std::nullopt);
  const FailureReason timeout{FailureCode::kMppTimeout, 2, {}};
  EXPECT_TRUE(retryable(timeout, route.size()));
  EXPECT_EQ(blamed_channel(timeout, route), std::nullopt);
}

RC_GTEST_PROP(OutboundPaymentProperty, AnyPaymentRoundTrips,
              (uint64_t amount, uint32_t retries, uint64_t expires, bool multipath,
               uint8_t part_count)) {
  OutboundPayment p;
  p.amount = AmountMsat(amount);
  p.retries_left = retries;
  p.expires_at_tick = expires;
  p.multipath = multipath;
  for (uint64_t k = 0; k < part_count % 8; ++k) {
    PaymentPart part{.part_id = k, .amount = AmountMsat(*rc::gen::arbitrary<uint32_t>())};
    part.state = static_cast<PartState>(*rc::gen::inRange(0, 3));
    part.path_handled = *rc::gen::arbitrary<bool>();
    for (uint64_t h = 0; h < k % 4; ++h) part.route.push_back(channel_of(h));
    if (part.state == PartState::kFailed)
      part.failure =
          FailureReason{FailureCode::kTemporaryChannelFailure, static_cast<uint32_t>(k), {}};
    p.parts.push_back(part);
  }
  p.next_part_id = p.parts.size();
  auto decoded = decode_outbound_payment(encode_outbound_payment(PaymentId(), p));
  RC_ASSERT(decoded.is_ok());
  RC_ASSERT(decoded->second == p);
}

}  // namespace
}  // namespace hashlock::ln
