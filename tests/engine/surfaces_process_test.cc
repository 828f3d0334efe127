// The engine's surfaces as a real process: escalations and execution reports reach a signed
// webhook in order and survive kill -9; the HTTP executor fills through a fake Lambda on
// 127.0.0.1; `wojak ticks publish` feeds the tick socket and `wojak ticks` reads what persisted.
#include <gtest/gtest.h>
#include <signal.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "engine/outbox_relay.h"
#include "executors/http/fake_http_server.h"
#include "support/process.h"
#include "wojak/client.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ChildProcess;
using testing::FakeHttpReply;
using testing::FakeHttpRequest;
using testing::FakeHttpServer;
using testing::TempDir;

constexpr char kSecret[] = "surfaces-webhook-secret";

// Limits off, the session open at any hour; orders above 2 lots of NIFTY escalate.
std::string Config(const std::string& extra) {
  return std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(  rules:
    escalate_notional: {above: "4000000.00"}
ticks:
  persist_interval: 50ms
)" + extra;
}

OrderRequest Order(const std::string& id, Qty quantity) {
  OrderRequest o;
  o.client_order_id = id;
  o.account = "ACC1";
  o.strategy = "s1";
  o.exchange = "NFO";
  o.symbol = "NIFTY26DECFUT";
  o.side = Side::kBuy;
  o.quantity = quantity;
  o.order_type = OrderType::kLimit;
  o.price = Paise::FromRupees(26065);
  return o;
}

class SurfacesProcessTest : public ::testing::Test {
 protected:
  std::string endpoint() const { return "ipc://" + dir_.File("engine.sock"); }

  void StartEngine(const std::string& config) {
    testing::WriteFile(dir_.File("wojak.yaml"), config);
    log_ = dir_.File("engine-" + std::to_string(++starts_) + ".log");
    engine_ =
        ChildProcess::Start({testing::WojakBinary(), "engine", "--config", dir_.File("wojak.yaml"),
                             "--data", dir_.path(), "--endpoint", endpoint(), "--instruments",
                             testing::SourceDir() + "/tests/testdata/instruments.csv", "--freeze",
                             testing::SourceDir() + "/tests/testdata/freeze_limits.csv", "--api",
                             "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort())},
                            log_, {std::string("WOJAK_OUTBOX_SECRET=") + kSecret});
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          return testing::ReadFile(log_).find("engine_ready") != std::string::npos ||
                 !engine_.running();
        },
        30s));
    ASSERT_TRUE(engine_.running()) << testing::ReadFile(log_);
    ClientOptions options;
    options.endpoint = endpoint();
    options.connect_timeout = 5s;
    auto client = EngineClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  // Sends one request and returns its decision.
  Decision Call(const Request& request) {
    auto id = client_->Send(request);
    EXPECT_TRUE(id.ok());
    for (int i = 0; i < 100; ++i) {
      auto replies = client_->Poll(100ms);
      if (!replies.ok()) break;
      for (const Reply& reply : *replies) {
        if (reply.request_id == *id) return reply.decision;
      }
    }
    ADD_FAILURE() << "no reply";
    return {};
  }

  // Runs `wojak ARGS...` to completion and returns its output.
  std::string RunCli(std::vector<std::string> args) {
    args.insert(args.begin(), testing::WojakBinary());
    const std::string log = dir_.File("cli-" + std::to_string(++cli_runs_) + ".log");
    ChildProcess cli = ChildProcess::Start(args, log);
    EXPECT_EQ(cli.Wait(30s), 0) << testing::ReadFile(log);
    return testing::ReadFile(log);
  }

  TempDir dir_;
  ChildProcess engine_;
  std::unique_ptr<EngineClient> client_;
  std::string log_;
  int starts_ = 0;
  int cli_runs_ = 0;
};

// What the webhook was sent, in arrival order, and which deliveries it accepted.
class Webhook {
 public:
  explicit Webhook(int refuse_first)
      : refuse_first_(refuse_first), server_([this](const FakeHttpRequest& request) {
          std::lock_guard lock(mutex_);
          if (refused_ < refuse_first_) {
            ++refused_;
            return FakeHttpReply{503, "not yet"};
          }
          accepted_.push_back(request);
          return FakeHttpReply{200, "{}"};
        }) {}

  std::string Url() const { return server_.Url("/rms"); }
  std::vector<FakeHttpRequest> accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  // The distinct outbox sequences accepted, in first-acceptance order.
  std::vector<uint64_t> AcceptedKeys() {
    std::vector<uint64_t> keys;
    for (const FakeHttpRequest& r : accepted()) {
      uint64_t key = std::stoull(r.Header("idempotency-key"));
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    return keys;
  }
  std::vector<FakeHttpRequest> all() { return server_.requests(); }

 private:
  const int refuse_first_;
  std::mutex mutex_;
  int refused_ = 0;
  std::vector<FakeHttpRequest> accepted_;
  FakeHttpServer server_;
};

std::string OutboxConfig(const std::string& url) {
  return "outbox:\n  enabled: true\n  url: " + url +
         "\n  backoff_initial: 10ms\n  backoff_max: 50ms\n  poll_interval: 50ms\n"
         "executor:\n  kind: sandbox\n  sandbox:\n    fill_ratio: 1.0\n    latency_max: 1ms\n";
}

TEST_F(SurfacesProcessTest, EscalationsAndFillsReachTheWebhookInOrderAndSurviveKill9) {
  Webhook webhook(/*refuse_first=*/3);
  ASSERT_NO_FATAL_FAILURE(StartEngine(Config(OutboxConfig(webhook.Url()))));
  ASSERT_EQ(Call(Order("small", 75)).kind, DecisionKind::kAccepted);
  Decision escalated = Call(Order("big", 750));
  ASSERT_EQ(escalated.kind, DecisionKind::kEscalated);
  ASSERT_TRUE(testing::WaitUntil([&] { return webhook.AcceptedKeys().size() >= 2; }, 20s));
  ASSERT_EQ(Call(EscalationVerdict{escalated.order_id, true, ""}).kind, DecisionKind::kAccepted);
  ASSERT_TRUE(testing::WaitUntil([&] { return webhook.AcceptedKeys().size() >= 3; }, 20s));

  std::map<std::string, int> events;
  for (const FakeHttpRequest& r : webhook.accepted()) {
    EXPECT_EQ(r.Header("x-wojak-signature"),
              WebhookSignature(kSecret, r.Header("x-wojak-timestamp"), r.body));
    json body = json::parse(r.body);
    EXPECT_EQ(body["topic"], r.Header("x-wojak-topic"));
    json payload = body["payload"];
    events[payload["event"].get<std::string>() + ":" + payload["order_id"].get<std::string>()]++;
    if (payload["event"] == "escalation") {
      EXPECT_EQ(payload["order"]["quantity"], 750);
      EXPECT_EQ(payload["order"]["account"], "ACC1");
      EXPECT_EQ(payload["decision"]["decision"], "ESCALATED");
    } else {
      EXPECT_EQ(payload["status"], "FILLED");
    }
  }
  EXPECT_EQ(events.count("escalation:" + escalated.order_id), 1u);
  EXPECT_EQ(events.count("execution:" + escalated.order_id), 1u);
  EXPECT_EQ(webhook.AcceptedKeys(), (std::vector<uint64_t>{1, 2, 3}));

  engine_.Signal(SIGKILL);
  engine_.Wait(10s);
  ASSERT_NO_FATAL_FAILURE(StartEngine(Config(OutboxConfig(webhook.Url()))));
  ASSERT_EQ(Call(Order("after-restart", 75)).kind, DecisionKind::kAccepted);
  ASSERT_TRUE(testing::WaitUntil([&] { return webhook.AcceptedKeys().size() >= 4; }, 20s));
  EXPECT_EQ(webhook.AcceptedKeys(), (std::vector<uint64_t>{1, 2, 3, 4}));
  // In order: a redelivery after the restart never jumps ahead of an unacknowledged row.
  uint64_t previous = 0;
  for (const FakeHttpRequest& r : webhook.all()) {
    uint64_t key = std::stoull(r.Header("idempotency-key"));
    if (key < previous) {
      // Only a row the first engine delivered but had not yet recorded may come again.
      EXPECT_LE(key, 3u);
    }
    previous = key;
  }
}

TEST_F(SurfacesProcessTest, HttpExecutorFillsAndFailsThroughAFakeLambda) {
  FakeHttpServer lambda([](const FakeHttpRequest& request) {
    json body = json::parse(request.body);
    if (body["order"]["client_order_id"] == "garbage") return FakeHttpReply{200, "<html>"};
    return FakeHttpReply{200, R"({"status":"FILLED","fill_price":"26060.25"})"};
  });
  ASSERT_NO_FATAL_FAILURE(
      StartEngine(Config("executor:\n  kind: http\n  http:\n    url: " + lambda.Url("/execute") +
                         "\n    timeout: 2s\n    retries: 1\n")));
  Decision filled = Call(Order("good", 75));
  ASSERT_EQ(filled.kind, DecisionKind::kAccepted);
  Decision failed = Call(Order("garbage", 75));
  ASSERT_EQ(failed.kind, DecisionKind::kAccepted);
  json orders;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        orders = json::parse(RunCli({"orders", "--data", dir_.path(), "--json"}), nullptr, false);
        if (!orders.is_array()) return false;
        int final_states = 0;
        for (const json& o : orders)
          final_states += o["status"] == "FILLED" || o["status"] == "FAILED";
        return final_states == 2;
      },
      30s))
      << orders.dump();
  for (const json& o : orders) {
    EXPECT_EQ(o["status"], o["client_order_id"] == "good" ? "FILLED" : "FAILED") << o.dump();
  }
  json trades = json::parse(RunCli({"trades", "--data", dir_.path(), "--json"}));
  ASSERT_EQ(trades.size(), 1u) << trades.dump();
  EXPECT_EQ(trades[0]["order_id"], filled.order_id);
  for (const FakeHttpRequest& r : lambda.requests()) {
    EXPECT_EQ(r.target, "/execute");
    EXPECT_EQ(r.Header("idempotency-key"), json::parse(r.body)["order_id"]);
  }
}

TEST_F(SurfacesProcessTest, PublishedTicksArePersistedForWojakTicks) {
  ASSERT_NO_FATAL_FAILURE(StartEngine(Config("")));
  std::string published =
      RunCli({"ticks", "publish", "-f", testing::SourceDir() + "/tests/testdata/ticks_sample.csv",
              "--data", dir_.path()});
  EXPECT_NE(published.find("\"ticks\":7"), std::string::npos) << published;
  json ticks;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        ticks = json::parse(RunCli({"ticks", "--data", dir_.path(), "--json", "--symbols",
                                    "NIFTY26DECFUT,NIFTY26DEC26000CE"}),
                            nullptr, false);
        return ticks.is_array() && ticks.size() == 2;
      },
      20s))
      << ticks.dump();
  EXPECT_EQ(ticks[0]["symbol"], "NIFTY26DEC26000CE");
  EXPECT_EQ(ticks[0]["ltp"], "262.35");
  EXPECT_EQ(ticks[1]["symbol"], "NIFTY26DECFUT");
  EXPECT_EQ(ticks[1]["ltp"], "26068.20");  // the newest of its four ticks
}

}  // namespace
}  // namespace wojak
