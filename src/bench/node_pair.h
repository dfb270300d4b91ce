// NodePair: two Lightning nodes (a sender and a receiver) with one channel
// between them, on their own stores, over an InProcessNetwork, driven as fast
// as the engine allows. It can also line up three nodes (sender, forwarder,
// receiver; one channel per neighbouring pair), and then every payment is
// forwarded by the middle node. It is the benchmark's driver; unlike LnHarness it
// keeps many payments in flight, drains every user event per call, and can
// stop and restart a node so that Node::start can be timed on its own.
//
// Ownership: the pair owns both stores, both nodes and the network. Stores
// are opened by URL ("memory:" or "sqlite:PATH"); a restart closes the
// store, reopens it from the same URL and starts the node on it.
// Bounds: every loop stops at its count limit or at its deadline, whichever
// comes first; a run that hits the deadline says so in its result.
// Thread-safety: none; one thread drives the pair.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ln/node.h"
#include "store/kv_store.h"

namespace hashlock::bench {

using Clock = std::chrono::steady_clock;

inline constexpr size_t kSender = 0;
inline constexpr size_t kMaxLineNodes = 3;
inline constexpr uint64_t kChannelCapacityMsat =
    100'000'000'000;  // 1 BTC, all on the sender's side
inline constexpr uint64_t kPaymentAmountMsat = 1'000;
inline constexpr size_t kMaxDeliveriesPerPump = 1'000'000;
inline constexpr size_t kMaxPumpsPerOpen = 1'000;
inline constexpr size_t kMaxCopyBatchRecords = 100'000;

// What the sender's user does with its events.
enum class SenderPolicy {
  kHandle,          // handles every event (PaymentSent is acked)
  kLeaveUnhandled,  // answers kReplay: PaymentSent stays queued, its monitor event un-acked
};
// What the receiver's user does with a PaymentClaimable.
enum class ReceiverPolicy {
  kClaim,  // claims it at once with the known preimage
  kHold,   // keeps it: the HTLC stays in flight
};

struct PaymentRun {
  uint64_t sent = 0;
  uint64_t settled = 0;  // terminal at the sender: PaymentSent handled, or (kLeaveUnhandled) its
                         // monitor event queued
  uint64_t failed = 0;
  double seconds = 0;
  bool hit_deadline = false;
  store::StoreStats sender_stats;     // store writes during the run
  store::StoreStats receiver_stats;   // store writes during the run
  store::StoreStats forwarder_stats;  // store writes during the run (three nodes only)
  uint64_t forwarded = 0;             // PaymentForwarded handled by the forwarder
  uint64_t messages = 0;              // peer messages during the run
};

class NodePair {
 public:
  // Opens both stores (`sender_url`, `receiver_url`), starts both nodes and
  // opens the channel from sender to receiver.
  static util::Result<std::unique_ptr<NodePair>> create(const std::string& sender_url,
                                                        const std::string& receiver_url);
  // A line of two or three nodes, sender first, each on the store at its
  // URL; payments go from the first to the last.
  static util::Result<std::unique_ptr<NodePair>> create_line(const std::vector<std::string>& urls);
  NodePair(const NodePair&) = delete;
  NodePair& operator=(const NodePair&) = delete;

  // Sends `count` payments from sender to receiver keeping up to `inflight`
  // unresolved at once, until all settled or `deadline`.
  util::Result<PaymentRun> run_payments(uint64_t count, uint64_t inflight, SenderPolicy sender,
                                        ReceiverPolicy receiver, Clock::time_point deadline);

  // Pumps until nothing moves (every message delivered, every event drained
  // under the given policies) or the deadline.
  util::Status settle(SenderPolicy sender, ReceiverPolicy receiver, Clock::time_point deadline);

  // Stops node i (as a clean shutdown: everything it wrote was synced),
  // closes and reopens its store, and starts it again. Returns the time of
  // Node::start alone, in milliseconds.
  util::Result<double> restart(size_t i);
  // Stops node i and copies everything its store holds into a fresh store at
  // `url`, which becomes its store; restart(i) then starts it from there.
  util::Status move_store(size_t i, const std::string& url);
  // Releases every event of node i once with a handler that answers kReplay
  // (the work a restarted node does before its user sees anything).
  util::Status release_events_unhandled(size_t i);

  ln::Node& node(size_t i) { return *slots_[i].node; }
  store::KVStore& store(size_t i) { return *slots_[i].store; }
  const std::string& store_url(size_t i) const { return slots_[i].url; }
  ln::InProcessNetwork& network() { return network_; }
  // The sender's channel (the first hop).
  const ln::ChannelId& channel() const { return channels_.front(); }
  size_t receiver_index() const { return slots_.size() - 1; }
  // PaymentClaimable events the receiver holds (ReceiverPolicy::kHold).
  uint64_t held_claimables() const { return held_claimables_; }

 private:
  struct Slot {
    std::string url;
    std::unique_ptr<store::KVStore> store;
    std::unique_ptr<ln::Node> node;
  };

  NodePair() = default;
  ln::NodeOptions options_for(size_t i) const;
  util::Status start(size_t i);
  util::Status open_channels();
  // One round: deliver every queued message, drain both nodes' events, run
  // the receiver's claims. Returns whether anything happened.
  // Each node runs the round as one group commit (ChannelManager::begin_round).
  util::Result<bool> pump(SenderPolicy sender, ReceiverPolicy receiver, PaymentRun& run);
  util::Result<bool> pump_in_round(SenderPolicy sender, ReceiverPolicy receiver, PaymentRun& run);
  void begin_rounds();
  util::Status end_rounds();
  util::Status send_next(PaymentRun& run);
  uint64_t resolved(SenderPolicy sender, const PaymentRun& run);

  std::vector<Slot> slots_;
  ln::InProcessNetwork network_;
  std::vector<ln::ChannelId> channels_;  // channels_[i] joins node i and node i + 1
  util::Status delivery_error_;          // the first error a delivered message caused
  std::map<ln::PaymentHash, ln::PaymentPreimage> preimages_;
  std::vector<ln::PaymentHash> to_claim_;
  uint64_t next_payment_ = 0;
  uint64_t held_claimables_ = 0;
  uint64_t unacked_at_start_ = 0;
};

}  // namespace hashlock::bench
