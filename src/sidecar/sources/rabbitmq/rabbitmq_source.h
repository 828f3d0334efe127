// The RabbitMQ source: consumes one queue with manual acks (prefetch = in-flight window), acks
// after the engine's decision, retries through TTL delay queues, dead-letters through the
// queue's dead-letter exchange with the reason in headers, and answers RPC requests on reply_to.
// Everything it publishes is confirmed by the broker before the original message is acked.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/metrics.h"
#include "common/status.h"
#include "sidecar/registry.h"
#include "sidecar/source.h"
#include "sidecar/sources/rabbitmq/rabbitmq_connection.h"
#include "sidecar/sources/rabbitmq/rabbitmq_publisher.h"

namespace wojak::sidecar::rabbitmq {

enum class RetryMode : uint8_t {
  // Not decided: a copy goes to a TTL delay queue that dead-letters back into the main queue,
  // and the original is acked once the copy is confirmed.
  kDelayQueue,
  // Not decided: the message stays unacked for the delay (holding a prefetch slot), then
  // basic.nack requeue=true. Needs no extra queues.
  kHold,
};

struct RabbitSourceOptions {
  RabbitConnectionOptions connection;
  std::string queue = "wojak.orders";
  // Declare the queue, its dead-letter exchange + queue and the delay queues at start; when off
  // they must exist (the queue is checked passively).
  bool declare = true;
  std::string queue_type = "quorum";  // "quorum" or "classic" (with declare)
  int prefetch = 1024;                // basic.qos: unacked messages the broker lets us hold
  // Exchange for dead letters (headers carry the reason). Empty with declare = "<queue>.dlx";
  // "none" = basic.reject requeue=false (the queue's own DLX policy, without the reason).
  std::string dead_letter_exchange;
  RetryMode retry_mode = RetryMode::kDelayQueue;
  // Delay queue tiers: retry_min_delay doubling up to retry_max_delay; a nack's delay is rounded
  // up to the next tier.
  std::chrono::milliseconds retry_min_delay{100};
  std::chrono::milliseconds retry_max_delay{30000};
  // Every decision is also published here (routing key = account); empty = off.
  std::string decisions_exchange;
  // Replies and decisions as persistent messages (confirmed only once on disk).
  bool persistent_replies = false;
  // Dead-letter messages that carry no message_id property (no stable identity).
  bool require_message_id = false;
  std::chrono::milliseconds reconnect_initial{250};
  std::chrono::milliseconds reconnect_max{30000};
  // A publish not confirmed within this: the connection is presumed broken and rebuilt.
  std::chrono::milliseconds confirm_timeout{10000};
  // How often the queue depth gauge is refreshed (a passive declare); 0 = never.
  std::chrono::milliseconds stats_interval{5000};
};

// Reads `sources.rabbitmq:`; violations (including auto-ack) are reported through `section`.
RabbitSourceOptions ReadRabbitSourceOptions(ConfigSection& section);

// The identity a redelivery keeps: the message_id property when present, else a SHA-256 of
// exchange, routing key and body (two identical bodies published to the same place collide,
// which is why message_id — or a client_order_id in the body — is required for idempotency).
std::string RabbitIdentity(std::string_view queue, std::string_view message_id,
                           std::string_view exchange, std::string_view routing_key,
                           std::string_view body);

// Names of the delay queues for the options' tiers, shortest first.
std::vector<std::pair<std::string, std::chrono::milliseconds>> RetryQueues(
    const RabbitSourceOptions& options);

// Headers the source reads and writes.
inline constexpr char kIdentityHeader[] = "x-wojak-identity";
inline constexpr char kRetriesHeader[] = "x-wojak-retries";
inline constexpr char kDeadLetterReasonHeader[] = "x-wojak-dead-letter-reason";
inline constexpr char kDeadLetterKindHeader[] = "x-wojak-dead-letter-kind";
inline constexpr char kOriginalExchangeHeader[] = "x-wojak-original-exchange";
inline constexpr char kOriginalRoutingKeyHeader[] = "x-wojak-original-routing-key";
inline constexpr char kSourceQueueHeader[] = "x-wojak-queue";

class RabbitSource final : public Source {
 public:
  // Registered as "rabbitmq".
  static StatusOr<std::unique_ptr<Source>> Create(ConfigSection& section,
                                                  const SourceContext& context);

  explicit RabbitSource(RabbitSourceOptions options, const Clock& clock = RealClock::Instance());
  ~RabbitSource() override;

  Status Start() override;
  StatusOr<std::vector<Message>> Poll(size_t max_messages,
                                      std::chrono::milliseconds max_wait) override;
  Status Ack(const Message& message, const Decision& decision) override;
  Status Nack(const Message& message, std::chrono::milliseconds delay) override;
  Status DeadLetter(const Message& message, const DeadLetterInfo& info) override;
  void StopIntake() override;
  void Stop() override;

  bool connected() const { return link_ != nullptr; }
  // Settlements waiting for publisher confirms (tests use it to wait for quiescence).
  size_t unsettled() const { return settlements_.size(); }
  const RabbitSourceOptions& options() const { return options_; }

  struct Delivery;

 private:
  struct Link;
  enum class Outcome : uint8_t { kAck, kRequeue, kReject };
  struct Settlement {
    std::shared_ptr<Delivery> delivery;
    int outstanding = 0;
    std::string failure;  // first publish that failed; empty = all confirmed so far
    Outcome then = Outcome::kAck;
    Outcome fallback = Outcome::kRequeue;
    std::string what;  // "reply", "retry", "dead-letter" (logs)
  };
  struct Metrics;

  Status Connect();
  Status DeclareTopology(RabbitConnection& connection);
  void TearDown(const Status& why);
  std::shared_ptr<Delivery> Current(const Message& message);
  void Settle(Delivery& delivery, Outcome outcome);
  // Publishes `messages`; the original is settled with `then` once all are confirmed (at once
  // when there are none), or with `fallback` if any fails.
  Status PublishThen(std::shared_ptr<Delivery> delivery, std::vector<RabbitOutgoing> messages,
                     Outcome then, Outcome fallback, std::string what);
  void TakeConfirms(std::chrono::milliseconds max_wait);
  void ReleaseHeld(Nanos now, bool all);
  Status ReadDeliveries(size_t max_messages, std::chrono::milliseconds max_wait);
  Status HandleUnexpectedFrame();
  void RefreshStats(Nanos now);
  RabbitOutgoing CopyOf(const Delivery& delivery, std::string_view body) const;

  RabbitSourceOptions options_;
  const Clock& clock_;
  std::string dead_letter_exchange_;  // resolved; empty = basic.reject
  std::vector<std::pair<std::string, std::chrono::milliseconds>> retry_queues_;
  std::unique_ptr<Link> link_;
  uint64_t generation_ = 0;
  Nanos reconnect_at_ = 0;
  std::chrono::milliseconds reconnect_delay_{0};
  Nanos next_stats_at_ = 0;
  bool intake_stopped_ = false;
  bool warned_missing_message_id_ = false;
  std::deque<Message> ready_;  // read from the socket, not yet handed to the pipeline
  std::multimap<Nanos, std::shared_ptr<Delivery>> held_;  // kHold nacks by due time
  uint64_t next_settlement_ = 1;
  std::map<uint64_t, Settlement> settlements_;
  std::map<uint64_t, uint64_t> settlement_by_sequence_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace wojak::sidecar::rabbitmq
