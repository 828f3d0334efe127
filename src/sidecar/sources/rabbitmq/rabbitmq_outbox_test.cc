// RabbitMQ outbox sink without a broker: its keys, defaults, routing key and registration.
// Publishing is tested against rabbitmq-server in tests/sources/rabbitmq.
#include "sidecar/sources/rabbitmq/rabbitmq_outbox.h"

#include <gtest/gtest.h>

#include <map>

namespace wojak::sidecar::rabbitmq {
namespace {

struct Parsed {
  std::unique_ptr<ConfigDocument> document;
  RabbitOutboxOptions options;
  std::string errors;
};

Parsed Read(const std::string& yaml) {
  const std::map<std::string, std::string> environment = {
      {"WOJAK_SOURCES_RABBITMQ_OUTBOX_PASSWORD", "sink-pass"}};
  Parsed parsed;
  auto document = ConfigDocument::Parse(yaml, &environment);
  EXPECT_TRUE(document.ok()) << document.status().ToString();
  parsed.document = std::move(document).value();
  ConfigSection outbox =
      parsed.document->Root().Section("sources", "").Section("rabbitmq", "").Section("outbox", "");
  parsed.options = ReadRabbitOutboxOptions(outbox);
  for (const std::string& error : parsed.document->errors().all()) parsed.errors += error + "\n";
  return parsed;
}

TEST(RabbitOutboxOptionsTest, DefaultsDeclareTheWojakOutboxExchange) {
  Parsed parsed = Read("sources: {rabbitmq: {outbox: {}}}");
  EXPECT_EQ(parsed.errors, "");
  EXPECT_EQ(parsed.options.exchange, "wojak.outbox");
  EXPECT_TRUE(parsed.options.declare);
  EXPECT_EQ(parsed.options.connection.host, "127.0.0.1");
  EXPECT_EQ(parsed.options.connection.port, 5672);
}

TEST(RabbitOutboxOptionsTest, ConnectionKeysAndPasswordAreTheOutboxSectionsOwn) {
  Parsed parsed = Read(
      "sources: {rabbitmq: {outbox: {host: localhost, port: 5673, vhost: sink, username: relay, "
      "exchange: trades, declare: false}}}");
  EXPECT_EQ(parsed.errors, "");
  EXPECT_EQ(parsed.options.connection.host, "localhost");
  EXPECT_EQ(parsed.options.connection.port, 5673);
  EXPECT_EQ(parsed.options.connection.vhost, "sink");
  EXPECT_EQ(parsed.options.connection.username, "relay");
  EXPECT_EQ(parsed.options.connection.password, "sink-pass");
  EXPECT_EQ(parsed.options.exchange, "trades");
  EXPECT_FALSE(parsed.options.declare);
}

TEST(RabbitOutboxOptionsTest, EmptyExchangeIsRefused) {
  Parsed parsed = Read("sources: {rabbitmq: {outbox: {exchange: ''}}}");
  EXPECT_NE(parsed.errors.find("sources.rabbitmq.outbox.exchange"), std::string::npos)
      << parsed.errors;
}

TEST(RabbitOutboxOptionsTest, DeclaringAReservedExchangeIsRefused) {
  Parsed parsed = Read("sources: {rabbitmq: {outbox: {exchange: amq.topic}}}");
  EXPECT_NE(parsed.errors.find("reserved"), std::string::npos) << parsed.errors;
  EXPECT_EQ(Read("sources: {rabbitmq: {outbox: {exchange: amq.topic, declare: false}}}").errors,
            "");
}

TEST(RabbitOutboxTest, RoutingKeyIsTopicDotAccount) {
  OutboxMessage message;
  message.topic = "execution";
  message.account = "ACC1";
  EXPECT_EQ(OutboxRoutingKey(message), "execution.ACC1");
}

TEST(RabbitOutboxTest, RegisteredFactoryBuildsWithoutConnecting) {
  const OutboxPublisherFactory* factory = OutboxPublisherRegistry::Find("rabbitmq");
  ASSERT_NE(factory, nullptr);
  const std::map<std::string, std::string> environment = {
      {"WOJAK_SOURCES_RABBITMQ_OUTBOX_PASSWORD", "p"}};
  auto document = ConfigDocument::Parse("sources: {rabbitmq: {outbox: {port: 1}}}", &environment);
  ASSERT_TRUE(document.ok());
  ConfigSection outbox =
      (*document)->Root().Section("sources", "").Section("rabbitmq", "").Section("outbox", "");
  auto publisher = (*factory)(outbox);
  ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
  EXPECT_NE(*publisher, nullptr);
  EXPECT_TRUE((*document)->errors().empty());
}

}  // namespace
}  // namespace wojak::sidecar::rabbitmq
