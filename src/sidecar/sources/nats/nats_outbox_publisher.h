// The NATS broker sink for the engine's outbox: each row is published with JetStream to
// `<subject_prefix>.<topic>` with Nats-Msg-Id "wojak-outbox-<outbox_seq>" (the stream stores a
// redelivered row once inside its duplicate window) and counts as delivered only on its PubAck.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "sidecar/outbox_publisher.h"
#include "sidecar/sources/nats/nats_connection.h"

namespace wojak::sidecar::nats {

struct NatsOutboxOptions {
  // Its own connection keys (servers, tls, auth, ...): the outbox may go to another cluster
  // than the orders come from.
  NatsConnectionOptions connection;
  std::string subject_prefix = "wojak.outbox";
};

// Reads sources.nats.outbox (the connection keys plus subject_prefix).
NatsOutboxOptions ReadNatsOutboxOptions(ConfigSection& section);

// The Nats-Msg-Id of an outbox row.
std::string OutboxMessageId(uint64_t outbox_seq);

class NatsOutboxPublisher final : public OutboxPublisher {
 public:
  explicit NatsOutboxPublisher(NatsOutboxOptions options);
  // Registered as "nats" with WOJAK_REGISTER_OUTBOX_PUBLISHER.
  static StatusOr<std::unique_ptr<OutboxPublisher>> Create(ConfigSection& section);

  Status Start() override;
  // OK once the stream capturing the subject acknowledged the message (a duplicate inside the
  // duplicate window counts: the stream has the row). UNAVAILABLE when no stream captures it.
  // Headers besides Nats-Msg-Id: Wojak-Topic, Wojak-Account, Wojak-Outbox-Seq.
  Status Publish(const OutboxMessage& message, std::chrono::milliseconds timeout) override;
  void Stop() override;

 private:
  const NatsOutboxOptions options_;
  std::unique_ptr<NatsPublisher> publisher_;
};

}  // namespace wojak::sidecar::nats
