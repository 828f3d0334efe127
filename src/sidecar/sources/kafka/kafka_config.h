// Kafka client settings shared by the consumer and the producer (brokers, TLS, SASL, extra
// librdkafka properties), read from `sources.kafka:` and turned into an rd_kafka_conf_t.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wojak::sidecar::kafka {

struct KafkaClientOptions {
  std::string brokers = "127.0.0.1:9092";  // bootstrap.servers
  std::string client_id = "wojak-sidecar";
  // plaintext, ssl, sasl_plaintext, sasl_ssl (librdkafka's security.protocol).
  std::string security_protocol = "plaintext";
  std::string tls_ca_file;    // PEM CA bundle; empty = the system's
  std::string tls_cert_file;  // PEM client certificate (mutual TLS)
  std::string tls_key_file;   // PEM client private key
  std::optional<std::string> tls_key_password;
  bool tls_verify_hostname = true;
  std::string sasl_mechanism = "PLAIN";  // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  std::string sasl_username;
  std::optional<std::string> sasl_password;
  // Extra librdkafka properties for every client, applied after the ones above.
  std::map<std::string, std::string> properties;
};

// Reads the connection keys of `section` (brokers, client_id, security_protocol, tls.*, sasl.*,
// properties); violations are reported through the section. Secrets are registered for redaction.
KafkaClientOptions ReadKafkaClientOptions(ConfigSection& section);

// Reads a mapping of librdkafka property -> value (e.g. `consumer_properties`).
std::map<std::string, std::string> ReadKafkaProperties(ConfigSection& section, std::string_view key,
                                                       std::string_view doc);

struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

struct KafkaPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using KafkaPartitionList =
    std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaPartitionListDeleter>;

// A conf holding the client options, then `role_properties` (consumer or producer specific, set
// last so they win). INVALID_ARGUMENT naming the property librdkafka refused.
StatusOr<KafkaConf> MakeKafkaConf(const KafkaClientOptions& options,
                                  const std::map<std::string, std::string>& role_properties);

// Sets one property; INVALID_ARGUMENT with librdkafka's message when refused.
Status SetKafkaProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);

// The value of `name` in `conf` ("" when unset or unknown).
std::string GetKafkaProperty(const rd_kafka_conf_t* conf, const std::string& name);

// "true"/"1"/"yes" (librdkafka's boolean spellings, case-insensitive).
bool KafkaPropertyIsTrue(std::string_view value);

}  // namespace wojak::sidecar::kafka
