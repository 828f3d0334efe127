// Source registry storage; a function-local map so registration order across translation units
// does not matter.
#include "sidecar/registry.h"

#include <map>
#include <utility>

namespace wojak::sidecar {
namespace {

std::map<std::string, SourceFactory, std::less<>>& Factories() {
  static auto* factories = new std::map<std::string, SourceFactory, std::less<>>();
  return *factories;
}

}  // namespace

bool SourceRegistry::Register(std::string name, SourceFactory factory) {
  Factories()[std::move(name)] = std::move(factory);
  return true;
}

const SourceFactory* SourceRegistry::Find(std::string_view name) {
  auto& factories = Factories();
  auto it = factories.find(name);
  return it == factories.end() ? nullptr : &it->second;
}

std::vector<std::string> SourceRegistry::Names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Factories()) names.push_back(name);
  return names;
}

}  // namespace wojak::sidecar
