// TestWorld: the fixture the swap tests share (test code only): a simulated
// network, a fault-injecting MemoryStore, an in-memory recovery log, a manual
// clock, and a fulfiller that can be crashed and restarted from the store.
// Thread-safety: none.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "store/memory_store.h"
#include "swap/fulfiller.h"
#include "swap/recovery_log.h"
#include "swap/sim_network.h"

namespace hashlock::swap::testing {

inline constexpr const char* kMiner = "miner-1";
// Upper bound on polls a test drives before it declares the scenario stuck.
inline constexpr int kMaxTestPolls = 200;

// A block source whose read of the head lags the network's by `lag` blocks:
// a node behind the block the miner's calls execute in.
class LaggingBlocks final : public BlockSource {
 public:
  explicit LaggingBlocks(BlockSource& inner) : inner_(&inner) {}
  CallResult<BlockHeight> current_block() override {
    CallResult<BlockHeight> head = inner_->current_block();
    if (!head.is_ok() || lag == 0) return head;
    return BlockHeight(head.value().value() - lag);
  }
  uint64_t lag = 0;

 private:
  BlockSource* inner_;
};

struct TestWorld {
  explicit TestWorld(SimNetworkOptions net_options = {},
                     store::MemoryStoreOptions store_options = {})
      : net(net_options), store(store_options) {}

  FulfillerNetwork network() { return {&net.contract(), &net.source(), &net.wallet(), &head}; }

  util::Status start() {
    auto opened = Fulfiller::open(store, network(), log, clock, config, hooks);
    if (!opened.is_ok()) return opened.status();
    fulfiller.emplace(std::move(opened).value());
    return util::Status::ok();
  }

  // One poll; a store failure is the process dying: crash and restart.
  util::Result<PollReport> poll() {
    if (!fulfiller) HASHLOCK_RETURN_IF_ERROR(start());
    auto report = fulfiller->poll();
    if (!report.is_ok()) {
      last_error = report.status();
      crash();
    } else if (store.is_down()) {
      crash();  // the process died right after its last store operation
    }
    return report;
  }

  PollReport poll_ok() {
    auto report = poll();
    EXPECT_TRUE(report.is_ok()) << report.status().to_string();
    return report.is_ok() ? report.value() : PollReport{};
  }

  void crash() {
    fulfiller.reset();
    store.crash();
    ++crashes;
  }

  // Polls and mines one block each, until `done` or kMaxTestPolls.
  template <typename Done>
  bool run_until(Done done) {
    for (int i = 0; i < kMaxTestPolls; ++i) {
      (void)poll();
      if (done()) return true;
      net.advance_block();
      clock.advance_ms(1000);
    }
    return false;
  }

  void mine(int blocks) {
    for (int i = 0; i < blocks; ++i) {
      net.advance_block();
      clock.advance_ms(1000);
    }
  }

  // A swap whose source payment is already confirmed.
  SwapId confirmed_swap(uint64_t timeout_after_blocks = 20, const std::string& miner = kMiner) {
    SimSwapSpec spec;
    spec.miner = miner;
    spec.timeout_after_blocks = timeout_after_blocks + net_confirmation_blocks();
    const SwapId id = net.create_swap(spec);
    mine(static_cast<int>(net_confirmation_blocks()));
    return id;
  }

  uint64_t net_confirmation_blocks() const {
    return SimNetworkOptions{}.source_confirmation_blocks;
  }

  // The fulfiller is up and holds no record of `id` (it was discarded).
  bool forgotten(SwapId id) const {
    return fulfiller.has_value() && fulfiller->journal().find(id) == nullptr;
  }
  const SendRecord* record(SwapId id) const {
    return fulfiller ? fulfiller->journal().find(id) : nullptr;
  }
  size_t entries_for(SwapId id) const {
    size_t count = 0;
    for (const RecoveryEntry& entry : log.entries()) count += entry.swap_id == id ? 1 : 0;
    return count;
  }
  bool landed_mark(SwapId id) const {
    for (const SimMarkCall& call : net.mark_calls()) {
      if (call.swap_id == id && call.landed) return true;
    }
    return false;
  }

  SimNetwork net;
  LaggingBlocks head{net.blocks()};  // the miner's read of the head; no lag unless a test sets one
  store::MemoryStore store;
  MemoryRecoveryLog log;
  util::ManualClock clock{1'000'000};
  FulfillerConfig config{kMiner, kDefaultMarginBlocks, kDefaultDiscardMarginBlocks};
  FulfillerTestHooks hooks;
  std::optional<Fulfiller> fulfiller;
  util::Status last_error;
  int crashes = 0;
};

}  // namespace hashlock::swap::testing
