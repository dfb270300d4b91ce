#include "ln/messages.h"

#include "codec/record.h"

namespace hashlock::ln {
namespace {

// Record types 20..39 are peer messages; the index in the variant + 20.
constexpr uint16_t kFirstMessageType = 20;
constexpr const char* kNames[] = {"open_channel",        "accept_channel",      "update_add_htlc",
                                  "update_fulfill_htlc", "update_fail_htlc",    "commitment_signed",
                                  "revoke_and_ack",      "channel_reestablish", "error",
                                  "channel_ready",       "shutdown",            "closing_signed"};

codec::RecordKind kind_for(size_t index) {
  return codec::RecordKind{.type = static_cast<uint16_t>(kFirstMessageType + index),
                           .min_version = 1,
                           .current_version = 1,
                           .name = kNames[index]};
}

// Field numbers, shared across messages where the meaning is shared.
enum Field : uint64_t {
  kChannel = 0,
  kHtlcId = 2,
  kAmount = 4,
  kHash = 6,
  kExpiry = 8,
  kOnion = 9,
  kPreimage = 10,
  kReason = 12,
  kNumber = 14,
  kDigest = 16,
  kSecret = 18,
  kPoint = 20,
  kNumber2 = 22,
  kCapacity = 24,
  kPush = 26,
  kMaxHtlcs = 28,
  kMaxInFlight = 30,
  kReserve = 32,
  kMinimum = 34,
  kPoint2 = 36,
  kText = 38,
  kSkimmedFee = 41,  // optional
  // Odd: optional, so peers without the chain layer skip them.
  kFundingTxid = 43,
  kFundingIndex = 45,
  kToSelfDelay = 47,
};

void write_limits(codec::TlvWriter& w, const ChannelLimits& limits) {
  w.u64(kMaxHtlcs, limits.max_accepted_htlcs)
      .amount(kMaxInFlight, limits.max_htlc_value_in_flight)
      .amount(kReserve, limits.channel_reserve)
      .amount(kMinimum, limits.htlc_minimum);
}

util::Result<ChannelLimits> read_limits(codec::TlvReader& r) {
  ChannelLimits limits;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t max_htlcs, r.u64(kMaxHtlcs));
  if (max_htlcs > 483)
    return util::protocol_error(r.what() + ": max_accepted_htlcs " + std::to_string(max_htlcs) +
                                " exceeds 483");
  limits.max_accepted_htlcs = static_cast<uint32_t>(max_htlcs);
  HASHLOCK_ASSIGN_OR_RETURN(limits.max_htlc_value_in_flight, r.amount(kMaxInFlight));
  HASHLOCK_ASSIGN_OR_RETURN(limits.channel_reserve, r.amount(kReserve));
  HASHLOCK_ASSIGN_OR_RETURN(limits.htlc_minimum, r.amount(kMinimum));
  return limits;
}

util::Result<util::Sha256Digest> read_digest(codec::TlvReader& r, uint64_t field) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, r.bytes(field));
  if (raw.size() != 32)
    return util::corruption(r.what() + " field " + std::to_string(field) + ": expected 32 bytes");
  util::Sha256Digest out{};
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

util::Result<uint32_t> read_u32(codec::TlvReader& r, uint64_t field) {
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t value, r.u64(field));
  if (value > UINT32_MAX)
    return util::corruption(r.what() + " field " + std::to_string(field) + ": exceeds 32 bits");
  return static_cast<uint32_t>(value);
}

// Absent: 0.
util::Result<uint32_t> read_optional_u32(codec::TlvReader& r, uint64_t field) {
  if (!r.has(field)) return uint32_t{0};
  return read_u32(r, field);
}

struct Encoder {
  codec::TlvWriter& w;
  void operator()(const OpenChannel& m) {
    w.bytes32(kChannel, m.channel_id)
        .bytes(kPoint, m.first_point)
        .amount(kCapacity, m.capacity)
        .amount(kPush, m.push);
    write_limits(w, m.limits);
    w.bytes(kPoint2, m.second_point);
    if (m.funding_outpoint) {
      w.bytes32(kFundingTxid, m.funding_outpoint->txid)
          .u64(kFundingIndex, m.funding_outpoint->index);
    }
    w.u64(kToSelfDelay, m.to_self_delay);
  }
  void operator()(const AcceptChannel& m) {
    w.bytes32(kChannel, m.channel_id).bytes(kPoint, m.first_point);
    write_limits(w, m.limits);
    w.bytes(kPoint2, m.second_point);
    w.u64(kToSelfDelay, m.to_self_delay);
  }
  void operator()(const UpdateAddHtlc& m) {
    w.bytes32(kChannel, m.channel_id)
        .u64(kHtlcId, m.htlc_id.value())
        .amount(kAmount, m.amount)
        .bytes32(kHash, m.payment_hash)
        .u64(kExpiry, m.cltv_expiry)
        .bytes(kOnion, m.onion);
    if (m.skimmed_fee.value() > 0) w.amount(kSkimmedFee, m.skimmed_fee);
  }
  void operator()(const UpdateFulfillHtlc& m) {
    w.bytes32(kChannel, m.channel_id)
        .u64(kHtlcId, m.htlc_id.value())
        .bytes32(kPreimage, m.preimage);
  }
  void operator()(const UpdateFailHtlc& m) {
    w.bytes32(kChannel, m.channel_id)
        .u64(kHtlcId, m.htlc_id.value())
        .bytes(kReason, encode_failure(m.reason));
  }
  void operator()(const CommitmentSigned& m) {
    w.bytes32(kChannel, m.channel_id).u64(kNumber, m.commitment_number).bytes(kDigest, m.signature);
  }
  void operator()(const RevokeAndAck& m) {
    w.bytes32(kChannel, m.channel_id)
        .u64(kNumber, m.revoked_commitment_number)
        .bytes(kSecret, m.per_commitment_secret)
        .bytes(kPoint, m.next_point);
  }
  void operator()(const ChannelReestablish& m) {
    w.bytes32(kChannel, m.channel_id)
        .u64(kNumber, m.next_commitment_number)
        .u64(kNumber2, m.revocations_received);
  }
  void operator()(const ErrorMessage& m) {
    w.bytes32(kChannel, m.channel_id).string(kText, m.text);
  }
  void operator()(const ChannelReady& m) { w.bytes32(kChannel, m.channel_id); }
  void operator()(const Shutdown& m) { w.bytes32(kChannel, m.channel_id); }
  void operator()(const ClosingSigned& m) {
    w.bytes32(kChannel, m.channel_id).amount(kAmount, m.fee).bytes(kDigest, m.signature);
  }
};

util::Result<Message> read_body(uint16_t type, codec::TlvReader& r) {
  ChannelId channel;
  HASHLOCK_ASSIGN_OR_RETURN(channel, r.bytes32<ChannelId>(kChannel));
  switch (type - kFirstMessageType) {
    case 0: {
      OpenChannel m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(m.first_point, read_digest(r, kPoint));
      HASHLOCK_ASSIGN_OR_RETURN(m.capacity, r.amount(kCapacity));
      HASHLOCK_ASSIGN_OR_RETURN(m.push, r.amount(kPush));
      HASHLOCK_ASSIGN_OR_RETURN(m.limits, read_limits(r));
      HASHLOCK_ASSIGN_OR_RETURN(m.second_point, read_digest(r, kPoint2));
      if (r.has(kFundingTxid)) {
        chain::OutPoint funding;
        HASHLOCK_ASSIGN_OR_RETURN(funding.txid, r.bytes32<chain::Txid>(kFundingTxid));
        HASHLOCK_ASSIGN_OR_RETURN(funding.index, read_u32(r, kFundingIndex));
        m.funding_outpoint = funding;
      }
      HASHLOCK_ASSIGN_OR_RETURN(m.to_self_delay, read_optional_u32(r, kToSelfDelay));
      return Message(m);
    }
    case 1: {
      AcceptChannel m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(m.first_point, read_digest(r, kPoint));
      HASHLOCK_ASSIGN_OR_RETURN(m.limits, read_limits(r));
      HASHLOCK_ASSIGN_OR_RETURN(m.second_point, read_digest(r, kPoint2));
      HASHLOCK_ASSIGN_OR_RETURN(m.to_self_delay, read_optional_u32(r, kToSelfDelay));
      return Message(m);
    }
    case 2: {
      UpdateAddHtlc m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(kHtlcId));
      m.htlc_id = HtlcId(id);
      HASHLOCK_ASSIGN_OR_RETURN(m.amount, r.amount(kAmount));
      HASHLOCK_ASSIGN_OR_RETURN(m.payment_hash, r.bytes32<PaymentHash>(kHash));
      HASHLOCK_ASSIGN_OR_RETURN(m.cltv_expiry, read_u32(r, kExpiry));
      HASHLOCK_ASSIGN_OR_RETURN(ByteView onion, r.bytes(kOnion));
      m.onion.assign(onion.begin(), onion.end());
      HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> skimmed, r.optional_u64(kSkimmedFee));
      m.skimmed_fee = AmountMsat(skimmed.value_or(0));
      return Message(m);
    }
    case 3: {
      UpdateFulfillHtlc m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(kHtlcId));
      m.htlc_id = HtlcId(id);
      HASHLOCK_ASSIGN_OR_RETURN(auto preimage,
                                r.bytes32<util::Bytes32<util::PaymentPreimageTag>>(kPreimage));
      m.preimage = PaymentPreimage(preimage);
      return Message(m);
    }
    case 4: {
      UpdateFailHtlc m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(kHtlcId));
      m.htlc_id = HtlcId(id);
      HASHLOCK_ASSIGN_OR_RETURN(ByteView reason, r.bytes(kReason));
      HASHLOCK_ASSIGN_OR_RETURN(m.reason, decode_failure(reason));
      return Message(m);
    }
    case 5: {
      CommitmentSigned m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(m.commitment_number, r.u64(kNumber));
      HASHLOCK_ASSIGN_OR_RETURN(m.signature, read_digest(r, kDigest));
      return Message(m);
    }
    case 6: {
      RevokeAndAck m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(m.revoked_commitment_number, r.u64(kNumber));
      HASHLOCK_ASSIGN_OR_RETURN(m.per_commitment_secret, read_digest(r, kSecret));
      HASHLOCK_ASSIGN_OR_RETURN(m.next_point, read_digest(r, kPoint));
      return Message(m);
    }
    case 7: {
      ChannelReestablish m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(m.next_commitment_number, r.u64(kNumber));
      HASHLOCK_ASSIGN_OR_RETURN(m.revocations_received, r.u64(kNumber2));
      return Message(m);
    }
    case 8: {
      ErrorMessage m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(m.text, r.string(kText));
      return Message(m);
    }
    case 9:
      return Message(ChannelReady{channel});
    case 10:
      return Message(Shutdown{channel});
    case 11: {
      ClosingSigned m{.channel_id = channel};
      HASHLOCK_ASSIGN_OR_RETURN(m.fee, r.amount(kAmount));
      HASHLOCK_ASSIGN_OR_RETURN(m.signature, read_digest(r, kDigest));
      return Message(m);
    }
    default:
      return util::unsupported("unknown message type " + std::to_string(type));
  }
}

}  // namespace

std::string message_name(const Message& message) {
  return kNames[message.index()];
}

const ChannelId& message_channel(const Message& message) {
  return std::visit([](const auto& m) -> const ChannelId& { return m.channel_id; }, message);
}

Bytes encode_message(const Message& message) {
  codec::TlvWriter fields;
  std::visit(Encoder{fields}, message);
  return codec::encode_record(kind_for(message.index()), fields);
}

util::Result<Message> decode_message(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(uint16_t type, codec::peek_record_type(encoded));
  const size_t count = std::variant_size_v<Message>;
  if (type < kFirstMessageType || type >= kFirstMessageType + count) {
    return util::unsupported("unknown message type " + std::to_string(type));
  }
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                            codec::open_record(kind_for(type - kFirstMessageType), encoded));
  HASHLOCK_ASSIGN_OR_RETURN(Message message, read_body(type, record.fields));
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return message;
}

}  // namespace hashlock::ln
