#include "ln/channel.h"

#include <algorithm>

#include "codec/wire.h"
#include "util/check.h"

namespace hashlock::ln {
namespace {

util::Status peer_error(const ChannelId& id, const std::string& problem) {
  return util::protocol_error("channel " + id.to_hex().substr(0, 16) + ": " + problem);
}

// Refusals no retransmission can repair (see Channel::breaks_channel).
constexpr std::string_view kSignatureMismatch = "commitment_signed does not match our commitment";
constexpr std::string_view kWrongSecret = "revoke_and_ack carries a wrong per-commitment secret";

}  // namespace

bool Channel::breaks_channel(const util::Status& refusal) {
  return refusal.code() == util::StatusCode::kProtocolError &&
         (refusal.message().find(kSignatureMismatch) != std::string::npos ||
          refusal.message().find(kWrongSecret) != std::string::npos);
}

std::string htlc_state_name(HtlcState state) {
  switch (state) {
    case HtlcState::kLocalAnnounced:
      return "LocalAnnounced";
    case HtlcState::kRemoteAnnounced:
      return "RemoteAnnounced";
    case HtlcState::kCommitted:
      return "Committed";
    case HtlcState::kRemoving:
      return "Removing";
    case HtlcState::kRemoved:
      return "Removed";
  }
  return "Unknown";
}

std::pair<Channel, OpenChannel> Channel::open(const ChannelId& id, NodeId peer, AmountMsat capacity,
                                              AmountMsat push, const ChannelConfig& config,
                                              const Secret& seed,
                                              std::optional<chain::OutPoint> funding) {
  HASHLOCK_CHECK(push <= capacity, "push must not exceed capacity");
  Channel channel;
  channel.id_ = id;
  channel.peer_ = peer;
  channel.is_opener_ = true;
  channel.capacity_ = capacity;
  channel.our_limits_ = config.limits;
  channel.seed_ = seed;
  channel.base_.to_us = capacity.checked_sub(push).value();
  channel.base_.to_them = push;
  channel.funding_outpoint_ = funding;
  channel.our_to_self_delay_ = config.to_self_delay;
  OpenChannel message{.channel_id = id,
                      .capacity = capacity,
                      .push = push,
                      .limits = config.limits,
                      .first_point = commitment_point(secret_for_commitment(seed, 0)),
                      .second_point = commitment_point(secret_for_commitment(seed, 1)),
                      .funding_outpoint = funding,
                      .to_self_delay = config.to_self_delay};
  return {std::move(channel), message};
}

util::Result<std::pair<Channel, AcceptChannel>> Channel::accept(const OpenChannel& open,
                                                                NodeId peer,
                                                                const ChannelConfig& config,
                                                                const Secret& seed) {
  if (open.push > open.capacity) return peer_error(open.channel_id, "push exceeds capacity");
  if (open.capacity.value() == 0) return peer_error(open.channel_id, "zero capacity");
  Channel channel;
  channel.id_ = open.channel_id;
  channel.peer_ = peer;
  channel.is_opener_ = false;
  channel.phase_ = ChannelPhase::kOpen;
  channel.capacity_ = open.capacity;
  channel.our_limits_ = config.limits;
  channel.their_limits_ = open.limits;
  channel.seed_ = seed;
  channel.base_.to_us = open.push;
  channel.base_.to_them = open.capacity.checked_sub(open.push).value();
  channel.their_points_[0] = open.first_point;
  channel.their_points_[1] = open.second_point;
  channel.funding_outpoint_ = open.funding_outpoint;
  channel.our_to_self_delay_ = config.to_self_delay;
  channel.their_to_self_delay_ = open.to_self_delay;
  AcceptChannel message{.channel_id = open.channel_id,
                        .limits = config.limits,
                        .first_point = commitment_point(secret_for_commitment(seed, 0)),
                        .second_point = commitment_point(secret_for_commitment(seed, 1)),
                        .to_self_delay = config.to_self_delay};
  return std::make_pair(std::move(channel), message);
}

util::Status Channel::on_accept(const AcceptChannel& accept) {
  if (phase_ != ChannelPhase::kAwaitingAccept) return peer_error(id_, "unexpected accept_channel");
  their_limits_ = accept.limits;
  their_points_[0] = accept.first_point;
  their_points_[1] = accept.second_point;
  their_to_self_delay_ = accept.to_self_delay;
  phase_ = ChannelPhase::kOpen;
  return util::Status::ok();
}

std::optional<ChannelTxParams> Channel::tx_params(const chain::PublicKey& our_key) const {
  if (!funding_outpoint_) return std::nullopt;
  return ChannelTxParams{.funding_outpoint = *funding_outpoint_,
                         .funding_value = capacity_,
                         .holder_key = our_key,
                         .counterparty_key = node_key(peer_),
                         .holder_to_self_delay = their_to_self_delay_,
                         .counterparty_to_self_delay = our_to_self_delay_};
}

std::optional<MonitorChainSetup> Channel::monitor_chain_setup(
    const chain::PublicKey& our_key) const {
  std::optional<ChannelTxParams> params = tx_params(our_key);
  auto their_first = their_points_.find(0);
  if (!params || their_first == their_points_.end()) return std::nullopt;
  return MonitorChainSetup{*params, commitment_point(secret_for_commitment(seed_, 0)),
                           their_first->second};
}

std::optional<CommitmentBalances> Channel::counterparty_balances() const {
  auto point = their_points_.find(remote_.number);
  if (point == their_points_.end()) return std::nullopt;
  const ChannelState state = state_at(remote_);
  return CommitmentBalances{state.to_them, state.to_us, point->second};
}

// --- state ------------------------------------------------------------------

util::Status Channel::apply(ChannelState& state, const LogEntry& entry, bool ours) const {
  if (entry.kind == UpdateKind::kAdd) {
    AmountMsat& payer = ours ? state.to_us : state.to_them;
    HASHLOCK_ASSIGN_OR_RETURN(payer, payer.checked_sub(entry.amount));
    state.htlcs[{ours, entry.htlc_id.value()}] =
        Htlc{ours,        entry.htlc_id, entry.amount, entry.payment_hash, entry.cltv_expiry,
             entry.onion, entry.source, entry.skimmed_fee};
    return util::Status::ok();
  }
  // A removal takes out an HTLC the other side offered.
  auto it = state.htlcs.find({!ours, entry.htlc_id.value()});
  if (it == state.htlcs.end())
    return util::failed_precondition("removal of unknown " + entry.htlc_id.to_string());
  const bool paid_to_us = (entry.kind == UpdateKind::kFulfill) == ours;
  AmountMsat& payee = paid_to_us ? state.to_us : state.to_them;
  HASHLOCK_ASSIGN_OR_RETURN(payee, payee.checked_add(it->second.amount));
  state.htlcs.erase(it);
  return util::Status::ok();
}

ChannelState Channel::state_after(uint64_t ours, uint64_t theirs) const {
  HASHLOCK_CHECK(ours >= base_ours_ && ours <= our_log_end(), "view outside our log");
  HASHLOCK_CHECK(theirs >= base_theirs_ && theirs <= their_log_end(), "view outside their log");
  ChannelState state = base_;
  // Balances are sums, so the order of credits and debits does not matter;
  // only the result must be non-negative. HTLCs: adds first, then removals,
  // since a removal in one log refers to an add in the other.
  __extension__ __int128 to_us = state.to_us.value();
  __extension__ __int128 to_them = state.to_them.value();
  auto for_each = [&](bool adds, auto&& visit) {
    for (uint64_t i = base_ours_; i < ours; ++i) {
      if ((our_entry(i).kind == UpdateKind::kAdd) == adds) visit(our_entry(i), true);
    }
    for (uint64_t i = base_theirs_; i < theirs; ++i) {
      if ((their_entry(i).kind == UpdateKind::kAdd) == adds) visit(their_entry(i), false);
    }
  };
  for_each(true, [&](const LogEntry& e, bool by_us) {
    (by_us ? to_us : to_them) -= e.amount.value();
    state.htlcs[{by_us, e.htlc_id.value()}] =
        Htlc{by_us,   e.htlc_id, e.amount, e.payment_hash, e.cltv_expiry,
             e.onion, e.source,  e.skimmed_fee};
  });
  for_each(false, [&](const LogEntry& e, bool by_us) {
    auto it = state.htlcs.find({!by_us, e.htlc_id.value()});
    HASHLOCK_CHECK(it != state.htlcs.end(), "a removal in a commitment refers to an HTLC in it");
    const bool paid_to_us = (e.kind == UpdateKind::kFulfill) == by_us;
    (paid_to_us ? to_us : to_them) += it->second.amount.value();
    state.htlcs.erase(it);
  });
  HASHLOCK_CHECK(to_us >= 0 && to_them >= 0 && to_us <= UINT64_MAX && to_them <= UINT64_MAX,
                 "every commitment has non-negative balances");
  state.to_us = AmountMsat(static_cast<uint64_t>(to_us));
  state.to_them = AmountMsat(static_cast<uint64_t>(to_them));
  return state;
}

ChannelState Channel::state_at(const CommitmentView& view) const {
  return state_after(view.ours, view.theirs);
}

std::vector<LogEntry> Channel::uncommitted_offered_htlcs() const {
  std::vector<LogEntry> out;
  for (uint64_t i = std::max(remote_.ours, base_ours_); i < our_log_end(); ++i) {
    if (our_entry(i).kind == UpdateKind::kAdd) out.push_back(our_entry(i));
  }
  for (const LogEntry& entry : holding_cell_) {
    if (entry.kind == UpdateKind::kAdd) out.push_back(entry);
  }
  return out;
}

const ChannelState& Channel::cached_state_after(uint64_t ours, uint64_t theirs) const {
  StateMemo& memo = memo_;
  const bool reusable = memo.state && memo.log_version == log_version_ && memo.ours <= ours &&
                        memo.theirs <= theirs && memo.ours >= base_ours_ &&
                        memo.theirs >= base_theirs_;
  bool advanced = reusable;
  // Advance the last state by the entries appended since, in log order.
  for (uint64_t i = memo.ours; advanced && i < ours; ++i)
    advanced = apply(*memo.state, our_entry(i), true).is_ok();
  for (uint64_t i = memo.theirs; advanced && i < theirs; ++i)
    advanced = apply(*memo.state, their_entry(i), false).is_ok();
  if (!advanced) memo.state = state_after(ours, theirs);
  memo.ours = ours;
  memo.theirs = theirs;
  memo.log_version = log_version_;
  return *memo.state;
}

std::optional<PaymentHash> Channel::htlc_after(bool offered_by_us, HtlcId id, uint64_t ours,
                                               uint64_t theirs) const {
  std::optional<PaymentHash> hash;
  if (auto it = base_.htlcs.find({offered_by_us, id.value()}); it != base_.htlcs.end())
    hash = it->second.payment_hash;
  // Added in the offerer's log, removed in the other side's.
  const uint64_t adds_end = offered_by_us ? ours : theirs;
  for (uint64_t i = offered_by_us ? base_ours_ : base_theirs_; i < adds_end; ++i) {
    const LogEntry& e = offered_by_us ? our_entry(i) : their_entry(i);
    if (e.kind == UpdateKind::kAdd && e.htlc_id == id) hash = e.payment_hash;
  }
  const uint64_t removals_end = offered_by_us ? theirs : ours;
  for (uint64_t i = offered_by_us ? base_theirs_ : base_ours_; i < removals_end; ++i) {
    const LogEntry& e = offered_by_us ? their_entry(i) : our_entry(i);
    if (e.kind != UpdateKind::kAdd && e.htlc_id == id) return std::nullopt;
  }
  return hash;
}

Channel::SideTotals Channel::totals_of(const ChannelState& state, bool offered_by_us) {
  SideTotals totals{.balance = offered_by_us ? state.to_us : state.to_them};
  for (const auto& [key, htlc] : state.htlcs) {
    if (key.first != offered_by_us) continue;
    ++totals.count;
    totals.in_flight = totals.in_flight.checked_add(htlc.amount).value();
  }
  return totals;
}

ChannelState Channel::latest_state() const {
  return state_after(our_log_end(), their_log_end());
}

bool Channel::removal_pending(bool offered_by_us, HtlcId id) const {
  auto removes = [&](const LogEntry& e) { return e.kind != UpdateKind::kAdd && e.htlc_id == id; };
  if (offered_by_us) return std::any_of(their_log_.begin(), their_log_.end(), removes);
  return std::any_of(our_log_.begin(), our_log_.end(), removes) ||
         std::any_of(holding_cell_.begin(), holding_cell_.end(), removes);
}

HtlcState Channel::htlc_state(bool offered_by_us, HtlcId id) const {
  const bool in_local = htlc_after(offered_by_us, id, local_.ours, local_.theirs).has_value();
  const bool in_remote = htlc_after(offered_by_us, id, remote_.ours, remote_.theirs).has_value();
  const bool in_latest = htlc_after(offered_by_us, id, our_log_end(), their_log_end()).has_value();
  if (!in_local && !in_remote) {
    if (!in_latest) return HtlcState::kRemoved;
    return offered_by_us ? HtlcState::kLocalAnnounced : HtlcState::kRemoteAnnounced;
  }
  if (!in_latest || removal_pending(offered_by_us, id)) return HtlcState::kRemoving;
  if (in_local && in_remote) return HtlcState::kCommitted;
  return offered_by_us ? HtlcState::kLocalAnnounced : HtlcState::kRemoteAnnounced;
}

size_t Channel::pending_htlcs() const {
  std::map<std::pair<bool, uint64_t>, bool> all;
  for (const ChannelState& s : {latest_state(), state_at(local_), state_at(remote_)}) {
    for (const auto& [key, htlc] : s.htlcs) all[key] = true;
  }
  return all.size();
}

// --- checks -----------------------------------------------------------------

util::Status Channel::check_new_htlc(const SideTotals& totals, AmountMsat amount,
                                     bool offered_by_us) const {
  const ChannelLimits& receiver = offered_by_us ? their_limits_ : our_limits_;
  const std::string who = offered_by_us ? "our" : "their";
  if (amount < receiver.htlc_minimum) {
    return util::invalid_argument(who + " HTLC of " + amount.to_string() +
                                  " is below the minimum " + receiver.htlc_minimum.to_string());
  }
  const size_t count = totals.count;
  HASHLOCK_ASSIGN_OR_RETURN(AmountMsat in_flight, totals.in_flight.checked_add(amount));
  if (count + 1 > receiver.max_accepted_htlcs) {
    return util::invalid_argument(who + " HTLC would exceed max_accepted_htlcs " +
                                  std::to_string(receiver.max_accepted_htlcs));
  }
  if (in_flight > receiver.max_htlc_value_in_flight) {
    return util::invalid_argument(who + " HTLCs in flight " + in_flight.to_string() +
                                  " would exceed the limit " +
                                  receiver.max_htlc_value_in_flight.to_string());
  }
  const AmountMsat balance = totals.balance;
  auto required = amount.checked_add(receiver.channel_reserve);
  if (!required.is_ok() || balance < *required) {
    return util::invalid_argument(who + " balance " + balance.to_string() + " cannot pay " +
                                  amount.to_string() + " above the reserve " +
                                  receiver.channel_reserve.to_string());
  }
  return util::Status::ok();
}

// --- local actions ----------------------------------------------------------

util::Status Channel::send_htlc(AmountMsat amount, const PaymentHash& hash, uint32_t cltv_expiry,
                                Bytes onion, const HtlcSource& source, HtlcId* assigned_id,
                                AmountMsat skimmed_fee) {
  if (!is_open()) return util::failed_precondition("channel is not open");
  if (!ready()) {
    return util::failed_precondition(
        "channel is not ready: its funding has not reached the minimum depth on both sides");
  }
  if (shutting_down()) return util::failed_precondition("channel is shutting down");
  if (holding_cell_.size() >= kMaxHoldingCellEntries)
    return util::unavailable("holding cell is full");
  // The worst case for our balance: every update of ours (the holding cell
  // too) with only those of theirs we have acknowledged. That is the next
  // remote commitment, where this HTLC will land first.
  const ChannelState& committed = cached_state_after(our_log_end(), local_.theirs);
  SideTotals projected = totals_of(committed, true);
  for (const LogEntry& e : holding_cell_) {
    if (e.kind == UpdateKind::kAdd) {
      ++projected.count;
      projected.in_flight = projected.in_flight.checked_add(e.amount).value();
      projected.balance = projected.balance.checked_sub(e.amount).value();
      continue;
    }
    if (e.kind != UpdateKind::kFulfill) continue;  // a fail pays them, not us
    auto removed = committed.htlcs.find({false, e.htlc_id.value()});
    HASHLOCK_CHECK(removed != committed.htlcs.end(), "holding cell applies");
    projected.balance = projected.balance.checked_add(removed->second.amount).value();
  }
  HASHLOCK_RETURN_IF_ERROR(check_new_htlc(projected, amount, true));
  LogEntry entry{.kind = UpdateKind::kAdd,
                 .htlc_id = HtlcId(next_htlc_id_++),
                 .amount = amount,
                 .payment_hash = hash,
                 .cltv_expiry = cltv_expiry,
                 .onion = std::move(onion),
                 .source = source,
                 .skimmed_fee = skimmed_fee};
  if (assigned_id != nullptr) *assigned_id = entry.htlc_id;
  holding_cell_.push_back(std::move(entry));
  return util::Status::ok();
}

util::Status Channel::check_removal(bool by_us, HtlcId id, const PaymentHash* hash,
                                    const PaymentPreimage* preimage) const {
  const std::optional<PaymentHash> in_local = htlc_after(!by_us, id, local_.ours, local_.theirs);
  if (!in_local || !htlc_after(!by_us, id, remote_.ours, remote_.theirs)) {
    return util::failed_precondition(id.to_string() + " is not committed in both commitments");
  }
  if (preimage != nullptr && preimage->payment_hash() != *in_local) {
    return util::invalid_argument("preimage does not match the payment hash of " + id.to_string());
  }
  (void)hash;
  return util::Status::ok();
}

util::Result<bool> Channel::fulfill_htlc(HtlcId id, const PaymentPreimage& preimage,
                                         AmountMsat skimmed_fee) {
  if (removal_pending(false, id)) return false;
  HASHLOCK_RETURN_IF_ERROR(check_removal(true, id, nullptr, &preimage));
  holding_cell_.push_back(LogEntry{.kind = UpdateKind::kFulfill,
                                   .htlc_id = id,
                                   .preimage = preimage,
                                   .skimmed_fee = skimmed_fee});
  return true;
}

util::Result<bool> Channel::fail_htlc(HtlcId id, const FailureReason& reason) {
  if (removal_pending(false, id)) return false;
  HASHLOCK_RETURN_IF_ERROR(check_removal(true, id, nullptr, nullptr));
  holding_cell_.push_back(LogEntry{.kind = UpdateKind::kFail, .htlc_id = id, .reason = reason});
  return true;
}

Message Channel::entry_message(const LogEntry& e) const {
  switch (e.kind) {
    case UpdateKind::kAdd:
      return UpdateAddHtlc{id_, e.htlc_id, e.amount, e.payment_hash, e.cltv_expiry, e.onion, e.skimmed_fee};
    case UpdateKind::kFulfill:
      return UpdateFulfillHtlc{id_, e.htlc_id, e.preimage};
    case UpdateKind::kFail:
      return UpdateFailHtlc{id_, e.htlc_id, e.reason};
  }
  HASHLOCK_CHECK(false, "unknown update kind");
  return ErrorMessage{};
}

std::vector<CommitmentHtlc> Channel::commitment_htlcs(bool holder_is_us,
                                                      const ChannelState& state) const {
  std::vector<CommitmentHtlc> out;
  out.reserve(state.htlcs.size());
  for (const auto& [key, h] : state.htlcs) {
    out.push_back(CommitmentHtlc{.offered_by_holder = h.offered_by_us == holder_is_us,
                                 .id = h.id,
                                 .amount = h.amount,
                                 .payment_hash = h.payment_hash,
                                 .cltv_expiry = h.cltv_expiry,
                                 .source = h.source});
  }
  return out;
}

util::Sha256Digest Channel::commitment_digest(bool holder_is_us, const CommitmentView& view) const {
  const ChannelState state = state_at(view);
  codec::ByteWriter w;
  w.raw(id_.view());
  w.u64(view.number);
  w.u8(holder_is_us == is_opener_ ? 1 : 0);
  w.u64((holder_is_us ? state.to_us : state.to_them).value());
  w.u64((holder_is_us ? state.to_them : state.to_us).value());
  for (bool offered_by_holder : {true, false}) {
    for (const auto& [key, h] : state.htlcs) {
      if ((h.offered_by_us == holder_is_us) != offered_by_holder) continue;
      w.u8(offered_by_holder ? 1 : 0);
      w.u64(h.id.value());
      w.u64(h.amount.value());
      w.raw(h.payment_hash.view());
      w.u32(h.cltv_expiry);
    }
  }
  return util::sha256(w.bytes());
}

CommitmentSigned Channel::commitment_message() const {
  return CommitmentSigned{id_, remote_.number, commitment_digest(false, remote_)};
}

RevokeAndAck Channel::revoke_message(uint64_t revoked) const {
  return RevokeAndAck{id_, revoked, secret_for_commitment(seed_, revoked),
                      commitment_point(secret_for_commitment(seed_, revoked + 2))};
}

ChannelOutput Channel::flush(bool monitor_pending) {
  ChannelOutput out;
  if (!is_open() || !connected_) return out;
  if (!awaiting_raa_ && !monitor_pending) send_batch(out);
  // Our shutdown follows every add of ours: none may come after it.
  const bool add_waiting = std::any_of(holding_cell_.begin(), holding_cell_.end(),
                                       [](const LogEntry& e) { return e.kind == UpdateKind::kAdd; });
  if (shutdown_wanted_ && !shutdown_sent_ && !add_waiting) {
    out.messages.push_back(Shutdown{id_});
    shutdown_sent_ = true;
  }
  return out;
}

void Channel::send_batch(ChannelOutput& out) {
  for (LogEntry& entry : holding_cell_) {
    out.messages.push_back(entry_message(entry));
    our_log_.push_back(std::move(entry));
  }
  holding_cell_.clear();
  if (our_log_end() == remote_.ours && local_.theirs == remote_.theirs) return;
  prev_remote_ours_ = remote_.ours;
  remote_ = CommitmentView{remote_.number + 1, our_log_end(), local_.theirs};
  awaiting_raa_ = true;
  raa_before_commitment_ = true;
  out.steps.push_back(LatestCounterpartyCommitment{
      remote_.number, commitment_htlcs(false, state_at(remote_)), counterparty_balances()});
  out.messages.push_back(commitment_message());
}

// --- peer messages ----------------------------------------------------------

util::Result<ChannelOutput> Channel::on_update_add(const UpdateAddHtlc& msg) {
  if (!is_open() || !connected_)
    return peer_error(id_, "update_add_htlc on a channel that is not open");
  if (!ready()) return peer_error(id_, "update_add_htlc before channel_ready");
  if (shutdown_received_) return peer_error(id_, "update_add_htlc after shutdown");
  if (msg.htlc_id.value() != their_next_htlc_id_) {
    return peer_error(id_, "update_add_htlc has id " + std::to_string(msg.htlc_id.value()) +
                               ", expected " + std::to_string(their_next_htlc_id_));
  }
  if (their_log_.size() >= kMaxLogEntries) return peer_error(id_, "too many uncommitted updates");
  // The peer's worst case: all of its updates with only those of ours it has acknowledged.
  util::Status fits = check_new_htlc(
      totals_of(cached_state_after(our_acked_, their_log_end()), false), msg.amount, false);
  if (!fits.is_ok()) return peer_error(id_, "update_add_htlc: " + fits.message());
  their_log_.push_back(LogEntry{.kind = UpdateKind::kAdd,
                                .htlc_id = msg.htlc_id,
                                .amount = msg.amount,
                                .payment_hash = msg.payment_hash,
                                .cltv_expiry = msg.cltv_expiry,
                                .onion = msg.onion,
                                .skimmed_fee = msg.skimmed_fee});
  ++their_next_htlc_id_;
  return ChannelOutput{};
}

util::Result<ChannelOutput> Channel::on_update_fulfill(const UpdateFulfillHtlc& msg) {
  if (!is_open() || !connected_)
    return peer_error(id_, "update_fulfill_htlc on a channel that is not open");
  if (removal_pending(true, msg.htlc_id))
    return peer_error(id_, "update_fulfill_htlc for " + msg.htlc_id.to_string() +
                               " which is already being removed");
  util::Status valid = check_removal(false, msg.htlc_id, nullptr, &msg.preimage);
  if (!valid.is_ok()) return peer_error(id_, "update_fulfill_htlc: " + valid.message());
  if (their_log_.size() >= kMaxLogEntries) return peer_error(id_, "too many uncommitted updates");
  their_log_.push_back(
      LogEntry{.kind = UpdateKind::kFulfill, .htlc_id = msg.htlc_id, .preimage = msg.preimage});
  ChannelOutput out;
  out.steps.push_back(PaymentPreimageStep{msg.preimage});
  return out;
}

util::Result<ChannelOutput> Channel::on_update_fail(const UpdateFailHtlc& msg) {
  if (!is_open() || !connected_)
    return peer_error(id_, "update_fail_htlc on a channel that is not open");
  if (removal_pending(true, msg.htlc_id))
    return peer_error(
        id_, "update_fail_htlc for " + msg.htlc_id.to_string() + " which is already being removed");
  util::Status valid = check_removal(false, msg.htlc_id, nullptr, nullptr);
  if (!valid.is_ok()) return peer_error(id_, "update_fail_htlc: " + valid.message());
  if (their_log_.size() >= kMaxLogEntries) return peer_error(id_, "too many uncommitted updates");
  their_log_.push_back(
      LogEntry{.kind = UpdateKind::kFail, .htlc_id = msg.htlc_id, .reason = msg.reason});
  return ChannelOutput{};
}

util::Result<ChannelOutput> Channel::on_commitment_signed(const CommitmentSigned& msg) {
  if (!is_open() || !connected_)
    return peer_error(id_, "commitment_signed on a channel that is not open");
  if (msg.commitment_number != local_.number + 1) {
    return peer_error(id_, "commitment_signed for commitment " +
                               std::to_string(msg.commitment_number) + ", expected " +
                               std::to_string(local_.number + 1));
  }
  const CommitmentView next{local_.number + 1, our_acked_, their_log_end()};
  if (commitment_digest(true, next) != msg.signature) {
    return peer_error(id_, std::string(kSignatureMismatch) + " " + std::to_string(next.number));
  }
  const ChannelState state = state_at(next);
  if (state.htlcs.size() > kMaxHtlcsPerCommitment)
    return peer_error(id_, "commitment holds too many HTLCs");

  LatestHolderCommitment holder{
      .commitment_number = next.number,
      .htlcs = commitment_htlcs(true, state),
      .to_holder = state.to_us,
      .to_counterparty = state.to_them,
      .per_commitment_point = commitment_point(secret_for_commitment(seed_, next.number))};
  for (uint64_t i = local_.theirs; i < next.theirs; ++i) {
    const LogEntry& e = their_entry(i);
    if (e.kind == UpdateKind::kFulfill)
      holder.claimed_htlcs.push_back(ClaimedHtlc{e.htlc_id, e.preimage, e.skimmed_fee});
    if (e.kind == UpdateKind::kFail) holder.failed_htlcs.push_back(FailedHtlc{e.htlc_id, e.reason});
  }
  const uint64_t revoked = local_.number;
  local_ = next;
  raa_before_commitment_ = false;
  ChannelOutput out;
  out.steps.push_back(std::move(holder));
  out.messages.push_back(revoke_message(revoked));
  compact();
  return out;
}

util::Result<ChannelOutput> Channel::on_revoke_and_ack(const RevokeAndAck& msg) {
  if (!is_open() || !connected_)
    return peer_error(id_, "revoke_and_ack on a channel that is not open");
  if (!awaiting_raa_) return peer_error(id_, "unexpected revoke_and_ack");
  if (msg.revoked_commitment_number + 1 != remote_.number) {
    return peer_error(id_, "revoke_and_ack revokes commitment " +
                               std::to_string(msg.revoked_commitment_number) + ", expected " +
                               std::to_string(remote_.number - 1));
  }
  auto point = their_points_.find(msg.revoked_commitment_number);
  if (point == their_points_.end() ||
      commitment_point(msg.per_commitment_secret) != point->second) {
    return peer_error(id_, std::string(kWrongSecret) + " for commitment " +
                               std::to_string(msg.revoked_commitment_number));
  }
  CommitmentSecretStore secrets = their_secrets_;
  util::Status inserted =
      secrets.insert(shachain_index(msg.revoked_commitment_number), msg.per_commitment_secret);
  if (!inserted.is_ok()) return peer_error(id_, inserted.message());

  their_secrets_ = secrets;
  awaiting_raa_ = false;
  our_acked_ = remote_.ours;
  their_points_[msg.revoked_commitment_number + 2] = msg.next_point;
  their_points_.erase(their_points_.begin(), their_points_.lower_bound(remote_.number));
  ChannelOutput out;
  out.steps.push_back(
      CommitmentSecretStep{msg.revoked_commitment_number, msg.per_commitment_secret});
  report_irrevocable(out, their_committed_, our_removed_reported_);
  compact();
  return out;
}

void Channel::report_irrevocable(ChannelOutput& out, uint64_t old_their_committed,
                                 uint64_t old_our_removed) {
  for (uint64_t i = old_their_committed; i < remote_.theirs; ++i) {
    const LogEntry& e = their_entry(i);
    if (e.kind == UpdateKind::kAdd) {
      out.inbound_committed.push_back(
          InboundHtlc{e.htlc_id, e.amount, e.payment_hash, e.cltv_expiry, e.onion, e.skimmed_fee});
    }
  }
  their_committed_ = std::max(their_committed_, remote_.theirs);
  for (uint64_t i = old_our_removed; i < our_acked_; ++i) {
    const LogEntry& e = our_entry(i);
    if (e.kind != UpdateKind::kAdd) out.inbound_removed.push_back(e.htlc_id);
  }
  our_removed_reported_ = std::max(our_removed_reported_, our_acked_);
}

void Channel::compact() {
  uint64_t fold_ours = std::min({local_.ours, remote_.ours, our_removed_reported_});
  if (awaiting_raa_) fold_ours = std::min(fold_ours, prev_remote_ours_);
  const uint64_t fold_theirs = std::min({local_.theirs, remote_.theirs, their_committed_});
  if (fold_ours == base_ours_ && fold_theirs == base_theirs_) return;
  base_ = state_after(fold_ours, fold_theirs);
  ++log_version_;
  our_log_.erase(our_log_.begin(),
                 our_log_.begin() + static_cast<std::ptrdiff_t>(fold_ours - base_ours_));
  their_log_.erase(their_log_.begin(),
                   their_log_.begin() + static_cast<std::ptrdiff_t>(fold_theirs - base_theirs_));
  base_ours_ = fold_ours;
  base_theirs_ = fold_theirs;
}

// --- reconnection -----------------------------------------------------------

void Channel::on_disconnect() {
  connected_ = false;
  // Closing negotiation starts again after the reconnection.
  if (!closing_fee_) closing_proposal_sent_ = false;
  ++log_version_;
  ++log_rewinds_;
  // Updates from the peer that no commitment_signed covered are forgotten by
  // both sides; the peer sends them again with their commitment.
  while (their_log_end() > local_.theirs) {
    if (their_log_.back().kind == UpdateKind::kAdd) --their_next_htlc_id_;
    their_log_.pop_back();
  }
}

ChannelReestablish Channel::reestablish_message() const {
  return ChannelReestablish{id_, local_.number + 1, remote_.number - (awaiting_raa_ ? 1 : 0)};
}

util::Result<ChannelOutput> Channel::on_reestablish(const ChannelReestablish& msg) {
  if (!is_open()) return peer_error(id_, "channel_reestablish on a channel that is not open");
  const uint64_t peer_local = msg.next_commitment_number - 1;
  const bool resend_commitment = awaiting_raa_ && peer_local + 1 == remote_.number;
  if (!resend_commitment && peer_local != remote_.number) {
    return peer_error(id_, "peer holds commitment " + std::to_string(peer_local) +
                               " but we signed " + std::to_string(remote_.number) +
                               ": one side lost state");
  }
  const bool resend_revoke = local_.number > 0 && msg.revocations_received + 1 == local_.number;
  if (!resend_revoke && msg.revocations_received != local_.number) {
    return peer_error(id_, "peer received " + std::to_string(msg.revocations_received) +
                               " revocations but we sent " + std::to_string(local_.number));
  }
  connected_ = true;
  ChannelOutput out;
  auto push_commitment = [&] {
    for (uint64_t i = prev_remote_ours_; i < remote_.ours; ++i)
      out.messages.push_back(entry_message(our_entry(i)));
    out.messages.push_back(commitment_message());
  };
  // Resend in the order they were first sent.
  const bool revoke_first = raa_before_commitment_;
  if (resend_revoke && (revoke_first || !resend_commitment))
    out.messages.push_back(revoke_message(local_.number - 1));
  if (resend_commitment) push_commitment();
  if (resend_revoke && !revoke_first && resend_commitment)
    out.messages.push_back(revoke_message(local_.number - 1));
  return out;
}

}  // namespace hashlock::ln
