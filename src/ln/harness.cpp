#include "ln/harness.h"

#include "ln/manager_store.h"

#include "store/open_store.h"
#include "store/sqlite_store.h"
#include "util/check.h"

namespace hashlock::ln {

LnHarness::LnHarness(size_t nodes, HarnessOptions options)
    : options_(options),
      chain_(options.seed ^ 0xc4a1'0000'0000'0000ULL),
      rng_(options.seed),
      nodes_(nodes),
      persistent_mode_(nodes, options.persistent_monitor_events) {
  for (size_t i = 0; i < nodes; ++i) {
    open_store(i);
    network_.set_handler(node_id(i), [this, i](NodeId from, const Bytes& message) {
      (void)on_node(i, [&](ChannelManager& m) { return m.handle_message(from, message); });
    });
    start(i);
  }
  for (size_t a = 0; a < nodes; ++a) {
    for (size_t b = a + 1; b < nodes; ++b) network_.connect(node_id(a), node_id(b));
  }
  chain_.add_listener(this);
}

void LnHarness::block_connected(const chain::Block& block) {
  for (Slot& slot : nodes_) {
    if (slot.node) slot.node->chain_monitor().block_connected(block);
  }
}

void LnHarness::block_disconnected(const chain::BlockHeader& header) {
  for (Slot& slot : nodes_) {
    if (slot.node) slot.node->chain_monitor().block_disconnected(header);
  }
}

void LnHarness::mine(size_t blocks) {
  for (size_t i = 0; i < blocks; ++i) {
    chain_.mine_block();
    settle();
  }
}

std::optional<ChannelId> LnHarness::open_funded_channel(size_t from, size_t to, AmountMsat capacity,
                                                        AmountMsat push) {
  chain::Transaction funding;
  funding.outputs.push_back(
      funding_output(node_key(node_id(from)), node_key(node_id(to)), capacity));
  funding.lock_time = ++fundings_;
  // A crash during the open (the sim's crash rate) cuts it short: the caller tries again.
  util::Result<ChannelId> opened =
      try_open_channel(from, to, capacity, push, chain::OutPoint{funding.txid(), 0});
  if (!opened.is_ok()) return std::nullopt;
  const ChannelId id = *opened;
  for (size_t end : {from, to}) {
    const Channel* channel = node(end).manager().channel(id);
    if (channel == nullptr || !channel->is_open()) return std::nullopt;
  }
  util::Status deposited = chain_.deposit_transaction(funding);
  HASHLOCK_CHECK(deposited.is_ok(), deposited.to_string().c_str());
  // Mined to both sides' minimum depth; channel_ready crosses as the
  // network settles.
  for (uint32_t i = 0; i < std::max<uint32_t>(options_.min_funding_depth, 1); ++i) {
    chain_.mine_block();
  }
  settle();
  return id;
}

void LnHarness::open_store(size_t i) {
  Slot& slot = nodes_[i];
  std::string url;
  if (!options_.store_urls.empty()) {
    url = options_.store_urls.at(i);
  } else if (!options_.sqlite_dir.empty()) {
    url = "sqlite:" + options_.sqlite_dir + "/node" + std::to_string(i + 1) + ".db";
  } else {
    auto memory = std::make_unique<store::MemoryStore>(
        store::MemoryStoreOptions{.seed = options_.seed * 1000 + i, .torn_crash = options_.torn_crashes});
    slot.memory = memory.get();
    slot.store = std::move(memory);
    return;
  }
  auto opened = store::open_store(url);
  HASHLOCK_CHECK(opened.is_ok(), opened.status().to_string().c_str());
  slot.store = std::move(opened).value();
}

void LnHarness::crash_store(size_t i) {
  Slot& slot = nodes_[i];
  if (slot.memory != nullptr) {
    slot.memory->crash();
    return;
  }
  if (auto* sqlite = dynamic_cast<store::SqliteStore*>(slot.store.get())) sqlite->close_abruptly();
  slot.store.reset();
  open_store(i);
}

bool LnHarness::store_down(size_t i) const {
  return nodes_[i].memory != nullptr && nodes_[i].memory->is_down();
}

store::MemoryStore& LnHarness::store(size_t i) {
  HASHLOCK_CHECK(nodes_[i].memory != nullptr, "fault injection needs the memory store");
  return *nodes_[i].memory;
}

NodeOptions LnHarness::options_for(size_t i) const {
  NodeOptions options;
  options.manager.node_id = node_id(i);
  options.manager.node_seed = util::sha256(util::as_bytes("harness node " + std::to_string(i)));
  options.manager.persistent_monitor_events = persistent_mode_[i];
  options.manager.planted_bug = options_.planted_bug;
  options.manager.network_graph = graph_;
  options.manager.forward_skim_msat = options_.forward_skim_msat;
  options.manager.accept_underpaying_htlcs = options_.accept_underpaying_htlcs;
  options.manager.late_claims = options_.late_claims;
  options.manager.recover_from_monitors = recovering_.count(i) > 0;
  options.manager.min_funding_depth = options_.min_funding_depth;
  options.manager.fee_policy.cltv_expiry_delta = options_.cltv_expiry_delta;
  options.async_persistence = options_.async_persistence;
  options.snapshot_every_updates = options_.snapshot_every_updates;
  return options;
}

void LnHarness::attach_chain(Node& node) {
  node.chain_monitor().set_chain(&chain_, &fees_);
  node.chain_monitor().catch_up(chain_);
}

void LnHarness::start(size_t i) {
  // A restart can itself hit the store going down; retry from the crash.
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto node = Node::start(options_for(i), *nodes_[i].store, network_);
    if (node.is_ok()) {
      nodes_[i].node = std::move(node).value();
      attach_chain(*nodes_[i].node);
      return;
    }
    HASHLOCK_CHECK(store_down(i), node.status().to_string().c_str());
    crash_store(i);
  }
  HASHLOCK_CHECK(false, "node could not restart");
}

void LnHarness::crash(size_t i) {
  ++crashes_;
  Slot& slot = nodes_[i];
  if (slot.node) retired_stats_.push_back(slot.node->manager().stats());
  slot.node.reset();
  crash_store(i);
  for (size_t j = 0; j < nodes_.size(); ++j) {
    if (j == i) continue;
    network_.disconnect(node_id(i), node_id(j));
    if (nodes_[j].node)
      (void)on_node(j, [&](ChannelManager& m) { return m.peer_disconnected(node_id(i)); });
  }
  start(i);
  for (size_t j = 0; j < nodes_.size(); ++j) {
    if (j == i) continue;
    // A peer that crashed while this node was down may have reconnected to
    // it already; start a fresh session either way so both sides reestablish.
    disconnect(i, j);
    reconnect(i, j);
  }
}

util::Status LnHarness::lose_manager_state(size_t i) {
  HASHLOCK_RETURN_IF_ERROR(restore_manager_records(kv(i), ManagerSnapshot{}));
  Slot& slot = nodes_[i];
  if (slot.node) retired_stats_.push_back(slot.node->manager().stats());
  slot.node.reset();
  auto refused = Node::start(options_for(i), *slot.store, network_);
  util::Status result = util::Status::ok();
  if (refused.is_ok()) {
    result = util::failed_precondition("a store with monitors but no manager state was not refused");
  } else if (refused.status().code() != util::StatusCode::kFailedPrecondition) {
    result = refused.status();
  }
  // The operator asks for recovery: it is the store's first start of a new
  // manager, later starts load that manager.
  recovering_.insert(i);
  crash(i);
  recovering_.erase(i);
  return result;
}

util::Status LnHarness::restart_with_mode(size_t i, bool persistent) {
  persistent_mode_[i] = persistent;
  Slot& slot = nodes_[i];
  if (slot.node) retired_stats_.push_back(slot.node->manager().stats());
  slot.node.reset();
  for (size_t j = 0; j < nodes_.size(); ++j) {
    if (j == i) continue;
    network_.disconnect(node_id(i), node_id(j));
    if (nodes_[j].node)
      (void)on_node(j, [&](ChannelManager& m) { return m.peer_disconnected(node_id(i)); });
  }
  auto node = Node::start(options_for(i), *slot.store, network_);
  util::Status result = util::Status::ok();
  if (node.is_ok()) {
    slot.node = std::move(node).value();
    attach_chain(*slot.node);
  } else {
    result = node.status();
    persistent_mode_[i] = !persistent;
    start(i);
  }
  // A peer that crashed while this node was down may have connected to it
  // already (to a node that was not there); start a fresh session either way.
  for (size_t j = 0; j < nodes_.size(); ++j) {
    if (j == i) continue;
    disconnect(i, j);
    reconnect(i, j);
  }
  return result;
}

void LnHarness::disconnect(size_t a, size_t b) {
  if (!network_.connected(node_id(a), node_id(b))) return;
  network_.disconnect(node_id(a), node_id(b));
  const uint64_t crashes = crashes_;
  (void)on_node(a, [&](ChannelManager& m) { return m.peer_disconnected(node_id(b)); });
  // A crash of `a` just now restarted it in a fresh session with `b`.
  if (crashes_ != crashes) return;
  (void)on_node(b, [&](ChannelManager& m) { return m.peer_disconnected(node_id(a)); });
}

void LnHarness::reconnect(size_t a, size_t b) {
  // A node that is restarting connects once it is back.
  if (!nodes_[a].node || !nodes_[b].node) return;
  if (network_.connected(node_id(a), node_id(b))) return;
  network_.connect(node_id(a), node_id(b));
  const uint64_t crashes = crashes_;
  (void)on_node(a, [&](ChannelManager& m) { return m.peer_connected(node_id(b)); });
  // A crash of `a` just now restarted it and reconnected both ends already.
  if (crashes_ != crashes) return;
  (void)on_node(b, [&](ChannelManager& m) { return m.peer_connected(node_id(a)); });
}

bool LnHarness::drop(size_t from, size_t to) {
  if (!network_.drop_one(node_id(from), node_id(to))) return false;
  disconnect(from, to);
  return true;
}

util::Status LnHarness::on_node(size_t i,
                                const std::function<util::Status(ChannelManager&)>& action) {
  Slot& slot = nodes_[i];
  if (!slot.node) return util::unavailable("node is restarting");
  util::Status status = action(slot.node->manager());
  const util::Status& fatal = slot.node->manager().fatal_error();
  // A node stopping because its store went down is a crash, not a bug.
  if (!fatal.is_ok() && !store_down(i) && stopped_.count(i) == 0) stopped_[i] = fatal.message();
  if (store_down(i)) {
    crash(i);
    return util::unavailable("node crashed: " + status.to_string());
  }
  return status;
}

ChannelId LnHarness::open_channel(size_t from, size_t to, AmountMsat capacity, AmountMsat push,
                                  std::optional<chain::OutPoint> funding) {
  util::Result<ChannelId> opened = try_open_channel(from, to, capacity, push, funding);
  HASHLOCK_CHECK(opened.is_ok(), opened.status().to_string().c_str());
  return *opened;
}

util::Result<ChannelId> LnHarness::try_open_channel(size_t from, size_t to, AmountMsat capacity,
                                                    AmountMsat push,
                                                    std::optional<chain::OutPoint> funding) {
  ChannelId id;
  util::Status opened = on_node(from, [&](ChannelManager& m) {
    auto result = m.open_channel(node_id(to), capacity, push, funding);
    if (result.is_ok()) id = *result;
    return result.status();
  });
  if (!opened.is_ok()) return opened;
  HASHLOCK_CHECK(settle(), "channel open settles");
  graph_->add_edge(GraphEdge{id, node_id(from), node_id(to), capacity, FeePolicy{}});
  graph_->add_edge(GraphEdge{id, node_id(to), node_id(from), capacity, FeePolicy{}});
  return id;
}

void LnHarness::expect_payment(const PaymentPreimage& preimage, bool claim) {
  receiver_policy_[preimage.payment_hash()] = {preimage, claim};
}

void LnHarness::hold_payment(const PaymentHash& hash) {
  receiver_policy_.erase(hash);
  to_claim_.erase(hash);
}

void LnHarness::note_send(size_t i, const PaymentId& id) {
  auto seen = terminal_seen_.find({i, id});
  if (seen != terminal_seen_.end() && seen->second.failed) seen->second.resent = true;
}

void LnHarness::record(size_t i, const Event& event) {
  const PaymentId* terminal = nullptr;
  if (const auto* sent = std::get_if<PaymentSent>(&event)) terminal = &sent->payment_id;
  if (const auto* failed = std::get_if<PaymentFailed>(&event)) terminal = &failed->payment_id;
  if (terminal != nullptr) {
    auto [seen, first] = terminal_seen_.try_emplace({i, *terminal});
    if (!first && !seen->second.resent) ++duplicates_;
    seen->second = TerminalSeen{std::holds_alternative<PaymentFailed>(event), false};
  }
  if (const auto* claimable = std::get_if<PaymentClaimable>(&event)) {
    auto policy = receiver_policy_.find(claimable->payment_hash);
    if (policy != receiver_policy_.end()) to_claim_.insert(claimable->payment_hash);
  }
  nodes_[i].committed.push_back(event);
}

void LnHarness::after_restart_delivery(Slot& slot, const Event& event) {
  // Delivered again, possibly after other events a restart queued first: the
  // earlier handling was not durable.
  auto again = std::find(slot.uncertain.begin(), slot.uncertain.end(), event);
  if (again != slot.uncertain.end()) slot.uncertain.erase(again);
}

void LnHarness::settle_uncertain(size_t i) {
  for (const Event& event : nodes_[i].uncertain) record(i, event);
  nodes_[i].uncertain.clear();
}

void LnHarness::handle_one(size_t i, bool* did_something) {
  Slot& slot = nodes_[i];
  std::optional<Event> handled;
  bool delivered_any = false;
  util::Status status = on_node(i, [&](ChannelManager& m) {
    return m.process_pending_events([&](const Event& event) {
      if (handled) return HandleResult::kReplay;  // one event per call
      *did_something = true;
      delivered_any = true;
      after_restart_delivery(slot, event);
      if (slot.replay_budget > 0) {
        --slot.replay_budget;
        return HandleResult::kReplay;
      }
      handled = event;
      return HandleResult::kHandled;
    });
  });
  if (!slot.uncertain.empty() && status.is_ok() && !delivered_any && slot.node &&
      slot.node->chain_monitor().unacked_events() == 0 && slot.node->manager().in_flight_monitor_updates() == 0) {
    // The node runs again with nothing left that could deliver it: its handling was durable.
    settle_uncertain(i);
  }
  if (!handled) return;
  if (status.is_ok()) {
    record(i, *handled);
  } else {
    slot.uncertain.push_back(*handled);
  }
}

bool LnHarness::step() {
  bool did_something = false;
  for (const auto& [from, to] : network_.busy_links()) {
    did_something |= network_.deliver_one(from, to);
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (AsyncPersister* async = nodes_[i].node->async_persister();
        async != nullptr && async->pending() > 0) {
      did_something = true;
      const size_t index = rng_.below(async->pending());
      (void)on_node(i, [&](ChannelManager&) { return async->complete(index); });
    }
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    handle_one(i, &did_something);
  }
  did_something |= run_claims();
  // Handling events can send messages (channel_ready after a block): not idle.
  did_something |= !network_.busy_links().empty();
  if (options_.tick_every_steps > 0 && ++steps_ % options_.tick_every_steps == 0) {
    tick();
    did_something = true;  // a tick may fail parts back: look again
  }
  return did_something;
}

void LnHarness::tick() {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    (void)on_node(i, [](ChannelManager& m) { return m.timer_tick(); });
  }
}

bool LnHarness::run_claims() {
  bool did_something = false;
  for (auto it = to_claim_.begin(); it != to_claim_.end();) {
    const PaymentPreimage preimage = receiver_policy_.at(*it).first;
    const bool claim = receiver_policy_.at(*it).second;
    bool done = false;
    for (size_t i = 0; i < nodes_.size() && !done; ++i) {
      util::Status status = on_node(i, [&](ChannelManager& m) {
        return claim ? m.claim_funds(preimage) : m.fail_htlc_backwards(preimage.payment_hash());
      });
      // Refused for good (failed back: too close to its expiry): nothing left to claim.
      done = status.is_ok() ||
             (nodes_[i].node && nodes_[i].node->manager().claim_state(preimage.payment_hash()) ==
                                    ClaimState::kFailed);
    }
    if (done) {
      did_something = true;
      it = to_claim_.erase(it);
    } else {
      ++it;
    }
  }
  return did_something;
}

bool LnHarness::settle(size_t max_rounds) {
  uint64_t idle_ticks = 0;
  for (size_t round = 0; round < max_rounds; ++round) {
    const bool moved = step();
    if (moved) idle_ticks = 0;
    if (!moved && waiting_for_time() && idle_ticks++ <= kMaxIdleTicks) {
      // Parts of a payment wait at a receiver: time passes until they time out.
      tick();
      continue;
    }
    if (!moved) {
      for (size_t i = 0; i < nodes_.size(); ++i) settle_uncertain(i);
      return true;
    }
  }
  return false;
}

bool LnHarness::waiting_for_time() const {
  for (const Slot& slot : nodes_) {
    if (slot.node && slot.node->manager().incomplete_claimable_payments() > 0) return true;
  }
  return false;
}

uint64_t LnHarness::stat_total(uint64_t ManagerStats::*counter) const {
  uint64_t total = 0;
  for (const ManagerStats& stats : retired_stats_) total += stats.*counter;
  for (const Slot& slot : nodes_) {
    if (slot.node) total += slot.node->manager().stats().*counter;
  }
  return total;
}

AmountMsat LnHarness::owned_on_chain(size_t i) const {
  AmountMsat total;
  const chain::PublicKey key = node_key(node_id(i));
  for (const auto& [outpoint, coin] : chain_.utxos()) {
    const auto* c = std::get_if<chain::KeyCondition>(&coin.output.condition);
    if (c != nullptr && c->key == key) total = total.checked_add(coin.output.value).value();
  }
  return total;
}

size_t LnHarness::count_events(size_t i, const std::string& name) const {
  size_t count = 0;
  for (const Event& e : nodes_[i].committed) count += event_name(e) == name ? 1 : 0;
  return count;
}

std::vector<std::string> LnHarness::check_quiescent() const {
  std::vector<std::string> problems;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = *nodes_[i].node;
    const std::string who = node_id(i).to_string();
    auto& chain_monitor = const_cast<Node&>(node).chain_monitor();
    if (chain_monitor.unacked_events() > 0) {
      problems.push_back(who + ": " + std::to_string(chain_monitor.unacked_events()) +
                         " un-acked monitor events");
    }
    if (node.manager().pending_htlcs() > 0) {
      problems.push_back(who + ": " + std::to_string(node.manager().pending_htlcs()) +
                         " pending HTLCs");
    }
    if (node.manager().pending_outbound_payments() > 0) {
      problems.push_back(who + ": " + std::to_string(node.manager().pending_outbound_payments()) +
                         " unresolved payments");
    }
    if (node.manager().queued_user_events() > 0) {
      problems.push_back(who + ": " + std::to_string(node.manager().queued_user_events()) +
                         " undelivered user events");
    }
  }
  if (duplicates_ > 0)
    problems.push_back(std::to_string(duplicates_) + " duplicate terminal events");
  for (const auto& [i, why] : stopped_)
    problems.push_back(node_id(i).to_string() + " stopped: " + why);
  return problems;
}

bool CheaterCommitmentStash::keep(LnHarness& harness, size_t i, const ChannelId& channel) {
  const ChannelMonitor* monitor = harness.node(i).chain_monitor().get(channel);
  if (monitor == nullptr || !monitor->tx_params()) return false;
  std::vector<chain::Transaction>& kept = kept_[{i, channel}];
  if (!kept.empty() && commitment_number_of(kept.back()) == monitor->holder_commitment_number())
    return true;
  auto commitment = monitor->holder_commitment_tx();
  if (!commitment.is_ok()) return false;
  kept.push_back(std::move(commitment).value());
  if (kept.size() > kCheaterCommitmentsPerChannelMax) kept.erase(kept.begin());
  return true;
}

std::optional<chain::Transaction> CheaterCommitmentStash::newest_revoked(
    LnHarness& h, size_t i, const ChannelId& channel) const {
  auto it = kept_.find({i, channel});
  if (it == kept_.end()) return std::nullopt;
  const ChannelMonitor* own = h.node(i).chain_monitor().get(channel);
  if (own == nullptr) return std::nullopt;
  const ChannelMonitor* peer =
      h.node(h.index_of(own->counterparty())).chain_monitor().get(channel);
  if (peer == nullptr) return std::nullopt;
  const std::vector<uint64_t> unrevoked = peer->unrevoked_counterparty_commitments();
  if (unrevoked.empty()) return std::nullopt;
  for (auto kept = it->second.rbegin(); kept != it->second.rend(); ++kept) {
    if (commitment_number_of(*kept) < unrevoked.front()) return *kept;
  }
  return std::nullopt;
}

void CheaterCommitmentStash::forget(const ChannelId& channel) {
  for (auto it = kept_.begin(); it != kept_.end();) {
    it = it->first.second == channel ? kept_.erase(it) : std::next(it);
  }
}

}  // namespace hashlock::ln
