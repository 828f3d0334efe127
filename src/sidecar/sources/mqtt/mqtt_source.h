// The MQTT source: subscribes at QoS 1 under a persistent session (fixed client id, clean
// session off) and sends each PUBACK only after the engine decided the order and the decision
// was published to <prefix>/decisions/<account> (and acknowledged by the broker). A sidecar that
// dies before that leaves the message unacknowledged in its session: the broker redelivers it
// (DUP) on the next connect and the engine answers DUPLICATE. PUBACKs go out in arrival order,
// as MQTT requires.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/status.h"
#include "sidecar/registry.h"
#include "sidecar/source.h"
#include "sidecar/sources/mqtt/mqtt_client.h"

namespace wojak::sidecar::mqtt {

struct MqttSourceOptions {
  MqttClientOptions client;
  std::vector<std::string> topics = {"wojak/orders/#"};
  // Messages on these filters are cancels ({"account":..,"client_order_id":..}).
  std::vector<std::string> cancel_topics = {"wojak/cancels/#"};
  // Decisions go to <prefix>/decisions/<account>, dead letters to <prefix>/dead-letter.
  std::string topic_prefix = "wojak";
  bool retain_decisions = false;
  std::chrono::milliseconds reconnect_initial{250};
  std::chrono::milliseconds reconnect_max{30000};
  // A publish of ours not acknowledged within this: the connection is rebuilt.
  std::chrono::milliseconds publish_timeout{10000};
};

// Reads the connection keys of `section` (host, port, protocol, client_id, username, password,
// keep_alive, session_expiry, receive_maximum, connect_timeout, max_packet_size, tls.*);
// violations are reported through it. The source and the outbox sink each use it on their own
// section, with their own client id.
MqttClientOptions ReadMqttClientOptions(ConfigSection& section, std::string_view default_client_id,
                                        std::string_view client_id_doc);

// Reads `sources.mqtt:`; violations (including clean_session: true) go through `section`.
MqttSourceOptions ReadMqttSourceOptions(ConfigSection& section);

// The identity a redelivery keeps. MQTT has no broker message id: a 5.0 "message_id" user
// property when present, else a SHA-256 of the payload (with the topic), so two identical
// payloads on one topic without a client_order_id count as one order.
std::string MqttIdentity(std::string_view topic, std::string_view message_id,
                         std::string_view payload);

// "<prefix>/decisions/<account>", with characters MQTT reserves in topic names replaced by '_'.
std::string DecisionTopic(std::string_view prefix, std::string_view account);

class MqttSource final : public Source {
 public:
  // Registered as "mqtt".
  static StatusOr<std::unique_ptr<Source>> Create(ConfigSection& section,
                                                  const SourceContext& context);

  explicit MqttSource(MqttSourceOptions options, const Clock& clock = RealClock::Instance());
  ~MqttSource() override;

  Status Start() override;
  StatusOr<std::vector<Message>> Poll(size_t max_messages,
                                      std::chrono::milliseconds max_wait) override;
  Status Ack(const Message& message, const Decision& decision) override;
  Status Nack(const Message& message, std::chrono::milliseconds delay) override;
  Status DeadLetter(const Message& message, const DeadLetterInfo& info) override;
  void StopIntake() override;
  void Stop() override;

  bool connected() const { return client_ != nullptr; }
  // QoS 1 messages received and not yet acknowledged to the broker.
  size_t unacked() const { return unacked_.size(); }
  // Decisions/dead letters published and not yet acknowledged by the broker.
  size_t unsettled() const { return settlements_.size(); }

  struct Inbound;

 private:
  struct Settlement {
    std::shared_ptr<Inbound> inbound;
    Message message;  // to hand out again if the broker refuses a publish
    int outstanding = 0;
    bool refused = false;
  };
  struct Metrics;

  Status Connect();
  void TearDown(const Status& why);
  std::shared_ptr<Inbound> Current(const Message& message);
  void Received(PublishPacket publish);
  void Acknowledged(const PubackPacket& puback);
  Status PublishThen(std::shared_ptr<Inbound> inbound, const Message& message,
                     std::vector<MqttOutgoing> publishes);
  void MarkSettled(Inbound& inbound);
  void FlushAcks();
  void Hold(Message message, std::chrono::milliseconds delay);
  void ReleaseHeld(Nanos now);
  void Pump(std::chrono::milliseconds max_wait);
  MqttOutgoing DecisionMessage(const std::string& topic, const std::string& payload,
                               const Inbound& inbound) const;

  MqttSourceOptions options_;
  const Clock& clock_;
  std::unique_ptr<MqttClient> client_;
  uint64_t generation_ = 0;
  Nanos reconnect_at_ = 0;
  std::chrono::milliseconds reconnect_delay_{0};
  bool intake_stopped_ = false;
  bool warned_qos0_ = false;
  std::deque<std::shared_ptr<Inbound>> unacked_;  // QoS 1, in arrival order
  std::deque<Message> ready_;
  std::multimap<Nanos, Message> held_;  // nacked: handed out again when due
  uint64_t next_settlement_ = 1;
  std::map<uint64_t, Settlement> settlements_;
  std::map<uint16_t, uint64_t> settlement_by_packet_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace wojak::sidecar::mqtt
