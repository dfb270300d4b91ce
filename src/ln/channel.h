// Channel: the two-party off-chain state machine of one channel, from one
// side's point of view.
//
// Model. Each side appends its updates (add, fulfill, fail) to its own update
// log. A commitment is the channel's base state with a prefix of each log
// applied: (number, ours, theirs). Our *remote* commitment is created when we
// send commitment_signed: it holds every update of ours and every update of
// theirs that we have acknowledged with revoke_and_ack. Our *local*
// commitment is created when we receive commitment_signed: it holds every
// update of theirs received before it and every update of ours that they
// acknowledged. This is BOLT 2's rule, and the per-HTLC states (announced,
// committed, removed, acked) follow from where an update stands in the two
// views (htlc_state()). Log entries included in both views are folded into
// the base, so the state does not grow with history.
//
// Updates are sent only together with a commitment_signed. While we wait
// for revoke_and_ack, or while a monitor update is in flight, new updates
// wait in the holding cell and go out in the next batch: many HTLCs per
// commitment round.
//
// Outputs. Every operation returns a ChannelOutput: messages for the peer,
// monitor steps that must be durable before those messages are sent, and
// facts for the manager (inbound HTLCs now irrevocably committed, inbound
// HTLCs now irrevocably removed). A peer message that breaks the protocol
// returns ProtocolError and leaves the channel unchanged: every check runs
// before any state changes.
//
// Thread-safety: none; owned by the ChannelManager.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "ln/channel_tx.h"
#include "ln/messages.h"
#include "ln/monitor_update.h"

namespace hashlock::ln {

enum class UpdateKind : uint8_t { kAdd = 0, kFulfill = 1, kFail = 2 };

struct LogEntry {
  UpdateKind kind = UpdateKind::kAdd;
  HtlcId htlc_id;  // add: the new HTLC; fulfill/fail: the other side's HTLC it removes
  AmountMsat amount;
  PaymentHash payment_hash;
  uint32_t cltv_expiry = 0;
  Bytes onion;
  std::optional<HtlcSource> source;  // our adds
  PaymentPreimage preimage;          // fulfill
  FailureReason reason;              // fail
  AmountMsat skimmed_fee;            // fulfill: fee the forwarder kept
  bool operator==(const LogEntry&) const = default;
};

struct Htlc {
  bool offered_by_us = false;
  HtlcId id;
  AmountMsat amount;
  PaymentHash payment_hash;
  uint32_t cltv_expiry = 0;
  Bytes onion;
  std::optional<HtlcSource> source;
  AmountMsat skimmed_fee;  // as its add carried it
  bool operator==(const Htlc&) const = default;
};

// The HTLCs and balances after a prefix of each log.
struct ChannelState {
  AmountMsat to_us;
  AmountMsat to_them;
  std::map<std::pair<bool, uint64_t>, Htlc> htlcs;  // (offered_by_us, id)
  bool operator==(const ChannelState&) const = default;
};

struct CommitmentView {
  uint64_t number = 0;
  uint64_t ours = 0;    // how many of our log entries it includes (absolute)
  uint64_t theirs = 0;  // how many of theirs
  bool operator==(const CommitmentView&) const = default;
};

// BOLT 2 states of an HTLC, derived from the two views.
enum class HtlcState {
  kLocalAnnounced,   // we offered it; not yet in a commitment the peer has acked
  kRemoteAnnounced,  // the peer offered it; not yet irrevocably committed
  kCommitted,        // irrevocably in both commitments
  kRemoving,         // a fulfill or fail is in flight
  kRemoved,          // gone from both commitments (or unknown)
};
std::string htlc_state_name(HtlcState state);

struct InboundHtlc {
  HtlcId id;
  AmountMsat amount;
  PaymentHash payment_hash;
  uint32_t cltv_expiry = 0;
  Bytes onion;
  AmountMsat skimmed_fee;  // kept by the forwarder before us (UpdateAddHtlc)
};

struct ChannelOutput {
  std::vector<Message> messages;
  std::vector<MonitorStep> steps;              // durable before `messages` are sent
  std::vector<InboundHtlc> inbound_committed;  // now safe to claim or forward
  std::vector<HtlcId> inbound_removed;         // our fulfill/fail of these is irrevocable
  bool empty() const {
    return messages.empty() && steps.empty() && inbound_committed.empty() &&
           inbound_removed.empty();
  }
};

enum class ChannelPhase : uint8_t { kAwaitingAccept = 0, kOpen = 1, kClosed = 2 };

struct ChannelConfig {
  ChannelLimits limits;          // what we accept from the peer
  uint32_t to_self_delay = 144;  // blocks the peer's to-local waits in its commitments
  // Cooperative close: the fee an opener proposes for the closing
  // transaction, and the most an acceptor agrees to.
  AmountMsat closing_fee{1'000'000};
  AmountMsat max_closing_fee{10'000'000};
};

inline constexpr size_t kMaxHoldingCellEntries = 1000;
inline constexpr size_t kMaxLogEntries = 10'000;

class Channel {
 public:
  // The opener's side: returns the channel and its open_channel message.
  // `funding` is the output paying `capacity` to both channel keys; without
  // one the channel has no on-chain form.
  static std::pair<Channel, OpenChannel> open(
      const ChannelId& id, NodeId peer, AmountMsat capacity, AmountMsat push,
      const ChannelConfig& config, const Secret& seed,
      std::optional<chain::OutPoint> funding = std::nullopt);
  // The acceptor's side.
  static util::Result<std::pair<Channel, AcceptChannel>> accept(const OpenChannel& open,
                                                                NodeId peer,
                                                                const ChannelConfig& config,
                                                                const Secret& seed);
  util::Status on_accept(const AcceptChannel& accept);

  // Local actions. They queue in the holding cell; flush() sends them.
  // `skimmed_fee`: what we keep beyond our fee as a forwarder; the peer is told.
  util::Status send_htlc(AmountMsat amount, const PaymentHash& hash, uint32_t cltv_expiry,
                         Bytes onion, const HtlcSource& source, HtlcId* assigned_id,
                         AmountMsat skimmed_fee = AmountMsat());
  // Fulfils an inbound HTLC. Returns false if it is already being removed.
  util::Result<bool> fulfill_htlc(HtlcId id, const PaymentPreimage& preimage,
                                  AmountMsat skimmed_fee);
  util::Result<bool> fail_htlc(HtlcId id, const FailureReason& reason);

  // Sends a batch (holding cell, then commitment_signed) if the protocol
  // allows one now. `monitor_pending` holds it back.
  ChannelOutput flush(bool monitor_pending);

  // Peer messages.
  util::Result<ChannelOutput> on_update_add(const UpdateAddHtlc& msg);
  util::Result<ChannelOutput> on_update_fulfill(const UpdateFulfillHtlc& msg);
  util::Result<ChannelOutput> on_update_fail(const UpdateFailHtlc& msg);
  util::Result<ChannelOutput> on_commitment_signed(const CommitmentSigned& msg);
  util::Result<ChannelOutput> on_revoke_and_ack(const RevokeAndAck& msg);

  void on_disconnect();
  ChannelReestablish reestablish_message() const;
  util::Result<ChannelOutput> on_reestablish(const ChannelReestablish& msg);

  void mark_closed() { phase_ = ChannelPhase::kClosed; }
  // Whether a refused peer message broke what the channel's safety rests on:
  // a commitment signature or a revocation secret that does not match. No
  // retransmission repairs that; the chain must settle the channel.
  static bool breaks_channel(const util::Status& refusal);

  // Funding. A channel with a funding output carries HTLCs only once both
  // sides saw the funding transaction at their minimum depth and said so
  // (channel_ready); a channel without one is usable at once.
  bool ready() const { return !funding_outpoint_ || (ready_sent_ && ready_received_); }
  // Open, funded on chain, and we have not said channel_ready yet.
  bool awaiting_funding_depth() const { return is_open() && funding_outpoint_ && !ready_sent_; }
  // We saw the funding deep enough: the channel_ready to send (again after
  // a reconnection, until the channel carried its first commitment).
  ChannelReady mark_funding_confirmed();
  std::optional<ChannelReady> ready_to_resend() const;
  util::Status on_channel_ready(const ChannelReady& msg);

  // Cooperative close. After shutdown() we add no HTLC; our shutdown leaves
  // with the next flush once the holding cell has no add. Once both sides
  // said shutdown and nothing is pending, the opener proposes the closing
  // transaction (propose_closing) and the acceptor answers
  // (on_closing_signed); both then hold the same closing fee.
  util::Status shutdown();
  util::Status on_shutdown(const Shutdown& msg);
  bool shutting_down() const { return shutdown_wanted_ || shutdown_received_; }
  bool shutdown_sent() const { return shutdown_sent_; }
  bool shutdown_wanted() const { return shutdown_wanted_; }
  bool closing_proposal_sent() const { return closing_proposal_sent_; }
  // Both sides said shutdown and no HTLC or update is pending.
  bool ready_to_close() const;
  // The opener's proposal of `fee` (at most its balance), once
  // ready_to_close() and not proposed yet.
  util::Result<ClosingSigned> propose_closing(const chain::PublicKey& our_key, AmountMsat fee);
  // The acceptor: agrees to a fee up to `max_fee`, holds it and returns its
  // answer. The opener: checks the answer matches its proposal and holds the
  // fee (returns nullopt).
  util::Result<std::optional<ClosingSigned>> on_closing_signed(const ClosingSigned& msg,
                                                               const chain::PublicKey& our_key,
                                                               AmountMsat max_fee);
  // The agreed closing fee, once both signed.
  const std::optional<AmountMsat>& closing_fee() const { return closing_fee_; }
  // The cooperative close transaction for the agreed fee (a funded channel).
  util::Result<chain::Transaction> closing_tx(const chain::PublicKey& our_key) const;
  // Expiries (channel_close.cpp). Why the chain must settle an HTLC at
  // `height`: one of ours still in a commitment `grace` blocks after its
  // expiry with no removal from the peer, or one of theirs we are
  // fulfilling whose expiry is `claim_buffer` blocks away. nullopt: none.
  std::optional<std::string> htlc_needing_chain(uint64_t height, uint32_t grace,
                                                uint32_t claim_buffer) const;
  // An HTLC of theirs as the latest state holds it.
  std::optional<Htlc> inbound_htlc(HtlcId id) const;
  // The same answer again, for an opener that did not receive it.
  util::Result<ClosingSigned> closing_answer(const chain::PublicKey& our_key) const;

  // Queries.
  const ChannelId& id() const { return id_; }
  NodeId peer() const { return peer_; }
  ChannelPhase phase() const { return phase_; }
  bool is_open() const { return phase_ == ChannelPhase::kOpen; }
  bool connected() const { return connected_; }
  void set_connected(bool connected) { connected_ = connected; }
  bool awaiting_revoke() const { return awaiting_raa_; }
  uint64_t latest_monitor_update_id() const { return latest_monitor_update_id_; }
  uint64_t next_monitor_update_id() { return ++latest_monitor_update_id_; }
  // After a restart from a stale manager state: continue after the monitor's ids.
  void skip_monitor_update_ids_to(uint64_t id) {
    latest_monitor_update_id_ = std::max(latest_monitor_update_id_, id);
  }
  const CommitmentView& local_view() const { return local_; }
  const CommitmentView& remote_view() const { return remote_; }
  size_t holding_cell_size() const { return holding_cell_.size(); }
  // The state with every update either side has made applied.
  ChannelState latest_state() const;
  ChannelState local_state() const { return state_at(local_); }
  HtlcState htlc_state(bool offered_by_us, HtlcId id) const;
  // Our HTLCs that no counterparty commitment ever held (in the holding cell
  // or sent after the last commitment_signed): on a close they can never be
  // claimed, so they fail at once.
  std::vector<LogEntry> uncommitted_offered_htlcs() const;
  // HTLCs in the latest state or in either commitment: zero at quiescence.
  size_t pending_htlcs() const;
  AmountMsat capacity() const { return capacity_; }
  bool is_opener() const { return is_opener_; }
  const std::optional<chain::OutPoint>& funding_outpoint() const { return funding_outpoint_; }
  // The channel's on-chain parameters for our monitor, if it has a funding output.
  std::optional<ChannelTxParams> tx_params(const chain::PublicKey& our_key) const;
  std::optional<MonitorChainSetup> monitor_chain_setup(const chain::PublicKey& our_key) const;

  Bytes encode() const;
  static util::Result<Channel> decode(ByteView encoded);

  // Persistence in parts (ln/manager_store.h), so that a write costs what
  // changed rather than every HTLC. The core is the channel record without
  // the HTLCs of its base state and without its update logs (it counts
  // them instead, in even fields that decode() refuses); those are items
  // that never change while they exist. Each HTLC is one item by
  // (offered_by_us, id) from the moment its add enters a log until it leaves
  // the base state: folding the add into the base does not rewrite it. Each
  // fulfill or fail is one item by (side, absolute log index) while it is in
  // its log. The log positions without an item are the adds: a side's adds
  // take increasing HTLC ids in log order, so they are the side's HTLC items
  // with the highest ids, and the rest are the base's.
  Bytes encode_core() const;
  uint64_t log_begin(bool ours) const { return ours ? base_ours_ : base_theirs_; }
  uint64_t log_end(bool ours) const { return ours ? our_log_end() : their_log_end(); }
  const LogEntry& log_entry(bool ours, uint64_t absolute) const {
    return ours ? our_entry(absolute) : their_entry(absolute);
  }
  // A fulfill or fail (or, in stores of older builds, an add) as a log item.
  Bytes encode_log_item(bool ours, uint64_t absolute) const;
  // An HTLC item: the add at `absolute` in our log (`ours`) or theirs.
  Bytes encode_add_item(bool ours, uint64_t absolute) const;
  const std::map<std::pair<bool, uint64_t>, Htlc>& base_htlcs() const { return base_.htlcs; }
  // An HTLC item of the base: the same bytes as encode_add_item of its add.
  static Bytes encode_base_item(const Htlc& htlc);
  // Grows whenever entries leave the end of a log (so an index may later
  // hold another entry); not persisted.
  uint64_t log_rewinds() const { return log_rewinds_; }
  // Log items by index and HTLC items by id, each in order.
  struct Items {
    std::vector<std::pair<uint64_t, ByteView>> our_log;
    std::vector<std::pair<uint64_t, ByteView>> their_log;
    std::vector<std::pair<uint64_t, ByteView>> base_offered;   // HTLCs offered by us
    std::vector<std::pair<uint64_t, ByteView>> base_received;  // offered by the peer
  };
  static util::Result<Channel> decode_parts(ByteView core, const Items& items);

 private:
  Channel() = default;
  struct CoreCounts {
    uint64_t our_log = 0;
    uint64_t their_log = 0;
    uint64_t base_htlcs = 0;
  };
  Bytes encode_record(bool core) const;
  static util::Result<Channel> decode_record(ByteView encoded, CoreCounts* counts);
  util::Status check_views() const;

  // The holding cell, then commitment_signed when there is something to sign.
  void send_batch(ChannelOutput& out);
  util::Sha256Digest closing_signature(const chain::PublicKey& our_key, AmountMsat fee) const;
  util::Result<chain::Transaction> closing_tx_for(const chain::PublicKey& our_key,
                                                  AmountMsat fee) const;
  ChannelState state_at(const CommitmentView& view) const;
  ChannelState state_after(uint64_t ours, uint64_t theirs) const;
  // state_after, reusing the last one built: while no entry has left a log,
  // a state further along is the last one plus the entries appended since.
  const ChannelState& cached_state_after(uint64_t ours, uint64_t theirs) const;
  // Whether an HTLC is in state_after(ours, theirs), and its payment hash,
  // without building that state.
  std::optional<PaymentHash> htlc_after(bool offered_by_us, HtlcId id, uint64_t ours,
                                        uint64_t theirs) const;
  // What check_new_htlc needs of one side of a state.
  struct SideTotals {
    size_t count = 0;
    AmountMsat in_flight;
    AmountMsat balance;
  };
  static SideTotals totals_of(const ChannelState& state, bool offered_by_us);
  util::Status apply(ChannelState& state, const LogEntry& entry, bool ours) const;
  const LogEntry& our_entry(uint64_t absolute) const { return our_log_[absolute - base_ours_]; }
  const LogEntry& their_entry(uint64_t absolute) const {
    return their_log_[absolute - base_theirs_];
  }
  uint64_t our_log_end() const { return base_ours_ + our_log_.size(); }
  uint64_t their_log_end() const { return base_theirs_ + their_log_.size(); }
  bool removal_pending(bool offered_by_us, HtlcId id) const;

  // The balances and point of our current remote commitment, when we know the point.
  std::optional<CommitmentBalances> counterparty_balances() const;
  util::Sha256Digest commitment_digest(bool holder_is_us, const CommitmentView& view) const;
  std::vector<CommitmentHtlc> commitment_htlcs(bool holder_is_us, const ChannelState& state) const;
  Message entry_message(const LogEntry& entry) const;
  RevokeAndAck revoke_message(uint64_t revoked) const;
  CommitmentSigned commitment_message() const;
  util::Status check_new_htlc(const SideTotals& totals, AmountMsat amount,
                              bool offered_by_us) const;
  util::Status check_removal(bool by_us, HtlcId id, const PaymentHash* hash,
                             const PaymentPreimage* preimage) const;
  void report_irrevocable(ChannelOutput& out, uint64_t old_their_committed,
                          uint64_t old_our_removed);
  void compact();

  ChannelId id_;
  NodeId peer_;
  bool is_opener_ = false;
  ChannelPhase phase_ = ChannelPhase::kAwaitingAccept;
  bool connected_ = true;
  AmountMsat capacity_;
  ChannelLimits our_limits_;    // what we accept from them
  ChannelLimits their_limits_;  // what they accept from us
  Secret seed_{};
  CommitmentSecretStore their_secrets_;
  std::map<uint64_t, util::Sha256Digest> their_points_;  // commitment number -> point

  ChannelState base_;
  uint64_t base_ours_ = 0;
  uint64_t base_theirs_ = 0;
  std::deque<LogEntry> our_log_;
  std::deque<LogEntry> their_log_;
  CommitmentView local_;
  CommitmentView remote_;
  uint64_t prev_remote_ours_ = 0;  // ours of remote commitment n-1, for retransmission
  bool awaiting_raa_ = false;
  uint64_t our_acked_ = 0;              // our log entries acknowledged by their RAA
  uint64_t their_committed_ = 0;        // their log entries reported irrevocable
  uint64_t our_removed_reported_ = 0;   // our log entries reported irrevocable
  bool raa_before_commitment_ = false;  // our last RAA went out before our last commitment_signed
  uint64_t next_htlc_id_ = 0;
  uint64_t their_next_htlc_id_ = 0;
  std::vector<LogEntry> holding_cell_;
  uint64_t latest_monitor_update_id_ = 0;
  std::optional<chain::OutPoint> funding_outpoint_;
  uint32_t our_to_self_delay_ = 0;    // required of the peer's to-local
  uint32_t their_to_self_delay_ = 0;  // required of ours
  bool ready_sent_ = false;
  bool ready_received_ = false;
  bool shutdown_wanted_ = false;  // asked locally; shutdown_sent_ once it left
  bool shutdown_sent_ = false;
  bool shutdown_received_ = false;
  AmountMsat closing_proposed_;            // the opener's proposal, once sent
  bool closing_proposal_sent_ = false;
  std::optional<AmountMsat> closing_fee_;  // agreed by both

  // Not persisted: the last state cached_state_after built.
  struct StateMemo {
    std::optional<ChannelState> state;
    uint64_t ours = 0;
    uint64_t theirs = 0;
    uint64_t log_version = 0;
  };
  mutable StateMemo memo_;
  uint64_t log_version_ = 0;  // grows whenever an entry leaves a log
  uint64_t log_rewinds_ = 0;  // grows whenever entries leave the end of a log
};

}  // namespace hashlock::ln
