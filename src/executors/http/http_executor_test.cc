// HTTP executor: answers become reports (malformed ones fail with a reason), retries on 5xx and
// timeouts under one idempotency key, bounded concurrency, against a fake Lambda on 127.0.0.1.
#include "executors/http/http_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "executors/http/fake_http_server.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpReply;
using testing::FakeHttpRequest;
using testing::FakeHttpServer;

ExecutionOrder Order(int n, Qty quantity = 75) {
  ExecutionOrder o;
  o.order_id = FormatOrderId(n);
  o.order.client_order_id = "c-" + std::to_string(n);
  o.order.account = "ACC1";
  o.order.strategy = "s1";
  o.order.exchange = "NFO";
  o.order.symbol = "NIFTY26DECFUT";
  o.order.side = Side::kSell;
  o.order.quantity = quantity;
  o.order.order_type = OrderType::kLimit;
  o.order.price = Paise::FromPaise(2606550);
  o.price = Paise::FromPaise(2606550);
  return o;
}

TEST(HttpExecutorResponseTest, FilledWithDecimalStringPrice) {
  ExecutionReport r = InterpretHttpExecutorResponse(
      Order(1), 200, R"({"status":"FILLED","fill_price":"26065.50"})");
  EXPECT_EQ(r.status, ExecutionStatus::kFilled);
  EXPECT_EQ(r.order_id, "W-000000000001");
  EXPECT_EQ(r.filled_quantity, 75);
  EXPECT_EQ(r.fill_price, Paise::FromPaise(2606550));
  EXPECT_EQ(r.executor, "http");
}

TEST(HttpExecutorResponseTest, FilledWithJsonNumberPriceHasNoRoundingError) {
  ExecutionReport r =
      InterpretHttpExecutorResponse(Order(1), 200, R"({"status":"FILLED","fill_price":120.15})");
  EXPECT_EQ(r.status, ExecutionStatus::kFilled);
  EXPECT_EQ(r.fill_price, Paise::FromPaise(12015));
}

TEST(HttpExecutorResponseTest, PartialFillNeedsAndUsesFilledQuantity) {
  ExecutionReport r = InterpretHttpExecutorResponse(
      Order(1, 150), 200, R"({"status":"PARTIALLY_FILLED","fill_price":"1","filled_quantity":75})");
  EXPECT_EQ(r.status, ExecutionStatus::kPartiallyFilled);
  EXPECT_EQ(r.filled_quantity, 75);
  ExecutionReport missing = InterpretHttpExecutorResponse(
      Order(1, 150), 200, R"({"status":"PARTIALLY_FILLED","fill_price":"1"})");
  EXPECT_EQ(missing.status, ExecutionStatus::kFailed);
  EXPECT_NE(missing.reason.find("filled_quantity"), std::string::npos) << missing.reason;
}

TEST(HttpExecutorResponseTest, FailedCarriesTheExecutorsReason) {
  ExecutionReport r = InterpretHttpExecutorResponse(
      Order(1), 200, R"({"status":"FAILED","reason":"exchange closed"})");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_NE(r.reason.find("exchange closed"), std::string::npos) << r.reason;
}

TEST(HttpExecutorResponseTest, MalformedAnswersFailWithAReason) {
  const std::map<std::string, std::string> cases = {
      {"not json at all", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {"{}", "status"},
      {R"({"status":7})", "status"},
      {R"({"status":"DONE"})", "unknown status"},
      {R"({"status":"FILLED"})", "without fill_price"},
      {R"({"status":"FILLED","fill_price":"12.345"})", "bad fill_price"},
      {R"({"status":"FILLED","fill_price":"-5"})", "bad fill_price"},
      {R"({"status":"FILLED","fill_price":true})", "bad fill_price"},
      {R"({"status":"FILLED","fill_price":"5","filled_quantity":76})", "filled_quantity"},
      {R"({"status":"FILLED","fill_price":"5","filled_quantity":1.5})", "filled_quantity"},
      {std::string("\x01\xff{", 3), "not a JSON object"}};
  for (const auto& [body, expected] : cases) {
    ExecutionReport r = InterpretHttpExecutorResponse(Order(1), 200, body);
    EXPECT_EQ(r.status, ExecutionStatus::kFailed) << body;
    EXPECT_NE(r.reason.find(expected), std::string::npos) << body << " -> " << r.reason;
  }
}

TEST(HttpExecutorResponseTest, ClientErrorStatusFailsQuotingTheBody) {
  ExecutionReport r = InterpretHttpExecutorResponse(Order(1), 403, "forbidden here");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_NE(r.reason.find("HTTP 403"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("forbidden here"), std::string::npos) << r.reason;
}

TEST(HttpExecutorRequestTest, BodyCarriesOrderIdOrderAndPrice) {
  auto body = nlohmann::json::parse(HttpExecutorRequestBody(Order(7)));
  EXPECT_EQ(body["order_id"], "W-000000000007");
  EXPECT_EQ(body["price"], "26065.50");
  EXPECT_EQ(body["order"]["symbol"], "NIFTY26DECFUT");
  EXPECT_EQ(body["order"]["side"], "SELL");
  EXPECT_EQ(body["order"]["quantity"], 75);
  EXPECT_EQ(body["order"]["account"], "ACC1");
}

// Collects the reports an executor delivers.
class Reports {
 public:
  ExecutionSink Sink() {
    return [this](ExecutionReport&& report) {
      std::lock_guard lock(mutex_);
      reports_.push_back(std::move(report));
      return true;
    };
  }
  // Waits (bounded) until `count` reports arrived, then returns them all.
  std::vector<ExecutionReport> WaitFor(size_t count) {
    for (int i = 0; i < 3000; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (reports_.size() >= count) return reports_;
      }
      std::this_thread::sleep_for(5ms);
    }
    std::lock_guard lock(mutex_);
    return reports_;
  }

 private:
  std::mutex mutex_;
  std::vector<ExecutionReport> reports_;
};

HttpExecutorOptions FastOptions(const std::string& url) {
  HttpExecutorOptions o;
  o.url = url;
  o.timeout = 300ms;
  o.concurrency = 2;
  o.retries = 2;
  o.backoff_initial = 5ms;
  o.backoff_max = 20ms;
  return o;
}

std::unique_ptr<HttpExecutor> MakeExecutor(const HttpExecutorOptions& options) {
  return std::make_unique<HttpExecutor>(options, *ParseHttpUrl(options.url));
}

TEST(HttpExecutorTest, FillsEveryOrderWithItsIdAsIdempotencyKey) {
  FakeHttpServer lambda([](const FakeHttpRequest& request) {
    auto body = nlohmann::json::parse(request.body);
    return FakeHttpReply{
        200, R"({"status":"FILLED","fill_price":")" + body["price"].get<std::string>() + "\"}"};
  });
  Reports reports;
  auto executor = MakeExecutor(FastOptions(lambda.Url("/exec")));
  ASSERT_TRUE(executor->Start(reports.Sink()).ok());
  for (int i = 1; i <= 20; ++i) executor->Submit(Order(i));
  auto got = reports.WaitFor(20);
  executor->Stop();
  ASSERT_EQ(got.size(), 20u);
  for (const ExecutionReport& r : got) {
    EXPECT_EQ(r.status, ExecutionStatus::kFilled) << r.reason;
    EXPECT_EQ(r.fill_price, Paise::FromPaise(2606550));
  }
  for (const FakeHttpRequest& request : lambda.requests()) {
    auto body = nlohmann::json::parse(request.body);
    EXPECT_EQ(request.Header("idempotency-key"), body["order_id"].get<std::string>());
    EXPECT_EQ(request.target, "/exec");
  }
}

TEST(HttpExecutorTest, ServerErrorsAreRetriedUnderTheSameKeyUntilAnAnswer) {
  std::atomic<int> calls{0};
  FakeHttpServer lambda([&](const FakeHttpRequest&) {
    if (calls.fetch_add(1) < 2) return FakeHttpReply{500, "boom"};
    return FakeHttpReply{200, R"({"status":"FILLED","fill_price":"10"})"};
  });
  Reports reports;
  auto executor = MakeExecutor(FastOptions(lambda.Url()));
  ASSERT_TRUE(executor->Start(reports.Sink()).ok());
  executor->Submit(Order(3));
  auto got = reports.WaitFor(1);
  executor->Stop();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, ExecutionStatus::kFilled) << got[0].reason;
  auto requests = lambda.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const FakeHttpRequest& r : requests)
    EXPECT_EQ(r.Header("idempotency-key"), "W-000000000003");
}

TEST(HttpExecutorTest, PersistentTimeoutsFailTheOrderAfterTheRetries) {
  FakeHttpServer lambda([](const FakeHttpRequest&) {
    FakeHttpReply reply;
    reply.delay = 10s;
    return reply;
  });
  Reports reports;
  HttpExecutorOptions options = FastOptions(lambda.Url());
  options.timeout = 100ms;
  auto executor = MakeExecutor(options);
  ASSERT_TRUE(executor->Start(reports.Sink()).ok());
  executor->Submit(Order(4));
  auto got = reports.WaitFor(1);
  executor->Stop();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, ExecutionStatus::kFailed);
  EXPECT_NE(got[0].reason.find("outcome unknown"), std::string::npos) << got[0].reason;
  EXPECT_EQ(lambda.request_count(), 3u);  // first attempt + 2 retries
}

TEST(HttpExecutorTest, GarbageBodiesAndFailedAnswersBecomeFailedReports) {
  FakeHttpServer lambda([](const FakeHttpRequest& request) {
    if (request.Header("idempotency-key") == "W-000000000001") {
      return FakeHttpReply{200, "<html>gateway</html>"};
    }
    return FakeHttpReply{200, R"({"status":"FAILED","reason":"margin shortfall"})"};
  });
  Reports reports;
  auto executor = MakeExecutor(FastOptions(lambda.Url()));
  ASSERT_TRUE(executor->Start(reports.Sink()).ok());
  executor->Submit(Order(1));
  executor->Submit(Order(2));
  auto got = reports.WaitFor(2);
  executor->Stop();
  ASSERT_EQ(got.size(), 2u);
  for (const ExecutionReport& r : got) {
    EXPECT_EQ(r.status, ExecutionStatus::kFailed);
    const char* expected = r.order_id == "W-000000000001" ? "malformed" : "margin shortfall";
    EXPECT_NE(r.reason.find(expected), std::string::npos) << r.reason;
  }
  EXPECT_EQ(lambda.request_count(), 2u);  // answers, even bad ones, are not retried
}

TEST(HttpExecutorTest, NeverHasMoreOrdersInFlightThanItsConcurrency) {
  std::atomic<int> in_flight{0};
  std::atomic<int> most{0};
  FakeHttpServer lambda([&](const FakeHttpRequest&) {
    int now = in_flight.fetch_add(1) + 1;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(20ms);
    in_flight.fetch_sub(1);
    return FakeHttpReply{200, R"({"status":"FILLED","fill_price":"1"})"};
  });
  Reports reports;
  HttpExecutorOptions options = FastOptions(lambda.Url());
  options.concurrency = 3;
  options.timeout = 2s;
  auto executor = MakeExecutor(options);
  ASSERT_TRUE(executor->Start(reports.Sink()).ok());
  for (int i = 1; i <= 12; ++i) executor->Submit(Order(i));
  auto got = reports.WaitFor(12);
  executor->Stop();
  EXPECT_EQ(got.size(), 12u);
  EXPECT_EQ(most.load(), 3);
}

TEST(HttpExecutorTest, ConfigWithoutUrlIsAnError) {
  auto config = ConfigDocument::Parse("executor:\n  http:\n    timeout: 1s\n");
  ASSERT_TRUE(config.ok());
  auto executor =
      HttpExecutor::Create((*config)->Root().Section("executor", "").Section("http", ""));
  EXPECT_FALSE(executor.ok());
  EXPECT_FALSE((*config)->errors().empty());
}

TEST(HttpExecutorTest, RegistersAsHttp) {
  auto names = ExecutorRegistry::Instance().Names();
  EXPECT_NE(std::find(names.begin(), names.end(), "http"), names.end());
}

}  // namespace
}  // namespace wojak
