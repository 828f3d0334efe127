// `wojak config check FILE` (every violation at once) and `wojak config docs` (the key table).
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "common/config.h"

namespace wojak::cli {
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
      for (const std::string& e : (*config)->errors().all())
        std::cerr << args[1] << ": " << e << "\n";
      std::cerr << (*config)->errors().all().size() << " violation(s)\n";
      return 1;
    }
    std::cout << args[1] << ": ok\n";
    return 0;
  }
  if (args[0] == "docs") {
    auto config = ConfigDocument::Empty();
    ReadAllSections(*config, /*every_executor=*/true);
    std::cout << RenderConfigDocs(config->docs());
    return 0;
  }
  return UsageError("config", "unknown subcommand '" + args[0] + "' (check, docs)");
}

}  // namespace wojak::cli
