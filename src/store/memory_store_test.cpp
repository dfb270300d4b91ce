#include "store/memory_store.h"

#include <gtest/gtest.h>

namespace hashlock::store {
namespace {

Bytes bytes_of(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

TEST(MemoryStore, CrashDropsUnsyncedWritesKeepsSynced) {
  MemoryStore store;
  ASSERT_TRUE(store.put("ns", "synced", bytes_of("a")).is_ok());
  ASSERT_TRUE(store.put("ns", "buffered", bytes_of("b"), Durability::kBuffered).is_ok());
  EXPECT_TRUE(store.get("ns", "buffered")->has_value());
  EXPECT_EQ(store.unsynced_batches(), 1u);
  store.crash();
  EXPECT_TRUE(store.get("ns", "synced")->has_value());
  EXPECT_FALSE(store.get("ns", "buffered")->has_value());
}

TEST(MemoryStore, CrashBeforeAWriteGroupCommitsLosesAllOfIt) {
  MemoryStore store(MemoryStoreOptions{.seed = 7, .torn_crash = true});
  ASSERT_TRUE(store.put("ns", "before", bytes_of("a")).is_ok());
  store.begin_group();
  ASSERT_TRUE(store.put("ns", "x", bytes_of("1")).is_ok());
  ASSERT_TRUE(store.put("ns", "y", bytes_of("2")).is_ok());
  EXPECT_EQ(store.unsynced_batches(), 0u) << "a group reaches the store only when it commits";
  store.abandon_group();
  store.crash();
  EXPECT_TRUE(store.get("ns", "before")->has_value());
  EXPECT_FALSE(store.get("ns", "x")->has_value());
  EXPECT_FALSE(store.get("ns", "y")->has_value());
}

TEST(MemoryStore, SyncMakesEarlierBufferedWritesDurable) {
  MemoryStore store;
  ASSERT_TRUE(store.put("ns", "a", bytes_of("1"), Durability::kBuffered).is_ok());
  ASSERT_TRUE(store.remove("ns", "a", Durability::kBuffered).is_ok());
  ASSERT_TRUE(store.put("ns", "b", bytes_of("2"), Durability::kBuffered).is_ok());
  ASSERT_TRUE(store.sync().is_ok());
  store.crash();
  EXPECT_FALSE(store.get("ns", "a")->has_value());
  EXPECT_TRUE(store.get("ns", "b")->has_value());
}

TEST(MemoryStore, TornCrashKeepsAPrefixNeverAHole) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    MemoryStore store({.seed = seed, .torn_crash = true});
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(
          store.put("ns", "k" + std::to_string(i), bytes_of("v"), Durability::kBuffered).is_ok());
    }
    store.crash();
    bool seen_missing = false;
    for (int i = 0; i < 8; ++i) {
      const bool present = store.get("ns", "k" + std::to_string(i))->has_value();
      EXPECT_FALSE(present && seen_missing)
          << "seed " << seed << ": write " << i << " survived after a lost one";
      seen_missing |= !present;
    }
  }
}

TEST(MemoryStore, InjectedWriteFailureChangesNothing) {
  MemoryStore store;
  store.fail_write_at(2);
  ASSERT_TRUE(store.put("ns", "a", bytes_of("1")).is_ok());
  util::Status failed = store.put("ns", "b", bytes_of("2"));
  EXPECT_EQ(failed.code(), util::StatusCode::kIOError);
  EXPECT_FALSE(store.get("ns", "b")->has_value());
  EXPECT_TRUE(store.put("ns", "c", bytes_of("3")).is_ok());
}

TEST(MemoryStore, InjectedSyncFailureLeavesWriteUnsynced) {
  MemoryStore store;
  store.fail_sync_at(1);
  EXPECT_EQ(store.put("ns", "a", bytes_of("1")).code(), util::StatusCode::kIOError);
  store.crash();
  EXPECT_FALSE(store.get("ns", "a")->has_value());
}

TEST(MemoryStore, GoingDownStopsEverythingUntilCrash) {
  MemoryStore store;
  store.go_down_after(1);  // the write lands, then the machine stops before its sync
  EXPECT_EQ(store.put("ns", "a", bytes_of("1")).code(), util::StatusCode::kIOError);
  EXPECT_TRUE(store.is_down());
  EXPECT_EQ(store.get("ns", "a").status().code(), util::StatusCode::kIOError);
  store.crash();
  EXPECT_FALSE(store.is_down());
  EXPECT_FALSE(store.get("ns", "a")->has_value());
}

TEST(MemoryStore, CountsWritesSyncsAndBytes) {
  MemoryStore store;
  ASSERT_TRUE(store.put("ns", "a", bytes_of("12345")).is_ok());
  ASSERT_TRUE(store.put("ns", "b", bytes_of("1"), Durability::kBuffered).is_ok());
  EXPECT_EQ(store.stats().batches_written, 2u);
  EXPECT_EQ(store.stats().syncs, 1u);
  EXPECT_EQ(store.stats().bytes_written, 1u + 5 + 4 + 1u + 1 + 4);
}

}  // namespace
}  // namespace hashlock::store
