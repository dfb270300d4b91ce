// The swap simulator: runs the real miner (Miner + Fulfiller) against the
// simulated network on a fault-injecting MemoryStore, crashes it at random
// persistence points, restarts it from the store, and checks invariant 6 of
// testing.md against the simulated chains' ground truth.
//
// Purpose: `hashlock swap-sim` and the sweep/canary tests share this driver.
// One seed reproduces a run exactly (all randomness comes from util::Rng).
// Crash model: with probability crash_rate per block, the store is told to
// go down after a random number (1..kSimCrashOpsAheadMax) of further store
// operations; when it is down the "process" dies: the Miner is dropped, the
// store crashes (torn: a random prefix of unsynced batches survives), and a
// new Miner is started from the store in the same block. The network and the
// recovery log file (an in-memory sink that fails appends at log_fault_rate)
// are outside the process and survive.
// Invariants checked at quiescence, from ground truth:
//  * no swap paid twice (the destination chain's payments per swap);
//  * no payment included with timeout - block <= margin (or after the swap
//    left the contract);
//  * every swap that timed out with a payment and no landed mark has exactly
//    one recovery entry; no swap has more than one;
//  * no recovery entry for a swap that completed;
//  * the run quiesced: every swap left the contract and the journal drained.
// Thread-safety: none; each run is self-contained.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "swap/fulfiller.h"

namespace hashlock::swap {

inline constexpr uint64_t kSimMaxSpawnPerBlock = 4;
inline constexpr uint64_t kSimCrashOpsAheadMax = 24;
inline constexpr uint32_t kSimMaxRestartsPerBlock = 32;
inline constexpr uint64_t kSimTimeoutMinBlocks = 2;
inline constexpr uint64_t kSimTimeoutMaxBlocks = 25;
// Blocks the run may take: generous for spawning plus draining every swap.
inline constexpr uint64_t kSimMaxBlocksPerSwap = 4;
inline constexpr uint64_t kSimDrainBlocksMax = 500;

struct SwapSimOptions {
  uint64_t seed = 1;
  uint64_t swaps = 200;
  double crash_rate = 0.0;      // per block: arm a crash at an upcoming persistence point
  double rpc_fault_rate = 0.0;  // per network call
  uint64_t margin_blocks = kDefaultMarginBlocks;
  uint64_t discard_margin_blocks = kDefaultDiscardMarginBlocks;
  double log_fault_rate = 0.02;  // per block: the next recovery-log append fails
  bool torn_crashes = true;
  // Test-only: plant the "intent after broadcast" bug (the canary).
  bool planted_bug_intent_after_broadcast = false;
  // When non-zero, print every miner event about this swap id to stderr.
  uint64_t trace_swap = 0;
};

struct SwapSimResult {
  uint64_t seed = 0;
  uint64_t swaps = 0;
  uint64_t blocks = 0;
  uint64_t fulfilled = 0;  // swaps whose mark_fulfilled landed
  uint64_t completed = 0;
  uint64_t timed_out = 0;
  uint64_t crashes = 0;
  uint64_t restarts = 0;
  uint64_t payments = 0;  // destination payments the chain accepted
  uint64_t double_sends = 0;
  uint64_t late_sends = 0;
  uint64_t unlogged_stuck_funds = 0;
  uint64_t duplicate_recovery_entries = 0;
  uint64_t recovery_entries = 0;
  uint64_t false_positive_recoveries = 0;
  uint64_t log_write_failures = 0;
  std::vector<std::string> violations;
  uint64_t wall_ms = 0;

  bool ok() const { return violations.empty(); }
};

// Called once per simulated block with (blocks so far, swaps created, total).
using SwapSimProgress = std::function<void(uint64_t, uint64_t, uint64_t)>;

SwapSimResult run_swap_sim(const SwapSimOptions& options, const SwapSimProgress& progress = {});
// The command line that reproduces a run.
std::string swap_sim_command(const SwapSimOptions& options);

}  // namespace hashlock::swap
