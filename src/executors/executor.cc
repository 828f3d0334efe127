// Executor registry.
#include "executors/executor.h"

namespace wojak {

ExecutorRegistry& ExecutorRegistry::Instance() {
  static ExecutorRegistry registry;
  return registry;
}

bool ExecutorRegistry::Register(std::string name, ExecutorFactory factory) {
  return factories_.emplace(std::move(name), std::move(factory)).second;
}

StatusOr<std::unique_ptr<Executor>> ExecutorRegistry::Create(std::string_view name,
                                                             ConfigSection config) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [n, f] : factories_) known += (known.empty() ? "" : ", ") + n;
    return InvalidArgument("unknown executor '" + std::string(name) + "' (known: " + known + ")");
  }
  return it->second(config);
}

std::vector<std::string> ExecutorRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [n, f] : factories_) names.push_back(n);
  return names;
}

}  // namespace wojak
