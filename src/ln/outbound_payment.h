// OutboundPayment: what the manager remembers of one of our payments while it
// is unresolved, part by part.
//
// A payment goes out as one or more parts, each an HTLC over its own route.
// Every part is resolved by a monitor event (claimed or failed). The payment
// ends in exactly one terminal event: PaymentSent at the first claimed part,
// PaymentFailed once no part is in flight, none was claimed and no retry is
// left. A multi-part payment (sent with send_payment_mpp or
// send_payment_parts) also reports each part: PaymentPathSuccessful or
// PaymentPathFailed, and may re-send a failed part over another route.
//
// Acks: a part's monitor event (and in legacy mode, its release) waits in
// the part until both the payment's terminal event and the part's own path
// event were handled; only then is it run. So no per-part event is acked
// before the user knows the payment's outcome. Thread-safety: value types.
#pragma once

#include <optional>
#include <vector>

#include "ln/events.h"
#include "ln/onion.h"

namespace hashlock::ln {

enum class PaymentState : uint8_t { kPending = 0, kSucceeded = 1, kFailed = 2 };
enum class PartState : uint8_t { kInFlight = 0, kSucceeded = 1, kFailed = 2 };

struct PaymentPart {
  uint64_t part_id = 0;
  AmountMsat amount;             // what reaches the payee
  AmountMsat fee;                // paid to the forwarders of its route
  std::vector<ChannelId> route;  // the channels it took, first hop first
  PartState state = PartState::kInFlight;
  bool path_handled = false;  // its path event was handled (or it has none)
  std::optional<FailureReason> failure;
  // Run once path_handled and the payment's terminal event was handled.
  std::vector<MonitorEventSource> acks;
  std::vector<HtlcRelease> releases;

  bool operator==(const PaymentPart&) const = default;
};

struct OutboundPayment {
  PaymentHash payment_hash;
  AmountMsat amount;  // the whole payment, all parts
  PaymentState state = PaymentState::kPending;
  bool terminal_handled = false;
  bool multipath = false;  // path events, retries
  NodeId payee;
  uint32_t retries_left = 0;
  uint64_t expires_at_tick = 0;  // no part is (re)sent at or after this tick
  bool abandoned = false;        // no more retries: fails once nothing is in flight
  uint64_t next_part_id = 0;
  std::optional<FailureReason> last_failure;
  std::vector<ChannelId> excluded;  // channels a failed part blamed
  std::vector<PaymentPart> parts;

  bool operator==(const OutboundPayment&) const = default;

  PaymentPart* part(uint64_t part_id);
  // Fees of the parts not failed.
  AmountMsat fees() const;
  // Amount of the parts in flight or claimed.
  AmountMsat live_amount() const;
  size_t in_flight() const;
  // Every part resolved, every path event and the terminal event handled.
  bool finished() const;
  // The completions of parts that are due now, taken out of the parts.
  void take_due(std::vector<MonitorEventSource>* acks, std::vector<HtlcRelease>* releases);
};

// Failures after which a part is worth sending over another route.
bool retryable(const FailureReason& reason, size_t route_hops);
// The channel a failure blames: the one the failing hop could not forward into.
std::optional<ChannelId> blamed_channel(const FailureReason& reason,
                                        const std::vector<ChannelId>& route);

Bytes encode_outbound_payment(const PaymentId& id, const OutboundPayment& payment);
util::Result<std::pair<PaymentId, OutboundPayment>> decode_outbound_payment(ByteView encoded);

}  // namespace hashlock::ln
