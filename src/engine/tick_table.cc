// Open-addressing seqlock table for last traded prices.
#include "engine/tick_table.h"

namespace wojak {

TickTable::TickTable(size_t capacity) {
  size_t slots = 16;
  while (slots < capacity * 2) slots <<= 1;
  slots_ = std::vector<Slot>(slots);
  mask_ = slots - 1;
}

size_t TickTable::IndexOf(int64_t token) const {
  uint64_t h = static_cast<uint64_t>(token) * 0x9e3779b97f4a7c15ull;
  return static_cast<size_t>(h >> 17) & mask_;
}

bool TickTable::Update(int64_t token, const TickValue& value) {
  if (token == 0) return false;
  for (size_t i = IndexOf(token), probes = 0; probes <= mask_; i = (i + 1) & mask_, ++probes) {
    Slot& slot = slots_[i];
    int64_t current = slot.token.load(std::memory_order_relaxed);
    if (current == 0) {
      if (size_.load(std::memory_order_relaxed) * 2 >= slots_.size()) return false;
      size_.fetch_add(1, std::memory_order_relaxed);
    } else if (current != token) {
      continue;
    }
    uint64_t version = slot.version.load(std::memory_order_relaxed);
    slot.version.store(version + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    slot.ltp.store(value.ltp.value(), std::memory_order_relaxed);
    slot.timestamp_ns.store(value.timestamp_ns, std::memory_order_relaxed);
    slot.received_ns.store(value.received_ns, std::memory_order_relaxed);
    slot.version.store(version + 2, std::memory_order_release);
    // Publish the token last so a reader that finds it also finds a complete value.
    if (current == 0) slot.token.store(token, std::memory_order_release);
    return true;
  }
  return false;
}

std::optional<TickValue> TickTable::ReadSlot(const Slot& slot) {
  while (true) {
    uint64_t before = slot.version.load(std::memory_order_acquire);
    if (before & 1) continue;
    TickValue value;
    value.ltp = Paise::FromPaise(slot.ltp.load(std::memory_order_relaxed));
    value.timestamp_ns = slot.timestamp_ns.load(std::memory_order_relaxed);
    value.received_ns = slot.received_ns.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.version.load(std::memory_order_relaxed) == before) {
      if (before == 0) return std::nullopt;
      return value;
    }
  }
}

std::optional<TickValue> TickTable::Read(int64_t token) const {
  if (token == 0) return std::nullopt;
  for (size_t i = IndexOf(token), probes = 0; probes <= mask_; i = (i + 1) & mask_, ++probes) {
    const Slot& slot = slots_[i];
    int64_t current = slot.token.load(std::memory_order_acquire);
    if (current == 0) return std::nullopt;
    if (current == token) return ReadSlot(slot);
  }
  return std::nullopt;
}

}  // namespace wojak
