// The Kafka broker sink of the engine's outbox: each row becomes one record on the outbox topic,
// keyed by account, and counts as published only once every in-sync replica acknowledged it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "sidecar/outbox_publisher.h"
#include "sidecar/sources/kafka/kafka_config.h"
#include "sidecar/sources/kafka/kafka_publisher.h"

namespace wojak::sidecar::kafka {

struct KafkaOutboxOptions {
  // The sink has its own connection keys under `outbox` (brokers, client_id, security_protocol,
  // tls.*, sasl.*, properties), since its factory sees only that section and it may publish to
  // another cluster than the orders come from.
  KafkaPublisherOptions producer;
  std::string topic = "wojak.outbox";
};

// Reads `sources.kafka.outbox:`; violations are reported through `section`.
KafkaOutboxOptions ReadKafkaOutboxOptions(ConfigSection& section);

// The record a row becomes: key = account (one account's rows stay in one partition, in order),
// headers outbox_seq, entry_seq and topic as decimal/text.
KafkaRecord OutboxRecord(const std::string& kafka_topic, const OutboxMessage& message);

class KafkaOutboxPublisher final : public OutboxPublisher {
 public:
  // Registered as the "kafka" outbox publisher.
  static StatusOr<std::unique_ptr<OutboxPublisher>> Create(ConfigSection& outbox_section);

  explicit KafkaOutboxPublisher(KafkaOutboxOptions options) : options_(std::move(options)) {}

  // Creates the idempotent producer; librdkafka connects in the background, so an unreachable
  // cluster shows up as Publish errors.
  Status Start() override;
  // DEADLINE_EXCEEDED when the acknowledgement did not come within `timeout` (the record may
  // still be delivered later: consumers drop the copy by outbox_seq); UNAVAILABLE when the
  // broker refused it or librdkafka gave up.
  Status Publish(const OutboxMessage& message, std::chrono::milliseconds timeout) override;
  void Stop() override;

 private:
  KafkaOutboxOptions options_;
  std::unique_ptr<KafkaPublisher> publisher_;
};

}  // namespace wojak::sidecar::kafka
