// The RabbitMQ broker sink of the engine's outbox: each row goes to a topic exchange as a
// persistent, mandatory message and counts as published only once the broker confirmed it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "sidecar/outbox_publisher.h"
#include "sidecar/sources/rabbitmq/rabbitmq_connection.h"
#include "sidecar/sources/rabbitmq/rabbitmq_publisher.h"

namespace wojak::sidecar::rabbitmq {

struct RabbitOutboxOptions {
  // The sink has its own connection keys under `outbox` (host, port, vhost, username, password,
  // tls.*), since its factory sees only that section and it may publish to another broker.
  RabbitConnectionOptions connection;
  std::string exchange = "wojak.outbox";
  // Declare `exchange` as a durable topic exchange at every connect; off: it must exist.
  bool declare = true;
};

// Reads `sources.rabbitmq.outbox:`; violations are reported through `section`.
RabbitOutboxOptions ReadRabbitOutboxOptions(ConfigSection& section);

// "<topic>.<account>": consumers bind e.g. "execution.#" or "*.ACC1".
std::string OutboxRoutingKey(const OutboxMessage& message);

class RabbitOutboxPublisher final : public OutboxPublisher {
 public:
  // Registered as the "rabbitmq" outbox publisher.
  static StatusOr<std::unique_ptr<OutboxPublisher>> Create(ConfigSection& outbox_section);

  explicit RabbitOutboxPublisher(RabbitOutboxOptions options) : options_(std::move(options)) {}

  Status Start() override;
  // Reconnects first when an earlier error left no usable connection. An unroutable message (no
  // queue bound for its routing key) is FAILED_PRECONDITION; a nack or a lost connection
  // UNAVAILABLE; no confirm within `timeout` DEADLINE_EXCEEDED.
  Status Publish(const OutboxMessage& message, std::chrono::milliseconds timeout) override;
  void Stop() override;

 private:
  Status Connect();

  RabbitOutboxOptions options_;
  std::unique_ptr<RabbitPublisher> publisher_;
};

}  // namespace wojak::sidecar::rabbitmq
