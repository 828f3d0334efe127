// The outbox's MQTT broker sink end to end, with real processes: `wojak engine` (outbox.sink:
// sidecar) → `wojak sidecar --source mqtt` (sidecar.outbox_endpoint) → mosquitto. The scenario
// is tests/sources/outbox_e2e.h's; a 5.0 subscriber of wojak/outbox/# reads the rows back (5.0
// so each carries its outbox_seq as a user property).
#include <gtest/gtest.h>

#include "mosquitto_broker.h"
#include "sources/outbox_e2e.h"

namespace wojak::testing {
namespace {

namespace mq = sidecar::mqtt;

class MqttOutboxHooks final : public OutboxBrokerHooks {
 public:
  explicit MqttOutboxHooks(const MosquittoBroker& broker)
      : broker_(broker), subscriber_(broker, "outbox-e2e-consumer", mq::MqttVersion::k5) {
    subscriber_.Subscribe({"wojak/outbox/#"});
  }

  std::string SourceName() const override { return "mqtt"; }
  std::string SourcesYaml() const override {
    const std::string port = std::to_string(broker_.port());
    return "sources:\n  mqtt:\n    host: 127.0.0.1\n    port: " + port +
           "\n    client_id: outbox-e2e-sidecar\n    reconnect_initial: 50ms\n"
           "    reconnect_max: 500ms\n    outbox:\n      host: 127.0.0.1\n      port: " +
           port + "\n      protocol: '5'\n      client_id: outbox-e2e-sink\n";
  }
  std::vector<OutboxBrokerMessage> Consume(size_t count,
                                           std::chrono::milliseconds timeout) override {
    std::vector<OutboxBrokerMessage> messages;
    for (const mq::PublishPacket& packet : subscriber_.Collect(count, timeout)) {
      const std::string seq = packet.properties.UserProperty("outbox_seq");
      EXPECT_FALSE(seq.empty()) << packet.topic;
      messages.push_back({packet.topic, packet.topic.substr(packet.topic.rfind('/') + 1),
                          seq.empty() ? 0 : std::stoull(seq), packet.payload});
    }
    return messages;
  }
  std::string EscalationDestination() const override {
    return std::string("wojak/outbox/escalation/") + kOutboxE2eAccount;
  }

 private:
  const MosquittoBroker& broker_;
  MqttTestClient subscriber_;
};

TEST(MqttOutboxEndToEndTest, RowsReachTheTopicInOrderAndWaitInTheOutboxWhileTheSidecarIsDown) {
  TempDir broker_dir;
  MosquittoBroker broker(broker_dir.path());
  MqttOutboxHooks hooks(broker);
  RunOutboxEndToEnd(hooks);
}

}  // namespace
}  // namespace wojak::testing
