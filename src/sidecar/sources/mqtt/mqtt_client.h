// A small single-threaded MQTT 3.1.1 / 5.0 client (TCP or TLS) whose QoS 1 acknowledgements are
// sent by the caller, when the caller decides: libmosquitto 2.0 and Eclipse Paho C send PUBACK as
// soon as a message arrives, before the application has done anything with it (docs/sources/
// mqtt.md), which turns QoS 1 into at-most-once for a gateway that crashes mid-decision.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "sidecar/sources/mqtt/mqtt_codec.h"

namespace wojak::sidecar::mqtt {

struct MqttTlsOptions {
  bool enabled = false;
  std::string ca_file;    // PEM CA bundle; empty = the system store
  std::string cert_file;  // PEM client certificate (mutual TLS); empty = none
  std::string key_file;
  bool verify_peer = true;
  bool verify_hostname = true;
};

struct MqttClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  MqttVersion version = MqttVersion::k311;
  std::string client_id;
  bool clean_start = false;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::chrono::seconds keep_alive{30};
  // 5.0: how long the broker keeps the session after a disconnect (0xFFFFFFFF = forever).
  uint32_t session_expiry_seconds = 0;
  // 5.0: most unacknowledged QoS 1 messages the broker may send us at once.
  uint16_t receive_maximum = 65535;
  std::chrono::milliseconds connect_timeout{5000};
  size_t max_packet_size = 1 << 20;
  MqttTlsOptions tls;
};

// Something the broker sent.
struct MqttEvent {
  enum class Kind : uint8_t { kPublish, kPuback };
  Kind kind = Kind::kPublish;
  PublishPacket publish;  // kPublish
  PubackPacket puback;    // kPuback: the broker took one of our QoS 1 publishes
};

struct MqttOutgoing {
  std::string topic;
  std::string payload;
  uint8_t qos = 1;
  bool retain = false;
  MqttProperties properties;  // 5.0 only
};

class MqttClient {
 public:
  // Connects (TCP, TLS, CONNECT/CONNACK). A refused CONNACK is PERMISSION_DENIED or
  // UNAUTHENTICATED; an unreachable broker UNAVAILABLE.
  static StatusOr<std::unique_ptr<MqttClient>> Connect(const MqttClientOptions& options);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Whether the broker resumed an existing session (CONNACK session present).
  bool session_present() const { return session_present_; }
  // 5.0: the broker's Receive Maximum for our publishes (65535 when it set none).
  uint16_t broker_receive_maximum() const { return broker_receive_maximum_; }

  // Subscribes every filter at `qos` and waits for the SUBACK; publishes that arrive meanwhile
  // are kept for Read(). Any refused filter is an error.
  Status Subscribe(const std::vector<std::string>& filters, uint8_t qos,
                   std::chrono::milliseconds timeout);
  // Sends a PUBLISH. For QoS 1, returns the packet id whose PUBACK arrives through Read();
  // 0 for QoS 0. Beyond the broker's Receive Maximum (5.0) QoS 1 publishes wait in order and go
  // out as PUBACKs free room.
  StatusOr<uint16_t> Publish(const MqttOutgoing& message);
  // Acknowledges a QoS 1 message we received (the broker may then forget it).
  Status Puback(uint16_t packet_id);
  // Events that arrive within max_wait (zero = only what can be read now). Also keeps the
  // connection alive (PINGREQ when due; no PINGRESP within keep_alive is an error).
  StatusOr<std::vector<MqttEvent>> Read(std::chrono::milliseconds max_wait);
  // The sink's call: publishes every message at QoS 1 and waits for all PUBACKs. OK only when
  // the broker acknowledged each; publishes from the broker that arrive meanwhile are kept.
  Status PublishConfirmed(std::span<const MqttOutgoing> messages,
                          std::chrono::milliseconds timeout);
  // Sends DISCONNECT (normal: the session stays, the will is discarded) and closes.
  void Disconnect();

  size_t unacked_publishes() const { return outgoing_.size(); }
  std::chrono::milliseconds oldest_unacked_age() const;
  MqttVersion version() const { return options_.version; }
  int fd() const;

  class Transport;

 private:
  explicit MqttClient(MqttClientOptions options);
  Status Send(const std::string& bytes);
  // Reads whatever is available (waiting up to max_wait for the first byte) into in_.
  Status Fill(std::chrono::milliseconds max_wait);
  // Decodes complete packets in in_ into events (answers PINGRESP, errors on DISCONNECT).
  Status Drain(std::vector<MqttEvent>& events);
  Status KeepAlive();
  Status SendThrottled();
  uint16_t NextPacketId();

  MqttClientOptions options_;
  std::unique_ptr<Transport> transport_;
  bool session_present_ = false;
  uint16_t broker_receive_maximum_ = 65535;
  std::chrono::seconds keep_alive_{30};
  std::string in_;
  size_t in_offset_ = 0;
  std::vector<MqttEvent> early_events_;  // arrived while waiting for a SUBACK or PUBACKs
  std::optional<SubackPacket> suback_;
  uint16_t last_packet_id_ = 0;
  // Our QoS 1 publishes not yet acknowledged, by packet id, with when they were published.
  std::map<uint16_t, std::chrono::steady_clock::time_point> outgoing_;
  std::deque<std::string> throttled_;  // encoded, waiting for room under Receive Maximum
  std::chrono::steady_clock::time_point last_sent_;
  std::optional<std::chrono::steady_clock::time_point> ping_sent_at_;
  bool broken_ = false;
};

}  // namespace wojak::sidecar::mqtt
