// Entry points for `wojak sidecar --source NAME` and `wojak config check`: read the `sidecar:`
// and `sources.<name>:` sections, build the registered source, run the pipeline until stopped.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"
#include "sidecar/pipeline.h"

namespace wojak::sidecar {

struct SidecarOverrides {
  std::string endpoint;  // replaces sidecar.endpoint when not empty (`--endpoint URL`)
};

// Reads `sidecar:` (every key documented with its default); violations go to the document.
PipelineOptions ReadPipelineOptions(ConfigSection section);

// Runs the named source until `stop` becomes true (the CLI sets it on SIGTERM/SIGINT), then
// drains: no new messages, in-flight replies awaited up to sidecar.drain_timeout, the rest
// nacked. Returns every configuration violation at once (INVALID_ARGUMENT), NOT_FOUND for a
// source that is not linked in, or the source's Start() error. Does not call
// ConfigDocument::CheckUnknownKeys (a shared file holds other components' sections).
Status RunSidecar(ConfigDocument& config, std::string_view source_name,
                  const std::atomic<bool>& stop, const SidecarOverrides& overrides = {});

// For `wojak config check`: reads `sidecar:` and every `sources.<name>:` section present whose
// source is linked in (without starting any), so their keys are validated and documented.
void ReadSidecarConfig(ConfigDocument& config);

}  // namespace wojak::sidecar
