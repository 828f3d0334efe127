// The source conformance suite: every source, against its real broker or peer, with the real
// engine and sidecar processes, must ack decided messages once, never ack what the engine did not
// decide, dead-letter poison, survive engine crashes and stalls, and keep per-key order.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "conformance/harness.h"

namespace wojak::conformance {
namespace {

using namespace std::chrono_literals;
namespace support = ::wojak::testing;

class SourceConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    fixture_ = MakeSourceFixture(GetParam());
    ASSERT_NE(fixture_, nullptr);
    ASSERT_TRUE(fixture_->Start(dir_.path()).ok());
    engine_ = std::make_unique<EngineProcess>(dir_.path());
    ASSERT_TRUE(engine_->Start());
    sidecar_ = std::make_unique<SidecarProcess>(dir_.path(), GetParam(), engine_->endpoint());
  }
  void TearDown() override {
    if (sidecar_) sidecar_->Stop();
    if (fixture_) fixture_->Stop();
  }

  void Publish(const std::string& body, const std::string& key = "ACC1") {
    Status status = fixture_->Publish(body, key);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  // Waits until `count` messages were acked (generous: brokers and restarts take time).
  ::testing::AssertionResult AwaitAcked(size_t count, std::chrono::seconds timeout = 60s) {
    if (support::WaitUntil([&] { return fixture_->AckedMessages().size() >= count; }, timeout)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << fixture_->AckedMessages().size() << " of " << count
                                         << " messages acked; sidecar log:\n"
                                         << support::ReadFile(sidecar_->log_path());
  }
  std::map<std::string, std::vector<Acked>> AckedById() {
    std::map<std::string, std::vector<Acked>> by_id;
    for (Acked& acked : fixture_->AckedMessages()) by_id[acked.client_order_id].push_back(acked);
    return by_id;
  }
  // Journal rows by client_order_id (stops the engine first).
  std::map<std::string, std::vector<nlohmann::json>> JournalById() {
    EXPECT_TRUE(engine_->Stop());
    std::map<std::string, std::vector<nlohmann::json>> by_id;
    for (const nlohmann::json& row : engine_->Orders()) {
      by_id[row["client_order_id"].get<std::string>()].push_back(row);
    }
    return by_id;
  }

  support::TempDir dir_;
  std::unique_ptr<SourceFixture> fixture_;
  std::unique_ptr<EngineProcess> engine_;
  std::unique_ptr<SidecarProcess> sidecar_;
};

TEST_P(SourceConformanceTest, AcksAcceptedRejectedAndEscalatedMessagesOnceWithTheirDecision) {
  ASSERT_TRUE(sidecar_->Start(*fixture_));
  Publish(OrderJson("acc-1"));
  Publish(OrderJson("rej-1", "ACC1", 70));
  Publish(OrderJson("esc-1", "ACC1", 75, "remote"));
  ASSERT_TRUE(AwaitAcked(3));
  std::this_thread::sleep_for(300ms);  // a second ack would have arrived by now
  auto acked = AckedById();
  ASSERT_EQ(acked.size(), 3u);
  ASSERT_EQ(acked["acc-1"].size(), 1u);
  EXPECT_EQ(acked["acc-1"][0].decision, "ACCEPTED");
  ASSERT_EQ(acked["rej-1"].size(), 1u);
  EXPECT_EQ(acked["rej-1"][0].decision, "REJECTED");
  EXPECT_EQ(acked["rej-1"][0].json["reasons"][0]["code"], "QTY_NOT_LOT_MULTIPLE");
  ASSERT_EQ(acked["esc-1"].size(), 1u);
  EXPECT_EQ(acked["esc-1"][0].decision, "ESCALATED");
  EXPECT_EQ(fixture_->NackCount(), 0u);
  EXPECT_TRUE(fixture_->DeadLetteredMessages().empty());

  auto journal = JournalById();
  for (const char* id : {"acc-1", "rej-1", "esc-1"}) {
    ASSERT_EQ(journal[id].size(), 1u) << id;
    EXPECT_EQ(journal[id][0]["order_id"], acked[id][0].json["order_id"]) << id;
  }
}

TEST_P(SourceConformanceTest, NeverAcksWhileTheEngineIsDownAndDecidesEachOrderOnceAfterARestart) {
  ASSERT_TRUE(sidecar_->Start(*fixture_));
  Publish(OrderJson("before"));
  ASSERT_TRUE(AwaitAcked(1));

  engine_->Kill();
  constexpr int kOrders = 20;
  // Distinct keys, so every message is out at once rather than queued behind the first.
  for (int i = 0; i < kOrders; ++i) {
    Publish(OrderJson("down-" + std::to_string(i)), "key-" + std::to_string(i));
  }
  ASSERT_TRUE(support::WaitUntil([&] { return fixture_->NackCount() >= kOrders; }, 60s))
      << "nacks: " << fixture_->NackCount();
  EXPECT_EQ(fixture_->AckedMessages().size(), 1u) << "acked while the engine was down";

  ASSERT_TRUE(engine_->Start());
  ASSERT_TRUE(AwaitAcked(1 + kOrders));
  auto acked = AckedById();
  auto journal = JournalById();
  for (int i = 0; i < kOrders; ++i) {
    const std::string id = "down-" + std::to_string(i);
    ASSERT_EQ(acked[id].size(), 1u) << id;
    ASSERT_EQ(journal[id].size(), 1u) << id << " decided " << journal[id].size() << " times";
    const nlohmann::json& decision = acked[id][0].json;
    const nlohmann::json& original =
        decision.contains("original") ? decision["original"] : decision;
    EXPECT_EQ(original["order_id"], journal[id][0]["order_id"]) << id;
  }
}

TEST_P(SourceConformanceTest, AcksARedeliveredDecidedMessageAsDuplicateOfTheOriginal) {
  ASSERT_TRUE(sidecar_->Start(*fixture_));
  Publish(OrderJson("dup-1"));
  ASSERT_TRUE(AwaitAcked(1));
  Publish(OrderJson("dup-1"));
  ASSERT_TRUE(AwaitAcked(2));
  auto acked = AckedById();
  ASSERT_EQ(acked["dup-1"].size(), 2u);
  const Acked& first = acked["dup-1"][0];
  const Acked& second = acked["dup-1"][1];
  EXPECT_EQ(first.decision, "ACCEPTED");
  EXPECT_EQ(second.decision, "DUPLICATE");
  EXPECT_EQ(second.json["original"]["order_id"], first.json["order_id"]);
  EXPECT_EQ(second.json["original"]["decision"], "ACCEPTED");
  EXPECT_EQ(JournalById()["dup-1"].size(), 1u);
}

TEST_P(SourceConformanceTest, DeadLettersMalformedMessagesWithAReasonAndDecidesTheRest) {
  ASSERT_TRUE(sidecar_->Start(*fixture_));
  Publish(OrderJson("ok-1"));
  Publish("{this is not json");
  Publish(R"({"client_order_id":"bad-2","account":"ACC1","colour":"red"})");
  Publish(OrderJson("ok-2"));
  ASSERT_TRUE(AwaitAcked(2));
  ASSERT_TRUE(
      support::WaitUntil([&] { return fixture_->DeadLetteredMessages().size() >= 2; }, 30s));
  std::vector<DeadLettered> dead = fixture_->DeadLetteredMessages();
  ASSERT_EQ(dead.size(), 2u);
  for (const DeadLettered& message : dead) EXPECT_FALSE(message.reason.empty()) << message.body;
  auto acked = AckedById();
  EXPECT_EQ(acked["ok-1"].size(), 1u);
  EXPECT_EQ(acked["ok-2"].size(), 1u);
  EXPECT_EQ(acked.count("bad-2"), 0u);
  auto journal = JournalById();
  EXPECT_EQ(journal.count("bad-2"), 0u);
  EXPECT_EQ(journal["ok-1"].size(), 1u);
}

TEST_P(SourceConformanceTest, WaitsOutASlowEngineWithoutRedelivering) {
  SidecarSettings settings;
  settings.request_timeout = 10s;
  ASSERT_TRUE(sidecar_->Start(*fixture_, settings));
  Publish(OrderJson("warm-up"));
  ASSERT_TRUE(AwaitAcked(1));
  engine_->Pause();
  for (int i = 0; i < 5; ++i) Publish(OrderJson("slow-" + std::to_string(i)));
  // Longer than a short broker lease, shorter than the request timeout and the transport's
  // dead-peer detection (3 heartbeats of 1 s).
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(fixture_->AckedMessages().size(), 1u);
  engine_->Resume();
  ASSERT_TRUE(AwaitAcked(6));
  auto acked = AckedById();
  for (int i = 0; i < 5; ++i) {
    const std::string id = "slow-" + std::to_string(i);
    ASSERT_EQ(acked[id].size(), 1u) << id;
    EXPECT_EQ(acked[id][0].decision, "ACCEPTED") << id << " was delivered more than once";
  }
  EXPECT_EQ(fixture_->NackCount(), 0u) << support::ReadFile(sidecar_->log_path());
}

TEST_P(SourceConformanceTest, KeepsPerAccountOrderWhereTheBrokerPromisesIt) {
  if (!fixture_->PromisesOrdering()) GTEST_SKIP() << GetParam() << " promises no ordering";
  ASSERT_TRUE(sidecar_->Start(*fixture_));
  constexpr int kPerAccount = 15;
  for (int i = 0; i < kPerAccount; ++i) {
    for (const std::string account : {"ACC1", "ACC2", "ACC3"}) {
      Publish(OrderJson(account + "-" + std::to_string(i), account), account);
    }
  }
  ASSERT_TRUE(AwaitAcked(3 * kPerAccount));
  auto journal = JournalById();
  for (const std::string account : {"ACC1", "ACC2", "ACC3"}) {
    uint64_t previous_seq = 0;
    for (int i = 0; i < kPerAccount; ++i) {
      const std::string id = account + "-" + std::to_string(i);
      ASSERT_EQ(journal[id].size(), 1u) << id;
      const uint64_t seq = journal[id][0]["seq"].get<uint64_t>();
      EXPECT_GT(seq, previous_seq) << id << " was decided before an earlier order of " << account;
      previous_seq = seq;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sources, SourceConformanceTest, ::testing::ValuesIn(SourceFixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace wojak::conformance
