// Sandbox executor: deterministic outcomes, configured fill ratio, results delivered via the sink.
#include "executors/sandbox/sandbox_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace wojak {
namespace {

TEST(SandboxExecutorTest, SameSeedAndOrderIdGiveSameOutcome) {
  SandboxOptions options;
  for (int i = 0; i < 100; ++i) {
    std::string id = FormatOrderId(i);
    SandboxOutcome a = DecideSandboxOutcome(options, id);
    SandboxOutcome b = DecideSandboxOutcome(options, id);
    EXPECT_EQ(a.filled, b.filled);
    EXPECT_EQ(a.latency, b.latency);
  }
}

TEST(SandboxExecutorTest, FillRatioIsRespectedOverManyOrders) {
  SandboxOptions options;
  options.fill_ratio = 0.7;
  int filled = 0;
  constexpr int kOrders = 20000;
  for (int i = 0; i < kOrders; ++i) filled += DecideSandboxOutcome(options, FormatOrderId(i)).filled;
  EXPECT_NEAR(filled / static_cast<double>(kOrders), 0.7, 0.02);
}

TEST(SandboxExecutorTest, LatencyStaysWithinConfiguredBounds) {
  SandboxOptions options;
  options.latency_min = std::chrono::microseconds(100);
  options.latency_max = std::chrono::microseconds(300);
  for (int i = 0; i < 1000; ++i) {
    auto latency = DecideSandboxOutcome(options, FormatOrderId(i)).latency;
    EXPECT_GE(latency, options.latency_min);
    EXPECT_LE(latency, options.latency_max);
  }
}

TEST(SandboxExecutorTest, DifferentSeedsChangeOutcomes) {
  SandboxOptions a, b;
  b.seed = 7;
  int differences = 0;
  for (int i = 0; i < 200; ++i) {
    differences += DecideSandboxOutcome(a, FormatOrderId(i)).filled !=
                   DecideSandboxOutcome(b, FormatOrderId(i)).filled;
  }
  EXPECT_GT(differences, 0);
}

TEST(SandboxExecutorTest, DeliversFillAtOrderPriceAndRetriesWhenSinkIsFull) {
  SandboxOptions options;
  options.fill_ratio = 1.0;
  options.latency_min = options.latency_max = std::chrono::microseconds(0);
  SandboxExecutor executor(options);
  std::atomic<int> refusals{0};
  std::mutex mutex;
  std::vector<ExecutionReport> received;
  ASSERT_TRUE(executor
                  .Start([&](ExecutionReport&& report) {
                    if (refusals.fetch_add(1) < 2) return false;  // engine busy twice
                    std::lock_guard lock(mutex);
                    received.push_back(std::move(report));
                    return true;
                  })
                  .ok());
  ExecutionOrder order;
  order.order_id = "W-000000000001";
  order.order.quantity = 75;
  order.price = Paise::FromPaise(12050);
  executor.Submit(order);
  for (int i = 0; i < 2000; ++i) {
    {
      std::lock_guard lock(mutex);
      if (!received.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  executor.Stop();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].order_id, "W-000000000001");
  EXPECT_EQ(received[0].status, ExecutionStatus::kFilled);
  EXPECT_EQ(received[0].filled_quantity, 75);
  EXPECT_EQ(received[0].fill_price, Paise::FromPaise(12050));
  EXPECT_GE(refusals.load(), 3);
}

}  // namespace
}  // namespace wojak
