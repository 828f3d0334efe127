// The Source seam: every transport (HTTP, Kafka, SQS, ...) is one of these, registered by name
// (sidecar/registry.h); the pipeline (sidecar/pipeline.h) drives it and never knows which it is.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "model/order.h"

namespace wojak::sidecar {

enum class MessageKind : uint8_t {
  kNewOrder,  // body is order JSON (ARCHITECTURE.md §2)
  kCancel,    // body is {"account":"A","client_order_id":"X"} naming the order to cancel
};

// The accounts an authenticated sender may trade for. The pipeline refuses (DeadLetter with
// kForbidden) any message whose account is outside its scope, before it reaches the engine.
struct AccountScope {
  bool any_account = false;
  std::unordered_set<std::string> accounts;
  bool Allows(std::string_view account) const {
    return any_account || accounts.count(std::string(account)) != 0;
  }
};

// One message taken from a source. Copyable; `handle` keeps whatever the source needs to ack it.
struct Message {
  MessageKind kind = MessageKind::kNewOrder;
  std::string body;
  // The broker's identity of this message (Kafka topic/partition/offset, SQS MessageId, ...). A
  // redelivery carries the same identity, so the client_order_id derived from it is stable.
  std::string identity;
  // How many times the broker has delivered it, this delivery included; 0 when the broker
  // does not say (then the pipeline treats it as the first attempt).
  uint32_t delivery_attempt = 0;
  // Opaque, source-specific (a receipt handle, a pending HTTP response, ...).
  std::shared_ptr<void> handle;
  // Who may this sender trade for; null means the source does not authenticate senders.
  std::shared_ptr<const AccountScope> scope;
};

enum class DeadLetterKind : uint8_t {
  kMalformed,        // the message can never become a valid request
  kForbidden,        // the sender's credentials do not cover the order's account
  kTooManyAttempts,  // retried max_attempts times without a decision
};

struct DeadLetterInfo {
  DeadLetterKind kind = DeadLetterKind::kMalformed;
  std::string reason;  // one line, safe to log and to show the sender
  // A REJECTED decision listing every field error (INVALID_ORDER reasons), for sources that
  // answer the sender (HTTP 422); empty reasons when the kind is not kMalformed.
  Decision decision;
};

class Source {
 public:
  virtual ~Source() = default;

  // Connects to the broker / binds the listener. Called once before Poll.
  virtual Status Start() = 0;
  // Waits up to max_wait for messages, returns at most max_messages (possibly none).
  virtual StatusOr<std::vector<Message>> Poll(size_t max_messages,
                                              std::chrono::milliseconds max_wait) = 0;
  // Decided: remove the message from the broker and reply on the reply channel if there is one.
  virtual Status Ack(const Message& message, const Decision& decision) = 0;
  // Not decided: the broker redelivers it after `delay` (or the sender is told to retry).
  virtual Status Nack(const Message& message, std::chrono::milliseconds delay) = 0;
  // Poison: move it aside with the reason; it is never retried.
  virtual Status DeadLetter(const Message& message, const DeadLetterInfo& info) = 0;
  // The broker's lease on an unacknowledged message (SQS visibility timeout, Pub/Sub ack
  // deadline); zero when the broker has none. The pipeline extends it at half-life.
  virtual std::chrono::seconds lease() const { return std::chrono::seconds(0); }
  virtual Status ExtendLease(const Message& /*message*/, std::chrono::seconds /*duration*/) {
    return OkStatus();
  }
  // Graceful stop, step one: take no new messages (HTTP answers 503); messages already polled
  // are still acked/nacked by the pipeline afterwards.
  virtual void StopIntake() {}
  // Closes everything. Messages polled but never acked are left to the broker's redelivery.
  virtual void Stop() = 0;
};

}  // namespace wojak::sidecar
