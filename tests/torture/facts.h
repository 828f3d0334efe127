// Gathers JournalFacts from a stopped engine's data directory: the journal entries themselves, and
// what the operator tools report (`wojak verify`, `wojak replay`, `wojak orders|trades|positions`).
#pragma once

#include <string>

#include "checker.h"
#include "common/status.h"

namespace wojak::torture {

struct FactSources {
  std::string wojak_binary;
  std::string data_dir;
  std::string instruments_path;
  std::string freeze_path;
};

// Errors only when a tool cannot be run or prints something unreadable; a tool that reports a
// problem (verify finding a broken chain) is a fact, recorded for the check.
StatusOr<JournalFacts> GatherFacts(const FactSources& sources);

// Orders not yet final (the executor has not answered), read while the engine runs.
StatusOr<size_t> CountOpenOrders(const FactSources& sources);

}  // namespace wojak::torture
