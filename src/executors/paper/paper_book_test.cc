// Paper matching rules against a fake price source, with wall time passed explicitly.
#include "executors/paper/paper_book.h"

#include <gtest/gtest.h>

#include <map>

namespace wojak {
namespace {

constexpr Nanos kStart = 1'796'000'000 * kNanosPerSecond;  // 2026-11-30 06:23:20 IST
constexpr char kSymbol[] = "NIFTY26DECFUT";

Paise Rs(std::string_view text) { return Paise::Parse(text).value(); }

// The latest tick per symbol, set by the test.
class FakePrices {
 public:
  void Set(std::string_view ltp, Nanos received_ns) {
    prices_[kSymbol] = LastPrice{Rs(ltp), received_ns, received_ns};
  }
  LastPriceSource Source() {
    return [this](std::string_view, std::string_view symbol) -> std::optional<LastPrice> {
      auto it = prices_.find(std::string(symbol));
      if (it == prices_.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::map<std::string, LastPrice> prices_;
};

ExecutionOrder Order(std::string id, Side side, OrderType type, std::optional<Paise> price = {},
                     std::optional<Paise> trigger = {}, Validity validity = Validity::kDay) {
  ExecutionOrder order;
  order.order_id = std::move(id);
  order.order.exchange = "NFO";
  order.order.symbol = kSymbol;
  order.order.side = side;
  order.order.quantity = 75;
  order.order.order_type = type;
  order.order.price = price;
  order.order.trigger_price = trigger;
  order.order.validity = validity;
  order.price = price.value_or(trigger.value_or(Rs("26000.00")));
  return order;
}

class PaperBookTest : public ::testing::Test {
 protected:
  PaperBookTest() : book_(Options(), prices_.Source()) {}
  static PaperOptions Options() {
    PaperOptions options;
    options.max_wait = std::chrono::milliseconds(2000);
    options.max_rest = std::chrono::milliseconds(60'000);
    options.max_age = std::chrono::milliseconds(5000);
    return options;
  }
  static Nanos Ms(int64_t ms) { return kStart + ms * kNanosPerMilli; }

  FakePrices prices_;
  PaperBook book_;
};

void ExpectFilled(const std::optional<ExecutionReport>& report, std::string_view price) {
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->status, ExecutionStatus::kFilled) << report->reason;
  EXPECT_EQ(report->fill_price, Rs(price));
  EXPECT_EQ(report->filled_quantity, 75);
  EXPECT_EQ(report->executor, "paper");
}

void ExpectFailed(const std::optional<ExecutionReport>& report, std::string_view code) {
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->status, ExecutionStatus::kFailed);
  EXPECT_EQ(report->reason.substr(0, report->reason.find(':')), code) << report->reason;
  EXPECT_EQ(report->filled_quantity, 0);
}

std::optional<ExecutionReport> Only(std::vector<ExecutionReport> reports) {
  EXPECT_LE(reports.size(), 1u);
  if (reports.empty()) return std::nullopt;
  return reports.front();
}

TEST_F(PaperBookTest, MarketBuyFillsAtFreshLtpOnArrival) {
  prices_.Set("26065.50", Ms(0));
  ExpectFilled(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kMarket), Ms(10)), "26065.50");
  EXPECT_EQ(book_.resting(), 0u);
}

TEST_F(PaperBookTest, MarketSellWaitsForTheFirstFreshLtp) {
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kSell, OrderType::kMarket), Ms(0)));
  EXPECT_FALSE(Only(book_.Poll(Ms(100))));
  prices_.Set("26070.00", Ms(150));
  ExpectFilled(Only(book_.Poll(Ms(160))), "26070.00");
  EXPECT_EQ(book_.resting(), 0u);
}

TEST_F(PaperBookTest, MarketFailsWithNoLtpAfterMaxWait) {
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kMarket), Ms(0)));
  EXPECT_FALSE(Only(book_.Poll(Ms(1999))));
  ExpectFailed(Only(book_.Poll(Ms(2000))), "NO_LTP");
}

TEST_F(PaperBookTest, StaleLtpIsIgnored) {
  prices_.Set("26065.50", Ms(0));
  // 5001 ms after the tick arrived: older than max_age.
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kMarket), Ms(5001)));
  EXPECT_FALSE(Only(book_.Poll(Ms(6000))));
  ExpectFailed(Only(book_.Poll(Ms(7001))), "NO_LTP");
}

TEST_F(PaperBookTest, LtpExactlyMaxAgeOldStillCounts) {
  prices_.Set("26065.50", Ms(0));
  ExpectFilled(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kMarket), Ms(5000)), "26065.50");
}

TEST_F(PaperBookTest, TickReceivedAfterTheDeadlineDoesNotFill) {
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kMarket), Ms(0)));
  prices_.Set("26065.50", Ms(2001));
  ExpectFailed(Only(book_.Poll(Ms(2005))), "NO_LTP");
}

TEST_F(PaperBookTest, MarketableLimitBuyFillsAtLtpOnArrival) {
  prices_.Set("26060.00", Ms(0));
  ExpectFilled(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00")), Ms(1)),
               "26060.00");
}

TEST_F(PaperBookTest, MarketableLimitSellFillsAtLtpOnArrival) {
  prices_.Set("26070.00", Ms(0));
  ExpectFilled(book_.Arrive(Order("W-1", Side::kSell, OrderType::kLimit, Rs("26065.00")), Ms(1)),
               "26070.00");
}

TEST_F(PaperBookTest, RestingLimitBuyFillsAtLimitWhenLtpFallsToIt) {
  prices_.Set("26070.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00")), Ms(1)));
  prices_.Set("26065.05", Ms(10));
  EXPECT_FALSE(Only(book_.Poll(Ms(11))));
  prices_.Set("26050.00", Ms(20));
  ExpectFilled(Only(book_.Poll(Ms(21))), "26065.00");
}

TEST_F(PaperBookTest, RestingLimitSellFillsAtLimitWhenLtpRisesToIt) {
  prices_.Set("26060.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kSell, OrderType::kLimit, Rs("26065.00")), Ms(1)));
  prices_.Set("26064.95", Ms(10));
  EXPECT_FALSE(Only(book_.Poll(Ms(11))));
  prices_.Set("26065.00", Ms(20));
  ExpectFilled(Only(book_.Poll(Ms(21))), "26065.00");
}

TEST_F(PaperBookTest, LimitWithoutFreshLtpRests) {
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00")), Ms(0)));
  EXPECT_EQ(book_.resting(), 1u);
  EXPECT_FALSE(Only(book_.Poll(Ms(30'000))));
}

TEST_F(PaperBookTest, StopLossBuyTriggersThenFillsAsLimit) {
  prices_.Set("26000.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(
      Order("W-1", Side::kBuy, OrderType::kStopLoss, Rs("26055.00"), Rs("26050.00")), Ms(1)));
  prices_.Set("26049.95", Ms(10));
  EXPECT_FALSE(Only(book_.Poll(Ms(11))));
  // Crosses the trigger and is within the limit: a marketable LIMIT arriving at this LTP.
  prices_.Set("26052.00", Ms(20));
  ExpectFilled(Only(book_.Poll(Ms(21))), "26052.00");
}

TEST_F(PaperBookTest, TriggeredStopLossAboveLimitRestsAsLimit) {
  prices_.Set("26000.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(
      Order("W-1", Side::kBuy, OrderType::kStopLoss, Rs("26055.00"), Rs("26050.00")), Ms(1)));
  prices_.Set("26060.00", Ms(10));  // triggers, but above the limit
  EXPECT_FALSE(Only(book_.Poll(Ms(11))));
  // Back under the trigger: still triggered, so the limit alone decides.
  prices_.Set("26040.00", Ms(20));
  ExpectFilled(Only(book_.Poll(Ms(21))), "26055.00");
}

TEST_F(PaperBookTest, StopLossSellTriggersWhenLtpFallsToTrigger) {
  prices_.Set("26100.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(
      Order("W-1", Side::kSell, OrderType::kStopLoss, Rs("26040.00"), Rs("26050.00")), Ms(1)));
  prices_.Set("26050.05", Ms(10));
  EXPECT_FALSE(Only(book_.Poll(Ms(11))));
  prices_.Set("26045.00", Ms(20));
  ExpectFilled(Only(book_.Poll(Ms(21))), "26045.00");
}

TEST_F(PaperBookTest, StopLossMarketBuyFillsAtTriggeringLtp) {
  prices_.Set("26000.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(
      Order("W-1", Side::kBuy, OrderType::kStopLossMarket, std::nullopt, Rs("26050.00")), Ms(1)));
  prices_.Set("26080.00", Ms(10));
  ExpectFilled(Only(book_.Poll(Ms(11))), "26080.00");
}

TEST_F(PaperBookTest, StopLossMarketSellAlreadyTriggeredOnArrivalFillsAtOnce) {
  prices_.Set("26000.00", Ms(0));
  ExpectFilled(book_.Arrive(Order("W-1", Side::kSell, OrderType::kStopLossMarket, std::nullopt,
                                  Rs("26050.00")),
                            Ms(1)),
               "26000.00");
}

TEST_F(PaperBookTest, IocLimitNotMarketableFailsAtOnce) {
  prices_.Set("26070.00", Ms(0));
  ExpectFailed(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00"),
                                  std::nullopt, Validity::kIoc),
                            Ms(1)),
               "IOC_NOT_FILLABLE");
  EXPECT_EQ(book_.resting(), 0u);
}

TEST_F(PaperBookTest, IocLimitMarketableFillsAtLtp) {
  prices_.Set("26060.00", Ms(0));
  ExpectFilled(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00"),
                                  std::nullopt, Validity::kIoc),
                            Ms(1)),
               "26060.00");
}

TEST_F(PaperBookTest, IocMarketWithoutFreshLtpFailsAtOnce) {
  ExpectFailed(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kMarket, std::nullopt, std::nullopt,
                                  Validity::kIoc),
                            Ms(0)),
               "IOC_NOT_FILLABLE");
}

TEST_F(PaperBookTest, IocStopLossNotTriggeredOnArrivalFailsAtOnce) {
  prices_.Set("26100.00", Ms(0));
  ExpectFailed(book_.Arrive(Order("W-1", Side::kSell, OrderType::kStopLoss, Rs("26040.00"),
                                  Rs("26050.00"), Validity::kIoc),
                            Ms(1)),
               "IOC_NOT_FILLABLE");
  EXPECT_EQ(book_.resting(), 0u);
}

TEST_F(PaperBookTest, DayLimitExpiresUnfilledAfterMaxRest) {
  prices_.Set("26070.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00")), Ms(0)));
  EXPECT_FALSE(Only(book_.Poll(Ms(59'999))));
  ExpectFailed(Only(book_.Poll(Ms(60'000))), "EXPIRED_UNFILLED");
  EXPECT_EQ(book_.resting(), 0u);
}

TEST_F(PaperBookTest, DayOrderRestsUntilSessionCloseByDefault) {
  PaperBook book(PaperOptions{}, prices_.Source());
  // 2026-12-01 15:29:59 IST = 09:59:59 UTC.
  const Nanos arrival = (1'796'083'200 + 9 * 3600 + 59 * 60 + 59) * kNanosPerSecond;
  EXPECT_FALSE(book.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("1.00")), arrival));
  EXPECT_FALSE(Only(book.Poll(arrival + kNanosPerSecond - 1)));
  ExpectFailed(Only(book.Poll(arrival + kNanosPerSecond)), "EXPIRED_UNFILLED");
}

TEST(NextSessionCloseTest, IsTheNextHalfPastThreeInIndia) {
  const Nanos midnight_utc = 1'796'083'200 * kNanosPerSecond;  // 2026-12-01 00:00 UTC
  const Nanos close = midnight_utc + 10 * 3600 * kNanosPerSecond;
  EXPECT_EQ(NextSessionClose(midnight_utc), close);
  EXPECT_EQ(NextSessionClose(close - 1), close);
  EXPECT_EQ(NextSessionClose(close), close + 24 * 3600 * kNanosPerSecond);
}

TEST_F(PaperBookTest, ResubmittingAFilledOrderDoesNotFillAgain) {
  prices_.Set("26065.50", Ms(0));
  ExpectFilled(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kMarket), Ms(1)), "26065.50");
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kMarket), Ms(2)));
  EXPECT_EQ(book_.resting(), 0u);
}

TEST_F(PaperBookTest, ResubmittingARestingOrderKeepsOneOrderResting) {
  prices_.Set("26070.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00")), Ms(1)));
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00")), Ms(2)));
  EXPECT_EQ(book_.resting(), 1u);
  prices_.Set("26060.00", Ms(10));
  EXPECT_EQ(book_.Poll(Ms(11)).size(), 1u);
  EXPECT_TRUE(book_.Poll(Ms(12)).empty());
}

TEST_F(PaperBookTest, WithdrawnOrderNeverFills) {
  prices_.Set("26070.00", Ms(0));
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00")), Ms(1)));
  EXPECT_TRUE(book_.Withdraw("W-1"));
  prices_.Set("26060.00", Ms(10));
  EXPECT_TRUE(book_.Poll(Ms(11)).empty());
  EXPECT_FALSE(book_.Arrive(Order("W-1", Side::kBuy, OrderType::kLimit, Rs("26065.00")), Ms(12)));
  EXPECT_FALSE(book_.Withdraw("W-1"));
}

}  // namespace
}  // namespace wojak
