// Publishing with publisher confirms: every message the sidecar sends (RPC replies, retry copies,
// dead letters, decisions) and what a broker sink (the outbox relay) sends counts as delivered
// only once the broker has confirmed it. Own connection, channel 1 in confirm mode.
#pragma once

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "sidecar/sources/rabbitmq/rabbitmq_connection.h"

namespace wojak::sidecar::rabbitmq {

struct RabbitOutgoing {
  std::string exchange;  // "" = the default exchange (routing key = queue name)
  std::string routing_key;
  std::string body;
  // Unroutable (no queue bound) is an error; otherwise the broker drops it and still confirms.
  bool mandatory = true;
  bool persistent = true;  // delivery_mode 2
  std::string content_type = "application/json";
  std::string message_id;
  std::string correlation_id;
  std::string reply_to;
  std::string type;
  std::string expiration;  // per-message TTL in milliseconds, as text; empty = none
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, int64_t>> int_headers;
  // Headers copied from a received message (borrowed for the Publish call), minus those named
  // in `headers`/`int_headers`, which replace them.
  const amqp_table_t* inherited_headers = nullptr;
};

struct RabbitConfirm {
  uint64_t sequence = 0;
  Status status;  // OK = the broker took responsibility for the message
};

struct RabbitQueueStats {
  uint32_t messages_ready = 0;
  uint32_t consumers = 0;
};

class RabbitPublisher {
 public:
  static StatusOr<std::unique_ptr<RabbitPublisher>> Connect(const RabbitConnectionOptions& options,
                                                            std::string_view connection_name);

  // Sends one message and returns its confirm sequence number; the broker's verdict arrives
  // through PollConfirms. An error means the connection is unusable.
  StatusOr<uint64_t> Publish(const RabbitOutgoing& message);
  // Confirmations (acks, nacks, unroutable returns) that arrive within max_wait; zero takes only
  // what is already there. An error means the connection is unusable and every message not yet
  // confirmed is in doubt (it may or may not have reached a queue).
  StatusOr<std::vector<RabbitConfirm>> PollConfirms(std::chrono::milliseconds max_wait);
  // The sink's call: publishes every message and waits up to `timeout` for all confirms. OK only
  // when the broker confirmed each one; after an error, send the batch again (at least once).
  Status PublishConfirmed(std::span<const RabbitOutgoing> messages,
                          std::chrono::milliseconds timeout);

  // Declares `queue` passively on a second channel: its depth and consumer count.
  StatusOr<RabbitQueueStats> QueueStats(const std::string& queue);

  size_t unconfirmed() const { return pending_.size(); }
  // How long the oldest unconfirmed message has waited (zero when none).
  std::chrono::milliseconds oldest_unconfirmed_age() const;
  RabbitConnection& connection() { return *connection_; }

 private:
  struct Pending {
    std::chrono::steady_clock::time_point sent_at;
    std::string returned;  // why the broker returned it as unroutable; empty = not returned
  };
  explicit RabbitPublisher(std::unique_ptr<RabbitConnection> connection)
      : connection_(std::move(connection)) {}
  Status HandleFrame(const amqp_frame_t& frame, std::vector<RabbitConfirm>& out);
  void Resolve(uint64_t tag, bool multiple, bool acked, std::vector<RabbitConfirm>& out);

  std::unique_ptr<RabbitConnection> connection_;
  uint64_t next_sequence_ = 1;
  std::map<uint64_t, Pending> pending_;
  bool stats_channel_open_ = false;
};

// Header carrying the confirm sequence number on mandatory publishes, so an unroutable return
// (which has no delivery tag) can be matched to its publish.
inline constexpr char kPublishSequenceHeader[] = "x-wojak-publish-seq";

}  // namespace wojak::sidecar::rabbitmq
