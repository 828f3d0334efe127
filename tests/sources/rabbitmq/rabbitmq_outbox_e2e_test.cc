// The outbox's RabbitMQ broker sink end to end, with real processes: `wojak engine` (outbox.sink:
// sidecar) → `wojak sidecar --source rabbitmq` (sidecar.outbox_endpoint) → rabbitmq-server. The
// scenario is tests/sources/outbox_e2e.h's; the rows are fetched from a queue bound to the
// test's own outbox exchange with the escalation's exact routing key.
#include <gtest/gtest.h>

#include "rabbitmq_broker.h"
#include "sidecar/sources/rabbitmq/rabbitmq_outbox.h"
#include "sources/outbox_e2e.h"

namespace wojak::testing {
namespace {

namespace rmq = sidecar::rabbitmq;
using namespace std::chrono_literals;

class RabbitOutboxHooks final : public OutboxBrokerHooks {
 public:
  explicit RabbitOutboxHooks(const RabbitBroker& broker)
      : broker_(broker),
        exchange_(UniqueQueueName("outbox-e2e")),
        orders_(UniqueQueueName("orders-e2e")),
        consumer_(UniqueQueueName("outbox-e2e-consumer")),
        client_(broker.connection_options()) {}

  // Declares the outbox exchange (as the sidecar would) and binds the consumer queue to the
  // escalation's routing key, so the very first row is routable and a wrong key is not.
  bool BindConsumer() {
    rmq::RabbitOutboxOptions options;
    options.connection = broker_.connection_options();
    options.exchange = exchange_;
    rmq::RabbitOutboxPublisher declarer(options);
    Status declared = declarer.Start();
    EXPECT_TRUE(declared.ok()) << declared.ToString();
    declarer.Stop();
    client_.DeclareQueue(consumer_);
    client_.BindQueue(consumer_, exchange_, std::string("escalation.") + kOutboxE2eAccount);
    return declared.ok();
  }

  ~RabbitOutboxHooks() override {
    client_.DeleteQueue(consumer_);
    client_.DeleteQueue(orders_);
  }

  std::string SourceName() const override { return "rabbitmq"; }
  std::string SourcesYaml() const override {
    const std::string port = std::to_string(broker_.port());
    return "sources:\n  rabbitmq:\n    host: 127.0.0.1\n    port: " + port +
           "\n    queue: " + orders_ +
           "\n    queue_type: classic\n    reconnect_initial: 100ms\n    reconnect_max: 1s\n"
           "    outbox:\n      host: 127.0.0.1\n      port: " +
           port + "\n      exchange: " + exchange_ + "\n";
  }
  std::vector<std::string> SidecarEnvironment() const override {
    return {"WOJAK_SOURCES_RABBITMQ_PASSWORD=guest",
            "WOJAK_SOURCES_RABBITMQ_OUTBOX_PASSWORD=guest"};
  }
  std::vector<OutboxBrokerMessage> Consume(size_t count,
                                           std::chrono::milliseconds timeout) override {
    // basic.get removes what it fetched, so everything read so far is kept here.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.size() < count) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      std::optional<FetchedMessage> message = client_.WaitFor(consumer_, left);
      if (!message.has_value()) break;
      EXPECT_EQ(message->message_id, std::to_string(message->int_headers["outbox_seq"]));
      received_.push_back({message->type, message->headers["account"],
                           static_cast<uint64_t>(message->int_headers["outbox_seq"]),
                           message->body});
    }
    return received_;
  }
  // The AMQP type property carries the outbox topic; the binding above pins the routing key.
  std::string EscalationDestination() const override { return "escalation"; }

 private:
  const RabbitBroker& broker_;
  const std::string exchange_;
  const std::string orders_;
  const std::string consumer_;
  AmqpTestClient client_;
  std::vector<OutboxBrokerMessage> received_;
};

TEST(RabbitOutboxEndToEndTest, RowsReachTheExchangeInOrderAndWaitInTheOutboxWhileTheSidecarIsDown) {
  TempDir broker_dir;
  std::unique_ptr<RabbitBroker> broker = RabbitBroker::StartOrAttach(broker_dir.File("broker"));
  RabbitOutboxHooks hooks(*broker);
  ASSERT_TRUE(hooks.BindConsumer());
  RunOutboxEndToEnd(hooks);
}

}  // namespace
}  // namespace wojak::testing
