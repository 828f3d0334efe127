// The engine as a real process: orders over ZeroMQ, graceful drain on SIGTERM, and kill -9 in the
// middle of a stream — nothing acknowledged is lost, nothing is decided or executed twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "model/order_json.h"
#include "support/process.h"
#include "wojak/client.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;

// Limits off and the session open at any hour, so only the order's own content decides.
const std::string kConfig = std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(executor:
  kind: sandbox
  sandbox:
    fill_ratio: 0.8
    latency_max: 1ms
)";

class EngineProcess {
 public:
  explicit EngineProcess(const TempDir& dir)
      : dir_(dir), fixture_(testing::GenerateInstruments(dir.path())) {
    testing::WriteFile(dir.File("wojak.yaml"), kConfig);
  }
  const testing::InstrumentFixture& fixture() const { return fixture_; }
  std::string endpoint() const { return "ipc://" + dir_.File("engine.sock"); }
  void Start() {
    process_ =
        ChildProcess::Start({testing::WojakBinary(), "engine", "--config", dir_.File("wojak.yaml"),
                             "--data", dir_.path(), "--endpoint", endpoint(), "--instruments",
                             fixture_.instruments_path, "--freeze", fixture_.freeze_path},
                            dir_.File("engine.log"));
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          return testing::ReadFile(dir_.File("engine.log")).find("engine_ready") !=
                     std::string::npos ||
                 !process_.running();
        },
        20s));
    ASSERT_TRUE(process_.running()) << testing::ReadFile(dir_.File("engine.log"));
  }
  ChildProcess& process() { return process_; }

 private:
  const TempDir& dir_;
  testing::InstrumentFixture fixture_;
  ChildProcess process_;
};

OrderRequest Order(const testing::InstrumentFixture& fixture, int n, Qty quantity = 75) {
  OrderRequest o;
  o.client_order_id = "t-" + std::to_string(n);
  o.account = "ACC" + std::to_string(n % 7);
  o.strategy = "s";
  o.exchange = "NFO";
  o.symbol = fixture.future_symbol;
  o.side = n % 2 == 0 ? Side::kBuy : Side::kSell;
  o.quantity = quantity;
  o.order_type = OrderType::kLimit;
  o.price = *Paise::Parse(fixture.future_price);
  return o;
}

// Sends every request, collecting one reply per request id; stops early after `stop_after`
// replies when given. Returns replies by the index of the request.
std::map<size_t, Decision> SendAll(const std::string& endpoint,
                                   const std::vector<OrderRequest>& orders,
                                   size_t stop_after = SIZE_MAX,
                                   std::chrono::seconds timeout = 30s) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.max_in_flight = 64;
  options.connect_timeout = 5s;
  auto client = EngineClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  std::map<size_t, Decision> decided;
  std::map<uint64_t, size_t> index_of;
  size_t next = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (decided.size() < orders.size() && decided.size() < stop_after &&
         std::chrono::steady_clock::now() < deadline) {
    while (next < orders.size()) {
      auto id = (*client)->Send(orders[next]);
      if (!id.ok()) break;
      index_of[*id] = next++;
    }
    auto replies = (*client)->Poll(20ms);
    if (!replies.ok()) break;
    for (Reply& r : *replies) {
      auto it = index_of.find(r.request_id);
      if (it == index_of.end() || r.decision.kind == DecisionKind::kRetry) {
        if (it != index_of.end()) {  // not decided: send again
          auto again = (*client)->Send(orders[it->second]);
          if (again.ok()) index_of[*again] = it->second;
          index_of.erase(it);
        }
        continue;
      }
      EXPECT_TRUE(decided.emplace(it->second, r.decision).second) << "two replies for one request";
      index_of.erase(it);
    }
  }
  return decided;
}

TEST(EngineProcessTest, DecidesOrdersAndAnswersDuplicatesWithTheOriginalAcrossARestart) {
  TempDir dir;
  EngineProcess engine(dir);
  engine.Start();
  std::vector<OrderRequest> orders = {Order(engine.fixture(), 1), Order(engine.fixture(), 2, 70)};
  auto first = SendAll(engine.endpoint(), orders);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].kind, DecisionKind::kAccepted) << DecisionToJson(first[0]);
  EXPECT_EQ(first[1].kind, DecisionKind::kRejected);
  ASSERT_FALSE(first[1].reasons.empty());
  EXPECT_EQ(first[1].reasons[0].code, ReasonCode::k_QTY_NOT_LOT_MULTIPLE);
  EXPECT_FALSE(first[0].order_id.empty());

  engine.process().Signal(SIGTERM);
  EXPECT_EQ(engine.process().Wait(5s), 0) << "SIGTERM must drain and exit 0 within 5 s";

  engine.Start();
  auto again = SendAll(engine.endpoint(), orders);
  ASSERT_EQ(again.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again[i].kind, DecisionKind::kDuplicate);
    EXPECT_EQ(again[i].original_kind, first[i].kind);
    EXPECT_EQ(again[i].order_id, first[i].order_id);
    EXPECT_EQ(again[i].seq, first[i].seq);
    EXPECT_EQ(again[i].original_reasons, first[i].reasons);
  }
}

class EngineKillTest : public ::testing::TestWithParam<int> {};

TEST_P(EngineKillTest, KillNineLosesNothingAcknowledgedAndDecidesEachOrderOnce) {
  const int seed = GetParam();
  std::mt19937 random(seed);
  TempDir dir;
  EngineProcess engine(dir);
  engine.Start();
  constexpr int kOrders = 1500;
  std::vector<OrderRequest> orders;
  for (int i = 0; i < kOrders; ++i)
    orders.push_back(Order(engine.fixture(), i, i % 10 == 0 ? 70 : 75));
  const size_t kill_after = 100 + random() % 1000;
  // Stop reading after a seeded number of replies and kill -9 at once: up to a window of
  // requests is still in the engine, some decided and committed, some not.
  std::map<size_t, Decision> acknowledged = SendAll(engine.endpoint(), orders, kill_after);
  engine.process().Kill();
  ASSERT_GE(acknowledged.size(), kill_after);

  engine.Start();
  auto after = SendAll(engine.endpoint(), orders);
  ASSERT_EQ(after.size(), orders.size()) << "every order gets a decision after the restart";
  std::set<std::string> order_ids;
  for (auto& [index, decision] : after) {
    auto before = acknowledged.find(index);
    if (before != acknowledged.end()) {
      // Acknowledged before the crash: the restarted engine knows it, unchanged.
      ASSERT_EQ(decision.kind, DecisionKind::kDuplicate) << "order " << index;
      EXPECT_EQ(decision.original_kind, before->second.kind);
      EXPECT_EQ(decision.order_id, before->second.order_id);
      EXPECT_EQ(decision.original_reasons, before->second.reasons);
    }
    ASSERT_FALSE(decision.order_id.empty()) << DecisionToJson(decision);
    EXPECT_TRUE(order_ids.insert(decision.order_id).second ||
                decision.kind == DecisionKind::kDuplicate);
  }
  engine.process().Signal(SIGTERM);
  ASSERT_EQ(engine.process().Wait(5s), 0);

  // One order per client order id, one trade at most per order, and an intact hash chain.
  ChildProcess verify = ChildProcess::Start(
      {testing::WojakBinary(), "verify", "--data", dir.path()}, dir.File("verify.log"));
  EXPECT_EQ(verify.Wait(30s), 0) << testing::ReadFile(dir.File("verify.log"));
  ChildProcess list = ChildProcess::Start(
      {testing::WojakBinary(), "orders", "--data", dir.path(), "--json", "--limit", "10000"},
      dir.File("orders.json"));
  ASSERT_EQ(list.Wait(30s), 0);
  auto rows = nlohmann::json::parse(testing::ReadFile(dir.File("orders.json")));
  EXPECT_EQ(rows.size(), static_cast<size_t>(kOrders));
  std::set<std::string> client_ids;
  for (auto& row : rows)
    client_ids.insert(row["account"].get<std::string>() + "/" +
                      row["client_order_id"].get<std::string>());
  EXPECT_EQ(client_ids.size(), static_cast<size_t>(kOrders));
  ChildProcess trades = ChildProcess::Start(
      {testing::WojakBinary(), "trades", "--data", dir.path(), "--json", "--limit", "10000"},
      dir.File("trades.json"));
  ASSERT_EQ(trades.Wait(30s), 0);
  std::map<std::string, int> fills;
  for (auto& t : nlohmann::json::parse(testing::ReadFile(dir.File("trades.json")))) {
    ++fills[t["order_id"].get<std::string>()];
  }
  for (auto& [order_id, count] : fills) EXPECT_EQ(count, 1) << order_id << " executed twice";
}

INSTANTIATE_TEST_SUITE_P(Seeds, EngineKillTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace wojak
