// Publishing to Kafka with the broker's confirmation: an idempotent producer (acks=all) whose
// callers learn, per record, whether the broker has it. The Kafka source uses it for dead
// letters and decision replies; the outbox relay can use it as a sink (escalations, execution
// reports): PublishAndWait returns OK only once every record is acknowledged by all in-sync
// replicas, so the relay moves its cursor only after that.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "sidecar/sources/kafka/kafka_config.h"

namespace wojak::sidecar::kafka {

struct KafkaRecord {
  std::string topic;
  std::string key;  // empty: no key (the partitioner spreads records)
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct KafkaPublisherOptions {
  KafkaClientOptions client;
  // Longest a record may wait for its acknowledgement, librdkafka's retries included
  // (delivery.timeout.ms); after it the record is reported failed.
  std::chrono::milliseconds delivery_timeout{30000};
  // Extra producer properties; enable.idempotence=false and acks other than all are refused.
  std::map<std::string, std::string> properties;
};

// Not thread-safe: one thread publishes and serves the delivery reports (the pipeline thread,
// or the relay's thread on its own instance).
class KafkaPublisher {
 public:
  static StatusOr<std::unique_ptr<KafkaPublisher>> Create(const KafkaPublisherOptions& options);
  ~KafkaPublisher();
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  // Produces every record and waits (up to `timeout`) until the broker acknowledged each one.
  // OK only when all are acknowledged; otherwise the first failure (records that did get through
  // stay published: consumers must tolerate duplicates, e.g. by a sequence header).
  Status PublishAndWait(std::span<const KafkaRecord> records, std::chrono::milliseconds timeout);

  // Produces without waiting; `done` runs from a later Serve()/PublishAndWait() on this thread
  // with OK once the broker acknowledged it, or the error. Never runs inside this call.
  Status PublishAsync(const KafkaRecord& record, std::function<void(const Status&)> done);

  // Serves delivery reports, waiting up to `wait` for one.
  void Serve(std::chrono::milliseconds wait);

  // Records produced and not yet reported.
  size_t outstanding() const { return callbacks_.size(); }

  // Waits up to `timeout` for every outstanding record's report.
  Status Flush(std::chrono::milliseconds timeout);

 private:
  explicit KafkaPublisher(KafkaHandle producer);
  static void OnDelivery(rd_kafka_t* handle, const rd_kafka_message_t* message, void* opaque);
  Status Produce(const KafkaRecord& record, uint64_t id);

  KafkaHandle producer_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void(const Status&)>> callbacks_;
};

}  // namespace wojak::sidecar::kafka
