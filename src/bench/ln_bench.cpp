#include "bench/ln_bench.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "bench/node_pair.h"
#include "codec/record.h"
#include "store/open_store.h"
#include "tests/support/temp_dir.h"
#include "util/hash.h"

namespace hashlock::bench {
namespace {

// Phase deadlines: together they keep a full run inside kFullRunBudget.
constexpr std::chrono::seconds kRawSyncSeconds{3};
constexpr std::chrono::milliseconds kQuickRawSyncMs{200};
constexpr uint64_t kMaxRawSyncs = 1'000'000;
constexpr size_t kRawSyncValueBytes = 100;
constexpr std::chrono::seconds kThroughputMemorySeconds{30};
constexpr std::chrono::seconds kThroughputSqliteSeconds{60};
constexpr std::chrono::seconds kThroughputForwardSeconds{40};
constexpr std::chrono::seconds kRssSeconds{30};
constexpr std::chrono::seconds kHistorySeconds{60};
constexpr std::chrono::seconds kReplayBuildSeconds{40};
constexpr std::chrono::seconds kSweepPointSeconds{8};
constexpr std::chrono::seconds kSettleSeconds{10};
constexpr uint64_t kQuickInflight = 8;
constexpr uint64_t kRssWarmupPayments = 50;
constexpr uint64_t kQuickRssWarmupPayments = 4;
constexpr uint64_t kQuickRssInflightHtlcs = 20;
constexpr uint64_t kQuickHistoryRealPayments = 20;
constexpr uint64_t kQuickHistoryLargePayments = 2'000;
constexpr uint64_t kSyntheticHistoryBatchRecords = 50'000;
constexpr int kRestartRepeats = 3;
constexpr uint64_t kSweepPayments = 2'000;
// Un-acked event counts the replay figure is measured at; the largest one
// that completes is scaled to kReplayTargetEvents.
constexpr uint64_t kReplayCounts[] = {1'000, 4'000, 10'000};
constexpr uint64_t kQuickReplayCounts[] = {20};

// The completed-payment record exactly as ChannelManager writes it once the
// user handled a terminal event (src/ln/manager.cpp, kDoneRecord): namespace
// "payments_done", key the payment id in hex, fields {0: succeeded}. The
// engine does not export it, so it is restated here; a restart check reads
// one back through the engine (send_payment refuses a completed id).
constexpr const char* kDoneNamespace = "payments_done";
constexpr codec::RecordKind kDoneRecord{
    .type = 45, .min_version = 1, .current_version = 1, .name = "completed payment"};

Clock::time_point after(std::chrono::milliseconds budget) {
  return Clock::now() + budget;
}

std::optional<double> ratio(double numerator, double denominator) {
  if (denominator <= 0) return std::nullopt;
  return numerator / denominator;
}

std::optional<double> rate(uint64_t count, double seconds) {
  return ratio(static_cast<double>(count), seconds);
}

uint64_t heap_bytes() {
  return static_cast<uint64_t>(mallinfo2().uordblks);
}

uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    return colon == std::string::npos ? line : line.substr(std::min(colon + 2, line.size()));
  }
  return "unknown";
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Runs the phases of one benchmark; each fills its keys or records why not.
class Bench {
 public:
  Bench(const BenchConfig& config, const ProgressFn& progress, std::string dir)
      : config_(config), progress_(progress), dir_(std::move(dir)) {
    payments_ =
        config.payments != 0 ? config.payments : (config.quick ? kQuickPayments : kDefaultPayments);
    inflight_ = config.quick ? std::min(config.inflight, kQuickInflight) : config.inflight;
  }

  BenchReport run() {
    const Clock::time_point started = Clock::now();
    report_.quick = config_.quick;
    report_.dir = dir_;
    report_.inflight = inflight_;
    report_.nproc = static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN));
    report_.cpu_model = cpu_model();
    // Memory first, while the heap holds nothing of earlier phases.
    if (wanted("rss")) phase("memory per HTLC in flight", [&] { return rss_per_htlc(); });
    if (wanted("raw")) phase("raw SQLite synced writes", [&] { return raw_syncs(); });
    if (wanted("memory")) phase("throughput, memory store", [&] { return throughput_memory(); });
    if (wanted("sqlite")) phase("throughput, SQLite", [&] { return throughput_sqlite(); });
    if (wanted("forward"))
      phase("throughput, forwarding on SQLite", [&] { return throughput_forward(); });
    if (wanted("raw")) phase("raw SQLite synced writes, again", [&] { return raw_syncs(); });
    if (wanted("restart")) phase("restart after history", [&] { return restart_history(); });
    if (wanted("replay")) phase("replay of un-acked events", [&] { return replay(); });
    for (uint64_t window : config_.sweep_inflight) {
      if (Clock::now() + 2 * kSweepPointSeconds > started + kFullRunBudget) {
        report_.notes["sweep"] = "points from " + std::to_string(window) +
                                 " in flight on skipped: the run would pass its time budget";
        break;
      }
      phase("sweep, " + std::to_string(window) + " in flight", [&] { return sweep_point(window); });
    }
    report_.persistence_overhead =
        report_.payments_per_s_memory && report_.payments_per_s_sqlite
            ? ratio(*report_.payments_per_s_memory, *report_.payments_per_s_sqlite)
            : std::nullopt;
    if (report_.raw_sqlite_syncs_per_s && report_.syncs_per_payment) {
      report_.sync_bound_payments_per_s =
          ratio(*report_.raw_sqlite_syncs_per_s, *report_.syncs_per_payment);
    }
    if (config_.quick)
      report_.notes["quick"] =
          "--quick: a correctness run over a few payments; its figures mean nothing";
    report_.wall_ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    return report_;
  }

 private:
  bool wanted(const std::string& name) const {
    return config_.phases.empty() ||
           std::find(config_.phases.begin(), config_.phases.end(), name) != config_.phases.end();
  }

  template <typename Fn>
  void phase(const std::string& name, Fn&& fn) {
    if (progress_) progress_(name);
    const Clock::time_point started = Clock::now();
    util::Status status = fn();
    report_.phase_ms[name] = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    if (!status.is_ok()) report_.errors.push_back(name + ": " + status.to_string());
  }

  // A fresh SQLite URL in the benchmark directory (old files of that name removed).
  std::string fresh_sqlite(const std::string& name) {
    const std::string path = dir_ + "/" + name + ".db";
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ignored);
    created_.push_back(path);
    return "sqlite:" + path;
  }
  void remove_files() {
    std::error_code ignored;
    for (const std::string& path : created_) {
      for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path + suffix, ignored);
    }
    created_.clear();
  }

  util::Status raw_syncs() {
    HASHLOCK_ASSIGN_OR_RETURN(std::unique_ptr<store::KVStore> kv,
                              store::open_store(fresh_sqlite("raw")));
    const util::Bytes value(kRawSyncValueBytes, 0x5a);
    const auto budget =
        config_.quick ? kQuickRawSyncMs : std::chrono::milliseconds(kRawSyncSeconds);
    const Clock::time_point started = Clock::now();
    const Clock::time_point deadline = started + budget;
    const uint64_t syncs_before = kv->stats().syncs;
    uint64_t written = 0;
    while (written < kMaxRawSyncs && Clock::now() < deadline) {
      HASHLOCK_RETURN_IF_ERROR(
          kv->put("bench", "k" + std::to_string(written), value, store::Durability::kSynced));
      ++written;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const std::optional<double> measured = rate(kv->stats().syncs - syncs_before, seconds);
    if (!measured) return util::unavailable("no synced write completed");
    std::vector<double>& samples = report_.raw_sqlite_syncs_per_s_samples;
    samples.push_back(*measured);
    double sum = 0;
    for (double sample : samples) sum += sample;
    report_.raw_sqlite_syncs_per_s = sum / static_cast<double>(samples.size());
    report_.notes["raw_sqlite_syncs_per_s"] =
        "one put of a " + std::to_string(kRawSyncValueBytes) +
        "-byte value per synced batch, synchronous=FULL, WAL, in " + dir_ +
        "; the mean of a run before and one after the SQLite throughput run "
        "(raw_sqlite_syncs_per_s_samples), since fsync latency here varies with other load";
    kv.reset();
    remove_files();
    return util::Status::ok();
  }

  util::Result<PaymentRun> settled_run(const std::string& sender_url,
                                       const std::string& receiver_url, uint64_t count,
                                       uint64_t window, std::chrono::seconds budget) {
    HASHLOCK_ASSIGN_OR_RETURN(std::unique_ptr<NodePair> pair,
                              NodePair::create(sender_url, receiver_url));
    HASHLOCK_ASSIGN_OR_RETURN(PaymentRun run,
                              pair->run_payments(count, window, SenderPolicy::kHandle,
                                                 ReceiverPolicy::kClaim, after(budget)));
    if (run.failed > 0)
      return util::failed_precondition(std::to_string(run.failed) + " benchmark payments failed");
    return run;
  }

  util::Status throughput_memory() {
    HASHLOCK_ASSIGN_OR_RETURN(PaymentRun run, settled_run("memory:", "memory:", payments_,
                                                          inflight_, kThroughputMemorySeconds));
    report_.payments_settled_memory = run.settled;
    report_.payments_per_s_memory = rate(run.settled, run.seconds);
    if (run.hit_deadline)
      report_.notes["payments_per_s_memory"] =
          "stopped at its deadline; rate over the payments settled";
    return util::Status::ok();
  }

  util::Status throughput_sqlite() {
    HASHLOCK_ASSIGN_OR_RETURN(
        PaymentRun run, settled_run(fresh_sqlite("sender"), fresh_sqlite("receiver"), payments_,
                                    inflight_, kThroughputSqliteSeconds));
    remove_files();
    report_.payments_settled_sqlite = run.settled;
    report_.payments_per_s_sqlite = rate(run.settled, run.seconds);
    const double settled = static_cast<double>(run.settled);
    report_.syncs_per_payment =
        ratio(static_cast<double>(run.sender_stats.syncs + run.receiver_stats.syncs), settled);
    report_.store_batches_per_payment = ratio(
        static_cast<double>(run.sender_stats.batches_written + run.receiver_stats.batches_written),
        settled);
    report_.bytes_written_per_payment = ratio(
        static_cast<double>(run.sender_stats.bytes_written + run.receiver_stats.bytes_written),
        settled);
    for (const store::StoreStats* stats : {&run.sender_stats, &run.receiver_stats}) {
      for (const auto& [ns, space] : stats->by_namespace) {
        if (settled > 0)
          report_.bytes_written_per_payment_by_namespace[ns] +=
              static_cast<double>(space.bytes) / settled;
      }
    }
    report_.messages_per_payment = ratio(static_cast<double>(run.messages), settled);
    report_.sqlite_run_syncs_per_s =
        ratio(static_cast<double>(run.sender_stats.syncs + run.receiver_stats.syncs), run.seconds);
    report_.notes["payments_per_s_sqlite"] =
        "two nodes, one channel, " + std::to_string(inflight_) +
        " payments in flight, synchronous=FULL" +
        (run.hit_deadline ? "; stopped at its deadline, rate over the payments settled" : "");
    report_.notes["syncs_per_payment"] =
        "store stats of both nodes over the SQLite run, divided by settled payments";
    return util::Status::ok();
  }

  // Three nodes on SQLite in a line; every payment is forwarded by the
  // middle node, which earns its fee and handles PaymentForwarded.
  util::Status throughput_forward() {
    HASHLOCK_ASSIGN_OR_RETURN(
        std::unique_ptr<NodePair> line,
        NodePair::create_line({fresh_sqlite("forward_sender"), fresh_sqlite("forward_forwarder"),
                               fresh_sqlite("forward_receiver")}));
    HASHLOCK_ASSIGN_OR_RETURN(
        PaymentRun run,
        line->run_payments(payments_, inflight_, SenderPolicy::kHandle, ReceiverPolicy::kClaim,
                           after(kThroughputForwardSeconds)));
    line.reset();
    remove_files();
    if (run.failed > 0)
      return util::failed_precondition(std::to_string(run.failed) + " forwarded payments failed");
    // Every settled payment was forwarded; the forwarder may still be
    // settling the last ones' inbound side when the sender has its PaymentSent.
    if (run.forwarded > run.settled || run.forwarded + inflight_ < run.settled) {
      return util::failed_precondition(std::to_string(run.settled) + " payments settled but " +
                                       std::to_string(run.forwarded) + " were forwarded");
    }
    report_.forward_payments_per_s_sqlite = rate(run.settled, run.seconds);
    report_.payments_settled_forward = run.settled;
    const double settled = static_cast<double>(run.settled);
    report_.forward_syncs_per_payment =
        ratio(static_cast<double>(run.sender_stats.syncs + run.forwarder_stats.syncs +
                                  run.receiver_stats.syncs),
              settled);
    report_.forward_bytes_written_per_payment = ratio(
        static_cast<double>(run.sender_stats.bytes_written + run.forwarder_stats.bytes_written +
                            run.receiver_stats.bytes_written),
        settled);
    report_.notes["forward_payments_per_s_sqlite"] =
        "three nodes in a line on SQLite (synchronous=FULL), " + std::to_string(inflight_) +
        " payments in flight, each forwarded by the middle node (default fee policy); rate = "
        "PaymentSent handled at the sender per second; forward_syncs_per_payment and "
        "forward_bytes_written_per_payment count all three stores" +
        (run.hit_deadline ? "; stopped at its deadline, rate over the payments settled" : "");
    return util::Status::ok();
  }

  util::Status rss_per_htlc() {
    const uint64_t htlcs = config_.quick ? kQuickRssInflightHtlcs : kRssInflightHtlcs;
    const uint64_t warmup = config_.quick ? kQuickRssWarmupPayments : kRssWarmupPayments;
    HASHLOCK_ASSIGN_OR_RETURN(
        std::unique_ptr<NodePair> pair,
        NodePair::create(fresh_sqlite("rss_sender"), fresh_sqlite("rss_receiver")));
    HASHLOCK_RETURN_IF_ERROR(pair->run_payments(warmup, kQuickInflight, SenderPolicy::kHandle,
                                                ReceiverPolicy::kClaim, after(kRssSeconds))
                                 .status());
    const uint64_t before = rss_bytes();
    const uint64_t heap_before = heap_bytes();
    HASHLOCK_ASSIGN_OR_RETURN(PaymentRun run,
                              pair->run_payments(htlcs, htlcs, SenderPolicy::kHandle,
                                                 ReceiverPolicy::kHold, after(kRssSeconds)));
    const uint64_t after_bytes = rss_bytes();
    const uint64_t heap_after = heap_bytes();
    if (pair->held_claimables() != htlcs || run.sent != htlcs) {
      return util::failed_precondition("expected " + std::to_string(htlcs) +
                                       " HTLCs in flight, the receiver holds " +
                                       std::to_string(pair->held_claimables()));
    }
    report_.rss_bytes_per_inflight_htlc =
        static_cast<double>(after_bytes > before ? after_bytes - before : 0) /
        static_cast<double>(htlcs);
    report_.heap_bytes_per_inflight_htlc =
        static_cast<double>(heap_after > heap_before ? heap_after - heap_before : 0) /
        static_cast<double>(htlcs);
    report_.notes["rss_bytes_per_inflight_htlc"] =
        "RSS growth of the whole process (/proc/self/statm) from " + std::to_string(warmup) +
        " settled payments to " + std::to_string(htlcs) +
        " HTLCs committed and held by the receiver; both nodes of the one channel live in this "
        "process, on SQLite (its page cache counts too); measured first in the run, while the "
        "heap is fresh. heap_bytes_per_inflight_htlc: malloc'd bytes in use (mallinfo2) over "
        "the same window";
    pair.reset();
    remove_files();
    return util::Status::ok();
  }

  util::Result<double> median_restart(NodePair& pair) {
    std::vector<double> times;
    for (int i = 0; i < kRestartRepeats; ++i) {
      HASHLOCK_ASSIGN_OR_RETURN(double ms, pair.restart(kSender));
      times.push_back(ms);
    }
    return median(times);
  }

  util::Status write_synthetic_history(store::KVStore& kv, uint64_t records) {
    codec::TlvWriter fields;
    fields.boolean(0, true);
    const util::Bytes value = codec::encode_record(kDoneRecord, fields);
    store::WriteBatch batch;
    for (uint64_t k = 0; k < records; ++k) {
      batch.put(kDoneNamespace, synthetic_payment(k).to_hex(), value);
      if (batch.ops().size() >= kSyntheticHistoryBatchRecords || k + 1 == records) {
        HASHLOCK_RETURN_IF_ERROR(kv.write(batch, store::Durability::kSynced));
        batch.clear();
      }
    }
    return util::Status::ok();
  }
  static ln::PaymentId synthetic_payment(uint64_t k) {
    return ln::PaymentId(
        util::sha256(util::as_bytes("hashlock bench synthetic history " + std::to_string(k))));
  }

  util::Status restart_history() {
    const uint64_t real = config_.quick ? kQuickHistoryRealPayments : kHistoryRealPayments;
    const uint64_t large = config_.quick ? kQuickHistoryLargePayments : kHistoryLargePayments;
    HASHLOCK_ASSIGN_OR_RETURN(
        std::unique_ptr<NodePair> pair,
        NodePair::create(fresh_sqlite("history_sender"), fresh_sqlite("history_receiver")));
    HASHLOCK_ASSIGN_OR_RETURN(PaymentRun run,
                              pair->run_payments(real, inflight_, SenderPolicy::kHandle,
                                                 ReceiverPolicy::kClaim, after(kHistorySeconds)));
    HASHLOCK_RETURN_IF_ERROR(
        pair->settle(SenderPolicy::kHandle, ReceiverPolicy::kClaim, after(kSettleSeconds)));
    if (run.settled != real)
      return util::unavailable("only " + std::to_string(run.settled) + " history payments settled");
    HASHLOCK_ASSIGN_OR_RETURN(double small_ms, median_restart(*pair));
    HASHLOCK_RETURN_IF_ERROR(write_synthetic_history(pair->store(kSender), large - real));
    HASHLOCK_ASSIGN_OR_RETURN(double large_ms, median_restart(*pair));
    // The engine must see the synthetic records as its own completed payments.
    const ln::PaymentId probe = synthetic_payment(0);
    util::Status resend = pair->node(kSender).manager().send_payment(
        probe, util::PaymentHash(util::sha256(probe.view())), ln::AmountMsat(kPaymentAmountMsat),
        pair->channel());
    if (resend.is_ok() || resend.message().find("already succeeded") == std::string::npos) {
      return util::failed_precondition(
          "the engine did not read the synthetic history as completed payments: " +
          resend.to_string());
    }
    report_.restart_ms_1k_history = small_ms;
    report_.restart_ms_1m_history = large_ms;
    report_.history_payments = large;
    report_.notes["restart_ms_1m_history"] = "Node::start of the sender on SQLite, median of " +
                                             std::to_string(kRestartRepeats) + " restarts, after " +
                                             std::to_string(real) + " real settled payments plus " +
                                             std::to_string(large - real) +
                                             " synthetic completed-payment records (payments_done, "
                                             "the engine's format, written in batches of " +
                                             std::to_string(kSyntheticHistoryBatchRecords) +
                                             "); the engine reads one back as already succeeded";
    pair.reset();
    remove_files();
    return util::Status::ok();
  }

  // Builds `count` un-acked claim events at the sender on the memory store
  // (the sender's user never handles PaymentSent), copies the sender's store
  // into SQLite, and times Node::start plus releasing every event once.
  util::Result<ReplayPoint> replay_point(uint64_t count, Clock::time_point deadline) {
    HASHLOCK_ASSIGN_OR_RETURN(std::unique_ptr<NodePair> pair,
                              NodePair::create("memory:", "memory:"));
    HASHLOCK_ASSIGN_OR_RETURN(PaymentRun run,
                              pair->run_payments(count, inflight_, SenderPolicy::kLeaveUnhandled,
                                                 ReceiverPolicy::kClaim, deadline));
    if (run.hit_deadline)
      return util::unavailable("building " + std::to_string(count) +
                               " un-acked events took too long");
    HASHLOCK_RETURN_IF_ERROR(
        pair->settle(SenderPolicy::kLeaveUnhandled, ReceiverPolicy::kClaim, deadline));
    const size_t unacked = pair->node(kSender).chain_monitor().unacked_events();
    if (unacked != count)
      return util::failed_precondition("built " + std::to_string(unacked) + " un-acked events");
    HASHLOCK_RETURN_IF_ERROR(pair->move_store(kSender, fresh_sqlite("replay_sender")));
    HASHLOCK_ASSIGN_OR_RETURN(double start_ms, pair->restart(kSender));
    const Clock::time_point release_started = Clock::now();
    HASHLOCK_RETURN_IF_ERROR(pair->release_events_unhandled(kSender));
    const double release_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - release_started).count();
    if (pair->node(kSender).chain_monitor().unacked_events() != count) {
      return util::failed_precondition("the restarted sender lost un-acked events");
    }
    pair.reset();
    remove_files();
    return ReplayPoint{count, start_ms + release_ms};
  }

  util::Status replay() {
    std::vector<uint64_t> counts;
    if (config_.quick) {
      counts.assign(std::begin(kQuickReplayCounts), std::end(kQuickReplayCounts));
    } else {
      counts.assign(std::begin(kReplayCounts), std::end(kReplayCounts));
    }
    const Clock::time_point deadline = after(kReplayBuildSeconds);
    util::Status last;
    for (uint64_t count : counts) {
      util::Result<ReplayPoint> point = replay_point(count, deadline);
      if (!point.is_ok()) {
        last = point.status();
        break;
      }
      report_.replay_points.push_back(*point);
    }
    remove_files();
    if (report_.replay_points.empty()) return last;
    const ReplayPoint& largest = report_.replay_points.back();
    report_.replay_ms_per_100k_unacked_events = largest.ms *
                                                static_cast<double>(kReplayTargetEvents) /
                                                static_cast<double>(largest.unacked_events);
    std::string points;
    for (const ReplayPoint& p : report_.replay_points) {
      char text[64];
      std::snprintf(text, sizeof text, "%s%llu events: %.1f ms", points.empty() ? "" : "; ",
                    static_cast<unsigned long long>(p.unacked_events), p.ms);
      points += text;
    }
    const bool scaled = largest.unacked_events != kReplayTargetEvents;
    report_.notes["replay_ms_per_100k_unacked_events"] =
        "measured with " + std::to_string(largest.unacked_events) + " un-acked claim events" +
        (scaled ? " and scaled linearly to 100,000" : "") + " (points: " + points +
        "). Each point: Node::start of the sender on SQLite plus one process_pending_events "
        "whose handler answers kReplay" +
        (last.is_ok() ? "" : "; stopped: " + last.message());
    return util::Status::ok();
  }

  util::Status sweep_point(uint64_t window) {
    const uint64_t count = std::min(payments_, kSweepPayments);
    SweepPoint point{.inflight = window};
    HASHLOCK_ASSIGN_OR_RETURN(PaymentRun memory,
                              settled_run("memory:", "memory:", count, window, kSweepPointSeconds));
    point.payments_per_s_memory = rate(memory.settled, memory.seconds);
    HASHLOCK_ASSIGN_OR_RETURN(
        PaymentRun sqlite, settled_run(fresh_sqlite("sweep_sender"), fresh_sqlite("sweep_receiver"),
                                       count, window, kSweepPointSeconds));
    remove_files();
    point.payments_per_s_sqlite = rate(sqlite.settled, sqlite.seconds);
    point.syncs_per_payment =
        ratio(static_cast<double>(sqlite.sender_stats.syncs + sqlite.receiver_stats.syncs),
              static_cast<double>(sqlite.settled));
    point.bytes_written_per_payment =
        ratio(static_cast<double>(sqlite.sender_stats.bytes_written +
                                  sqlite.receiver_stats.bytes_written),
              static_cast<double>(sqlite.settled));
    report_.sweep.push_back(point);
    return util::Status::ok();
  }

  const BenchConfig& config_;
  const ProgressFn& progress_;
  std::string dir_;
  uint64_t payments_ = 0;
  uint64_t inflight_ = 0;
  std::vector<std::string> created_;
  BenchReport report_;
};

}  // namespace

BenchReport run_bench(const BenchConfig& config, const ProgressFn& progress) {
  std::unique_ptr<testsupport::TempDir> temp;
  std::string dir = config.dir;
  if (dir.empty()) {
    temp = std::make_unique<testsupport::TempDir>("hashlock-bench");
    dir = temp->path();
  } else {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
      BenchReport failed;
      failed.errors.push_back("cannot create " + dir + ": " + error.message());
      return failed;
    }
  }
  return Bench(config, progress, dir).run();
}

}  // namespace hashlock::bench
