// Pieces shared by the benchmarks that drive a real engine process (`wojak bench e2e`,
// `wojak bench ticks`): a scratch directory, fresh instruments, the engine process itself, paced
// order clients and latency percentiles.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/money.h"

namespace wojak {

// Limits that would throttle a load test are off; the rules themselves all run. The REST API is
// off so a benchmark never collides with an engine already serving on its port.
extern const char* const kBenchEngineConfig;

// A data directory: the given one, or a fresh one under /tmp removed on destruction.
class BenchDir {
 public:
  static StatusOr<std::unique_ptr<BenchDir>> Create(const std::string& given);
  ~BenchDir();
  const std::string& path() const { return path_; }
  // Leaves the directory in place (so its engine.log can explain a failure).
  void Keep() { remove_ = false; }

 private:
  BenchDir(std::string path, bool remove) : path_(std::move(path)), remove_(remove) {}
  std::string path_;
  bool remove_;
};

// The contract the load orders trade, priced inside every band.
struct BenchInstrument {
  std::string symbol = "NIFTY26DECFUT";
  Paise price = Paise::FromRupees(26065);
};

// Fresh contracts that have not expired (scripts/gen-instruments --from this month, written into
// `dir`), so a benchmark measures accepted orders whatever the date; on success points
// instruments_path/freeze_path at them, otherwise leaves the committed fixture in place.
BenchInstrument PrepareBenchInstruments(const std::string& dir, std::string& instruments_path,
                                        std::string& freeze_path);

// A `wojak engine` child process with its log in <dir>/engine.log.
class BenchEngine {
 public:
  // Writes `config_yaml` to <dir>/bench.yaml, starts the engine on ipc://<dir>/engine.sock and
  // waits until it answers a ping.
  static StatusOr<std::unique_ptr<BenchEngine>> Start(const std::string& wojak_binary,
                                                      const std::string& dir,
                                                      const std::string& config_yaml,
                                                      const std::string& instruments_path,
                                                      const std::string& freeze_path);
  // Kills the engine if it still runs.
  ~BenchEngine();
  const std::string& endpoint() const { return endpoint_; }
  pid_t pid() const { return pid_; }
  // Resident set size now, in MiB (-1 when unreadable).
  double RssMb() const;
  // SIGTERM (drain), then waits; the exit code (128 + signal when killed).
  int Stop();

 private:
  BenchEngine(pid_t pid, std::string endpoint) : pid_(pid), endpoint_(std::move(endpoint)) {}
  pid_t pid_;
  std::string endpoint_;
  bool stopped_ = false;
};

struct OrderLoadOptions {
  uint64_t orders = 0;  // across all clients
  int rate = 0;         // orders/s across all clients; 0 = as fast as the window allows
  int clients = 4;
  int window = 256;             // unanswered requests per client
  std::string id_prefix = "b";  // client_order_ids are <prefix><client>-<n>: unique per load
};

struct OrderLoadResult {
  uint64_t orders = 0;  // what was asked (rounded down to a multiple of clients)
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t duplicates = 0;
  uint64_t retries = 0;
  double seconds = 0;
  std::vector<uint32_t> latencies_us;  // acknowledged orders, from their scheduled send time
};

// Sends orders for `instrument` from `clients` threads, open loop at `rate` (latency counts
// from the scheduled send time, so a stalled engine cannot hide its queueing delay).
OrderLoadResult RunOrderLoad(const BenchInstrument& instrument, const std::string& endpoint,
                             const OrderLoadOptions& options);

// The p-quantile (0..1) of `values` (reorders them); 0 when empty.
double Percentile(std::vector<uint32_t>& values, double p);

}  // namespace wojak
