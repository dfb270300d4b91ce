#include "ln/monitor_update.h"

#include "codec/record.h"

namespace hashlock::ln {
namespace {

constexpr codec::RecordKind kUpdateRecord{
    .type = 40, .min_version = 1, .current_version = 1, .name = "monitor update"};

enum UpdateField : uint64_t { kChannel = 0, kUpdateId = 2, kSteps = 4 };
enum StepField : uint64_t {
  kStepKind = 0,
  kNumber = 2,
  kHtlcs = 4,
  kClaimed = 6,
  kFailed = 8,
  kPreimage = 10,
  kSecret = 12,
  kFlag = 14,
  kText = 16,
  kHtlcId = 18,
  kToHolder = 20,
  kToCounterparty = 22,
  // Odd: optional, so older builds skip them.
  kPoint = 25,
  kTheirToHolder = 27,
  kTheirToCounterparty = 29,
};
enum HtlcField : uint64_t {
  kOffered = 0,
  kId = 2,
  kAmount = 4,
  kHash = 6,
  kExpiry = 8,
  kSource = 10,
  kReason = 12,
  kSkimmed = 14,
};

constexpr size_t kMaxListItems = kMaxHtlcsPerCommitment;

template <typename T, typename Decode>
util::Result<std::vector<T>> read_list(codec::TlvReader& r, uint64_t field, Decode decode) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, r.bytes(field));
  return codec::decode_items<T>(raw, kMaxListItems, r.what(), decode);
}

Bytes encode_claimed(const ClaimedHtlc& c) {
  codec::TlvWriter w;
  w.u64(kId, c.htlc_id.value()).bytes32(kHash, c.preimage).amount(kSkimmed, c.skimmed_fee);
  return w.take();
}

util::Result<ClaimedHtlc> decode_claimed(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(encoded, "claimed htlc"));
  ClaimedHtlc c;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(kId));
  c.htlc_id = HtlcId(id);
  HASHLOCK_ASSIGN_OR_RETURN(auto preimage,
                            r.bytes32<util::Bytes32<util::PaymentPreimageTag>>(kHash));
  c.preimage = PaymentPreimage(preimage);
  HASHLOCK_ASSIGN_OR_RETURN(c.skimmed_fee, r.amount(kSkimmed));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return c;
}

Bytes encode_failed(const FailedHtlc& f) {
  codec::TlvWriter w;
  w.u64(kId, f.htlc_id.value()).bytes(kReason, encode_failure(f.reason));
  return w.take();
}

util::Result<FailedHtlc> decode_failed(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(encoded, "failed htlc"));
  FailedHtlc f;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(kId));
  f.htlc_id = HtlcId(id);
  HASHLOCK_ASSIGN_OR_RETURN(ByteView reason, r.bytes(kReason));
  HASHLOCK_ASSIGN_OR_RETURN(f.reason, decode_failure(reason));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return f;
}

enum StepKind : uint64_t {
  kHolderKind = 0,
  kCounterpartyKind = 1,
  kPreimageKind = 2,
  kSecretKind = 3,
  kClosedKind = 4,
  kReleaseKind = 5,
};

struct StepEncoder {
  codec::TlvWriter& w;
  void operator()(const LatestHolderCommitment& s) {
    w.u64(kStepKind, kHolderKind)
        .u64(kNumber, s.commitment_number)
        .bytes(kHtlcs, codec::encode_items(s.htlcs, encode_commitment_htlc))
        .bytes(kClaimed, codec::encode_items(s.claimed_htlcs, encode_claimed))
        .bytes(kFailed, codec::encode_items(s.failed_htlcs, encode_failed))
        .amount(kToHolder, s.to_holder)
        .amount(kToCounterparty, s.to_counterparty);
    if (s.per_commitment_point) w.bytes(kPoint, *s.per_commitment_point);
  }
  void operator()(const LatestCounterpartyCommitment& s) {
    w.u64(kStepKind, kCounterpartyKind)
        .u64(kNumber, s.commitment_number)
        .bytes(kHtlcs, codec::encode_items(s.htlcs, encode_commitment_htlc));
    if (s.balances) {
      w.bytes(kPoint, s.balances->per_commitment_point)
          .amount(kTheirToHolder, s.balances->to_holder)
          .amount(kTheirToCounterparty, s.balances->to_counterparty);
    }
  }
  void operator()(const PaymentPreimageStep& s) {
    w.u64(kStepKind, kPreimageKind).bytes32(kPreimage, s.preimage);
  }
  void operator()(const CommitmentSecretStep& s) {
    w.u64(kStepKind, kSecretKind).u64(kNumber, s.commitment_number).bytes(kSecret, s.secret);
  }
  void operator()(const ChannelForceClosed& s) {
    w.u64(kStepKind, kClosedKind).boolean(kFlag, s.should_broadcast).string(kText, s.reason);
  }
  void operator()(const ReleasePaymentComplete& s) {
    w.u64(kStepKind, kReleaseKind).u64(kHtlcId, s.htlc_id.value());
  }
};

util::Result<std::optional<util::Sha256Digest>> read_optional_point(codec::TlvReader& r) {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> raw, r.optional_bytes(kPoint));
  if (!raw) return std::optional<util::Sha256Digest>();
  if (raw->size() != 32) return util::corruption("monitor update step: point is not 32 bytes");
  util::Sha256Digest point{};
  std::copy(raw->begin(), raw->end(), point.begin());
  return std::optional<util::Sha256Digest>(point);
}

util::Result<MonitorStep> decode_step(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r,
                            codec::TlvReader::parse(encoded, "monitor update step"));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t kind, r.u64(kStepKind));
  MonitorStep step;
  switch (kind) {
    case kHolderKind: {
      LatestHolderCommitment s;
      HASHLOCK_ASSIGN_OR_RETURN(s.commitment_number, r.u64(kNumber));
      HASHLOCK_ASSIGN_OR_RETURN(s.htlcs,
                                read_list<CommitmentHtlc>(r, kHtlcs, decode_commitment_htlc));
      HASHLOCK_ASSIGN_OR_RETURN(s.claimed_htlcs,
                                read_list<ClaimedHtlc>(r, kClaimed, decode_claimed));
      HASHLOCK_ASSIGN_OR_RETURN(s.failed_htlcs, read_list<FailedHtlc>(r, kFailed, decode_failed));
      HASHLOCK_ASSIGN_OR_RETURN(s.to_holder, r.amount(kToHolder));
      HASHLOCK_ASSIGN_OR_RETURN(s.to_counterparty, r.amount(kToCounterparty));
      HASHLOCK_ASSIGN_OR_RETURN(s.per_commitment_point, read_optional_point(r));
      step = std::move(s);
      break;
    }
    case kCounterpartyKind: {
      LatestCounterpartyCommitment s;
      HASHLOCK_ASSIGN_OR_RETURN(s.commitment_number, r.u64(kNumber));
      HASHLOCK_ASSIGN_OR_RETURN(s.htlcs,
                                read_list<CommitmentHtlc>(r, kHtlcs, decode_commitment_htlc));
      HASHLOCK_ASSIGN_OR_RETURN(std::optional<util::Sha256Digest> point, read_optional_point(r));
      if (point) {
        CommitmentBalances balances{.per_commitment_point = *point};
        HASHLOCK_ASSIGN_OR_RETURN(balances.to_holder, r.amount(kTheirToHolder));
        HASHLOCK_ASSIGN_OR_RETURN(balances.to_counterparty, r.amount(kTheirToCounterparty));
        s.balances = balances;
      }
      step = std::move(s);
      break;
    }
    case kPreimageKind: {
      HASHLOCK_ASSIGN_OR_RETURN(auto preimage,
                                r.bytes32<util::Bytes32<util::PaymentPreimageTag>>(kPreimage));
      step = PaymentPreimageStep{PaymentPreimage(preimage)};
      break;
    }
    case kSecretKind: {
      CommitmentSecretStep s;
      HASHLOCK_ASSIGN_OR_RETURN(s.commitment_number, r.u64(kNumber));
      HASHLOCK_ASSIGN_OR_RETURN(ByteView secret, r.bytes(kSecret));
      if (secret.size() != 32)
        return util::corruption("monitor update step: secret is not 32 bytes");
      std::copy(secret.begin(), secret.end(), s.secret.begin());
      step = s;
      break;
    }
    case kClosedKind: {
      ChannelForceClosed s;
      HASHLOCK_ASSIGN_OR_RETURN(s.should_broadcast, r.boolean(kFlag));
      HASHLOCK_ASSIGN_OR_RETURN(s.reason, r.string(kText));
      step = std::move(s);
      break;
    }
    case kReleaseKind: {
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(kHtlcId));
      step = ReleasePaymentComplete{HtlcId(id)};
      break;
    }
    default:
      return util::unsupported("monitor update step kind " + std::to_string(kind) + " is unknown");
  }
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return step;
}

}  // namespace

Bytes encode_commitment_htlc(const CommitmentHtlc& h) {
  codec::TlvWriter w;
  w.boolean(kOffered, h.offered_by_holder)
      .u64(kId, h.id.value())
      .amount(kAmount, h.amount)
      .bytes32(kHash, h.payment_hash)
      .u64(kExpiry, h.cltv_expiry);
  if (h.source) w.bytes(kSource, encode_source(*h.source));
  return w.take();
}

util::Result<CommitmentHtlc> decode_commitment_htlc(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r,
                            codec::TlvReader::parse(encoded, "commitment htlc"));
  CommitmentHtlc h;
  HASHLOCK_ASSIGN_OR_RETURN(h.offered_by_holder, r.boolean(kOffered));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(kId));
  h.id = HtlcId(id);
  HASHLOCK_ASSIGN_OR_RETURN(h.amount, r.amount(kAmount));
  HASHLOCK_ASSIGN_OR_RETURN(h.payment_hash, r.bytes32<PaymentHash>(kHash));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t expiry, r.u64(kExpiry));
  if (expiry > UINT32_MAX) return util::corruption("commitment htlc: expiry exceeds 32 bits");
  h.cltv_expiry = static_cast<uint32_t>(expiry);
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> source, r.optional_bytes(kSource));
  if (source) {
    HASHLOCK_ASSIGN_OR_RETURN(HtlcSource decoded, decode_source(*source));
    h.source = decoded;
  }
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return h;
}

Bytes encode_update(const ChannelMonitorUpdate& update) {
  std::vector<Bytes> steps;
  steps.reserve(update.steps.size());
  for (const MonitorStep& step : update.steps) {
    codec::TlvWriter w;
    std::visit(StepEncoder{w}, step);
    steps.push_back(w.take());
  }
  codec::TlvWriter fields;
  fields.bytes32(kChannel, update.channel_id)
      .u64(kUpdateId, update.update_id)
      .bytes(kSteps, codec::encode_list(steps));
  return codec::encode_record(kUpdateRecord, fields);
}

util::Result<ChannelMonitorUpdate> decode_update(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record, codec::open_record(kUpdateRecord, encoded));
  ChannelMonitorUpdate update;
  HASHLOCK_ASSIGN_OR_RETURN(update.channel_id, record.fields.bytes32<ChannelId>(kChannel));
  HASHLOCK_ASSIGN_OR_RETURN(update.update_id, record.fields.u64(kUpdateId));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, record.fields.bytes(kSteps));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ByteView> steps,
                            codec::decode_list(raw, kMaxStepsPerUpdate, "monitor update"));
  for (ByteView step : steps) {
    HASHLOCK_ASSIGN_OR_RETURN(MonitorStep decoded, decode_step(step));
    update.steps.push_back(std::move(decoded));
  }
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return update;
}

}  // namespace hashlock::ln
