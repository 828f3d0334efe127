// The Kafka source: a consumer-group member (cooperative-sticky) whose offsets are committed only
// over messages the engine has answered. Nacks pause the partition and seek back (never skip
// ahead); poison messages go to a dead-letter topic, confirmed by the broker before they count as
// handled; revoked partitions are released only after their in-flight replies (bounded wait) and a
// final commit. Decisions can be published to a reply topic keyed by account.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/metrics.h"
#include "common/status.h"
#include "sidecar/registry.h"
#include "sidecar/source.h"
#include "sidecar/sources/kafka/kafka_config.h"
#include "sidecar/sources/kafka/kafka_publisher.h"
#include "sidecar/sources/kafka/offset_tracker.h"

namespace wojak::sidecar::kafka {

// Message headers the source reads and writes.
inline constexpr std::string_view kKindHeader = "wojak-kind";  // "order" (default) or "cancel"
inline constexpr std::string_view kReasonHeader = "wojak-dead-letter-reason";
inline constexpr std::string_view kDeadLetterKindHeader = "wojak-dead-letter-kind";
inline constexpr std::string_view kOriginalTopicHeader = "wojak-original-topic";
inline constexpr std::string_view kOriginalPartitionHeader = "wojak-original-partition";
inline constexpr std::string_view kOriginalOffsetHeader = "wojak-original-offset";
inline constexpr std::string_view kDecisionHeader =
    "wojak-decision";  // dead letters: the rejection

struct KafkaSourceOptions {
  KafkaClientOptions client;
  std::vector<std::string> topics = {"orders"};
  std::string group_id = "wojak-sidecar";
  std::string dead_letter_topic = "wojak.dead-letter";
  std::string reply_topic;  // empty: decisions are not published
  // Settled offsets are committed (asynchronously) at most this often; revokes and Stop()
  // commit synchronously.
  std::chrono::milliseconds commit_interval{200};
  // On revoke, how long to wait for replies to the partition's in-flight messages before it is
  // released anyway (the next owner redelivers them; the engine answers DUPLICATE).
  std::chrono::milliseconds revoke_timeout{10000};
  std::chrono::milliseconds session_timeout{45000};
  std::chrono::milliseconds heartbeat_interval{3000};
  std::chrono::milliseconds max_poll_interval{300000};
  // Longest a dead letter or reply waits for the broker's acknowledgement.
  std::chrono::milliseconds delivery_timeout{30000};
  // Where a group without committed offsets starts: earliest, so orders published before the
  // first sidecar started are not skipped.
  std::string auto_offset_reset = "earliest";
  std::map<std::string, std::string> consumer_properties;
  std::map<std::string, std::string> producer_properties;
};

// Reads `sources.kafka:`; violations (including auto-commit turned on) go to `section`.
KafkaSourceOptions ReadKafkaSourceOptions(ConfigSection& section);

// Prometheus metrics of one Kafka source (wojak_kafka_*).
struct KafkaSourceMetrics {
  explicit KafkaSourceMetrics(MetricsRegistry& registry);
  Counter& received;
  Counter& acked;  // settled after the engine's decision (reply delivered when configured)
  Counter& nacked;
  Counter& dead_lettered;
  Counter& rebalances;
  Counter& commits;
  Counter& commit_failures;
  Gauge& in_flight;  // delivered to the pipeline, not settled
  Gauge& lag;        // not yet fetched (high watermark - position) + in flight
};

class KafkaSource final : public Source {
 public:
  // Registered as "kafka".
  static StatusOr<std::unique_ptr<Source>> Create(ConfigSection& section,
                                                  const SourceContext& context);

  explicit KafkaSource(KafkaSourceOptions options,
                       MetricsRegistry& registry = MetricsRegistry::Default(),
                       const Clock& clock = RealClock::Instance());
  ~KafkaSource() override;

  Status Start() override;
  StatusOr<std::vector<Message>> Poll(size_t max_messages,
                                      std::chrono::milliseconds max_wait) override;
  Status Ack(const Message& message, const Decision& decision) override;
  Status Nack(const Message& message, std::chrono::milliseconds delay) override;
  Status DeadLetter(const Message& message, const DeadLetterInfo& info) override;
  void Stop() override;

  // Partitions currently assigned (revoking ones included), as "topic/partition".
  std::vector<std::string> assigned_partitions() const;
  const KafkaSourceMetrics& metrics() const { return metrics_; }

 private:
  struct Partition;
  struct MessageHandle;
  using PartitionKey = std::pair<std::string, int32_t>;

  static void OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void OnCommit(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* offsets, void* opaque);
  static void OnError(rd_kafka_t* handle, int err, const char* reason, void* opaque);
  static void OnLog(const rd_kafka_t* handle, int level, const char* facility, const char* line);

  void HandleRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void Unassign(const rd_kafka_topic_partition_list_t* partitions);
  void TakeFetched(const rd_kafka_message_t* fetched, std::vector<Message>& out);
  Partition* Find(const MessageHandle& handle);
  // Marks the message settled; false when its delivery is stale.
  bool Settle(const MessageHandle& handle);
  // The partition goes back to `offset` after `delay` (pause now, seek + resume when due).
  void Rewind(const MessageHandle& handle, std::chrono::milliseconds delay);
  void ResumeDuePartitions(Nanos now);
  void FinishRevokeIfReady(Nanos now);
  // Commits the commit point of every listed (or, when null, every assigned) partition that
  // moved since its last commit.
  void Commit(const rd_kafka_topic_partition_list_t* only, bool synchronous);
  void UpdateLag(Nanos now);
  void UpdateInFlight();

  const KafkaSourceOptions options_;
  const Clock& clock_;
  KafkaSourceMetrics metrics_;
  KafkaHandle consumer_;
  std::unique_ptr<KafkaPublisher> publisher_;
  std::map<PartitionKey, std::unique_ptr<Partition>> partitions_;
  KafkaPartitionList revoking_;  // revoked by the group, waiting for replies before release
  Nanos revoke_deadline_ = 0;
  Nanos next_commit_at_ = 0;
  Nanos next_lag_at_ = 0;
  bool closing_ = false;
  bool commit_failed_ = false;  // an async commit failed: recommit every partition next time
  // True from the moment librdkafka leaves the steady join state to rejoin the group until the
  // rebalance completes. librdkafka < 2.10 treats an OffsetCommit answered after its JoinGroup
  // (ILLEGAL_GENERATION) as a lost assignment (confluentinc/librdkafka#4059), so periodic
  // commits wait while it is set. Set from librdkafka's "cgrp" debug log on its own thread.
  std::atomic<bool> group_rebalancing_{false};
  bool forward_debug_logs_ = false;  // the user asked for librdkafka debug contexts
};

}  // namespace wojak::sidecar::kafka
