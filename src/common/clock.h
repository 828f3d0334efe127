// Clock seam: real time in production, a manual clock in tests so time-dependent rules are exact.
#pragma once

#include <atomic>
#include <cstdint>

namespace wojak {

// Nanoseconds since the Unix epoch (UTC). The journal records the value the sequencer used.
using Nanos = int64_t;
inline constexpr Nanos kNanosPerMicro = 1'000;
inline constexpr Nanos kNanosPerMilli = 1'000'000;
inline constexpr Nanos kNanosPerSecond = 1'000'000'000;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps and trading-session checks.
  virtual Nanos Now() const = 0;
  // Monotonic time, for latency and timeouts.
  virtual Nanos Monotonic() const = 0;
};

class RealClock final : public Clock {
 public:
  Nanos Now() const override;
  Nanos Monotonic() const override;
  static RealClock& Instance();
};

// A clock that only moves when told to. Thread-safe so a test thread can advance it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start = 0) : now_(start) {}
  Nanos Now() const override { return now_.load(std::memory_order_acquire); }
  Nanos Monotonic() const override { return Now(); }
  void Set(Nanos t) { now_.store(t, std::memory_order_release); }
  void Advance(Nanos d) { now_.fetch_add(d, std::memory_order_acq_rel); }

 private:
  std::atomic<Nanos> now_;
};

}  // namespace wojak
