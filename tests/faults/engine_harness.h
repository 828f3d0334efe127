// Shared by the storage-fault and corruption tests: an engine run in-process on the fault VFS,
// the same engine as a real process, and a client exchange that records every first reply.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "model/order.h"
#include "support/process.h"

namespace wojak::faults {

// Limits off and the session open at any hour, so only an order's own content decides; the
// sandbox fills most accepted orders within a millisecond, so fills are journalled too.
std::string EngineConfigYaml(bool verify_on_open = true);

// Order `n`: ACCEPTED, except every fifth is REJECTED (quantity not a multiple of the lot).
OrderRequest TestOrder(const testing::InstrumentFixture& fixture, int n);
std::vector<OrderRequest> TestOrders(const testing::InstrumentFixture& fixture, int first,
                                     int count);

// Sends every order once and returns the first reply to each (by index into `orders`), whatever
// its kind, RETRY included; nothing is resent. Orders without a reply by the timeout are absent.
std::map<size_t, Decision> SendOnce(const std::string& endpoint,
                                    const std::vector<OrderRequest>& orders,
                                    std::chrono::seconds timeout = std::chrono::seconds(30));

// A DUPLICATE answer carries the first decision unchanged.
bool IsDuplicateOf(const Decision& duplicate, const Decision& original);

// The engine in this process, its journal on the wojak-fault VFS so tests can fail its fsyncs
// or fill its disk (StorageFaults::Global()).
class InProcessEngine {
 public:
  InProcessEngine(std::string data_dir, testing::InstrumentFixture fixture);
  ~InProcessEngine() { Stop(); }
  // Opens (recovering the journal) and runs the sequencer on a thread; false with the error
  // in `error` when Engine::Open refuses.
  bool Start(std::string* error = nullptr);
  // Drains and joins the sequencer, then closes the engine.
  void Stop();
  EngineStatus status() const { return engine_->status(); }
  std::string endpoint() const { return "ipc://" + data_dir_ + "/engine.sock"; }
  // Waits until the journal holds `seq` entries.
  bool WaitForLastSeq(uint64_t seq);

 private:
  std::string data_dir_;
  testing::InstrumentFixture fixture_;
  std::unique_ptr<Engine> engine_;
  std::atomic<bool> stop_{false};
  std::thread sequencer_;
};

// The entries a batch of first decisions leads to once the executor has answered: one per
// order, plus one execution report per accepted order.
uint64_t ExpectedEntries(const std::map<size_t, Decision>& decided);

// `wojak engine` as a child process on `data_dir` (config written there). Start() waits for
// engine_ready or an early exit; running() says which.
class EngineProcess {
 public:
  EngineProcess(std::string data_dir, testing::InstrumentFixture fixture,
                bool verify_on_open = true);
  void Start();
  bool running() { return process_.running(); }
  // SIGTERM and the exit status (-1 if it did not exit within 10 s).
  int Stop();
  // SIGKILL: the journal files stay as a crash leaves them.
  void Kill() { process_.Kill(); }
  int Wait() { return process_.Wait(std::chrono::seconds(30)); }
  std::string log() const;
  std::string endpoint() const { return "ipc://" + data_dir_ + "/engine.sock"; }

 private:
  std::string data_dir_;
  testing::InstrumentFixture fixture_;
  testing::ChildProcess process_;
  int starts_ = 0;
};

// Runs `wojak verify --data DIR`; returns its exit status and puts its output in `output`.
int RunVerify(const std::string& data_dir, std::string* output);

}  // namespace wojak::faults
