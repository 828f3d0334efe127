// The engine process: recovery, the sequencer thread with group commit, the ZeroMQ transport and
// the executor, wired from one configuration.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "risk/risk_config.h"

namespace wojak {

struct EngineOptions {
  std::string data_dir = "var";
  std::string endpoint;  // empty: ipc://<data_dir>/engine.sock
  // Transport security (wire/server.h): CURVE secret key (Z85, from the environment or a file),
  // the sidecars' public keys allowed in (required with the key), the explicit opt-in to plain
  // tcp:// reachable from other hosts, and the ipc:// socket file's group.
  std::string curve_secret_key;
  std::vector<std::string> curve_allowed_clients;
  bool allow_insecure_tcp = false;
  std::string ipc_group;
  std::string instruments_path = "tests/testdata/instruments.csv";
  std::string freeze_path = "tests/testdata/freeze_limits.csv";
  size_t queue_capacity = 65536;
  std::chrono::milliseconds escalation_timeout{30000};
  std::chrono::milliseconds drain_timeout{5000};
  std::string executor = "sandbox";
  bool verify_on_open = true;
  int64_t journal_cache_mb = 2;
  // The configuration file the engine started with: an admin reload re-reads its risk limits
  // there. Empty: limits are not reloadable (instruments and freeze limits still are).
  std::string config_path;
  // SQLite VFS of the journal; empty = SQLite's default. Tests pass kFaultVfsName.
  std::string journal_vfs;
};

// Reads the `engine:` section (flags given on the command line override it afterwards).
EngineOptions ReadEngineOptions(ConfigSection engine);

struct EngineStatus {
  bool ready = false;           // recovery done, journal writable, not stopped by a storage fault
  bool storage_failed = false;  // a commit failed: everything is answered RETRY until restart
  uint64_t last_seq = 0;
  bool recovered = false;  // the journal was replayed
  uint64_t reloads = 0;    // admin reloads applied since start
};

// Trading states as of the last committed batch. Accounts and strategies not listed are ACTIVE.
struct TradingStates {
  TradingState global = TradingState::kActive;
  std::map<std::string, TradingState> accounts;
  std::map<std::string, TradingState> strategies;
};

// What an admin reload swapped in.
struct ReloadReport {
  size_t instruments = 0;
  uint64_t instruments_version = 0;
  bool limits_reloaded = false;  // false when the engine has no configuration file
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
  virtual const EngineOptions& options() const = 0;

  // Thread-safe views for the query API; never touch the sequencer's own state.
  virtual TradingStates trading_states() const = 0;
  virtual std::shared_ptr<const RiskConfig> risk_config() const = 0;
  // Reads and validates the instruments and freeze-limit files and the configuration file's
  // risk sections, then has the sequencer swap them in together between two batches. On any
  // error nothing changes (INVALID_ARGUMENT / NOT_FOUND naming the file). UNAVAILABLE when the
  // sequencer is not running. Thread-safe; reloads run one at a time.
  virtual StatusOr<ReloadReport> Reload() = 0;
};

}  // namespace wojak
