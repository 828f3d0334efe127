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

// SIGTERM and SIGINT set the flag StopRequested() returns (a second signal exits at once).
void InstallStopSignals();
const std::atomic<bool>& StopRequested();

}  // namespace wojak::cli
