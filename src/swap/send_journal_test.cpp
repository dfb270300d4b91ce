#include "swap/send_journal.h"

#include <gtest/gtest.h>

#include "store/memory_store.h"

namespace hashlock::swap {
namespace {

SendRecord sample(uint64_t id, SendStage stage = SendStage::kIntent) {
  SendRecord record;
  record.swap_id = SwapId(id);
  record.stage = stage;
  record.payment = PreparedPayment{
      SwapId(id),       "eth-sim", "dst-user",
      BaseUnits(2'000), 7,         TxHash(util::sha256(util::as_bytes("tx" + std::to_string(id))))};
  record.intent_block = BlockHeight(100);
  record.timeout_block = BlockHeight(120);
  record.source_chain = "btc-sim";
  record.source_tx_hash = TxHash(util::sha256(util::as_bytes("source")));
  if (stage != SendStage::kIntent) record.dest_tx_block = BlockHeight(101);
  if (stage == SendStage::kGaveUp)
    record.gave_up_reason = RecoveryReason::kTerminalMarkFulfilledFailure;
  return record;
}

TEST(SendJournal, RecordRoundTripsEveryField) {
  SendRecord record = sample(5, SendStage::kGaveUp);
  record.presumed_completed = true;
  record.recovery_logged = true;
  auto decoded = decode_send_record(encode_send_record(record));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->swap_id, record.swap_id);
  EXPECT_EQ(decoded->stage, SendStage::kGaveUp);
  EXPECT_EQ(decoded->payment.tx_id, record.payment.tx_id);
  EXPECT_EQ(decoded->payment.amount, record.payment.amount);
  EXPECT_EQ(decoded->payment.wallet_nonce, 7u);
  EXPECT_EQ(decoded->payment.to_address, "dst-user");
  EXPECT_EQ(decoded->dest_tx_block, record.dest_tx_block);
  EXPECT_EQ(decoded->timeout_block, record.timeout_block);
  EXPECT_EQ(decoded->source_tx_hash, record.source_tx_hash);
  EXPECT_EQ(decoded->gave_up_reason, record.gave_up_reason);
  EXPECT_TRUE(decoded->presumed_completed);
  EXPECT_TRUE(decoded->recovery_logged);
}

TEST(SendJournal, PutIsDurableAndLoadReadsItBack) {
  store::MemoryStore store;
  auto journal = SendJournal::load(store);
  ASSERT_TRUE(journal.is_ok());
  ASSERT_TRUE(journal->put(sample(1)).is_ok());
  ASSERT_TRUE(journal->put(sample(2, SendStage::kSent)).is_ok());
  EXPECT_EQ(store.unsynced_batches(), 0u) << "every journal write is synced";
  store.crash();
  auto reloaded = SendJournal::load(store);
  ASSERT_TRUE(reloaded.is_ok());
  ASSERT_EQ(reloaded->records().size(), 2u);
  EXPECT_EQ(reloaded->find(SwapId(2))->stage, SendStage::kSent);
  ASSERT_TRUE(reloaded->remove(SwapId(1)).is_ok());
  store.crash();
  EXPECT_EQ(SendJournal::load(store)->records().size(), 1u);
}

TEST(SendJournal, CorruptRecordFailsLoadNamingTheKey) {
  store::MemoryStore store;
  auto journal = SendJournal::load(store);
  ASSERT_TRUE(journal->put(sample(3)).is_ok());
  ASSERT_TRUE(
      store.corrupt_bit(SendJournal::kNamespace, SendJournal::key_for(SwapId(3)), 40).is_ok());
  auto reloaded = SendJournal::load(store);
  ASSERT_FALSE(reloaded.is_ok());
  EXPECT_EQ(reloaded.status().code(), util::StatusCode::kCorruption);
  EXPECT_NE(reloaded.status().message().find("swap_sends/0000000000000003"), std::string::npos)
      << reloaded.status().message();
}

TEST(SendJournal, RecordUnderTheWrongKeyIsCorruption) {
  store::MemoryStore store;
  ASSERT_TRUE(store
                  .put(SendJournal::kNamespace, SendJournal::key_for(SwapId(9)),
                       encode_send_record(sample(4)))
                  .is_ok());
  EXPECT_EQ(SendJournal::load(store).status().code(), util::StatusCode::kCorruption);
}

TEST(SendJournal, InconsistentRecordsAreRejectedOnRead) {
  SendRecord sent_without_block = sample(1, SendStage::kSent);
  sent_without_block.dest_tx_block.reset();
  EXPECT_FALSE(validate_send_record(sent_without_block).is_ok());
  SendRecord zero_amount = sample(1);
  zero_amount.payment.amount = BaseUnits(0);
  EXPECT_FALSE(validate_send_record(zero_amount).is_ok());
  SendRecord other_swap = sample(1);
  other_swap.payment.swap_id = SwapId(2);
  EXPECT_FALSE(validate_send_record(other_swap).is_ok());
  EXPECT_TRUE(validate_send_record(sample(1, SendStage::kMarked)).is_ok());
}

TEST(SendJournal, KeysSortBySwapId) {
  EXPECT_LT(SendJournal::key_for(SwapId(9)), SendJournal::key_for(SwapId(10)));
  EXPECT_EQ(SendJournal::key_for(SwapId(255)), "00000000000000ff");
}

TEST(SendJournal, FailedWriteLeavesTheCacheUnchanged) {
  store::MemoryStore store;
  auto journal = SendJournal::load(store);
  store.fail_write_at(1);
  EXPECT_FALSE(journal->put(sample(1)).is_ok());
  EXPECT_EQ(journal->find(SwapId(1)), nullptr);
}

TEST(SwapModel, UnknownStatusValueIsAnErrorNeverActive) {
  EXPECT_EQ(parse_swap_status(kWireStatusActive).value(), SwapStatus::kActive);
  EXPECT_EQ(parse_swap_status(kWireStatusTimedOut).value(), SwapStatus::kTimedOut);
  for (uint64_t bogus : {uint64_t{4}, uint64_t{9}, UINT64_MAX}) {
    auto status = parse_swap_status(bogus);
    ASSERT_FALSE(status.is_ok());
    EXPECT_EQ(status.status().code(), util::StatusCode::kUnsupported);
  }
  for (SwapStatus status : {SwapStatus::kActive, SwapStatus::kFulfilled, SwapStatus::kCompleted,
                            SwapStatus::kTimedOut}) {
    EXPECT_EQ(parse_swap_status(swap_status_to_wire(status)).value(), status);
  }
}

}  // namespace
}  // namespace hashlock::swap
