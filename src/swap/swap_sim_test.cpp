// The swap simulator: a sweep of seeds in the default suite, a longer sweep
// behind HASHLOCK_SWAP_SIM_SEEDS, determinism, and the canary that proves
// the invariant checker can fail.
#include "swap/swap_sim.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace hashlock::swap {
namespace {

constexpr uint64_t kSweepSeeds = 50;
constexpr uint64_t kSweepSwaps = 2000;

SwapSimOptions contract_options(uint64_t seed) {
  SwapSimOptions options;
  options.seed = seed;
  options.swaps = kSweepSwaps;
  options.crash_rate = 0.05;
  options.rpc_fault_rate = 0.1;
  return options;
}

void expect_clean(const SwapSimResult& result) {
  EXPECT_TRUE(result.ok()) << (result.violations.empty() ? "" : result.violations[0]);
  EXPECT_EQ(result.double_sends, 0u);
  EXPECT_EQ(result.late_sends, 0u);
  EXPECT_EQ(result.unlogged_stuck_funds, 0u);
  EXPECT_EQ(result.false_positive_recoveries, 0u);
  EXPECT_EQ(result.duplicate_recovery_entries, 0u);
  EXPECT_EQ(result.completed + result.timed_out, result.swaps) << "every swap left the contract";
}

TEST(SwapSim, SweepOfFiftySeedsHoldsEveryInvariant) {
  uint64_t crashes = 0;
  for (uint64_t seed = 1; seed <= kSweepSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const SwapSimResult result = run_swap_sim(contract_options(seed));
    expect_clean(result);
    crashes += result.crashes;
  }
  EXPECT_GT(crashes, kSweepSeeds) << "the sweep must actually crash the miner";
}

TEST(SwapSim, LongSweepBehindEnvironmentVariable) {
  const char* seeds = std::getenv("HASHLOCK_SWAP_SIM_SEEDS");
  if (seeds == nullptr) GTEST_SKIP() << "set HASHLOCK_SWAP_SIM_SEEDS=N to sweep seeds 1..N";
  const uint64_t count = std::strtoull(seeds, nullptr, 10);
  for (uint64_t seed = 1; seed <= count; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_clean(run_swap_sim(contract_options(seed)));
  }
}

TEST(SwapSim, HarshFaultsStillHoldEveryInvariant) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SwapSimOptions options = contract_options(seed);
    options.swaps = 500;
    options.crash_rate = 0.3;
    options.rpc_fault_rate = 0.3;
    options.log_fault_rate = 0.2;
    expect_clean(run_swap_sim(options));
  }
}

TEST(SwapSim, WiderMarginIsRespected) {
  SwapSimOptions options = contract_options(7);
  options.swaps = 500;
  options.margin_blocks = 8;
  expect_clean(run_swap_sim(options));
}

TEST(SwapSim, OneSeedReproducesTheRunExactly) {
  SwapSimOptions options = contract_options(42);
  options.swaps = 500;
  const SwapSimResult a = run_swap_sim(options);
  const SwapSimResult b = run_swap_sim(options);
  EXPECT_EQ(a.blocks, b.blocks);
  EXPECT_EQ(a.fulfilled, b.fulfilled);
  EXPECT_EQ(a.completed, b.completed);
  EXPECT_EQ(a.crashes, b.crashes);
  EXPECT_EQ(a.payments, b.payments);
  EXPECT_EQ(a.recovery_entries, b.recovery_entries);
  options.seed = 43;
  const SwapSimResult c = run_swap_sim(options);
  EXPECT_NE(a.blocks * 1'000'000 + a.crashes * 1000 + a.payments,
            c.blocks * 1'000'000 + c.crashes * 1000 + c.payments);
}

TEST(SwapSim, WithoutFaultsEverySendableSwapCompletes) {
  SwapSimOptions options;
  options.seed = 5;
  options.swaps = 500;
  options.log_fault_rate = 0.0;
  const SwapSimResult result = run_swap_sim(options);
  expect_clean(result);
  EXPECT_EQ(result.crashes, 0u);
  EXPECT_EQ(result.fulfilled, result.payments);
  EXPECT_GT(result.completed, result.swaps / 2);
}

// The canary: the planted bug (intent written after the broadcast) must make
// the checker report a double send somewhere in a few seeds.
TEST(SwapSimCanary, PlantedBugIntentAfterBroadcastFailsTheChecker) {
  uint64_t failing_runs = 0;
  std::string example;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SwapSimOptions options = contract_options(seed);
    options.swaps = 500;
    options.crash_rate = 0.3;
    options.planted_bug_intent_after_broadcast = true;
    const SwapSimResult result = run_swap_sim(options);
    if (result.double_sends > 0 && !result.ok()) {
      ++failing_runs;
      example = result.violations[0];
    }
  }
  ASSERT_GT(failing_runs, 0u) << "the invariant checker never noticed the planted bug";
  EXPECT_NE(example.find("double send"), std::string::npos) << example;
  EXPECT_NE(example.find("swap#"), std::string::npos) << example;
  EXPECT_NE(example.find("reproduce: hashlock swap-sim --seed "), std::string::npos) << example;
}

TEST(SwapSim, ReproduceCommandCarriesEveryOption) {
  SwapSimOptions options = contract_options(9);
  options.margin_blocks = 5;
  EXPECT_EQ(swap_sim_command(options),
            "hashlock swap-sim --seed 9 --swaps 2000 --crash-rate 0.05 --rpc-fault-rate 0.1 "
            "--margin-blocks 5");
}

}  // namespace
}  // namespace hashlock::swap
