// Raw store write rates: batches of 1, 16 and 256 small records, each batch
// committed and synced, on SQLite (synchronous=FULL) and PostgreSQL (a
// private server with fsync on). The engine's figures are compared against
// these limits in docs/performance.md.
#include <benchmark/benchmark.h>

#include <memory>

#include "store/open_store.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace hashlock;

constexpr size_t kValueBytes = 100;

void write_batches(benchmark::State& state, store::KVStore& kv) {
  const auto batch_size = static_cast<size_t>(state.range(0));
  const store::Bytes value(kValueBytes, 0x5a);
  uint64_t next_key = 0;
  for (auto _ : state) {
    store::WriteBatch batch;
    for (size_t i = 0; i < batch_size; ++i)
      batch.put("bench", "k" + std::to_string(next_key++), value);
    util::Status written = kv.write(batch, store::Durability::kSynced);
    if (!written.is_ok()) {
      state.SkipWithError(written.to_string().c_str());
      return;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch_size));
  state.counters["syncs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_SqliteSyncedBatch(benchmark::State& state) {
  testsupport::TempDir dir("hashlock-bench");
  auto kv = store::open_store("sqlite:" + dir.file("bench.db"));
  if (!kv.is_ok()) {
    state.SkipWithError(kv.status().to_string().c_str());
    return;
  }
  write_batches(state, **kv);
}

testsupport::PostgresServer* postgres() {
  static std::unique_ptr<testsupport::PostgresServer> server = [] {
    auto started = testsupport::PostgresServer::start();
    return started.is_ok() ? std::move(started).value() : nullptr;
  }();
  return server.get();
}

void BM_PostgresSyncedBatch(benchmark::State& state) {
  static int databases = 0;
  if (postgres() == nullptr) {
    state.SkipWithError("cannot start a PostgreSQL server");
    return;
  }
  auto url = postgres()->create_database("bench" + std::to_string(++databases));
  if (!url.is_ok()) {
    state.SkipWithError(url.status().to_string().c_str());
    return;
  }
  auto kv = store::open_store(*url);
  if (!kv.is_ok()) {
    state.SkipWithError(kv.status().to_string().c_str());
    return;
  }
  write_batches(state, **kv);
}

BENCHMARK(BM_SqliteSyncedBatch)->Arg(1)->Arg(16)->Arg(256)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_PostgresSyncedBatch)->Arg(1)->Arg(16)->Arg(256)->MinTime(2.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
