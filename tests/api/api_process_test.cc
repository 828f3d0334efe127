// The REST API and its CLI equivalents against a real `wojak engine` process: halting over HTTP
// cancels open orders, blocks new ones and survives a restart (it is journaled); `wojak
// halt|resume|state|limits|ticks` work from the command line; probes and /metrics are served.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "api/api_client.h"
#include "support/process.h"
#include "wojak/client.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ChildProcess;
using testing::TempDir;

constexpr char kAdminToken[] = "process-admin-token";

// Limits off, the session open at any hour, and executions that take ten minutes, so accepted
// orders stay open (SENT) for the whole test.
const std::string kConfig = std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(executor:
  kind: sandbox
  sandbox:
    latency_min: 10m
    latency_max: 10m
)";

OrderRequest Order(const std::string& client_order_id, const std::string& account,
                   const std::string& strategy = "s1") {
  OrderRequest o;
  o.client_order_id = client_order_id;
  o.account = account;
  o.strategy = strategy;
  o.exchange = "NFO";
  o.symbol = "NIFTY26DECFUT";
  o.side = Side::kBuy;
  o.quantity = 75;
  o.order_type = OrderType::kLimit;
  o.price = Paise::FromRupees(26065);
  return o;
}

class ApiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::FreeLoopbackPort();
    // The tick feed and the outbox relay run too, so their metrics are served; nothing listens
    // at the webhook, so outbox rows simply wait.
    testing::WriteFile(
        dir_.File("wojak.yaml"),
        std::string(kConfig) + "ticks:\n  enabled: true\noutbox:\n  enabled: true\n" +
            "  url: http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()) + "/hook\n");
  }

  std::string endpoint() const { return "ipc://" + dir_.File("engine.sock"); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void StartEngine() {
    const std::string log = dir_.File("engine-" + std::to_string(++starts_) + ".log");
    engine_ =
        ChildProcess::Start({testing::WojakBinary(), "engine", "--config", dir_.File("wojak.yaml"),
                             "--data", dir_.path(), "--endpoint", endpoint(), "--instruments",
                             testing::SourceDir() + "/tests/testdata/instruments.csv", "--freeze",
                             testing::SourceDir() + "/tests/testdata/freeze_limits.csv", "--api",
                             "127.0.0.1:" + std::to_string(port_)},
                            log,
                            {std::string("WOJAK_API_ADMIN_TOKEN=") + kAdminToken,
                             "WOJAK_OUTBOX_SECRET=outbox-signing-secret"});
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          return testing::ReadFile(log).find("api_listening") != std::string::npos ||
                 !engine_.running();
        },
        20s));
    ASSERT_TRUE(engine_.running()) << testing::ReadFile(log);
    client_ = std::make_unique<api::ApiClient>("127.0.0.1", port_);
    engine_client_.reset();
  }

  void StopEngine() {
    engine_.Signal(SIGTERM);
    EXPECT_EQ(engine_.Wait(20s), 0);
  }

  Decision Submit(const OrderRequest& order) {
    if (!engine_client_) {
      ClientOptions options;
      options.endpoint = endpoint();
      options.connect_timeout = 5s;
      auto client = EngineClient::Connect(options);
      EXPECT_TRUE(client.ok()) << client.status().ToString();
      engine_client_ = std::move(client).value();
    }
    auto id = engine_client_->Send(order);
    EXPECT_TRUE(id.ok());
    for (int i = 0; i < 500; ++i) {
      auto replies = engine_client_->Poll(20ms);
      if (!replies.ok()) break;
      for (Reply& reply : *replies) {
        if (reply.request_id == *id) return reply.decision;
      }
    }
    ADD_FAILURE() << "no reply for " << order.client_order_id;
    return {};
  }

  json Get(const std::string& target) {
    auto reply = client_->Get(target);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return json();
    EXPECT_EQ(reply->status, 200) << target << ": " << reply->body;
    return json::parse(reply->body, nullptr, false);
  }

  // Runs `wojak ARGS...`; returns the exit code and what it printed.
  std::pair<int, std::string> RunCli(std::vector<std::string> args) {
    args.insert(args.begin(), testing::WojakBinary());
    const std::string log = dir_.File("cli-" + std::to_string(++cli_runs_) + ".log");
    ChildProcess cli = ChildProcess::Start(args, log);
    const int code = cli.Wait(30s);
    return {code, testing::ReadFile(log)};
  }

  TempDir dir_;
  int port_ = 0;
  int starts_ = 0;
  int cli_runs_ = 0;
  ChildProcess engine_;
  std::unique_ptr<api::ApiClient> client_;
  std::unique_ptr<EngineClient> engine_client_;
};

TEST_F(ApiProcessTest, HaltOverRestCancelsOpenOrdersBlocksNewOnesAndSurvivesRestart) {
  StartEngine();
  std::vector<std::string> acc1_orders;
  for (int i = 0; i < 3; ++i) {
    Decision d = Submit(Order("a1-" + std::to_string(i), "ACC1"));
    ASSERT_EQ(d.kind, DecisionKind::kAccepted);
    acc1_orders.push_back(d.order_id);
  }
  Decision acc2 = Submit(Order("a2-0", "ACC2"));
  ASSERT_EQ(acc2.kind, DecisionKind::kAccepted);
  ASSERT_EQ(Get("/v1/orders?account=ACC1&status=SENT")["orders"].size(), 3u);

  auto halted =
      client_->Post("/v1/admin/halt", R"({"scope":"account","target":"ACC1"})", kAdminToken);
  ASSERT_TRUE(halted.ok());
  ASSERT_EQ(halted->status, 200) << halted->body;

  json acc1 = Get("/v1/orders?account=ACC1");
  ASSERT_EQ(acc1["orders"].size(), 3u);
  for (const json& order : acc1["orders"]) EXPECT_EQ(order["status"], "CANCELLED");
  EXPECT_EQ(Get("/v1/orders/" + acc2.order_id)["status"], "SENT");
  Decision blocked = Submit(Order("a1-after", "ACC1"));
  EXPECT_EQ(blocked.kind, DecisionKind::kRejected);
  ASSERT_FALSE(blocked.reasons.empty());
  EXPECT_EQ(blocked.reasons.front().code, ReasonCode::k_TRADING_HALTED);

  // The halt is a journal entry: a restarted engine replays it.
  StopEngine();
  StartEngine();
  EXPECT_EQ(Get("/v1/state")["trading"]["accounts"]["ACC1"], "HALTED");
  EXPECT_EQ(Submit(Order("a1-after-restart", "ACC1")).kind, DecisionKind::kRejected);
  StopEngine();
}

TEST_F(ApiProcessTest, CliHaltsAndResumesAStrategyAndReadsStateAndLimits) {
  StartEngine();
  auto [halt_code, halt_out] = RunCli({"halt", "--strategy", "momo", "--endpoint", endpoint()});
  EXPECT_EQ(halt_code, 0) << halt_out;
  EXPECT_NE(halt_out.find("\"ACCEPTED\""), std::string::npos) << halt_out;

  auto [state_code, state_out] = RunCli({"state", "--url", url(), "--json"});
  ASSERT_EQ(state_code, 0) << state_out;
  json state = json::parse(state_out, nullptr, false);
  ASSERT_FALSE(state.is_discarded()) << state_out;
  EXPECT_EQ(state["trading"]["strategies"]["momo"], "HALTED");
  EXPECT_EQ(Submit(Order("momo-1", "ACC1", "momo")).kind, DecisionKind::kRejected);

  auto [resume_code, resume_out] =
      RunCli({"resume", "--strategy", "momo", "--endpoint", endpoint()});
  EXPECT_EQ(resume_code, 0) << resume_out;
  EXPECT_TRUE(Get("/v1/state")["trading"]["strategies"].empty());
  EXPECT_EQ(Submit(Order("momo-2", "ACC1", "momo")).kind, DecisionKind::kAccepted);

  auto [limits_code, limits_out] = RunCli({"limits", "--url", url(), "--json"});
  ASSERT_EQ(limits_code, 0) << limits_out;
  json limits = json::parse(limits_out, nullptr, false);
  ASSERT_FALSE(limits.is_discarded()) << limits_out;
  EXPECT_TRUE(limits["account_defaults"]["max_open_orders"].is_null());
  EXPECT_EQ(limits["session"]["enforce"], false);
  StopEngine();
}

TEST_F(ApiProcessTest, CliRefusesAmbiguousScope) {
  auto [code, out] = RunCli({"halt", "--account", "A", "--strategy", "S"});
  EXPECT_EQ(code, 2) << out;
}

TEST_F(ApiProcessTest, ProbesMetricsAndTicksAreServed) {
  StartEngine();
  ASSERT_EQ(Submit(Order("m-1", "ACC1")).kind, DecisionKind::kAccepted);
  auto ready = client_->Get("/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("wojak_decisions_total{request=\"order\",decision=\"ACCEPTED\"} 1"),
            std::string::npos)
      << metrics->body;
  for (const char* family :
       {"process_resident_memory_bytes ", "wojak_journal_commit_latency_us_count ",
        "wojak_outbox_backlog ", "wojak_tick_age_seconds "}) {
    EXPECT_NE(metrics->body.find(family), std::string::npos) << family;
  }
  EXPECT_TRUE(Get("/v1/ticks")["ticks"].is_array());

  auto [code, out] = RunCli({"ticks", "--data", dir_.path(), "--json"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(json::parse(out, nullptr, false).is_array()) << out;
  StopEngine();
}

TEST_F(ApiProcessTest, AdminTokenComesFromTheEnvironment) {
  StartEngine();
  auto wrong = client_->Post("/v1/admin/halt", R"({"scope":"global"})", "guess");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 401);
  auto right = client_->Post("/v1/admin/halt", R"({"scope":"global"})", kAdminToken);
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(right->status, 200) << right->body;
  EXPECT_EQ(Get("/v1/state")["trading"]["global"], "HALTED");
  StopEngine();
}

}  // namespace
}  // namespace wojak
