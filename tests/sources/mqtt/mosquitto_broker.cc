// MQTT test harness: mosquitto lifetime by PID, a collecting test client, mosquitto_pub.
#include "mosquitto_broker.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace wojak::testing {

namespace mq = sidecar::mqtt;
using namespace std::chrono_literals;

namespace {

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

MosquittoBroker::MosquittoBroker(const std::string& dir, const std::string& extra_config)
    : dir_(dir), extra_config_(extra_config), port_(FreeLoopbackPort()) {
  Start();
}

MosquittoBroker::~MosquittoBroker() { Stop(); }

void MosquittoBroker::Start() {
  std::string config = "listener " + std::to_string(port_) +
                       " 127.0.0.1\n"
                       "persistence true\n"
                       "persistence_location " +
                       dir_ +
                       "/\n"
                       "log_dest stdout\n"
                       "log_type error\nlog_type warning\nlog_type notice\n"
                       "max_queued_messages 100000\n";
  // As root mosquitto would switch to the `mosquitto` user, who cannot write the test's
  // private directory.
  if (geteuid() == 0) config += "user root\n";
  if (extra_config_.find("allow_anonymous") == std::string::npos) {
    config += "allow_anonymous true\n";
  }
  config += extra_config_;
  WriteFile(dir_ + "/mosquitto.conf", config);
  process_ = ChildProcess::Start({"/usr/sbin/mosquitto", "-c", dir_ + "/mosquitto.conf"},
                                 dir_ + "/mosquitto.log");
  if (!WaitUntil([&] { return Accepts(port_) || !process_.running(); }, 10s) ||
      !process_.running()) {
    throw std::runtime_error("mosquitto did not start: " + log());
  }
}

void MosquittoBroker::Stop() {
  if (!process_.running()) return;
  process_.Signal(SIGTERM);
  if (process_.Wait(10s) < 0) process_.Kill();
}

mq::MqttClientOptions MosquittoBroker::ClientOptions(const std::string& client_id,
                                                     mq::MqttVersion version) const {
  mq::MqttClientOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(port_);
  options.client_id = client_id;
  options.version = version;
  options.clean_start = false;
  options.keep_alive = std::chrono::seconds(10);
  options.session_expiry_seconds = 3600;
  return options;
}

MqttTestClient::MqttTestClient(const MosquittoBroker& broker, const std::string& client_id,
                               mq::MqttVersion version)
    : broker_(broker), options_(broker.ClientOptions(client_id, version)) {
  Reconnect();
}

void MqttTestClient::Reconnect() {
  client_.reset();
  auto client = mq::MqttClient::Connect(options_);
  if (!client.ok()) throw std::runtime_error(client.status().ToString());
  client_ = std::move(client).value();
  if (!filters_.empty()) {
    Status status = client_->Subscribe(filters_, 1, 5s);
    if (!status.ok()) throw std::runtime_error(status.ToString());
  }
}

void MqttTestClient::Subscribe(const std::vector<std::string>& filters) {
  filters_.insert(filters_.end(), filters.begin(), filters.end());
  Status status = client_->Subscribe(filters, 1, 5s);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

void MqttTestClient::Publish(const std::string& topic, const std::string& payload,
                             const mq::MqttProperties& properties) {
  mq::MqttOutgoing message;
  message.topic = topic;
  message.payload = payload;
  message.properties = properties;
  PublishAll({message});
}

void MqttTestClient::PublishAll(const std::vector<mq::MqttOutgoing>& messages) {
  Status status = client_->PublishConfirmed(messages, 30s);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

const std::vector<mq::PublishPacket>& MqttTestClient::Collect(size_t count,
                                                              std::chrono::milliseconds timeout) {
  WaitUntil(
      [&] {
        auto events = client_->Read(20ms);
        if (!events.ok()) {
          ADD_FAILURE() << events.status().ToString();
          return true;
        }
        for (mq::MqttEvent& event : *events) {
          if (event.kind != mq::MqttEvent::Kind::kPublish) continue;
          if (event.publish.qos == 1) {
            Status acked = client_->Puback(event.publish.packet_id);
            EXPECT_TRUE(acked.ok()) << acked.ToString();
          }
          received_.push_back(std::move(event.publish));
        }
        return received_.size() >= count;
      },
      timeout);
  return received_;
}

int MosquittoPublishLines(const MosquittoBroker& broker, const std::string& topic,
                          const std::vector<std::string>& lines, const std::string& dir) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  const std::string input = dir + "/mosquitto_pub.input";
  WriteFile(input, text);
  ChildProcess publisher =
      ChildProcess::Start({"/bin/sh", "-c",
                           "exec mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) +
                               " -q 1 -t '" + topic + "' -l < '" + input + "'"},
                          dir + "/mosquitto_pub.log");
  return publisher.Wait(60s);
}

}  // namespace wojak::testing
