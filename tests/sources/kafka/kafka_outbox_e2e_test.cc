// The outbox's Kafka broker sink end to end, with real processes: `wojak engine` (outbox.sink:
// sidecar) → `wojak sidecar --source kafka` (sidecar.outbox_endpoint) → librdkafka's mock
// cluster (in this test process, on loopback). The scenario is tests/sources/outbox_e2e.h's; the
// rows are read back from the outbox topic from its beginning.
#include <gtest/gtest.h>

#include "sidecar/sources/kafka/kafka_testbed.h"
#include "sources/outbox_e2e.h"

namespace wojak::sidecar::kafka {
namespace {

using wojak::testing::OutboxBrokerMessage;

constexpr const char* kOrders = "orders";
constexpr const char* kDeadLetters = "orders.dlq";
constexpr const char* kOutbox = "wojak.outbox";

class KafkaOutboxHooks final : public wojak::testing::OutboxBrokerHooks {
 public:
  explicit KafkaOutboxHooks(const KafkaMockCluster& cluster) : cluster_(cluster) {}

  std::string SourceName() const override { return "kafka"; }
  std::string SourcesYaml() const override {
    return "sources:\n  kafka:\n    brokers: \"" + cluster_.bootstrap_servers() +
           "\"\n    topics: [" + kOrders +
           "]\n    group_id: outbox-e2e\n    dead_letter_topic: " + kDeadLetters +
           "\n    outbox:\n      brokers: \"" + cluster_.bootstrap_servers() +
           "\"\n      topic: " + kOutbox + "\n";
  }
  std::vector<OutboxBrokerMessage> Consume(size_t count,
                                           std::chrono::milliseconds timeout) override {
    auto records = ReadTopic(cluster_.bootstrap_servers(), kOutbox, count, timeout);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    std::vector<OutboxBrokerMessage> messages;
    if (!records.ok()) return messages;
    for (ConsumedRecord& record : *records) {
      const std::string seq = record.headers["outbox_seq"];
      EXPECT_FALSE(seq.empty()) << record.offset;
      messages.push_back({record.topic + "/" + record.headers["topic"], record.key,
                          seq.empty() ? 0 : std::stoull(seq), record.value});
    }
    return messages;
  }
  // The topic, then the record's `topic` header (the outbox topic: escalation or execution).
  std::string EscalationDestination() const override {
    return std::string(kOutbox) + "/escalation";
  }

 private:
  const KafkaMockCluster& cluster_;
};

TEST(KafkaOutboxEndToEndTest, RowsReachTheTopicInOrderAndWaitInTheOutboxWhileTheSidecarIsDown) {
  auto cluster = KafkaMockCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  ASSERT_TRUE((*cluster)->CreateTopic(kOrders, 1).ok());
  ASSERT_TRUE((*cluster)->CreateTopic(kDeadLetters, 1).ok());
  ASSERT_TRUE((*cluster)->CreateTopic(kOutbox, 1).ok());
  KafkaOutboxHooks hooks(**cluster);
  wojak::testing::RunOutboxEndToEnd(hooks);
}

}  // namespace
}  // namespace wojak::sidecar::kafka
