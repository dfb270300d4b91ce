#include "swap/miner.h"

#include <gtest/gtest.h>

#include "swap/test_world.h"

namespace hashlock::swap {
namespace {

using testing::TestWorld;

MinerOptions options_for(const std::string& id) {
  MinerOptions options;
  options.fulfiller.miner_id = id;
  options.lease_ttl_ms = 10'000;
  return options;
}

TEST(Miner, TwoMinerProcessesOnOneStore_TheSecondIsRefusedNamingTheOwner) {
  TestWorld world;
  auto first =
      Miner::start(world.store, world.network(), world.log, world.clock, options_for("miner-1"));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  auto second =
      Miner::start(world.store, world.network(), world.log, world.clock, options_for("miner-1b"));
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), util::StatusCode::kLeaseHeld);
  EXPECT_NE(second.status().message().find("'miner-1'"), std::string::npos)
      << second.status().message();
}

TEST(Miner, TwoMinerProcessesOnOneStore_AStalledMinerIsFencedOutAndNeverPays) {
  TestWorld world;
  auto first =
      Miner::start(world.store, world.network(), world.log, world.clock, options_for("miner-1"));
  ASSERT_TRUE(first.is_ok());
  ASSERT_TRUE(first->run_once().is_ok());
  world.clock.advance_ms(20'000);  // the first process stalls past its lease
  auto second =
      Miner::start(world.store, world.network(), world.log, world.clock, options_for("miner-1b"));
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  const SwapId id = world.confirmed_swap();
  auto fenced = first->run_once();
  ASSERT_FALSE(fenced.is_ok());
  EXPECT_EQ(fenced.status().code(), util::StatusCode::kLeaseHeld);
  EXPECT_EQ(world.net.payments_for(id), 0u) << "the fenced-out miner did nothing";
}

TEST(Miner, TwoProcessesWithTheSameMinerIdButDistinctLeaseOwners_TheSecondIsRefused) {
  TestWorld world;
  MinerOptions first_options = options_for("miner-1");
  first_options.lease_owner = "miner-1@host:100";
  MinerOptions second_options = options_for("miner-1");
  second_options.lease_owner = "miner-1@host:200";
  auto first = Miner::start(world.store, world.network(), world.log, world.clock, first_options);
  ASSERT_TRUE(first.is_ok());
  auto second = Miner::start(world.store, world.network(), world.log, world.clock, second_options);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), util::StatusCode::kLeaseHeld);
}

TEST(Miner, StopReleasesTheLeaseForTheNextProcess) {
  TestWorld world;
  auto first =
      Miner::start(world.store, world.network(), world.log, world.clock, options_for("miner-1"));
  ASSERT_TRUE(first.is_ok());
  ASSERT_TRUE(first->stop().is_ok());
  auto next =
      Miner::start(world.store, world.network(), world.log, world.clock, options_for("miner-1b"));
  EXPECT_TRUE(next.is_ok()) << next.status().to_string();
}

TEST(Miner, RestartedSameMinerPicksUpItsOwnLeaseAndRecords) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  {
    auto first = Miner::start(world.store, world.network(), world.log, world.clock,
                              options_for(testing::kMiner));
    ASSERT_TRUE(first->run_once().is_ok());
  }
  world.store.crash();
  auto again = Miner::start(world.store, world.network(), world.log, world.clock,
                            options_for(testing::kMiner));
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  ASSERT_NE(again->fulfiller().journal().find(id), nullptr);
  world.mine(1);
  ASSERT_TRUE(again->run_once().is_ok());
  EXPECT_EQ(again->fulfiller().journal().find(id)->stage, SendStage::kMarked);
  EXPECT_EQ(world.net.payments_for(id), 1u);
}

}  // namespace
}  // namespace hashlock::swap
