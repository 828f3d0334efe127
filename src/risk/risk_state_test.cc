// Tests for the risk state: open-order aggregates, fills into positions and P&L, counters,
// trading states, and replay equality.
#include "risk/risk_state.h"

#include <gtest/gtest.h>

#include "risk/risk_testing.h"

namespace wojak {
namespace {

using namespace risk_testing;  // NOLINT

constexpr Nanos kSecond = kNanosPerSecond;

Paise Rs(std::string_view text) { return *Paise::Parse(text); }

class RiskStateTest : public ::testing::Test {
 protected:
  RiskStateTest() : table_(TestInstruments()) {}

  Status Open(OrderId id, Side side, Qty quantity, std::string_view price,
              const std::string& symbol = "NIFTY26DEC26000CE",
              const std::string& account = "ACC1") {
    TestOrder order(symbol, side, quantity, Rs(price), account);
    return state_.OnOrderOpened(id, order.View(*table_), Rs(price));
  }

  const Position& PositionOf(int64_t token, const std::string& account = "ACC1") {
    const AccountState* a = state_.FindAccount(account);
    EXPECT_NE(a, nullptr);
    static const Position kNone;
    if (a == nullptr) return kNone;
    const Position* p = a->FindPosition(token);
    EXPECT_NE(p, nullptr);
    return p ? *p : kNone;
  }

  std::shared_ptr<const InstrumentTable> table_;
  RiskState state_;
  Nanos now_ = TestNow();
};

TEST_F(RiskStateTest, OpeningAnOrderUpdatesAccountAggregates) {
  ASSERT_TRUE(Open(1, Side::kBuy, 150, "120.00").ok());
  const AccountState* account = state_.FindAccount("ACC1");
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->open_orders, 1);
  EXPECT_EQ(account->open_order_value, Rs("18000.00"));
  EXPECT_EQ(PositionOf(kNiftyCall).open_buy_quantity, 150);
  EXPECT_EQ(PositionOf(kNiftyCall).open_sell_quantity, 0);
  EXPECT_EQ(PositionOf(kNiftyCall).net_quantity, 0);
  ASSERT_NE(state_.FindOpenOrder(1), nullptr);
  EXPECT_EQ(state_.FindOpenOrder(1)->remaining, 150);
  EXPECT_EQ(state_.FindOpenOrder(1)->underlying, "NIFTY");
}

TEST_F(RiskStateTest, OpeningTheSameIdTwiceFails) {
  ASSERT_TRUE(Open(1, Side::kBuy, 75, "120.00").ok());
  Status again = Open(1, Side::kBuy, 75, "120.00");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(state_.FindAccount("ACC1")->open_orders, 1);
}

TEST_F(RiskStateTest, OpeningNeedsAResolvedInstrument) {
  TestOrder order("NOPE", Side::kBuy, 75, Rs("1.00"));
  EXPECT_EQ(state_.OnOrderOpened(1, order.View(*table_), Rs("1.00")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(state_.open_order_count(), 0u);
}

TEST_F(RiskStateTest, FullFillOpensPositionAndClosesOrder) {
  ASSERT_TRUE(Open(1, Side::kBuy, 150, "120.00").ok());
  ASSERT_TRUE(state_.OnFill(1, 150, Rs("119.50"), now_).ok());
  const Position& p = PositionOf(kNiftyCall);
  EXPECT_EQ(p.net_quantity, 150);
  EXPECT_EQ(p.cost, Rs("17925.00"));
  EXPECT_EQ(p.open_buy_quantity, 0);
  EXPECT_TRUE(p.resting.empty());
  EXPECT_EQ(state_.FindOpenOrder(1), nullptr);
  EXPECT_EQ(state_.FindAccount("ACC1")->open_orders, 0);
  EXPECT_EQ(state_.FindAccount("ACC1")->open_order_value, Paise());
  EXPECT_EQ(state_.FindAccount("ACC1")->UnderlyingLots("NIFTY"), 2);
}

TEST_F(RiskStateTest, PartialFillLeavesTheRestOpen) {
  ASSERT_TRUE(Open(1, Side::kBuy, 150, "120.00").ok());
  ASSERT_TRUE(state_.OnFill(1, 75, Rs("120.00"), now_).ok());
  EXPECT_EQ(state_.FindOpenOrder(1)->remaining, 75);
  EXPECT_EQ(state_.FindAccount("ACC1")->open_order_value, Rs("9000.00"));
  EXPECT_EQ(PositionOf(kNiftyCall).open_buy_quantity, 75);
  EXPECT_EQ(PositionOf(kNiftyCall).net_quantity, 75);
}

TEST_F(RiskStateTest, ReducingALongRealisesProfitAtAverageCost) {
  ASSERT_TRUE(Open(1, Side::kBuy, 75, "100.00").ok());
  ASSERT_TRUE(state_.OnFill(1, 75, Rs("100.00"), now_).ok());
  ASSERT_TRUE(Open(2, Side::kBuy, 75, "110.00").ok());
  ASSERT_TRUE(state_.OnFill(2, 75, Rs("110.00"), now_).ok());  // average 105.00
  ASSERT_TRUE(Open(3, Side::kSell, 75, "120.00").ok());
  ASSERT_TRUE(state_.OnFill(3, 75, Rs("120.00"), now_).ok());
  const Position& p = PositionOf(kNiftyCall);
  EXPECT_EQ(p.net_quantity, 75);
  EXPECT_EQ(p.cost, Rs("7875.00"));
  EXPECT_EQ(p.realised, Rs("1125.00"));  // 75 x (120 - 105)
  EXPECT_EQ(state_.FindAccount("ACC1")->RealisedOn(IstDate(now_)), Rs("1125.00"));
}

TEST_F(RiskStateTest, CoveringAShortRealisesProfitWhenPriceFell) {
  ASSERT_TRUE(Open(1, Side::kSell, 75, "120.00").ok());
  ASSERT_TRUE(state_.OnFill(1, 75, Rs("120.00"), now_).ok());
  EXPECT_EQ(PositionOf(kNiftyCall).net_quantity, -75);
  EXPECT_EQ(PositionOf(kNiftyCall).cost, Rs("-9000.00"));
  ASSERT_TRUE(Open(2, Side::kBuy, 75, "100.00").ok());
  ASSERT_TRUE(state_.OnFill(2, 75, Rs("100.00"), now_).ok());
  EXPECT_EQ(PositionOf(kNiftyCall).net_quantity, 0);
  EXPECT_EQ(PositionOf(kNiftyCall).cost, Paise());
  EXPECT_EQ(PositionOf(kNiftyCall).realised, Rs("1500.00"));
  EXPECT_EQ(state_.FindAccount("ACC1")->UnderlyingLots("NIFTY"), 0);
}

TEST_F(RiskStateTest, FillThroughZeroOpensTheOppositePositionAtTheFillPrice) {
  ASSERT_TRUE(Open(1, Side::kBuy, 75, "100.00").ok());
  ASSERT_TRUE(state_.OnFill(1, 75, Rs("100.00"), now_).ok());
  ASSERT_TRUE(Open(2, Side::kSell, 225, "90.00").ok());
  ASSERT_TRUE(state_.OnFill(2, 225, Rs("90.00"), now_).ok());
  const Position& p = PositionOf(kNiftyCall);
  EXPECT_EQ(p.net_quantity, -150);
  EXPECT_EQ(p.cost, Rs("-13500.00"));
  EXPECT_EQ(p.realised, Rs("-750.00"));
  EXPECT_EQ(state_.FindAccount("ACC1")->UnderlyingLots("NIFTY"), 2);
}

TEST_F(RiskStateTest, UnderlyingLotsAreGrossAcrossContracts) {
  ASSERT_TRUE(Open(1, Side::kBuy, 75, "120.00").ok());
  ASSERT_TRUE(state_.OnFill(1, 75, Rs("120.00"), now_).ok());
  ASSERT_TRUE(Open(2, Side::kSell, 150, "110.00", "NIFTY26DEC26000PE").ok());
  ASSERT_TRUE(state_.OnFill(2, 150, Rs("110.00"), now_).ok());
  EXPECT_EQ(state_.FindAccount("ACC1")->UnderlyingLots("NIFTY"), 3);
  EXPECT_EQ(state_.FindAccount("ACC1")->UnderlyingLots("BANKNIFTY"), 0);
}

TEST_F(RiskStateTest, RealisedTodayRestartsOnANewIstDate) {
  ASSERT_TRUE(Open(1, Side::kBuy, 75, "100.00").ok());
  ASSERT_TRUE(state_.OnFill(1, 75, Rs("100.00"), now_).ok());
  ASSERT_TRUE(Open(2, Side::kSell, 75, "90.00").ok());
  ASSERT_TRUE(state_.OnFill(2, 75, Rs("90.00"), now_).ok());
  EpochDay today = IstDate(now_);
  EXPECT_EQ(state_.FindAccount("ACC1")->RealisedOn(today), Rs("-750.00"));
  EXPECT_EQ(state_.FindAccount("ACC1")->RealisedOn(today + 1), Paise());
  Nanos tomorrow = now_ + 24 * 3600 * kSecond;
  ASSERT_TRUE(Open(3, Side::kBuy, 75, "100.00").ok());
  ASSERT_TRUE(state_.OnFill(3, 75, Rs("100.00"), tomorrow).ok());
  ASSERT_TRUE(Open(4, Side::kSell, 75, "101.00").ok());
  ASSERT_TRUE(state_.OnFill(4, 75, Rs("101.00"), tomorrow).ok());
  EXPECT_EQ(state_.FindAccount("ACC1")->RealisedOn(today + 1), Rs("75.00"));
  EXPECT_EQ(PositionOf(kNiftyCall).realised, Rs("-675.00"));
}

TEST_F(RiskStateTest, OverfillIsRefusedAndChangesNothing) {
  ASSERT_TRUE(Open(1, Side::kBuy, 75, "120.00").ok());
  std::string before = state_.Dump();
  EXPECT_EQ(state_.OnFill(1, 150, Rs("120.00"), now_).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(state_.OnFill(1, 0, Rs("120.00"), now_).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(state_.Dump(), before);
}

TEST_F(RiskStateTest, EventsForUnknownOrdersAreNotFound) {
  EXPECT_EQ(state_.OnFill(9, 75, Rs("1.00"), now_).code(), StatusCode::kNotFound);
  EXPECT_EQ(state_.OnOrderClosed(9).code(), StatusCode::kNotFound);
  EXPECT_EQ(state_.OnOrderModified(9, 75, Rs("1.00")).code(), StatusCode::kNotFound);
}

TEST_F(RiskStateTest, ClosingReleasesEverything) {
  ASSERT_TRUE(Open(1, Side::kSell, 150, "120.00").ok());
  ASSERT_TRUE(state_.OnFill(1, 75, Rs("120.00"), now_).ok());
  ASSERT_TRUE(state_.OnOrderClosed(1).ok());
  const AccountState* account = state_.FindAccount("ACC1");
  EXPECT_EQ(account->open_orders, 0);
  EXPECT_EQ(account->open_order_value, Paise());
  EXPECT_EQ(PositionOf(kNiftyCall).open_sell_quantity, 0);
  EXPECT_TRUE(PositionOf(kNiftyCall).resting.empty());
  EXPECT_EQ(PositionOf(kNiftyCall).net_quantity, -75);
  EXPECT_EQ(state_.open_order_count(), 0u);
}

TEST_F(RiskStateTest, ModifyReplacesQuantityAndPrice) {
  ASSERT_TRUE(Open(1, Side::kBuy, 150, "120.00").ok());
  ASSERT_TRUE(state_.OnOrderModified(1, 75, Rs("121.00")).ok());
  EXPECT_EQ(state_.FindAccount("ACC1")->open_order_value, Rs("9075.00"));
  EXPECT_EQ(PositionOf(kNiftyCall).open_buy_quantity, 75);
  ASSERT_EQ(PositionOf(kNiftyCall).resting.size(), 1u);
  EXPECT_EQ(PositionOf(kNiftyCall).resting[0].price, Rs("121.00"));
  EXPECT_EQ(state_.OnOrderModified(1, 0, Rs("121.00")).code(), StatusCode::kInvalidArgument);
}

TEST_F(RiskStateTest, EvaluatedOrdersCountPerAccountAndStrategy) {
  state_.OnOrderEvaluated("ACC1", "straddle", now_);
  state_.OnOrderEvaluated("ACC1", "", now_);
  EpochDay today = IstDate(now_);
  EXPECT_EQ(state_.FindAccount("ACC1")->orders_today.CountOn(today), 2);
  EXPECT_EQ(state_.FindAccount("ACC1")->rate.CountInWindow(now_), 2);
  EXPECT_EQ(state_.FindStrategy("straddle")->orders_today.CountOn(today), 1);
  EXPECT_EQ(state_.FindStrategy(""), nullptr);
}

TEST(RateWindowTest, CountsOnlyTheLastSecondExclusiveOfItsStart) {
  RateWindow window;
  window.Record(1000);
  window.Record(1000 + kSecond / 2);
  EXPECT_EQ(window.CountInWindow(1000 + kSecond - 1), 2);
  EXPECT_EQ(window.CountInWindow(1000 + kSecond), 1);
  EXPECT_EQ(window.CountInWindow(1000 + kSecond / 2 + kSecond), 0);
}

TEST(RateWindowTest, ForgetsOrdersThatLeftTheWindow) {
  RateWindow window;
  for (int i = 0; i < 5; ++i) window.Record(i);
  window.Record(4 + kSecond);
  EXPECT_EQ(window.size(), 1u);
}

TEST(RateWindowTest, ClockSteppingBackDoesNotUnsortTheWindow) {
  RateWindow window;
  window.Record(5 * kSecond);
  window.Record(4 * kSecond);
  EXPECT_EQ(window.newest(), 5 * kSecond);
  EXPECT_EQ(window.CountInWindow(5 * kSecond), 2);
}

TEST(DayCounterTest, RestartsOnANewDay) {
  DayCounter counter;
  counter.Increment(10);
  counter.Increment(10);
  EXPECT_EQ(counter.CountOn(10), 2);
  EXPECT_EQ(counter.CountOn(11), 0);
  counter.Increment(11);
  EXPECT_EQ(counter.CountOn(11), 1);
}

TEST_F(RiskStateTest, TradingStatesPerScope) {
  state_.SetTradingState(AdminScope::kGlobal, "ignored", TradingState::kReducing);
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kHalted);
  state_.SetTradingState(AdminScope::kStrategy, "straddle", TradingState::kReducing);
  EXPECT_EQ(state_.global_trading_state(), TradingState::kReducing);
  EXPECT_EQ(state_.FindAccount("ACC1")->trading_state, TradingState::kHalted);
  EXPECT_EQ(state_.FindStrategy("straddle")->trading_state, TradingState::kReducing);
  EXPECT_EQ(state_.FindAccount("ACC2"), nullptr);
}

// Applies the same event sequence to a fresh state, as the engine does when replaying its journal.
void ApplyScript(RiskState& state, const InstrumentTable& table, Nanos now) {
  TestOrder buy("NIFTY26DEC26000CE", Side::kBuy, 150, Rs("120.00"));
  TestOrder sell("NIFTY26DEC26000PE", Side::kSell, 75, Rs("110.00"), "ACC2", "iron-fly");
  state.OnOrderEvaluated("ACC1", "straddle", now);
  ASSERT_TRUE(state.OnOrderOpened(1, buy.View(table), Rs("120.00")).ok());
  state.OnOrderEvaluated("ACC2", "iron-fly", now + 1);
  ASSERT_TRUE(state.OnOrderOpened(2, sell.View(table), Rs("110.00")).ok());
  ASSERT_TRUE(state.OnFill(1, 75, Rs("119.95"), now + 2).ok());
  ASSERT_TRUE(state.OnFill(2, 75, Rs("110.05"), now + 3).ok());
  ASSERT_TRUE(state.OnOrderModified(1, 75, Rs("119.00")).ok());
  state.SetTradingState(AdminScope::kAccount, "ACC2", TradingState::kReducing);
}

TEST_F(RiskStateTest, ReplayingTheSameEventsGivesAnEqualState) {
  RiskState first;
  RiskState second(RiskStateOptions{16, 4, 64});
  ApplyScript(first, *table_, now_);
  ApplyScript(second, *table_, now_);
  EXPECT_TRUE(first == second);
  EXPECT_EQ(first.Dump(), second.Dump());
}

TEST_F(RiskStateTest, ADifferentEventMakesStatesDiffer) {
  RiskState first;
  RiskState second;
  ApplyScript(first, *table_, now_);
  ApplyScript(second, *table_, now_);
  ASSERT_TRUE(second.OnOrderClosed(1).ok());
  EXPECT_FALSE(first == second);
  EXPECT_NE(first.Dump(), second.Dump());
}

TEST_F(RiskStateTest, DumpIsSortedAndComplete) {
  ApplyScript(state_, *table_, now_);
  std::string dump = state_.Dump();
  EXPECT_LT(dump.find("account ACC1"), dump.find("account ACC2"));
  EXPECT_NE(dump.find("state=REDUCING"), std::string::npos);
  EXPECT_NE(dump.find("underlying NIFTY lots=1"), std::string::npos);
  EXPECT_NE(dump.find("order 1 ACC1/straddle"), std::string::npos);
  EXPECT_EQ(dump.find("order 2 "), std::string::npos);  // fully filled
  EXPECT_NE(dump.find("strategy iron-fly"), std::string::npos);
}

}  // namespace
}  // namespace wojak
