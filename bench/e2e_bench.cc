// End-to-end benchmark against a real engine process.
#include "bench/e2e_bench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/store_probe.h"
#include "bench/zmq_probe.h"
#include "common/clock.h"
#include "wojak/client.h"

namespace wojak {
namespace {

using Steady = std::chrono::steady_clock;

// Limits that would throttle a load test are off; the rules themselves all run.
constexpr const char* kBenchConfig = R"(session:
  enforce: false
risk:
  limits:
    max_orders_per_second: none
    max_open_orders: none
    max_daily_orders: none
    max_exposure: none
    max_order_value: none
    max_position_lots_per_instrument: none
    max_position_lots_per_underlying: none
    max_daily_loss: none
executor:
  kind: sandbox
  sandbox:
    fill_ratio: 0.9
    latency_min: 1ms
    latency_max: 5ms
log:
  level: warn
)";

struct ClientResult {
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t duplicates = 0;
  uint64_t retries = 0;
  std::vector<uint32_t> latencies_us;
};

double ReadRssMb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

pid_t StartEngine(const E2eBenchOptions& o, const std::string& dir, const std::string& endpoint) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open((dir + "/engine.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execl(o.wojak_binary.c_str(), "wojak", "engine", "--config", (dir + "/bench.yaml").c_str(),
          "--data", dir.c_str(), "--endpoint", endpoint.c_str(), "--instruments",
          o.instruments_path.c_str(), "--freeze", o.freeze_path.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

Status WaitForEngine(const std::string& endpoint, pid_t pid) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.connect_timeout = std::chrono::milliseconds(500);
  auto deadline = Steady::now() + std::chrono::seconds(60);
  while (Steady::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return Internal("engine exited during start");
    auto client = EngineClient::Connect(options);
    if (client.ok() && (*client)->Send(PingRequest{}).ok()) {
      auto replies = (*client)->Poll(std::chrono::milliseconds(200));
      if (replies.ok() && !replies->empty()) return OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return DeadlineExceeded("engine did not answer a ping within 60 s");
}

struct BenchInstrument {
  std::string symbol = "NIFTY26DECFUT";
  Paise price = Paise::FromRupees(26065);
};

// Fresh contracts that have not expired (scripts/gen-instruments --from this month), so the
// benchmark measures accepted orders whatever the date; falls back to the committed fixture.
BenchInstrument PrepareInstruments(E2eBenchOptions& o, const std::string& dir) {
  BenchInstrument instrument;
  if (access("scripts/gen-instruments", X_OK) != 0) return instrument;
  time_t now = time(nullptr);
  tm utc{};
  gmtime_r(&now, &utc);
  char month[16];
  strftime(month, sizeof month, "%Y-%m", &utc);
  std::string command = "scripts/gen-instruments '" + dir + "' --from " + month;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return instrument;
  char symbol[64] = {}, price[32] = {};
  bool parsed = fscanf(pipe, "%63s %31s", symbol, price) == 2;
  if (pclose(pipe) == 0 && parsed && Paise::Parse(price).ok()) {
    instrument.symbol = symbol;
    instrument.price = *Paise::Parse(price);
    o.instruments_path = dir + "/instruments.csv";
    o.freeze_path = dir + "/freeze_limits.csv";
  }
  return instrument;
}

OrderRequest BenchOrder(const BenchInstrument& instrument, int client, uint64_t n) {
  OrderRequest o;
  o.client_order_id = "b" + std::to_string(client) + "-" + std::to_string(n);
  o.account = "ACC" + std::to_string(n % 1000);
  o.strategy = "bench";
  o.exchange = "NFO";
  o.symbol = instrument.symbol;
  o.side = n % 2 == 0 ? Side::kBuy : Side::kSell;
  o.quantity = 75;
  o.order_type = OrderType::kLimit;
  o.price = instrument.price;
  return o;
}

void RunClient(const BenchInstrument& instrument, int index, const std::string& endpoint,
               uint64_t orders, double rate_per_client, int window, ClientResult& result) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.max_in_flight = window;
  options.connect_timeout = std::chrono::seconds(5);
  auto client = EngineClient::Connect(options);
  if (!client.ok()) return;
  std::unordered_map<uint64_t, Steady::time_point> sent_at;
  sent_at.reserve(window * 2);
  result.latencies_us.reserve(orders);
  const auto start = Steady::now();
  const auto give_up = start + std::chrono::seconds(300);
  uint64_t next = 0;
  while ((result.acked < orders) && Steady::now() < give_up) {
    while (next < orders && static_cast<int>(sent_at.size()) < window) {
      // Open loop at a fixed rate: latency counts from the scheduled send time, so a stalled
      // engine cannot hide its queueing delay (no coordinated omission).
      Steady::time_point scheduled = Steady::now();
      if (rate_per_client > 0) {
        scheduled =
            start + std::chrono::nanoseconds(static_cast<int64_t>(next * 1e9 / rate_per_client));
        if (scheduled > Steady::now()) break;
      }
      auto id = (*client)->Send(BenchOrder(instrument, index, next));
      if (!id.ok()) break;
      sent_at.emplace(*id, scheduled);
      ++next;
      ++result.sent;
    }
    // Paced clients must not oversleep a scheduled send; they nap 50 µs between polls instead.
    auto replies = (*client)->Poll(std::chrono::milliseconds(rate_per_client > 0 ? 0 : 1));
    if (!replies.ok()) break;
    if (rate_per_client > 0 && replies->empty()) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    const auto now = Steady::now();
    for (const Reply& reply : *replies) {
      auto it = sent_at.find(reply.request_id);
      if (it == sent_at.end()) continue;
      if (reply.decision.kind == DecisionKind::kRetry || !reply.error.empty()) {
        ++result.retries;  // counted, not acked: lost unless resent, so the run reports it
        sent_at.erase(it);
        continue;
      }
      if (reply.decision.kind == DecisionKind::kDuplicate) ++result.duplicates;
      ++result.acked;
      result.latencies_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - it->second).count()));
      sent_at.erase(it);
    }
    if (next >= orders && sent_at.empty()) break;
  }
}

double Percentile(std::vector<uint32_t>& values, double p) {
  if (values.empty()) return 0;
  size_t k = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

}  // namespace

StatusOr<std::string> RunE2eBench(const E2eBenchOptions& options) {
  E2eBenchOptions o = options;
  std::string dir = o.data_dir;
  bool remove_dir = false;
  if (dir.empty()) {
    char pattern[] = "/tmp/wojak-bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return IoError("mkdtemp failed");
    dir = pattern;
    remove_dir = true;
  }
  std::ofstream(dir + "/bench.yaml") << kBenchConfig;
  const BenchInstrument instrument = o.instruments_path == E2eBenchOptions{}.instruments_path
                                         ? PrepareInstruments(o, dir)
                                         : BenchInstrument{};
  const std::string endpoint = "ipc://" + dir + "/engine.sock";

  pid_t engine = StartEngine(o, dir, endpoint);
  Status ready = WaitForEngine(endpoint, engine);
  if (!ready.ok()) {
    kill(engine, SIGKILL);
    waitpid(engine, nullptr, 0);
    return ready.WithContext("see " + dir + "/engine.log");
  }

  std::vector<ClientResult> results(o.clients);
  std::vector<std::thread> threads;
  const uint64_t per_client = o.orders / o.clients;
  const double rate_per_client = o.rate > 0 ? static_cast<double>(o.rate) / o.clients : 0;
  const auto start = Steady::now();
  for (int i = 0; i < o.clients; ++i) {
    threads.emplace_back(RunClient, std::cref(instrument), i, endpoint, per_client, rate_per_client,
                         o.window, std::ref(results[i]));
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  const double rss_mb = ReadRssMb(engine);
  kill(engine, SIGTERM);
  int status = 0;
  waitpid(engine, &status, 0);

  ClientResult total;
  for (ClientResult& r : results) {
    total.sent += r.sent;
    total.acked += r.acked;
    total.duplicates += r.duplicates;
    total.retries += r.retries;
    total.latencies_us.insert(total.latencies_us.end(), r.latencies_us.begin(),
                              r.latencies_us.end());
  }
  const uint64_t orders = per_client * o.clients;

  auto raw_zmq = RawZmqProbe(static_cast<int>(std::min<uint64_t>(orders, 200000)), o.window);
  auto raw_store = RawStoreProbe(dir, static_cast<int>(std::min<uint64_t>(orders, 200000)), 256);
  auto fsync = FsyncProbe(dir, 300);

  nlohmann::json out = {
      {"orders", orders},
      {"acked", total.acked},
      {"lost", orders - total.acked},
      {"duplicates", total.duplicates},
      {"retries", total.retries},
      {"orders_per_s", seconds > 0 ? total.acked / seconds : 0},
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
      {"engine_exit_code", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)}};
  if (remove_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return out.dump();
}

}  // namespace wojak
