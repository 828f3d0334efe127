// The REST API against an in-process engine, over real HTTP on 127.0.0.1: routing and errors,
// tokens, pagination, admin halt/resume through the sequencer, reload, verdicts, metrics and the
// readiness probe under a storage fault.
#include "api/api_server.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "api/api_client.h"
#include "common/env.h"
#include "engine/tick_store.h"
#include "journal/fault_vfs.h"
#include "support/process.h"
#include "wojak/client.h"

namespace wojak::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::TempDir;

constexpr char kAdminToken[] = "admin-token-1234";
constexpr char kRmsToken[] = "rms-token-1234";

// Limits off and the session open at any hour; strategy "local" is decided here, every other
// strategy is escalated (and stays open until a verdict). `risk:` comes last so tests can
// append keys to it.
constexpr char kConfig[] = R"(
session:
  enforce: false
executor:
  kind: sandbox
  sandbox:
    fill_ratio: 1.0
    latency_max: 1ms
risk:
  limits:
    max_orders_per_second: none
    max_open_orders: none
    max_daily_orders: none
    max_exposure: none
    max_order_value: none
    max_position_lots_per_instrument: none
    max_position_lots_per_underlying: none
    max_daily_loss: none
  accounts:
    BIG:
      max_open_orders: 7
  rules:
    escalate_strategy:
      local_strategies: [local]
)";

OrderRequest Order(const std::string& client_order_id, const std::string& account,
                   const std::string& strategy = "local") {
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

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterFaultVfs().ok());
    testing::WriteFile(dir_.File("wojak.yaml"), kConfig);
    // Copies, so reload tests can break and mend them.
    testing::WriteFile(dir_.File("instruments.csv"),
                       testing::ReadFile(testing::SourceDir() + "/tests/testdata/instruments.csv"));
    testing::WriteFile(
        dir_.File("freeze.csv"),
        testing::ReadFile(testing::SourceDir() + "/tests/testdata/freeze_limits.csv"));
    auto config = ConfigDocument::Parse(kConfig);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = std::move(config).value();
    EngineOptions options;
    options.data_dir = dir_.path();
    options.endpoint = "ipc://" + dir_.File("engine.sock");
    options.instruments_path = dir_.File("instruments.csv");
    options.freeze_path = dir_.File("freeze.csv");
    options.config_path = dir_.File("wojak.yaml");
    options.journal_vfs = kFaultVfsName;
    auto engine = Engine::Open(options, *config_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    engine_thread_ = std::thread([this] { (void)engine_->Run(stop_); });
    server_ = StartServer(BaseOptions());
    client_ = std::make_unique<ApiClient>("127.0.0.1", server_->port());
  }

  void TearDown() override {
    servers_.clear();
    server_.reset();
    stop_ = true;
    if (engine_thread_.joinable()) engine_thread_.join();
    StorageFaults::Global().Reset();
  }

  static ApiOptions BaseOptions() {
    ApiOptions options;
    options.listen = "127.0.0.1:0";
    options.admin_token = kAdminToken;
    options.rms_token = kRmsToken;
    options.max_body_bytes = 1024;
    return options;
  }

  std::unique_ptr<ApiServer> StartServer(const ApiOptions& options,
                                         const Clock& clock = RealClock::Instance()) {
    auto server = ApiServer::Start(options, *engine_, clock);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server).value() : nullptr;
  }

  Decision Submit(const OrderRequest& order) {
    if (!engine_client_) {
      ClientOptions options;
      options.endpoint = engine_->endpoint();
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

  // GET or POST, returning status and parsed body (null when the body is not JSON).
  std::pair<int, json> Call(const std::string& method, const std::string& target,
                            const std::string& body = "", const std::string& token = "") {
    auto reply = client_->Request(method, target, body, token);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return {0, json()};
    json parsed = json::parse(reply->body, nullptr, false);
    return {reply->status, parsed.is_discarded() ? json() : parsed};
  }

  std::string OrderStatus(const std::string& order_id) {
    auto [status, body] = Call("GET", "/v1/orders/" + order_id);
    EXPECT_EQ(status, 200);
    return body.value("status", "");
  }

  TempDir dir_;
  std::unique_ptr<ConfigDocument> config_;
  std::unique_ptr<Engine> engine_;
  std::atomic<bool> stop_{false};
  std::thread engine_thread_;
  std::unique_ptr<ApiServer> server_;
  std::vector<std::unique_ptr<ApiServer>> servers_;
  std::unique_ptr<ApiClient> client_;
  std::unique_ptr<EngineClient> engine_client_;
};

TEST_F(ApiServerTest, HealthzAnswersWhileTheProcessLives) {
  auto [status, body] = Call("GET", "/healthz");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["status"], "alive");
}

TEST_F(ApiServerTest, ReadyzIsOkOnceRecovered) {
  auto [status, body] = Call("GET", "/readyz");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["ready"], true);
  EXPECT_EQ(body["recovered"], true);
}

TEST_F(ApiServerTest, ReadyzTurns503AfterAStorageFault) {
  ASSERT_EQ(Submit(Order("before", "ACC1")).kind, DecisionKind::kAccepted);
  StorageFaults::Global().FailSyncs(FaultMode::kAlways);
  Decision during = Submit(Order("during", "ACC1"));
  EXPECT_EQ(during.kind, DecisionKind::kRetry);
  auto [status, body] = Call("GET", "/readyz");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["storage_failed"], true);
  EXPECT_EQ(body["ready"], false);
  EXPECT_EQ(Call("GET", "/healthz").first, 200);
}

TEST_F(ApiServerTest, UnknownPathIsNotFound) {
  auto [status, body] = Call("GET", "/v1/nothing");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"]["code"], "NOT_FOUND");
  EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
}

TEST_F(ApiServerTest, WrongMethodIsMethodNotAllowedWithAllow) {
  auto reply = client_->Request("POST", "/v1/orders", "{}");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->Header("Allow"), "GET");
  auto admin = client_->Request("GET", "/v1/admin/halt", "", kAdminToken);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->status, 405);
  EXPECT_EQ(admin->Header("Allow"), "POST");
}

TEST_F(ApiServerTest, BodyAboveTheLimitIsPayloadTooLarge) {
  auto [status, body] = Call("POST", "/v1/admin/halt", std::string(4096, ' ') + "{}", kAdminToken);
  EXPECT_EQ(status, 413);
  EXPECT_EQ(body["error"]["code"], "PAYLOAD_TOO_LARGE");
}

TEST_F(ApiServerTest, AdminWithoutTokenIsUnauthenticated) {
  auto reply = client_->Request("POST", "/v1/admin/halt", R"({"scope":"global"})");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 401);
  EXPECT_EQ(reply->Header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(engine_->trading_states().global, TradingState::kActive);
}

TEST_F(ApiServerTest, WrongTokenIsUnauthenticatedEvenForReads) {
  EXPECT_EQ(Call("GET", "/v1/state", "", "not-the-token").first, 401);
  EXPECT_EQ(Call("POST", "/v1/admin/halt", R"({"scope":"global"})", "not-the-token").first, 401);
}

TEST_F(ApiServerTest, RmsTokenMayNotHalt) {
  auto [status, body] = Call("POST", "/v1/admin/halt", R"({"scope":"global"})", kRmsToken);
  EXPECT_EQ(status, 403);
  EXPECT_EQ(body["error"]["code"], "FORBIDDEN");
  EXPECT_EQ(engine_->trading_states().global, TradingState::kActive);
}

TEST_F(ApiServerTest, AdminEndpointsAreForbiddenWithoutAnAdminToken) {
  ApiOptions options = BaseOptions();
  options.admin_token.reset();
  servers_.push_back(StartServer(options));
  ApiClient client("127.0.0.1", servers_.back()->port());
  auto reply = client.Post("/v1/admin/resume", R"({"scope":"global"})", kRmsToken);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 403);
}

TEST_F(ApiServerTest, ReadTokenGuardsReadsWhenConfigured) {
  ApiOptions options = BaseOptions();
  options.read_token = "read-token-1234";
  servers_.push_back(StartServer(options));
  ApiClient client("127.0.0.1", servers_.back()->port());
  EXPECT_EQ(client.Get("/v1/state")->status, 401);
  EXPECT_EQ(client.Get("/v1/state", "read-token-1234")->status, 200);
  EXPECT_EQ(client.Get("/v1/state", kAdminToken)->status, 200);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  EXPECT_EQ(client.Post("/v1/admin/halt", R"({"scope":"global"})", "read-token-1234")->status, 403);
}

TEST_F(ApiServerTest, MalformedQueriesAreBadRequests) {
  for (const char* target :
       {"/v1/orders?limit=abc", "/v1/orders?limit=0", "/v1/orders?limit=1001",
        "/v1/orders?since_seq=-1", "/v1/orders?colour=red", "/v1/orders?status=SLEEPING",
        "/v1/orders?account=%zz", "/v1/orders?account=a&account=b", "/v1/limits?x=1",
        "/v1/ticks?symbols=A,,B", "/v1/trades?limit="}) {
    auto [status, body] = Call("GET", target);
    EXPECT_EQ(status, 400) << target;
    EXPECT_EQ(body["error"]["code"], "BAD_REQUEST") << target;
  }
}

TEST_F(ApiServerTest, OrdersArePagedWithNextSinceSeq) {
  std::set<std::string> submitted;
  for (int i = 0; i < 5; ++i) {
    Decision d = Submit(Order("page-" + std::to_string(i), "PAGER"));
    ASSERT_EQ(d.kind, DecisionKind::kAccepted);
    submitted.insert(d.order_id);
  }
  std::set<std::string> seen;
  std::string target = "/v1/orders?account=PAGER&limit=2";
  std::vector<size_t> page_sizes;
  while (true) {
    auto [status, body] = Call("GET", target);
    ASSERT_EQ(status, 200) << body.dump();
    page_sizes.push_back(body["orders"].size());
    for (const json& order : body["orders"]) {
      EXPECT_EQ(order["account"], "PAGER");
      EXPECT_TRUE(seen.insert(order["order_id"].get<std::string>()).second);
    }
    if (body["next_since_seq"].is_null()) break;
    target = "/v1/orders?account=PAGER&limit=2&since_seq=" +
             std::to_string(body["next_since_seq"].get<uint64_t>());
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{2, 2, 1}));
  EXPECT_EQ(seen, submitted);
}

TEST_F(ApiServerTest, OrderByIdAndUnknownOrder) {
  Decision d = Submit(Order("one", "ACC1"));
  ASSERT_EQ(d.kind, DecisionKind::kAccepted);
  auto [status, body] = Call("GET", "/v1/orders/" + d.order_id);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["client_order_id"], "one");
  EXPECT_EQ(body["price"], "26065.00");
  EXPECT_EQ(body["decision"]["decision"], "ACCEPTED");
  EXPECT_EQ(Call("GET", "/v1/orders/W-999999999999").first, 404);
}

TEST_F(ApiServerTest, TradesAndPositionsFollowFills) {
  Decision d = Submit(Order("fill-me", "TRADER"));
  ASSERT_EQ(d.kind, DecisionKind::kAccepted);
  json trades;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        trades = Call("GET", "/v1/trades?account=TRADER").second;
        return trades["trades"].size() == 1;
      },
      10s));
  EXPECT_EQ(trades["trades"][0]["order_id"], d.order_id);
  EXPECT_EQ(trades["trades"][0]["quantity"], 75);
  auto [status, positions] = Call("GET", "/v1/positions?account=TRADER");
  EXPECT_EQ(status, 200);
  ASSERT_EQ(positions["positions"].size(), 1u);
  EXPECT_EQ(positions["positions"][0]["net_quantity"], 75);
}

TEST_F(ApiServerTest, TicksAreEmptyBeforeAnyArePersisted) {
  auto [status, body] = Call("GET", "/v1/ticks?symbols=NIFTY26DECFUT");
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(body["ticks"].is_array());
}

TEST_F(ApiServerTest, TicksShowThePersistedPricesOfTheAskedSymbols) {
  EXPECT_TRUE(Call("GET", "/v1/ticks").second["ticks"].empty());
  auto store = TickStore::OpenForWriting(TickStorePathForDataDir(dir_.path()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::vector<TickRow> rows = {{10240770, "NIFTY26DECFUT", 2606550, 11, 12},
                                     {10241026, "NIFTY27JANFUT", 2613000, 21, 22}};
  ASSERT_TRUE((*store)->Upsert(rows).ok());
  auto [status, body] = Call("GET", "/v1/ticks?symbols=NIFTY27JANFUT,NOSUCH");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(body["ticks"].size(), 1u);
  EXPECT_EQ(body["ticks"][0]["symbol"], "NIFTY27JANFUT");
  EXPECT_EQ(body["ticks"][0]["instrument_token"], 10241026);
  EXPECT_EQ(body["ticks"][0]["ltp"], "26130.00");
  EXPECT_EQ(body["ticks"][0]["received_ns"], 22);
  EXPECT_EQ(Call("GET", "/v1/ticks").second["ticks"].size(), 2u);
}

TEST_F(ApiServerTest, LimitsShowTheEffectiveConfiguration) {
  auto [status, body] = Call("GET", "/v1/limits");
  ASSERT_EQ(status, 200);
  EXPECT_TRUE(body["account_defaults"]["max_open_orders"].is_null());
  EXPECT_EQ(body["accounts"]["BIG"]["max_open_orders"], 7);
  EXPECT_EQ(body["rules"]["escalate_strategy"]["action"], "escalate");
  EXPECT_EQ(body["escalation"]["local_strategies"], json::array({"local"}));
  EXPECT_EQ(body["session"]["enforce"], false);
}

TEST_F(ApiServerTest, HaltAccountCancelsItsOpenOrdersAndBlocksNewOnes) {
  Decision open1 = Submit(Order("esc-1", "ACC1", "remote"));
  Decision open2 = Submit(Order("esc-2", "ACC2", "remote"));
  ASSERT_EQ(open1.kind, DecisionKind::kEscalated);
  ASSERT_EQ(open2.kind, DecisionKind::kEscalated);

  auto [status, body] =
      Call("POST", "/v1/admin/halt", R"({"scope":"account","target":"ACC1"})", kAdminToken);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["decision"]["decision"], "ACCEPTED");
  EXPECT_EQ(OrderStatus(open1.order_id), "CANCELLED");
  EXPECT_EQ(OrderStatus(open2.order_id), "ESCALATED");

  Decision blocked = Submit(Order("after-halt", "ACC1"));
  EXPECT_EQ(blocked.kind, DecisionKind::kRejected);
  ASSERT_FALSE(blocked.reasons.empty());
  EXPECT_EQ(blocked.reasons.front().code, ReasonCode::k_TRADING_HALTED);
  EXPECT_EQ(Submit(Order("other-account", "ACC2")).kind, DecisionKind::kAccepted);
  auto state = Call("GET", "/v1/state").second;
  EXPECT_EQ(state["trading"]["accounts"]["ACC1"], "HALTED");
  EXPECT_EQ(state["trading"]["global"], "ACTIVE");

  ASSERT_EQ(
      Call("POST", "/v1/admin/resume", R"({"scope":"account","target":"ACC1"})", kAdminToken).first,
      200);
  EXPECT_EQ(Submit(Order("after-resume", "ACC1")).kind, DecisionKind::kAccepted);
  EXPECT_TRUE(Call("GET", "/v1/state").second["trading"]["accounts"].empty());
}

TEST_F(ApiServerTest, GlobalHaltBlocksEveryAccount) {
  ASSERT_EQ(Call("POST", "/v1/admin/halt", R"({"scope":"global"})", kAdminToken).first, 200);
  EXPECT_EQ(Submit(Order("g-1", "ACC3")).kind, DecisionKind::kRejected);
  EXPECT_EQ(Call("GET", "/v1/state").second["trading"]["global"], "HALTED");
}

TEST_F(ApiServerTest, AdminBodiesAreValidated) {
  EXPECT_EQ(Call("POST", "/v1/admin/halt", "{not json", kAdminToken).first, 400);
  EXPECT_EQ(Call("POST", "/v1/admin/halt", "", kAdminToken).first, 400);
  for (const char* body :
       {R"([1,2])", R"({"scope":"planet"})", R"({"scope":"account"})",
        R"({"scope":"global","target":"ACC1"})", R"({"scope":"global","why":"x"})",
        R"({"scope":"strategy","target":7})"}) {
    auto [status, response] = Call("POST", "/v1/admin/halt", body, kAdminToken);
    EXPECT_EQ(status, 422) << body;
    EXPECT_EQ(response["error"]["code"], "UNPROCESSABLE") << body;
  }
  EXPECT_EQ(engine_->trading_states().global, TradingState::kActive);
  EXPECT_TRUE(engine_->trading_states().accounts.empty());
}

TEST_F(ApiServerTest, ReloadWithABadInstrumentsFileChangesNothing) {
  const std::string limits_before = Call("GET", "/v1/limits").second.dump();
  testing::WriteFile(
      dir_.File("instruments.csv"),
      testing::ReadFile(testing::SourceDir() + "/tests/testdata/bad_instruments.csv"));
  auto [status, body] = Call("POST", "/v1/admin/reload", "", kAdminToken);
  EXPECT_EQ(status, 422) << body.dump();
  EXPECT_NE(body["error"]["message"].get<std::string>().find("instruments"), std::string::npos);
  EXPECT_EQ(engine_->status().reloads, 0u);
  EXPECT_EQ(Call("GET", "/v1/limits").second.dump(), limits_before);
  EXPECT_EQ(Submit(Order("still-trading", "ACC1")).kind, DecisionKind::kAccepted);
}

TEST_F(ApiServerTest, ReloadWithABadLimitsFileChangesNothing) {
  const std::string limits_before = Call("GET", "/v1/limits").second.dump();
  // The instruments are fine this time, so only the configuration can be refused; a good
  // max_order_value next to a bad key must not be applied either.
  testing::WriteFile(dir_.File("wojak.yaml"), std::string(kConfig) + R"(
  strategy_limits:
    max_order_value: "1.00"
    max_daily_orderz: 5
)");
  auto [status, body] = Call("POST", "/v1/admin/reload", "", kAdminToken);
  EXPECT_EQ(status, 422) << body.dump();
  EXPECT_NE(body["error"]["message"].get<std::string>().find("max_daily_orderz"),
            std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/limits").second.dump(), limits_before);
  EXPECT_EQ(Submit(Order("not-limited", "ACC1")).kind, DecisionKind::kAccepted);
}

TEST_F(ApiServerTest, ReloadSwapsInNewLimits) {
  testing::WriteFile(dir_.File("wojak.yaml"), std::string(kConfig) + R"(
  strategy_limits:
    max_order_value: "1.00"
)");
  auto [status, body] = Call("POST", "/v1/admin/reload", "", kAdminToken);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["limits_reloaded"], true);
  EXPECT_GT(body["instruments"].get<int>(), 0);
  EXPECT_EQ(Call("GET", "/v1/limits").second["strategy_defaults"]["max_order_value"], "1.00");
  Decision d = Submit(Order("too-big-now", "ACC1"));
  EXPECT_EQ(d.kind, DecisionKind::kRejected);
  ASSERT_FALSE(d.reasons.empty());
  EXPECT_EQ(d.reasons.front().code, ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT);
  EXPECT_EQ(engine_->status().reloads, 1u);
}

TEST_F(ApiServerTest, ReloadRefusesFields) {
  EXPECT_EQ(Call("POST", "/v1/admin/reload", R"({"instruments":"/etc/passwd"})", kAdminToken).first,
            422);
}

TEST_F(ApiServerTest, VerdictApprovesAnEscalatedOrder) {
  Decision escalated = Submit(Order("rms-1", "ACC1", "remote"));
  ASSERT_EQ(escalated.kind, DecisionKind::kEscalated);
  auto [status, body] = Call("POST", "/v1/escalations/" + escalated.order_id + "/verdict",
                             R"({"approve":true})", kRmsToken);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["decision"], "ACCEPTED");
  EXPECT_EQ(body["order_id"], escalated.order_id);
  EXPECT_NE(OrderStatus(escalated.order_id), "ESCALATED");
  // Not waiting for a verdict any more.
  auto again = Call("POST", "/v1/escalations/" + escalated.order_id + "/verdict",
                    R"({"approve":false})", kRmsToken);
  EXPECT_EQ(again.first, 409);
  EXPECT_EQ(again.second["error"]["code"], "CONFLICT");
}

TEST_F(ApiServerTest, VerdictRejectsWithTheRmsReason) {
  Decision escalated = Submit(Order("rms-2", "ACC1", "remote"));
  ASSERT_EQ(escalated.kind, DecisionKind::kEscalated);
  auto [status, body] = Call("POST", "/v1/escalations/" + escalated.order_id + "/verdict",
                             R"({"approve":false,"reason":"too concentrated"})", kAdminToken);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["decision"], "REJECTED");
  EXPECT_EQ(body["reasons"][0]["code"], "RMS_REJECTED");
  EXPECT_EQ(body["reasons"][0]["message"], "too concentrated");
  EXPECT_EQ(OrderStatus(escalated.order_id), "REJECTED");
}

TEST_F(ApiServerTest, VerdictErrors) {
  EXPECT_EQ(Call("POST", "/v1/escalations/W-000000999999/verdict", R"({"approve":true})", kRmsToken)
                .first,
            404);
  EXPECT_EQ(Call("POST", "/v1/escalations/W-1/verdict", R"({"approve":"yes"})", kRmsToken).first,
            422);
  EXPECT_EQ(Call("POST", "/v1/escalations/W-1/verdict", R"({"approve":true})").first, 401);
}

TEST_F(ApiServerTest, MetricsHaveTheEngineFamiliesAfterOrders) {
  ASSERT_EQ(Submit(Order("m-1", "ACC1")).kind, DecisionKind::kAccepted);
  ASSERT_EQ(Submit(Order("m-2", "ACC1", "remote")).kind, DecisionKind::kEscalated);
  auto reply = client_->Get("/metrics");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 200);
  EXPECT_NE(reply->Header("Content-Type").find("text/plain"), std::string::npos);
  const std::string& text = reply->body;
  for (const char* expected :
       {"wojak_decisions_total{request=\"order\",decision=\"ACCEPTED\"} ",
        "wojak_decisions_total{request=\"order\",decision=\"ESCALATED\"} ",
        "wojak_order_reasons_total{code=\"ESCALATE_STRATEGY\"} ",
        "wojak_journal_commit_latency_us_bucket{le=", "wojak_journal_commit_latency_us_count ",
        "wojak_engine_batch_requests_bucket{le=", "wojak_engine_inbound_queue_depth ",
        "wojak_zmq_requests_received_total ", "wojak_zmq_malformed_frames_total ",
        "wojak_journal_last_seq ", "wojak_engine_ready 1", "process_resident_memory_bytes "}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected;
  }
  EXPECT_EQ(text.find("wojak_decisions_total{request=\"order\",decision=\"ACCEPTED\"} 0\n"),
            std::string::npos);
}

TEST_F(ApiServerTest, RateLimitAnswers429WithRetryAfter) {
  ManualClock clock(kNanosPerSecond);
  ApiOptions options = BaseOptions();
  options.rate_limit_per_second = 1;
  options.rate_limit_burst = 2;
  servers_.push_back(StartServer(options, clock));
  ApiClient client("127.0.0.1", servers_.back()->port());
  EXPECT_EQ(client.Get("/v1/state")->status, 200);
  EXPECT_EQ(client.Get("/v1/state")->status, 200);
  auto limited = client.Get("/v1/state");
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->Header("Retry-After"), "1");
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  clock.Advance(kNanosPerSecond);
  EXPECT_EQ(client.Get("/v1/state")->status, 200);
}

TEST_F(ApiServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(client_->Get("/v1/state")->status, 200);
  EXPECT_EQ(client_->connections_opened(), 1);
}

TEST_F(ApiServerTest, StateShowsTheEngineStatus) {
  ASSERT_EQ(Submit(Order("s-1", "ACC1")).kind, DecisionKind::kAccepted);
  auto [status, body] = Call("GET", "/v1/state");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["engine"]["ready"], true);
  EXPECT_EQ(body["engine"]["storage_failed"], false);
  EXPECT_GE(body["engine"]["last_seq"].get<uint64_t>(), 1u);
  EXPECT_EQ(body["trading"]["global"], "ACTIVE");
}

}  // namespace
}  // namespace wojak::api
