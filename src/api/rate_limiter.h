// Per-client token buckets for the REST API.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace wojak::api {

class RateLimiter {
 public:
  // Each client may make `burst` requests at once and `per_second` sustained.
  RateLimiter(int64_t per_second, int64_t burst, const Clock& clock);

  // Takes one token from `client`'s bucket; false (429) when it is empty. Thread-safe.
  bool Allow(const std::string& client);
  // Milliseconds until `client` has a token again (for Retry-After), 0 when it has one now.
  int64_t RetryAfterMillis(const std::string& client);

 private:
  struct Bucket {
    int64_t tokens_millis = 0;  // tokens x 1000, so refill needs no floating point
    Nanos last_refill = 0;
  };
  Bucket& Refilled(const std::string& client, Nanos now);
  // Forgets full buckets (clients idle long enough to be back at `burst`), keeping memory bounded.
  void ForgetIdle(Nanos now);

  const int64_t per_second_;
  const int64_t burst_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace wojak::api
