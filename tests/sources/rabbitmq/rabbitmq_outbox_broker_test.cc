// The RabbitMQ outbox sink against a real rabbitmq-server on loopback: a confirmed row can be
// consumed back with its dedupe properties; unroutable, missing exchange and unreachable broker
// are errors, never a silent OK.
#include <gtest/gtest.h>

#include <sstream>

#include "rabbitmq_broker.h"
#include "sidecar/sources/rabbitmq/rabbitmq_outbox.h"
#include "support/process.h"

namespace wojak::testing {
namespace {

namespace rmq = sidecar::rabbitmq;
using namespace std::chrono_literals;
using sidecar::OutboxMessage;

TempDir* broker_dir = nullptr;
RabbitBroker* broker = nullptr;

class BrokerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    broker_dir = new TempDir();
    broker = RabbitBroker::StartOrAttach(broker_dir->File("broker")).release();
  }
  void TearDown() override {
    delete broker;
    delete broker_dir;
  }
};

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new BrokerEnvironment);

OutboxMessage Row(uint64_t outbox_seq, const std::string& topic, const std::string& account) {
  OutboxMessage message;
  message.outbox_seq = outbox_seq;
  message.entry_seq = outbox_seq + 1000;
  message.topic = topic;
  message.account = account;
  message.body = R"({"outbox_seq":)" + std::to_string(outbox_seq) + R"(,"entry_seq":)" +
                 std::to_string(message.entry_seq) + R"(,"topic":")" + topic +
                 R"(","payload":{"account":")" + account + R"("}})";
  return message;
}

class RabbitOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.connection = broker->connection_options();
    options_.exchange = UniqueQueueName("outbox");
    client_ = std::make_unique<AmqpTestClient>(broker->connection_options());
  }

  std::unique_ptr<rmq::RabbitOutboxPublisher> StartedPublisher() {
    auto publisher = std::make_unique<rmq::RabbitOutboxPublisher>(options_);
    Status started = publisher->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return publisher;
  }

  // A queue bound to the outbox exchange (declared by a started publisher) with `binding_key`.
  std::string BoundQueue(const std::string& binding_key) {
    const std::string queue = UniqueQueueName("outbox-consumer");
    client_->DeclareQueue(queue);
    client_->BindQueue(queue, options_.exchange, binding_key);
    return queue;
  }

  rmq::RabbitOutboxOptions options_;
  std::unique_ptr<AmqpTestClient> client_;
};

TEST_F(RabbitOutboxTest, ConfirmedRowIsConsumedBackWithItsSequenceProperties) {
  auto publisher = StartedPublisher();
  const std::string queue = BoundQueue("execution.#");
  const OutboxMessage row = Row(41, "execution", "ACC1");

  Status published = publisher->Publish(row, 10s);
  ASSERT_TRUE(published.ok()) << published.ToString();

  std::optional<FetchedMessage> fetched = client_->WaitFor(queue, 10s);
  ASSERT_TRUE(fetched.has_value());
  EXPECT_EQ(fetched->body, row.body);
  EXPECT_EQ(fetched->message_id, "41");
  EXPECT_EQ(fetched->type, "execution");
  EXPECT_EQ(fetched->int_headers["outbox_seq"], 41);
  EXPECT_EQ(fetched->int_headers["entry_seq"], 1041);
  EXPECT_EQ(fetched->headers["account"], "ACC1");
  client_->DeleteQueue(queue);
}

TEST_F(RabbitOutboxTest, RoutingKeyIsTopicThenAccount) {
  auto publisher = StartedPublisher();
  const std::string acc2_queue = BoundQueue("*.ACC2");
  const std::string escalations = BoundQueue("escalation.*");

  ASSERT_TRUE(publisher->Publish(Row(1, "escalation", "ACC1"), 10s).ok());
  ASSERT_TRUE(publisher->Publish(Row(2, "execution", "ACC2"), 10s).ok());

  std::optional<FetchedMessage> for_acc2 = client_->WaitFor(acc2_queue, 10s);
  ASSERT_TRUE(for_acc2.has_value());
  EXPECT_EQ(for_acc2->message_id, "2");
  std::optional<FetchedMessage> escalation = client_->WaitFor(escalations, 10s);
  ASSERT_TRUE(escalation.has_value());
  EXPECT_EQ(escalation->message_id, "1");
  EXPECT_EQ(client_->Ready(acc2_queue), 0);
  EXPECT_EQ(client_->Ready(escalations), 0);
  client_->DeleteQueue(acc2_queue);
  client_->DeleteQueue(escalations);
}

TEST_F(RabbitOutboxTest, UnroutableRowIsAnError) {
  auto publisher = StartedPublisher();
  const std::string queue = BoundQueue("execution.#");

  Status published = publisher->Publish(Row(7, "escalation", "ACC1"), 10s);
  EXPECT_EQ(published.code(), StatusCode::kFailedPrecondition) << published.ToString();
  EXPECT_NE(published.ToString().find("unroutable"), std::string::npos) << published.ToString();

  // The channel stays usable: the next routable row goes through.
  Status routable = publisher->Publish(Row(8, "execution", "ACC1"), 10s);
  EXPECT_TRUE(routable.ok()) << routable.ToString();
  client_->DeleteQueue(queue);
}

TEST_F(RabbitOutboxTest, MissingExchangeWithoutDeclareIsAnErrorAndRecovers) {
  options_.declare = false;
  auto publisher = StartedPublisher();

  Status missing = publisher->Publish(Row(3, "execution", "ACC1"), 10s);
  EXPECT_FALSE(missing.ok());

  // Once the exchange exists the same publisher reconnects and delivers the row.
  rmq::RabbitOutboxOptions declaring = options_;
  declaring.declare = true;
  rmq::RabbitOutboxPublisher declarer(declaring);
  ASSERT_TRUE(declarer.Start().ok());
  declarer.Stop();
  const std::string queue = BoundQueue("#");
  Status retried = publisher->Publish(Row(3, "execution", "ACC1"), 10s);
  EXPECT_TRUE(retried.ok()) << retried.ToString();
  EXPECT_TRUE(client_->WaitFor(queue, 10s).has_value());
  client_->DeleteQueue(queue);
}

TEST_F(RabbitOutboxTest, ConnectionClosedBetweenRowsIsReopenedBeforeTheNextRow) {
  auto publisher = StartedPublisher();
  const std::string queue = BoundQueue("#");
  ASSERT_TRUE(publisher->Publish(Row(1, "execution", "ACC1"), 10s).ok());

  // The broker drops the idle sink connection (as after missed heartbeats or a node restart).
  const std::string connections = broker->Ctl(
      {"list_connections", "--quiet", "--no-table-headers", "pid", "client_properties"});
  std::istringstream lines(connections);
  std::string line;
  std::string sink_pid;
  while (std::getline(lines, line)) {
    if (line.find("wojak outbox sink") != std::string::npos) {
      sink_pid = line.substr(0, line.find_first_of(" \t"));
    }
  }
  ASSERT_FALSE(sink_pid.empty()) << connections;
  const std::string closed = broker->Ctl({"close_connection", sink_pid, "test"});
  ASSERT_NE(closed.find("Closing connection"), std::string::npos) << closed;
  // Only once the old connection is gone does the next row test the reconnect.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return broker->Ctl({"list_connections", "--quiet", "--no-table-headers", "pid"})
                   .find(sink_pid) == std::string::npos;
      },
      10s));

  Status next = publisher->Publish(Row(2, "execution", "ACC1"), 10s);
  EXPECT_TRUE(next.ok()) << next.ToString();
  std::optional<FetchedMessage> first = client_->WaitFor(queue, 10s);
  std::optional<FetchedMessage> second = client_->WaitFor(queue, 10s);
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->message_id, "1");
  EXPECT_EQ(second->message_id, "2");
  client_->DeleteQueue(queue);
}

TEST_F(RabbitOutboxTest, UnreachableBrokerIsAnError) {
  options_.connection.port = static_cast<uint16_t>(FreeLoopbackPort());
  options_.connection.connect_timeout = 2s;
  rmq::RabbitOutboxPublisher publisher(options_);

  EXPECT_FALSE(publisher.Start().ok());
  Status published = publisher.Publish(Row(5, "execution", "ACC1"), 2s);
  EXPECT_FALSE(published.ok());
}

}  // namespace
}  // namespace wojak::testing
