// The `hashlock bench` measurements: what the Lightning engine does between
// two nodes on SQLite and on the memory store and through a forwarding third
// node on SQLite, what a raw synced SQLite write costs in the same run,
// restart and replay times, and memory per HTLC in flight. docs/performance.md describes the method and the results.
//
// A figure that cannot be measured yet is left empty (printed as null) with
// the reason in `notes`; nothing is estimated in its place. Timing uses the
// steady clock of the benchmark driver; the engine itself still reads no
// clock. Ownership: run_bench() creates and removes everything it uses (the
// SQLite files live in `dir`, or a temporary directory removed afterwards).
// Bounds: every phase stops at a count limit and a deadline; a full run stays
// under kFullRunBudget and a --quick run is a few seconds of correctness
// checks whose numbers mean nothing. Thread-safety: none; one call at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hashlock::bench {

// The protocol's limit on HTLCs one side may have offered and not yet removed.
inline constexpr uint64_t kMaxInflightPayments = 483;
inline constexpr uint64_t kDefaultPayments = 5'000;
inline constexpr uint64_t kQuickPayments = 20;
inline constexpr uint64_t kDefaultInflight = 400;
inline constexpr uint64_t kRssInflightHtlcs = 400;
inline constexpr uint64_t kHistoryRealPayments = 1'000;
inline constexpr uint64_t kHistoryLargePayments = 1'000'000;
inline constexpr uint64_t kReplayTargetEvents = 100'000;
inline constexpr std::chrono::seconds kFullRunBudget{270};

struct BenchConfig {
  bool quick = false;
  uint64_t payments = 0;  // 0: kDefaultPayments, or kQuickPayments with `quick`
  uint64_t inflight = kDefaultInflight;
  std::string dir;                       // empty: a temporary directory, removed afterwards
  std::vector<uint64_t> sweep_inflight;  // windows to measure throughput at (may be empty)
  // Phases to run, by short name (kPhaseNames); empty: all of them. Keys of
  // phases left out stay null.
  std::vector<std::string> phases;
};

// Short names of the phases, for BenchConfig::phases.
inline const std::vector<std::string> kPhaseNames = {"rss",     "raw",     "memory", "sqlite",
                                                     "forward", "restart", "replay"};

struct SweepPoint {
  uint64_t inflight = 0;
  std::optional<double> payments_per_s_memory;
  std::optional<double> payments_per_s_sqlite;
  std::optional<double> syncs_per_payment;
  std::optional<double> bytes_written_per_payment;
};

struct ReplayPoint {
  uint64_t unacked_events = 0;
  double ms = 0;  // Node::start plus releasing every event once
};

struct BenchReport {
  // The keys of the performance issue.
  std::optional<double> payments_per_s_sqlite;
  std::optional<double> payments_per_s_memory;
  std::optional<double> persistence_overhead;
  std::optional<double> raw_sqlite_syncs_per_s;
  std::optional<double> syncs_per_payment;
  std::optional<double> bytes_written_per_payment;
  std::optional<double> forward_payments_per_s_sqlite;
  std::optional<double> replay_ms_per_100k_unacked_events;
  std::optional<double> restart_ms_1k_history;
  std::optional<double> restart_ms_1m_history;
  std::optional<double> rss_bytes_per_inflight_htlc;
  // Details behind them.
  uint64_t inflight = 0;
  uint64_t payments_settled_sqlite = 0;
  uint64_t payments_settled_memory = 0;
  uint64_t payments_settled_forward = 0;
  std::optional<double> forward_syncs_per_payment;          // all three stores
  std::optional<double> forward_bytes_written_per_payment;  // all three stores
  std::optional<double> store_batches_per_payment;
  // bytes_written_per_payment by namespace (both nodes of the SQLite run).
  std::map<std::string, double> bytes_written_per_payment_by_namespace;
  std::optional<double> messages_per_payment;
  std::optional<double> sync_bound_payments_per_s;  // raw_sqlite_syncs_per_s / syncs_per_payment
  std::optional<double> sqlite_run_syncs_per_s;     // syncs the engine issued per second on SQLite
  std::vector<double> raw_sqlite_syncs_per_s_samples;  // before and after the SQLite runs
  std::optional<double> heap_bytes_per_inflight_htlc;  // malloc'd bytes in use, same window
  std::map<std::string, uint64_t> phase_ms;
  std::vector<ReplayPoint> replay_points;
  uint64_t history_payments =
      0;  // settled payments behind restart_ms_1m_history (real plus synthetic)
  std::vector<SweepPoint> sweep;
  // The run.
  uint64_t wall_ms = 0;
  unsigned nproc = 0;
  std::string cpu_model;
  std::string dir;
  bool quick = false;
  std::map<std::string, std::string> notes;
  std::vector<std::string> errors;  // phases that failed; their keys stay null
};

using ProgressFn = std::function<void(const std::string& phase)>;

BenchReport run_bench(const BenchConfig& config, const ProgressFn& progress = {});

}  // namespace hashlock::bench
