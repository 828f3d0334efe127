// MQTT packet codec: big-endian integers, variable byte integers, length-prefixed strings and
// MQTT 5 property lists, with every read bounds-checked (a broker's bytes are untrusted input).
#include "sidecar/sources/mqtt/mqtt_codec.h"

namespace wojak::sidecar::mqtt {
namespace {

constexpr uint32_t kMaxVarint = 268'435'455;  // 4 bytes of 7 bits

enum PropertyId : uint8_t {
  kPayloadFormatIndicator = 0x01,
  kMessageExpiryInterval = 0x02,
  kContentType = 0x03,
  kResponseTopic = 0x08,
  kCorrelationData = 0x09,
  kSubscriptionIdentifier = 0x0B,
  kSessionExpiryInterval = 0x11,
  kAssignedClientIdentifier = 0x12,
  kServerKeepAlive = 0x13,
  kAuthenticationMethod = 0x15,
  kAuthenticationData = 0x16,
  kRequestProblemInformation = 0x17,
  kWillDelayInterval = 0x18,
  kRequestResponseInformation = 0x19,
  kResponseInformation = 0x1A,
  kServerReference = 0x1C,
  kReasonString = 0x1F,
  kReceiveMaximum = 0x21,
  kTopicAliasMaximum = 0x22,
  kTopicAlias = 0x23,
  kMaximumQos = 0x24,
  kRetainAvailable = 0x25,
  kUserProperty = 0x26,
  kMaximumPacketSize = 0x27,
  kWildcardSubscriptionAvailable = 0x28,
  kSubscriptionIdentifierAvailable = 0x29,
  kSharedSubscriptionAvailable = 0x2A,
};

void AppendU8(std::string& out, uint8_t value) { out.push_back(static_cast<char>(value)); }

void AppendU16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
}

void AppendU32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

void AppendVarint(std::string& out, uint32_t value) {
  do {
    uint8_t byte = value % 128;
    value /= 128;
    if (value > 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (value > 0);
}

void AppendString(std::string& out, std::string_view text) {
  AppendU16(out, static_cast<uint16_t>(text.size()));
  out.append(text);
}

std::string EncodeProperties(const MqttProperties& p) {
  std::string body;
  if (p.payload_format_indicator) {
    AppendU8(body, kPayloadFormatIndicator);
    AppendU8(body, *p.payload_format_indicator);
  }
  if (p.session_expiry_interval) {
    AppendU8(body, kSessionExpiryInterval);
    AppendU32(body, *p.session_expiry_interval);
  }
  if (p.receive_maximum) {
    AppendU8(body, kReceiveMaximum);
    AppendU16(body, *p.receive_maximum);
  }
  if (p.maximum_packet_size) {
    AppendU8(body, kMaximumPacketSize);
    AppendU32(body, *p.maximum_packet_size);
  }
  if (!p.content_type.empty()) {
    AppendU8(body, kContentType);
    AppendString(body, p.content_type);
  }
  if (!p.response_topic.empty()) {
    AppendU8(body, kResponseTopic);
    AppendString(body, p.response_topic);
  }
  if (!p.correlation_data.empty()) {
    AppendU8(body, kCorrelationData);
    AppendString(body, p.correlation_data);
  }
  for (const auto& [key, value] : p.user_properties) {
    AppendU8(body, kUserProperty);
    AppendString(body, key);
    AppendString(body, value);
  }
  std::string out;
  AppendVarint(out, static_cast<uint32_t>(body.size()));
  out += body;
  return out;
}

std::string Frame(uint8_t header, const std::string& body) {
  std::string out;
  out.reserve(body.size() + 5);
  AppendU8(out, header);
  AppendVarint(out, static_cast<uint32_t>(body.size()));
  out += body;
  return out;
}

// Bounds-checked reader over one packet body.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  size_t left() const { return data_.size() - pos_; }

  Status U8(uint8_t& out) {
    if (left() < 1) return Short();
    out = static_cast<uint8_t>(data_[pos_++]);
    return OkStatus();
  }
  Status U16(uint16_t& out) {
    if (left() < 2) return Short();
    out = static_cast<uint16_t>((static_cast<uint8_t>(data_[pos_]) << 8) |
                                static_cast<uint8_t>(data_[pos_ + 1]));
    pos_ += 2;
    return OkStatus();
  }
  Status U32(uint32_t& out) {
    if (left() < 4) return Short();
    out = 0;
    for (int i = 0; i < 4; ++i) out = (out << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += 4;
    return OkStatus();
  }
  Status Varint(uint32_t& out) {
    out = 0;
    uint32_t multiplier = 1;
    for (int i = 0; i < 4; ++i) {
      uint8_t byte = 0;
      WOJAK_RETURN_IF_ERROR(U8(byte));
      out += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) == 0) return OkStatus();
      multiplier *= 128;
    }
    return InvalidArgument("malformed variable byte integer");
  }
  Status String(std::string& out) {
    uint16_t length = 0;
    WOJAK_RETURN_IF_ERROR(U16(length));
    if (left() < length) return Short();
    out.assign(data_.substr(pos_, length));
    pos_ += length;
    return OkStatus();
  }
  Status Skip(size_t count) {
    if (left() < count) return Short();
    pos_ += count;
    return OkStatus();
  }
  std::string Rest() {
    std::string rest(data_.substr(pos_));
    pos_ = data_.size();
    return rest;
  }
  Status Properties(MqttProperties& out);

 private:
  static Status Short() { return InvalidArgument("packet shorter than its fields"); }
  std::string_view data_;
  size_t pos_ = 0;
};

Status Reader::Properties(MqttProperties& out) {
  uint32_t length = 0;
  WOJAK_RETURN_IF_ERROR(Varint(length));
  if (left() < length) return Short();
  const size_t end = pos_ + length;
  while (pos_ < end) {
    uint32_t id = 0;
    WOJAK_RETURN_IF_ERROR(Varint(id));
    uint8_t byte = 0;
    uint16_t two = 0;
    uint32_t four = 0;
    std::string text;
    switch (id) {
      case kPayloadFormatIndicator:
        WOJAK_RETURN_IF_ERROR(U8(byte));
        out.payload_format_indicator = byte;
        break;
      case kRequestProblemInformation:
      case kRequestResponseInformation:
      case kMaximumQos:
      case kRetainAvailable:
      case kWildcardSubscriptionAvailable:
      case kSubscriptionIdentifierAvailable:
      case kSharedSubscriptionAvailable:
        WOJAK_RETURN_IF_ERROR(U8(byte));
        break;
      case kServerKeepAlive:
        WOJAK_RETURN_IF_ERROR(U16(two));
        out.server_keep_alive = two;
        break;
      case kReceiveMaximum:
        WOJAK_RETURN_IF_ERROR(U16(two));
        out.receive_maximum = two;
        break;
      case kTopicAlias:
        WOJAK_RETURN_IF_ERROR(U16(two));
        out.topic_alias = two;
        break;
      case kTopicAliasMaximum:
        WOJAK_RETURN_IF_ERROR(U16(two));
        break;
      case kSessionExpiryInterval:
        WOJAK_RETURN_IF_ERROR(U32(four));
        out.session_expiry_interval = four;
        break;
      case kMaximumPacketSize:
        WOJAK_RETURN_IF_ERROR(U32(four));
        out.maximum_packet_size = four;
        break;
      case kMessageExpiryInterval:
      case kWillDelayInterval:
        WOJAK_RETURN_IF_ERROR(U32(four));
        break;
      case kSubscriptionIdentifier:
        WOJAK_RETURN_IF_ERROR(Varint(four));
        break;
      case kContentType:
        WOJAK_RETURN_IF_ERROR(String(out.content_type));
        break;
      case kResponseTopic:
        WOJAK_RETURN_IF_ERROR(String(out.response_topic));
        break;
      case kCorrelationData:
        WOJAK_RETURN_IF_ERROR(String(out.correlation_data));
        break;
      case kReasonString:
        WOJAK_RETURN_IF_ERROR(String(out.reason_string));
        break;
      case kAssignedClientIdentifier:
        WOJAK_RETURN_IF_ERROR(String(out.assigned_client_identifier));
        break;
      case kAuthenticationMethod:
      case kAuthenticationData:
      case kResponseInformation:
      case kServerReference:
        WOJAK_RETURN_IF_ERROR(String(text));
        break;
      case kUserProperty: {
        std::string key;
        WOJAK_RETURN_IF_ERROR(String(key));
        WOJAK_RETURN_IF_ERROR(String(text));
        out.user_properties.emplace_back(std::move(key), std::move(text));
        break;
      }
      default:
        return InvalidArgument("unknown MQTT property 0x" + std::to_string(id));
    }
  }
  if (pos_ != end) return InvalidArgument("property list overruns its length");
  return OkStatus();
}

Status ExpectType(const RawPacket& raw, PacketType type, const char* name) {
  if (raw.type() != type) return InvalidArgument(std::string("expected ") + name);
  return OkStatus();
}

}  // namespace

std::string MqttProperties::UserProperty(std::string_view key) const {
  for (const auto& [name, value] : user_properties) {
    if (name == key) return value;
  }
  return {};
}

std::string EncodeConnect(const ConnectPacket& packet) {
  std::string body;
  AppendString(body, "MQTT");
  AppendU8(body, static_cast<uint8_t>(packet.version));
  uint8_t flags = 0;
  if (packet.clean_start) flags |= 0x02;
  if (packet.password) flags |= 0x40;
  if (packet.username) flags |= 0x80;
  AppendU8(body, flags);
  AppendU16(body, packet.keep_alive_seconds);
  if (packet.version == MqttVersion::k5) body += EncodeProperties(packet.properties);
  AppendString(body, packet.client_id);
  if (packet.username) AppendString(body, *packet.username);
  if (packet.password) AppendString(body, *packet.password);
  return Frame(0x10, body);
}

std::string EncodePublish(const PublishPacket& packet, MqttVersion version) {
  std::string body;
  AppendString(body, packet.topic);
  if (packet.qos > 0) AppendU16(body, packet.packet_id);
  if (version == MqttVersion::k5) body += EncodeProperties(packet.properties);
  body += packet.payload;
  const uint8_t header = static_cast<uint8_t>(0x30 | (packet.dup ? 0x08 : 0) |
                                              ((packet.qos & 0x03) << 1) | (packet.retain ? 1 : 0));
  return Frame(header, body);
}

std::string EncodePuback(const PubackPacket& packet, MqttVersion version) {
  std::string body;
  AppendU16(body, packet.packet_id);
  // 5.0 lets a success without properties omit the reason code.
  if (version == MqttVersion::k5 && packet.reason_code != 0) AppendU8(body, packet.reason_code);
  return Frame(0x40, body);
}

std::string EncodeSubscribe(const SubscribePacket& packet, MqttVersion version) {
  std::string body;
  AppendU16(body, packet.packet_id);
  if (version == MqttVersion::k5) body += EncodeProperties({});
  for (const auto& [filter, options] : packet.filters) {
    AppendString(body, filter);
    AppendU8(body, options);
  }
  return Frame(0x82, body);
}

std::string EncodePingreq() { return std::string("\xC0\x00", 2); }

std::string EncodeDisconnect(MqttVersion /*version*/) {
  // Reason 0 (normal disconnection) without properties is a zero-length body in both versions.
  return std::string("\xE0\x00", 2);
}

StatusOr<std::optional<RawPacket>> TakePacket(const std::string& buffer, size_t& offset,
                                              size_t max_packet_size) {
  if (buffer.size() - offset < 2) return std::optional<RawPacket>();
  uint32_t length = 0;
  uint32_t multiplier = 1;
  size_t pos = offset + 1;
  for (int i = 0;; ++i) {
    if (i == 4) return InvalidArgument("malformed remaining length");
    if (pos >= buffer.size()) return std::optional<RawPacket>();
    const uint8_t byte = static_cast<uint8_t>(buffer[pos++]);
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) == 0) break;
    multiplier *= 128;
  }
  if (length > kMaxVarint || length + (pos - offset) > max_packet_size) {
    return ResourceExhausted("packet of " + std::to_string(length) +
                             " bytes exceeds the limit of " + std::to_string(max_packet_size));
  }
  if (buffer.size() - pos < length) return std::optional<RawPacket>();
  RawPacket raw;
  raw.header = static_cast<uint8_t>(buffer[offset]);
  raw.body = buffer.substr(pos, length);
  offset = pos + length;
  return std::optional<RawPacket>(std::move(raw));
}

StatusOr<ConnackPacket> DecodeConnack(const RawPacket& raw, MqttVersion version) {
  WOJAK_RETURN_IF_ERROR(ExpectType(raw, PacketType::kConnack, "CONNACK"));
  Reader reader(raw.body);
  ConnackPacket packet;
  uint8_t flags = 0;
  WOJAK_RETURN_IF_ERROR(reader.U8(flags));
  WOJAK_RETURN_IF_ERROR(reader.U8(packet.reason_code));
  packet.session_present = (flags & 0x01) != 0;
  if (version == MqttVersion::k5 && !reader.done()) {
    WOJAK_RETURN_IF_ERROR(reader.Properties(packet.properties));
  }
  return packet;
}

StatusOr<PublishPacket> DecodePublish(const RawPacket& raw, MqttVersion version) {
  WOJAK_RETURN_IF_ERROR(ExpectType(raw, PacketType::kPublish, "PUBLISH"));
  PublishPacket packet;
  packet.dup = (raw.flags() & 0x08) != 0;
  packet.qos = (raw.flags() >> 1) & 0x03;
  packet.retain = (raw.flags() & 0x01) != 0;
  if (packet.qos == 3) return InvalidArgument("PUBLISH with QoS 3");
  Reader reader(raw.body);
  WOJAK_RETURN_IF_ERROR(reader.String(packet.topic));
  if (packet.qos > 0) {
    WOJAK_RETURN_IF_ERROR(reader.U16(packet.packet_id));
    if (packet.packet_id == 0) return InvalidArgument("PUBLISH with packet id 0");
  }
  if (version == MqttVersion::k5) WOJAK_RETURN_IF_ERROR(reader.Properties(packet.properties));
  packet.payload = reader.Rest();
  return packet;
}

StatusOr<PubackPacket> DecodePuback(const RawPacket& raw, MqttVersion version) {
  WOJAK_RETURN_IF_ERROR(ExpectType(raw, PacketType::kPuback, "PUBACK"));
  Reader reader(raw.body);
  PubackPacket packet;
  WOJAK_RETURN_IF_ERROR(reader.U16(packet.packet_id));
  if (version == MqttVersion::k5 && !reader.done()) {
    WOJAK_RETURN_IF_ERROR(reader.U8(packet.reason_code));
    if (!reader.done()) {
      MqttProperties ignored;
      WOJAK_RETURN_IF_ERROR(reader.Properties(ignored));
    }
  }
  return packet;
}

StatusOr<SubackPacket> DecodeSuback(const RawPacket& raw, MqttVersion version) {
  WOJAK_RETURN_IF_ERROR(ExpectType(raw, PacketType::kSuback, "SUBACK"));
  Reader reader(raw.body);
  SubackPacket packet;
  WOJAK_RETURN_IF_ERROR(reader.U16(packet.packet_id));
  if (version == MqttVersion::k5) {
    MqttProperties ignored;
    WOJAK_RETURN_IF_ERROR(reader.Properties(ignored));
  }
  while (!reader.done()) {
    uint8_t code = 0;
    WOJAK_RETURN_IF_ERROR(reader.U8(code));
    packet.reason_codes.push_back(code);
  }
  return packet;
}

StatusOr<DisconnectPacket> DecodeDisconnect(const RawPacket& raw, MqttVersion version) {
  WOJAK_RETURN_IF_ERROR(ExpectType(raw, PacketType::kDisconnect, "DISCONNECT"));
  DisconnectPacket packet;
  if (version != MqttVersion::k5 || raw.body.empty()) return packet;
  Reader reader(raw.body);
  WOJAK_RETURN_IF_ERROR(reader.U8(packet.reason_code));
  if (!reader.done()) WOJAK_RETURN_IF_ERROR(reader.Properties(packet.properties));
  return packet;
}

std::string ConnackReasonText(uint8_t code, MqttVersion version) {
  if (version == MqttVersion::k311) {
    switch (code) {
      case 0:
        return "accepted";
      case 1:
        return "unacceptable protocol version";
      case 2:
        return "client identifier rejected";
      case 3:
        return "server unavailable";
      case 4:
        return "bad user name or password";
      case 5:
        return "not authorized";
      default:
        return "return code " + std::to_string(code);
    }
  }
  switch (code) {
    case 0x00:
      return "success";
    case 0x84:
      return "unsupported protocol version";
    case 0x85:
      return "client identifier not valid";
    case 0x86:
      return "bad user name or password";
    case 0x87:
      return "not authorized";
    case 0x88:
      return "server unavailable";
    case 0x89:
      return "server busy";
    case 0x8A:
      return "banned";
    case 0x8C:
      return "bad authentication method";
    default:
      return "reason code " + std::to_string(code);
  }
}

bool TopicMatches(std::string_view filter, std::string_view topic) {
  // Wildcards at the first level never match topics starting with '$' ($SYS, ...).
  if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
      (filter.front() == '+' || filter.front() == '#')) {
    return false;
  }
  size_t f = 0;
  size_t t = 0;
  for (;;) {
    const size_t f_end = std::min(filter.find('/', f), filter.size());
    const std::string_view level = filter.substr(f, f_end - f);
    if (level == "#") return true;  // matches the parent level and everything below
    const size_t t_end = std::min(topic.find('/', t), topic.size());
    if (level != "+" && level != topic.substr(t, t_end - t)) return false;
    const bool filter_done = f_end == filter.size();
    const bool topic_done = t_end == topic.size();
    if (filter_done || topic_done) {
      if (filter_done && topic_done) return true;
      // "a/#" matches "a": the filter continues with exactly "#".
      return topic_done && filter.substr(f_end) == "/#";
    }
    f = f_end + 1;
    t = t_end + 1;
  }
}

bool ValidTopicName(std::string_view topic) {
  return !topic.empty() && topic.size() <= 65535 &&
         topic.find_first_of(std::string_view("+#\0", 3)) == std::string_view::npos;
}

bool ValidTopicFilter(std::string_view filter) {
  if (filter.empty() || filter.size() > 65535 || filter.find('\0') != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  for (;;) {
    const size_t end = std::min(filter.find('/', start), filter.size());
    const std::string_view level = filter.substr(start, end - start);
    if (level.find_first_of("+#") != std::string_view::npos) {
      if (level.size() != 1) return false;
      if (level == "#" && end != filter.size()) return false;
    }
    if (end == filter.size()) return true;
    start = end + 1;
  }
}

}  // namespace wojak::sidecar::mqtt
