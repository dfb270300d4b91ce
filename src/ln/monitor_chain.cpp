// ChannelMonitor: resolving a channel on chain (see monitor.h).
#include <algorithm>

#include "ln/monitor.h"

namespace hashlock::ln {

std::string balance_kind_name(BalanceKind kind) {
  switch (kind) {
    case BalanceKind::kOnChannelClose:
      return "claimable_on_channel_close";
    case BalanceKind::kAwaitingConfirmations:
      return "claimable_awaiting_confirmations";
    case BalanceKind::kContentiousClaimable:
      return "contentious_claimable";
    case BalanceKind::kMaybeTimeoutClaimable:
      return "maybe_timeout_claimable_htlc";
    case BalanceKind::kRevokedOutputClaimable:
      return "counterparty_revoked_output_claimable";
  }
  return "unknown";
}

std::string funding_spend_kind_name(FundingSpendKind kind) {
  switch (kind) {
    case FundingSpendKind::kHolderCommitment:
      return "holder_commitment";
    case FundingSpendKind::kCounterpartyCommitment:
      return "counterparty_commitment";
    case FundingSpendKind::kRevokedCommitment:
      return "revoked_commitment";
    case FundingSpendKind::kRevokedHolderCommitment:
      return "revoked_holder_commitment";
    case FundingSpendKind::kCooperativeClose:
      return "cooperative_close";
    case FundingSpendKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<FundingSpendKind> ChannelMonitor::funding_spend_kind() const {
  if (!chain_.funding_spend) return std::nullopt;
  return chain_.kind;
}

uint32_t ChannelMonitor::funding_confirmations() const {
  return confirmations(chain_.funding_height);
}

std::vector<ChannelMonitor::UnresolvedHtlc> ChannelMonitor::unresolved_outbound() const {
  std::vector<UnresolvedHtlc> out;
  for (const auto& [id, htlc] : outbound_) {
    if (!htlc.resolved) out.push_back(UnresolvedHtlc{HtlcId(id), htlc.source, htlc.payment_hash, htlc.amount});
  }
  return out;
}

bool ChannelMonitor::tracks_outbound(const HtlcSource& source) const {
  const SentHtlcId wanted = sent_htlc_id(source);
  return std::any_of(outbound_.begin(), outbound_.end(),
                     [&](const auto& entry) { return sent_htlc_id(entry.second.source) == wanted; });
}

bool ChannelMonitor::tracks_payment(const PaymentId& id) const {
  return outbound_payments_.count(id) > 0;
}

uint32_t ChannelMonitor::confirmations(uint64_t height) const {
  if (height == 0 || height > chain_.best_height) return 0;
  return static_cast<uint32_t>(chain_.best_height - height + 1);
}

std::optional<Secret> ChannelMonitor::revocation_secret(uint64_t number) const {
  const std::optional<uint64_t> lowest = secrets_.min_index();
  const uint64_t index = shachain_index(number);
  if (!lowest || index < *lowest) return std::nullopt;  // not revoked (yet)
  return secrets_.get(index);
}

void ChannelMonitor::block_connected(const chain::Block& block, chain::Broadcaster& broadcaster,
                                     const chain::FeeEstimator& fees) {
  const uint64_t height = block.header.height.value();
  if (height <= chain_.best_height) return;  // already seen (a replay)
  chain_.best_height = height;
  if (!tx_params_) return;
  for (const chain::Transaction& tx : block.transactions) {
    if (tx.txid() == tx_params_->funding_outpoint.txid) chain_.funding_height = height;
    for (const chain::TxIn& in : tx.inputs) {
      if (in.prevout == tx_params_->funding_outpoint) {
        on_funding_spend(tx, height);
      } else if (chain_.funding_spend && in.prevout.txid == chain_.funding_spend->tx.txid()) {
        chain_.output_spends[in.prevout.index] = ConfirmedTx{tx, height};
      }
    }
  }
  resolve_onchain();
  broadcast_claims(broadcaster, fees);
}

void ChannelMonitor::block_disconnected(const chain::BlockHeader& header) {
  const uint64_t height = header.height.value();
  if (height > chain_.best_height) return;
  chain_.best_height = height - 1;
  if (chain_.funding_height >= height) chain_.funding_height = 0;
  if (chain_.funding_spend && chain_.funding_spend->height >= height) {
    const uint64_t punishments = chain_.punishments;
    const uint64_t funding_height = chain_.funding_height;
    chain_ = ChainState{};
    chain_.best_height = height - 1;
    chain_.punishments = punishments;
    chain_.funding_height = funding_height;
    return;
  }
  for (auto it = chain_.output_spends.begin(); it != chain_.output_spends.end();) {
    it = it->second.height >= height ? chain_.output_spends.erase(it) : std::next(it);
  }
}

void ChannelMonitor::on_funding_spend(const chain::Transaction& tx, uint64_t height) {
  chain_.funding_spend = ConfirmedTx{tx, height};
  chain_.htlc_outputs.clear();
  chain_.output_spends.clear();
  chain_.kind = FundingSpendKind::kUnknown;
  closed_ = true;
  const chain::Txid txid = tx.txid();
  const uint64_t number = commitment_number_of(tx);
  chain_.commitment_number = number;
  auto holder = holder_commitment_tx();
  auto theirs = counterparty_commitment_tx(number);
  if (holder.is_ok() && holder->txid() == txid) {
    chain_.kind = FundingSpendKind::kHolderCommitment;
    map_htlc_outputs(holder_htlcs_, true, tx);
  } else if (tx.inputs.size() == 1 && tx.inputs[0].sequence == kCooperativeCloseSequence) {
    chain_.kind = FundingSpendKind::kCooperativeClose;
  } else if (number < holder_number_ && held_by_us(tx)) {
    // Our own revoked commitment: checked before theirs, whose revoked
    // numbers may coincide with ours.
    chain_.kind = FundingSpendKind::kRevokedHolderCommitment;
    map_offered_htlcs_by_value(tx);
  } else if (theirs.is_ok() && theirs->txid() == txid) {
    chain_.kind = FundingSpendKind::kCounterpartyCommitment;
    map_htlc_outputs(counterparty_commitments_.at(number), false, tx);
  } else if (revocation_secret(number)) {
    chain_.kind = FundingSpendKind::kRevokedCommitment;
    map_offered_htlcs_by_value(tx);
  }
  if (chain_.kind != FundingSpendKind::kCooperativeClose) {
    queue(MonitorEvent{kCommitmentConfirmedEventId, CommitmentTxConfirmed{}});
  }
}

bool ChannelMonitor::held_by_us(const chain::Transaction& tx) const {
  const chain::PublicKey& us = tx_params_->holder_key;
  const chain::PublicKey& them = tx_params_->counterparty_key;
  for (const chain::TxOut& output : tx.outputs) {
    const bool ours = std::visit(
        [&](const auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, chain::KeyCondition>) return c.key == them;
          if constexpr (std::is_same_v<T, chain::DelayedCondition>) return c.delayed_key == us;
          if constexpr (std::is_same_v<T, chain::HtlcCondition>) return c.revocation_key == them;
          return false;
        },
        output.condition);
    if (ours) return true;
  }
  return false;
}

void ChannelMonitor::map_offered_htlcs_by_value(const chain::Transaction& tx) {
  std::set<uint32_t> taken;
  for (const auto& [id, htlc] : outbound_) {
    for (uint32_t i = 0; i < tx.outputs.size(); ++i) {
      const auto* c = std::get_if<chain::HtlcCondition>(&tx.outputs[i].condition);
      if (c == nullptr || taken.count(i) > 0 || c->timeout_key != tx_params_->holder_key ||
          c->payment_hash != htlc.payment_hash || tx.outputs[i].value != htlc.amount)
        continue;
      taken.insert(i);
      chain_.htlc_outputs[{true, id}] = i;
      break;
    }
  }
}

void ChannelMonitor::map_htlc_outputs(const std::vector<CommitmentHtlc>& htlcs, bool holder_is_us,
                                      const chain::Transaction& tx) {
  // The commitment lists HTLC outputs as build_commitment_tx orders them.
  std::vector<const CommitmentHtlc*> sorted;
  for (const CommitmentHtlc& h : htlcs) sorted.push_back(&h);
  std::sort(sorted.begin(), sorted.end(), [](const CommitmentHtlc* a, const CommitmentHtlc* b) {
    if (a->offered_by_holder != b->offered_by_holder) return a->offered_by_holder;
    return a->id < b->id;
  });
  size_t next = 0;
  for (uint32_t i = 0; i < tx.outputs.size() && next < sorted.size(); ++i) {
    const auto* c = std::get_if<chain::HtlcCondition>(&tx.outputs[i].condition);
    if (c == nullptr) continue;
    const CommitmentHtlc& h = *sorted[next++];
    const bool offered_by_us = h.offered_by_holder == holder_is_us;
    chain_.htlc_outputs[{offered_by_us, h.id.value()}] = i;
  }
}

void ChannelMonitor::resolve_onchain() {
  if (!chain_.funding_spend) return;
  // Resolutions here (and preimages learnt) are no update's: the next
  // update's prune looks at everything.
  prune_all_ = true;
  const bool commitment_buried =
      confirmations(chain_.funding_spend->height) >= kAntiReorgDelayBlocks;
  const chain::Txid spend_txid = chain_.funding_spend->tx.txid();
  for (auto& [id, htlc] : outbound_) {
    if (htlc.resolved) continue;
    const FailureReason reason =
        htlc.fail_reason.value_or(FailureReason{FailureCode::kPermanentChannelFailure, 0, {}});
    if (auto preimage = preimage_for(htlc.payment_hash)) {
      resolve(HtlcId(id), htlc, ClaimedResolution{*preimage, AmountMsat(0)});
      continue;
    }
    auto output = chain_.htlc_outputs.find({true, id});
    if (output == chain_.htlc_outputs.end()) {
      // Not in the commitment that confirmed: it can never be claimed.
      if (commitment_buried) resolve(HtlcId(id), htlc, FailedResolution{reason});
      continue;
    }
    auto spend = chain_.output_spends.find(output->second);
    if (spend == chain_.output_spends.end()) continue;
    std::optional<PaymentPreimage> revealed;
    for (const chain::TxIn& in : spend->second.tx.inputs) {
      if (in.prevout == chain::OutPoint{spend_txid, output->second} &&
          in.witness.path == chain::SpendPath::kPreimage && in.witness.preimage &&
          in.witness.preimage->payment_hash() == htlc.payment_hash) {
        revealed = in.witness.preimage;
      }
    }
    if (revealed) {
      // The counterparty claimed it on chain: the preimage is ours now, at once.
      preimages_[htlc.payment_hash] = *revealed;
      resolve(HtlcId(id), htlc, ClaimedResolution{*revealed, AmountMsat(0)});
    } else if (confirmations(spend->second.height) >= kAntiReorgDelayBlocks) {
      resolve(HtlcId(id), htlc, FailedResolution{reason});
    }
  }
}

std::optional<chain::Witness> ChannelMonitor::claim_witness(const chain::TxOut& output,
                                                            uint32_t* sequence,
                                                            uint32_t* lock_time) const {
  // Our own revoked commitment is the counterparty's to take; racing it for
  // an output would only lose fees (and a cheater is owed nothing).
  if (chain_.kind == FundingSpendKind::kRevokedHolderCommitment) return std::nullopt;
  const chain::PublicKey& us = tx_params_->holder_key;
  const bool revoked = chain_.kind == FundingSpendKind::kRevokedCommitment;
  const std::optional<Secret> secret =
      revoked ? revocation_secret(chain_.commitment_number) : std::nullopt;
  auto sign = [&us](chain::SpendPath path) {
    return chain::Witness{path, {us}, std::nullopt, std::nullopt};
  };
  if (const auto* delayed = std::get_if<chain::DelayedCondition>(&output.condition)) {
    if (secret && delayed->revocation_key == us) {
      chain::Witness w = sign(chain::SpendPath::kRevocation);
      w.revocation_secret = *secret;
      return w;
    }
    if (delayed->delayed_key != us) return std::nullopt;
    *sequence = delayed->delay_blocks;
    if (chain_.funding_spend->height + delayed->delay_blocks > chain_.best_height + 1)
      return std::nullopt;  // not yet
    return sign(chain::SpendPath::kDelayed);
  }
  if (const auto* htlc = std::get_if<chain::HtlcCondition>(&output.condition)) {
    if (secret && htlc->revocation_key == us) {
      chain::Witness w = sign(chain::SpendPath::kRevocation);
      w.revocation_secret = *secret;
      return w;
    }
    if (htlc->claim_key == us) {
      auto preimage = preimage_for(htlc->payment_hash);
      if (!preimage) return std::nullopt;
      chain::Witness w = sign(chain::SpendPath::kPreimage);
      w.preimage = *preimage;
      return w;
    }
    if (htlc->timeout_key == us) {
      if (htlc->expiry >= chain_.best_height + 1) return std::nullopt;  // not final yet
      *lock_time = htlc->expiry;
      return sign(chain::SpendPath::kTimeout);
    }
  }
  return std::nullopt;  // key outputs are ours already; the rest is not ours
}

void ChannelMonitor::broadcast_claims(chain::Broadcaster& broadcaster,
                                      const chain::FeeEstimator& fees) {
  if (!chain_.funding_spend) {
    if (!closed_ || !should_broadcast_) return;
    auto commitment = holder_commitment_tx();
    if (commitment.is_ok()) (void)broadcaster.broadcast(*commitment);  // retried every block
    return;
  }
  const chain::Transaction& parent = chain_.funding_spend->tx;
  for (uint32_t i = 0; i < parent.outputs.size(); ++i) {
    if (chain_.output_spends.count(i) > 0) continue;
    uint32_t sequence = 0;
    uint32_t lock_time = 0;
    std::optional<chain::Witness> witness = claim_witness(parent.outputs[i], &sequence, &lock_time);
    if (!witness) continue;
    const bool punishment = witness->path == chain::SpendPath::kRevocation;
    auto sweep = build_sweep_tx(parent, i, std::move(*witness), sequence, lock_time,
                                tx_params_->holder_key, fees);
    if (!sweep.is_ok()) continue;
    // Refusals (a rival spend, a lock not reached) are retried on the next block.
    if (broadcaster.broadcast(*sweep).is_ok() && punishment && chain_.punished.insert(i).second) {
      ++chain_.punishments;
    }
  }
}

std::vector<ClaimableBalance> ChannelMonitor::claimable_balances() const {
  std::vector<ClaimableBalance> out;
  if (!tx_params_) return out;
  if (!chain_.funding_spend) {
    if (to_holder_.value() > 0) out.push_back({BalanceKind::kOnChannelClose, to_holder_, 0});
    return out;
  }
  // Nothing of our own revoked commitment is ours (see claim_witness).
  if (chain_.kind == FundingSpendKind::kRevokedHolderCommitment) return out;
  const chain::Transaction& parent = chain_.funding_spend->tx;
  const chain::PublicKey& us = tx_params_->holder_key;
  const uint64_t buried_at = chain_.funding_spend->height + kAntiReorgDelayBlocks - 1;
  const bool revoked = chain_.kind == FundingSpendKind::kRevokedCommitment;
  for (uint32_t i = 0; i < parent.outputs.size(); ++i) {
    const chain::TxOut& output = parent.outputs[i];
    auto spend = chain_.output_spends.find(i);
    if (spend != chain_.output_spends.end()) {
      // Spent: still listed while our sweep is not buried.
      const chain::Transaction& sweep = spend->second.tx;
      const bool ours = sweep.outputs.size() == 1 &&
                        std::holds_alternative<chain::KeyCondition>(sweep.outputs[0].condition) &&
                        std::get<chain::KeyCondition>(sweep.outputs[0].condition).key == us;
      const uint64_t sweep_buried = spend->second.height + kAntiReorgDelayBlocks - 1;
      if (ours && chain_.best_height < sweep_buried) {
        out.push_back({BalanceKind::kAwaitingConfirmations, sweep.outputs[0].value, sweep_buried});
      }
      continue;
    }
    std::visit(
        [&](const auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, chain::KeyCondition>) {
            if (c.key == us && chain_.best_height < buried_at)
              out.push_back({BalanceKind::kAwaitingConfirmations, output.value, buried_at});
          } else if constexpr (std::is_same_v<T, chain::DelayedCondition>) {
            if (revoked && c.revocation_key == us) {
              out.push_back({BalanceKind::kRevokedOutputClaimable, output.value, 0});
            } else if (c.delayed_key == us) {
              out.push_back({BalanceKind::kAwaitingConfirmations, output.value,
                             chain_.funding_spend->height + c.delay_blocks});
            }
          } else if constexpr (std::is_same_v<T, chain::HtlcCondition>) {
            if (revoked && c.revocation_key == us) {
              out.push_back({BalanceKind::kRevokedOutputClaimable, output.value, 0});
            } else if (c.claim_key == us && preimage_for(c.payment_hash)) {
              out.push_back({BalanceKind::kContentiousClaimable, output.value, c.expiry});
            } else if (c.timeout_key == us) {
              out.push_back(
                  {BalanceKind::kMaybeTimeoutClaimable, output.value, uint64_t{c.expiry} + 1});
            }
          }
        },
        output.condition);
  }
  return out;
}

}  // namespace hashlock::ln
