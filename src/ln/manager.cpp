#include "ln/manager.h"

#include <algorithm>
#include <utility>

#include "codec/record.h"
#include "ln/manager_records.h"
#include "ln/manager_store.h"
#include "util/check.h"

namespace hashlock::ln {
namespace {

constexpr const char* kForwardsDoneNamespace = "forwards_done";
constexpr codec::RecordKind kForwardDoneRecord{
    .type = 46, .min_version = 1, .current_version = 1, .name = "handled forward"};

std::string forward_key(const ChannelId& prev_channel, HtlcId prev_htlc) {
  return prev_channel.to_hex() + "/" + std::to_string(prev_htlc.value());
}
// The secret seed of a channel's per-commitment secrets: private to the node.
Secret channel_seed(const Secret& node_seed, const ChannelId& id) {
  codec::ByteWriter w;
  w.raw(util::as_bytes("hashlock channel seed"));
  w.raw(node_seed);
  w.raw(id.view());
  return util::sha256(w.bytes());
}

}  // namespace

ChannelManager::ChannelManager(const ManagerConfig& config, store::KVStore& store,
                               ChainMonitor& chain_monitor, PeerTransport& transport)
    : config_(config), store_(&store), chain_monitor_(&chain_monitor), transport_(&transport) {}

util::Result<std::unique_ptr<ChannelManager>> ChannelManager::create(const ManagerConfig& config,
                                                                     store::KVStore& store,
                                                                     ChainMonitor& chain_monitor,
                                                                     PeerTransport& transport) {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> existing, store.get(kManagerNamespace, kManagerNodeKey));
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> old, store.get(kManagerNamespace, kOldManagerStateKey));
  if (existing || old)
    return util::failed_precondition(
        "the store already holds a node; load it instead of creating one");
  const std::vector<ChannelId> orphans = chain_monitor.channels();
  if (!orphans.empty() && !config.recover_from_monitors) {
    std::string names;
    for (const ChannelId& id : orphans) names += (names.empty() ? "" : ", ") + id.to_hex();
    return util::failed_precondition(
        "the store holds the monitors of " + std::to_string(orphans.size()) +
        " channel(s) but no channel manager state: " + names +
        ". Recovery from monitors (--recover-from-monitors) force-closes each of them and "
        "resolves it on chain; use it only if the monitors are current (not an old backup)");
  }
  std::unique_ptr<ChannelManager> manager(
      new ChannelManager(config, store, chain_monitor, transport));
  HASHLOCK_ASSIGN_OR_RETURN(manager->handled_count_, manager->stored_handled_count());
  HASHLOCK_RETURN_IF_ERROR(manager->in_round([&] { return manager->recover_orphans(); }));
  return manager;
}

util::Result<std::unique_ptr<ChannelManager>> ChannelManager::load(const ManagerConfig& config,
                                                                   store::KVStore& store,
                                                                   ChainMonitor& chain_monitor,
                                                                   PeerTransport& transport) {
  std::unique_ptr<ChannelManager> manager(
      new ChannelManager(config, store, chain_monitor, transport));
  HASHLOCK_RETURN_IF_ERROR(manager->load_records());
  HASHLOCK_RETURN_IF_ERROR(manager->in_round([&] { return manager->reconcile_after_load(); }));
  return manager;
}

// --- durability -------------------------------------------------------------

util::Status ChannelManager::persist(store::WriteBatch extra, store::Durability durability) {
  if (round_depth_ == 0) {
    HASHLOCK_RETURN_IF_ERROR(write_changed_records(extra, /*end_of_round=*/true));
    return store_->write(std::move(extra), durability);
  }
  // In a round the changed records are encoded once, when the round commits.
  state_dirty_ = true;
  if (durability == store::Durability::kSynced) state_durability_ = durability;
  return extra.empty() ? util::Status::ok() : store_->write(std::move(extra), durability);
}

// --- rounds (group commit) --------------------------------------------------

void ChannelManager::begin_round() {
  if (round_depth_++ > 0) return;
  store_->begin_group();
}

util::Status ChannelManager::end_round() {
  HASHLOCK_CHECK(round_depth_ > 0, "end_round without begin_round");
  if (--round_depth_ > 0) return util::Status::ok();
  util::Status status = commit_round();
  // What became durable releases messages and holding cells; the monitor
  // updates that creates form the next group.
  for (size_t pass = 1;
       status.is_ok() && chain_monitor_->has_completed() && pass < kMaxCommitsPerRound; ++pass) {
    round_depth_ = 1;
    store_->begin_group();
    status = process_completions_now();
    round_depth_ = 0;
    util::Status committed = commit_round();
    if (status.is_ok()) status = committed;
  }
  return status;
}

util::Status ChannelManager::commit_mid_round() {
  if (round_depth_ == 0) return util::Status::ok();  // every write was its own
  HASHLOCK_RETURN_IF_ERROR(commit_round(/*end_of_round=*/false));
  store_->begin_group();
  return util::Status::ok();
}

util::Status ChannelManager::commit_round(bool end_of_round) {
  // A failed commit earlier in this round stopped the node.
  if (!store_->in_group()) return fatal_;
  if (util::Status submitted = submit_open_preimages(); !submitted.is_ok()) {
    store_->abandon_group();
    chain_monitor_->group_abandoned();
    pending_sends_.clear();
    if (fatal_.is_ok()) fatal_ = submitted;
    return fatal_;
  }
  // Objects changed without a persist() call are written too (buffered):
  // never less durable than riding on a later write.
  store::WriteBatch records;
  util::Status written = write_changed_records(records, end_of_round);
  if (written.is_ok() && !records.empty())
    written = store_->write(std::move(records), state_durability_);
  state_dirty_ = false;
  state_durability_ = store::Durability::kBuffered;
  if (written.is_ok()) written = store_->commit_group();
  if (!written.is_ok()) {
    // The round's writes are lost; so must be everything that depends on
    // them: the node stops, and restarts from what the store kept.
    if (store_->in_group()) store_->abandon_group();
    chain_monitor_->group_abandoned();
    pending_sends_.clear();
    if (fatal_.is_ok())
      fatal_ = util::io_error("the store did not commit (" + written.to_string() +
                              "); the node has stopped");
    return fatal_;
  }
  chain_monitor_->group_committed();
  std::vector<std::pair<NodeId, Message>> sends;
  sends.swap(pending_sends_);
  for (const auto& [peer, message] : sends)
    transport_->send(config_.node_id, peer, encode_message(message));
  return util::Status::ok();
}

void ChannelManager::send_to(NodeId peer, Message message) {
  if (round_depth_ > 0) {
    HASHLOCK_CHECK(pending_sends_.size() < kMaxMessagesPerRound, "too many messages in one round");
    pending_sends_.emplace_back(peer, std::move(message));
    return;
  }
  transport_->send(config_.node_id, peer, encode_message(message));
}

// --- public calls, each in a round --------------------------------------------

util::Result<ChannelId> ChannelManager::open_channel(NodeId peer, AmountMsat capacity,
                                                     AmountMsat push,
                                                     std::optional<chain::OutPoint> funding) {
  return in_round([&] { return open_channel_now(peer, capacity, push, funding); });
}
util::Status ChannelManager::send_payment(const PaymentId& payment_id, const PaymentHash& hash,
                                          AmountMsat amount, const ChannelId& channel_id) {
  return in_round([&] { return send_payment_now(payment_id, hash, amount, channel_id); });
}
util::Status ChannelManager::send_payment_route(const PaymentId& payment_id,
                                                const PaymentHash& hash, AmountMsat amount,
                                                const std::vector<RouteHop>& route) {
  return in_round([&] { return send_payment_route_now(payment_id, hash, amount, route); });
}
util::Status ChannelManager::claim_funds(const PaymentPreimage& preimage) {
  return in_round([&] { return claim_funds_now(preimage); });
}
util::Status ChannelManager::fail_htlc_backwards(const PaymentHash& hash) {
  return in_round([&] { return fail_htlc_backwards_now(hash); });
}
util::Status ChannelManager::handle_message(NodeId from, const Bytes& message) {
  return in_round([&] { return handle_message_now(from, message); });
}
util::Status ChannelManager::peer_connected(NodeId peer) {
  return in_round([&] { return peer_connected_now(peer); });
}
util::Status ChannelManager::peer_disconnected(NodeId peer) {
  return in_round([&] { return peer_disconnected_now(peer); });
}
util::Status ChannelManager::process_pending_events(const EventHandler& handler) {
  return in_round([&] { return process_pending_events_now(handler); });
}
util::Status ChannelManager::process_completions() {
  return in_round([&] { return process_completions_now(); });
}
util::Status ChannelManager::set_persistent_monitor_events(bool on) {
  return in_round([&] { return set_persistent_monitor_events_now(on); });
}
util::Status ChannelManager::send_payment_mpp(const PaymentId& payment_id,
                                              const PaymentParams& params) {
  return in_round([&] { return send_payment_mpp_now(payment_id, params); });
}
util::Status ChannelManager::send_payment_parts(const PaymentId& payment_id,
                                                const PaymentParams& params,
                                                const std::vector<PartSpec>& parts) {
  return in_round([&] { return send_payment_parts_now(payment_id, params, parts); });
}
util::Status ChannelManager::timer_tick() {
  return in_round([&] { return timer_tick_now(); });
}

util::Result<std::optional<ChannelManager::CompletedPayment>> ChannelManager::completed_payment(
    const PaymentId& id) const {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> raw, store_->get(kDoneNamespace, id.to_hex()));
  if (!raw) return std::optional<CompletedPayment>();
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record, codec::open_record(kDoneRecord, *raw));
  HASHLOCK_ASSIGN_OR_RETURN(bool succeeded, record.fields.boolean(0));
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> parts_end, record.fields.optional_u64(1));
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return std::optional<CompletedPayment>(CompletedPayment{
      succeeded ? PaymentState::kSucceeded : PaymentState::kFailed,
      parts_end.value_or(CompletedPayment::kOldRecordPartsEnd)});
}

ManagerNode ChannelManager::node_record() const {
  return ManagerNode{config_.node_id, config_.persistent_monitor_events, next_event_sequence_,
                     channels_opened_, tick_, pending_forwards_, handled_count_};
}

util::Status ChannelManager::write_changed_records(store::WriteBatch& batch, bool end_of_round) {
  // What a key holds in the store now: a record, or none. A key written
  // earlier in this round holds what was written (a removal is kept as an
  // empty value; records are never empty); any other key holds a record if
  // it was there when the round first marked it. (An object added and
  // dropped within the round, such as an event queued and handled at once,
  // never reached the store, and one removed by the round's first commit is
  // not removed again by its last.)
  auto holds_record = [&](const char* ns, const std::string& key, bool existed) {
    auto it = written_this_round_.find({ns, key});
    return it == written_this_round_.end() ? existed : !it->second.empty();
  };
  auto write = [&](const char* ns, std::string key, const Bytes* value, bool existed) {
    if (value == nullptr && !holds_record(ns, key, existed)) return;
    if (value != nullptr && !written_this_round_.empty()) {
      auto it = written_this_round_.find({ns, key});
      if (it != written_this_round_.end() && it->second == *value) return;
    }
    if (value == nullptr) {
      batch.remove(ns, key);
    } else {
      batch.put(ns, key, *value);
    }
    if (!end_of_round) written_this_round_[{ns, std::move(key)}] = value ? *value : Bytes();
  };
  util::Status status;
  channels_.for_each_change([&](const ChannelId& id, const ChannelEntry* entry, bool existed) {
    const Bytes value =
        entry ? encode_manager_channel(entry->channel, entry->in_flight, update_written_fn(id))
              : Bytes();
    if (entry == nullptr && !holds_record(kManagerChannelsNamespace, channel_record_key(id), existed))
      return;
    write(kManagerChannelsNamespace, channel_record_key(id), entry ? &value : nullptr, existed);
    if (entry != nullptr) {
      write_channel_items(entry->channel, entry->items_written, batch);
      return;
    }
    auto items = store_->list(kManagerChannelItemsNamespace, channel_items_prefix(id));
    if (!items.is_ok()) {
      status = items.status();
      return;
    }
    for (const store::Entry& item : *items) batch.remove(kManagerChannelItemsNamespace, item.key);
  });
  HASHLOCK_RETURN_IF_ERROR(status);
  payments_.for_each_change([&](const PaymentId& id, const OutboundPayment* payment, bool existed) {
    const Bytes value = payment ? encode_payment_record(id, *payment) : Bytes();
    write(kManagerPaymentsNamespace, payment_record_key(id), payment ? &value : nullptr, existed);
  });
  claimable_.for_each_change(
      [&](const PaymentHash& hash, const ClaimablePayment* payment, bool existed) {
        const Bytes value = payment ? encode_claimable_record(hash, *payment) : Bytes();
        write(kManagerClaimableNamespace, claimable_record_key(hash), payment ? &value : nullptr,
              existed);
  });
  forward_acks_.for_each_change([&](const ForwardKey& key, const ForwardAck* ack, bool existed) {
    const Bytes value = ack ? encode_forward_ack_record(key, *ack) : Bytes();
    write(kManagerForwardAcksNamespace, forward_ack_record_key(key), ack ? &value : nullptr,
          existed);
  });
  events_.for_each_change([&](uint64_t sequence, const QueuedEvent* event, bool existed) {
    const Bytes value = event ? encode_event_record(*event) : Bytes();
    write(kManagerEventsNamespace, event_record_key(sequence), event ? &value : nullptr, existed);
  });
  Bytes node = encode_manager_node(node_record());
  if (node != written_node_record_) {
    batch.put(kManagerNamespace, kManagerNodeKey, node);
    written_node_record_ = std::move(node);
  }
  if (!end_of_round) return util::Status::ok();
  channels_.forget_changes();
  payments_.forget_changes();
  claimable_.forget_changes();
  forward_acks_.forget_changes();
  events_.forget_changes();
  written_this_round_.clear();
  return util::Status::ok();
}

UpdateWrittenFn ChannelManager::update_written_fn(const ChannelId& id) const {
  return [this, id](uint64_t update_id) {
    return chain_monitor_->update_written(*store_, id, update_id);
  };
}

util::Status ChannelManager::verify_records() const {
  if (round_depth_ > 0) return util::failed_precondition("verify_records inside a round");
  std::map<std::string, std::map<std::string, Bytes>> expected;
  expected[kManagerNamespace][kManagerNodeKey] = encode_manager_node(node_record());
  std::map<std::string, ChannelId> channel_of_key;
  for (const auto& [id, entry] : channels_) {
    channel_of_key.emplace(channel_record_key(id), id);
    expected[kManagerChannelsNamespace][channel_record_key(id)] =
        encode_manager_channel(entry.channel, entry.in_flight, update_written_fn(id));
    expected[kManagerChannelItemsNamespace].merge(all_channel_items(entry.channel));
  }
  for (const auto& [id, payment] : payments_)
    expected[kManagerPaymentsNamespace][payment_record_key(id)] = encode_payment_record(id, payment);
  for (const auto& [hash, payment] : claimable_)
    expected[kManagerClaimableNamespace][claimable_record_key(hash)] = encode_claimable_record(hash, payment);
  for (const auto& [key, ack] : forward_acks_)
    expected[kManagerForwardAcksNamespace][forward_ack_record_key(key)] = encode_forward_ack_record(key, ack);
  for (const QueuedEvent& event : events_)
    expected[kManagerEventsNamespace][event_record_key(event.sequence)] = encode_event_record(event);
  for (const char* ns : kManagerNamespaces) {
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> stored, store_->list(ns));
    const std::map<std::string, Bytes>& want = expected[ns];
    for (const store::Entry& entry : stored) {
      auto it = want.find(entry.key);
      if (it == want.end())
        return util::corruption(std::string(ns) + "/" + store::printable_key(entry.key) + " is stored but gone from memory");
      Bytes stored_value = entry.value;
      if (std::string_view(ns) == kManagerChannelsNamespace) {
        // Updates written since the record was are left out of both sides.
        HASHLOCK_ASSIGN_OR_RETURN(
            stored_value,
            without_written_updates(entry.value, update_written_fn(channel_of_key.at(entry.key))));
      }
      if (it->second != stored_value)
        return util::corruption(std::string(ns) + "/" + store::printable_key(entry.key) + " differs from memory");
    }
    if (stored.size() != want.size())
      return util::corruption(std::string(ns) + ": " + std::to_string(want.size() - stored.size()) +
                              " records in memory were never written");
  }
  return util::Status::ok();
}

util::Status ChannelManager::load_records() {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> old, store_->get(kManagerNamespace, kOldManagerStateKey));
  if (old) {
    return util::unsupported(
        "manager/state: the store holds the channel manager as one record (type 44) of an older "
        "build; this build keeps it as one record per object and does not read the old form");
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> raw_node, store_->get(kManagerNamespace, kManagerNodeKey));
  if (!raw_node) return util::not_found("the store holds no channel manager state");
  util::Result<ManagerNode> decoded_node = decode_manager_node(*raw_node);
  if (!decoded_node.is_ok()) return decoded_node.status().with_context("manager/node");
  ManagerNode node = std::move(decoded_node).value();
  if (node.node_id != config_.node_id) {
    return util::failed_precondition("the store belongs to " + node.node_id.to_string() + ", not " +
                                     config_.node_id.to_string());
  }
  next_event_sequence_ = node.next_event_sequence;
  channels_opened_ = node.channels_opened;
  tick_ = node.tick;
  pending_forwards_ = std::move(node.pending_forwards);
  handled_count_ = node.handled_count;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t stored_count, stored_handled_count());
  if (handled_count_ != stored_count) lagging_behind_count_ = stored_count;
  loaded_lagging_state_ = lagging_behind_count_.has_value();
  written_node_record_ = std::move(*raw_node);
  // Each record, checked against the key it is stored under.
  auto each = [&](const char* ns, auto&& load_one) -> util::Status {
    HASHLOCK_ASSIGN_OR_RETURN(std::vector<store::Entry> entries, store_->list(ns));
    for (store::Entry& entry : entries) {
      util::Status loaded = load_one(entry);
      if (!loaded.is_ok()) return loaded.with_context(std::string(ns) + "/" + store::printable_key(entry.key));
    }
    return util::Status::ok();
  };
  auto check_key = [](const store::Entry& entry, const std::string& expected) {
    return entry.key == expected ? util::Status::ok()
                                 : util::corruption("the record is of " + expected + ", stored under another key");
  };
  auto load_channel = [&](const store::Entry& entry) -> util::Status {
    HASHLOCK_ASSIGN_OR_RETURN(Bytes raw_id, util::from_hex(entry.key));
    HASHLOCK_ASSIGN_OR_RETURN(ChannelId id, ChannelId::from_bytes(raw_id));
    HASHLOCK_ASSIGN_OR_RETURN(
        std::vector<store::Entry> items,
        store_->list(kManagerChannelItemsNamespace, channel_items_prefix(id)));
    ChannelItemsWritten written;
    HASHLOCK_ASSIGN_OR_RETURN(ManagerChannel decoded,
                              decode_channel_with_items(entry.value, id, items, written));
    channels_.load(
        id, ChannelEntry{
                std::move(decoded.channel), std::move(decoded.in_flight), {}, std::move(written)});
    return util::Status::ok();
  };
  auto load_payment = [&](const store::Entry& entry) -> util::Status {
    HASHLOCK_ASSIGN_OR_RETURN(auto payment, decode_payment_record(entry.value));
    HASHLOCK_RETURN_IF_ERROR(check_key(entry, payment_record_key(payment.first)));
    payments_.load(payment.first, std::move(payment.second));
    return util::Status::ok();
  };
  auto load_claimable = [&](const store::Entry& entry) -> util::Status {
    HASHLOCK_ASSIGN_OR_RETURN(auto payment, decode_claimable_record(entry.value));
    HASHLOCK_RETURN_IF_ERROR(check_key(entry, claimable_record_key(payment.first)));
    claimable_.load(payment.first, std::move(payment.second));
    return util::Status::ok();
  };
  auto load_forward_ack = [&](const store::Entry& entry) -> util::Status {
    HASHLOCK_ASSIGN_OR_RETURN(auto ack, decode_forward_ack_record(entry.value));
    HASHLOCK_RETURN_IF_ERROR(check_key(entry, forward_ack_record_key(ack.first)));
    forward_acks_.load(ack.first, ack.second);
    return util::Status::ok();
  };
  auto load_event = [&](const store::Entry& entry) -> util::Status {
    HASHLOCK_ASSIGN_OR_RETURN(QueuedEvent event, decode_event_record(entry.value));
    HASHLOCK_RETURN_IF_ERROR(check_key(entry, event_record_key(event.sequence)));
    if (event.sequence >= next_event_sequence_)
      return util::corruption("event " + std::to_string(event.sequence) + " is not below the next sequence " +
                              std::to_string(next_event_sequence_));
    events_.load(std::move(event));
    return util::Status::ok();
  };
  HASHLOCK_RETURN_IF_ERROR(each(kManagerChannelsNamespace, load_channel));
  HASHLOCK_RETURN_IF_ERROR(each(kManagerPaymentsNamespace, load_payment));
  HASHLOCK_RETURN_IF_ERROR(each(kManagerClaimableNamespace, load_claimable));
  HASHLOCK_RETURN_IF_ERROR(each(kManagerForwardAcksNamespace, load_forward_ack));
  HASHLOCK_RETURN_IF_ERROR(each(kManagerEventsNamespace, load_event));
  if (node.persistent_monitor_events && !config_.persistent_monitor_events &&
      chain_monitor_->unacked_events() > 0) {
    return util::failed_precondition("refusing to downgrade to legacy monitor events: " +
                                     std::to_string(chain_monitor_->unacked_events()) +
                                     " monitor events are not acked yet and would be lost");
  }
  return util::Status::ok();
}

util::Status ChannelManager::drop_handled_terminal_events() {
  // Records of handled events are written apart from the state, so a stale
  // state may still queue an event the user already handled. A state that
  // is not behind them (its handled count is the stored one) has none.
  for (auto it = events_.begin(); lagging_behind_count_ && it != events_.end();) {
    const auto* forwarded = std::get_if<PaymentForwarded>(&it->event);
    if (forwarded == nullptr) {
      ++it;
      continue;
    }
    HASHLOCK_ASSIGN_OR_RETURN(const bool handled,
                              forward_done(forwarded->prev_channel_id, forwarded->prev_htlc_id));
    it = handled ? events_.erase(it) : std::next(it);
  }
  return reconcile_payments_after_load();
}

util::Status ChannelManager::reconcile_after_load() {
  HASHLOCK_RETURN_IF_ERROR(drop_handled_terminal_events());
  HASHLOCK_RETURN_IF_ERROR(
      chain_monitor_->set_persistent_events(config_.persistent_monitor_events));
  for (auto& [id, entry] : channels_) {
    entry.channel.on_disconnect();
    entry.outbox.clear();
    if (entry.channel.is_open() && entry.channel.shutting_down()) closing_.insert(id);
    const ChannelMonitor* monitor = chain_monitor_->get(id);
    if (monitor == nullptr) {
      if (entry.channel.phase() != ChannelPhase::kOpen) continue;
      if (entry.channel.latest_monitor_update_id() != 0) {
        return util::corruption("channel " + id.to_hex() +
                                " has monitor updates but no monitor in the store");
      }
      // The node stopped between recording the channel and watching it.
      const UpdateStatus status = chain_monitor_->watch_channel(new_monitor(entry.channel));
      if (status == UpdateStatus::kUnrecoverableError)
        return util::io_error("cannot persist the monitor of " + id.to_hex());
      continue;
    }
    if (monitor->latest_update_id() > entry.channel.latest_monitor_update_id()) {
      ++stats_.closes_from_stale_state;
      const std::string reason = "channel manager state is older than its monitor (update " +
                                 std::to_string(entry.channel.latest_monitor_update_id()) + " < " +
                                 std::to_string(monitor->latest_update_id()) + ")";
      if (entry.channel.phase() == ChannelPhase::kClosed) {
        // Closed in this state already: its close update is the monitor's.
        entry.channel.skip_monitor_update_ids_to(monitor->latest_update_id());
        entry.in_flight.clear();
        continue;
      }
      if (monitor->closed() || monitor->funding_spent()) {
        // A later state closed it (or the chain did): closed once.
        HASHLOCK_RETURN_IF_ERROR(close_as_monitor_did(entry, reason));
      } else {
        HASHLOCK_RETURN_IF_ERROR(force_close(entry, reason));
      }
      continue;
    }
    // The record carries the updates that were not written with it; the
    // monitor must hold every one before them.
    const uint64_t first_carried = entry.in_flight.empty()
                                       ? entry.channel.latest_monitor_update_id() + 1
                                       : entry.in_flight.front().update_id;
    if (monitor->latest_update_id() + 1 < first_carried) {
      return util::corruption("channel " + id.to_hex() + " records monitor updates up to " +
                              std::to_string(first_carried - 1) + " but its monitor in the store " +
                              "has only up to " + std::to_string(monitor->latest_update_id()));
    }
    std::deque<ChannelMonitorUpdate> replay = entry.in_flight;
    for (const ChannelMonitorUpdate& update : replay)
      HASHLOCK_RETURN_IF_ERROR(submit(entry, update));
  }
  HASHLOCK_RETURN_IF_ERROR(close_orphan_monitors());
  HASHLOCK_RETURN_IF_ERROR(rebuild_payments_from_monitors());
  // Legacy mode: outcomes a stale state lost are rebuilt from the monitors.
  if (!config_.persistent_monitor_events) HASHLOCK_RETURN_IF_ERROR(rebuild_legacy_outcomes());
  HASHLOCK_RETURN_IF_ERROR(persist());
  // A claim a crash interrupted between its parts goes on.
  for (auto& [hash, payment] : claimable_) {
    if (payment.state == ClaimState::kClaimed) HASHLOCK_RETURN_IF_ERROR(resume_claim(hash, payment));
  }
  return process_forwards();
}

// --- channel plumbing -------------------------------------------------------

ChannelManager::ChannelEntry* ChannelManager::find(const ChannelId& id) {
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : &it->second;
}

util::Status ChannelManager::submit(ChannelEntry& entry, const ChannelMonitorUpdate& update) {
  const UpdateStatus status = chain_monitor_->update_channel(update);
  switch (status) {
    case UpdateStatus::kCompleted:
      // Durable up to this update; later ones (a restart replays several) may not be.
      while (!entry.in_flight.empty() && entry.in_flight.front().update_id <= update.update_id)
        entry.in_flight.pop_front();
      return util::Status::ok();
    case UpdateStatus::kInProgress:
      return util::Status::ok();
    case UpdateStatus::kUnrecoverableError:
      fatal_ = util::io_error("monitor update " + std::to_string(update.update_id) +
                              " of channel " + entry.channel.id().to_hex() + " failed (" +
                              chain_monitor_->last_error() + "); the node has stopped");
      return fatal_;
  }
  return util::io_error("unknown monitor update status");
}

void ChannelManager::release_outbox(ChannelEntry& entry) {
  const uint64_t durable = entry.in_flight.empty() ? UINT64_MAX : entry.in_flight.front().update_id - 1;
  while (!entry.outbox.empty() && entry.outbox.front().first <= durable) {
    send_to(entry.channel.peer(), entry.outbox.front().second);
    entry.outbox.pop_front();
  }
}

util::Status ChannelManager::submit_open_preimages(ChannelEntry& entry) {
  if (!entry.preimages_open) return util::Status::ok();
  entry.preimages_open = false;
  preimages_open_.erase(entry.channel.id());
  HASHLOCK_CHECK(!entry.in_flight.empty(), "an open preimage update is in flight");
  const ChannelMonitorUpdate update = entry.in_flight.back();
  return submit(entry, update);
}

util::Status ChannelManager::submit_open_preimages() {
  const std::set<ChannelId> open = std::move(preimages_open_);
  preimages_open_.clear();
  for (const ChannelId& id : open) {
    if (ChannelEntry* entry = find(id)) HASHLOCK_RETURN_IF_ERROR(submit_open_preimages(*entry));
  }
  return util::Status::ok();
}

util::Status ChannelManager::commit(ChannelEntry& entry, ChannelOutput out) {
  // Preimages a round learns (claims, fulfills from the peer) go to the
  // monitor as one update per channel, handed over before any other update
  // of the channel and before the round commits: nothing of the round is
  // durable or sent before that commit, so batching them delays nothing,
  // and the round writes one update record instead of one per preimage.
  const bool only_preimages =
      !out.steps.empty() && round_depth_ > 0 && store_->in_group() &&
      std::all_of(out.steps.begin(), out.steps.end(), [](const MonitorStep& step) {
        return std::holds_alternative<PaymentPreimageStep>(step);
      });
  if (!only_preimages) HASHLOCK_RETURN_IF_ERROR(submit_open_preimages(entry));
  std::optional<ChannelMonitorUpdate> update;
  bool joined = false;
  if (only_preimages && entry.preimages_open) {
    ChannelMonitorUpdate& open = entry.in_flight.back();
    for (MonitorStep& step : out.steps) open.steps.push_back(std::move(step));
    joined = true;
  } else if (!out.steps.empty()) {
    update = ChannelMonitorUpdate{entry.channel.id(), entry.channel.next_monitor_update_id(),
                                  std::move(out.steps)};
    entry.in_flight.push_back(*update);
    if (only_preimages) {
      entry.preimages_open = true;
      preimages_open_.insert(entry.channel.id());
    }
  }
  const uint64_t waits_for = entry.in_flight.empty() ? 0 : entry.in_flight.back().update_id;
  for (Message& m : out.messages) entry.outbox.emplace_back(waits_for, std::move(m));
  HASHLOCK_RETURN_IF_ERROR(on_inbound_committed(entry, out.inbound_committed));
  on_inbound_removed(entry.channel.id(), out.inbound_removed,
                     update || joined ? entry.in_flight.back().update_id
                                      : entry.channel.latest_monitor_update_id());
  // With a monitor update, the state write need not sync on its own: the
  // update's synced write to the same store, which must happen before any
  // message that depends on either leaves, makes both durable with one sync,
  // and a crash keeps a prefix (the state without the update, never the
  // reverse), which restart reconciliation replays.
  HASHLOCK_RETURN_IF_ERROR(persist(
      {}, update || joined ? store::Durability::kBuffered : store::Durability::kSynced));
  if (update && !entry.preimages_open) HASHLOCK_RETURN_IF_ERROR(submit(entry, *update));
  release_outbox(entry);
  if (entry.channel.holding_cell_size() > 0) HASHLOCK_RETURN_IF_ERROR(flush(entry));
  HASHLOCK_RETURN_IF_ERROR(run_forward_acks(entry));
  return process_forwards();
}

util::Status ChannelManager::run_forward_acks(const ChannelEntry& entry) {
  const ChannelId& id = entry.channel.id();
  const uint64_t durable =
      entry.in_flight.empty() ? UINT64_MAX : entry.in_flight.front().update_id - 1;
  // Read without marking; only the acks that run change (they go).
  std::vector<ForwardKey> due;
  const auto& acks = std::as_const(forward_acks_);
  for (auto it = acks.lower_bound({id, 0}); it != acks.end() && it->first.first == id; ++it) {
    const ForwardAck& ack = it->second;
    if (ack.removed_by_update == 0 || ack.removed_by_update > durable ||
        (ack.awaits_handled && !ack.handled)) {
      continue;
    }
    due.push_back(it->first);
  }
  for (const ForwardKey& key : due) {
    const std::optional<MonitorEventSource> source = acks.find(key)->second.source;
    if (source) HASHLOCK_RETURN_IF_ERROR(ack_now(*source));
    forward_acks_.erase(key);
  }
  return due.empty() ? util::Status::ok() : persist();
}

util::Status ChannelManager::flush(ChannelEntry& entry) {
  ChannelOutput out = entry.channel.flush(!entry.in_flight.empty());
  if (out.empty()) return util::Status::ok();
  return commit(entry, std::move(out));
}

util::Status ChannelManager::close_as_monitor_did(ChannelEntry& entry, const std::string& reason) {
  const ChannelMonitor* monitor = chain_monitor_->get(entry.channel.id());
  HASHLOCK_CHECK(monitor != nullptr, "a channel closed by its monitor has one");
  entry.channel.skip_monitor_update_ids_to(monitor->latest_update_id());
  entry.in_flight.clear();  // behind the monitor
  return close_without_update(entry, reason);
}

util::Status ChannelManager::close_without_update(ChannelEntry& entry, const std::string& reason) {
  entry.channel.mark_closed();
  entry.outbox.clear();
  closing_.erase(entry.channel.id());
  HASHLOCK_RETURN_IF_ERROR(fail_uncommitted_htlcs(entry));
  HASHLOCK_RETURN_IF_ERROR(run_forward_acks(entry));
  // A stale state may hold open a channel whose close a later state handled.
  return queue_channel_closed(entry.channel.id(), reason);
}

util::Status ChannelManager::queue_channel_closed(const ChannelId& id, const std::string& reason) {
  if (any_queued<ChannelClosed>([&](const ChannelClosed& c) { return c.channel_id == id; }))
    return util::Status::ok();
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> handled, store_->get(kClosesDoneNamespace, id.to_hex()));
  if (!handled) queue_event(ChannelClosed{id, reason}, {});
  return util::Status::ok();
}

util::Status ChannelManager::recover_orphans() {
  HASHLOCK_RETURN_IF_ERROR(close_orphan_monitors());
  HASHLOCK_RETURN_IF_ERROR(rebuild_payments_from_monitors());
  return persist();
}

util::Status ChannelManager::close_orphan_monitors() {
  for (const ChannelId& id : chain_monitor_->channels()) {
    if (channels_.count(id) > 0) continue;
    const ChannelMonitor* monitor = chain_monitor_->get(id);
    const std::string reason =
        "the channel manager state does not know this channel (older than the channel, or "
        "lost): closed from its monitor";
    if (!monitor->closed() && !monitor->funding_spent()) {
      ++stats_.orphan_monitors_closed;
      const ChannelMonitorUpdate close{
          id, monitor->latest_update_id() + 1, {ChannelForceClosed{true, reason}}};
      if (chain_monitor_->update_channel(close) == UpdateStatus::kUnrecoverableError) {
        fatal_ = util::io_error("the close update of orphan monitor " + id.to_hex() + " failed (" +
                                chain_monitor_->last_error() + "); the node has stopped");
        return fatal_;
      }
    }
    HASHLOCK_RETURN_IF_ERROR(queue_channel_closed(id, reason));
  }
  return util::Status::ok();
}

util::Status ChannelManager::force_close(ChannelEntry& entry, const std::string& reason,
                                         bool keep_in_flight) {
  const ChannelId id = entry.channel.id();
  // The monitor gets this round's preimages before the close.
  HASHLOCK_RETURN_IF_ERROR(submit_open_preimages(entry));
  if (const ChannelMonitor* monitor = chain_monitor_->get(id)) {
    entry.channel.skip_monitor_update_ids_to(monitor->latest_update_id());
  }
  entry.channel.mark_closed();
  // A stale state's in-flight updates are behind the monitor; ours are not,
  // and must still become durable before the close that follows them.
  if (!keep_in_flight) entry.in_flight.clear();
  entry.outbox.clear();
  ++stats_.channels_force_closed;
  queue_event(ChannelClosed{id, reason}, {});
  HASHLOCK_RETURN_IF_ERROR(fail_uncommitted_htlcs(entry));
  ChannelOutput out;
  out.steps.push_back(ChannelForceClosed{true, reason});
  HASHLOCK_RETURN_IF_ERROR(commit(entry, std::move(out)));
  return run_forward_acks(entry);
}

// --- local actions ----------------------------------------------------------

util::Status ChannelManager::give_preimage_to_monitor(ChannelEntry& entry,
                                                      const PaymentPreimage& preimage) {
  const ChannelMonitor* monitor = chain_monitor_->get(entry.channel.id());
  if (monitor != nullptr && monitor->preimage_for(preimage.payment_hash())) {
    return util::Status::ok();
  }
  ChannelOutput out;
  out.steps.push_back(PaymentPreimageStep{preimage});
  return commit(entry, std::move(out));
}

util::Status ChannelManager::force_close_channel(const ChannelId& channel_id,
                                                 const std::string& reason) {
  return in_round([&] { return force_close_channel_now(channel_id, reason); });
}

util::Status ChannelManager::force_close_channel_now(const ChannelId& channel_id,
                                                     const std::string& reason) {
  if (!fatal_.is_ok()) return fatal_;
  ChannelEntry* entry = find(channel_id);
  if (entry == nullptr) return util::not_found("no channel " + channel_id.to_hex());
  if (entry->channel.phase() == ChannelPhase::kClosed) {
    return util::failed_precondition("channel " + channel_id.to_hex() + " is already closed");
  }
  return force_close(*entry, reason, /*keep_in_flight=*/true);
}

util::Status ChannelManager::fail_uncommitted_htlcs(ChannelEntry& entry) {
  const ChannelId id = entry.channel.id();
  // Forwards whose inbound fulfill or fail was in flight here: their monitor
  // has the preimage (or nothing to claim); ack once the updates so far are durable.
  const uint64_t latest = std::max<uint64_t>(entry.channel.latest_monitor_update_id(), 1);
  for (auto it = forward_acks_.lower_bound({id, 0});
       it != forward_acks_.end() && it->first.first == id; ++it) {
    if (it->second.removed_by_update == 0) it->second.removed_by_update = latest;
  }
  const FailureReason reason{FailureCode::kChannelClosed, 0, {}};
  const ChannelMonitor* monitor = chain_monitor_->get(id);
  for (const LogEntry& htlc : entry.channel.uncommitted_offered_htlcs()) {
    if (!htlc.source) continue;
    // Only the monitor decides: a stale state may show uncommitted an HTLC
    // that was sent after its copy and that a counterparty commitment holds.
    // The monitor reports its claim or its fail (on chain, after the
    // anti-reorg delay); until then the inbound side waits.
    if (monitor != nullptr && monitor->tracks_outbound(*htlc.source)) continue;
    const HtlcEvent failed{htlc.payment_hash, *htlc.source, htlc.amount, htlc.htlc_id,
                           FailedResolution{reason}};
    if (const auto* route = std::get_if<OutboundRoute>(&*htlc.source)) {
      HASHLOCK_RETURN_IF_ERROR(on_outbound_resolved(std::nullopt, id, failed, *route));
    } else {
      const auto& prev = std::get<PreviousHop>(*htlc.source);
      HASHLOCK_RETURN_IF_ERROR(
          fail_inbound(prev.channel_id, prev.htlc_id, htlc.payment_hash, reason));
    }
  }
  return util::Status::ok();
}

ChannelMonitor ChannelManager::new_monitor(const Channel& channel) const {
  const ChannelState state = channel.local_state();
  return ChannelMonitor::create(channel.id(), channel.peer(), config_.persistent_monitor_events,
                                state.to_us, state.to_them,
                                channel.monitor_chain_setup(node_key(config_.node_id)));
}

util::Result<ChannelId> ChannelManager::open_channel_now(NodeId peer, AmountMsat capacity,
                                                         AmountMsat push,
                                                         std::optional<chain::OutPoint> funding) {
  if (!fatal_.is_ok()) return fatal_;
  if (push > capacity)
    return util::invalid_argument("push " + push.to_string() + " exceeds capacity " +
                                  capacity.to_string());
  if (capacity.value() == 0) return util::invalid_argument("a channel needs a positive capacity");
  codec::ByteWriter seed_input;
  seed_input.raw(config_.node_seed);
  seed_input.u64(config_.node_id.value());
  seed_input.u64(channels_opened_++);
  const ChannelId id(util::sha256(seed_input.bytes()));
  auto [channel, open] = Channel::open(id, peer, capacity, push, config_.channel_config,
                                       channel_seed(config_.node_seed, id), funding);
  channels_.emplace(id, ChannelEntry{std::move(channel), {}, {}});
  HASHLOCK_RETURN_IF_ERROR(persist());
  send_to(peer, open);
  return id;
}

util::Status ChannelManager::send_payment_now(const PaymentId& payment_id, const PaymentHash& hash,
                                              AmountMsat amount, const ChannelId& channel_id) {
  return send_payment_route_now(payment_id, hash, amount, {RouteHop{channel_id, FeePolicy{}}});
}

util::Status ChannelManager::send_payment_route_now(const PaymentId& payment_id,
                                                    const PaymentHash& hash, AmountMsat amount,
                                                    const std::vector<RouteHop>& route) {
  if (!fatal_.is_ok()) return fatal_;
  HASHLOCK_ASSIGN_OR_RETURN(const uint64_t first_part_id, refuse_if_known(payment_id));
  if (route.empty()) return util::invalid_argument("a route needs at least one channel");
  OutboundPayment payment;
  payment.next_part_id = first_part_id;
  payment.payment_hash = hash;
  payment.amount = amount;
  HASHLOCK_RETURN_IF_ERROR(send_part(payment_id, payment, route, amount));
  payments_[payment_id] = std::move(payment);
  HASHLOCK_RETURN_IF_ERROR(persist());
  return flush(*find(route.front().channel_id));
}

std::optional<ClaimState> ChannelManager::claim_state(const PaymentHash& hash) const {
  auto it = claimable_.find(hash);
  if (it == claimable_.end()) return std::nullopt;
  return it->second.state;
}

util::Status ChannelManager::claim_funds_now(const PaymentPreimage& preimage) {
  if (!fatal_.is_ok()) return fatal_;
  const PaymentHash hash = preimage.payment_hash();
  auto it = claimable_.find(hash);
  if (it == claimable_.end())
    return util::not_found("no claimable payment for hash " + hash.to_hex());
  ClaimablePayment& payment = it->second;
  if (payment.state == ClaimState::kClaimed) {
    HASHLOCK_RETURN_IF_ERROR(resume_claim(hash, payment));
    return persist();
  }
  if (payment.state != ClaimState::kClaimable) {
    return util::failed_precondition("payment " + hash.to_hex() +
                                     " is not claimable (it was failed or is incomplete)");
  }
  const uint64_t height = chain_monitor_->best_height();
  if (const std::optional<uint32_t> expiry = earliest_expiry(payment);
      !config_.late_claims && expiry && *expiry <= height + kLastClaimBlocks) {
    ++stats_.claimables_failed_near_expiry;
    HASHLOCK_RETURN_IF_ERROR(fail_htlc_backwards_now(hash));
    return util::failed_precondition(
        "payment " + hash.to_hex() + " expires at block " + std::to_string(*expiry) +
        ", too close to block " + std::to_string(height) + " to claim safely; it was failed back");
  }
  // Claimed as a whole: once one part's preimage may leave, every part must
  // be claimed, after a crash too (the preimage is kept for that).
  payment.state = ClaimState::kClaimed;
  payment.preimage = preimage;
  AmountMsat total;
  for (const ClaimableHtlc& htlc : payment.htlcs) {
    HASHLOCK_ASSIGN_OR_RETURN(total, total.checked_add(htlc.amount));
  }
  queue_event(PaymentClaimed{hash, total}, {});
  HASHLOCK_RETURN_IF_ERROR(resume_claim(hash, payment));
  return persist();
}

util::Status ChannelManager::fail_htlc_backwards_now(const PaymentHash& hash) {
  if (!fatal_.is_ok()) return fatal_;
  auto it = claimable_.find(hash);
  if (it == claimable_.end())
    return util::not_found("no claimable payment for hash " + hash.to_hex());
  if (it->second.state == ClaimState::kClaimed)
    return util::failed_precondition("payment " + hash.to_hex() + " was already claimed");
  if (it->second.state == ClaimState::kFailed) return util::Status::ok();
  it->second.state = ClaimState::kFailed;
  const FailureReason reason{FailureCode::kIncorrectPaymentDetails, it->second.hop_index, {}};
  for (const ClaimableHtlc& htlc : it->second.htlcs) {
    ChannelEntry* entry = find(htlc.channel_id);
    if (entry == nullptr || !entry->channel.is_open()) continue;
    HASHLOCK_ASSIGN_OR_RETURN(bool started, entry->channel.fail_htlc(htlc.htlc_id, reason));
    if (started) HASHLOCK_RETURN_IF_ERROR(flush(*entry));
  }
  return persist();
}

util::Status ChannelManager::on_inbound_committed(ChannelEntry& entry,
                                                  const std::vector<InboundHtlc>& htlcs) {
  for (const InboundHtlc& htlc : htlcs) {
    auto payload = decode_payload(htlc.onion);
    if (payload.is_ok() && !payload->is_final()) {
      // Recorded with this commit's state write; acted on right after it.
      pending_forwards_.push_back(PendingForward{entry.channel.id(), htlc});
      continue;
    }
    ClaimablePayment& payment = claimable_[htlc.payment_hash];
    // Less than the payload asks for only if a forwarder said it skimmed the
    // difference and we agreed to that.
    const bool skim_ok = htlc.skimmed_fee.value() == 0 || config_.accept_underpaying_htlcs;
    auto expected = htlc.amount.checked_add(skim_ok ? htlc.skimmed_fee : AmountMsat());
    const bool acceptable = payload.is_ok() && expected.is_ok() && payment.state == ClaimState::kWaiting &&
                            *expected >= payload->amount_to_forward &&
                            (payment.htlcs.empty() || payment.total == payload->total);
    if (!acceptable) {
      const uint32_t hop = payload.is_ok() ? payload->hop_index : 0;
      const FailureReason reason{FailureCode::kIncorrectPaymentDetails, hop, {}};
      HASHLOCK_ASSIGN_OR_RETURN(bool started, entry.channel.fail_htlc(htlc.id, reason));
      if (started) {
        queue_event(HtlcHandlingFailed{entry.channel.id(), htlc.payment_hash, reason}, {});
      }
      continue;
    }
    if (payment.htlcs.empty()) payment.first_tick = tick_;
    payment.total = payload->total;
    payment.hop_index = payload->hop_index;
    payment.htlcs.push_back(ClaimableHtlc{entry.channel.id(), htlc.id, htlc.amount, false, htlc.skimmed_fee});
    AmountMsat received, skimmed;
    for (const ClaimableHtlc& h : payment.htlcs) {
      HASHLOCK_ASSIGN_OR_RETURN(received, received.checked_add(h.amount));
      HASHLOCK_ASSIGN_OR_RETURN(skimmed, skimmed.checked_add(h.skimmed_fee));
    }
    HASHLOCK_ASSIGN_OR_RETURN(AmountMsat counted, received.checked_add(skimmed));
    if (counted >= payment.total) {
      payment.state = ClaimState::kClaimable;
      queue_event(PaymentClaimable{htlc.payment_hash, received, skimmed}, {});
    }
  }
  return util::Status::ok();
}

util::Status ChannelManager::process_forwards() {
  if (processing_forwards_) return util::Status::ok();  // the outer loop continues
  processing_forwards_ = true;
  util::Status status;
  while (status.is_ok() && !pending_forwards_.empty()) {
    const PendingForward next = pending_forwards_.front();
    pending_forwards_.erase(pending_forwards_.begin());
    // The state write inside forward() records both that this forward is
    // no longer pending and what it did, in one synced write.
    status = forward(next);
  }
  processing_forwards_ = false;
  return status;
}

util::Status ChannelManager::fail_inbound(const ChannelId& channel_id, HtlcId htlc_id,
                                          const PaymentHash& hash, FailureReason reason) {
  ChannelEntry* entry = find(channel_id);
  if (entry == nullptr || !entry->channel.is_open()) return persist();
  HASHLOCK_ASSIGN_OR_RETURN(bool started, entry->channel.fail_htlc(htlc_id, reason));
  if (started) {
    ++stats_.forwards_failed_back;
    queue_event(HtlcHandlingFailed{channel_id, hash, std::move(reason)}, {});
  }
  HASHLOCK_RETURN_IF_ERROR(persist());
  return flush(*entry);
}

util::Status ChannelManager::forward(const PendingForward& pending) {
  const InboundHtlc& htlc = pending.htlc;
  HASHLOCK_ASSIGN_OR_RETURN(HopPayload payload, decode_payload(htlc.onion));
  auto fail = [&](FailureCode code) {
    return fail_inbound(pending.in_channel, htlc.id, htlc.payment_hash,
                        FailureReason{code, payload.hop_index, {}});
  };
  ChannelEntry* next = find(*payload.next_channel);
  if (next == nullptr || !next->channel.is_open()) {
    // A stale state may still list as pending a forward that a later state
    // sent: the outbound monitor holds it and reports its outcome.
    const ChannelMonitor* monitor = chain_monitor_->get(*payload.next_channel);
    if (monitor != nullptr &&
        monitor->tracks_outbound(PreviousHop{pending.in_channel, htlc.id, htlc.amount, {}})) {
      return persist();
    }
    return fail(FailureCode::kUnknownNextPeer);
  }
  auto fee = config_.fee_policy.fee_for(payload.amount_to_forward);
  auto required = fee.is_ok() ? payload.amount_to_forward.checked_add(*fee) : fee;
  if (!required.is_ok() || htlc.amount < *required) return fail(FailureCode::kFeeInsufficient);
  if (htlc.cltv_expiry < static_cast<uint64_t>(payload.outgoing_cltv) + config_.fee_policy.cltv_expiry_delta) {
    return fail(FailureCode::kIncorrectCltvExpiry);
  }
  // An operator who agreed with its peers to skim does so when the payment
  // leaves something to forward.
  const AmountMsat skim =
      config_.forward_skim_msat < payload.amount_to_forward ? config_.forward_skim_msat : AmountMsat();
  const AmountMsat out_amount = payload.amount_to_forward.checked_sub(skim).value();
  const HtlcSource source = PreviousHop{pending.in_channel, htlc.id, htlc.amount, skim};
  util::Status sent = next->channel.send_htlc(out_amount, htlc.payment_hash, payload.outgoing_cltv,
                                              payload.inner, source, nullptr, skim);
  if (!sent.is_ok()) {
    const bool too_small = sent.message().find("below the minimum") != std::string::npos;
    return fail(too_small ? FailureCode::kAmountBelowMinimum : FailureCode::kTemporaryChannelFailure);
  }
  HASHLOCK_RETURN_IF_ERROR(persist());
  return flush(*next);
}

void ChannelManager::on_inbound_removed(const ChannelId& channel_id,
                                        const std::vector<HtlcId>& htlcs, uint64_t update_id) {
  if (htlcs.empty()) return;
  for (HtlcId id : htlcs) {
    auto ack = forward_acks_.find({channel_id, id.value()});
    if (ack != forward_acks_.end() && ack->second.removed_by_update == 0) ack->second.removed_by_update = update_id;
  }
  // Only the payments holding one of these HTLCs change.
  std::vector<PaymentHash> touched;
  for (const auto& [hash, payment] : std::as_const(claimable_)) {
    for (const ClaimableHtlc& h : payment.htlcs) {
      if (h.channel_id == channel_id && std::find(htlcs.begin(), htlcs.end(), h.htlc_id) != htlcs.end()) {
        touched.push_back(hash);
        break;
      }
    }
  }
  for (const PaymentHash& hash : touched) {
    auto it = claimable_.find(hash);
    bool all_removed = true;
    for (ClaimableHtlc& h : it->second.htlcs) {
      if (h.channel_id == channel_id &&
          std::find(htlcs.begin(), htlcs.end(), h.htlc_id) != htlcs.end())
        h.removed = true;
      all_removed &= h.removed;
    }
    const bool finished =
        it->second.state == ClaimState::kClaimed || it->second.state == ClaimState::kFailed;
    if (finished && all_removed) claimable_.erase(it);
  }
}

// --- peer messages ----------------------------------------------------------

util::Result<ChannelOutput> ChannelManager::dispatch(Channel& channel, const Message& message) {
  if (const auto* m = std::get_if<UpdateAddHtlc>(&message)) return channel.on_update_add(*m);
  if (const auto* m = std::get_if<UpdateFulfillHtlc>(&message))
    return channel.on_update_fulfill(*m);
  if (const auto* m = std::get_if<UpdateFailHtlc>(&message)) return channel.on_update_fail(*m);
  if (const auto* m = std::get_if<CommitmentSigned>(&message))
    return channel.on_commitment_signed(*m);
  if (const auto* m = std::get_if<RevokeAndAck>(&message)) return channel.on_revoke_and_ack(*m);
  if (const auto* m = std::get_if<ChannelReestablish>(&message)) return channel.on_reestablish(*m);
  return util::protocol_error("unexpected " + message_name(message) + " for an existing channel");
}

util::Status ChannelManager::handle_message_now(NodeId from, const Bytes& bytes) {
  if (!fatal_.is_ok()) return fatal_;
  auto decoded = decode_message(bytes);
  if (!decoded.is_ok()) return decoded.status().with_context("message from " + from.to_string());
  const Message& message = *decoded;
  if (const auto* open = std::get_if<OpenChannel>(&message)) {
    if (channels_.count(open->channel_id) > 0)
      return util::protocol_error("open_channel for an existing channel");
    const Secret seed = channel_seed(config_.node_seed, open->channel_id);
    HASHLOCK_ASSIGN_OR_RETURN(auto accepted,
                              Channel::accept(*open, from, config_.channel_config, seed));
    auto [channel, accept] = std::move(accepted);
    ChannelMonitor monitor = new_monitor(channel);
    channels_.emplace(open->channel_id, ChannelEntry{std::move(channel), {}, {}});
    HASHLOCK_RETURN_IF_ERROR(persist());
    if (chain_monitor_->watch_channel(std::move(monitor)) == UpdateStatus::kUnrecoverableError) {
      return util::io_error("cannot persist the monitor of a new channel");
    }
    send_to(from, accept);
    return util::Status::ok();
  }
  if (const auto* error = std::get_if<ErrorMessage>(&message)) {
    // The peer has failed the channel: our monitor takes it on chain.
    ChannelEntry* entry = find(error->channel_id);
    if (entry != nullptr && entry->channel.peer() == from && entry->channel.is_open()) {
      ++stats_.peer_error_force_closes;
      return force_close(*entry, "peer reported an error: " + error->text,
                         /*keep_in_flight=*/true);
    }
    return util::protocol_error(from.to_string() + " reported an error on channel " +
                                error->channel_id.to_hex() + ": " + error->text);
  }
  ChannelEntry* entry = find(message_channel(message));
  if (entry == nullptr) {
    // A channel this node closed from its monitor (its state did not know
    // it), or one it never had: the peer must learn it is over.
    const ChannelMonitor* orphan = chain_monitor_->get(message_channel(message));
    if ((orphan != nullptr && orphan->counterparty() == from) ||
        std::holds_alternative<ChannelReestablish>(message)) {
      send_to(from, ErrorMessage{message_channel(message),
                                 orphan != nullptr ? "channel closed: this node lost its state of "
                                                     "it and closed it from its monitor"
                                                   : "unknown channel"});
    }
    return util::protocol_error(message_name(message) + " for unknown channel " +
                                message_channel(message).to_hex());
  }
  if (entry->channel.peer() != from)
    return util::protocol_error(message_name(message) +
                                " from a node that is not the channel's peer");
  if (const auto* accept = std::get_if<AcceptChannel>(&message)) {
    HASHLOCK_RETURN_IF_ERROR(entry->channel.on_accept(*accept));
    HASHLOCK_RETURN_IF_ERROR(persist());
    if (chain_monitor_->watch_channel(new_monitor(entry->channel)) ==
        UpdateStatus::kUnrecoverableError) {
      return util::io_error("cannot persist the monitor of a new channel");
    }
    return flush(*entry);
  }
  auto handled = handle_close_message(*entry, message);
  if (handled.is_ok() && *handled) return advance_closes();
  if (!handled.is_ok()) {
    ++stats_.peer_messages_refused;
    send_to(from, ErrorMessage{entry->channel.id(), handled.status().message()});
    return handled.status();
  }
  if (entry->channel.phase() == ChannelPhase::kClosed && entry->channel.closing_fee()) {
    return util::Status::ok();  // closed cooperatively: the peer's reconnection is moot
  }
  auto out = dispatch(entry->channel, message);
  if (!out.is_ok()) {
    ++stats_.peer_messages_refused;
    // A commitment we cannot verify, or a revocation that does not revoke,
    // leaves no safe way on off-chain: the chain settles the channel.
    if (Channel::breaks_channel(out.status()) && entry->channel.is_open()) {
      HASHLOCK_RETURN_IF_ERROR(fail_channel(*entry, out.status()));
    } else {
      send_to(from, ErrorMessage{entry->channel.id(), out.status().message()});
    }
    return out.status();
  }
  ChannelOutput merged = std::move(out).value();
  ChannelOutput batch = entry->channel.flush(!entry->in_flight.empty());
  for (MonitorStep& step : batch.steps) merged.steps.push_back(std::move(step));
  for (Message& m : batch.messages) merged.messages.push_back(std::move(m));
  HASHLOCK_RETURN_IF_ERROR(commit(*entry, std::move(merged)));
  return advance_closes();
}

util::Status ChannelManager::peer_connected_now(NodeId peer) {
  if (!fatal_.is_ok()) return fatal_;
  // A new connection replaces a session we were not told had ended: what was
  // in flight on it is gone, so both ends must reestablish from scratch.
  for (const auto& [id, entry] : std::as_const(channels_)) {
    if (entry.channel.peer() == peer && entry.channel.connected()) {
      HASHLOCK_RETURN_IF_ERROR(peer_disconnected_now(peer));
      break;
    }
  }
  for (const auto& [id, entry] : std::as_const(channels_)) {
    if (entry.channel.peer() != peer || !entry.channel.is_open()) continue;
    if (auto ready = entry.channel.ready_to_resend()) send_to(peer, *ready);
    send_to(peer, entry.channel.reestablish_message());
    if (entry.channel.shutdown_sent()) send_to(peer, Shutdown{id});
  }
  return util::Status::ok();
}

util::Status ChannelManager::peer_disconnected_now(NodeId peer) {
  if (!fatal_.is_ok()) return fatal_;
  for (auto& [id, entry] : channels_) {
    if (entry.channel.peer() != peer) continue;
    entry.channel.on_disconnect();
    entry.outbox.clear();
  }
  return persist();
}

// --- events -----------------------------------------------------------------

void ChannelManager::queue_event(Event event, std::vector<MonitorEventSource> acks,
                                 std::vector<HtlcRelease> releases) {
  HASHLOCK_CHECK(events_.size() < kMaxQueuedUserEvents,
                 "user event queue is full: the user is not draining events");
  events_.push_back(
      QueuedEvent{next_event_sequence_++, std::move(event), std::move(acks), std::move(releases)});
}

util::Status ChannelManager::release_payment(const HtlcRelease& release) {
  ChannelEntry* entry = find(release.channel_id);
  // A channel a stale manager state does not know keeps the HTLC in its
  // monitor; the outcome is already recorded, so nothing is lost.
  if (entry == nullptr) return util::Status::ok();
  ChannelOutput out;
  out.steps.push_back(ReleasePaymentComplete{release.htlc_id});
  return commit(*entry, std::move(out));
}

OutboundPayment ChannelManager::rebuilt_payment(const PaymentHash& hash, const OutboundRoute& route,
                                               AmountMsat htlc_amount, const ChannelId& channel_id) {
  OutboundPayment rebuilt;
  rebuilt.payment_hash = hash;
  rebuilt.amount = route.total_amount;
  // Part 0 of a fresh payment may be a single path; any other part id is a
  // multi-part payment's or a resend's (whose path event is then harmless).
  rebuilt.multipath = route.part_id != 0;
  rebuilt.abandoned = true;  // no retries: it fails once nothing is in flight
  rebuilt.next_part_id = route.part_id + 1;
  // What reaches the payee: the whole payment for a single path, else the
  // first hop's HTLC less the part's fees.
  const AmountMsat delivered =
      !rebuilt.multipath ? route.total_amount
      : htlc_amount.value() > route.fee.value() ? AmountMsat(htlc_amount.value() - route.fee.value())
                                                : htlc_amount;
  rebuilt.parts.push_back(PaymentPart{
      .part_id = route.part_id, .amount = delivered, .fee = route.fee, .route = {channel_id}});
  return rebuilt;
}

bool ChannelManager::adopt_unknown_part(OutboundPayment& payment, const PaymentHash& hash,
                                        const OutboundRoute& route, AmountMsat htlc_amount,
                                        const ChannelId& channel_id) {
  if (payment.part(route.part_id) != nullptr) return false;
  payment.parts.push_back(rebuilt_payment(hash, route, htlc_amount, channel_id).parts.front());
  payment.next_part_id = std::max(payment.next_part_id, route.part_id + 1);
  return true;
}

std::vector<size_t> ChannelManager::resolution_order(const std::vector<const HtlcEvent*>& events,
                                                     const std::vector<ChannelId>& channels) {
  std::vector<size_t> order;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto* route = std::get_if<OutboundRoute>(&events[i]->source);
    if (route == nullptr) continue;
    auto it = payments_.find(route->payment_id);
    if (it != payments_.end() && it->second.state == PaymentState::kPending &&
        adopt_unknown_part(it->second, events[i]->payment_hash, *route, events[i]->htlc_value,
                           channels[i])) {
      ++stats_.payments_rebuilt_from_monitors;
    }
    if (std::holds_alternative<FailedResolution>(events[i]->resolution)) order.push_back(i);
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const bool outbound_failure = std::holds_alternative<OutboundRoute>(events[i]->source) &&
                                  std::holds_alternative<FailedResolution>(events[i]->resolution);
    if (!outbound_failure) order.push_back(i);
  }
  return order;
}

util::Status ChannelManager::rebuild_payments_from_monitors() {
  for (const ChannelId& channel_id : chain_monitor_->channels()) {
    const ChannelMonitor* monitor = chain_monitor_->get(channel_id);
    for (const ChannelMonitor::UnresolvedHtlc& htlc : monitor->unresolved_outbound()) {
      const auto* route = std::get_if<OutboundRoute>(&htlc.source);
      if (route == nullptr) continue;
      auto it = payments_.find(route->payment_id);
      if (it != payments_.end() && it->second.part(route->part_id) != nullptr) continue;
      if (it != payments_.end()) {
        OutboundPayment& payment = it->second;
        if (payment.state == PaymentState::kPending) {
          // A part a stale state does not know: a retry sent after its copy.
          if (adopt_unknown_part(payment, htlc.payment_hash, *route, htlc.amount, channel_id))
            ++stats_.payments_rebuilt_from_monitors;
          continue;
        }
        // The state's payment ended; a part beyond its parts is a resend
        // sent after this state's copy, once that end was handled.
        if (!payment.terminal_handled || route->part_id < payment.next_part_id) continue;
        payments_.erase(it);
      }
      HASHLOCK_ASSIGN_OR_RETURN(std::optional<CompletedPayment> done,
                                completed_payment(route->payment_id));
      if (done && done->covers(route->part_id)) continue;  // its outcome was handled
      payments_.emplace(route->payment_id,
                        rebuilt_payment(htlc.payment_hash, *route, htlc.amount, channel_id));
      ++stats_.payments_rebuilt_from_monitors;
    }
  }
  return util::Status::ok();
}

util::Status ChannelManager::rebuild_legacy_outcomes() {
  std::vector<HtlcEvent> resolutions;
  std::vector<ChannelId> channels;
  for (const ChannelId& channel_id : chain_monitor_->channels()) {
    for (const HtlcEvent& event : chain_monitor_->get(channel_id)->unreleased_resolutions()) {
      resolutions.push_back(event);
      channels.push_back(channel_id);
    }
  }
  std::vector<const HtlcEvent*> events;
  for (const HtlcEvent& event : resolutions) events.push_back(&event);
  for (const size_t i : resolution_order(events, channels)) {
    const HtlcEvent& event = resolutions[i];
    if (const auto* route = std::get_if<OutboundRoute>(&event.source)) {
      HASHLOCK_RETURN_IF_ERROR(on_outbound_resolved(std::nullopt, channels[i], event, *route));
    } else if (const auto* prev = std::get_if<PreviousHop>(&event.source)) {
      // A forward's outcome: the inbound HTLC is settled if the state
      // still holds it (a no-op once it is gone or being removed).
      HASHLOCK_RETURN_IF_ERROR(on_forward_resolved(std::nullopt, channels[i], event, *prev));
    }
  }
  return util::Status::ok();
}

util::Status ChannelManager::ack_now(const MonitorEventSource& source) {
  return chain_monitor_->ack_monitor_event(source);
}

util::Status ChannelManager::process_completions_now() {
  if (!fatal_.is_ok()) return fatal_;
  for (const auto& [channel_id, update_id] : chain_monitor_->take_completed()) {
    ChannelEntry* entry = find(channel_id);
    if (entry == nullptr) {
      // An orphan monitor's preimage is durable: the forward's event goes.
      for (auto it = orphan_acks_.lower_bound({channel_id, 0});
           it != orphan_acks_.end() && it->first.first == channel_id && it->first.second <= update_id;) {
        HASHLOCK_RETURN_IF_ERROR(ack_now(it->second));
        it = orphan_acks_.erase(it);
      }
      continue;
    }
    while (!entry->in_flight.empty() && entry->in_flight.front().update_id <= update_id)
      entry->in_flight.pop_front();
    HASHLOCK_RETURN_IF_ERROR(persist());
    release_outbox(*entry);
    HASHLOCK_RETURN_IF_ERROR(flush(*entry));
    HASHLOCK_RETURN_IF_ERROR(run_forward_acks(*entry));
  }
  return advance_closes();
}

util::Status ChannelManager::on_outbound_resolved(const std::optional<MonitorEventSource>& source,
                                                  const ChannelId& channel_id,
                                                  const HtlcEvent& event,
                                                  const OutboundRoute& route) {
  const bool persistent = config_.persistent_monitor_events;
  const bool claimed = std::holds_alternative<ClaimedResolution>(event.resolution);
  const HtlcRelease release{channel_id, event.htlc_id};
  auto ack = [&]() { return source ? ack_now(*source) : util::Status::ok(); };
  if (config_.planted_bug == ManagerConfig::PlantedBug::kAckBeforeHandled) {
    // The bug: the ack is made durable on its own, before the consequence.
    HASHLOCK_RETURN_IF_ERROR(ack());
    HASHLOCK_RETURN_IF_ERROR(commit_mid_round());
  }
  if (replay_changes_nothing(route, claimed, source, release)) {
    // A replay after a restart whose consequences, ack or release included,
    // are all recorded: read only, so the payment's record is not rewritten.
    ++stats_.monitor_events_replayed;
    HASHLOCK_RETURN_IF_ERROR(persist());
    return persistent ? util::Status::ok() : ack();
  }
  auto it = payments_.find(route.payment_id);
  if (it == payments_.end()) {
    HASHLOCK_ASSIGN_OR_RETURN(std::optional<CompletedPayment> done, completed_payment(route.payment_id));
    if (done && done->covers(route.part_id)) {
      // Every part and the payment itself were handled: only ack (and in legacy mode release).
      ++stats_.monitor_events_replayed;
      HASHLOCK_RETURN_IF_ERROR(ack());
      return persistent ? util::Status::ok() : release_payment(release);
    }
    // A payment the (possibly stale) manager state does not know is rebuilt
    // from the event: this part alone, no retries.
    it = payments_
             .emplace(route.payment_id,
                      rebuilt_payment(event.payment_hash, route, event.htlc_value, channel_id))
             .first;
    ++stats_.payments_rebuilt_from_monitors;
  }
  OutboundPayment& payment = it->second;
  // A part a stale state does not know (a retry sent after its copy).
  (void)adopt_unknown_part(payment, event.payment_hash, route, event.htlc_value, channel_id);
  PaymentPart* part = payment.part(route.part_id);
  if (part->state != PartState::kInFlight) {
    // Replayed: the part's consequences are recorded; its ack or release
    // waits with it, or runs now if the user already handled both events.
    HASHLOCK_CHECK((part->state == PartState::kSucceeded) == claimed,
                   "the monitor resolved one payment part both as claimed and as failed");
    ++stats_.monitor_events_replayed;
    if (persistent && source && std::find(part->acks.begin(), part->acks.end(), *source) == part->acks.end())
      part->acks.push_back(*source);
    if (!persistent && std::find(part->releases.begin(), part->releases.end(), release) == part->releases.end())
      part->releases.push_back(release);
  } else {
    part->state = claimed ? PartState::kSucceeded : PartState::kFailed;
    part->path_handled = !payment.multipath;  // single-path payments have no path event
    if (persistent && source) part->acks.push_back(*source);
    if (!persistent) part->releases.push_back(release);
    if (claimed) {
      const auto& resolution = std::get<ClaimedResolution>(event.resolution);
      HASHLOCK_CHECK(payment.state != PaymentState::kFailed,
                     "a part of a payment that already failed was claimed");
      if (payment.state == PaymentState::kPending) {
        payment.state = PaymentState::kSucceeded;
        queue_event(PaymentSent{route.payment_id, event.payment_hash, resolution.preimage, payment.amount,
                                payment.fees()},
                    {});
      }
      if (payment.multipath) queue_event(PaymentPathSuccessful{route.payment_id, route.part_id}, {});
    } else {
      const FailureReason& reason = std::get<FailedResolution>(event.resolution).reason;
      part->failure = reason;
      payment.last_failure = reason;
      if (payment.multipath) queue_event(PaymentPathFailed{route.payment_id, route.part_id, reason}, {});
      const PaymentPart failed = *part;
      HASHLOCK_RETURN_IF_ERROR(after_part_failed(route.payment_id, payment, failed, false));
    }
  }
  std::vector<MonitorEventSource> due_acks;
  std::vector<HtlcRelease> due_releases;
  payment.take_due(&due_acks, &due_releases);
  HASHLOCK_RETURN_IF_ERROR(persist());
  if (!persistent) HASHLOCK_RETURN_IF_ERROR(ack());
  for (const MonitorEventSource& a : due_acks) HASHLOCK_RETURN_IF_ERROR(ack_now(a));
  for (const HtlcRelease& r : due_releases) HASHLOCK_RETURN_IF_ERROR(release_payment(r));
  return util::Status::ok();
}

bool ChannelManager::replay_changes_nothing(const OutboundRoute& route, bool claimed,
                                            const std::optional<MonitorEventSource>& source,
                                            const HtlcRelease& release) const {
  auto it = payments_.find(route.payment_id);
  if (it == payments_.end() || it->second.terminal_handled) return false;
  const std::vector<PaymentPart>& parts = it->second.parts;
  auto part = std::find_if(parts.begin(), parts.end(),
                           [&](const PaymentPart& p) { return p.part_id == route.part_id; });
  if (part == parts.end() || part->state == PartState::kInFlight ||
      (part->state == PartState::kSucceeded) != claimed) {
    return false;
  }
  if (config_.persistent_monitor_events) {
    return !source || std::find(part->acks.begin(), part->acks.end(), *source) != part->acks.end();
  }
  return std::find(part->releases.begin(), part->releases.end(), release) != part->releases.end();
}

util::Result<bool> ChannelManager::forward_done(const ChannelId& prev_channel, HtlcId prev_htlc) const {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> done,
                            store_->get(kForwardsDoneNamespace, forward_key(prev_channel, prev_htlc)));
  return done.has_value();
}

bool ChannelManager::forward_queued(const ChannelId& prev_channel, HtlcId prev_htlc) const {
  return any_queued<PaymentForwarded>([&](const PaymentForwarded& f) {
    return f.prev_channel_id == prev_channel && f.prev_htlc_id == prev_htlc;
  });
}

util::Result<bool> ChannelManager::forward_handled(const PreviousHop& prev) const {
  if (!loaded_lagging_state_) return false;
  return forward_done(prev.channel_id, prev.htlc_id);
}

util::Status ChannelManager::on_forward_resolved(const std::optional<MonitorEventSource>& source,
                                                 const ChannelId& out_channel, const HtlcEvent& event,
                                                 const PreviousHop& prev) {
  auto ack = [&]() { return source ? ack_now(*source) : util::Status::ok(); };
  const std::pair<ChannelId, uint64_t> key{prev.channel_id, prev.htlc_id.value()};
  if (auto it = forward_acks_.find(key); it != forward_acks_.end()) {
    // A replay after a restart: the inbound side is already being settled.
    ++stats_.monitor_events_replayed;
    if (source) it->second.source = *source;
    HASHLOCK_RETURN_IF_ERROR(persist());
    ChannelEntry* in = find(prev.channel_id);
    return in == nullptr ? util::Status::ok() : run_forward_acks(*in);
  }
  ChannelEntry* in = find(prev.channel_id);
  if (in != nullptr && in->channel.phase() == ChannelPhase::kClosed &&
      std::holds_alternative<ClaimedResolution>(event.resolution)) {
    return on_forward_claimed_inbound_closed(source, out_channel, event, prev, *in);
  }
  if (in == nullptr && claimed_into_orphan(prev.channel_id, event)) {
    return claim_inbound_from_orphan(source, out_channel, event, prev);
  }
  if (in == nullptr || !in->channel.is_open() ||
      in->channel.htlc_state(false, prev.htlc_id) == HtlcState::kRemoved) {
    // The inbound HTLC is already gone: nothing is left to settle.
    return ack();
  }
  ChannelOutput out;
  if (const auto* claimed = std::get_if<ClaimedResolution>(&event.resolution)) {
    HASHLOCK_ASSIGN_OR_RETURN(bool started,
                              in->channel.fulfill_htlc(prev.htlc_id, claimed->preimage, claimed->skimmed_fee));
    HASHLOCK_ASSIGN_OR_RETURN(AmountMsat fee, prev.incoming_amount.checked_sub(event.htlc_value));
    // A stale state may settle again a forward whose PaymentForwarded a
    // later state queued and the user handled: claimed again, told once.
    HASHLOCK_ASSIGN_OR_RETURN(const bool told, started ? forward_handled(prev) : util::Result<bool>(false));
    if (started && !told) {
      queue_event(PaymentForwarded{prev.channel_id, prev.htlc_id, out_channel, event.payment_hash, fee,
                                   prev.skimmed_fee, false, event.htlc_value},
                  {});
    }
    out = in->channel.flush(!in->in_flight.empty());
    // The inbound preimage is durable in the monitor before the fulfill can leave.
    out.steps.insert(out.steps.begin(), PaymentPreimageStep{claimed->preimage});
  } else {
    const FailureReason& reason = std::get<FailedResolution>(event.resolution).reason;
    HASHLOCK_ASSIGN_OR_RETURN(bool started, in->channel.fail_htlc(prev.htlc_id, reason));
    if (started) {
      ++stats_.forwards_failed_back;
      queue_event(HtlcHandlingFailed{prev.channel_id, event.payment_hash, reason}, {});
    }
    out = in->channel.flush(!in->in_flight.empty());
  }
  const bool persistent = config_.persistent_monitor_events;
  if (persistent) {
    HASHLOCK_CHECK(source.has_value(), "a persistent-mode forward resolution has its monitor event");
    forward_acks_[key] = ForwardAck{*source, 0};
  }
  HASHLOCK_RETURN_IF_ERROR(commit(*in, std::move(out)));
  return persistent ? util::Status::ok() : ack();
}

bool ChannelManager::claimed_into_orphan(const ChannelId& in_channel, const HtlcEvent& event) const {
  return std::holds_alternative<ClaimedResolution>(event.resolution) &&
         chain_monitor_->get(in_channel) != nullptr;
}

util::Status ChannelManager::claim_inbound_from_orphan(const std::optional<MonitorEventSource>& source,
                                                       const ChannelId& out_channel,
                                                       const HtlcEvent& event, const PreviousHop& prev) {
  // The inbound channel's monitor has no channel here (closed from it): it
  // takes the inbound HTLC on chain once it has the preimage. The forward's
  // event is acked once that preimage is durable there.
  const auto& claimed = std::get<ClaimedResolution>(event.resolution);
  const ChannelMonitor* monitor = chain_monitor_->get(prev.channel_id);
  HASHLOCK_ASSIGN_OR_RETURN(const bool done, forward_done(prev.channel_id, prev.htlc_id));
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat fee, prev.incoming_amount.checked_sub(event.htlc_value));
  if (!done && !forward_queued(prev.channel_id, prev.htlc_id)) {
    queue_event(PaymentForwarded{prev.channel_id, prev.htlc_id, out_channel, event.payment_hash, fee,
                                 prev.skimmed_fee, true, event.htlc_value},
                {});
  }
  if (!monitor->preimage_for(claimed.preimage.payment_hash())) {
    const ChannelMonitorUpdate update{
        prev.channel_id, monitor->latest_update_id() + 1, {PaymentPreimageStep{claimed.preimage}}};
    switch (chain_monitor_->update_channel(update)) {
      case UpdateStatus::kCompleted:
        break;
      case UpdateStatus::kInProgress:
        if (source) orphan_acks_.emplace(std::make_pair(prev.channel_id, update.update_id), *source);
        return persist();
      case UpdateStatus::kUnrecoverableError:
        fatal_ = util::io_error("the preimage update of orphan monitor " + prev.channel_id.to_hex() +
                                " failed (" + chain_monitor_->last_error() + "); the node has stopped");
        return fatal_;
    }
  }
  HASHLOCK_RETURN_IF_ERROR(persist());
  return source ? ack_now(*source) : util::Status::ok();
}

util::Status ChannelManager::on_forward_claimed_inbound_closed(
    const std::optional<MonitorEventSource>& source, const ChannelId& out_channel, const HtlcEvent& event,
    const PreviousHop& prev, ChannelEntry& in) {
  // The inbound HTLC is taken on chain: its monitor needs the preimage.
  const auto& claimed = std::get<ClaimedResolution>(event.resolution);
  HASHLOCK_RETURN_IF_ERROR(give_preimage_to_monitor(in, claimed.preimage));
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat fee, prev.incoming_amount.checked_sub(event.htlc_value));
  HASHLOCK_ASSIGN_OR_RETURN(const bool done, forward_done(prev.channel_id, prev.htlc_id));
  const ChannelEntry* out = find(out_channel);
  const bool onchain = out == nullptr || out->channel.phase() == ChannelPhase::kClosed;
  if (!done && !forward_queued(prev.channel_id, prev.htlc_id)) {
    queue_event(
        PaymentForwarded{prev.channel_id, prev.htlc_id, out_channel, event.payment_hash, fee,
                         prev.skimmed_fee, onchain, event.htlc_value},
        {});
  }
  const bool persistent = config_.persistent_monitor_events;
  if (persistent) {
    HASHLOCK_CHECK(source.has_value(), "a persistent-mode forward resolution has its monitor event");
    forward_acks_[{prev.channel_id, prev.htlc_id.value()}] =
        ForwardAck{*source, std::max<uint64_t>(in.channel.latest_monitor_update_id(), 1), true, done};
  }
  HASHLOCK_RETURN_IF_ERROR(persist());
  if (persistent) return run_forward_acks(in);
  return source ? ack_now(*source) : util::Status::ok();
}

util::Status ChannelManager::on_monitor_event(const ReleasedEvent& released) {
  ++stats_.monitor_events_processed;
  if (const auto* htlc = std::get_if<HtlcEvent>(&released.kind)) {
    if (const auto* route = std::get_if<OutboundRoute>(&htlc->source)) {
      return on_outbound_resolved(released.source, released.source.channel_id, *htlc, *route);
    }
    return on_forward_resolved(released.source, released.source.channel_id, *htlc,
                               std::get<PreviousHop>(htlc->source));
  }
  if (std::holds_alternative<CommitmentTxConfirmed>(released.kind)) {
    ChannelEntry* entry = find(released.source.channel_id);
    if (entry != nullptr) HASHLOCK_RETURN_IF_ERROR(close_after_funding_spent(*entry));
  }
  return ack_now(released.source);
}

util::Status ChannelManager::close_after_funding_spent(ChannelEntry& entry) {
  // A commitment confirmed: the channel is over, whoever broadcast it.
  if (entry.channel.phase() == ChannelPhase::kClosed) return util::Status::ok();
  HASHLOCK_RETURN_IF_ERROR(close_without_update(entry, "a commitment transaction confirmed on chain"));
  return persist();
}

util::Status ChannelManager::process_monitor_events() {
  // A stale manager state may hold a channel open whose CommitmentTxConfirmed
  // was handled (and acked) by a later state: the monitor still knows.
  std::vector<ChannelId> spent;
  for (const auto& [id, entry] : std::as_const(channels_)) {
    const ChannelMonitor* monitor = chain_monitor_->get(id);
    if (monitor != nullptr && monitor->funding_spent() &&
        monitor->funding_spend_kind() != FundingSpendKind::kCooperativeClose &&
        entry.channel.phase() != ChannelPhase::kClosed) {
      spent.push_back(id);
    }
  }
  for (const ChannelId& id : spent) HASHLOCK_RETURN_IF_ERROR(close_after_funding_spent(*find(id)));
  const std::vector<ReleasedEvent> released = chain_monitor_->release_pending_monitor_events();
  std::vector<const HtlcEvent*> htlcs;
  std::vector<ChannelId> channels;
  std::vector<size_t> index;  // of each HTLC event in `released`
  for (size_t i = 0; i < released.size(); ++i) {
    if (const auto* htlc = std::get_if<HtlcEvent>(&released[i].kind)) {
      htlcs.push_back(htlc);
      channels.push_back(released[i].source.channel_id);
      index.push_back(i);
    }
  }
  // HTLC resolutions in resolution_order; the other events keep their place.
  const std::vector<size_t> order = resolution_order(htlcs, channels);
  size_t next_htlc = 0;
  for (size_t i = 0; i < released.size(); ++i) {
    const bool htlc = std::holds_alternative<HtlcEvent>(released[i].kind);
    HASHLOCK_RETURN_IF_ERROR(
        on_monitor_event(htlc ? released[index[order[next_htlc++]]] : released[i]));
  }
  return util::Status::ok();
}

bool ChannelManager::deliverable(const Event& event) const {
  // PaymentClaimed tells the user the money is theirs: only once the
  // preimage is durable in the monitor of every part's channel, so no crash
  // (nor an older manager state restored later) can lose the claim.
  const auto* claimed = std::get_if<PaymentClaimed>(&event);
  if (claimed == nullptr) return true;
  auto payment = claimable_.find(claimed->payment_hash);
  if (payment == claimable_.end() || payment->second.state != ClaimState::kClaimed) return true;
  for (const ClaimableHtlc& htlc : payment->second.htlcs) {
    auto entry = channels_.find(htlc.channel_id);
    if (entry != channels_.end() && !entry->second.in_flight.empty()) return false;
  }
  return true;
}

util::Status ChannelManager::process_pending_events_now(const EventHandler& handler) {
  if (!fatal_.is_ok()) return fatal_;
  HASHLOCK_RETURN_IF_ERROR(process_completions_now());
  HASHLOCK_RETURN_IF_ERROR(process_monitor_events());
  HASHLOCK_RETURN_IF_ERROR(on_chain_tip());
  std::vector<ChannelId> handled_forwards;  // inbound channels whose forward acks may be due
  std::vector<MonitorEventSource> acks;
  std::vector<HtlcRelease> releases;
  for (size_t delivered = 0; delivered < kMaxEventsPerProcessCall && !events_.empty();
       ++delivered) {
    const QueuedEvent& queued = events_.front();
    // Events go in order: one that must wait holds the ones behind it.
    if (!deliverable(queued.event)) {
      ++stats_.events_held_until_durable;
      break;
    }
    ++stats_.user_events_delivered;
    if (handler(queued.event) == HandleResult::kReplay) break;
    store::WriteBatch done;
    std::vector<MonitorEventSource> event_acks = queued.ack_on_handled;
    std::vector<HtlcRelease> event_releases = queued.release_on_handled;
    on_payment_event_handled(queued.event, done, &event_acks, &event_releases);
    acks.insert(acks.end(), event_acks.begin(), event_acks.end());
    releases.insert(releases.end(), event_releases.begin(), event_releases.end());
    if (const auto* forwarded = std::get_if<PaymentForwarded>(&queued.event)) {
      auto ack = forward_acks_.find({forwarded->prev_channel_id, forwarded->prev_htlc_id.value()});
      if (ack != forward_acks_.end()) {
        ack->second.handled = true;
        handled_forwards.push_back(forwarded->prev_channel_id);
      }
      codec::TlvWriter fields;
      fields.amount(0, forwarded->total_fee_earned_msat);
      done.put(kForwardsDoneNamespace, forward_key(forwarded->prev_channel_id, forwarded->prev_htlc_id),
               codec::encode_record(kForwardDoneRecord, fields));
    }
    if (const auto* closed = std::get_if<ChannelClosed>(&queued.event)) {
      done.put(kClosesDoneNamespace, closed->channel_id.to_hex(),
               codec::encode_record(kCloseDoneRecord, codec::TlvWriter()));
    }
    events_.pop_front();
    if (!done.empty()) count_handled_records(done);
    HASHLOCK_RETURN_IF_ERROR(persist(std::move(done)));
  }
  if (!handled_forwards.empty()) {
    // Recorded as handled first; then the acks that waited for it.
    HASHLOCK_RETURN_IF_ERROR(commit_mid_round());
    for (const ChannelId& channel_id : handled_forwards) {
      if (const ChannelEntry* entry = find(channel_id)) {
        HASHLOCK_RETURN_IF_ERROR(run_forward_acks(*entry));
      }
    }
  }
  if (acks.empty() && releases.empty()) return util::Status::ok();
  // First record that they were handled (one commit for all of them), then
  // ack: a crash in between replays the monitor events, which find the
  // payments handled and only ack.
  HASHLOCK_RETURN_IF_ERROR(commit_mid_round());
  for (const MonitorEventSource& source : acks) HASHLOCK_RETURN_IF_ERROR(ack_now(source));
  for (const HtlcRelease& release : releases) HASHLOCK_RETURN_IF_ERROR(release_payment(release));
  return util::Status::ok();
}

util::Status ChannelManager::set_persistent_monitor_events_now(bool on) {
  if (!fatal_.is_ok()) return fatal_;
  if (on == config_.persistent_monitor_events) return util::Status::ok();
  HASHLOCK_RETURN_IF_ERROR(chain_monitor_->set_persistent_events(on));
  config_.persistent_monitor_events = on;
  return persist();
}

// --- queries ----------------------------------------------------------------

std::vector<ChannelId> ChannelManager::channel_ids() const {
  std::vector<ChannelId> out;
  for (const auto& [id, entry] : channels_) out.push_back(id);
  return out;
}

const Channel* ChannelManager::channel(const ChannelId& id) const {
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : &it->second.channel;
}

size_t ChannelManager::pending_htlcs() const {
  size_t count = 0;
  for (const auto& [id, entry] : channels_) {
    if (entry.channel.is_open())
      count += entry.channel.pending_htlcs() + entry.channel.holding_cell_size();
  }
  return count;
}

size_t ChannelManager::pending_outbound_payments() const {
  size_t count = 0;
  for (const auto& [id, p] : payments_) count += p.state == PaymentState::kPending ? 1 : 0;
  return count;
}

size_t ChannelManager::incomplete_claimable_payments() const {
  size_t count = 0;
  for (const auto& [hash, c] : claimable_) count += c.state == ClaimState::kWaiting && !c.htlcs.empty() ? 1 : 0;
  return count;
}

size_t ChannelManager::in_flight_monitor_updates() const {
  size_t count = 0;
  for (const auto& [id, entry] : channels_) count += entry.in_flight.size();
  return count;
}

}  // namespace hashlock::ln
