#include "ln/onion.h"

namespace hashlock::ln {
namespace {

enum Field : uint64_t { kAmount = 0, kCltv = 2, kNextChannel = 4, kTotal = 6, kHopIndex = 8, kInner = 11 };

}  // namespace

util::Result<AmountMsat> FeePolicy::fee_for(AmountMsat amount) const {
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat proportional, amount.checked_mul_div(proportional_millionths, 1'000'000));
  return base_fee.checked_add(proportional);
}

Bytes encode_payload(const HopPayload& payload) {
  codec::TlvWriter w;
  w.amount(kAmount, payload.amount_to_forward).u64(kCltv, payload.outgoing_cltv);
  if (payload.next_channel) w.bytes32(kNextChannel, *payload.next_channel);
  if (payload.is_final()) w.amount(kTotal, payload.total);
  w.u64(kHopIndex, payload.hop_index);
  if (!payload.is_final()) w.bytes(kInner, payload.inner);
  return w.take();
}

util::Result<HopPayload> decode_payload(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(encoded, "hop payload"));
  HopPayload payload;
  HASHLOCK_ASSIGN_OR_RETURN(payload.amount_to_forward, r.amount(kAmount));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t cltv, r.u64(kCltv));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t hop, r.u64(kHopIndex));
  if (cltv > UINT32_MAX || hop > kMaxRouteHops) return util::corruption("hop payload: expiry or hop index out of range");
  payload.outgoing_cltv = static_cast<uint32_t>(cltv);
  payload.hop_index = static_cast<uint32_t>(hop);
  if (r.has(kNextChannel)) {
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId next, r.bytes32<ChannelId>(kNextChannel));
    payload.next_channel = next;
    HASHLOCK_ASSIGN_OR_RETURN(ByteView inner, r.bytes(kInner));
    payload.inner.assign(inner.begin(), inner.end());
  } else {
    HASHLOCK_ASSIGN_OR_RETURN(payload.total, r.amount(kTotal));
  }
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return payload;
}

util::Result<BuiltRoute> build_route(const std::vector<RouteHop>& hops, AmountMsat amount, uint32_t final_cltv,
                                     std::optional<AmountMsat> total) {
  if (hops.empty() || hops.size() > kMaxRouteHops) {
    return util::invalid_argument("a route needs 1.." + std::to_string(kMaxRouteHops) + " hops");
  }
  if (total && *total < amount) {
    return util::invalid_argument("a part of " + amount.to_string() + " exceeds the payment's total " +
                                  total->to_string());
  }
  // The receiver of the last channel is the final hop.
  HopPayload last{.hop_index = static_cast<uint32_t>(hops.size() - 1), .amount_to_forward = amount,
                  .outgoing_cltv = final_cltv, .total = total.value_or(amount)};
  Bytes payload = encode_payload(last);
  AmountMsat incoming = amount;
  uint32_t cltv = final_cltv;
  // Hop i (i >= 1) is the node between channel i-1 and channel i: it forwards into channel i.
  for (size_t i = hops.size() - 1; i >= 1; --i) {
    HASHLOCK_ASSIGN_OR_RETURN(AmountMsat fee, hops[i].policy.fee_for(incoming));
    HopPayload forward{.hop_index = static_cast<uint32_t>(i - 1), .amount_to_forward = incoming, .outgoing_cltv = cltv,
                       .next_channel = hops[i].channel_id, .inner = std::move(payload)};
    payload = encode_payload(forward);
    HASHLOCK_ASSIGN_OR_RETURN(incoming, incoming.checked_add(fee));
    cltv += hops[i].policy.cltv_expiry_delta;
  }
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat fees, incoming.checked_sub(amount));
  return BuiltRoute{incoming, cltv, fees, std::move(payload)};
}

}  // namespace hashlock::ln
