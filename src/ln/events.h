// User events: what the ChannelManager tells the user, and what must happen
// once the user has handled each one (completion actions).
//
// The user drains events with a handler that returns kHandled or kReplay.
// Completion actions (an ack of the monitor event behind the user event) run
// only after kHandled and only after the manager durably recorded that the
// event was handled; a kReplay, or a crash before that record is durable,
// delivers the event again. Exactly one terminal event (PaymentSent or
// PaymentFailed) is delivered per payment. Thread-safety: value types.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "ln/monitor.h"

namespace hashlock::ln {

struct PaymentSent {
  PaymentId payment_id;
  PaymentHash payment_hash;
  PaymentPreimage preimage;
  AmountMsat amount;
  AmountMsat fee_paid;
  bool operator==(const PaymentSent&) const = default;
};
struct PaymentFailed {
  PaymentId payment_id;
  PaymentHash payment_hash;
  FailureReason reason;
  bool operator==(const PaymentFailed&) const = default;
};
struct PaymentPathSuccessful {
  PaymentId payment_id;
  uint64_t part_id = 0;
  bool operator==(const PaymentPathSuccessful&) const = default;
};
struct PaymentPathFailed {
  PaymentId payment_id;
  uint64_t part_id = 0;
  FailureReason reason;
  bool operator==(const PaymentPathFailed&) const = default;
};
struct PaymentClaimable {
  PaymentHash payment_hash;
  AmountMsat amount;  // what arrived
  AmountMsat counterparty_skimmed_fee_msat;  // what forwarders kept beyond their fees, with our agreement
  bool operator==(const PaymentClaimable&) const = default;
};
struct PaymentClaimed {
  PaymentHash payment_hash;
  AmountMsat amount;
  bool operator==(const PaymentClaimed&) const = default;
};
struct HtlcHandlingFailed {
  ChannelId channel_id;
  PaymentHash payment_hash;
  FailureReason reason;
  bool operator==(const HtlcHandlingFailed&) const = default;
};
struct ChannelClosed {
  ChannelId channel_id;
  std::string reason;
  bool operator==(const ChannelClosed&) const = default;
};
// A forward settled: we were paid on `prev_channel_id` for what we paid on
// `next_channel_id`. All amounts in msat.
struct PaymentForwarded {
  ChannelId prev_channel_id;
  HtlcId prev_htlc_id;
  ChannelId next_channel_id;
  PaymentHash payment_hash;
  AmountMsat total_fee_earned_msat;
  AmountMsat skimmed_fee_msat;
  bool claim_from_onchain_tx = false;
  AmountMsat outbound_amount_forwarded_msat;
  bool operator==(const PaymentForwarded&) const = default;
};

using Event = std::variant<PaymentSent, PaymentFailed, PaymentPathSuccessful, PaymentPathFailed,
                           PaymentClaimable, PaymentClaimed, HtlcHandlingFailed, ChannelClosed, PaymentForwarded>;

std::string event_name(const Event& event);

enum class HandleResult { kHandled, kReplay };

// A queued event with what must happen once it was handled: monitor events
// to ack (persistent mode) and resolved HTLCs to release in their monitors
// (legacy mode).
struct HtlcRelease {
  ChannelId channel_id;
  HtlcId htlc_id;
  bool operator==(const HtlcRelease&) const = default;
};

struct QueuedEvent {
  uint64_t sequence = 0;
  Event event;
  std::vector<MonitorEventSource> ack_on_handled;
  std::vector<HtlcRelease> release_on_handled;
};

Bytes encode_queued_event(const QueuedEvent& queued);
util::Result<QueuedEvent> decode_queued_event(ByteView encoded);

}  // namespace hashlock::ln
