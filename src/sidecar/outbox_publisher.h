// Broker sinks for the engine's outbox: a sidecar receives outbox rows from the engine's relay
// and publishes them to its broker, answering only after the broker confirmed, so the relay's
// cursor never moves past a row the broker does not have (ARCHITECTURE.md §1, "a broker
// topic/queue via a sidecar").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace wojak::sidecar {

struct OutboxMessage {
  uint64_t outbox_seq = 0;  // consumers drop a redelivered row by it (at-least-once delivery)
  uint64_t entry_seq = 0;   // the journal entry that produced the row
  std::string topic;        // "escalation" or "execution"
  std::string account;      // partition / routing key, so one account's rows stay in order
  // {"outbox_seq":N,"entry_seq":M,"topic":"…","payload":{…}}: the webhook body, byte for byte.
  std::string body;
};

class OutboxPublisher {
 public:
  virtual ~OutboxPublisher() = default;
  // Connects to the broker. Called once before Publish.
  virtual Status Start() = 0;
  // OK only once the broker confirmed the message (Kafka delivery report with acks=all,
  // RabbitMQ publisher confirm, JetStream PubAck, MQTT PUBACK) within `timeout`. Any error means
  // "offer the same row again later"; the same outbox_seq may then arrive twice, so it travels
  // with the message (header, property or message id) where the broker has a place for it.
  virtual Status Publish(const OutboxMessage& message, std::chrono::milliseconds timeout) = 0;
  virtual void Stop() = 0;
};

// Reads the publisher's keys from `sources.<name>.outbox` (documented, defaulted; violations
// reported through the section) and builds it without connecting.
using OutboxPublisherFactory =
    std::function<StatusOr<std::unique_ptr<OutboxPublisher>>(ConfigSection& outbox_section)>;

class OutboxPublisherRegistry {
 public:
  static bool Register(std::string name, OutboxPublisherFactory factory);
  // Null when the source of that name has no broker sink.
  static const OutboxPublisherFactory* Find(std::string_view name);
  static std::vector<std::string> Names();  // sorted
};

}  // namespace wojak::sidecar

// In the adapter's .cc: WOJAK_REGISTER_OUTBOX_PUBLISHER("kafka", KafkaOutboxPublisher::Create);
#define WOJAK_REGISTER_OUTBOX_PUBLISHER(name, factory)                                  \
  [[maybe_unused]] static const bool WOJAK_CONCAT(wojak_outbox_registered_, __LINE__) = \
      ::wojak::sidecar::OutboxPublisherRegistry::Register(name, factory)
