// `hashlock swap-sim`: a seeded simulation of the swap miner against
// simulated chains and contract (flags and JSON keys: docs/cli.md).
// `hashlock recovery list --log FILE`: the miner's recovery log as a table.
// `hashlock miner --config FILE`: the miner loop (miner_command.cpp).
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/hashlock/commands.h"
#include "swap/recovery_log.h"
#include "swap/swap_sim.h"

namespace hashlock::app {
namespace {

struct SwapSimCliOptions {
  swap::SwapSimOptions sim;
  bool json = false;
  bool no_torn_crashes = false;
};

nlohmann::ordered_json sim_json(const swap::SwapSimResult& r) {
  return {{"seed", r.seed},
          {"swaps", r.swaps},
          {"blocks", r.blocks},
          {"fulfilled", r.fulfilled},
          {"completed", r.completed},
          {"timed_out", r.timed_out},
          {"payments", r.payments},
          {"crashes", r.crashes},
          {"restarts", r.restarts},
          {"double_sends", r.double_sends},
          {"late_sends", r.late_sends},
          {"unlogged_stuck_funds", r.unlogged_stuck_funds},
          {"duplicate_recovery_entries", r.duplicate_recovery_entries},
          {"recovery_entries", r.recovery_entries},
          {"false_positive_recoveries", r.false_positive_recoveries},
          {"log_write_failures", r.log_write_failures},
          {"violations", r.violations},
          {"wall_ms", r.wall_ms}};
}

int run_swap_sim_command(SwapSimCliOptions options) {
  options.sim.torn_crashes = !options.no_torn_crashes;
  const bool show_progress = isatty(STDERR_FILENO) == 1;
  swap::SwapSimProgress progress;
  if (show_progress) {
    progress = [](uint64_t block, uint64_t created, uint64_t total) {
      std::fprintf(stderr, "\rswap-sim: block %llu, %llu/%llu swaps created",
                   static_cast<unsigned long long>(block), static_cast<unsigned long long>(created),
                   static_cast<unsigned long long>(total));
    };
  }
  const swap::SwapSimResult result = swap::run_swap_sim(options.sim, progress);
  if (show_progress) std::fprintf(stderr, "\n");
  for (const std::string& v : result.violations) std::fprintf(stderr, "VIOLATION %s\n", v.c_str());
  if (options.json) {
    std::printf("%s\n", sim_json(result).dump().c_str());
  } else {
    std::printf(
        "seed %llu: %llu swaps over %llu blocks: %llu fulfilled, %llu completed, %llu timed out; "
        "%llu crashes, %llu recovery entries; double sends %llu, late sends %llu, unlogged stuck "
        "funds %llu, "
        "false positives %llu; %s (%llu ms)\n",
        static_cast<unsigned long long>(result.seed), static_cast<unsigned long long>(result.swaps),
        static_cast<unsigned long long>(result.blocks),
        static_cast<unsigned long long>(result.fulfilled),
        static_cast<unsigned long long>(result.completed),
        static_cast<unsigned long long>(result.timed_out),
        static_cast<unsigned long long>(result.crashes),
        static_cast<unsigned long long>(result.recovery_entries),
        static_cast<unsigned long long>(result.double_sends),
        static_cast<unsigned long long>(result.late_sends),
        static_cast<unsigned long long>(result.unlogged_stuck_funds),
        static_cast<unsigned long long>(result.false_positive_recoveries),
        result.ok() ? "all invariants held" : "INVARIANT VIOLATED",
        static_cast<unsigned long long>(result.wall_ms));
  }
  return result.ok() ? kExitOk : kExitFailed;
}

struct RecoveryListOptions {
  std::string log;
  bool json = false;
};

int run_recovery_list(const RecoveryListOptions& options) {
  auto entries = swap::read_recovery_log(options.log);
  if (!entries.is_ok()) {
    std::fprintf(stderr, "hashlock recovery list: %s\n", entries.status().to_string().c_str());
    return entries.status().code() == util::StatusCode::kNotFound ? kExitUsage : kExitFailed;
  }
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& entry : *entries)
      out.push_back(nlohmann::json::parse(swap::encode_recovery_line(entry)));
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  std::printf("%-10s %-8s %-8s %-32s %-10s %-10s %-12s %s\n", "swap", "block", "timeout", "reason",
              "source", "dest", "dest_amount", "dest_tx_hash");
  for (const auto& e : *entries) {
    std::printf("%-10llu %-8llu %-8llu %-32s %-10s %-10s %-12llu %s\n",
                static_cast<unsigned long long>(e.swap_id.value()),
                static_cast<unsigned long long>(e.block.value()),
                static_cast<unsigned long long>(e.timeout_block.value()),
                std::string(swap::recovery_reason_name(e.reason)).c_str(), e.source_chain.c_str(),
                e.dest_chain.c_str(), static_cast<unsigned long long>(e.dest_amount.value()),
                e.dest_tx_hash.to_hex().c_str());
  }
  std::printf("%zu recovery entries in %s\n", entries->size(), options.log.c_str());
  return kExitOk;
}

}  // namespace

// In miner_command.cpp.
void add_miner_command(CLI::App& app, int& exit_code);

void add_swap_commands(CLI::App& app, int& exit_code) {
  add_miner_command(app, exit_code);
  auto sim = std::make_shared<SwapSimCliOptions>();
  CLI::App* cmd = app.add_subcommand("swap-sim",
                                     "Seeded simulation of the swap miner with crashes and RPC "
                                     "faults (exit 0 iff invariants held)");
  cmd->add_option("--seed", sim->sim.seed, "Seed; one seed reproduces a run")->required();
  cmd->add_option("--swaps", sim->sim.swaps, "Swaps to create")
      ->required()
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--crash-rate", sim->sim.crash_rate,
                  "Chance per block of a crash at a persistence point")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--rpc-fault-rate", sim->sim.rpc_fault_rate, "Chance per network call of a fault")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--margin-blocks", sim->sim.margin_blocks, "Timeout margin for new sends")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--discard-margin-blocks", sim->sim.discard_margin_blocks,
                  "Blocks past the deadline to keep records")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--log-fault-rate", sim->sim.log_fault_rate,
                  "Chance per block that a recovery-log append fails")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--trace-swap", sim->sim.trace_swap,
                  "Print the miner's events about this swap id to stderr");
  cmd->add_flag("--no-torn-crashes", sim->no_torn_crashes,
                "Crashes drop every unsynced write (no torn prefix)");
  cmd->add_flag("--json", sim->json, "Print one JSON object as the last line");
  cmd->callback([sim, &exit_code] { exit_code = run_swap_sim_command(*sim); });

  CLI::App* recovery = app.add_subcommand("recovery", "Inspect the miner's recovery log");
  recovery->require_subcommand(1);
  auto list_options = std::make_shared<RecoveryListOptions>();
  CLI::App* list =
      recovery->add_subcommand("list", "Print the recovery log (JSON Lines) as a table");
  list->add_option("--log", list_options->log, "Recovery log file")->required();
  list->add_flag("--json", list_options->json, "Print one JSON array instead of a table");
  list->callback([list_options, &exit_code] { exit_code = run_recovery_list(*list_options); });
}

}  // namespace hashlock::app
