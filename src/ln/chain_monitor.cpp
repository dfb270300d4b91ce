#include "ln/chain_monitor.h"

namespace hashlock::ln {

void ChainMonitor::restore(std::vector<ChannelMonitor> monitors) {
  for (ChannelMonitor& monitor : monitors) {
    monitor.forget_released();
    const ChannelId id = monitor.channel_id();
    monitors_.insert_or_assign(id, Entry{std::move(monitor), {}});
  }
}

namespace {

// Stands in when no chain is attached: refuses every transaction.
class NoBroadcaster final : public chain::Broadcaster {
 public:
  util::Status broadcast(const chain::Transaction&) override {
    return util::failed_precondition("no chain is attached");
  }
};

}  // namespace

void ChainMonitor::block_connected(const chain::Block& block) {
  static NoBroadcaster no_broadcaster;
  static const chain::FixedFeeEstimator no_fees(AmountMsat(0));
  chain::Broadcaster& broadcaster = broadcaster_ ? *broadcaster_ : no_broadcaster;
  const chain::FeeEstimator& fees = fees_ ? *fees_ : no_fees;
  best_height_ = block.header.height.value();
  for (auto& [id, entry] : monitors_) entry.monitor.block_connected(block, broadcaster, fees);
}

util::Status ChainMonitor::broadcast(const chain::Transaction& tx) {
  if (broadcaster_ == nullptr) return util::unavailable("no chain is attached");
  return broadcaster_->broadcast(tx);
}

void ChainMonitor::block_disconnected(const chain::BlockHeader& header) {
  best_height_ = header.height.value() - 1;
  for (auto& [id, entry] : monitors_) entry.monitor.block_disconnected(header);
}

void ChainMonitor::catch_up(const chain::ChainSource& source) {
  const uint64_t tip = source.tip_height().value();
  for (uint64_t height = best_height_ + 1; height <= tip; ++height) {
    block_connected(source.block_at(util::BlockHeight(height)));
  }
}

UpdateStatus ChainMonitor::watch_channel(ChannelMonitor monitor) {
  const ChannelId id = monitor.channel_id();
  if (monitors_.count(id) > 0) return UpdateStatus::kUnrecoverableError;
  const UpdateStatus status = persister_->persist_new_monitor(monitor);
  if (status == UpdateStatus::kUnrecoverableError) return status;
  monitors_.emplace(id, Entry{std::move(monitor), {}});
  return status;
}

UpdateStatus ChainMonitor::update_channel(const ChannelMonitorUpdate& update) {
  auto it = monitors_.find(update.channel_id);
  if (it == monitors_.end()) {
    last_error_ = "no monitor for channel " + update.channel_id.to_hex();
    return UpdateStatus::kUnrecoverableError;
  }
  Entry& entry = it->second;
  if (update.update_id <= entry.monitor.latest_update_id()) {
    // A replay of an update the monitor already has (restart reconciliation).
    return entry.in_flight.empty() ? UpdateStatus::kCompleted : UpdateStatus::kInProgress;
  }
  persister_->before_update(entry.monitor, update);
  util::Status applied = entry.monitor.apply_update(update);
  if (!applied.is_ok()) {
    last_error_ = applied.to_string();
    return UpdateStatus::kUnrecoverableError;
  }
  const UpdateStatus status = persister_->persist_update(entry.monitor, update);
  if (status == UpdateStatus::kUnrecoverableError)
    last_error_ = "the persister failed to write the update";
  switch (status) {
    case UpdateStatus::kCompleted:
      if (entry.in_flight.empty()) persister_->on_quiescent(entry.monitor);
      return entry.in_flight.empty() ? UpdateStatus::kCompleted : UpdateStatus::kInProgress;
    case UpdateStatus::kInProgress:
      entry.in_flight.insert(update.update_id);
      return status;
    case UpdateStatus::kUnrecoverableError:
      return status;
  }
  return UpdateStatus::kUnrecoverableError;
}

void ChainMonitor::channel_monitor_updated(const ChannelId& channel_id, uint64_t update_id) {
  auto it = monitors_.find(channel_id);
  if (it == monitors_.end()) return;
  Entry& entry = it->second;
  if (entry.in_flight.erase(update_id) == 0 || !entry.in_flight.empty()) return;
  completed_.emplace_back(channel_id, entry.monitor.latest_update_id());
  persister_->on_quiescent(entry.monitor);
}

void ChainMonitor::group_committed() {
  for (const auto& [channel_id, update_id] : persister_->take_group_writes())
    channel_monitor_updated(channel_id, update_id);
}

void ChainMonitor::group_abandoned() {
  (void)persister_->take_group_writes();
}

std::vector<std::pair<ChannelId, uint64_t>> ChainMonitor::take_completed() {
  std::vector<std::pair<ChannelId, uint64_t>> out;
  out.swap(completed_);
  return out;
}

std::vector<ReleasedEvent> ChainMonitor::release_pending_monitor_events() {
  std::vector<ReleasedEvent> out;
  for (auto& [id, entry] : monitors_) {
    if (!entry.in_flight.empty()) continue;  // held until every update is durable
    for (MonitorEvent& event : entry.monitor.release_events()) {
      out.push_back(ReleasedEvent{MonitorEventSource{id, event.id}, entry.monitor.counterparty(),
                                  std::move(event.kind)});
    }
  }
  return out;
}

util::Status ChainMonitor::ack_monitor_event(const MonitorEventSource& source) {
  auto it = monitors_.find(source.channel_id);
  if (it == monitors_.end())
    return util::not_found("ack for an unknown channel monitor " + source.channel_id.to_hex());
  HASHLOCK_RETURN_IF_ERROR(persister_->persist_ack(source.channel_id, source.event_id));
  it->second.monitor.ack_event(source.event_id);
  return util::Status::ok();
}

const ChannelMonitor* ChainMonitor::get(const ChannelId& channel_id) const {
  auto it = monitors_.find(channel_id);
  return it == monitors_.end() ? nullptr : &it->second.monitor;
}

std::vector<ChannelId> ChainMonitor::channels() const {
  std::vector<ChannelId> out;
  for (const auto& [id, entry] : monitors_) out.push_back(id);
  return out;
}

bool ChainMonitor::has_in_flight(const ChannelId& channel_id) const {
  auto it = monitors_.find(channel_id);
  return it != monitors_.end() && !it->second.in_flight.empty();
}

size_t ChainMonitor::unacked_events() const {
  size_t count = 0;
  for (const auto& [id, entry] : monitors_) count += entry.monitor.pending_events().size();
  return count;
}

util::Status ChainMonitor::set_persistent_events(bool on) {
  size_t at_risk = 0;
  for (const auto& [id, entry] : monitors_) {
    if (!entry.in_flight.empty())
      return util::failed_precondition(
          "cannot switch monitor event mode while monitor updates are in flight");
    if (!on && entry.monitor.persistent_events()) at_risk += entry.monitor.pending_events().size();
  }
  if (at_risk > 0) {
    return util::failed_precondition(
        "cannot turn persistent monitor events off: " + std::to_string(at_risk) +
        " monitor events are not acked yet and would be lost");
  }
  for (auto& [id, entry] : monitors_) {
    if (entry.monitor.persistent_events() == on) continue;
    ChannelMonitor changed = entry.monitor;
    changed.set_persistent_events(on);
    HASHLOCK_RETURN_IF_ERROR(persister_->persist_flag(changed));
    entry.monitor = std::move(changed);
  }
  return util::Status::ok();
}

}  // namespace hashlock::ln
