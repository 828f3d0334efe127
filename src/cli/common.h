// Helpers shared by the subcommands: configuration loading and stop signals.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wojak::cli {

// Loads the file when given, otherwise an empty document (every key at its default); the
// environment overrides either way.
StatusOr<std::unique_ptr<ConfigDocument>> LoadConfig(const std::optional<std::string>& path);

// Reads every section any component of this binary understands, as the components themselves
// do, then flags unknown keys: `config check`, `config docs`, the engine and the sidecars all
// accept exactly the same files. `every_executor` also reads the sections of executors the file
// does not choose, so `config docs` lists their keys.
void ReadAllSections(ConfigDocument& config, bool every_executor = false);
// Loads the file into a scratch document and reports every violation across all sections. One
// file may serve the engine and its sidecars, so each process validates the whole of it.
Status ValidateWholeConfig(const std::optional<std::string>& path);

// SIGTERM and SIGINT set the flag StopRequested() returns (a second signal exits at once).
void InstallStopSignals();
const std::atomic<bool>& StopRequested();

}  // namespace wojak::cli
