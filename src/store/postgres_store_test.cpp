// PostgreSQL-specific behaviour: conditional writes between two processes
// (two connections) on one database.
#include <gtest/gtest.h>

#include "store/open_store.h"
#include "tests/support/store_backends.h"

namespace hashlock::store {
namespace {

Bytes bytes_of(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

class PostgresTwoWriters : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string url = testsupport::fresh_postgres_database();
    auto a = open_store(url);
    auto b = open_store(url);
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    a_ = std::move(a).value();
    b_ = std::move(b).value();
  }
  std::unique_ptr<KVStore> a_, b_;
};

TEST_F(PostgresTwoWriters, StaleWriterGetsConflict) {
  ASSERT_TRUE(a_->put("swaps", "s1", bytes_of("v1")).is_ok());
  ASSERT_TRUE(b_->get("swaps", "s1").is_ok());  // b now knows version 1
  ASSERT_TRUE(a_->put("swaps", "s1", bytes_of("v2")).is_ok());
  util::Status stale = b_->put("swaps", "s1", bytes_of("from b"));
  EXPECT_EQ(stale.code(), util::StatusCode::kConflict) << stale.to_string();
  EXPECT_EQ(**a_->get("swaps", "s1"), bytes_of("v2")) << "the stale write must not land";
}

TEST_F(PostgresTwoWriters, BlindOverwriteOfAnotherWritersKeyIsConflict) {
  ASSERT_TRUE(a_->put("swaps", "s2", bytes_of("a")).is_ok());
  util::Status blind = b_->put("swaps", "s2", bytes_of("b"));
  EXPECT_EQ(blind.code(), util::StatusCode::kConflict);
  EXPECT_NE(blind.message().find("never read"), std::string::npos);
  ASSERT_TRUE(b_->get("swaps", "s2").is_ok());
  EXPECT_TRUE(b_->put("swaps", "s2", bytes_of("b")).is_ok()) << "after reading, b may write";
}

TEST_F(PostgresTwoWriters, RemoveOfAChangedKeyIsConflict) {
  ASSERT_TRUE(a_->put("swaps", "s3", bytes_of("a")).is_ok());
  ASSERT_TRUE(b_->get("swaps", "s3").is_ok());
  ASSERT_TRUE(a_->put("swaps", "s3", bytes_of("a2")).is_ok());
  EXPECT_EQ(b_->remove("swaps", "s3").code(), util::StatusCode::kConflict);
  EXPECT_TRUE(a_->get("swaps", "s3")->has_value());
}

TEST_F(PostgresTwoWriters, ConflictRollsBackTheWholeBatch) {
  ASSERT_TRUE(a_->put("swaps", "s4", bytes_of("a")).is_ok());
  WriteBatch batch;
  batch.put("swaps", "fresh", bytes_of("x"));
  batch.put("swaps", "s4", bytes_of("b"));  // never read by b
  EXPECT_EQ(b_->write(batch).code(), util::StatusCode::kConflict);
  EXPECT_FALSE(a_->get("swaps", "fresh")->has_value());
}

TEST(PostgresStore, UnreachableServerIsAClearError) {
  auto store = open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), util::StatusCode::kIOError);
  EXPECT_NE(store.status().message().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace hashlock::store
