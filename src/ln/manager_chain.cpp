// ChannelManager: what the chain decides (funding depth, HTLC expiries) and
// how channels close (cooperative close, unrecoverable peer errors). See
// manager.h and docs/architecture.md, "Opening and closing".
#include <tuple>
#include <utility>

#include "ln/manager.h"
#include "ln/onion.h"

namespace hashlock::ln {

util::Status ChannelManager::close_channel(const ChannelId& channel_id) {
  return in_round([&] { return close_channel_now(channel_id); });
}

util::Status ChannelManager::close_channel_now(const ChannelId& channel_id) {
  if (!fatal_.is_ok()) return fatal_;
  ChannelEntry* entry = find(channel_id);
  if (entry == nullptr) return util::not_found("no channel " + channel_id.to_hex());
  if (!entry->channel.is_open()) {
    return util::failed_precondition("channel " + channel_id.to_hex() + " is not open");
  }
  if (entry->channel.shutdown_wanted()) return util::Status::ok();  // already closing
  HASHLOCK_RETURN_IF_ERROR(entry->channel.shutdown());
  closing_.insert(channel_id);
  HASHLOCK_RETURN_IF_ERROR(persist());
  HASHLOCK_RETURN_IF_ERROR(flush(*entry));
  return advance_close(*entry);
}

util::Status ChannelManager::advance_close(ChannelEntry& entry) {
  Channel& channel = entry.channel;
  if (!channel.is_opener() || !channel.ready_to_close() || channel.closing_proposal_sent() ||
      !entry.in_flight.empty()) {
    return util::Status::ok();
  }
  HASHLOCK_ASSIGN_OR_RETURN(
      ClosingSigned proposal,
      channel.propose_closing(node_key(config_.node_id), config_.channel_config.closing_fee));
  HASHLOCK_RETURN_IF_ERROR(persist());
  send_to(channel.peer(), proposal);
  return util::Status::ok();
}

util::Status ChannelManager::advance_closes() {
  for (auto it = closing_.begin(); it != closing_.end();) {
    ChannelEntry* entry = find(*it);
    if (entry == nullptr || !entry->channel.is_open()) {
      it = closing_.erase(it);
      continue;
    }
    HASHLOCK_RETURN_IF_ERROR(advance_close(*entry));
    ++it;
  }
  return util::Status::ok();
}

util::Status ChannelManager::finish_cooperative_close(ChannelEntry& entry,
                                                      const std::string& reason) {
  Channel& channel = entry.channel;
  channel.mark_closed();
  closing_.erase(channel.id());
  ++stats_.cooperative_closes;
  queue_event(ChannelClosed{channel.id(), reason}, {});
  HASHLOCK_RETURN_IF_ERROR(persist());
  // Closed by the transaction on chain, before the peer's answer reached us:
  // nothing to broadcast.
  if (!channel.funding_outpoint() || !channel.closing_fee()) return util::Status::ok();
  // Both sides broadcast; the second copy is the same transaction. It may
  // leave before the round's write is durable: it pays only the final
  // balances both signed (no HTLC is left), and a restart that lost the
  // agreement closes the channel when the transaction confirms.
  HASHLOCK_ASSIGN_OR_RETURN(chain::Transaction tx, channel.closing_tx(node_key(config_.node_id)));
  util::Status sent = chain_monitor_->broadcast(tx);
  (void)sent;  // rebroadcast at every new tip until the funding output is spent
  return util::Status::ok();
}

util::Result<bool> ChannelManager::handle_close_message(ChannelEntry& entry,
                                                        const Message& message) {
  Channel& channel = entry.channel;
  const chain::PublicKey our_key = node_key(config_.node_id);
  if (const auto* ready = std::get_if<ChannelReady>(&message)) {
    if (!channel.is_open()) return true;  // closed meanwhile: nothing to do
    HASHLOCK_RETURN_IF_ERROR(channel.on_channel_ready(*ready));
    HASHLOCK_RETURN_IF_ERROR(persist());
    HASHLOCK_RETURN_IF_ERROR(flush(entry));
    return true;
  }
  if (const auto* shutdown = std::get_if<Shutdown>(&message)) {
    if (!channel.is_open()) return true;  // a repeat after we closed
    HASHLOCK_RETURN_IF_ERROR(channel.on_shutdown(*shutdown));
    HASHLOCK_RETURN_IF_ERROR(channel.shutdown());  // our answer, unless we asked first
    closing_.insert(channel.id());
    HASHLOCK_RETURN_IF_ERROR(persist());
    HASHLOCK_RETURN_IF_ERROR(flush(entry));
    HASHLOCK_RETURN_IF_ERROR(advance_close(entry));
    return true;
  }
  const auto* closing = std::get_if<ClosingSigned>(&message);
  if (closing == nullptr) return false;
  if (!channel.is_open()) {
    // The opener asks again: it did not get our answer before a reconnection.
    if (!channel.closing_fee() || channel.is_opener()) return true;
    HASHLOCK_ASSIGN_OR_RETURN(ClosingSigned answer, channel.closing_answer(our_key));
    if (answer.fee == closing->fee) send_to(channel.peer(), answer);
    return true;
  }
  HASHLOCK_ASSIGN_OR_RETURN(
      std::optional<ClosingSigned> answer,
      channel.on_closing_signed(*closing, our_key, config_.channel_config.max_closing_fee));
  if (answer) send_to(channel.peer(), *answer);  // leaves after the closed state is durable
  HASHLOCK_RETURN_IF_ERROR(finish_cooperative_close(entry, "cooperative close"));
  return true;
}

util::Status ChannelManager::fail_channel(ChannelEntry& entry, const util::Status& error) {
  send_to(entry.channel.peer(), ErrorMessage{entry.channel.id(), error.message()});
  ++stats_.peer_error_force_closes;
  return force_close(entry, "unrecoverable peer error: " + error.message(),
                     /*keep_in_flight=*/true);
}

// --- the chain tip ----------------------------------------------------------------

util::Status ChannelManager::on_chain_tip() {
  const uint64_t height = chain_monitor_->best_height();
  const chain::PublicKey our_key = node_key(config_.node_id);
  // Read through a const view: only the channels acted on are marked changed.
  const auto& channels = std::as_const(channels_);
  std::vector<ChannelId> now_ready;
  std::vector<ChannelId> closed_on_chain;
  for (const auto& [id, entry] : channels) {
    const ChannelMonitor* monitor = chain_monitor_->get(id);
    if (monitor == nullptr) continue;
    if (entry.channel.awaiting_funding_depth() &&
        monitor->funding_confirmations() >= config_.min_funding_depth) {
      now_ready.push_back(id);
    }
    // The closing transaction confirmed while we waited for the answer.
    if (entry.channel.is_open() &&
        monitor->funding_spend_kind() == FundingSpendKind::kCooperativeClose) {
      closed_on_chain.push_back(id);
    }
  }
  for (const ChannelId& id : now_ready) {
    ChannelEntry& entry = *find(id);
    ChannelReady ready = entry.channel.mark_funding_confirmed();
    HASHLOCK_RETURN_IF_ERROR(persist());
    send_to(entry.channel.peer(), ready);
  }
  for (const ChannelId& id : closed_on_chain) {
    HASHLOCK_RETURN_IF_ERROR(
        finish_cooperative_close(*find(id), "cooperative close confirmed on chain"));
  }
  if (checked_height_ == height) return util::Status::ok();
  checked_height_ = height;
  if (height == 0) return util::Status::ok();
  for (const auto& [id, entry] : channels) {
    const ChannelMonitor* monitor = chain_monitor_->get(id);
    if (entry.channel.phase() != ChannelPhase::kClosed || !entry.channel.closing_fee() ||
        monitor == nullptr || monitor->funding_spent()) {
      continue;
    }
    auto tx = entry.channel.closing_tx(our_key);
    if (tx.is_ok()) (void)chain_monitor_->broadcast(*tx);
  }
  HASHLOCK_RETURN_IF_ERROR(check_htlc_expiries(height));
  HASHLOCK_RETURN_IF_ERROR(fail_back_near_expiry(height));
  return fail_claimables_near_expiry(height);
}

std::optional<uint32_t> ChannelManager::earliest_expiry(const ClaimablePayment& payment) const {
  std::optional<uint32_t> earliest;
  for (const ClaimableHtlc& htlc : payment.htlcs) {
    auto entry = channels_.find(htlc.channel_id);
    if (entry == channels_.end() || !entry->second.channel.is_open() || htlc.removed) continue;
    const std::optional<Htlc> inbound = entry->second.channel.inbound_htlc(htlc.htlc_id);
    if (inbound && (!earliest || inbound->cltv_expiry < *earliest)) earliest = inbound->cltv_expiry;
  }
  return earliest;
}

util::Status ChannelManager::fail_claimables_near_expiry(uint64_t height) {
  if (config_.late_claims) return util::Status::ok();
  std::vector<PaymentHash> to_fail;
  for (const auto& [hash, payment] : std::as_const(claimable_)) {
    if (payment.state != ClaimState::kWaiting && payment.state != ClaimState::kClaimable) continue;
    const std::optional<uint32_t> expiry = earliest_expiry(payment);
    if (expiry && *expiry <= height + kLastClaimBlocks) to_fail.push_back(hash);
  }
  for (const PaymentHash& hash : to_fail) {
    ++stats_.claimables_failed_near_expiry;
    HASHLOCK_RETURN_IF_ERROR(fail_htlc_backwards_now(hash));
  }
  return util::Status::ok();
}

util::Status ChannelManager::check_htlc_expiries(uint64_t height) {
  std::vector<std::pair<ChannelId, std::string>> to_close;
  for (const auto& [id, entry] : std::as_const(channels_)) {
    if (!entry.channel.is_open() || !entry.channel.funding_outpoint()) continue;
    std::optional<std::string> why =
        entry.channel.htlc_needing_chain(height, kHtlcExpiryGraceBlocks, kClaimBufferBlocks);
    if (why) to_close.emplace_back(id, *why);
  }
  for (const auto& [id, why] : to_close) {
    ++stats_.expiry_force_closes;
    HASHLOCK_RETURN_IF_ERROR(force_close(*find(id), "the chain must settle an HTLC: " + why,
                                         /*keep_in_flight=*/true));
  }
  return util::Status::ok();
}

util::Status ChannelManager::fail_back_near_expiry(uint64_t height) {
  // Forwards whose outbound HTLC waits on a closed channel's chain: the
  // inbound HTLC is failed back before its expiry, so the upstream peer
  // need not close too. Once: a failed-back HTLC is no longer committed.
  std::vector<std::tuple<PreviousHop, PaymentHash, FailureReason>> to_fail;
  for (const auto& [id, entry] : std::as_const(channels_)) {
    if (entry.channel.phase() != ChannelPhase::kClosed) continue;
    const ChannelMonitor* monitor = chain_monitor_->get(id);
    if (monitor == nullptr) continue;
    for (const ChannelMonitor::UnresolvedHtlc& htlc : monitor->unresolved_outbound()) {
      const auto* prev = std::get_if<PreviousHop>(&htlc.source);
      if (prev == nullptr) continue;
      auto in = std::as_const(channels_).find(prev->channel_id);
      if (in == channels_.end() || !in->second.channel.is_open() ||
          in->second.channel.htlc_state(false, prev->htlc_id) != HtlcState::kCommitted) {
        continue;
      }
      std::optional<Htlc> inbound = in->second.channel.inbound_htlc(prev->htlc_id);
      if (!inbound || static_cast<uint64_t>(inbound->cltv_expiry) > height + kFailBackBufferBlocks) {
        continue;
      }
      auto payload = decode_payload(inbound->onion);
      const uint32_t hop = payload.is_ok() ? payload->hop_index : 0;
      to_fail.emplace_back(*prev, inbound->payment_hash,
                           FailureReason{FailureCode::kPermanentChannelFailure, hop, {}});
    }
  }
  for (const auto& [prev, hash, reason] : to_fail) {
    ++stats_.failed_back_near_expiry;
    HASHLOCK_RETURN_IF_ERROR(fail_inbound(prev.channel_id, prev.htlc_id, hash, reason));
  }
  return util::Status::ok();
}

}  // namespace hashlock::ln
