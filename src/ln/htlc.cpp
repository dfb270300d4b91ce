#include "ln/htlc.h"

namespace hashlock::ln {
namespace {

enum FailureField : uint64_t { kCode = 0, kHop = 2, kData = 3 };
enum SourceField : uint64_t {
  kKind = 0,
  kId = 2,
  kIndex = 4,
  kAmount = 6,
  kFee = 8,
  kSkimmed = 11,  // optional
};
constexpr uint64_t kOutboundKind = 0;
constexpr uint64_t kForwardKind = 1;

}  // namespace

std::string failure_code_name(FailureCode code) {
  switch (code) {
    case FailureCode::kTemporaryChannelFailure:
      return "temporary_channel_failure";
    case FailureCode::kPermanentChannelFailure:
      return "permanent_channel_failure";
    case FailureCode::kIncorrectPaymentDetails:
      return "incorrect_or_unknown_payment_details";
    case FailureCode::kExpiryTooSoon:
      return "expiry_too_soon";
    case FailureCode::kUnknownNextPeer:
      return "unknown_next_peer";
    case FailureCode::kFeeInsufficient:
      return "fee_insufficient";
    case FailureCode::kIncorrectCltvExpiry:
      return "incorrect_cltv_expiry";
    case FailureCode::kAmountBelowMinimum:
      return "amount_below_minimum";
    case FailureCode::kMppTimeout:
      return "mpp_timeout";
    case FailureCode::kChannelClosed:
      return "channel_closed";
  }
  return "unknown";
}

util::Result<FailureCode> failure_code_from(uint64_t raw) {
  if (raw < 1 || raw > static_cast<uint64_t>(FailureCode::kChannelClosed)) {
    return util::corruption("unknown failure code " + std::to_string(raw));
  }
  return static_cast<FailureCode>(raw);
}

std::string FailureReason::to_string() const {
  return failure_code_name(code) + " at hop " + std::to_string(failing_hop);
}

SentHtlcId sent_htlc_id(const HtlcSource& source) {
  if (const auto* route = std::get_if<OutboundRoute>(&source)) {
    return SentHtlcId{false, ChannelId(route->payment_id.bytes()), route->part_id};
  }
  const auto& hop = std::get<PreviousHop>(source);
  return SentHtlcId{true, hop.channel_id, hop.htlc_id.value()};
}

Bytes encode_failure(const FailureReason& reason) {
  codec::TlvWriter fields;
  fields.u64(kCode, static_cast<uint64_t>(reason.code)).u64(kHop, reason.failing_hop);
  if (!reason.data.empty()) fields.bytes(kData, reason.data);
  return fields.take();
}

util::Result<FailureReason> decode_failure(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader fields,
                            codec::TlvReader::parse(encoded, "failure reason"));
  FailureReason reason;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t code, fields.u64(kCode));
  HASHLOCK_ASSIGN_OR_RETURN(reason.code, failure_code_from(code));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t hop, fields.u64(kHop));
  if (hop > UINT32_MAX)
    return util::corruption("failure reason: hop index " + std::to_string(hop) + " too large");
  reason.failing_hop = static_cast<uint32_t>(hop);
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> data, fields.optional_bytes(kData));
  if (data) reason.data.assign(data->begin(), data->end());
  HASHLOCK_RETURN_IF_ERROR(fields.finish());
  return reason;
}

Bytes encode_source(const HtlcSource& source) {
  codec::TlvWriter fields;
  if (const auto* route = std::get_if<OutboundRoute>(&source)) {
    fields.u64(kKind, kOutboundKind)
        .bytes32(kId, route->payment_id)
        .u64(kIndex, route->part_id)
        .amount(kAmount, route->total_amount)
        .amount(kFee, route->fee);
  } else {
    const auto& hop = std::get<PreviousHop>(source);
    fields.u64(kKind, kForwardKind)
        .bytes32(kId, hop.channel_id)
        .u64(kIndex, hop.htlc_id.value())
        .amount(kAmount, hop.incoming_amount);
    if (hop.skimmed_fee.value() > 0) fields.amount(kSkimmed, hop.skimmed_fee);
  }
  return fields.take();
}

util::Result<HtlcSource> decode_source(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader fields,
                            codec::TlvReader::parse(encoded, "htlc source"));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t kind, fields.u64(kKind));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t index, fields.u64(kIndex));
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat amount, fields.amount(kAmount));
  if (kind == kOutboundKind) {
    OutboundRoute route;
    HASHLOCK_ASSIGN_OR_RETURN(route.payment_id, fields.bytes32<PaymentId>(kId));
    route.part_id = index;
    route.total_amount = amount;
    HASHLOCK_ASSIGN_OR_RETURN(route.fee, fields.amount(kFee));
    HASHLOCK_RETURN_IF_ERROR(fields.finish());
    return HtlcSource(route);
  }
  if (kind == kForwardKind) {
    PreviousHop hop;
    HASHLOCK_ASSIGN_OR_RETURN(hop.channel_id, fields.bytes32<ChannelId>(kId));
    hop.htlc_id = HtlcId(index);
    hop.incoming_amount = amount;
    HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> skimmed, fields.optional_u64(kSkimmed));
    hop.skimmed_fee = AmountMsat(skimmed.value_or(0));
    HASHLOCK_RETURN_IF_ERROR(fields.finish());
    return HtlcSource(hop);
  }
  return util::corruption("htlc source: unknown kind " + std::to_string(kind));
}

}  // namespace hashlock::ln
