// Unsafe broker settings the broker only reveals at run time are reported at once: an MQTT order
// published at QoS 0 (at most once: the broker keeps no copy) is warned about, one at QoS 1 is not.
// The other sources' refusals (Kafka auto commit, RabbitMQ auto-ack, NATS consumers without
// explicit acks and memory streams, MQTT clean sessions) are tested beside their sources.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "security_support.h"

namespace wojak::security {
namespace {

using namespace std::chrono_literals;

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool accepted = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return accepted;
}

class MqttQosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/sbin/mosquitto", X_OK) != 0 || ::access("/usr/bin/mosquitto_pub", X_OK)) {
      GTEST_SKIP() << "mosquitto is not installed (scripts/setup installs it)";
    }
    port_ = testing::FreeLoopbackPort();
    // As root mosquitto would switch to the `mosquitto` user unless told otherwise.
    testing::WriteFile(dir_.File("mosquitto.conf"),
                       "listener " + std::to_string(port_) + " 127.0.0.1\n" +
                           "allow_anonymous true\npersistence false\n" +
                           (::geteuid() == 0 ? "user root\n" : ""));
    broker_ = testing::ChildProcess::Start(
        {"/usr/sbin/mosquitto", "-c", dir_.File("mosquitto.conf")}, dir_.File("mosquitto.log"));
    ASSERT_TRUE(testing::WaitUntil([&] { return Accepts(port_); }, 10s))
        << testing::ReadFile(dir_.File("mosquitto.log"));
    testing::WriteFile(dir_.File("wojak.yaml"),
                       "log:\n"
                       "  level: debug\n"
                       "sidecar:\n"
                       "  endpoint: ipc://" +
                           dir_.File("engine.sock") +
                           "\n"
                           "sources:\n"
                           "  mqtt:\n"
                           "    host: 127.0.0.1\n"
                           "    port: " +
                           std::to_string(port_) +
                           "\n"
                           "    client_id: wojak-qos-test\n");
    sidecar_ =
        StartWojak(dir_, {"sidecar", "--source", "mqtt", "--config", dir_.File("wojak.yaml")},
                   "sidecar.log", "mqtt_connected");
  }

  void Publish(int qos, const std::string& client_order_id) {
    const std::string command = "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(port_) + " -q " +
                                std::to_string(qos) + " -t wojak/orders/ACC1 -m '{" +
                                "\"client_order_id\":\"" + client_order_id + "\"}'";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  bool SidecarLogShows(const std::string& text, std::chrono::milliseconds timeout) {
    return testing::WaitUntil(
        [&] { return testing::ReadFile(dir_.File("sidecar.log")).find(text) != std::string::npos; },
        timeout);
  }

  testing::TempDir dir_;
  int port_ = 0;
  testing::ChildProcess broker_;
  testing::ChildProcess sidecar_;
};

TEST_F(MqttQosTest, WarnsAboutAnOrderPublishedAtQos0AndNotAboutQos1) {
  Publish(1, "qos1-order");
  ASSERT_TRUE(SidecarLogShows("\"event\":\"mqtt_received\"", 10s))
      << testing::ReadFile(dir_.File("sidecar.log"));
  EXPECT_EQ(testing::ReadFile(dir_.File("sidecar.log")).find("mqtt_qos0_order"), std::string::npos);
  Publish(0, "qos0-order");
  EXPECT_TRUE(SidecarLogShows("mqtt_qos0_order", 10s))
      << testing::ReadFile(dir_.File("sidecar.log"));
}

}  // namespace
}  // namespace wojak::security
