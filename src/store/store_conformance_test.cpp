// One conformance suite, run against every backend: memory, SQLite and a
// private PostgreSQL server started by the test process.
#include <gtest/gtest.h>

#include "codec/record.h"
#include "store/kv_store.h"
#include "tests/support/store_backends.h"

namespace hashlock::store {
namespace {

using testsupport::StoreBackend;

Bytes bytes_of(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

Bytes record_of(uint64_t value) {
  codec::TlvWriter fields;
  fields.u64(0, value);
  return codec::encode_record({.type = 9, .min_version = 1, .current_version = 1, .name = "test"},
                              fields);
}

class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") backend_ = testsupport::make_memory_backend();
    if (GetParam() == "sqlite") backend_ = testsupport::make_sqlite_backend();
    if (GetParam() == "postgres") backend_ = testsupport::make_postgres_backend();
    ASSERT_NE(backend_, nullptr);
  }
  KVStore& store() { return backend_->store(); }

  std::unique_ptr<StoreBackend> backend_;
};

TEST_P(StoreConformance, PutThenGetReturnsTheValue) {
  ASSERT_TRUE(store().put("payments", "p1", bytes_of("hello")).is_ok());
  auto value = store().get("payments", "p1");
  ASSERT_TRUE(value.is_ok()) << value.status().to_string();
  ASSERT_TRUE(value->has_value());
  EXPECT_EQ(**value, bytes_of("hello"));
}

TEST_P(StoreConformance, MissingKeyIsAbsentNotAnError) {
  auto value = store().get("payments", "nope");
  ASSERT_TRUE(value.is_ok());
  EXPECT_FALSE(value->has_value());
}

TEST_P(StoreConformance, OverwriteReplacesAndRemoveDeletes) {
  ASSERT_TRUE(store().put("ns", "k", bytes_of("one")).is_ok());
  ASSERT_TRUE(store().put("ns", "k", bytes_of("two")).is_ok());
  EXPECT_EQ(**store().get("ns", "k"), bytes_of("two"));
  ASSERT_TRUE(store().remove("ns", "k").is_ok());
  EXPECT_FALSE(store().get("ns", "k")->has_value());
  EXPECT_TRUE(store().remove("ns", "k").is_ok()) << "removing a missing key is not an error";
}

TEST_P(StoreConformance, EmptyValueRoundTrips) {
  ASSERT_TRUE(store().put("ns", "empty", Bytes()).is_ok());
  auto value = store().get("ns", "empty");
  ASSERT_TRUE(value->has_value());
  EXPECT_TRUE((*value)->empty());
}

TEST_P(StoreConformance, ListReturnsPrefixMatchesInByteOrder) {
  const std::string keys[] = {"b", "a/2", "a/1", std::string("a/\xff", 3), std::string("a\0x", 3),
                              "ab"};
  for (const auto& key : keys) ASSERT_TRUE(store().put("ns", key, bytes_of(key)).is_ok());
  auto listed = store().list("ns", "a/");
  ASSERT_TRUE(listed.is_ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].key, "a/1");
  EXPECT_EQ((*listed)[1].key, "a/2");
  EXPECT_EQ((*listed)[2].key, std::string("a/\xff", 3));
  EXPECT_EQ((*listed)[2].value, bytes_of(std::string("a/\xff", 3)));
  EXPECT_EQ(store().list("ns")->size(), 6u);
}

TEST_P(StoreConformance, NamespacesAreIsolated) {
  ASSERT_TRUE(store().put("alpha", "k", bytes_of("a")).is_ok());
  ASSERT_TRUE(store().put("beta", "k", bytes_of("b")).is_ok());
  EXPECT_EQ(**store().get("alpha", "k"), bytes_of("a"));
  EXPECT_EQ(store().list("beta")->size(), 1u);
  auto namespaces = store().list_namespaces();
  ASSERT_TRUE(namespaces.is_ok());
  EXPECT_EQ(*namespaces, (std::vector<std::string>{"alpha", "beta"}));
}

TEST_P(StoreConformance, BatchAppliesAllOrNothing) {
  ASSERT_TRUE(store().put("ns", "guard", bytes_of("v1")).is_ok());
  WriteBatch batch;
  batch.put("ns", "a", bytes_of("1"));
  batch.put("ns", "b", bytes_of("2"));
  batch.expect("ns", "guard", bytes_of("stale"));
  util::Status written = store().write(batch);
  EXPECT_EQ(written.code(), util::StatusCode::kConflict) << written.to_string();
  EXPECT_FALSE(store().get("ns", "a")->has_value());
  EXPECT_FALSE(store().get("ns", "b")->has_value());

  WriteBatch good;
  good.put("ns", "a", bytes_of("1"));
  good.remove("ns", "guard");
  good.expect("ns", "guard", bytes_of("v1"));
  good.expect("ns", "absent", std::nullopt);
  ASSERT_TRUE(store().write(good).is_ok());
  EXPECT_TRUE(store().get("ns", "a")->has_value());
  EXPECT_FALSE(store().get("ns", "guard")->has_value());
}

TEST_P(StoreConformance, SyncedWritesSurviveReopen) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store().put("ns", "k" + std::to_string(i), record_of(i)).is_ok());
  }
  backend_->reopen();
  auto listed = store().list("ns", "k");
  ASSERT_TRUE(listed.is_ok());
  EXPECT_EQ(listed->size(), 50u);
}

TEST_P(StoreConformance, BufferedWritesAreVisibleAndDurableAfterSync) {
  ASSERT_TRUE(store().put("ns", "buffered", bytes_of("x"), Durability::kBuffered).is_ok());
  EXPECT_TRUE(store().get("ns", "buffered")->has_value());
  ASSERT_TRUE(store().sync().is_ok());
  backend_->reopen();
  EXPECT_TRUE(store().get("ns", "buffered")->has_value());
}

TEST_P(StoreConformance, WriteGroupIsVisibleAtOnceAndCommitsAsOneSyncedBatch) {
  ASSERT_TRUE(store().put("ns", "old", bytes_of("gone")).is_ok());
  ASSERT_TRUE(store().put("ns", "kept", bytes_of("kept")).is_ok());
  const StoreStats before = store().stats();
  store().begin_group();
  ASSERT_TRUE(store().put("ns", "a", bytes_of("1")).is_ok());
  ASSERT_TRUE(store().put("ns", "a", bytes_of("2")).is_ok());
  ASSERT_TRUE(store().put("ns", "b", bytes_of("3"), Durability::kBuffered).is_ok());
  ASSERT_TRUE(store().remove("ns", "old").is_ok());
  EXPECT_EQ(**store().get("ns", "a"), bytes_of("2"));
  EXPECT_FALSE(store().get("ns", "old")->has_value());
  auto listed = store().list("ns");
  ASSERT_TRUE(listed.is_ok());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].key, "a");
  EXPECT_EQ((*listed)[1].key, "b");
  EXPECT_EQ((*listed)[2].key, "kept");
  EXPECT_EQ(store().stats().batches_written, before.batches_written)
      << "nothing reaches the backend";
  ASSERT_TRUE(store().commit_group().is_ok());
  EXPECT_FALSE(store().in_group());
  EXPECT_EQ(store().stats().batches_written, before.batches_written + 1);
  EXPECT_EQ(store().stats().syncs, before.syncs + 1);
  backend_->reopen();
  EXPECT_EQ(**store().get("ns", "a"), bytes_of("2"));
  EXPECT_EQ(**store().get("ns", "b"), bytes_of("3"));
  EXPECT_FALSE(store().get("ns", "old")->has_value());
}

TEST_P(StoreConformance, AbandonedOrEmptyWriteGroupWritesNothing) {
  const StoreStats before = store().stats();
  store().begin_group();
  ASSERT_TRUE(store().commit_group().is_ok());
  store().begin_group();
  ASSERT_TRUE(store().put("ns", "a", bytes_of("1")).is_ok());
  store().abandon_group();
  EXPECT_FALSE(store().get("ns", "a")->has_value());
  EXPECT_EQ(store().stats().batches_written, before.batches_written);
  EXPECT_EQ(store().stats().syncs, before.syncs);
}

TEST_P(StoreConformance, ExpectationsAreRefusedInsideAWriteGroup) {
  store().begin_group();
  WriteBatch batch;
  batch.put("ns", "a", bytes_of("1"));
  batch.expect("ns", "a", std::nullopt);
  util::Status refused = store().write(batch);
  EXPECT_EQ(refused.code(), util::StatusCode::kFailedPrecondition) << refused.to_string();
  store().abandon_group();
}

TEST_P(StoreConformance, CorruptValueIsCorruptionNamingTheKey) {
  ASSERT_TRUE(store().put("monitors", "chan7", record_of(7)).is_ok());
  backend_->reopen();
  backend_->corrupt("monitors", "chan7");
  auto value = store().get("monitors", "chan7");
  ASSERT_FALSE(value.is_ok()) << "a corrupt value must never read as valid or missing";
  EXPECT_EQ(value.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(value.status().message().find("monitors/chan7"), std::string::npos);
  EXPECT_EQ(store().list("monitors").status().code(), util::StatusCode::kCorruption);
}

TEST_P(StoreConformance, CheckCountsRecordsAndFindsEveryCorruptOne) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store().put("good", "k" + std::to_string(i), record_of(i)).is_ok());
  ASSERT_TRUE(store().put("bad", "x", record_of(1)).is_ok());
  ASSERT_TRUE(store().put("bad", "y", record_of(2)).is_ok());
  ASSERT_TRUE(store().put("bad", "z", record_of(3)).is_ok());
  backend_->corrupt("bad", "x");
  backend_->corrupt("bad", "z");
  auto reports = store().check();
  ASSERT_TRUE(reports.is_ok()) << reports.status().to_string();
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].ns, "bad");
  EXPECT_EQ((*reports)[0].records, 3u);
  ASSERT_EQ((*reports)[0].corrupt.size(), 2u);
  EXPECT_EQ((*reports)[0].corrupt[0].substr(0, 2), "x:");
  EXPECT_EQ((*reports)[1].records, 5u);
  EXPECT_TRUE((*reports)[1].corrupt.empty());
}

TEST_P(StoreConformance, BadNamespaceOrKeyIsRejectedClearly) {
  util::Status bad_ns = store().put("Bad-Name", "k", Bytes());
  EXPECT_EQ(bad_ns.code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_ns.message().find("Bad-Name"), std::string::npos);
  EXPECT_EQ(store().put("ns", std::string(kMaxKeyBytes + 1, 'k'), Bytes()).code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(store().get("", "k").status().code(), util::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformance, LargeBatchCommitsAsOne) {
  WriteBatch batch;
  for (int i = 0; i < 2000; ++i) batch.put("bulk", "k" + std::to_string(100000 + i), record_of(i));
  ASSERT_TRUE(store().write(batch).is_ok());
  backend_->reopen();
  EXPECT_EQ(store().list("bulk")->size(), 2000u);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, StoreConformance,
                         ::testing::Values("memory", "sqlite", "postgres"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace hashlock::store
