// Shared scaffolding of the outbox broker-sink end-to-end tests: a real `wojak engine`
// (outbox.sink: sidecar), a real `wojak sidecar --source NAME` and the broker, with the scenario
// every broker passes (an escalation's row arrives with the exact webhook body; with the sidecar
// down the cursor stays; after a restart every row arrives, in order, none missing).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"
#include "wojak/client.h"

namespace wojak::testing {

// The account of every order the scenario sends (brokers route or key by it).
inline constexpr const char* kOutboxE2eAccount = "ACC9";

// One outbox row as a broker delivered it.
struct OutboxBrokerMessage {
  std::string destination;  // where it went: subject, routing key, topic (as the broker names it)
  std::string account;      // the account the sink attached (header, key or topic level)
  uint64_t outbox_seq = 0;  // the sequence the sink attached for dedupe (header, id, property)
  std::string body;
};

// What differs between brokers. The broker is already running when the harness asks.
class OutboxBrokerHooks {
 public:
  virtual ~OutboxBrokerHooks() = default;
  // The sidecar's --source.
  virtual std::string SourceName() const = 0;
  // The `sources:` section of the sidecar config (source and its outbox), full YAML.
  virtual std::string SourcesYaml() const = 0;
  // Extra NAME=VALUE environment of the sidecar (secrets are never in the config file).
  virtual std::vector<std::string> SidecarEnvironment() const { return {}; }
  // Every outbox message delivered since the broker started, in order, reading until `count`
  // arrived or `timeout` passed (a consumer that removes messages must keep what it read).
  virtual std::vector<OutboxBrokerMessage> Consume(size_t count,
                                                   std::chrono::milliseconds timeout) = 0;
  // The destination an escalation of kOutboxE2eAccount goes to.
  virtual std::string EscalationDestination() const = 0;
};

// The engine with the outbox relay pointed at a sidecar, and the sidecars it talks to.
class OutboxEndToEnd {
 public:
  explicit OutboxEndToEnd(OutboxBrokerHooks& hooks) : hooks_(hooks) {}

  const TempDir& dir() const { return dir_; }
  // Starts the engine and connects a client; adds a failure and returns false when it fails.
  bool StartEngine();
  // Starts a sidecar of the hooks' source and waits until its outbox server listens.
  ChildProcess StartSidecar();
  // Sends an escalating order (above the notional rule) and returns the decision's kind.
  DecisionKind SendEscalatingOrder(const std::string& client_order_id);
  // The journal's outbox_cursor ("none" before the first delivery).
  std::string Cursor();
  // How often the engine logged a failed delivery so far.
  size_t DeliveryFailures();
  // The journal's outbox rows as the webhook would have sent them, in outbox_seq order.
  std::vector<std::string> WebhookBodies();

 private:
  std::string EngineEndpoint() const { return "ipc://" + dir_.File("engine.sock"); }
  std::string OutboxEndpoint() const { return "ipc://" + dir_.File("outbox.sock"); }
  std::vector<std::vector<std::string>> Query(const std::string& sql);

  OutboxBrokerHooks& hooks_;
  TempDir dir_;
  ChildProcess engine_;
  std::unique_ptr<EngineClient> client_;
  int sidecar_starts_ = 0;
};

// The scenario: one escalation arrives with the webhook body and the cursor moves to 1; with the
// sidecar stopped three more escalations fail to deliver and the cursor stays at 1; a restarted
// sidecar delivers rows 2-4 in order and nothing else. Call from a TEST body (it uses gtest
// assertions and returns at the first fatal one).
void RunOutboxEndToEnd(OutboxBrokerHooks& hooks);

}  // namespace wojak::testing
