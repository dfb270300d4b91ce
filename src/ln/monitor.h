// ChannelMonitor: everything needed to resolve one channel's HTLCs safely, and
// the place where every resolution is decided.
//
// The monitor applies ChannelMonitorUpdates strictly in order. From them it
// decides each outbound HTLC's fate and queues a MonitorEvent:
//  * Claimed, when a new holder commitment shows the counterparty fulfilled it
//    (or a revoked counterparty commitment loses it while we know the preimage);
//  * Failed, when the counterparty's revocation secret removes it from their
//    commitment without a preimage, with the reason stored from the holder
//    commitment that failed it.
// A claim and a fail are never both emitted for one HTLC.
//
// Events are part of the monitor's persisted state and stay until acked.
// An event's id is derived from the HTLC id and the resolution kind, so it is
// unique within the monitor and never reused, also after the monitor is
// restored from an older snapshot and updates are replayed: a stale ack can
// never delete a different event. Acks of events that replay might regenerate
// are remembered until the HTLC is pruned.
//
// Legacy mode acks events on receipt, so there the monitor keeps each
// resolved outbound HTLC until a ReleasePaymentComplete update says the
// manager handled its outcome durably.
//
// Invariants: update ids strictly increase by one; an outbound HTLC is
// resolved at most once; pruned HTLCs are resolved, acked (and in legacy
// mode released), and in no commitment. Thread-safety: none; owned by the ChainMonitor.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "ln/channel_tx.h"
#include "ln/monitor_update.h"

namespace hashlock::ln {

struct ClaimedResolution {
  PaymentPreimage preimage;
  AmountMsat skimmed_fee;
  bool operator==(const ClaimedResolution&) const = default;
};
struct FailedResolution {
  FailureReason reason;
  bool operator==(const FailedResolution&) const = default;
};

struct HtlcEvent {
  PaymentHash payment_hash;
  HtlcSource source;
  AmountMsat htlc_value;
  HtlcId htlc_id;
  std::variant<ClaimedResolution, FailedResolution> resolution;
  bool operator==(const HtlcEvent&) const = default;
};
struct CommitmentTxConfirmed {
  bool operator==(const CommitmentTxConfirmed&) const = default;
};
struct HolderForceClosed {
  std::string reason;
  bool operator==(const HolderForceClosed&) const = default;
};

using MonitorEventKind = std::variant<HtlcEvent, CommitmentTxConfirmed, HolderForceClosed>;

struct MonitorEvent {
  uint64_t id = 0;
  MonitorEventKind kind;
  bool operator==(const MonitorEvent&) const = default;
};

// What the manager acks: (channel, event id).
struct MonitorEventSource {
  ChannelId channel_id;
  uint64_t event_id = 0;
  auto operator<=>(const MonitorEventSource&) const = default;
};

inline constexpr size_t kMaxPendingMonitorEvents = 1'000'000;
// Blocks an on-chain timeout (or an HTLC missing from the confirmed
// commitment) must be buried before its fail is reported: reorganisations
// are assumed shallower than this.
inline constexpr uint32_t kAntiReorgDelayBlocks = 6;

// What the monitor could take on chain, for the user (claimable_balances).
enum class BalanceKind : uint8_t {
  kOnChannelClose,          // the channel is open: our side of the current commitment
  kAwaitingConfirmations,   // ours on chain, waiting for a delay or confirmations
  kContentiousClaimable,    // an HTLC output we can claim with its preimage
  kMaybeTimeoutClaimable,   // an HTLC output we get back after its expiry
  kRevokedOutputClaimable,  // an output of a revoked commitment we are taking
};
std::string balance_kind_name(BalanceKind kind);

struct ClaimableBalance {
  BalanceKind kind = BalanceKind::kOnChannelClose;
  AmountMsat amount;
  uint64_t height = 0;  // from which it is ours (delay, expiry or confirmations); 0: now
  bool operator==(const ClaimableBalance&) const = default;
};

// How the funding output was spent.
enum class FundingSpendKind : uint8_t {
  kHolderCommitment,
  kCounterpartyCommitment,
  kRevokedCommitment,
  // One of our own earlier commitments, revoked since (a node restored from
  // lost state, or a cheater): the counterparty may take all of it at once
  // with our revocation secret, so the monitor claims nothing from it.
  kRevokedHolderCommitment,
  kCooperativeClose,
  kUnknown,
};
// "holder_commitment", "counterparty_commitment", "revoked_commitment",
// "revoked_holder_commitment", "cooperative_close", "unknown".
std::string funding_spend_kind_name(FundingSpendKind kind);

class ChannelMonitor {
 public:
  // Without `chain` the monitor cannot build its channel's transactions
  // (a channel without a funding output).
  static ChannelMonitor create(const ChannelId& channel_id, NodeId counterparty,
                               bool persistent_events, AmountMsat to_holder,
                               AmountMsat to_counterparty,
                               std::optional<MonitorChainSetup> chain = std::nullopt);

  // Applies the next update; an update out of order or inconsistent with the
  // monitor is an error and changes nothing.
  util::Status apply_update(const ChannelMonitorUpdate& update);
  // Removes an event for good. Acking an unknown id is remembered, not an error.
  void ack_event(uint64_t event_id);

  // Events not yet handed out in this process run; marks them handed out.
  std::vector<MonitorEvent> release_events();
  // After a restart every stored event is handed out again.
  void forget_released() { released_.clear(); }

  const ChannelId& channel_id() const { return channel_id_; }
  NodeId counterparty() const { return counterparty_; }
  uint64_t latest_update_id() const { return latest_update_id_; }
  bool persistent_events() const { return persistent_events_; }
  void set_persistent_events(bool on) {
    if (on != persistent_events_) prune_all_ = true;  // what counts as handled changed
    persistent_events_ = on;
  }
  bool closed() const { return closed_; }
  const std::vector<MonitorEvent>& pending_events() const { return pending_events_; }
  size_t tracked_htlcs() const { return outbound_.size(); }
  uint64_t holder_commitment_number() const { return holder_number_; }
  const std::vector<CommitmentHtlc>& holder_htlcs() const { return holder_htlcs_; }
  // The base the next update's commitment steps are written against
  // (monitor_update.h): the latest holder and counterparty HTLC lists.
  CommitmentBase commitment_base() const {
    return CommitmentBase{
        .holder = &holder_htlcs_,
        .counterparty = counterparty_commitments_.empty()
                            ? nullptr
                            : &counterparty_commitments_.rbegin()->second};
  }
  AmountMsat holder_balance() const { return to_holder_; }
  std::optional<PaymentPreimage> preimage_for(const PaymentHash& hash) const;
  const std::optional<ChannelTxParams>& tx_params() const { return tx_params_; }
  // Our current commitment transaction, which we may broadcast.
  util::Result<chain::Transaction> holder_commitment_tx() const;
  // The counterparty's commitment `number`, if it is not revoked yet.
  util::Result<chain::Transaction> counterparty_commitment_tx(uint64_t number) const;
  // The numbers of the counterparty commitments not revoked yet (current and maybe previous).
  std::vector<uint64_t> unrevoked_counterparty_commitments() const;
  // Legacy mode: resolved outbound HTLCs the manager has not released yet,
  // as the events they produced. A manager restarting from a stale state
  // rebuilds their outcomes from these (the older path the persistent
  // events replace). In persistent mode this is always empty.
  std::vector<HtlcEvent> unreleased_resolutions() const;

  Bytes encode() const;
  // About how many bytes encode() would give, without encoding: it grows
  // with what the monitor holds (commitment HTLCs, tracked outbound HTLCs,
  // preimages, events), which is what a snapshot costs.
  uint64_t approximate_encoded_size() const;
  static util::Result<ChannelMonitor> decode(ByteView encoded);

  // --- the chain (monitor_chain.cpp) ---
  // The chain state below is not persisted: after a restart the ChainMonitor
  // replays the best chain into the monitor, which rebuilds it and makes the
  // same decisions again (event ids are deterministic, so acked events stay
  // acked). Each block: a spend of the funding output is recognised (our
  // commitment, a counterparty commitment, a revoked one, the cooperative
  // close); our claims are (re)broadcast; outbound HTLCs are resolved:
  // claimed at once when the preimage is known or seen on chain, failed once
  // our timeout spend, or the commitment that lacks them, has
  // kAntiReorgDelayBlocks confirmations. A disconnected block removes what it
  // confirmed and produces no event; a resolution is never taken back.
  void block_connected(const chain::Block& block, chain::Broadcaster& broadcaster,
                       const chain::FeeEstimator& fees);
  void block_disconnected(const chain::BlockHeader& header);
  std::vector<ClaimableBalance> claimable_balances() const;
  uint64_t best_height() const { return chain_.best_height; }
  bool funding_spent() const { return chain_.funding_spend.has_value(); }
  std::optional<FundingSpendKind> funding_spend_kind() const;
  // Transactions this monitor broadcast that the chain accepted, by kind.
  uint64_t punishments_broadcast() const { return chain_.punishments; }
  // Confirmations of the funding transaction on the best chain (0: none).
  uint32_t funding_confirmations() const;
  // Our offered HTLCs the monitor has not resolved yet, with their sources.
  struct UnresolvedHtlc {
    HtlcId id;
    HtlcSource source;
    PaymentHash payment_hash;
    AmountMsat amount;
  };
  std::vector<UnresolvedHtlc> unresolved_outbound() const;
  // Whether an HTLC of ours with this source (by its SentHtlcId) is still
  // tracked: in a commitment, or resolved with its outcome not yet acked
  // (or, in legacy mode, released). Its fate is then the monitor's to
  // report, whatever a (stale) manager state says.
  bool tracks_outbound(const HtlcSource& source) const;
  // Whether any HTLC of ours it tracks is a part of payment `id`.
  bool tracks_payment(const PaymentId& id) const;

 private:
  struct OutboundHtlc {
    PaymentHash payment_hash;
    AmountMsat amount;
    HtlcSource source;
    std::optional<FailureReason> fail_reason;
    bool resolved = false;
    bool claimed = false;   // how it was resolved
    bool released = false;  // legacy mode: the manager handled the outcome durably
  };

  static uint64_t htlc_event_id(HtlcId id, bool claimed) {
    return id.value() * 4 + (claimed ? 1 : 2);
  }
  static constexpr uint64_t kForceClosedEventId = (1ULL << 62) + 1;
  static constexpr uint64_t kCommitmentConfirmedEventId = (1ULL << 62) + 2;

  struct ConfirmedTx {
    chain::Transaction tx;
    uint64_t height = 0;
  };
  struct ChainState {
    uint64_t best_height = 0;
    std::optional<ConfirmedTx> funding_spend;
    FundingSpendKind kind = FundingSpendKind::kUnknown;
    uint64_t commitment_number = 0;
    // (offered by us, HTLC id) -> output of the funding spend.
    std::map<std::pair<bool, uint64_t>, uint32_t> htlc_outputs;
    // Output of the funding spend -> the confirmed transaction spending it.
    std::map<uint32_t, ConfirmedTx> output_spends;
    std::set<uint32_t> punished;  // outputs our accepted punishments spend
    uint64_t punishments = 0;
    uint64_t funding_height = 0;  // 0: the funding transaction is not on the best chain
  };

  void on_funding_spend(const chain::Transaction& tx, uint64_t height);
  void map_htlc_outputs(const std::vector<CommitmentHtlc>& htlcs, bool holder_is_us,
                        const chain::Transaction& tx);
  // A revoked commitment's HTLC list is gone: our offered HTLCs are found by
  // what they pay (hash, amount, our timeout key).
  void map_offered_htlcs_by_value(const chain::Transaction& tx);
  // Whether `tx` is shaped as a commitment we hold (its outputs pay us after
  // a delay, or the counterparty at once) rather than one they hold.
  bool held_by_us(const chain::Transaction& tx) const;
  void resolve_onchain();
  void broadcast_claims(chain::Broadcaster& broadcaster, const chain::FeeEstimator& fees);
  std::optional<chain::Witness> claim_witness(const chain::TxOut& output, uint32_t* sequence,
                                              uint32_t* lock_time) const;
  uint32_t confirmations(uint64_t height) const;
  std::optional<Secret> revocation_secret(uint64_t number) const;

  util::Status check_step(const MonitorStep& step) const;
  // Checks every step of `update` against the state the steps before it
  // leave, as check_step on a scratch copy would, without copying the
  // monitor. Nullopt when the update might take the pending events over
  // their limit: then only the scratch copy can tell.
  std::optional<util::Status> check_without_copy(const ChannelMonitorUpdate& update) const;
  void apply_step(const MonitorStep& step);
  void on_holder(const LatestHolderCommitment& step);
  void on_counterparty(const LatestCounterpartyCommitment& step);
  void on_secret(const CommitmentSecretStep& step);
  void resolve(HtlcId id, OutboundHtlc& htlc,
               std::variant<ClaimedResolution, FailedResolution> resolution);
  void queue(MonitorEvent event);
  void prune();
  // What prune() would drop after `update`, done only where it can change:
  // the outbound HTLCs and hashes of `candidates` (taken before the update
  // applied) and of the update's own steps. Every other HTLC and preimage
  // kept its standing, since the state after the last prune held nothing
  // prunable; prune_all_ says when that may not hold, and prunes everything.
  struct PruneCandidates {
    std::vector<uint64_t> htlc_ids;
    std::vector<PaymentHash> hashes;
  };
  PruneCandidates prune_candidates(const ChannelMonitorUpdate& update) const;
  void prune_after(const ChannelMonitorUpdate& update, PruneCandidates candidates);
  // prune() for one outbound HTLC (the one an ack concerned).
  void prune_htlc(uint64_t htlc_id);
  // Adds the ids of our HTLCs in any commitment (holder or unrevoked
  // counterparty) and the payment hashes of every HTLC in them.
  void commitment_contents(std::set<uint64_t>& our_ids, std::set<PaymentHash>& hashes) const;
  // Whether a commitment or a tracked outbound HTLC still has this hash.
  bool preimage_needed(const PaymentHash& hash) const;
  // outbound_ erase, keeping the counts below.
  std::map<uint64_t, OutboundHtlc>::iterator erase_outbound(std::map<uint64_t, OutboundHtlc>::iterator it);
  // Counts an entry of outbound_ in (+1) or out (-1) of the counts below.
  void count_outbound(const OutboundHtlc& htlc, int delta);

  ChannelId channel_id_;
  NodeId counterparty_;
  bool persistent_events_ = true;
  uint64_t latest_update_id_ = 0;
  bool closed_ = false;
  std::string close_reason_;
  uint64_t holder_number_ = 0;
  std::vector<CommitmentHtlc> holder_htlcs_;
  AmountMsat to_holder_;
  AmountMsat to_counterparty_;
  std::map<uint64_t, std::vector<CommitmentHtlc>> counterparty_commitments_;
  std::optional<ChannelTxParams> tx_params_;
  std::optional<util::Sha256Digest> holder_point_;
  std::map<uint64_t, CommitmentBalances> counterparty_balances_;  // by commitment number
  std::map<uint64_t, OutboundHtlc> outbound_;  // by our HTLC id
  // How many entries of outbound_ have each payment hash (not persisted).
  std::map<PaymentHash, uint32_t> outbound_hashes_;
  // How many entries of outbound_ are parts of each of our payments (not persisted).
  std::map<PaymentId, uint32_t> outbound_payments_;
  // Set when the state may hold something prunable that no update touched
  // (after decode, a change of the events flag, the chain's resolutions):
  // the next update prunes everything (not persisted).
  bool prune_all_ = false;
  std::map<PaymentHash, PaymentPreimage> preimages_;
  CommitmentSecretStore secrets_;
  std::vector<MonitorEvent> pending_events_;
  std::set<uint64_t> pending_ids_;  // ids of pending_events_, not persisted
  std::set<uint64_t> acked_ids_;
  std::set<uint64_t> released_;  // not persisted
  bool should_broadcast_ = false;  // closed by us: broadcast our commitment
  ChainState chain_;               // not persisted: rebuilt from the chain
};

}  // namespace hashlock::ln
