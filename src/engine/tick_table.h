// The conflated last-traded-price table: one writer (the tick thread) overwrites the latest value
// per instrument, any number of readers (the sequencer) read without locks. Bursts never queue:
// a newer tick simply replaces the older one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "model/money.h"

namespace wojak {

struct TickValue {
  Paise ltp;
  Nanos timestamp_ns = 0;  // exchange time of the tick
  Nanos received_ns = 0;   // when the engine stored it (wall clock), for staleness
};

class TickTable {
 public:
  // Holds up to `capacity` distinct instruments (rounded up to a power of two, at least 2x).
  explicit TickTable(size_t capacity);

  // Single writer. Returns false when the table is full and the token is new (the tick is
  // counted as dropped by the caller).
  bool Update(int64_t instrument_token, const TickValue& value);
  // Any thread; lock-free. nullopt when no tick was ever stored for the token.
  std::optional<TickValue> Read(int64_t instrument_token) const;
  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Calls fn(token, value) for every stored instrument (consistent per slot).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& slot : slots_) {
      int64_t token = slot.token.load(std::memory_order_acquire);
      if (token == 0) continue;
      if (auto value = ReadSlot(slot)) fn(token, *value);
    }
  }

 private:
  // Seqlock: the writer makes `version` odd, writes, makes it even; a reader retries when it saw
  // an odd version or the version changed under it. All fields are atomics (relaxed) so the
  // concurrent access is well defined.
  struct Slot {
    std::atomic<int64_t> token{0};
    std::atomic<uint64_t> version{0};
    std::atomic<int64_t> ltp{0};
    std::atomic<int64_t> timestamp_ns{0};
    std::atomic<int64_t> received_ns{0};
  };
  size_t IndexOf(int64_t token) const;
  static std::optional<TickValue> ReadSlot(const Slot& slot);

  std::vector<Slot> slots_;
  size_t mask_;
  std::atomic<size_t> size_{0};
};

}  // namespace wojak
