// Outbox relay against a local webhook that fails, times out and answers 500: every row arrives,
// in order, signed; the cursor survives a restart; the backlog is visible.
#include "engine/outbox_relay.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "executors/http/fake_http_server.h"
#include "journal/test_util.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpReply;
using testing::FakeHttpRequest;
using testing::FakeHttpServer;

constexpr char kSecret[] = "outbox-test-secret";

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
  for (auto waited = 0ms; waited < limit; waited += 5ms) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenJournal(); }

  void OpenJournal() {
    journal_.reset();
    JournalOptions options;
    options.path = dir_.path() + "/wojak.db";
    auto journal = SqliteJournal::Open(options);
    ASSERT_TRUE(journal.ok()) << journal.status().ToString();
    journal_ = std::move(journal).value();
  }

  // Appends `count` entries, each with one outbox row; returns the newest outbox_seq.
  Seq AppendRows(int count) {
    std::vector<Entry> entries = testing::SampleEntries(next_seq_, count);
    ProjectionBatch projections;
    for (const Entry& e : entries) {
      projections.outbox.push_back({next_outbox_seq_++, e.seq,
                                    e.seq % 2 ? "escalation" : "execution",
                                    R"({"order_id":"W-)" + std::to_string(e.seq) + R"("})"});
    }
    next_seq_ += count;
    EXPECT_TRUE(journal_->AppendBatch(entries, projections).ok());
    return next_outbox_seq_ - 1;
  }

  OutboxOptions Options(const FakeHttpServer& server) {
    OutboxOptions o;
    o.enabled = true;
    o.url = server.Url("/hook");
    o.secret = kSecret;
    o.timeout = 200ms;
    o.backoff_initial = 2ms;
    o.backoff_max = 20ms;
    o.poll_interval = 20ms;
    o.batch_size = 4;
    return o;
  }

  std::unique_ptr<OutboxRelay> StartRelay(const FakeHttpServer& server, Seq head) {
    OutboxOptions options = Options(server);
    auto sink = MakeWebhookSink(options);
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    auto relay = std::make_unique<OutboxRelay>(*journal_, std::move(sink).value(), options);
    EXPECT_TRUE(relay->Start(head).ok());
    return relay;
  }

  static Seq KeyOf(const FakeHttpRequest& request) {
    return std::stoull(request.Header("idempotency-key"));
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteJournal> journal_;
  Seq next_seq_ = 1;
  Seq next_outbox_seq_ = 1;
};

TEST_F(OutboxRelayTest, DeliversEveryRowInOrderSignedWithItsSequenceAsKey) {
  FakeHttpServer webhook([](const FakeHttpRequest&) { return FakeHttpReply{204, ""}; });
  Seq head = AppendRows(10);
  auto relay = StartRelay(webhook, head);
  ASSERT_TRUE(WaitFor([&] { return relay->delivered() == head; }));
  relay->Stop();
  auto requests = webhook.requests();
  ASSERT_EQ(requests.size(), 10u);
  for (size_t i = 0; i < requests.size(); ++i) {
    const FakeHttpRequest& r = requests[i];
    EXPECT_EQ(r.target, "/hook");
    EXPECT_EQ(KeyOf(r), i + 1);
    auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["outbox_seq"], i + 1);
    EXPECT_EQ(body["entry_seq"], i + 1);
    EXPECT_EQ(body["topic"], r.Header("x-wojak-topic"));
    EXPECT_EQ(body["payload"]["order_id"], "W-" + std::to_string(i + 1));
    const std::string timestamp = r.Header("x-wojak-timestamp");
    EXPECT_FALSE(timestamp.empty());
    EXPECT_EQ(r.Header("x-wojak-signature"), WebhookSignature(kSecret, timestamp, r.body));
    EXPECT_NE(r.Header("x-wojak-signature"), WebhookSignature("wrong", timestamp, r.body));
  }
  EXPECT_EQ(relay->backlog(), 0u);
}

TEST_F(OutboxRelayTest, RowsAppendedWhileRunningAreDeliveredAfterNotify) {
  FakeHttpServer webhook([](const FakeHttpRequest&) { return FakeHttpReply{200, "ok"}; });
  auto relay = StartRelay(webhook, 0);
  Seq head = AppendRows(3);
  relay->Notify(head);
  head = AppendRows(5);
  relay->Notify(head);
  ASSERT_TRUE(WaitFor([&] { return relay->delivered() == head; }));
  relay->Stop();
  auto requests = webhook.requests();
  ASSERT_EQ(requests.size(), 8u);
  for (size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(KeyOf(requests[i]), i + 1);
}

TEST_F(OutboxRelayTest, FailuresTimeoutsAndServerErrorsLoseNothingAndKeepOrder) {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<Seq> accepted;  // keys the webhook answered 2xx for, in answer order
  FakeHttpServer webhook([&](const FakeHttpRequest& request) {
    FakeHttpReply reply;
    switch (calls.fetch_add(1) % 5) {
      case 0:
        reply.status = 500;
        break;
      case 1:
        reply.drop = true;  // connection reset without an answer
        break;
      case 2:
        reply.delay = 2s;  // beyond the relay's 200 ms timeout
        break;
      case 3:
        reply.status = 503;
        break;
      default: {
        std::lock_guard lock(mutex);
        accepted.push_back(KeyOf(request));
        reply.status = 200;
      }
    }
    return reply;
  });
  Seq head = AppendRows(12);
  auto relay = StartRelay(webhook, head);
  ASSERT_TRUE(WaitFor([&] { return relay->delivered() == head; }, 60s));
  relay->Stop();
  std::vector<Seq> expected;
  for (Seq s = 1; s <= head; ++s) expected.push_back(s);
  std::lock_guard lock(mutex);
  EXPECT_EQ(accepted, expected);
  // Never ahead of an undelivered row: keys seen by the webhook never decrease.
  Seq previous = 0;
  for (const FakeHttpRequest& r : webhook.requests()) {
    EXPECT_GE(KeyOf(r), previous);
    previous = KeyOf(r);
  }
  // Four refusals per acceptance; one Deliver makes at most two calls (a dropped kept-alive
  // connection is retried once on a fresh one), so each row failed at least twice.
  EXPECT_GE(relay->failed_attempts(), 2u * head);
}

TEST_F(OutboxRelayTest, CursorSurvivesRestartSoDeliveredRowsAreNotSentAgain) {
  FakeHttpServer webhook([](const FakeHttpRequest&) { return FakeHttpReply{200, ""}; });
  Seq head = AppendRows(3);
  {
    auto relay = StartRelay(webhook, head);
    ASSERT_TRUE(WaitFor([&] { return relay->delivered() == head; }));
    relay->Stop();
  }
  OpenJournal();  // the engine restarts
  EXPECT_EQ(*journal_->GetMeta(OutboxRelay::kCursorKey), "3");
  Seq new_head = AppendRows(2);
  auto relay = StartRelay(webhook, new_head);
  EXPECT_EQ(relay->delivered(), 3u);
  ASSERT_TRUE(WaitFor([&] { return relay->delivered() == new_head; }));
  relay->Stop();
  auto requests = webhook.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(KeyOf(requests[3]), 4u);
  EXPECT_EQ(KeyOf(requests[4]), 5u);
}

TEST_F(OutboxRelayTest, CursorStopsBeforeTheFirstUndeliveredRow) {
  FakeHttpServer webhook([](const FakeHttpRequest& request) {
    return FakeHttpReply{KeyOf(request) <= 2 ? 200 : 500, ""};
  });
  Seq head = AppendRows(4);
  auto relay = StartRelay(webhook, head);
  ASSERT_TRUE(WaitFor([&] { return relay->failed_attempts() >= 3; }));
  relay->Stop();
  EXPECT_EQ(relay->delivered(), 2u);
  EXPECT_EQ(relay->backlog(), 2u);
  EXPECT_EQ(*journal_->GetMeta(OutboxRelay::kCursorKey), "2");
}

TEST_F(OutboxRelayTest, BacklogIsAMetricsGauge) {
  FakeHttpServer webhook([](const FakeHttpRequest&) { return FakeHttpReply{500, ""}; });
  Seq head = AppendRows(3);
  MetricsRegistry registry;
  auto relay = StartRelay(webhook, head);
  relay->RegisterMetrics(registry);
  ASSERT_TRUE(WaitFor([&] { return relay->failed_attempts() >= 1; }));
  EXPECT_NE(registry.RenderPrometheus().find("wojak_outbox_backlog 3"), std::string::npos)
      << registry.RenderPrometheus();
  relay->Notify(7);
  EXPECT_EQ(relay->backlog(), 7u);
  relay->Stop();
}

TEST(WebhookSignatureTest, IsHexHmacSha256OfTimestampDotBody) {
  EXPECT_EQ(WebhookSignature("topsecret", "1700000000123", R"({"a":1})"),
            "73a259c19d286d2e65a0c534b5763e50a0a1e7071ecf931849faf6560c66709f");
}

TEST(OutboxOptionsTest, EnabledNeedsUrlAndSecret) {
  auto config = ConfigDocument::Parse("outbox:\n  enabled: true\n", nullptr);
  ASSERT_TRUE(config.ok());
  std::map<std::string, std::string> no_env;
  config = ConfigDocument::Parse("outbox:\n  enabled: true\n", &no_env);
  ASSERT_TRUE(config.ok());
  ReadOutboxOptions((*config)->Root().Section("outbox", ""));
  ASSERT_EQ((*config)->errors().all().size(), 2u);
}

TEST(OutboxOptionsTest, SecretComesFromTheEnvironment) {
  std::map<std::string, std::string> env = {{"WOJAK_OUTBOX_SECRET", "from-env-secret"}};
  auto config = ConfigDocument::Parse(
      "outbox:\n  enabled: true\n  url: http://127.0.0.1:9/hook\n  backoff_max: 1s\n", &env);
  ASSERT_TRUE(config.ok());
  OutboxOptions o = ReadOutboxOptions((*config)->Root().Section("outbox", ""));
  EXPECT_TRUE((*config)->errors().empty()) << (*config)->errors().ToStatus().ToString();
  EXPECT_EQ(o.secret, "from-env-secret");
  EXPECT_EQ(o.backoff_max, 1s);
}

}  // namespace
}  // namespace wojak
