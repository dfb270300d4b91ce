// Fulfiller: the miner's decision logic for paying and marking swaps.
//
// Purpose: each poll() reads the current block, advances every swap the
// miner has a send record for (resolve an intent, mark a send, clean up), and
// then starts new sends for Active swaps assigned to it. See
// docs/swap.md and the spec (swap-fulfillment.md) for the rules.
// Ownership: the fulfiller borrows the store, the network interfaces, the
// recovery log sink and the clock; the caller keeps them alive. It owns the
// SendJournal (a cache of the store's records) and an in-memory backoff
// table (losing it on restart only makes the next retry come sooner).
// Thread-safety: none; one thread calls poll().
// Invariants:
//  1. A payment is broadcast only after its intent (the prepared payment,
//     transaction id fixed) is durable. Restarts resolve an intent by looking
//     its transaction up; they rebroadcast only that same payment, and only
//     when it is certainly absent and the margin still allows a new send.
//  2. No new send (first broadcast or rebroadcast of an absent intent) when
//     timeout_block - current_block <= margin_blocks; nothing at all happens
//     when the current block is unknown.
//  3. mark_fulfilled always carries the recorded hash, block and amount sent.
//  4. At most one recovery entry per swap (per payment), written before its
//     record is discarded; never for a send the miner has seen marked.
//  5. A store failure ends poll() with that error: the caller must stop (and
//     restart from the store); the fulfiller never runs ahead of the disk.
//  6. mark_fulfilled errors follow the spec's table, with re-reads: a swap
//     Fulfilled with our tx hash is success whatever the call said.
//  7. A send is presumed completed (no recovery entry) only when the swap
//     left the contract with more than margin_blocks left before its
//     deadline, and only until a read shows it Active again. A read showing
//     a later deadline raises the record's deadline (durably).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/kv_store.h"
#include "swap/interfaces.h"
#include "swap/recovery_log.h"
#include "swap/send_journal.h"
#include "util/clock.h"

namespace hashlock::swap {

inline constexpr uint64_t kDefaultMarginBlocks = 3;
inline constexpr uint64_t kDefaultDiscardMarginBlocks = 20;
// An intent whose transaction the chain still does not know this many blocks
// after the intent was written is certainly absent (propagation is bounded).
inline constexpr uint64_t kAbsentSettleBlocks = 2;
// An intent whose outcome cannot be looked up for this long is logged even
// before its deadline.
inline constexpr uint64_t kUnknownOutcomeAlertBlocks = 50;
// Backoff between transient mark_fulfilled retries: 1, 2, 4, ... blocks, at most this.
inline constexpr uint64_t kMarkBackoffBlocksMax = 8;
// Re-reads of a swap after an ambiguous mark_fulfilled result, within one poll.
inline constexpr uint32_t kRereadAttemptsMax = 3;
// Reads of the current block per poll before the poll gives up (does nothing).
inline constexpr uint32_t kBlockReadAttemptsMax = 3;
// The most swaps one poll looks at from the contract's list.
inline constexpr size_t kMaxSwapsPerPoll = 10'000;

struct FulfillerConfig {
  std::string miner_id;
  uint64_t margin_blocks = kDefaultMarginBlocks;
  uint64_t discard_margin_blocks = kDefaultDiscardMarginBlocks;
  // Optional: called with every event and warning line as it happens (the
  // PollReport of a poll that fails is lost; these lines are not).
  std::function<void(const std::string&)> event_sink;
};

struct FulfillerNetwork {
  SwapContract* contract = nullptr;
  SourceChain* source = nullptr;
  DestinationWallet* wallet = nullptr;
  BlockSource* blocks = nullptr;
};

// Test-only switches. Each one plants a known bug so a test can prove the
// invariant checker catches it; production code never sets them.
struct FulfillerTestHooks {
  // PLANTED BUG: persist the send intent after the broadcast instead of before.
  bool planted_bug_intent_after_broadcast = false;
};

struct PollReport {
  bool block_known = false;
  BlockHeight block;
  uint32_t sends = 0;           // broadcasts of new payments (and rebroadcasts)
  uint32_t marks = 0;           // sends that became marked this poll
  uint32_t skipped_margin = 0;  // swaps not sent because too close to their deadline
  uint32_t recovery_entries = 0;
  uint32_t log_failures = 0;
  uint32_t discarded = 0;
  std::vector<std::string> events;    // one line per notable step, for the operator
  std::vector<std::string> warnings;  // things an operator should see loudly
};

// --- Pure decisions (no I/O), tested on their own. ---

enum class MarkErrorClass : uint8_t { kTerminal, kAmbiguous, kTransient };
MarkErrorClass classify_mark_error(CallErrorKind kind);

enum class SendGate : uint8_t {
  kAllowed,       // timeout_block - current_block > margin
  kWithinMargin,  // 0 < blocks left <= margin
  kPastDeadline,  // blocks left <= 0
};
SendGate check_send_margin(BlockHeight current, BlockHeight timeout, uint64_t margin_blocks);

// What a re-read of the swap says about our mark.
enum class RereadVerdict : uint8_t {
  kOurMarkLanded,  // Fulfilled with our destination tx hash
  kStillActive,    // Active and still ours: our call did not land; retry
  kGone,           // the contract no longer holds it
  kTerminal,       // anything else: another hash, another miner, another status
};
RereadVerdict judge_reread(const std::optional<Swap>& swap, const std::string& miner_id,
                           const TxHash& our_tx);

// RpcFailure and Timeout: the call may have taken effect although it failed.
bool call_may_have_landed(CallErrorKind kind);
// Blocks to wait before mark retry number `attempt` (1-based).
uint64_t mark_backoff_blocks(uint32_t attempt);
bool past_discard_point(BlockHeight current, BlockHeight timeout, uint64_t discard_margin_blocks);
// A swap that left the contract may be presumed completed only while
// current + margin_blocks < timeout: the slack covers a read of the head
// that lags the block the contract's answer came from.
bool may_presume_completed(BlockHeight current, BlockHeight timeout, uint64_t margin_blocks);

class Fulfiller {
 public:
  // Loads the send journal; a corrupt or unreadable store is an error.
  static util::Result<Fulfiller> open(store::KVStore& store, FulfillerNetwork network,
                                      RecoveryLogSink& recovery_log, util::Clock& clock,
                                      FulfillerConfig config, FulfillerTestHooks hooks = {});

  // One poll. An error is a store failure: stop, and restart from the store.
  util::Result<PollReport> poll();

  const SendJournal& journal() const { return journal_; }
  const FulfillerConfig& config() const { return config_; }

 private:
  struct Backoff {
    uint32_t attempts = 0;
    BlockHeight next_block;
  };

  Fulfiller(SendJournal journal, FulfillerNetwork network, RecoveryLogSink& recovery_log,
            util::Clock& clock, FulfillerConfig config, FulfillerTestHooks hooks);

  util::Status advance_record(SwapId id, BlockHeight block, PollReport& report);
  util::Status resolve_intent(SendRecord record, BlockHeight block, PollReport& report);
  bool unknown_outcome_is_alarming(const SendRecord& record, BlockHeight block);
  util::Status retry_absent_intent(SendRecord record, BlockHeight block, PollReport& report);
  util::Status broadcast_and_record(SendRecord record, BlockHeight block, PollReport& report);
  // kNeverCalled: the payment was found on chain in this very poll, so no
  // mark_fulfilled was ever sent for it. kMayHaveLanded: anything older.
  enum class MarkHistory : uint8_t { kNeverCalled, kMayHaveLanded };
  util::Status advance_sent(SendRecord record, BlockHeight block, PollReport& report,
                            MarkHistory history);
  std::optional<std::optional<Swap>> reread_swap(SwapId id);
  util::Status note_swap_seen(SendRecord& record, const Swap& swap, PollReport& report);
  util::Status confirm_after_timeout(SendRecord record, BlockHeight block, PollReport& report);
  util::Status handle_refused_mark(SendRecord record, const CallError& error, BlockHeight block,
                                   PollReport& report);
  util::Status handle_swap_gone(SendRecord record, BlockHeight block, PollReport& report);
  util::Status give_up(SendRecord record, RecoveryReason reason, std::string detail,
                       BlockHeight block, PollReport& report);
  util::Status advance_marked(const SendRecord& record, PollReport& report);
  util::Status record_marked(SendRecord record, PollReport& report);
  util::Status maybe_discard(SwapId id, BlockHeight block, PollReport& report);
  util::Status log_recovery_once(SendRecord record, RecoveryReason reason,
                                 const std::string& detail, BlockHeight block, PollReport& report);

  util::Status start_new_sends(BlockHeight block, PollReport& report);
  util::Status try_new_send(const Swap& listed, BlockHeight block, PollReport& report);
  std::optional<Swap> fresh_sendable_swap(const Swap& listed, BlockHeight block,
                                          PollReport& report);
  bool source_payment_confirmed(const Swap& swap, PollReport& report);

  void note(std::vector<std::string>& lines, std::string line) const;
  void back_off(SwapId id, BlockHeight block, BlockHeight timeout);
  bool backing_off(SwapId id, BlockHeight block) const;

  SendJournal journal_;
  FulfillerNetwork network_;
  RecoveryLogSink* recovery_log_;
  util::Clock* clock_;
  FulfillerConfig config_;
  FulfillerTestHooks hooks_;
  std::map<SwapId, Backoff> backoff_;
};

}  // namespace hashlock::swap
