// Journal micro-benchmarks: hashing, replay (with chain verification) and durable appends,
// each compared in the same run with the raw limit it is bounded by.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "journal/hash_chain.h"
#include "journal/sqlite_journal.h"
#include "journal/test_util.h"
#include "store_probe.h"

namespace wojak {
namespace {

constexpr size_t kPayloadBytes = 200;  // about one encoded JournalRecord

// Data directory on the same file system as the build (not tmpfs), so fsync costs are real.
std::string BenchDir(const std::string& name) {
  std::string dir = std::filesystem::current_path() / ("journal-bench-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void BM_EntryHash(benchmark::State& state) {
  EntryHasher hasher;
  Entry entry = testing::SampleEntries(1, 1, kPayloadBytes).front();
  Hash prev = kGenesisHash;
  for (auto _ : state) {
    prev = hasher.Compute(prev, entry);
    benchmark::DoNotOptimize(prev);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EntryHash);

// Replays a journal of state.range(0) entries, checking every hash link.
void BM_Replay(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  std::string dir = BenchDir("replay");
  JournalOptions options;
  options.path = JournalPathForDataDir(dir);
  {
    auto journal = SqliteJournal::Open(options);
    if (!journal.ok()) return state.SkipWithError(journal.status().ToString().c_str());
    for (Seq first = 1; first <= count; first += 10'000) {
      std::vector<Entry> batch = testing::SampleEntries(first, 10'000, kPayloadBytes);
      Status status = (*journal)->AppendBatch(batch, {});
      if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
    }
  }
  options.verify_on_open = false;
  auto journal = SqliteJournal::Open(options);
  if (!journal.ok()) return state.SkipWithError(journal.status().ToString().c_str());
  for (auto _ : state) {
    size_t replayed = 0;
    Status status = (*journal)->Replay(1, [&](const Entry&) {
      ++replayed;
      return OkStatus();
    });
    if (!status.ok() || replayed != count) return state.SkipWithError("replay failed");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(count));
  journal->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Replay)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(3);

// Durable appends of state.range(0) entries per batch, each entry with its order projection.
void BM_AppendBatch(benchmark::State& state) {
  const size_t batch_size = static_cast<size_t>(state.range(0));
  std::string dir = BenchDir("append");
  JournalOptions options;
  options.path = JournalPathForDataDir(dir);
  auto journal = SqliteJournal::Open(options);
  if (!journal.ok()) return state.SkipWithError(journal.status().ToString().c_str());
  Seq next = 1;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Entry> batch = testing::SampleEntries(next, batch_size, kPayloadBytes);
    ProjectionBatch projections;
    for (const Entry& entry : batch) projections.orders.push_back(testing::SampleOrder(entry.seq));
    state.ResumeTiming();
    Status status = (*journal)->AppendBatch(batch, projections);
    if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
    next += batch_size;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch_size));
  journal->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendBatch)->Arg(1)->Arg(64)->Arg(512)->UseRealTime();

// The raw limits the appends are compared with: same storage, no hashing, no projections.
void BM_RawStore(benchmark::State& state) {
  std::string dir = BenchDir("raw");
  double rows_per_s = 0;
  for (auto _ : state) {
    // Enough commits to average over, without minutes of single-row fsyncs.
    int batch_size = static_cast<int>(state.range(0));
    auto rate = RawStoreProbe(dir, std::min(20'000, 1'000 * batch_size), batch_size);
    if (!rate.ok()) return state.SkipWithError(rate.status().ToString().c_str());
    rows_per_s = *rate;
  }
  state.counters["rows_per_s"] = rows_per_s;
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RawStore)->Arg(1)->Arg(64)->Arg(512)->Iterations(1)->UseRealTime();

void BM_Fsync(benchmark::State& state) {
  std::string dir = BenchDir("fsync");
  FsyncLatency latency;
  for (auto _ : state) {
    auto measured = FsyncProbe(dir, 2000);
    if (!measured.ok()) return state.SkipWithError(measured.status().ToString().c_str());
    latency = *measured;
  }
  state.counters["p50_us"] = latency.p50_us;
  state.counters["p99_us"] = latency.p99_us;
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Fsync)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace wojak

BENCHMARK_MAIN();
