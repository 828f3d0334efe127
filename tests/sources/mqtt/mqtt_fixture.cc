// Conformance fixture for the MQTT source: a private mosquitto per test. An ack is the decision
// the sidecar published on wojak/decisions/<account>; a dead letter is the envelope on
// wojak/dead-letter; a nack is the source's debug line. The ordering key is the topic's last
// level; one publisher connection and QoS 1 keep each topic in order.
#include <atomic>
#include <mutex>
#include <thread>

#include "conformance/harness.h"
#include "mosquitto_broker.h"
#include "support/process.h"

namespace wojak::conformance {
namespace {

using namespace std::chrono_literals;
namespace mq = sidecar::mqtt;
using ::wojak::testing::MosquittoBroker;

class MqttFixture final : public SourceFixture {
 public:
  ~MqttFixture() override { Stop(); }

  Status Start(const std::string& directory) override {
    broker_ = std::make_unique<MosquittoBroker>(directory, "max_inflight_messages 100\n");
    WOJAK_ASSIGN_OR_RETURN(
        publisher_, mq::MqttClient::Connect(broker_->ClientOptions("conformance-publisher")));
    WOJAK_ASSIGN_OR_RETURN(reader_client_,
                           mq::MqttClient::Connect(broker_->ClientOptions("conformance-reader")));
    WOJAK_RETURN_IF_ERROR(
        reader_client_->Subscribe({"wojak/decisions/#", "wojak/dead-letter"}, 1, 5s));
    reader_ = std::thread([this] { Read(); });
    return OkStatus();
  }

  std::string SourceConfig() const override {
    return "    host: 127.0.0.1\n"
           "    port: " +
           std::to_string(broker_->port()) +
           "\n"
           "    client_id: conformance-sidecar\n"
           "    reconnect_initial: 50ms\n";
  }

  std::vector<std::string> SidecarEnvironment() const override { return {"WOJAK_LOG_LEVEL=debug"}; }

  Status SidecarStarted(const std::string& log_path) override {
    log_path_ = log_path;
    if (!::wojak::testing::WaitUntil(
            [&] {
              return ::wojak::testing::ReadFile(log_path).find("mqtt_connected") !=
                     std::string::npos;
            },
            30s)) {
      return DeadlineExceeded("the sidecar never connected to mosquitto");
    }
    return OkStatus();
  }

  Status Publish(const std::string& body, const std::string& ordering_key) override {
    mq::MqttOutgoing message{"wojak/orders/" + ordering_key, body, 1, false, {}};
    std::lock_guard lock(publish_mutex_);
    return publisher_->PublishConfirmed({&message, 1}, 10s);
  }

  std::vector<Acked> AckedMessages() override {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::vector<DeadLettered> DeadLetteredMessages() override {
    std::lock_guard lock(mutex_);
    return dead_lettered_;
  }
  size_t NackCount() override {
    if (log_path_.empty()) return 0;
    return ::wojak::testing::CountInFile(log_path_, "mqtt_message_nacked");
  }
  bool PromisesOrdering() const override { return true; }

  void Stop() override {
    stopping_ = true;
    if (reader_.joinable()) reader_.join();
    reader_client_.reset();
    publisher_.reset();
    broker_.reset();
  }

 private:
  void Read() {
    while (!stopping_) {
      auto events = reader_client_->Read(20ms);
      if (!events.ok()) return;
      for (mq::MqttEvent& event : *events) {
        if (event.kind != mq::MqttEvent::Kind::kPublish) continue;
        const mq::PublishPacket& publish = event.publish;
        if (publish.qos == 1) reader_client_->Puback(publish.packet_id).IgnoreError();
        nlohmann::json json = nlohmann::json::parse(publish.payload, nullptr, false);
        std::lock_guard lock(mutex_);
        if (publish.topic == "wojak/dead-letter") {
          dead_lettered_.push_back({json.value("payload", ""), json.value("reason", "")});
        } else if (!json.contains("error")) {
          // Decisions for dead letters carry "error"; they are not acks of a decided order.
          acked_.push_back({json.value("client_order_id", ""), json.value("decision", ""), json});
        }
      }
    }
  }

  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<mq::MqttClient> publisher_;
  std::unique_ptr<mq::MqttClient> reader_client_;
  std::mutex publish_mutex_;
  std::thread reader_;
  std::atomic<bool> stopping_{false};
  std::string log_path_;
  std::mutex mutex_;
  std::vector<Acked> acked_;
  std::vector<DeadLettered> dead_lettered_;
};

}  // namespace

WOJAK_REGISTER_SOURCE_FIXTURE("mqtt", [] { return std::make_unique<MqttFixture>(); });

}  // namespace wojak::conformance
