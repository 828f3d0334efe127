// `wojak bench source --source mqtt`: a private mosquitto whose persistent sessions for the
// sidecar and for a bare consumer are created before the orders are published, so both find all
// of them queued. Settled orders are the decisions seen on <prefix>/decisions/# (each published
// and acknowledged by the broker before its order's PUBACK); the bare rate is a plain QoS 1
// consumer acknowledging every message.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/source_bench.h"
#include "sidecar/sources/mqtt/mqtt_client.h"

namespace wojak::sidecar::mqtt {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kSidecarClient[] = "wojak-bench-sidecar";
constexpr char kBareClient[] = "wojak-bench-bare";
constexpr char kOrdersFilter[] = "wojak/orders/#";
constexpr int kInflight = 1024;
constexpr size_t kPublishBatch = 2000;

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class MqttBenchBroker final : public SourceBenchBroker {
 public:
  ~MqttBenchBroker() override {
    observer_.reset();
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  Status Start(const std::string& directory) override {
    std::filesystem::create_directories(directory);
    port_ = static_cast<uint16_t>(FreePort());
    const std::string config = directory + "/mosquitto.conf";
    std::ofstream(config) << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n"
                          << "persistence false\nlog_dest stderr\nlog_type error\n"
                          << "max_inflight_messages " << kInflight << "\nmax_queued_messages 0\n"
                          << (geteuid() == 0 ? "user root\n" : "");
    pid_ = fork();
    if (pid_ == 0) {
      execl("/usr/sbin/mosquitto", "mosquitto", "-c", config.c_str(), nullptr);
      _exit(127);
    }
    // Sessions first: messages published before a subscription exists go nowhere.
    const Steady::time_point deadline = Steady::now() + std::chrono::seconds(10);
    for (;;) {
      Status status = CreateSession(kSidecarClient);
      if (status.ok()) break;
      if (Steady::now() > deadline) return status.WithContext("mosquitto did not start");
      std::this_thread::sleep_for(milliseconds(20));
    }
    WOJAK_RETURN_IF_ERROR(CreateSession(kBareClient));
    WOJAK_ASSIGN_OR_RETURN(observer_, MqttClient::Connect(Options("wojak-bench-observer")));
    return observer_->Subscribe({"wojak/decisions/#"}, 1, std::chrono::seconds(5));
  }

  Status Publish(const std::vector<std::string>& orders) override {
    WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<MqttClient> publisher,
                           MqttClient::Connect(Options("wojak-bench-publisher")));
    std::vector<MqttOutgoing> batch;
    for (size_t i = 0; i < orders.size(); ++i) {
      batch.push_back({"wojak/orders/bench", orders[i], 1, false, {}});
      if (batch.size() == kPublishBatch || i + 1 == orders.size()) {
        WOJAK_RETURN_IF_ERROR(publisher->PublishConfirmed(batch, std::chrono::seconds(120)));
        batch.clear();
      }
    }
    publisher->Disconnect();
    return OkStatus();
  }

  std::string SidecarConfig() const override {
    return "    host: 127.0.0.1\n    port: " + std::to_string(port_) +
           "\n    client_id: " + kSidecarClient + "\n    topics: [\"" + kOrdersFilter + "\"]\n";
  }

  StatusOr<uint64_t> Settled() override {
    WOJAK_ASSIGN_OR_RETURN(std::vector<MqttEvent> events, observer_->Read(milliseconds(0)));
    for (const MqttEvent& event : events) {
      if (event.kind != MqttEvent::Kind::kPublish) continue;
      ++decisions_;
      if (event.publish.qos == 1) WOJAK_RETURN_IF_ERROR(observer_->Puback(event.publish.packet_id));
    }
    return decisions_;
  }

  StatusOr<double> BareConsumeRate(uint64_t count) override {
    const Steady::time_point started = Steady::now();
    WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<MqttClient> consumer,
                           MqttClient::Connect(Options(kBareClient)));
    const Steady::time_point deadline = started + std::chrono::seconds(120);
    for (uint64_t received = 0; received < count;) {
      if (Steady::now() > deadline) return DeadlineExceeded("bare consumer too slow");
      WOJAK_ASSIGN_OR_RETURN(std::vector<MqttEvent> events, consumer->Read(milliseconds(100)));
      for (const MqttEvent& event : events) {
        if (event.kind != MqttEvent::Kind::kPublish) continue;
        ++received;
        WOJAK_RETURN_IF_ERROR(consumer->Puback(event.publish.packet_id));
      }
    }
    const double seconds = std::chrono::duration<double>(Steady::now() - started).count();
    consumer->Disconnect();
    return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
  }

 private:
  MqttClientOptions Options(const std::string& client_id) const {
    MqttClientOptions options;
    options.port = port_;
    options.client_id = client_id;
    options.clean_start = false;
    options.keep_alive = std::chrono::seconds(30);
    return options;
  }

  Status CreateSession(const std::string& client_id) {
    WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<MqttClient> client,
                           MqttClient::Connect(Options(client_id)));
    WOJAK_RETURN_IF_ERROR(client->Subscribe({kOrdersFilter}, 1, std::chrono::seconds(5)));
    client->Disconnect();
    return OkStatus();
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<MqttClient> observer_;
  uint64_t decisions_ = 0;
};

[[maybe_unused]] const bool registered =
    RegisterSourceBenchBroker("mqtt", [] { return std::make_unique<MqttBenchBroker>(); });

}  // namespace
}  // namespace wojak::sidecar::mqtt
