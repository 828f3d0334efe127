// RabbitMQ source: one consumer connection (channel 1, manual acks, prefetch) and one confirming
// publisher connection. Both form a "link"; any error tears the whole link down, so delivery
// tags from a dead channel are never used: the broker redelivers those messages instead.
#include "sidecar/sources/rabbitmq/rabbitmq_source.h"

#include <openssl/evp.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.h"
#include "model/order_json.h"

namespace wojak::sidecar::rabbitmq {

namespace {

using std::chrono::milliseconds;

constexpr amqp_channel_t kChannel = 1;
constexpr char kSourceName[] = "rabbitmq";
constexpr char kNoDeadLetterExchange[] = "none";
constexpr char kDeliveryCountHeader[] = "x-delivery-count";  // set by quorum queues
constexpr milliseconds kStopPollQuantum{50};

Nanos ToNanos(milliseconds duration) { return duration.count() * kNanosPerMilli; }

milliseconds CeilMillis(Nanos nanos) {
  return milliseconds(nanos <= 0 ? 0 : (nanos + kNanosPerMilli - 1) / kNanosPerMilli);
}

std::string Sha256Hex(std::string_view input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string_view DeadLetterKindText(DeadLetterKind kind) {
  switch (kind) {
    case DeadLetterKind::kMalformed:
      return "malformed";
    case DeadLetterKind::kForbidden:
      return "forbidden";
    case DeadLetterKind::kTooManyAttempts:
      return "too_many_attempts";
  }
  return "unknown";
}

// Waits until one of the sockets is readable or the timeout passes.
void WaitReadable(int first_fd, int second_fd, milliseconds timeout) {
  pollfd fds[2] = {{first_fd, POLLIN, 0}, {second_fd, POLLIN, 0}};
  int rc;
  do {
    rc = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(0, timeout.count())));
  } while (rc < 0 && errno == EINTR);
}

}  // namespace

struct RabbitSource::Delivery {
  Delivery() { init_amqp_pool(&pool, 1024); }
  ~Delivery() { empty_amqp_pool(&pool); }
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  uint64_t generation = 0;
  uint64_t delivery_tag = 0;
  std::string exchange;
  std::string routing_key;
  std::string message_id;
  std::string correlation_id;
  std::string reply_to;
  std::string type;
  std::string content_type;
  std::string identity;
  int64_t retries = 0;  // times the sidecar sent it through a delay queue
  bool has_headers = false;
  amqp_table_t headers{};  // cloned into `pool`
  amqp_pool_t pool;
};

struct RabbitSource::Link {
  std::unique_ptr<RabbitPublisher> publisher;
  std::unique_ptr<RabbitConnection> consumer;
  std::string consumer_tag;
};

struct RabbitSource::Metrics {
  explicit Metrics(const std::string& queue)
      : redelivered(Family("wojak_rabbitmq_redelivered_total",
                           "deliveries the broker flagged redelivered or counted again")
                        .WithLabels({queue})),
        retry_published(Family("wojak_rabbitmq_retry_published_total",
                               "undecided messages sent through a delay queue")
                            .WithLabels({queue})),
        dead_letter_published(Family("wojak_rabbitmq_dead_letter_published_total",
                                     "messages published to the dead-letter exchange")
                                  .WithLabels({queue})),
        rejected(Family("wojak_rabbitmq_rejected_total", "messages basic.reject'ed (no requeue)")
                     .WithLabels({queue})),
        replies_published(Family("wojak_rabbitmq_replies_published_total",
                                 "decisions published to a reply_to queue")
                              .WithLabels({queue})),
        publish_failures(Family("wojak_rabbitmq_publish_failures_total",
                                "publishes the broker nacked or returned as unroutable")
                             .WithLabels({queue})),
        link_failures(Family("wojak_rabbitmq_link_failures_total",
                             "broker connections lost or refused (each followed by a reconnect)")
                          .WithLabels({queue})),
        stale_settlements(Family("wojak_rabbitmq_stale_settlements_total",
                                 "acks/nacks for deliveries of a connection since lost (the broker "
                                 "redelivers them)")
                              .WithLabels({queue})),
        without_message_id(Family("wojak_rabbitmq_messages_without_id_total",
                                  "messages without a message_id property (identity = body hash)")
                               .WithLabels({queue})),
        queue_messages(MetricsRegistry::Default()
                           .AddGaugeFamily("wojak_rabbitmq_queue_messages",
                                           "messages ready in the queue (lag), from a passive "
                                           "declare every stats_interval",
                                           {"queue"})
                           .WithLabels({queue})),
        queue_consumers(MetricsRegistry::Default()
                            .AddGaugeFamily("wojak_rabbitmq_queue_consumers",
                                            "consumers on the queue", {"queue"})
                            .WithLabels({queue})),
        unsettled(MetricsRegistry::Default()
                      .AddGaugeFamily("wojak_rabbitmq_unsettled",
                                      "messages waiting for publisher confirms before their ack",
                                      {"queue"})
                      .WithLabels({queue})) {}

  static CounterFamily Family(const std::string& name, const std::string& help) {
    return MetricsRegistry::Default().AddCounterFamily(name, help, {"queue"});
  }

  Counter& redelivered;
  Counter& retry_published;
  Counter& dead_letter_published;
  Counter& rejected;
  Counter& replies_published;
  Counter& publish_failures;
  Counter& link_failures;
  Counter& stale_settlements;
  Counter& without_message_id;
  Gauge& queue_messages;
  Gauge& queue_consumers;
  Gauge& unsettled;
};

RabbitSourceOptions ReadRabbitSourceOptions(ConfigSection& section) {
  RabbitSourceOptions defaults;
  RabbitSourceOptions options;
  options.connection = ReadRabbitConnectionOptions(section);
  options.queue = section.String("queue", defaults.queue, "queue the orders are consumed from");
  if (options.queue.empty() || options.queue.size() > 200) {
    section.Error("queue", "must be 1-200 characters");
  } else if (options.queue.rfind("amq.", 0) == 0) {
    section.Error("queue", "names starting with 'amq.' are reserved by the broker");
  }
  options.declare = section.Bool(
      "declare", defaults.declare,
      "declare the queue, its dead-letter exchange and queue, and the delay queues at start "
      "(off: they must exist)");
  options.queue_type = section.Enum("queue_type", defaults.queue_type, {"quorum", "classic"},
                                    "x-queue-type of the queues declared (declare: true)");
  options.prefetch = static_cast<int>(
      section.Int("prefetch", defaults.prefetch,
                  "basic.qos prefetch: unacked messages the broker hands out at once (set it to "
                  "sidecar.window)",
                  1, 65535));
  if (section.Bool("auto_ack", false,
                   "must stay false: the broker would forget each message as it is sent, before "
                   "the engine decided it")) {
    section.Error("auto_ack", "refused: acks are sent only after the engine's decision");
  }
  options.dead_letter_exchange = section.String(
      "dead_letter_exchange", "",
      "exchange for dead letters (reason in x-wojak-dead-letter-* headers); empty = "
      "'<queue>.dlx' with declare, basic.reject without; 'none' = always basic.reject "
      "requeue=false");
  const std::string retry_mode =
      section.Enum("retry_mode", "delay_queue", {"delay_queue", "hold"},
                   "undecided messages: delay_queue = copy into a TTL queue that dead-letters back "
                   "into the main queue; hold = keep unacked for the delay, then basic.nack "
                   "requeue=true");
  options.retry_mode = retry_mode == "hold" ? RetryMode::kHold : RetryMode::kDelayQueue;
  options.retry_min_delay =
      section.Duration("retry_min_delay", defaults.retry_min_delay,
                       "shortest delay queue; tiers double up to retry_max_delay");
  options.retry_max_delay =
      section.Duration("retry_max_delay", defaults.retry_max_delay, "longest delay queue");
  if (options.retry_min_delay.count() < 10) section.Error("retry_min_delay", "at least 10ms");
  if (options.retry_max_delay < options.retry_min_delay) {
    section.Error("retry_max_delay", "must not be below retry_min_delay");
  }
  options.decisions_exchange =
      section.String("decisions_exchange", "",
                     "also publish every decision to this exchange, routing key = account "
                     "(empty = off)");
  options.persistent_replies = section.Bool(
      "persistent_replies", defaults.persistent_replies,
      "publish RPC replies and decisions persistent (delivery_mode 2): the broker then confirms "
      "them only after writing them to disk, which slows every ack; a lost reply is recovered by "
      "sending the order again (answered DUPLICATE with the original decision)");
  options.require_message_id = section.Bool(
      "require_message_id", defaults.require_message_id,
      "dead-letter messages without a message_id property (otherwise their identity is a hash of "
      "the body and routing, and identical bodies count as one order)");
  options.reconnect_initial = section.Duration(
      "reconnect_initial", defaults.reconnect_initial,
      "first delay before reconnecting to the broker (doubles up to reconnect_max)");
  options.reconnect_max =
      section.Duration("reconnect_max", defaults.reconnect_max, "longest reconnect delay");
  options.confirm_timeout = section.Duration(
      "confirm_timeout", defaults.confirm_timeout,
      "a publish not confirmed within this: the connection is rebuilt (messages redelivered)");
  options.stats_interval =
      section.Duration("stats_interval", defaults.stats_interval,
                       "how often the queue depth gauge is refreshed (0 = never)");
  if (options.reconnect_initial.count() <= 0)
    section.Error("reconnect_initial", "must be positive");
  if (options.reconnect_max < options.reconnect_initial) {
    section.Error("reconnect_max", "must not be below reconnect_initial");
  }
  if (options.confirm_timeout.count() <= 0) section.Error("confirm_timeout", "must be positive");
  return options;
}

std::string RabbitIdentity(std::string_view queue, std::string_view message_id,
                           std::string_view exchange, std::string_view routing_key,
                           std::string_view body) {
  std::string identity = "amqp:";
  identity += queue;
  if (!message_id.empty()) {
    identity += ":id:";
    identity += message_id;
    return identity;
  }
  std::string input;
  input.reserve(exchange.size() + routing_key.size() + body.size() + 2);
  input.append(exchange).append("\n").append(routing_key).append("\n").append(body);
  identity += ":sha256:";
  identity += Sha256Hex(input);
  return identity;
}

std::vector<std::pair<std::string, milliseconds>> RetryQueues(const RabbitSourceOptions& options) {
  std::vector<std::pair<std::string, milliseconds>> queues;
  milliseconds delay = options.retry_min_delay;
  for (;;) {
    const milliseconds tier = std::min(delay, options.retry_max_delay);
    queues.emplace_back(options.queue + ".retry." + std::to_string(tier.count()) + "ms", tier);
    if (tier >= options.retry_max_delay) break;
    delay *= 2;
  }
  return queues;
}

StatusOr<std::unique_ptr<Source>> RabbitSource::Create(ConfigSection& section,
                                                       const SourceContext& /*context*/) {
  return std::unique_ptr<Source>(std::make_unique<RabbitSource>(ReadRabbitSourceOptions(section)));
}

RabbitSource::RabbitSource(RabbitSourceOptions options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      metrics_(std::make_unique<Metrics>(options_.queue)) {
  if (options_.dead_letter_exchange == kNoDeadLetterExchange) {
    dead_letter_exchange_.clear();
  } else if (options_.dead_letter_exchange.empty()) {
    dead_letter_exchange_ = options_.declare ? options_.queue + ".dlx" : "";
  } else {
    dead_letter_exchange_ = options_.dead_letter_exchange;
  }
  if (options_.retry_mode == RetryMode::kDelayQueue) retry_queues_ = RetryQueues(options_);
}

RabbitSource::~RabbitSource() { Stop(); }

Status RabbitSource::Start() {
  Status status = Connect();
  if (status.ok()) return status;
  // An unreachable broker is waited for (with backoff); a refused configuration is fatal.
  if (status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDeadlineExceeded) {
    TearDown(status);
    return OkStatus();
  }
  return status;
}

Status RabbitSource::DeclareTopology(RabbitConnection& connection) {
  amqp_connection_state_t state = connection.state();
  const bool quorum = options_.queue_type == "quorum";
  if (!dead_letter_exchange_.empty()) {
    amqp_exchange_declare(state, kChannel, StringBytes(dead_letter_exchange_),
                          amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
    WOJAK_RETURN_IF_ERROR(
        connection.LastReply("declaring exchange '" + dead_letter_exchange_ + "'"));
    const std::string dead_queue = options_.queue + ".dead-letter";
    RabbitTable arguments;
    arguments.String("x-queue-type", options_.queue_type);
    amqp_queue_declare(state, kChannel, StringBytes(dead_queue), 0, 1, 0, 0, arguments.table());
    WOJAK_RETURN_IF_ERROR(connection.LastReply("declaring queue '" + dead_queue + "'"));
    amqp_queue_bind(state, kChannel, StringBytes(dead_queue), StringBytes(dead_letter_exchange_),
                    amqp_empty_bytes, amqp_empty_table);
    WOJAK_RETURN_IF_ERROR(connection.LastReply("binding queue '" + dead_queue + "'"));
  }
  RabbitTable arguments;
  arguments.String("x-queue-type", options_.queue_type);
  if (!dead_letter_exchange_.empty()) {
    arguments.String("x-dead-letter-exchange", dead_letter_exchange_);
  }
  amqp_queue_declare(state, kChannel, StringBytes(options_.queue), 0, 1, 0, 0, arguments.table());
  WOJAK_RETURN_IF_ERROR(connection.LastReply("declaring queue '" + options_.queue + "'"));
  for (const auto& [name, delay] : retry_queues_) {
    RabbitTable retry;
    retry.String("x-queue-type", options_.queue_type)
        .Int("x-message-ttl", delay.count())
        .String("x-dead-letter-exchange", "")
        .String("x-dead-letter-routing-key", options_.queue);
    if (quorum) {
      // Quorum queues dead-letter at most once by default; a retry must not vanish.
      retry.String("x-dead-letter-strategy", "at-least-once")
          .String("x-overflow", "reject-publish");
    }
    amqp_queue_declare(state, kChannel, StringBytes(name), 0, 1, 0, 0, retry.table());
    WOJAK_RETURN_IF_ERROR(connection.LastReply("declaring delay queue '" + name + "'"));
  }
  return OkStatus();
}

Status RabbitSource::Connect() {
  auto link = std::make_unique<Link>();
  const std::string name = "wojak-sidecar " + options_.queue;
  WOJAK_ASSIGN_OR_RETURN(link->publisher,
                         RabbitPublisher::Connect(options_.connection, name + " publisher"));
  WOJAK_ASSIGN_OR_RETURN(link->consumer,
                         RabbitConnection::Open(options_.connection, name + " consumer"));
  RabbitConnection& consumer = *link->consumer;
  amqp_connection_state_t state = consumer.state();
  WOJAK_RETURN_IF_ERROR(consumer.OpenChannel(kChannel));
  if (options_.declare) {
    WOJAK_RETURN_IF_ERROR(DeclareTopology(consumer));
  } else {
    std::vector<std::string> required = {options_.queue};
    for (const auto& [retry_queue, delay] : retry_queues_) required.push_back(retry_queue);
    for (const std::string& queue : required) {
      amqp_queue_declare(state, kChannel, StringBytes(queue), 1, 0, 0, 0, amqp_empty_table);
      WOJAK_RETURN_IF_ERROR(consumer.LastReply("checking that queue '" + queue + "' exists"));
    }
  }
  amqp_basic_qos(state, kChannel, 0, static_cast<uint16_t>(options_.prefetch), 0);
  WOJAK_RETURN_IF_ERROR(consumer.LastReply("setting the prefetch (basic.qos)"));
  amqp_basic_consume_ok_t* consume =
      amqp_basic_consume(state, kChannel, StringBytes(options_.queue), amqp_empty_bytes, 0,
                         /*no_ack=*/0, 0, amqp_empty_table);
  WOJAK_RETURN_IF_ERROR(consumer.LastReply("consuming from '" + options_.queue + "'"));
  link->consumer_tag = BytesToString(consume->consumer_tag);

  link_ = std::move(link);
  ++generation_;
  reconnect_delay_ = milliseconds(0);
  next_stats_at_ = 0;
  LogInfo("rabbitmq_connected", {{"queue", options_.queue},
                                 {"host", options_.connection.host},
                                 {"port", static_cast<int64_t>(options_.connection.port)},
                                 {"prefetch", options_.prefetch},
                                 {"generation", generation_},
                                 {"consumer_tag", link_->consumer_tag}});
  return OkStatus();
}

void RabbitSource::TearDown(const Status& why) {
  const bool was_connected = link_ != nullptr;
  if (link_ != nullptr) {
    // No close handshake: it could block on a dead peer, and the broker requeues every unacked
    // message of a closed channel either way.
    link_->consumer->MarkBroken();
    link_->publisher->connection().MarkBroken();
    link_.reset();
  }
  metrics_->link_failures.Increment();
  const size_t dropped = ready_.size() + held_.size() + settlements_.size();
  ready_.clear();
  held_.clear();
  settlements_.clear();
  settlement_by_sequence_.clear();
  metrics_->unsettled.Set(0);
  reconnect_delay_ = reconnect_delay_.count() == 0
                         ? options_.reconnect_initial
                         : std::min(reconnect_delay_ * 2, options_.reconnect_max);
  reconnect_at_ = clock_.Monotonic() + ToNanos(reconnect_delay_);
  LogWarn(was_connected ? "rabbitmq_link_lost" : "rabbitmq_connect_failed",
          {{"queue", options_.queue},
           {"error", why.ToString()},
           {"left_to_redelivery", dropped},
           {"retry_in_ms", reconnect_delay_.count()}});
}

std::shared_ptr<RabbitSource::Delivery> RabbitSource::Current(const Message& message) {
  auto delivery = std::static_pointer_cast<Delivery>(message.handle);
  if (delivery == nullptr) return nullptr;
  if (link_ == nullptr || delivery->generation != generation_) {
    // Its channel is gone: the tag means nothing on a new channel, and the broker has already
    // put the message back for redelivery.
    metrics_->stale_settlements.Increment();
    return nullptr;
  }
  return delivery;
}

void RabbitSource::Settle(Delivery& delivery, Outcome outcome) {
  if (link_ == nullptr || delivery.generation != generation_) {
    metrics_->stale_settlements.Increment();
    return;
  }
  amqp_connection_state_t state = link_->consumer->state();
  int rc = AMQP_STATUS_OK;
  std::string_view what;
  switch (outcome) {
    case Outcome::kAck:
      rc = amqp_basic_ack(state, kChannel, delivery.delivery_tag, 0);
      what = "basic.ack";
      break;
    case Outcome::kRequeue:
      rc = amqp_basic_nack(state, kChannel, delivery.delivery_tag, 0, /*requeue=*/1);
      what = "basic.nack";
      break;
    case Outcome::kReject:
      rc = amqp_basic_reject(state, kChannel, delivery.delivery_tag, /*requeue=*/0);
      metrics_->rejected.Increment();
      what = "basic.reject";
      break;
  }
  if (rc != AMQP_STATUS_OK) TearDown(link_->consumer->Library(rc, what));
}

Status RabbitSource::PublishThen(std::shared_ptr<Delivery> delivery,
                                 std::vector<RabbitOutgoing> messages, Outcome then,
                                 Outcome fallback, std::string what) {
  if (messages.empty()) {
    Settle(*delivery, then);
    return OkStatus();
  }
  const uint64_t id = next_settlement_++;
  Settlement settlement;
  settlement.delivery = delivery;
  settlement.then = then;
  settlement.fallback = fallback;
  settlement.what = std::move(what);
  for (const RabbitOutgoing& message : messages) {
    StatusOr<uint64_t> sequence = link_->publisher->Publish(message);
    if (!sequence.ok()) {
      TearDown(sequence.status());
      return sequence.status();
    }
    settlement_by_sequence_[*sequence] = id;
    ++settlement.outstanding;
  }
  settlements_.emplace(id, std::move(settlement));
  metrics_->unsettled.Set(static_cast<double>(settlements_.size()));
  return OkStatus();
}

void RabbitSource::TakeConfirms(milliseconds max_wait) {
  if (link_ == nullptr) return;
  StatusOr<std::vector<RabbitConfirm>> confirms = link_->publisher->PollConfirms(max_wait);
  if (!confirms.ok()) {
    TearDown(confirms.status());
    return;
  }
  for (const RabbitConfirm& confirm : *confirms) {
    auto by_sequence = settlement_by_sequence_.find(confirm.sequence);
    if (by_sequence == settlement_by_sequence_.end()) continue;
    auto it = settlements_.find(by_sequence->second);
    settlement_by_sequence_.erase(by_sequence);
    if (it == settlements_.end()) continue;
    Settlement& settlement = it->second;
    if (!confirm.status.ok() && settlement.failure.empty()) {
      settlement.failure = confirm.status.ToString();
    }
    if (--settlement.outstanding > 0) continue;
    Settlement done = std::move(settlement);
    settlements_.erase(it);
    if (done.failure.empty()) {
      Settle(*done.delivery, done.then);
    } else {
      metrics_->publish_failures.Increment();
      LogError("rabbitmq_publish_failed", {{"queue", options_.queue},
                                           {"publish", done.what},
                                           {"identity", done.delivery->identity},
                                           {"error", done.failure}});
      Settle(*done.delivery, done.fallback);
    }
    if (link_ == nullptr) return;  // Settle tore the link down
  }
  metrics_->unsettled.Set(static_cast<double>(settlements_.size()));
}

void RabbitSource::ReleaseHeld(Nanos now, bool all) {
  while (!held_.empty() && link_ != nullptr && (all || held_.begin()->first <= now)) {
    std::shared_ptr<Delivery> delivery = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    Settle(*delivery, Outcome::kRequeue);
  }
}

Status RabbitSource::HandleUnexpectedFrame() {
  RabbitConnection& consumer = *link_->consumer;
  amqp_frame_t frame;
  WOJAK_RETURN_IF_ERROR(consumer.Library(amqp_simple_wait_frame(consumer.state(), &frame),
                                         "reading a frame from the consumer connection"));
  if (frame.frame_type != AMQP_FRAME_METHOD) return OkStatus();
  switch (frame.payload.method.id) {
    case AMQP_BASIC_CANCEL_METHOD:
      consumer.MarkBroken();
      return Unavailable("the broker cancelled the consumer (queue deleted or moved)");
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* close = static_cast<amqp_channel_close_t*>(frame.payload.method.decoded);
      consumer.MarkBroken();
      return Unavailable("the broker closed the consumer channel (" +
                         std::to_string(close->reply_code) + " " +
                         BytesToString(close->reply_text) + ")");
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* close = static_cast<amqp_connection_close_t*>(frame.payload.method.decoded);
      consumer.MarkBroken();
      return Unavailable("the broker closed the consumer connection (" +
                         std::to_string(close->reply_code) + " " +
                         BytesToString(close->reply_text) + ")");
    }
    default:
      return OkStatus();
  }
}

Status RabbitSource::ReadDeliveries(size_t max_messages, milliseconds max_wait) {
  RabbitConnection& consumer = *link_->consumer;
  RabbitConnection& publisher = link_->publisher->connection();
  if (ready_.empty() && max_wait.count() > 0 && !consumer.HasBufferedInput() &&
      !publisher.HasBufferedInput()) {
    WaitReadable(consumer.fd(), publisher.fd(), max_wait);
    TakeConfirms(milliseconds(0));
    if (link_ == nullptr) return OkStatus();
  }
  amqp_maybe_release_buffers(consumer.state());
  while (ready_.size() < max_messages) {
    amqp_envelope_t envelope;
    timeval zero{0, 0};
    amqp_rpc_reply_t reply = amqp_consume_message(consumer.state(), &envelope, &zero, 0);
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      if (reply.library_error == AMQP_STATUS_TIMEOUT) break;
      if (reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        WOJAK_RETURN_IF_ERROR(HandleUnexpectedFrame());
        continue;
      }
    }
    WOJAK_RETURN_IF_ERROR(consumer.Reply(reply, "consuming"));

    auto delivery = std::make_shared<Delivery>();
    delivery->generation = generation_;
    delivery->delivery_tag = envelope.delivery_tag;
    delivery->exchange = BytesToString(envelope.exchange);
    delivery->routing_key = BytesToString(envelope.routing_key);
    const amqp_basic_properties_t& properties = envelope.message.properties;
    auto text = [&](amqp_flags_t flag, const amqp_bytes_t& field) {
      return (properties._flags & flag) ? BytesToString(field) : std::string();
    };
    delivery->message_id = text(AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id);
    delivery->correlation_id = text(AMQP_BASIC_CORRELATION_ID_FLAG, properties.correlation_id);
    delivery->reply_to = text(AMQP_BASIC_REPLY_TO_FLAG, properties.reply_to);
    delivery->type = text(AMQP_BASIC_TYPE_FLAG, properties.type);
    delivery->content_type = text(AMQP_BASIC_CONTENT_TYPE_FLAG, properties.content_type);
    const bool redelivered = envelope.redelivered != 0;
    int64_t redeliveries = redelivered ? 1 : 0;
    if ((properties._flags & AMQP_BASIC_HEADERS_FLAG) &&
        amqp_table_clone(&properties.headers, &delivery->headers, &delivery->pool) ==
            AMQP_STATUS_OK) {
      delivery->has_headers = true;
      delivery->retries = std::max<int64_t>(0, TableInt(delivery->headers, kRetriesHeader, 0));
      delivery->identity = TableString(delivery->headers, kIdentityHeader);
      redeliveries = TableInt(delivery->headers, kDeliveryCountHeader, redeliveries);
    }
    Message message;
    message.body = BytesToString(envelope.message.body);
    amqp_destroy_envelope(&envelope);
    if (delivery->identity.empty()) {
      delivery->identity = RabbitIdentity(options_.queue, delivery->message_id, delivery->exchange,
                                          delivery->routing_key, message.body);
    }
    if (redelivered || redeliveries > 0) metrics_->redelivered.Increment();
    message.kind = delivery->type == "cancel" ? MessageKind::kCancel : MessageKind::kNewOrder;
    message.identity = delivery->identity;
    message.delivery_attempt = static_cast<uint32_t>(
        std::clamp<int64_t>(delivery->retries + redeliveries + 1, 1, 1000000));
    message.handle = delivery;

    if (delivery->message_id.empty() && delivery->retries == 0) {
      metrics_->without_message_id.Increment();
      if (!warned_missing_message_id_) {
        warned_missing_message_id_ = true;
        LogWarn("rabbitmq_message_without_id",
                {{"queue", options_.queue},
                 {"detail",
                  "no message_id property: identity is a hash of body and routing, so two "
                  "identical orders without client_order_id count as one; publishers should "
                  "set message_id (or client_order_id)"}});
      }
      if (options_.require_message_id) {
        DeadLetterInfo info;
        info.kind = DeadLetterKind::kMalformed;
        info.reason = "message_id property required (sources.rabbitmq.require_message_id)";
        info.decision.kind = DecisionKind::kRejected;
        DeadLetter(message, info).IgnoreError();
        if (link_ == nullptr) return OkStatus();
        continue;
      }
    }
    ready_.push_back(std::move(message));
  }
  return OkStatus();
}

void RabbitSource::RefreshStats(Nanos now) {
  if (options_.stats_interval.count() <= 0 || link_ == nullptr || now < next_stats_at_) return;
  next_stats_at_ = now + ToNanos(options_.stats_interval);
  StatusOr<RabbitQueueStats> stats = link_->publisher->QueueStats(options_.queue);
  if (!stats.ok()) {
    TearDown(stats.status());
    return;
  }
  metrics_->queue_messages.Set(stats->messages_ready);
  metrics_->queue_consumers.Set(stats->consumers);
}

StatusOr<std::vector<Message>> RabbitSource::Poll(size_t max_messages, milliseconds max_wait) {
  std::vector<Message> out;
  Nanos now = clock_.Monotonic();
  if (link_ == nullptr) {
    if (now < reconnect_at_) {
      std::this_thread::sleep_for(std::min(max_wait, CeilMillis(reconnect_at_ - now)));
      return out;
    }
    Status status = Connect();
    if (!status.ok()) {
      TearDown(status);
      return out;
    }
  }
  TakeConfirms(milliseconds(0));
  ReleaseHeld(now, /*all=*/false);
  if (link_ != nullptr && link_->publisher->oldest_unconfirmed_age() > options_.confirm_timeout) {
    TearDown(DeadlineExceeded("a publish was not confirmed within " +
                              std::to_string(options_.confirm_timeout.count()) + " ms"));
  }
  RefreshStats(now);
  if (link_ == nullptr) return out;

  milliseconds wait = max_wait;
  if (!held_.empty()) wait = std::min(wait, CeilMillis(held_.begin()->first - now));
  if (intake_stopped_) {
    TakeConfirms(wait);
    return out;
  }
  Status status = ReadDeliveries(max_messages, wait);
  if (!status.ok()) {
    TearDown(status);
    return out;
  }
  while (!ready_.empty() && out.size() < max_messages) {
    out.push_back(std::move(ready_.front()));
    ready_.pop_front();
  }
  return out;
}

RabbitOutgoing RabbitSource::CopyOf(const Delivery& delivery, std::string_view body) const {
  RabbitOutgoing copy;
  copy.body = std::string(body);
  copy.mandatory = true;
  copy.persistent = true;
  copy.content_type = delivery.content_type;
  copy.message_id = delivery.message_id;
  copy.correlation_id = delivery.correlation_id;
  copy.reply_to = delivery.reply_to;
  copy.type = delivery.type;
  copy.inherited_headers = delivery.has_headers ? &delivery.headers : nullptr;
  copy.headers.emplace_back(kIdentityHeader, delivery.identity);
  return copy;
}

Status RabbitSource::Ack(const Message& message, const Decision& decision) {
  std::shared_ptr<Delivery> delivery = Current(message);
  if (delivery == nullptr) return OkStatus();
  std::vector<RabbitOutgoing> publishes;
  const std::string body = DecisionToJson(decision);
  if (!delivery->reply_to.empty()) {
    RabbitOutgoing reply;
    reply.routing_key = delivery->reply_to;
    reply.body = body;
    reply.mandatory = false;  // a requester that went away must not hold up the ack
    reply.persistent = options_.persistent_replies;
    reply.correlation_id = delivery->correlation_id;
    reply.type = "decision";
    publishes.push_back(std::move(reply));
    metrics_->replies_published.Increment();
  }
  if (!options_.decisions_exchange.empty()) {
    RabbitOutgoing event;
    event.exchange = options_.decisions_exchange;
    event.routing_key = decision.account;
    event.body = body;
    event.mandatory = false;
    event.persistent = options_.persistent_replies;
    event.correlation_id = delivery->correlation_id;
    event.type = "decision";
    publishes.push_back(std::move(event));
  }
  // A reply that fails leaves the order unacked: the redelivery is answered DUPLICATE with the
  // same decision, so the requester still hears it.
  return PublishThen(std::move(delivery), std::move(publishes), Outcome::kAck, Outcome::kRequeue,
                     "reply");
}

Status RabbitSource::Nack(const Message& message, milliseconds delay) {
  std::shared_ptr<Delivery> delivery = Current(message);
  if (delivery == nullptr) return OkStatus();
  LogDebug("rabbitmq_message_nacked", {{"queue", options_.queue},
                                       {"identity", delivery->identity},
                                       {"attempt", static_cast<int64_t>(message.delivery_attempt)},
                                       {"delay_ms", delay.count()}});
  if (delay.count() <= 0) {
    Settle(*delivery, Outcome::kRequeue);
    return OkStatus();
  }
  if (options_.retry_mode == RetryMode::kHold) {
    held_.emplace(clock_.Monotonic() + ToNanos(delay), std::move(delivery));
    return OkStatus();
  }
  auto tier = std::find_if(retry_queues_.begin(), retry_queues_.end(),
                           [&](const auto& queue) { return queue.second >= delay; });
  if (tier == retry_queues_.end()) tier = std::prev(retry_queues_.end());
  RabbitOutgoing copy = CopyOf(*delivery, message.body);
  copy.routing_key = tier->first;
  copy.int_headers.emplace_back(kRetriesHeader, delivery->retries + 1);
  metrics_->retry_published.Increment();
  // If the copy cannot be placed, fall back to an immediate requeue rather than losing it.
  return PublishThen(std::move(delivery), {std::move(copy)}, Outcome::kAck, Outcome::kRequeue,
                     "retry");
}

Status RabbitSource::DeadLetter(const Message& message, const DeadLetterInfo& info) {
  std::shared_ptr<Delivery> delivery = Current(message);
  if (delivery == nullptr) return OkStatus();
  std::vector<RabbitOutgoing> publishes;
  if (!dead_letter_exchange_.empty()) {
    RabbitOutgoing copy = CopyOf(*delivery, message.body);
    copy.exchange = dead_letter_exchange_;
    copy.routing_key = delivery->routing_key;
    copy.headers.emplace_back(kDeadLetterReasonHeader, info.reason);
    copy.headers.emplace_back(kDeadLetterKindHeader, std::string(DeadLetterKindText(info.kind)));
    copy.headers.emplace_back(kOriginalExchangeHeader, delivery->exchange);
    copy.headers.emplace_back(kOriginalRoutingKeyHeader, delivery->routing_key);
    copy.headers.emplace_back(kSourceQueueHeader, options_.queue);
    publishes.push_back(std::move(copy));
    metrics_->dead_letter_published.Increment();
  }
  if (!delivery->reply_to.empty()) {
    nlohmann::json answer = DecisionToJsonValue(info.decision);
    answer["error"] = info.reason;
    RabbitOutgoing reply;
    reply.routing_key = delivery->reply_to;
    reply.body = answer.dump();
    reply.mandatory = false;
    reply.persistent = options_.persistent_replies;
    reply.correlation_id = delivery->correlation_id;
    reply.type = "decision";
    publishes.push_back(std::move(reply));
    metrics_->replies_published.Increment();
  }
  const Outcome then = dead_letter_exchange_.empty() ? Outcome::kReject : Outcome::kAck;
  return PublishThen(std::move(delivery), std::move(publishes), then, Outcome::kReject,
                     "dead-letter");
}

void RabbitSource::StopIntake() { intake_stopped_ = true; }

void RabbitSource::Stop() {
  if (link_ != nullptr) {
    const Nanos deadline = clock_.Monotonic() + ToNanos(options_.confirm_timeout);
    while (link_ != nullptr && !settlements_.empty() && clock_.Monotonic() < deadline) {
      TakeConfirms(kStopPollQuantum);
    }
    ReleaseHeld(clock_.Monotonic(), /*all=*/true);
  }
  // A graceful close: the broker requeues whatever is still unacked (read but not handed out,
  // or still waiting for a confirm).
  link_.reset();
  ready_.clear();
  held_.clear();
  settlements_.clear();
  settlement_by_sequence_.clear();
}

WOJAK_REGISTER_SOURCE(kSourceName, RabbitSource::Create);

}  // namespace wojak::sidecar::rabbitmq
