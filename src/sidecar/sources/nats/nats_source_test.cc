// NatsSource against a real nats-server -js on loopback, driven through the Source seam:
// identity and delivery count, ack, nak with delay, InProgress leases, dead letters, MaxDeliver,
// replies, and the start-up checks on the stream and the consumer.
#include "sidecar/sources/nats/nats_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/log.h"
#include "model/order_json.h"
#include "sidecar/sources/nats/nats_testbed.h"
#include "support/process.h"

namespace wojak::sidecar::nats {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

class NatsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("wojak-nats-" + std::to_string(getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    auto server = NatsServerProcess::Start(directory_.string());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(CreateStream(server_->url(), "ORDERS", {"orders.>"}).ok());
    ASSERT_TRUE(CreateStream(server_->url(), "DEAD", {"wojak.dead-letter"}).ok());
    ASSERT_TRUE(CreateStream(server_->url(), "REPLIES", {"replies.>"}).ok());
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(directory_);
  }

  NatsSourceOptions Options() const {
    NatsSourceOptions options;
    options.connection.servers = {server_->url()};
    options.stream = "ORDERS";
    options.subject = "orders.>";
    options.consumer = "sidecar";
    options.ack_wait = 2s;
    options.max_deliver = 5;
    return options;
  }

  std::unique_ptr<NatsSource> StartSource(NatsSourceOptions options) {
    auto source = std::make_unique<NatsSource>(std::move(options), registry_);
    Status started = source->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return source;
  }

  void Publish(int count, std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto publisher = NatsPublisher::Connect({.servers = {server_->url()}});
    ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
    for (int i = 0; i < count; ++i) {
      Status published =
          (*publisher)
              ->Publish({"orders.ACC1", R"({"account":"ACC1","n":)" + std::to_string(i) + "}",
                         headers, ""},
                        5s);
      ASSERT_TRUE(published.ok()) << published.ToString();
    }
  }

  std::vector<Message> PollFor(NatsSource& source, size_t count, milliseconds timeout = 10s) {
    std::vector<Message> messages;
    const auto deadline = Steady::now() + timeout;
    while (messages.size() < count && Steady::now() < deadline) {
      auto polled = source.Poll(count - messages.size(), 50ms);
      EXPECT_TRUE(polled.ok()) << polled.status().ToString();
      if (!polled.ok()) break;
      for (Message& message : *polled) messages.push_back(std::move(message));
    }
    return messages;
  }

  ConsumerState Consumer() {
    auto state = ReadConsumerState(server_->url(), "ORDERS", "sidecar");
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? *state : ConsumerState{};
  }

  static Decision Accepted(const std::string& account) {
    Decision decision;
    decision.kind = DecisionKind::kAccepted;
    decision.account = account;
    decision.client_order_id = "c-1";
    decision.order_id = "W-000000000001";
    decision.seq = 1;
    return decision;
  }

  std::filesystem::path directory_;
  MetricsRegistry registry_;
  std::unique_ptr<NatsServerProcess> server_;
};

TEST_F(NatsSourceTest, DeliversWithStreamSequenceIdentityDeliveryCountAndHeaderKind) {
  Publish(1);
  Publish(1, {{kKindHeader, "cancel"}});
  auto source = StartSource(Options());
  std::vector<Message> messages = PollFor(*source, 2);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].identity, "ORDERS/1");
  EXPECT_EQ(messages[1].identity, "ORDERS/2");
  EXPECT_EQ(messages[0].delivery_attempt, 1u);
  EXPECT_EQ(messages[0].kind, MessageKind::kNewOrder);
  EXPECT_EQ(messages[1].kind, MessageKind::kCancel);
  EXPECT_EQ(messages[0].body, R"({"account":"ACC1","n":0})");
  EXPECT_EQ(source->lease(), 2s);
}

TEST_F(NatsSourceTest, AckedMessagesLeaveTheConsumer) {
  Publish(3);
  auto source = StartSource(Options());
  std::vector<Message> messages = PollFor(*source, 3);
  ASSERT_EQ(messages.size(), 3u);
  for (const Message& message : messages) ASSERT_TRUE(source->Ack(message, Accepted("A")).ok());
  EXPECT_TRUE(wojak::testing::WaitUntil([&] { return Consumer().ack_floor == 3; }, 5s));
  EXPECT_EQ(Consumer().ack_pending, 0);
  EXPECT_EQ(source->metrics().acked.value(), 3u);
}

TEST_F(NatsSourceTest, NakRedeliversAfterTheDelayWithTheDeliveryCountIncremented) {
  Publish(1);
  auto source = StartSource(Options());
  std::vector<Message> first = PollFor(*source, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(source->Nack(first[0], 100ms).ok());
  std::vector<Message> again = PollFor(*source, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].identity, first[0].identity);
  EXPECT_EQ(again[0].delivery_attempt, 2u);
  EXPECT_EQ(source->metrics().nacked.value(), 1u);
}

TEST_F(NatsSourceTest, ExtendingTheLeaseKeepsAnUndecidedMessageFromRedelivery) {
  Publish(2);
  auto source = StartSource(Options());  // AckWait 2 s
  std::vector<Message> messages = PollFor(*source, 2);
  ASSERT_EQ(messages.size(), 2u);
  // Message 0 is kept with InProgress; message 1 is left to expire as the control.
  std::vector<Message> redelivered;
  const auto until = Steady::now() + 3500ms;
  while (Steady::now() < until) {
    ASSERT_TRUE(source->ExtendLease(messages[0], source->lease()).ok());
    for (Message& message : PollFor(*source, 1, 500ms)) redelivered.push_back(std::move(message));
  }
  ASSERT_FALSE(redelivered.empty()) << "the control message must come back after AckWait";
  for (const Message& message : redelivered) {
    EXPECT_EQ(message.identity, messages[1].identity) << "the extended message came back";
  }
  EXPECT_GT(source->metrics().lease_extensions.value(), 0u);
}

TEST_F(NatsSourceTest, DeadLetterPublishesTheReasonAndOriginThenTermsTheMessage) {
  Publish(1);
  auto source = StartSource(Options());
  std::vector<Message> messages = PollFor(*source, 1);
  ASSERT_EQ(messages.size(), 1u);
  DeadLetterInfo info;
  info.kind = DeadLetterKind::kMalformed;
  info.reason = "quantity: expected an integer";
  info.decision.kind = DecisionKind::kRejected;
  info.decision.reasons.push_back({ReasonCode::k_INVALID_ORDER, info.reason, "quantity"});
  ASSERT_TRUE(source->DeadLetter(messages[0], info).ok());

  auto dead = ReadStream(server_->url(), "DEAD", "wojak.dead-letter", 1, 5s);
  ASSERT_TRUE(dead.ok()) << dead.status().ToString();
  ASSERT_EQ(dead->size(), 1u);
  const ReceivedMessage& letter = dead->front();
  EXPECT_EQ(letter.data, messages[0].body);
  EXPECT_EQ(letter.headers.at(kReasonHeader), info.reason);
  EXPECT_EQ(letter.headers.at(kDeadLetterKindHeader), "malformed");
  EXPECT_EQ(letter.headers.at(kOriginalStreamHeader), "ORDERS");
  EXPECT_EQ(letter.headers.at(kOriginalSequenceHeader), "1");
  EXPECT_EQ(letter.headers.at(kOriginalSubjectHeader), "orders.ACC1");
  EXPECT_NE(letter.headers.at(kDecisionHeader).find("INVALID_ORDER"), std::string::npos);
  // Termed: not pending and never redelivered, even after AckWait.
  EXPECT_TRUE(wojak::testing::WaitUntil([&] { return Consumer().ack_floor == 1; }, 5s));
  EXPECT_TRUE(PollFor(*source, 1, 2500ms).empty());
  EXPECT_EQ(source->metrics().dead_lettered.value(), 1u);
}

TEST_F(NatsSourceTest, OnTheLastAllowedDeliveryANackDeadLettersInsteadOfDroppingTheMessage) {
  Publish(1);
  NatsSourceOptions options = Options();
  options.max_deliver = 2;
  auto source = StartSource(options);
  ASSERT_EQ(source->max_deliver(), 2);
  std::vector<Message> first = PollFor(*source, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(source->Nack(first[0], 10ms).ok());
  std::vector<Message> second = PollFor(*source, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].delivery_attempt, 2u);
  ASSERT_TRUE(source->Nack(second[0], 10ms).ok());
  auto dead = ReadStream(server_->url(), "DEAD", "wojak.dead-letter", 1, 5s);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().headers.at(kDeadLetterKindHeader), "too_many_attempts");
  EXPECT_EQ(dead->front().headers.at(kDeliveriesHeader), "2");
  EXPECT_EQ(source->metrics().nacked.value(), 1u);
}

TEST_F(NatsSourceTest, PublishesEachDecisionOnceToTheAccountsReplySubject) {
  Publish(1);
  NatsSourceOptions options = Options();
  options.reply_subject_prefix = "replies";
  auto source = StartSource(options);
  std::vector<Message> messages = PollFor(*source, 1);
  ASSERT_EQ(messages.size(), 1u);
  const Decision decision = Accepted("ACC1");
  ASSERT_TRUE(source->Ack(messages[0], decision).ok());
  // A redelivery answered again (DUPLICATE) must not store a second reply.
  ASSERT_TRUE(source->Ack(messages[0], decision).ok());
  auto replies = ReadStream(server_->url(), "REPLIES", "replies.>", 2, 1500ms);
  ASSERT_TRUE(replies.ok());
  ASSERT_EQ(replies->size(), 1u);
  EXPECT_EQ(replies->front().subject, "replies.ACC1");
  EXPECT_EQ(replies->front().data, DecisionToJson(decision));
}

TEST_F(NatsSourceTest, RefusesAConsumerWithoutExplicitAcks) {
  {
    natsConnection* connection = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&connection, server_->url().c_str()), NATS_OK);
    jsCtx* jetstream = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&jetstream, connection, nullptr), NATS_OK);
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = "sidecar";
    config.AckPolicy = js_AckNone;
    jsConsumerInfo* info = nullptr;
    ASSERT_EQ(js_AddConsumer(&info, jetstream, "ORDERS", &config, nullptr, nullptr), NATS_OK);
    jsConsumerInfo_Destroy(info);
    jsCtx_Destroy(jetstream);
    natsConnection_Destroy(connection);
  }
  NatsSource source(Options(), registry_);
  Status started = source.Start();
  EXPECT_EQ(started.code(), StatusCode::kFailedPrecondition) << started.ToString();
}

TEST_F(NatsSourceTest, WarnsLoudlyWhenTheStreamKeepsOrdersInMemory) {
  ASSERT_TRUE(CreateStream(server_->url(), "VOLATILE", {"volatile.>"}, false).ok());
  const std::string log_path = (directory_ / "source.log").string();
  ASSERT_TRUE(InitLogging({.level = LogLevel::kInfo, .destination = log_path}).ok());
  NatsSourceOptions options = Options();
  options.stream = "VOLATILE";
  options.subject = "volatile.>";
  auto source = StartSource(options);
  source->Stop();
  ASSERT_TRUE(InitLogging({}).ok());
  std::ifstream file(log_path);
  const std::string log((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find(R"("level":"error","event":"nats_stream_not_durable")"), std::string::npos)
      << log;
  EXPECT_NE(log.find("nats_stream_not_replicated"), std::string::npos) << log;
}

// A CA and a server certificate for 127.0.0.1, made with the openssl CLI.
void MakeCertificates(const std::filesystem::path& directory) {
  const std::string d = directory.string();
  const std::string commands =
      "cd '" + d + "' && " +
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 "
      "-subj /CN=wojak-test-ca && "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 "
      "&& printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > san.cnf && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
      "-days 1 -extfile san.cnf";
  ASSERT_EQ(std::system((commands + " > openssl.log 2>&1").c_str()), 0)
      << wojak::testing::ReadFile(d + "/openssl.log");
}

TEST_F(NatsSourceTest, ConnectsOverTlsTrustingOnlyTheConfiguredCa) {
  const std::filesystem::path tls_directory = directory_ / "tls";
  std::filesystem::create_directories(tls_directory);
  MakeCertificates(tls_directory);
  auto tls_server =
      NatsServerProcess::Start((directory_ / "tls-server").string(),
                               {"--tls", "--tlscert", (tls_directory / "server.pem").string(),
                                "--tlskey", (tls_directory / "server.key").string()});
  ASSERT_TRUE(tls_server.ok()) << tls_server.status().ToString();
  NatsSourceOptions options = Options();
  options.connection.servers = {(*tls_server)->url()};
  options.create_stream = true;   // the plain-text test helpers cannot reach this server
  options.connection.tls = true;  // with the system's CAs only

  NatsSource untrusting(options, registry_);
  EXPECT_FALSE(untrusting.Start().ok()) << "a certificate from an unknown CA must be refused";

  options.connection.tls_ca_file = (tls_directory / "ca.pem").string();
  auto source = StartSource(options);
  NatsPublisher publisher(NatsConnection::Connect(options.connection).value());
  ASSERT_TRUE(publisher.Publish({"orders.ACC1", R"({"account":"ACC1"})", {}, ""}, 5s).ok());
  std::vector<Message> messages = PollFor(*source, 1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(source->Ack(messages[0], Accepted("ACC1")).ok());
}

}  // namespace
}  // namespace wojak::sidecar::nats
