// `wojak bench http`: orders/s and latency through the HTTP source end to end (keep-alive HTTP
// clients -> `wojak sidecar --source http` -> engine -> durable decision -> 200), next to the raw
// HTTP round-trip rate of the same sidecar (GET /healthz on the same connections), measured in the
// same run against real engine and sidecar processes.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace wojak {

struct HttpBenchOptions {
  uint64_t orders = 100000;
  int clients = 64;           // keep-alive connections, one synchronous client thread each
  int batch = 1;              // orders per request (1 = one order per POST; more = a JSON array)
  std::string auth = "hmac";  // hmac (every request signed) or none
  int io_threads = 1;         // sources.http.io_threads
  std::string wojak_binary = "/proc/self/exe";
  std::string instruments_path = "tests/testdata/instruments.csv";
  std::string freeze_path = "tests/testdata/freeze_limits.csv";
  std::string data_dir;  // empty: a fresh directory under /tmp, removed afterwards
};

// One JSON object: orders, acked, errors, orders_per_s, requests_per_s, p50_us, p99_us (per
// request, send to response), raw_http_per_s (GET /healthz, same clients), sidecar_rss_mb (idle,
// after start), sidecar_rss_mb_peak (during the load), and the run's parameters.
StatusOr<std::string> RunHttpBench(const HttpBenchOptions& options);

}  // namespace wojak
