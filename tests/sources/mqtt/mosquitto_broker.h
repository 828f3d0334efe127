// Test harness for the MQTT source: a private mosquitto on 127.0.0.1 (its own port, config and
// persistence file, stopped by PID) and a test client that subscribes and collects messages.
#pragma once

#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sidecar/sources/mqtt/mqtt_client.h"
#include "support/process.h"

namespace wojak::testing {

class MosquittoBroker {
 public:
  // `extra_config` lines are appended to the generated mosquitto.conf.
  explicit MosquittoBroker(const std::string& dir, const std::string& extra_config = "");
  ~MosquittoBroker();

  void Start();
  // SIGTERM: mosquitto saves its persistence file (sessions, queued messages) and exits.
  void Stop();
  void Restart() {
    Stop();
    Start();
  }
  // SIGSTOP / SIGCONT: a broker that holds its connections but answers nothing.
  void Pause() { process_.Signal(SIGSTOP); }
  void Resume() { process_.Signal(SIGCONT); }
  int port() const { return port_; }
  sidecar::mqtt::MqttClientOptions ClientOptions(
      const std::string& client_id,
      sidecar::mqtt::MqttVersion version = sidecar::mqtt::MqttVersion::k311) const;
  std::string log() const { return ReadFile(dir_ + "/mosquitto.log"); }

 private:
  std::string dir_;
  std::string extra_config_;
  int port_;
  ChildProcess process_;
};

// A subscriber with a persistent session that keeps every message it receives (acknowledging
// each), and publishes at QoS 1 waiting for the broker's acknowledgement.
class MqttTestClient {
 public:
  MqttTestClient(const MosquittoBroker& broker, const std::string& client_id,
                 sidecar::mqtt::MqttVersion version = sidecar::mqtt::MqttVersion::k311);

  void Subscribe(const std::vector<std::string>& filters);
  void Publish(const std::string& topic, const std::string& payload,
               const sidecar::mqtt::MqttProperties& properties = {});
  void PublishAll(const std::vector<sidecar::mqtt::MqttOutgoing>& messages);
  // Reads for up to `timeout` or until `count` messages were collected in total.
  const std::vector<sidecar::mqtt::PublishPacket>& Collect(size_t count,
                                                           std::chrono::milliseconds timeout);
  const std::vector<sidecar::mqtt::PublishPacket>& received() const { return received_; }
  // Reconnects (same client id, persistent session) after the broker went away.
  void Reconnect();

 private:
  const MosquittoBroker& broker_;
  sidecar::mqtt::MqttClientOptions options_;
  std::vector<std::string> filters_;
  std::unique_ptr<sidecar::mqtt::MqttClient> client_;
  std::vector<sidecar::mqtt::PublishPacket> received_;
};

// mosquitto_pub (libmosquitto) publishing every line of `lines` at QoS 1 to `topic`.
int MosquittoPublishLines(const MosquittoBroker& broker, const std::string& topic,
                          const std::vector<std::string>& lines, const std::string& dir);

}  // namespace wojak::testing
