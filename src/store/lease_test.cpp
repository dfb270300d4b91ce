#include "store/lease.h"

#include <gtest/gtest.h>

#include "store/memory_store.h"
#include "store/open_store.h"
#include "tests/support/store_backends.h"

namespace hashlock::store {
namespace {

TEST(StoreLease, SecondOwnerIsRefusedWhileTheLeaseIsLive) {
  MemoryStore store;
  util::ManualClock clock(1'000);
  auto first = StoreLease::acquire(store, clock, "miner-a", 10'000);
  ASSERT_TRUE(first.is_ok());
  auto second = StoreLease::acquire(store, clock, "miner-b", 10'000);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), util::StatusCode::kLeaseHeld);
  EXPECT_NE(second.status().message().find("miner-a"), std::string::npos);
}

TEST(StoreLease, ExpiredLeaseCanBeTakenAndTheOldHolderLearnsIt) {
  MemoryStore store;
  util::ManualClock clock(1'000);
  auto first = StoreLease::acquire(store, clock, "miner-a", 10'000);
  ASSERT_TRUE(first.is_ok());
  clock.advance_ms(10'001);
  auto second = StoreLease::acquire(store, clock, "miner-b", 10'000);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_EQ(second->record().epoch, 2u);
  EXPECT_EQ(first->renew().code(), util::StatusCode::kLeaseHeld);
}

TEST(StoreLease, RenewExtendsAndReleaseFreesTheStore) {
  MemoryStore store;
  util::ManualClock clock(0);
  auto lease = StoreLease::acquire(store, clock, "miner-a", 1'000);
  ASSERT_TRUE(lease.is_ok());
  clock.advance_ms(900);
  ASSERT_TRUE(lease->renew().is_ok());
  clock.advance_ms(900);
  EXPECT_FALSE(StoreLease::acquire(store, clock, "miner-b", 1'000).is_ok());
  ASSERT_TRUE(lease->release().is_ok());
  EXPECT_TRUE(StoreLease::acquire(store, clock, "miner-b", 1'000).is_ok());
}

TEST(StoreLease, SameOwnerReacquiresAfterRestart) {
  MemoryStore store;
  util::ManualClock clock(0);
  ASSERT_TRUE(StoreLease::acquire(store, clock, "miner-a", 1'000).is_ok());
  store.crash();
  auto again = StoreLease::acquire(store, clock, "miner-a", 1'000);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->record().epoch, 1u);
}

TEST(StoreLease, TwoProcessesOnPostgresCannotBothOwnIt) {
  const std::string url = testsupport::fresh_postgres_database();
  auto a = open_store(url);
  auto b = open_store(url);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  util::SystemClock clock;
  auto first = StoreLease::acquire(**a, clock, "process-a", 60'000);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  auto second = StoreLease::acquire(**b, clock, "process-b", 60'000);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), util::StatusCode::kLeaseHeld);
}

}  // namespace
}  // namespace hashlock::store
