// Kafka client settings: TLS and SASL keys reach librdkafka, secrets come from the environment,
// and the producer guarantees (idempotence, acks=all) cannot be configured away.
#include "sidecar/sources/kafka/kafka_config.h"

#include <gtest/gtest.h>

#include "sidecar/sources/kafka/kafka_publisher.h"

namespace wojak::sidecar::kafka {
namespace {

struct Parsed {
  std::unique_ptr<ConfigDocument> document;
  KafkaClientOptions options;
};

Parsed Read(const std::string& yaml, const std::map<std::string, std::string>& environment = {}) {
  auto document = ConfigDocument::Parse(yaml, &environment);
  EXPECT_TRUE(document.ok()) << document.status().ToString();
  Parsed parsed{std::move(document).value(), {}};
  ConfigSection section = parsed.document->Root().Section("sources", "").Section("kafka", "");
  parsed.options = ReadKafkaClientOptions(section);
  return parsed;
}

TEST(KafkaConfigTest, TlsAndSaslKeysBecomeLibrdkafkaProperties) {
  Parsed parsed = Read(R"(
sources:
  kafka:
    brokers: "b1:9093,b2:9093"
    security_protocol: sasl_ssl
    tls:
      ca_file: /etc/wojak/ca.pem
      cert_file: /etc/wojak/client.pem
      key_file: /etc/wojak/client.key
      verify_hostname: false
    sasl:
      mechanism: SCRAM-SHA-512
      username: wojak
)",
                       {{"WOJAK_SOURCES_KAFKA_SASL_PASSWORD", "s3cret-from-env"}});
  ASSERT_TRUE(parsed.document->errors().empty()) << parsed.document->errors().ToStatus().ToString();
  auto conf = MakeKafkaConf(parsed.options, {});
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  EXPECT_EQ(GetKafkaProperty(conf->get(), "bootstrap.servers"), "b1:9093,b2:9093");
  EXPECT_EQ(GetKafkaProperty(conf->get(), "security.protocol"), "sasl_ssl");
  EXPECT_EQ(GetKafkaProperty(conf->get(), "ssl.ca.location"), "/etc/wojak/ca.pem");
  EXPECT_EQ(GetKafkaProperty(conf->get(), "ssl.certificate.location"), "/etc/wojak/client.pem");
  EXPECT_EQ(GetKafkaProperty(conf->get(), "ssl.key.location"), "/etc/wojak/client.key");
  EXPECT_EQ(GetKafkaProperty(conf->get(), "ssl.endpoint.identification.algorithm"), "none");
  EXPECT_EQ(GetKafkaProperty(conf->get(), "sasl.mechanisms"), "SCRAM-SHA-512");
  EXPECT_EQ(GetKafkaProperty(conf->get(), "sasl.username"), "wojak");
  EXPECT_EQ(GetKafkaProperty(conf->get(), "sasl.password"), "s3cret-from-env");
}

TEST(KafkaConfigTest, SaslWithoutCredentialsIsAViolation) {
  Parsed parsed = Read(R"(
sources:
  kafka:
    security_protocol: sasl_plaintext
)");
  ASSERT_EQ(parsed.document->errors().all().size(), 1u);
  EXPECT_NE(parsed.document->errors().all()[0].find("needs sasl.username and sasl.password"),
            std::string::npos);
}

TEST(KafkaConfigTest, AnUnknownLibrdkafkaPropertyIsRefusedWithItsName) {
  KafkaClientOptions options;
  options.properties["no.such.property"] = "1";
  auto conf = MakeKafkaConf(options, {});
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(conf.status().message().find("no.such.property"), std::string::npos);
}

TEST(KafkaConfigTest, ThePublisherRefusesToTurnIdempotenceOffOrWeakenAcks) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"enable.idempotence", "false"}, {"acks", "1"}, {"request.required.acks", "0"}}) {
    KafkaPublisherOptions options;
    options.properties[name] = value;
    auto publisher = KafkaPublisher::Create(options);
    EXPECT_EQ(publisher.status().code(), StatusCode::kInvalidArgument) << name;
  }
}

}  // namespace
}  // namespace wojak::sidecar::kafka
