// Transport security with the real binaries: CURVE between the HTTP sidecar and the engine with a
// client-key allowlist, and the refusal of plain tcp:// reachable from other hosts. Everything
// listens on 127.0.0.1; the refusal cases are refused before any socket is bound (the one given
// on the command line names TEST-NET-1, an address this machine cannot bind anyway).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <zmq.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "http_connection.h"
#include "security_support.h"

namespace wojak::security {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

constexpr const char* kToken = "transport-test-token-5b7d2e91c0";

class CurveTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_ = testing::GenerateInstruments(dir_.path());
    engine_keys_ = NewCurveKeyPair();
    sidecar_keys_ = NewCurveKeyPair();
    engine_port_ = testing::FreeLoopbackPort();
    http_port_ = testing::FreeLoopbackPort();
    testing::WriteFile(dir_.File("engine.key"), engine_keys_.secret_key + "\n");
    testing::WriteFile(dir_.File("token"), std::string(kToken) + "\n");
  }

  std::string Config(const KeyPair& sidecar) const {
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(engine_port_);
    return "engine:\n"
           "  endpoint: " +
           endpoint +
           "\n"
           "  curve_secret_key_file: " +
           dir_.File("engine.key") +
           "\n"
           "  curve_allowed_clients: [\"" +
           sidecar_keys_.public_key +
           "\"]\n"
           "api:\n"
           "  enabled: false\n" +
           OpenRiskConfig() +
           "sidecar:\n"
           "  endpoint: " +
           endpoint +
           "\n"
           "  curve_server_public_key: \"" +
           engine_keys_.public_key +
           "\"\n"
           "  curve_client_public_key: \"" +
           sidecar.public_key +
           "\"\n"
           "  request_timeout: 1s\n"
           "  reconnect_interval: 50ms\n"
           "  backoff_max: 500ms\n"
           "sources:\n"
           "  http:\n"
           "    listen: 127.0.0.1:" +
           std::to_string(http_port_) +
           "\n"
           "    auth:\n"
           "      mode: bearer\n"
           "      keys:\n"
           "        strategies:\n"
           "          accounts: [\"*\"]\n"
           "          secret_file: " +
           dir_.File("token") + "\n";
  }

  // Engine and sidecar with `sidecar` as the sidecar's key pair (allowlisted or not).
  void Start(const KeyPair& sidecar) {
    testing::WriteFile(dir_.File("wojak.yaml"), Config(sidecar));
    engine_ =
        StartWojak(dir_,
                   {"engine", "--config", dir_.File("wojak.yaml"), "--data", dir_.path(),
                    "--instruments", fixture_.instruments_path, "--freeze", fixture_.freeze_path},
                   "engine.log", "engine_ready");
    sidecar_ = StartWojak(
        dir_, {"sidecar", "--source", "http", "--config", dir_.File("wojak.yaml")}, "sidecar.log",
        "http_source_listening", {"WOJAK_SIDECAR_CURVE_CLIENT_SECRET_KEY=" + sidecar.secret_key});
  }

  // Posts one order until it is decided (200) or `timeout` passes; returns the last answer.
  torture::HttpAnswer PostOrder(const std::string& client_order_id,
                                std::chrono::milliseconds timeout) {
    torture::HttpConnection connection("127.0.0.1", static_cast<uint16_t>(http_port_), 10s);
    torture::HttpAnswer answer;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      answer = connection.Exchange("POST", "/v1/orders",
                                   {{"Authorization", std::string("Bearer ") + kToken}},
                                   AcceptableOrder(fixture_, client_order_id));
      if (answer.status == 200) break;
      std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return answer;
  }

  void StopAll() {
    sidecar_.Signal(SIGTERM);
    sidecar_.Wait(10s);
    engine_.Signal(SIGTERM);
    engine_.Wait(10s);
  }

  TempDir dir_;
  testing::InstrumentFixture fixture_;
  KeyPair engine_keys_;
  KeyPair sidecar_keys_;
  int engine_port_ = 0;
  int http_port_ = 0;
  testing::ChildProcess engine_;
  testing::ChildProcess sidecar_;
};

TEST_F(CurveTransportTest, AllowlistedSidecarGetsOrdersDecidedOverCurve) {
  Start(sidecar_keys_);
  torture::HttpAnswer answer = PostOrder("curve-1", 30s);
  ASSERT_EQ(answer.status, 200) << answer.body << "\n"
                                << testing::ReadFile(dir_.File("sidecar.log"));
  EXPECT_EQ(nlohmann::json::parse(answer.body).value("decision", ""), "ACCEPTED") << answer.body;
  StopAll();
  const std::string engine_log = testing::ReadFile(dir_.File("engine.log"));
  EXPECT_NE(engine_log.find(engine_keys_.public_key), std::string::npos)
      << "engine_ready should name the public key sidecars configure";
  for (const std::string& log : {engine_log, testing::ReadFile(dir_.File("sidecar.log"))}) {
    EXPECT_EQ(log.find(engine_keys_.secret_key), std::string::npos);
    EXPECT_EQ(log.find(sidecar_keys_.secret_key), std::string::npos);
  }
}

TEST_F(CurveTransportTest, SidecarWithAKeyNotAllowlistedGetsNothingIn) {
  Start(NewCurveKeyPair());
  torture::HttpAnswer answer = PostOrder("stranger-1", 4s);
  EXPECT_NE(answer.status, 200) << answer.body;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return testing::ReadFile(dir_.File("engine.log")).find("engine_client_refused") !=
               std::string::npos;
      },
      10s));
  StopAll();
  RunResult orders = RunWojak(dir_, {"orders", "--data", dir_.path(), "--json"});
  ASSERT_EQ(orders.exit_code, 0) << orders.output;
  EXPECT_EQ(nlohmann::json::parse(orders.output), nlohmann::json::array());
}

class InsecureTcpTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(InsecureTcpTest, ConfigCheckRefusesPlainTcpOnAllInterfaces) {
  testing::WriteFile(dir_.File("wojak.yaml"), "engine:\n  endpoint: tcp://0.0.0.0:5555\n");
  RunResult check = RunWojak(dir_, {"config", "check", dir_.File("wojak.yaml")});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("reachable from other hosts without CURVE"), std::string::npos)
      << check.output;
  EXPECT_NE(check.output.find("allow_insecure_tcp"), std::string::npos) << check.output;
}

TEST_F(InsecureTcpTest, EngineConfiguredForPlainTcpOnAllInterfacesDoesNotStart) {
  testing::InstrumentFixture fixture = testing::GenerateInstruments(dir_.path());
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "engine:\n  endpoint: tcp://0.0.0.0:5555\napi:\n  enabled: false\n");
  RunResult engine =
      RunWojak(dir_, {"engine", "--config", dir_.File("wojak.yaml"), "--data", dir_.path(),
                      "--instruments", fixture.instruments_path, "--freeze", fixture.freeze_path});
  EXPECT_EQ(engine.exit_code, 1) << engine.output;
  EXPECT_NE(engine.output.find("reachable from other hosts without CURVE"), std::string::npos)
      << engine.output;
  EXPECT_EQ(engine.output.find("engine_ready"), std::string::npos);
}

TEST_F(InsecureTcpTest, EngineRefusesPlainTcpGivenOnTheCommandLine) {
  testing::InstrumentFixture fixture = testing::GenerateInstruments(dir_.path());
  testing::WriteFile(dir_.File("wojak.yaml"), "api:\n  enabled: false\n");
  RunResult engine =
      RunWojak(dir_, {"engine", "--config", dir_.File("wojak.yaml"), "--data", dir_.path(),
                      "--endpoint", "tcp://192.0.2.1:5555", "--instruments",
                      fixture.instruments_path, "--freeze", fixture.freeze_path});
  EXPECT_EQ(engine.exit_code, 1) << engine.output;
  EXPECT_NE(engine.output.find("FAILED_PRECONDITION"), std::string::npos) << engine.output;
  EXPECT_NE(engine.output.find("reachable from other hosts without CURVE"), std::string::npos);
}

TEST_F(InsecureTcpTest, ConfigCheckAcceptsPlainTcpOnAllInterfacesWhenExplicitlyAllowed) {
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "engine:\n  endpoint: tcp://0.0.0.0:5555\n  allow_insecure_tcp: true\n");
  RunResult check = RunWojak(dir_, {"config", "check", dir_.File("wojak.yaml")});
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(InsecureTcpTest, ConfigCheckRefusesACurveKeyWithoutAnAllowlist) {
  const KeyPair keys = NewCurveKeyPair();
  testing::WriteFile(dir_.File("engine.key"), keys.secret_key);
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "engine:\n  endpoint: tcp://0.0.0.0:5555\n"
                     "  curve_secret_key_file: " +
                         dir_.File("engine.key") + "\n");
  RunResult check = RunWojak(dir_, {"config", "check", dir_.File("wojak.yaml")});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("engine.curve_allowed_clients"), std::string::npos) << check.output;
  EXPECT_EQ(check.output.find(keys.secret_key), std::string::npos);
}

// The sidecar side: a plain tcp:// engine on another host is refused before any connection.
TEST_F(InsecureTcpTest, ConfigCheckRefusesASidecarPointedAtAPlainRemoteEngine) {
  testing::WriteFile(dir_.File("wojak.yaml"),
                     "sidecar:\n  endpoint: tcp://192.0.2.1:5555\n"
                     "  shards:\n    ACC9: tcp://192.0.2.2:5555\n");
  RunResult check = RunWojak(dir_, {"config", "check", dir_.File("wojak.yaml")});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("sidecar.endpoint tcp://192.0.2.1:5555 is reachable"),
            std::string::npos)
      << check.output;
  EXPECT_NE(check.output.find("sidecar.shards.ACC9 tcp://192.0.2.2:5555 is reachable"),
            std::string::npos)
      << check.output;
}

TEST_F(InsecureTcpTest, ConfigCheckAcceptsASidecarPointedAtARemoteEngineWithCurveOrTheOptIn) {
  const KeyPair engine = NewCurveKeyPair();
  testing::WriteFile(dir_.File("curve.yaml"),
                     "sidecar:\n  endpoint: tcp://192.0.2.1:5555\n"
                     "  curve_server_public_key: \"" +
                         engine.public_key + "\"\n");
  RunResult curve = RunWojak(dir_, {"config", "check", dir_.File("curve.yaml")});
  EXPECT_EQ(curve.exit_code, 0) << curve.output;
  testing::WriteFile(dir_.File("plain.yaml"),
                     "sidecar:\n  endpoint: tcp://192.0.2.1:5555\n"
                     "  allow_insecure_tcp: true\n");
  RunResult plain = RunWojak(dir_, {"config", "check", dir_.File("plain.yaml")});
  EXPECT_EQ(plain.exit_code, 0) << plain.output;
}

TEST_F(InsecureTcpTest, SidecarRefusesAPlainRemoteEngineGivenOnTheCommandLine) {
  testing::WriteFile(dir_.File("token"), "insecure-test-token-0123456789\n");
  testing::WriteFile(
      dir_.File("wojak.yaml"),
      "sources:\n  http:\n    listen: 127.0.0.1:0\n    auth:\n      mode: bearer\n"
      "      keys:\n        k:\n          accounts: [\"*\"]\n          secret_file: " +
          dir_.File("token") + "\n");
  RunResult sidecar =
      RunWojak(dir_, {"sidecar", "--source", "http", "--config", dir_.File("wojak.yaml"),
                      "--endpoint", "tcp://192.0.2.1:5555"});
  EXPECT_EQ(sidecar.exit_code, 1) << sidecar.output;
  EXPECT_NE(sidecar.output.find("--endpoint tcp://192.0.2.1:5555 is reachable"), std::string::npos)
      << sidecar.output;
  EXPECT_EQ(sidecar.output.find("http_source_listening"), std::string::npos);
}

TEST(KeygenTest, PrintsAKeyPairThatBelongsTogether) {
  TempDir dir;
  RunResult keygen = RunWojak(dir, {"keygen", "--json"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  nlohmann::json keys = nlohmann::json::parse(keygen.output);
  const std::string secret_key = keys.at("secret_key");
  char derived[41];
  ASSERT_EQ(zmq_curve_public(derived, secret_key.c_str()), 0);
  EXPECT_EQ(keys.at("public_key"), std::string(derived));
}

TEST(KeygenTest, WritesTheSecretKeyToANewOwnerOnlyFileAndNeverOverwritesIt) {
  TempDir dir;
  RunResult keygen = RunWojak(dir, {"keygen", "--json", "--secret-file", dir.File("k")});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.output;
  nlohmann::json keys = nlohmann::json::parse(keygen.output);
  EXPECT_FALSE(keys.contains("secret_key"));
  const std::string secret_key = testing::ReadFile(dir.File("k")).substr(0, 40);
  char derived[41];
  ASSERT_EQ(zmq_curve_public(derived, secret_key.c_str()), 0);
  EXPECT_EQ(keys.at("public_key"), std::string(derived));
  struct stat info {};
  ASSERT_EQ(::stat(dir.File("k").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  RunResult again = RunWojak(dir, {"keygen", "--secret-file", dir.File("k")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(testing::ReadFile(dir.File("k")).substr(0, 40), secret_key);
}

}  // namespace
}  // namespace wojak::security
