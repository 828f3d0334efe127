// Google Benchmark harness for the risk gate (`bench_risk`), on the same world as `wojak bench
// risk`, plus the lookups it is built from for comparison.
#include <benchmark/benchmark.h>

#include "bench/risk_bench.h"

namespace wojak {
namespace {

const RiskBenchWorld& World() {
  static const RiskBenchWorld world = BuildRiskBenchWorld(RiskBenchOptions{});
  return world;
}

void BM_RiskGateEvaluate(benchmark::State& state) {
  const RiskBenchWorld& world = World();
  RiskResult result;
  size_t next = 0;
  for (auto _ : state) {
    world.gate->Evaluate(world.orders[next], *world.state, *world.market, world.now, result);
    benchmark::DoNotOptimize(result.breaches.size());
    if (++next == world.orders.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RiskGateEvaluate);

// The same evaluation on a book small enough to stay in L1/L2 (200 instruments, 20 accounts):
// the difference to BM_RiskGateEvaluate is the cost of cache misses on a large book.
void BM_RiskGateEvaluateSmallBook(benchmark::State& state) {
  static const RiskBenchWorld world = [] {
    RiskBenchOptions options;
    options.instruments = 200;
    options.accounts = 20;
    options.distinct_orders = 1024;
    return BuildRiskBenchWorld(options);
  }();
  RiskResult result;
  size_t next = 0;
  for (auto _ : state) {
    world.gate->Evaluate(world.orders[next], *world.state, *world.market, world.now, result);
    benchmark::DoNotOptimize(result.breaches.size());
    if (++next == world.orders.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RiskGateEvaluateSmallBook);

// The floor under one evaluation: the symbol, account and reference-price lookups alone.
void BM_LookupsOnly(benchmark::State& state) {
  const RiskBenchWorld& world = World();
  size_t next = 0;
  for (auto _ : state) {
    const OrderView& order = world.orders[next];
    const Instrument* instrument = world.instruments->FindBySymbol(order.symbol);
    benchmark::DoNotOptimize(world.state->FindAccount(order.account));
    benchmark::DoNotOptimize(world.market->Reference(instrument->instrument_token, world.now));
    if (++next == world.orders.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupsOnly);

}  // namespace
}  // namespace wojak

BENCHMARK_MAIN();
