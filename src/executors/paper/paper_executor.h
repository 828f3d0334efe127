// Paper executor: fills accepted orders against the engine's live ticks (PaperBook's rules) on a
// timer thread of its own, so the sequencer never waits for it.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "executors/executor.h"
#include "executors/paper/paper_book.h"

namespace wojak {

class PaperExecutor final : public Executor {
 public:
  // `clock` gives the wall time staleness and expiry are judged by; it must outlive the executor.
  PaperExecutor(PaperOptions options, const Clock& clock);
  ~PaperExecutor() override;
  // Reads `executor.paper` (poll_interval, max_wait, max_rest, max_age).
  static StatusOr<std::unique_ptr<Executor>> Create(ConfigSection config);

  std::string_view name() const override { return "paper"; }
  void UseLastPrices(LastPriceSource source) override;
  Status Start(ExecutionSink sink) override;
  void Submit(ExecutionOrder order) override;
  void Withdraw(const std::string& order_id) override;
  void Stop() override;

 private:
  void Run();
  // Hands queued reports to the engine until it refuses one; the rest wait for the next round.
  void Deliver();

  const PaperOptions options_;
  const Clock& clock_;
  LastPriceSource prices_;
  ExecutionSink sink_;
  std::mutex mutex_;  // guards arrivals_, withdrawals_ and stopping_
  std::condition_variable wake_;
  std::vector<ExecutionOrder> arrivals_;
  std::vector<std::string> withdrawals_;
  bool stopping_ = false;
  // Timer thread only.
  std::unique_ptr<PaperBook> book_;
  std::deque<ExecutionReport> undelivered_;
  std::thread thread_;
};

}  // namespace wojak
