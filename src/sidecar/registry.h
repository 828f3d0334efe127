// Source registry: each adapter registers a factory under its name from its own folder, so the
// core never includes an adapter and removing a source folder touches nothing else.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "sidecar/source.h"

namespace wojak::sidecar {

struct SourceContext {
  std::string name;  // the registered name, e.g. "http"
  // True while the engine answers; sources may show it on a health endpoint. Never null.
  std::shared_ptr<const std::atomic<bool>> engine_available =
      std::make_shared<std::atomic<bool>>(false);
};

// Reads the source's configuration (`sources.<name>`, every key documented with its default)
// and builds the source without connecting; Start() connects. Config violations are reported
// through `section` (so `wojak config check` lists them all); the caller checks the document's
// errors before calling Start(). An error return is for what the section cannot express.
using SourceFactory = std::function<StatusOr<std::unique_ptr<Source>>(
    ConfigSection& section, const SourceContext& context)>;

class SourceRegistry {
 public:
  // Returns true so it can initialise a static (see WOJAK_REGISTER_SOURCE).
  static bool Register(std::string name, SourceFactory factory);
  // Null when no source of that name is linked in.
  static const SourceFactory* Find(std::string_view name);
  static std::vector<std::string> Names();  // sorted
};

}  // namespace wojak::sidecar

// In the adapter's .cc: WOJAK_REGISTER_SOURCE("http", HttpSource::Create);
// The adapter's library must be linked whole-archive (see src/sidecar/CMakeLists.txt).
#define WOJAK_REGISTER_SOURCE(name, factory)                                            \
  [[maybe_unused]] static const bool WOJAK_CONCAT(wojak_source_registered_, __LINE__) = \
      ::wojak::sidecar::SourceRegistry::Register(name, factory)
