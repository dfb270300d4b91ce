#include "ln/monitor_update.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "codec/record.h"

namespace hashlock::ln {
namespace {

// Version 2: a commitment step may be written against its base (below).
constexpr codec::RecordKind kUpdateRecord{
    .type = 40, .min_version = 1, .current_version = 2, .name = "monitor update"};

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
  // A commitment step against its base (version 2): the HTLCs added and the
  // keys removed, instead of kHtlcs.
  kAdded = 30,
  kRemoved = 32,
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

using HtlcKey = std::pair<bool, uint64_t>;
HtlcKey key_of(const CommitmentHtlc& h) {
  return {h.offered_by_holder, h.id.value()};
}
bool key_less(const CommitmentHtlc& a, const CommitmentHtlc& b) {
  return key_of(a) < key_of(b);
}

// The list a delta stands for: the base without the removed keys, merged in
// key order with the added HTLCs. Both the writer (to check that the delta
// stands for exactly the step's list) and the reader use it.
std::vector<CommitmentHtlc> apply_delta(const std::vector<CommitmentHtlc>& base,
                                        const std::set<HtlcKey>& removed,
                                        const std::vector<CommitmentHtlc>& added) {
  std::vector<CommitmentHtlc> kept;
  kept.reserve(base.size());
  for (const CommitmentHtlc& h : base) {
    if (removed.count(key_of(h)) == 0) kept.push_back(h);
  }
  std::vector<CommitmentHtlc> out;
  out.reserve(kept.size() + added.size());
  std::merge(kept.begin(), kept.end(), added.begin(), added.end(), std::back_inserter(out),
             key_less);
  return out;
}

// A commitment's HTLC list as written: in full (kHtlcs), or as a delta
// against `base` (kAdded, kRemoved) when one stands for it exactly. The
// fields sit at their places among the step's others (TLV order).
struct HtlcsField {
  bool delta = false;
  Bytes full_or_added;
  Bytes removed;
  void write_full(codec::TlvWriter& w) const {
    if (!delta) w.bytes(kHtlcs, full_or_added);
  }
  void write_delta(codec::TlvWriter& w) const {
    if (delta) w.bytes(kAdded, full_or_added).bytes(kRemoved, removed);
  }
};

HtlcsField encode_htlcs(const std::vector<CommitmentHtlc>& htlcs,
                        const std::vector<CommitmentHtlc>* base) {
  if (base != nullptr && std::is_sorted(htlcs.begin(), htlcs.end(), key_less)) {
    std::map<HtlcKey, const CommitmentHtlc*> before;
    for (const CommitmentHtlc& h : *base) before.emplace(key_of(h), &h);
    std::vector<CommitmentHtlc> added;
    for (const CommitmentHtlc& h : htlcs) {
      auto it = before.find(key_of(h));
      if (it != before.end() && *it->second == h) {
        before.erase(it);
        continue;
      }
      added.push_back(h);
    }
    // What is left of the base is gone, or replaced by an added HTLC.
    std::set<HtlcKey> removed;
    for (const auto& [key, h] : before) removed.insert(key);
    for (const CommitmentHtlc& h : added) removed.insert(key_of(h));
    if (added.size() + removed.size() < htlcs.size() &&
        apply_delta(*base, removed, added) == htlcs) {
      codec::ByteWriter keys;
      for (const HtlcKey& key : removed) {
        keys.u8(key.first ? 1 : 0);
        keys.bigsize(key.second);
      }
      return HtlcsField{true, codec::encode_items(added, encode_commitment_htlc), keys.take()};
    }
  }
  return HtlcsField{false, codec::encode_items(htlcs, encode_commitment_htlc), {}};
}

util::Result<std::vector<CommitmentHtlc>> read_htlcs(codec::TlvReader& r,
                                                     const std::vector<CommitmentHtlc>* base) {
  if (r.has(kHtlcs)) return read_list<CommitmentHtlc>(r, kHtlcs, decode_commitment_htlc);
  if (base == nullptr) {
    return util::corruption(
        "monitor update step: a commitment written against its base, read without one");
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<CommitmentHtlc> added,
                            read_list<CommitmentHtlc>(r, kAdded, decode_commitment_htlc));
  if (!std::is_sorted(added.begin(), added.end(), key_less))
    return util::corruption("monitor update step: added HTLCs out of order");
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw_removed, r.bytes(kRemoved));
  codec::ByteReader in(raw_removed);
  std::set<HtlcKey> removed;
  while (!in.at_end()) {
    HASHLOCK_ASSIGN_OR_RETURN(uint8_t offered, in.u8("removed htlc side"));
    if (offered > 1) return util::corruption("monitor update step: removed htlc side is not 0 or 1");
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, in.bigsize("removed htlc id"));
    removed.emplace(offered == 1, id);
  }
  std::vector<CommitmentHtlc> out = apply_delta(*base, removed, added);
  if (out.size() > kMaxListItems)
    return util::corruption("monitor update step: more than " + std::to_string(kMaxListItems) +
                            " HTLCs");
  return out;
}

struct StepEncoder {
  codec::TlvWriter* w;
  const std::vector<CommitmentHtlc>* holder_base = nullptr;
  const std::vector<CommitmentHtlc>* counterparty_base = nullptr;
  void operator()(const LatestHolderCommitment& s) {
    const HtlcsField htlcs = encode_htlcs(s.htlcs, holder_base);
    w->u64(kStepKind, kHolderKind).u64(kNumber, s.commitment_number);
    htlcs.write_full(*w);
    w->bytes(kClaimed, codec::encode_items(s.claimed_htlcs, encode_claimed))
        .bytes(kFailed, codec::encode_items(s.failed_htlcs, encode_failed))
        .amount(kToHolder, s.to_holder)
        .amount(kToCounterparty, s.to_counterparty);
    if (s.per_commitment_point) w->bytes(kPoint, *s.per_commitment_point);
    htlcs.write_delta(*w);
  }
  void operator()(const LatestCounterpartyCommitment& s) {
    const HtlcsField htlcs = encode_htlcs(s.htlcs, counterparty_base);
    w->u64(kStepKind, kCounterpartyKind).u64(kNumber, s.commitment_number);
    htlcs.write_full(*w);
    if (s.balances) {
      w->bytes(kPoint, s.balances->per_commitment_point)
          .amount(kTheirToHolder, s.balances->to_holder)
          .amount(kTheirToCounterparty, s.balances->to_counterparty);
    }
    htlcs.write_delta(*w);
  }
  void operator()(const PaymentPreimageStep& s) {
    w->u64(kStepKind, kPreimageKind).bytes32(kPreimage, s.preimage);
  }
  void operator()(const CommitmentSecretStep& s) {
    w->u64(kStepKind, kSecretKind).u64(kNumber, s.commitment_number).bytes(kSecret, s.secret);
  }
  void operator()(const ChannelForceClosed& s) {
    w->u64(kStepKind, kClosedKind).boolean(kFlag, s.should_broadcast).string(kText, s.reason);
  }
  void operator()(const ReleasePaymentComplete& s) {
    w->u64(kStepKind, kReleaseKind).u64(kHtlcId, s.htlc_id.value());
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

util::Result<MonitorStep> decode_step(ByteView encoded, const std::vector<CommitmentHtlc>* holder_base,
                                      const std::vector<CommitmentHtlc>* counterparty_base) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r,
                            codec::TlvReader::parse(encoded, "monitor update step"));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t kind, r.u64(kStepKind));
  MonitorStep step;
  switch (kind) {
    case kHolderKind: {
      LatestHolderCommitment s;
      HASHLOCK_ASSIGN_OR_RETURN(s.commitment_number, r.u64(kNumber));
      HASHLOCK_ASSIGN_OR_RETURN(s.htlcs, read_htlcs(r, holder_base));
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
      HASHLOCK_ASSIGN_OR_RETURN(s.htlcs, read_htlcs(r, counterparty_base));
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

Bytes encode_update(const ChannelMonitorUpdate& update, const CommitmentBase& base) {
  std::vector<Bytes> steps;
  steps.reserve(update.steps.size());
  StepEncoder encoder{.w = {}, .holder_base = base.holder, .counterparty_base = base.counterparty};
  for (const MonitorStep& step : update.steps) {
    codec::TlvWriter w;
    encoder.w = &w;
    std::visit(encoder, step);
    // A later step of the same kind is written against this one.
    if (const auto* holder = std::get_if<LatestHolderCommitment>(&step))
      encoder.holder_base = &holder->htlcs;
    if (const auto* counterparty = std::get_if<LatestCounterpartyCommitment>(&step))
      encoder.counterparty_base = &counterparty->htlcs;
    steps.push_back(w.take());
  }
  codec::TlvWriter fields;
  fields.bytes32(kChannel, update.channel_id)
      .u64(kUpdateId, update.update_id)
      .bytes(kSteps, codec::encode_list(steps));
  return codec::encode_record(kUpdateRecord, fields);
}

util::Result<ChannelMonitorUpdate> decode_update(ByteView encoded, const CommitmentBase& base) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record, codec::open_record(kUpdateRecord, encoded));
  ChannelMonitorUpdate update;
  HASHLOCK_ASSIGN_OR_RETURN(update.channel_id, record.fields.bytes32<ChannelId>(kChannel));
  HASHLOCK_ASSIGN_OR_RETURN(update.update_id, record.fields.u64(kUpdateId));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, record.fields.bytes(kSteps));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ByteView> steps,
                            codec::decode_list(raw, kMaxStepsPerUpdate, "monitor update"));
  // Steps are kept in place, so the base of a later step can point at an earlier one.
  update.steps.reserve(steps.size());
  const std::vector<CommitmentHtlc>* holder_base = base.holder;
  const std::vector<CommitmentHtlc>* counterparty_base = base.counterparty;
  for (ByteView step : steps) {
    HASHLOCK_ASSIGN_OR_RETURN(MonitorStep decoded, decode_step(step, holder_base, counterparty_base));
    update.steps.push_back(std::move(decoded));
    const MonitorStep& kept = update.steps.back();
    if (const auto* holder = std::get_if<LatestHolderCommitment>(&kept)) holder_base = &holder->htlcs;
    if (const auto* counterparty = std::get_if<LatestCounterpartyCommitment>(&kept))
      counterparty_base = &counterparty->htlcs;
  }
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return update;
}

}  // namespace hashlock::ln
