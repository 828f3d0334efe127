// RabbitMQ source without a broker: configuration, identity and delay-queue tiers. Broker
// behaviour is tested against rabbitmq-server in tests/sources/rabbitmq.
#include "sidecar/sources/rabbitmq/rabbitmq_source.h"

#include <gtest/gtest.h>

#include <map>

namespace wojak::sidecar::rabbitmq {
namespace {

using std::chrono::milliseconds;

struct Parsed {
  std::unique_ptr<ConfigDocument> document;
  RabbitSourceOptions options;
  std::string errors;
};

Parsed Read(const std::string& yaml, std::map<std::string, std::string> environment = {
                                         {"WOJAK_SOURCES_RABBITMQ_PASSWORD", "s3cret-pass"}}) {
  Parsed parsed;
  auto document = ConfigDocument::Parse(yaml, &environment);
  EXPECT_TRUE(document.ok()) << document.status().ToString();
  parsed.document = std::move(document).value();
  ConfigSection section = parsed.document->Root().Section("sources", "").Section("rabbitmq", "");
  parsed.options = ReadRabbitSourceOptions(section);
  for (const std::string& error : parsed.document->errors().all()) parsed.errors += error + "\n";
  return parsed;
}

TEST(RabbitSourceOptionsTest, DefaultsAreSafe) {
  Parsed parsed = Read("sources: {rabbitmq: {}}");
  EXPECT_EQ(parsed.errors, "");
  EXPECT_EQ(parsed.options.queue, "wojak.orders");
  EXPECT_TRUE(parsed.options.declare);
  EXPECT_EQ(parsed.options.queue_type, "quorum");
  EXPECT_EQ(parsed.options.prefetch, 1024);
  EXPECT_EQ(parsed.options.retry_mode, RetryMode::kDelayQueue);
  EXPECT_EQ(parsed.options.connection.password, "s3cret-pass");
}

TEST(RabbitSourceOptionsTest, RefusesAutoAck) {
  Parsed parsed = Read("sources: {rabbitmq: {auto_ack: true}}");
  EXPECT_NE(parsed.errors.find("sources.rabbitmq.auto_ack"), std::string::npos) << parsed.errors;
}

TEST(RabbitSourceOptionsTest, RequiresAPasswordFromTheEnvironmentOrAFile) {
  Parsed parsed = Read("sources: {rabbitmq: {}}", {});
  EXPECT_NE(parsed.errors.find("sources.rabbitmq.password"), std::string::npos) << parsed.errors;
}

TEST(RabbitSourceOptionsTest, ExternalAuthNeedsNoPasswordButAClientCertificate) {
  Parsed parsed = Read(
      "sources: {rabbitmq: {sasl_mechanism: external, tls: {enabled: true, ca_file: ca.pem, "
      "cert_file: c.pem, key_file: k.pem}}}",
      {});
  EXPECT_EQ(parsed.errors, "");
  EXPECT_TRUE(parsed.options.connection.external_auth);
  Parsed without_certificate = Read("sources: {rabbitmq: {sasl_mechanism: external}}", {});
  EXPECT_NE(without_certificate.errors.find("sources.rabbitmq.sasl_mechanism"), std::string::npos)
      << without_certificate.errors;
}

TEST(RabbitSourceOptionsTest, RefusesAPasswordWrittenInTheFile) {
  Parsed parsed = Read("sources: {rabbitmq: {password: guest}}", {});
  EXPECT_NE(parsed.errors.find("sources.rabbitmq.password"), std::string::npos) << parsed.errors;
}

TEST(RabbitSourceOptionsTest, ReportsEveryViolationAtOnce) {
  Parsed parsed = Read(
      "sources: {rabbitmq: {queue: amq.orders, queue_type: lazy, retry_min_delay: 5s, "
      "retry_max_delay: 1s, tls: {enabled: true, cert_file: c.pem}}}");
  for (const char* key :
       {"queue", "queue_type", "retry_max_delay", "tls.key_file", "tls.ca_file"}) {
    EXPECT_NE(parsed.errors.find(std::string("sources.rabbitmq.") + key), std::string::npos)
        << key << "\n"
        << parsed.errors;
  }
}

TEST(RabbitIdentityTest, UsesTheMessageIdWhenPresent) {
  EXPECT_EQ(RabbitIdentity("q", "m-1", "ex", "rk", "{}"), "amqp:q:id:m-1");
  EXPECT_EQ(RabbitIdentity("q", "m-1", "other", "other", "[]"), "amqp:q:id:m-1");
}

TEST(RabbitIdentityTest, HashesBodyAndRoutingWithoutAMessageId) {
  const std::string identity = RabbitIdentity("q", "", "ex", "rk", "{\"a\":1}");
  EXPECT_EQ(identity.rfind("amqp:q:sha256:", 0), 0u) << identity;
  EXPECT_EQ(identity, RabbitIdentity("q", "", "ex", "rk", "{\"a\":1}"));
  EXPECT_NE(identity, RabbitIdentity("q", "", "ex", "rk", "{\"a\":2}"));
  EXPECT_NE(identity, RabbitIdentity("q", "", "ex", "rk2", "{\"a\":1}"));
  EXPECT_NE(identity, RabbitIdentity("q2", "", "ex", "rk", "{\"a\":1}"));
}

TEST(RetryQueuesTest, DoublesFromTheMinimumAndEndsAtTheMaximum) {
  RabbitSourceOptions options;
  options.queue = "orders";
  options.retry_min_delay = milliseconds(100);
  options.retry_max_delay = milliseconds(1000);
  auto queues = RetryQueues(options);
  ASSERT_EQ(queues.size(), 5u);
  EXPECT_EQ(queues[0].first, "orders.retry.100ms");
  EXPECT_EQ(queues[3].second, milliseconds(800));
  EXPECT_EQ(queues[4].first, "orders.retry.1000ms");
  EXPECT_EQ(queues[4].second, milliseconds(1000));
}

}  // namespace
}  // namespace wojak::sidecar::rabbitmq
