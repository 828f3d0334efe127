// Kafka outbox sink over the idempotent, acks=all KafkaPublisher.
#include "sidecar/sources/kafka/kafka_outbox.h"

#include <span>
#include <string>

namespace wojak::sidecar::kafka {

KafkaOutboxOptions ReadKafkaOutboxOptions(ConfigSection& section) {
  KafkaOutboxOptions defaults;
  KafkaOutboxOptions options;
  options.producer.client = ReadKafkaClientOptions(section);
  options.topic = section.String("topic", defaults.topic,
                                 "topic the outbox rows are published to (key = account)");
  if (options.topic.empty() || options.topic.size() > 249) {
    section.Error("topic", "must be 1-249 characters");
  }
  options.producer.delivery_timeout = section.Duration(
      "delivery_timeout", defaults.producer.delivery_timeout,
      "longest librdkafka keeps retrying a row (delivery.timeout.ms); each publish also ends at "
      "the relay's timeout");
  if (options.producer.delivery_timeout.count() <= 0) {
    section.Error("delivery_timeout", "must be positive");
  }
  options.producer.properties = ReadKafkaProperties(
      section, "producer_properties", "extra librdkafka producer properties (name: value)");
  for (const auto& [name, value] : options.producer.properties) {
    // The confirmation means "every in-sync replica has it, once": both settings are fixed.
    if (name == "enable.idempotence" && !KafkaPropertyIsTrue(value)) {
      section.Error("producer_properties", "enable.idempotence must stay true");
    }
    if ((name == "acks" || name == "request.required.acks") && value != "all" && value != "-1") {
      section.Error("producer_properties", name + " must stay 'all'");
    }
  }
  return options;
}

KafkaRecord OutboxRecord(const std::string& kafka_topic, const OutboxMessage& message) {
  KafkaRecord record;
  record.topic = kafka_topic;
  record.key = message.account;
  record.value = message.body;
  record.headers = {{"outbox_seq", std::to_string(message.outbox_seq)},
                    {"entry_seq", std::to_string(message.entry_seq)},
                    {"topic", message.topic}};
  return record;
}

StatusOr<std::unique_ptr<OutboxPublisher>> KafkaOutboxPublisher::Create(
    ConfigSection& outbox_section) {
  return std::unique_ptr<OutboxPublisher>(
      new KafkaOutboxPublisher(ReadKafkaOutboxOptions(outbox_section)));
}

Status KafkaOutboxPublisher::Start() {
  WOJAK_ASSIGN_OR_RETURN(publisher_, KafkaPublisher::Create(options_.producer));
  return OkStatus();
}

Status KafkaOutboxPublisher::Publish(const OutboxMessage& message,
                                     std::chrono::milliseconds timeout) {
  if (publisher_ == nullptr) return FailedPrecondition("kafka outbox sink not started");
  const KafkaRecord record = OutboxRecord(options_.topic, message);
  return publisher_->PublishAndWait(std::span<const KafkaRecord>(&record, 1), timeout)
      .WithContext("outbox row " + std::to_string(message.outbox_seq) + " to topic '" +
                   options_.topic + "'");
}

void KafkaOutboxPublisher::Stop() { publisher_.reset(); }

WOJAK_REGISTER_OUTBOX_PUBLISHER("kafka", KafkaOutboxPublisher::Create);

}  // namespace wojak::sidecar::kafka
