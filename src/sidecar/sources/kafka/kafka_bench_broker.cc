// `wojak bench source --source kafka`: librdkafka's mock cluster as the broker; settled orders
// are the sidecar group's committed offsets, the bare rate a plain consumer reading the topic.
#include <nlohmann/json.hpp>

#include "bench/source_bench.h"
#include "sidecar/sources/kafka/kafka_testbed.h"

namespace wojak::sidecar::kafka {
namespace {

constexpr const char* kTopic = "orders";
constexpr int kPartitions = 8;
constexpr const char* kGroup = "wojak-bench";

class KafkaBenchBroker final : public SourceBenchBroker {
 public:
  Status Start(const std::string& /*directory*/) override {
    WOJAK_ASSIGN_OR_RETURN(cluster_, KafkaMockCluster::Start(1));
    WOJAK_RETURN_IF_ERROR(cluster_->CreateTopic(kTopic, kPartitions));
    return cluster_->CreateTopic("orders.dlq", 1);
  }

  Status Publish(const std::vector<std::string>& orders) override {
    std::vector<KafkaRecord> records;
    records.reserve(orders.size());
    for (const std::string& order : orders) {
      // Keyed by account, as strategies publish: one account's orders stay in one partition.
      const std::string account = nlohmann::json::parse(order).value("account", "");
      records.push_back({kTopic, account, order, {}});
    }
    return ProduceRecords(cluster_->bootstrap_servers(), records, std::chrono::seconds(120));
  }

  std::string SidecarConfig() const override {
    return "    brokers: \"" + cluster_->bootstrap_servers() + "\"\n    topics: [" + kTopic +
           "]\n    group_id: " + kGroup +
           "\n    dead_letter_topic: orders.dlq\n    commit_interval: 50ms\n"
           "    session_timeout: 6s\n    heartbeat_interval: 500ms\n";
  }

  StatusOr<uint64_t> Settled() override {
    WOJAK_ASSIGN_OR_RETURN(
        auto offsets, CommittedOffsets(cluster_->bootstrap_servers(), kGroup, kTopic, kPartitions));
    uint64_t total = 0;
    for (const auto& [partition, offset] : offsets) total += offset > 0 ? offset : 0;
    return total;
  }

  StatusOr<double> BareConsumeRate(uint64_t count) override {
    return kafka::BareConsumeRate(cluster_->bootstrap_servers(), kTopic, count,
                                  std::chrono::seconds(120));
  }

 private:
  std::unique_ptr<KafkaMockCluster> cluster_;
};

[[maybe_unused]] const bool registered =
    RegisterSourceBenchBroker("kafka", [] { return std::make_unique<KafkaBenchBroker>(); });

}  // namespace
}  // namespace wojak::sidecar::kafka
