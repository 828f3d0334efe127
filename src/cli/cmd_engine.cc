// `wojak engine`: run the engine until SIGTERM/SIGINT, then drain and exit 0.
#include <csignal>
#include <iostream>

#include "api/api_server.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "common/log.h"
#include "engine/engine.h"

namespace wojak::cli {

int RunEngine(const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"config", true, "YAML configuration file (default: built-in defaults)"},
      {"data", true, "data directory (journal, IPC socket); overrides engine.data_dir"},
      {"endpoint", true, "ZeroMQ endpoint to bind; overrides engine.endpoint"},
      {"instruments", true, "instruments CSV; overrides engine.instruments"},
      {"freeze", true, "freeze-limit file; overrides engine.freeze_limits"},
      {"api", true, "HOST:PORT of the REST API; overrides api.listen"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("engine", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak engine [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  if (Status valid = ValidateWholeConfig(flags->Get("config")); !valid.ok()) {
    return Fail("engine", valid.ToString());
  }
  auto config = LoadConfig(flags->Get("config"));
  if (!config.ok()) return Fail("engine", config.status().ToString());
  ConfigSection root = (*config)->Root();
  Status logging = InitLogging(ParseLogOptions(root.Section("log", "Logging.")));
  EngineOptions options = ReadEngineOptions(root.Section("engine", "The engine process."));
  if (auto v = flags->Get("data")) options.data_dir = *v;
  if (auto v = flags->Get("endpoint")) options.endpoint = *v;
  if (auto v = flags->Get("instruments")) options.instruments_path = *v;
  if (auto v = flags->Get("freeze")) options.freeze_path = *v;
  options.config_path = flags->GetOr("config", "");
  api::ApiOptions api_options = api::ReadApiOptions(
      root.Section("api", "Query/admin REST API, /metrics and the health probes."));
  if (auto v = flags->Get("api")) api_options.listen = *v;
  if (!logging.ok()) return Fail("engine", logging.ToString());

  InstallStopSignals();
  auto engine = Engine::Open(options, **config);
  if (!engine.ok()) {
    LogError("engine_start_failed", {{"error", engine.status().ToString()}});
    return Fail("engine", engine.status().ToString());
  }
  // The API is a window on the engine, never a condition for trading: if it cannot start, the
  // engine runs without it (and /readyz, unreachable, tells the orchestrator).
  std::unique_ptr<api::ApiServer> api_server;
  if (api_options.enabled) {
    auto server = api::ApiServer::Start(api_options, **engine);
    if (server.ok()) {
      api_server = std::move(server).value();
    } else {
      LogError("api_start_failed", {{"error", server.status().ToString()}});
    }
  }
  Status run = (*engine)->Run(StopRequested());
  if (api_server) api_server->Stop();
  FlushLogs();
  if (!run.ok()) return Fail("engine", run.ToString());
  return 0;
}

}  // namespace wojak::cli
