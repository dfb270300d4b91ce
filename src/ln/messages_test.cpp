#include "ln/messages.h"

#include <gtest/gtest.h>

#include "codec/record.h"

namespace hashlock::ln {
namespace {

ChannelId channel() {
  return ChannelId(util::sha256(util::as_bytes("channel")));
}

std::vector<Message> samples() {
  PaymentPreimage preimage(util::sha256(util::as_bytes("preimage")));
  return {
      OpenChannel{channel(), AmountMsat(1'000'000), AmountMsat(5), ChannelLimits{}, {}, {}},
      AcceptChannel{channel(), ChannelLimits{.max_accepted_htlcs = 12}, {}, {}},
      UpdateAddHtlc{
          channel(), HtlcId(7), AmountMsat(5000), preimage.payment_hash(), 500, {1, 2, 3}},
      UpdateFulfillHtlc{channel(), HtlcId(7), preimage},
      UpdateFailHtlc{channel(), HtlcId(8), FailureReason{FailureCode::kFeeInsufficient, 2, {9}}},
      CommitmentSigned{channel(), 4, util::sha256(util::as_bytes("sig"))},
      RevokeAndAck{channel(), 3, util::sha256(util::as_bytes("s")),
                   util::sha256(util::as_bytes("p"))},
      ChannelReestablish{channel(), 5, 4},
      ErrorMessage{channel(), "bad things"},
      ChannelReady{channel()},
      Shutdown{channel()},
      ClosingSigned{channel(), AmountMsat(2'000'000), util::sha256(util::as_bytes("close"))},
  };
}

TEST(Messages, EveryMessageRoundTrips) {
  for (const Message& message : samples()) {
    auto decoded = decode_message(encode_message(message));
    ASSERT_TRUE(decoded.is_ok()) << message_name(message) << ": " << decoded.status().to_string();
    EXPECT_EQ(*decoded, message) << message_name(message);
  }
}

TEST(Messages, TruncatedOrFlippedMessagesAreCorruption) {
  for (const Message& message : samples()) {
    Bytes encoded = encode_message(message);
    for (size_t length = 0; length < encoded.size(); ++length) {
      auto decoded = decode_message(ByteView(encoded).subspan(0, length));
      ASSERT_FALSE(decoded.is_ok()) << message_name(message) << " length " << length;
    }
    encoded[encoded.size() / 2] ^= 0x10;
    EXPECT_EQ(decode_message(encoded).status().code(), util::StatusCode::kCorruption);
  }
}

TEST(Messages, UnknownTypeIsUnsupported) {
  codec::TlvWriter fields;
  auto decoded = decode_message(codec::encode_record({.type = 99, .name = "x"}, fields));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), util::StatusCode::kUnsupported);
}

}  // namespace
}  // namespace hashlock::ln
