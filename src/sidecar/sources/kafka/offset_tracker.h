// Which messages of one Kafka partition have been settled (engine reply acted on, or dead-lettered
// with the broker's confirmation), so the committed offset never passes a message that has not.
// Replies may arrive in any order; the commit point only advances over a settled prefix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

namespace wojak::sidecar::kafka {

class OffsetTracker {
 public:
  // A fetched message handed to the pipeline. Offsets grow between rewinds. Returns the
  // message's token (unique in the process): settling needs it, so a reply to a delivery that
  // was rewound (and will be fetched again) or to an earlier assignment changes nothing.
  uint64_t Deliver(int64_t offset);
  // The message's reply was acted on. False when the token is stale (nothing changes).
  bool Settle(int64_t offset, uint64_t token);
  // Whether `token` is still the live delivery of `offset`.
  bool IsCurrent(int64_t offset, uint64_t token) const;
  // Everything from `offset` on will be fetched again (a nack: the partition seeks back): those
  // deliveries are forgotten and the redelivery of `offset` counts one more attempt.
  void Rewind(int64_t offset);

  // The offset to commit (the next one to consume): every delivered message below it is settled.
  // Empty before the first settlement.
  std::optional<int64_t> CommitOffset() const;
  // Delivered and not yet settled.
  size_t pending() const { return pending_; }
  // How many times `offset` has been delivered so far in this process, the next delivery
  // included once it was rewound to (1 for a message never rewound to).
  uint32_t DeliveryAttempt(int64_t offset) const;

 private:
  struct Entry {
    uint64_t token = 0;
    bool settled = false;
  };
  void PopSettledPrefix();

  std::map<int64_t, Entry> entries_;  // delivered, not yet below the commit point
  size_t pending_ = 0;
  std::optional<int64_t> settled_through_;  // one past the last offset popped as settled
  std::map<int64_t, uint32_t> rewinds_;     // offset -> times a nack sent the partition back to it
};

}  // namespace wojak::sidecar::kafka
