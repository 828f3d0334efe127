// Token buckets per client, driven by a manual clock.
#include "api/rate_limiter.h"

#include <gtest/gtest.h>

namespace wojak::api {
namespace {

TEST(RateLimiterTest, AllowsTheBurstThenRefuses) {
  ManualClock clock(kNanosPerSecond);
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3, clock);
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
}

TEST(RateLimiterTest, RefillsAtTheSustainedRate) {
  ManualClock clock(kNanosPerSecond);
  RateLimiter limiter(2, 1, clock);
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  EXPECT_EQ(limiter.RetryAfterMillis("a"), 500);
  clock.Advance(499 * kNanosPerMilli);
  EXPECT_FALSE(limiter.Allow("a"));
  clock.Advance(1 * kNanosPerMilli);
  EXPECT_TRUE(limiter.Allow("a"));
}

TEST(RateLimiterTest, NeverRefillsBeyondTheBurst) {
  ManualClock clock(kNanosPerSecond);
  RateLimiter limiter(10, 2, clock);
  clock.Advance(3600 * kNanosPerSecond);
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
}

TEST(RateLimiterTest, ClientsHaveSeparateBuckets) {
  ManualClock clock(kNanosPerSecond);
  RateLimiter limiter(1, 1, clock);
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("b"));
  EXPECT_EQ(limiter.RetryAfterMillis("c"), 0);
}

}  // namespace
}  // namespace wojak::api
