// The channel manager's records (manager_store.h).
#include "ln/manager_store.h"

#include <algorithm>
#include <cstdio>

#include "codec/record.h"

namespace hashlock::ln {
namespace {

// Version 1 of each: the manager as one record per object (before, one
// record of type 44 held everything; it is refused on load).
constexpr codec::RecordKind kNodeRecord{
    .type = 48, .min_version = 1, .current_version = 1, .name = "manager node"};
constexpr codec::RecordKind kChannelEntryRecord{
    .type = 49, .min_version = 1, .current_version = 1, .name = "manager channel"};
constexpr codec::RecordKind kPaymentRecord{
    .type = 50, .min_version = 1, .current_version = 1, .name = "outbound payment"};
constexpr codec::RecordKind kClaimableRecord{
    .type = 51, .min_version = 1, .current_version = 1, .name = "claimable payment"};
constexpr codec::RecordKind kForwardAckRecord{
    .type = 52, .min_version = 1, .current_version = 1, .name = "forward ack"};
// Version 2: the entry inside carries only the fields of its kind.
constexpr codec::RecordKind kChannelItemRecord{
    .type = 54, .min_version = 1, .current_version = 2, .name = "channel item"};
constexpr codec::RecordKind kEventRecord{
    .type = 53, .min_version = 1, .current_version = 1, .name = "queued user event"};

constexpr size_t kMaxInFlightUpdates = 1'000'000;
constexpr size_t kMaxPendingForwards = 1'000'000;

Bytes encode_pending_forward(const PendingForward& f) {
  codec::TlvWriter w;
  w.bytes32(0, f.in_channel)
      .u64(2, f.htlc.id.value())
      .amount(4, f.htlc.amount)
      .bytes32(6, f.htlc.payment_hash)
      .u64(8, f.htlc.cltv_expiry)
      .bytes(10, f.htlc.onion);
  if (f.htlc.skimmed_fee.value() != 0) w.amount(13, f.htlc.skimmed_fee);
  return w.take();
}

util::Result<PendingForward> decode_pending_forward(ByteView item) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader f, codec::TlvReader::parse(item, "pending forward"));
  PendingForward forward;
  HASHLOCK_ASSIGN_OR_RETURN(forward.in_channel, f.bytes32<ChannelId>(0));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, f.u64(2));
  forward.htlc.id = HtlcId(id);
  HASHLOCK_ASSIGN_OR_RETURN(forward.htlc.amount, f.amount(4));
  HASHLOCK_ASSIGN_OR_RETURN(forward.htlc.payment_hash, f.bytes32<PaymentHash>(6));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t cltv, f.u64(8));
  if (cltv > UINT32_MAX)
    return util::corruption("pending forward: expiry " + std::to_string(cltv) + " is too high");
  forward.htlc.cltv_expiry = static_cast<uint32_t>(cltv);
  HASHLOCK_ASSIGN_OR_RETURN(ByteView onion, f.bytes(10));
  forward.htlc.onion.assign(onion.begin(), onion.end());
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> skimmed, f.optional_u64(13));
  forward.htlc.skimmed_fee = AmountMsat(skimmed.value_or(0));
  HASHLOCK_RETURN_IF_ERROR(f.finish());
  return forward;
}

util::Status mismatch(const char* what, const std::string& expected, const std::string& found) {
  return util::corruption(std::string(what) + " under key " + expected + " holds " + found);
}

}  // namespace

std::string channel_record_key(const ChannelId& id) {
  return id.to_hex();
}
std::string payment_record_key(const PaymentId& id) {
  return id.to_hex();
}
std::string claimable_record_key(const PaymentHash& hash) {
  return hash.to_hex();
}
std::string forward_ack_record_key(const ForwardKey& key) {
  return key.first.to_hex() + "/" + event_record_key(key.second);
}
std::string event_record_key(uint64_t sequence) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(sequence));
  return std::string(hex, 16);
}

std::string channel_items_prefix(const ChannelId& id) {
  return std::string(reinterpret_cast<const char*>(id.view().data()), id.view().size());
}

std::string channel_item_key(const ChannelId& id, ChannelItemKind kind, uint64_t index) {
  std::string key = channel_items_prefix(id);
  key.push_back(static_cast<char>(kind));
  for (int shift = 56; shift >= 0; shift -= 8)
    key.push_back(static_cast<char>((index >> shift) & 0xff));
  return key;
}

// --- node ---------------------------------------------------------------------

Bytes encode_manager_node(const ManagerNode& node) {
  codec::TlvWriter w;
  w.u64(0, node.node_id.value())
      .boolean(2, node.persistent_monitor_events)
      .u64(4, node.next_event_sequence)
      .u64(6, node.channels_opened)
      .u64(8, node.tick)
      .bytes(10, codec::encode_items(node.pending_forwards, encode_pending_forward));
  if (node.handled_count) w.u64(11, *node.handled_count);
  return codec::encode_record(kNodeRecord, w);
}

util::Result<ManagerNode> decode_manager_node(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record, codec::open_record(kNodeRecord, encoded));
  codec::TlvReader& r = record.fields;
  ManagerNode node;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(0));
  node.node_id = NodeId(id);
  HASHLOCK_ASSIGN_OR_RETURN(node.persistent_monitor_events, r.boolean(2));
  HASHLOCK_ASSIGN_OR_RETURN(node.next_event_sequence, r.u64(4));
  HASHLOCK_ASSIGN_OR_RETURN(node.channels_opened, r.u64(6));
  HASHLOCK_ASSIGN_OR_RETURN(node.tick, r.u64(8));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView forwards, r.bytes(10));
  HASHLOCK_ASSIGN_OR_RETURN(node.pending_forwards, codec::decode_items<PendingForward>(
                                                       forwards, kMaxPendingForwards,
                                                       "pending forwards", decode_pending_forward));
  HASHLOCK_ASSIGN_OR_RETURN(node.handled_count, r.optional_u64(11));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return node;
}

// --- channel ------------------------------------------------------------------

namespace {

// The channel entry record: the channel's core and its in-flight updates,
// each as encoded.
Bytes encode_channel_entry(ByteView core, const std::vector<Bytes>& updates) {
  codec::TlvWriter w;
  w.bytes(0, core).bytes(2, codec::encode_list(updates));
  return codec::encode_record(kChannelEntryRecord, w);
}

struct ChannelEntryParts {
  Bytes core;
  std::vector<std::pair<ChannelMonitorUpdate, Bytes>> updates;  // decoded, and as stored
};

util::Result<ChannelEntryParts> open_channel_entry(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                            codec::open_record(kChannelEntryRecord, encoded));
  codec::TlvReader& r = record.fields;
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw_channel, r.bytes(0));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView raw_updates, r.bytes(2));
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  HASHLOCK_ASSIGN_OR_RETURN(
      std::vector<ByteView> updates,
      codec::decode_list(raw_updates, kMaxInFlightUpdates, "in-flight updates"));
  ChannelEntryParts out{Bytes(raw_channel.begin(), raw_channel.end()), {}};
  for (ByteView raw : updates) {
    HASHLOCK_ASSIGN_OR_RETURN(ChannelMonitorUpdate update, decode_update(raw));
    out.updates.emplace_back(std::move(update), Bytes(raw.begin(), raw.end()));
  }
  return out;
}

}  // namespace

Bytes encode_manager_channel(const Channel& channel,
                             const std::deque<ChannelMonitorUpdate>& in_flight,
                             const UpdateWrittenFn& written) {
  std::vector<Bytes> unwritten;
  for (const ChannelMonitorUpdate& update : in_flight) {
    if (!written || !written(update.update_id)) unwritten.push_back(encode_update(update));
  }
  return encode_channel_entry(channel.encode_core(), unwritten);
}

util::Result<ManagerChannel> decode_manager_channel(ByteView encoded, const Channel::Items& items) {
  HASHLOCK_ASSIGN_OR_RETURN(ChannelEntryParts parts, open_channel_entry(encoded));
  HASHLOCK_ASSIGN_OR_RETURN(Channel channel, Channel::decode_parts(parts.core, items));
  ManagerChannel out{std::move(channel), {}};
  for (auto& [update, raw] : parts.updates) {
    if (update.channel_id != out.channel.id())
      return mismatch("manager channel: an in-flight update", out.channel.id().to_hex(),
                      update.channel_id.to_hex());
    out.in_flight.push_back(std::move(update));
  }
  return out;
}

util::Result<Bytes> without_written_updates(ByteView encoded, const UpdateWrittenFn& written) {
  HASHLOCK_ASSIGN_OR_RETURN(ChannelEntryParts parts, open_channel_entry(encoded));
  std::vector<Bytes> kept;
  for (auto& [update, raw] : parts.updates) {
    if (!written(update.update_id)) kept.push_back(std::move(raw));
  }
  return encode_channel_entry(parts.core, kept);
}

// --- channel items ------------------------------------------------------------

Bytes encode_channel_item(ByteView item) {
  codec::TlvWriter w;
  w.bytes(0, item);
  return codec::encode_record(kChannelItemRecord, w);
}

util::Result<Bytes> decode_channel_item(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                            codec::open_record(kChannelItemRecord, encoded));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView item, record.fields.bytes(0));
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return Bytes(item.begin(), item.end());
}

namespace {

ChannelItemKind log_kind(bool ours) {
  return ours ? ChannelItemKind::kOurLog : ChannelItemKind::kTheirLog;
}
ChannelItemKind base_kind(bool offered_by_us) {
  return offered_by_us ? ChannelItemKind::kBaseOffered : ChannelItemKind::kBaseReceived;
}

// A side's fulfills and fails: new ones put, those folded into the base or
// dropped from the end removed; after a rewind an index may hold another
// entry, so all are written.
void write_log_items(const Channel& channel, bool ours, bool rewound, uint64_t written_end,
                     std::vector<uint64_t>& logged, store::WriteBatch& batch) {
  const ChannelId& id = channel.id();
  const uint64_t begin = channel.log_begin(ours);
  const uint64_t end = channel.log_end(ours);
  std::vector<uint64_t> kept;
  for (uint64_t i : logged) {
    const bool still = i >= begin && i < end &&
                       !(rewound && channel.log_entry(ours, i).kind == UpdateKind::kAdd);
    if (still) {
      kept.push_back(i);
    } else {
      batch.remove(kManagerChannelItemsNamespace, channel_item_key(id, log_kind(ours), i));
    }
  }
  for (uint64_t i = rewound ? begin : std::max(begin, written_end); i < end; ++i) {
    if (channel.log_entry(ours, i).kind == UpdateKind::kAdd) continue;
    batch.put(kManagerChannelItemsNamespace, channel_item_key(id, log_kind(ours), i),
              encode_channel_item(channel.encode_log_item(ours, i)));
    kept.push_back(i);
  }
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  logged = std::move(kept);
}

// Where an HTLC item's bytes come from: the base, or an add in a log.
struct HtlcItem {
  std::pair<bool, uint64_t> key;
  const Htlc* base = nullptr;
  bool ours = false;
  uint64_t index = 0;
  bool operator<(const HtlcItem& other) const { return key < other.key; }
};

std::vector<HtlcItem> htlc_items(const Channel& channel) {
  std::vector<HtlcItem> out;
  out.reserve(channel.base_htlcs().size());
  for (const auto& [key, htlc] : channel.base_htlcs()) out.push_back(HtlcItem{key, &htlc});
  for (bool ours : {true, false}) {
    for (uint64_t i = channel.log_begin(ours); i < channel.log_end(ours); ++i) {
      const LogEntry& entry = channel.log_entry(ours, i);
      if (entry.kind != UpdateKind::kAdd) continue;
      // Our adds offer HTLCs by us.
      out.push_back(HtlcItem{{ours, entry.htlc_id.value()}, nullptr, ours, i});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Bytes encode_htlc_item(const Channel& channel, const HtlcItem& item) {
  return encode_channel_item(item.base != nullptr ? Channel::encode_base_item(*item.base)
                                                  : channel.encode_add_item(item.ours, item.index));
}

std::string htlc_item_key(const Channel& channel, const std::pair<bool, uint64_t>& key) {
  return channel_item_key(channel.id(), base_kind(key.first), key.second);
}

}  // namespace

void write_channel_items(const Channel& channel, ChannelItemsWritten& written,
                         store::WriteBatch& batch) {
  const bool rewound = channel.log_rewinds() != written.rewinds;
  write_log_items(channel, true, rewound, written.our_end, written.our_logged, batch);
  write_log_items(channel, false, rewound, written.their_end, written.their_logged, batch);
  written.our_begin = channel.log_begin(true);
  written.our_end = channel.log_end(true);
  written.their_begin = channel.log_begin(false);
  written.their_end = channel.log_end(false);
  written.rewinds = channel.log_rewinds();
  // HTLC items: a merge of the two sorted key lists. An HTLC keeps its item
  // when its add folds into the base; after a rewind the adds in the logs
  // are written again (a re-sent add may differ).
  const std::vector<HtlcItem> now = htlc_items(channel);
  std::vector<std::pair<bool, uint64_t>> keys;
  keys.reserve(now.size());
  auto old = written.htlcs.begin();
  for (const HtlcItem& item : now) {
    for (; old != written.htlcs.end() && *old < item.key; ++old)
      batch.remove(kManagerChannelItemsNamespace, htlc_item_key(channel, *old));
    const bool stored = old != written.htlcs.end() && *old == item.key;
    if (stored) ++old;
    if (!stored || (rewound && item.base == nullptr))
      batch.put(kManagerChannelItemsNamespace, htlc_item_key(channel, item.key),
                encode_htlc_item(channel, item));
    keys.push_back(item.key);
  }
  for (; old != written.htlcs.end(); ++old)
    batch.remove(kManagerChannelItemsNamespace, htlc_item_key(channel, *old));
  written.htlcs = std::move(keys);
}

std::map<std::string, Bytes> all_channel_items(const Channel& channel) {
  std::map<std::string, Bytes> items;
  for (bool ours : {true, false}) {
    for (uint64_t i = channel.log_begin(ours); i < channel.log_end(ours); ++i) {
      if (channel.log_entry(ours, i).kind == UpdateKind::kAdd) continue;
      items[channel_item_key(channel.id(), log_kind(ours), i)] =
          encode_channel_item(channel.encode_log_item(ours, i));
    }
  }
  for (const HtlcItem& item : htlc_items(channel))
    items[htlc_item_key(channel, item.key)] = encode_htlc_item(channel, item);
  return items;
}

util::Result<ManagerChannel> decode_channel_with_items(ByteView record, const ChannelId& id,
                                                       const std::vector<store::Entry>& items,
                                                       ChannelItemsWritten& written) {
  const std::string prefix = channel_items_prefix(id);
  Channel::Items parts;
  std::vector<Bytes> decoded_items;  // what `parts` views
  decoded_items.reserve(items.size());
  for (const store::Entry& entry : items) {
    if (entry.key.size() != prefix.size() + 9 || entry.key.compare(0, prefix.size(), prefix) != 0)
      return util::corruption("channel item key " + store::printable_key(entry.key) +
                              " is malformed");
    const auto kind = static_cast<uint8_t>(entry.key[prefix.size()]);
    uint64_t index = 0;
    for (size_t i = prefix.size() + 1; i < entry.key.size(); ++i)
      index = (index << 8) | static_cast<uint8_t>(entry.key[i]);
    auto item = decode_channel_item(entry.value);
    if (!item.is_ok())
      return item.status().with_context(std::string(kManagerChannelItemsNamespace) + "/" +
                                        store::printable_key(entry.key));
    decoded_items.push_back(std::move(item).value());
    const ByteView view = decoded_items.back();
    switch (kind) {
      case 0:
        parts.our_log.emplace_back(index, view);
        break;
      case 1:
        parts.their_log.emplace_back(index, view);
        break;
      case 2:
        parts.base_offered.emplace_back(index, view);
        break;
      case 3:
        parts.base_received.emplace_back(index, view);
        break;
      default:
        return util::corruption("channel item key " + store::printable_key(entry.key) +
                                ": unknown kind " + std::to_string(kind));
    }
  }
  HASHLOCK_ASSIGN_OR_RETURN(ManagerChannel decoded, decode_manager_channel(record, parts));
  const Channel& c = decoded.channel;
  if (c.id() != id) return mismatch("manager channel", id.to_hex(), c.id().to_hex());
  written = ChannelItemsWritten{c.log_begin(true), c.log_end(true), c.log_begin(false),
                                c.log_end(false),  c.log_rewinds(), {}, {}, {}};
  for (const auto& [index, raw] : parts.our_log) written.our_logged.push_back(index);
  for (const auto& [index, raw] : parts.their_log) written.their_logged.push_back(index);
  for (const auto& [htlc_id, raw] : parts.base_received) written.htlcs.emplace_back(false, htlc_id);
  for (const auto& [htlc_id, raw] : parts.base_offered) written.htlcs.emplace_back(true, htlc_id);
  return decoded;
}

// --- outbound payment ---------------------------------------------------------

Bytes encode_payment_record(const PaymentId& id, const OutboundPayment& payment) {
  codec::TlvWriter w;
  w.bytes(0, encode_outbound_payment(id, payment));
  return codec::encode_record(kPaymentRecord, w);
}

util::Result<std::pair<PaymentId, OutboundPayment>> decode_payment_record(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                            codec::open_record(kPaymentRecord, encoded));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView payment, record.fields.bytes(0));
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return decode_outbound_payment(payment);
}

// --- claimable payment --------------------------------------------------------

Bytes encode_claimable_record(const PaymentHash& hash, const ClaimablePayment& c) {
  codec::ByteWriter htlcs;
  for (const ClaimableHtlc& h : c.htlcs) {
    htlcs.raw(h.channel_id.view());
    htlcs.u64(h.htlc_id.value());
    htlcs.u64(h.amount.value());
    htlcs.u8(h.removed ? 1 : 0);
    htlcs.u64(h.skimmed_fee.value());
  }
  codec::TlvWriter w;
  w.bytes32(0, hash)
      .amount(2, c.total)
      .bytes(4, htlcs.bytes())
      .u64(6, static_cast<uint64_t>(c.state))
      .u64(8, c.hop_index)
      .u64(10, c.first_tick);
  if (c.preimage) w.bytes32(13, *c.preimage);
  return codec::encode_record(kClaimableRecord, w);
}

util::Result<std::pair<PaymentHash, ClaimablePayment>> decode_claimable_record(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                            codec::open_record(kClaimableRecord, encoded));
  codec::TlvReader& c = record.fields;
  HASHLOCK_ASSIGN_OR_RETURN(PaymentHash hash, c.bytes32<PaymentHash>(0));
  ClaimablePayment payment;
  HASHLOCK_ASSIGN_OR_RETURN(payment.total, c.amount(2));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView htlcs, c.bytes(4));
  codec::ByteReader in(htlcs);
  while (!in.at_end()) {
    HASHLOCK_ASSIGN_OR_RETURN(ByteView channel, in.raw(32, "claimable channel"));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t htlc, in.u64("claimable htlc"));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t amount, in.u64("claimable amount"));
    HASHLOCK_ASSIGN_OR_RETURN(uint8_t removed, in.u8("claimable removed"));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t skimmed, in.u64("claimable skimmed fee"));
    if (removed > 1)
      return util::corruption("claimable payment: removed flag " + std::to_string(removed));
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId channel_id, ChannelId::from_bytes(channel));
    payment.htlcs.push_back(ClaimableHtlc{channel_id, HtlcId(htlc), AmountMsat(amount),
                                          removed != 0, AmountMsat(skimmed)});
  }
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t state, c.u64(6));
  if (state > 3)
    return util::corruption("claimable payment state " + std::to_string(state) + " is unknown");
  payment.state = static_cast<ClaimState>(state);
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t hop, c.u64(8));
  if (hop > kMaxRouteHops)
    return util::corruption("claimable payment: hop index " + std::to_string(hop));
  payment.hop_index = static_cast<uint32_t>(hop);
  HASHLOCK_ASSIGN_OR_RETURN(payment.first_tick, c.u64(10));
  if (c.has(13)) {
    HASHLOCK_ASSIGN_OR_RETURN(PaymentPreimage preimage, c.bytes32<PaymentPreimage>(13));
    payment.preimage = preimage;
  }
  HASHLOCK_RETURN_IF_ERROR(c.finish());
  return std::make_pair(hash, std::move(payment));
}

// --- forward ack --------------------------------------------------------------

Bytes encode_forward_ack_record(const ForwardKey& key, const ForwardAck& ack) {
  codec::TlvWriter w;
  w.bytes32(0, key.first).u64(2, key.second).u64(4, ack.removed_by_update);
  if (ack.source) w.bytes32(6, ack.source->channel_id).u64(8, ack.source->event_id);
  if (ack.awaits_handled) w.boolean(9, true).boolean(11, ack.handled);
  return codec::encode_record(kForwardAckRecord, w);
}

util::Result<std::pair<ForwardKey, ForwardAck>> decode_forward_ack_record(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                            codec::open_record(kForwardAckRecord, encoded));
  codec::TlvReader& a = record.fields;
  HASHLOCK_ASSIGN_OR_RETURN(ChannelId channel, a.bytes32<ChannelId>(0));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t htlc, a.u64(2));
  ForwardAck ack;
  HASHLOCK_ASSIGN_OR_RETURN(ack.removed_by_update, a.u64(4));
  if (a.has(6)) {
    MonitorEventSource source;
    HASHLOCK_ASSIGN_OR_RETURN(source.channel_id, a.bytes32<ChannelId>(6));
    HASHLOCK_ASSIGN_OR_RETURN(source.event_id, a.u64(8));
    ack.source = source;
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> awaits, a.optional_u64(9));
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> handled, a.optional_u64(11));
  if (awaits.value_or(0) > 1 || handled.value_or(0) > 1)
    return util::corruption("forward ack: a flag is neither 0 nor 1");
  ack.awaits_handled = awaits.value_or(0) == 1;
  ack.handled = handled.value_or(0) == 1;
  HASHLOCK_RETURN_IF_ERROR(a.finish());
  return std::make_pair(ForwardKey{channel, htlc}, ack);
}

// --- queued event -------------------------------------------------------------

Bytes encode_event_record(const QueuedEvent& event) {
  codec::TlvWriter w;
  w.bytes(0, encode_queued_event(event));
  return codec::encode_record(kEventRecord, w);
}

util::Result<QueuedEvent> decode_event_record(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record, codec::open_record(kEventRecord, encoded));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView event, record.fields.bytes(0));
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return decode_queued_event(event);
}

// --- snapshots ----------------------------------------------------------------

util::Result<ManagerSnapshot> snapshot_manager_records(store::KVStore& store) {
  ManagerSnapshot snapshot;
  for (const char* ns : kManagerNamespaces) {
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> entries, store.list(ns));
    snapshot.namespaces.emplace_back(ns, std::move(entries));
  }
  return snapshot;
}

util::Status restore_manager_records(store::KVStore& store, const ManagerSnapshot& snapshot) {
  store::WriteBatch batch;
  for (const char* ns : kManagerNamespaces) {
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> now, store.list(ns));
    for (const store::Entry& entry : now) batch.remove(ns, entry.key);
  }
  // A later put of a key replaces its removal in the same batch.
  for (const auto& [ns, entries] : snapshot.namespaces) {
    for (const store::Entry& entry : entries) batch.put(ns, entry.key, entry.value);
  }
  return store.write(batch, store::Durability::kSynced);
}

}  // namespace hashlock::ln
