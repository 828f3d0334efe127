// Kafka client settings: config keys and their mapping onto librdkafka properties.
#include "sidecar/sources/kafka/kafka_config.h"

#include <algorithm>
#include <cctype>

#include "common/log.h"

namespace wojak::sidecar::kafka {

KafkaClientOptions ReadKafkaClientOptions(ConfigSection& section) {
  KafkaClientOptions defaults;
  KafkaClientOptions options;
  options.brokers =
      section.String("brokers", defaults.brokers, "bootstrap brokers, HOST:PORT[,HOST:PORT...]");
  if (options.brokers.empty()) section.Error("brokers", "must not be empty");
  options.client_id =
      section.String("client_id", defaults.client_id, "client.id shown in broker logs and quotas");
  options.security_protocol =
      section.Enum("security_protocol", defaults.security_protocol,
                   {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"},
                   "transport security (TLS with ssl/sasl_ssl, SASL credentials with sasl_*)");

  ConfigSection tls = section.Section("tls", "TLS to the brokers (security_protocol ssl/sasl_ssl)");
  options.tls_ca_file =
      tls.String("ca_file", "", "PEM CA bundle the brokers' certificates chain to (empty: system)");
  options.tls_cert_file = tls.String("cert_file", "", "PEM client certificate (mutual TLS)");
  options.tls_key_file = tls.String("key_file", "", "PEM client private key (mutual TLS)");
  options.tls_key_password = tls.Secret("key_password", "password of key_file, if encrypted");
  options.tls_verify_hostname = tls.Bool("verify_hostname", defaults.tls_verify_hostname,
                                         "check that the broker certificate names the broker host");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    tls.Error("key_file", "cert_file and key_file go together");
  }

  ConfigSection sasl = section.Section("sasl", "SASL authentication (security_protocol sasl_*)");
  options.sasl_mechanism = sasl.Enum("mechanism", defaults.sasl_mechanism,
                                     {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, "SASL mechanism");
  options.sasl_username = sasl.String("username", "", "SASL user name");
  options.sasl_password = sasl.Secret("password", "SASL password");
  const bool uses_sasl = options.security_protocol.rfind("sasl_", 0) == 0;
  if (uses_sasl && (options.sasl_username.empty() || !options.sasl_password)) {
    sasl.Error("username", "security_protocol " + options.security_protocol +
                               " needs sasl.username and sasl.password");
  }
  for (const auto& secret : {options.tls_key_password, options.sasl_password}) {
    if (secret) RegisterSecret(*secret);
  }
  options.properties = ReadKafkaProperties(
      section, "properties",
      "extra librdkafka properties for every client (name: value), applied last");
  return options;
}

std::map<std::string, std::string> ReadKafkaProperties(ConfigSection& section, std::string_view key,
                                                       std::string_view doc) {
  std::map<std::string, std::string> properties;
  ConfigSection mapping = section.Section(key, doc);
  for (const std::string& name : mapping.MapKeys()) {
    properties[name] = mapping.String(name, "", "a librdkafka property");
  }
  return properties;
}

Status SetKafkaProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
      RD_KAFKA_CONF_OK) {
    return InvalidArgument("librdkafka property " + name + ": " + error);
  }
  return OkStatus();
}

std::string GetKafkaProperty(const rd_kafka_conf_t* conf, const std::string& name) {
  char value[512];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(conf, name.c_str(), value, &size) != RD_KAFKA_CONF_OK) return "";
  return value;
}

bool KafkaPropertyIsTrue(std::string_view value) {
  std::string lower(value);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "true" || lower == "1" || lower == "yes" || lower == "on";
}

StatusOr<KafkaConf> MakeKafkaConf(const KafkaClientOptions& options,
                                  const std::map<std::string, std::string>& role_properties) {
  KafkaConf conf(rd_kafka_conf_new());
  auto set = [&](const std::string& name, const std::string& value) {
    return SetKafkaProperty(conf.get(), name, value);
  };
  WOJAK_RETURN_IF_ERROR(set("bootstrap.servers", options.brokers));
  WOJAK_RETURN_IF_ERROR(set("client.id", options.client_id));
  WOJAK_RETURN_IF_ERROR(set("security.protocol", options.security_protocol));
  const bool uses_tls =
      options.security_protocol == "ssl" || options.security_protocol == "sasl_ssl";
  if (uses_tls) {
    if (!options.tls_ca_file.empty()) {
      WOJAK_RETURN_IF_ERROR(set("ssl.ca.location", options.tls_ca_file));
    }
    if (!options.tls_cert_file.empty()) {
      WOJAK_RETURN_IF_ERROR(set("ssl.certificate.location", options.tls_cert_file));
      WOJAK_RETURN_IF_ERROR(set("ssl.key.location", options.tls_key_file));
    }
    if (options.tls_key_password) {
      WOJAK_RETURN_IF_ERROR(set("ssl.key.password", *options.tls_key_password));
    }
    WOJAK_RETURN_IF_ERROR(set("ssl.endpoint.identification.algorithm",
                              options.tls_verify_hostname ? "https" : "none"));
  }
  if (options.security_protocol.rfind("sasl_", 0) == 0) {
    WOJAK_RETURN_IF_ERROR(set("sasl.mechanisms", options.sasl_mechanism));
    WOJAK_RETURN_IF_ERROR(set("sasl.username", options.sasl_username));
    WOJAK_RETURN_IF_ERROR(set("sasl.password", options.sasl_password.value_or("")));
  }
  for (const auto& [name, value] : options.properties) WOJAK_RETURN_IF_ERROR(set(name, value));
  for (const auto& [name, value] : role_properties) WOJAK_RETURN_IF_ERROR(set(name, value));
  return conf;
}

}  // namespace wojak::sidecar::kafka
