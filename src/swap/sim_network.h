// SimNetwork: a deterministic, seeded model of the swap network: the
// coordination chain's blocks, the swap contract, the source chain and the
// destination chain with the miner's wallet, with injectable faults.
//
// Purpose: the fulfiller's tests, the swap simulator (swap_sim.h) and the
// miner demo run against it. It also keeps the ground truth the invariant
// checker needs, observed on the simulated chains themselves (every payment
// the destination chain accepted, every swap's final status and whether a
// mark landed), never taken from the miner's own claims.
// Ownership: SimNetwork owns the whole world; the interface adapters it hands
// out (contract(), source(), wallet(), blocks()) point back into it and live
// as long as it does. The world survives simulated miner crashes.
// Thread-safety: none.
// Faults:
//  * random, at `rpc_fault_rate` per call: the call fails; for calls with an
//    effect (broadcast, mark_fulfilled) a share of the failures happen after
//    the effect took place ("timed out after taking effect");
//  * random transient misses of get_swap (the swap is there but the read
//    returns nothing);
//  * scripted faults for tests: fail_next(call, kind, after_effect),
//    miss_next_swap_reads(n), set_block_unknown(), and world changes
//    (reorg a source payment, remove a swap, change a swap's status value,
//    rate or miner, extend a timeout, deactivate the miner).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "swap/interfaces.h"
#include "util/random.h"

namespace hashlock::swap {

// How many extensions a Fulfilled swap's timeout may get, and by how much.
inline constexpr uint32_t kSimMaxTimeoutExtensions = 2;
inline constexpr uint64_t kSimTimeoutExtensionBlocks = 6;

enum class SimCall : uint8_t {
  kCurrentBlock,
  kListSwaps,
  kGetSwap,
  kMarkFulfilled,
  kVerifyPayment,
  kBuildPayment,
  kBroadcast,
  kLookup,
};

struct SimNetworkOptions {
  uint64_t seed = 1;
  double rpc_fault_rate = 0.0;       // per call
  double after_effect_share = 0.5;   // of failing effectful calls
  double swap_read_miss_rate = 0.0;  // per get_swap
  // Per block, the chance that a swap past its deadline is timed out (the
  // keeper that processes timeouts may lag; until then marks are accepted).
  double timeout_keeper_probability = 1.0;
  uint64_t completion_delay_min_blocks = 4;  // validators confirm both legs
  uint64_t completion_delay_max_blocks = 8;
  uint64_t source_confirmation_blocks = 1;
  uint64_t wallet_balance = 1'000'000'000'000;
  uint64_t wallet_fee = 10;
};

struct SimSwapSpec {
  std::string miner = "miner-1";
  uint64_t source_amount = 1'000;
  uint64_t dest_amount = 2'000;
  uint64_t timeout_after_blocks = 20;
};

// One payment the destination chain accepted (ground truth).
struct SimDestPayment {
  TxHash tx_id;
  SwapId swap_id;
  BaseUnits amount;
  BlockHeight block;
  // The swap's deadline when the payment was included, and whether the swap
  // was still live (in the contract) then.
  BlockHeight timeout_at_send;
  bool swap_live_at_send = false;
};

// What happened to a swap by the time it left the contract (ground truth).
struct SimSwapOutcome {
  SwapStatus final_status = SwapStatus::kTimedOut;
  bool marked = false;  // a mark_fulfilled landed
  BlockHeight timeout_block;
  BlockHeight removed_block;
};

// Every mark_fulfilled call that reached the network, landed or not.
struct SimMarkCall {
  SwapId swap_id;
  TxHash dest_tx_hash;
  BlockHeight dest_tx_block;
  BaseUnits dest_amount;
  bool landed = false;
};

class SimNetwork {
 public:
  explicit SimNetwork(SimNetworkOptions options);
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  SwapContract& contract();
  SourceChain& source();
  DestinationWallet& wallet();
  BlockSource& blocks();

  // --- The world. ---
  BlockHeight height() const { return height_; }
  // Mines one block: confirms source payments, completes, extends and times
  // out swaps.
  void advance_block();
  // A user opens a swap and pays on the source chain in this block.
  SwapId create_swap(const SimSwapSpec& spec);
  size_t live_swaps() const { return live_.size(); }
  const Swap* live_swap(SwapId id) const;

  // --- Scripted faults and world changes (tests). ---
  void fail_next(SimCall call, CallErrorKind kind, bool after_effect = false);
  void miss_next_swap_reads(uint32_t count) { scripted_misses_ += count; }
  void set_block_unknown(bool unknown) { block_unknown_ = unknown; }
  void reorg_source_payment(SwapId id);
  void remove_swap(SwapId id);  // as if completed or timed out: it just disappears
  void set_wire_status(SwapId id, uint64_t wire_status);
  void set_rate(SwapId id, ExchangeRate rate);
  void set_swap_miner(SwapId id, const std::string& miner);
  void extend_timeout(SwapId id, uint64_t blocks);
  void set_miner_active(const std::string& miner, bool active);
  // Every mark_fulfilled fails with CallFailed (no effect) while height < `height`.
  void fail_marks_until(BlockHeight height) { marks_fail_until_ = height; }
  void set_wallet_fee(uint64_t fee) { options_.wallet_fee = fee; }
  void set_rpc_fault_rate(double rate) { options_.rpc_fault_rate = rate; }

  // --- Ground truth. ---
  const std::vector<SimDestPayment>& dest_payments() const { return payments_; }
  size_t payments_for(SwapId id) const;
  const std::map<SwapId, SimSwapOutcome>& outcomes() const { return outcomes_; }
  const std::vector<SimMarkCall>& mark_calls() const { return mark_calls_; }
  uint64_t wallet_balance() const { return balance_; }
  uint64_t swaps_created() const { return next_swap_id_ - 1; }

 private:
  class Contract;
  class Source;
  class Wallet;
  class Blocks;
  friend class Contract;
  friend class Source;
  friend class Wallet;
  friend class Blocks;

  struct LiveSwap {
    Swap swap;
    uint64_t wire_status = kWireStatusActive;
    uint32_t extensions = 0;
    bool marked = false;
    BlockHeight complete_at;  // once Fulfilled
  };
  struct SourcePayment {
    std::string recipient;
    BaseUnits amount;
    BlockHeight block;
    bool reorged_out = false;
  };
  struct PendingFault {
    CallErrorKind kind;
    bool after_effect;
  };
  // A fault for this call, scripted first, then random; nullopt: no fault.
  std::optional<PendingFault> draw_fault(SimCall call, bool has_effect);
  util::Result<Swap> decode(const LiveSwap& live) const;
  void finish_swap(std::map<SwapId, LiveSwap>::iterator it, SwapStatus final_status);
  bool dest_payment_valid(const LiveSwap& live) const;
  bool source_payment_valid(const LiveSwap& live) const;
  void step_swap(std::map<SwapId, LiveSwap>::iterator& it);

  SimNetworkOptions options_;
  util::Rng rng_;
  BlockHeight height_{100};
  bool block_unknown_ = false;
  uint64_t next_swap_id_ = 1;
  uint64_t wallet_nonce_ = 0;
  uint64_t balance_ = 0;
  uint32_t scripted_misses_ = 0;
  BlockHeight marks_fail_until_;
  std::map<SwapId, LiveSwap> live_;
  std::map<SwapId, SimSwapOutcome> outcomes_;
  std::map<TxHash, SourcePayment> source_payments_;
  std::map<TxHash, size_t> dest_by_tx_;  // index into payments_
  std::vector<SimDestPayment> payments_;
  std::vector<SimMarkCall> mark_calls_;
  std::map<std::string, bool> miner_inactive_;
  std::map<SimCall, std::deque<PendingFault>> scripted_;
  std::unique_ptr<Contract> contract_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<Wallet> wallet_;
  std::unique_ptr<Blocks> blocks_;
};

}  // namespace hashlock::swap
