// Outbox publisher registry storage; a function-local map so registration order across
// translation units does not matter.
#include "sidecar/outbox_publisher.h"

#include <map>
#include <utility>

namespace wojak::sidecar {
namespace {

std::map<std::string, OutboxPublisherFactory, std::less<>>& Factories() {
  static auto* factories = new std::map<std::string, OutboxPublisherFactory, std::less<>>();
  return *factories;
}

}  // namespace

bool OutboxPublisherRegistry::Register(std::string name, OutboxPublisherFactory factory) {
  Factories()[std::move(name)] = std::move(factory);
  return true;
}

const OutboxPublisherFactory* OutboxPublisherRegistry::Find(std::string_view name) {
  auto& factories = Factories();
  auto it = factories.find(name);
  return it == factories.end() ? nullptr : &it->second;
}

std::vector<std::string> OutboxPublisherRegistry::Names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Factories()) names.push_back(name);
  return names;
}

}  // namespace wojak::sidecar
