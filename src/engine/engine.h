// The engine process: recovery, the sequencer thread with group commit, the ZeroMQ transport and
// the executor, wired from one configuration.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wojak {

struct EngineOptions {
  std::string data_dir = "var";
  std::string endpoint;  // empty: ipc://<data_dir>/engine.sock
  std::string instruments_path = "tests/testdata/instruments.csv";
  std::string freeze_path = "tests/testdata/freeze_limits.csv";
  size_t queue_capacity = 65536;
  std::chrono::milliseconds escalation_timeout{30000};
  std::chrono::milliseconds drain_timeout{5000};
  std::string executor = "sandbox";
  bool verify_on_open = true;
};

// Reads the `engine:` section (flags given on the command line override it afterwards).
EngineOptions ReadEngineOptions(ConfigSection engine);

struct EngineStatus {
  bool ready = false;          // recovery done, journal writable, not stopped by a storage fault
  bool storage_failed = false;  // a commit failed: everything is answered RETRY until restart
  uint64_t last_seq = 0;
};

class Engine {
 public:
  // Loads instruments and limits, opens the journal, verifies and replays it, binds the socket,
  // starts the executor and re-sends accepted orders that have no result yet.
  static StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options,
                                                ConfigDocument& config);
  virtual ~Engine() = default;
  // Runs the sequencer on the calling thread until `stop` becomes true, then drains: intake
  // stops, the last batch is committed and answered, and it returns.
  virtual Status Run(const std::atomic<bool>& stop) = 0;
  virtual const std::string& endpoint() const = 0;
  virtual EngineStatus status() const = 0;
};

}  // namespace wojak
