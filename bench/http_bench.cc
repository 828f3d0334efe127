// `wojak bench http`: real engine and sidecar processes, keep-alive Beast clients in threads.
#include "bench/http_bench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "bench/engine_harness.h"
#include "sidecar/sources/http/http_client.h"

namespace wojak {
namespace {

using Steady = std::chrono::steady_clock;
using sidecar::http::ClientAuth;
using sidecar::http::HttpClient;
using sidecar::http::HttpClientOptions;
using sidecar::http::HttpResult;

constexpr char kBenchKey[] = "bench";
constexpr char kBenchSecret[] = "bench-secret-0123456789abcdef";

// The sidecar as a child process; killed on destruction unless stopped.
class SidecarChild {
 public:
  static StatusOr<std::unique_ptr<SidecarChild>> Start(const std::string& binary,
                                                       const std::string& config_path,
                                                       const std::string& log_path) {
    pid_t pid = fork();
    if (pid < 0) return Internal("fork failed");
    if (pid == 0) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      setenv("WOJAK_SOURCES_HTTP_AUTH_KEYS_BENCH_SECRET", kBenchSecret, 1);
      execl(binary.c_str(), "wojak", "sidecar", "--source", "http", "--config", config_path.c_str(),
            nullptr);
      _exit(127);
    }
    return std::unique_ptr<SidecarChild>(new SidecarChild(pid));
  }
  ~SidecarChild() {
    if (!stopped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool running() {
    if (stopped_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) stopped_ = true;
    return !stopped_;
  }
  double RssMb() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return -1;
  }
  void Stop() {
    if (stopped_) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    stopped_ = true;
  }

 private:
  explicit SidecarChild(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool stopped_ = false;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Waits for the listening port in the sidecar's log and for /readyz (the engine answers).
StatusOr<uint16_t> AwaitReady(SidecarChild& sidecar, const std::string& log_path,
                              const HttpClientOptions& client_template) {
  const std::regex listening(R"("event":"http_source_listening".*"port":([0-9]+))");
  const auto deadline = Steady::now() + std::chrono::seconds(60);
  uint16_t port = 0;
  while (Steady::now() < deadline && sidecar.running()) {
    if (port == 0) {
      std::smatch match;
      const std::string log = ReadAll(log_path);
      if (std::regex_search(log, match, listening)) {
        port = static_cast<uint16_t>(std::stoi(match[1].str()));
      }
    }
    if (port != 0) {
      HttpClientOptions options = client_template;
      options.port = port;
      auto client = HttpClient::Connect(options);
      if (client.ok()) {
        auto ready = (*client)->Get("/readyz");
        if (ready.ok() && ready->status == 200) return port;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Unavailable("sidecar not ready within 60 s; see " + log_path);
}

std::string OrderJson(const BenchInstrument& instrument, const std::string& client_order_id,
                      uint64_t n) {
  nlohmann::json order = {{"client_order_id", client_order_id},
                          {"account", "ACC" + std::to_string(n % 1000)},
                          {"strategy", "bench"},
                          {"exchange", "NFO"},
                          {"symbol", instrument.symbol},
                          {"side", n % 2 == 0 ? "BUY" : "SELL"},
                          {"quantity", 75},
                          {"order_type", "LIMIT"},
                          {"product", "NRML"},
                          {"price", instrument.price.ToString()}};
  return order.dump();
}

struct ClientTotals {
  uint64_t acked = 0;
  uint64_t errors = 0;
  uint64_t requests = 0;
  std::vector<uint32_t> latencies_us;
};

}  // namespace

StatusOr<std::string> RunHttpBench(const HttpBenchOptions& options) {
  if (options.orders == 0 || options.clients < 1 || options.batch < 1) {
    return InvalidArgument("orders, clients and batch must be at least 1");
  }
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<BenchDir> dir, BenchDir::Create(options.data_dir));
  std::string instruments_path = options.instruments_path;
  std::string freeze_path = options.freeze_path;
  const BenchInstrument instrument =
      PrepareBenchInstruments(dir->path(), instruments_path, freeze_path);
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<BenchEngine> engine,
                         BenchEngine::Start(options.wojak_binary, dir->path(), kBenchEngineConfig,
                                            instruments_path, freeze_path));

  const bool signed_requests = options.auth != "none";
  const std::string config_path = dir->path() + "/sidecar.yaml";
  std::ofstream(config_path)
      << "sidecar:\n  endpoint: " << engine->endpoint() << "\n  window: 4096\n"
      << "sources:\n  http:\n    listen: 127.0.0.1:0\n"
      << "    io_threads: " << options.io_threads << "\n"
      << "    max_connections: " << options.clients + 16 << "\n"
      << "    max_batch: " << std::max(options.batch, 100) << "\n"
      << "    queue_capacity: " << std::max<int>(8192, options.clients * options.batch * 2) << "\n"
      << "    auth:\n      mode: " << (signed_requests ? "hmac" : "none") << "\n"
      << (signed_requests ? "      keys:\n        bench:\n          accounts: [\"*\"]\n" : "");
  const std::string log_path = dir->path() + "/sidecar.log";
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<SidecarChild> sidecar,
                         SidecarChild::Start(options.wojak_binary, config_path, log_path));
  HttpClientOptions client_template;
  client_template.auth = signed_requests ? ClientAuth::kHmac : ClientAuth::kNone;
  client_template.key_id = kBenchKey;
  client_template.secret = kBenchSecret;
  StatusOr<uint16_t> port = AwaitReady(*sidecar, log_path, client_template);
  if (!port.ok()) {
    dir->Keep();
    return port.status();
  }
  client_template.port = *port;
  // Idle footprint: started, connected to the engine, nothing sent yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const double idle_rss_mb = sidecar->RssMb();

  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < options.clients; ++i) {
    auto client = HttpClient::Connect(client_template);
    if (!client.ok()) return client.status();
    clients.push_back(std::move(client).value());
  }

  // Raw HTTP: the same connections and the same sidecar, answering without the engine.
  const uint64_t raw_requests_per_client =
      std::max<uint64_t>(200, options.orders / options.batch / options.clients / 4);
  std::atomic<uint64_t> raw_done{0};
  const auto raw_start = Steady::now();
  {
    std::vector<std::thread> threads;
    for (auto& client : clients) {
      threads.emplace_back([&, client = client.get()] {
        for (uint64_t i = 0; i < raw_requests_per_client; ++i) {
          auto result = client->Get("/healthz");
          if (result.ok() && result->status == 200) raw_done.fetch_add(1);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  const double raw_seconds = std::chrono::duration<double>(Steady::now() - raw_start).count();

  // The load: each client sends its share sequentially on its kept-alive connection.
  const uint64_t per_client = options.orders / static_cast<uint64_t>(options.clients);
  std::vector<ClientTotals> totals(static_cast<size_t>(options.clients));
  std::atomic<bool> load_running{true};
  std::atomic<double> peak_rss_mb{idle_rss_mb};
  std::thread sampler([&] {
    while (load_running.load()) {
      const double rss = sidecar->RssMb();
      if (rss > peak_rss_mb.load()) peak_rss_mb.store(rss);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const auto load_start = Steady::now();
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < options.clients; ++c) {
      threads.emplace_back([&, c] {
        ClientTotals& mine = totals[static_cast<size_t>(c)];
        mine.latencies_us.reserve(per_client / options.batch + 1);
        const std::string prefix = "h" + std::to_string(c) + "-";
        for (uint64_t n = 0; n < per_client;) {
          const uint64_t count = std::min<uint64_t>(options.batch, per_client - n);
          std::string body;
          if (options.batch == 1) {
            body = OrderJson(instrument, prefix + std::to_string(n), n);
          } else {
            body = "[";
            for (uint64_t i = 0; i < count; ++i) {
              if (i > 0) body += ",";
              body += OrderJson(instrument, prefix + std::to_string(n + i), n + i);
            }
            body += "]";
          }
          const auto sent = Steady::now();
          StatusOr<HttpResult> result = clients[static_cast<size_t>(c)]->Post("/v1/orders", body);
          const auto latency =
              std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - sent);
          ++mine.requests;
          if (result.ok() && result->status == 200) {
            mine.acked += count;
            mine.latencies_us.push_back(static_cast<uint32_t>(latency.count()));
            n += count;
          } else {
            // Not decided (503) or refused: counted, then sent again (idempotent).
            ++mine.errors;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  const double load_seconds = std::chrono::duration<double>(Steady::now() - load_start).count();
  load_running = false;
  sampler.join();
  clients.clear();
  sidecar->Stop();
  engine->Stop();

  uint64_t acked = 0, errors = 0, requests = 0;
  std::vector<uint32_t> latencies;
  for (ClientTotals& t : totals) {
    acked += t.acked;
    errors += t.errors;
    requests += t.requests;
    latencies.insert(latencies.end(), t.latencies_us.begin(), t.latencies_us.end());
  }
  nlohmann::json report = {
      {"orders", per_client * options.clients},
      {"acked", acked},
      {"errors", errors},
      {"orders_per_s", load_seconds > 0 ? acked / load_seconds : 0},
      {"requests_per_s", load_seconds > 0 ? (requests - errors) / load_seconds : 0},
      {"p50_us", Percentile(latencies, 0.50)},
      {"p99_us", Percentile(latencies, 0.99)},
      {"raw_http_per_s", raw_seconds > 0 ? raw_done.load() / raw_seconds : 0},
      {"sidecar_rss_mb", idle_rss_mb},
      {"sidecar_rss_mb_peak", peak_rss_mb.load()},
      {"clients", options.clients},
      {"batch", options.batch},
      {"auth", signed_requests ? "hmac" : "none"},
      {"io_threads", options.io_threads},
  };
  return report.dump();
}

}  // namespace wojak
