// Token buckets refilled from the monotonic clock.
#include "api/rate_limiter.h"

#include <algorithm>

namespace wojak::api {
namespace {

// Beyond this many tracked clients, idle ones are forgotten.
constexpr size_t kMaxTrackedClients = 4096;

}  // namespace

RateLimiter::RateLimiter(int64_t per_second, int64_t burst, const Clock& clock)
    : per_second_(std::max<int64_t>(per_second, 1)),
      burst_(std::max<int64_t>(burst, 1)),
      clock_(clock) {}

RateLimiter::Bucket& RateLimiter::Refilled(const std::string& client, Nanos now) {
  if (buckets_.size() >= kMaxTrackedClients && buckets_.count(client) == 0) ForgetIdle(now);
  auto [it, inserted] = buckets_.try_emplace(client);
  Bucket& bucket = it->second;
  if (inserted) {
    bucket.tokens_millis = burst_ * 1000;
    bucket.last_refill = now;
    return bucket;
  }
  const Nanos elapsed = std::max<Nanos>(now - bucket.last_refill, 0);
  // tokens x 1000 gained = elapsed seconds x per_second x 1000 = elapsed_ns x per_second / 1e6.
  const int64_t gained = elapsed / 1000 * per_second_ / 1000;
  if (gained > 0) {
    bucket.tokens_millis = std::min(burst_ * 1000, bucket.tokens_millis + gained);
    bucket.last_refill = now;
  }
  return bucket;
}

void RateLimiter::ForgetIdle(Nanos now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Nanos idle = now - it->second.last_refill;
    const bool full_again =
        idle / 1000 * per_second_ / 1000 + it->second.tokens_millis >= burst_ * 1000;
    it = full_again ? buckets_.erase(it) : std::next(it);
  }
}

bool RateLimiter::Allow(const std::string& client) {
  std::lock_guard lock(mu_);
  Bucket& bucket = Refilled(client, clock_.Monotonic());
  if (bucket.tokens_millis < 1000) return false;
  bucket.tokens_millis -= 1000;
  return true;
}

int64_t RateLimiter::RetryAfterMillis(const std::string& client) {
  std::lock_guard lock(mu_);
  const Bucket& bucket = Refilled(client, clock_.Monotonic());
  if (bucket.tokens_millis >= 1000) return 0;
  const int64_t missing_millis = 1000 - bucket.tokens_millis;
  return (missing_millis + per_second_ - 1) / per_second_;
}

}  // namespace wojak::api
