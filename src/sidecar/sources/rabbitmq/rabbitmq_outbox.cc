// RabbitMQ outbox sink: one confirm-mode connection, rebuilt after any error that leaves a
// confirm in doubt, so a late confirm of an abandoned publish is never taken for a new one.
#include "sidecar/sources/rabbitmq/rabbitmq_outbox.h"

#include <span>
#include <string>

namespace wojak::sidecar::rabbitmq {
namespace {

constexpr amqp_channel_t kPublishChannel = 1;  // RabbitPublisher's confirm channel

}  // namespace

RabbitOutboxOptions ReadRabbitOutboxOptions(ConfigSection& section) {
  RabbitOutboxOptions defaults;
  RabbitOutboxOptions options;
  options.connection = ReadRabbitConnectionOptions(section);
  options.exchange = section.String(
      "exchange", defaults.exchange,
      "topic exchange the outbox rows are published to (routing key '<topic>.<account>')");
  if (options.exchange.empty() || options.exchange.size() > 200) {
    section.Error("exchange",
                  "must be 1-200 characters (the default exchange cannot route "
                  "'<topic>.<account>')");
  }
  options.declare = section.Bool(
      "declare", defaults.declare,
      "declare the exchange (durable, type topic) at every connect; off: it must exist");
  if (options.declare && options.exchange.rfind("amq.", 0) == 0) {
    section.Error("exchange",
                  "names starting with 'amq.' are reserved by the broker: use "
                  "declare: false to publish to an existing one");
  }
  return options;
}

std::string OutboxRoutingKey(const OutboxMessage& message) {
  return message.topic + "." + message.account;
}

StatusOr<std::unique_ptr<OutboxPublisher>> RabbitOutboxPublisher::Create(
    ConfigSection& outbox_section) {
  return std::unique_ptr<OutboxPublisher>(
      new RabbitOutboxPublisher(ReadRabbitOutboxOptions(outbox_section)));
}

Status RabbitOutboxPublisher::Connect() {
  publisher_.reset();
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<RabbitPublisher> publisher,
                         RabbitPublisher::Connect(options_.connection, "wojak outbox sink"));
  if (options_.declare) {
    RabbitConnection& connection = publisher->connection();
    amqp_exchange_declare(connection.state(), kPublishChannel, StringBytes(options_.exchange),
                          StringBytes("topic"), /*passive=*/0, /*durable=*/1,
                          /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
    WOJAK_RETURN_IF_ERROR(
        connection.LastReply("declaring outbox exchange '" + options_.exchange + "'"));
  }
  publisher_ = std::move(publisher);
  return OkStatus();
}

Status RabbitOutboxPublisher::Start() { return Connect(); }

Status RabbitOutboxPublisher::Publish(const OutboxMessage& message,
                                      std::chrono::milliseconds timeout) {
  // Between rows the connection is idle and nothing reads it: a broker that closed it meanwhile
  // (missed heartbeats, a restart) shows up here rather than as a failed publish.
  if (publisher_ != nullptr && !publisher_->PollConfirms(std::chrono::milliseconds(0)).ok()) {
    publisher_.reset();
  }
  if (publisher_ == nullptr || publisher_->connection().broken()) {
    WOJAK_RETURN_IF_ERROR(Connect().WithContext("outbox sink reconnecting"));
  }
  RabbitOutgoing outgoing;
  outgoing.exchange = options_.exchange;
  outgoing.routing_key = OutboxRoutingKey(message);
  outgoing.body = message.body;
  outgoing.mandatory = true;
  outgoing.persistent = true;
  outgoing.message_id = std::to_string(message.outbox_seq);
  outgoing.type = message.topic;
  outgoing.headers = {{"account", message.account}};
  outgoing.int_headers = {{"outbox_seq", static_cast<int64_t>(message.outbox_seq)},
                          {"entry_seq", static_cast<int64_t>(message.entry_seq)}};
  Status status =
      publisher_->PublishConfirmed(std::span<const RabbitOutgoing>(&outgoing, 1), timeout);
  if (status.ok()) return status;
  // Unroutable and nacked messages leave the channel usable; anything else (a timeout, a lost
  // connection) leaves confirms outstanding, so the next publish starts on a new connection.
  if (status.code() == StatusCode::kDeadlineExceeded || publisher_->connection().broken()) {
    // No graceful close: it would wait on a broker that has just failed to answer.
    publisher_->connection().MarkBroken();
    publisher_.reset();
  }
  return status.WithContext("outbox row " + std::to_string(message.outbox_seq) + " to exchange '" +
                            options_.exchange + "' key '" + outgoing.routing_key + "'");
}

void RabbitOutboxPublisher::Stop() { publisher_.reset(); }

WOJAK_REGISTER_OUTBOX_PUBLISHER("rabbitmq", RabbitOutboxPublisher::Create);

}  // namespace wojak::sidecar::rabbitmq
