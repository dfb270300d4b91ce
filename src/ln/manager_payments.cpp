// ChannelManager: sending payments in parts, retrying failed parts, ending
// each payment in exactly one terminal event; the receiver's multi-part
// timeout and claim resumption; timer ticks. The rest of the manager is in
// manager.cpp.
#include <algorithm>
#include <utility>

#include "ln/manager.h"
#include "ln/manager_records.h"
#include "util/check.h"

namespace hashlock::ln {
namespace {

// The longest total expiry a route found for a retry may have.
constexpr uint32_t kMaxRouteCltv = 2016;

Bytes part_done_record(const PaymentPart& part) {
  codec::TlvWriter fields;
  fields.boolean(0, part.state == PartState::kSucceeded);
  if (part.failure) fields.bytes(1, encode_failure(*part.failure));
  return codec::encode_record(kPartDoneRecord, fields);
}

}  // namespace

util::Result<uint64_t> ChannelManager::refuse_if_known(const PaymentId& payment_id) {
  // A pending or succeeded id is refused; a failed one may be sent again
  // once its PaymentFailed was handled and no monitor holds any of its
  // HTLCs (whose outcome is then the monitor's to report).
  if (auto it = payments_.find(payment_id); it != payments_.end()) {
    const char* state =
        it->second.state == PaymentState::kPending     ? "pending"
        : it->second.state == PaymentState::kSucceeded ? "already succeeded"
                                                       : "failed, and its events are not all handled yet";
    return util::failed_precondition("payment " + payment_id.to_hex() + " is " + state +
                                     "; not sending it again");
  }
  for (const ChannelId& channel_id : chain_monitor_->channels()) {
    if (chain_monitor_->get(channel_id)->tracks_payment(payment_id)) {
      return util::failed_precondition("payment " + payment_id.to_hex() + " has an HTLC the monitor of channel " +
                                       channel_id.to_hex() + " still holds; not sending it again");
    }
  }
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<CompletedPayment> done, completed_payment(payment_id));
  if (done && done->state == PaymentState::kSucceeded) {
    return util::failed_precondition("payment " + payment_id.to_hex() +
                                     " already succeeded; not sending it again");
  }
  // A resend's parts follow the failed attempt's, so their events are told apart.
  return done ? done->parts_end : uint64_t{0};
}

util::Status ChannelManager::send_part(const PaymentId& payment_id, OutboundPayment& payment,
                                       const std::vector<RouteHop>& route, AmountMsat amount) {
  if (route.empty()) return util::invalid_argument("a route needs at least one channel");
  // Expiries are absolute heights: the final hop's is counted from the chain's tip.
  const uint64_t final_expiry = chain_monitor_->best_height() + config_.final_cltv_expiry;
  if (final_expiry > UINT32_MAX / 2)
    return util::overflow("the final expiry " + std::to_string(final_expiry) + " is too high");
  HASHLOCK_ASSIGN_OR_RETURN(
      BuiltRoute built,
      build_route(route, amount, static_cast<uint32_t>(final_expiry), payment.amount));
  ChannelEntry* entry = find(route.front().channel_id);
  if (entry == nullptr) return util::not_found("no channel " + route.front().channel_id.to_hex());
  const uint64_t part_id = payment.next_part_id;
  const HtlcSource source = OutboundRoute{payment_id, part_id, payment.amount, built.fees};
  HASHLOCK_RETURN_IF_ERROR(
      entry->channel.send_htlc(built.first_amount, payment.payment_hash, built.first_cltv,
                               std::move(built.first_payload), source, nullptr));
  ++payment.next_part_id;
  PaymentPart part{.part_id = part_id, .amount = amount, .fee = built.fees};
  for (const RouteHop& hop : route) part.route.push_back(hop.channel_id);
  payment.parts.push_back(std::move(part));
  return util::Status::ok();
}

util::Status ChannelManager::send_payment_parts_now(const PaymentId& payment_id,
                                                const PaymentParams& params,
                                                const std::vector<PartSpec>& parts) {
  if (!fatal_.is_ok()) return fatal_;
  HASHLOCK_ASSIGN_OR_RETURN(const uint64_t first_part_id, refuse_if_known(payment_id));
  if (parts.empty() || parts.size() > kMaxPaymentParts) {
    return util::invalid_argument("a payment needs 1.." + std::to_string(kMaxPaymentParts) +
                                  " parts, not " + std::to_string(parts.size()));
  }
  AmountMsat sum;
  for (const PartSpec& part : parts) {
    if (part.amount.value() == 0) return util::invalid_argument("a part needs a positive amount");
    if (part.route.empty())
      return util::invalid_argument("a part needs a route of at least one channel");
    if (find(part.route.front().channel_id) == nullptr)
      return util::not_found("no channel " + part.route.front().channel_id.to_hex());
    HASHLOCK_ASSIGN_OR_RETURN(sum, sum.checked_add(part.amount));
  }
  if (sum != params.amount) {
    return util::invalid_argument("the parts add up to " + sum.to_string() +
                                  ", not the payment's " + params.amount.to_string());
  }
  OutboundPayment payment;
  payment.next_part_id = first_part_id;
  payment.payment_hash = params.payment_hash;
  payment.amount = params.amount;
  payment.multipath = true;
  payment.payee = params.payee;
  payment.retries_left = params.max_retries;
  payment.expires_at_tick = tick_ + params.expiry_ticks;
  std::vector<ChannelId> first_hops;
  for (const PartSpec& spec : parts) {
    util::Status sent = send_part(payment_id, payment, spec.route, spec.amount);
    if (!sent.is_ok()) {
      if (payment.parts.empty()) return sent;  // nothing left: the payment was never made
      // Later parts that cannot leave fail at once, like a part failing at
      // the first hop, and are retried like one.
      const FailureReason reason{FailureCode::kTemporaryChannelFailure, 0, {}};
      PaymentPart failed{.part_id = payment.next_part_id++,
                         .amount = spec.amount,
                         .state = PartState::kFailed,
                         .failure = reason};
      for (const RouteHop& hop : spec.route) failed.route.push_back(hop.channel_id);
      payment.parts.push_back(failed);
      if (std::find(payment.excluded.begin(), payment.excluded.end(), failed.route.front()) ==
          payment.excluded.end())
        payment.excluded.push_back(failed.route.front());
      payment.last_failure = reason;
      queue_event(PaymentPathFailed{payment_id, failed.part_id, reason}, {});
      continue;
    }
    first_hops.push_back(spec.route.front().channel_id);
  }
  auto [it, inserted] = payments_.emplace(payment_id, std::move(payment));
  HASHLOCK_CHECK(inserted, "a refused payment id was not inserted");
  for (const PaymentPart& part : std::vector<PaymentPart>(it->second.parts)) {
    if (part.state == PartState::kFailed)
      HASHLOCK_RETURN_IF_ERROR(after_part_failed(payment_id, it->second, part, true));
  }
  HASHLOCK_RETURN_IF_ERROR(persist());
  std::sort(first_hops.begin(), first_hops.end());
  first_hops.erase(std::unique(first_hops.begin(), first_hops.end()), first_hops.end());
  for (const ChannelId& id : first_hops) {
    if (ChannelEntry* entry = find(id)) HASHLOCK_RETURN_IF_ERROR(flush(*entry));
  }
  return util::Status::ok();
}

util::Status ChannelManager::send_payment_mpp_now(const PaymentId& payment_id,
                                              const PaymentParams& params) {
  if (!fatal_.is_ok()) return fatal_;
  if (!config_.network_graph)
    return util::failed_precondition("the node has no network graph to find routes in");
  if (params.max_parts == 0 || params.max_parts > kMaxPaymentParts) {
    return util::invalid_argument("max_parts must be 1.." + std::to_string(kMaxPaymentParts));
  }
  if (params.amount.value() == 0)
    return util::invalid_argument("a payment needs a positive amount");
  // Equal parts (the first takes the remainder), each over a route that
  // avoids the channels the parts before it took, where one exists.
  const uint64_t count = std::min<uint64_t>(params.max_parts, params.amount.value());
  const uint64_t share = params.amount.value() / count;
  NetworkGraph graph = *config_.network_graph;
  std::vector<PartSpec> parts;
  for (uint64_t k = 0; k < count; ++k) {
    const AmountMsat amount(k == 0 ? params.amount.value() - share * (count - 1) : share);
    auto found = find_route(graph, config_.node_id, params.payee, amount, config_.final_cltv_expiry,
                            params.max_total_cltv);
    if (!found.is_ok()) {
      found = find_route(*config_.network_graph, config_.node_id, params.payee, amount,
                         config_.final_cltv_expiry, params.max_total_cltv);
    }
    if (!found.is_ok()) {
      return util::not_found("no route to " + params.payee.to_string() + " for part " +
                             std::to_string(k + 1) + " of " + std::to_string(count) + " (" +
                             amount.to_string() + "): " + found.status().message());
    }
    for (const RouteHop& hop : found->hops) graph.remove_channel(hop.channel_id);
    parts.push_back(PartSpec{found->hops, amount});
  }
  return send_payment_parts(payment_id, params, parts);
}

util::Result<std::optional<std::vector<RouteHop>>> ChannelManager::retry_route(
    const OutboundPayment& payment, AmountMsat amount) {
  if (!config_.network_graph) return std::optional<std::vector<RouteHop>>();
  NetworkGraph graph = *config_.network_graph;
  for (const ChannelId& id : payment.excluded) graph.remove_channel(id);
  // Our own channels that are gone cannot carry anything.
  for (const GraphEdge& edge : config_.network_graph->edges()) {
    if (edge.from != config_.node_id) continue;
    const ChannelEntry* entry = find(edge.channel_id);
    if (entry == nullptr || !entry->channel.is_open()) graph.remove_channel(edge.channel_id);
  }
  auto found = find_route(graph, config_.node_id, payment.payee, amount, config_.final_cltv_expiry,
                          kMaxRouteCltv);
  if (!found.is_ok()) return std::optional<std::vector<RouteHop>>();
  return std::optional<std::vector<RouteHop>>(found->hops);
}

util::Status ChannelManager::after_part_failed(const PaymentId& payment_id,
                                               OutboundPayment& payment, const PaymentPart& part,
                                               bool failed_locally) {
  if (part.failure && !failed_locally) {
    if (auto blamed = blamed_channel(*part.failure, part.route);
        blamed && std::find(payment.excluded.begin(), payment.excluded.end(), *blamed) ==
                      payment.excluded.end()) {
      payment.excluded.push_back(*blamed);
    }
  }
  if (payment.state != PaymentState::kPending) return util::Status::ok();
  // Parts still live may cover the payment already: a stale state learns of
  // a part's failure after a later state had sent its retry.
  const uint64_t live = payment.live_amount().value();
  if (live >= payment.amount.value() && payment.in_flight() > 0) return util::Status::ok();
  const AmountMsat retry_amount(
      std::min(part.amount.value(), payment.amount.value() - std::min(live, payment.amount.value())));
  const bool worth_it =
      failed_locally || (part.failure && retryable(*part.failure, part.route.size()));
  if (payment.multipath && worth_it && !payment.abandoned && payment.retries_left > 0 &&
      tick_ < payment.expires_at_tick && retry_amount.value() > 0) {
    HASHLOCK_ASSIGN_OR_RETURN(std::optional<std::vector<RouteHop>> route,
                              retry_route(payment, retry_amount));
    if (route) {
      --payment.retries_left;
      if (send_part(payment_id, payment, *route, retry_amount).is_ok()) {
        HASHLOCK_RETURN_IF_ERROR(persist());
        return flush(*find(route->front().channel_id));
      }
    }
  }
  payment.abandoned = true;
  fail_if_nothing_left(payment_id, payment);
  return util::Status::ok();
}

void ChannelManager::fail_if_nothing_left(const PaymentId& payment_id, OutboundPayment& payment) {
  if (payment.state != PaymentState::kPending || !payment.abandoned || payment.in_flight() > 0)
    return;
  payment.state = PaymentState::kFailed;
  const FailureReason reason =
      payment.last_failure.value_or(FailureReason{FailureCode::kPermanentChannelFailure, 0, {}});
  queue_event(PaymentFailed{payment_id, payment.payment_hash, reason}, {});
}

void ChannelManager::on_payment_event_handled(const Event& event, store::WriteBatch& done,
                                              std::vector<MonitorEventSource>* acks,
                                              std::vector<HtlcRelease>* releases) {
  const PaymentId* id = nullptr;
  if (const auto* sent = std::get_if<PaymentSent>(&event)) {
    id = &sent->payment_id;
  } else if (const auto* failed = std::get_if<PaymentFailed>(&event)) {
    id = &failed->payment_id;
  }
  if (id != nullptr) {
    codec::TlvWriter fields;
    fields.boolean(0, std::holds_alternative<PaymentSent>(event));
    if (auto it = payments_.find(*id); it != payments_.end()) fields.u64(1, it->second.next_part_id);
    done.put(kDoneNamespace, id->to_hex(), codec::encode_record(kDoneRecord, fields));
  }
  std::optional<uint64_t> path_part;
  if (const auto* path = std::get_if<PaymentPathSuccessful>(&event)) {
    id = &path->payment_id;
    path_part = path->part_id;
  } else if (const auto* path_failed = std::get_if<PaymentPathFailed>(&event)) {
    id = &path_failed->payment_id;
    path_part = path_failed->part_id;
  }
  if (id == nullptr) return;
  auto it = payments_.find(*id);
  if (it == payments_.end()) return;
  OutboundPayment& payment = it->second;
  PaymentPart* handled_part = path_part ? payment.part(*path_part) : nullptr;
  if (handled_part != nullptr) {
    handled_part->path_handled = true;
  } else if (!path_part) {
    payment.terminal_handled = true;
  }
  payment.take_due(acks, releases);
  if (payment.finished()) {
    for (const PaymentPart& part : payment.parts) {
      if (payment.multipath && (!path_part || part.part_id != *path_part))
        done.remove(kPartsDoneNamespace, part_key(*id, part.part_id));
    }
    payments_.erase(it);
  } else if (handled_part != nullptr) {
    done.put(kPartsDoneNamespace, part_key(*id, *path_part), part_done_record(*handled_part));
  }
}

util::Result<uint64_t> ChannelManager::stored_handled_count() const {
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> raw,
                            store_->get(kHandledCountNamespace, kHandledCountKey));
  if (!raw) return uint64_t{0};
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record, codec::open_record(kHandledCountRecord, *raw));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t count, record.fields.u64(0));
  HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
  return count;
}

void ChannelManager::count_handled_records(store::WriteBatch& batch) {
  HASHLOCK_CHECK(!lagging_behind_count_, "handled records written before the load reconciled");
  handled_count_ = handled_count_.value_or(0) + 1;
  codec::TlvWriter fields;
  fields.u64(0, *handled_count_);
  batch.put(kHandledCountNamespace, kHandledCountKey, codec::encode_record(kHandledCountRecord, fields));
}

util::Status ChannelManager::reconcile_payments_after_load() {
  // The records of handled events are written apart from the state, so a
  // stale state may lag behind them; they decide. Only a state whose
  // handled count differs from the stored one (an older snapshot) can lag:
  // a current one skips the reads.
  const bool lagging = lagging_behind_count_.has_value();
  if (lagging) ++stats_.lagging_state_loads;
  std::vector<std::pair<PaymentId, uint64_t>> failed_parts_of;
  // In a current state only a finished payment has anything to do (it goes).
  std::vector<PaymentId> ids;
  for (const auto& [id, payment] : std::as_const(payments_)) {
    if (lagging || payment.finished()) ids.push_back(id);
  }
  // Each payment's completed record is read once: queued events below ask again.
  std::map<PaymentId, std::optional<PaymentState>> completed;
  for (const PaymentId& id : ids) {
    // Read first: only payments the records change are touched (and rewritten).
    const OutboundPayment& stored = std::as_const(payments_).find(id)->second;
    std::optional<PaymentState> done;
    if (lagging) {
      HASHLOCK_ASSIGN_OR_RETURN(std::optional<CompletedPayment> record, completed_payment(id));
      // The record is this payment's unless the state holds a later attempt.
      if (record && (stored.parts.empty() || record->covers(stored.parts.front().part_id)))
        done = record->state;
      completed.emplace(id, done);
    }
    std::vector<std::pair<uint64_t, Bytes>> handled_parts;
    for (const PaymentPart& part : stored.parts) {
      if (!lagging || !stored.multipath || part.path_handled) continue;
      HASHLOCK_ASSIGN_OR_RETURN(std::optional<Bytes> raw,
                                store_->get(kPartsDoneNamespace, part_key(id, part.part_id)));
      if (raw) handled_parts.emplace_back(part.part_id, std::move(*raw));
    }
    if (!done && handled_parts.empty() && !stored.finished()) continue;
    auto it = payments_.find(id);
    OutboundPayment& payment = it->second;
    if (done) {
      payment.state = *done;
      payment.terminal_handled = true;
    }
    for (const auto& [part_id, raw] : handled_parts) {
      PaymentPart& part = *payment.part(part_id);
      HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord record,
                                codec::open_record(kPartDoneRecord, raw));
      HASHLOCK_ASSIGN_OR_RETURN(bool succeeded, record.fields.boolean(0));
      HASHLOCK_ASSIGN_OR_RETURN(std::optional<ByteView> failure, record.fields.optional_bytes(1));
      HASHLOCK_RETURN_IF_ERROR(record.fields.finish());
      if (part.state == PartState::kInFlight) {
        part.state = succeeded ? PartState::kSucceeded : PartState::kFailed;
        if (failure) {
          HASHLOCK_ASSIGN_OR_RETURN(FailureReason reason, decode_failure(*failure));
          part.failure = reason;
          payment.last_failure = reason;
        }
        if (!succeeded) failed_parts_of.emplace_back(id, part.part_id);
      }
      part.path_handled = true;
    }
    if (payment.finished()) payments_.erase(it);
  }
  // Drop queued events whose handling is recorded.
  for (auto it = events_.begin(); it != events_.end();) {
    const PaymentId* id = nullptr;
    std::optional<uint64_t> part_id;
    if (const auto* sent = std::get_if<PaymentSent>(&it->event)) id = &sent->payment_id;
    if (const auto* failed = std::get_if<PaymentFailed>(&it->event)) id = &failed->payment_id;
    if (const auto* path = std::get_if<PaymentPathSuccessful>(&it->event)) {
      id = &path->payment_id;
      part_id = path->part_id;
    }
    if (const auto* path = std::get_if<PaymentPathFailed>(&it->event)) {
      id = &path->payment_id;
      part_id = path->part_id;
    }
    if (id == nullptr) {
      ++it;
      continue;
    }
    bool handled = false;
    if (part_id) {
      std::optional<Bytes> raw;
      if (lagging) {
        HASHLOCK_ASSIGN_OR_RETURN(raw, store_->get(kPartsDoneNamespace, part_key(*id, *part_id)));
      }
      auto payment = payments_.find(*id);
      handled = raw.has_value() || payment == payments_.end();
      if (!handled) {
        const PaymentPart* part = payment->second.part(*part_id);
        handled = part != nullptr && part->path_handled;
      }
    } else if (!lagging) {
      // A current state holds no terminal event whose handling is recorded.
    } else if (auto known = completed.find(*id); known != completed.end()) {
      handled = known->second.has_value();
    } else {
      HASHLOCK_ASSIGN_OR_RETURN(std::optional<CompletedPayment> done, completed_payment(*id));
      handled = done.has_value();
    }
    it = handled ? events_.erase(it) : std::next(it);
  }
  // Parts whose failure the stale state missed: retry or end the payment.
  for (const auto& [id, part_id] : failed_parts_of) {
    auto it = payments_.find(id);
    if (it == payments_.end()) continue;
    const PaymentPart* part = it->second.part(part_id);
    if (part != nullptr)
      HASHLOCK_RETURN_IF_ERROR(after_part_failed(id, it->second, PaymentPart(*part), false));
  }
  // The state now reflects every handled record: it takes the stored count
  // (never lower than its own, so the count only rises).
  if (lagging) {
    handled_count_ = std::max(handled_count_.value_or(0), *lagging_behind_count_);
    lagging_behind_count_.reset();
  }
  return util::Status::ok();
}

util::Status ChannelManager::resume_claim(const PaymentHash& hash, ClaimablePayment& payment) {
  HASHLOCK_CHECK(payment.preimage.has_value(), "a claimed payment keeps its preimage");
  for (ClaimableHtlc& htlc : payment.htlcs) {
    if (htlc.removed) continue;
    ChannelEntry* entry = find(htlc.channel_id);
    if (entry == nullptr) continue;
    if (entry->channel.phase() == ChannelPhase::kClosed) {
      // Closed: the monitor claims it on chain once it has the preimage.
      HASHLOCK_RETURN_IF_ERROR(give_preimage_to_monitor(*entry, *payment.preimage));
      htlc.removed = true;
      continue;
    }
    if (!entry->channel.is_open()) continue;
    if (entry->channel.htlc_state(false, htlc.htlc_id) == HtlcState::kRemoved) continue;
    HASHLOCK_ASSIGN_OR_RETURN(
        bool started, entry->channel.fulfill_htlc(htlc.htlc_id, *payment.preimage, AmountMsat(0)));
    if (!started) continue;
    // The preimage is durable in the monitor before the fulfill can leave.
    ChannelOutput out = entry->channel.flush(!entry->in_flight.empty());
    std::vector<MonitorStep> steps;
    steps.reserve(out.steps.size() + 1);
    steps.emplace_back(PaymentPreimageStep{*payment.preimage});
    for (MonitorStep& step : out.steps) steps.push_back(std::move(step));
    out.steps = std::move(steps);
    HASHLOCK_RETURN_IF_ERROR(commit(*entry, std::move(out)));
  }
  (void)hash;
  return util::Status::ok();
}

util::Status ChannelManager::timer_tick_now() {
  if (!fatal_.is_ok()) return fatal_;
  ++tick_;
  bool changed = false;
  // Receivers: incomplete multi-part payments held too long are failed back.
  for (auto& [hash, payment] : claimable_) {
    if (payment.state != ClaimState::kWaiting || payment.htlcs.empty()) continue;
    if (tick_ < payment.first_tick + config_.mpp_timeout_ticks) continue;
    payment.state = ClaimState::kFailed;
    changed = true;
    const FailureReason reason{FailureCode::kMppTimeout, payment.hop_index, {}};
    for (const ClaimableHtlc& htlc : payment.htlcs) {
      ChannelEntry* entry = find(htlc.channel_id);
      if (entry == nullptr || !entry->channel.is_open()) continue;
      HASHLOCK_ASSIGN_OR_RETURN(bool started, entry->channel.fail_htlc(htlc.htlc_id, reason));
      if (started) queue_event(HtlcHandlingFailed{htlc.channel_id, hash, reason}, {});
    }
  }
  bool expired = false;
  // Senders: expired payments stop retrying.
  for (auto& [id, payment] : payments_) {
    if (payment.state != PaymentState::kPending || !payment.multipath || payment.abandoned)
      continue;
    if (tick_ < payment.expires_at_tick) continue;
    payment.abandoned = true;
    expired = true;
    fail_if_nothing_left(id, payment);
  }
  // The tick itself rides on the next write: a restart that loses a few
  // ticks only waits a little longer.
  if (!changed && !expired) return util::Status::ok();
  HASHLOCK_RETURN_IF_ERROR(persist());
  for (auto& [id, entry] : channels_) {
    if (entry.channel.is_open() && entry.channel.holding_cell_size() > 0)
      HASHLOCK_RETURN_IF_ERROR(flush(entry));
  }
  return util::Status::ok();
}

}  // namespace hashlock::ln
