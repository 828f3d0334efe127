// Sandbox executor implementation.
#include "executors/sandbox/sandbox_executor.h"

namespace wojak {
namespace {

uint64_t Fnv1a(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) from the top 53 bits: only decides fill-or-fail, never touches money.
double UnitInterval(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

}  // namespace

SandboxOutcome DecideSandboxOutcome(const SandboxOptions& options, std::string_view order_id) {
  uint64_t state = options.seed ^ Fnv1a(order_id);
  SandboxOutcome outcome;
  outcome.filled = UnitInterval(SplitMix64(state)) < options.fill_ratio;
  auto span = (options.latency_max - options.latency_min).count();
  auto jitter = span > 0 ? static_cast<int64_t>(SplitMix64(state) % (span + 1)) : 0;
  outcome.latency = options.latency_min + std::chrono::microseconds(jitter);
  return outcome;
}

StatusOr<std::unique_ptr<Executor>> SandboxExecutor::Create(ConfigSection config) {
  SandboxOptions options;
  options.seed = static_cast<uint64_t>(
      config.Int("seed", 42, "Seed for the deterministic fill/fail and latency draws.", 0));
  options.fill_ratio = config.Double("fill_ratio", 0.9, "Share of orders the sandbox fills; the "
                                     "rest fail.", 0.0, 1.0);
  options.latency_min = std::chrono::duration_cast<std::chrono::microseconds>(config.Duration(
      "latency_min", std::chrono::milliseconds(0), "Shortest simulated execution latency."));
  options.latency_max = std::chrono::duration_cast<std::chrono::microseconds>(config.Duration(
      "latency_max", std::chrono::milliseconds(2),
      "Longest simulated execution latency (uniform between min and max)."));
  if (options.latency_max < options.latency_min) {
    config.Error("latency_max", "must be >= latency_min");
  }
  return std::unique_ptr<Executor>(new SandboxExecutor(options));
}

SandboxExecutor::~SandboxExecutor() { Stop(); }

Status SandboxExecutor::Start(ExecutionSink sink) {
  sink_ = std::move(sink);
  thread_ = std::thread([this] { Run(); });
  return OkStatus();
}

void SandboxExecutor::Submit(ExecutionOrder order) {
  SandboxOutcome outcome = DecideSandboxOutcome(options_, order.order_id);
  Pending pending;
  pending.due = std::chrono::steady_clock::now() + outcome.latency;
  pending.order_id = std::move(order.order_id);
  pending.quantity = order.order.quantity;
  pending.price = order.price;
  pending.filled = outcome.filled;
  std::lock_guard lock(mutex_);
  bool wake = pending_.empty() || pending.due < pending_.top().due;
  pending_.push(std::move(pending));
  if (wake) wake_.notify_one();
}

ExecutionReport SandboxExecutor::ReportFor(const Pending& pending) {
  ExecutionReport r;
  r.order_id = pending.order_id;
  r.executor = "sandbox";
  if (pending.filled) {
    r.status = ExecutionStatus::kFilled;
    r.filled_quantity = pending.quantity;
    r.fill_price = pending.price;
  } else {
    r.status = ExecutionStatus::kFailed;
    r.reason = "sandbox: simulated exchange rejection";
  }
  return r;
}

void SandboxExecutor::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SandboxExecutor::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (pending_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto due = pending_.top().due;
    if (std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    Pending next = pending_.top();
    pending_.pop();
    lock.unlock();
    ExecutionReport report = ReportFor(next);
    bool delivered = sink_(std::move(report));
    lock.lock();
    if (!delivered) {
      // The engine is saturated: keep the result and offer it again shortly.
      next.due = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
      pending_.push(std::move(next));
    }
  }
}

WOJAK_REGISTER_EXECUTOR("sandbox", SandboxExecutor::Create);

}  // namespace wojak
