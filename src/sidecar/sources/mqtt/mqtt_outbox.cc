// MQTT outbox sink on the project's own MQTT client (QoS 1, PUBACK awaited).
#include "sidecar/sources/mqtt/mqtt_outbox.h"

#include <span>

#include "sidecar/sources/mqtt/mqtt_codec.h"
#include "sidecar/sources/mqtt/mqtt_source.h"

namespace wojak::sidecar::mqtt {

MqttOutboxOptions ReadMqttOutboxOptions(ConfigSection& section) {
  MqttOutboxOptions defaults;
  MqttOutboxOptions options;
  options.client = ReadMqttClientOptions(
      section, "wojak-outbox",
      "fixed client id of the sink's connection; must differ from the source's client_id and "
      "from every other sidecar's");
  options.topic_prefix = section.String(
      "topic_prefix", defaults.topic_prefix,
      "outbox rows are published to <topic_prefix>/<topic>/<account> (topic: escalation or "
      "execution)");
  if (!ValidTopicName(options.topic_prefix)) {
    section.Error("topic_prefix", "must be a topic name without wildcards");
  }
  return options;
}

std::string OutboxTopic(std::string_view prefix, const OutboxMessage& message) {
  std::string topic(prefix);
  for (std::string_view level :
       {std::string_view(message.topic), std::string_view(message.account)}) {
    topic.push_back('/');
    if (level.empty()) {
      topic += "_unknown";
      continue;
    }
    for (char c : level) topic.push_back(c == '/' || c == '+' || c == '#' || c == '\0' ? '_' : c);
  }
  return topic;
}

MqttOutboxPublisher::MqttOutboxPublisher(MqttOutboxOptions options) : options_(std::move(options)) {
  // The sink subscribes to nothing and republishes whatever was not acknowledged, so a session
  // kept by the broker across connections would hold nothing of use.
  options_.client.clean_start = true;
}

StatusOr<std::unique_ptr<OutboxPublisher>> MqttOutboxPublisher::Create(
    ConfigSection& outbox_section) {
  return std::unique_ptr<OutboxPublisher>(
      new MqttOutboxPublisher(ReadMqttOutboxOptions(outbox_section)));
}

Status MqttOutboxPublisher::Connect() {
  client_.reset();
  WOJAK_ASSIGN_OR_RETURN(client_, MqttClient::Connect(options_.client));
  return OkStatus();
}

Status MqttOutboxPublisher::Start() { return Connect(); }

Status MqttOutboxPublisher::Publish(const OutboxMessage& message,
                                    std::chrono::milliseconds timeout) {
  // Between rows nothing reads the connection: a broker that closed it meanwhile (keep-alive,
  // a restart) shows up here rather than as a failed publish. Reading also sends a due PINGREQ.
  if (client_ != nullptr && !client_->Read(std::chrono::milliseconds(0)).ok()) client_.reset();
  if (client_ == nullptr) WOJAK_RETURN_IF_ERROR(Connect().WithContext("outbox sink reconnecting"));
  MqttOutgoing outgoing;
  outgoing.topic = OutboxTopic(options_.topic_prefix, message);
  outgoing.payload = message.body;
  outgoing.qos = 1;
  if (client_->version() == MqttVersion::k5) {
    outgoing.properties.content_type = "application/json";
    outgoing.properties.user_properties = {{"outbox_seq", std::to_string(message.outbox_seq)},
                                           {"entry_seq", std::to_string(message.entry_seq)}};
  }
  Status status = client_->PublishConfirmed(std::span<const MqttOutgoing>(&outgoing, 1), timeout);
  if (status.ok()) return status;
  // A refused publish leaves the connection usable; after anything else the PUBACK may still
  // be on its way, so the next publish starts on a new connection rather than mistake it.
  if (status.code() != StatusCode::kPermissionDenied) client_.reset();
  return status.WithContext("outbox row " + std::to_string(message.outbox_seq) + " to '" +
                            outgoing.topic + "'");
}

void MqttOutboxPublisher::Stop() {
  if (client_ != nullptr) client_->Disconnect();
  client_.reset();
}

WOJAK_REGISTER_OUTBOX_PUBLISHER("mqtt", MqttOutboxPublisher::Create);

}  // namespace wojak::sidecar::mqtt
