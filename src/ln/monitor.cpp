#include "ln/monitor.h"

#include <algorithm>

#include "codec/record.h"
#include "util/check.h"

namespace hashlock::ln {

ChannelMonitor ChannelMonitor::create(const ChannelId& channel_id, NodeId counterparty,
                                      bool persistent_events, AmountMsat to_holder,
                                      AmountMsat to_counterparty,
                                      std::optional<MonitorChainSetup> chain) {
  ChannelMonitor monitor;
  monitor.channel_id_ = channel_id;
  monitor.counterparty_ = counterparty;
  monitor.persistent_events_ = persistent_events;
  monitor.to_holder_ = to_holder;
  monitor.to_counterparty_ = to_counterparty;
  monitor.counterparty_commitments_[0] = {};
  if (chain) {
    monitor.tx_params_ = chain->params;
    monitor.holder_point_ = chain->holder_first_point;
    monitor.counterparty_balances_[0] =
        CommitmentBalances{to_counterparty, to_holder, chain->counterparty_first_point};
  }
  return monitor;
}

util::Result<chain::Transaction> ChannelMonitor::holder_commitment_tx() const {
  if (!tx_params_ || !holder_point_) {
    return util::failed_precondition("the monitor of channel " + channel_id_.to_hex() +
                                     " has no on-chain data");
  }
  return build_commitment_tx(
      *tx_params_, true,
      CommitmentData{holder_number_, to_holder_, to_counterparty_, holder_htlcs_, *holder_point_});
}

util::Result<chain::Transaction> ChannelMonitor::counterparty_commitment_tx(uint64_t number) const {
  auto htlcs = counterparty_commitments_.find(number);
  auto balances = counterparty_balances_.find(number);
  if (!tx_params_ || htlcs == counterparty_commitments_.end() ||
      balances == counterparty_balances_.end()) {
    return util::not_found("the monitor of channel " + channel_id_.to_hex() +
                           " holds no unrevoked counterparty commitment " + std::to_string(number) +
                           " with on-chain data");
  }
  return build_commitment_tx(
      *tx_params_, false,
      CommitmentData{number, balances->second.to_holder, balances->second.to_counterparty,
                     htlcs->second, balances->second.per_commitment_point});
}

std::vector<uint64_t> ChannelMonitor::unrevoked_counterparty_commitments() const {
  std::vector<uint64_t> out;
  for (const auto& [number, htlcs] : counterparty_commitments_) out.push_back(number);
  return out;
}

std::optional<PaymentPreimage> ChannelMonitor::preimage_for(const PaymentHash& hash) const {
  auto it = preimages_.find(hash);
  if (it == preimages_.end()) return std::nullopt;
  return it->second;
}

namespace {

// A holder commitment must be newer than the latest (0: none yet).
util::Status check_newer_holder(uint64_t number, uint64_t latest) {
  if (number > latest || latest == 0) return util::Status::ok();
  return util::invalid_argument("holder commitment " + std::to_string(number) +
                                " is not newer than " + std::to_string(latest));
}

}  // namespace

util::Status ChannelMonitor::check_step(const MonitorStep& step) const {
  if (const auto* holder = std::get_if<LatestHolderCommitment>(&step)) {
    HASHLOCK_RETURN_IF_ERROR(check_newer_holder(holder->commitment_number, holder_number_));
    for (const ClaimedHtlc& claimed : holder->claimed_htlcs) {
      auto it = outbound_.find(claimed.htlc_id.value());
      if (it != outbound_.end() && claimed.preimage.payment_hash() != it->second.payment_hash) {
        return util::invalid_argument("claimed " + claimed.htlc_id.to_string() +
                                      " with a preimage of another hash");
      }
    }
  }
  if (const auto* secret = std::get_if<CommitmentSecretStep>(&step)) {
    CommitmentSecretStore copy = secrets_;
    HASHLOCK_RETURN_IF_ERROR(
        copy.insert(shachain_index(secret->commitment_number), secret->secret));
  }
  return util::Status::ok();
}

util::Status ChannelMonitor::apply_update(const ChannelMonitorUpdate& update) {
  if (update.channel_id != channel_id_)
    return util::invalid_argument("monitor update for another channel");
  if (update.update_id != latest_update_id_ + 1) {
    return util::invalid_argument("monitor update " + std::to_string(update.update_id) +
                                  " out of order (latest is " + std::to_string(latest_update_id_) +
                                  ")");
  }
  // Only holder commitments and secrets can be refused, and only steps that
  // queue events can overflow the queue; any other update applies in place.
  const bool may_fail =
      std::any_of(update.steps.begin(), update.steps.end(), [](const MonitorStep& step) {
        return std::holds_alternative<LatestHolderCommitment>(step) ||
               std::holds_alternative<CommitmentSecretStep>(step) ||
               std::holds_alternative<ChannelForceClosed>(step);
      });
  PruneCandidates candidates = prune_candidates(update);
  if (!may_fail) {
    for (const MonitorStep& step : update.steps) apply_step(step);
    latest_update_id_ = update.update_id;
    prune_after(update, std::move(candidates));
    return util::Status::ok();
  }
  // Check every step against the state as it will be when the step applies:
  // without a copy of the monitor when the checks can tell, otherwise on a
  // scratch copy.
  if (std::optional<util::Status> checked = check_without_copy(update)) {
    HASHLOCK_RETURN_IF_ERROR(*checked);
    for (const MonitorStep& step : update.steps) apply_step(step);
    HASHLOCK_CHECK(pending_events_.size() <= kMaxPendingMonitorEvents,
                   "the checked update stays within the pending events' limit");
    latest_update_id_ = update.update_id;
    prune_after(update, std::move(candidates));
    return util::Status::ok();
  }
  ChannelMonitor scratch = *this;
  for (const MonitorStep& step : update.steps) {
    HASHLOCK_RETURN_IF_ERROR(scratch.check_step(step));
    scratch.apply_step(step);
  }
  if (scratch.pending_events_.size() > kMaxPendingMonitorEvents) {
    return util::unavailable("monitor holds too many un-acked events");
  }
  scratch.latest_update_id_ = update.update_id;
  scratch.prune_after(update, std::move(candidates));
  *this = std::move(scratch);
  return util::Status::ok();
}

std::optional<util::Status> ChannelMonitor::check_without_copy(
    const ChannelMonitorUpdate& update) const {
  // What check_step reads, as the earlier steps of the update leave it.
  uint64_t holder_number = holder_number_;
  std::map<uint64_t, PaymentHash> added;  // outbound HTLCs earlier steps add
  std::optional<CommitmentSecretStore> secrets;
  // New events the update can queue, at most: one per claimed HTLC, per
  // HTLC of a commitment a secret revokes, per force close.
  size_t counterparty_htlcs = 0;
  for (const auto& [number, htlcs] : counterparty_commitments_) counterparty_htlcs += htlcs.size();
  size_t new_events = 0;
  for (const MonitorStep& step : update.steps) {
    if (const auto* holder = std::get_if<LatestHolderCommitment>(&step)) {
      HASHLOCK_RETURN_IF_ERROR(check_newer_holder(holder->commitment_number, holder_number));
      for (const ClaimedHtlc& claimed : holder->claimed_htlcs) {
        const PaymentHash* hash = nullptr;
        if (auto it = outbound_.find(claimed.htlc_id.value()); it != outbound_.end()) {
          hash = &it->second.payment_hash;
        } else if (auto a = added.find(claimed.htlc_id.value()); a != added.end()) {
          hash = &a->second;
        }
        if (hash != nullptr && claimed.preimage.payment_hash() != *hash) {
          return util::invalid_argument("claimed " + claimed.htlc_id.to_string() +
                                        " with a preimage of another hash");
        }
      }
      holder_number = holder->commitment_number;
      new_events += holder->claimed_htlcs.size();
    } else if (const auto* counterparty = std::get_if<LatestCounterpartyCommitment>(&step)) {
      counterparty_htlcs += counterparty->htlcs.size();
      for (const CommitmentHtlc& h : counterparty->htlcs) {
        if (h.offered_by_holder || !h.source || outbound_.count(h.id.value()) > 0) continue;
        added.try_emplace(h.id.value(), h.payment_hash);
      }
    } else if (const auto* secret = std::get_if<CommitmentSecretStep>(&step)) {
      if (!secrets) secrets = secrets_;
      HASHLOCK_RETURN_IF_ERROR(
          secrets->insert(shachain_index(secret->commitment_number), secret->secret));
      new_events += counterparty_htlcs;
    } else if (std::holds_alternative<ChannelForceClosed>(step)) {
      new_events += 1;
    }
  }
  if (pending_events_.size() + new_events > kMaxPendingMonitorEvents) return std::nullopt;
  return util::Status::ok();
}

ChannelMonitor::PruneCandidates ChannelMonitor::prune_candidates(
    const ChannelMonitorUpdate& update) const {
  PruneCandidates out;
  const bool preimages_only = std::all_of(
      update.steps.begin(), update.steps.end(),
      [](const MonitorStep& step) { return std::holds_alternative<PaymentPreimageStep>(step); });
  if (preimages_only || prune_all_) return out;
  // What may leave the commitments: everything in them now.
  for (const CommitmentHtlc& h : holder_htlcs_) {
    if (h.offered_by_holder) out.htlc_ids.push_back(h.id.value());
    out.hashes.push_back(h.payment_hash);
  }
  for (const auto& [number, htlcs] : counterparty_commitments_) {
    for (const CommitmentHtlc& h : htlcs) {
      if (!h.offered_by_holder) out.htlc_ids.push_back(h.id.value());
      out.hashes.push_back(h.payment_hash);
    }
  }
  // What the steps resolve, release or learn the preimage of. (A secret
  // resolves only HTLCs of a counterparty commitment, listed above.)
  for (const MonitorStep& step : update.steps) {
    if (const auto* holder = std::get_if<LatestHolderCommitment>(&step)) {
      for (const ClaimedHtlc& claimed : holder->claimed_htlcs) {
        out.htlc_ids.push_back(claimed.htlc_id.value());
        out.hashes.push_back(claimed.preimage.payment_hash());
      }
    } else if (const auto* counterparty = std::get_if<LatestCounterpartyCommitment>(&step)) {
      // A commitment of the same number replaces the one listed above.
      for (const CommitmentHtlc& h : counterparty->htlcs) out.hashes.push_back(h.payment_hash);
    } else if (const auto* preimage = std::get_if<PaymentPreimageStep>(&step)) {
      out.hashes.push_back(preimage->preimage.payment_hash());
    } else if (const auto* released = std::get_if<ReleasePaymentComplete>(&step)) {
      out.htlc_ids.push_back(released->htlc_id.value());
    }
  }
  return out;
}

void ChannelMonitor::prune_after(const ChannelMonitorUpdate& update, PruneCandidates candidates) {
  const bool preimages_only = std::all_of(
      update.steps.begin(), update.steps.end(),
      [](const MonitorStep& step) { return std::holds_alternative<PaymentPreimageStep>(step); });
  if (preimages_only) {
    // New preimages change nothing else prune() looks at: only they may go.
    for (const MonitorStep& step : update.steps) {
      const PaymentHash hash = std::get<PaymentPreimageStep>(step).preimage.payment_hash();
      if (!preimage_needed(hash)) preimages_.erase(hash);
    }
    return;
  }
  if (prune_all_) {
    prune();
    prune_all_ = false;
    return;
  }
  // prune() over the candidates alone: the same conditions, against the
  // commitments as the update left them.
  std::set<uint64_t> in_commitment;
  std::set<PaymentHash> commitment_hashes;
  commitment_contents(in_commitment, commitment_hashes);
  std::sort(candidates.htlc_ids.begin(), candidates.htlc_ids.end());
  candidates.htlc_ids.erase(std::unique(candidates.htlc_ids.begin(), candidates.htlc_ids.end()),
                            candidates.htlc_ids.end());
  for (uint64_t id : candidates.htlc_ids) {
    auto it = outbound_.find(id);
    if (it == outbound_.end()) continue;
    const uint64_t claim_id = htlc_event_id(HtlcId(id), true);
    const uint64_t fail_id = htlc_event_id(HtlcId(id), false);
    const bool event_pending = pending_ids_.count(claim_id) > 0 || pending_ids_.count(fail_id) > 0;
    const bool handled = persistent_events_ || it->second.released;
    if (it->second.resolved && handled && !event_pending && in_commitment.count(id) == 0) {
      acked_ids_.erase(claim_id);
      acked_ids_.erase(fail_id);
      candidates.hashes.push_back(it->second.payment_hash);
      erase_outbound(it);
    }
  }
  for (const PaymentHash& hash : candidates.hashes) {
    if (commitment_hashes.count(hash) == 0 && outbound_hashes_.count(hash) == 0)
      preimages_.erase(hash);
  }
}

void ChannelMonitor::apply_step(const MonitorStep& step) {
  std::visit(
      [this](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, LatestHolderCommitment>) {
          on_holder(s);
        } else if constexpr (std::is_same_v<T, LatestCounterpartyCommitment>) {
          on_counterparty(s);
        } else if constexpr (std::is_same_v<T, PaymentPreimageStep>) {
          preimages_[s.preimage.payment_hash()] = s.preimage;
        } else if constexpr (std::is_same_v<T, CommitmentSecretStep>) {
          on_secret(s);
        } else if constexpr (std::is_same_v<T, ChannelForceClosed>) {
          if (!closed_) {
            closed_ = true;
            should_broadcast_ = s.should_broadcast;
            close_reason_ = s.reason;
            queue(MonitorEvent{kForceClosedEventId, HolderForceClosed{s.reason}});
          }
        } else if constexpr (std::is_same_v<T, ReleasePaymentComplete>) {
          auto it = outbound_.find(s.htlc_id.value());
          if (it != outbound_.end()) it->second.released = true;
        }
      },
      step);
}

void ChannelMonitor::on_counterparty(const LatestCounterpartyCommitment& step) {
  for (const CommitmentHtlc& h : step.htlcs) {
    // In the counterparty's commitment, ours are the ones they did not offer.
    if (h.offered_by_holder || !h.source) continue;
    if (outbound_
            .try_emplace(h.id.value(),
                         OutboundHtlc{h.payment_hash, h.amount, *h.source, std::nullopt, false})
            .second)
      count_outbound(outbound_.at(h.id.value()), +1);
  }
  counterparty_commitments_[step.commitment_number] = step.htlcs;
  if (step.balances) counterparty_balances_[step.commitment_number] = *step.balances;
}

void ChannelMonitor::on_holder(const LatestHolderCommitment& step) {
  holder_number_ = step.commitment_number;
  holder_htlcs_ = step.htlcs;
  holder_point_ = step.per_commitment_point;
  to_holder_ = step.to_holder;
  to_counterparty_ = step.to_counterparty;
  for (const FailedHtlc& failed : step.failed_htlcs) {
    auto it = outbound_.find(failed.htlc_id.value());
    if (it != outbound_.end()) it->second.fail_reason = failed.reason;
  }
  for (const ClaimedHtlc& claimed : step.claimed_htlcs) {
    preimages_[claimed.preimage.payment_hash()] = claimed.preimage;
    auto it = outbound_.find(claimed.htlc_id.value());
    if (it == outbound_.end()) continue;
    resolve(claimed.htlc_id, it->second, ClaimedResolution{claimed.preimage, claimed.skimmed_fee});
  }
}

void ChannelMonitor::on_secret(const CommitmentSecretStep& step) {
  HASHLOCK_CHECK(secrets_.insert(shachain_index(step.commitment_number), step.secret).is_ok(),
                 "secret was checked before it was applied");
  auto revoked = counterparty_commitments_.find(step.commitment_number);
  if (revoked == counterparty_commitments_.end()) return;
  const std::vector<CommitmentHtlc>& latest = counterparty_commitments_.rbegin()->second;
  for (const CommitmentHtlc& h : revoked->second) {
    if (h.offered_by_holder) continue;
    const bool still_there =
        std::any_of(latest.begin(), latest.end(),
                    [&](const CommitmentHtlc& l) { return !l.offered_by_holder && l.id == h.id; });
    auto it = outbound_.find(h.id.value());
    if (still_there || it == outbound_.end()) continue;
    if (auto preimage = preimage_for(h.payment_hash)) {
      resolve(h.id, it->second, ClaimedResolution{*preimage, AmountMsat(0)});
      continue;
    }
    FailureReason reason = it->second.fail_reason.value_or(
        FailureReason{FailureCode::kTemporaryChannelFailure, 0, {}});
    resolve(h.id, it->second, FailedResolution{reason});
  }
  counterparty_commitments_.erase(counterparty_commitments_.begin(), std::next(revoked));
  counterparty_balances_.erase(counterparty_balances_.begin(),
                               counterparty_balances_.upper_bound(step.commitment_number));
}

void ChannelMonitor::resolve(HtlcId id, OutboundHtlc& htlc,
                             std::variant<ClaimedResolution, FailedResolution> resolution) {
  if (htlc.resolved) return;
  htlc.resolved = true;
  const bool claimed = std::holds_alternative<ClaimedResolution>(resolution);
  htlc.claimed = claimed;
  queue(MonitorEvent{
      htlc_event_id(id, claimed),
      HtlcEvent{htlc.payment_hash, htlc.source, htlc.amount, id, std::move(resolution)}});
}

void ChannelMonitor::queue(MonitorEvent event) {
  if (acked_ids_.count(event.id) > 0) return;
  if (!pending_ids_.insert(event.id).second) return;
  pending_events_.push_back(std::move(event));
}

void ChannelMonitor::ack_event(uint64_t event_id) {
  if (pending_ids_.erase(event_id) > 0) {
    auto it = std::find_if(pending_events_.begin(), pending_events_.end(),
                           [&](const MonitorEvent& e) { return e.id == event_id; });
    if (it != pending_events_.end()) pending_events_.erase(it);
  }
  released_.erase(event_id);
  acked_ids_.insert(event_id);
  // Only the acked event's HTLC (and its preimage) can become prunable.
  if (event_id % 4 == 1 || event_id % 4 == 2) prune_htlc(event_id / 4);
}

void ChannelMonitor::prune_htlc(uint64_t htlc_id) {
  auto it = outbound_.find(htlc_id);
  if (it == outbound_.end()) return;
  const uint64_t claim_id = htlc_event_id(HtlcId(htlc_id), true);
  const uint64_t fail_id = htlc_event_id(HtlcId(htlc_id), false);
  const bool handled = persistent_events_ || it->second.released;
  if (!it->second.resolved || !handled || pending_ids_.count(claim_id) > 0 ||
      pending_ids_.count(fail_id) > 0)
    return;
  auto holds = [&](const std::vector<CommitmentHtlc>& htlcs, bool offered_by_holder) {
    return std::any_of(htlcs.begin(), htlcs.end(), [&](const CommitmentHtlc& h) {
      return h.offered_by_holder == offered_by_holder && h.id.value() == htlc_id;
    });
  };
  if (holds(holder_htlcs_, true)) return;
  for (const auto& [number, htlcs] : counterparty_commitments_) {
    if (holds(htlcs, false)) return;
  }
  acked_ids_.erase(claim_id);
  acked_ids_.erase(fail_id);
  const PaymentHash hash = it->second.payment_hash;
  erase_outbound(it);
  if (!preimage_needed(hash)) preimages_.erase(hash);
}

std::map<uint64_t, ChannelMonitor::OutboundHtlc>::iterator ChannelMonitor::erase_outbound(
    std::map<uint64_t, OutboundHtlc>::iterator it) {
  count_outbound(it->second, -1);
  return outbound_.erase(it);
}

void ChannelMonitor::count_outbound(const OutboundHtlc& htlc, int delta) {
  auto adjust = [delta](auto& counts, const auto& key) {
    if (delta > 0) {
      ++counts[key];
      return;
    }
    auto count = counts.find(key);
    HASHLOCK_CHECK(count != counts.end() && count->second > 0, "every outbound HTLC is counted");
    if (--count->second == 0) counts.erase(count);
  };
  adjust(outbound_hashes_, htlc.payment_hash);
  if (const auto* route = std::get_if<OutboundRoute>(&htlc.source)) adjust(outbound_payments_, route->payment_id);
}

bool ChannelMonitor::preimage_needed(const PaymentHash& hash) const {
  auto holds = [&](const std::vector<CommitmentHtlc>& htlcs) {
    return std::any_of(htlcs.begin(), htlcs.end(),
                       [&](const CommitmentHtlc& h) { return h.payment_hash == hash; });
  };
  if (holds(holder_htlcs_)) return true;
  for (const auto& [number, htlcs] : counterparty_commitments_) {
    if (holds(htlcs)) return true;
  }
  return outbound_hashes_.count(hash) > 0;
}

std::vector<HtlcEvent> ChannelMonitor::unreleased_resolutions() const {
  std::vector<HtlcEvent> out;
  if (persistent_events_) return out;
  for (const auto& [id, htlc] : outbound_) {
    if (!htlc.resolved || htlc.released) continue;
    HtlcEvent event{htlc.payment_hash, htlc.source, htlc.amount, HtlcId(id), FailedResolution{}};
    if (htlc.claimed) {
      auto preimage = preimage_for(htlc.payment_hash);
      if (!preimage) continue;  // cannot happen: preimages of tracked HTLCs are kept
      event.resolution = ClaimedResolution{*preimage, AmountMsat(0)};
    } else {
      event.resolution = FailedResolution{
          htlc.fail_reason.value_or(FailureReason{FailureCode::kTemporaryChannelFailure, 0, {}})};
    }
    out.push_back(std::move(event));
  }
  return out;
}

std::vector<MonitorEvent> ChannelMonitor::release_events() {
  std::vector<MonitorEvent> out;
  for (const MonitorEvent& event : pending_events_) {
    if (released_.insert(event.id).second) out.push_back(event);
  }
  return out;
}

void ChannelMonitor::prune() {
  // One pass over the commitments and events, then one over the HTLCs: the
  // cost is linear in what the monitor holds, not quadratic.
  std::set<uint64_t> in_commitment;
  std::set<PaymentHash> needed_hashes;
  commitment_contents(in_commitment, needed_hashes);
  const std::set<uint64_t>& pending_ids = pending_ids_;
  for (auto it = outbound_.begin(); it != outbound_.end();) {
    const uint64_t claim_id = htlc_event_id(HtlcId(it->first), true);
    const uint64_t fail_id = htlc_event_id(HtlcId(it->first), false);
    const bool event_pending = pending_ids.count(claim_id) > 0 || pending_ids.count(fail_id) > 0;
    const bool handled = persistent_events_ || it->second.released;
    if (it->second.resolved && handled && !event_pending && in_commitment.count(it->first) == 0) {
      acked_ids_.erase(claim_id);
      acked_ids_.erase(fail_id);
      it = erase_outbound(it);
    } else {
      needed_hashes.insert(it->second.payment_hash);
      ++it;
    }
  }
  // Preimages of HTLCs that no commitment holds any more can never be needed.
  for (auto it = preimages_.begin(); it != preimages_.end();)
    it = needed_hashes.count(it->first) > 0 ? std::next(it) : preimages_.erase(it);
}

// --- encoding ---------------------------------------------------------------

namespace {

constexpr codec::RecordKind kMonitorRecord{
    .type = 42, .min_version = 1, .current_version = 1, .name = "channel monitor"};
constexpr size_t kMaxItems = 10'000'000;

enum Field : uint64_t {
  kChannel = 0,
  kPeer = 2,
  kPersistent = 4,
  kLatest = 6,
  kClosed = 8,
  kCloseReason = 10,
  kHolderNumber = 12,
  kHolderHtlcs = 14,
  kToHolder = 16,
  kToCounterparty = 18,
  kCounterparty = 20,
  kOutbound = 22,
  kPreimages = 24,
  kSecrets = 26,
  kEvents = 28,
  kAcked = 30,
  // Odd: optional, so builds without the chain layer skip them.
  kTxParams = 33,
  kHolderPoint = 35,
  kShouldBroadcast = 37,
};
enum CounterpartyField : uint64_t {
  kNumber = 0,
  kHtlcs = 2,
  kPoint = 3,
  kTheirToHolder = 5,
  kTheirToCounterparty = 7,
};

util::Result<util::Sha256Digest> read_point(ByteView raw, std::string_view what) {
  if (raw.size() != 32) return util::corruption(std::string(what) + " is not 32 bytes");
  util::Sha256Digest point{};
  std::copy(raw.begin(), raw.end(), point.begin());
  return point;
}

Bytes encode_htlcs(const std::vector<CommitmentHtlc>& htlcs) {
  return codec::encode_items(htlcs, encode_commitment_htlc);
}

util::Result<std::vector<CommitmentHtlc>> decode_htlcs(ByteView raw) {
  return codec::decode_items<CommitmentHtlc>(raw, kMaxHtlcsPerCommitment, "commitment htlcs",
                                             decode_commitment_htlc);
}

Bytes encode_event(const MonitorEvent& event) {
  codec::TlvWriter w;
  w.u64(0, event.id);
  if (const auto* htlc = std::get_if<HtlcEvent>(&event.kind)) {
    w.u64(2, 0)
        .bytes32(4, htlc->payment_hash)
        .bytes(6, encode_source(htlc->source))
        .amount(8, htlc->htlc_value)
        .u64(10, htlc->htlc_id.value());
    if (const auto* claimed = std::get_if<ClaimedResolution>(&htlc->resolution)) {
      w.bytes32(12, claimed->preimage).amount(14, claimed->skimmed_fee);
    } else {
      w.bytes(16, encode_failure(std::get<FailedResolution>(htlc->resolution).reason));
    }
  } else if (std::holds_alternative<CommitmentTxConfirmed>(event.kind)) {
    w.u64(2, 1);
  } else {
    w.u64(2, 2).string(18, std::get<HolderForceClosed>(event.kind).reason);
  }
  return w.take();
}

util::Result<MonitorEvent> decode_event(ByteView raw) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader r, codec::TlvReader::parse(raw, "monitor event"));
  MonitorEvent event;
  HASHLOCK_ASSIGN_OR_RETURN(event.id, r.u64(0));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t kind, r.u64(2));
  if (kind == 0) {
    HtlcEvent htlc;
    HASHLOCK_ASSIGN_OR_RETURN(htlc.payment_hash, r.bytes32<PaymentHash>(4));
    HASHLOCK_ASSIGN_OR_RETURN(ByteView source, r.bytes(6));
    HASHLOCK_ASSIGN_OR_RETURN(htlc.source, decode_source(source));
    HASHLOCK_ASSIGN_OR_RETURN(htlc.htlc_value, r.amount(8));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, r.u64(10));
    htlc.htlc_id = HtlcId(id);
    if (r.has(12)) {
      ClaimedResolution claimed;
      HASHLOCK_ASSIGN_OR_RETURN(auto preimage,
                                r.bytes32<util::Bytes32<util::PaymentPreimageTag>>(12));
      claimed.preimage = PaymentPreimage(preimage);
      HASHLOCK_ASSIGN_OR_RETURN(claimed.skimmed_fee, r.amount(14));
      htlc.resolution = claimed;
    } else {
      HASHLOCK_ASSIGN_OR_RETURN(ByteView reason, r.bytes(16));
      HASHLOCK_ASSIGN_OR_RETURN(FailureReason decoded, decode_failure(reason));
      htlc.resolution = FailedResolution{decoded};
    }
    event.kind = std::move(htlc);
  } else if (kind == 1) {
    event.kind = CommitmentTxConfirmed{};
  } else if (kind == 2) {
    HASHLOCK_ASSIGN_OR_RETURN(std::string reason, r.string(18));
    event.kind = HolderForceClosed{reason};
  } else {
    return util::unsupported("monitor event kind " + std::to_string(kind) + " is unknown");
  }
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  return event;
}

}  // namespace

void ChannelMonitor::commitment_contents(std::set<uint64_t>& our_ids,
                                         std::set<PaymentHash>& hashes) const {
  for (const CommitmentHtlc& h : holder_htlcs_) {
    if (h.offered_by_holder) our_ids.insert(h.id.value());
    hashes.insert(h.payment_hash);
  }
  for (const auto& [number, htlcs] : counterparty_commitments_) {
    for (const CommitmentHtlc& h : htlcs) {
      if (!h.offered_by_holder) our_ids.insert(h.id.value());
      hashes.insert(h.payment_hash);
    }
  }
}

uint64_t ChannelMonitor::approximate_encoded_size() const {
  // Per item, about what its encoding takes (an HTLC with its source ~100
  // bytes, a preimage 70, an event ~150, an acked id 10).
  uint64_t htlcs = holder_htlcs_.size();
  for (const auto& [number, list] : counterparty_commitments_) htlcs += list.size();
  return 1024 + 100 * (htlcs + outbound_.size()) + 70 * preimages_.size() +
         150 * pending_events_.size() + 10 * acked_ids_.size();
}

Bytes ChannelMonitor::encode() const {
  std::vector<Bytes> counterparty, outbound, preimages, events;
  for (const auto& [number, htlcs] : counterparty_commitments_) {
    codec::TlvWriter w;
    w.u64(kNumber, number).bytes(kHtlcs, encode_htlcs(htlcs));
    if (auto b = counterparty_balances_.find(number); b != counterparty_balances_.end()) {
      w.bytes(kPoint, b->second.per_commitment_point)
          .amount(kTheirToHolder, b->second.to_holder)
          .amount(kTheirToCounterparty, b->second.to_counterparty);
    }
    counterparty.push_back(w.take());
  }
  for (const auto& [id, htlc] : outbound_) {
    codec::TlvWriter w;
    w.u64(0, id)
        .bytes32(2, htlc.payment_hash)
        .amount(4, htlc.amount)
        .bytes(6, encode_source(htlc.source))
        .boolean(8, htlc.resolved);
    if (htlc.fail_reason) w.bytes(10, encode_failure(*htlc.fail_reason));
    w.boolean(12, htlc.claimed).boolean(14, htlc.released);
    outbound.push_back(w.take());
  }
  for (const auto& [hash, preimage] : preimages_)
    preimages.push_back(Bytes(preimage.view().begin(), preimage.view().end()));
  for (const MonitorEvent& event : pending_events_) events.push_back(encode_event(event));
  codec::ByteWriter acked;
  for (uint64_t id : acked_ids_) acked.u64(id);
  codec::TlvWriter w;
  w.bytes32(kChannel, channel_id_)
      .u64(kPeer, counterparty_.value())
      .boolean(kPersistent, persistent_events_)
      .u64(kLatest, latest_update_id_)
      .boolean(kClosed, closed_)
      .string(kCloseReason, close_reason_)
      .u64(kHolderNumber, holder_number_)
      .bytes(kHolderHtlcs, encode_htlcs(holder_htlcs_))
      .amount(kToHolder, to_holder_)
      .amount(kToCounterparty, to_counterparty_)
      .bytes(kCounterparty, codec::encode_list(counterparty))
      .bytes(kOutbound, codec::encode_list(outbound))
      .bytes(kPreimages, codec::encode_list(preimages))
      .bytes(kSecrets, secrets_.encode())
      .bytes(kEvents, codec::encode_list(events))
      .bytes(kAcked, acked.bytes());
  if (tx_params_) w.bytes(kTxParams, encode_tx_params(*tx_params_));
  if (holder_point_) w.bytes(kHolderPoint, *holder_point_);
  if (should_broadcast_) w.boolean(kShouldBroadcast, true);
  return codec::encode_record(kMonitorRecord, w);
}

util::Result<ChannelMonitor> ChannelMonitor::decode(ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                            codec::open_record(kMonitorRecord, encoded));
  codec::TlvReader& r = record.fields;
  ChannelMonitor m;
  HASHLOCK_ASSIGN_OR_RETURN(m.channel_id_, r.bytes32<ChannelId>(kChannel));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t peer, r.u64(kPeer));
  m.counterparty_ = NodeId(peer);
  HASHLOCK_ASSIGN_OR_RETURN(m.persistent_events_, r.boolean(kPersistent));
  HASHLOCK_ASSIGN_OR_RETURN(m.latest_update_id_, r.u64(kLatest));
  HASHLOCK_ASSIGN_OR_RETURN(m.closed_, r.boolean(kClosed));
  HASHLOCK_ASSIGN_OR_RETURN(m.close_reason_, r.string(kCloseReason));
  HASHLOCK_ASSIGN_OR_RETURN(m.holder_number_, r.u64(kHolderNumber));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView holder_htlcs, r.bytes(kHolderHtlcs));
  HASHLOCK_ASSIGN_OR_RETURN(m.holder_htlcs_, decode_htlcs(holder_htlcs));
  HASHLOCK_ASSIGN_OR_RETURN(m.to_holder_, r.amount(kToHolder));
  HASHLOCK_ASSIGN_OR_RETURN(m.to_counterparty_, r.amount(kToCounterparty));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView counterparty, r.bytes(kCounterparty));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ByteView> commitments,
                            codec::decode_list(counterparty, 16, "counterparty commitments"));
  for (ByteView item : commitments) {
    HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader c,
                              codec::TlvReader::parse(item, "counterparty commitment"));
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t number, c.u64(kNumber));
    HASHLOCK_ASSIGN_OR_RETURN(ByteView htlcs, c.bytes(kHtlcs));
    HASHLOCK_ASSIGN_OR_RETURN(m.counterparty_commitments_[number], decode_htlcs(htlcs));
    HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> point, c.optional_bytes(kPoint));
    if (point) {
      CommitmentBalances balances;
      HASHLOCK_ASSIGN_OR_RETURN(balances.per_commitment_point,
                                read_point(*point, "counterparty point"));
      HASHLOCK_ASSIGN_OR_RETURN(balances.to_holder, c.amount(kTheirToHolder));
      HASHLOCK_ASSIGN_OR_RETURN(balances.to_counterparty, c.amount(kTheirToCounterparty));
      m.counterparty_balances_[number] = balances;
    }
    HASHLOCK_RETURN_IF_ERROR(c.finish());
  }
  HASHLOCK_ASSIGN_OR_RETURN(ByteView outbound, r.bytes(kOutbound));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ByteView> htlcs,
                            codec::decode_list(outbound, kMaxItems, "outbound htlcs"));
  for (ByteView item : htlcs) {
    HASHLOCK_ASSIGN_OR_RETURN(codec::TlvReader o, codec::TlvReader::parse(item, "outbound htlc"));
    OutboundHtlc h;
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, o.u64(0));
    HASHLOCK_ASSIGN_OR_RETURN(h.payment_hash, o.bytes32<PaymentHash>(2));
    HASHLOCK_ASSIGN_OR_RETURN(h.amount, o.amount(4));
    HASHLOCK_ASSIGN_OR_RETURN(ByteView source, o.bytes(6));
    HASHLOCK_ASSIGN_OR_RETURN(h.source, decode_source(source));
    HASHLOCK_ASSIGN_OR_RETURN(h.resolved, o.boolean(8));
    HASHLOCK_ASSIGN_OR_RETURN(h.claimed, o.boolean(12));
    HASHLOCK_ASSIGN_OR_RETURN(h.released, o.boolean(14));
    HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> reason, o.optional_bytes(10));
    if (reason) {
      HASHLOCK_ASSIGN_OR_RETURN(FailureReason decoded, decode_failure(*reason));
      h.fail_reason = decoded;
    }
    HASHLOCK_RETURN_IF_ERROR(o.finish());
    m.outbound_[id] = std::move(h);
  }
  for (const auto& [id, htlc] : m.outbound_) m.count_outbound(htlc, +1);
  HASHLOCK_ASSIGN_OR_RETURN(ByteView preimages, r.bytes(kPreimages));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ByteView> preimage_items,
                            codec::decode_list(preimages, kMaxItems, "preimages"));
  for (ByteView item : preimage_items) {
    HASHLOCK_ASSIGN_OR_RETURN(auto preimage,
                              util::Bytes32<util::PaymentPreimageTag>::from_bytes(item));
    PaymentPreimage p(preimage);
    m.preimages_[p.payment_hash()] = p;
  }
  HASHLOCK_ASSIGN_OR_RETURN(ByteView secrets, r.bytes(kSecrets));
  HASHLOCK_ASSIGN_OR_RETURN(m.secrets_, CommitmentSecretStore::decode(secrets));
  HASHLOCK_ASSIGN_OR_RETURN(ByteView events, r.bytes(kEvents));
  HASHLOCK_ASSIGN_OR_RETURN(std::vector<ByteView> event_items,
                            codec::decode_list(events, kMaxPendingMonitorEvents, "monitor events"));
  for (ByteView item : event_items) {
    HASHLOCK_ASSIGN_OR_RETURN(MonitorEvent event, decode_event(item));
    if (!m.pending_ids_.insert(event.id).second)
      return util::corruption("channel monitor: event " + std::to_string(event.id) +
                              " stored twice");
    m.pending_events_.push_back(std::move(event));
  }
  HASHLOCK_ASSIGN_OR_RETURN(ByteView acked, r.bytes(kAcked));
  codec::ByteReader acked_in(acked);
  while (!acked_in.at_end()) {
    HASHLOCK_ASSIGN_OR_RETURN(uint64_t id, acked_in.u64("acked event id"));
    m.acked_ids_.insert(id);
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> params, r.optional_bytes(kTxParams));
  if (params) {
    HASHLOCK_ASSIGN_OR_RETURN(ChannelTxParams decoded, decode_tx_params(*params));
    m.tx_params_ = decoded;
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> holder_point, r.optional_bytes(kHolderPoint));
  if (holder_point) {
    HASHLOCK_ASSIGN_OR_RETURN(m.holder_point_, read_point(*holder_point, "holder point"));
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> broadcast, r.optional_u64(kShouldBroadcast));
  m.should_broadcast_ = broadcast.value_or(0) == 1;
  HASHLOCK_RETURN_IF_ERROR(r.finish());
  // A snapshot may hold what only a full prune drops (one taken after the
  // chain resolved HTLCs, say).
  m.prune_all_ = true;
  return m;
}

}  // namespace hashlock::ln
