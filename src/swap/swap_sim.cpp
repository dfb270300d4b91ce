#include "swap/swap_sim.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "store/memory_store.h"
#include "swap/miner.h"
#include "swap/recovery_log.h"
#include "swap/sim_network.h"

namespace hashlock::swap {
namespace {

constexpr const char* kSimMinerId = "sim-miner";
constexpr uint64_t kSimBlockMs = 1'000;
constexpr double kSimReorgChancePerSwap = 0.01;
constexpr uint64_t kSimReorgDelayMaxBlocks = 6;
constexpr double kSimMinerInactiveChancePerBlock = 0.002;
constexpr uint64_t kSimMinerInactiveBlocks = 3;
constexpr double kSimBadStatusChancePerBlock = 0.01;
constexpr uint64_t kSimBadWireStatus = 9;
constexpr double kSimRateChangeChancePerBlock = 0.02;
constexpr double kSimFeeChangeChancePerBlock = 0.01;
constexpr double kSimKeeperProbability = 0.7;

std::string format_rate(double rate) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", rate);
  return buffer;
}

// The world around the miner: it spawns swaps and perturbs them.
class World {
 public:
  World(const SwapSimOptions& options, SimNetwork& net)
      : options_(options), net_(net), rng_(options.seed ^ 0x5eed) {}

  void spawn() {
    const uint64_t want = rng_.below(kSimMaxSpawnPerBlock + 1);
    for (uint64_t i = 0; i < want && created_ < options_.swaps; ++i) {
      SimSwapSpec spec;
      spec.miner = kSimMinerId;
      spec.source_amount = rng_.between(1'000, 100'000);
      spec.dest_amount = rng_.between(1'000, 100'000);
      spec.timeout_after_blocks = rng_.between(kSimTimeoutMinBlocks, kSimTimeoutMaxBlocks);
      const SwapId id = net_.create_swap(spec);
      ++created_;
      if (rng_.chance(kSimReorgChancePerSwap)) {
        reorgs_[net_.height().value() + rng_.between(0, kSimReorgDelayMaxBlocks)].push_back(id);
      }
    }
  }

  void perturb() {
    restore_bad_status();
    if (auto due = reorgs_.find(net_.height().value()); due != reorgs_.end()) {
      for (SwapId id : due->second) net_.reorg_source_payment(id);
      reorgs_.erase(due);
    }
    if (inactive_until_ && net_.height().value() >= *inactive_until_) {
      net_.set_miner_active(kSimMinerId, true);
      inactive_until_.reset();
    } else if (!inactive_until_ && rng_.chance(kSimMinerInactiveChancePerBlock)) {
      net_.set_miner_active(kSimMinerId, false);
      inactive_until_ = net_.height().value() + kSimMinerInactiveBlocks;
    }
    if (std::optional<SwapId> id = random_live_swap();
        id && rng_.chance(kSimBadStatusChancePerBlock)) {
      bad_status_ = id;
      net_.set_wire_status(*id, kSimBadWireStatus);
    }
    if (std::optional<SwapId> id = random_live_swap();
        id && rng_.chance(kSimRateChangeChancePerBlock)) {
      net_.set_rate(*id, ExchangeRate{rng_.between(1, 100), rng_.between(1, 100)});
    }
    if (rng_.chance(kSimFeeChangeChancePerBlock)) net_.set_wallet_fee(rng_.between(1, 100));
  }

  bool done_spawning() const { return created_ >= options_.swaps; }
  uint64_t created() const { return created_; }

 private:
  std::optional<SwapId> random_live_swap() {
    if (net_.swaps_created() == 0) return std::nullopt;
    const SwapId id(rng_.between(1, net_.swaps_created()));
    if (net_.live_swap(id) == nullptr) return std::nullopt;
    return id;
  }

  void restore_bad_status() {
    if (!bad_status_) return;
    if (const Swap* swap = net_.live_swap(*bad_status_))
      net_.set_wire_status(*bad_status_, swap_status_to_wire(swap->status));
    bad_status_.reset();
  }

  const SwapSimOptions& options_;
  SimNetwork& net_;
  util::Rng rng_;
  uint64_t created_ = 0;
  std::map<uint64_t, std::vector<SwapId>> reorgs_;
  std::optional<uint64_t> inactive_until_;
  std::optional<SwapId> bad_status_;
};

// The miner process: dies with the store and restarts from it.
class MinerProcess {
 public:
  MinerProcess(const SwapSimOptions& options, SimNetwork& net, store::MemoryStore& store,
               MemoryRecoveryLog& log, util::ManualClock& clock)
      : net_(net), store_(store), log_(log), clock_(clock), trace_swap_(options.trace_swap) {
    miner_options_.fulfiller =
        FulfillerConfig{kSimMinerId, options.margin_blocks, options.discard_margin_blocks, {}};
    if (options.trace_swap != 0) {
      const std::string tag = SwapId(options.trace_swap).to_string() + ":";
      miner_options_.fulfiller.event_sink = [tag, &net](const std::string& line) {
        if (line.find(tag) != std::string::npos) {
          std::fprintf(stderr, "trace block %s: %s\n", net.height().to_string().c_str(),
                       line.c_str());
        }
      };
    }
    miner_options_.lease_ttl_ms = 60 * kSimBlockMs;
    miner_options_.hooks.planted_bug_intent_after_broadcast =
        options.planted_bug_intent_after_broadcast;
  }

  // Polls once in this block, crashing and restarting as the store dictates.
  // Returns an error only when the miner cannot be restarted at all.
  util::Status poll_block(SwapSimResult& result) {
    for (uint32_t attempt = 0; attempt < kSimMaxRestartsPerBlock; ++attempt) {
      if (!miner_) {
        auto started = Miner::start(store_, network(), log_, clock_, miner_options_);
        if (!started.is_ok()) {
          if (!store_.is_down()) return started.status().with_context("miner restart");
          crash(result);
          continue;
        }
        miner_.emplace(std::move(started).value());
        ++result.restarts;
      }
      auto report = miner_->run_once();
      if (report.is_ok()) {
        result.log_write_failures += report->log_failures;
        if (store_.is_down()) crash(result);  // died right after its last write
        return util::Status::ok();
      }
      if (!store_.is_down()) return report.status().with_context("miner poll");
      crash(result);
    }
    return util::io_error("miner crashed more than " + std::to_string(kSimMaxRestartsPerBlock) +
                          " times in one block");
  }

  bool journal_empty() const { return miner_ && miner_->fulfiller().journal().records().empty(); }

 private:
  FulfillerNetwork network() {
    return FulfillerNetwork{&net_.contract(), &net_.source(), &net_.wallet(), &net_.blocks()};
  }
  void crash(SwapSimResult& result) {
    if (trace_swap_ != 0)
      std::fprintf(stderr, "trace block %s: miner crashed\n", net_.height().to_string().c_str());
    miner_.reset();
    store_.crash();
    ++result.crashes;
  }

  SimNetwork& net_;
  store::MemoryStore& store_;
  MemoryRecoveryLog& log_;
  util::ManualClock& clock_;
  MinerOptions miner_options_;
  std::optional<Miner> miner_;
  uint64_t trace_swap_ = 0;
};

void violation(SwapSimResult& result, const SwapSimOptions& options, SwapId id,
               const std::string& what) {
  result.violations.push_back("seed " + std::to_string(options.seed) + ": " + id.to_string() +
                              ": " + what + "; reproduce: " + swap_sim_command(options));
}

void check_payments(const SimNetwork& net, const SwapSimOptions& options, SwapSimResult& result) {
  std::map<SwapId, uint64_t> per_swap;
  for (const SimDestPayment& payment : net.dest_payments()) {
    ++result.payments;
    if (++per_swap[payment.swap_id] == 2) {
      ++result.double_sends;
      violation(result, options, payment.swap_id,
                "paid twice on the destination chain (double send)");
    }
    const int64_t blocks_left = payment.timeout_at_send.blocks_after(payment.block);
    if (!payment.swap_live_at_send || blocks_left <= static_cast<int64_t>(options.margin_blocks)) {
      ++result.late_sends;
      violation(result, options, payment.swap_id,
                "payment included at block " + payment.block.to_string() + " with " +
                    std::to_string(blocks_left) + " blocks left (margin " +
                    std::to_string(options.margin_blocks) + ") (late send)");
    }
  }
}

void check_outcomes(const SimNetwork& net, const MemoryRecoveryLog& log,
                    const SwapSimOptions& options, SwapSimResult& result) {
  std::map<SwapId, uint64_t> entries;
  for (const RecoveryEntry& entry : log.entries()) ++entries[entry.swap_id];
  result.recovery_entries = log.entries().size();
  for (const auto& [id, count] : entries) {
    if (count > 1) {
      ++result.duplicate_recovery_entries;
      violation(result, options, id, std::to_string(count) + " recovery entries for one incident");
    }
  }
  for (const auto& [id, outcome] : net.outcomes()) {
    const uint64_t logged = entries.contains(id) ? entries[id] : 0;
    if (outcome.marked) ++result.fulfilled;
    if (outcome.final_status == SwapStatus::kCompleted) {
      ++result.completed;
      if (logged > 0) {
        ++result.false_positive_recoveries;
        violation(result, options, id, "recovery entry for a swap that completed (false positive)");
      }
      continue;
    }
    ++result.timed_out;
    if (!outcome.marked && net.payments_for(id) > 0 && logged == 0) {
      ++result.unlogged_stuck_funds;
      violation(result, options, id, "timed out with an unmarked payment and no recovery entry");
    }
  }
}

// What the chains and the log say about one swap, for --trace-swap.
void trace_ground_truth(const SimNetwork& net, const MemoryRecoveryLog& log, SwapId id) {
  for (const SimDestPayment& payment : net.dest_payments()) {
    if (payment.swap_id != id) continue;
    std::fprintf(stderr, "truth: paid %s at block %s (deadline then %s)\n",
                 payment.tx_id.to_hex().c_str(), payment.block.to_string().c_str(),
                 payment.timeout_at_send.to_string().c_str());
  }
  for (const SimMarkCall& call : net.mark_calls()) {
    if (call.swap_id != id) continue;
    std::fprintf(stderr, "truth: mark_fulfilled call%s\n", call.landed ? " (landed)" : "");
  }
  if (auto it = net.outcomes().find(id); it != net.outcomes().end()) {
    std::fprintf(stderr, "truth: left the contract at block %s as %s (deadline %s, marked %d)\n",
                 it->second.removed_block.to_string().c_str(),
                 std::string(swap_status_name(it->second.final_status)).c_str(),
                 it->second.timeout_block.to_string().c_str(), it->second.marked ? 1 : 0);
  }
  for (const RecoveryEntry& entry : log.entries()) {
    if (entry.swap_id != id) continue;
    std::fprintf(stderr, "truth: recovery entry at block %s: %s: %s\n",
                 entry.block.to_string().c_str(),
                 std::string(recovery_reason_name(entry.reason)).c_str(), entry.detail.c_str());
  }
}

}  // namespace

std::string swap_sim_command(const SwapSimOptions& options) {
  std::string command = "hashlock swap-sim --seed " + std::to_string(options.seed) + " --swaps " +
                        std::to_string(options.swaps) + " --crash-rate " +
                        format_rate(options.crash_rate) + " --rpc-fault-rate " +
                        format_rate(options.rpc_fault_rate) + " --margin-blocks " +
                        std::to_string(options.margin_blocks);
  if (options.log_fault_rate != SwapSimOptions{}.log_fault_rate) {
    command += " --log-fault-rate " + format_rate(options.log_fault_rate);
  }
  if (options.discard_margin_blocks != SwapSimOptions{}.discard_margin_blocks) {
    command += " --discard-margin-blocks " + std::to_string(options.discard_margin_blocks);
  }
  if (!options.torn_crashes) command += " --no-torn-crashes";
  return command;
}

SwapSimResult run_swap_sim(const SwapSimOptions& options, const SwapSimProgress& progress) {
  const auto started = std::chrono::steady_clock::now();
  SwapSimResult result;
  result.seed = options.seed;
  result.swaps = options.swaps;
  SimNetworkOptions net_options;
  net_options.seed = options.seed;
  net_options.rpc_fault_rate = options.rpc_fault_rate;
  net_options.swap_read_miss_rate = options.rpc_fault_rate / 4;
  net_options.timeout_keeper_probability = kSimKeeperProbability;
  SimNetwork net(net_options);
  store::MemoryStore store({.seed = options.seed, .torn_crash = options.torn_crashes});
  MemoryRecoveryLog log;
  util::ManualClock clock(1'700'000'000'000);
  util::Rng faults(options.seed ^ 0xfa17);
  World world(options, net);
  MinerProcess miner(options, net, store, log, clock);
  const uint64_t max_blocks = options.swaps * kSimMaxBlocksPerSwap + kSimDrainBlocksMax;
  bool crash_armed = false;
  for (; result.blocks < max_blocks; ++result.blocks) {
    world.spawn();
    world.perturb();
    if (!crash_armed && faults.chance(options.crash_rate)) {
      store.go_down_after(faults.between(1, kSimCrashOpsAheadMax));
      crash_armed = true;
    }
    if (faults.chance(options.log_fault_rate)) log.fail_next_appends(1);
    const uint64_t crashes_before = result.crashes;
    if (util::Status polled = miner.poll_block(result); !polled.is_ok()) {
      violation(result, options, SwapId(0), "the miner stopped: " + polled.to_string());
      break;
    }
    if (result.crashes != crashes_before) crash_armed = false;
    if (progress) progress(result.blocks, world.created(), options.swaps);
    if (world.done_spawning() && net.live_swaps() == 0 && miner.journal_empty()) break;
    net.advance_block();
    clock.advance_ms(kSimBlockMs);
  }
  if (net.live_swaps() != 0 || !miner.journal_empty()) {
    violation(result, options, SwapId(0),
              "did not quiesce within " + std::to_string(max_blocks) + " blocks (" +
                  std::to_string(net.live_swaps()) + " swaps still live)");
  }
  if (options.trace_swap != 0) trace_ground_truth(net, log, SwapId(options.trace_swap));
  check_payments(net, options, result);
  check_outcomes(net, log, options, result);
  result.wall_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - started)
                                             .count());
  return result;
}

}  // namespace hashlock::swap
