// Per-hop payloads: what each node on a route is told to do with an HTLC.
//
// A payload is a TLV stream. A forwarding hop's payload names the next
// channel, the amount and expiry to forward, and carries the rest of the
// route as an inner payload; the final hop's payload carries the payment's
// total. Every payload records the hop's index on the route, so a failure
// can say where it happened. This is the plaintext layer that an onion
// encryption layer would wrap (BOLT 4); nothing here is secret.
// Thread-safety: value types.
#pragma once

#include <optional>
#include <vector>

#include "ln/htlc.h"

namespace hashlock::ln {

struct HopPayload {
  uint32_t hop_index = 0;
  AmountMsat amount_to_forward;  // what the next HTLC (or the receiver) must carry
  uint32_t outgoing_cltv = 0;
  std::optional<ChannelId> next_channel;  // set for a forwarding hop
  AmountMsat total;                       // final hop: the whole payment
  Bytes inner;                            // forwarding hop: the next hop's payload
  bool is_final() const { return !next_channel.has_value(); }
};

// The fee policy of a node for forwarding into one of its channels.
struct FeePolicy {
  AmountMsat base_fee{1000};
  uint32_t proportional_millionths = 100;
  uint32_t cltv_expiry_delta = 40;
  // base + amount * ppm / 1e6, in msat, never rounded through satoshis.
  util::Result<AmountMsat> fee_for(AmountMsat amount) const;
};

// One channel of a route, with the policy of the node that forwards into it
// (ignored for the first channel, which the sender pays into itself).
struct RouteHop {
  ChannelId channel_id;
  FeePolicy policy;
};

struct BuiltRoute {
  AmountMsat first_amount;  // what the sender's HTLC carries
  uint32_t first_cltv = 0;
  AmountMsat fees;          // first_amount - amount
  Bytes first_payload;      // the payload the first hop's receiver reads
};

inline constexpr size_t kMaxRouteHops = 20;

// Works backwards from the receiver: amounts and expiries per hop, payloads
// nested from the last hop outwards. `total` is the whole payment the final
// hop waits for; it differs from `amount` for one part of a multi-part
// payment (default: `amount`).
util::Result<BuiltRoute> build_route(const std::vector<RouteHop>& hops, AmountMsat amount, uint32_t final_cltv,
                                     std::optional<AmountMsat> total = std::nullopt);

Bytes encode_payload(const HopPayload& payload);
util::Result<HopPayload> decode_payload(ByteView encoded);

}  // namespace hashlock::ln
