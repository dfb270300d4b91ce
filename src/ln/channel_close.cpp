// Channel: funding depth and the cooperative close (see channel.h).
#include "codec/tlv.h"
#include "ln/channel.h"

namespace hashlock::ln {
namespace {

util::Status peer_error(const ChannelId& id, const std::string& problem) {
  return util::protocol_error("channel " + id.to_hex().substr(0, 16) + ": " + problem);
}

// Keeps a closing digest apart from a commitment digest of the same channel.
constexpr uint8_t kClosingDigestTag = 0xc1;

}  // namespace

// --- funding ------------------------------------------------------------------

ChannelReady Channel::mark_funding_confirmed() {
  ready_sent_ = true;
  return ChannelReady{id_};
}

std::optional<ChannelReady> Channel::ready_to_resend() const {
  if (!is_open() || !ready_sent_) return std::nullopt;
  return ChannelReady{id_};
}

util::Status Channel::on_channel_ready(const ChannelReady&) {
  if (!is_open()) return peer_error(id_, "channel_ready on a channel that is not open");
  if (!funding_outpoint_) return peer_error(id_, "channel_ready on a channel without a funding output");
  ready_received_ = true;  // a repeat after a reconnection changes nothing
  return util::Status::ok();
}

// --- cooperative close ----------------------------------------------------------

util::Status Channel::shutdown() {
  if (!is_open()) return util::failed_precondition("channel is not open");
  shutdown_wanted_ = true;
  return util::Status::ok();
}

util::Status Channel::on_shutdown(const Shutdown&) {
  if (!is_open()) return peer_error(id_, "shutdown on a channel that is not open");
  shutdown_received_ = true;  // a repeat after a reconnection changes nothing
  return util::Status::ok();
}

bool Channel::ready_to_close() const {
  return is_open() && connected_ && shutdown_sent_ && shutdown_received_ && !closing_fee_ &&
         holding_cell_.empty() && !awaiting_raa_ && remote_.ours == our_log_end() &&
         local_.ours == our_log_end() && local_.theirs == their_log_end() &&
         remote_.theirs == their_log_end() && pending_htlcs() == 0;
}

util::Sha256Digest Channel::closing_signature(const chain::PublicKey& our_key,
                                              AmountMsat fee) const {
  if (auto tx = closing_tx_for(our_key, fee); tx.is_ok()) {
    return tx->txid().bytes();
  }
  // Without a funding output (or with a fee the balances cannot pay): the
  // balances each side gets, in the opener's order.
  const ChannelState state = latest_state();
  codec::TlvWriter w;
  w.u64(0, kClosingDigestTag)
      .bytes32(2, id_)
      .amount(4, is_opener_ ? state.to_us : state.to_them)
      .amount(6, is_opener_ ? state.to_them : state.to_us)
      .amount(8, fee);
  return util::sha256(w.encoded());
}

util::Result<chain::Transaction> Channel::closing_tx_for(const chain::PublicKey& our_key,
                                                         AmountMsat fee) const {
  std::optional<ChannelTxParams> params = tx_params(our_key);
  if (!params) return util::failed_precondition("channel has no funding output");
  const ChannelState state = latest_state();
  return build_closing_tx(*params, state.to_us, state.to_them, fee, is_opener_);
}

util::Result<chain::Transaction> Channel::closing_tx(const chain::PublicKey& our_key) const {
  if (!closing_fee_) return util::failed_precondition("no closing fee agreed");
  return closing_tx_for(our_key, *closing_fee_);
}

util::Result<ClosingSigned> Channel::propose_closing(const chain::PublicKey& our_key,
                                                     AmountMsat fee) {
  if (!is_opener_) return util::failed_precondition("only the opener proposes the closing fee");
  if (!ready_to_close()) return util::failed_precondition("channel is not ready to close");
  if (closing_proposal_sent_) return util::failed_precondition("closing fee already proposed");
  const AmountMsat balance = latest_state().to_us;
  const AmountMsat paid = fee < balance ? fee : balance;
  if (funding_outpoint_) HASHLOCK_RETURN_IF_ERROR(closing_tx_for(our_key, paid).status());
  closing_proposed_ = paid;
  closing_proposal_sent_ = true;
  return ClosingSigned{id_, paid, closing_signature(our_key, paid)};
}

util::Result<std::optional<ClosingSigned>> Channel::on_closing_signed(
    const ClosingSigned& msg, const chain::PublicKey& our_key, AmountMsat max_fee) {
  if (closing_fee_) {
    // A repeat: the opener did not get our answer before a reconnection.
    if (msg.fee != *closing_fee_) {
      return peer_error(id_, "closing_signed for fee " + msg.fee.to_string() + " after agreeing to " +
                                 closing_fee_->to_string());
    }
    if (is_opener_) return std::optional<ClosingSigned>();
    return std::optional<ClosingSigned>(ClosingSigned{id_, msg.fee, closing_signature(our_key, msg.fee)});
  }
  if (!ready_to_close()) {
    return peer_error(id_, "closing_signed before both shutdowns, or with updates pending");
  }
  if (msg.signature != closing_signature(our_key, msg.fee)) {
    return peer_error(id_, "closing_signed does not match our closing transaction");
  }
  if (is_opener_) {
    if (!closing_proposal_sent_) return peer_error(id_, "closing_signed before our proposal");
    if (msg.fee != closing_proposed_) {
      return peer_error(id_, "closing_signed answers fee " + msg.fee.to_string() + " to our " +
                                 closing_proposed_.to_string());
    }
    closing_fee_ = msg.fee;
    return std::optional<ClosingSigned>();
  }
  if (msg.fee > max_fee) {
    return peer_error(id_, "closing fee " + msg.fee.to_string() + " exceeds our maximum " +
                               max_fee.to_string());
  }
  if (msg.fee > latest_state().to_them) {
    return peer_error(id_, "closing fee " + msg.fee.to_string() + " exceeds the opener's balance");
  }
  if (funding_outpoint_) HASHLOCK_RETURN_IF_ERROR(closing_tx_for(our_key, msg.fee).status());
  closing_fee_ = msg.fee;
  return std::optional<ClosingSigned>(ClosingSigned{id_, msg.fee, msg.signature});
}

util::Result<ClosingSigned> Channel::closing_answer(const chain::PublicKey& our_key) const {
  if (!closing_fee_) return util::failed_precondition("no closing fee agreed");
  return ClosingSigned{id_, *closing_fee_, closing_signature(our_key, *closing_fee_)};
}

// --- expiries --------------------------------------------------------------------

std::optional<std::string> Channel::htlc_needing_chain(uint64_t height, uint32_t grace,
                                                       uint32_t claim_buffer) const {
  std::map<std::pair<bool, uint64_t>, Htlc> committed;
  for (const ChannelState& state : {state_at(local_), state_at(remote_)}) {
    for (const auto& [key, htlc] : state.htlcs) committed.emplace(key, htlc);
  }
  auto fulfilling = [&](HtlcId id) {
    auto fulfills = [&](const LogEntry& e) {
      return e.kind == UpdateKind::kFulfill && e.htlc_id == id;
    };
    return std::any_of(our_log_.begin(), our_log_.end(), fulfills) ||
           std::any_of(holding_cell_.begin(), holding_cell_.end(), fulfills);
  };
  for (const auto& [key, htlc] : committed) {
    const uint64_t expiry = htlc.cltv_expiry;
    if (htlc.offered_by_us) {
      if (!removal_pending(true, htlc.id) && expiry + grace <= height) {
        return "our " + htlc.id.to_string() + " expired at height " + std::to_string(expiry) +
               " and is unresolved at " + std::to_string(height);
      }
    } else if (fulfilling(htlc.id) && expiry <= height + claim_buffer) {
      return "their " + htlc.id.to_string() + ", which we are claiming, expires at height " +
             std::to_string(expiry) + " and the claim is unacknowledged at " +
             std::to_string(height);
    }
  }
  return std::nullopt;
}

std::optional<Htlc> Channel::inbound_htlc(HtlcId id) const {
  const ChannelState state = latest_state();
  auto it = state.htlcs.find({false, id.value()});
  if (it == state.htlcs.end()) return std::nullopt;
  return it->second;
}

}  // namespace hashlock::ln
