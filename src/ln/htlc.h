// The vocabulary of HTLC resolution shared by channels, monitors and the
// manager: node ids, failure reasons, and where an HTLC came from.
//
// HtlcSource says who is waiting for an outbound HTLC's outcome: our own
// payment (OutboundRoute) or an inbound HTLC we forwarded (PreviousHop). Its
// identity, SentHtlcId, is what the manager uses to match a monitor event to
// a payment part or a forward. Thread-safety: value types.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "codec/tlv.h"
#include "util/amount.h"
#include "util/hash.h"
#include "util/ids.h"

namespace hashlock::ln {

using util::AmountMsat;
using util::Bytes;
using util::ByteView;
using util::ChannelId;
using util::HtlcId;
using util::PaymentHash;
using util::PaymentId;
using util::PaymentPreimage;

// A node on the network (a stand-in for its public key).
class NodeId {
 public:
  constexpr NodeId() = default;
  constexpr explicit NodeId(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr auto operator<=>(const NodeId&) const = default;
  std::string to_string() const { return "node" + std::to_string(value_); }

 private:
  uint64_t value_ = 0;
};

// Why an HTLC failed. Carried back to the sender with the failing hop.
enum class FailureCode : uint16_t {
  kTemporaryChannelFailure = 1,
  kPermanentChannelFailure = 2,
  kIncorrectPaymentDetails = 3,  // the receiver does not know the payment or rejected it
  kExpiryTooSoon = 4,
  kUnknownNextPeer = 5,
  kFeeInsufficient = 6,
  kIncorrectCltvExpiry = 7,
  kAmountBelowMinimum = 8,
  kMppTimeout = 9,
  kChannelClosed = 10,
};

std::string failure_code_name(FailureCode code);
util::Result<FailureCode> failure_code_from(uint64_t raw);

struct FailureReason {
  FailureCode code = FailureCode::kTemporaryChannelFailure;
  uint32_t failing_hop = 0;  // 0: the first hop after the sender
  Bytes data;                // code-specific detail

  bool operator==(const FailureReason&) const = default;
  std::string to_string() const;
};

// Our own payment: the part of payment `payment_id` identified by `part_id`.
struct OutboundRoute {
  PaymentId payment_id;
  uint64_t part_id = 0;
  AmountMsat total_amount;  // the whole payment, all parts
  AmountMsat fee;           // route fees of this part

  bool operator==(const OutboundRoute&) const = default;
};

// A forward: the inbound HTLC `htlc_id` on `channel_id` that this one pays on.
struct PreviousHop {
  ChannelId channel_id;
  HtlcId htlc_id;
  AmountMsat incoming_amount;
  AmountMsat skimmed_fee;  // what we kept beyond our fee when forwarding it

  bool operator==(const PreviousHop&) const = default;
};

using HtlcSource = std::variant<OutboundRoute, PreviousHop>;

// The identity of an HTLC source: (prev channel, prev htlc id) or the part.
struct SentHtlcId {
  bool is_forward = false;
  ChannelId channel_or_payment;
  uint64_t htlc_or_part = 0;
  auto operator<=>(const SentHtlcId&) const = default;
};
SentHtlcId sent_htlc_id(const HtlcSource& source);

Bytes encode_failure(const FailureReason& reason);
util::Result<FailureReason> decode_failure(ByteView encoded);
Bytes encode_source(const HtlcSource& source);
util::Result<HtlcSource> decode_source(ByteView encoded);

}  // namespace hashlock::ln
