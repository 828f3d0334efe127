// Paper executor: the timer thread decides arrivals and resting orders and delivers through the
// sink, retrying when the engine refuses; it refuses to start without prices.
#include "executors/paper/paper_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

namespace wojak {
namespace {

using namespace std::chrono_literals;

constexpr Nanos kNow = 1'796'000'000 * kNanosPerSecond;

// The latest LTP of every symbol, written by the test while the executor's thread reads it.
class SharedPrice {
 public:
  void Set(int64_t paise) { ltp_.store(paise); }
  LastPriceSource Source() {
    return [this](std::string_view, std::string_view) -> std::optional<LastPrice> {
      int64_t ltp = ltp_.load();
      if (ltp == 0) return std::nullopt;
      return LastPrice{Paise::FromPaise(ltp), kNow, kNow};
    };
  }

 private:
  std::atomic<int64_t> ltp_{0};
};

// Collects delivered reports; refuses the first `refusals` offers like a full engine queue.
class Collector {
 public:
  explicit Collector(int refusals = 0) : refusals_(refusals) {}
  ExecutionSink Sink() {
    return [this](ExecutionReport&& report) {
      std::lock_guard lock(mutex_);
      ++offers_;
      if (refusals_ > 0) {
        --refusals_;
        return false;
      }
      reports_.push_back(std::move(report));
      return true;
    };
  }
  // Waits (bounded) until `count` reports arrived; returns what arrived.
  std::vector<ExecutionReport> WaitFor(size_t count) {
    for (int i = 0; i < 5000; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (reports_.size() >= count) return reports_;
      }
      std::this_thread::sleep_for(1ms);
    }
    std::lock_guard lock(mutex_);
    return reports_;
  }
  int offers() {
    std::lock_guard lock(mutex_);
    return offers_;
  }

 private:
  std::mutex mutex_;
  int refusals_;
  int offers_ = 0;
  std::vector<ExecutionReport> reports_;
};

ExecutionOrder LimitBuy(std::string id, int64_t limit_paise) {
  ExecutionOrder order;
  order.order_id = std::move(id);
  order.order.exchange = "NFO";
  order.order.symbol = "NIFTY26DECFUT";
  order.order.side = Side::kBuy;
  order.order.quantity = 75;
  order.order.order_type = OrderType::kLimit;
  order.order.price = Paise::FromPaise(limit_paise);
  order.price = Paise::FromPaise(limit_paise);
  return order;
}

PaperOptions FastPolling() {
  PaperOptions options;
  options.poll_interval = 1ms;
  return options;
}

TEST(PaperExecutorTest, RestingOrderFillsOnTheTimerThreadWhenThePriceCrosses) {
  ManualClock clock(kNow);
  SharedPrice price;
  price.Set(2607000);
  PaperExecutor executor(FastPolling(), clock);
  executor.UseLastPrices(price.Source());
  Collector collector;
  ASSERT_TRUE(executor.Start(collector.Sink()).ok());
  executor.Submit(LimitBuy("W-000000000001", 2606500));
  // Not crossed: several polls go by without a report.
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(collector.WaitFor(0).empty());
  price.Set(2606000);
  std::vector<ExecutionReport> reports = collector.WaitFor(1);
  executor.Stop();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].order_id, "W-000000000001");
  EXPECT_EQ(reports[0].status, ExecutionStatus::kFilled);
  EXPECT_EQ(reports[0].fill_price, Paise::FromPaise(2606500));
}

TEST(PaperExecutorTest, RefusedReportIsOfferedAgainUntilTaken) {
  ManualClock clock(kNow);
  SharedPrice price;
  price.Set(2606000);
  PaperExecutor executor(FastPolling(), clock);
  executor.UseLastPrices(price.Source());
  Collector collector(/*refusals=*/2);
  ASSERT_TRUE(executor.Start(collector.Sink()).ok());
  executor.Submit(LimitBuy("W-000000000001", 2606500));
  std::vector<ExecutionReport> reports = collector.WaitFor(1);
  executor.Stop();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].fill_price, Paise::FromPaise(2606000));
  EXPECT_EQ(reports[0].order_id, "W-000000000001");
  EXPECT_GE(collector.offers(), 3);
}

TEST(PaperExecutorTest, ReconciliationResendOfAFilledOrderIsNotFilledTwice) {
  ManualClock clock(kNow);
  SharedPrice price;
  price.Set(2606000);
  PaperExecutor executor(FastPolling(), clock);
  executor.UseLastPrices(price.Source());
  Collector collector;
  ASSERT_TRUE(executor.Start(collector.Sink()).ok());
  executor.Submit(LimitBuy("W-000000000001", 2606500));
  ASSERT_EQ(collector.WaitFor(1).size(), 1u);
  executor.Submit(LimitBuy("W-000000000001", 2606500));
  executor.Submit(LimitBuy("W-000000000002", 2606500));
  // Reports leave in arrival order, so a second fill of the re-send would come before the fill
  // of the order submitted after it.
  std::vector<ExecutionReport> reports = collector.WaitFor(2);
  executor.Stop();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].order_id, "W-000000000002");
}

TEST(PaperExecutorTest, WithdrawnRestingOrderDoesNotFillWhenThePriceCrosses) {
  ManualClock clock(kNow);
  SharedPrice price;
  price.Set(2607000);
  PaperExecutor executor(FastPolling(), clock);
  executor.UseLastPrices(price.Source());
  Collector collector;
  ASSERT_TRUE(executor.Start(collector.Sink()).ok());
  executor.Submit(LimitBuy("W-000000000001", 2606500));
  executor.Withdraw("W-000000000001");
  // Fills on arrival; it was submitted after the withdrawal, so the withdrawal has been applied.
  executor.Submit(LimitBuy("W-000000000002", 2607500));
  ASSERT_EQ(collector.WaitFor(1).size(), 1u);
  price.Set(2606000);
  // W-3 fills at the crossing price; W-1 would fill in the same round. W-4 goes in a later round,
  // so once it is delivered every report of W-3's round has been delivered too.
  executor.Submit(LimitBuy("W-000000000003", 2607500));
  ASSERT_EQ(collector.WaitFor(2).size(), 2u);
  executor.Submit(LimitBuy("W-000000000004", 2607500));
  std::vector<ExecutionReport> reports = collector.WaitFor(3);
  executor.Stop();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].order_id, "W-000000000002");
  EXPECT_EQ(reports[1].order_id, "W-000000000003");
  EXPECT_EQ(reports[1].fill_price, Paise::FromPaise(2606000));
  EXPECT_EQ(reports[2].order_id, "W-000000000004");
}

TEST(PaperExecutorTest, WithoutPricesItRefusesToStart) {
  ManualClock clock(kNow);
  PaperExecutor executor(FastPolling(), clock);
  Collector collector;
  EXPECT_FALSE(executor.Start(collector.Sink()).ok());
}

TEST(PaperExecutorTest, IsRegisteredAsPaper) {
  const std::map<std::string, std::string> no_environment;
  auto config = ConfigDocument::Empty(&no_environment);
  auto executor = ExecutorRegistry::Instance().Create("paper", config->Root());
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  EXPECT_EQ((*executor)->name(), "paper");
}

}  // namespace
}  // namespace wojak
