// Confirm-mode publishing over librabbitmq-c: sequence numbers, multiple acks, nacks and
// mandatory returns matched back to their publish.
#include "sidecar/sources/rabbitmq/rabbitmq_publisher.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace wojak::sidecar::rabbitmq {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr amqp_channel_t kPublishChannel = 1;
constexpr amqp_channel_t kStatsChannel = 2;

// Waits for the socket to become readable; false on timeout.
bool WaitReadable(int fd, milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, timeout.count())));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace

StatusOr<std::unique_ptr<RabbitPublisher>> RabbitPublisher::Connect(
    const RabbitConnectionOptions& options, std::string_view connection_name) {
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<RabbitConnection> connection,
                         RabbitConnection::Open(options, connection_name));
  WOJAK_RETURN_IF_ERROR(connection->OpenChannel(kPublishChannel));
  amqp_confirm_select(connection->state(), kPublishChannel);
  WOJAK_RETURN_IF_ERROR(connection->LastReply("enabling publisher confirms"));
  return std::unique_ptr<RabbitPublisher>(new RabbitPublisher(std::move(connection)));
}

StatusOr<uint64_t> RabbitPublisher::Publish(const RabbitOutgoing& message) {
  if (connection_->broken()) return Unavailable("publisher connection is broken");
  const uint64_t sequence = next_sequence_;

  RabbitTable headers;
  std::vector<std::string> replaced;
  for (const auto& [key, value] : message.headers) replaced.push_back(key);
  for (const auto& [key, value] : message.int_headers) replaced.push_back(key);
  replaced.emplace_back(kPublishSequenceHeader);
  if (message.inherited_headers != nullptr) headers.Inherit(*message.inherited_headers, replaced);
  for (const auto& [key, value] : message.headers) headers.String(key, value);
  for (const auto& [key, value] : message.int_headers) headers.Int(key, value);
  if (message.mandatory) headers.Int(kPublishSequenceHeader, static_cast<int64_t>(sequence));

  amqp_basic_properties_t properties{};
  auto set_text = [&](const std::string& value, amqp_flags_t flag, amqp_bytes_t& field) {
    if (value.empty()) return;
    properties._flags |= flag;
    field = StringBytes(value);
  };
  set_text(message.content_type, AMQP_BASIC_CONTENT_TYPE_FLAG, properties.content_type);
  set_text(message.message_id, AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id);
  set_text(message.correlation_id, AMQP_BASIC_CORRELATION_ID_FLAG, properties.correlation_id);
  set_text(message.reply_to, AMQP_BASIC_REPLY_TO_FLAG, properties.reply_to);
  set_text(message.type, AMQP_BASIC_TYPE_FLAG, properties.type);
  set_text(message.expiration, AMQP_BASIC_EXPIRATION_FLAG, properties.expiration);
  properties._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.delivery_mode = message.persistent ? 2 : 1;
  if (!headers.empty()) {
    properties._flags |= AMQP_BASIC_HEADERS_FLAG;
    properties.headers = headers.table();
  }

  const int rc =
      amqp_basic_publish(connection_->state(), kPublishChannel, StringBytes(message.exchange),
                         StringBytes(message.routing_key), message.mandatory ? 1 : 0, 0,
                         &properties, StringBytes(message.body));
  WOJAK_RETURN_IF_ERROR(connection_->Library(
      rc, "publishing to exchange '" + message.exchange + "' key '" + message.routing_key + "'"));
  ++next_sequence_;
  pending_.emplace(sequence, Pending{Clock::now(), {}});
  return sequence;
}

void RabbitPublisher::Resolve(uint64_t tag, bool multiple, bool acked,
                              std::vector<RabbitConfirm>& out) {
  auto settle = [&](std::map<uint64_t, Pending>::iterator it) {
    Status status;
    if (!acked) {
      status = Unavailable("the broker refused the message (basic.nack)");
    } else if (!it->second.returned.empty()) {
      status = FailedPrecondition("unroutable: " + it->second.returned);
    }
    out.push_back({it->first, std::move(status)});
    return pending_.erase(it);
  };
  if (multiple) {
    for (auto it = pending_.begin(); it != pending_.end() && it->first <= tag;) it = settle(it);
    return;
  }
  auto it = pending_.find(tag);
  if (it != pending_.end()) settle(it);
}

Status RabbitPublisher::HandleFrame(const amqp_frame_t& frame, std::vector<RabbitConfirm>& out) {
  if (frame.frame_type != AMQP_FRAME_METHOD) return OkStatus();
  switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      Resolve(ack->delivery_tag, ack->multiple != 0, true, out);
      return OkStatus();
    }
    case AMQP_BASIC_NACK_METHOD: {
      auto* nack = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
      Resolve(nack->delivery_tag, nack->multiple != 0, false, out);
      return OkStatus();
    }
    case AMQP_BASIC_RETURN_METHOD: {
      auto* returned = static_cast<amqp_basic_return_t*>(frame.payload.method.decoded);
      const std::string why = std::to_string(returned->reply_code) + " " +
                              BytesToString(returned->reply_text) + " (exchange '" +
                              BytesToString(returned->exchange) + "', key '" +
                              BytesToString(returned->routing_key) + "')";
      amqp_message_t message;
      amqp_rpc_reply_t reply = amqp_read_message(connection_->state(), frame.channel, &message, 0);
      WOJAK_RETURN_IF_ERROR(connection_->Reply(reply, "reading a returned message"));
      const amqp_table_t* headers = (message.properties._flags & AMQP_BASIC_HEADERS_FLAG)
                                        ? &message.properties.headers
                                        : nullptr;
      const int64_t sequence =
          headers == nullptr ? -1 : TableInt(*headers, kPublishSequenceHeader, -1);
      amqp_destroy_message(&message);
      auto it = pending_.find(static_cast<uint64_t>(sequence));
      if (sequence > 0 && it != pending_.end()) it->second.returned = why;
      return OkStatus();
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* close = static_cast<amqp_channel_close_t*>(frame.payload.method.decoded);
      connection_->MarkBroken();
      return Unavailable("broker closed the publish channel (" + std::to_string(close->reply_code) +
                         " " + BytesToString(close->reply_text) + ")");
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* close = static_cast<amqp_connection_close_t*>(frame.payload.method.decoded);
      connection_->MarkBroken();
      return Unavailable("broker closed the publish connection (" +
                         std::to_string(close->reply_code) + " " +
                         BytesToString(close->reply_text) + ")");
    }
    default:
      return OkStatus();
  }
}

StatusOr<std::vector<RabbitConfirm>> RabbitPublisher::PollConfirms(milliseconds max_wait) {
  std::vector<RabbitConfirm> out;
  if (connection_->broken()) return Unavailable("publisher connection is broken");
  // Even when the wait times out, the zero-timeout read below runs: it sends a heartbeat when
  // one is due.
  if (!connection_->HasBufferedInput()) WaitReadable(connection_->fd(), max_wait);
  for (;;) {
    amqp_frame_t frame;
    timeval zero{0, 0};
    const int rc = amqp_simple_wait_frame_noblock(connection_->state(), &frame, &zero);
    if (rc == AMQP_STATUS_TIMEOUT) break;
    WOJAK_RETURN_IF_ERROR(connection_->Library(rc, "reading publisher confirms"));
    WOJAK_RETURN_IF_ERROR(HandleFrame(frame, out));
  }
  amqp_maybe_release_buffers(connection_->state());
  return out;
}

Status RabbitPublisher::PublishConfirmed(std::span<const RabbitOutgoing> messages,
                                         milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::map<uint64_t, size_t> waiting;  // sequence -> index in `messages`
  for (size_t i = 0; i < messages.size(); ++i) {
    WOJAK_ASSIGN_OR_RETURN(uint64_t sequence, Publish(messages[i]));
    waiting.emplace(sequence, i);
  }
  Status first_error;
  while (!waiting.empty()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return DeadlineExceeded(std::to_string(waiting.size()) + " of " +
                              std::to_string(messages.size()) + " messages not confirmed within " +
                              std::to_string(timeout.count()) + " ms");
    }
    WOJAK_ASSIGN_OR_RETURN(std::vector<RabbitConfirm> confirms, PollConfirms(left));
    for (const RabbitConfirm& confirm : confirms) {
      auto it = waiting.find(confirm.sequence);
      if (it == waiting.end()) continue;
      if (!confirm.status.ok() && first_error.ok()) {
        first_error = confirm.status.WithContext("message " + std::to_string(it->second));
      }
      waiting.erase(it);
    }
  }
  return first_error;
}

StatusOr<RabbitQueueStats> RabbitPublisher::QueueStats(const std::string& queue) {
  if (connection_->broken()) return Unavailable("publisher connection is broken");
  if (!stats_channel_open_) {
    WOJAK_RETURN_IF_ERROR(connection_->OpenChannel(kStatsChannel));
    stats_channel_open_ = true;
  }
  amqp_queue_declare_ok_t* ok = amqp_queue_declare(
      connection_->state(), kStatsChannel, StringBytes(queue), 1, 0, 0, 0, amqp_empty_table);
  WOJAK_RETURN_IF_ERROR(connection_->LastReply("reading the depth of queue '" + queue + "'"));
  return RabbitQueueStats{ok->message_count, ok->consumer_count};
}

milliseconds RabbitPublisher::oldest_unconfirmed_age() const {
  if (pending_.empty()) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(Clock::now() - pending_.begin()->second.sent_at);
}

}  // namespace wojak::sidecar::rabbitmq
