// `wojak bench source --source NAME`: orders/s end to end through a broker source (broker ->
// `wojak sidecar` -> engine -> settled with the broker) next to the broker's bare-consumer rate,
// measured in the same run against a broker the benchmark starts on loopback. Generic over
// sources: each broker registers a SourceBenchBroker that knows how to run and inspect it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace wojak {

// One broker for one benchmark run, on 127.0.0.1.
class SourceBenchBroker {
 public:
  virtual ~SourceBenchBroker() = default;
  // Starts the broker (files under `directory`) with an empty order topic/stream.
  virtual Status Start(const std::string& directory) = 0;
  // Publishes order JSON documents; returns once the broker acknowledged all of them.
  virtual Status Publish(const std::vector<std::string>& orders) = 0;
  // The body of the `sources.<name>:` section pointing the sidecar at this broker (YAML, each
  // line indented by four spaces).
  virtual std::string SidecarConfig() const = 0;
  // Orders the sidecar has settled with the broker (committed offsets, ack floor, ...).
  virtual StatusOr<uint64_t> Settled() = 0;
  // Reads `count` published orders with the broker's own client as fast as it can (no engine,
  // no sidecar), on a path that does not disturb the sidecar's: messages/s.
  virtual StatusOr<double> BareConsumeRate(uint64_t count) = 0;
};

using SourceBenchBrokerFactory = std::function<std::unique_ptr<SourceBenchBroker>()>;

// Called from a static initialiser in the broker's folder; returns true.
bool RegisterSourceBenchBroker(const std::string& source, SourceBenchBrokerFactory factory);
std::vector<std::string> SourceBenchBrokers();  // sorted

struct SourceBenchOptions {
  std::string source;
  uint64_t orders = 20000;
  int accounts = 64;  // orders spread over this many accounts (message keys / subjects)
  int window = 1024;  // sidecar.window
  std::string wojak_binary = "/proc/self/exe";
  std::string instruments_path = "tests/testdata/instruments.csv";
  std::string freeze_path = "tests/testdata/freeze_limits.csv";
  std::string data_dir;  // empty: a fresh directory under /tmp, removed afterwards
};

// One JSON object: source, orders, settled, orders_per_s (steady state, first settlement to the
// last), orders_per_s_with_startup (sidecar start to the last), bare_consumer_per_s,
// end_to_end_vs_bare (ratio), startup_s, sidecar_rss_mb.
StatusOr<std::string> RunSourceBench(const SourceBenchOptions& options);

}  // namespace wojak
