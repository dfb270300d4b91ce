#include "ln/outbound_payment.h"

#include <algorithm>

#include "util/check.h"

namespace hashlock::ln {
namespace {

enum PaymentField : uint64_t {
  kId = 0,
  kHash = 2,
  kAmount = 4,
  kState = 8,
  kTerminalHandled = 10,
  kMultipath = 12,
  kPayee = 14,
  kRetriesLeft = 16,
  kExpiresAt = 18,
  kAbandoned = 20,
  kNextPartId = 22,
  kLastFailure = 25,  // optional
  kExcluded = 26,
  kParts = 28,
};
enum PartField : uint64_t {
  kPartId = 0,
  kPartAmount = 2,
  kPartFee = 4,
  kPartRoute = 6,
  kPartState = 8,
  kPathHandled = 10,
  kPartFailure = 13,  // optional
  kPartAcks = 14,
  kPartReleases = 16,
};
constexpr size_t kMaxParts = 10'000;

Bytes encode_channel(const ChannelId& id) {
  return Bytes(id.view().begin(), id.view().end());
}
util::Result<ChannelId> decode_channel(ByteView raw) {
  return ChannelId::from_bytes(raw);
}

Bytes encode_ack(const MonitorEventSource& source) {
  codec::TlvWriter w;
  w.bytes32(0, source.channel_id).u64(2, source.event_id);
  return w.take();
}
util::Result<MonitorEventSource> decode_ack(ByteView raw) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(raw, "part ack"));
  MonitorEventSource source;
  HASHLOCK_ASSIGN_OR_RETURN(source.channel_id, r.bytes32<ChannelId>(0));
  HASHLOCK_ASSIGN_OR_RETURN(source.event_id, r.u64(2));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return source;
}

Bytes encode_release(const HtlcRelease& release) {
  codec::TlvWriter w;
  w.bytes32(0, release.channel_id).u64(2, release.htlc_id.value());
  return w.take();
}
util::Result<HtlcRelease> decode_release(ByteView raw) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(raw, "part release"));
  HtlcRelease release;
  HASHLOCK_ASSIGN_OR_RETURN(release.channel_id, r.bytes32<ChannelId>(0));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t htlc, r.u64(2));
  release.htlc_id = HtlcId(htlc);
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return release;
}

Bytes encode_part(const PaymentPart& part) {
  codec::TlvWriter w;
  w.u64(kPartId, part.part_id)
      .amount(kPartAmount, part.amount)
      .amount(kPartFee, part.fee)
      .bytes(kPartRoute, codec::encode_items(part.route, encode_channel))
      .u64(kPartState, static_cast<uint64_t>(part.state))
      .boolean(kPathHandled, part.path_handled);
  if (part.failure) w.bytes(kPartFailure, encode_failure(*part.failure));
  w.bytes(kPartAcks, codec::encode_items(part.acks, encode_ack))
      .bytes(kPartReleases, codec::encode_items(part.releases, encode_release));
  return w.take();
}

util::Result<PaymentPart> decode_part(ByteView raw) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(raw, "payment part"));
  PaymentPart part;
  HASHLOCK_ASSIGN_OR_RETURN(part.part_id, r.u64(kPartId));
  HASHLOCK_ASSIGN_OR_RETURN(part.amount, r.amount(kPartAmount));
  HASHLOCK_ASSIGN_OR_RETURN(part.fee, r.amount(kPartFee));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView route, r.bytes(kPartRoute));
  HASHLOCK_ASSIGN_OR_RETURN(part.route, codec::decode_items<ChannelId>(
                                            route, kMaxRouteHops, "part route", decode_channel));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t state, r.u64(kPartState));
  if (state > 2)
    return util::corruption("payment part state " + std::to_string(state) + " is unknown");
  part.state = static_cast<PartState>(state);
  HASHLOCK_ASSIGN_OR_RETURN(part.path_handled, r.boolean(kPathHandled));
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> failure, r.optional_bytes(kPartFailure));
  if (failure) {
    HASHLOCK_ASSIGN_OR_RETURN(FailureReason reason, decode_failure(*failure));
    part.failure = reason;
  }
  HASHLOCK_ASSIGN_OR_RETURN(ByteView acks, r.bytes(kPartAcks));
  HASHLOCK_ASSIGN_OR_RETURN(
      part.acks, codec::decode_items<MonitorEventSource>(acks, kMaxParts, "part acks", decode_ack));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView releases, r.bytes(kPartReleases));
  HASHLOCK_ASSIGN_OR_RETURN(
      part.releases,
      codec::decode_items<HtlcRelease>(releases, kMaxParts, "part releases", decode_release));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return part;
}

}  // namespace

PaymentPart* OutboundPayment::part(uint64_t part_id) {
  auto it = std::find_if(parts.begin(), parts.end(),
                         [&](const PaymentPart& p) { return p.part_id == part_id; });
  return it == parts.end() ? nullptr : &*it;
}

AmountMsat OutboundPayment::fees() const {
  AmountMsat total;
  for (const PaymentPart& p : parts) {
    if (p.state == PartState::kFailed) continue;
    auto sum = total.checked_add(p.fee);
    HASHLOCK_CHECK(sum.is_ok(), "the fees of one payment's parts overflow");
    total = *sum;
  }
  return total;
}

AmountMsat OutboundPayment::live_amount() const {
  AmountMsat total;
  for (const PaymentPart& p : parts) {
    if (p.state == PartState::kFailed) continue;
    auto sum = total.checked_add(p.amount);
    HASHLOCK_CHECK(sum.is_ok(), "the amounts of one payment's parts overflow");
    total = *sum;
  }
  return total;
}

size_t OutboundPayment::in_flight() const {
  return static_cast<size_t>(std::count_if(parts.begin(), parts.end(), [](const PaymentPart& p) {
    return p.state == PartState::kInFlight;
  }));
}

bool OutboundPayment::finished() const {
  if (state == PaymentState::kPending || !terminal_handled) return false;
  return std::all_of(parts.begin(), parts.end(), [](const PaymentPart& p) {
    return p.state != PartState::kInFlight && p.path_handled && p.acks.empty() &&
           p.releases.empty();
  });
}

void OutboundPayment::take_due(std::vector<MonitorEventSource>* acks,
                               std::vector<HtlcRelease>* releases) {
  if (!terminal_handled) return;
  for (PaymentPart& p : parts) {
    if (!p.path_handled) continue;
    acks->insert(acks->end(), p.acks.begin(), p.acks.end());
    releases->insert(releases->end(), p.releases.begin(), p.releases.end());
    p.acks.clear();
    p.releases.clear();
  }
}

bool retryable(const FailureReason& reason, size_t route_hops) {
  const bool at_payee = reason.failing_hop + 1 >= route_hops;
  switch (reason.code) {
    case FailureCode::kMppTimeout:
      return true;
    case FailureCode::kTemporaryChannelFailure:
    case FailureCode::kUnknownNextPeer:
    case FailureCode::kFeeInsufficient:
    case FailureCode::kIncorrectCltvExpiry:
    case FailureCode::kAmountBelowMinimum:
    case FailureCode::kExpiryTooSoon:
    case FailureCode::kChannelClosed:
      return !at_payee;
    case FailureCode::kPermanentChannelFailure:
    case FailureCode::kIncorrectPaymentDetails:
      return false;
  }
  return false;
}

std::optional<ChannelId> blamed_channel(const FailureReason& reason,
                                        const std::vector<ChannelId>& route) {
  // Hop k is the node at the end of route[k]; it forwards into route[k + 1].
  const size_t next = static_cast<size_t>(reason.failing_hop) + 1;
  if (reason.code == FailureCode::kMppTimeout || next >= route.size()) return std::nullopt;
  return route[next];
}

Bytes encode_outbound_payment(const PaymentId& id, const OutboundPayment& p) {
  codec::TlvWriter w;
  w.bytes32(kId, id)
      .bytes32(kHash, p.payment_hash)
      .amount(kAmount, p.amount)
      .u64(kState, static_cast<uint64_t>(p.state))
      .boolean(kTerminalHandled, p.terminal_handled)
      .boolean(kMultipath, p.multipath)
      .u64(kPayee, p.payee.value())
      .u64(kRetriesLeft, p.retries_left)
      .u64(kExpiresAt, p.expires_at_tick)
      .boolean(kAbandoned, p.abandoned)
      .u64(kNextPartId, p.next_part_id);
  if (p.last_failure) w.bytes(kLastFailure, encode_failure(*p.last_failure));
  w.bytes(kExcluded, codec::encode_items(p.excluded, encode_channel))
      .bytes(kParts, codec::encode_items(p.parts, encode_part));
  return w.take();
}

util::Result<std::pair<PaymentId, OutboundPayment>> decode_outbound_payment(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r,
                            codec::TlvReader::parse(encoded, "outbound payment"));
  HASHLOCK_ASSIGN_OR_RETURN(PaymentId id, r.bytes32<PaymentId>(kId));
  OutboundPayment p;
  HASHLOCK_ASSIGN_OR_RETURN(p.payment_hash, r.bytes32<PaymentHash>(kHash));
  HASHLOCK_ASSIGN_OR_RETURN(p.amount, r.amount(kAmount));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t state, r.u64(kState));
  if (state > 2)
    return util::corruption("outbound payment state " + std::to_string(state) + " is unknown");
  p.state = static_cast<PaymentState>(state);
  HASHLOCK_ASSIGN_OR_RETURN(p.terminal_handled, r.boolean(kTerminalHandled));
  HASHLOCK_ASSIGN_OR_RETURN(p.multipath, r.boolean(kMultipath));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t payee, r.u64(kPayee));
  p.payee = NodeId(payee);
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t retries, r.u64(kRetriesLeft));
  if (retries > UINT32_MAX) return util::corruption("outbound payment: retries out of range");
  p.retries_left = static_cast<uint32_t>(retries);
  HASHLOCK_ASSIGN_OR_RETURN(p.expires_at_tick, r.u64(kExpiresAt));
  HASHLOCK_ASSIGN_OR_RETURN(p.abandoned, r.boolean(kAbandoned));
  HASHLOCK_ASSIGN_OR_RETURN(p.next_part_id, r.u64(kNextPartId));
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> failure, r.optional_bytes(kLastFailure));
  if (failure) {
    HASHLOCK_ASSIGN_OR_RETURN(FailureReason reason, decode_failure(*failure));
    p.last_failure = reason;
  }
  HASHLOCK_ASSIGN_OR_RETURN(ByteView excluded, r.bytes(kExcluded));
  HASHLOCK_ASSIGN_OR_RETURN(
      p.excluded,
      codec::decode_items<ChannelId>(excluded, kMaxParts, "excluded channels", decode_channel));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView parts, r.bytes(kParts));
  HASHLOCK_ASSIGN_OR_RETURN(
      p.parts, codec::decode_items<PaymentPart>(parts, kMaxParts, "payment parts", decode_part));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return std::make_pair(id, std::move(p));
}

}  // namespace hashlock::ln
