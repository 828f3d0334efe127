// The MQTT source against mosquitto: PUBACK only after the decision is published, undecided
// messages come back (DUP) after a restart, PUBACKs in arrival order, nack without release,
// dead letters with their reason, cancels, 5.0 responses, and reconnects after a broker restart.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mosquitto_broker.h"
#include "sidecar/sources/mqtt/mqtt_source.h"
#include "support/process.h"

namespace wojak::testing {
namespace {

namespace mq = sidecar::mqtt;
using namespace std::chrono_literals;
using nlohmann::json;
using sidecar::DeadLetterInfo;
using sidecar::DeadLetterKind;
using sidecar::Message;
using sidecar::MessageKind;

constexpr const char* kOrder =
    R"({"account":"ACC1","strategy":"s","exchange":"NFO","symbol":"NIFTY26DECFUT","side":"BUY",)"
    R"("quantity":75,"order_type":"LIMIT","product":"NRML","price":"100.00"})";

Decision Accepted() {
  Decision decision;
  decision.kind = DecisionKind::kAccepted;
  decision.client_order_id = "c-1";
  decision.account = "ACC1";
  decision.order_id = "W-000000000007";
  decision.seq = 7;
  return decision;
}

class MqttSourceTest : public ::testing::TestWithParam<mq::MqttVersion> {
 protected:
  mq::MqttSourceOptions Options() const {
    mq::MqttSourceOptions options;
    options.client = broker_.ClientOptions("sidecar", GetParam());
    options.reconnect_initial = 50ms;
    options.reconnect_max = 200ms;
    return options;
  }

  std::unique_ptr<mq::MqttSource> Started() {
    auto source = std::make_unique<mq::MqttSource>(Options());
    Status status = source->Start();
    EXPECT_TRUE(status.ok()) << status.ToString();
    EXPECT_TRUE(source->connected());
    return source;
  }

  static std::vector<Message> PollFor(mq::MqttSource& source, size_t count,
                                      std::chrono::milliseconds timeout = 10s) {
    std::vector<Message> got;
    WaitUntil(
        [&] {
          auto batch = source.Poll(count - got.size(), 20ms);
          EXPECT_TRUE(batch.ok());
          for (Message& message : *batch) got.push_back(std::move(message));
          return got.size() >= count;
        },
        timeout);
    return got;
  }

  // Pumps the source until its publishes are acknowledged and its PUBACKs are out.
  static void Settle(mq::MqttSource& source) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto batch = source.Poll(0, 10ms);
          return batch.ok() && source.unsettled() == 0;
        },
        10s));
  }

  // After a restart of the source: the first message must be `marker`, i.e. nothing older
  // came back.
  void ExpectNothingRedelivered(const std::string& marker) {
    auto source = Started();
    publisher_.Publish("wojak/orders/s1", marker);
    auto got = PollFor(*source, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].body, marker);
  }

  TempDir dir_;
  MosquittoBroker broker_{dir_.path()};
  MqttTestClient publisher_{broker_, "publisher", GetParam()};
};

INSTANTIATE_TEST_SUITE_P(Versions, MqttSourceTest,
                         ::testing::Values(mq::MqttVersion::k311, mq::MqttVersion::k5),
                         [](const auto& info) {
                           return info.param == mq::MqttVersion::k5 ? "v5" : "v311";
                         });

TEST_P(MqttSourceTest, AcknowledgesOnlyAfterTheDecisionIsPublished) {
  MqttTestClient decisions(broker_, "observer", GetParam());
  decisions.Subscribe({"wojak/decisions/#"});
  auto source = Started();
  publisher_.Publish("wojak/orders/s1", kOrder);
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, kOrder);
  EXPECT_EQ(got[0].kind, MessageKind::kNewOrder);
  EXPECT_EQ(got[0].delivery_attempt, 1u);
  EXPECT_EQ(source->unacked(), 1u);
  ASSERT_TRUE(source->Ack(got[0], Accepted()).ok());
  Settle(*source);
  EXPECT_EQ(source->unacked(), 0u);
  const auto& published = decisions.Collect(1, 5s);
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].topic, "wojak/decisions/ACC1");
  EXPECT_EQ(json::parse(published[0].payload)["decision"], "ACCEPTED");
  source->Stop();
  ExpectNothingRedelivered("marker");
}

TEST_P(MqttSourceTest, UndecidedMessageComesBackMarkedDupAfterARestart) {
  auto source = Started();
  publisher_.Publish("wojak/orders/s1", kOrder);
  auto first = PollFor(*source, 1);
  ASSERT_EQ(first.size(), 1u);
  source->Stop();  // no decision: no PUBACK

  source = Started();
  auto again = PollFor(*source, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, kOrder);
  EXPECT_EQ(again[0].identity, first[0].identity);
  EXPECT_EQ(again[0].delivery_attempt, 2u) << "DUP counts as an earlier attempt";
}

TEST_P(MqttSourceTest, PubacksGoOutInArrivalOrder) {
  auto source = Started();
  publisher_.Publish("wojak/orders/s1", "one");
  publisher_.Publish("wojak/orders/s1", "two");
  auto got = PollFor(*source, 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(source->Ack(got[1], Accepted()).ok());
  Settle(*source);
  EXPECT_EQ(source->unacked(), 2u) << "the second waits behind the undecided first";
  source->Stop();

  source = Started();
  auto again = PollFor(*source, 2);
  ASSERT_EQ(again.size(), 2u) << "both come back: neither was acknowledged";
  EXPECT_EQ(again[0].body, "one");
  EXPECT_EQ(again[1].body, "two");
  ASSERT_TRUE(source->Ack(again[1], Accepted()).ok());
  ASSERT_TRUE(source->Ack(again[0], Accepted()).ok());
  Settle(*source);
  EXPECT_EQ(source->unacked(), 0u);
  source->Stop();
  ExpectNothingRedelivered("marker");
}

TEST_P(MqttSourceTest, NackHandsTheMessageOutAgainWhileTheBrokerStillHoldsIt) {
  auto source = Started();
  publisher_.Publish("wojak/orders/s1", kOrder);
  auto first = PollFor(*source, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(source->Nack(first[0], 100ms).ok());
  auto again = PollFor(*source, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].identity, first[0].identity);
  EXPECT_EQ(again[0].delivery_attempt, 2u);
  EXPECT_EQ(source->unacked(), 1u) << "not acknowledged while undecided";
  source->Stop();
  source = Started();
  EXPECT_EQ(PollFor(*source, 1).size(), 1u) << "a crash during the delay loses nothing";
}

TEST_P(MqttSourceTest, DeadLetterPublishesTheReasonAndTheRejection) {
  MqttTestClient observer(broker_, "observer", GetParam());
  observer.Subscribe({"wojak/dead-letter", "wojak/decisions/#"});
  auto source = Started();
  const std::string body = R"({"account":"ACC2","colour":"blue"})";
  publisher_.Publish("wojak/orders/s1", body);
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  DeadLetterInfo info;
  info.kind = DeadLetterKind::kMalformed;
  info.reason = "colour: unknown field";
  info.decision.kind = DecisionKind::kRejected;
  ASSERT_TRUE(source->DeadLetter(got[0], info).ok());
  Settle(*source);
  EXPECT_EQ(source->unacked(), 0u);
  const auto& published = observer.Collect(2, 5s);
  ASSERT_EQ(published.size(), 2u);
  std::map<std::string, json> by_topic;
  for (const auto& p : published) by_topic[p.topic] = json::parse(p.payload);
  const json& dead = by_topic["wojak/dead-letter"];
  EXPECT_EQ(dead["reason"], "colour: unknown field");
  EXPECT_EQ(dead["kind"], "malformed");
  EXPECT_EQ(dead["topic"], "wojak/orders/s1");
  EXPECT_EQ(dead["payload"], body);
  EXPECT_EQ(by_topic["wojak/decisions/ACC2"]["decision"], "REJECTED");
  EXPECT_EQ(by_topic["wojak/decisions/ACC2"]["error"], "colour: unknown field");
}

TEST_P(MqttSourceTest, MessagesOnCancelTopicsAreCancels) {
  auto source = Started();
  publisher_.Publish("wojak/cancels/s1", R"({"account":"ACC1","client_order_id":"c-1"})");
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, MessageKind::kCancel);
}

// Request/response properties exist only in MQTT 5.
class MqttSource5Test : public MqttSourceTest {};
INSTANTIATE_TEST_SUITE_P(Version5, MqttSource5Test, ::testing::Values(mq::MqttVersion::k5),
                         [](const auto&) { return "v5"; });

TEST_P(MqttSource5Test, RequestGetsTheDecisionOnItsResponseTopic) {
  MqttTestClient requester(broker_, "requester", mq::MqttVersion::k5);
  requester.Subscribe({"replies/s1"});
  auto source = Started();
  mq::MqttProperties properties;
  properties.response_topic = "replies/s1";
  properties.correlation_data = "req-42";
  properties.user_properties = {{"message_id", "m-42"}};
  publisher_.Publish("wojak/orders/s1", kOrder, properties);
  auto got = PollFor(*source, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].identity, "mqtt:wojak/orders/s1:id:m-42");
  ASSERT_TRUE(source->Ack(got[0], Accepted()).ok());
  Settle(*source);
  const auto& replies = requester.Collect(1, 5s);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].properties.correlation_data, "req-42");
  EXPECT_EQ(json::parse(replies[0].payload)["decision"], "ACCEPTED");
}

TEST_P(MqttSourceTest, ReconnectsAfterABrokerRestartAndDropsStaleAcks) {
  auto source = Started();
  publisher_.Publish("wojak/orders/s1", "before");
  auto before = PollFor(*source, 1);
  ASSERT_EQ(before.size(), 1u);
  broker_.Restart();
  // The decision comes after the connection died: it must not be acknowledged on the new one.
  auto got = PollFor(*source, 1, 20s);
  ASSERT_TRUE(source->Ack(before[0], Accepted()).ok());
  ASSERT_EQ(got.size(), 1u) << "the persisted session sends the undecided message again";
  EXPECT_EQ(got[0].body, "before");
  EXPECT_EQ(got[0].delivery_attempt, 2u);
  publisher_.Reconnect();
  publisher_.Publish("wojak/orders/s1", "after");
  auto after = PollFor(*source, 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].body, "after");
}

}  // namespace
}  // namespace wojak::testing
