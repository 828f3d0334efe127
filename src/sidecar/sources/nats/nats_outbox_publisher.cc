// NatsOutboxPublisher: one JetStream publish per outbox row, confirmed by its PubAck.
#include "sidecar/sources/nats/nats_outbox_publisher.h"

namespace wojak::sidecar::nats {

NatsOutboxOptions ReadNatsOutboxOptions(ConfigSection& section) {
  NatsOutboxOptions defaults;
  NatsOutboxOptions options;
  options.connection = ReadNatsConnectionOptions(section);
  options.subject_prefix = section.String(
      "subject_prefix", defaults.subject_prefix,
      "outbox rows are published to <subject_prefix>.<topic> (topic: escalation or execution); a "
      "JetStream stream must capture <subject_prefix>.>");
  if (options.subject_prefix.empty() || options.subject_prefix.front() == '.' ||
      options.subject_prefix.back() == '.' ||
      options.subject_prefix.find_first_of("*> \t") != std::string::npos) {
    section.Error("subject_prefix",
                  "must be a non-empty subject without wildcards, spaces or a leading or "
                  "trailing '.'");
  }
  return options;
}

std::string OutboxMessageId(uint64_t outbox_seq) {
  return "wojak-outbox-" + std::to_string(outbox_seq);
}

NatsOutboxPublisher::NatsOutboxPublisher(NatsOutboxOptions options)
    : options_(std::move(options)) {}

StatusOr<std::unique_ptr<OutboxPublisher>> NatsOutboxPublisher::Create(ConfigSection& section) {
  return std::unique_ptr<OutboxPublisher>(
      std::make_unique<NatsOutboxPublisher>(ReadNatsOutboxOptions(section)));
}

Status NatsOutboxPublisher::Start() {
  WOJAK_ASSIGN_OR_RETURN(publisher_, NatsPublisher::Connect(options_.connection));
  return OkStatus();
}

Status NatsOutboxPublisher::Publish(const OutboxMessage& message,
                                    std::chrono::milliseconds timeout) {
  if (publisher_ == nullptr) return FailedPrecondition("NATS outbox publisher not started");
  NatsRecord record;
  record.subject = options_.subject_prefix + "." + message.topic;
  record.payload = message.body;
  record.headers = {{"Wojak-Topic", message.topic},
                    {"Wojak-Account", message.account},
                    {"Wojak-Outbox-Seq", std::to_string(message.outbox_seq)}};
  record.message_id = OutboxMessageId(message.outbox_seq);
  return publisher_->Publish(record, timeout);
}

void NatsOutboxPublisher::Stop() { publisher_.reset(); }

WOJAK_REGISTER_OUTBOX_PUBLISHER("nats", NatsOutboxPublisher::Create);

}  // namespace wojak::sidecar::nats
