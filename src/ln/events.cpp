#include "ln/events.h"

#include "codec/tlv.h"
#include "codec/wire.h"

namespace hashlock::ln {
namespace {

enum Field : uint64_t {
  kSequence = 0,
  kKind = 2,
  kPaymentId = 4,
  kHash = 6,
  kPreimage = 8,
  kAmount = 10,
  kFee = 12,
  kReason = 14,
  kPart = 16,
  kChannel = 18,
  kText = 20,
  kNextChannel = 26,
  kSkimmed = 28,
  kOnchain = 30,
  kForwarded = 32,
  kAcks = 100,
  kReleases = 102,
};

struct Writer {
  codec::TlvWriter& w;
  void operator()(const PaymentSent& e) {
    w.u64(kKind, 0)
        .bytes32(kPaymentId, e.payment_id)
        .bytes32(kHash, e.payment_hash)
        .bytes32(kPreimage, e.preimage)
        .amount(kAmount, e.amount)
        .amount(kFee, e.fee_paid);
  }
  void operator()(const PaymentFailed& e) {
    w.u64(kKind, 1)
        .bytes32(kPaymentId, e.payment_id)
        .bytes32(kHash, e.payment_hash)
        .bytes(kReason, encode_failure(e.reason));
  }
  void operator()(const PaymentPathSuccessful& e) {
    w.u64(kKind, 2).bytes32(kPaymentId, e.payment_id).u64(kPart, e.part_id);
  }
  void operator()(const PaymentPathFailed& e) {
    w.u64(kKind, 3)
        .bytes32(kPaymentId, e.payment_id)
        .bytes(kReason, encode_failure(e.reason))
        .u64(kPart, e.part_id);
  }
  void operator()(const PaymentClaimable& e) {
    w.u64(kKind, 4).bytes32(kHash, e.payment_hash).amount(kAmount, e.amount).amount(kSkimmed, e.counterparty_skimmed_fee_msat);
  }
  void operator()(const PaymentClaimed& e) {
    w.u64(kKind, 5).bytes32(kHash, e.payment_hash).amount(kAmount, e.amount);
  }
  void operator()(const HtlcHandlingFailed& e) {
    w.u64(kKind, 6)
        .bytes32(kHash, e.payment_hash)
        .bytes(kReason, encode_failure(e.reason))
        .bytes32(kChannel, e.channel_id);
  }
  void operator()(const ChannelClosed& e) {
    w.u64(kKind, 7).bytes32(kChannel, e.channel_id).string(kText, e.reason);
  }
  void operator()(const PaymentForwarded& e) {
    w.u64(kKind, 8)
        .bytes32(kHash, e.payment_hash)
        .amount(kFee, e.total_fee_earned_msat)
        .u64(kPart, e.prev_htlc_id.value())
        .bytes32(kChannel, e.prev_channel_id)
        .bytes32(kNextChannel, e.next_channel_id)
        .amount(kSkimmed, e.skimmed_fee_msat)
        .boolean(kOnchain, e.claim_from_onchain_tx)
        .amount(kForwarded, e.outbound_amount_forwarded_msat);
  }
};

util::Result<FailureReason> read_reason(codec::TlvReader& r) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, r.bytes(kReason));
  return decode_failure(raw);
}

util::Result<Event> read_event(uint64_t kind, codec::TlvReader& r) {
  switch (kind) {
    case 0: {
      PaymentSent e;
      HASHLOCK_ASSIGN_OR_RETURN(e.payment_id, r.bytes32<PaymentId>(kPaymentId));
      HASHLOCK_ASSIGN_OR_RETURN(e.payment_hash, r.bytes32<PaymentHash>(kHash));
      HASHLOCK_ASSIGN_OR_RETURN(auto preimage,
                                r.bytes32<util::Bytes32<util::PaymentPreimageTag>>(kPreimage));
      e.preimage = PaymentPreimage(preimage);
      HASHLOCK_ASSIGN_OR_RETURN(e.amount, r.amount(kAmount));
      HASHLOCK_ASSIGN_OR_RETURN(e.fee_paid, r.amount(kFee));
      return Event(e);
    }
    case 1: {
      PaymentFailed e;
      HASHLOCK_ASSIGN_OR_RETURN(e.payment_id, r.bytes32<PaymentId>(kPaymentId));
      HASHLOCK_ASSIGN_OR_RETURN(e.payment_hash, r.bytes32<PaymentHash>(kHash));
      HASHLOCK_ASSIGN_OR_RETURN(e.reason, read_reason(r));
      return Event(e);
    }
    case 2: {
      PaymentPathSuccessful e;
      HASHLOCK_ASSIGN_OR_RETURN(e.payment_id, r.bytes32<PaymentId>(kPaymentId));
      HASHLOCK_ASSIGN_OR_RETURN(e.part_id, r.u64(kPart));
      return Event(e);
    }
    case 3: {
      PaymentPathFailed e;
      HASHLOCK_ASSIGN_OR_RETURN(e.payment_id, r.bytes32<PaymentId>(kPaymentId));
      HASHLOCK_ASSIGN_OR_RETURN(e.reason, read_reason(r));
      HASHLOCK_ASSIGN_OR_RETURN(e.part_id, r.u64(kPart));
      return Event(e);
    }
    case 4:
    case 5: {
      PaymentHash hash;
      HASHLOCK_ASSIGN_OR_RETURN(hash, r.bytes32<PaymentHash>(kHash));
      HASHLOCK_ASSIGN_OR_RETURN(AmountMsat amount, r.amount(kAmount));
      if (kind == 4) {
        HASHLOCK_ASSIGN_OR_RETURN(AmountMsat skimmed, r.amount(kSkimmed));
        return Event(PaymentClaimable{hash, amount, skimmed});
      }
      return Event(PaymentClaimed{hash, amount});
    }
    case 6: {
      HtlcHandlingFailed e;
      HASHLOCK_ASSIGN_OR_RETURN(e.payment_hash, r.bytes32<PaymentHash>(kHash));
      HASHLOCK_ASSIGN_OR_RETURN(e.reason, read_reason(r));
      HASHLOCK_ASSIGN_OR_RETURN(e.channel_id, r.bytes32<ChannelId>(kChannel));
      return Event(e);
    }
    case 7: {
      ChannelClosed e;
      HASHLOCK_ASSIGN_OR_RETURN(e.channel_id, r.bytes32<ChannelId>(kChannel));
      HASHLOCK_ASSIGN_OR_RETURN(e.reason, r.string(kText));
      return Event(e);
    }
    case 8: {
      PaymentForwarded e;
      HASHLOCK_ASSIGN_OR_RETURN(e.payment_hash, r.bytes32<PaymentHash>(kHash));
      HASHLOCK_ASSIGN_OR_RETURN(e.total_fee_earned_msat, r.amount(kFee));
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t htlc, r.u64(kPart));
      e.prev_htlc_id = HtlcId(htlc);
      HASHLOCK_ASSIGN_OR_RETURN(e.prev_channel_id, r.bytes32<ChannelId>(kChannel));
      HASHLOCK_ASSIGN_OR_RETURN(e.next_channel_id, r.bytes32<ChannelId>(kNextChannel));
      HASHLOCK_ASSIGN_OR_RETURN(e.skimmed_fee_msat, r.amount(kSkimmed));
      HASHLOCK_ASSIGN_OR_RETURN(e.claim_from_onchain_tx, r.boolean(kOnchain));
      HASHLOCK_ASSIGN_OR_RETURN(e.outbound_amount_forwarded_msat, r.amount(kForwarded));
      return Event(e);
    }
    default:
      return util::unsupported("user event kind " + std::to_string(kind) + " is unknown");
  }
}

}  // namespace

std::string event_name(const Event& event) {
  static constexpr const char* kNames[] = {
      "PaymentSent",      "PaymentFailed",  "PaymentPathSuccessful", "PaymentPathFailed",
      "PaymentClaimable", "PaymentClaimed", "HTLCHandlingFailed",    "ChannelClosed",
      "PaymentForwarded"};
  return kNames[event.index()];
}

Bytes encode_queued_event(const QueuedEvent& queued) {
  codec::TlvWriter w;
  w.u64(kSequence, queued.sequence);
  std::visit(Writer{w}, queued.event);
  codec::ByteWriter acks;
  for (const MonitorEventSource& source : queued.ack_on_handled) {
    acks.raw(source.channel_id.view());
    acks.u64(source.event_id);
  }
  w.bytes(kAcks, acks.bytes());
  codec::ByteWriter releases;
  for (const HtlcRelease& release : queued.release_on_handled) {
    releases.raw(release.channel_id.view());
    releases.u64(release.htlc_id.value());
  }
  w.bytes(kReleases, releases.bytes());
  return w.take();
}

util::Result<QueuedEvent> decode_queued_event(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r,
                            codec::TlvReader::parse(encoded, "queued user event"));
  QueuedEvent queued;
  HASHLOCK_ASSIGN_OR_RETURN(queued.sequence, r.u64(kSequence));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t kind, r.u64(kKind));
  HASHLOCK_ASSIGN_OR_RETURN(queued.event, read_event(kind, r));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView acks, r.bytes(kAcks));
  codec::ByteReader in(acks);
  while (!in.at_end()) {
    HASHLOCK_ASSIGN_OR_RETURN(ByteView channel, in.raw(32, "ack channel"));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t event_id, in.u64("ack event id"));
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, ChannelId::from_bytes(channel));
    queued.ack_on_handled.push_back(MonitorEventSource{id, event_id});
  }
  HASHLOCK_ASSIGN_OR_RETURN(ByteView releases, r.bytes(kReleases));
  codec::ByteReader releases_in(releases);
  while (!releases_in.at_end()) {
    HASHLOCK_ASSIGN_OR_RETURN(ByteView channel, releases_in.raw(32, "release channel"));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t htlc_id, releases_in.u64("release htlc id"));
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, ChannelId::from_bytes(channel));
    queued.release_on_handled.push_back(HtlcRelease{id, HtlcId(htlc_id)});
  }
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return queued;
}

}  // namespace hashlock::ln
