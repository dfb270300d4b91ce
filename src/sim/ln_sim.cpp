#include "sim/ln_sim.h"

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "ln/manager_store.h"
#include "util/random.h"

namespace hashlock::sim {
namespace {

using ln::AmountMsat;
using ln::ChannelId;
using ln::ChannelManager;
using ln::Event;
using ln::PaymentId;
using ln::PaymentPreimage;

constexpr uint64_t kChannelCapacityMsat = 1'000'000'000;  // 0.01 BTC
constexpr uint64_t kMaxPaymentMsat = 20'000'000;
constexpr double kFailShare = 0.1;         // receivers fail this share of payments
constexpr double kDisconnectShare = 0.02;  // chance per payment of a link flap
constexpr uint64_t kMaxCrashPointOperations = 40;
constexpr uint64_t kStaleEventsHandledMax =
    3;  // events a node handles between a copy and its restore

struct Link {
  size_t a = 0;
  size_t b = 0;
  ChannelId channel;
};

// A revoked commitment a cheater broadcast.
struct RevokedClose {
  ChannelId channel;
  size_t cheater = 0;
  size_t victim = 0;
  chain::Transaction commitment;
};

struct PaymentRecord {
  size_t sender = 0;
  size_t receiver = 0;
  PaymentPreimage preimage;
  bool accepted = false;            // send_payment returned OK
  std::optional<size_t> forwarder;  // the middle node of a two-hop payment
  AmountMsat expected_fee;
  bool multipart = false;  // sent with send_payment_mpp; routes chosen by the router
  // An older manager state restored while the payment had not left the
  // sender (no monitor held an HTLC of it): nothing remembers it, nothing
  // moved, and no terminal event can come.
  bool forgotten = false;
};

// With the chain (--force-close-rate or --reorg-rate): one block per payment,
// reorganisations up to --max-reorg-depth deep (shallower than the
// anti-reorg delay), and after the workload enough blocks for every on-chain
// resolution: the longest expiry, the to-local delay and the anti-reorg
// delay, with room.
constexpr double kCooperativeCloseShare = 1.0 / 3;  // of the closes --force-close-rate draws
constexpr size_t kOpenAttemptsMax = 5;
const uint64_t kChainSettleBlocks =
    ln::ManagerConfig{}.final_cltv_expiry + 4 * ln::FeePolicy{}.cltv_expiry_delta +
    ln::ChannelConfig{}.to_self_delay + 4 * ln::kAntiReorgDelayBlocks;

constexpr double kMultipartShare = 0.4;    // with --mpp, this share of payments is split
constexpr uint64_t kTickEverySteps = 200;  // with --mpp, timer ticks (receivers time out parts)
constexpr size_t kStaleFeeEvery = 3;
constexpr uint64_t kSkimMsat =
    7;  // with --forwarding, what every forwarder skims (receivers agreed)  // with --mpp, every
        // third parallel channel advertises no fee

class Simulation {
 public:
  Simulation(const LnSimConfig& config, LnSimReport& report)
      : config_(config),
        report_(report),
        rng_(config.seed),
        harness_(
            config.nodes,
            ln::HarnessOptions{.persistent_monitor_events = config.persistent_mode,
                               .async_persistence = config.async_persist,
                               .seed = config.seed,
                               .sqlite_dir = sqlite_dir(config),
                               .planted_bug = config.canary,
                               .tick_every_steps = config.mpp ? kTickEverySteps : 0,
                               .forward_skim_msat = AmountMsat(config.forwarding ? kSkimMsat : 0),
                               .accept_underpaying_htlcs = config.forwarding}),
        old_states_(config.nodes) {}

  void run(const std::function<void(uint64_t)>& progress) {
    open_ring();
    for (uint64_t k = 0; k < config_.payments; ++k) {
      maybe_inject_faults();
      if (chain_enabled()) maybe_chain_faults();
      send_one(k);
      const size_t steps = rng_.below(kStepsBetweenPaymentsMax + 1);
      for (size_t s = 0; s < steps; ++s) harness_.step();
      if (progress && k % 64 == 0) progress(k);
    }
    reconnect_all();
    if (!harness_.settle(kSimSettleRounds))
      violation("no convergence: the network did not settle within " +
                std::to_string(kSimSettleRounds) + " rounds");
    // What closed channels left on chain resolves as blocks pass.
    if (chain_enabled()) harness_.mine(kChainSettleBlocks);
    check();
  }

 private:
  static std::string sqlite_dir(const LnSimConfig& config) {
    return config.store.rfind("sqlite:", 0) == 0 ? config.store.substr(7) : std::string();
  }

  void violation(const std::string& what) { report_.violations.push_back(what); }

  bool chain_enabled() const { return config_.force_close_rate > 0 || config_.reorg_rate > 0; }

  // With the chain, channels are funded on it; an open a crash cut short is
  // tried again (it deposited nothing).
  std::optional<ChannelId> open(size_t a, size_t b) {
    const AmountMsat capacity(kChannelCapacityMsat);
    const AmountMsat push(kChannelCapacityMsat / 2);
    if (!chain_enabled()) return harness_.open_channel(a, b, capacity, push);
    for (size_t attempt = 0; attempt < kOpenAttemptsMax; ++attempt) {
      if (auto id = harness_.open_funded_channel(a, b, capacity, push)) return id;
    }
    return std::nullopt;
  }

  // The link's channel is closing or closed: a new one between the same
  // nodes takes its place, so the ring stays connected.
  void replace(Link& link) {
    closed_links_.push_back(link);
    harness_.graph().remove_channel(link.channel);
    if (auto replacement = open(link.a, link.b)) {
      link.channel = *replacement;
      capacity_[link.channel] = kChannelCapacityMsat;
    }
  }

  // A block per payment; now and then a close (cooperative, forced, or a
  // cheat with a revoked commitment) or a reorg. Channels the engine closed
  // on its own (an HTLC near its expiry, a peer's error) are replaced like
  // the ones the simulation closes.
  void maybe_chain_faults() {
    harness_.chain().mine_block();
    for (std::vector<Link>* list : {&links_, &parallel_links_}) {
      for (Link& link : *list) {
        if (!closed(link)) continue;
        ++report_.engine_closes;
        replace(link);
      }
    }
    if (config_.revoked_close_share > 0) keep_commitments();
    if (rng_.chance(config_.force_close_rate)) {
      std::vector<Link>& list =
          parallel_links_.empty() || rng_.chance(0.5) ? links_ : parallel_links_;
      Link& link = list[rng_.below(list.size())];
      const size_t closer = rng_.chance(0.5) ? link.a : link.b;
      // Some closes are cooperative: the channel takes no new payment, the
      // ones in flight settle, then both sign the closing transaction. Of the
      // others, some are a cheat with a revoked commitment.
      const bool cooperative = rng_.chance(kCooperativeCloseShare);
      const bool cheat = !cooperative && rng_.chance(config_.revoked_close_share);
      const bool closed = cooperative ? close_cooperatively(link, closer)
                                      : (cheat && broadcast_revoked(link, closer)) ||
                                            force_close(link, closer);
      if (closed) replace(link);
    }
    if (rng_.chance(config_.reorg_rate)) {
      const uint64_t depth = 1 + rng_.below(config_.max_reorg_depth);
      if (depth < harness_.chain().tip_height().value() && harness_.chain().reorg(depth).is_ok()) {
        ++report_.reorgs;
      }
    }
  }

  bool close_cooperatively(const Link& link, size_t closer) {
    return harness_.on_node(closer, [&](ChannelManager& m) { return m.close_channel(link.channel); })
        .is_ok();
  }

  bool force_close(const Link& link, size_t closer) {
    return harness_
        .on_node(closer,
                 [&](ChannelManager& m) {
                   return m.force_close_channel(link.channel, "closed by the simulation");
                 })
        .is_ok();
  }

  // Each end keeps a copy of its commitments as they change, as a cheater
  // would (test-only: see ln::CheaterCommitmentStash).
  void keep_commitments() {
    for (const std::vector<Link>* list : {&links_, &parallel_links_}) {
      for (const Link& link : *list) {
        for (size_t end : {link.a, link.b}) (void)cheater_copies_.keep(harness_, end, link.channel);
      }
    }
  }

  // The closer cheats: it broadcasts the newest of its kept commitments of
  // the link that its peer already revoked, and a block confirms it. Only if
  // the peer's revocation is durable (no monitor update in flight), so a
  // crash cannot make the peer forget the secret it needs.
  bool broadcast_revoked(const Link& link, size_t cheater) {
    const size_t victim = cheater == link.a ? link.b : link.a;
    for (size_t end : {cheater, victim}) {
      const ln::Channel* channel = harness_.node(end).manager().channel(link.channel);
      if (channel == nullptr || !channel->is_open()) return false;
    }
    if (harness_.node(victim).manager().in_flight_monitor_updates() > 0) return false;
    std::optional<chain::Transaction> revoked =
        cheater_copies_.newest_revoked(harness_, cheater, link.channel);
    if (!revoked || !harness_.chain().broadcast(*revoked).is_ok()) return false;
    // Whatever was in flight on this channel is the cheater's to lose.
    for (size_t end : {cheater, victim}) {
      const ln::Channel* channel = harness_.node(end).manager().channel(link.channel);
      for (const ln::ChannelState& state : {channel->local_state(), channel->latest_state()}) {
        for (const auto& [key, htlc] : state.htlcs) forfeited_.insert(htlc.payment_hash);
      }
    }
    for (const chain::TxOut& output : revoked->outputs) {
      if (const auto* htlc = std::get_if<chain::HtlcCondition>(&output.condition))
        forfeited_.insert(htlc->payment_hash);
    }
    revoked_closes_[revoked->txid()] = RevokedClose{link.channel, cheater, victim, *revoked};
    cheater_copies_.forget(link.channel);
    harness_.chain().mine_block();
    return true;
  }

  void open_ring() {
    const size_t n = config_.nodes;
    const size_t links = n == 2 ? 1 : n;
    for (size_t i = 0; i < links; ++i) {
      const size_t a = i;
      const size_t b = (i + 1) % n;
      const std::optional<ChannelId> opened = open(a, b);
      if (!opened) {
        violation("the channel between " + harness_.node_id(a).to_string() + " and " +
                  harness_.node_id(b).to_string() + " could not be opened");
        continue;
      }
      const ChannelId channel = *opened;
      links_.push_back(Link{a, b, channel});
      capacity_[channel] = kChannelCapacityMsat;
    }
    if (!config_.mpp) return;
    // A second channel beside each, so that payments have several routes.
    // Some advertise that their forwarder charges nothing, a stale view of
    // the network: parts routed through them fail (fee_insufficient) and are
    // retried over other routes.
    for (size_t i = 0; i < links; ++i) {
      const Link& first = links_[i];
      const std::optional<ChannelId> opened = open(first.b, first.a);
      if (!opened) continue;
      const ChannelId channel = *opened;
      parallel_links_.push_back(Link{first.b, first.a, channel});
      capacity_[channel] = kChannelCapacityMsat;
      if (i % kStaleFeeEvery == 0) advertise_no_fee(channel);
    }
  }

  void advertise_no_fee(const ChannelId& channel) {
    harness_.graph().set_fees(channel, std::nullopt, AmountMsat(0), 0);
  }

  void maybe_inject_faults() {
    if (rng_.chance(config_.crash_rate)) {
      const size_t victim = rng_.below(config_.nodes);
      if (sqlite_dir(config_).empty()) {
        harness_.store(victim).go_down_after(rng_.between(1, kMaxCrashPointOperations));
      } else {
        harness_.crash(victim);
      }
    }
    const double stale_rate =
        config_.stale_snapshot_rate < 0 ? config_.crash_rate : config_.stale_snapshot_rate;
    if (rng_.chance(stale_rate)) stale_snapshot_step(rng_.below(config_.nodes));
    if (config_.stale_ahead_rate > 0) {
      // Copies are kept four times as often as one is restored, so a
      // restored state may be just behind or far behind.
      if (rng_.chance(std::min(1.0, 4 * config_.stale_ahead_rate))) keep_old_state(rng_.below(config_.nodes));
      if (rng_.chance(config_.stale_ahead_rate)) restore_old_state(rng_.below(config_.nodes));
    }
    if (rng_.chance(kDisconnectShare)) {
      const Link& link = links_[rng_.below(links_.size())];
      harness_.disconnect(link.a, link.b);
      down_links_.insert({link.a, link.b});
      ++report_.disconnects;
    }
    if (!down_links_.empty() && rng_.chance(0.5)) {
      auto it = down_links_.begin();
      harness_.reconnect(it->first, it->second);
      down_links_.erase(it);
    }
  }

  std::vector<uint64_t> monitor_update_ids(size_t i) {
    std::vector<uint64_t> ids;
    ln::Node& node = harness_.node(i);
    for (const ChannelId& id : node.manager().channel_ids()) {
      const ln::ChannelMonitor* monitor = node.chain_monitor().get(id);
      ids.push_back(monitor == nullptr ? 0 : monitor->latest_update_id());
    }
    return ids;
  }

  // Takes a copy of node i's manager state (every manager record), lets the node handle a few user
  // events, then writes the older copy back and restarts the node, if its
  // monitors have not moved meanwhile.
  void stale_snapshot_step(size_t i) {
    if (harness_.node(i).manager().in_flight_monitor_updates() > 0) return;
    auto state = ln::snapshot_manager_records(harness_.kv(i));
    if (!state.is_ok()) return;
    const std::vector<uint64_t> ids = monitor_update_ids(i);
    const size_t events = 1 + rng_.below(kStaleEventsHandledMax);
    for (size_t e = 0; e < events; ++e) harness_.process(i);
    if (monitor_update_ids(i) != ids) return;
    if (!ln::restore_manager_records(harness_.kv(i), *state).is_ok()) return;
    ++report_.stale_restores;
    harness_.crash(i);
  }

  void keep_old_state(size_t i) {
    auto state = ln::snapshot_manager_records(harness_.kv(i));
    if (!state.is_ok()) return;
    std::deque<ln::ManagerSnapshot>& kept = old_states_[i];
    kept.push_back(std::move(state).value());
    if (kept.size() > kStaleStatesKept) kept.pop_front();
  }

  // Writes one of node i's older manager states back and restarts it; its
  // monitors may be ahead by any number of updates.
  void restore_old_state(size_t i) {
    std::deque<ln::ManagerSnapshot>& kept = old_states_[i];
    if (kept.empty()) return;
    const size_t pick = rng_.below(kept.size());
    if (!ln::restore_manager_records(harness_.kv(i), kept[pick]).is_ok()) return;
    // Later copies are newer than what the node now holds; keep only older.
    kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(pick), kept.end());
    ++report_.stale_restores_ahead;
    harness_.crash(i);
    note_forgotten_payments(i);
  }

  // After node i restarted from an older state: its accepted payments that
  // have no terminal event, that the state does not know and that no
  // monitor of it holds were only ever in the lost state.
  void note_forgotten_payments(size_t i) {
    std::set<PaymentId> ended;
    for (const Event& event : harness_.events(i)) {
      if (const auto* sent = std::get_if<ln::PaymentSent>(&event)) ended.insert(sent->payment_id);
      if (const auto* failed = std::get_if<ln::PaymentFailed>(&event)) ended.insert(failed->payment_id);
    }
    ln::Node& node = harness_.node(i);
    for (auto& [id, record] : payments_) {
      if (record.sender != i || !record.accepted || record.forgotten || ended.count(id) > 0) continue;
      if (node.manager().knows_payment(id)) continue;
      bool held = false;
      for (const ChannelId& channel : node.chain_monitor().channels())
        held = held || node.chain_monitor().get(channel)->tracks_payment(id);
      if (held) continue;
      record.forgotten = true;
      ++report_.payments_forgotten;
    }
  }

  void reconnect_all() {
    for (const auto& [a, b] : down_links_) harness_.reconnect(a, b);
    down_links_.clear();
  }

  void send_multipart(uint64_t k) {
    const size_t n = config_.nodes;
    const size_t sender = rng_.below(n);
    const size_t distance = config_.forwarding && n > 2 && rng_.chance(0.5) ? 2 : 1;
    const size_t receiver =
        rng_.chance(0.5) ? (sender + distance) % n : (sender + n - distance) % n;
    const std::string tag = std::to_string(config_.seed) + "/" + std::to_string(k);
    PaymentRecord record{
        sender, receiver,     PaymentPreimage(util::sha256(util::as_bytes("preimage " + tag))),
        false,  std::nullopt, AmountMsat(),
        true};
    const PaymentId id(util::sha256(util::as_bytes("payment " + tag)));
    const ln::PaymentParams params{.payee = harness_.node_id(receiver),
                                   .payment_hash = record.preimage.payment_hash(),
                                   .amount = AmountMsat(rng_.between(2, 2 * kMaxPaymentMsat)),
                                   .max_parts = 2 + rng_.below(2)};
    harness_.expect_payment(record.preimage, !rng_.chance(kFailShare));
    util::Status sent =
        harness_.on_node(sender, [&](ChannelManager& m) { return m.send_payment_mpp(id, params); });
    record.accepted = sent.is_ok();
    if (record.accepted) {
      ++report_.payments_attempted;
      ++report_.mpp_payments;
    }
    payments_[id] = record;
  }

  void send_one(uint64_t k) {
    if (config_.mpp && rng_.chance(kMultipartShare)) return send_multipart(k);
    const size_t index = rng_.below(links_.size());
    const Link& link = links_[index];
    const std::string tag = std::to_string(config_.seed) + "/" + std::to_string(k);
    PaymentRecord record{
        link.a, link.b,       PaymentPreimage(util::sha256(util::as_bytes("preimage " + tag))),
        false,  std::nullopt, AmountMsat()};
    const PaymentId id(util::sha256(util::as_bytes("payment " + tag)));
    const AmountMsat amount(rng_.between(1, kMaxPaymentMsat));
    std::vector<ln::RouteHop> route{ln::RouteHop{link.channel, ln::FeePolicy{}}};
    if (config_.forwarding && rng_.chance(0.5)) {
      // Two hops around the ring, either way: a -> b -> c or b -> a -> the node before a.
      const size_t n = links_.size();
      const bool clockwise = rng_.chance(0.5);
      const Link& next = links_[clockwise ? (index + 1) % n : (index + n - 1) % n];
      route.push_back(ln::RouteHop{next.channel, ln::FeePolicy{}});
      record.sender = clockwise ? link.a : link.b;
      record.forwarder = clockwise ? link.b : link.a;
      record.receiver = clockwise ? next.b : next.a;
      record.expected_fee = ln::FeePolicy{}.fee_for(amount).value();
    } else if (rng_.chance(0.5)) {
      std::swap(record.sender, record.receiver);
    }
    harness_.expect_payment(record.preimage, !rng_.chance(kFailShare));
    util::Status sent = harness_.on_node(record.sender, [&](ChannelManager& m) {
      return m.send_payment_route(id, record.preimage.payment_hash(), amount, route);
    });
    record.accepted = sent.is_ok();
    if (record.accepted) ++report_.payments_attempted;
    payments_[id] = record;
  }

  // Invariant 5: one PaymentForwarded per settled forward, with the fee the
  // route paid plus the skimmed fee it shows (kSkimMsat), and none for a
  // forward that did not settle. A multi-part payment's forwarders together
  // earn, skims aside, exactly the fee its PaymentSent paid.
  void check_forwards(const std::map<PaymentId, std::pair<size_t, size_t>>& outcomes,
                      const std::map<PaymentId, AmountMsat>& fees_paid, const std::string& rerun) {
    std::map<std::pair<size_t, ln::PaymentHash>, std::vector<AmountMsat>> forwarded;
    std::map<ln::PaymentHash, std::pair<size_t, AmountMsat>>
        by_hash;  // events, fees (without skims)
    std::set<std::tuple<size_t, ChannelId, uint64_t>> seen;
    for (size_t i = 0; i < harness_.size(); ++i) {
      for (const Event& event : harness_.events(i)) {
        const auto* f = std::get_if<ln::PaymentForwarded>(&event);
        if (f == nullptr) continue;
        ++report_.forwards;
        // Every forwarder skims kSkimMsat when the forward leaves more than that.
        // (Forwarders skim only with --forwarding; --mpp alone forwards without.)
        const uint64_t skim = config_.forwarding ? kSkimMsat : 0;
        const bool skim_right =
            f->skimmed_fee_msat == AmountMsat(skim) ||
            (f->skimmed_fee_msat.value() == 0 && f->outbound_amount_forwarded_msat.value() <= skim);
        auto fee = f->total_fee_earned_msat.checked_sub(f->skimmed_fee_msat);
        if (!skim_right || !fee.is_ok()) {
          violation("PaymentForwarded at " + harness_.node_id(i).to_string() +
                    " shows a skimmed fee of " + f->skimmed_fee_msat.to_string() + " (fee earned " +
                    f->total_fee_earned_msat.to_string() + ", forwarded " +
                    f->outbound_amount_forwarded_msat.to_string() + ")" + rerun);
          continue;
        }
        forwarded[{i, f->payment_hash}].push_back(*fee);
        auto& [count, fees] = by_hash[f->payment_hash];
        ++count;
        fees = fees.checked_add(*fee).value();
        if (!seen.insert({i, f->prev_channel_id, f->prev_htlc_id.value()}).second) {
          violation("two PaymentForwarded events at " + harness_.node_id(i).to_string() +
                    " for inbound HTLC " + std::to_string(f->prev_htlc_id.value()) +
                    " of channel " + f->prev_channel_id.to_hex().substr(0, 16) + rerun);
        }
      }
    }
    for (const auto& [id, record] : payments_) {
      auto outcome = outcomes.find(id);
      const bool settled = outcome != outcomes.end() && outcome->second.first > 0;
      // A cheater's channel took it: what forwarders were owed is not checked.
      if (forfeited_.count(record.preimage.payment_hash()) > 0) continue;
      if (record.multipart) {
        const auto [count, fees] = by_hash[record.preimage.payment_hash()];
        if (!settled && count > 0) {
          violation("payment " + id.to_hex().substr(0, 16) + ": " + std::to_string(count) +
                    " PaymentForwarded events for a multi-part payment that did not settle" +
                    rerun);
        } else if (settled && fees != fees_paid.at(id)) {
          violation("payment " + id.to_hex().substr(0, 16) +
                    ": the forwarders earned (skims aside) " + fees.to_string() +
                    ", the sender paid " + fees_paid.at(id).to_string() + " in fees" + rerun);
        }
        continue;
      }
      if (!record.forwarder) continue;
      const auto& fees = forwarded[{*record.forwarder, record.preimage.payment_hash()}];
      if (fees.size() != (settled ? 1u : 0u)) {
        violation("payment " + id.to_hex().substr(0, 16) + ": " + std::to_string(fees.size()) +
                  " PaymentForwarded events at " + harness_.node_id(*record.forwarder).to_string() +
                  " for a forward that " + (settled ? "settled" : "did not settle") + rerun);
      } else if (settled && fees[0] != record.expected_fee) {
        violation("payment " + id.to_hex().substr(0, 16) +
                  ": the forwarder earned (its skim aside) " + fees[0].to_string() +
                  ", the route paid " + record.expected_fee.to_string() + rerun);
      }
    }
  }

  void check() {
    report_.crashes = harness_.crashes();
    report_.restarts = harness_.crashes();
    report_.duplicate_events = harness_.duplicate_deliveries();
    report_.events_replayed = harness_.events_replayed();
    report_.closes_from_stale_state = harness_.stat_total(&ln::ManagerStats::closes_from_stale_state);
    report_.payments_rebuilt_from_monitors =
        harness_.stat_total(&ln::ManagerStats::payments_rebuilt_from_monitors);
    std::map<PaymentId, std::pair<size_t, size_t>> outcomes;  // sent, failed
    std::map<PaymentId, AmountMsat> fees_paid;
    std::set<ln::PaymentHash> claimed_by_receiver;
    for (size_t i = 0; i < harness_.size(); ++i) {
      const ln::Node& node = harness_.node(i);
      if (!chain_enabled()) report_.force_closes += node.manager().stats().channels_force_closed;
      for (const Event& event : harness_.events(i)) {
        if (const auto* sent = std::get_if<ln::PaymentSent>(&event)) {
          ++outcomes[sent->payment_id].first;
          fees_paid[sent->payment_id] = sent->fee_paid;
        }
        report_.path_successes += std::holds_alternative<ln::PaymentPathSuccessful>(event) ? 1 : 0;
        report_.path_failures += std::holds_alternative<ln::PaymentPathFailed>(event) ? 1 : 0;
        if (const auto* failed = std::get_if<ln::PaymentFailed>(&event))
          ++outcomes[failed->payment_id].second;
        if (const auto* claimed = std::get_if<ln::PaymentClaimed>(&event))
          claimed_by_receiver.insert(claimed->payment_hash);
      }
    }
    const std::string rerun = " (reproduce: " + reproduce_command(config_) + ")";
    for (const auto& [id, record] : payments_) {
      const auto [sent, failed] = outcomes[id];
      // A send that failed with a crash may still have been recorded durably.
      if (!record.accepted && sent + failed > 0) ++report_.payments_attempted;
      report_.payments_succeeded += sent > 0 ? 1 : 0;
      report_.payments_failed += (failed > 0 && sent == 0) ? 1 : 0;
      if (sent + failed > 1)
        violation("payment " + id.to_hex().substr(0, 16) + " has " + std::to_string(sent + failed) +
                  " terminal events" + rerun);
      if (record.accepted && sent + failed == 0 && !record.forgotten) {
        ++report_.lost_payments;
        violation("payment " + id.to_hex().substr(0, 16) + " was sent but never resolved" + rerun);
      }
      const bool forfeited = forfeited_.count(record.preimage.payment_hash()) > 0;
      report_.payments_forfeited += forfeited ? 1 : 0;
      if (claimed_by_receiver.count(record.preimage.payment_hash()) > 0 && sent == 0 &&
          !forfeited) {
        violation("payment " + id.to_hex().substr(0, 16) +
                  ": the receiver claimed it but the sender has no PaymentSent" + rerun);
      }
    }
    for (size_t i = 0; i < harness_.size(); ++i) {
      auto& node = harness_.node(i);
      report_.unacked_monitor_events += node.chain_monitor().unacked_events();
      report_.stuck_htlcs += node.manager().pending_htlcs();
    }
    for (const std::string& problem : harness_.check_quiescent()) violation(problem + rerun);
    check_forwards(outcomes, fees_paid, rerun);
    check_funds(rerun);
    if (chain_enabled()) check_chain(rerun);
  }

  bool closed(const Link& link) {
    for (size_t end : {link.a, link.b}) {
      const ln::Channel* channel = harness_.node(end).manager().channel(link.channel);
      if (channel != nullptr && channel->phase() == ln::ChannelPhase::kClosed) return true;
    }
    return false;
  }

  // Invariant 4 on chain: every closed channel is resolved (its funding
  // spent, nothing left for either monitor to claim), every unspent output
  // is an open channel's funding output or belongs to a node, nothing waits
  // in the mempool, and what was deposited is exactly what is unspent plus
  // the fees paid. Closes are counted by what spent the funding; a revoked
  // commitment must have lost every to-local and HTLC output to its victim.
  void check_chain(const std::string& rerun) {
    chain::SimulatedChain& chain = harness_.chain();
    std::vector<Link> all = links_;
    all.insert(all.end(), parallel_links_.begin(), parallel_links_.end());
    all.insert(all.end(), closed_links_.begin(), closed_links_.end());
    std::set<chain::OutPoint> open_funding;
    std::set<chain::PublicKey> node_keys;
    std::set<ChannelId> counted;
    for (size_t i = 0; i < harness_.size(); ++i)
      node_keys.insert(ln::node_key(harness_.node_id(i)));
    for (const Link& link : all) {
      const bool is_closed = closed(link);
      if (is_closed && counted.insert(link.channel).second) count_close(link, rerun);
      for (size_t end : {link.a, link.b}) {
        const ln::ChannelMonitor* monitor = harness_.node(end).chain_monitor().get(link.channel);
        if (monitor == nullptr || !monitor->tx_params()) continue;
        if (!is_closed) {
          open_funding.insert(monitor->tx_params()->funding_outpoint);
          continue;
        }
        if (!monitor->funding_spent() || !monitor->claimable_balances().empty()) {
          report_.funds_conserved = false;
          violation("closed channel " + link.channel.to_hex().substr(0, 16) +
                    " is not resolved on " + "chain at " + harness_.node_id(end).to_string() +
                    rerun);
        }
      }
    }
    if (!chain.mempool().empty()) {
      violation(std::to_string(chain.mempool().size()) + " transactions never confirmed" + rerun);
    }
    AmountMsat unspent;
    for (const auto& [outpoint, coin] : chain.utxos()) {
      unspent = unspent.checked_add(coin.output.value).value();
      const auto* key = std::get_if<chain::KeyCondition>(&coin.output.condition);
      if (open_funding.count(outpoint) > 0 || (key != nullptr && node_keys.count(key->key) > 0))
        continue;
      report_.funds_conserved = false;
      violation("output " + outpoint.to_string().substr(0, 16) + " of " +
                coin.output.value.to_string() + " is left unclaimed on chain" + rerun);
    }
    if (unspent.checked_add(chain.confirmed_fees()).value() != chain.confirmed_deposits()) {
      report_.funds_conserved = false;
      violation("on chain, " + unspent.to_string() + " unspent and " +
                chain.confirmed_fees().to_string() + " in fees do not add up to the " +
                chain.confirmed_deposits().to_string() + " deposited" + rerun);
    }
  }

  // Counts a closed channel by what spent its funding output on chain.
  void count_close(const Link& link, const std::string& rerun) {
    const chain::SimulatedChain& chain = harness_.chain();
    const ln::ChannelMonitor* monitor = harness_.node(link.a).chain_monitor().get(link.channel);
    if (monitor == nullptr || !monitor->tx_params()) return;  // reported as unresolved
    const std::optional<chain::Txid> spender =
        chain.spender(monitor->tx_params()->funding_outpoint);
    if (!spender) return;  // reported as unresolved
    if (auto revoked = revoked_closes_.find(*spender); revoked != revoked_closes_.end()) {
      ++report_.revoked_closes;
      check_punished(revoked->second, rerun);
      return;
    }
    if (monitor->funding_spend_kind() == ln::FundingSpendKind::kCooperativeClose) {
      ++report_.cooperative_closes;
    } else {
      ++report_.force_closes;
    }
  }

  // The victim's monitor saw a revoked commitment and swept every to-local
  // and HTLC output of it through the revocation path to the victim's key:
  // the cheater got nothing from them.
  void check_punished(const RevokedClose& close, const std::string& rerun) {
    const chain::SimulatedChain& chain = harness_.chain();
    const ln::ChannelMonitor* monitor =
        harness_.node(close.victim).chain_monitor().get(close.channel);
    const std::string who = "revoked commitment of " + harness_.node_id(close.cheater).to_string() +
                            " on channel " + close.channel.to_hex().substr(0, 16);
    if (monitor == nullptr ||
        monitor->funding_spend_kind() != ln::FundingSpendKind::kRevokedCommitment) {
      violation(who + ": the victim's monitor did not recognise it as revoked" + rerun);
      return;
    }
    const chain::Txid txid = close.commitment.txid();
    const chain::PublicKey victim_key = ln::node_key(harness_.node_id(close.victim));
    for (uint32_t i = 0; i < close.commitment.outputs.size(); ++i) {
      const chain::SpendCondition& condition = close.commitment.outputs[i].condition;
      if (!std::holds_alternative<chain::DelayedCondition>(condition) &&
          !std::holds_alternative<chain::HtlcCondition>(condition))
        continue;
      if (!swept_by_revocation(chain, chain::OutPoint{txid, i}, victim_key)) {
        violation(who + ": output " + std::to_string(i) + " of " +
                  close.commitment.outputs[i].value.to_string() +
                  " was not taken by the victim with the revocation secret" + rerun);
        return;
      }
    }
    ++report_.punished_revoked_commitments;
  }

  static bool swept_by_revocation(const chain::SimulatedChain& chain,
                                  const chain::OutPoint& outpoint, const chain::PublicKey& to) {
    const std::optional<chain::Txid> spender = chain.spender(outpoint);
    if (!spender) return false;
    const std::optional<chain::BlockHeight> height = chain.confirmation_height(*spender);
    if (!height) return false;
    for (const chain::Transaction& tx : chain.block_at(*height).transactions) {
      if (tx.txid() != *spender) continue;
      bool revocation = false;
      for (const chain::TxIn& in : tx.inputs) {
        if (in.prevout == outpoint) revocation = in.witness.path == chain::SpendPath::kRevocation;
      }
      for (const chain::TxOut& out : tx.outputs) {
        const auto* key = std::get_if<chain::KeyCondition>(&out.condition);
        if (key == nullptr || key->key != to) return false;
      }
      return revocation;
    }
    return false;
  }

  void check_funds(const std::string& rerun) {
    std::vector<Link> all = links_;
    all.insert(all.end(), parallel_links_.begin(), parallel_links_.end());
    for (const Link& link : all) {
      const ln::Channel* at_a = harness_.node(link.a).manager().channel(link.channel);
      const ln::Channel* at_b = harness_.node(link.b).manager().channel(link.channel);
      if (at_a == nullptr || at_b == nullptr) {
        report_.funds_conserved = false;
        violation("channel " + link.channel.to_hex().substr(0, 16) + " is missing at one end" +
                  rerun);
        continue;
      }
      if (closed(link)) continue;  // on chain now: check_chain
      const ln::ChannelState a = at_a->local_state();
      const ln::ChannelState b = at_b->local_state();
      uint64_t in_htlcs = 0;
      for (const auto& [key, htlc] : a.htlcs) in_htlcs += htlc.amount.value();
      const uint64_t total = a.to_us.value() + a.to_them.value() + in_htlcs;
      if (total != capacity_[link.channel] || a.to_us != b.to_them || a.to_them != b.to_us) {
        report_.funds_conserved = false;
        violation("channel " + link.channel.to_hex().substr(0, 16) + ": balances do not add up (" +
                  a.to_us.to_string() + " + " + a.to_them.to_string() + " + " +
                  std::to_string(in_htlcs) + "msat in HTLCs vs capacity " +
                  std::to_string(capacity_[link.channel]) + "msat; the peer sees " +
                  b.to_us.to_string() + " / " + b.to_them.to_string() + ")" + rerun);
      }
    }
  }

  const LnSimConfig& config_;
  LnSimReport& report_;
  util::Rng rng_;
  ln::LnHarness harness_;
  std::vector<std::deque<ln::ManagerSnapshot>> old_states_;  // per node, oldest first
  std::vector<Link> links_;           // the ring, in order
  std::vector<Link> parallel_links_;  // with --mpp: a second channel beside each
  std::vector<Link> closed_links_;    // force-closed by the simulation
  std::map<ChannelId, uint64_t> capacity_;
  std::map<PaymentId, PaymentRecord> payments_;
  std::set<std::pair<size_t, size_t>> down_links_;
  ln::CheaterCommitmentStash cheater_copies_;           // test-only: what cheaters keep
  std::map<chain::Txid, RevokedClose> revoked_closes_;  // by the revoked commitment's txid
  std::set<ln::PaymentHash> forfeited_;  // in flight on a channel a cheater closed
};

}  // namespace

util::Status validate(const LnSimConfig& config) {
  if (config.nodes < 2 || config.nodes > kMaxSimNodes) {
    return util::invalid_argument("--nodes must be between 2 and " + std::to_string(kMaxSimNodes));
  }
  if (config.payments > kMaxSimPayments)
    return util::invalid_argument("--payments must be at most " + std::to_string(kMaxSimPayments));
  for (auto [name, rate] : {std::pair{"--crash-rate", config.crash_rate},
                            {"--force-close-rate", config.force_close_rate},
                            {"--reorg-rate", config.reorg_rate},
                            {"--stale-ahead-rate", config.stale_ahead_rate}}) {
    if (!(rate >= 0.0 && rate <= 1.0))
      return util::invalid_argument(std::string(name) + " must be between 0 and 1");
  }
  if (!(config.revoked_close_share >= 0.0 && config.revoked_close_share <= 1.0))
    return util::invalid_argument("--revoked-close-share must be between 0 and 1");
  if (config.max_reorg_depth < 1 || config.max_reorg_depth > kMaxSimReorgDepth) {
    return util::invalid_argument(
        "--max-reorg-depth must be between 1 and " + std::to_string(kMaxSimReorgDepth) +
        " (reorganisations must stay shallower than the anti-reorg delay of " +
        std::to_string(ln::kAntiReorgDelayBlocks) + " blocks)");
  }
  if (config.stale_snapshot_rate > 1.0)
    return util::invalid_argument("--stale-snapshot-rate must be between 0 and 1");
  if (config.store != "memory" && config.store.rfind("sqlite:", 0) != 0) {
    return util::invalid_argument("--store must be memory or sqlite:DIR, got '" + config.store +
                                  "'");
  }
  if (config.store.rfind("sqlite:", 0) == 0 && config.store.size() == 7) {
    return util::invalid_argument("--store sqlite:DIR needs a directory");
  }
  if (config.forwarding && config.nodes < 3)
    return util::invalid_argument("--forwarding needs --nodes 3 or more");
  return util::Status::ok();
}

std::string reproduce_command(const LnSimConfig& config) {
  std::string command = "hashlock sim --seed " + std::to_string(config.seed) + " --nodes " +
                        std::to_string(config.nodes) + " --payments " +
                        std::to_string(config.payments);
  if (config.crash_rate > 0) command += " --crash-rate " + std::to_string(config.crash_rate);
  if (config.async_persist) command += " --async-persist";
  if (config.forwarding) command += " --forwarding";
  if (config.mpp) command += " --mpp";
  if (config.force_close_rate > 0)
    command += " --force-close-rate " + std::to_string(config.force_close_rate);
  if (config.reorg_rate > 0) command += " --reorg-rate " + std::to_string(config.reorg_rate);
  if (config.force_close_rate > 0 && config.revoked_close_share != LnSimConfig{}.revoked_close_share)
    command += " --revoked-close-share " + std::to_string(config.revoked_close_share);
  if (config.max_reorg_depth != LnSimConfig{}.max_reorg_depth)
    command += " --max-reorg-depth " + std::to_string(config.max_reorg_depth);
  if (config.stale_snapshot_rate >= 0)
    command += " --stale-snapshot-rate " + std::to_string(config.stale_snapshot_rate);
  if (config.stale_ahead_rate > 0)
    command += " --stale-ahead-rate " + std::to_string(config.stale_ahead_rate);
  command += std::string(" --mode ") + (config.persistent_mode ? "persistent" : "legacy");
  if (config.store != "memory") command += " --store " + config.store;
  if (config.canary != ln::ManagerConfig::PlantedBug::kNone)
    command += " --canary ack-before-handled";
  return command;
}

LnSimReport run_ln_sim(const LnSimConfig& config, const std::function<void(uint64_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  LnSimReport report;
  report.seed = config.seed;
  report.nodes = config.nodes;
  {
    Simulation simulation(config, report);
    simulation.run(progress);
  }
  report.wall_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - start)
                                             .count());
  return report;
}

}  // namespace hashlock::sim
