// `wojak sidecar --source NAME`: run one source's sidecar until SIGTERM/SIGINT, then drain.
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/flags.h"
#include "common/log.h"
#include "sidecar/sidecar.h"

namespace wojak::cli {

int RunSidecar(const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"source", true, "the source to run (http, kafka, ...)"},
      {"config", true, "YAML configuration file (default: built-in defaults)"},
      {"endpoint", true, "engine endpoint; overrides sidecar.endpoint"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("sidecar", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak sidecar --source NAME [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  auto source = flags->Get("source");
  if (!source) return UsageError("sidecar", "--source NAME is required");
  if (Status valid = ValidateWholeConfig(flags->Get("config")); !valid.ok()) {
    return Fail("sidecar", valid.ToString());
  }
  auto config = LoadConfig(flags->Get("config"));
  if (!config.ok()) return Fail("sidecar", config.status().ToString());
  Status logging = InitLogging(ParseLogOptions((*config)->Root().Section("log", "Logging.")));
  if (!logging.ok()) return Fail("sidecar", logging.ToString());
  InstallStopSignals();
  sidecar::SidecarOverrides overrides;
  overrides.endpoint = flags->GetOr("endpoint", "");
  Status run = sidecar::RunSidecar(**config, *source, StopRequested(), overrides);
  FlushLogs();
  if (!run.ok()) return Fail("sidecar", run.ToString());
  return 0;
}

}  // namespace wojak::cli
