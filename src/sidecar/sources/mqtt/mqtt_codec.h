// MQTT 3.1.1 and 5.0 packet encoding and decoding (the subset a client needs: CONNECT/CONNACK,
// PUBLISH/PUBACK at QoS 0 and 1, SUBSCRIBE/SUBACK, PINGREQ/PINGRESP, DISCONNECT) and topic
// filter matching. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wojak::sidecar::mqtt {

enum class MqttVersion : uint8_t { k311 = 4, k5 = 5 };

enum class PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,
};

// The MQTT 5 properties a client of ours reads or writes; others are skipped when decoding.
struct MqttProperties {
  std::optional<uint8_t> payload_format_indicator;
  std::optional<uint32_t> session_expiry_interval;
  std::optional<uint16_t> receive_maximum;
  std::optional<uint16_t> server_keep_alive;
  std::optional<uint16_t> topic_alias;
  std::optional<uint32_t> maximum_packet_size;
  std::string content_type;
  std::string response_topic;
  std::string correlation_data;  // binary
  std::string reason_string;
  std::string assigned_client_identifier;
  std::vector<std::pair<std::string, std::string>> user_properties;

  // The first user property named `key`, or empty.
  std::string UserProperty(std::string_view key) const;
  bool operator==(const MqttProperties&) const = default;
};

struct ConnectPacket {
  MqttVersion version = MqttVersion::k311;
  std::string client_id;
  bool clean_start = false;  // "clean session" in 3.1.1
  uint16_t keep_alive_seconds = 30;
  std::optional<std::string> username;
  std::optional<std::string> password;
  MqttProperties properties;  // 5.0 only
};

struct ConnackPacket {
  bool session_present = false;
  uint8_t reason_code = 0;  // 3.1.1 return code or 5.0 reason code; 0 = accepted
  MqttProperties properties;
};

struct PublishPacket {
  bool dup = false;
  uint8_t qos = 0;
  bool retain = false;
  std::string topic;
  uint16_t packet_id = 0;  // QoS > 0 only
  MqttProperties properties;
  std::string payload;
  bool operator==(const PublishPacket&) const = default;
};

struct PubackPacket {
  uint16_t packet_id = 0;
  uint8_t reason_code = 0;  // 5.0: >= 0x80 is a failure; 3.1.1 always 0
};

struct SubscribePacket {
  uint16_t packet_id = 0;
  // Topic filter and its options byte (bits 0-1 maximum QoS; 5.0 adds no-local, retain-as-
  // published and retain handling).
  std::vector<std::pair<std::string, uint8_t>> filters;
};

struct SubackPacket {
  uint16_t packet_id = 0;
  std::vector<uint8_t> reason_codes;  // granted QoS, or >= 0x80 for a refused filter
};

struct DisconnectPacket {
  uint8_t reason_code = 0;
  MqttProperties properties;
};

// One framed packet: the fixed header's first byte and the variable header + payload.
struct RawPacket {
  uint8_t header = 0;
  std::string body;
  PacketType type() const { return static_cast<PacketType>(header >> 4); }
  uint8_t flags() const { return header & 0x0f; }
};

std::string EncodeConnect(const ConnectPacket& packet);
std::string EncodePublish(const PublishPacket& packet, MqttVersion version);
std::string EncodePuback(const PubackPacket& packet, MqttVersion version);
std::string EncodeSubscribe(const SubscribePacket& packet, MqttVersion version);
std::string EncodePingreq();
std::string EncodeDisconnect(MqttVersion version);

// Takes one complete packet from the front of buffer[offset..]: advances `offset` past it.
// nullopt while the packet is incomplete; an error for a malformed length or a packet larger
// than max_packet_size (the connection must be dropped).
StatusOr<std::optional<RawPacket>> TakePacket(const std::string& buffer, size_t& offset,
                                              size_t max_packet_size);

StatusOr<ConnackPacket> DecodeConnack(const RawPacket& raw, MqttVersion version);
StatusOr<PublishPacket> DecodePublish(const RawPacket& raw, MqttVersion version);
StatusOr<PubackPacket> DecodePuback(const RawPacket& raw, MqttVersion version);
StatusOr<SubackPacket> DecodeSuback(const RawPacket& raw, MqttVersion version);
StatusOr<DisconnectPacket> DecodeDisconnect(const RawPacket& raw, MqttVersion version);

// Text for a CONNACK return/reason code ("not authorized", ...).
std::string ConnackReasonText(uint8_t code, MqttVersion version);

// Whether `topic` (a concrete topic name) matches `filter` (with + and # wildcards).
bool TopicMatches(std::string_view filter, std::string_view topic);
// Non-empty, no wildcards, no NUL: a name one may publish to.
bool ValidTopicName(std::string_view topic);
// Non-empty, '#' only last and alone in its level, '+' alone in its level, no NUL.
bool ValidTopicFilter(std::string_view filter);

}  // namespace wojak::sidecar::mqtt
