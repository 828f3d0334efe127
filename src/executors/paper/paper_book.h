// The paper executor's matching rules: which accepted orders fill against the latest traded
// prices, at what price, and which fail. No threads and no clock of its own (the caller passes
// wall time), so every rule is testable exactly; docs/executors.md states the rules.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "executors/executor.h"

namespace wojak {

struct PaperOptions {
  // How often resting orders are checked against the latest prices.
  std::chrono::milliseconds poll_interval{10};
  // A MARKET order with no fresh LTP fails (NO_LTP) when none arrives within this time.
  std::chrono::milliseconds max_wait{2000};
  // How long a DAY order may rest; 0 = until the next NSE session close (15:30 IST).
  std::chrono::milliseconds max_rest{0};
  // An LTP older than this by arrival time (LastPrice::received_ns) is ignored.
  std::chrono::milliseconds max_age{5000};
};

// The next 15:30 IST strictly after `now` (wall time, Unix nanoseconds). Weekends and exchange
// holidays are not skipped: no ticks arrive then, so an order resting over them cannot fill.
Nanos NextSessionClose(Nanos now);

class PaperBook {
 public:
  PaperBook(PaperOptions options, LastPriceSource prices);

  // Takes a submitted order at wall time `now`. Returns its report when it is decided at once
  // (filled, IOC not fillable); otherwise it rests. An order id seen before (a reconciliation
  // re-send of a resting or finished order) is ignored and returns nullopt.
  std::optional<ExecutionReport> Arrive(ExecutionOrder order, Nanos now);
  // Checks every resting order against the latest prices at wall time `now`; returns the reports
  // of the orders that filled or expired (they leave the book).
  std::vector<ExecutionReport> Poll(Nanos now);
  // Forgets a resting order (cancelled in the engine); false when it is not resting.
  bool Withdraw(const std::string& order_id);
  size_t resting() const { return resting_.size(); }

 private:
  struct Resting {
    ExecutionOrder order;
    Nanos deadline = 0;  // fails with `deadline_reason` when still resting then
    const char* deadline_reason = "";
    bool triggered = false;  // SL / SL-M: the trigger was crossed; now a LIMIT / MARKET order
  };
  // A fresh LTP of the order's contract at `now`, received no later than `latest_receipt`.
  std::optional<LastPrice> FreshPrice(const OrderRequest& order, Nanos now,
                                      Nanos latest_receipt) const;
  // Evaluates one order against `ltp`; `arriving` is true at arrival (or at the moment an SL
  // order triggers), when a marketable LIMIT fills at the better of LTP and limit. Returns the
  // fill price, or nullopt when the order keeps resting.
  std::optional<Paise> Match(Resting& resting, Paise ltp, bool arriving) const;

  PaperOptions options_;
  LastPriceSource prices_;
  std::unordered_map<std::string, Resting> resting_;
  std::unordered_set<std::string> finished_;
};

}  // namespace wojak
