// `hashlock bench`: the performance benchmark of the engine as it is
// (docs/performance.md). Prints a readable table unless --json, and always
// ends with one JSON object on the last line of stdout.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/hashlock/commands.h"
#include "bench/ln_bench.h"

namespace hashlock::app {
namespace {

struct BenchOptions {
  bench::BenchConfig config;
  bool json = false;
};

nlohmann::ordered_json value_or_null(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json to_json(const bench::BenchReport& r) {
  nlohmann::ordered_json sweep = nlohmann::ordered_json::array();
  for (const bench::SweepPoint& p : r.sweep) {
    sweep.push_back({{"inflight", p.inflight},
                     {"payments_per_s_memory", value_or_null(p.payments_per_s_memory)},
                     {"payments_per_s_sqlite", value_or_null(p.payments_per_s_sqlite)},
                     {"syncs_per_payment", value_or_null(p.syncs_per_payment)},
                     {"bytes_written_per_payment", value_or_null(p.bytes_written_per_payment)}});
  }
  nlohmann::ordered_json replay = nlohmann::ordered_json::array();
  for (const bench::ReplayPoint& p : r.replay_points)
    replay.push_back({{"unacked_events", p.unacked_events}, {"ms", p.ms}});
  return {{"payments_per_s_sqlite", value_or_null(r.payments_per_s_sqlite)},
          {"payments_per_s_memory", value_or_null(r.payments_per_s_memory)},
          {"persistence_overhead", value_or_null(r.persistence_overhead)},
          {"raw_sqlite_syncs_per_s", value_or_null(r.raw_sqlite_syncs_per_s)},
          {"syncs_per_payment", value_or_null(r.syncs_per_payment)},
          {"bytes_written_per_payment", value_or_null(r.bytes_written_per_payment)},
          {"forward_payments_per_s_sqlite", value_or_null(r.forward_payments_per_s_sqlite)},
          {"replay_ms_per_100k_unacked_events", value_or_null(r.replay_ms_per_100k_unacked_events)},
          {"restart_ms_1k_history", value_or_null(r.restart_ms_1k_history)},
          {"restart_ms_1m_history", value_or_null(r.restart_ms_1m_history)},
          {"rss_bytes_per_inflight_htlc", value_or_null(r.rss_bytes_per_inflight_htlc)},
          {"inflight", r.inflight},
          {"payments_settled_sqlite", r.payments_settled_sqlite},
          {"payments_settled_memory", r.payments_settled_memory},
          {"payments_settled_forward", r.payments_settled_forward},
          {"forward_syncs_per_payment", value_or_null(r.forward_syncs_per_payment)},
          {"forward_bytes_written_per_payment", value_or_null(r.forward_bytes_written_per_payment)},
          {"store_batches_per_payment", value_or_null(r.store_batches_per_payment)},
          {"bytes_written_per_payment_by_namespace", r.bytes_written_per_payment_by_namespace},
          {"messages_per_payment", value_or_null(r.messages_per_payment)},
          {"sync_bound_payments_per_s", value_or_null(r.sync_bound_payments_per_s)},
          {"sqlite_run_syncs_per_s", value_or_null(r.sqlite_run_syncs_per_s)},
          {"raw_sqlite_syncs_per_s_samples", r.raw_sqlite_syncs_per_s_samples},
          {"heap_bytes_per_inflight_htlc", value_or_null(r.heap_bytes_per_inflight_htlc)},
          {"phase_ms", r.phase_ms},
          {"replay_points", replay},
          {"history_payments", r.history_payments},
          {"sweep", sweep},
          {"quick", r.quick},
          {"wall_ms", r.wall_ms},
          {"machine", {{"nproc", r.nproc}, {"cpu_model", r.cpu_model}, {"dir", r.dir}}},
          {"notes", r.notes},
          {"errors", r.errors}};
}

std::string shown(const std::optional<double>& value, const char* format = "%.1f") {
  if (!value) return "null";
  char text[64];
  std::snprintf(text, sizeof text, format, *value);
  return text;
}

void print_table(const bench::BenchReport& r) {
  std::printf("hashlock bench%s: %u CPUs (%s), files in %s\n", r.quick ? " --quick" : "", r.nproc,
              r.cpu_model.c_str(), r.dir.c_str());
  const std::pair<const char*, std::string> rows[] = {
      {"payments_per_s_sqlite", shown(r.payments_per_s_sqlite)},
      {"payments_per_s_memory", shown(r.payments_per_s_memory)},
      {"persistence_overhead", shown(r.persistence_overhead, "%.2f")},
      {"raw_sqlite_syncs_per_s", shown(r.raw_sqlite_syncs_per_s)},
      {"syncs_per_payment", shown(r.syncs_per_payment, "%.2f")},
      {"bytes_written_per_payment", shown(r.bytes_written_per_payment, "%.0f")},
      {"sync_bound_payments_per_s", shown(r.sync_bound_payments_per_s)},
      {"sqlite_run_syncs_per_s", shown(r.sqlite_run_syncs_per_s)},
      {"forward_payments_per_s_sqlite", shown(r.forward_payments_per_s_sqlite)},
      {"forward_syncs_per_payment", shown(r.forward_syncs_per_payment, "%.2f")},
      {"forward_bytes_written_per_payment", shown(r.forward_bytes_written_per_payment, "%.0f")},
      {"replay_ms_per_100k_unacked_events", shown(r.replay_ms_per_100k_unacked_events, "%.0f")},
      {"restart_ms_1k_history", shown(r.restart_ms_1k_history, "%.2f")},
      {"restart_ms_1m_history", shown(r.restart_ms_1m_history, "%.2f")},
      {"rss_bytes_per_inflight_htlc", shown(r.rss_bytes_per_inflight_htlc, "%.0f")},
      {"heap_bytes_per_inflight_htlc", shown(r.heap_bytes_per_inflight_htlc, "%.0f")},
  };
  for (const auto& [key, value] : rows) std::printf("  %-36s %14s\n", key, value.c_str());
  if (!r.sweep.empty()) {
    std::printf("  %-10s %14s %14s %10s %12s\n", "in flight", "memory pay/s", "sqlite pay/s",
                "syncs/pay", "bytes/pay");
    for (const bench::SweepPoint& p : r.sweep) {
      std::printf("  %-10llu %14s %14s %10s %12s\n", static_cast<unsigned long long>(p.inflight),
                  shown(p.payments_per_s_memory).c_str(), shown(p.payments_per_s_sqlite).c_str(),
                  shown(p.syncs_per_payment, "%.2f").c_str(),
                  shown(p.bytes_written_per_payment, "%.0f").c_str());
    }
  }
  for (const auto& [key, note] : r.notes) std::printf("  note %s: %s\n", key.c_str(), note.c_str());
  for (const std::string& error : r.errors) std::printf("  ERROR %s\n", error.c_str());
  std::printf("  %llu ms\n", static_cast<unsigned long long>(r.wall_ms));
}

int run_bench_command(const BenchOptions& options) {
  const bench::BenchReport report = bench::run_bench(options.config, [&](const std::string& phase) {
    std::fprintf(stderr, "hashlock bench: %s\n", phase.c_str());
  });
  if (!options.json) print_table(report);
  std::printf("%s\n", to_json(report).dump().c_str());
  return report.errors.empty() ? kExitOk : kExitFailed;
}

}  // namespace

void add_bench_commands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* bench = app.add_subcommand(
      "bench", "Measure the engine's throughput, restart and memory (docs/performance.md)");
  bench->add_flag("--quick", options->config.quick,
                  "A few seconds of correctness checks; the figures mean nothing");
  bench->add_option("--payments", options->config.payments, "Payments per throughput run")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  bench->add_option("--inflight", options->config.inflight, "Payments the sender keeps in flight")
      ->check(CLI::Range(uint64_t{1}, bench::kMaxInflightPayments));
  bench
      ->add_option("--sweep-inflight", options->config.sweep_inflight,
                   "Also measure throughput at these windows (comma-separated)")
      ->delimiter(',')
      ->check(CLI::Range(uint64_t{1}, bench::kMaxInflightPayments));
  bench
      ->add_option("--phases", options->config.phases,
                   "Run only these phases (comma-separated: rss, raw, memory, sqlite, forward, "
                   "restart, replay)")
      ->delimiter(',')
      ->check(CLI::IsMember(bench::kPhaseNames));
  bench->add_option("--dir", options->config.dir,
                    "Directory for the SQLite files (default: a temporary one, removed)");
  bench->add_flag("--json", options->json, "Print only the JSON line");
  bench->callback([options, &exit_code] { exit_code = run_bench_command(*options); });
}

}  // namespace hashlock::app
