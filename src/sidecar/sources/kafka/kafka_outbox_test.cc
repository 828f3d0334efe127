// Kafka outbox sink without a cluster: its keys, defaults, the record a row becomes and its
// registration. Publishing is tested against the mock cluster in kafka_outbox_cluster_test.cc.
#include "sidecar/sources/kafka/kafka_outbox.h"

#include <gtest/gtest.h>

#include <map>

namespace wojak::sidecar::kafka {
namespace {

struct Parsed {
  std::unique_ptr<ConfigDocument> document;
  KafkaOutboxOptions options;
  std::string errors;
};

Parsed Read(const std::string& yaml) {
  Parsed parsed;
  const std::map<std::string, std::string> environment;
  auto document = ConfigDocument::Parse(yaml, &environment);
  EXPECT_TRUE(document.ok()) << document.status().ToString();
  parsed.document = std::move(document).value();
  ConfigSection outbox =
      parsed.document->Root().Section("sources", "").Section("kafka", "").Section("outbox", "");
  parsed.options = ReadKafkaOutboxOptions(outbox);
  for (const std::string& error : parsed.document->errors().all()) parsed.errors += error + "\n";
  return parsed;
}

TEST(KafkaOutboxOptionsTest, DefaultsPublishToWojakOutbox) {
  Parsed parsed = Read("sources: {kafka: {outbox: {}}}");
  EXPECT_EQ(parsed.errors, "");
  EXPECT_EQ(parsed.options.topic, "wojak.outbox");
  EXPECT_EQ(parsed.options.producer.client.brokers, "127.0.0.1:9092");
  EXPECT_EQ(parsed.options.producer.delivery_timeout, std::chrono::seconds(30));
}

TEST(KafkaOutboxOptionsTest, ConnectionKeysAreTheOutboxSectionsOwn) {
  Parsed parsed = Read(
      "sources: {kafka: {outbox: {brokers: '127.0.0.1:19092', topic: trades, "
      "delivery_timeout: 5s, producer_properties: {linger.ms: '0'}}}}");
  EXPECT_EQ(parsed.errors, "");
  EXPECT_EQ(parsed.options.producer.client.brokers, "127.0.0.1:19092");
  EXPECT_EQ(parsed.options.topic, "trades");
  EXPECT_EQ(parsed.options.producer.delivery_timeout, std::chrono::seconds(5));
  EXPECT_EQ(parsed.options.producer.properties.at("linger.ms"), "0");
}

TEST(KafkaOutboxOptionsTest, WeakerAcknowledgementsAreRefused) {
  Parsed parsed = Read("sources: {kafka: {outbox: {producer_properties: {acks: '1'}}}}");
  EXPECT_NE(parsed.errors.find("acks must stay 'all'"), std::string::npos) << parsed.errors;
  parsed = Read("sources: {kafka: {outbox: {producer_properties: {enable.idempotence: 'false'}}}}");
  EXPECT_NE(parsed.errors.find("enable.idempotence must stay true"), std::string::npos)
      << parsed.errors;
}

TEST(KafkaOutboxOptionsTest, EmptyTopicIsRefused) {
  Parsed parsed = Read("sources: {kafka: {outbox: {topic: ''}}}");
  EXPECT_NE(parsed.errors.find("sources.kafka.outbox.topic"), std::string::npos) << parsed.errors;
}

TEST(KafkaOutboxTest, RowBecomesARecordKeyedByAccountWithSequenceHeaders) {
  OutboxMessage message;
  message.outbox_seq = 12;
  message.entry_seq = 340;
  message.topic = "escalation";
  message.account = "ACC9";
  message.body = R"({"outbox_seq":12})";
  const KafkaRecord record = OutboxRecord("wojak.outbox", message);
  EXPECT_EQ(record.topic, "wojak.outbox");
  EXPECT_EQ(record.key, "ACC9");
  EXPECT_EQ(record.value, message.body);
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"outbox_seq", "12"}, {"entry_seq", "340"}, {"topic", "escalation"}};
  EXPECT_EQ(record.headers, headers);
}

TEST(KafkaOutboxTest, RegisteredFactoryBuildsWithoutConnecting) {
  const OutboxPublisherFactory* factory = OutboxPublisherRegistry::Find("kafka");
  ASSERT_NE(factory, nullptr);
  const std::map<std::string, std::string> environment;
  auto document =
      ConfigDocument::Parse("sources: {kafka: {outbox: {brokers: '127.0.0.1:1'}}}", &environment);
  ASSERT_TRUE(document.ok());
  ConfigSection outbox =
      (*document)->Root().Section("sources", "").Section("kafka", "").Section("outbox", "");
  auto publisher = (*factory)(outbox);
  ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
  EXPECT_NE(*publisher, nullptr);
  EXPECT_TRUE((*document)->errors().empty());
}

}  // namespace
}  // namespace wojak::sidecar::kafka
