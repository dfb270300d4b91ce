// ChannelManager: a node's channels, payments and user events.
//
// Data flow (docs/architecture.md): a peer message reaches a Channel, which
// returns messages and monitor steps. The manager wraps the steps in a
// ChannelMonitorUpdate, records it as in flight in its own durable state,
// hands it to the Watch, and sends the messages only once the update is
// durable. The monitor decides every HTLC resolution and reports it as a
// MonitorEvent; the manager turns it into a user event and, in persistent
// mode, acks the monitor event only when the consequence is safe (for our
// own payments: after the user handled PaymentSent / PaymentFailed).
//
// Durability: the manager's state is a set of records (ln/manager_store.h):
// one for the node, one per channel, pending outbound payment, claimable
// payment, forward awaiting its ack and queued user event, holding only what
// is pending; a payment whose terminal event was handled moves to its own
// record (namespace "payments_done"), and so does a handled PaymentForwarded
// ("forwards_done"), so the state does not grow with history and a stale
// state cannot deliver either again. Every call runs in a round (group
// commit): the records of the objects the round changed are encoded once and
// go to the store in one atomic synced batch with the round's monitor
// updates, acks and completed payments; the round's monitor updates count as
// in flight until that batch is durable, and its messages leave only after
// it. A stale copy of the state (an older snapshot of the whole set) is
// survivable: on load, channels whose monitor is ahead are force-closed with
// a clear reason, in-flight updates are replayed, and every un-acked monitor
// event is processed again; handlers are idempotent.
//
// Invariants: exactly one terminal event per payment; a terminal event that
// was handled is never delivered again; messages that depend on a monitor
// update never leave before it is durable.
// Thread-safety: none; one thread drives a node.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "ln/chain_monitor.h"
#include "ln/channel.h"
#include "ln/events.h"
#include "ln/manager_store.h"
#include "ln/onion.h"
#include "ln/outbound_payment.h"
#include "ln/router.h"
#include "ln/transport.h"
#include "store/kv_store.h"

namespace hashlock::ln {

struct ManagerConfig {
  // Deliberate durability bugs, for proving that the checkers can fail.
  // Never set outside tests and `hashlock sim --canary`.
  enum class PlantedBug {
    kNone,
    kAckBeforeHandled,  // ack a claim the moment it arrives, before anything is durable
  };

  NodeId node_id;
  Secret node_seed{};
  bool persistent_monitor_events = true;
  ChannelConfig channel_config;
  uint32_t final_cltv_expiry = 144;
  FeePolicy fee_policy;  // what this node charges to forward
  // The node's view of the network, for multi-part payments and their
  // retries. Without it, send_payment_mpp finds no route.
  std::shared_ptr<const NetworkGraph> network_graph;
  // A multi-part payment the receiver holds incomplete this many timer ticks
  // is failed back (mpp_timeout).
  uint64_t mpp_timeout_ticks = 3;
  // Receiving: accept an HTLC carrying less than its payload asks for when
  // the forwarder before us says it skimmed the difference (an agreement
  // with that forwarder, as with a liquidity provider).
  bool accept_underpaying_htlcs = false;
  // Forwarding: keep this much beyond our fee from every forward, telling
  // the next node (only with peers that agreed to it).
  AmountMsat forward_skim_msat;
  // A funded channel carries HTLCs once its funding transaction has this
  // many confirmations (both sides say channel_ready).
  uint32_t min_funding_depth = 3;
  // Payments to us are claimed only while every part's expiry is more than
  // kLastClaimBlocks away, and failed back once it is that close. True:
  // claim whatever the expiry, as a peer that claims late would (only for
  // tests of that peer's counterparty).
  bool late_claims = false;
  // A store that holds channel monitors but no manager state (the manager's
  // records are gone) is refused unless this is set; then every such
  // channel is force-closed from its monitor and resolved on chain, and the
  // payments its HTLCs belong to are rebuilt from it. This trusts the
  // monitors to be current: a node restored whole from an old backup has
  // stale monitors too, and broadcasting one would hand the peer the channel.
  bool recover_from_monitors = false;
  PlantedBug planted_bug = PlantedBug::kNone;
};

// Blocks before and after an HTLC's expiry that decide when the chain must
// settle it (ln-resolution.md, hard cases):
// an HTLC of ours still unresolved this many blocks after its expiry closes
// the channel, so our monitor times it out on chain;
inline constexpr uint32_t kHtlcExpiryGraceBlocks = 3;
// an HTLC we are claiming, whose fulfill the peer has not acknowledged
// this close to its expiry, closes the channel, so our monitor claims it;
inline constexpr uint32_t kClaimBufferBlocks = 18;
// a forward whose outbound HTLC waits on chain is failed back upstream
// this close to the inbound HTLC's expiry, before the upstream peer closes.
inline constexpr uint32_t kFailBackBufferBlocks = 6;
// A payment to us is claimed only while every part's expiry is more than
// this many blocks away, and failed back once it is this close: a later
// claim may not settle, off chain or on it, before the sender's timeout.
inline constexpr uint32_t kLastClaimBlocks = kClaimBufferBlocks + kHtlcExpiryGraceBlocks;

struct ManagerStats {
  uint64_t monitor_events_processed = 0;
  uint64_t monitor_events_replayed = 0;  // already handled before; acked without a user event
  uint64_t user_events_delivered = 0;
  uint64_t channels_force_closed = 0;
  uint64_t forwards_failed_back = 0;
  uint64_t cooperative_closes = 0;
  uint64_t expiry_force_closes = 0;     // closed because an HTLC neared or passed its expiry
  uint64_t peer_error_force_closes = 0;  // closed on an unrecoverable peer error
  uint64_t peer_messages_refused = 0;    // peer messages that broke the protocol
  uint64_t failed_back_near_expiry = 0;  // forwards failed upstream while their outbound HTLC was on chain
  uint64_t claimables_failed_near_expiry = 0;
  uint64_t orphan_monitors_closed = 0;
  uint64_t events_held_until_durable = 0;  // deliveries put off: a PaymentClaimed's preimage not yet durable  // monitors of channels the state did not know, closed at load  // payments to us failed back, too close to expiry to claim
  // Loads whose state lagged behind the handled records (an older snapshot
  // of the manager's records), so they read every pending payment's and
  // queued event's handled record.
  uint64_t lagging_state_loads = 0;
  // Payments (or parts) a stale state did not know, rebuilt from a monitor's
  // outbound HTLC at load or from its resolution.
  uint64_t payments_rebuilt_from_monitors = 0;
  // Channels closed because the state was older than the channel's monitor.
  uint64_t closes_from_stale_state = 0;
};

// A payment to `payee`, split into up to `max_parts` parts over different
// routes, each failed part re-sent over another route while retries are left
// and the payment has not expired.
struct PaymentParams {
  NodeId payee;
  PaymentHash payment_hash;
  AmountMsat amount;
  size_t max_parts = 1;
  uint32_t max_retries = 3;
  uint64_t expiry_ticks = 6;  // timer ticks after which no part is re-sent
  uint32_t max_total_cltv = 2016;
};

// One part of a payment over a route the caller chose.
struct PartSpec {
  std::vector<RouteHop> route;
  AmountMsat amount;  // what reaches the payee
};

inline constexpr size_t kMaxPaymentParts = 16;
inline constexpr size_t kMaxEventsPerProcessCall = 10'000;
inline constexpr size_t kMaxCommitsPerRound = 16;
inline constexpr size_t kMaxMessagesPerRound = 10'000'000;
inline constexpr size_t kMaxQueuedUserEvents = 1'000'000;

class ChannelManager {
 public:
  using EventHandler = std::function<HandleResult(const Event&)>;

  // A fresh node on an empty store.
  static util::Result<std::unique_ptr<ChannelManager>> create(const ManagerConfig& config,
                                                              store::KVStore& store,
                                                              ChainMonitor& chain_monitor,
                                                              PeerTransport& transport);
  // A node restarting from what its store kept. `chain_monitor` must already
  // hold the monitors read back from the same store.
  static util::Result<std::unique_ptr<ChannelManager>> load(const ManagerConfig& config,
                                                            store::KVStore& store,
                                                            ChainMonitor& chain_monitor,
                                                            PeerTransport& transport);

  // `funding`: the output paying `capacity` to both channel keys
  // (funding_output()); without it the channel has no on-chain form.
  util::Result<ChannelId> open_channel(NodeId peer, AmountMsat capacity, AmountMsat push,
                                       std::optional<chain::OutPoint> funding = std::nullopt);
  // Sends `amount` to the peer at the other end of `channel_id`. Every send
  // is refused (failed_precondition) while `payment_id` is pending, after it
  // succeeded, or while a monitor still holds an HTLC of it; an id whose
  // PaymentFailed was handled may be sent again, as a new attempt.
  util::Status send_payment(const PaymentId& payment_id, const PaymentHash& hash, AmountMsat amount,
                            const ChannelId& channel_id);
  // Sends `amount` to the node at the end of `route`; the first hop must be
  // one of our channels. Forwarding nodes are paid their fees on top.
  util::Status send_payment_route(const PaymentId& payment_id, const PaymentHash& hash, AmountMsat amount,
                                  const std::vector<RouteHop>& route);
  // A multi-part payment: routes found over the network graph. Every part,
  // and every retry, ends in PaymentPathSuccessful or PaymentPathFailed; the
  // payment in one PaymentSent or PaymentFailed.
  util::Status send_payment_mpp(const PaymentId& payment_id, const PaymentParams& params);
  // The same over parts the caller routed; their amounts add up to `amount`.
  // Retries use the network graph, when there is one.
  util::Status send_payment_parts(const PaymentId& payment_id, const PaymentParams& params,
                                  const std::vector<PartSpec>& parts);
  // Claims every part of the payment. Calling it again for a claimed payment
  // re-sends whatever part's fulfill did not start (for instance after a crash).
  util::Status claim_funds(const PaymentPreimage& preimage);
  // Closes the channel unilaterally: its monitor broadcasts our commitment
  // and resolves every HTLC on chain.
  util::Status force_close_channel(const ChannelId& channel_id, const std::string& reason);
  // Closes the channel cooperatively: shutdown, then, once no HTLC is left,
  // the closing transaction both sides sign (the opener proposes the fee).
  // ChannelClosed follows when both have signed.
  util::Status close_channel(const ChannelId& channel_id);
  util::Status fail_htlc_backwards(const PaymentHash& hash);

  // A message from a peer. A protocol error is returned and answered with an
  // error message; the channel's state is left as it was.
  util::Status handle_message(NodeId from, const Bytes& message);
  util::Status peer_connected(NodeId peer);
  util::Status peer_disconnected(NodeId peer);

  // Completed monitor updates, monitor events, then user events.
  util::Status process_pending_events(const EventHandler& handler);
  // Only the first part: releases messages whose monitor updates became
  // durable and sends what was waiting in holding cells.
  util::Status process_completions();

  // Switches the compatibility flag; turning it off is refused while any
  // monitor event is un-acked.
  util::Status set_persistent_monitor_events(bool on);

  // Time, in ticks the user drives (about one a minute in a deployment):
  // receivers fail incomplete multi-part payments back after
  // mpp_timeout_ticks; payments stop retrying at their expiry.
  util::Status timer_tick();

  // Group commit. Every call above runs in a round; the calls between
  // begin_round() and end_round() share one. A round's store writes (the
  // manager's state, encoded once, monitor updates, acks, completed
  // payments) reach the store as one atomic batch with one sync when the
  // round ends; until then its monitor updates count as in flight (their
  // events are held back), and every message it sends waits. What that
  // commit releases (outboxes, holding cells) runs in follow-up commits
  // before end_round() returns. A failed commit stops the node.
  void begin_round();
  util::Status end_round();

  // Queries.
  NodeId node_id() const { return config_.node_id; }
  bool persistent_monitor_events() const { return config_.persistent_monitor_events; }
  std::vector<ChannelId> channel_ids() const;
  const Channel* channel(const ChannelId& id) const;
  size_t pending_htlcs() const;
  size_t queued_user_events() const { return events_.size(); }
  size_t pending_outbound_payments() const;
  // Payments we receive whose parts have not all arrived (they time out).
  size_t incomplete_claimable_payments() const;
  // Whether the state holds an outbound payment with this id (any state).
  bool knows_payment(const PaymentId& id) const { return payments_.count(id) > 0; }
  // The state of a payment to us with this hash; nullopt if none is known.
  std::optional<ln::ClaimState> claim_state(const PaymentHash& hash) const;
  uint64_t ticks() const { return tick_; }
  size_t in_flight_monitor_updates() const;
  const ManagerStats& stats() const { return stats_; }
  // Checks that the store holds exactly the records of the state in memory
  // (no change missed, nothing left over); for tests, between rounds.
  util::Status verify_records() const;
  // Set once a monitor update could not be applied or persisted: the node
  // has stopped and every call returns this error.
  const util::Status& fatal_error() const { return fatal_; }

 private:
  using ClaimState = ln::ClaimState;
  using ClaimableHtlc = ln::ClaimableHtlc;
  using ClaimablePayment = ln::ClaimablePayment;
  using PendingForward = ln::PendingForward;
  using ForwardAck = ln::ForwardAck;
  struct ChannelEntry {
    Channel channel;
    std::deque<ChannelMonitorUpdate> in_flight;       // persisted with the manager
    std::deque<std::pair<uint64_t, Message>> outbox;  // (update id it waits for, message)
    // Which of the channel's items the store holds: a cache of the store,
    // not state, so writing the channel's record may update it.
    mutable ChannelItemsWritten items_written;
    // The last in-flight update holds only preimages and is not handed to
    // the monitor yet: this round's later preimages join it (see commit()).
    bool preimages_open = false;
  };

  ChannelManager(const ManagerConfig& config, store::KVStore& store, ChainMonitor& chain_monitor,
                 PeerTransport& transport);

  // Writes the state, plus `extra` in the same synced batch. In a round the
  // state is only marked changed and `extra` joins the round's group.
  util::Status persist(store::WriteBatch extra = {},
                       store::Durability durability = store::Durability::kSynced);
  // Runs `body` in a round (nested in the caller's, if one is open).
  template <typename Fn>
  auto in_round(Fn&& body) -> decltype(body()) {
    begin_round();
    auto result = body();
    util::Status ended = end_round();
    if (result.is_ok() && !ended.is_ok()) return ended;
    return result;
  }
  // `end_of_round`: false for a commit mid-round (commit_mid_round).
  util::Status commit_round(bool end_of_round = true);
  // Commits the round so far and opens the next group in the same round:
  // what follows becomes durable only after what came before.
  util::Status commit_mid_round();
  // Sends now, or after the round's commit when a round is open.
  void send_to(NodeId peer, Message message);

  util::Result<ChannelId> open_channel_now(NodeId peer, AmountMsat capacity, AmountMsat push,
                                           std::optional<chain::OutPoint> funding);
  util::Status send_payment_now(const PaymentId& payment_id, const PaymentHash& hash,
                                AmountMsat amount, const ChannelId& channel_id);
  util::Status send_payment_route_now(const PaymentId& payment_id, const PaymentHash& hash,
                                      AmountMsat amount, const std::vector<RouteHop>& route);
  util::Status claim_funds_now(const PaymentPreimage& preimage);
  util::Status fail_htlc_backwards_now(const PaymentHash& hash);
  util::Status handle_message_now(NodeId from, const Bytes& message);
  util::Status peer_connected_now(NodeId peer);
  util::Status peer_disconnected_now(NodeId peer);
  util::Status process_pending_events_now(const EventHandler& handler);
  util::Status process_completions_now();
  util::Status set_persistent_monitor_events_now(bool on);
  util::Status timer_tick_now();
  util::Status send_payment_mpp_now(const PaymentId& payment_id, const PaymentParams& params);
  util::Status send_payment_parts_now(const PaymentId& payment_id, const PaymentParams& params,
                                      const std::vector<PartSpec>& parts);
  // A payment whose terminal event was handled (its payments_done record).
  struct CompletedPayment {
    PaymentState state = PaymentState::kFailed;
    // The handled attempt's parts are below it. A record written before
    // resends existed lacks it: no payment had 2^32 parts.
    static constexpr uint64_t kOldRecordPartsEnd = uint64_t{1} << 32;
    uint64_t parts_end = kOldRecordPartsEnd;
    bool covers(uint64_t part_id) const { return part_id < parts_end; }
  };
  util::Result<std::optional<CompletedPayment>> completed_payment(const PaymentId& id) const;
  // The records (manager_store.h): read them all; add the changed ones to
  // `batch`. A commit mid-round keeps the marks (a reference taken before
  // it may still change its object) and remembers what it wrote.
  util::Status load_records();
  util::Status write_changed_records(store::WriteBatch& batch, bool end_of_round);
  ManagerNode node_record() const;
  util::Status reconcile_after_load();
  util::Status drop_handled_terminal_events();

  // `source`: the monitor event, or none for a legacy outcome rebuilt at
  // load; `out_channel`: the outbound channel the forward resolved on.
  util::Status on_forward_claimed_inbound_closed(const std::optional<MonitorEventSource>& source,
                                                 const ChannelId& out_channel, const HtlcEvent& event,
                                                 const PreviousHop& prev, ChannelEntry& in);
  // Whether the user handled this forward's PaymentForwarded (read only when
  // the loaded state lagged behind the handled records: a current state
  // cannot resolve a forward twice).
  // A PaymentForwarded for this inbound HTLC waits in the queue.
  bool forward_queued(const ChannelId& prev_channel, HtlcId prev_htlc) const;
  // Whether an event of kind E that `match` accepts waits in the queue.
  template <typename E, typename Match>
  bool any_queued(const Match& match) const {
    return std::any_of(events_.begin(), events_.end(), [&](const QueuedEvent& q) {
      const E* e = std::get_if<E>(&q.event);
      return e != nullptr && match(*e);
    });
  }
  util::Result<bool> forward_handled(const PreviousHop& prev) const;
  // Whether a forwards_done record exists for the forward (always read).
  util::Result<bool> forward_done(const ChannelId& prev_channel, HtlcId prev_htlc) const;
  // On a close: fails back our HTLCs no counterparty commitment holds.
  util::Status fail_uncommitted_htlcs(ChannelEntry& entry);
  util::Status close_after_funding_spent(ChannelEntry& entry);
  util::Status force_close_channel_now(const ChannelId& channel_id, const std::string& reason);

  // The chain and closing (manager_chain.cpp).
  util::Status close_channel_now(const ChannelId& channel_id);
  // Runs what the chain tip decides: channel_ready for funding deep enough;
  // when the tip moved, force closes for HTLCs near or past expiry, early
  // fail-backs, and the closing transactions to (re)broadcast.
  util::Status on_chain_tip();
  util::Status check_htlc_expiries(uint64_t height);
  util::Status fail_back_near_expiry(uint64_t height);
  // kLastClaimBlocks: parts that close are failed back at the tip, and a
  // claim is refused.
  std::optional<uint32_t> earliest_expiry(const ClaimablePayment& payment) const;
  util::Status fail_claimables_near_expiry(uint64_t height);
  // Funding, shutdown and closing messages; false if `message` is none of them.
  util::Result<bool> handle_close_message(ChannelEntry& entry, const Message& message);
  // The opener proposes the closing transaction once nothing is pending.
  util::Status advance_close(ChannelEntry& entry);
  util::Status advance_closes();
  util::Status finish_cooperative_close(ChannelEntry& entry, const std::string& reason);
  // A peer error the channel cannot recover from: tell the peer, close.
  util::Status fail_channel(ChannelEntry& entry, const util::Status& error);
  ChannelMonitor new_monitor(const Channel& channel) const;
  // A closed channel's monitor learns `preimage` (durably) to claim on chain.
  util::Status give_preimage_to_monitor(ChannelEntry& entry, const PaymentPreimage& preimage);
  ChannelEntry* find(const ChannelId& id);
  // Records `out` for a channel: wraps steps in an update, persists, hands the
  // update to the Watch and sends what may be sent.
  util::Status commit(ChannelEntry& entry, ChannelOutput out);
  util::Status submit(ChannelEntry& entry, const ChannelMonitorUpdate& update);
  void release_outbox(ChannelEntry& entry);
  util::Status flush(ChannelEntry& entry);
  util::Status on_inbound_committed(ChannelEntry& entry, const std::vector<InboundHtlc>& htlcs);
  void on_inbound_removed(const ChannelId& channel_id, const std::vector<HtlcId>& htlcs, uint64_t update_id);
  util::Status process_forwards();
  util::Status forward(const PendingForward& pending);
  util::Status fail_inbound(const ChannelId& channel_id, HtlcId htlc_id, const PaymentHash& hash, FailureReason reason);
  util::Status on_forward_resolved(const std::optional<MonitorEventSource>& source, const ChannelId& out_channel,
                                   const HtlcEvent& event, const PreviousHop& prev);
  util::Status run_forward_acks(const ChannelEntry& entry);
  // Hands the open preimage update of `entry` (or of every channel) to the
  // monitor.
  util::Status submit_open_preimages(ChannelEntry& entry);
  util::Status submit_open_preimages();
  // Whether an update of channel `id` is written to the manager's store.
  UpdateWrittenFn update_written_fn(const ChannelId& id) const;
  util::Status force_close(ChannelEntry& entry, const std::string& reason,
                           bool keep_in_flight = false);

  util::Status process_monitor_events();
  util::Status on_monitor_event(const ReleasedEvent& released);
  // `source` is absent when a legacy-mode restart rebuilds the outcome from
  // the monitor's unreleased resolutions rather than from an event.
  util::Status on_outbound_resolved(const std::optional<MonitorEventSource>& source,
                                    const ChannelId& channel_id, const HtlcEvent& event,
                                    const OutboundRoute& route);
  // Whether a monitor event for this part is a replay whose consequences
  // (its ack or release included) are all recorded already.
  bool replay_changes_nothing(const OutboundRoute& route, bool claimed,
                              const std::optional<MonitorEventSource>& source,
                              const HtlcRelease& release) const;
  util::Status release_payment(const HtlcRelease& release);
  // Refuses an id that is pending or succeeded, or failed with its events
  // not all handled, or that a monitor still holds; otherwise the first
  // part id a (re)send of it uses.
  util::Result<uint64_t> refuse_if_known(const PaymentId& payment_id);
  // Sends one part: an HTLC over `route` carrying `amount` to the payee.
  util::Status send_part(const PaymentId& payment_id, OutboundPayment& payment, const std::vector<RouteHop>& route,
                         AmountMsat amount);
  // After a part failed: re-sends its amount over another route if allowed,
  // otherwise gives up retrying; then ends the payment if nothing is left.
  // `failed_locally`: it never left (our first hop refused it).
  util::Status after_part_failed(const PaymentId& payment_id, OutboundPayment& payment, const PaymentPart& part,
                                 bool failed_locally);
  util::Result<std::optional<std::vector<RouteHop>>> retry_route(const OutboundPayment& payment, AmountMsat amount);
  void fail_if_nothing_left(const PaymentId& payment_id, OutboundPayment& payment);
  // Marks a handled payment event in `done`; returns the acks and releases now due.
  void on_payment_event_handled(const Event& event, store::WriteBatch& done, std::vector<MonitorEventSource>* acks,
                                std::vector<HtlcRelease>* releases);
  util::Status reconcile_payments_after_load();
  // The stored handled-records count (manager_records.h); 0 when absent.
  util::Result<uint64_t> stored_handled_count() const;
  // Raises the count for a batch that writes handled records, in that batch.
  void count_handled_records(store::WriteBatch& batch);
  util::Status resume_claim(const PaymentHash& hash, ClaimablePayment& payment);
  util::Status rebuild_legacy_outcomes();
  // The state loaded lagged behind the handled records: it may settle again
  // what a later state settled, so handled records are consulted.
  bool loaded_lagging_state_ = false;
  // A stale state's open channel that its monitor (or the chain) already
  // closed: closed here too, with no close update of its own.
  util::Status close_as_monitor_did(ChannelEntry& entry, const std::string& reason);
  // Closes the channel with no update of its own (the monitor or the chain
  // closed it): fails what no commitment holds, runs due forward acks,
  // queues ChannelClosed once.
  util::Status close_without_update(ChannelEntry& entry, const std::string& reason);
  // Queues ChannelClosed unless the user handled one for the channel (or
  // one is queued already).
  util::Status queue_channel_closed(const ChannelId& id, const std::string& reason);
  // Monitors of channels the state does not know (a state older than the
  // channel, or manager records lost): each is force-closed from its
  // monitor, once, and resolved on chain; its HTLCs' payments are rebuilt
  // from it. A peer's message for such a channel is answered with an error.
  util::Status close_orphan_monitors();
  // Whether a queued event may reach the user now (PaymentClaimed waits for
  // its preimage to be durable in every part's monitor).
  bool deliverable(const Event& event) const;
  // A forward's downstream claim whose inbound channel is an orphan monitor.
  bool claimed_into_orphan(const ChannelId& in_channel, const HtlcEvent& event) const;
  util::Status claim_inbound_from_orphan(const std::optional<MonitorEventSource>& source,
                                         const ChannelId& out_channel, const HtlcEvent& event,
                                         const PreviousHop& prev);
  // Not persisted: after a restart the un-acked event replays and redoes it.
  std::map<std::pair<ChannelId, uint64_t>, MonitorEventSource> orphan_acks_;  // by update
  // A new state over a store with monitors: closes them, rebuilds payments.
  util::Status recover_orphans();
  // At load: outbound HTLCs the monitors hold whose payment (or part) the
  // state does not know are added as in flight, so the payment is pending
  // (a resend is refused) and its real outcome reaches the user.
  util::Status rebuild_payments_from_monitors();
  // A payment rebuilt from one of its parts: that part in flight, no retries.
  static OutboundPayment rebuilt_payment(const PaymentHash& hash, const OutboundRoute& route,
                                         AmountMsat htlc_amount, const ChannelId& channel_id);
  // A part of a known payment that the state does not know (a retry sent
  // after this state's copy) joins it in flight. False if it was known.
  bool adopt_unknown_part(OutboundPayment& payment, const PaymentHash& hash,
                          const OutboundRoute& route, AmountMsat htlc_amount,
                          const ChannelId& channel_id);
  // Resolutions as a batch, in the order they are applied: every part a
  // pending payment does not know is adopted first, then failed parts go
  // before claimed ones. A claim's PaymentSent then counts only the fees
  // of parts that were not failed, and a failure retries only what the
  // parts still live (the adopted included) do not cover.
  std::vector<size_t> resolution_order(const std::vector<const HtlcEvent*>& events,
                                       const std::vector<ChannelId>& channels);
  util::Status ack_now(const MonitorEventSource& source);
  void queue_event(Event event, std::vector<MonitorEventSource> acks,
                   std::vector<HtlcRelease> releases = {});
  util::Result<ChannelOutput> dispatch(Channel& channel, const Message& message);

  ManagerConfig config_;
  store::KVStore* store_;
  ChainMonitor* chain_monitor_;
  PeerTransport* transport_;
  TrackedMap<ChannelId, ChannelEntry> channels_;
  TrackedMap<PaymentId, OutboundPayment> payments_;
  TrackedMap<PaymentHash, ClaimablePayment> claimable_;
  TrackedEvents events_;
  std::vector<PendingForward> pending_forwards_;
  TrackedMap<ForwardKey, ForwardAck> forward_acks_;  // by (inbound channel, inbound HTLC id)
  bool processing_forwards_ = false;
  uint64_t next_event_sequence_ = 0;
  uint64_t channels_opened_ = 0;
  uint64_t tick_ = 0;
  // The handled-records count this state reflects (ManagerNode::handled_count;
  // absent in a state loaded from a build before the count, until reconciled).
  std::optional<uint64_t> handled_count_;
  // Set at load, to the stored count, when the state may lag behind the
  // handled records: the reconcile reads them, then takes that count.
  std::optional<uint64_t> lagging_behind_count_;
  std::optional<uint64_t> checked_height_;  // the tip on_chain_tip last ran for (not persisted)
  std::set<ChannelId> closing_;             // channels shutting down (not persisted)
  ManagerStats stats_;
  util::Status fatal_;
  size_t round_depth_ = 0;
  bool state_dirty_ = false;
  store::Durability state_durability_ = store::Durability::kBuffered;
  Bytes written_node_record_;  // as last written (or read)
  // What commits earlier in this round wrote, by namespace and key.
  std::map<std::pair<const char*, std::string>, Bytes> written_this_round_;
  std::set<ChannelId> preimages_open_;  // channels whose entry has preimages_open
  std::vector<std::pair<NodeId, Message>> pending_sends_;  // sent when the round commits
};

}  // namespace hashlock::ln
