// Configuration loading and stop signals for the subcommands.
#include "cli/common.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "api/api_options.h"
#include "common/log.h"
#include "engine/engine.h"
#include "engine/outbox_relay.h"
#include "engine/tick_feed.h"
#include "executors/executor.h"
#include "risk/risk_config.h"
#include "sidecar/sidecar.h"

namespace wojak::cli {
namespace {
std::atomic<bool> g_stop{false};

void OnStopSignal(int) {
  // A second signal means the operator does not want to wait for the drain.
  if (g_stop.exchange(true)) _exit(130);
}
}  // namespace

void ReadAllSections(ConfigDocument& config, bool every_executor) {
  ConfigSection root = config.Root();
  (void)ParseLogOptions(root.Section("log", "Logging."));
  (void)ReadEngineOptions(root.Section("engine", "The engine process."));
  (void)ReadRiskConfig(root);
  (void)ReadOutboxOptions(root.Section("outbox", kOutboxSectionDoc));
  (void)ReadTickFeedOptions(root.Section("ticks", kTicksSectionDoc));
  (void)api::ReadApiOptions(
      root.Section("api", "Query/admin REST API, /metrics and the health probes."));
  ConfigSection executor = root.Section("executor", "Where accepted orders go.");
  std::string kind =
      executor.Enum("kind", "sandbox", ExecutorRegistry::Instance().Names(),
                    "Executor for accepted orders: sandbox (simulated fills), http, paper.");
  for (const std::string& name : ExecutorRegistry::Instance().Names()) {
    // Only the chosen executor's section (and one the file sets) must be valid.
    if (name == kind || executor.Has(name) || every_executor) {
      (void)ExecutorRegistry::Instance().Create(
          name, executor.Section(name, "Options of this executor."));
    }
  }
  sidecar::ReadSidecarConfig(config);
  config.CheckUnknownKeys();
}

Status ValidateWholeConfig(const std::optional<std::string>& path) {
  auto config = LoadConfig(path);
  if (!config.ok()) return config.status();
  ReadAllSections(**config);
  return (*config)->errors().ToStatus().WithContext(path.value_or("configuration"));
}

StatusOr<std::unique_ptr<ConfigDocument>> LoadConfig(const std::optional<std::string>& path) {
  if (!path) return ConfigDocument::Empty();
  return ConfigDocument::Load(*path);
}

void InstallStopSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

const std::atomic<bool>& StopRequested() { return g_stop; }

}  // namespace wojak::cli
