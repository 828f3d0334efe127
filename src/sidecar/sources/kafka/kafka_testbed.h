// Kafka on loopback for tests and `wojak bench source`: librdkafka's mock cluster (a real Kafka
// protocol peer with consumer groups and offset commits) plus the small clients the tests use to
// publish, read a topic back and look at a group's committed offsets.
#pragma once

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h needs rdkafka.h first.
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "sidecar/sources/kafka/kafka_config.h"
#include "sidecar/sources/kafka/kafka_publisher.h"

namespace wojak::sidecar::kafka {

// A mock cluster whose brokers listen on 127.0.0.1 (free ports) until it is destroyed.
class KafkaMockCluster {
 public:
  static StatusOr<std::unique_ptr<KafkaMockCluster>> Start(int brokers = 3);
  ~KafkaMockCluster();
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  Status CreateTopic(const std::string& topic, int partitions);
  // "127.0.0.1:P1,127.0.0.1:P2,..." for bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  rd_kafka_mock_cluster_t* cluster() const { return cluster_; }

 private:
  KafkaMockCluster() = default;
  KafkaHandle owner_;  // the mock cluster lives inside this handle
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_servers_;
};

struct ConsumedRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;  // last value of each header name
};

// Publishes the records and waits for every acknowledgement.
Status ProduceRecords(const std::string& brokers, std::span<const KafkaRecord> records,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Reads `topic` from the beginning of every partition (no consumer group) until `count` records
// arrived or `timeout` passed; returns what arrived, in partition then offset order.
StatusOr<std::vector<ConsumedRecord>> ReadTopic(const std::string& brokers,
                                                const std::string& topic, size_t count,
                                                std::chrono::milliseconds timeout);

// The offsets `group` committed for partitions 0..partitions-1 of `topic` (-1 when none).
StatusOr<std::map<int32_t, int64_t>> CommittedOffsets(
    const std::string& brokers, const std::string& group, const std::string& topic, int partitions,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Consumes `count` records of `topic` from the beginning as fast as librdkafka can (assigned
// partitions, no group, no commits): the broker's bare-consumer rate. Returns records/s.
StatusOr<double> BareConsumeRate(const std::string& brokers, const std::string& topic, size_t count,
                                 std::chrono::milliseconds timeout);

}  // namespace wojak::sidecar::kafka
