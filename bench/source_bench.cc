// `wojak bench source`: a preloaded broker drained by a real sidecar process into a real engine
// process, timed by how fast the broker sees messages settled, next to a bare consumer's rate.
#include "bench/source_bench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "wojak/client.h"

namespace wojak {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Limits that would throttle a load test are off; every rule still runs.
constexpr const char* kEngineConfig = R"(session:
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

std::map<std::string, SourceBenchBrokerFactory>& Brokers() {
  static auto* brokers = new std::map<std::string, SourceBenchBrokerFactory>();
  return *brokers;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

bool Exited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid;
}

void StopProcess(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  const Steady::time_point deadline = Steady::now() + std::chrono::seconds(20);
  while (!Exited(pid)) {
    if (Steady::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

std::string ReadText(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

double RssMb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

// A valid order without client_order_id: the sidecar derives one from the broker's identity.
std::string BenchOrder(uint64_t n, int accounts) {
  nlohmann::json order = {{"account", "ACC" + std::to_string(n % accounts)},
                          {"strategy", "bench"},
                          {"exchange", "NFO"},
                          {"symbol", "NIFTY26DECFUT"},
                          {"side", n % 2 == 0 ? "BUY" : "SELL"},
                          {"quantity", 75},
                          {"order_type", "LIMIT"},
                          {"product", "NRML"},
                          {"price", "26065.00"},
                          {"validity", "DAY"}};
  return order.dump();
}

// Processes and the scratch directory of one run, cleaned up however the run ends.
struct Run {
  std::string directory;
  bool remove_directory = false;
  pid_t engine = -1;
  pid_t sidecar = -1;
  std::unique_ptr<SourceBenchBroker> broker;
  ~Run() {
    StopProcess(sidecar);
    StopProcess(engine);
    broker.reset();
    if (remove_directory) std::filesystem::remove_all(directory);
  }
};

}  // namespace

bool RegisterSourceBenchBroker(const std::string& source, SourceBenchBrokerFactory factory) {
  Brokers()[source] = std::move(factory);
  return true;
}

std::vector<std::string> SourceBenchBrokers() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Brokers()) names.push_back(name);
  return names;
}

StatusOr<std::string> RunSourceBench(const SourceBenchOptions& options) {
  auto factory = Brokers().find(options.source);
  if (factory == Brokers().end()) {
    std::string known;
    for (const std::string& name : SourceBenchBrokers())
      known += (known.empty() ? "" : ", ") + name;
    return NotFound("no benchmark broker for source '" + options.source + "' (have: " + known +
                    ")");
  }
  Run run;
  if (options.data_dir.empty()) {
    char pattern[] = "/tmp/wojak-source-bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return IoError("mkdtemp failed");
    run.directory = pattern;
    run.remove_directory = true;
  } else {
    run.directory = options.data_dir;
    std::filesystem::create_directories(run.directory);
  }
  const std::string wojak = options.wojak_binary == "/proc/self/exe"
                                ? std::filesystem::read_symlink("/proc/self/exe").string()
                                : options.wojak_binary;

  run.broker = factory->second();
  WOJAK_RETURN_IF_ERROR(run.broker->Start(run.directory + "/broker").WithContext("broker"));
  std::vector<std::string> orders;
  orders.reserve(options.orders);
  for (uint64_t n = 0; n < options.orders; ++n) orders.push_back(BenchOrder(n, options.accounts));
  WOJAK_RETURN_IF_ERROR(run.broker->Publish(orders).WithContext("preloading orders"));
  StatusOr<double> bare = run.broker->BareConsumeRate(options.orders);
  if (!bare.ok()) return bare.status().WithContext("bare consumer");

  std::ofstream(run.directory + "/engine.yaml") << kEngineConfig;
  const std::string endpoint = "ipc://" + run.directory + "/engine.sock";
  run.engine = Spawn({wojak, "engine", "--config", run.directory + "/engine.yaml", "--data",
                      run.directory, "--endpoint", endpoint, "--instruments",
                      options.instruments_path, "--freeze", options.freeze_path},
                     run.directory + "/engine.log");
  // The engine logs at warn (engine_ready is info): it is ready when it answers a ping.
  const Steady::time_point engine_deadline = Steady::now() + std::chrono::seconds(60);
  ClientOptions client_options;
  client_options.endpoint = endpoint;
  client_options.connect_timeout = milliseconds(500);
  for (bool ready = false; !ready;) {
    if (Exited(run.engine)) run.engine = -1;  // reaped: nothing left to stop
    if (run.engine < 0 || Steady::now() > engine_deadline) {
      return Unavailable("engine did not start: " + ReadText(run.directory + "/engine.log"));
    }
    auto client = EngineClient::Connect(client_options);
    if (client.ok() && (*client)->Send(PingRequest{}).ok()) {
      auto replies = (*client)->Poll(milliseconds(200));
      ready = replies.ok() && !replies->empty();
    }
    if (!ready) std::this_thread::sleep_for(milliseconds(50));
  }

  std::ofstream(run.directory + "/sidecar.yaml")
      << "sidecar:\n  window: " << options.window
      << "\n  request_timeout: 10s\nlog:\n  level: warn\nsources:\n  " << options.source << ":\n"
      << run.broker->SidecarConfig();
  const Steady::time_point started = Steady::now();
  run.sidecar = Spawn({wojak, "sidecar", "--source", options.source, "--config",
                       run.directory + "/sidecar.yaml", "--endpoint", endpoint},
                      run.directory + "/sidecar.log");
  uint64_t settled = 0;
  uint64_t first_settled = 0;
  Steady::time_point first_at;
  double sidecar_rss_mb = -1;
  const Steady::time_point give_up = started + std::chrono::seconds(600);
  while (settled < options.orders) {
    if (Exited(run.sidecar)) {
      run.sidecar = -1;
      return Unavailable("sidecar exited: " + ReadText(run.directory + "/sidecar.log"));
    }
    if (Steady::now() > give_up) break;
    StatusOr<uint64_t> now_settled = run.broker->Settled();
    if (now_settled.ok()) {
      if (settled == 0 && *now_settled > 0) {
        first_settled = *now_settled;
        first_at = Steady::now();
      }
      settled = *now_settled;
      sidecar_rss_mb = std::max(sidecar_rss_mb, RssMb(run.sidecar));
    }
    if (settled < options.orders) std::this_thread::sleep_for(milliseconds(20));
  }
  const Steady::time_point finished = Steady::now();
  if (settled < options.orders) {
    return DeadlineExceeded("only " + std::to_string(settled) + " of " +
                            std::to_string(options.orders) + " orders settled in 600 s");
  }
  auto seconds = [](Steady::duration d) { return std::chrono::duration<double>(d).count(); };
  // Steady state: from the first settlement seen to the last, so group joins and connection
  // set-up do not count against the source.
  const double steady_seconds = seconds(finished - first_at);
  const double steady_rate = steady_seconds > 0 && settled > first_settled
                                 ? static_cast<double>(settled - first_settled) / steady_seconds
                                 : static_cast<double>(settled) / seconds(finished - started);
  const double with_startup = static_cast<double>(settled) / seconds(finished - started);
  nlohmann::json result = {{"source", options.source},
                           {"orders", options.orders},
                           {"settled", settled},
                           {"orders_per_s", static_cast<int64_t>(steady_rate)},
                           {"orders_per_s_with_startup", static_cast<int64_t>(with_startup)},
                           {"bare_consumer_per_s", static_cast<int64_t>(*bare)},
                           {"end_to_end_vs_bare", *bare > 0 ? steady_rate / *bare : 0.0},
                           {"startup_s", seconds(first_at - started)},
                           {"sidecar_rss_mb", sidecar_rss_mb},
                           {"accounts", options.accounts},
                           {"window", options.window}};
  return result.dump();
}

}  // namespace wojak
