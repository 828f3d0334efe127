// `wojak bench risk`: full risk-gate evaluation of realistic orders against a large book (every
// rule on, 10k instruments, 1k accounts with positions and open orders), single core.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "risk/gate.h"

namespace wojak {

struct RiskBenchOptions {
  int instruments = 10'000;
  int accounts = 1'000;
  int positions_per_account = 8;
  int open_orders_per_account = 4;
  int strategies = 20;
  int distinct_orders = 65'536;  // the pool of prepared orders, cycled through
  int64_t checks = 2'000'000;    // evaluations per measured pass
  uint64_t seed = 42;
};

// Everything one evaluation needs, built in memory from the seed.
struct RiskBenchWorld {
  std::shared_ptr<const InstrumentTable> instruments;
  std::unique_ptr<InMemoryMarketView> market;
  std::unique_ptr<RiskState> state;
  std::unique_ptr<RiskGate> gate;
  std::vector<OrderRequest> requests;  // owns the strings the views point into
  std::vector<OrderView> orders;
  Nanos now = 0;
};

RiskBenchWorld BuildRiskBenchWorld(const RiskBenchOptions& options);

struct RiskBenchResult {
  int64_t checks = 0;
  // Back-to-back evaluations, no per-check timing, per CPU-second of the benchmark thread (the
  // target is per core; on a busy machine the wall clock also counts other processes' turns).
  double checks_per_s = 0;
  double wall_checks_per_s = 0;
  double cpu_share = 0;  // CPU time / wall time of the throughput loop
  int64_t p50_ns = 0;    // per-check latency, timed individually
  int64_t p99_ns = 0;
  int64_t p999_ns = 0;
  double allocs_per_check = 0;
  int64_t clock_overhead_ns = 0;  // cost of one timestamp pair, included in the latencies
  double accepted_ratio = 0;
  double rejected_ratio = 0;
  double escalated_ratio = 0;
  int rules = 0;
  int instruments = 0;
  int accounts = 0;
};

RiskBenchResult RunRiskBenchmark(const RiskBenchOptions& options);
// {"checks_per_s":…,"p50_ns":…,"p99_ns":…,"allocs_per_check":…, plus wall_checks_per_s,
// cpu_share, p999_ns, clock_overhead_ns, the decision mix and the targets}
std::string RiskBenchJson(const RiskBenchResult& result);
// Entry point for `wojak bench risk [--json] [--checks N] [--seed S]`: prints the JSON object
// (--json) or a human summary to stdout; returns the process exit code.
int RunRiskBench(int argc, char** argv);

}  // namespace wojak
