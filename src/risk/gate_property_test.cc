// Property tests: seeded random orders and state events never crash the gate, decisions agree
// with their breaches, every breach has a message, and evaluation never allocates.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "risk/gate.h"
#include "risk/risk_testing.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<int64_t> allocations{0};
}  // namespace

// Counts heap allocations while `counting` is set (this test binary only).
void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace wojak {
namespace {

using namespace risk_testing;  // NOLINT

const std::vector<std::string> kSymbols = {"NIFTY26DECFUT",
                                           "NIFTY26DEC26000CE",
                                           "NIFTY26DEC26000PE",
                                           "NIFTY26DEC27000CE",
                                           "NIFTY26DEC25000CE",
                                           "TCS26DECFUT",
                                           "NIFTY27MARFUT",
                                           "NIFTY26D0126000CE",
                                           "SENSEX26DECFUT",
                                           "NIFTY26DEC28000CE",
                                           "UNKNOWN"};
const std::vector<std::string> kAccounts = {"ACC1", "ACC2", "ACC3"};
const std::vector<std::string> kStrategies = {"", "straddle", "hedger"};

class RandomWorld {
 public:
  explicit RandomWorld(uint64_t seed) : rng_(seed), table_(TestInstruments()), market_(table_) {
    now_ = TestNow();
    SetTestPrices(market_, now_);
    config_.strategy_defaults.max_orders_per_second = 50;
    config_.escalate_days_to_expiry_above = 60;
    config_.escalate_in_the_money_basis_points = 300;
    config_.local_strategies = {"", "straddle"};
    config_.account_defaults.max_open_orders = 40;
    config_.account_defaults.max_daily_loss = Paise::FromRupees(10'000'000).value();
    if (Chance(2)) config_.rule(RuleId::kPosition).action = Action::kEscalate;
    if (Chance(3)) config_.daily_loss_state = TradingState::kHalted;
    gate_ = std::make_unique<RiskGate>(config_);
  }

  bool Chance(int one_in) { return std::uniform_int_distribution<int>(0, one_in - 1)(rng_) == 0; }
  int64_t Between(int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Between(0, static_cast<int64_t>(items.size()) - 1))];
  }

  TestOrder RandomOrder() {
    const std::string& symbol = Pick(kSymbols);
    const Instrument* instrument = table_->FindBySymbol(symbol);
    Qty lot = instrument ? instrument->lot_size : 75;
    Qty quantity = Chance(10) ? Between(-100, 100) : lot * Between(1, 10);
    std::optional<Paise> price;
    if (!Chance(5)) {
      auto reference = instrument ? market_.Reference(instrument->instrument_token, now_)
                                  : std::optional<ReferencePrice>();
      int64_t base = reference ? reference->price.value() : 10'000;
      int64_t tick = instrument ? instrument->tick_size.value() : 5;
      // Mostly near the reference (inside every band), sometimes anywhere.
      int64_t spread = Chance(4) ? base / 2 : base / 100;
      int64_t offset = Between(-spread, spread);
      price = Paise::FromPaise(base + offset - (Chance(10) ? 1 : (base + offset) % tick));
    }
    TestOrder order(symbol, Chance(2) ? Side::kBuy : Side::kSell, quantity, price, Pick(kAccounts),
                    Pick(kStrategies));
    int type = static_cast<int>(Between(0, 3));
    order.request.order_type = static_cast<OrderType>(type);
    if (order.request.order_type == OrderType::kStopLoss ||
        order.request.order_type == OrderType::kStopLossMarket) {
      if (!Chance(8) && price) order.request.trigger_price = *price;
    }
    if (Chance(20)) order.request.exchange = "NSE";
    if (Chance(10) && !open_.empty()) order.replaces = Pick(open_);
    return order;
  }

  void RandomEvent() {
    int kind = static_cast<int>(Between(0, 9));
    if (kind == 0 && !open_.empty()) {
      OrderId id = Pick(open_);
      const OpenOrder* order = state_.FindOpenOrder(id);
      Qty quantity = Between(1, order->remaining);
      ASSERT_TRUE(state_.OnFill(id, quantity, order->price, now_).ok());
      if (state_.FindOpenOrder(id) == nullptr) Forget(id);
    } else if (kind == 1 && !open_.empty()) {
      OrderId id = Pick(open_);
      ASSERT_TRUE(state_.OnOrderClosed(id).ok());
      Forget(id);
    } else if (kind == 2 && Chance(5)) {
      state_.SetTradingState(static_cast<AdminScope>(Between(0, 2)),
                             Chance(2) ? Pick(kAccounts) : Pick(kStrategies),
                             static_cast<TradingState>(Between(0, 2)));
    } else if (kind == 3) {
      now_ += Between(0, 3 * kNanosPerSecond);
      SetTestPrices(market_, now_ - Between(0, 6 * kNanosPerSecond));
    } else if (kind == 4) {
      state_.SetTradingState(AdminScope::kGlobal, "", TradingState::kActive);
      for (const std::string& a : kAccounts) {
        state_.SetTradingState(AdminScope::kAccount, a, TradingState::kActive);
      }
      for (const std::string& s : kStrategies) {
        state_.SetTradingState(AdminScope::kStrategy, s, TradingState::kActive);
      }
    }
  }

  void Forget(OrderId id) { std::erase(open_, id); }

  std::mt19937_64 rng_;
  std::shared_ptr<const InstrumentTable> table_;
  InMemoryMarketView market_;
  RiskState state_;
  RiskConfig config_;
  std::unique_ptr<RiskGate> gate_;
  Nanos now_ = 0;
  OrderId next_id_ = 1;
  std::vector<OrderId> open_;
};

void CheckDecisionAgreesWithBreaches(const RiskResult& result) {
  bool reject = false;
  bool escalate = false;
  for (const Breach& b : result.breaches) {
    reject = reject || b.action == Action::kReject;
    escalate = escalate || b.action == Action::kEscalate;
  }
  switch (result.decision) {
    case DecisionKind::kRejected:
      EXPECT_TRUE(reject);
      break;
    case DecisionKind::kEscalated:
      EXPECT_TRUE(escalate);
      EXPECT_FALSE(reject);
      break;
    case DecisionKind::kAccepted:
      EXPECT_TRUE(result.breaches.empty());
      break;
    default:
      ADD_FAILURE() << "unexpected decision " << DecisionKindName(result.decision);
  }
}

TEST(GatePropertyTest, RandomOrdersKeepEveryInvariant) {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    RandomWorld world(seed);
    std::map<DecisionKind, int> seen;
    for (int i = 0; i < 5000; ++i) {
      world.RandomEvent();
      if (testing::Test::HasFatalFailure()) return;
      TestOrder order = world.RandomOrder();
      OrderView view = order.View(*world.table_);
      RiskResult result = world.gate_->Evaluate(view, world.state_, world.market_, world.now_);
      CheckDecisionAgreesWithBreaches(result);
      ++seen[result.decision];
      std::vector<Reason> reasons = BreachReasons(result, view);
      ASSERT_EQ(reasons.size(), result.breaches.size());
      for (const Reason& reason : reasons) {
        EXPECT_NE(reason.message, ReasonCodeName(reason.code)) << "no message for the code";
      }
      world.state_.OnOrderEvaluated(view.account, view.strategy, world.now_);
      if (result.account_state_request) {
        world.state_.SetTradingState(AdminScope::kAccount, view.account,
                                     *result.account_state_request);
      }
      if (result.decision != DecisionKind::kRejected && view.replaces == 0) {
        OrderId id = world.next_id_++;
        ASSERT_TRUE(world.state_.OnOrderOpened(id, view, *result.effective_price).ok());
        world.open_.push_back(id);
      }
      if (result.decision != DecisionKind::kRejected && view.replaces != 0) {
        ASSERT_TRUE(
            world.state_.OnOrderModified(view.replaces, view.quantity, *result.effective_price)
                .ok());
      }
    }
    // The random mix must exercise every outcome, or the invariants were checked vacuously.
    EXPECT_GT(seen[DecisionKind::kAccepted], 100) << "seed " << seed;
    EXPECT_GT(seen[DecisionKind::kRejected], 100) << "seed " << seed;
    EXPECT_GT(seen[DecisionKind::kEscalated], 10) << "seed " << seed;
  }
}

TEST(GatePropertyTest, EvaluateNeverAllocates) {
  RandomWorld world(7);
  std::vector<TestOrder> orders;
  for (int i = 0; i < 2000; ++i) orders.push_back(world.RandomOrder());
  for (int i = 0; i < 200; ++i) world.RandomEvent();
  std::vector<OrderView> views;
  for (const TestOrder& order : orders) views.push_back(order.View(*world.table_));
  RiskResult result;
  allocations = 0;
  counting = true;
  for (const OrderView& view : views) {
    world.gate_->Evaluate(view, world.state_, world.market_, world.now_, result);
  }
  counting = false;
  EXPECT_EQ(allocations.load(), 0);
  // The counter itself works.
  counting = true;
  auto* probe = new int(1);
  counting = false;
  delete probe;
  EXPECT_EQ(allocations.load(), 1);
}

}  // namespace
}  // namespace wojak
