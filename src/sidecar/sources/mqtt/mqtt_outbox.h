// The MQTT broker sink of the engine's outbox: each row is published at QoS 1 to
// <topic_prefix>/<topic>/<account> and counts as published only once the broker's PUBACK came.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"
#include "sidecar/outbox_publisher.h"
#include "sidecar/sources/mqtt/mqtt_client.h"

namespace wojak::sidecar::mqtt {

struct MqttOutboxOptions {
  // The sink has its own connection keys under `outbox` (host, port, protocol, client_id,
  // username, password, tls.*), since its factory sees only that section. Its client id must
  // differ from the source's: a broker disconnects the older of two clients sharing one.
  MqttClientOptions client;
  std::string topic_prefix = "wojak/outbox";
};

// Reads `sources.mqtt.outbox:`; violations are reported through `section`.
MqttOutboxOptions ReadMqttOutboxOptions(ConfigSection& section);

// "<prefix>/<topic>/<account>", with characters MQTT reserves in topic names replaced by '_'.
std::string OutboxTopic(std::string_view prefix, const OutboxMessage& message);

class MqttOutboxPublisher final : public OutboxPublisher {
 public:
  // Registered as the "mqtt" outbox publisher.
  static StatusOr<std::unique_ptr<OutboxPublisher>> Create(ConfigSection& outbox_section);

  explicit MqttOutboxPublisher(MqttOutboxOptions options);

  Status Start() override;
  // Reconnects first when an earlier error dropped the connection. A PUBACK with a failure
  // reason (5.0, e.g. not authorized) is PERMISSION_DENIED; no PUBACK within `timeout`
  // DEADLINE_EXCEEDED; a lost or refused connection UNAVAILABLE (or the CONNACK's refusal).
  Status Publish(const OutboxMessage& message, std::chrono::milliseconds timeout) override;
  void Stop() override;

 private:
  Status Connect();

  MqttOutboxOptions options_;
  std::unique_ptr<MqttClient> client_;
};

}  // namespace wojak::sidecar::mqtt
