// Paper executor implementation.
#include "executors/paper/paper_executor.h"

namespace wojak {

StatusOr<std::unique_ptr<Executor>> PaperExecutor::Create(ConfigSection config) {
  PaperOptions options;
  options.poll_interval =
      config.Duration("poll_interval", options.poll_interval,
                      "How often resting orders are checked against the latest traded prices.");
  options.max_wait = config.Duration(
      "max_wait", options.max_wait,
      "A MARKET order fails with NO_LTP when no fresh LTP arrives within this time.");
  options.max_rest = config.Duration(
      "max_rest", options.max_rest,
      "How long a DAY order may rest before it fails with EXPIRED_UNFILLED; 0 = until the next "
      "NSE session close (15:30 IST).");
  options.max_age =
      config.Duration("max_age", options.max_age,
                      "An LTP older than this (by the time the engine received it) is ignored.");
  if (options.poll_interval.count() <= 0) config.Error("poll_interval", "must be positive");
  if (options.max_wait.count() < 0) config.Error("max_wait", "must not be negative");
  if (options.max_rest.count() < 0) config.Error("max_rest", "must not be negative");
  if (options.max_age.count() <= 0) config.Error("max_age", "must be positive");
  return std::unique_ptr<Executor>(new PaperExecutor(options, RealClock::Instance()));
}

PaperExecutor::PaperExecutor(PaperOptions options, const Clock& clock)
    : options_(options), clock_(clock) {}

PaperExecutor::~PaperExecutor() { Stop(); }

void PaperExecutor::UseLastPrices(LastPriceSource source) { prices_ = std::move(source); }

Status PaperExecutor::Start(ExecutionSink sink) {
  if (!prices_) {
    return FailedPrecondition("the paper executor needs live prices (an engine with ticks)");
  }
  sink_ = std::move(sink);
  book_ = std::make_unique<PaperBook>(options_, prices_);
  thread_ = std::thread([this] { Run(); });
  return OkStatus();
}

void PaperExecutor::Submit(ExecutionOrder order) {
  {
    std::lock_guard lock(mutex_);
    arrivals_.push_back(std::move(order));
  }
  wake_.notify_one();
}

void PaperExecutor::Withdraw(const std::string& order_id) {
  {
    std::lock_guard lock(mutex_);
    withdrawals_.push_back(order_id);
  }
  wake_.notify_one();
}

void PaperExecutor::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PaperExecutor::Run() {
  std::vector<ExecutionOrder> arrivals;
  std::vector<std::string> withdrawals;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    arrivals.swap(arrivals_);
    withdrawals.swap(withdrawals_);
    lock.unlock();
    // Arrivals first: an order submitted and cancelled in one engine batch arrives, then leaves.
    for (ExecutionOrder& order : arrivals) {
      if (auto report = book_->Arrive(std::move(order), clock_.Now())) {
        undelivered_.push_back(std::move(*report));
      }
    }
    for (const std::string& order_id : withdrawals) book_->Withdraw(order_id);
    arrivals.clear();
    withdrawals.clear();
    for (ExecutionReport& report : book_->Poll(clock_.Now())) {
      undelivered_.push_back(std::move(report));
    }
    Deliver();
    lock.lock();
    if (arrivals_.empty() && withdrawals_.empty() && !stopping_)
      wake_.wait_for(lock, options_.poll_interval);
  }
}

void PaperExecutor::Deliver() {
  while (!undelivered_.empty()) {
    // The sink may move from the report even when it refuses it: offer a copy.
    ExecutionReport report = undelivered_.front();
    if (!sink_(std::move(report))) return;
    undelivered_.pop_front();
  }
}

WOJAK_REGISTER_EXECUTOR("paper", PaperExecutor::Create);

}  // namespace wojak
