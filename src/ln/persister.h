// Persisting channel monitors in the key-value store.
//
// Layout (namespaces of the store):
//   monitors          <channel hex>                      full monitor snapshot
//   monitor_updates   <channel hex>/<update id, 16 hex>  one update each
//   monitor_acks      <channel hex>/<event id, 16 hex>   one acked event each
// A monitor is its snapshot plus the update records after it, applied in
// order up to the first gap, then the ack records. Every K updates, or once
// the update records outweigh a snapshot (and only when nothing is in
// flight), a fresh snapshot replaces the old one and the records it covers
// are removed, so loading replays at most K updates and about a snapshot's
// bytes of them, however long the channel's history.
//
// StorePersister writes synchronously: Completed means durable. Inside a
// store write group (KVStore::begin_group, opened by the manager for group
// commit) it writes the update record into the group and answers InProgress;
// the ChainMonitor completes those updates once the group has committed.
// AsyncPersister answers InProgress and writes when the test or simulator
// says so, in any order, then reports completion to the ChainMonitor.
// Thread-safety: none.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ln/monitor.h"
#include "store/kv_store.h"

namespace hashlock::ln {

enum class UpdateStatus { kCompleted, kInProgress, kUnrecoverableError };
std::string update_status_name(UpdateStatus status);

class Persister {
 public:
  virtual ~Persister() = default;
  virtual UpdateStatus persist_new_monitor(const ChannelMonitor& monitor) = 0;
  // Called with the monitor as it is just before `update` is applied to it
  // (then persist_update follows, unless the monitor refuses the update).
  virtual void before_update(const ChannelMonitor& monitor, const ChannelMonitorUpdate& update) {
    (void)monitor;
    (void)update;
  }
  // `monitor` already has `update` applied.
  virtual UpdateStatus persist_update(const ChannelMonitor& monitor,
                                      const ChannelMonitorUpdate& update) = 0;
  // Durable when it returns OK.
  virtual util::Status persist_ack(const ChannelId& channel_id, uint64_t event_id) = 0;
  virtual util::Status persist_flag(const ChannelMonitor& monitor) = 0;
  // Called by the ChainMonitor when a channel has nothing in flight.
  virtual void on_quiescent(const ChannelMonitor& monitor) = 0;
  // Updates written into the store's open write group (answered InProgress),
  // taken once: durable when that group has committed.
  virtual std::vector<std::pair<ChannelId, uint64_t>> take_group_writes() { return {}; }
  // Whether `update_id` of `channel_id` and every update before it are written
  // to `store` (durable, or in its open write group): then anything written
  // to `store` from now on is durable only with them, and the monitor loaded
  // from `store` has them, so it need not carry a copy.
  virtual bool update_written(const store::KVStore& store, const ChannelId& channel_id,
                              uint64_t update_id) const {
    (void)store;
    (void)channel_id;
    (void)update_id;
    return false;
  }
};

// Update records are small (commitment steps are written as deltas), so a
// snapshot, which holds every HTLC in flight, is the larger write: taken
// rarely, it costs fewer bytes per payment; loading replays at most this many.
inline constexpr uint64_t kDefaultSnapshotEveryUpdates = 256;
// A snapshot is also taken once the update records since the last one hold
// more bytes than it (or than a snapshot would now, by
// ChannelMonitor::approximate_encoded_size, if that is less), but not before
// they hold this many.
inline constexpr uint64_t kMinCompactionBytes = 16 * 1024;

class StorePersister : public Persister {
 public:
  explicit StorePersister(store::KVStore& store,
                          uint64_t snapshot_every = kDefaultSnapshotEveryUpdates)
      : store_(&store), snapshot_every_(snapshot_every) {}

  UpdateStatus persist_new_monitor(const ChannelMonitor& monitor) override;
  // Encodes the update against the monitor's commitments before it (each
  // commitment step as the HTLCs it adds and removes); loading decodes each
  // record against the monitor it is applied to, so the two agree.
  void before_update(const ChannelMonitor& monitor, const ChannelMonitorUpdate& update) override;
  UpdateStatus persist_update(const ChannelMonitor& monitor,
                              const ChannelMonitorUpdate& update) override;
  util::Status persist_ack(const ChannelId& channel_id, uint64_t event_id) override;
  util::Status persist_flag(const ChannelMonitor& monitor) override;
  void on_quiescent(const ChannelMonitor& monitor) override;
  std::vector<std::pair<ChannelId, uint64_t>> take_group_writes() override;
  bool update_written(const store::KVStore& store, const ChannelId& channel_id,
                      uint64_t update_id) const override;

  // Reads every monitor back: snapshot + updates + acks.
  util::Result<std::vector<ChannelMonitor>> load();

  const util::Status& last_error() const { return last_error_; }

 protected:
  // The update's record as before_update encoded it (in full without one).
  Bytes take_encoded(const ChannelMonitorUpdate& update);
  util::Status write_update(const ChannelMonitorUpdate& update, Bytes encoded);
  util::Status write_snapshot(const ChannelMonitor& monitor,
                              store::Durability durability = store::Durability::kSynced);

  store::KVStore* store_;
  uint64_t snapshot_every_;
  std::map<ChannelId, uint64_t> updates_since_snapshot_;
  std::map<ChannelId, uint64_t> update_bytes_since_snapshot_;  // of the records since it
  std::map<ChannelId, uint64_t> snapshot_bytes_;               // the last snapshot's size
  // The highest update id of each channel written since this persister began.
  std::map<ChannelId, uint64_t> written_through_;
  util::Status last_error_;
  std::vector<std::pair<ChannelId, uint64_t>> group_writes_;
  // before_update's encoding, for the update it was made for.
  std::optional<std::pair<ChannelId, uint64_t>> encoded_for_;
  Bytes encoded_;
};

class ChainMonitor;

class AsyncPersister final : public StorePersister {
 public:
  using StorePersister::StorePersister;
  void attach(ChainMonitor* chain_monitor) { chain_monitor_ = chain_monitor; }

  UpdateStatus persist_update(const ChannelMonitor& monitor,
                              const ChannelMonitorUpdate& update) override;
  void on_quiescent(const ChannelMonitor& monitor) override;
  bool update_written(const store::KVStore& store, const ChannelId& channel_id,
                      uint64_t update_id) const override;

  size_t pending() const { return pending_.size(); }
  const std::deque<ChannelMonitorUpdate>& pending_updates() const { return pending_; }
  // Writes pending update `index` (0 = oldest) and reports it complete.
  util::Status complete(size_t index);
  util::Status complete_all();
  // Forgets pending writes, as a crash would.
  void drop_pending() {
    pending_.clear();
    pending_encoded_.clear();
  }

 private:
  std::deque<ChannelMonitorUpdate> pending_;
  std::deque<Bytes> pending_encoded_;  // pending_'s records, encoded when handed over
  ChainMonitor* chain_monitor_ = nullptr;
};

std::string channel_key(const ChannelId& id);

}  // namespace hashlock::ln
