#include "ln/persister.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "codec/record.h"
#include "ln/chain_monitor.h"

namespace hashlock::ln {
namespace {

constexpr const char* kMonitors = "monitors";
constexpr const char* kUpdates = "monitor_updates";
constexpr const char* kAcks = "monitor_acks";
constexpr codec::RecordKind kAckRecord{
    .type = 43, .min_version = 1, .current_version = 1, .name = "monitor event ack"};

std::string numbered_key(const ChannelId& id, uint64_t number) {
  char suffix[20];
  std::snprintf(suffix, sizeof suffix, "/%016" PRIx64, number);
  return channel_key(id) + suffix;
}

util::Result<uint64_t> number_of(const std::string& key) {
  const size_t slash = key.rfind('/');
  if (slash == std::string::npos || key.size() - slash != 17)
    return util::corruption("malformed key " + key);
  uint64_t value = 0;
  for (size_t i = slash + 1; i < key.size(); ++i) {
    const char c = key[i];
    const int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (digit < 0) return util::corruption("malformed key " + key);
    value = value * 16 + static_cast<uint64_t>(digit);
  }
  return value;
}

Bytes encode_ack(const ChannelId& id, uint64_t event_id) {
  codec::TlvWriter w;
  w.bytes32(0, id).u64(2, event_id);
  return codec::encode_record(kAckRecord, w);
}

util::Status check_ack(ByteView encoded, uint64_t expected) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record, codec::open_record(kAckRecord, encoded));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t event_id, record.fields.u64(2));
  if (event_id != expected) return util::corruption("monitor ack record does not match its key");
  return util::Status::ok();
}

}  // namespace

std::string channel_key(const ChannelId& id) {
  return id.to_hex();
}

std::string update_status_name(UpdateStatus status) {
  switch (status) {
    case UpdateStatus::kCompleted:
      return "Completed";
    case UpdateStatus::kInProgress:
      return "InProgress";
    case UpdateStatus::kUnrecoverableError:
      return "UnrecoverableError";
  }
  return "Unknown";
}

util::Status StorePersister::write_snapshot(const ChannelMonitor& monitor,
                                            store::Durability durability) {
  store::WriteBatch batch;
  Bytes snapshot = monitor.encode();
  const uint64_t snapshot_bytes = snapshot.size();
  batch.put(kMonitors, channel_key(monitor.channel_id()), std::move(snapshot));
  for (const char* ns : {kUpdates, kAcks}) {
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> old,
                              store_->list(ns, channel_key(monitor.channel_id()) + "/"));
    for (const store::Entry& entry : old) batch.remove(ns, entry.key);
  }
  HASHLOCK_RETURN_IF_ERROR(store_->write(batch, durability));
  updates_since_snapshot_[monitor.channel_id()] = 0;
  update_bytes_since_snapshot_[monitor.channel_id()] = 0;
  snapshot_bytes_[monitor.channel_id()] = snapshot_bytes;
  return util::Status::ok();
}

void StorePersister::before_update(const ChannelMonitor& monitor,
                                   const ChannelMonitorUpdate& update) {
  encoded_ = encode_update(update, monitor.commitment_base());
  encoded_for_ = std::make_pair(update.channel_id, update.update_id);
}

Bytes StorePersister::take_encoded(const ChannelMonitorUpdate& update) {
  const bool prepared = encoded_for_ == std::make_pair(update.channel_id, update.update_id);
  encoded_for_.reset();
  return prepared ? std::move(encoded_) : encode_update(update);
}

util::Status StorePersister::write_update(const ChannelMonitorUpdate& update, Bytes encoded) {
  const uint64_t size = encoded.size();
  HASHLOCK_RETURN_IF_ERROR(store_->put(kUpdates, numbered_key(update.channel_id, update.update_id),
                                       std::move(encoded), store::Durability::kSynced));
  ++updates_since_snapshot_[update.channel_id];
  update_bytes_since_snapshot_[update.channel_id] += size;
  uint64_t& through = written_through_[update.channel_id];
  through = std::max(through, update.update_id);
  return util::Status::ok();
}

bool StorePersister::update_written(const store::KVStore& store, const ChannelId& channel_id,
                                    uint64_t update_id) const {
  // Updates are handed over in order and each is written when it is handed
  // over, so every update up to the highest written one is written.
  if (&store != store_) return false;
  auto it = written_through_.find(channel_id);
  return it != written_through_.end() && update_id <= it->second;
}

UpdateStatus StorePersister::persist_new_monitor(const ChannelMonitor& monitor) {
  last_error_ = write_snapshot(monitor);
  return last_error_.is_ok() ? UpdateStatus::kCompleted : UpdateStatus::kUnrecoverableError;
}

UpdateStatus StorePersister::persist_update(const ChannelMonitor& monitor,
                                            const ChannelMonitorUpdate& update) {
  (void)monitor;
  last_error_ = write_update(update, take_encoded(update));
  if (!last_error_.is_ok()) return UpdateStatus::kUnrecoverableError;
  if (!store_->in_group()) return UpdateStatus::kCompleted;
  group_writes_.emplace_back(update.channel_id, update.update_id);
  return UpdateStatus::kInProgress;
}

std::vector<std::pair<ChannelId, uint64_t>> StorePersister::take_group_writes() {
  std::vector<std::pair<ChannelId, uint64_t>> out;
  out.swap(group_writes_);
  return out;
}

void StorePersister::on_quiescent(const ChannelMonitor& monitor) {
  // Every K updates, or once the update records since the snapshot hold
  // more bytes than the snapshot did, or than one would now if the monitor
  // has shrunk (at least kMinCompactionBytes): loading then replays about a
  // snapshot's worth at most, whatever the history, and snapshots cost
  // about as many bytes as the updates.
  const ChannelId& id = monitor.channel_id();
  const uint64_t update_bytes = update_bytes_since_snapshot_[id];
  const bool by_count = updates_since_snapshot_[id] >= snapshot_every_;
  const uint64_t snapshot_size =
      std::min<uint64_t>(snapshot_bytes_[id], monitor.approximate_encoded_size());
  const bool by_bytes = update_bytes >= std::max<uint64_t>(snapshot_size, kMinCompactionBytes);
  if (!by_count && !by_bytes) return;
  // A failed compaction loses nothing: the update records stay. Nor does a
  // lost one: the snapshot and the removal of the records it covers are one
  // batch, so it need not be synced on its own; it rides on the next sync
  // (a crash keeps a prefix of the writes, never a later one without it).
  last_error_ = write_snapshot(monitor, store::Durability::kBuffered);
}

util::Status StorePersister::persist_ack(const ChannelId& channel_id, uint64_t event_id) {
  return store_->put(kAcks, numbered_key(channel_id, event_id), encode_ack(channel_id, event_id),
                     store::Durability::kSynced);
}

util::Status StorePersister::persist_flag(const ChannelMonitor& monitor) {
  return write_snapshot(monitor);
}

util::Result<std::vector<ChannelMonitor>> StorePersister::load() {
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> snapshots, store_->list(kMonitors));
  std::vector<ChannelMonitor> out;
  for (const store::Entry& entry : snapshots) {
    auto monitor = ChannelMonitor::decode(entry.value);
    if (!monitor.is_ok()) return monitor.status().with_context("monitors/" + entry.key);
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> updates,
                              store_->list(kUpdates, entry.key + "/"));
    uint64_t replayed = 0;
    uint64_t update_bytes = 0;
    for (const store::Entry& record : updates) {
      update_bytes += record.value.size();
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, number_of(record.key));
      if (id <= monitor->latest_update_id()) continue;
      if (id != monitor->latest_update_id() + 1)
        break;  // a gap: later updates were never completed
      auto update = decode_update(record.value, monitor->commitment_base());
      if (!update.is_ok()) return update.status().with_context("monitor_updates/" + record.key);
      util::Status applied = monitor->apply_update(*update);
      if (!applied.is_ok())
        return util::corruption("monitor_updates/" + record.key + ": " + applied.message());
      ++replayed;
    }
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> acks, store_->list(kAcks, entry.key + "/"));
    for (const store::Entry& record : acks) {
      HASHLOCK_ASSIGN_OR_RETURN(uint64_t event_id, number_of(record.key));
      util::Status valid = check_ack(record.value, event_id);
      if (!valid.is_ok()) return valid.with_context("monitor_acks/" + record.key);
      monitor->ack_event(event_id);
    }
    updates_since_snapshot_[monitor->channel_id()] = replayed;
    update_bytes_since_snapshot_[monitor->channel_id()] = update_bytes;
    snapshot_bytes_[monitor->channel_id()] = entry.value.size();
    out.push_back(std::move(monitor).value());
  }
  return out;
}

UpdateStatus AsyncPersister::persist_update(const ChannelMonitor& monitor,
                                            const ChannelMonitorUpdate& update) {
  (void)monitor;
  pending_.push_back(update);
  pending_encoded_.push_back(take_encoded(update));
  return UpdateStatus::kInProgress;
}

void AsyncPersister::on_quiescent(const ChannelMonitor& monitor) {
  // Snapshots are taken only when nothing is pending, so the snapshot is
  // exactly what is durable.
  for (const ChannelMonitorUpdate& update : pending_) {
    if (update.channel_id == monitor.channel_id()) return;
  }
  StorePersister::on_quiescent(monitor);
}

bool AsyncPersister::update_written(const store::KVStore& store, const ChannelId& channel_id,
                                    uint64_t update_id) const {
  // Pending updates complete in any order: a later one may be written first,
  // but loading stops at the first missing update, so an update counts as
  // written only once every one before it is.
  for (const ChannelMonitorUpdate& update : pending_) {
    if (update.channel_id == channel_id && update.update_id <= update_id) return false;
  }
  return StorePersister::update_written(store, channel_id, update_id);
}

util::Status AsyncPersister::complete(size_t index) {
  if (index >= pending_.size())
    return util::invalid_argument("no pending update at index " + std::to_string(index));
  ChannelMonitorUpdate update = pending_[index];
  HASHLOCK_RETURN_IF_ERROR(write_update(update, pending_encoded_[index]));
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
  pending_encoded_.erase(pending_encoded_.begin() + static_cast<std::ptrdiff_t>(index));
  if (chain_monitor_ != nullptr)
    chain_monitor_->channel_monitor_updated(update.channel_id, update.update_id);
  return util::Status::ok();
}

util::Status AsyncPersister::complete_all() {
  while (!pending_.empty()) HASHLOCK_RETURN_IF_ERROR(complete(0));
  return util::Status::ok();
}

}  // namespace hashlock::ln
