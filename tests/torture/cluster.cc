// Cluster: configuration, start with readiness from the process's own log, SIGKILL, graceful stop.
#include "cluster.h"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace wojak::torture {
namespace {

using namespace std::chrono_literals;

std::string Tail(const std::string& path, size_t bytes) {
  std::string text = testing::ReadFile(path);
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

uintmax_t FileSize(const std::string& path) {
  std::error_code error;
  uintmax_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// Risk limits off and the session open at any hour: decisions depend on the order alone, so
// breaching orders are exactly those the clients build to breach (quantity not a lot multiple).
// The sidecar gives up on a silent engine quickly and reconnects fast, so kills cost little time.
std::string ConfigText(const Cluster& cluster, uint64_t seed) {
  const std::string endpoint = "ipc://" + cluster.data_dir() + "/engine.sock";
  return "engine:\n"
         "  data_dir: " +
         cluster.data_dir() +
         "\n"
         "  endpoint: " +
         endpoint +
         "\n"
         "  instruments: " +
         cluster.instruments_path() +
         "\n"
         "  freeze_limits: " +
         cluster.freeze_path() +
         "\n"
         "session:\n"
         "  enforce: false\n"
         "risk:\n"
         "  limits:\n"
         "    max_orders_per_second: none\n"
         "    max_open_orders: none\n"
         "    max_daily_orders: none\n"
         "    max_exposure: none\n"
         "    max_order_value: none\n"
         "    max_position_lots_per_instrument: none\n"
         "    max_position_lots_per_underlying: none\n"
         "    max_daily_loss: none\n"
         "executor:\n"
         "  kind: sandbox\n"
         "  sandbox:\n"
         "    seed: " +
         std::to_string(seed % 1000000007) +
         "\n"
         "    fill_ratio: 0.8\n"
         "    latency_max: 100ms\n"
         "api:\n"
         "  enabled: false\n"
         "sidecar:\n"
         "  endpoint: " +
         endpoint +
         "\n"
         "  request_timeout: 2s\n"
         "  backoff_initial: 10ms\n"
         "  backoff_max: 200ms\n"
         "  reconnect_interval: 20ms\n"
         "  heartbeat_interval: 250ms\n"
         "sources:\n"
         "  http:\n"
         "    listen: 127.0.0.1:" +
         std::to_string(cluster.http_port()) +
         "\n"
         "    auth:\n"
         "      mode: hmac\n"
         "      keys:\n"
         "        " +
         cluster.key_id() +
         ":\n"
         "          accounts: [\"*\"]\n"
         "          secret_file: " +
         cluster.work_dir() + "/http-secret\n";
}

std::string RandomSecret() {
  std::random_device device;
  std::string secret;
  const char* digits = "0123456789abcdef";
  for (int i = 0; i < 48; ++i) secret += digits[device() % 16];
  return secret;
}

}  // namespace

StatusOr<std::unique_ptr<Cluster>> Cluster::Create(const ClusterOptions& options) {
  std::unique_ptr<Cluster> cluster(new Cluster(options));
  if (options.work_dir.empty()) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/wojak-torture-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return IoError("mkdtemp " + pattern + " failed");
    cluster->work_dir_ = pattern;
    cluster->owns_work_dir_ = true;
  } else {
    cluster->work_dir_ = options.work_dir;
  }
  std::error_code error;
  std::filesystem::create_directories(cluster->data_dir(), error);
  std::filesystem::create_directories(cluster->log_dir(), error);
  if (error) return IoError("creating " + cluster->work_dir_ + ": " + error.message());

  // gen-instruments prints the nearest unexpired NIFTY future and its price.
  setenv("WOJAK_SOURCE_DIR", options.source_dir.c_str(), 1);
  try {
    testing::InstrumentFixture fixture = testing::GenerateInstruments(cluster->work_dir_);
    cluster->instruments_path_ = fixture.instruments_path;
    cluster->freeze_path_ = fixture.freeze_path;
    cluster->symbol_ = fixture.future_symbol;
    cluster->price_ = fixture.future_price;
  } catch (const std::exception& failure) {
    return Internal(std::string("generating instruments: ") + failure.what());
  }

  cluster->secret_ = RandomSecret();
  const std::string secret_path = cluster->work_dir_ + "/http-secret";
  testing::WriteFile(secret_path, cluster->secret_ + "\n");
  ::chmod(secret_path.c_str(), 0600);
  cluster->http_port_ = static_cast<uint16_t>(testing::FreeLoopbackPort());
  cluster->config_path_ = cluster->work_dir_ + "/wojak.yaml";
  testing::WriteFile(cluster->config_path_, ConfigText(*cluster, options.seed));
  return cluster;
}

Cluster::~Cluster() {
  sidecar_.Kill();
  engine_.Kill();
  if (owns_work_dir_ && !keep_) {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir_, ignored);
  }
}

Status Cluster::StartProcess(testing::ChildProcess& process, const std::vector<std::string>& argv,
                             const std::string& log_name, std::string_view ready_event) {
  const std::string log_path = log_dir() + "/" + log_name;
  // The log is appended to across restarts: readiness is the event after the old end.
  const uintmax_t start_offset = FileSize(log_path);
  process = testing::ChildProcess::Start(argv, log_path);
  const std::string marker = "\"" + std::string(ready_event) + "\"";
  bool ready = testing::WaitUntil(
      [&] {
        std::ifstream in(log_path);
        in.seekg(static_cast<std::streamoff>(start_offset));
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return text.find(marker) != std::string::npos || !process.running();
      },
      options_.ready_timeout);
  if (ready && process.running()) return OkStatus();
  process.Kill();
  return Unavailable(argv[1] + " did not become ready (" + std::string(ready_event) +
                     "); last lines of " + log_path + ":\n" + Tail(log_path, 2000));
}

Status Cluster::StartEngine() {
  return StartProcess(engine_,
                      {options_.wojak_binary, "engine", "--config", config_path_, "--data",
                       data_dir(), "--instruments", instruments_path_, "--freeze", freeze_path_},
                      "engine.log", "engine_ready");
}

Status Cluster::StartSidecar() {
  return StartProcess(
      sidecar_, {options_.wojak_binary, "sidecar", "--source", "http", "--config", config_path_},
      "sidecar.log", "http_source_listening");
}

void Cluster::KillEngine() { engine_.Kill(); }

void Cluster::KillSidecar() { sidecar_.Kill(); }

Status Cluster::Stop() {
  Status status = OkStatus();
  for (testing::ChildProcess* process : {&sidecar_, &engine_}) {
    if (!process->running()) continue;
    process->Signal(SIGTERM);
    const int exit_code = process->Wait(30s);
    if (exit_code == -1) {
      process->Kill();
      status = DeadlineExceeded("a process did not stop within 30 s of SIGTERM");
    } else if (exit_code != 0 && status.ok()) {
      status =
          Internal("a process exited with status " + std::to_string(exit_code) + " after SIGTERM");
    }
  }
  return status;
}

}  // namespace wojak::torture
