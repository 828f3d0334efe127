// Tick table: conflation, lookups, capacity, and consistent reads under a concurrent writer.
#include "engine/tick_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace wojak {
namespace {

TickValue Tick(int64_t paise, Nanos ts) { return {Paise::FromPaise(paise), ts, ts}; }

TEST(TickTableTest, LatestTickReplacesEarlierOnes) {
  TickTable table(16);
  ASSERT_TRUE(table.Update(101, Tick(100, 1)));
  ASSERT_TRUE(table.Update(101, Tick(105, 2)));
  ASSERT_TRUE(table.Update(101, Tick(103, 3)));
  auto value = table.Read(101);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->ltp, Paise::FromPaise(103));
  EXPECT_EQ(value->timestamp_ns, 3);
  EXPECT_EQ(table.size(), 1u);
}

TEST(TickTableTest, UnknownTokenHasNoValue) {
  TickTable table(16);
  ASSERT_TRUE(table.Update(7, Tick(1, 1)));
  EXPECT_FALSE(table.Read(8).has_value());
  EXPECT_FALSE(table.Read(0).has_value());
}

TEST(TickTableTest, RefusesNewInstrumentsBeyondCapacityButKeepsUpdatingKnownOnes) {
  TickTable table(4);  // 16 slots, half may be used
  int stored = 0;
  for (int64_t token = 1; token <= 100; ++token) stored += table.Update(token, Tick(token, 1));
  EXPECT_EQ(stored, 8);
  EXPECT_TRUE(table.Update(1, Tick(999, 2)));
  EXPECT_EQ(table.Read(1)->ltp, Paise::FromPaise(999));
}

TEST(TickTableTest, ReaderNeverSeesATornValue) {
  TickTable table(16);
  ASSERT_TRUE(table.Update(5, Tick(0, 0)));
  std::atomic<bool> stop{false};
  // The writer keeps ltp == timestamp; a torn read would show them differing.
  std::thread writer([&] {
    for (int64_t i = 1; !stop.load(); ++i) table.Update(5, Tick(i, i));
  });
  for (int i = 0; i < 200000; ++i) {
    auto v = table.Read(5);
    ASSERT_TRUE(v.has_value());
    ASSERT_EQ(v->ltp.value(), v->timestamp_ns);
  }
  stop = true;
  writer.join();
}

}  // namespace
}  // namespace wojak
