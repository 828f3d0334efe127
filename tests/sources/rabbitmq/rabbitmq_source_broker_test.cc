// The RabbitMQ source against a real rabbitmq-server on loopback: acks only after a decision,
// RPC replies, delay-queue and hold retries, dead letters with their reason, stale delivery tags
// after a lost connection, quorum and classic queues, and the confirming publisher.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/metrics.h"
#include "rabbitmq_broker.h"
#include "sidecar/sources/rabbitmq/rabbitmq_source.h"
#include "support/process.h"

namespace wojak::testing {
namespace {

namespace rmq = sidecar::rabbitmq;
using namespace std::chrono_literals;
using sidecar::DeadLetterInfo;
using sidecar::DeadLetterKind;
using sidecar::Message;
using sidecar::MessageKind;

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

constexpr const char* kOrder =
    R"({"account":"ACC1","strategy":"s","exchange":"NFO","symbol":"NIFTY26DECFUT","side":"BUY",)"
    R"("quantity":75,"order_type":"LIMIT","product":"NRML","price":"100.00"})";

Decision Accepted(const std::string& client_order_id) {
  Decision decision;
  decision.kind = DecisionKind::kAccepted;
  decision.client_order_id = client_order_id;
  decision.account = "ACC1";
  decision.order_id = "W-000000000007";
  decision.seq = 7;
  return decision;
}

class RabbitSourceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    queue_ = UniqueQueueName("orders");
    client_ = std::make_unique<AmqpTestClient>(broker->connection_options());
  }

  rmq::RabbitSourceOptions Options() const {
    rmq::RabbitSourceOptions options;
    options.connection = broker->connection_options();
    options.queue = queue_;
    options.queue_type = GetParam();
    options.prefetch = 16;
    options.retry_min_delay = 50ms;
    options.retry_max_delay = 400ms;
    options.reconnect_initial = 100ms;
    options.stats_interval = 0ms;
    return options;
  }

  std::unique_ptr<rmq::RabbitSource> Started(const rmq::RabbitSourceOptions& options) {
    auto source = std::make_unique<rmq::RabbitSource>(options);
    Status status = source->Start();
    EXPECT_TRUE(status.ok()) << status.ToString();
    EXPECT_TRUE(source->connected());
    return source;
  }

  // Polls until `count` messages arrived (or the timeout passed).
  std::vector<Message> PollFor(rmq::RabbitSource& source, size_t count,
                               std::chrono::milliseconds timeout = 10s) {
    std::vector<Message> got;
    WaitUntil(
        [&] {
          auto batch = source.Poll(count - got.size(), 50ms);
          EXPECT_TRUE(batch.ok());
          for (Message& message : *batch) got.push_back(std::move(message));
          return got.size() >= count;
        },
        timeout);
    return got;
  }

  // Pumps the source until every publish it made has been confirmed and settled.
  void Settle(rmq::RabbitSource& source) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto batch = source.Poll(0, 10ms);
          EXPECT_TRUE(batch.ok());
          return source.unsettled() == 0;
        },
        10s));
  }

  std::string queue_;
  std::unique_ptr<AmqpTestClient> client_;
};

INSTANTIATE_TEST_SUITE_P(QueueTypes, RabbitSourceTest, ::testing::Values("quorum", "classic"));

TEST_P(RabbitSourceTest, UnackedMessageGoesBackToTheQueueRedelivered) {
  auto source = Started(Options());
  client_->Publish(queue_, kOrder, "m-1");
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, kOrder);
  EXPECT_EQ(got[0].identity, "amqp:" + queue_ + ":id:m-1");
  EXPECT_EQ(got[0].delivery_attempt, 1u);
  EXPECT_EQ(client_->Ready(queue_), 0) << "the message is held unacked by the source";
  source->Stop();
  auto back = client_->WaitFor(queue_, 5s);
  ASSERT_TRUE(back.has_value()) << "an unacked message returns when the consumer goes away";
  EXPECT_TRUE(back->redelivered);
  EXPECT_EQ(back->message_id, "m-1");
}

TEST_P(RabbitSourceTest, AckedMessageIsRemoved) {
  auto source = Started(Options());
  client_->Publish(queue_, kOrder, "m-1");
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(source->Ack(got[0], Accepted("c-1")).ok());
  Settle(*source);
  source->Stop();
  EXPECT_EQ(client_->Ready(queue_), 0);
  EXPECT_FALSE(client_->Get(queue_).has_value());
}

TEST_P(RabbitSourceTest, RepliesToReplyToWithTheCorrelationIdBeforeAcking) {
  const std::string replies = UniqueQueueName("replies");
  client_->DeclareQueue(replies);
  auto source = Started(Options());
  client_->Publish(queue_, kOrder, "m-1", replies, "corr-42");
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(source->Ack(got[0], Accepted("c-1")).ok());
  Settle(*source);
  auto reply = client_->WaitFor(replies, 5s);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->correlation_id, "corr-42");
  EXPECT_EQ(reply->type, "decision");
  auto decision = nlohmann::json::parse(reply->body);
  EXPECT_EQ(decision["decision"], "ACCEPTED");
  EXPECT_EQ(decision["client_order_id"], "c-1");
  source->Stop();
  EXPECT_EQ(client_->Ready(queue_), 0);
  client_->DeleteQueue(replies);
}

TEST_P(RabbitSourceTest, NackSendsTheMessageThroughADelayQueueAndBackWithItsIdentity) {
  auto source = Started(Options());
  client_->Publish(queue_, kOrder);  // no message_id: identity is the body hash
  auto first = PollFor(*source, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(source->Nack(first[0], 60ms).ok());
  auto again = PollFor(*source, 1);
  ASSERT_EQ(again.size(), 1u) << "the delay queue dead-letters it back into the main queue";
  EXPECT_EQ(again[0].body, kOrder);
  EXPECT_EQ(again[0].identity, first[0].identity);
  EXPECT_EQ(again[0].delivery_attempt, 2u);
  ASSERT_TRUE(source->Nack(again[0], 60ms).ok());
  auto third = PollFor(*source, 1);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].identity, first[0].identity);
  EXPECT_EQ(third[0].delivery_attempt, 3u);
  ASSERT_TRUE(source->Ack(third[0], Accepted("c-1")).ok());
  Settle(*source);
  source->Stop();
  EXPECT_EQ(client_->Ready(queue_), 0);
}

TEST_P(RabbitSourceTest, HoldModeKeepsTheMessageForTheDelayThenRequeuesIt) {
  rmq::RabbitSourceOptions options = Options();
  options.retry_mode = rmq::RetryMode::kHold;
  auto source = Started(options);
  client_->Publish(queue_, kOrder, "m-1");
  auto first = PollFor(*source, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(source->Nack(first[0], 200ms).ok());
  auto again = PollFor(*source, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].identity, first[0].identity);
  EXPECT_EQ(again[0].delivery_attempt, 2u) << "the broker counts the requeue as a redelivery";
  source->Stop();
}

TEST_P(RabbitSourceTest, DeadLetterCarriesTheReasonInHeadersAndAnswersTheRequester) {
  const std::string replies = UniqueQueueName("replies");
  client_->DeclareQueue(replies);
  auto source = Started(Options());
  client_->Publish(queue_, "{not json", "m-bad", replies, "corr-1");
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  DeadLetterInfo info;
  info.kind = DeadLetterKind::kMalformed;
  info.reason = "body is not JSON";
  info.decision.kind = DecisionKind::kRejected;
  ASSERT_TRUE(source->DeadLetter(got[0], info).ok());
  Settle(*source);
  source->Stop();

  auto dead = client_->WaitFor(queue_ + ".dead-letter", 5s);
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->body, "{not json");
  EXPECT_EQ(dead->message_id, "m-bad");
  EXPECT_EQ(dead->headers[rmq::kDeadLetterReasonHeader], "body is not JSON");
  EXPECT_EQ(dead->headers[rmq::kDeadLetterKindHeader], "malformed");
  EXPECT_EQ(dead->headers[rmq::kOriginalRoutingKeyHeader], queue_);
  EXPECT_EQ(dead->headers[rmq::kSourceQueueHeader], queue_);
  auto reply = client_->WaitFor(replies, 5s);
  ASSERT_TRUE(reply.has_value());
  auto answer = nlohmann::json::parse(reply->body);
  EXPECT_EQ(answer["decision"], "REJECTED");
  EXPECT_EQ(answer["error"], "body is not JSON");
  EXPECT_EQ(client_->Ready(queue_), 0);
  client_->DeleteQueue(replies);
}

TEST_P(RabbitSourceTest, WithoutADeadLetterExchangeTheMessageIsRejected) {
  rmq::RabbitSourceOptions options = Options();
  options.dead_letter_exchange = "none";
  auto source = Started(options);
  client_->Publish(queue_, "{not json", "m-bad");
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  DeadLetterInfo info;
  info.reason = "body is not JSON";
  ASSERT_TRUE(source->DeadLetter(got[0], info).ok());
  Settle(*source);
  source->Stop();
  EXPECT_EQ(client_->Ready(queue_), 0) << "basic.reject requeue=false removes it";
}

TEST_P(RabbitSourceTest, AckOfALostConnectionsDeliveryIsDroppedAndTheMessageComesBack) {
  auto source = Started(Options());
  client_->Publish(queue_, kOrder, "m-1");
  auto first = PollFor(*source, 1);
  ASSERT_EQ(first.size(), 1u);

  // Close the source's consumer connection from the broker side.
  const std::string connections = broker->Ctl(
      {"list_connections", "--quiet", "--no-table-headers", "pid", "client_properties"});
  std::istringstream lines(connections);
  std::string line;
  std::string consumer_pid;
  while (std::getline(lines, line)) {
    if (line.find("wojak-sidecar " + queue_ + " consumer") != std::string::npos) {
      consumer_pid = line.substr(0, line.find_first_of(" \t"));
    }
  }
  ASSERT_FALSE(consumer_pid.empty()) << connections;
  const std::string closed = broker->Ctl({"close_connection", consumer_pid, "test"});
  ASSERT_NE(closed.find("Closing connection"), std::string::npos) << closed;

  auto again = PollFor(*source, 1, 20s);
  ASSERT_EQ(again.size(), 1u) << "the source reconnects and the broker redelivers";
  EXPECT_EQ(again[0].identity, first[0].identity);
  EXPECT_EQ(again[0].delivery_attempt, 2u);
  // The old delivery tag belongs to a dead channel: acking it must not ack anything now.
  ASSERT_TRUE(source->Ack(first[0], Accepted("c-1")).ok());
  Settle(*source);
  source->Stop();
  auto still_there = client_->WaitFor(queue_, 5s);
  ASSERT_TRUE(still_there.has_value()) << "the stale ack must not have removed the redelivery";
  EXPECT_TRUE(still_there->redelivered);
}

TEST_P(RabbitSourceTest, TypeCancelBecomesACancelMessage) {
  auto source = Started(Options());
  client_->Publish(queue_, R"({"account":"ACC1","client_order_id":"c-1"})", "m-c", "", "",
                   "cancel");
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, MessageKind::kCancel);
  source->Stop();
}

TEST_P(RabbitSourceTest, RequireMessageIdDeadLettersMessagesWithoutOne) {
  rmq::RabbitSourceOptions options = Options();
  options.require_message_id = true;
  auto source = Started(options);
  client_->Publish(queue_, kOrder);
  client_->Publish(queue_, kOrder, "m-2");
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].identity, "amqp:" + queue_ + ":id:m-2");
  Settle(*source);
  auto dead = client_->WaitFor(queue_ + ".dead-letter", 5s);
  ASSERT_TRUE(dead.has_value());
  EXPECT_NE(dead->headers[rmq::kDeadLetterReasonHeader].find("message_id"), std::string::npos);
  source->Stop();
}

TEST_P(RabbitSourceTest, QueueDepthGaugeShowsTheMessagesWaiting) {
  rmq::RabbitSourceOptions options = Options();
  options.prefetch = 1;
  options.stats_interval = 50ms;
  auto source = Started(options);
  for (int i = 0; i < 4; ++i) client_->Publish(queue_, kOrder, "m-" + std::to_string(i));
  Gauge& depth = MetricsRegistry::Default()
                     .AddGaugeFamily("wojak_rabbitmq_queue_messages", "", {"queue"})
                     .WithLabels({queue_});
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto batch = source->Poll(0, 20ms);
        return batch.ok() && depth.value() == 3;
      },
      10s))
      << "prefetch 1 holds one message; three wait in the queue; gauge=" << depth.value();
  source->Stop();
}

TEST(RabbitSourceStartTest, RefusesAQueueDeclaredWithOtherArguments) {
  const std::string queue = UniqueQueueName("orders");
  AmqpTestClient client(broker->connection_options());
  client.DeclareQueue(queue, "classic");
  rmq::RabbitSourceOptions options;
  options.connection = broker->connection_options();
  options.queue = queue;
  options.queue_type = "quorum";
  rmq::RabbitSource source(options);
  Status status = source.Start();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
}

TEST(RabbitSourceStartTest, WaitsForABrokerThatIsNotThereYet) {
  rmq::RabbitSourceOptions options;
  options.connection = broker->connection_options();
  options.connection.port = static_cast<uint16_t>(FreeLoopbackPort());
  options.connection.connect_timeout = 200ms;
  options.queue = UniqueQueueName("orders");
  rmq::RabbitSource source(options);
  EXPECT_TRUE(source.Start().ok()) << "an unreachable broker is retried, not fatal";
  EXPECT_FALSE(source.connected());
  auto polled = source.Poll(10, 10ms);
  ASSERT_TRUE(polled.ok());
  EXPECT_TRUE(polled->empty());
}

TEST(RabbitPublisherTest, ConfirmsRoutableMessagesAndReportsUnroutableOnes) {
  const std::string queue = UniqueQueueName("sink");
  AmqpTestClient client(broker->connection_options());
  client.DeclareQueue(queue);
  auto publisher = rmq::RabbitPublisher::Connect(broker->connection_options(), "test sink");
  ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
  std::vector<rmq::RabbitOutgoing> batch(3);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].routing_key = queue;
    batch[i].body = "event " + std::to_string(i);
  }
  Status status = (*publisher)->PublishConfirmed(batch, 10s);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(client.Ready(queue), 3);

  rmq::RabbitOutgoing lost;
  lost.routing_key = UniqueQueueName("no-such-queue");
  lost.body = "nobody listens";
  status = (*publisher)->PublishConfirmed({&lost, 1}, 10s);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("unroutable"), std::string::npos) << status.ToString();
  EXPECT_EQ((*publisher)->unconfirmed(), 0u);
}

}  // namespace
}  // namespace wojak::testing
