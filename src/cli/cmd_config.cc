// `wojak config check FILE` (every violation at once) and `wojak config docs` (the key table).
#include <iostream>

#include "cli/commands.h"
#include "common/config.h"
#include "common/log.h"
#include "engine/engine.h"
#include "executors/executor.h"
#include "risk/risk_config.h"
#include "sidecar/sidecar.h"

namespace wojak::cli {
namespace {

// Reads every section any component of this binary understands, as the components themselves
// do, so check and docs can never disagree with what the engine and sidecars accept.
void ReadAllSections(ConfigDocument& config) {
  ConfigSection root = config.Root();
  (void)ParseLogOptions(root.Section("log", "Logging."));
  (void)ReadEngineOptions(root.Section("engine", "The engine process."));
  (void)ReadRiskConfig(root);
  ConfigSection executor = root.Section("executor", "Where accepted orders go.");
  std::string kind = executor.Enum("kind", "sandbox", ExecutorRegistry::Instance().Names(),
                                   "Executor for accepted orders: sandbox (simulated fills), http, paper.");
  for (const std::string& name : ExecutorRegistry::Instance().Names()) {
    // Only the chosen executor's section must be valid, but every one is documented.
    if (name == kind || executor.Has(name)) {
      (void)ExecutorRegistry::Instance().Create(name, executor.Section(name, "Options of this executor."));
    }
  }
  sidecar::ReadSidecarConfig(config);
  config.CheckUnknownKeys();
}

}  // namespace

int RunConfig(const Args& args) {
  if (args.empty() || args[0] == "--help") {
    std::cout << "usage: wojak config check FILE | wojak config docs\n";
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "check") {
    if (args.size() != 2) return UsageError("config check", "give exactly one FILE");
    auto config = ConfigDocument::Load(args[1]);
    if (!config.ok()) return Fail("config check", config.status().ToString());
    ReadAllSections(**config);
    if (!(*config)->errors().empty()) {
      for (const std::string& e : (*config)->errors().all()) std::cerr << args[1] << ": " << e << "\n";
      std::cerr << (*config)->errors().all().size() << " violation(s)\n";
      return 1;
    }
    std::cout << args[1] << ": ok\n";
    return 0;
  }
  if (args[0] == "docs") {
    auto config = ConfigDocument::Empty();
    ReadAllSections(*config);
    std::cout << RenderConfigDocs(config->docs());
    return 0;
  }
  return UsageError("config", "unknown subcommand '" + args[0] + "' (check, docs)");
}

}  // namespace wojak::cli
