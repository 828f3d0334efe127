// Admin reload of the instrument master, freeze limits and risk limits: everything is read and
// validated on the caller's thread, then handed to the sequencer thread, which swaps it all in
// between two batches, so no decision ever sees half of a reload.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "instruments/instrument_table.h"
#include "risk/gate.h"
#include "risk/risk_config.h"

namespace wojak {

// What one reload swaps in. `gate` is null when the engine has no configuration file (its
// limits then stay as they are).
struct ReloadBundle {
  std::shared_ptr<const InstrumentTable> instruments;
  std::shared_ptr<const RiskGate> gate;
};

// Reads the `risk`, `session` and `reference_price` sections of the configuration file at
// `path` exactly as the engine did at start (environment overrides included); unknown keys in
// those sections and every bad value are reported together. Other sections are not looked at:
// they are not reloadable.
StatusOr<RiskConfig> ReadRiskConfigFile(const std::string& path);

// Loads and validates both instrument files and, with a non-empty `config_path`, the risk
// configuration. Nothing is swapped.
StatusOr<ReloadBundle> PrepareReload(const std::string& instruments_path,
                                     const std::string& freeze_path,
                                     const std::string& config_path);

// The hand-over between the thread asking for a reload and the sequencer thread.
class ReloadSlot {
 public:
  // Caller side: stages `bundle`, calls `wake` so the sequencer notices, and waits until the
  // sequencer applied it (true) or `timeout` passed (false: the bundle is withdrawn and never
  // applied). One offer at a time; concurrent callers wait their turn.
  bool Offer(ReloadBundle bundle, std::chrono::milliseconds timeout,
             const std::function<void()>& wake);
  // Sequencer side, once per loop: cheap when nothing is staged. Calls `apply` with the staged
  // bundle and then releases the waiting caller.
  void ApplyIfStaged(const std::function<void(ReloadBundle&)>& apply);

 private:
  std::mutex offer_mu_;  // serialises Offer callers
  std::mutex mu_;
  std::condition_variable applied_cv_;
  std::optional<ReloadBundle> staged_;  // guarded by mu_
  uint64_t applied_count_ = 0;          // guarded by mu_
  std::atomic<bool> has_staged_{false};
};

}  // namespace wojak
