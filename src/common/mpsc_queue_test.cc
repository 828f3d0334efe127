// Tests for the bounded MPSC queue the sequencer drains in batches.
#include "common/mpsc_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace wojak {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(MpscQueueTest, PopAllReturnsEveryQueuedItemOldestFirst) {
  MpscQueue<int> queue(8);
  ASSERT_TRUE(queue.TryPush(1));
  ASSERT_TRUE(queue.TryPush(2));
  ASSERT_TRUE(queue.TryPush(3));
  std::vector<int> out;
  EXPECT_EQ(queue.PopAll(out, nanoseconds::zero()), 3u);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(MpscQueueTest, PopAllReplacesPreviousContentsOfOut) {
  MpscQueue<int> queue(8);
  std::vector<int> out = {7, 8, 9};
  ASSERT_TRUE(queue.TryPush(1));
  EXPECT_EQ(queue.PopAll(out, nanoseconds::zero()), 1u);
  EXPECT_EQ(out, std::vector<int>{1});
}

TEST(MpscQueueTest, TryPushRefusesWhenFullAndLeavesItemIntact) {
  MpscQueue<std::unique_ptr<std::string>> queue(1);
  ASSERT_TRUE(queue.TryPush(std::make_unique<std::string>("first")));
  auto second = std::make_unique<std::string>("second");
  EXPECT_FALSE(queue.TryPush(std::move(second)));
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(*second, "second");
}

TEST(MpscQueueTest, CapacityIsFreedByPopAll) {
  MpscQueue<int> queue(1);
  ASSERT_TRUE(queue.TryPush(1));
  ASSERT_FALSE(queue.TryPush(2));
  std::vector<int> out;
  queue.PopAll(out, nanoseconds::zero());
  EXPECT_TRUE(queue.TryPush(2));
}

TEST(MpscQueueTest, PopAllOnEmptyQueueReturnsZeroAfterTimeout) {
  MpscQueue<int> queue(4);
  std::vector<int> out = {5};
  EXPECT_EQ(queue.PopAll(out, milliseconds(1)), 0u);
  EXPECT_TRUE(out.empty());
}

TEST(MpscQueueTest, WaitingConsumerIsWokenByProducer) {
  MpscQueue<int> queue(4);
  std::thread producer([&] {
    // The consumer may or may not be waiting yet; both paths must deliver the item.
    std::this_thread::sleep_for(milliseconds(20));
    ASSERT_TRUE(queue.TryPush(42));
  });
  std::vector<int> out;
  // A generous timeout: the test asserts on delivery, never on how fast it was.
  size_t taken = queue.PopAll(out, std::chrono::seconds(30));
  producer.join();
  ASSERT_EQ(taken, 1u);
  EXPECT_EQ(out, std::vector<int>{42});
}

TEST(MpscQueueTest, CloseRefusesPushesButKeepsQueuedItems) {
  MpscQueue<int> queue(4);
  ASSERT_TRUE(queue.TryPush(1));
  queue.Close();
  EXPECT_TRUE(queue.closed());
  EXPECT_FALSE(queue.TryPush(2));
  std::vector<int> out;
  EXPECT_EQ(queue.PopAll(out, nanoseconds::zero()), 1u);
  EXPECT_EQ(out, std::vector<int>{1});
}

TEST(MpscQueueTest, CloseWakesWaitingConsumer) {
  MpscQueue<int> queue(4);
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    queue.Close();
  });
  std::vector<int> out;
  EXPECT_EQ(queue.PopAll(out, std::chrono::hours(1)), 0u);
  closer.join();
  EXPECT_TRUE(queue.closed());
}

TEST(MpscQueueTest, ManyProducersDeliverEveryItemExactlyOnce) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 20000;
  MpscQueue<int> queue(256);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&queue, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        int value = p * kPerProducer + i;
        while (!queue.TryPush(std::move(value))) std::this_thread::yield();
      }
    });
  }
  std::vector<int> seen;
  std::vector<int> batch;
  while (seen.size() < static_cast<size_t>(kProducers * kPerProducer)) {
    queue.PopAll(batch, milliseconds(100));
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  for (auto& t : producers) t.join();
  std::sort(seen.begin(), seen.end());
  for (int i = 0; i < kProducers * kPerProducer; ++i) ASSERT_EQ(seen[i], i);
}

TEST(MpscQueueTest, EachProducersItemsStayInOrder) {
  constexpr int kPerProducer = 10000;
  MpscQueue<std::pair<int, int>> queue(64);
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&queue, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        std::pair<int, int> item{p, i};
        while (!queue.TryPush(std::move(item))) std::this_thread::yield();
      }
    });
  }
  int next[2] = {0, 0};
  std::vector<std::pair<int, int>> batch;
  while (next[0] + next[1] < 2 * kPerProducer) {
    queue.PopAll(batch, milliseconds(100));
    for (auto [producer, i] : batch) ASSERT_EQ(i, next[producer]++);
  }
  for (auto& t : producers) t.join();
}

}  // namespace
}  // namespace wojak

namespace wojak {
namespace {

TEST(MpscQueueWakeTest, WakeReturnsAWaitingConsumerWithNothingQueued) {
  MpscQueue<int> queue(8);
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    queue.Wake();
  });
  std::vector<int> out;
  // Without Wake this would wait the full hour; the test would time out instead of passing.
  EXPECT_EQ(queue.PopAll(out, std::chrono::hours(1)), 0u);
  waker.join();
}

TEST(MpscQueueWakeTest, WakeBeforePopAllIsNotLost) {
  MpscQueue<int> queue(8);
  queue.Wake();
  std::vector<int> out;
  EXPECT_EQ(queue.PopAll(out, std::chrono::hours(1)), 0u);
}

}  // namespace
}  // namespace wojak
