// MQTT codec: exact bytes of the packets we send, decoding of what brokers send (3.1.1 and 5.0),
// framing across partial reads, malformed input, and topic filter matching.
#include "sidecar/sources/mqtt/mqtt_codec.h"

#include <gtest/gtest.h>

namespace wojak::sidecar::mqtt {
namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

RawPacket Frame(const std::string& encoded) {
  size_t offset = 0;
  auto taken = TakePacket(encoded, offset, 1 << 20);
  EXPECT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_TRUE(taken->has_value());
  EXPECT_EQ(offset, encoded.size());
  return **taken;
}

TEST(MqttCodecTest, Connect311HasTheProtocolLevelFlagsAndPayload) {
  ConnectPacket connect;
  connect.client_id = "c1";
  connect.keep_alive_seconds = 30;
  connect.username = "u";
  connect.password = "p";
  EXPECT_EQ(EncodeConnect(connect), Bytes({0x10, 20, 0, 4,   'M', 'Q', 'T', 'T', 4, 0xC0, 0,
                                           30,   0,  2, 'c', '1', 0,   1,   'u', 0, 1,    'p'}));
}

TEST(MqttCodecTest, Connect5CarriesSessionExpiryAndReceiveMaximum) {
  ConnectPacket connect;
  connect.version = MqttVersion::k5;
  connect.client_id = "c";
  connect.clean_start = false;
  connect.keep_alive_seconds = 10;
  connect.properties.session_expiry_interval = 60;
  connect.properties.receive_maximum = 100;
  EXPECT_EQ(EncodeConnect(connect), Bytes({0x10, 22, 0, 4, 'M', 'Q',  'T', 'T', 5, 0x00, 0,  10, 8,
                                           0x11, 0,  0, 0, 60,  0x21, 0,   100, 0, 1,    'c'}));
}

TEST(MqttCodecTest, PublishRoundTripsAtQos1In311) {
  PublishPacket publish;
  publish.qos = 1;
  publish.dup = true;
  publish.topic = "a/b";
  publish.packet_id = 258;
  publish.payload = "{\"x\":1}";
  const std::string encoded = EncodePublish(publish, MqttVersion::k311);
  EXPECT_EQ(static_cast<uint8_t>(encoded[0]), 0x3A);  // PUBLISH, DUP, QoS 1
  auto decoded = DecodePublish(Frame(encoded), MqttVersion::k311);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, publish);
}

TEST(MqttCodecTest, PublishRoundTripsWith5Properties) {
  PublishPacket publish;
  publish.qos = 1;
  publish.topic = "orders";
  publish.packet_id = 7;
  publish.properties.response_topic = "replies/1";
  publish.properties.correlation_data = std::string("\x00\x01", 2);
  publish.properties.content_type = "application/json";
  publish.properties.user_properties = {{"message_id", "m-1"}};
  publish.payload = "body";
  auto decoded = DecodePublish(Frame(EncodePublish(publish, MqttVersion::k5)), MqttVersion::k5);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, publish);
  EXPECT_EQ(decoded->properties.UserProperty("message_id"), "m-1");
}

TEST(MqttCodecTest, DecodesBrokerPropertiesItDoesNotUse) {
  // Topic "t", packet id 1, properties: message expiry (0x02) 5 and subscription identifier
  // (0x0B) 300 as a two-byte variable integer, then the payload.
  const std::string body = Bytes({0, 1, 't', 0, 1, 8, 0x02, 0, 0, 0, 5, 0x0B, 0xAC, 0x02, 'p'});
  RawPacket raw{0x32, body};
  auto decoded = DecodePublish(raw, MqttVersion::k5);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->payload, "p");
}

TEST(MqttCodecTest, RejectsAPropertyListThatOverrunsThePacket) {
  RawPacket raw{0x32, Bytes({0, 1, 't', 0, 1, 20, 0x02, 0})};
  EXPECT_FALSE(DecodePublish(raw, MqttVersion::k5).ok());
}

TEST(MqttCodecTest, RejectsQos1PublishWithPacketIdZero) {
  RawPacket raw{0x32, Bytes({0, 1, 't', 0, 0, 'p'})};
  EXPECT_FALSE(DecodePublish(raw, MqttVersion::k311).ok());
}

TEST(MqttCodecTest, PubackIsFourBytesAndDecodesTheShort5Form) {
  EXPECT_EQ(EncodePuback({513, 0}, MqttVersion::k311), Bytes({0x40, 2, 2, 1}));
  EXPECT_EQ(EncodePuback({513, 0}, MqttVersion::k5), Bytes({0x40, 2, 2, 1}));
  auto short_form = DecodePuback(RawPacket{0x40, Bytes({0, 9})}, MqttVersion::k5);
  ASSERT_TRUE(short_form.ok());
  EXPECT_EQ(short_form->packet_id, 9);
  EXPECT_EQ(short_form->reason_code, 0);
  auto refused = DecodePuback(RawPacket{0x40, Bytes({0, 9, 0x87, 0})}, MqttVersion::k5);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->reason_code, 0x87);
}

TEST(MqttCodecTest, ConnackCarriesSessionPresentAndTheBrokersReceiveMaximum) {
  auto v3 = DecodeConnack(RawPacket{0x20, Bytes({1, 0})}, MqttVersion::k311);
  ASSERT_TRUE(v3.ok());
  EXPECT_TRUE(v3->session_present);
  auto v5 = DecodeConnack(RawPacket{0x20, Bytes({0, 0, 3, 0x21, 0, 20})}, MqttVersion::k5);
  ASSERT_TRUE(v5.ok()) << v5.status().ToString();
  EXPECT_FALSE(v5->session_present);
  EXPECT_EQ(v5->properties.receive_maximum, 20);
}

TEST(MqttCodecTest, SubscribeAndSuback) {
  SubscribePacket subscribe;
  subscribe.packet_id = 1;
  subscribe.filters = {{"a/#", 1}};
  EXPECT_EQ(EncodeSubscribe(subscribe, MqttVersion::k311),
            Bytes({0x82, 8, 0, 1, 0, 3, 'a', '/', '#', 1}));
  auto suback = DecodeSuback(RawPacket{0x90, Bytes({0, 1, 0, 1, 0x80})}, MqttVersion::k311);
  ASSERT_TRUE(suback.ok());
  EXPECT_EQ(suback->reason_codes, (std::vector<uint8_t>{0, 1, 0x80}));
}

TEST(MqttCodecTest, TakePacketWaitsForTheWholePacketAcrossReads) {
  PublishPacket publish;
  publish.topic = "t";
  publish.payload = std::string(300, 'x');  // a two-byte remaining length
  const std::string encoded = EncodePublish(publish, MqttVersion::k311);
  std::string buffer;
  size_t offset = 0;
  for (size_t i = 0; i + 1 < encoded.size(); ++i) {
    buffer.push_back(encoded[i]);
    auto taken = TakePacket(buffer, offset, 1 << 20);
    ASSERT_TRUE(taken.ok());
    ASSERT_FALSE(taken->has_value()) << "complete after " << i + 1 << " bytes";
  }
  buffer.push_back(encoded.back());
  buffer += EncodePingreq();
  auto first = TakePacket(buffer, offset, 1 << 20);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->type(), PacketType::kPublish);
  auto second = TakePacket(buffer, offset, 1 << 20);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->type(), PacketType::kPingreq);
  EXPECT_EQ(offset, buffer.size());
}

TEST(MqttCodecTest, TakePacketRefusesMalformedAndOversizedLengths) {
  size_t offset = 0;
  EXPECT_FALSE(TakePacket(Bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), offset, 1 << 20).ok());
  offset = 0;
  auto big = TakePacket(Bytes({0x30, 0x80, 0x80, 0x01}), offset, 1000);  // 16384 bytes
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
}

TEST(MqttTopicTest, MatchesWildcardsLikeTheSpecification) {
  EXPECT_TRUE(TopicMatches("a/b", "a/b"));
  EXPECT_FALSE(TopicMatches("a/b", "a/b/c"));
  EXPECT_TRUE(TopicMatches("a/+/c", "a/b/c"));
  EXPECT_FALSE(TopicMatches("a/+", "a/b/c"));
  EXPECT_TRUE(TopicMatches("a/#", "a"));
  EXPECT_TRUE(TopicMatches("a/#", "a/b/c"));
  EXPECT_TRUE(TopicMatches("#", "a/b"));
  EXPECT_TRUE(TopicMatches("a/+", "a/"));
  EXPECT_FALSE(TopicMatches("a/+", "a"));
  EXPECT_FALSE(TopicMatches("#", "$SYS/uptime"));
  EXPECT_FALSE(TopicMatches("+/uptime", "$SYS/uptime"));
  EXPECT_TRUE(TopicMatches("$SYS/#", "$SYS/uptime"));
}

TEST(MqttTopicTest, ValidatesNamesAndFilters) {
  EXPECT_TRUE(ValidTopicName("wojak/decisions/ACC1"));
  EXPECT_FALSE(ValidTopicName("a/+"));
  EXPECT_FALSE(ValidTopicName(""));
  EXPECT_TRUE(ValidTopicFilter("a/+/#"));
  EXPECT_FALSE(ValidTopicFilter("a/#/b"));
  EXPECT_FALSE(ValidTopicFilter("a/b#"));
  EXPECT_FALSE(ValidTopicFilter("a+/b"));
}

}  // namespace
}  // namespace wojak::sidecar::mqtt
