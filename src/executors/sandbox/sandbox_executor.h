// Sandbox executor: fills or fails each order pseudo-randomly but deterministically from
// (seed, order id), after a latency drawn from the same seed, so a run can be reproduced exactly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "executors/executor.h"

namespace wojak {

struct SandboxOptions {
  uint64_t seed = 42;
  double fill_ratio = 0.9;  // share of orders FILLED; the rest FAIL
  std::chrono::microseconds latency_min{200};
  std::chrono::microseconds latency_max{2000};  // uniform in [min, max]
};

// What the sandbox decides for one order; a pure function, exposed for tests.
struct SandboxOutcome {
  bool filled = false;
  std::chrono::microseconds latency{0};
};
SandboxOutcome DecideSandboxOutcome(const SandboxOptions& options, std::string_view order_id);

class SandboxExecutor final : public Executor {
 public:
  explicit SandboxExecutor(SandboxOptions options) : options_(options) {}
  ~SandboxExecutor() override;
  static StatusOr<std::unique_ptr<Executor>> Create(ConfigSection config);

  std::string_view name() const override { return "sandbox"; }
  Status Start(ExecutionSink sink) override;
  void Submit(ExecutionOrder order) override;
  void Stop() override;

 private:
  // An order held until its simulated latency passes: only what the report needs, since with
  // long latencies the executor holds every open order and a full report costs three strings.
  struct Pending {
    std::chrono::steady_clock::time_point due;
    std::string order_id;
    Qty quantity = 0;
    Paise price;
    bool filled = false;
    bool operator>(const Pending& other) const { return due > other.due; }
  };
  static ExecutionReport ReportFor(const Pending& pending);
  void Run();

  SandboxOptions options_;
  ExecutionSink sink_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wojak
