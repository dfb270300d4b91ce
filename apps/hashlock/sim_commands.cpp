// `hashlock sim`: a seeded simulation of a Lightning network with crashes,
// checked against the invariants of the specification (docs/cli.md).
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/hashlock/commands.h"
#include "apps/hashlock/progress.h"
#include "sim/ln_sim.h"
#include "sim/scenario.h"

namespace hashlock::app {
namespace {

struct SimOptions {
  sim::LnSimConfig config;
  std::string mode = "persistent";
  std::string canary;
  bool json = false;
};

nlohmann::json to_json(const sim::LnSimReport& r) {
  return {{"seed", r.seed},
          {"nodes", r.nodes},
          {"payments_attempted", r.payments_attempted},
          {"payments_succeeded", r.payments_succeeded},
          {"payments_failed", r.payments_failed},
          {"forwards", r.forwards},
          {"crashes", r.crashes},
          {"restarts", r.restarts},
          {"force_closes", r.force_closes},
          {"revoked_closes", r.revoked_closes},
          {"punished_revoked_commitments", r.punished_revoked_commitments},
          {"cooperative_closes", r.cooperative_closes},
          {"payments_forfeited", r.payments_forfeited},
          {"engine_closes", r.engine_closes},
          {"reorgs", r.reorgs},
          {"lost_payments", r.lost_payments},
          {"duplicate_events", r.duplicate_events},
          {"unacked_monitor_events", r.unacked_monitor_events},
          {"stuck_htlcs", r.stuck_htlcs},
          {"events_replayed", r.events_replayed},
          {"disconnects", r.disconnects},
          {"stale_restores", r.stale_restores},
          {"stale_restores_ahead", r.stale_restores_ahead},
          {"closes_from_stale_state", r.closes_from_stale_state},
          {"payments_rebuilt_from_monitors", r.payments_rebuilt_from_monitors},
          {"payments_forgotten", r.payments_forgotten},
          {"mpp_payments", r.mpp_payments},
          {"path_successes", r.path_successes},
          {"path_failures", r.path_failures},
          {"funds_conserved", r.funds_conserved},
          {"violations", r.violations},
          {"wall_ms", r.wall_ms}};
}

void print_summary(const sim::LnSimReport& r) {
  std::printf("hashlock sim: seed %llu, %zu nodes\n", static_cast<unsigned long long>(r.seed),
              r.nodes);
  std::printf("  payments: %llu sent, %llu succeeded, %llu failed by receivers\n",
              static_cast<unsigned long long>(r.payments_attempted),
              static_cast<unsigned long long>(r.payments_succeeded),
              static_cast<unsigned long long>(r.payments_failed));
  if (r.forwards > 0 || r.mpp_payments > 0) {
    std::printf("  routing:  %llu forwards, %llu multi-part payments, %llu parts settled, %llu parts failed\n",
                static_cast<unsigned long long>(r.forwards), static_cast<unsigned long long>(r.mpp_payments),
                static_cast<unsigned long long>(r.path_successes), static_cast<unsigned long long>(r.path_failures));
  }
  std::printf(
      "  faults:   %llu crashes survived (%llu restarts from stale manager snapshots), %llu link drops, "
      "%llu monitor events replayed after restarts\n",
      static_cast<unsigned long long>(r.crashes), static_cast<unsigned long long>(r.stale_restores),
      static_cast<unsigned long long>(r.disconnects), static_cast<unsigned long long>(r.events_replayed));
  if (r.stale_restores_ahead > 0) {
    std::printf(
        "  stale:    %llu restores of an older manager state while its monitors were ahead, %llu "
        "channels closed as behind their monitor, %llu payments or parts rebuilt from monitors, "
        "%llu sends forgotten (never left the lost state)\n",
        static_cast<unsigned long long>(r.stale_restores_ahead),
        static_cast<unsigned long long>(r.closes_from_stale_state),
        static_cast<unsigned long long>(r.payments_rebuilt_from_monitors),
        static_cast<unsigned long long>(r.payments_forgotten));
  }
  if (r.force_closes + r.revoked_closes + r.cooperative_closes + r.reorgs > 0) {
    std::printf(
        "  chain:    %llu channels force-closed (%llu by the engine: HTLC expiries, peer errors), "
        "%llu revoked commitments broadcast (%llu punished, %llu payments forfeited), %llu closed "
        "cooperatively, %llu reorgs\n",
        static_cast<unsigned long long>(r.force_closes),
        static_cast<unsigned long long>(r.engine_closes),
        static_cast<unsigned long long>(r.revoked_closes),
        static_cast<unsigned long long>(r.punished_revoked_commitments),
        static_cast<unsigned long long>(r.payments_forfeited),
        static_cast<unsigned long long>(r.cooperative_closes),
        static_cast<unsigned long long>(r.reorgs));
  }
  std::printf(
      "  checks:   %llu lost, %llu duplicate events, %llu un-acked monitor events, %llu stuck "
      "HTLCs, funds %s\n",
      static_cast<unsigned long long>(r.lost_payments),
      static_cast<unsigned long long>(r.duplicate_events),
      static_cast<unsigned long long>(r.unacked_monitor_events),
      static_cast<unsigned long long>(r.stuck_htlcs),
      r.funds_conserved ? "conserved" : "NOT conserved");
  for (const std::string& v : r.violations) std::printf("  VIOLATION: %s\n", v.c_str());
  std::printf("  %s in %llu ms\n", r.ok() ? "every invariant held" : "INVARIANTS VIOLATED",
              static_cast<unsigned long long>(r.wall_ms));
}

int run_sim(SimOptions& options) {
  options.config.persistent_mode = options.mode == "persistent";
  if (options.canary == "ack-before-handled")
    options.config.canary = ln::ManagerConfig::PlantedBug::kAckBeforeHandled;
  util::Status valid = sim::validate(options.config);
  if (!valid.is_ok()) {
    std::fprintf(stderr, "hashlock sim: %s\n", valid.message().c_str());
    return kExitUsage;
  }
  ProgressBar progress("payments", options.config.payments);
  const sim::LnSimReport report =
      sim::run_ln_sim(options.config, [&](uint64_t done) { progress.update(done); });
  progress.finish();
  if (options.json) {
    std::printf("%s\n", to_json(report).dump().c_str());
  } else {
    print_summary(report);
  }
  return report.ok() ? kExitOk : kExitFailed;
}

int run_scenarios(const std::vector<std::string>& files) {
  size_t passed = 0;
  size_t failed = 0;
  bool bad_input = false;
  for (const std::string& file : files) {
    auto scenario = sim::load_scenario(file);
    if (!scenario.is_ok()) {
      std::printf("FAIL %s: %s\n", file.c_str(), scenario.status().message().c_str());
      ++failed;
      bad_input = true;
      continue;
    }
    const sim::ScenarioResult result = sim::run_scenario(*scenario);
    if (result.passed) {
      std::printf("PASS %s (%zu expectations)\n", scenario->name.c_str(),
                  result.expectations_checked);
      ++passed;
    } else {
      std::printf("FAIL %s: %s\n", scenario->name.c_str(), result.failure.c_str());
      ++failed;
    }
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  if (failed == 0) return kExitOk;
  return bad_input && passed == 0 ? kExitUsage : kExitFailed;
}

}  // namespace

void add_sim_commands(CLI::App& app, int& exit_code) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* scenario = app.add_subcommand(
      "scenario", "Run scripted scenarios (docs/scenarios.md) and check their expectations");
  scenario->add_option("files", *files, "Scenario files")->required();
  scenario->callback([files, &exit_code] { exit_code = run_scenarios(*files); });

  auto options = std::make_shared<SimOptions>();
  CLI::App* sim = app.add_subcommand(
      "sim", "Run a seeded Lightning network simulation with crashes and check every invariant");
  sim->add_option("--seed", options->config.seed, "Seed of the run (the run is deterministic)");
  sim->add_option("--nodes", options->config.nodes, "Number of nodes, in a ring of channels")
      ->check(CLI::Range(2, 64));
  sim->add_option("--payments", options->config.payments, "Number of payments to send");
  sim->add_option("--crash-rate", options->config.crash_rate,
                  "Chance per payment that a node crashes at a persistence point")
      ->check(CLI::Range(0.0, 1.0));
  sim->add_option("--stale-snapshot-rate", options->config.stale_snapshot_rate,
                  "Chance per payment of a stale manager snapshot step (default: the crash rate)")
      ->check(CLI::Range(0.0, 1.0));
  sim->add_option("--stale-ahead-rate", options->config.stale_ahead_rate,
                  "Chance per payment that a node restarts from an older copy of its manager "
                  "state while its monitors are ahead (a lost write, a backup; default 0)")
      ->check(CLI::Range(0.0, 1.0));
  sim->add_flag("--async-persist", options->config.async_persist,
                "Persist monitor updates asynchronously, completing in random order");
  sim->add_flag("--forwarding", options->config.forwarding, "Route payments over several hops");
  sim->add_flag("--mpp", options->config.mpp, "Split payments into parts");
  sim->add_option("--force-close-rate", options->config.force_close_rate,
                  "Chance per payment of a force close")
      ->check(CLI::Range(0.0, 1.0));
  sim->add_option("--reorg-rate", options->config.reorg_rate, "Chance per payment of a chain reorg")
      ->check(CLI::Range(0.0, 1.0));
  sim->add_option("--revoked-close-share", options->config.revoked_close_share,
                  "Share of force closes where the closer broadcasts a revoked commitment "
                  "(default 0.25)")
      ->check(CLI::Range(0.0, 1.0));
  sim->add_option("--max-reorg-depth", options->config.max_reorg_depth,
                  "Deepest chain reorg, in blocks (default 3, at most 5)")
      ->check(CLI::Range(uint64_t{1}, sim::kMaxSimReorgDepth));
  sim->add_option("--mode", options->mode, "Monitor event mode")
      ->check(CLI::IsMember({"persistent", "legacy"}));
  sim->add_option("--store", options->config.store, "Store of every node: memory or sqlite:DIR");
  sim->add_flag("--json", options->json, "Print one JSON object as the last line");
  sim->add_option("--canary", options->canary,
                  "Plant a durability bug to prove the checker fails (testing only)")
      ->check(CLI::IsMember({"ack-before-handled"}));
  sim->callback([options, &exit_code] { exit_code = run_sim(*options); });
}

}  // namespace hashlock::app
