// `wojak bench e2e`: the real durable path (client DEALER -> engine ROUTER -> sequencer -> risk ->
// SQLite journal commit -> reply) against a real engine process, next to the raw limits it is
// compared with, measured in the same run.
#pragma once

#include <string>

#include "common/status.h"

namespace wojak {

struct E2eBenchOptions {
  int orders = 200000;
  int rate = 0;  // orders/s across all clients; 0 = as fast as the window allows
  int clients = 4;
  int window = 256;  // unanswered requests per client
  // The sandbox executor answers only after an hour, so every accepted order is still open at the
  // end and engine_rss_mb is the engine's size holding `orders` open orders.
  bool keep_open = false;
  std::string wojak_binary = "/proc/self/exe";
  std::string instruments_path = "tests/testdata/instruments.csv";
  std::string freeze_path = "tests/testdata/freeze_limits.csv";
  std::string data_dir;  // empty: a fresh directory under /tmp, removed afterwards
};

// One JSON object with the fields of ARCHITECTURE.md §2 (orders, acked, lost, duplicates,
// orders_per_s, p50_us, p99_us, p999_us, raw_zmq_per_s, raw_store_per_s, fsync_p50_us,
// fsync_p99_us, engine_rss_mb) plus the run's parameters.
StatusOr<std::string> RunE2eBench(const E2eBenchOptions& options);

}  // namespace wojak
