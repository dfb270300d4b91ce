// The channel manager's record layout: one record per object, so a round
// writes only what changed in it.
//
// Records (docs/architecture.md, "Storage namespaces"): the node itself
// (`manager/node`: node id, the monitor-events flag, counters, the tick and
// the pending forwards), and one record per channel (with its in-flight
// monitor updates), per outbound payment, per claimable payment, per forward
// awaiting its ack and per queued user event, each in its own namespace and
// keyed by the object's id. A record is written in the round that changed
// its object and removed in the round that dropped it; every round's writes
// commit as one atomic batch, so the set of records is always one state of
// the manager. The whole set (every key of kManagerNamespaces) is what a
// stale snapshot copies and restores.
//
// TrackedMap and TrackedEvents keep the manager's objects and note every key
// that non-const access could have changed: a lookup that may mutate marks
// its key, an insertion or removal marks its key, and a mutable iteration
// marks every key. Reading through a const reference marks nothing. So a
// change can only be missed by holding a reference across rounds, which the
// manager never does; marking too much costs bytes, never durability.
//
// Decoders refuse truncated, damaged, mistyped or unknown-version records
// with Corruption / Unsupported naming the record. Thread-safety: none.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ln/channel.h"
#include "ln/events.h"
#include "ln/monitor_update.h"
#include "ln/outbound_payment.h"
#include "store/kv_store.h"

namespace hashlock::ln {

// --- the manager's objects ------------------------------------------------------

enum class ClaimState : uint8_t { kWaiting = 0, kClaimable = 1, kClaimed = 2, kFailed = 3 };

struct ClaimableHtlc {
  ChannelId channel_id;
  HtlcId htlc_id;
  AmountMsat amount;
  bool removed = false;    // our fulfill or fail of it is irrevocable
  AmountMsat skimmed_fee;  // kept by the forwarder before us, with our agreement
  bool operator==(const ClaimableHtlc&) const = default;
};

struct ClaimablePayment {
  AmountMsat total;
  std::vector<ClaimableHtlc> htlcs;
  ClaimState state = ClaimState::kWaiting;
  uint32_t hop_index = 0;                   // our place on the route, named in failures
  uint64_t first_tick = 0;                  // when its first part arrived
  std::optional<PaymentPreimage> preimage;  // set once claimed
  bool operator==(const ClaimablePayment&) const = default;
};

// An inbound HTLC to forward, recorded durably before it is acted on.
struct PendingForward {
  ChannelId in_channel;
  InboundHtlc htlc;  // its onion holds our payload
};

// A forward's outbound resolution, acked once the inbound HTLC is
// irrevocably removed and that removal's monitor update is durable. With the
// inbound channel closed, the update is the one giving the inbound monitor
// the preimage, and the ack also waits for the user to have handled the
// PaymentForwarded.
struct ForwardAck {
  std::optional<MonitorEventSource> source;
  uint64_t removed_by_update = 0;  // 0: the inbound HTLC is not removed yet
  bool awaits_handled = false;
  bool handled = false;
  bool operator==(const ForwardAck&) const = default;
};

// (inbound channel, inbound HTLC id)
using ForwardKey = std::pair<ChannelId, uint64_t>;

// What the node record holds.
struct ManagerNode {
  NodeId node_id;
  bool persistent_monitor_events = true;
  uint64_t next_event_sequence = 0;
  uint64_t channels_opened = 0;
  uint64_t tick = 0;
  std::vector<PendingForward> pending_forwards;
  // The handled-records count (manager_records.h) as of this state; absent
  // in records of builds before the count (odd field 11: they skip it).
  std::optional<uint64_t> handled_count;
};

// --- namespaces and keys ----------------------------------------------------------

inline constexpr const char* kManagerNamespace = "manager";  // key kManagerNodeKey
inline constexpr const char* kManagerNodeKey = "node";
// The single state record of builds before the split; refused on load.
inline constexpr const char* kOldManagerStateKey = "state";
inline constexpr const char* kManagerChannelsNamespace = "manager_channels";
inline constexpr const char* kManagerPaymentsNamespace = "manager_payments";
inline constexpr const char* kManagerClaimableNamespace = "manager_claimable";
inline constexpr const char* kManagerForwardAcksNamespace = "manager_forward_acks";
inline constexpr const char* kManagerEventsNamespace = "manager_events";
// A channel's HTLCs: its log entries and base HTLCs (Channel::encode_core).
inline constexpr const char* kManagerChannelItemsNamespace = "manager_channel_items";
inline constexpr std::array<const char*, 7> kManagerNamespaces = {
    kManagerNamespace,         kManagerChannelsNamespace,  kManagerChannelItemsNamespace,
    kManagerPaymentsNamespace, kManagerClaimableNamespace, kManagerForwardAcksNamespace,
    kManagerEventsNamespace};

std::string channel_record_key(const ChannelId& id);
std::string payment_record_key(const PaymentId& id);
std::string claimable_record_key(const PaymentHash& hash);
std::string forward_ack_record_key(const ForwardKey& key);
// Sixteen hex digits, so keys list in sequence order.
std::string event_record_key(uint64_t sequence);
// Channel items: the channel id's 32 bytes, the kind, the index (log entry)
// or HTLC id (base HTLC) as 8 bytes big-endian, so a channel's items list
// together and in order. Binary, to keep the many small items small.
enum class ChannelItemKind : uint8_t {
  kOurLog = 0,
  kTheirLog = 1,
  kBaseOffered = 2,
  kBaseReceived = 3
};
std::string channel_items_prefix(const ChannelId& id);
std::string channel_item_key(const ChannelId& id, ChannelItemKind kind, uint64_t index);

// --- records ----------------------------------------------------------------------

Bytes encode_manager_node(const ManagerNode& node);
util::Result<ManagerNode> decode_manager_node(ByteView encoded);

// The channel's core (Channel::encode_core) and the in-flight updates that
// are not written to the store yet; its HTLCs are items (below). An update
// the persister has written to the same store (or into its open write group)
// is left out: the record is durable only with it, and at restart the
// monitor has it.
struct ManagerChannel {
  Channel channel;
  std::deque<ChannelMonitorUpdate> in_flight;
};
using UpdateWrittenFn = std::function<bool(uint64_t update_id)>;
Bytes encode_manager_channel(const Channel& channel,
                             const std::deque<ChannelMonitorUpdate>& in_flight,
                             const UpdateWrittenFn& written = {});
util::Result<ManagerChannel> decode_manager_channel(ByteView encoded,
                                                    const Channel::Items& items = {});
// The record with the updates `written` now accepts left out as well: two
// records of the same state written at different times compare equal so.
util::Result<Bytes> without_written_updates(ByteView encoded, const UpdateWrittenFn& written);

// One channel item: a log entry or base HTLC as the channel encodes it.
Bytes encode_channel_item(ByteView item);
util::Result<Bytes> decode_channel_item(ByteView encoded);

// Which items of a channel the store holds (not persisted: rebuilt on load).
struct ChannelItemsWritten {
  uint64_t our_begin = 0;
  uint64_t our_end = 0;
  uint64_t their_begin = 0;
  uint64_t their_end = 0;
  uint64_t rewinds = 0;
  std::vector<std::pair<bool, uint64_t>> htlcs;  // HTLC items: (offered_by_us, id), sorted
  std::vector<uint64_t> our_logged;              // log items by index, sorted
  std::vector<uint64_t> their_logged;
};
// Adds to `batch` what brings the stored items of `channel` from `written`
// to its state now (new entries and HTLCs put, gone ones removed), and
// records that in `written`.
void write_channel_items(const Channel& channel, ChannelItemsWritten& written,
                         store::WriteBatch& batch);
// Every item `channel` has now, by key (for checks).
std::map<std::string, Bytes> all_channel_items(const Channel& channel);
// A channel from its record and its items as listed from the store.
util::Result<ManagerChannel> decode_channel_with_items(ByteView record, const ChannelId& id,
                                                       const std::vector<store::Entry>& items,
                                                       ChannelItemsWritten& written);

Bytes encode_payment_record(const PaymentId& id, const OutboundPayment& payment);
util::Result<std::pair<PaymentId, OutboundPayment>> decode_payment_record(ByteView encoded);

Bytes encode_claimable_record(const PaymentHash& hash, const ClaimablePayment& payment);
util::Result<std::pair<PaymentHash, ClaimablePayment>> decode_claimable_record(ByteView encoded);

Bytes encode_forward_ack_record(const ForwardKey& key, const ForwardAck& ack);
util::Result<std::pair<ForwardKey, ForwardAck>> decode_forward_ack_record(ByteView encoded);

Bytes encode_event_record(const QueuedEvent& event);
util::Result<QueuedEvent> decode_event_record(ByteView encoded);

// --- stale snapshots (tests, simulator, scenarios) ----------------------------------

// Every record of the manager, by namespace.
struct ManagerSnapshot {
  std::vector<std::pair<std::string, std::vector<store::Entry>>> namespaces;
};
util::Result<ManagerSnapshot> snapshot_manager_records(store::KVStore& store);
// Replaces every manager record with the snapshot's, in one synced batch: the
// store then holds the older manager exactly (the monitors are untouched).
util::Status restore_manager_records(store::KVStore& store, const ManagerSnapshot& snapshot);

// --- change tracking ------------------------------------------------------------------

// A std::map that notes which keys non-const access may have changed.
template <typename K, typename V>
class TrackedMap {
 public:
  using Map = std::map<K, V>;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;

  // Reading marks nothing.
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  const_iterator find(const K& key) const { return map_.find(key); }
  const_iterator lower_bound(const K& key) const { return map_.lower_bound(key); }
  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  size_t count(const K& key) const { return map_.count(key); }

  // Access that may change values marks what it reaches.
  iterator end() { return map_.end(); }
  iterator begin() {
    all_changed_ = true;
    return map_.begin();
  }
  iterator lower_bound(const K& key) {
    all_changed_ = true;
    return map_.lower_bound(key);
  }
  iterator find(const K& key) {
    auto it = map_.find(key);
    if (it != map_.end()) mark(key);
    return it;
  }
  V& operator[](const K& key) {
    mark(key);
    return map_[key];
  }
  std::pair<iterator, bool> emplace(const K& key, V value) {
    mark(key);
    return map_.emplace(key, std::move(value));
  }
  iterator erase(iterator it) {
    mark(it->first);
    return map_.erase(it);
  }
  size_t erase(const K& key) {
    if (map_.count(key) == 0) return 0;
    mark(key);
    return map_.erase(key);
  }

  // Loading from the store: nothing to write back.
  void load(const K& key, V value) { map_.emplace(key, std::move(value)); }
  // Calls fn(key, value or nullptr when gone, whether the key was there when
  // first marked) for every key marked since forget_changes(). A key that is
  // gone and was not there before was added and removed since: the store
  // never had it, unless the caller wrote it in between.
  template <typename Fn>
  void for_each_change(Fn&& fn) const {
    if (all_changed_) {
      for (const auto& [key, value] : map_) fn(key, &value, true);
      for (const auto& [key, existed] : changed_) {
        if (map_.count(key) == 0) fn(key, static_cast<const V*>(nullptr), existed);
      }
      return;
    }
    for (const auto& [key, existed] : changed_) {
      auto it = map_.find(key);
      fn(key, it == map_.end() ? nullptr : &it->second, existed);
    }
  }
  void forget_changes() {
    changed_.clear();
    all_changed_ = false;
  }

 private:
  void mark(const K& key) { changed_.try_emplace(key, map_.count(key) > 0); }

  Map map_;
  std::map<K, bool> changed_;  // key -> there when first marked
  bool all_changed_ = false;
};

// The user event queue (in sequence order) with the same tracking; queued
// events never change in place.
class TrackedEvents {
 public:
  using const_iterator = std::deque<QueuedEvent>::const_iterator;
  const_iterator begin() const { return queue_.begin(); }
  const_iterator end() const { return queue_.end(); }
  size_t size() const { return queue_.size(); }
  bool empty() const { return queue_.empty(); }
  const QueuedEvent& front() const { return queue_.front(); }

  void push_back(QueuedEvent event) {
    changed_.try_emplace(event.sequence, false);
    queue_.push_back(std::move(event));
  }
  void pop_front() {
    changed_.try_emplace(queue_.front().sequence, true);
    queue_.pop_front();
  }
  const_iterator erase(const_iterator it) {
    changed_.try_emplace(it->sequence, true);
    return queue_.erase(it);
  }

  void load(QueuedEvent event) { queue_.push_back(std::move(event)); }
  // fn(sequence, event or nullptr when gone, whether it was queued when first
  // marked), as TrackedMap::for_each_change.
  template <typename Fn>
  void for_each_change(Fn&& fn) const {
    auto it = queue_.begin();
    for (const auto& [sequence, existed] : changed_) {
      // Both are in sequence order.
      while (it != queue_.end() && it->sequence < sequence) ++it;
      fn(sequence, it != queue_.end() && it->sequence == sequence ? &*it : nullptr, existed);
    }
  }
  void forget_changes() { changed_.clear(); }

 private:
  std::deque<QueuedEvent> queue_;
  std::map<uint64_t, bool> changed_;  // sequence -> queued when first marked
};

}  // namespace hashlock::ln
