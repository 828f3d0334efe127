// Tests for the risk gate: every rule at its boundary, combinations, trading states, escalation.
#include "risk/gate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "risk/risk_testing.h"

namespace wojak {
namespace {

using namespace risk_testing;  // NOLINT
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr Nanos kSecond = kNanosPerSecond;
constexpr Nanos kMinute = 60 * kSecond;
constexpr Nanos kHour = 60 * kMinute;

Paise Rs(std::string_view text) { return *Paise::Parse(text); }

class GateTest : public ::testing::Test {
 protected:
  GateTest() : table_(TestInstruments()), market_(table_) { SetTestPrices(market_, now_); }

  RiskResult Evaluate(const TestOrder& order) {
    RiskGate gate(config_);
    return gate.Evaluate(order.View(*table_), state_, market_, now_);
  }

  // Puts `order` on the book as the engine would after an ACCEPTED decision.
  OrderId Open(const TestOrder& order) {
    OrderId id = next_id_++;
    OrderView view = order.View(*table_);
    Paise price = view.price.value_or(Paise::FromRupees(100));
    EXPECT_TRUE(state_.OnOrderOpened(id, view, price).ok());
    return id;
  }

  // Opens and fully fills an order: a position of `quantity` at `price`.
  void Hold(const std::string& symbol, Side side, Qty quantity, Paise price,
            const std::string& account = "ACC1") {
    OrderId id = Open(TestOrder(symbol, side, quantity, price, account));
    ASSERT_TRUE(state_.OnFill(id, quantity, price, now_).ok());
  }

  static std::vector<ReasonCode> Codes(const RiskResult& result) {
    std::vector<ReasonCode> codes;
    for (const Breach& b : result.breaches) codes.push_back(b.code);
    return codes;
  }

  std::string Message(const RiskResult& result, const TestOrder& order, size_t index = 0) {
    EXPECT_GT(result.breaches.size(), index);
    if (result.breaches.size() <= index) return "";
    return DescribeBreach(result.breaches[index], order.View(*table_), result);
  }

  void ExpectAccepted(const TestOrder& order) {
    RiskResult result = Evaluate(order);
    EXPECT_EQ(result.decision, DecisionKind::kAccepted);
    for (const Breach& b : result.breaches) {
      ADD_FAILURE() << "unexpected " << ReasonCodeName(b.code) << ": "
                    << DescribeBreach(b, order.View(*table_), result);
    }
  }

  void ExpectOnly(const TestOrder& order, ReasonCode code) {
    RiskResult result = Evaluate(order);
    EXPECT_EQ(result.decision, DecisionKind::kRejected);
    EXPECT_THAT(Codes(result), ElementsAre(code));
  }

  std::shared_ptr<const InstrumentTable> table_;
  InMemoryMarketView market_;
  RiskState state_;
  RiskConfig config_;
  Nanos now_ = TestNow();
  OrderId next_id_ = 1;
};

TestOrder Call(Side side, Qty quantity, std::string_view price) {
  return TestOrder("NIFTY26DEC26000CE", side, quantity, Rs(price));
}

// --- baseline -------------------------------------------------------------------------------

TEST_F(GateTest, AcceptsAPlainLimitOrder) {
  RiskResult result = Evaluate(Call(Side::kBuy, 75, "120.00"));
  EXPECT_EQ(result.decision, DecisionKind::kAccepted);
  EXPECT_TRUE(result.breaches.empty());
  ASSERT_TRUE(result.reference.has_value());
  EXPECT_EQ(result.reference->price, Rs("120.00"));
  EXPECT_EQ(result.reference->source, PriceSource::kLastTradedPrice);
  EXPECT_EQ(result.effective_price, Rs("120.00"));
  EXPECT_TRUE(BreachReasons(result, Call(Side::kBuy, 75, "120.00").View(*table_)).empty());
}

TEST_F(GateTest, EveryRuleIsInTheDefaultTable) {
  RiskGate gate(config_);
  EXPECT_EQ(gate.rules().size(), kRuleCount);
}

// --- instrument -----------------------------------------------------------------------------

TEST_F(GateTest, RejectsUnknownSymbol) {
  TestOrder order("NIFTY26DEC99999CE", Side::kBuy, 75, Rs("10.00"));
  RiskResult result = Evaluate(order);
  EXPECT_EQ(result.decision, DecisionKind::kRejected);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_UNKNOWN_INSTRUMENT));
  EXPECT_EQ(Message(result, order), "symbol NIFTY26DEC99999CE is not in the instrument master");
  EXPECT_EQ(result.breaches[0].field, "symbol");
}

TEST_F(GateTest, RejectsOrderForAnotherExchange) {
  TestOrder order("NIFTY26DECFUT", Side::kBuy, 75, Rs("26000.00"));
  order.request.exchange = "NSE";
  ExpectOnly(order, ReasonCode::k_UNKNOWN_INSTRUMENT);
}

TEST_F(GateTest, RejectsContractOutsideNfo) {
  TestOrder order("SENSEX26DECFUT", Side::kBuy, 20, Rs("80000.00"));
  order.request.exchange = "BFO";
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_UNKNOWN_INSTRUMENT));
  EXPECT_THAT(Message(result, order), HasSubstr("only NFO futures and options"));
}

TEST_F(GateTest, AcceptsContractOnItsExpiryDay) {
  ExpectAccepted(TestOrder("NIFTY26D0126000CE", Side::kBuy, 75, Rs("100.00")));
}

TEST_F(GateTest, RejectsContractTheDayAfterExpiry) {
  now_ = IstMidnight(*ParseIsoDate("2026-12-02")) + 10 * kHour;
  market_.SetLastTrade(kNiftyWeeklyCall, Rs("100.00"), now_);
  TestOrder order("NIFTY26D0126000CE", Side::kBuy, 75, Rs("100.00"));
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_INSTRUMENT_EXPIRED));
  EXPECT_EQ(Message(result, order), "NIFTY26D0126000CE expired on 2026-12-01");
}

// --- quantity and freeze --------------------------------------------------------------------

TEST_F(GateTest, RejectsZeroQuantity) {
  ExpectOnly(Call(Side::kBuy, 0, "120.00"), ReasonCode::k_QTY_NOT_POSITIVE);
}

TEST_F(GateTest, RejectsNegativeQuantity) {
  ExpectOnly(Call(Side::kBuy, -75, "120.00"), ReasonCode::k_QTY_NOT_POSITIVE);
}

TEST_F(GateTest, RejectsQuantityNotMultipleOfLot) {
  TestOrder order = Call(Side::kBuy, 70, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_QTY_NOT_LOT_MULTIPLE));
  EXPECT_EQ(Message(result, order), "quantity 70 is not a multiple of lot size 75");
  EXPECT_EQ(result.breaches[0].field, "quantity");
}

TEST_F(GateTest, AcceptsQuantityExactlyAtFreezeLimit) {
  ExpectAccepted(Call(Side::kBuy, 1800, "120.00"));
}

TEST_F(GateTest, RejectsOneLotAboveFreezeLimit) {
  TestOrder order = Call(Side::kBuy, 1875, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_QTY_ABOVE_FREEZE_LIMIT));
  EXPECT_EQ(Message(result, order),
            "quantity 1875 is above the freeze limit 1800 for NIFTY; slice it into smaller orders");
}

TEST_F(GateTest, MissingFreezeLimitFailsClosed) {
  TestOrder order("TCS26DECFUT", Side::kBuy, 175, Rs("4200.00"));
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_QTY_ABOVE_FREEZE_LIMIT));
  EXPECT_THAT(Message(result, order), HasSubstr("no freeze limit is known for TCS"));
}

TEST_F(GateTest, MissingFreezeLimitCanBeAllowed) {
  config_.reject_without_freeze_limit = false;
  ExpectAccepted(TestOrder("TCS26DECFUT", Side::kBuy, 175, Rs("4200.00")));
}

// --- tick and order type ---------------------------------------------------------------------

TEST_F(GateTest, RejectsPriceOffTheTickGrid) {
  TestOrder order = Call(Side::kBuy, 75, "120.03");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_PRICE_NOT_TICK_MULTIPLE));
  EXPECT_EQ(Message(result, order), "price 120.03 is not a multiple of tick size 0.05");
}

TEST_F(GateTest, FuturesUseTheirOwnTick) {
  ExpectAccepted(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26000.10")));
  ExpectOnly(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26000.05")),
             ReasonCode::k_PRICE_NOT_TICK_MULTIPLE);
}

TEST_F(GateTest, RejectsZeroPrice) {
  RiskResult result = Evaluate(Call(Side::kBuy, 75, "0"));
  EXPECT_EQ(result.decision, DecisionKind::kRejected);
  EXPECT_TRUE(result.breaches.Has(ReasonCode::k_PRICE_NOT_POSITIVE));
}

TEST_F(GateTest, RejectsLimitOrderWithoutPrice) {
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  order.request.price.reset();
  order.request.order_type = OrderType::kLimit;
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_PRICE_REQUIRED));
  EXPECT_EQ(Message(result, order), "a LIMIT order needs a price");
}

TEST_F(GateTest, RejectsStopLossWithoutTrigger) {
  TestOrder order = Call(Side::kBuy, 75, "125.00");
  order.request.order_type = OrderType::kStopLoss;
  ExpectOnly(order, ReasonCode::k_TRIGGER_REQUIRED);
}

TEST_F(GateTest, RejectsStopLossMarketWithoutTrigger) {
  TestOrder order = Call(Side::kBuy, 75, "125.00");
  order.request.order_type = OrderType::kStopLossMarket;
  order.request.price.reset();
  ExpectOnly(order, ReasonCode::k_TRIGGER_REQUIRED);
}

TEST_F(GateTest, AcceptsBuyStopLossTriggerAboveReference) {
  TestOrder order = Call(Side::kBuy, 75, "125.00");
  order.request.order_type = OrderType::kStopLoss;
  order.request.trigger_price = Rs("120.05");
  ExpectAccepted(order);
}

TEST_F(GateTest, RejectsBuyStopLossTriggerAtReference) {
  TestOrder order = Call(Side::kBuy, 75, "125.00");
  order.request.order_type = OrderType::kStopLoss;
  order.request.trigger_price = Rs("120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_TRIGGER_WRONG_SIDE));
  EXPECT_THAT(Message(result, order), HasSubstr("must be above the reference price 120.00"));
}

TEST_F(GateTest, RejectsSellStopLossTriggerAboveReference) {
  TestOrder order = Call(Side::kSell, 75, "115.00");
  order.request.order_type = OrderType::kStopLossMarket;
  order.request.price.reset();
  order.request.trigger_price = Rs("120.05");
  ExpectOnly(order, ReasonCode::k_TRIGGER_WRONG_SIDE);
}

TEST_F(GateTest, RejectsBuyStopLossLimitBelowItsTrigger) {
  TestOrder order = Call(Side::kBuy, 75, "121.00");
  order.request.order_type = OrderType::kStopLoss;
  order.request.trigger_price = Rs("121.05");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_TRIGGER_WRONG_SIDE));
  EXPECT_EQ(result.breaches[0].field, "price");
}

TEST_F(GateTest, StopLossMarketIsValuedAtItsTrigger) {
  TestOrder order = Call(Side::kBuy, 75, "0");
  order.request.order_type = OrderType::kStopLossMarket;
  order.request.price.reset();
  order.request.trigger_price = Rs("125.00");
  RiskResult result = Evaluate(order);
  EXPECT_EQ(result.decision, DecisionKind::kAccepted);
  EXPECT_EQ(result.effective_price, Rs("125.00"));
}

// --- price bands ----------------------------------------------------------------------------

TEST_F(GateTest, OptionBandIsFortyPercentAboveFiftyRupees) {
  ExpectAccepted(Call(Side::kBuy, 75, "168.00"));
  ExpectAccepted(Call(Side::kSell, 75, "72.00"));
  ExpectOnly(Call(Side::kBuy, 75, "168.05"), ReasonCode::k_PRICE_OUTSIDE_BAND);
  ExpectOnly(Call(Side::kSell, 75, "71.95"), ReasonCode::k_PRICE_OUTSIDE_BAND);
}

TEST_F(GateTest, BandMessageNamesBoundsAndReference) {
  TestOrder order = Call(Side::kBuy, 75, "168.05");
  EXPECT_EQ(Message(Evaluate(order), order),
            "price 168.05 is outside the price band 72.00 to 168.00 around the reference price "
            "120.00 (LTP)");
}

TEST_F(GateTest, CheapOptionBandIsTwentyRupees) {
  ExpectAccepted(TestOrder("NIFTY26DEC27000CE", Side::kBuy, 75, Rs("50.00")));
  ExpectAccepted(TestOrder("NIFTY26DEC27000CE", Side::kSell, 75, Rs("10.00")));
  ExpectOnly(TestOrder("NIFTY26DEC27000CE", Side::kBuy, 75, Rs("50.05")),
             ReasonCode::k_PRICE_OUTSIDE_BAND);
  ExpectOnly(TestOrder("NIFTY26DEC27000CE", Side::kSell, 75, Rs("9.95")),
             ReasonCode::k_PRICE_OUTSIDE_BAND);
}

TEST_F(GateTest, OptionAtExactlyFiftyUsesAbsoluteBand) {
  market_.SetLastTrade(kNiftyCheapCall, Rs("50.00"), now_);
  ExpectAccepted(TestOrder("NIFTY26DEC27000CE", Side::kBuy, 75, Rs("70.00")));
  ExpectOnly(TestOrder("NIFTY26DEC27000CE", Side::kBuy, 75, Rs("70.05")),
             ReasonCode::k_PRICE_OUTSIDE_BAND);
}

TEST_F(GateTest, FuturesBandIsTwoPercent) {
  // 2% of 26000.00 is 520.00.
  ExpectAccepted(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26520.00")));
  ExpectAccepted(TestOrder("NIFTY26DECFUT", Side::kSell, 75, Rs("25480.00")));
  ExpectOnly(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26520.10")),
             ReasonCode::k_PRICE_OUTSIDE_BAND);
  ExpectOnly(TestOrder("NIFTY26DECFUT", Side::kSell, 75, Rs("25479.90")),
             ReasonCode::k_PRICE_OUTSIDE_BAND);
}

TEST_F(GateTest, TriggerIsBandChecked) {
  TestOrder order = Call(Side::kBuy, 75, "170.00");
  order.request.order_type = OrderType::kStopLoss;
  order.request.trigger_price = Rs("169.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), UnorderedElementsAre(ReasonCode::k_PRICE_OUTSIDE_BAND,
                                                  ReasonCode::k_PRICE_OUTSIDE_BAND));
  EXPECT_EQ(result.breaches[1].field, "trigger_price");
}

TEST_F(GateTest, BandsAreConfigurable) {
  config_.bands.option_basis_points = 1000;  // 10%
  ExpectAccepted(Call(Side::kBuy, 75, "132.00"));
  ExpectOnly(Call(Side::kBuy, 75, "132.05"), ReasonCode::k_PRICE_OUTSIDE_BAND);
}

// --- reference price and market protection ---------------------------------------------------

TEST_F(GateTest, MarketBuyBecomesProtectedLimit) {
  RiskResult result = Evaluate(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, std::nullopt));
  EXPECT_EQ(result.decision, DecisionKind::kAccepted);
  EXPECT_EQ(result.effective_price, Rs("126.00"));  // 120.00 + 5%
}

TEST_F(GateTest, MarketSellBecomesProtectedLimit) {
  RiskResult result = Evaluate(TestOrder("NIFTY26DEC26000CE", Side::kSell, 75, std::nullopt));
  EXPECT_EQ(result.effective_price, Rs("114.00"));  // 120.00 - 5%
}

TEST_F(GateTest, MarketProtectionRoundsTowardTheReference) {
  market_.SetLastTrade(kNiftyCall, Rs("120.35"), now_);
  // 5% of 120.35 is 6.0175: buy limit 126.3675 -> 126.35, sell 114.3325 -> 114.35.
  EXPECT_EQ(Evaluate(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, std::nullopt)).effective_price,
            Rs("126.35"));
  EXPECT_EQ(Evaluate(TestOrder("NIFTY26DEC26000CE", Side::kSell, 75, std::nullopt)).effective_price,
            Rs("114.35"));
}

TEST_F(GateTest, MarketOrderWithoutReferenceFailsClosed) {
  TestOrder order("NIFTY26DEC28000CE", Side::kBuy, 75, std::nullopt);
  RiskResult result = Evaluate(order);
  EXPECT_EQ(result.decision, DecisionKind::kRejected);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_NO_REFERENCE_PRICE));
  EXPECT_FALSE(result.effective_price.has_value());
  EXPECT_FALSE(result.reference.has_value());
}

TEST_F(GateTest, LimitOrderWithoutReferenceFailsClosedWhileBandsAreOn) {
  ExpectOnly(TestOrder("NIFTY26DEC28000CE", Side::kBuy, 75, Rs("5.00")),
             ReasonCode::k_NO_REFERENCE_PRICE);
}

TEST_F(GateTest, LimitOrderWithoutReferencePassesWhenBandsAreOff) {
  config_.rule(RuleId::kPriceBand).enabled = false;
  ExpectAccepted(TestOrder("NIFTY26DEC28000CE", Side::kBuy, 75, Rs("5.00")));
}

TEST_F(GateTest, StaleLtpFallsBackToMasterPrice) {
  market_.SetLastTrade(kNiftyFuture, Rs("26000.00"), now_ - 5 * kSecond - 1);
  RiskResult result = Evaluate(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26065.00")));
  ASSERT_TRUE(result.reference.has_value());
  EXPECT_EQ(result.reference->source, PriceSource::kMaster);
  EXPECT_EQ(result.reference->price, Rs("26065.00"));
}

TEST_F(GateTest, LtpExactlyMaxAgeOldIsStillUsed) {
  market_.SetLastTrade(kNiftyFuture, Rs("26000.00"), now_ - 5 * kSecond);
  RiskResult result = Evaluate(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26000.00")));
  ASSERT_TRUE(result.reference.has_value());
  EXPECT_EQ(result.reference->source, PriceSource::kLastTradedPrice);
}

TEST_F(GateTest, StaleLtpWithoutMasterPriceFailsClosed) {
  market_.SetLastTrade(kNiftyCall, Rs("120.00"), now_ - 6 * kSecond);
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_NO_REFERENCE_PRICE);
}

// --- order value ----------------------------------------------------------------------------

TEST_F(GateTest, OrderValueExactlyAtLimitPasses) {
  config_.account_defaults.max_order_value = Rs("9000.00").value();  // 75 x 120.00
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, OrderValueOneTickAboveLimitFails) {
  config_.account_defaults.max_order_value = Rs("9000.00").value();
  TestOrder order = Call(Side::kBuy, 75, "120.05");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT));
  EXPECT_EQ(Message(result, order), "order value 9003.75 is above the account ACC1 limit 9000.00");
}

TEST_F(GateTest, StrategyOrderValueLimitIsCheckedToo) {
  config_.strategy_defaults.max_order_value = Rs("8999.95").value();
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT));
  EXPECT_EQ(result.breaches[0].scope, Scope::kStrategy);
}

TEST_F(GateTest, AccountOverrideWinsOverGlobalLimit) {
  config_.account_defaults.max_order_value = Rs("1.00").value();
  AccountLimits generous = config_.account_defaults;
  generous.max_order_value = std::nullopt;
  config_.accounts.emplace("ACC1", generous);
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
  ExpectOnly(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"), "ACC2"),
             ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT);
}

TEST_F(GateTest, MarketOrderIsValuedAtItsProtectedPrice) {
  config_.account_defaults.max_order_value = Rs("9450.00").value();  // 75 x 126.00
  ExpectAccepted(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, std::nullopt));
  config_.account_defaults.max_order_value = Rs("9449.99").value();
  ExpectOnly(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, std::nullopt),
             ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT);
}

// --- positions ------------------------------------------------------------------------------

TEST_F(GateTest, PositionExactlyAtInstrumentLimitPasses) {
  config_.account_defaults.max_position_lots_per_instrument = 2;
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"));
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, PositionOneLotAboveInstrumentLimitFails) {
  config_.account_defaults.max_position_lots_per_instrument = 2;
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"));
  TestOrder order = Call(Side::kBuy, 150, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_POSITION_LIMIT));
  EXPECT_EQ(Message(result, order),
            "position in NIFTY26DEC26000CE would reach 3 lots with open orders filled, above the "
            "limit of 2 lots");
}

TEST_F(GateTest, OpenOrdersCountTowardWorstCasePosition) {
  config_.account_defaults.max_position_lots_per_instrument = 2;
  Open(Call(Side::kBuy, 150, "120.00"));
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_POSITION_LIMIT);
}

TEST_F(GateTest, ShortPositionLimitAppliesToSells) {
  config_.account_defaults.max_position_lots_per_instrument = 2;
  Hold("NIFTY26DEC26000CE", Side::kSell, 150, Rs("120.00"));
  ExpectOnly(Call(Side::kSell, 75, "120.00"), ReasonCode::k_POSITION_LIMIT);
}

TEST_F(GateTest, ReducingOrderPassesAnOverLimitPosition) {
  Hold("NIFTY26DEC26000CE", Side::kBuy, 300, Rs("120.00"));
  config_.account_defaults.max_position_lots_per_instrument = 2;
  ExpectAccepted(Call(Side::kSell, 75, "120.00"));
}

TEST_F(GateTest, UnderlyingLimitCountsGrossLotsAcrossContracts) {
  config_.account_defaults.max_position_lots_per_underlying = 3;
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"));
  Hold("NIFTY26DEC26000PE", Side::kSell, 75, Rs("110.00"));
  ExpectAccepted(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26000.00")));
  TestOrder order("NIFTY26DECFUT", Side::kBuy, 150, Rs("26000.00"));
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_POSITION_LIMIT));
  EXPECT_EQ(result.breaches[0].scope, Scope::kUnderlying);
  EXPECT_EQ(Message(result, order),
            "gross position across NIFTY would reach 4 lots, above the limit of 3 lots");
}

// --- exposure and open orders ---------------------------------------------------------------

TEST_F(GateTest, ExposureExactlyAtLimitPasses) {
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("100.00"));         // worth 75 x 120.00 = 9000.00
  Open(Call(Side::kBuy, 75, "110.00"));                            // 8250.00 open
  config_.account_defaults.max_exposure = Rs("26250.00").value();  // + 75 x 120.00
  ExpectAccepted(TestOrder("NIFTY26DEC26000PE", Side::kBuy, 75, Rs("120.00")));
}

TEST_F(GateTest, ExposureOnePaiseOverLimitFails) {
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("100.00"));
  Open(Call(Side::kBuy, 75, "110.00"));
  config_.account_defaults.max_exposure = Rs("26249.99").value();
  TestOrder order("NIFTY26DEC26000PE", Side::kBuy, 75, Rs("120.00"));
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_EXPOSURE_LIMIT));
  EXPECT_EQ(Message(result, order),
            "exposure of account ACC1 would reach 26250.00, above the limit 26249.99");
}

TEST_F(GateTest, ModifyExcludesTheOrdersOwnExposure) {
  OrderId id = Open(Call(Side::kBuy, 75, "110.00"));
  config_.account_defaults.max_exposure = Rs("9000.00").value();
  TestOrder modify = Call(Side::kBuy, 75, "120.00");
  modify.replaces = id;
  ExpectAccepted(modify);
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_EXPOSURE_LIMIT);
}

TEST_F(GateTest, OpenOrdersAtLimitRejectsTheNextOne) {
  config_.account_defaults.max_open_orders = 2;
  Open(Call(Side::kBuy, 75, "110.00"));
  ExpectAccepted(Call(Side::kBuy, 75, "110.00"));
  Open(Call(Side::kBuy, 75, "110.00"));
  TestOrder order = Call(Side::kBuy, 75, "110.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_OPEN_ORDERS_LIMIT));
  EXPECT_EQ(Message(result, order), "account ACC1 would have 3 open orders, above the limit 2");
}

TEST_F(GateTest, ModifyDoesNotCountAsAnotherOpenOrder) {
  config_.account_defaults.max_open_orders = 1;
  OrderId id = Open(Call(Side::kBuy, 75, "110.00"));
  TestOrder modify = Call(Side::kBuy, 75, "111.00");
  modify.replaces = id;
  ExpectAccepted(modify);
}

// --- rate and daily count -------------------------------------------------------------------

TEST_F(GateTest, RateLimitDefaultsToTenPerSecondPerAccount) {
  for (int i = 0; i < 10; ++i) {
    ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
    state_.OnOrderEvaluated("ACC1", "straddle", now_);
  }
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_RATE_LIMIT));
  EXPECT_EQ(Message(result, order),
            "this is order 11 within one second for account ACC1, above the limit of 10 orders "
            "per second");
}

// The rate tests drive time with a ManualClock, as the engine's sequencer does in its tests.
class RateGateTest : public GateTest {
 protected:
  void AdvanceTo(Nanos offset) {
    clock_.Set(TestNow() + offset);
    now_ = clock_.Now();
    market_.SetLastTrade(kNiftyCall, Rs("120.00"), now_);
  }
  void Evaluated(int count, const std::string& strategy = "straddle") {
    for (int i = 0; i < count; ++i) state_.OnOrderEvaluated("ACC1", strategy, clock_.Now());
  }
  ManualClock clock_{TestNow()};
};

TEST_F(RateGateTest, WindowStillCountsAnOrderOneNanosecondShortOfASecondOld) {
  Evaluated(10);
  AdvanceTo(kSecond - 1);
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_RATE_LIMIT);
}

TEST_F(RateGateTest, WindowForgetsAnOrderExactlyOneSecondOld) {
  Evaluated(10);
  AdvanceTo(kSecond);
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(RateGateTest, WindowSlidesRatherThanResettingOnSecondBoundaries) {
  Evaluated(5, "");
  AdvanceTo(600 * kNanosPerMilli);
  Evaluated(5, "");
  AdvanceTo(1100 * kNanosPerMilli);  // the first five have left, the last five have not
  for (int i = 0; i < 5; ++i) {
    ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
    Evaluated(1, "");
  }
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_RATE_LIMIT);
  AdvanceTo(1600 * kNanosPerMilli);  // the middle five have left too
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, RateLimitIsPerAccount) {
  for (int i = 0; i < 10; ++i) state_.OnOrderEvaluated("ACC1", "", now_);
  ExpectAccepted(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"), "ACC2"));
}

TEST_F(GateTest, StrategyRateLimitSpansAccounts) {
  config_.strategy_defaults.max_orders_per_second = 3;
  state_.OnOrderEvaluated("ACC1", "straddle", now_);
  state_.OnOrderEvaluated("ACC2", "straddle", now_);
  state_.OnOrderEvaluated("ACC3", "straddle", now_);
  TestOrder order("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"), "ACC4");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_RATE_LIMIT));
  EXPECT_EQ(result.breaches[0].scope, Scope::kStrategy);
  EXPECT_THAT(Message(result, order), HasSubstr("for strategy straddle"));
}

TEST_F(GateTest, RateLimitCanBeSwitchedOff) {
  config_.account_defaults.max_orders_per_second = std::nullopt;
  for (int i = 0; i < 100; ++i) state_.OnOrderEvaluated("ACC1", "", now_);
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, DailyOrderCountAtLimitRejectsTheNext) {
  config_.account_defaults.max_daily_orders = 3;
  for (int i = 0; i < 2; ++i) state_.OnOrderEvaluated("ACC1", "", now_ - kHour);
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
  state_.OnOrderEvaluated("ACC1", "", now_ - kHour);
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_DAILY_ORDER_COUNT_LIMIT));
  EXPECT_EQ(Message(result, order),
            "this is order 4 today for account ACC1, above the limit of 3 orders per day");
}

TEST_F(GateTest, DailyOrderCountRestartsOnTheNextIstDate) {
  config_.account_defaults.max_daily_orders = 3;
  for (int i = 0; i < 3; ++i) state_.OnOrderEvaluated("ACC1", "", now_);
  now_ = IstMidnight(*ParseIsoDate("2026-12-02")) + 10 * kHour;
  SetTestPrices(market_, now_);
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, StrategyDailyOrderCount) {
  config_.strategies.emplace("straddle", StrategyLimits{std::nullopt, std::nullopt, 1});
  state_.OnOrderEvaluated("ACC2", "straddle", now_);
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_DAILY_ORDER_COUNT_LIMIT);
  ExpectAccepted(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"), "ACC1", "other"));
}

// --- daily loss -----------------------------------------------------------------------------

TEST_F(GateTest, LossExactlyAtLimitPasses) {
  config_.account_defaults.max_daily_loss = Rs("750.00").value();
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("130.00"));  // marked at 120.00: -750.00
  RiskResult result = Evaluate(Call(Side::kBuy, 75, "120.00"));
  EXPECT_EQ(result.decision, DecisionKind::kAccepted);
  EXPECT_FALSE(result.account_state_request.has_value());
}

TEST_F(GateTest, UnrealisedLossAboveLimitMakesAccountReduceOnly) {
  config_.account_defaults.max_daily_loss = Rs("749.99").value();
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("130.00"));
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_DAILY_LOSS_LIMIT));
  EXPECT_EQ(result.account_state_request, TradingState::kReducing);
  EXPECT_EQ(Message(result, order),
            "loss today of account ACC1 is 750.00, above the limit 749.99; the account is "
            "reduce-only (orders that reduce a position only)");
}

TEST_F(GateTest, ReducingOrderPassesAfterLossLimitButStillRequestsReduceOnly) {
  config_.account_defaults.max_daily_loss = Rs("100.00").value();
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("130.00"));
  RiskResult result = Evaluate(Call(Side::kSell, 75, "120.00"));
  EXPECT_EQ(result.decision, DecisionKind::kAccepted);
  EXPECT_EQ(result.account_state_request, TradingState::kReducing);
}

TEST_F(GateTest, HaltingLossLimitRejectsEvenReducingOrders) {
  config_.account_defaults.max_daily_loss = Rs("100.00").value();
  config_.daily_loss_state = TradingState::kHalted;
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("130.00"));
  TestOrder order = Call(Side::kSell, 75, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_DAILY_LOSS_LIMIT));
  EXPECT_EQ(result.account_state_request, TradingState::kHalted);
  EXPECT_THAT(Message(result, order), HasSubstr("the account is halted"));
}

TEST_F(GateTest, RealisedLossCountsToday) {
  config_.account_defaults.max_daily_loss = Rs("300.00").value();
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("125.00"));
  Hold("NIFTY26DEC26000CE", Side::kSell, 75, Rs("120.95"));  // realised -303.75
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_DAILY_LOSS_LIMIT);
}

TEST_F(GateTest, YesterdaysRealisedLossDoesNotCount) {
  config_.account_defaults.max_daily_loss = Rs("300.00").value();
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("125.00"));
  Hold("NIFTY26DEC26000CE", Side::kSell, 75, Rs("120.95"));
  now_ = IstMidnight(*ParseIsoDate("2026-12-02")) + 10 * kHour;
  SetTestPrices(market_, now_);
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, ProfitableAccountIsNotLimited) {
  config_.account_defaults.max_daily_loss = Rs("0.00").value();
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("110.00"));
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

// --- self-trade -----------------------------------------------------------------------------

TEST_F(GateTest, BuyAtOwnRestingSellIsSelfTrade) {
  OrderId id = Open(Call(Side::kSell, 75, "120.00"));
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_SELF_TRADE));
  EXPECT_EQ(Message(result, order), "BUY at 120.00 would trade with own resting SELL " +
                                        FormatOrderId(id) + " at 120.00 in NIFTY26DEC26000CE");
}

TEST_F(GateTest, BuyBelowOwnRestingSellIsFine) {
  Open(Call(Side::kSell, 75, "120.00"));
  ExpectAccepted(Call(Side::kBuy, 75, "119.95"));
}

TEST_F(GateTest, SellAtOrBelowOwnRestingBuyIsSelfTrade) {
  Open(Call(Side::kBuy, 75, "118.00"));
  ExpectAccepted(Call(Side::kSell, 75, "118.05"));
  ExpectOnly(Call(Side::kSell, 75, "118.00"), ReasonCode::k_SELF_TRADE);
}

TEST_F(GateTest, SelfTradeIsPerAccount) {
  Open(TestOrder("NIFTY26DEC26000CE", Side::kSell, 75, Rs("120.00"), "ACC2"));
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, MarketBuyCrossingOwnSellIsSelfTrade) {
  Open(Call(Side::kSell, 75, "125.00"));
  ExpectOnly(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, std::nullopt),
             ReasonCode::k_SELF_TRADE);
}

// --- session --------------------------------------------------------------------------------

class SessionGateTest : public GateTest {
 protected:
  RiskResult At(std::string_view date, Nanos time_of_day) {
    now_ = IstMidnight(*ParseIsoDate(date)) + time_of_day;
    SetTestPrices(market_, now_);
    return Evaluate(Call(Side::kBuy, 75, "120.00"));
  }
};

TEST_F(SessionGateTest, OpensAtNineFifteen) {
  EXPECT_THAT(Codes(At("2026-12-01", 9 * kHour + 15 * kMinute - 1)),
              ElementsAre(ReasonCode::k_MARKET_CLOSED));
  EXPECT_EQ(At("2026-12-01", 9 * kHour + 15 * kMinute).decision, DecisionKind::kAccepted);
}

TEST_F(SessionGateTest, ClosesAtHalfPastThree) {
  EXPECT_EQ(At("2026-12-01", 15 * kHour + 30 * kMinute - 1).decision, DecisionKind::kAccepted);
  RiskResult result = At("2026-12-01", 15 * kHour + 30 * kMinute);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_MARKET_CLOSED));
  EXPECT_EQ(Message(result, Call(Side::kBuy, 75, "120.00")),
            "market is closed at 15:30:00 IST: the session is 09:15:00 to 15:30:00 IST on "
            "trading days");
}

TEST_F(SessionGateTest, ClosedOnWeekends) {
  EXPECT_THAT(Codes(At("2026-12-05", 10 * kHour)), ElementsAre(ReasonCode::k_MARKET_CLOSED));
}

TEST_F(SessionGateTest, ClosedOnConfiguredHolidays) {
  config_.session.holidays = {*ParseIsoDate("2026-12-25")};
  EXPECT_THAT(Codes(At("2026-12-25", 10 * kHour)), ElementsAre(ReasonCode::k_MARKET_CLOSED));
  EXPECT_EQ(At("2026-12-24", 10 * kHour).decision, DecisionKind::kAccepted);
}

TEST_F(SessionGateTest, OpenOnSpecialTradingDays) {
  config_.session.special_trading_days = {*ParseIsoDate("2026-12-06")};
  EXPECT_EQ(At("2026-12-06", 10 * kHour).decision, DecisionKind::kAccepted);
}

TEST_F(SessionGateTest, NotEnforcedWhenSwitchedOff) {
  config_.rule(RuleId::kSession).enabled = false;
  EXPECT_EQ(At("2026-12-05", 23 * kHour).decision, DecisionKind::kAccepted);
}

// --- trading states -------------------------------------------------------------------------

TEST_F(GateTest, GlobalHaltRejectsEverything) {
  state_.SetTradingState(AdminScope::kGlobal, "", TradingState::kHalted);
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_TRADING_HALTED));
  EXPECT_EQ(Message(result, order), "trading is halted");
}

TEST_F(GateTest, AccountHaltOnlyAffectsThatAccount) {
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kHalted);
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  EXPECT_EQ(Message(Evaluate(order), order), "trading is halted for account ACC1");
  ExpectAccepted(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"), "ACC2"));
}

TEST_F(GateTest, StrategyHaltOnlyAffectsThatStrategy) {
  state_.SetTradingState(AdminScope::kStrategy, "straddle", TradingState::kHalted);
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_TRADING_HALTED);
  ExpectAccepted(TestOrder("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"), "ACC1", "other"));
}

TEST_F(GateTest, ResumeMakesTheAccountActiveAgain) {
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kHalted);
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kActive);
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, HaltWinsOverReduceOnly) {
  state_.SetTradingState(AdminScope::kGlobal, "", TradingState::kReducing);
  state_.SetTradingState(AdminScope::kStrategy, "straddle", TradingState::kHalted);
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_TRADING_HALTED);
}

TEST_F(GateTest, ReduceOnlyRejectsOpeningAFlatPosition) {
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kReducing);
  TestOrder order = Call(Side::kBuy, 75, "120.00");
  RiskResult result = Evaluate(order);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_REDUCE_ONLY));
  EXPECT_EQ(Message(result, order),
            "account ACC1 is reduce-only and this order does not reduce the position in "
            "NIFTY26DEC26000CE (net 0)");
}

TEST_F(GateTest, ReduceOnlyAcceptsSellingPartOfALong) {
  Hold("NIFTY26DEC26000CE", Side::kBuy, 150, Rs("120.00"));
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kReducing);
  ExpectAccepted(Call(Side::kSell, 75, "120.00"));
  ExpectAccepted(Call(Side::kSell, 150, "120.00"));
}

TEST_F(GateTest, ReduceOnlyRejectsAddingToALong) {
  Hold("NIFTY26DEC26000CE", Side::kBuy, 150, Rs("120.00"));
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kReducing);
  ExpectOnly(Call(Side::kBuy, 75, "120.00"), ReasonCode::k_REDUCE_ONLY);
}

TEST_F(GateTest, ReduceOnlyRejectsFlippingALong) {
  Hold("NIFTY26DEC26000CE", Side::kBuy, 150, Rs("120.00"));
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kReducing);
  ExpectOnly(Call(Side::kSell, 225, "120.00"), ReasonCode::k_REDUCE_ONLY);
}

TEST_F(GateTest, ReduceOnlyCountsOtherOpenReducingOrders) {
  Hold("NIFTY26DEC26000CE", Side::kBuy, 150, Rs("120.00"));
  Open(Call(Side::kSell, 75, "121.00"));
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kReducing);
  ExpectAccepted(Call(Side::kSell, 75, "121.00"));
  ExpectOnly(Call(Side::kSell, 150, "121.00"), ReasonCode::k_REDUCE_ONLY);
}

TEST_F(GateTest, ReduceOnlyAcceptsBuyingBackAShort) {
  Hold("NIFTY26DEC26000CE", Side::kSell, 150, Rs("120.00"));
  state_.SetTradingState(AdminScope::kGlobal, "", TradingState::kReducing);
  ExpectAccepted(Call(Side::kBuy, 150, "120.00"));
  ExpectOnly(Call(Side::kSell, 75, "120.00"), ReasonCode::k_REDUCE_ONLY);
  ExpectOnly(Call(Side::kBuy, 225, "120.00"), ReasonCode::k_REDUCE_ONLY);
}

TEST_F(GateTest, ReduceOnlyLooksAtTheOrdersOwnContract) {
  Hold("NIFTY26DEC26000PE", Side::kBuy, 150, Rs("110.00"));
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kReducing);
  ExpectOnly(Call(Side::kSell, 75, "120.00"), ReasonCode::k_REDUCE_ONLY);
}

// --- escalation -----------------------------------------------------------------------------

TEST_F(GateTest, EscalatesFarExpiry) {
  config_.escalate_days_to_expiry_above = 28;
  // NIFTY26DECFUT expires 2026-12-29, 28 days after 2026-12-01: decided locally.
  ExpectAccepted(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26000.00")));
  TestOrder far("NIFTY27MARFUT", Side::kBuy, 75, Rs("26200.00"));
  RiskResult result = Evaluate(far);
  EXPECT_EQ(result.decision, DecisionKind::kEscalated);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_ESCALATE_DAYS_TO_EXPIRY));
  EXPECT_EQ(Message(result, far),
            "NIFTY27MARFUT expires in 119 days, more than 28 decided locally");
}

TEST_F(GateTest, EscalatesDeepInTheMoneyOptions) {
  config_.escalate_in_the_money_basis_points = 300;  // 3%
  // Strike 25000 vs the future at 26000: 3.84% in the money.
  TestOrder deep("NIFTY26DEC25000CE", Side::kBuy, 75, Rs("1010.00"));
  RiskResult result = Evaluate(deep);
  EXPECT_EQ(result.decision, DecisionKind::kEscalated);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_ESCALATE_MONEYNESS));
  EXPECT_EQ(Message(result, deep), "NIFTY26DEC25000CE is 3.84% in the money, more than 3.00%");
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
}

TEST_F(GateTest, OutOfTheMoneyPutIsNotEscalated) {
  config_.escalate_in_the_money_basis_points = 0;
  market_.SetLastTrade(kNiftyFuture, Rs("26100.00"), now_);
  ExpectAccepted(TestOrder("NIFTY26DEC26000PE", Side::kBuy, 75, Rs("110.00")));
}

TEST_F(GateTest, UnknownUnderlyingPriceSkipsMoneynessByDefault) {
  config_.escalate_in_the_money_basis_points = 300;
  InMemoryMarketView no_master(table_, ReferencePricePolicy{5 * kSecond, false});
  SetTestPrices(no_master, now_);
  no_master.ClearLastTrade(kNiftyFuture);
  RiskGate gate(config_);
  TestOrder deep("NIFTY26DEC25000CE", Side::kBuy, 75, Rs("1010.00"));
  EXPECT_EQ(gate.Evaluate(deep.View(*table_), state_, no_master, now_).decision,
            DecisionKind::kAccepted);
  config_.escalate_when_moneyness_unknown = true;
  RiskGate strict(config_);
  RiskResult result = strict.Evaluate(deep.View(*table_), state_, no_master, now_);
  EXPECT_EQ(result.decision, DecisionKind::kEscalated);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_ESCALATE_MONEYNESS));
}

TEST_F(GateTest, EscalatesStrategiesNotDecidedLocally) {
  config_.local_strategies = {"scalper", "straddle"};
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
  TestOrder order("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("120.00"), "ACC1", "hedger");
  RiskResult result = Evaluate(order);
  EXPECT_EQ(result.decision, DecisionKind::kEscalated);
  EXPECT_EQ(Message(result, order), "strategy 'hedger' is not decided locally");
}

TEST_F(GateTest, EscalatesLargeNotional) {
  config_.escalate_notional_above = Rs("1950000.00").value();  // 75 x 26000.00
  ExpectAccepted(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26000.00")));
  RiskResult result = Evaluate(TestOrder("NIFTY26DECFUT", Side::kBuy, 75, Rs("26000.10")));
  EXPECT_EQ(result.decision, DecisionKind::kEscalated);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_ESCALATE_NOTIONAL));
}

TEST_F(GateTest, OptionNotionalUsesTheStrike) {
  config_.escalate_notional_above = Rs("1950000.00").value();  // 75 x strike 26000
  ExpectAccepted(Call(Side::kBuy, 75, "120.00"));
  EXPECT_EQ(Evaluate(Call(Side::kBuy, 150, "120.00")).decision, DecisionKind::kEscalated);
}

TEST_F(GateTest, AnyLimitCanEscalateInsteadOfReject) {
  config_.rule(RuleId::kFreeze).action = Action::kEscalate;
  RiskResult result = Evaluate(Call(Side::kBuy, 1875, "120.00"));
  EXPECT_EQ(result.decision, DecisionKind::kEscalated);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_QTY_ABOVE_FREEZE_LIMIT));
  EXPECT_EQ(result.breaches[0].action, Action::kEscalate);
}

TEST_F(GateTest, RejectWinsOverEscalate) {
  config_.escalate_days_to_expiry_above = 0;
  RiskResult result = Evaluate(Call(Side::kBuy, 70, "120.00"));
  EXPECT_EQ(result.decision, DecisionKind::kRejected);
  EXPECT_THAT(Codes(result), ElementsAre(ReasonCode::k_QTY_NOT_LOT_MULTIPLE,
                                         ReasonCode::k_ESCALATE_DAYS_TO_EXPIRY));
}

TEST_F(GateTest, DisabledRuleDoesNotRun) {
  config_.rule(RuleId::kQuantity).enabled = false;
  ExpectAccepted(Call(Side::kBuy, 70, "120.00"));
}

// --- combinations ---------------------------------------------------------------------------

TEST_F(GateTest, ReportsEveryBreachNotJustTheFirst) {
  config_.account_defaults.max_order_value = Rs("100.00").value();
  state_.SetTradingState(AdminScope::kAccount, "ACC1", TradingState::kHalted);
  TestOrder order = Call(Side::kBuy, 1870, "200.03");
  RiskResult result = Evaluate(order);
  EXPECT_EQ(result.decision, DecisionKind::kRejected);
  EXPECT_THAT(Codes(result),
              ElementsAre(ReasonCode::k_QTY_NOT_LOT_MULTIPLE, ReasonCode::k_QTY_ABOVE_FREEZE_LIMIT,
                          ReasonCode::k_PRICE_NOT_TICK_MULTIPLE, ReasonCode::k_PRICE_OUTSIDE_BAND,
                          ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT, ReasonCode::k_TRADING_HALTED));
  std::vector<Reason> reasons = BreachReasons(result, order.View(*table_));
  ASSERT_EQ(reasons.size(), 6u);
  EXPECT_EQ(reasons[0].message, "quantity 1870 is not a multiple of lot size 75");
  for (const Reason& reason : reasons) EXPECT_FALSE(reason.message.empty());
}

TEST_F(GateTest, UnknownInstrumentStillRunsAccountRules) {
  state_.SetTradingState(AdminScope::kGlobal, "", TradingState::kHalted);
  RiskResult result = Evaluate(TestOrder("NOPE", Side::kBuy, 0, Rs("1.00")));
  EXPECT_THAT(Codes(result),
              ElementsAre(ReasonCode::k_UNKNOWN_INSTRUMENT, ReasonCode::k_QTY_NOT_POSITIVE,
                          ReasonCode::k_TRADING_HALTED));
}

TEST_F(GateTest, EvaluationIsDeterministic) {
  Hold("NIFTY26DEC26000CE", Side::kBuy, 75, Rs("130.00"));
  RiskResult first = Evaluate(Call(Side::kBuy, 70, "168.05"));
  RiskResult second = Evaluate(Call(Side::kBuy, 70, "168.05"));
  ASSERT_EQ(first.breaches.size(), second.breaches.size());
  for (size_t i = 0; i < first.breaches.size(); ++i) {
    EXPECT_EQ(first.breaches[i], second.breaches[i]);
  }
  EXPECT_EQ(first.reference, second.reference);
}

}  // namespace
}  // namespace wojak
