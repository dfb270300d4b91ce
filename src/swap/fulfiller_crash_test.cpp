// Crash tests: stop the miner at every persistence point of a fulfillment
// (go_down_after(n) for n = 1..N, N counted from a fault-free run), restart
// it from the store, and check against the simulated chains that the swap
// was paid exactly once and logged exactly as it should be.
#include <gtest/gtest.h>

#include <functional>

#include "swap/test_world.h"

namespace hashlock::swap {
namespace {

using testing::TestWorld;

struct Scenario {
  const char* name;
  uint64_t timeout_after_blocks = 12;
  std::function<void(TestWorld&, SwapId)> setup;  // scripted faults
  SwapStatus expected_final = SwapStatus::kCompleted;
  size_t expected_entries = 0;
};

struct Outcome {
  size_t payments = 0;
  size_t entries = 0;
  SwapStatus final_status = SwapStatus::kActive;
  uint64_t operations = 0;
  int crashes = 0;
  bool settled = false;
};

Outcome run(const Scenario& scenario, std::optional<uint64_t> crash_after, bool torn,
            bool planted_bug = false) {
  TestWorld world(SimNetworkOptions{.seed = 11},
                  store::MemoryStoreOptions{.seed = crash_after.value_or(0), .torn_crash = torn});
  world.hooks.planted_bug_intent_after_broadcast = planted_bug;
  const SwapId id = world.confirmed_swap(scenario.timeout_after_blocks);
  if (scenario.setup) scenario.setup(world, id);
  const uint64_t before = world.store.operations();
  if (crash_after) world.store.go_down_after(*crash_after);
  Outcome outcome;
  outcome.settled =
      world.run_until([&] { return world.net.live_swap(id) == nullptr && world.forgotten(id); });
  outcome.payments = world.net.payments_for(id);
  outcome.entries = world.entries_for(id);
  if (auto it = world.net.outcomes().find(id); it != world.net.outcomes().end())
    outcome.final_status = it->second.final_status;
  outcome.operations = world.store.operations() - before;
  outcome.crashes = world.crashes;
  return outcome;
}

const Scenario kScenarios[] = {
    {.name = "clean fulfillment"},
    {.name = "mark retried after a transient error",
     .setup = [](TestWorld& w,
                 SwapId) { w.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed); }},
    {.name = "mark landed behind an RpcFailure",
     .setup =
         [](TestWorld& w, SwapId) {
           w.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kRpcFailure, true);
         }},
    {.name = "broadcast timed out after it went out",
     .setup = [](TestWorld& w,
                 SwapId) { w.net.fail_next(SimCall::kBroadcast, CallErrorKind::kTimeout, true); }},
    {.name = "terminal mark failure",
     .setup = [](TestWorld& w, SwapId) { w.net.set_miner_active(testing::kMiner, false); },
     .expected_final = SwapStatus::kTimedOut,
     .expected_entries = 1},
    {.name = "timed out after send",
     .timeout_after_blocks = 6,
     .setup =
         [](TestWorld& w, SwapId id) {
           w.net.fail_marks_until(BlockHeight(w.net.live_swap(id)->timeout_block.value() + 5));
         },
     .expected_final = SwapStatus::kTimedOut,
     .expected_entries = 1},
};

class FulfillerCrash : public ::testing::TestWithParam<bool> {};

TEST_P(FulfillerCrash, CrashAtEveryPersistencePointOfAFulfillment_PaysOnceAndLogsExactlyAsNeeded) {
  const bool torn = GetParam();
  for (const Scenario& scenario : kScenarios) {
    SCOPED_TRACE(scenario.name);
    const Outcome clean = run(scenario, std::nullopt, torn);
    ASSERT_TRUE(clean.settled);
    ASSERT_EQ(clean.payments, 1u);
    ASSERT_EQ(clean.final_status, scenario.expected_final);
    ASSERT_EQ(clean.entries, scenario.expected_entries);
    ASSERT_GE(clean.operations, 6u) << "intent, outcome and a final record at least";
    for (uint64_t n = 1; n <= clean.operations; ++n) {
      SCOPED_TRACE("store down after operation " + std::to_string(n) + " of " +
                   std::to_string(clean.operations));
      const Outcome crashed = run(scenario, n, torn);
      EXPECT_TRUE(crashed.settled);
      EXPECT_GE(crashed.crashes, 1) << "the crash point was reached";
      EXPECT_EQ(crashed.payments, 1u) << "paid exactly once";
      EXPECT_EQ(crashed.final_status, scenario.expected_final);
      EXPECT_EQ(crashed.entries, scenario.expected_entries) << "recovery entries";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CleanAndTorn, FulfillerCrash, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Torn" : "Clean";
                         });

// The canary: with the intent written after the broadcast (a planted bug),
// some crash point must produce a double payment, or the crash test above
// could not tell a correct miner from a broken one.
TEST(FulfillerCrashCanary, PlantedBugIntentAfterBroadcast_DoubleSendsAtSomeCrashPoint) {
  const Scenario& scenario = kScenarios[0];
  const Outcome clean = run(scenario, std::nullopt, false, /*planted_bug=*/true);
  ASSERT_EQ(clean.payments, 1u);
  size_t double_sends = 0;
  for (uint64_t n = 1; n <= clean.operations; ++n) {
    if (run(scenario, n, false, /*planted_bug=*/true).payments > 1) ++double_sends;
  }
  EXPECT_GT(double_sends, 0u) << "the planted bug went unnoticed";
}

}  // namespace
}  // namespace hashlock::swap
