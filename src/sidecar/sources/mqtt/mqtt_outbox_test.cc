// MQTT outbox sink without a broker: its keys, defaults, topic naming and registration.
// Publishing is tested against mosquitto in tests/sources/mqtt.
#include "sidecar/sources/mqtt/mqtt_outbox.h"

#include <gtest/gtest.h>

#include <map>

namespace wojak::sidecar::mqtt {
namespace {

struct Parsed {
  std::unique_ptr<ConfigDocument> document;
  MqttOutboxOptions options;
  std::string errors;
};

Parsed Read(const std::string& yaml) {
  Parsed parsed;
  const std::map<std::string, std::string> environment = {
      {"WOJAK_SOURCES_MQTT_OUTBOX_PASSWORD", "sink-pass"}};
  auto document = ConfigDocument::Parse(yaml, &environment);
  EXPECT_TRUE(document.ok()) << document.status().ToString();
  parsed.document = std::move(document).value();
  ConfigSection outbox =
      parsed.document->Root().Section("sources", "").Section("mqtt", "").Section("outbox", "");
  parsed.options = ReadMqttOutboxOptions(outbox);
  for (const std::string& error : parsed.document->errors().all()) parsed.errors += error + "\n";
  return parsed;
}

TEST(MqttOutboxOptionsTest, DefaultsUseTheirOwnClientIdAndPrefix) {
  Parsed parsed = Read("sources: {mqtt: {outbox: {}}}");
  EXPECT_EQ(parsed.errors, "");
  EXPECT_EQ(parsed.options.topic_prefix, "wojak/outbox");
  EXPECT_EQ(parsed.options.client.client_id, "wojak-outbox");
  EXPECT_EQ(parsed.options.client.port, 1883);
}

TEST(MqttOutboxOptionsTest, ConnectionKeysAndPasswordAreTheOutboxSectionsOwn) {
  Parsed parsed = Read(
      "sources: {mqtt: {outbox: {host: localhost, port: 1884, protocol: '5', username: relay, "
      "client_id: outbox-1, topic_prefix: desk/reports}}}");
  EXPECT_EQ(parsed.errors, "");
  EXPECT_EQ(parsed.options.client.host, "localhost");
  EXPECT_EQ(parsed.options.client.port, 1884);
  EXPECT_EQ(parsed.options.client.version, MqttVersion::k5);
  EXPECT_EQ(parsed.options.client.username, "relay");
  EXPECT_EQ(parsed.options.client.password, "sink-pass");
  EXPECT_EQ(parsed.options.client.client_id, "outbox-1");
  EXPECT_EQ(parsed.options.topic_prefix, "desk/reports");
}

TEST(MqttOutboxOptionsTest, WildcardPrefixIsRefused) {
  Parsed parsed = Read("sources: {mqtt: {outbox: {topic_prefix: 'wojak/#'}}}");
  EXPECT_NE(parsed.errors.find("sources.mqtt.outbox.topic_prefix"), std::string::npos)
      << parsed.errors;
}

TEST(MqttOutboxTest, TopicIsPrefixTopicAccountWithReservedCharactersReplaced) {
  OutboxMessage message;
  message.topic = "execution";
  message.account = "ACC1";
  EXPECT_EQ(OutboxTopic("wojak/outbox", message), "wojak/outbox/execution/ACC1");
  message.account = "a/b+#";
  EXPECT_EQ(OutboxTopic("wojak/outbox", message), "wojak/outbox/execution/a_b__");
  message.account = "";
  EXPECT_EQ(OutboxTopic("p", message), "p/execution/_unknown");
}

TEST(MqttOutboxTest, RegisteredFactoryBuildsWithoutConnecting) {
  const OutboxPublisherFactory* factory = OutboxPublisherRegistry::Find("mqtt");
  ASSERT_NE(factory, nullptr);
  const std::map<std::string, std::string> environment;
  auto document = ConfigDocument::Parse("sources: {mqtt: {outbox: {port: 1}}}", &environment);
  ASSERT_TRUE(document.ok());
  ConfigSection outbox =
      (*document)->Root().Section("sources", "").Section("mqtt", "").Section("outbox", "");
  auto publisher = (*factory)(outbox);
  ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
  EXPECT_NE(*publisher, nullptr);
  EXPECT_TRUE((*document)->errors().empty());
}

}  // namespace
}  // namespace wojak::sidecar::mqtt
