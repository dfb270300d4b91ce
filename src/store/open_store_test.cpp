#include "store/open_store.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace hashlock::store {
namespace {

TEST(OpenStore, UnknownSchemeListsWhatIsAccepted) {
  auto store = open_store("redis://localhost");
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("unknown store URL scheme 'redis'"), std::string::npos);
  EXPECT_NE(store.status().message().find("sqlite:PATH"), std::string::npos);
}

TEST(OpenStore, MissingSchemeIsExplained) {
  auto store = open_store("/tmp/x.db");
  ASSERT_FALSE(store.is_ok());
  EXPECT_NE(store.status().message().find("has no scheme"), std::string::npos);
}

TEST(OpenStore, UnknownOptionIsRejected) {
  auto store = open_store("memory:?speed=9");
  ASSERT_FALSE(store.is_ok());
  EXPECT_NE(store.status().message().find("unknown store URL option 'speed'"), std::string::npos);
  EXPECT_FALSE(open_store("sqlite:/tmp/x.db?synchronous=sometimes").is_ok());
  EXPECT_FALSE(open_store("memory:?seed=abc").is_ok());
}

TEST(OpenStore, SqliteCacheSizeIsAnOptionWithinBounds) {
  testsupport::TempDir dir;
  auto store = open_store("sqlite:" + dir.path() + "/a.db?cache_kib=512");
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  auto tiny = open_store("sqlite:" + dir.path() + "/b.db?cache_kib=4");
  ASSERT_FALSE(tiny.is_ok());
  EXPECT_NE(tiny.status().message().find("cache_kib must be 16..16777216, got 4"),
            std::string::npos)
      << tiny.status().to_string();
}

TEST(OpenStore, MemoryUrlOpens) {
  auto store = open_store("memory:?seed=3&torn=1");
  ASSERT_TRUE(store.is_ok());
  EXPECT_EQ((*store)->url(), "memory:");
}

}  // namespace
}  // namespace hashlock::store
