// LnHarness: several nodes in one process over InProcessNetwork, each on its
// own fault-injecting MemoryStore, driven step by step. Used by the tests
// and the simulator.
//
// Crashes: a node whose store went down (MemoryStore::go_down_after) or that
// is told to crash() loses everything unsynced; it is rebuilt from its store
// and reconnected. Asynchronous persistence completes in a seeded random
// order. User events are recorded exactly as a user would see them durably:
// the harness handles one event per call, and an event handled in a call
// that failed (a crash) counts only if it is not delivered again after the
// restart (a restart may queue other events before it; it counts once the
// node is idle or the network settles without delivering it again).
//
// Invariants (check_quiescent): zero un-acked monitor events, zero pending
// HTLCs on open channels, exactly one terminal event per resolved payment,
// no terminal event for a payment twice.
// Thread-safety: none.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chain/simulated_chain.h"
#include "ln/node.h"
#include "store/memory_store.h"
#include "util/random.h"

namespace hashlock::ln {

struct HarnessOptions {
  bool persistent_monitor_events = true;
  bool async_persistence = false;
  uint64_t seed = 1;
  bool torn_crashes = false;
  // Below the default, so that the tests and simulations compact often.
  uint64_t snapshot_every_updates = 64;
  // Empty: each node on a MemoryStore. Otherwise each node on an SQLite file
  // in this directory; a crash closes it abruptly and reopens it.
  std::string sqlite_dir;
  // Non-empty: node i uses store_urls[i] (any store URL, e.g. postgres://);
  // a crash drops the connection and opens the store again.
  std::vector<std::string> store_urls;
  ManagerConfig::PlantedBug planted_bug = ManagerConfig::PlantedBug::kNone;
  // Every this many steps, a timer tick at every node (0: only when the
  // network would otherwise settle with parts of a payment waiting).
  uint64_t tick_every_steps = 0;
  // Every forwarding node skims this much (beyond its fee) from each forward;
  // receivers accept it only with accept_underpaying_htlcs.
  AmountMsat forward_skim_msat;
  bool accept_underpaying_htlcs = false;
  // Every node claims payments whatever their expiry (ManagerConfig::late_claims).
  bool late_claims = false;
  // Confirmations a funded channel waits for (0: usable at once, for a
  // funding transaction confirmed before the channel was opened).
  uint32_t min_funding_depth = ManagerConfig{}.min_funding_depth;
  // Blocks every forwarding node asks between its inbound and outbound expiry.
  uint32_t cltv_expiry_delta = FeePolicy{}.cltv_expiry_delta;
};

inline constexpr size_t kMaxSettleRounds = 10'000;
inline constexpr uint64_t kMaxIdleTicks = 16;  // ticks settle() lets pass with nothing else happening

inline constexpr uint64_t kHarnessFeeMsatPerByte = 10;

// The harness also runs a SimulatedChain (seeded from the options): every
// live node's ChainMonitor hears its blocks, broadcasts to it, and replays
// it after a restart.
class LnHarness : private chain::BlockListener {
 public:
  LnHarness(size_t nodes, HarnessOptions options);

  Node& node(size_t i) { return *nodes_[i].node; }
  const Node& node(size_t i) const { return *nodes_[i].node; }
  // The fault-injecting store of node i (memory mode only).
  store::MemoryStore& store(size_t i);
  store::KVStore& kv(size_t i) { return *nodes_[i].store; }
  NodeId node_id(size_t i) const { return NodeId(i + 1); }
  InProcessNetwork& network() { return network_; }
  size_t size() const { return nodes_.size(); }
  uint64_t crashes() const { return crashes_; }

  // `funding`: the channel's funding output (funding_output() of both node keys).
  ChannelId open_channel(size_t from, size_t to, AmountMsat capacity,
                         AmountMsat push = AmountMsat(0),
                         std::optional<chain::OutPoint> funding = std::nullopt);

  // A channel funded on the harness chain: once both ends have the channel
  // open, its funding output (known in advance) is deposited and confirmed.
  // Nullopt when a crash cut the open short: then nothing is deposited.
  // open_channel, returning the error when the opener fails (a crash).
  util::Result<ChannelId> try_open_channel(size_t from, size_t to, AmountMsat capacity,
                                           AmountMsat push,
                                           std::optional<chain::OutPoint> funding = std::nullopt);
  std::optional<ChannelId> open_funded_channel(size_t from, size_t to, AmountMsat capacity,
                                               AmountMsat push = AmountMsat(0));
  chain::SimulatedChain& chain() { return chain_; }
  const chain::FeeEstimator& fees() const { return fees_; }
  // Mines `blocks` blocks (each node's monitors hear them), settling after each.
  void mine(size_t blocks);

  // Tells the receiver how to answer a payment: claim with the preimage, or fail.
  void expect_payment(const PaymentPreimage& preimage, bool claim);
  // The receiver holds payments with this hash until told (forgets how an
  // earlier payment with the hash was to be answered).
  void hold_payment(const PaymentHash& hash);
  // Node i accepted a send of `id`: after a handled PaymentFailed, a new
  // attempt, whose terminal event is then no duplicate.
  void note_send(size_t i, const PaymentId& id);

  // Runs `action` on node i, restarting the node if its store went down.
  util::Status on_node(size_t i, const std::function<util::Status(ChannelManager&)>& action);

  // One round: deliver one message per busy link, complete async
  // persistence, process events, retry pending claims. Returns false when
  // nothing happened.
  bool step();
  // Steps until nothing happens; false if it did not settle within the limit.
  bool settle(size_t max_rounds = kMaxSettleRounds);

  void crash(size_t i);
  // Node i loses every manager record (its monitors stay) and restarts.
  // A plain start must refuse such a store; the node then starts with
  // recovery from monitors. Returns the refusal's absence as an error.
  util::Status lose_manager_state(size_t i);
  // Restarts node i with a different compatibility flag.
  util::Status restart_with_mode(size_t i, bool persistent);
  // Both are no-ops when the link is already in that state.
  void disconnect(size_t a, size_t b);
  void reconnect(size_t a, size_t b);
  // Loses the next message from `from` to `to`. Over a reliable transport a
  // message is lost only with its connection, so the link goes down too.
  bool drop(size_t from, size_t to);

  // The user events node i handled durably, in order.
  const std::vector<Event>& events(size_t i) const { return nodes_[i].committed; }
  size_t count_events(size_t i, const std::string& name) const;
  // What the simulated chain holds for node i's key, unspent.
  AmountMsat owned_on_chain(size_t i) const;
  std::vector<std::string> check_quiescent() const;
  // Events the harness asked a node to handle more than once when they were
  // already durably handled (must stay zero).
  uint64_t duplicate_deliveries() const { return duplicates_; }
  // Monitor events that replayed after restarts and were only acked, over all runs of all nodes.
  uint64_t events_replayed() const { return stat_total(&ManagerStats::monitor_events_replayed); }
  // A manager counter summed over every run of every node (restarts reset it).
  uint64_t stat_total(uint64_t ManagerStats::*counter) const;

  // Handles one pending user event of node i, if any.
  void process(size_t i) {
    bool ignored = false;
    handle_one(i, &ignored);
  }
  // Retries the claims and fails receivers have decided on.
  bool run_claims();

  // A timer tick at every node.
  void tick();
  // Every node's view of the network: each channel opened through the
  // harness, both directions, at its capacity with the default fee policy.
  NetworkGraph& graph() { return *graph_; }

  // Answer kReplay to the next `n` deliveries of node i.
  void replay_next(size_t i, int n) { nodes_[i].replay_budget = n; }

  // The harness index of a node id.
  size_t index_of(NodeId id) const { return static_cast<size_t>(id.value() - 1); }

 private:
  struct Slot {
    std::unique_ptr<store::KVStore> store;
    store::MemoryStore* memory = nullptr;  // set in memory mode
    std::unique_ptr<Node> node;
    std::vector<Event> committed;
    // Handled in calls that crashed: they count unless delivered again
    // before the node is idle or the network settles.
    std::vector<Event> uncertain;
    int replay_budget = 0;
  };

  NodeOptions options_for(size_t i) const;
  std::set<size_t> recovering_;  // nodes whose next starts recover from monitors
  void start(size_t i);
  void open_store(size_t i);
  void crash_store(size_t i);
  bool store_down(size_t i) const;
  void handle_one(size_t i, bool* did_something);
  void after_restart_delivery(Slot& slot, const Event& event);
  void record(size_t i, const Event& event);
  bool waiting_for_time() const;
  void settle_uncertain(size_t i);

  void attach_chain(Node& node);
  void block_connected(const chain::Block& block) override;
  void block_disconnected(const chain::BlockHeader& header) override;

  HarnessOptions options_;
  chain::SimulatedChain chain_;
  chain::FixedFeeEstimator fees_{AmountMsat(kHarnessFeeMsatPerByte)};
  util::Rng rng_;
  uint32_t fundings_ = 0;  // numbers the prepared funding deposits
  InProcessNetwork network_;
  std::vector<Slot> nodes_;
  std::vector<bool> persistent_mode_;
  std::map<PaymentHash, std::pair<PaymentPreimage, bool>> receiver_policy_;
  std::set<PaymentHash> to_claim_;
  // Per node and payment id: whether the last terminal event was a
  // PaymentFailed, and whether a new attempt was sent since it.
  struct TerminalSeen {
    bool failed = false;
    bool resent = false;
  };
  std::map<std::pair<size_t, PaymentId>, TerminalSeen> terminal_seen_;
  uint64_t crashes_ = 0;
  uint64_t duplicates_ = 0;
  std::vector<ManagerStats> retired_stats_;  // of every run that ended in a restart
  std::map<size_t, std::string> stopped_;  // nodes that hit an unrecoverable error
  std::shared_ptr<NetworkGraph> graph_ = std::make_shared<NetworkGraph>();
  uint64_t steps_ = 0;
};

// TEST ONLY: copies of holder commitment transactions that a cheating node
// keeps so that it can broadcast one after it was revoked. The engine never
// keeps these (its monitor builds only its current commitment); simulations
// and scenarios use this to prove the counterparty's monitor punishes a
// revoked commitment. Keeps at most kCheaterCommitmentsPerChannelMax copies
// per (node, channel), dropping the oldest.
inline constexpr size_t kCheaterCommitmentsPerChannelMax = 4;

class CheaterCommitmentStash {
 public:
  // Keeps a copy of node i's current holder commitment of `channel`, unless
  // the newest copy is of the same commitment. False if there is none (no
  // monitor, or a channel without a funding output).
  bool keep(LnHarness& harness, size_t i, const ChannelId& channel);
  // The newest kept commitment of node i on `channel` that the peer's
  // monitor already knows to be revoked (it holds the secret): what a
  // cheater would broadcast to be punished for it.
  std::optional<chain::Transaction> newest_revoked(LnHarness& harness, size_t i,
                                                   const ChannelId& channel) const;
  void forget(const ChannelId& channel);

 private:
  std::map<std::pair<size_t, ChannelId>, std::vector<chain::Transaction>> kept_;
};

}  // namespace hashlock::ln
