// SendJournal: the miner's durable memory of every destination payment it
// has prepared, sent and marked, one record per swap in the KVStore.
//
// Purpose: "never send twice". A send intent (the prepared payment, whose
// transaction id is fixed) is written with a synced write before the payment
// is broadcast; the outcome (sent, with its block), the mark, and the fact
// that a recovery entry was written are each recorded the same way after the
// fact. After a restart the journal is the whole truth the miner starts from.
// Ownership: the journal borrows the store (which must outlive it) and owns a
// cache of every record; the cache changes only after the store accepted the
// write, so it never claims more than the disk holds.
// Thread-safety: none; one fulfiller uses it from one thread.
// Invariants:
//  * Every record read back is validated as strictly as one written
//    (validate_send_record); a corrupt or undecodable record makes load()
//    fail, naming its key. The miner never continues with an empty cache.
//  * A record at stage kSent or later carries the block of its payment.
//  * At most kMaxOpenSends records exist; beyond that new intents are refused.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "store/kv_store.h"
#include "swap/interfaces.h"
#include "swap/model.h"

namespace hashlock::swap {

// The most send records the journal holds at once (open swaps of one miner).
inline constexpr size_t kMaxOpenSends = 100'000;

enum class SendStage : uint8_t {
  kIntent,  // prepared payment persisted; its broadcast outcome is not yet known
  kSent,    // the payment is on the destination chain; not yet marked
  kMarked,  // mark_fulfilled landed (or the swap completed); kept until it leaves the contract
  kGaveUp,  // marking failed terminally; funds may be stuck (recovery entry)
};
std::string_view send_stage_name(SendStage stage);

enum class RecoveryReason : uint8_t {
  kTerminalMarkFulfilledFailure,
  kTimedOutAfterSend,
  kUnknownSendOutcome,
};
std::string_view recovery_reason_name(RecoveryReason reason);
util::Result<RecoveryReason> parse_recovery_reason(std::string_view name);

struct SendRecord {
  SwapId swap_id;
  SendStage stage = SendStage::kIntent;
  PreparedPayment payment;    // what was (or will be) broadcast, tx id included
  BlockHeight intent_block;   // when the intent was (last) written
  BlockHeight timeout_block;  // the swap's deadline as last seen (raised by a later read)
  std::string source_chain;
  TxHash source_tx_hash;
  std::optional<BlockHeight> dest_tx_block;  // set from kSent on
  // Set when mark_fulfilled said SwapNotFound with more than margin_blocks
  // left before the deadline: the contract removes a swap early only when it
  // completed, which needs our mark. Cleared when the swap is seen Active.
  bool presumed_completed = false;
  std::optional<RecoveryReason> gave_up_reason;  // set at kGaveUp
  bool recovery_logged = false;                  // our recovery entry for this swap is in the log
};

// Checks a record's internal consistency (before writing, after reading).
util::Status validate_send_record(const SendRecord& record);
util::Bytes encode_send_record(const SendRecord& record);
util::Result<SendRecord> decode_send_record(util::ByteView encoded);

class SendJournal {
 public:
  static constexpr const char* kNamespace = "swap_sends";

  // Reads every record; any corrupt or invalid one is an error naming its key.
  static util::Result<SendJournal> load(store::KVStore& store);

  const std::map<SwapId, SendRecord>& records() const { return records_; }
  const SendRecord* find(SwapId id) const;
  // Writes `record` with a synced write, then updates the cache.
  util::Status put(const SendRecord& record);
  // Removes the record with a synced write, then from the cache.
  util::Status remove(SwapId id);

  static std::string key_for(SwapId id);

 private:
  explicit SendJournal(store::KVStore& store) : store_(&store) {}

  store::KVStore* store_;
  std::map<SwapId, SendRecord> records_;
};

}  // namespace hashlock::swap
