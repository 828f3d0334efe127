// End-to-end benchmark against a real engine process.
#include "bench/e2e_bench.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "bench/engine_harness.h"
#include "bench/store_probe.h"
#include "bench/zmq_probe.h"

namespace wojak {

StatusOr<std::string> RunE2eBench(const E2eBenchOptions& options) {
  E2eBenchOptions o = options;
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<BenchDir> bench_dir, BenchDir::Create(o.data_dir));
  const std::string& dir = bench_dir->path();
  const BenchInstrument instrument =
      o.instruments_path == E2eBenchOptions{}.instruments_path
          ? PrepareBenchInstruments(dir, o.instruments_path, o.freeze_path)
          : BenchInstrument{};
  std::string config = kBenchEngineConfig;
  if (o.keep_open) {
    const std::string latency = "    latency_min: 1ms\n    latency_max: 5ms\n";
    config.replace(config.find(latency), latency.size(),
                   "    latency_min: 3600s\n    latency_max: 3600s\n");
  }
  auto started =
      BenchEngine::Start(o.wojak_binary, dir, config, o.instruments_path, o.freeze_path);
  if (!started.ok()) {
    bench_dir->Keep();
    return started.status();
  }
  std::unique_ptr<BenchEngine> engine = std::move(started).value();

  OrderLoadOptions load;
  load.orders = static_cast<uint64_t>(o.orders);
  load.rate = o.rate;
  load.clients = o.clients;
  load.window = o.window;
  OrderLoadResult total = RunOrderLoad(instrument, engine->endpoint(), load);
  const double rss_mb = engine->RssMb();
  const int exit_code = engine->Stop();
  const uint64_t orders = total.orders;

  auto raw_zmq = RawZmqProbe(static_cast<int>(std::min<uint64_t>(orders, 200000)), o.window);
  auto raw_store = RawStoreProbe(dir, static_cast<int>(std::min<uint64_t>(orders, 200000)), 256);
  auto fsync = FsyncProbe(dir, 300);

  nlohmann::json out = {{"orders", orders},
                        {"acked", total.acked},
                        {"lost", orders - total.acked},
                        {"duplicates", total.duplicates},
                        {"retries", total.retries},
                        {"orders_per_s", total.seconds > 0 ? total.acked / total.seconds : 0},
                        {"p50_us", Percentile(total.latencies_us, 0.50)},
                        {"p99_us", Percentile(total.latencies_us, 0.99)},
                        {"p999_us", Percentile(total.latencies_us, 0.999)},
                        {"raw_zmq_per_s", raw_zmq.ok() ? *raw_zmq : -1},
                        {"raw_store_per_s", raw_store.ok() ? *raw_store : -1},
                        {"fsync_p50_us", fsync.ok() ? fsync->p50_us : -1},
                        {"fsync_p99_us", fsync.ok() ? fsync->p99_us : -1},
                        {"engine_rss_mb", rss_mb},
                        {"clients", o.clients},
                        {"window", o.window},
                        {"rate", o.rate},
                        {"keep_open", o.keep_open},
                        {"engine_exit_code", exit_code}};
  return out.dump();
}

}  // namespace wojak
