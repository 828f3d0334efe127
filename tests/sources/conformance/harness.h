// Conformance harness: the engine and sidecar as real processes, plus the SourceFixture seam
// through which each source lets the suite publish to and inspect its real broker or peer.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "support/process.h"

namespace wojak::conformance {

// A message the source acked, with the decision it acked it with.
struct Acked {
  std::string client_order_id;
  std::string decision;  // ACCEPTED, REJECTED, ESCALATED, DUPLICATE
  nlohmann::json json;   // the decision JSON as the source's reply channel carried it
};

// A message the source dead-lettered, with the reason it recorded.
struct DeadLettered {
  std::string body;
  std::string reason;
};

// What a source's test fixture provides: its broker (or peer), publishing, and what the broker
// saw. Implementations must be thread-safe (the suite polls from its own thread).
class SourceFixture {
 public:
  virtual ~SourceFixture() = default;
  // Starts the broker or peer, keeping its files under `directory`.
  virtual Status Start(const std::string& directory) = 0;
  // The body of `sources.<name>:` for the sidecar, as YAML indented by four spaces.
  virtual std::string SourceConfig() const = 0;
  // "NAME=value" entries for the sidecar's environment (credentials).
  virtual std::vector<std::string> SidecarEnvironment() const { return {}; }
  // Called when the sidecar process runs; `log_path` holds its JSON log.
  virtual Status SidecarStarted(const std::string& log_path) = 0;
  // Publishes one message. Messages with the same ordering key are delivered in publish order
  // when PromisesOrdering().
  virtual Status Publish(const std::string& body, const std::string& ordering_key) = 0;
  virtual std::vector<Acked> AckedMessages() = 0;
  virtual std::vector<DeadLettered> DeadLetteredMessages() = 0;
  // How many times a message was nacked (and so redelivered, or told to retry).
  virtual size_t NackCount() = 0;
  virtual bool PromisesOrdering() const = 0;
  virtual void Stop() = 0;
};

using SourceFixtureFactory = std::function<std::unique_ptr<SourceFixture>()>;
bool RegisterSourceFixture(std::string name, SourceFixtureFactory factory);
std::vector<std::string> SourceFixtureNames();
std::unique_ptr<SourceFixture> MakeSourceFixture(const std::string& name);

// In tests/sources/<name>/<name>_fixture.cc:
//   WOJAK_REGISTER_SOURCE_FIXTURE("kafka", [] { return std::make_unique<KafkaFixture>(); });
#define WOJAK_REGISTER_SOURCE_FIXTURE(name, factory)                                     \
  [[maybe_unused]] static const bool WOJAK_CONCAT(wojak_fixture_registered_, __LINE__) = \
      ::wojak::conformance::RegisterSourceFixture(name, factory)

// A journal-backed engine in `directory`: session always open, no account limits, orders of any
// strategy but "local" escalated, sandbox executor.
class EngineProcess {
 public:
  explicit EngineProcess(std::string directory);
  std::string endpoint() const;
  // Starts it and waits until it logs engine_ready. Returns false (with the log) on failure.
  ::testing::AssertionResult Start();
  void Kill();    // SIGKILL
  void Pause();   // SIGSTOP
  void Resume();  // SIGCONT
  // SIGTERM and wait for a clean exit.
  ::testing::AssertionResult Stop();
  // Every order in the journal (`wojak orders --json`); the engine should be stopped.
  nlohmann::json Orders() const;
  std::string log() const;

 private:
  std::string directory_;
  wojak::testing::ChildProcess process_;
};

struct SidecarSettings {
  std::chrono::milliseconds request_timeout{8000};
  int max_attempts = 10;
};

// `wojak sidecar --source NAME` against `engine_endpoint`.
class SidecarProcess {
 public:
  SidecarProcess(std::string directory, std::string source, std::string engine_endpoint);
  ::testing::AssertionResult Start(SourceFixture& fixture, const SidecarSettings& settings = {});
  // `source_config` is the body of `sources.<name>:` indented by four spaces; `environment`
  // holds "NAME=value" entries (credentials).
  ::testing::AssertionResult Start(const std::string& source_config,
                                   const std::vector<std::string>& environment,
                                   const SidecarSettings& settings = {});
  ::testing::AssertionResult Stop();
  std::string log_path() const;

 private:
  std::string directory_;
  std::string source_;
  std::string engine_endpoint_;
  wojak::testing::ChildProcess process_;
};

// An order JSON document for the test instruments (NIFTY26DECFUT, lot 75, tick 0.10).
std::string OrderJson(const std::string& client_order_id, const std::string& account = "ACC1",
                      int64_t quantity = 75, const std::string& strategy = "local");

}  // namespace wojak::conformance
