// KafkaSource against librdkafka's mock cluster on loopback, driven directly through the Source
// seam: identities, settled-offset commits, nack rewinds, dead letters, replies and revokes.
#include "sidecar/sources/kafka/kafka_source.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "model/order_json.h"
#include "sidecar/sources/kafka/kafka_testbed.h"

namespace wojak::sidecar::kafka {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr const char* kOrders = "orders";
constexpr const char* kDeadLetters = "orders.dlq";
constexpr const char* kReplies = "decisions";

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = KafkaMockCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster).value();
  }

  void CreateTopics(int partitions) {
    ASSERT_TRUE(cluster_->CreateTopic(kOrders, partitions).ok());
    ASSERT_TRUE(cluster_->CreateTopic(kDeadLetters, 1).ok());
    ASSERT_TRUE(cluster_->CreateTopic(kReplies, 1).ok());
  }

  KafkaSourceOptions Options() const {
    KafkaSourceOptions options;
    options.client.brokers = cluster_->bootstrap_servers();
    options.topics = {kOrders};
    options.group_id = "test-group";
    options.dead_letter_topic = kDeadLetters;
    options.commit_interval = 20ms;
    options.session_timeout = 6000ms;
    options.heartbeat_interval = 500ms;
    options.revoke_timeout = 20s;
    return options;
  }

  std::unique_ptr<KafkaSource> StartSource(KafkaSourceOptions options) {
    auto source = std::make_unique<KafkaSource>(std::move(options), registry_);
    Status started = source->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return source;
  }

  void Publish(const std::vector<KafkaRecord>& records) {
    Status produced = ProduceRecords(cluster_->bootstrap_servers(), records);
    ASSERT_TRUE(produced.ok()) << produced.ToString();
  }

  // Orders keyed by account, all to partition 0 of a one-partition topic unless keyed apart.
  std::vector<KafkaRecord> Orders(int count, const std::string& account = "ACC1") {
    std::vector<KafkaRecord> records;
    for (int i = 0; i < count; ++i) {
      records.push_back({kOrders,
                         account,
                         R"({"account":")" + account + R"(","n":)" + std::to_string(i) + "}",
                         {}});
    }
    return records;
  }

  // Polls until `count` messages arrived (or 20 s passed).
  std::vector<Message> PollFor(KafkaSource& source, size_t count) {
    std::vector<Message> messages;
    const auto deadline = Steady::now() + 20s;
    while (messages.size() < count && Steady::now() < deadline) {
      auto polled = source.Poll(count - messages.size(), 50ms);
      EXPECT_TRUE(polled.ok()) << polled.status().ToString();
      if (!polled.ok()) break;
      for (Message& message : *polled) messages.push_back(std::move(message));
    }
    return messages;
  }

  // Keeps the source polling (commits and callbacks run inside Poll) until `done` holds.
  bool DriveUntil(std::vector<KafkaSource*> sources, const std::function<bool()>& done,
                  milliseconds timeout = 20s, std::vector<Message>* received = nullptr) {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
      for (KafkaSource* source : sources) {
        auto polled = source->Poll(100, 10ms);
        if (polled.ok() && received != nullptr) {
          for (Message& message : *polled) received->push_back(std::move(message));
        }
      }
      if (done()) return true;
    }
    return false;
  }

  int64_t Committed(int32_t partition = 0, int partitions = 1) {
    auto offsets =
        CommittedOffsets(cluster_->bootstrap_servers(), "test-group", kOrders, partitions);
    EXPECT_TRUE(offsets.ok()) << offsets.status().ToString();
    return offsets.ok() ? (*offsets)[partition] : -2;
  }

  static Decision Accepted(const std::string& account, const std::string& id) {
    Decision decision;
    decision.kind = DecisionKind::kAccepted;
    decision.account = account;
    decision.client_order_id = id;
    decision.order_id = "W-000000000001";
    decision.seq = 1;
    return decision;
  }

  MetricsRegistry registry_;
  std::unique_ptr<KafkaMockCluster> cluster_;
};

TEST_F(KafkaSourceTest, RefusesToStartWhenAutoCommitIsTurnedOn) {
  CreateTopics(1);
  KafkaSourceOptions options = Options();
  options.consumer_properties["enable.auto.commit"] = "true";
  KafkaSource source(options, registry_);
  Status started = source.Start();
  EXPECT_EQ(started.code(), StatusCode::kFailedPrecondition) << started.ToString();
}

TEST_F(KafkaSourceTest, ConfigCheckReportsAutoCommitAndOffsetStoreAsViolations) {
  auto document = ConfigDocument::Parse(R"(
sources:
  kafka:
    consumer_properties:
      enable.auto.commit: "true"
      enable.auto.offset.store: "true"
)");
  ASSERT_TRUE(document.ok());
  ConfigSection section = (*document)->Root().Section("sources", "").Section("kafka", "");
  ReadKafkaSourceOptions(section);
  const auto& errors = (*document)->errors().all();
  ASSERT_EQ(errors.size(), 2u) << (*document)->errors().ToStatus().ToString();
  EXPECT_NE(errors[0].find("enable.auto.commit must stay false"), std::string::npos);
  EXPECT_NE(errors[1].find("enable.auto.offset.store must stay false"), std::string::npos);
}

TEST_F(KafkaSourceTest, DeliversMessagesWithTopicPartitionOffsetIdentityAndHeaderKind) {
  CreateTopics(1);
  std::vector<KafkaRecord> records = Orders(2);
  records[1].headers = {{std::string(kKindHeader), "cancel"}};
  Publish(records);
  auto source = StartSource(Options());
  std::vector<Message> messages = PollFor(*source, 2);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].identity, "orders/0/0");
  EXPECT_EQ(messages[1].identity, "orders/0/1");
  EXPECT_EQ(messages[0].kind, MessageKind::kNewOrder);
  EXPECT_EQ(messages[1].kind, MessageKind::kCancel);
  EXPECT_EQ(messages[0].body, records[0].value);
  EXPECT_EQ(messages[0].delivery_attempt, 1u);
  EXPECT_EQ(source->metrics().received.value(), 2u);
}

TEST_F(KafkaSourceTest, CommitsOnlyUpToTheLowestUnansweredMessage) {
  CreateTopics(1);
  Publish(Orders(5));
  auto source = StartSource(Options());
  std::vector<Message> messages = PollFor(*source, 5);
  ASSERT_EQ(messages.size(), 5u);
  for (int i : {0, 1, 3, 4}) ASSERT_TRUE(source->Ack(messages[i], Accepted("ACC1", "x")).ok());
  ASSERT_TRUE(DriveUntil({source.get()}, [&] { return Committed() == 2; }))
      << "committed " << Committed();
  // Held at 2 while message 2 is unanswered, however long we wait for further commits.
  DriveUntil(
      {source.get()}, [] { return false; }, 300ms);
  EXPECT_EQ(Committed(), 2);
  ASSERT_TRUE(source->Ack(messages[2], Accepted("ACC1", "x")).ok());
  EXPECT_TRUE(DriveUntil({source.get()}, [&] { return Committed() == 5; }))
      << "committed " << Committed();
  EXPECT_EQ(source->metrics().acked.value(), 5u);
}

TEST_F(KafkaSourceTest, NackRedeliversFromTheNackedOffsetInOrderWithoutSkippingAhead) {
  CreateTopics(1);
  Publish(Orders(5));
  auto source = StartSource(Options());
  std::vector<Message> first = PollFor(*source, 5);
  ASSERT_EQ(first.size(), 5u);
  ASSERT_TRUE(source->Ack(first[0], Accepted("ACC1", "x")).ok());
  ASSERT_TRUE(source->Nack(first[1], 50ms).ok());
  // Replies to later messages of the rewound delivery change nothing: they come again.
  for (int i : {2, 3, 4}) ASSERT_TRUE(source->Ack(first[i], Accepted("ACC1", "x")).ok());
  std::vector<Message> again = PollFor(*source, 4);
  ASSERT_EQ(again.size(), 4u);
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].identity, "orders/0/" + std::to_string(i + 1));
  }
  EXPECT_EQ(again[0].delivery_attempt, 2u);
  EXPECT_EQ(again[1].delivery_attempt, 1u);
  ASSERT_TRUE(DriveUntil({source.get()}, [&] { return Committed() == 1; }));
  for (const Message& message : again) {
    ASSERT_TRUE(source->Ack(message, Accepted("ACC1", "x")).ok());
  }
  EXPECT_TRUE(DriveUntil({source.get()}, [&] { return Committed() == 5; }));
  EXPECT_EQ(source->metrics().nacked.value(), 1u);
}

TEST_F(KafkaSourceTest, DeadLetterCarriesTheReasonAndOriginAndCountsAsSettled) {
  CreateTopics(1);
  std::vector<KafkaRecord> records = Orders(2);
  records[1].value = "{not json";
  Publish(records);
  auto source = StartSource(Options());
  std::vector<Message> messages = PollFor(*source, 2);
  ASSERT_EQ(messages.size(), 2u);
  DeadLetterInfo info;
  info.kind = DeadLetterKind::kMalformed;
  info.reason = "body is not JSON";
  info.decision.kind = DecisionKind::kRejected;
  info.decision.reasons.push_back({ReasonCode::k_INVALID_ORDER, "body is not JSON", ""});
  ASSERT_TRUE(source->DeadLetter(messages[1], info).ok());
  ASSERT_TRUE(source->Ack(messages[0], Accepted("ACC1", "x")).ok());
  EXPECT_TRUE(DriveUntil({source.get()}, [&] { return Committed() == 2; }));

  auto dead = ReadTopic(cluster_->bootstrap_servers(), kDeadLetters, 1, 10s);
  ASSERT_TRUE(dead.ok()) << dead.status().ToString();
  ASSERT_EQ(dead->size(), 1u);
  const ConsumedRecord& letter = dead->front();
  EXPECT_EQ(letter.value, "{not json");
  EXPECT_EQ(letter.key, "ACC1");
  EXPECT_EQ(letter.headers.at(std::string(kReasonHeader)), "body is not JSON");
  EXPECT_EQ(letter.headers.at(std::string(kDeadLetterKindHeader)), "malformed");
  EXPECT_EQ(letter.headers.at(std::string(kOriginalTopicHeader)), kOrders);
  EXPECT_EQ(letter.headers.at(std::string(kOriginalPartitionHeader)), "0");
  EXPECT_EQ(letter.headers.at(std::string(kOriginalOffsetHeader)), "1");
  EXPECT_NE(letter.headers.at(std::string(kDecisionHeader)).find("INVALID_ORDER"),
            std::string::npos);
  EXPECT_EQ(source->metrics().dead_lettered.value(), 1u);
}

TEST_F(KafkaSourceTest, PublishesDecisionsToTheReplyTopicKeyedByAccountBeforeCommitting) {
  CreateTopics(1);
  Publish(Orders(1, "ACC7"));
  KafkaSourceOptions options = Options();
  options.reply_topic = kReplies;
  auto source = StartSource(options);
  std::vector<Message> messages = PollFor(*source, 1);
  ASSERT_EQ(messages.size(), 1u);
  Decision decision = Accepted("ACC7", "c-1");
  ASSERT_TRUE(source->Ack(messages[0], decision).ok());
  EXPECT_TRUE(DriveUntil({source.get()}, [&] { return Committed() == 1; }));
  auto replies = ReadTopic(cluster_->bootstrap_servers(), kReplies, 1, 10s);
  ASSERT_TRUE(replies.ok()) << replies.status().ToString();
  ASSERT_EQ(replies->size(), 1u);
  EXPECT_EQ(replies->front().key, "ACC7");
  EXPECT_EQ(replies->front().value, DecisionToJson(decision));
  EXPECT_EQ(replies->front().headers.at(std::string(kOriginalOffsetHeader)), "0");
}

TEST_F(KafkaSourceTest, RevokedPartitionIsReleasedOnlyAfterItsInFlightMessagesAreAnswered) {
  CreateTopics(2);
  // One account per partition (the key decides the partition; find two that differ).
  std::vector<KafkaRecord> records;
  for (int account = 0; account < 8; ++account) {
    for (KafkaRecord& record : Orders(3, "ACC" + std::to_string(account))) {
      records.push_back(std::move(record));
    }
  }
  Publish(records);
  auto first = StartSource(Options());
  std::vector<Message> held = PollFor(*first, records.size());
  ASSERT_EQ(held.size(), records.size());
  ASSERT_EQ(first->assigned_partitions().size(), 2u);

  auto second = StartSource(Options());
  std::vector<Message> second_received;
  // The group hands one partition to the newcomer; the first member keeps it (revoking) while
  // its messages are unanswered, so the newcomer gets nothing yet.
  ASSERT_TRUE(DriveUntil(
      {first.get(), second.get()}, [&] { return first->metrics().rebalances.value() >= 2; }, 30s,
      &second_received));
  DriveUntil(
      {first.get(), second.get()}, [] { return false; }, 500ms, &second_received);
  EXPECT_EQ(first->assigned_partitions().size(), 2u);
  EXPECT_TRUE(second->assigned_partitions().empty());
  EXPECT_TRUE(second_received.empty());

  // Answer everything except the first message of each partition: the revoked one stays held
  // until its last reply.
  std::vector<const Message*> unanswered;
  std::set<std::string> partitions_seen;
  for (const Message& message : held) {
    const std::string partition = message.identity.substr(0, message.identity.rfind('/'));
    if (partitions_seen.insert(partition).second) {
      unanswered.push_back(&message);
      continue;
    }
    ASSERT_TRUE(first->Ack(message, Accepted("A", "x")).ok());
  }
  ASSERT_EQ(unanswered.size(), 2u);
  DriveUntil(
      {first.get(), second.get()}, [] { return false; }, 300ms, &second_received);
  EXPECT_TRUE(second->assigned_partitions().empty());
  EXPECT_TRUE(second_received.empty()) << second_received.front().identity;
  for (const Message* message : unanswered) {
    ASSERT_TRUE(first->Ack(*message, Accepted("A", "x")).ok());
  }

  // Released with its offsets committed: the newcomer owns it and has nothing to replay.
  ASSERT_TRUE(DriveUntil(
      {first.get(), second.get()}, [&] { return second->assigned_partitions().size() == 1; }, 30s,
      &second_received));
  EXPECT_EQ(first->assigned_partitions().size(), 1u);
  DriveUntil(
      {first.get(), second.get()}, [] { return false; }, 500ms, &second_received);
  EXPECT_TRUE(second_received.empty()) << "replayed " << second_received.front().identity;
  auto committed = CommittedOffsets(cluster_->bootstrap_servers(), "test-group", kOrders, 2);
  ASSERT_TRUE(committed.ok());
  int64_t total = (*committed)[0] + (*committed)[1];
  EXPECT_EQ(total, static_cast<int64_t>(records.size()));
}

}  // namespace
}  // namespace wojak::sidecar::kafka
