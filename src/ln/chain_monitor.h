// Watch and ChainMonitor: the set of channel monitors, their persistence,
// and the release and acknowledgement of monitor events.
//
// update_channel applies an update to the in-memory monitor at once and asks
// the Persister to make it durable: Completed (durable now), InProgress (the
// persister calls channel_monitor_updated later, possibly out of order), or
// UnrecoverableError (nothing was applied; stop the node). A channel counts
// as updated only when every update up to its latest is durable; only then
// are its events released, so a fail is never passed upstream while the
// counterparty could still turn it into a claim.
//
// release_pending_monitor_events() returns each stored event once per
// process run; ack_monitor_event() removes it for good once the ack is
// durable. After a restart (load), every un-acked event is released again.
// Thread-safety: none; driven by the node's single thread.
#pragma once

#include <map>
#include <set>
#include <vector>

#include "ln/monitor.h"
#include "ln/persister.h"

namespace hashlock::ln {

struct ReleasedEvent {
  MonitorEventSource source;
  NodeId counterparty;
  MonitorEventKind kind;
};

class Watch {
 public:
  virtual ~Watch() = default;
  virtual UpdateStatus watch_channel(ChannelMonitor monitor) = 0;
  virtual UpdateStatus update_channel(const ChannelMonitorUpdate& update) = 0;
  virtual std::vector<ReleasedEvent> release_pending_monitor_events() = 0;
  virtual util::Status ack_monitor_event(const MonitorEventSource& source) = 0;
};

// As a chain::BlockListener, the ChainMonitor hands every block to every
// monitor, which resolves its channel on chain through the broadcaster and
// fee estimator given by set_chain (without them blocks only move the
// height). Monitors keep no chain state across restarts: catch_up() replays
// the best chain into them after a restart.
class ChainMonitor final : public Watch, public chain::BlockListener {
 public:
  explicit ChainMonitor(Persister& persister) : persister_(&persister) {}

  // Not owned; both must outlive the ChainMonitor.
  void set_chain(chain::Broadcaster* broadcaster, const chain::FeeEstimator* fees) {
    broadcaster_ = broadcaster;
    fees_ = fees;
  }
  void block_connected(const chain::Block& block) override;
  void block_disconnected(const chain::BlockHeader& header) override;
  // Replays the blocks of `source` above the height the monitors have seen.
  void catch_up(const chain::ChainSource& source);
  uint64_t best_height() const { return best_height_; }
  // Hands a transaction of ours (a cooperative close) to the broadcaster;
  // unavailable without a chain.
  util::Status broadcast(const chain::Transaction& tx);

  // Takes monitors read back from the store after a restart.
  void restore(std::vector<ChannelMonitor> monitors);

  UpdateStatus watch_channel(ChannelMonitor monitor) override;
  UpdateStatus update_channel(const ChannelMonitorUpdate& update) override;
  std::vector<ReleasedEvent> release_pending_monitor_events() override;
  util::Status ack_monitor_event(const MonitorEventSource& source) override;

  // From the persister: `update_id` of `channel_id` is durable.
  void channel_monitor_updated(const ChannelId& channel_id, uint64_t update_id);
  // The store's write group has committed (or was abandoned, as the process
  // stops): the updates the persister wrote into it are durable (or never
  // will be).
  void group_committed();
  void group_abandoned();
  // Channels whose every update became durable since the last call, with
  // their latest update id (the Completed events of the spec).
  std::vector<std::pair<ChannelId, uint64_t>> take_completed();
  bool has_completed() const { return !completed_.empty(); }

  const ChannelMonitor* get(const ChannelId& channel_id) const;
  std::vector<ChannelId> channels() const;
  bool has_in_flight(const ChannelId& channel_id) const;
  // Whether the persister has written the update to `store` (Persister::update_written).
  bool update_written(const store::KVStore& store, const ChannelId& channel_id,
                      uint64_t update_id) const {
    return persister_->update_written(store, channel_id, update_id);
  }
  size_t unacked_events() const;
  // Why the last call that returned kUnrecoverableError failed.
  const std::string& last_error() const { return last_error_; }

  // The compatibility flag in every monitor. Turning it off is refused while
  // any monitor holds un-acked events.
  util::Status set_persistent_events(bool on);

 private:
  struct Entry {
    ChannelMonitor monitor;
    std::set<uint64_t> in_flight;
  };

  Persister* persister_;
  chain::Broadcaster* broadcaster_ = nullptr;
  const chain::FeeEstimator* fees_ = nullptr;
  uint64_t best_height_ = 0;
  std::map<ChannelId, Entry> monitors_;
  std::vector<std::pair<ChannelId, uint64_t>> completed_;
  std::string last_error_;
};

}  // namespace hashlock::ln
