// Contiguous-settlement tracking for one partition.
#include "sidecar/sources/kafka/offset_tracker.h"

#include <atomic>

namespace wojak::sidecar::kafka {
namespace {

std::atomic<uint64_t> next_token{1};

}  // namespace

uint64_t OffsetTracker::Deliver(int64_t offset) {
  const uint64_t token = next_token.fetch_add(1, std::memory_order_relaxed);
  auto [it, inserted] = entries_.try_emplace(offset);
  if (inserted || it->second.settled) ++pending_;
  it->second = Entry{token, false};
  return token;
}

bool OffsetTracker::IsCurrent(int64_t offset, uint64_t token) const {
  auto it = entries_.find(offset);
  return it != entries_.end() && it->second.token == token && !it->second.settled;
}

bool OffsetTracker::Settle(int64_t offset, uint64_t token) {
  if (!IsCurrent(offset, token)) return false;
  entries_[offset].settled = true;
  --pending_;
  PopSettledPrefix();
  return true;
}

void OffsetTracker::PopSettledPrefix() {
  while (!entries_.empty() && entries_.begin()->second.settled) {
    settled_through_ = entries_.begin()->first + 1;
    entries_.erase(entries_.begin());
  }
  // Attempt counts below the commit point can never be needed again.
  if (settled_through_) rewinds_.erase(rewinds_.begin(), rewinds_.lower_bound(*settled_through_));
}

void OffsetTracker::Rewind(int64_t offset) {
  for (auto it = entries_.lower_bound(offset); it != entries_.end();) {
    if (!it->second.settled) --pending_;
    it = entries_.erase(it);
  }
  ++rewinds_[offset];
  PopSettledPrefix();
}

std::optional<int64_t> OffsetTracker::CommitOffset() const {
  if (!entries_.empty()) {
    // The front is unsettled (settled ones are popped): nothing from it on may be committed.
    if (settled_through_) return std::min(*settled_through_, entries_.begin()->first);
    return std::nullopt;
  }
  return settled_through_;
}

uint32_t OffsetTracker::DeliveryAttempt(int64_t offset) const {
  auto it = rewinds_.find(offset);
  return 1 + (it == rewinds_.end() ? 0 : it->second);
}

}  // namespace wojak::sidecar::kafka
