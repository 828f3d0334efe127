// The Kafka outbox sink against librdkafka's mock cluster on loopback: an acknowledged row is
// read back with its key and sequence headers; a refusing or unreachable cluster is an error.
#include <gtest/gtest.h>

#include "sidecar/sources/kafka/kafka_outbox.h"
#include "sidecar/sources/kafka/kafka_testbed.h"

namespace wojak::sidecar::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTopic = "wojak.outbox";
constexpr int16_t kProduceApiKey = 0;  // the Kafka protocol's Produce request

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

class KafkaOutboxClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = KafkaMockCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster).value();
    ASSERT_TRUE(cluster_->CreateTopic(kTopic, 3).ok());
  }

  KafkaOutboxOptions Options() const {
    KafkaOutboxOptions options;
    options.producer.client.brokers = cluster_->bootstrap_servers();
    options.topic = kTopic;
    return options;
  }

  std::unique_ptr<KafkaMockCluster> cluster_;
};

TEST_F(KafkaOutboxClusterTest, AcknowledgedRowIsReadBackWithKeyAndSequenceHeaders) {
  KafkaOutboxPublisher publisher(Options());
  ASSERT_TRUE(publisher.Start().ok());
  const OutboxMessage row = Row(41, "execution", "ACC1");

  Status published = publisher.Publish(row, 20s);
  ASSERT_TRUE(published.ok()) << published.ToString();

  auto records = ReadTopic(cluster_->bootstrap_servers(), kTopic, 1, 20s);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 1u);
  const ConsumedRecord& record = records->front();
  EXPECT_EQ(record.value, row.body);
  EXPECT_EQ(record.key, "ACC1");
  EXPECT_EQ(record.headers.at("outbox_seq"), "41");
  EXPECT_EQ(record.headers.at("entry_seq"), "1041");
  EXPECT_EQ(record.headers.at("topic"), "execution");
  publisher.Stop();
}

TEST_F(KafkaOutboxClusterTest, OneAccountsRowsShareAPartitionInOrder) {
  KafkaOutboxPublisher publisher(Options());
  ASSERT_TRUE(publisher.Start().ok());
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    ASSERT_TRUE(publisher.Publish(Row(seq, "execution", "ACC7"), 20s).ok());
  }

  auto records = ReadTopic(cluster_->bootstrap_servers(), kTopic, 6, 20s);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 6u);
  for (size_t i = 0; i < records->size(); ++i) {
    EXPECT_EQ((*records)[i].partition, records->front().partition);
    EXPECT_EQ((*records)[i].headers.at("outbox_seq"), std::to_string(i + 1));
  }
}

TEST_F(KafkaOutboxClusterTest, RefusedRowIsAnError) {
  KafkaOutboxPublisher publisher(Options());
  ASSERT_TRUE(publisher.Start().ok());
  ASSERT_TRUE(publisher.Publish(Row(1, "execution", "ACC1"), 20s).ok());  // producer id is set
  // A permanent error for the next produce requests: the broker never takes the row.
  rd_kafka_mock_push_request_errors(
      cluster_->cluster(), kProduceApiKey, 3, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);

  Status published = publisher.Publish(Row(2, "execution", "ACC1"), 20s);
  EXPECT_FALSE(published.ok());
  EXPECT_NE(published.code(), StatusCode::kDeadlineExceeded) << published.ToString();
}

TEST_F(KafkaOutboxClusterTest, UnreachableClusterIsAnErrorWithinTheTimeout) {
  KafkaOutboxOptions options = Options();
  rd_kafka_mock_broker_set_down(cluster_->cluster(), 1);
  KafkaOutboxPublisher publisher(options);
  ASSERT_TRUE(publisher.Start().ok());

  Status published = publisher.Publish(Row(3, "execution", "ACC1"), 1s);
  EXPECT_EQ(published.code(), StatusCode::kDeadlineExceeded) << published.ToString();
}

}  // namespace
}  // namespace wojak::sidecar::kafka
