// The MQTT outbox sink against mosquitto on loopback: an acknowledged row reaches a subscriber
// of <prefix>/<topic>/<account> with its body (and, in 5.0, outbox_seq as a user property); a
// publish the broker refuses, a stopped broker and an unreachable one are errors.
#include <gtest/gtest.h>

#include "mosquitto_broker.h"
#include "sidecar/sources/mqtt/mqtt_outbox.h"
#include "support/process.h"

namespace wojak::testing {
namespace {

namespace mq = sidecar::mqtt;
using namespace std::chrono_literals;
using sidecar::OutboxMessage;

OutboxMessage Row(uint64_t outbox_seq, const std::string& topic, const std::string& account) {
  OutboxMessage message;
  message.outbox_seq = outbox_seq;
  message.entry_seq = outbox_seq + 1000;
  message.topic = topic;
  message.account = account;
  message.body = R"({"outbox_seq":)" + std::to_string(outbox_seq) + R"(,"topic":")" + topic +
                 R"(","payload":{}})";
  return message;
}

mq::MqttOutboxOptions SinkOptions(const MosquittoBroker& broker, mq::MqttVersion version) {
  mq::MqttOutboxOptions options;
  options.client = broker.ClientOptions("wojak-outbox", version);
  return options;
}

class MqttOutboxTest : public ::testing::TestWithParam<mq::MqttVersion> {
 protected:
  TempDir dir_;
  MosquittoBroker broker_{dir_.path()};
};

INSTANTIATE_TEST_SUITE_P(Versions, MqttOutboxTest,
                         ::testing::Values(mq::MqttVersion::k311, mq::MqttVersion::k5),
                         [](const auto& info) {
                           return info.param == mq::MqttVersion::k5 ? "v5" : "v311";
                         });

TEST_P(MqttOutboxTest, AcknowledgedRowReachesASubscriberOfItsTopic) {
  MqttTestClient subscriber(broker_, "consumer", GetParam());
  subscriber.Subscribe({"wojak/outbox/execution/+"});
  mq::MqttOutboxPublisher sink(SinkOptions(broker_, GetParam()));
  ASSERT_TRUE(sink.Start().ok());
  const OutboxMessage row = Row(41, "execution", "ACC1");

  Status published = sink.Publish(row, 10s);
  ASSERT_TRUE(published.ok()) << published.ToString();

  const auto& got = subscriber.Collect(1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "wojak/outbox/execution/ACC1");
  EXPECT_EQ(got[0].payload, row.body);
  EXPECT_EQ(got[0].qos, 1);
  if (GetParam() == mq::MqttVersion::k5) {
    EXPECT_EQ(got[0].properties.UserProperty("outbox_seq"), "41");
    EXPECT_EQ(got[0].properties.UserProperty("entry_seq"), "1041");
  }
  sink.Stop();
}

TEST_P(MqttOutboxTest, StoppedBrokerIsAnErrorAndTheSinkReconnectsWhenItIsBack) {
  mq::MqttOutboxPublisher sink(SinkOptions(broker_, GetParam()));
  ASSERT_TRUE(sink.Start().ok());
  broker_.Stop();

  Status while_down = sink.Publish(Row(1, "escalation", "ACC1"), 2s);
  EXPECT_FALSE(while_down.ok());

  broker_.Start();
  MqttTestClient subscriber(broker_, "consumer", GetParam());
  subscriber.Subscribe({"wojak/outbox/#"});
  Status after = sink.Publish(Row(1, "escalation", "ACC1"), 10s);
  EXPECT_TRUE(after.ok()) << after.ToString();
  EXPECT_EQ(subscriber.Collect(1, 10s).size(), 1u);
}

TEST_P(MqttOutboxTest, BrokerRestartBetweenRowsCostsNoFailedPublish) {
  mq::MqttOutboxPublisher sink(SinkOptions(broker_, GetParam()));
  ASSERT_TRUE(sink.Start().ok());
  broker_.Restart();
  MqttTestClient subscriber(broker_, "consumer", GetParam());
  subscriber.Subscribe({"wojak/outbox/#"});

  Status published = sink.Publish(Row(5, "execution", "ACC1"), 10s);
  EXPECT_TRUE(published.ok()) << published.ToString();
  EXPECT_EQ(subscriber.Collect(1, 10s).size(), 1u);
}

TEST(MqttOutbox5Test, PublishTheBrokerRefusesIsAnError) {
  TempDir dir;
  WriteFile(dir.File("acl"), "topic write wojak/outbox/execution/#\ntopic read #\n");
  MosquittoBroker broker(dir.path(), "acl_file " + dir.File("acl") + "\n");
  mq::MqttOutboxPublisher sink(SinkOptions(broker, mq::MqttVersion::k5));
  ASSERT_TRUE(sink.Start().ok());

  Status refused = sink.Publish(Row(2, "escalation", "ACC1"), 10s);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied) << refused.ToString();
  Status allowed = sink.Publish(Row(3, "execution", "ACC1"), 10s);
  EXPECT_TRUE(allowed.ok()) << allowed.ToString();
}

TEST(MqttOutboxUnreachableTest, UnreachableBrokerIsAnError) {
  mq::MqttOutboxOptions options;
  options.client.port = static_cast<uint16_t>(FreeLoopbackPort());
  options.client.client_id = "wojak-outbox";
  options.client.connect_timeout = 2s;
  mq::MqttOutboxPublisher sink(options);

  EXPECT_FALSE(sink.Start().ok());
  EXPECT_FALSE(sink.Publish(Row(4, "execution", "ACC1"), 2s).ok());
}

}  // namespace
}  // namespace wojak::testing
