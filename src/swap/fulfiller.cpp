#include "swap/fulfiller.h"

#include <algorithm>

namespace hashlock::swap {
namespace {

std::string swap_label(SwapId id) {
  return id.to_string();
}

bool same_payment_terms(const Swap& a, const Swap& b) {
  return a.dest_chain == b.dest_chain && a.user_dest_address == b.user_dest_address &&
         a.dest_amount == b.dest_amount && a.miner == b.miner;
}

util::Status validate_swap_for_send(const Swap& swap) {
  if (swap.dest_amount == BaseUnits::zero())
    return util::invalid_argument("zero destination amount");
  if (swap.source_amount == BaseUnits::zero()) return util::invalid_argument("zero source amount");
  if (swap.dest_chain.empty() || swap.user_dest_address.empty()) {
    return util::invalid_argument("no destination chain or address");
  }
  if (swap.source_chain.empty() || swap.miner_source_address.empty()) {
    return util::invalid_argument("no source chain or miner source address");
  }
  return util::Status::ok();
}

}  // namespace

// --- Pure decisions. ---

MarkErrorClass classify_mark_error(CallErrorKind kind) {
  switch (kind) {
    case CallErrorKind::kSwapNotFound:
    case CallErrorKind::kNotAssignedMiner:
    case CallErrorKind::kMinerNotActive:
    case CallErrorKind::kInvalidAmount:  // we send the amount actually paid; it will never change
      return MarkErrorClass::kTerminal;
    case CallErrorKind::kInvalidStatus:
    case CallErrorKind::kRpcFailure:
      return MarkErrorClass::kAmbiguous;
    case CallErrorKind::kInsufficientBalance:
    case CallErrorKind::kCallFailed:
    case CallErrorKind::kTimeout:
    case CallErrorKind::kMalformedResponse:
      return MarkErrorClass::kTransient;
  }
  HASHLOCK_CHECK(false, "call error kind out of range");
}

SendGate check_send_margin(BlockHeight current, BlockHeight timeout, uint64_t margin_blocks) {
  const int64_t blocks_left = timeout.blocks_after(current);
  if (blocks_left <= 0) return SendGate::kPastDeadline;
  if (static_cast<uint64_t>(blocks_left) <= margin_blocks) return SendGate::kWithinMargin;
  return SendGate::kAllowed;
}

RereadVerdict judge_reread(const std::optional<Swap>& swap, const std::string& miner_id,
                           const TxHash& our_tx) {
  if (!swap) return RereadVerdict::kGone;
  if (swap->miner != miner_id) return RereadVerdict::kTerminal;
  switch (swap->status) {
    case SwapStatus::kActive:
      return RereadVerdict::kStillActive;
    case SwapStatus::kFulfilled:
    case SwapStatus::kCompleted:
      return swap->dest_tx_hash == our_tx ? RereadVerdict::kOurMarkLanded
                                          : RereadVerdict::kTerminal;
    case SwapStatus::kTimedOut:
      return RereadVerdict::kTerminal;
  }
  HASHLOCK_CHECK(false, "swap status out of range");
}

bool call_may_have_landed(CallErrorKind kind) {
  switch (kind) {
    case CallErrorKind::kRpcFailure:
    case CallErrorKind::kTimeout:
      return true;
    case CallErrorKind::kSwapNotFound:
    case CallErrorKind::kInvalidStatus:
    case CallErrorKind::kNotAssignedMiner:
    case CallErrorKind::kMinerNotActive:
    case CallErrorKind::kInvalidAmount:
    case CallErrorKind::kCallFailed:
    case CallErrorKind::kInsufficientBalance:
    case CallErrorKind::kMalformedResponse:
      return false;
  }
  HASHLOCK_CHECK(false, "call error kind out of range");
}

uint64_t mark_backoff_blocks(uint32_t attempt) {
  if (attempt <= 1) return 1;
  const uint32_t shift = std::min<uint32_t>(attempt - 1, 16);
  return std::min<uint64_t>(uint64_t{1} << shift, kMarkBackoffBlocksMax);
}

bool past_discard_point(BlockHeight current, BlockHeight timeout, uint64_t discard_margin_blocks) {
  return current.blocks_after(timeout) > static_cast<int64_t>(discard_margin_blocks);
}

bool may_presume_completed(BlockHeight current, BlockHeight timeout, uint64_t margin_blocks) {
  const int64_t blocks_left = timeout.blocks_after(current);
  return blocks_left > 0 && static_cast<uint64_t>(blocks_left) > margin_blocks;
}

// --- The fulfiller. ---

void Fulfiller::note(std::vector<std::string>& lines, std::string line) const {
  if (config_.event_sink) config_.event_sink(line);
  lines.push_back(std::move(line));
}

Fulfiller::Fulfiller(SendJournal journal, FulfillerNetwork network, RecoveryLogSink& recovery_log,
                     util::Clock& clock, FulfillerConfig config, FulfillerTestHooks hooks)
    : journal_(std::move(journal)),
      network_(network),
      recovery_log_(&recovery_log),
      clock_(&clock),
      config_(std::move(config)),
      hooks_(hooks) {}

util::Result<Fulfiller> Fulfiller::open(store::KVStore& store, FulfillerNetwork network,
                                        RecoveryLogSink& recovery_log, util::Clock& clock,
                                        FulfillerConfig config, FulfillerTestHooks hooks) {
  HASHLOCK_CHECK(network.contract && network.source && network.wallet && network.blocks,
                 "a fulfiller needs every network interface");
  if (config.miner_id.empty())
    return util::invalid_argument("fulfiller: the miner id must not be empty");
  HASHLOCK_ASSIGN_OR_RETURN(SendJournal journal, SendJournal::load(store));
  return Fulfiller(std::move(journal), network, recovery_log, clock, std::move(config), hooks);
}

util::Result<PollReport> Fulfiller::poll() {
  PollReport report;
  CallResult<BlockHeight> block = network_.blocks->current_block();
  for (uint32_t attempt = 1; attempt < kBlockReadAttemptsMax && !block.is_ok(); ++attempt) {
    block = network_.blocks->current_block();
  }
  if (!block.is_ok()) {
    note(report.warnings,
         "current block unknown (" + block.error().to_string() + "); doing nothing");
    return report;
  }
  report.block_known = true;
  report.block = block.value();
  std::vector<SwapId> ids;
  for (const auto& [id, record] : journal_.records()) ids.push_back(id);
  for (SwapId id : ids) {
    HASHLOCK_RETURN_IF_ERROR(advance_record(id, report.block, report));
  }
  HASHLOCK_RETURN_IF_ERROR(start_new_sends(report.block, report));
  return report;
}

util::Status Fulfiller::advance_record(SwapId id, BlockHeight block, PollReport& report) {
  const SendRecord* record = journal_.find(id);
  if (record == nullptr) return util::Status::ok();
  switch (record->stage) {
    case SendStage::kIntent:
      HASHLOCK_RETURN_IF_ERROR(resolve_intent(*record, block, report));
      break;
    case SendStage::kSent:
      HASHLOCK_RETURN_IF_ERROR(advance_sent(*record, block, report, MarkHistory::kMayHaveLanded));
      break;
    case SendStage::kMarked:
      HASHLOCK_RETURN_IF_ERROR(advance_marked(*record, report));
      break;
    case SendStage::kGaveUp:
      HASHLOCK_RETURN_IF_ERROR(log_recovery_once(*record, *record->gave_up_reason,
                                                 "marking failed terminally", block, report));
      break;
  }
  return maybe_discard(id, block, report);
}

// An intent whose broadcast outcome is not recorded: look the transaction up.
util::Status Fulfiller::resolve_intent(SendRecord record, BlockHeight block, PollReport& report) {
  CallResult<TxLookup> lookup = network_.wallet->lookup(record.payment.chain, record.payment.tx_id);
  if (!lookup.is_ok()) {
    if (record.recovery_logged || !unknown_outcome_is_alarming(record, block)) {
      return util::Status::ok();  // unknown: wait, never resend blindly
    }
    return log_recovery_once(record, RecoveryReason::kUnknownSendOutcome,
                             "send outcome unknown: " + lookup.error().to_string(), block, report);
  }
  if (lookup.value().state == TxState::kIncluded) {
    HASHLOCK_CHECK(lookup.value().block.has_value(), "an included transaction has a block");
    record.stage = SendStage::kSent;
    record.dest_tx_block = lookup.value().block;
    HASHLOCK_RETURN_IF_ERROR(journal_.put(record));
    note(report.events, swap_label(record.swap_id) + ": payment " + record.payment.tx_id.to_hex() +
                            " found on chain");
    return advance_sent(record, block, report, MarkHistory::kNeverCalled);
  }
  if (block.blocks_after(record.intent_block) < static_cast<int64_t>(kAbsentSettleBlocks)) {
    return util::Status::ok();  // absent, but it may still be propagating
  }
  return retry_absent_intent(std::move(record), block, report);
}

// An intent whose outcome cannot be established is worth an operator's
// attention once it has stayed unknown for kUnknownOutcomeAlertBlocks, or
// once the swap is past its deadline and gone from the contract (so it can
// no longer be marked; an intent was never marked, so gone means timed out).
// While the swap is still there, a later lookup may still find the payment
// and the mark may still be accepted.
bool Fulfiller::unknown_outcome_is_alarming(const SendRecord& record, BlockHeight block) {
  if (block.blocks_after(record.intent_block) > static_cast<int64_t>(kUnknownOutcomeAlertBlocks))
    return true;
  if (block <= record.timeout_block) return false;
  std::optional<std::optional<Swap>> swap = reread_swap(record.swap_id);
  return swap.has_value() && !swap->has_value();
}

// The intent's transaction is certainly absent: rebroadcast the same payment
// if a new send is still allowed, drop the intent if it never can be.
util::Status Fulfiller::retry_absent_intent(SendRecord record, BlockHeight block,
                                            PollReport& report) {
  if (check_send_margin(block, record.timeout_block, config_.margin_blocks) != SendGate::kAllowed) {
    note(report.events,
         swap_label(record.swap_id) +
             ": intent never reached the chain and the deadline is too close; dropping it");
    backoff_.erase(record.swap_id);
    return journal_.remove(record.swap_id);
  }
  CallResult<std::optional<Swap>> swap = network_.contract->get_swap(record.swap_id);
  if (!swap.is_ok() || !swap.value()) return util::Status::ok();  // cannot tell yet; wait
  const Swap& current = *swap.value();
  if (current.status != SwapStatus::kActive || current.miner != config_.miner_id) {
    note(report.events, swap_label(record.swap_id) +
                            ": intent never reached the chain and the swap is " +
                            std::string(swap_status_name(current.status)) + "; dropping it");
    backoff_.erase(record.swap_id);
    return journal_.remove(record.swap_id);
  }
  if (check_send_margin(block, current.timeout_block, config_.margin_blocks) !=
      SendGate::kAllowed) {
    return util::Status::ok();  // the next poll drops it
  }
  if (!source_payment_confirmed(current, report)) return util::Status::ok();
  record.intent_block = block;  // restart the settle window for this broadcast
  record.timeout_block = current.timeout_block;
  HASHLOCK_RETURN_IF_ERROR(journal_.put(record));
  return broadcast_and_record(std::move(record), block, report);
}

// Broadcasts a payment whose intent is durable, then records what happened.
util::Status Fulfiller::broadcast_and_record(SendRecord record, BlockHeight block,
                                             PollReport& report) {
  CallResult<Done> sent = network_.wallet->broadcast(record.payment);
  ++report.sends;
  if (!sent.is_ok()) {
    note(report.events, swap_label(record.swap_id) + ": broadcast failed (" +
                            sent.error().to_string() + "); the intent will be resolved by lookup");
    return util::Status::ok();
  }
  note(report.events, swap_label(record.swap_id) + ": broadcast " + record.payment.tx_id.to_hex());
  return resolve_intent(std::move(record), block, report);
}

util::Status Fulfiller::advance_sent(SendRecord record, BlockHeight block, PollReport& report,
                                     MarkHistory history) {
  if (history == MarkHistory::kMayHaveLanded) {
    // Look before (re)trying, on every poll and even while backing off: an
    // earlier mark may have landed (a timeout, a crash before it was
    // recorded), and once the swap completes and leaves the contract nobody
    // can tell it completed.
    std::optional<std::optional<Swap>> swap = reread_swap(record.swap_id);
    if (swap && *swap) HASHLOCK_RETURN_IF_ERROR(note_swap_seen(record, **swap, report));
    if (swap && judge_reread(*swap, config_.miner_id, record.payment.tx_id) ==
                    RereadVerdict::kOurMarkLanded) {
      return record_marked(std::move(record), report);
    }
  }
  if (backing_off(record.swap_id, block)) return util::Status::ok();
  CallResult<Done> marked =
      network_.contract->mark_fulfilled(config_.miner_id, record.swap_id, record.payment.tx_id,
                                        *record.dest_tx_block, record.payment.amount);
  if (marked.is_ok()) return record_marked(std::move(record), report);
  const CallError& error = marked.error();
  switch (classify_mark_error(error.kind)) {
    case MarkErrorClass::kTerminal:
      if (error.kind == CallErrorKind::kSwapNotFound)
        return handle_swap_gone(std::move(record), block, report);
      return handle_refused_mark(std::move(record), error, block, report);
    case MarkErrorClass::kAmbiguous:
      return handle_refused_mark(std::move(record), error, block, report);
    case MarkErrorClass::kTransient:
      note(report.events, swap_label(record.swap_id) + ": mark_fulfilled will be retried (" +
                              error.to_string() + ")");
      if (call_may_have_landed(error.kind))
        return confirm_after_timeout(std::move(record), block, report);
      back_off(record.swap_id, block, record.timeout_block);
      return util::Status::ok();
  }
  HASHLOCK_CHECK(false, "mark error class out of range");
}

// A transient failure that may still have landed (a timeout): retry next
// poll as the table says, but look first, so a mark that did land is
// recorded before the swap completes and leaves the contract.
util::Status Fulfiller::confirm_after_timeout(SendRecord record, BlockHeight block,
                                              PollReport& report) {
  std::optional<std::optional<Swap>> swap = reread_swap(record.swap_id);
  if (swap && *swap) HASHLOCK_RETURN_IF_ERROR(note_swap_seen(record, **swap, report));
  if (swap && judge_reread(*swap, config_.miner_id, record.payment.tx_id) ==
                  RereadVerdict::kOurMarkLanded) {
    return record_marked(std::move(record), report);
  }
  back_off(record.swap_id, block, record.timeout_block);
  return util::Status::ok();
}

// Reads the swap up to kRereadAttemptsMax times, again after a failure or an
// empty answer (a read can miss a swap that is there). nullopt: every read
// failed; an empty inner optional: every answer said the swap is not there.
std::optional<std::optional<Swap>> Fulfiller::reread_swap(SwapId id) {
  std::optional<std::optional<Swap>> answer;
  for (uint32_t attempt = 0; attempt < kRereadAttemptsMax; ++attempt) {
    CallResult<std::optional<Swap>> swap = network_.contract->get_swap(id);
    if (!swap.is_ok()) continue;
    if (swap.value()) return std::move(swap).value();
    answer.emplace();  // not there, this time
  }
  return answer;
}

// What a read of the swap tells the record: a later deadline (a timeout
// extension; "as last seen" means the latest seen, never lowered) and, when
// it is Active, that it did not complete after all. Persists any change.
util::Status Fulfiller::note_swap_seen(SendRecord& record, const Swap& swap, PollReport& report) {
  bool changed = false;
  if (swap.timeout_block > record.timeout_block) {
    note(report.events, swap_label(record.swap_id) + ": deadline moved from block " +
                            std::to_string(record.timeout_block.value()) + " to " +
                            std::to_string(swap.timeout_block.value()));
    record.timeout_block = swap.timeout_block;
    changed = true;
  }
  if (record.presumed_completed && swap.status == SwapStatus::kActive) {
    note(report.warnings, swap_label(record.swap_id) +
                              ": presumed completed, but the contract shows it Active again; "
                              "no longer presumed completed");
    record.presumed_completed = false;
    changed = true;
  }
  return changed ? journal_.put(record) : util::Status::ok();
}

// InvalidStatus or RpcFailure (ambiguous), or a terminal refusal other than
// SwapNotFound: our earlier call may have landed (a timeout after effect, or
// a crash before we recorded it). Re-read before concluding anything.
util::Status Fulfiller::handle_refused_mark(SendRecord record, const CallError& error,
                                            BlockHeight block, PollReport& report) {
  std::optional<std::optional<Swap>> swap = reread_swap(record.swap_id);
  if (!swap) {  // every re-read failed: try again next poll
    back_off(record.swap_id, block, record.timeout_block);
    return util::Status::ok();
  }
  if (*swap) HASHLOCK_RETURN_IF_ERROR(note_swap_seen(record, **swap, report));
  switch (judge_reread(*swap, config_.miner_id, record.payment.tx_id)) {
    case RereadVerdict::kOurMarkLanded:
      return record_marked(std::move(record), report);
    case RereadVerdict::kStillActive:
      if (classify_mark_error(error.kind) == MarkErrorClass::kTerminal) break;
      back_off(record.swap_id, block, record.timeout_block);  // our call did not land: retry
      return util::Status::ok();
    case RereadVerdict::kGone:
      // A read can miss; the contract's own answer to mark_fulfilled is what
      // handle_swap_gone trusts. Retry the mark next poll.
      back_off(record.swap_id, block, record.timeout_block);
      return util::Status::ok();
    case RereadVerdict::kTerminal:
      break;
  }
  return give_up(std::move(record), RecoveryReason::kTerminalMarkFulfilledFailure,
                 "mark_fulfilled refused (" + error.to_string() +
                     ") and the swap is not marked with our payment",
                 block, report);
}

// mark_fulfilled said SwapNotFound. Before the deadline only completion
// removes a swap, and completion needs our mark: it landed earlier (e.g. we
// crashed before recording it). But our read of the head can lag the block
// the call executed in, and the contract removes a timed-out swap at its
// deadline: only with more than the margin left is "gone" taken as
// completed. Closer to the deadline the record is not presumed completed, so
// once the deadline has passed it gets timed_out_after_send (a possible false
// alarm, never a missed one). After the deadline the funds may be stuck.
util::Status Fulfiller::handle_swap_gone(SendRecord record, BlockHeight block, PollReport& report) {
  if (block <= record.timeout_block) {
    if (!record.presumed_completed) {
      if (may_presume_completed(block, record.timeout_block, config_.margin_blocks)) {
        record.presumed_completed = true;
        HASHLOCK_RETURN_IF_ERROR(journal_.put(record));
      } else {
        note(report.warnings,
             swap_label(record.swap_id) + ": left the contract at block " +
                 std::to_string(block.value()) + ", within " +
                 std::to_string(config_.margin_blocks) + " blocks of its deadline " +
                 std::to_string(record.timeout_block.value()) +
                 "; not presumed completed (timed_out_after_send once the deadline passes)");
      }
    }
    back_off(record.swap_id, block, record.timeout_block);
    return util::Status::ok();
  }
  if (record.presumed_completed) {
    note(report.events,
         swap_label(record.swap_id) + ": left the contract before its deadline; completed");
    return record_marked(std::move(record), report);
  }
  return give_up(std::move(record), RecoveryReason::kTimedOutAfterSend,
                 "the swap left the contract after its deadline with our payment unmarked", block,
                 report);
}

util::Status Fulfiller::give_up(SendRecord record, RecoveryReason reason, std::string detail,
                                BlockHeight block, PollReport& report) {
  record.stage = SendStage::kGaveUp;
  record.gave_up_reason = reason;
  HASHLOCK_RETURN_IF_ERROR(journal_.put(record));
  backoff_.erase(record.swap_id);
  note(report.warnings, swap_label(record.swap_id) + ": " + detail);
  return log_recovery_once(std::move(record), reason, detail, block, report);
}

util::Status Fulfiller::record_marked(SendRecord record, PollReport& report) {
  record.stage = SendStage::kMarked;
  HASHLOCK_RETURN_IF_ERROR(journal_.put(record));
  backoff_.erase(record.swap_id);
  ++report.marks;
  note(report.events, swap_label(record.swap_id) + ": marked fulfilled with " +
                          record.payment.tx_id.to_hex() + " for " +
                          record.payment.amount.to_string());
  return util::Status::ok();
}

// A marked send is kept until the swap leaves the contract. A marked swap is
// never Active again, so dropping its record cannot enable a second send.
util::Status Fulfiller::advance_marked(const SendRecord& record, PollReport& report) {
  CallResult<std::optional<Swap>> swap = network_.contract->get_swap(record.swap_id);
  if (!swap.is_ok() || swap.value()) return util::Status::ok();
  backoff_.erase(record.swap_id);
  ++report.discarded;
  return journal_.remove(record.swap_id);
}

util::Status Fulfiller::maybe_discard(SwapId id, BlockHeight block, PollReport& report) {
  const SendRecord* found = journal_.find(id);
  if (found == nullptr ||
      !past_discard_point(block, found->timeout_block, config_.discard_margin_blocks)) {
    return util::Status::ok();
  }
  const SendRecord record = *found;
  switch (record.stage) {
    case SendStage::kMarked:
      return util::Status::ok();  // kept until the swap leaves the contract
    case SendStage::kIntent:
      HASHLOCK_RETURN_IF_ERROR(log_recovery_once(record, RecoveryReason::kUnknownSendOutcome,
                                                 "send outcome still unknown at discard", block,
                                                 report));
      break;
    case SendStage::kSent:
      if (record.presumed_completed) break;
      HASHLOCK_RETURN_IF_ERROR(
          log_recovery_once(record, RecoveryReason::kTimedOutAfterSend,
                            "unmarked send past its deadline and discard margin", block, report));
      break;
    case SendStage::kGaveUp:
      break;  // logged (or retried) by advance_record
  }
  const SendRecord* now = journal_.find(id);
  const bool needs_entry = !(now->stage == SendStage::kSent && now->presumed_completed);
  if (needs_entry && !now->recovery_logged) return util::Status::ok();  // log failed: keep, retry
  backoff_.erase(id);
  ++report.discarded;
  return journal_.remove(id);
}

// Writes the swap's one recovery entry, then records durably that it did.
util::Status Fulfiller::log_recovery_once(SendRecord record, RecoveryReason reason,
                                          const std::string& detail, BlockHeight block,
                                          PollReport& report) {
  if (record.recovery_logged) return util::Status::ok();
  const std::string incident = incident_for(record.swap_id, record.payment.tx_id);
  if (!recovery_log_->contains(incident)) {
    RecoveryEntry entry{.timestamp_ms = clock_->now_ms(),
                        .block = block,
                        .swap_id = record.swap_id,
                        .incident = incident,
                        .source_chain = record.source_chain,
                        .dest_chain = record.payment.chain,
                        .source_tx_hash = record.source_tx_hash,
                        .dest_tx_hash = record.payment.tx_id,
                        .dest_amount = record.payment.amount,
                        .timeout_block = record.timeout_block,
                        .reason = reason,
                        .detail = detail};
    util::Status appended = recovery_log_->append(entry);
    if (!appended.is_ok()) {
      ++report.log_failures;
      note(report.warnings, "RECOVERY LOG WRITE FAILED for " + swap_label(record.swap_id) + " (" +
                                std::string(recovery_reason_name(reason)) +
                                "): " + appended.to_string() + "; will retry next poll");
      return util::Status::ok();
    }
    ++report.recovery_entries;
    note(report.warnings, swap_label(record.swap_id) + ": recovery entry " +
                              std::string(recovery_reason_name(reason)) + ": " + detail);
  }
  record.recovery_logged = true;
  return journal_.put(record);
}

// --- New sends. ---

util::Status Fulfiller::start_new_sends(BlockHeight block, PollReport& report) {
  CallResult<std::vector<util::Result<Swap>>> listed =
      network_.contract->list_assigned_swaps(config_.miner_id);
  if (!listed.is_ok()) {
    note(report.warnings, "cannot list assigned swaps: " + listed.error().to_string());
    return util::Status::ok();
  }
  const auto& swaps = listed.value();
  const size_t count = std::min(swaps.size(), kMaxSwapsPerPoll);
  for (size_t i = 0; i < count; ++i) {
    if (!swaps[i].is_ok()) {
      note(report.warnings, "skipping an undecodable swap: " + swaps[i].status().to_string());
      continue;
    }
    const Swap& swap = swaps[i].value();
    if (swap.status != SwapStatus::kActive || swap.miner != config_.miner_id) continue;
    if (journal_.find(swap.id) != nullptr) continue;
    HASHLOCK_RETURN_IF_ERROR(try_new_send(swap, block, report));
  }
  return util::Status::ok();
}

util::Status Fulfiller::try_new_send(const Swap& listed, BlockHeight block, PollReport& report) {
  if (check_send_margin(block, listed.timeout_block, config_.margin_blocks) != SendGate::kAllowed) {
    ++report.skipped_margin;
    return util::Status::ok();
  }
  if (util::Status valid = validate_swap_for_send(listed); !valid.is_ok()) {
    note(report.warnings, swap_label(listed.id) + ": not sending: " + valid.message());
    return util::Status::ok();
  }
  if (journal_.records().size() >= kMaxOpenSends) {
    note(report.warnings, swap_label(listed.id) + ": not sending: too many open sends");
    return util::Status::ok();
  }
  if (!source_payment_confirmed(listed, report)) return util::Status::ok();
  std::optional<Swap> swap = fresh_sendable_swap(listed, block, report);
  if (!swap) return util::Status::ok();
  PaymentRequest request{swap->id, swap->dest_chain, swap->user_dest_address, swap->dest_amount};
  CallResult<PreparedPayment> prepared = network_.wallet->build_payment(request);
  if (!prepared.is_ok()) {
    note(report.events,
         swap_label(swap->id) + ": cannot build the payment: " + prepared.error().to_string());
    return util::Status::ok();
  }
  const PreparedPayment& payment = prepared.value();
  if (payment.swap_id != request.swap_id || payment.amount != request.amount ||
      payment.to_address != request.to_address || payment.chain != request.chain ||
      payment.tx_id.is_zero()) {
    note(report.warnings,
         swap_label(swap->id) + ": the wallet built a payment that does not match the request");
    return util::Status::ok();
  }
  SendRecord record{.swap_id = swap->id,
                    .stage = SendStage::kIntent,
                    .payment = payment,
                    .intent_block = block,
                    .timeout_block = swap->timeout_block,
                    .source_chain = swap->source_chain,
                    .source_tx_hash = swap->source_tx_hash};
  if (hooks_.planted_bug_intent_after_broadcast) {
    CallResult<Done> sent = network_.wallet->broadcast(record.payment);
    ++report.sends;
    HASHLOCK_RETURN_IF_ERROR(journal_.put(record));
    if (!sent.is_ok()) return util::Status::ok();
    return resolve_intent(std::move(record), block, report);
  }
  HASHLOCK_RETURN_IF_ERROR(journal_.put(record));
  return broadcast_and_record(std::move(record), block, report);
}

// Re-reads the swap right before sending: it may have been removed or changed
// since the list was read.
std::optional<Swap> Fulfiller::fresh_sendable_swap(const Swap& listed, BlockHeight block,
                                                   PollReport& report) {
  CallResult<std::optional<Swap>> fresh = network_.contract->get_swap(listed.id);
  if (!fresh.is_ok() || !fresh.value()) {
    note(report.events,
         swap_label(listed.id) + ": not found right before sending; skipped this poll");
    return std::nullopt;
  }
  const Swap& swap = *fresh.value();
  if (swap.status != SwapStatus::kActive || !same_payment_terms(swap, listed)) {
    note(report.events,
         swap_label(listed.id) + ": changed right before sending; skipped this poll");
    return std::nullopt;
  }
  if (check_send_margin(block, swap.timeout_block, config_.margin_blocks) != SendGate::kAllowed) {
    ++report.skipped_margin;
    return std::nullopt;
  }
  return swap;
}

bool Fulfiller::source_payment_confirmed(const Swap& swap, PollReport& report) {
  CallResult<SourcePaymentState> state = network_.source->verify_payment(
      swap.source_chain, swap.source_tx_hash, swap.miner_source_address, swap.source_amount);
  if (!state.is_ok()) return false;
  if (state.value() == SourcePaymentState::kConfirmed) return true;
  note(report.events, swap_label(swap.id) + ": source payment " +
                          std::string(source_payment_state_name(state.value())) + "; not sending");
  return false;
}

void Fulfiller::back_off(SwapId id, BlockHeight block, BlockHeight timeout) {
  Backoff& backoff = backoff_[id];
  ++backoff.attempts;
  uint64_t wait = mark_backoff_blocks(backoff.attempts);
  // Never sleep past the deadline: the last blocks before it matter most.
  const int64_t to_deadline = timeout.blocks_after(block);
  if (to_deadline > 0) wait = std::min<uint64_t>(wait, static_cast<uint64_t>(to_deadline));
  backoff.next_block = BlockHeight(block.value() + wait);
}

bool Fulfiller::backing_off(SwapId id, BlockHeight block) const {
  auto it = backoff_.find(id);
  return it != backoff_.end() && block < it->second.next_block;
}

}  // namespace hashlock::swap
