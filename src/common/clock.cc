// Real clock backed by clock_gettime.
#include "common/clock.h"

#include <ctime>

namespace wojak {
namespace {
Nanos Read(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}
}  // namespace

Nanos RealClock::Now() const { return Read(CLOCK_REALTIME); }
Nanos RealClock::Monotonic() const { return Read(CLOCK_MONOTONIC); }
RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

}  // namespace wojak
