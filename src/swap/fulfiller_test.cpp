// The fulfiller against the simulated network, one test per edge case of
// swap-fulfillment.md ("Edge cases the tests must cover").
#include "swap/fulfiller.h"

#include <gtest/gtest.h>

#include <optional>

#include "swap/test_world.h"

namespace hashlock::swap {
namespace {

using testing::TestWorld;

TEST(Fulfiller, SendsOnceAndMarksWithTheRecordedPayment) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  PollReport report = world.poll_ok();
  EXPECT_EQ(report.sends, 1u);
  EXPECT_EQ(report.marks, 1u);
  ASSERT_EQ(world.net.payments_for(id), 1u);
  ASSERT_EQ(world.net.mark_calls().size(), 1u);
  const SimMarkCall& mark = world.net.mark_calls()[0];
  EXPECT_EQ(mark.dest_tx_hash, world.net.dest_payments()[0].tx_id);
  EXPECT_EQ(mark.dest_amount, world.net.dest_payments()[0].amount);
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  EXPECT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kCompleted);
  EXPECT_EQ(world.net.payments_for(id), 1u);
  EXPECT_TRUE(world.log.entries().empty());
}

// Stops the process at the first store operation after `operations` more.
TEST(Fulfiller, CrashBetweenBroadcastAndOutcomeRecord_FindsThePaymentAndNeverResends) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.store.go_down_after(2);  // the intent's write and sync succeed; the outcome record fails
  EXPECT_FALSE(world.poll().is_ok());
  EXPECT_EQ(world.net.payments_for(id), 1u);
  EXPECT_EQ(world.crashes, 1);
  world.poll_ok();
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
  EXPECT_EQ(world.net.payments_for(id), 1u);
  EXPECT_TRUE(world.landed_mark(id));
}

TEST(Fulfiller, CrashBetweenOutcomeRecordAndMarkFulfilled_MarksWithTheRecordedValuesAfterRestart) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);
  const SendRecord sent = *world.record(id);
  world.crash();  // the process dies before its next mark_fulfilled
  world.poll_ok();
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
  const SimMarkCall& mark = world.net.mark_calls().back();
  EXPECT_TRUE(mark.landed);
  EXPECT_EQ(mark.dest_tx_hash, sent.payment.tx_id);
  EXPECT_EQ(mark.dest_tx_block, *sent.dest_tx_block);
  EXPECT_EQ(mark.dest_amount, sent.payment.amount);
  EXPECT_EQ(world.net.payments_for(id), 1u);
}

TEST(Fulfiller, CrashAfterMarkFulfilledLandedBeforeItWasRecorded_RecognisesItsOwnMarkWithoutAlert) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.store.go_down_after(4);  // intent and outcome durable; recording the mark fails
  EXPECT_FALSE(world.poll().is_ok());
  EXPECT_TRUE(world.landed_mark(id));
  world.poll_ok();  // mark again: InvalidStatus, re-read shows our hash
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  EXPECT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kCompleted);
  EXPECT_TRUE(world.log.entries().empty());
  EXPECT_EQ(world.net.payments_for(id), 1u);
}

TEST(Fulfiller, CrashAfterMarkLandedAndSwapCompletedBeforeRestart_NoFalseRecoveryEntry) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.store.go_down_after(4);
  EXPECT_FALSE(world.poll().is_ok());
  world.mine(10);  // the swap completes and leaves the contract while the miner is down
  ASSERT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kCompleted);
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, CorruptStore_StopsTheMinerWithAClearError) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  world.poll_ok();
  world.fulfiller.reset();
  ASSERT_TRUE(
      world.store.corrupt_bit(SendJournal::kNamespace, SendJournal::key_for(id), 77).is_ok());
  util::Status opened = world.start();
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.code(), util::StatusCode::kCorruption);
  EXPECT_NE(opened.message().find(SendJournal::key_for(id)), std::string::npos) << opened.message();
}

TEST(Fulfiller, UnreadableStore_StopsTheMinerInsteadOfStartingEmpty) {
  TestWorld world;
  world.store.go_down_after(1);
  ASSERT_TRUE(world.store.put("other", "k", util::Bytes{1}).code() == util::StatusCode::kIOError);
  util::Status opened = world.start();
  EXPECT_EQ(opened.code(), util::StatusCode::kIOError) << opened.to_string();
}

class FulfillerTornStore : public ::testing::TestWithParam<uint64_t> {};

TEST_P(FulfillerTornStore, TornCrashDuringTheIntentWrite_NeverPaysTwice) {
  TestWorld world({}, store::MemoryStoreOptions{.seed = GetParam(), .torn_crash = true});
  const SwapId id = world.confirmed_swap();
  world.store.go_down_after(1);  // the intent is written but not synced when the process dies
  EXPECT_FALSE(world.poll().is_ok());
  EXPECT_EQ(world.net.payments_for(id), 0u);  // never broadcast before the intent is durable
  ASSERT_TRUE(
      world.run_until([&] { return world.forgotten(id) && world.net.live_swap(id) == nullptr; }));
  EXPECT_EQ(world.net.payments_for(id), 1u);
  EXPECT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kCompleted);
}

INSTANTIATE_TEST_SUITE_P(Seeds, FulfillerTornStore, ::testing::Range<uint64_t>(1, 9));

TEST(Fulfiller, SendRpcTimesOutAfterTheTransactionWentOut_ResolvesByLookupWithoutResending) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kBroadcast, CallErrorKind::kTimeout, /*after_effect=*/true);
  world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 1u);
  EXPECT_EQ(world.record(id)->stage, SendStage::kIntent);
  world.mine(1);
  world.poll_ok();
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
  EXPECT_EQ(world.net.payments_for(id), 1u);
}

TEST(Fulfiller, BroadcastThatNeverLeft_IsRebroadcastWithTheSameTransactionAfterTheSettleWait) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kBroadcast, CallErrorKind::kRpcFailure);  // before effect
  world.poll_ok();
  const TxHash intended = world.record(id)->payment.tx_id;
  world.mine(1);
  world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 0u) << "absent, but still within the settle wait";
  world.mine(static_cast<int>(kAbsentSettleBlocks));
  world.poll_ok();
  ASSERT_EQ(world.net.payments_for(id), 1u);
  EXPECT_EQ(world.net.dest_payments()[0].tx_id, intended);
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
}

TEST(Fulfiller, LookupUnknownPastTheDeadline_LogsUnknownSendOutcomeOnce) {
  TestWorld world;  // the contract times the swap out right after its deadline
  const SwapId id = world.confirmed_swap(8);
  world.net.fail_next(SimCall::kBroadcast, CallErrorKind::kRpcFailure, /*after_effect=*/true);
  for (int i = 0; i < 40; ++i) world.net.fail_next(SimCall::kLookup, CallErrorKind::kRpcFailure);
  for (int i = 0; i < 15; ++i) {
    world.poll_ok();
    world.mine(1);
  }
  ASSERT_EQ(world.entries_for(id), 1u);
  EXPECT_EQ(world.log.entries()[0].reason, RecoveryReason::kUnknownSendOutcome);
  EXPECT_EQ(world.net.payments_for(id), 1u);
  EXPECT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kTimedOut);
}

TEST(Fulfiller,
     LookupUnknownPastTheDeadlineWhileTheContractStillHoldsTheSwap_WaitsAndMarksWithoutAlert) {
  TestWorld world(SimNetworkOptions{.timeout_keeper_probability = 0.0});  // the keeper lags
  const SwapId id = world.confirmed_swap(8);
  world.net.fail_next(SimCall::kBroadcast, CallErrorKind::kRpcFailure, /*after_effect=*/true);
  // The first poll broadcasts (no lookup); the next 11 lookups fail.
  for (int i = 0; i < 11; ++i) world.net.fail_next(SimCall::kLookup, CallErrorKind::kRpcFailure);
  for (int i = 0; i < 12; ++i) {
    world.poll_ok();
    world.mine(1);
  }
  ASSERT_GT(world.net.height(), world.net.live_swap(id)->timeout_block);
  EXPECT_TRUE(world.log.entries().empty()) << "the swap can still be marked";
  world.poll_ok();
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  EXPECT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kCompleted);
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, MarkFulfilledReportsRpcFailureButLanded_IsSuccessWithoutAlert) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kRpcFailure, /*after_effect=*/true);
  PollReport report = world.poll_ok();
  EXPECT_EQ(report.marks, 1u);
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
  EXPECT_EQ(world.net.mark_calls().size(), 1u) << "the re-read settles it; no second call";
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, MarkFulfilledTimesOutButLanded_ReReadsAndRecordsIt) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kTimeout, /*after_effect=*/true);
  world.poll_ok();
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
  EXPECT_TRUE(world.log.entries().empty());
}

// Blocks left before the deadline when the miner first sees the swap.
class FulfillerMargin : public ::testing::TestWithParam<int> {};

TEST_P(FulfillerMargin, BlocksLeftAtMarginMinusOneMarginMarginPlusOneZeroAndNegative) {
  const int blocks_left = GetParam();
  const int margin = static_cast<int>(kDefaultMarginBlocks);
  TestWorld world(SimNetworkOptions{.timeout_keeper_probability = 0.0});
  const SwapId id = world.confirmed_swap(30);
  const int until_deadline =
      static_cast<int>(world.net.live_swap(id)->timeout_block.blocks_after(world.net.height()));
  world.mine(until_deadline - blocks_left);
  ASSERT_EQ(world.net.live_swap(id)->timeout_block.blocks_after(world.net.height()), blocks_left);
  PollReport report = world.poll_ok();
  const bool expect_send = blocks_left > margin;
  EXPECT_EQ(world.net.payments_for(id), expect_send ? 1u : 0u);
  EXPECT_EQ(report.skipped_margin, expect_send ? 0u : 1u);
  EXPECT_EQ(check_send_margin(world.net.height(), world.net.live_swap(id)->timeout_block,
                              kDefaultMarginBlocks),
            blocks_left > margin
                ? SendGate::kAllowed
                : (blocks_left > 0 ? SendGate::kWithinMargin : SendGate::kPastDeadline));
}

INSTANTIATE_TEST_SUITE_P(Edges, FulfillerMargin,
                         ::testing::Values(static_cast<int>(kDefaultMarginBlocks) - 1,
                                           static_cast<int>(kDefaultMarginBlocks),
                                           static_cast<int>(kDefaultMarginBlocks) + 1, 0, -1, -5));

TEST(Fulfiller, MarginIsConfigurable) {
  TestWorld world;
  world.config.margin_blocks = 10;
  const SwapId id = world.confirmed_swap(10);  // exactly 10 blocks left
  world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 0u);
  EXPECT_EQ(check_send_margin(BlockHeight(100), BlockHeight(111), 10), SendGate::kAllowed);
}

TEST(Fulfiller, RecordedSendPastTimeoutBlockIsStillMarkedWhileTheContractAcceptsIt) {
  TestWorld world(SimNetworkOptions{.timeout_keeper_probability = 0.0});  // the keeper lags
  const SwapId id = world.confirmed_swap(6);
  // Four transient failures with backoff carry the retries past timeout_block.
  for (int i = 0; i < 4; ++i)
    world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);
  ASSERT_TRUE(world.run_until([&] {
    return world.record(id) != nullptr && world.record(id)->stage == SendStage::kMarked;
  }));
  EXPECT_GT(world.net.height(), world.net.live_swap(id)->timeout_block)
      << "marked after the deadline";
  EXPECT_TRUE(world.landed_mark(id));
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, TimeoutExtendedMidFlight_KeepsMarkingAndLogsNothing) {
  TestWorld world(SimNetworkOptions{.timeout_keeper_probability = 0.0});
  const SwapId id = world.confirmed_swap(6);
  for (int i = 0; i < 3; ++i)
    world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  world.poll_ok();
  world.net.extend_timeout(id, 20);
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  EXPECT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kCompleted);
  EXPECT_TRUE(world.log.entries().empty());
  EXPECT_EQ(world.net.payments_for(id), 1u);
}

TEST(Fulfiller, TimeoutExtendedAfterFulfilled_MarkedRecordStaysUntilTheSwapLeaves) {
  TestWorld world(
      SimNetworkOptions{.completion_delay_min_blocks = 40, .completion_delay_max_blocks = 40});
  const SwapId id = world.confirmed_swap(6);
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kMarked);
  world.net.extend_timeout(id, 50);
  world.mine(30);  // past the recorded deadline and the discard margin is not reached yet
  world.poll_ok();
  EXPECT_NE(world.record(id), nullptr);
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, CurrentBlockUnknown_NeverSendsNeverDiscards) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.set_block_unknown(true);
  PollReport report = world.poll_ok();
  EXPECT_FALSE(report.block_known);
  EXPECT_EQ(world.net.payments_for(id), 0u);
  EXPECT_TRUE(world.net.mark_calls().empty());
  world.net.set_block_unknown(false);
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kNotAssignedMiner);
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kGaveUp);
  world.mine(100);  // far past the discard point
  world.net.set_block_unknown(true);
  const uint64_t operations = world.store.operations();
  world.poll_ok();
  EXPECT_NE(world.record(id), nullptr) << "no discard on an unknown block";
  EXPECT_EQ(world.store.operations(), operations);
}

// A contract client whose swap disappears between the list and the send.
class RemovingContract final : public SwapContract {
 public:
  explicit RemovingContract(SimNetwork& net) : net_(&net) {}
  CallResult<std::vector<util::Result<Swap>>> list_assigned_swaps(
      const std::string& miner) override {
    return net_->contract().list_assigned_swaps(miner);
  }
  CallResult<std::optional<Swap>> get_swap(SwapId id) override {
    net_->remove_swap(id);  // removed right after the poll listed it
    return net_->contract().get_swap(id);
  }
  CallResult<Done> mark_fulfilled(const std::string& miner, SwapId id, const TxHash& tx,
                                  BlockHeight block, BaseUnits amount) override {
    return net_->contract().mark_fulfilled(miner, id, tx, block, amount);
  }

 private:
  SimNetwork* net_;
};

TEST(Fulfiller, SwapRemovedBetweenPollAndSend_IsNotPaid) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  RemovingContract contract(world.net);
  FulfillerNetwork network = world.network();
  network.contract = &contract;
  auto fulfiller = Fulfiller::open(world.store, network, world.log, world.clock, world.config);
  ASSERT_TRUE(fulfiller.is_ok());
  ASSERT_TRUE(fulfiller->poll().is_ok());
  EXPECT_EQ(world.net.payments_for(id), 0u);
  EXPECT_EQ(fulfiller->journal().find(id), nullptr);
}

TEST(Fulfiller, LookupMissesTransientlyThenFindsTheSwapAgain_PaysOnceLater) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.miss_next_swap_reads(1);
  world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 0u);
  world.mine(1);
  world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 1u);
  EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
}

TEST(Fulfiller, LookupMissDuringReReadOfASentSwap_DoesNotGiveUpOrResend) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kRpcFailure);  // did not land
  world.net.miss_next_swap_reads(kRereadAttemptsMax);
  world.mine(2);
  world.poll_ok();
  ASSERT_EQ(world.net.mark_calls().size(), 2u);
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);
  ASSERT_TRUE(world.run_until([&] { return world.record(id)->stage == SendStage::kMarked; }));
  EXPECT_EQ(world.net.payments_for(id), 1u);
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, RateOrFeeChangingBetweenSendAndRetry_RetriesWithTheAmountActuallySent) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kInsufficientBalance);
  world.poll_ok();
  const SendRecord sent = *world.record(id);
  world.net.set_rate(id, ExchangeRate{7, 3});
  world.net.set_wallet_fee(5'000);
  ASSERT_TRUE(world.run_until([&] { return world.record(id)->stage == SendStage::kMarked; }));
  ASSERT_EQ(world.net.mark_calls().size(), 2u);
  for (const SimMarkCall& call : world.net.mark_calls()) {
    EXPECT_EQ(call.dest_amount, sent.payment.amount);
    EXPECT_EQ(call.dest_tx_hash, sent.payment.tx_id);
  }
  EXPECT_EQ(world.net.payments_for(id), 1u);
}

TEST(Fulfiller, UnknownStatusValue_IsNeverTreatedAsActive) {
  EXPECT_FALSE(parse_swap_status(9).is_ok());
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.set_wire_status(id, 9);
  PollReport report = world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 0u);
  ASSERT_FALSE(report.warnings.empty());
  EXPECT_NE(report.warnings[0].find("unknown swap status value 9"), std::string::npos)
      << report.warnings[0];
  world.net.set_wire_status(id, kWireStatusActive);
  world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 1u);
}

TEST(Fulfiller, UnknownStatusOnReRead_IsRetriedNotTrusted) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kRpcFailure);
  world.net.set_wire_status(id, 9);
  world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 0u);  // unknown status: no send at all
  world.net.set_wire_status(id, kWireStatusActive);
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);  // the mark failed (RpcFailure, not landed)
  world.net.set_wire_status(id, 9);                      // garbage on the re-read...
  world.mine(1);
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kRpcFailure);
  world.poll_ok();
  EXPECT_EQ(world.record(id)->stage, SendStage::kSent);  // ...is neither success nor terminal
  world.net.set_wire_status(id, kWireStatusActive);
  ASSERT_TRUE(world.run_until([&] { return world.record(id)->stage == SendStage::kMarked; }));
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, SourcePaymentReorgedOutBeforeVerification_IsNotPaid) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.reorg_source_payment(id);
  PollReport report = world.poll_ok();
  EXPECT_EQ(world.net.payments_for(id), 0u);
  EXPECT_EQ(world.record(id), nullptr);
}

TEST(Fulfiller, SourcePaymentReorgedOutAfterVerification_AbsentIntentIsNotRebroadcast) {
  TestWorld world(SimNetworkOptions{.timeout_keeper_probability = 1.0});
  const SwapId id = world.confirmed_swap(15);
  world.net.fail_next(SimCall::kBroadcast,
                      CallErrorKind::kRpcFailure);  // verified, intent written, never left
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kIntent);
  world.net.reorg_source_payment(id);
  ASSERT_TRUE(
      world.run_until([&] { return world.net.live_swap(id) == nullptr && world.forgotten(id); }));
  EXPECT_EQ(world.net.payments_for(id), 0u);
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, TwoSwapsPayingFromOneWallet_EachPaidOnceWithItsOwnTransaction) {
  TestWorld world;
  const SwapId a = world.confirmed_swap();
  const SwapId b = world.confirmed_swap();
  world.poll_ok();
  ASSERT_EQ(world.net.payments_for(a), 1u);
  ASSERT_EQ(world.net.payments_for(b), 1u);
  EXPECT_NE(world.record(a)->payment.tx_id, world.record(b)->payment.tx_id);
  EXPECT_EQ(world.net.mark_calls()[0].dest_tx_hash, world.record(a)->payment.tx_id);
  EXPECT_EQ(world.net.mark_calls()[1].dest_tx_hash, world.record(b)->payment.tx_id);
}

TEST(Fulfiller, TwoSwapsPayingFromOneWalletThatCoversOnlyOne_NeverOverpays) {
  SimSwapSpec spec;
  TestWorld world(SimNetworkOptions{.wallet_balance = spec.dest_amount + 100});
  const SwapId a = world.confirmed_swap();
  const SwapId b = world.confirmed_swap();
  world.poll_ok();
  EXPECT_EQ(world.net.payments_for(a), 1u);
  EXPECT_EQ(world.net.payments_for(b), 0u);  // InsufficientBalance: the intent waits
  EXPECT_EQ(world.record(b)->stage, SendStage::kIntent);
  ASSERT_TRUE(
      world.run_until([&] { return world.net.live_swap(b) == nullptr && world.forgotten(b); }));
  EXPECT_EQ(world.net.payments_for(b), 0u);
  EXPECT_EQ(world.net.dest_payments().size(), 1u);
}

// --- Every error class, end to end. ---

TEST(Fulfiller, TerminalMarkError_StopsRetryingAndWritesOneRecoveryEntry) {
  for (CallErrorKind kind : {CallErrorKind::kNotAssignedMiner, CallErrorKind::kMinerNotActive,
                             CallErrorKind::kInvalidAmount}) {
    SCOPED_TRACE(std::string(call_error_kind_name(kind)));
    TestWorld world;
    const SwapId id = world.confirmed_swap();
    world.net.fail_next(SimCall::kMarkFulfilled, kind);
    world.poll_ok();
    ASSERT_EQ(world.record(id)->stage, SendStage::kGaveUp);
    ASSERT_EQ(world.entries_for(id), 1u);
    EXPECT_EQ(world.log.entries()[0].reason, RecoveryReason::kTerminalMarkFulfilledFailure);
    const size_t calls = world.net.mark_calls().size();
    ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
    EXPECT_EQ(world.net.mark_calls().size(), calls) << "no retries after a terminal error";
    EXPECT_EQ(world.entries_for(id), 1u);
    EXPECT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kTimedOut);
  }
}

TEST(Fulfiller, SwapNotFoundAfterTheDeadline_IsTimedOutAfterSend) {
  TestWorld world;
  const SwapId id = world.confirmed_swap(6);
  // Five transient failures with backoff keep the mark from landing before the deadline.
  for (int i = 0; i < 5; ++i)
    world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  ASSERT_EQ(world.entries_for(id), 1u);
  EXPECT_EQ(world.log.entries()[0].reason, RecoveryReason::kTimedOutAfterSend);
  EXPECT_EQ(world.log.entries()[0].dest_tx_hash, world.net.dest_payments()[0].tx_id);
}

TEST(Fulfiller, AmbiguousInvalidStatusWithAnotherHash_IsTerminal) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);
  // Someone else's payment gets the swap marked (as if reassigned and fulfilled).
  world.net.set_swap_miner(id, "someone-else");
  const TxHash other(util::sha256(util::as_bytes("other")));
  ASSERT_TRUE(world.net.contract()
                  .mark_fulfilled("someone-else", id, other, world.net.height(),
                                  world.net.live_swap(id)->dest_amount)
                  .is_ok());
  world.net.set_swap_miner(id, testing::kMiner);
  world.mine(1);
  world.poll_ok();  // InvalidStatus, and the re-read shows another hash
  EXPECT_EQ(world.record(id)->stage, SendStage::kGaveUp);
  ASSERT_EQ(world.entries_for(id), 1u);
  EXPECT_EQ(world.log.entries()[0].reason, RecoveryReason::kTerminalMarkFulfilledFailure);
}

TEST(Fulfiller, NotAssignedMinerAfterReassignment_IsTerminal) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kCallFailed);
  world.poll_ok();
  world.net.set_swap_miner(id, "someone-else");
  world.mine(1);
  world.poll_ok();
  EXPECT_EQ(world.record(id)->stage, SendStage::kGaveUp);
  EXPECT_EQ(world.entries_for(id), 1u);
}

TEST(Fulfiller, AmbiguousRpcFailureThatDidNotLand_IsRetriedUntilMarked) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kRpcFailure);
  world.poll_ok();
  EXPECT_EQ(world.record(id)->stage, SendStage::kSent);
  ASSERT_TRUE(world.run_until([&] { return world.record(id)->stage == SendStage::kMarked; }));
  EXPECT_TRUE(world.log.entries().empty());
}

TEST(Fulfiller, TransientMarkErrors_RetryNextPollWithBoundedBackoff) {
  for (CallErrorKind kind :
       {CallErrorKind::kInsufficientBalance, CallErrorKind::kCallFailed, CallErrorKind::kTimeout}) {
    SCOPED_TRACE(std::string(call_error_kind_name(kind)));
    TestWorld world;
    const SwapId id = world.confirmed_swap(40);
    for (int i = 0; i < 4; ++i) world.net.fail_next(SimCall::kMarkFulfilled, kind);
    world.poll_ok();
    EXPECT_EQ(world.record(id)->stage, SendStage::kSent);
    std::vector<uint64_t> attempt_blocks;
    for (int i = 0; i < 30 && world.record(id)->stage == SendStage::kSent; ++i) {
      world.mine(1);
      const size_t calls = world.net.mark_calls().size();
      world.poll_ok();
      if (world.net.mark_calls().size() != calls)
        attempt_blocks.push_back(world.net.height().value());
    }
    // Retries back off: 1, 2, 4, 8 blocks apart.
    ASSERT_EQ(attempt_blocks.size(), 4u);
    EXPECT_EQ(attempt_blocks[1] - attempt_blocks[0], 2u);
    EXPECT_EQ(attempt_blocks[2] - attempt_blocks[1], 4u);
    EXPECT_EQ(attempt_blocks[3] - attempt_blocks[2], 8u);
    EXPECT_EQ(world.record(id)->stage, SendStage::kMarked);
    EXPECT_TRUE(world.log.entries().empty());
    EXPECT_EQ(world.net.payments_for(id), 1u);
  }
  EXPECT_EQ(mark_backoff_blocks(1), 1u);
  EXPECT_EQ(mark_backoff_blocks(2), 2u);
  EXPECT_EQ(mark_backoff_blocks(3), 4u);
  EXPECT_EQ(mark_backoff_blocks(30), kMarkBackoffBlocksMax);
}

TEST(FulfillerDecisions, EveryErrorClassIsAsInTheTable) {
  EXPECT_EQ(classify_mark_error(CallErrorKind::kSwapNotFound), MarkErrorClass::kTerminal);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kNotAssignedMiner), MarkErrorClass::kTerminal);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kMinerNotActive), MarkErrorClass::kTerminal);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kInvalidAmount), MarkErrorClass::kTerminal);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kInvalidStatus), MarkErrorClass::kAmbiguous);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kRpcFailure), MarkErrorClass::kAmbiguous);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kInsufficientBalance), MarkErrorClass::kTransient);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kCallFailed), MarkErrorClass::kTransient);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kTimeout), MarkErrorClass::kTransient);
  EXPECT_EQ(classify_mark_error(CallErrorKind::kMalformedResponse), MarkErrorClass::kTransient);
}

TEST(FulfillerDecisions, ReReadVerdicts) {
  Swap swap;
  swap.miner = "m";
  const TxHash ours(util::sha256(util::as_bytes("ours")));
  const TxHash theirs(util::sha256(util::as_bytes("theirs")));
  EXPECT_EQ(judge_reread(std::nullopt, "m", ours), RereadVerdict::kGone);
  swap.status = SwapStatus::kActive;
  EXPECT_EQ(judge_reread(swap, "m", ours), RereadVerdict::kStillActive);
  EXPECT_EQ(judge_reread(swap, "other", ours), RereadVerdict::kTerminal);
  swap.status = SwapStatus::kFulfilled;
  swap.dest_tx_hash = ours;
  EXPECT_EQ(judge_reread(swap, "m", ours), RereadVerdict::kOurMarkLanded);
  swap.dest_tx_hash = theirs;
  EXPECT_EQ(judge_reread(swap, "m", ours), RereadVerdict::kTerminal);
}

TEST(FulfillerDecisions, DiscardPointIsStrictlyPastTimeoutPlusMargin) {
  EXPECT_FALSE(past_discard_point(BlockHeight(120), BlockHeight(100), 20));
  EXPECT_TRUE(past_discard_point(BlockHeight(121), BlockHeight(100), 20));
  EXPECT_FALSE(past_discard_point(BlockHeight(50), BlockHeight(100), 20));
}

// --- Recovery entries: exactly one per incident, none for completed swaps. ---

TEST(Fulfiller, ExactlyOneRecoveryEntryPerIncidentAcrossPollsAndRestarts) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kNotAssignedMiner);
  world.poll_ok();
  ASSERT_EQ(world.entries_for(id), 1u);
  for (int i = 0; i < 60; ++i) {
    if (i % 7 == 0) world.crash();
    world.poll_ok();
    world.mine(1);
  }
  EXPECT_EQ(world.entries_for(id), 1u);
  EXPECT_EQ(world.record(id), nullptr) << "discarded after timeout + discard margin";
}

TEST(Fulfiller, CrashBetweenLogAppendAndItsRecord_DoesNotAppendTwice) {
  TestWorld world;
  const SwapId id = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kNotAssignedMiner);
  world.store.go_down_after(6);  // intent, outcome, gave-up durable; the logged flag is lost
  EXPECT_FALSE(world.poll().is_ok());
  ASSERT_EQ(world.entries_for(id), 1u);
  world.poll_ok();
  EXPECT_TRUE(world.record(id)->recovery_logged);
  EXPECT_EQ(world.entries_for(id), 1u);
}

TEST(Fulfiller, NoRecoveryEntryForCompletedSwaps) {
  TestWorld world(SimNetworkOptions{.seed = 3, .rpc_fault_rate = 0.2});
  std::vector<SwapId> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(world.confirmed_swap(15));
  ASSERT_TRUE(world.run_until([&] {
    return world.net.live_swaps() == 0 && world.fulfiller &&
           world.fulfiller->journal().records().empty();
  }));
  for (SwapId id : ids) {
    if (world.net.outcomes().at(id).final_status == SwapStatus::kCompleted) {
      EXPECT_EQ(world.entries_for(id), 0u);
    }
  }
}

TEST(Fulfiller, LogWriteFailure_IsReportedLoudlyAndDoesNotStopOtherSwaps) {
  TestWorld world;
  const SwapId stuck = world.confirmed_swap();
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kMinerNotActive);
  world.log.fail_next_appends(1);
  const SwapId healthy = world.confirmed_swap();
  PollReport report = world.poll_ok();
  EXPECT_EQ(report.log_failures, 1u);
  bool loud = false;
  for (const std::string& warning : report.warnings)
    loud |= warning.find("RECOVERY LOG WRITE FAILED") != std::string::npos;
  EXPECT_TRUE(loud);
  EXPECT_EQ(world.entries_for(stuck), 0u);
  EXPECT_EQ(world.record(healthy)->stage, SendStage::kMarked) << "other swaps still fulfilled";
  world.mine(1);
  world.poll_ok();
  EXPECT_EQ(world.entries_for(stuck), 1u) << "retried on the next poll";
  EXPECT_TRUE(world.record(stuck)->recovery_logged);
}

// --- A vanished swap (issue 14 defect 9): presumed completed only with slack. ---

TEST(FulfillerDecisions, PresumeCompletedOnlyWithMoreThanTheMarginLeft) {
  EXPECT_TRUE(may_presume_completed(BlockHeight(100), BlockHeight(104), 3));
  EXPECT_FALSE(may_presume_completed(BlockHeight(100), BlockHeight(103), 3));
  EXPECT_FALSE(may_presume_completed(BlockHeight(100), BlockHeight(100), 3));
  EXPECT_FALSE(may_presume_completed(BlockHeight(101), BlockHeight(100), 3));
  EXPECT_TRUE(may_presume_completed(BlockHeight(100), BlockHeight(101), 0));
}

TEST(Fulfiller, SwapGoneWithinTheMarginOfItsDeadlineWithALaggingHead_WritesTimedOutAfterSend) {
  TestWorld world;
  world.head.lag = 2;  // the miner's read of the head is two blocks behind its calls
  const SwapId id = world.confirmed_swap(10);
  const BlockHeight timeout = world.net.live_swap(id)->timeout_block;
  // Every mark fails until the keeper has timed the swap out (it does at timeout + 1).
  world.net.fail_marks_until(BlockHeight(timeout.value() + 1));
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);
  bool gone_at_or_before_deadline = false;
  std::optional<BlockHeight> presumed_at;
  for (int i = 0; i < testing::kMaxTestPolls && !world.forgotten(id); ++i) {
    world.mine(1);
    const PollReport report = world.poll_ok();
    if (world.net.live_swap(id) == nullptr && report.block <= timeout)
      gone_at_or_before_deadline = true;
    const SendRecord* record = world.record(id);
    if (record != nullptr && record->presumed_completed && !presumed_at) presumed_at = report.block;
  }
  ASSERT_TRUE(world.forgotten(id));
  ASSERT_TRUE(gone_at_or_before_deadline) << "the scenario must show the swap gone early";
  EXPECT_FALSE(presumed_at.has_value())
      << "presumed completed at block " << presumed_at.value_or(BlockHeight()).value()
      << ", deadline " << timeout.value();
  ASSERT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kTimedOut);
  EXPECT_FALSE(world.landed_mark(id));
  ASSERT_EQ(world.entries_for(id), 1u) << "stuck funds discarded without an alarm";
  EXPECT_EQ(world.log.entries()[0].reason, RecoveryReason::kTimedOutAfterSend);
  EXPECT_EQ(world.log.entries()[0].dest_tx_hash, world.net.dest_payments()[0].tx_id);
}

TEST(Fulfiller, SwapGoneWellBeforeItsDeadlineWithALaggingHead_IsPresumedCompletedWithoutAlarm) {
  TestWorld world;
  world.head.lag = 2;
  const SwapId id = world.confirmed_swap(30);
  world.store.go_down_after(4);  // intent and outcome durable; recording the mark fails
  EXPECT_FALSE(world.poll().is_ok());
  ASSERT_TRUE(world.landed_mark(id));
  world.mine(10);  // the swap completes and leaves the contract while the miner is down
  ASSERT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kCompleted);
  world.poll_ok();
  ASSERT_NE(world.record(id), nullptr);
  EXPECT_TRUE(world.record(id)->presumed_completed);
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  EXPECT_TRUE(world.log.entries().empty());
  EXPECT_EQ(world.net.payments_for(id), 1u);
}

TEST(Fulfiller, PresumedCompletedSwapSeenActiveAgain_ClearsTheFlagAndAlarmsWhenItTimesOut) {
  TestWorld world;
  const SwapId id = world.confirmed_swap(20);
  const BlockHeight timeout = world.net.live_swap(id)->timeout_block;
  // A wrong SwapNotFound well before the deadline: the swap is still there.
  world.net.fail_next(SimCall::kMarkFulfilled, CallErrorKind::kSwapNotFound);
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);
  ASSERT_TRUE(world.record(id)->presumed_completed);
  world.net.fail_marks_until(BlockHeight(timeout.value() + 1));  // it never gets marked
  world.mine(1);
  world.poll_ok();
  ASSERT_NE(world.net.live_swap(id), nullptr);
  EXPECT_FALSE(world.record(id)->presumed_completed) << "the swap was seen Active again";
  world.crash();
  ASSERT_TRUE(world.start().is_ok());
  EXPECT_FALSE(world.record(id)->presumed_completed) << "the cleared flag is durable";
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  ASSERT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kTimedOut);
  ASSERT_EQ(world.entries_for(id), 1u);
  EXPECT_EQ(world.log.entries()[0].reason, RecoveryReason::kTimedOutAfterSend);
}

TEST(Fulfiller, TimeoutExtendedWhileMarksFail_TheRecordFollowsTheLaterDeadlineDurably) {
  TestWorld world;
  const SwapId id = world.confirmed_swap(6);
  const BlockHeight first = world.net.live_swap(id)->timeout_block;
  // Marks fail past the first deadline and its discard margin.
  world.net.fail_marks_until(BlockHeight(first.value() + kDefaultDiscardMarginBlocks + 5));
  world.poll_ok();
  ASSERT_EQ(world.record(id)->stage, SendStage::kSent);
  world.net.extend_timeout(id, 60);
  const BlockHeight later = world.net.live_swap(id)->timeout_block;
  world.mine(1);
  world.poll_ok();
  EXPECT_EQ(world.record(id)->timeout_block, later);
  world.crash();
  ASSERT_TRUE(world.start().is_ok());
  ASSERT_NE(world.record(id), nullptr);
  EXPECT_EQ(world.record(id)->timeout_block, later) << "the later deadline is persisted";
  ASSERT_TRUE(world.run_until([&] { return world.forgotten(id); }));
  EXPECT_EQ(world.net.outcomes().at(id).final_status, SwapStatus::kCompleted);
  EXPECT_TRUE(world.log.entries().empty()) << "no false alarm at the stale deadline";
  EXPECT_EQ(world.net.payments_for(id), 1u) << "never paid twice";
}

}  // namespace
}  // namespace hashlock::swap
