// The NATS JetStream source: a durable pull consumer with explicit acks. Ack after the engine's
// reply, Nak with delay when not decided, InProgress while waiting (the lease is the consumer's
// AckWait), Term plus a dead-letter publish for poison messages; on the consumer's last allowed
// delivery (MaxDeliver) a message that would be nacked is dead-lettered instead of silently
// dropped by the server. Optional decision replies on `<reply_subject_prefix>.<account>`.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/metrics.h"
#include "common/status.h"
#include "sidecar/registry.h"
#include "sidecar/source.h"
#include "sidecar/sources/nats/nats_connection.h"

namespace wojak::sidecar::nats {

// Message headers the source reads and writes.
inline constexpr const char* kKindHeader = "Wojak-Kind";  // "order" (default) or "cancel"
inline constexpr const char* kReasonHeader = "Wojak-Dead-Letter-Reason";
inline constexpr const char* kDeadLetterKindHeader = "Wojak-Dead-Letter-Kind";
inline constexpr const char* kOriginalStreamHeader = "Wojak-Original-Stream";
inline constexpr const char* kOriginalSequenceHeader = "Wojak-Original-Sequence";
inline constexpr const char* kOriginalSubjectHeader = "Wojak-Original-Subject";
inline constexpr const char* kDeliveriesHeader = "Wojak-Deliveries";
inline constexpr const char* kDecisionHeader = "Wojak-Decision";

struct NatsSourceOptions {
  NatsConnectionOptions connection;
  std::string stream = "ORDERS";
  std::string subject = "orders.>";  // the consumer's filter (and the stream's subject if created)
  std::string consumer = "wojak-sidecar";  // durable name shared by every sidecar of the source
  // Create the durable consumer when it does not exist (with the settings below); an existing
  // one keeps its own settings (read at start).
  bool create_consumer = true;
  // Create the stream (file storage) when it does not exist; production streams are usually
  // provisioned by operators with replicas: 3.
  bool create_stream = false;
  int stream_replicas = 1;
  std::chrono::milliseconds ack_wait{30000};  // the lease; extended with InProgress at half-life
  // -1: unlimited. A finite value also ends deliveries during a long engine outage (each nack
  // is a delivery); its last delivery is dead-lettered, never dropped.
  int max_deliver = -1;
  int max_ack_pending = 4096;
  int fetch_batch = 256;  // messages per pull request (also the local prefetch bound)
  std::string dead_letter_subject = "wojak.dead-letter";
  std::string reply_subject_prefix;  // empty: decisions are not published
};

// Reads `sources.nats:`; violations go to `section`.
NatsSourceOptions ReadNatsSourceOptions(ConfigSection& section);

// Prometheus metrics of one NATS source (wojak_nats_*).
struct NatsSourceMetrics {
  explicit NatsSourceMetrics(MetricsRegistry& registry);
  Counter& received;
  Counter& acked;
  Counter& nacked;
  Counter& dead_lettered;
  Counter& lease_extensions;
  Gauge& in_flight;
  Gauge& pending;  // messages the consumer has not delivered yet (from message metadata)
};

class NatsSource final : public Source {
 public:
  // Registered as "nats".
  static StatusOr<std::unique_ptr<Source>> Create(ConfigSection& section,
                                                  const SourceContext& context);

  explicit NatsSource(NatsSourceOptions options,
                      MetricsRegistry& registry = MetricsRegistry::Default());
  ~NatsSource() override;

  Status Start() override;
  StatusOr<std::vector<Message>> Poll(size_t max_messages,
                                      std::chrono::milliseconds max_wait) override;
  Status Ack(const Message& message, const Decision& decision) override;
  Status Nack(const Message& message, std::chrono::milliseconds delay) override;
  Status DeadLetter(const Message& message, const DeadLetterInfo& info) override;
  std::chrono::seconds lease() const override;
  Status ExtendLease(const Message& message, std::chrono::seconds duration) override;
  void StopIntake() override;
  void Stop() override;

  const NatsSourceMetrics& metrics() const { return metrics_; }
  // The consumer's effective MaxDeliver and AckWait (read from the server at Start).
  int64_t max_deliver() const { return max_deliver_; }

 private:
  struct MessageHandle;
  Status EnsureStream();
  Status EnsureConsumer();
  void FetchLoop();
  void StopFetching();
  Status Terminate(MessageHandle& handle, const NatsRecord& dead_letter);

  const NatsSourceOptions options_;
  NatsSourceMetrics metrics_;
  std::shared_ptr<NatsConnection> connection_;
  std::unique_ptr<NatsPublisher> publisher_;
  natsSubscription* subscription_ = nullptr;
  int64_t max_deliver_ = -1;
  std::chrono::milliseconds ack_wait_{30000};

  std::mutex mutex_;
  std::condition_variable fetched_cv_;  // messages arrived
  std::condition_variable room_cv_;     // the pipeline took messages
  std::deque<natsMsg*> fetched_;        // owned; taken by Poll
  bool fetching_ = false;
  std::atomic<int64_t> in_flight_{0};
  std::thread fetcher_;
};

}  // namespace wojak::sidecar::nats
