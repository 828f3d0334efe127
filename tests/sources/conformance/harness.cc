// Conformance harness: fixture registry and engine/sidecar processes.
#include "conformance/harness.h"

#include <signal.h>

#include <map>

namespace wojak::conformance {
namespace {

using namespace std::chrono_literals;
namespace support = ::wojak::testing;

// Limits off and the session open at any hour, so only the order's own content decides;
// strategies other than "local" are escalated. No REST API: tests run in parallel.
constexpr const char* kEngineConfig = R"(session:
  enforce: false
risk:
  rules:
    escalate_strategy:
      local_strategies: [local]
  limits:
    max_orders_per_second: none
    max_open_orders: none
    max_daily_orders: none
    max_exposure: none
    max_order_value: none
    max_position_lots_per_instrument: none
    max_position_lots_per_underlying: none
    max_daily_loss: none
executor:
  kind: sandbox
  sandbox:
    fill_ratio: 0.8
    latency_max: 1ms
api:
  enabled: false
)";

std::map<std::string, SourceFixtureFactory>& Fixtures() {
  static auto* fixtures = new std::map<std::string, SourceFixtureFactory>();
  return *fixtures;
}

bool LogHas(const std::string& path, const std::string& event) {
  return support::ReadFile(path).find("\"event\":\"" + event + "\"") != std::string::npos;
}

}  // namespace

bool RegisterSourceFixture(std::string name, SourceFixtureFactory factory) {
  Fixtures()[std::move(name)] = std::move(factory);
  return true;
}

std::vector<std::string> SourceFixtureNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Fixtures()) names.push_back(name);
  return names;
}

std::unique_ptr<SourceFixture> MakeSourceFixture(const std::string& name) {
  auto it = Fixtures().find(name);
  return it == Fixtures().end() ? nullptr : it->second();
}

EngineProcess::EngineProcess(std::string directory) : directory_(std::move(directory)) {
  support::WriteFile(directory_ + "/engine.yaml", kEngineConfig);
}

std::string EngineProcess::endpoint() const { return "ipc://" + directory_ + "/engine.sock"; }

std::string EngineProcess::log() const { return support::ReadFile(directory_ + "/engine.log"); }

::testing::AssertionResult EngineProcess::Start() {
  // A fresh log per start, so engine_ready means this run is ready.
  const std::string log_path = directory_ + "/engine.log";
  support::WriteFile(log_path, "");
  process_ = support::ChildProcess::Start(
      {support::WojakBinary(), "engine", "--config", directory_ + "/engine.yaml", "--data",
       directory_, "--endpoint", endpoint(), "--instruments",
       support::SourceDir() + "/tests/testdata/instruments.csv", "--freeze",
       support::SourceDir() + "/tests/testdata/freeze_limits.csv"},
      log_path);
  const bool ready = support::WaitUntil(
      [&] { return LogHas(log_path, "engine_ready") || !process_.running(); }, 30s);
  if (!ready || !process_.running()) {
    return ::testing::AssertionFailure() << "engine did not start:\n" << log();
  }
  return ::testing::AssertionSuccess();
}

void EngineProcess::Kill() { process_.Kill(); }
void EngineProcess::Pause() { process_.Signal(SIGSTOP); }
void EngineProcess::Resume() { process_.Signal(SIGCONT); }

::testing::AssertionResult EngineProcess::Stop() {
  process_.Signal(SIGTERM);
  const int code = process_.Wait(20s);
  if (code != 0) {
    return ::testing::AssertionFailure() << "engine exit code " << code << ":\n" << log();
  }
  return ::testing::AssertionSuccess();
}

nlohmann::json EngineProcess::Orders() const {
  const std::string out = directory_ + "/orders.json";
  support::WriteFile(out, "");
  support::ChildProcess list = support::ChildProcess::Start(
      {support::WojakBinary(), "orders", "--data", directory_, "--json", "--limit", "100000"}, out);
  if (list.Wait(60s) != 0) return nlohmann::json::array();
  nlohmann::json rows = nlohmann::json::parse(support::ReadFile(out), nullptr, false);
  return rows.is_array() ? rows : nlohmann::json::array();
}

SidecarProcess::SidecarProcess(std::string directory, std::string source,
                               std::string engine_endpoint)
    : directory_(std::move(directory)),
      source_(std::move(source)),
      engine_endpoint_(std::move(engine_endpoint)) {}

std::string SidecarProcess::log_path() const { return directory_ + "/sidecar.log"; }

::testing::AssertionResult SidecarProcess::Start(SourceFixture& fixture,
                                                 const SidecarSettings& settings) {
  ::testing::AssertionResult started =
      Start(fixture.SourceConfig(), fixture.SidecarEnvironment(), settings);
  if (!started) return started;
  Status status = fixture.SidecarStarted(log_path());
  if (!status.ok()) return ::testing::AssertionFailure() << status.ToString();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SidecarProcess::Start(const std::string& source_config,
                                                 const std::vector<std::string>& environment,
                                                 const SidecarSettings& settings) {
  const std::string config_path = directory_ + "/sidecar.yaml";
  std::string config = "sidecar:\n  endpoint: " + engine_endpoint_ +
                       "\n  request_timeout: " + std::to_string(settings.request_timeout.count()) +
                       "ms\n  max_attempts: " + std::to_string(settings.max_attempts) +
                       "\n  backoff_initial: 50ms\n  backoff_max: 500ms\n"
                       "  reconnect_interval: 50ms\nsources:\n  " +
                       source_ + ":\n" + source_config;
  support::WriteFile(config_path, config);
  support::WriteFile(log_path(), "");
  process_ = support::ChildProcess::Start(
      {support::WojakBinary(), "sidecar", "--source", source_, "--config", config_path}, log_path(),
      environment);
  // Ready once it has reached the engine, so tests do not race its first connection.
  if (!support::WaitUntil(
          [&] { return LogHas(log_path(), "sidecar_engine_up") || !process_.running(); }, 30s) ||
      !process_.running()) {
    return ::testing::AssertionFailure() << "sidecar did not reach the engine:\n"
                                         << support::ReadFile(log_path());
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SidecarProcess::Stop() {
  process_.Signal(SIGTERM);
  const int code = process_.Wait(20s);
  if (code != 0) {
    return ::testing::AssertionFailure() << "sidecar exit code " << code << ":\n"
                                         << support::ReadFile(log_path());
  }
  return ::testing::AssertionSuccess();
}

std::string OrderJson(const std::string& client_order_id, const std::string& account,
                      int64_t quantity, const std::string& strategy) {
  nlohmann::json order = {{"account", account},    {"strategy", strategy},
                          {"exchange", "NFO"},     {"symbol", "NIFTY26DECFUT"},
                          {"side", "BUY"},         {"quantity", quantity},
                          {"order_type", "LIMIT"}, {"product", "NRML"},
                          {"price", "26065.00"},   {"validity", "DAY"}};
  if (!client_order_id.empty()) order["client_order_id"] = client_order_id;
  return order.dump();
}

}  // namespace wojak::conformance
