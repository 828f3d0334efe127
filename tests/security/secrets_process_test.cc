// Secrets (API tokens, HMAC keys, CURVE secret keys, broker passwords) come only from the
// environment or files and never show up in what Wojak prints: config dumps, config errors, bad
// value errors, startup and debug logs of the engine and the sidecars, even when a broker is down
// or a client sends wrong credentials. Every test plants known values and fails if one appears.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "http_connection.h"
#include "security_support.h"
#include "sidecar/sources/http/http_signing.h"

namespace wojak::security {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

constexpr const char* kAdminToken = "admin-token-7f3e9a1c5b2d8e4f60";
constexpr const char* kReadToken = "read-token-2c8e4a6f1b3d5e7a90";
constexpr const char* kRmsToken = "rms-token-6b1d3f5a7c9e2b4d81";
constexpr const char* kOutboxSecret = "outbox-secret-9d1f3b5a7c2e4f6081";
constexpr const char* kHttpSecret = "http-hmac-secret-4e6a8c0b2d1f3a5c7e";
constexpr const char* kSaslPassword = "sasl-password-1a3c5e7b9d2f4a6c";
constexpr const char* kRabbitPassword = "rabbit-password-8b6d4f2a0c9e7a5b";
constexpr const char* kNatsToken = "nats-token-3f5b7d9a1c2e4f6a80";
constexpr const char* kNatsPassword = "nats-password-5a7c9e1b3d5f7a9c";
constexpr const char* kMqttPassword = "mqtt-password-0e2c4a6f8b1d3f5a";

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_keys_ = NewCurveKeyPair();
    sidecar_keys_ = NewCurveKeyPair();
    secrets_ = {kAdminToken,
                kReadToken,
                kRmsToken,
                kOutboxSecret,
                kHttpSecret,
                kMqttPassword,
                kSaslPassword,
                kRabbitPassword,
                kNatsToken,
                kNatsPassword,
                engine_keys_.secret_key,
                sidecar_keys_.secret_key};
  }

  // Every secret of the engine and the HTTP sidecar, as environment variables.
  std::vector<std::string> SecretEnvironment() const {
    return {std::string("WOJAK_API_ADMIN_TOKEN=") + kAdminToken,
            std::string("WOJAK_API_READ_TOKEN=") + kReadToken,
            std::string("WOJAK_API_RMS_TOKEN=") + kRmsToken,
            std::string("WOJAK_OUTBOX_SECRET=") + kOutboxSecret,
            std::string("WOJAK_SOURCES_HTTP_AUTH_KEYS_STRATEGIES_SECRET=") + kHttpSecret,
            "WOJAK_ENGINE_CURVE_SECRET_KEY=" + engine_keys_.secret_key,
            "WOJAK_SIDECAR_CURVE_CLIENT_SECRET_KEY=" + sidecar_keys_.secret_key};
  }

  void ExpectNoSecret(const std::string& text, const std::string& where) const {
    for (const std::string& secret : secrets_) {
      EXPECT_EQ(text.find(secret), std::string::npos)
          << where << " shows the secret " << secret << ":\n"
          << text;
    }
  }

  TempDir dir_;
  KeyPair engine_keys_;
  KeyPair sidecar_keys_;
  std::vector<std::string> secrets_;
};

TEST_F(SecretsTest, ConfigCheckRefusesSecretsWrittenInTheFileWithoutQuotingThem) {
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "engine:\n"
                     "  curve_secret_key: \"" +
                         engine_keys_.secret_key +
                         "\"\n"
                         "  curve_allowed_clients: [\"" +
                         sidecar_keys_.public_key +
                         "\"]\n"
                         "api:\n"
                         "  admin_token: " +
                         kAdminToken +
                         "\n"
                         "  read_token: " +
                         kReadToken +
                         "\n"
                         "  rms_token: " +
                         kRmsToken +
                         "\n"
                         "outbox:\n"
                         "  secret: " +
                         kOutboxSecret +
                         "\n"
                         "sidecar:\n"
                         "  curve_client_secret_key: \"" +
                         sidecar_keys_.secret_key +
                         "\"\n"
                         "sources:\n"
                         "  http:\n"
                         "    auth:\n"
                         "      keys:\n"
                         "        strategies:\n"
                         "          accounts: [\"*\"]\n"
                         "          secret: " +
                         kHttpSecret + "\n");
  RunResult check = RunWojak(dir_, {"config", "check", dir_.File("wojak.yaml")});
  EXPECT_EQ(check.exit_code, 1);
  for (const char* key : {"engine.curve_secret_key", "api.admin_token", "api.read_token",
                          "api.rms_token", "outbox.secret", "sidecar.curve_client_secret_key",
                          "sources.http.auth.keys.strategies.secret"}) {
    EXPECT_NE(check.output.find(std::string(key) + ": secrets must come from the environment"),
              std::string::npos)
        << key << " not refused:\n"
        << check.output;
  }
  ExpectNoSecret(check.output, "config check");
}

TEST_F(SecretsTest, ConfigDocsAndConfigErrorsNeverShowSecretsFromTheEnvironment) {
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "engine:\n"
                     "  queue_capacity: 1\n"  // out of range: the check prints errors
                     "  curve_allowed_clients: [\"" +
                         sidecar_keys_.public_key +
                         "\"]\n"
                         "sources:\n"
                         "  http:\n"
                         "    listen: 127.0.0.1:0\n"
                         "    auth:\n"
                         "      mode: hmac\n"
                         "      keys:\n"
                         "        strategies:\n"
                         "          accounts: [\"*\"]\n");
  RunResult check =
      RunWojak(dir_, {"config", "check", dir_.File("wojak.yaml")}, SecretEnvironment());
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("engine.queue_capacity"), std::string::npos) << check.output;
  ExpectNoSecret(check.output, "config check");
  RunResult docs = RunWojak(dir_, {"config", "docs"}, SecretEnvironment());
  EXPECT_EQ(docs.exit_code, 0) << docs.output;
  EXPECT_NE(docs.output.find("WOJAK_API_ADMIN_TOKEN"), std::string::npos);
  ExpectNoSecret(docs.output, "config docs");
}

TEST_F(SecretsTest, BadSecretValuesAreRefusedWithoutQuotingThem) {
  const std::string short_secret = "too-short-hmac";  // 14 characters; 16 needed
  secrets_.push_back(short_secret);
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "sources:\n"
                     "  http:\n"
                     "    auth:\n"
                     "      keys:\n"
                     "        strategies:\n"
                     "          accounts: [\"*\"]\n");
  RunResult check = RunWojak(dir_, {"config", "check", dir_.File("wojak.yaml")},
                             {"WOJAK_SOURCES_HTTP_AUTH_KEYS_STRATEGIES_SECRET=" + short_secret});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("at least 16 characters"), std::string::npos) << check.output;
  ExpectNoSecret(check.output, "config check");
}

TEST_F(SecretsTest, AMalformedCurveKeyStopsTheEngineWithoutQuotingIt) {
  testing::InstrumentFixture fixture = testing::GenerateInstruments(dir_.path());
  // 40 characters, but '~' and ',' are not Z85: only libzmq can tell.
  for (const std::string& bad_key : {std::string("not-a-curve-key-but-still-secret-ab"),
                                     std::string("~~~~~~~~~~,,,,,,,,,,secret-material-xyz0")}) {
    secrets_.push_back(bad_key);
    testing::WriteFile(dir_.File("engine.key"), bad_key + "\n");
    testing::WriteFile(dir_.File("wojak.yaml"),
                       "engine:\n"
                       "  endpoint: tcp://127.0.0.1:" +
                           std::to_string(testing::FreeLoopbackPort()) +
                           "\n"
                           "  curve_secret_key_file: " +
                           dir_.File("engine.key") +
                           "\n"
                           "  curve_allowed_clients: [\"" +
                           sidecar_keys_.public_key +
                           "\"]\n"
                           "api:\n"
                           "  enabled: false\n"
                           "log:\n"
                           "  level: debug\n");
    RunResult engine = RunWojak(
        dir_, {"engine", "--config", dir_.File("wojak.yaml"), "--data", dir_.path(),
               "--instruments", fixture.instruments_path, "--freeze", fixture.freeze_path});
    EXPECT_EQ(engine.exit_code, 1) << engine.output;
    EXPECT_NE(engine.output.find("curve_secret_key"), std::string::npos) << engine.output;
    ExpectNoSecret(engine.output, "engine start");
  }
}

// The engine with the API, the outbox relay (its webhook down) and CURVE; the HTTP sidecar with
// HMAC keys and CURVE; debug logging everywhere; then requests with good and wrong credentials.
TEST_F(SecretsTest, EngineAndSidecarLogNoSecretAtDebugLevelWhateverClientsSend) {
  testing::InstrumentFixture fixture = testing::GenerateInstruments(dir_.path());
  const std::string engine_endpoint =
      "tcp://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  const int api_port = testing::FreeLoopbackPort();
  const int http_port = testing::FreeLoopbackPort();
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "engine:\n"
                     "  endpoint: " +
                         engine_endpoint +
                         "\n"
                         "  curve_allowed_clients: [\"" +
                         sidecar_keys_.public_key +
                         "\"]\n"
                         "api:\n"
                         "  listen: 127.0.0.1:" +
                         std::to_string(api_port) +
                         "\n"
                         "outbox:\n"
                         "  enabled: true\n"
                         "  url: http://127.0.0.1:" +
                         std::to_string(testing::FreeLoopbackPort()) +
                         "/hook\n"
                         "  backoff_initial: 50ms\n"
                         "log:\n"
                         "  level: debug\n" +
                         OpenRiskConfig() +
                         "sidecar:\n"
                         "  endpoint: " +
                         engine_endpoint +
                         "\n"
                         "  curve_server_public_key: \"" +
                         engine_keys_.public_key +
                         "\"\n"
                         "  curve_client_public_key: \"" +
                         sidecar_keys_.public_key +
                         "\"\n"
                         "sources:\n"
                         "  http:\n"
                         "    listen: 127.0.0.1:" +
                         std::to_string(http_port) +
                         "\n"
                         "    auth:\n"
                         "      mode: hmac\n"
                         "      keys:\n"
                         "        strategies:\n"
                         "          accounts: [\"*\"]\n");
  testing::ChildProcess engine =
      StartWojak(dir_,
                 {"engine", "--config", dir_.File("wojak.yaml"), "--data", dir_.path(),
                  "--instruments", fixture.instruments_path, "--freeze", fixture.freeze_path},
                 "engine.log", "engine_ready", SecretEnvironment());
  testing::ChildProcess sidecar =
      StartWojak(dir_, {"sidecar", "--source", "http", "--config", dir_.File("wojak.yaml")},
                 "sidecar.log", "http_source_listening", SecretEnvironment());

  namespace http = wojak::sidecar::http;
  torture::HttpConnection orders("127.0.0.1", static_cast<uint16_t>(http_port), 10s);
  auto signed_post = [&](const std::string& secret, const std::string& body) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    http::SignedHeaders s = http::SignRequest("strategies", secret, "POST", "/v1/orders", body,
                                              now_ms, http::RandomHex128());
    return orders.Exchange("POST", "/v1/orders",
                           {{std::string(http::kKeyHeader), s.key},
                            {std::string(http::kTimestampHeader), s.timestamp},
                            {std::string(http::kNonceHeader), s.nonce},
                            {std::string(http::kSignatureHeader), s.signature}},
                           body);
  };
  bool decided = false;
  for (int attempt = 0; attempt < 100 && !decided; ++attempt) {
    decided = signed_post(kHttpSecret, AcceptableOrder(fixture, "secret-1")).status == 200;
    if (!decided) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(decided) << testing::ReadFile(dir_.File("sidecar.log"));
  EXPECT_EQ(signed_post("wrong-secret-000000000000", AcceptableOrder(fixture, "secret-2")).status,
            401);
  // A bearer header carrying a real secret where a signature is expected.
  EXPECT_EQ(
      orders
          .Exchange("POST", "/v1/orders", {{"Authorization", std::string("Bearer ") + kHttpSecret}},
                    AcceptableOrder(fixture, "secret-3"))
          .status,
      401);

  torture::HttpConnection api("127.0.0.1", static_cast<uint16_t>(api_port), 10s);
  EXPECT_EQ(api.Exchange("GET", "/v1/orders",
                         {{"Authorization", std::string("Bearer ") + kReadToken}}, "")
                .status,
            200);
  EXPECT_EQ(api.Exchange("GET", "/v1/orders", {{"Authorization", "Bearer not-the-read-token"}}, "")
                .status,
            401);
  const int halt_status =
      api.Exchange("POST", "/v1/admin/halt",
                   {{"Authorization", std::string("Bearer ") + kReadToken}}, "{}")
          .status;
  EXPECT_TRUE(halt_status == 401 || halt_status == 403) << halt_status;
  // Let the outbox relay fail against its closed webhook a few times.
  std::this_thread::sleep_for(1s);
  sidecar.Signal(SIGTERM);
  EXPECT_EQ(sidecar.Wait(15s), 0);
  engine.Signal(SIGTERM);
  EXPECT_EQ(engine.Wait(15s), 0);

  const std::string engine_log = testing::ReadFile(dir_.File("engine.log"));
  const std::string sidecar_log = testing::ReadFile(dir_.File("sidecar.log"));
  EXPECT_NE(engine_log.find("engine_ready"), std::string::npos);
  EXPECT_NE(sidecar_log.find("http_source_listening"), std::string::npos);
  ExpectNoSecret(engine_log, "engine log");
  ExpectNoSecret(sidecar_log, "sidecar log");
}

struct BrokerCase {
  std::string source;
  std::string section;  // sources.<source> body, indented by 4
  std::vector<std::string> env;
};

// Each broker source with credentials, pointed at a closed loopback port so it fails to connect
// and reports it, at debug level, for a few seconds.
class BrokerSecretsTest : public SecretsTest, public ::testing::WithParamInterface<BrokerCase> {};

TEST_P(BrokerSecretsTest, SidecarLogsNoCredentialsWhileItsBrokerIsDown) {
  const BrokerCase& broker = GetParam();
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "log:\n  level: debug\nsources:\n  " + broker.source + ":\n" + broker.section);
  RunResult check = RunWojak(dir_, {"config", "check", dir_.File("wojak.yaml")}, broker.env);
  if (check.output.find("unknown key") != std::string::npos &&
      check.output.find("sources." + broker.source) != std::string::npos) {
    GTEST_SKIP() << broker.source << " is not linked into this wojak: " << check.output;
  }
  EXPECT_EQ(check.exit_code, 0) << check.output;
  ExpectNoSecret(check.output, "config check");
  std::vector<std::string> argv = {testing::WojakBinary(), "sidecar",  "--source",
                                   broker.source,          "--config", dir_.File("wojak.yaml")};
  testing::ChildProcess sidecar =
      testing::ChildProcess::Start(argv, dir_.File("sidecar.log"), broker.env);
  std::this_thread::sleep_for(3s);
  sidecar.Signal(SIGTERM);
  if (sidecar.Wait(10s) == -1) sidecar.Kill();
  const std::string log = testing::ReadFile(dir_.File("sidecar.log"));
  EXPECT_FALSE(log.empty());
  ExpectNoSecret(log, broker.source + " sidecar log");
}

std::string ClosedPort() { return std::to_string(testing::FreeLoopbackPort()); }

INSTANTIATE_TEST_SUITE_P(
    Brokers, BrokerSecretsTest,
    ::testing::Values(
        BrokerCase{"kafka",
                   "    brokers: 127.0.0.1:" + ClosedPort() +
                       "\n"
                       "    topics: [orders]\n"
                       "    group_id: wojak\n"
                       "    dead_letter_topic: orders-dlq\n"
                       "    security_protocol: sasl_plaintext\n"
                       "    sasl:\n"
                       "      mechanism: PLAIN\n"
                       "      username: wojak\n",
                   {std::string("WOJAK_SOURCES_KAFKA_SASL_PASSWORD=") + kSaslPassword}},
        BrokerCase{"rabbitmq",
                   "    host: 127.0.0.1\n"
                   "    port: " +
                       ClosedPort() +
                       "\n"
                       "    queue: orders\n"
                       "    username: wojak\n",
                   {std::string("WOJAK_SOURCES_RABBITMQ_PASSWORD=") + kRabbitPassword}},
        BrokerCase{"nats",
                   "    servers: [\"nats://127.0.0.1:" + ClosedPort() +
                       "\"]\n"
                       "    stream: ORDERS\n"
                       "    subject: orders\n"
                       "    auth:\n"
                       "      user: wojak\n",
                   {std::string("WOJAK_SOURCES_NATS_AUTH_PASSWORD=") + kNatsPassword}},
        BrokerCase{"nats",
                   "    servers: [\"nats://127.0.0.1:" + ClosedPort() +
                       "\"]\n"
                       "    stream: ORDERS\n"
                       "    subject: orders\n",
                   {std::string("WOJAK_SOURCES_NATS_AUTH_TOKEN=") + kNatsToken}},
        BrokerCase{"mqtt",
                   "    host: 127.0.0.1\n"
                   "    port: " +
                       ClosedPort() +
                       "\n"
                       "    username: wojak\n",
                   {std::string("WOJAK_SOURCES_MQTT_PASSWORD=") + kMqttPassword}}),
    [](const ::testing::TestParamInfo<BrokerCase>& info) {
      return info.param.source + std::to_string(info.index);
    });

}  // namespace
}  // namespace wojak::security
