// Channel::encode / decode: the channel's part of the manager snapshot.
#include "codec/record.h"
#include "ln/channel.h"

namespace hashlock::ln {
namespace {

// Version 2: log entries carry only the fields of their kind.
constexpr codec::RecordKind kChannelRecord{
    .type = 41, .min_version = 1, .current_version = 2, .name = "channel"};
constexpr size_t kMaxListItems = 100'000;

enum Field : uint64_t {
  kId = 0,
  kPeer = 2,
  kOpener = 4,
  kPhase = 6,
  kCapacity = 8,
  kOurLimits = 10,
  kTheirLimits = 12,
  kSeed = 14,
  kSecrets = 16,
  kPoints = 18,
  kBaseUs = 20,
  kBaseThem = 22,
  kBaseHtlcs = 24,
  kBaseOurs = 26,
  kBaseTheirs = 28,
  kOurLog = 30,
  kTheirLog = 32,
  kLocal = 34,
  kRemote = 36,
  kPrevRemoteOurs = 38,
  kAwaitingRaa = 40,
  kOurAcked = 42,
  kTheirCommitted = 44,
  kOurRemovedReported = 46,
  kRaaFirst = 48,
  kNextHtlcId = 50,
  kTheirNextHtlcId = 52,
  kHoldingCell = 54,
  kLatestUpdateId = 56,
  kConnected = 58,
  // Odd: optional, so older builds skip them.
  kFundingTxid = 61,
  kFundingIndex = 63,
  kOurToSelfDelay = 65,
  kTheirToSelfDelay = 67,
  kReadySent = 69,
  kReadyReceived = 71,
  kShutdownWanted = 73,
  kShutdownSent = 75,
  kShutdownReceived = 77,
  kClosingProposed = 79,
  kClosingFee = 81,
  // Only in the core of a channel kept in parts (encode_core): even, so
  // that decode() refuses a core instead of reading a channel without HTLCs.
  kCoreOurLogSize = 1000,
  kCoreTheirLogSize = 1002,
  kCoreBaseHtlcs = 1004,
};
enum EntryField : uint64_t {
  kKind = 0,
  kHtlcId = 2,
  kAmount = 4,
  kHash = 6,
  kExpiry = 8,
  kOnion = 10,
  kSource = 12,
  kPreimage = 14,
  kReason = 16,
  kSkimmed = 18,
  kOfferedByUs = 20,
};

Bytes encode_limits(const ChannelLimits& l) {
  codec::TlvWriter w;
  w.u64(0, l.max_accepted_htlcs)
      .amount(2, l.max_htlc_value_in_flight)
      .amount(4, l.channel_reserve)
      .amount(6, l.htlc_minimum);
  return w.take();
}

util::Result<ChannelLimits> decode_limits(ByteView raw) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(raw, "channel limits"));
  ChannelLimits l;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t max_htlcs, r.u64(0));
  l.max_accepted_htlcs = static_cast<uint32_t>(std::min<uint64_t>(max_htlcs, UINT32_MAX));
  HASHLOCK_ASSIGN_OR_RETURN(l.max_htlc_value_in_flight, r.amount(2));
  HASHLOCK_ASSIGN_OR_RETURN(l.channel_reserve, r.amount(4));
  HASHLOCK_ASSIGN_OR_RETURN(l.htlc_minimum, r.amount(6));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return l;
}

// Only the fields of the entry's kind are written: an add its HTLC, a
// fulfill its preimage, a fail its reason; and a fee skimmed, if any. Entries of
// version 1 records carry every field; they read the same.
Bytes encode_entry(const LogEntry& e, std::optional<bool> offered_by_us = std::nullopt) {
  codec::TlvWriter w;
  w.u64(kKind, static_cast<uint64_t>(e.kind)).u64(kHtlcId, e.htlc_id.value());
  if (e.kind == UpdateKind::kAdd) {
    w.amount(kAmount, e.amount).bytes32(kHash, e.payment_hash).u64(kExpiry, e.cltv_expiry);
    if (!e.onion.empty()) w.bytes(kOnion, e.onion);
    if (e.source) w.bytes(kSource, encode_source(*e.source));
  }
  if (e.kind == UpdateKind::kFulfill) w.bytes32(kPreimage, e.preimage);
  if (e.kind == UpdateKind::kFail) w.bytes(kReason, encode_failure(e.reason));
  if (e.skimmed_fee.value() > 0) w.amount(kSkimmed, e.skimmed_fee);
  if (offered_by_us) w.boolean(kOfferedByUs, *offered_by_us);
  return w.take();
}

util::Result<LogEntry> decode_entry(ByteView raw, bool* offered_by_us = nullptr) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(raw, "channel log entry"));
  LogEntry e;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t kind, r.u64(kKind));
  if (kind > 2) return util::corruption("channel log entry: unknown kind " + std::to_string(kind));
  e.kind = static_cast<UpdateKind>(kind);
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(kHtlcId));
  e.htlc_id = HtlcId(id);
  // The fields of the entry's kind are required; the others are read when
  // present (version 1 wrote them all).
  const bool add = e.kind == UpdateKind::kAdd;
  const bool fulfill = e.kind == UpdateKind::kFulfill;
  const bool fail = e.kind == UpdateKind::kFail;
  if (add || r.has(kAmount)) {
    HASHLOCK_ASSIGN_OR_RETURN(e.amount, r.amount(kAmount));
  }
  if (add || r.has(kHash)) {
    HASHLOCK_ASSIGN_OR_RETURN(e.payment_hash, r.bytes32<PaymentHash>(kHash));
  }
  if (add || r.has(kExpiry)) {
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t expiry, r.u64(kExpiry));
    if (expiry > UINT32_MAX) return util::corruption("channel log entry: expiry exceeds 32 bits");
    e.cltv_expiry = static_cast<uint32_t>(expiry);
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> onion, r.optional_bytes(kOnion));
  if (onion) e.onion.assign(onion->begin(), onion->end());
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> source, r.optional_bytes(kSource));
  if (source) {
    HASHLOCK_ASSIGN_OR_RETURN(HtlcSource decoded, decode_source(*source));
    e.source = decoded;
  }
  if (fulfill || r.has(kPreimage)) {
    HASHLOCK_ASSIGN_OR_RETURN(auto preimage,
                              r.bytes32<util::Bytes32<util::PaymentPreimageTag>>(kPreimage));
    e.preimage = PaymentPreimage(preimage);
  }
  if (fail || r.has(kReason)) {
    HASHLOCK_ASSIGN_OR_RETURN(ByteView reason, r.bytes(kReason));
    HASHLOCK_ASSIGN_OR_RETURN(e.reason, decode_failure(reason));
  }
  if (r.has(kSkimmed)) {
    HASHLOCK_ASSIGN_OR_RETURN(e.skimmed_fee, r.amount(kSkimmed));
  }
  if (offered_by_us != nullptr) {
    HASHLOCK_ASSIGN_OR_RETURN(*offered_by_us, r.boolean(kOfferedByUs));
  }
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return e;
}

template <typename Container>
Bytes encode_entries(const Container& entries) {
  return codec::encode_items(entries, [](const LogEntry& e) { return encode_entry(e); });
}

util::Result<std::vector<LogEntry>> decode_entries(codec::TlvReader& r, uint64_t field) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, r.bytes(field));
  return codec::decode_items<LogEntry>(raw, kMaxListItems, "channel log",
                                       [](ByteView item) { return decode_entry(item); });
}

Bytes encode_view(const CommitmentView& v) {
  codec::ByteWriter w;
  w.u64(v.number);
  w.u64(v.ours);
  w.u64(v.theirs);
  return w.take();
}

util::Result<CommitmentView> decode_view(codec::TlvReader& r, uint64_t field) {
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw, r.bytes(field));
  codec::ByteReader in(raw);
  CommitmentView v;
  HASHLOCK_ASSIGN_OR_RETURN(v.number, in.u64("commitment number"));
  HASHLOCK_ASSIGN_OR_RETURN(v.ours, in.u64("commitment ours"));
  HASHLOCK_ASSIGN_OR_RETURN(v.theirs, in.u64("commitment theirs"));
  return v;
}

util::Result<util::Sha256Digest> read_digest(ByteView raw, const char* what) {
  if (raw.size() != 32)
    return util::corruption(std::string("channel: ") + what + " is not 32 bytes");
  util::Sha256Digest out{};
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

}  // namespace

Bytes Channel::encode() const {
  return encode_record(false);
}

Bytes Channel::encode_core() const {
  return encode_record(true);
}

Bytes Channel::encode_log_item(bool ours, uint64_t absolute) const {
  return encode_entry(ours ? our_entry(absolute) : their_entry(absolute));
}

Bytes Channel::encode_add_item(bool ours, uint64_t absolute) const {
  // Our adds offer HTLCs by us.
  return encode_entry(ours ? our_entry(absolute) : their_entry(absolute), ours);
}

Bytes Channel::encode_base_item(const Htlc& h) {
  LogEntry as_entry{.kind = UpdateKind::kAdd,
                    .htlc_id = h.id,
                    .amount = h.amount,
                    .payment_hash = h.payment_hash,
                    .cltv_expiry = h.cltv_expiry,
                    .onion = h.onion,
                    .source = h.source,
                    .skimmed_fee = h.skimmed_fee};
  return encode_entry(as_entry, h.offered_by_us);
}

Bytes Channel::encode_record(bool core) const {
  std::vector<Bytes> base_htlcs;
  if (!core) {
    for (const auto& [key, h] : base_.htlcs) base_htlcs.push_back(encode_base_item(h));
  }
  static const std::deque<LogEntry> kNoEntries;
  codec::ByteWriter points;
  for (const auto& [number, point] : their_points_) {
    points.u64(number);
    points.raw(point);
  }
  codec::TlvWriter w;
  w.bytes32(kId, id_)
      .u64(kPeer, peer_.value())
      .boolean(kOpener, is_opener_)
      .u64(kPhase, static_cast<uint64_t>(phase_))
      .amount(kCapacity, capacity_)
      .bytes(kOurLimits, encode_limits(our_limits_))
      .bytes(kTheirLimits, encode_limits(their_limits_))
      .bytes(kSeed, seed_)
      .bytes(kSecrets, their_secrets_.encode())
      .bytes(kPoints, points.bytes())
      .amount(kBaseUs, base_.to_us)
      .amount(kBaseThem, base_.to_them)
      .bytes(kBaseHtlcs, codec::encode_list(base_htlcs))
      .u64(kBaseOurs, base_ours_)
      .u64(kBaseTheirs, base_theirs_)
      .bytes(kOurLog, encode_entries(core ? kNoEntries : our_log_))
      .bytes(kTheirLog, encode_entries(core ? kNoEntries : their_log_))
      .bytes(kLocal, encode_view(local_))
      .bytes(kRemote, encode_view(remote_))
      .u64(kPrevRemoteOurs, prev_remote_ours_)
      .boolean(kAwaitingRaa, awaiting_raa_)
      .u64(kOurAcked, our_acked_)
      .u64(kTheirCommitted, their_committed_)
      .u64(kOurRemovedReported, our_removed_reported_)
      .boolean(kRaaFirst, raa_before_commitment_)
      .u64(kNextHtlcId, next_htlc_id_)
      .u64(kTheirNextHtlcId, their_next_htlc_id_)
      .bytes(kHoldingCell, encode_entries(holding_cell_))
      .u64(kLatestUpdateId, latest_monitor_update_id_)
      .boolean(kConnected, connected_);
  if (funding_outpoint_) {
    w.bytes32(kFundingTxid, funding_outpoint_->txid).u64(kFundingIndex, funding_outpoint_->index);
  }
  w.u64(kOurToSelfDelay, our_to_self_delay_).u64(kTheirToSelfDelay, their_to_self_delay_);
  if (ready_sent_) w.boolean(kReadySent, true);
  if (ready_received_) w.boolean(kReadyReceived, true);
  if (shutdown_wanted_) w.boolean(kShutdownWanted, true);
  if (shutdown_sent_) w.boolean(kShutdownSent, true);
  if (shutdown_received_) w.boolean(kShutdownReceived, true);
  if (closing_proposal_sent_) w.amount(kClosingProposed, closing_proposed_);
  if (closing_fee_) w.amount(kClosingFee, *closing_fee_);
  if (core) {
    w.u64(kCoreOurLogSize, our_log_.size())
        .u64(kCoreTheirLogSize, their_log_.size())
        .u64(kCoreBaseHtlcs, base_.htlcs.size());
  }
  return codec::encode_record(kChannelRecord, w);
}

util::Result<Channel> Channel::decode(ByteView encoded) {
  return decode_record(encoded, nullptr);
}

util::Result<Channel> Channel::decode_record(ByteView encoded, CoreCounts* counts) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                            codec::open_record(kChannelRecord, encoded));
  codec::TlvReader& r = record.fields;
  Channel c;
  HASHLOCK_ASSIGN_OR_RETURN(c.id_, r.bytes32<ChannelId>(kId));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t peer, r.u64(kPeer));
  c.peer_ = NodeId(peer);
  HASHLOCK_ASSIGN_OR_RETURN(c.is_opener_, r.boolean(kOpener));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t phase, r.u64(kPhase));
  if (phase > 2) return util::corruption("channel: unknown phase " + std::to_string(phase));
  c.phase_ = static_cast<ChannelPhase>(phase);
  HASHLOCK_ASSIGN_OR_RETURN(c.capacity_, r.amount(kCapacity));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView our_limits, r.bytes(kOurLimits));
  HASHLOCK_ASSIGN_OR_RETURN(c.our_limits_, decode_limits(our_limits));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView their_limits, r.bytes(kTheirLimits));
  HASHLOCK_ASSIGN_OR_RETURN(c.their_limits_, decode_limits(their_limits));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView seed, r.bytes(kSeed));
  HASHLOCK_ASSIGN_OR_RETURN(c.seed_, read_digest(seed, "seed"));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView secrets, r.bytes(kSecrets));
  HASHLOCK_ASSIGN_OR_RETURN(c.their_secrets_, CommitmentSecretStore::decode(secrets));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView points, r.bytes(kPoints));
  codec::ByteReader points_in(points);
  while (!points_in.at_end()) {
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t number, points_in.u64("point number"));
    HASHLOCK_ASSIGN_OR_RETURN(ByteView point, points_in.raw(32, "point"));
    HASHLOCK_ASSIGN_OR_RETURN(c.their_points_[number], read_digest(point, "point"));
  }
  HASHLOCK_ASSIGN_OR_RETURN(c.base_.to_us, r.amount(kBaseUs));
  HASHLOCK_ASSIGN_OR_RETURN(c.base_.to_them, r.amount(kBaseThem));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView base_htlcs, r.bytes(kBaseHtlcs));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ByteView> htlc_items,
                            codec::decode_list(base_htlcs, kMaxListItems, "channel htlcs"));
  for (ByteView item : htlc_items) {
    bool offered_by_us = false;
    HASHLOCK_ASSIGN_OR_RETURN(LogEntry e, decode_entry(item, &offered_by_us));
    c.base_.htlcs[{offered_by_us, e.htlc_id.value()}] = Htlc{
        offered_by_us, e.htlc_id, e.amount, e.payment_hash, e.cltv_expiry, e.onion, e.source,
        e.skimmed_fee};
  }
  HASHLOCK_ASSIGN_OR_RETURN(c.base_ours_, r.u64(kBaseOurs));
  HASHLOCK_ASSIGN_OR_RETURN(c.base_theirs_, r.u64(kBaseTheirs));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<LogEntry> our_log, decode_entries(r, kOurLog));
  c.our_log_.assign(our_log.begin(), our_log.end());
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<LogEntry> their_log, decode_entries(r, kTheirLog));
  c.their_log_.assign(their_log.begin(), their_log.end());
  HASHLOCK_ASSIGN_OR_RETURN(c.local_, decode_view(r, kLocal));
  HASHLOCK_ASSIGN_OR_RETURN(c.remote_, decode_view(r, kRemote));
  HASHLOCK_ASSIGN_OR_RETURN(c.prev_remote_ours_, r.u64(kPrevRemoteOurs));
  HASHLOCK_ASSIGN_OR_RETURN(c.awaiting_raa_, r.boolean(kAwaitingRaa));
  HASHLOCK_ASSIGN_OR_RETURN(c.our_acked_, r.u64(kOurAcked));
  HASHLOCK_ASSIGN_OR_RETURN(c.their_committed_, r.u64(kTheirCommitted));
  HASHLOCK_ASSIGN_OR_RETURN(c.our_removed_reported_, r.u64(kOurRemovedReported));
  HASHLOCK_ASSIGN_OR_RETURN(c.raa_before_commitment_, r.boolean(kRaaFirst));
  HASHLOCK_ASSIGN_OR_RETURN(c.next_htlc_id_, r.u64(kNextHtlcId));
  HASHLOCK_ASSIGN_OR_RETURN(c.their_next_htlc_id_, r.u64(kTheirNextHtlcId));
  HASHLOCK_ASSIGN_OR_RETURN(c.holding_cell_, decode_entries(r, kHoldingCell));
  HASHLOCK_ASSIGN_OR_RETURN(c.latest_monitor_update_id_, r.u64(kLatestUpdateId));
  HASHLOCK_ASSIGN_OR_RETURN(c.connected_, r.boolean(kConnected));
  auto optional_u32 = [&r](uint64_t field) -> util::Result<uint32_t> {
    HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> value, r.optional_u64(field));
    if (value.value_or(0) > UINT32_MAX)
      return util::corruption("channel field " + std::to_string(field) + " exceeds 32 bits");
    return static_cast<uint32_t>(value.value_or(0));
  };
  if (r.has(kFundingTxid)) {
    chain::OutPoint funding;
    HASHLOCK_ASSIGN_OR_RETURN(funding.txid, r.bytes32<chain::Txid>(kFundingTxid));
    HASHLOCK_ASSIGN_OR_RETURN(funding.index, optional_u32(kFundingIndex));
    c.funding_outpoint_ = funding;
  }
  HASHLOCK_ASSIGN_OR_RETURN(c.our_to_self_delay_, optional_u32(kOurToSelfDelay));
  HASHLOCK_ASSIGN_OR_RETURN(c.their_to_self_delay_, optional_u32(kTheirToSelfDelay));
  auto flag = [&r](uint64_t field) -> util::Result<bool> {
    if (!r.has(field)) return false;
    return r.boolean(field);
  };
  HASHLOCK_ASSIGN_OR_RETURN(c.ready_sent_, flag(kReadySent));
  HASHLOCK_ASSIGN_OR_RETURN(c.ready_received_, flag(kReadyReceived));
  HASHLOCK_ASSIGN_OR_RETURN(c.shutdown_wanted_, flag(kShutdownWanted));
  HASHLOCK_ASSIGN_OR_RETURN(c.shutdown_sent_, flag(kShutdownSent));
  HASHLOCK_ASSIGN_OR_RETURN(c.shutdown_received_, flag(kShutdownReceived));
  if (r.has(kClosingProposed)) {
    HASHLOCK_ASSIGN_OR_RETURN(c.closing_proposed_, r.amount(kClosingProposed));
    c.closing_proposal_sent_ = true;
  }
  if (r.has(kClosingFee)) {
    HASHLOCK_ASSIGN_OR_RETURN(AmountMsat fee, r.amount(kClosingFee));
    c.closing_fee_ = fee;
  }
  if (counts != nullptr) {
    HASHLOCK_ASSIGN_OR_RETURN(counts->our_log, r.u64(kCoreOurLogSize));
    HASHLOCK_ASSIGN_OR_RETURN(counts->their_log, r.u64(kCoreTheirLogSize));
    HASHLOCK_ASSIGN_OR_RETURN(counts->base_htlcs, r.u64(kCoreBaseHtlcs));
    if (!c.our_log_.empty() || !c.their_log_.empty() || !c.base_.htlcs.empty())
      return util::corruption("channel core: holds HTLCs or log entries of its own");
  }
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  if (counts == nullptr) HASHLOCK_RETURN_IF_ERROR(c.check_views());
  return c;
}

util::Status Channel::check_views() const {
  // Views must lie within the logs, or every later step would be wrong.
  const uint64_t our_end = our_log_end();
  const uint64_t their_end = their_log_end();
  for (const CommitmentView* v : {&local_, &remote_}) {
    if (v->ours < base_ours_ || v->ours > our_end || v->theirs < base_theirs_ ||
        v->theirs > their_end) {
      return util::corruption("channel: commitment view outside its update logs");
    }
  }
  return util::Status::ok();
}

util::Result<Channel> Channel::decode_parts(ByteView core, const Items& items) {
  CoreCounts counts;
  HASHLOCK_ASSIGN_OR_RETURN(Channel c, decode_record(core, &counts));
  using Listed = std::vector<std::pair<uint64_t, ByteView>>;
  auto decode_htlc = [](uint64_t id, ByteView raw, bool offered) -> util::Result<LogEntry> {
    bool offered_by_us = false;
    HASHLOCK_ASSIGN_OR_RETURN(LogEntry e, decode_entry(raw, &offered_by_us));
    if (offered_by_us != offered || e.htlc_id.value() != id || e.kind != UpdateKind::kAdd)
      return util::corruption("channel: HTLC item " + std::to_string(id) + " is stored as another");
    return e;
  };
  // One side's log: its fulfills and fails (and, from older builds, adds) by
  // index; the positions left are its adds, the HTLC items with the highest
  // ids in order. Returns how many HTLC items the log took.
  auto read_log = [&](const Listed& logged, const Listed& htlcs, bool ours, uint64_t begin,
                      uint64_t count, std::deque<LogEntry>& into) -> util::Result<size_t> {
    const char* side = ours ? "our" : "their";
    if (logged.size() > count) {
      return util::corruption(std::string("channel: ") + side + " log has " +
                              std::to_string(logged.size()) + " entries stored, its core counts " +
                              std::to_string(count));
    }
    const size_t adds = count - logged.size();
    if (adds > htlcs.size()) {
      return util::corruption(std::string("channel: ") + side + " log needs " +
                              std::to_string(adds) + " adds, " + std::to_string(htlcs.size()) +
                              " HTLC items are stored");
    }
    size_t next_logged = 0;
    size_t next_add = htlcs.size() - adds;
    for (uint64_t position = begin; position < begin + count; ++position) {
      if (next_logged < logged.size() && logged[next_logged].first < position) break;
      if (next_logged < logged.size() && logged[next_logged].first == position) {
        HASHLOCK_ASSIGN_OR_RETURN(LogEntry entry, decode_entry(logged[next_logged].second));
        into.push_back(std::move(entry));
        ++next_logged;
        continue;
      }
      if (next_add == htlcs.size()) break;
      HASHLOCK_ASSIGN_OR_RETURN(LogEntry add,
                                decode_htlc(htlcs[next_add].first, htlcs[next_add].second, ours));
      into.push_back(std::move(add));
      ++next_add;
    }
    if (next_logged != logged.size() || next_add != htlcs.size()) {
      return util::corruption(std::string("channel: ") + side +
                              " log entries are stored outside the log the core counts");
    }
    return adds;
  };
  HASHLOCK_ASSIGN_OR_RETURN(size_t our_adds, read_log(items.our_log, items.base_offered, true,
                                                      c.base_ours_, counts.our_log, c.our_log_));
  HASHLOCK_ASSIGN_OR_RETURN(
      size_t their_adds, read_log(items.their_log, items.base_received, false, c.base_theirs_,
                                  counts.their_log, c.their_log_));
  const size_t base_offered = items.base_offered.size() - our_adds;
  const size_t base_received = items.base_received.size() - their_adds;
  if (base_offered + base_received != counts.base_htlcs) {
    return util::corruption("channel: " + std::to_string(base_offered + base_received) +
                            " base HTLCs stored, its core counts " +
                            std::to_string(counts.base_htlcs));
  }
  for (bool offered : {true, false}) {
    const Listed& htlcs = offered ? items.base_offered : items.base_received;
    const size_t in_base = offered ? base_offered : base_received;
    for (size_t i = 0; i < in_base; ++i) {
      HASHLOCK_ASSIGN_OR_RETURN(LogEntry e, decode_htlc(htlcs[i].first, htlcs[i].second, offered));
      c.base_.htlcs[{offered, htlcs[i].first}] = Htlc{offered,        e.htlc_id, e.amount,
                                                      e.payment_hash, e.cltv_expiry, e.onion,
                                                      e.source,       e.skimmed_fee};
    }
  }
  HASHLOCK_RETURN_IF_ERROR(c.check_views());
  return c;
}

}  // namespace hashlock::ln
