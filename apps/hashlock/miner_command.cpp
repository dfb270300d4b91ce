// `hashlock miner --config FILE [--max-polls N]`: runs the swap fulfillment
// miner loop against the embedded simulated network (docs/swap.md), on the
// store the config names, fenced by the store lease. SIGINT/SIGTERM stop it
// cleanly after the current poll (the lease is released).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "apps/hashlock/commands.h"
#include "store/open_store.h"
#include "swap/miner.h"
#include "swap/miner_config.h"
#include "swap/recovery_log.h"
#include "swap/sim_network.h"
#include "util/clock.h"
#include "util/random.h"

namespace hashlock::app {
namespace {

// Set by the signal handler; the loop checks it between polls and sleeps.
volatile std::sig_atomic_t g_stop_requested = 0;
void request_stop(int /*signal*/) {
  g_stop_requested = 1;
}

constexpr uint64_t kSleepSliceMs = 10;
constexpr uint64_t kSimSwapTimeoutMinBlocks = 4;
constexpr uint64_t kSimSwapTimeoutMaxBlocks = 25;

struct MinerCliOptions {
  std::string config_path;
  uint64_t max_polls = 0;  // 0: until stopped
};

// The demo world: users open swaps assigned to this miner each block.
class DemoNetwork {
 public:
  DemoNetwork(const swap::MinerConfig& config)
      : config_(config),
        net_(swap::SimNetworkOptions{.seed = config.network.seed,
                                     .rpc_fault_rate = config.network.rpc_fault_rate}),
        rng_(config.network.seed ^ 0xde70) {}

  swap::FulfillerNetwork interfaces() {
    return {&net_.contract(), &net_.source(), &net_.wallet(), &net_.blocks()};
  }
  void tick() {
    net_.advance_block();
    const uint64_t count = rng_.below(config_.network.new_swaps_per_block_max + 1);
    for (uint64_t i = 0; i < count; ++i) {
      swap::SimSwapSpec spec;
      spec.miner = config_.miner_id;
      spec.source_amount = rng_.between(1'000, 100'000);
      spec.dest_amount = rng_.between(1'000, 100'000);
      spec.timeout_after_blocks = rng_.between(kSimSwapTimeoutMinBlocks, kSimSwapTimeoutMaxBlocks);
      net_.create_swap(spec);
    }
  }
  const swap::SimNetwork& sim() const { return net_; }

 private:
  const swap::MinerConfig& config_;
  swap::SimNetwork net_;
  util::Rng rng_;
};

// Where event lines go: stdout, and the event log file when configured.
class EventLog {
 public:
  util::Status open(const std::string& path) {
    if (path.empty()) return util::Status::ok();
    file_ = std::fopen(path.c_str(), "a");
    if (file_ == nullptr)
      return util::io_error("event log " + path + ": cannot open for appending");
    return util::Status::ok();
  }
  ~EventLog() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void line(const std::string& text) {
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
    if (file_ != nullptr) {
      std::fprintf(file_, "%s\n", text.c_str());
      std::fflush(file_);
    }
  }

 private:
  std::FILE* file_ = nullptr;
};

void sleep_interruptibly(uint64_t ms) {
  for (uint64_t slept = 0; slept < ms && g_stop_requested == 0; slept += kSleepSliceMs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(kSleepSliceMs, ms - slept)));
  }
}

// One lease owner per process: a second process is refused even when it
// runs under the same miner id.
std::string process_lease_owner(const std::string& miner_id) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown-host");
  return miner_id + "@" + host + ":" + std::to_string(getpid());
}

int fail(const char* what, const util::Status& status, int code) {
  std::fprintf(stderr, "hashlock miner: %s: %s\n", what, status.to_string().c_str());
  return code;
}

void report_poll(EventLog& events, const swap::PollReport& report, uint64_t poll) {
  for (const std::string& line : report.events) events.line("  " + line);
  for (const std::string& line : report.warnings) {
    events.line("  WARNING " + line);
    std::fprintf(stderr, "hashlock miner: WARNING %s\n", line.c_str());
  }
  events.line("poll " + std::to_string(poll) + " block " +
              (report.block_known ? report.block.to_string() : "?") + ": " +
              std::to_string(report.sends) + " sent, " + std::to_string(report.marks) +
              " marked, " + std::to_string(report.skipped_margin) + " too close to deadline, " +
              std::to_string(report.recovery_entries) + " recovery entries");
}

int run_loop(swap::Miner& miner, DemoNetwork& network, EventLog& events,
             const swap::MinerConfig& config, const MinerCliOptions& options) {
  uint64_t polls = 0;
  while (g_stop_requested == 0 && (options.max_polls == 0 || polls < options.max_polls)) {
    auto report = miner.run_once();
    if (!report.is_ok()) return fail("stopping", report.status(), kExitFailed);
    report_poll(events, *report, ++polls);
    sleep_interruptibly(config.poll_interval_ms);
    network.tick();
  }
  const auto& sim = network.sim();
  uint64_t completed = 0;
  for (const auto& [id, outcome] : sim.outcomes())
    completed += outcome.final_status == swap::SwapStatus::kCompleted;
  events.line("miner " + config.miner_id + " stopped after " + std::to_string(polls) +
              " polls: " + std::to_string(sim.swaps_created()) + " swaps opened, " +
              std::to_string(sim.dest_payments().size()) + " paid, " + std::to_string(completed) +
              " completed; open sends " +
              std::to_string(miner.fulfiller().journal().records().size()));
  return kExitOk;
}

int run_miner(const MinerCliOptions& options) {
  auto config = swap::load_miner_config(options.config_path);
  if (!config.is_ok()) return fail("config", config.status(), kExitUsage);
  auto store = store::open_store(config->store_url);
  if (!store.is_ok()) return fail("store", store.status(), kExitUnavailable);
  auto recovery_log = swap::FileRecoveryLog::open(config->recovery_log_path);
  if (!recovery_log.is_ok()) return fail("recovery log", recovery_log.status(), kExitFailed);
  EventLog events;
  if (util::Status opened = events.open(config->event_log_path); !opened.is_ok()) {
    return fail("event log", opened, kExitUsage);
  }
  util::SystemClock clock;
  DemoNetwork network(*config);
  swap::MinerOptions miner_options = config->miner_options();
  miner_options.lease_owner = process_lease_owner(config->miner_id);
  auto miner =
      swap::Miner::start(**store, network.interfaces(), **recovery_log, clock, miner_options);
  if (!miner.is_ok()) {
    const bool fenced = miner.status().code() == util::StatusCode::kLeaseHeld;
    return fail(fenced ? "refusing to start (another miner owns this store)" : "cannot start",
                miner.status(), fenced ? kExitUnavailable : kExitFailed);
  }
  events.line("miner " + config->miner_id + " on " + (*store)->url() + ", margin " +
              std::to_string(config->margin_blocks) + " blocks, recovery log " +
              config->recovery_log_path + " (simulated network, seed " +
              std::to_string(config->network.seed) + ")");
  if (const size_t open = miner->fulfiller().journal().records().size(); open > 0) {
    events.line("note: the store holds " + std::to_string(open) +
                " open sends from an earlier run; the embedded simulated network starts afresh "
                "each run and "
                "does not know them (use a fresh store for a demo)");
  }
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  const int code = run_loop(*miner, network, events, *config, options);
  if (util::Status released = miner->stop(); !released.is_ok() && code == kExitOk) {
    return fail("releasing the store lease", released, kExitFailed);
  }
  return code;
}

}  // namespace

void add_miner_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<MinerCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "miner",
      "Run the swap fulfillment miner loop (embedded simulated network; see docs/swap.md)");
  cmd->add_option("--config", options->config_path, "Miner TOML config (see examples/miner.toml)")
      ->required();
  cmd->add_option("--max-polls", options->max_polls,
                  "Stop after N polls (0: run until SIGINT/SIGTERM)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1'000'000'000}));
  cmd->callback([options, &exit_code] { exit_code = run_miner(*options); });
}

}  // namespace hashlock::app
