// Engine process, instruments and order load for the benchmarks.
#include "bench/engine_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unordered_map>

#include "wojak/client.h"

namespace wojak {
namespace {

using Steady = std::chrono::steady_clock;

void RunClient(const BenchInstrument& instrument, int index, const std::string& endpoint,
               uint64_t orders, double rate_per_client, const OrderLoadOptions& load,
               OrderLoadResult& result) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.max_in_flight = load.window;
  options.connect_timeout = std::chrono::seconds(5);
  auto client = EngineClient::Connect(options);
  if (!client.ok()) return;
  std::unordered_map<uint64_t, Steady::time_point> sent_at;
  sent_at.reserve(load.window * 2);
  result.latencies_us.reserve(orders);
  const std::string id_prefix = load.id_prefix + std::to_string(index) + "-";
  OrderRequest order;
  order.account = "ACC0";
  order.strategy = "bench";
  order.exchange = "NFO";
  order.symbol = instrument.symbol;
  order.quantity = 75;
  order.order_type = OrderType::kLimit;
  order.price = instrument.price;
  const auto start = Steady::now();
  const auto give_up = start + std::chrono::seconds(300);
  uint64_t next = 0;
  while ((result.acked < orders) && Steady::now() < give_up) {
    while (next < orders && static_cast<int>(sent_at.size()) < load.window) {
      Steady::time_point scheduled = Steady::now();
      if (rate_per_client > 0) {
        scheduled =
            start + std::chrono::nanoseconds(static_cast<int64_t>(next * 1e9 / rate_per_client));
        if (scheduled > Steady::now()) break;
      }
      order.client_order_id = id_prefix + std::to_string(next);
      order.account = "ACC" + std::to_string(next % 1000);
      order.side = next % 2 == 0 ? Side::kBuy : Side::kSell;
      auto id = (*client)->Send(order);
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

}  // namespace

const char* const kBenchEngineConfig = R"(session:
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
api:
  enabled: false
log:
  level: warn
)";

StatusOr<std::unique_ptr<BenchDir>> BenchDir::Create(const std::string& given) {
  if (!given.empty()) {
    std::error_code error;
    std::filesystem::create_directories(given, error);
    if (error) return IoError("cannot create " + given + ": " + error.message());
    return std::unique_ptr<BenchDir>(new BenchDir(given, false));
  }
  char pattern[] = "/tmp/wojak-bench-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return IoError("mkdtemp failed");
  return std::unique_ptr<BenchDir>(new BenchDir(pattern, true));
}

BenchDir::~BenchDir() {
  if (!remove_) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

BenchInstrument PrepareBenchInstruments(const std::string& dir, std::string& instruments_path,
                                        std::string& freeze_path) {
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
    instruments_path = dir + "/instruments.csv";
    freeze_path = dir + "/freeze_limits.csv";
  }
  return instrument;
}

StatusOr<std::unique_ptr<BenchEngine>> BenchEngine::Start(const std::string& wojak_binary,
                                                          const std::string& dir,
                                                          const std::string& config_yaml,
                                                          const std::string& instruments_path,
                                                          const std::string& freeze_path) {
  const std::string config_path = dir + "/bench.yaml";
  std::ofstream(config_path) << config_yaml;
  const std::string endpoint = "ipc://" + dir + "/engine.sock";
  pid_t pid = fork();
  if (pid < 0) return Internal("fork failed");
  if (pid == 0) {
    int fd = open((dir + "/engine.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execl(wojak_binary.c_str(), "wojak", "engine", "--config", config_path.c_str(), "--data",
          dir.c_str(), "--endpoint", endpoint.c_str(), "--instruments", instruments_path.c_str(),
          "--freeze", freeze_path.c_str(), nullptr);
    _exit(127);
  }
  std::unique_ptr<BenchEngine> engine(new BenchEngine(pid, endpoint));
  ClientOptions options;
  options.endpoint = endpoint;
  options.connect_timeout = std::chrono::milliseconds(500);
  auto deadline = Steady::now() + std::chrono::seconds(60);
  while (Steady::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      engine->stopped_ = true;
      return Internal("engine exited during start; see " + dir + "/engine.log");
    }
    auto client = EngineClient::Connect(options);
    if (client.ok() && (*client)->Send(PingRequest{}).ok()) {
      auto replies = (*client)->Poll(std::chrono::milliseconds(200));
      if (replies.ok() && !replies->empty()) return engine;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return DeadlineExceeded("engine did not answer a ping within 60 s; see " + dir + "/engine.log");
}

BenchEngine::~BenchEngine() {
  if (stopped_) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

double BenchEngine::RssMb() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

int BenchEngine::Stop() {
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  stopped_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

OrderLoadResult RunOrderLoad(const BenchInstrument& instrument, const std::string& endpoint,
                             const OrderLoadOptions& options) {
  const int clients = std::max(options.clients, 1);
  std::vector<OrderLoadResult> results(clients);
  std::vector<std::thread> threads;
  const uint64_t per_client = options.orders / clients;
  const double rate_per_client = options.rate > 0 ? static_cast<double>(options.rate) / clients : 0;
  const auto start = Steady::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(RunClient, std::cref(instrument), i, std::cref(endpoint), per_client,
                         rate_per_client, std::cref(options), std::ref(results[i]));
  }
  for (auto& t : threads) t.join();
  OrderLoadResult total;
  total.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  total.orders = per_client * clients;
  for (OrderLoadResult& r : results) {
    total.sent += r.sent;
    total.acked += r.acked;
    total.duplicates += r.duplicates;
    total.retries += r.retries;
    total.latencies_us.insert(total.latencies_us.end(), r.latencies_us.begin(),
                              r.latencies_us.end());
  }
  return total;
}

double Percentile(std::vector<uint32_t>& values, double p) {
  if (values.empty()) return 0;
  size_t k = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

}  // namespace wojak
