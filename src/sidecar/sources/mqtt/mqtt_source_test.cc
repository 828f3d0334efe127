// MQTT source without a broker: configuration, identity and decision topics. Broker behaviour
// is tested against mosquitto in tests/sources/mqtt.
#include "sidecar/sources/mqtt/mqtt_source.h"

#include <gtest/gtest.h>

#include <map>

namespace wojak::sidecar::mqtt {
namespace {

struct Parsed {
  std::unique_ptr<ConfigDocument> document;
  MqttSourceOptions options;
  std::string errors;
};

Parsed Read(const std::string& yaml, std::map<std::string, std::string> environment = {}) {
  Parsed parsed;
  auto document = ConfigDocument::Parse(yaml, &environment);
  EXPECT_TRUE(document.ok()) << document.status().ToString();
  parsed.document = std::move(document).value();
  ConfigSection section = parsed.document->Root().Section("sources", "").Section("mqtt", "");
  parsed.options = ReadMqttSourceOptions(section);
  for (const std::string& error : parsed.document->errors().all()) parsed.errors += error + "\n";
  return parsed;
}

TEST(MqttSourceOptionsTest, DefaultsKeepAPersistentSession) {
  Parsed parsed = Read("sources: {mqtt: {}}");
  EXPECT_EQ(parsed.errors, "");
  EXPECT_FALSE(parsed.options.client.clean_start);
  EXPECT_EQ(parsed.options.client.client_id, "wojak-sidecar");
  EXPECT_EQ(parsed.options.client.version, MqttVersion::k311);
  EXPECT_EQ(parsed.options.topics, std::vector<std::string>{"wojak/orders/#"});
  EXPECT_FALSE(parsed.options.client.password.has_value());
}

TEST(MqttSourceOptionsTest, RefusesACleanSession) {
  Parsed parsed = Read("sources: {mqtt: {clean_session: true}}");
  EXPECT_NE(parsed.errors.find("sources.mqtt.clean_session"), std::string::npos) << parsed.errors;
}

TEST(MqttSourceOptionsTest, ReadsThePasswordFromTheEnvironment) {
  Parsed parsed = Read("sources: {mqtt: {username: gw, protocol: '5'}}",
                       {{"WOJAK_SOURCES_MQTT_PASSWORD", "s3cret-pass"}});
  EXPECT_EQ(parsed.errors, "");
  EXPECT_EQ(parsed.options.client.username, "gw");
  EXPECT_EQ(parsed.options.client.password, "s3cret-pass");
  EXPECT_EQ(parsed.options.client.version, MqttVersion::k5);
}

TEST(MqttSourceOptionsTest, ReportsEveryViolationAtOnce) {
  Parsed parsed = Read(
      "sources: {mqtt: {topics: ['a/#/b'], cancel_topics: ['c+'], topic_prefix: 'x/+', "
      "protocol: '4', client_id: '', tls: {cert_file: c.pem}}}");
  for (const char* key :
       {"topics", "cancel_topics", "topic_prefix", "protocol", "client_id", "tls.key_file"}) {
    EXPECT_NE(parsed.errors.find(std::string("sources.mqtt.") + key), std::string::npos)
        << key << "\n"
        << parsed.errors;
  }
}

TEST(MqttIdentityTest, UsesTheMessageIdPropertyElseAPayloadHash) {
  EXPECT_EQ(MqttIdentity("o/s1", "m-1", "{}"), "mqtt:o/s1:id:m-1");
  const std::string hashed = MqttIdentity("o/s1", "", "{}");
  EXPECT_EQ(hashed.rfind("mqtt:o/s1:sha256:", 0), 0u) << hashed;
  EXPECT_EQ(hashed, MqttIdentity("o/s1", "", "{}"));
  EXPECT_NE(hashed, MqttIdentity("o/s1", "", "{ }"));
  EXPECT_NE(hashed, MqttIdentity("o/s2", "", "{}"));
}

TEST(DecisionTopicTest, ReplacesCharactersTopicNamesCannotHold) {
  EXPECT_EQ(DecisionTopic("wojak", "ACC1"), "wojak/decisions/ACC1");
  EXPECT_EQ(DecisionTopic("wojak", "a/b+#"), "wojak/decisions/a_b__");
  EXPECT_EQ(DecisionTopic("wojak", ""), "wojak/decisions/_unknown");
}

}  // namespace
}  // namespace wojak::sidecar::mqtt
