// Reload: validation off the sequencer thread, hand-over to it.
#include "engine/reload.h"

#include <yaml-cpp/yaml.h>

#include "instruments/loader.h"

namespace wojak {

StatusOr<RiskConfig> ReadRiskConfigFile(const std::string& path) {
  std::string subset_text;
  try {
    const YAML::Node file = YAML::LoadFile(path);
    if (!file.IsNull() && !file.IsMap()) {
      return InvalidArgument(path + ": configuration must be a mapping of sections");
    }
    YAML::Node subset(YAML::NodeType::Map);
    for (const char* section : {"risk", "session", "reference_price"}) {
      if (file.IsMap() && file[section]) subset[section] = file[section];
    }
    YAML::Emitter emitter;
    emitter << subset;
    subset_text = emitter.c_str();
  } catch (const YAML::BadFile&) {
    return NotFound("cannot open configuration file '" + path + "'");
  } catch (const YAML::Exception& error) {
    return InvalidArgument(path + ": YAML syntax error at line " +
                           std::to_string(error.mark.line + 1) + ": " + error.msg);
  }
  auto config = ParseRiskConfig(subset_text);
  if (!config.ok()) return config.status().WithContext(path);
  return config;
}

StatusOr<ReloadBundle> PrepareReload(const std::string& instruments_path,
                                     const std::string& freeze_path,
                                     const std::string& config_path) {
  ReloadBundle bundle;
  WOJAK_ASSIGN_OR_RETURN(bundle.instruments, LoadInstrumentTable(instruments_path, freeze_path));
  if (!config_path.empty()) {
    WOJAK_ASSIGN_OR_RETURN(RiskConfig config, ReadRiskConfigFile(config_path));
    bundle.gate = std::make_shared<const RiskGate>(std::move(config));
  }
  return bundle;
}

bool ReloadSlot::Offer(ReloadBundle bundle, std::chrono::milliseconds timeout,
                       const std::function<void()>& wake) {
  std::lock_guard offer_lock(offer_mu_);
  std::unique_lock lock(mu_);
  const uint64_t target = applied_count_ + 1;
  staged_ = std::move(bundle);
  has_staged_.store(true, std::memory_order_release);
  lock.unlock();
  wake();
  lock.lock();
  if (applied_cv_.wait_for(lock, timeout, [&] { return applied_count_ >= target; })) return true;
  staged_.reset();
  has_staged_.store(false, std::memory_order_release);
  return false;
}

void ReloadSlot::ApplyIfStaged(const std::function<void(ReloadBundle&)>& apply) {
  if (!has_staged_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mu_);
  if (!staged_) return;
  apply(*staged_);
  staged_.reset();
  has_staged_.store(false, std::memory_order_release);
  ++applied_count_;
  applied_cv_.notify_all();
}

}  // namespace wojak
