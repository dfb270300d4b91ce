#include "swap/send_journal.h"

#include <cstdio>

#include "codec/record.h"

namespace hashlock::swap {
namespace {

constexpr codec::RecordKind kSendRecordKind{
    .type = 100, .min_version = 1, .current_version = 1, .name = "swap send record"};

enum SendField : uint64_t {
  kSwapId = 0,
  kStage = 2,
  kChain = 4,
  kToAddress = 6,
  kAmount = 8,
  kWalletNonce = 10,
  kTxId = 12,
  kIntentBlock = 14,
  kTimeoutBlock = 16,
  kSourceChain = 18,
  kSourceTxHash = 20,
  kDestTxBlock = 22,  // present from kSent on
  kPresumedCompleted = 24,
  kGaveUpReason = 26,  // present at kGaveUp
  kRecoveryLogged = 28,
};

// The stage and reason numbers on disk; never renumber.
constexpr uint64_t kDiskStageIntent = 1;
constexpr uint64_t kDiskStageSent = 2;
constexpr uint64_t kDiskStageMarked = 3;
constexpr uint64_t kDiskStageGaveUp = 4;

uint64_t stage_to_disk(SendStage stage) {
  switch (stage) {
    case SendStage::kIntent:
      return kDiskStageIntent;
    case SendStage::kSent:
      return kDiskStageSent;
    case SendStage::kMarked:
      return kDiskStageMarked;
    case SendStage::kGaveUp:
      return kDiskStageGaveUp;
  }
  HASHLOCK_CHECK(false, "send stage out of range");
}

util::Result<SendStage> stage_from_disk(uint64_t value) {
  if (value == kDiskStageIntent) return SendStage::kIntent;
  if (value == kDiskStageSent) return SendStage::kSent;
  if (value == kDiskStageMarked) return SendStage::kMarked;
  if (value == kDiskStageGaveUp) return SendStage::kGaveUp;
  return util::corruption("swap send record: unknown stage " + std::to_string(value));
}

constexpr uint64_t kDiskReasonTerminal = 1;
constexpr uint64_t kDiskReasonTimedOut = 2;
constexpr uint64_t kDiskReasonUnknown = 3;

uint64_t reason_to_disk(RecoveryReason reason) {
  switch (reason) {
    case RecoveryReason::kTerminalMarkFulfilledFailure:
      return kDiskReasonTerminal;
    case RecoveryReason::kTimedOutAfterSend:
      return kDiskReasonTimedOut;
    case RecoveryReason::kUnknownSendOutcome:
      return kDiskReasonUnknown;
  }
  HASHLOCK_CHECK(false, "recovery reason out of range");
}

util::Result<RecoveryReason> reason_from_disk(uint64_t value) {
  if (value == kDiskReasonTerminal) return RecoveryReason::kTerminalMarkFulfilledFailure;
  if (value == kDiskReasonTimedOut) return RecoveryReason::kTimedOutAfterSend;
  if (value == kDiskReasonUnknown) return RecoveryReason::kUnknownSendOutcome;
  return util::corruption("swap send record: unknown recovery reason " + std::to_string(value));
}

util::Result<SendRecord> read_fields(codec::TlvReader& fields) {
  SendRecord record;
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t swap_id, fields.u64(kSwapId));
  record.swap_id = SwapId(swap_id);
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t stage, fields.u64(kStage));
  HASHLOCK_ASSIGN_OR_RETURN(record.stage, stage_from_disk(stage));
  record.payment.swap_id = record.swap_id;
  HASHLOCK_ASSIGN_OR_RETURN(record.payment.chain, fields.string(kChain));
  HASHLOCK_ASSIGN_OR_RETURN(record.payment.to_address, fields.string(kToAddress));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t amount, fields.u64(kAmount));
  record.payment.amount = BaseUnits(amount);
  HASHLOCK_ASSIGN_OR_RETURN(record.payment.wallet_nonce, fields.u64(kWalletNonce));
  HASHLOCK_ASSIGN_OR_RETURN(record.payment.tx_id, fields.bytes32<TxHash>(kTxId));
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t intent_block, fields.u64(kIntentBlock));
  record.intent_block = BlockHeight(intent_block);
  HASHLOCK_ASSIGN_OR_RETURN(uint64_t timeout_block, fields.u64(kTimeoutBlock));
  record.timeout_block = BlockHeight(timeout_block);
  HASHLOCK_ASSIGN_OR_RETURN(record.source_chain, fields.string(kSourceChain));
  HASHLOCK_ASSIGN_OR_RETURN(record.source_tx_hash, fields.bytes32<TxHash>(kSourceTxHash));
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> dest_block, fields.optional_u64(kDestTxBlock));
  if (dest_block) record.dest_tx_block = BlockHeight(*dest_block);
  HASHLOCK_ASSIGN_OR_RETURN(record.presumed_completed, fields.boolean(kPresumedCompleted));
  HASHLOCK_ASSIGN_OR_RETURN(std::optional<uint64_t> reason, fields.optional_u64(kGaveUpReason));
  if (reason) {
    HASHLOCK_ASSIGN_OR_RETURN(record.gave_up_reason, reason_from_disk(*reason));
  }
  HASHLOCK_ASSIGN_OR_RETURN(record.recovery_logged, fields.boolean(kRecoveryLogged));
  HASHLOCK_RETURN_IF_ERROR(fields.finish());
  return record;
}

}  // namespace

std::string_view send_stage_name(SendStage stage) {
  switch (stage) {
    case SendStage::kIntent:
      return "intent";
    case SendStage::kSent:
      return "sent";
    case SendStage::kMarked:
      return "marked";
    case SendStage::kGaveUp:
      return "gave_up";
  }
  HASHLOCK_CHECK(false, "send stage out of range");
}

std::string_view recovery_reason_name(RecoveryReason reason) {
  switch (reason) {
    case RecoveryReason::kTerminalMarkFulfilledFailure:
      return "terminal_mark_fulfilled_failure";
    case RecoveryReason::kTimedOutAfterSend:
      return "timed_out_after_send";
    case RecoveryReason::kUnknownSendOutcome:
      return "unknown_send_outcome";
  }
  HASHLOCK_CHECK(false, "recovery reason out of range");
}

util::Result<RecoveryReason> parse_recovery_reason(std::string_view name) {
  for (RecoveryReason reason :
       {RecoveryReason::kTerminalMarkFulfilledFailure, RecoveryReason::kTimedOutAfterSend,
        RecoveryReason::kUnknownSendOutcome}) {
    if (recovery_reason_name(reason) == name) return reason;
  }
  return util::invalid_argument("unknown recovery reason '" + std::string(name) + "'");
}

util::Status validate_send_record(const SendRecord& record) {
  const std::string what = record.swap_id.to_string() + ": ";
  if (record.payment.swap_id != record.swap_id) {
    return util::corruption(what + "payment is for " + record.payment.swap_id.to_string());
  }
  if (record.payment.amount == BaseUnits::zero())
    return util::corruption(what + "zero payment amount");
  if (record.payment.chain.empty() || record.payment.to_address.empty()) {
    return util::corruption(what + "payment without chain or address");
  }
  if (record.payment.tx_id.is_zero())
    return util::corruption(what + "payment without a transaction id");
  const bool sent_or_later = record.stage != SendStage::kIntent;
  if (sent_or_later && !record.dest_tx_block) {
    return util::corruption(what + "stage " + std::string(send_stage_name(record.stage)) +
                            " without the payment's block");
  }
  if ((record.stage == SendStage::kGaveUp) != record.gave_up_reason.has_value()) {
    return util::corruption(what + "a gave-up reason belongs exactly to stage gave_up");
  }
  return util::Status::ok();
}

util::Bytes encode_send_record(const SendRecord& record) {
  codec::TlvWriter fields;
  fields.u64(kSwapId, record.swap_id.value())
      .u64(kStage, stage_to_disk(record.stage))
      .string(kChain, record.payment.chain)
      .string(kToAddress, record.payment.to_address)
      .u64(kAmount, record.payment.amount.value())
      .u64(kWalletNonce, record.payment.wallet_nonce)
      .bytes32(kTxId, record.payment.tx_id)
      .u64(kIntentBlock, record.intent_block.value())
      .u64(kTimeoutBlock, record.timeout_block.value())
      .string(kSourceChain, record.source_chain)
      .bytes32(kSourceTxHash, record.source_tx_hash);
  if (record.dest_tx_block) fields.u64(kDestTxBlock, record.dest_tx_block->value());
  fields.boolean(kPresumedCompleted, record.presumed_completed);
  if (record.gave_up_reason) fields.u64(kGaveUpReason, reason_to_disk(*record.gave_up_reason));
  fields.boolean(kRecoveryLogged, record.recovery_logged);
  return codec::encode_record(kSendRecordKind, fields);
}

util::Result<SendRecord> decode_send_record(util::ByteView encoded) {
  HASHLOCK_ASSIGN_OR_RETURN(codec::OpenedRecord opened,
                            codec::open_record(kSendRecordKind, encoded));
  HASHLOCK_ASSIGN_OR_RETURN(SendRecord record, read_fields(opened.fields));
  HASHLOCK_RETURN_IF_ERROR(validate_send_record(record));
  return record;
}

std::string SendJournal::key_for(SwapId id) {
  char key[17];
  std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(id.value()));
  return key;
}

util::Result<SendJournal> SendJournal::load(store::KVStore& store) {
  SendJournal journal(store);
  auto entries = store.list(kNamespace);
  if (!entries.is_ok()) return entries.status().with_context("swap send journal");
  if (entries->size() > kMaxOpenSends) {
    return util::corruption("swap send journal holds " + std::to_string(entries->size()) +
                            " records, more than the limit " + std::to_string(kMaxOpenSends));
  }
  for (const store::Entry& entry : *entries) {
    auto record = decode_send_record(entry.value);
    if (!record.is_ok()) {
      return record.status().with_context(std::string("swap send journal: ") + kNamespace + "/" +
                                          entry.key);
    }
    if (key_for(record->swap_id) != entry.key) {
      return util::corruption(std::string("swap send journal: ") + kNamespace + "/" + entry.key +
                              " holds " + record->swap_id.to_string());
    }
    journal.records_.emplace(record->swap_id, std::move(record).value());
  }
  return journal;
}

const SendRecord* SendJournal::find(SwapId id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

util::Status SendJournal::put(const SendRecord& record) {
  HASHLOCK_CHECK(validate_send_record(record).is_ok(),
                 "the fulfiller built an invalid send record");
  if (!records_.contains(record.swap_id) && records_.size() >= kMaxOpenSends) {
    return util::failed_precondition("swap send journal is full (" + std::to_string(kMaxOpenSends) +
                                     " open sends); refusing a new intent");
  }
  HASHLOCK_RETURN_IF_ERROR(store_->put(kNamespace, key_for(record.swap_id),
                                       encode_send_record(record), store::Durability::kSynced));
  records_[record.swap_id] = record;
  return util::Status::ok();
}

util::Status SendJournal::remove(SwapId id) {
  HASHLOCK_RETURN_IF_ERROR(store_->remove(kNamespace, key_for(id), store::Durability::kSynced));
  records_.erase(id);
  return util::Status::ok();
}

}  // namespace hashlock::swap
