// Tests for the reference-price policy, price bands and market protection arithmetic.
#include "risk/market_view.h"

#include <gtest/gtest.h>

#include "risk/price_math.h"
#include "risk/risk_testing.h"

namespace wojak {
namespace {

using namespace risk_testing;  // NOLINT

constexpr Nanos kSecond = kNanosPerSecond;
const Nanos kNow = 1'000 * kSecond;

Paise Rs(std::string_view text) { return *Paise::Parse(text); }

TEST(ResolveReferencePriceTest, FreshLtpWins) {
  auto ref = ResolveReferencePrice(LastTrade{Rs("120.00"), kNow - kSecond}, Rs("100.00"), kNow, {});
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->price, Rs("120.00"));
  EXPECT_EQ(ref->source, PriceSource::kLastTradedPrice);
  EXPECT_EQ(ref->as_of, kNow - kSecond);
}

TEST(ResolveReferencePriceTest, LtpExactlyMaxAgeOldIsFresh) {
  auto ref =
      ResolveReferencePrice(LastTrade{Rs("120.00"), kNow - 5 * kSecond}, Rs("100.00"), kNow, {});
  EXPECT_EQ(ref->source, PriceSource::kLastTradedPrice);
}

TEST(ResolveReferencePriceTest, StaleLtpFallsBackToMaster) {
  auto ref = ResolveReferencePrice(LastTrade{Rs("120.00"), kNow - 5 * kSecond - 1}, Rs("100.00"),
                                   kNow, {});
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->price, Rs("100.00"));
  EXPECT_EQ(ref->source, PriceSource::kMaster);
}

TEST(ResolveReferencePriceTest, TickFromTheFutureCountsAsFresh) {
  auto ref = ResolveReferencePrice(LastTrade{Rs("120.00"), kNow + kSecond}, Paise(), kNow, {});
  EXPECT_EQ(ref->source, PriceSource::kLastTradedPrice);
}

TEST(ResolveReferencePriceTest, NoLtpAndZeroMasterIsNone) {
  EXPECT_FALSE(ResolveReferencePrice(std::nullopt, Paise(), kNow, {}).has_value());
}

TEST(ResolveReferencePriceTest, FallbackCanBeDisabled) {
  ReferencePricePolicy policy{5 * kSecond, false};
  EXPECT_FALSE(ResolveReferencePrice(std::nullopt, Rs("100.00"), kNow, policy).has_value());
}

TEST(ResolveReferencePriceTest, MaxAgeIsConfigurable) {
  ReferencePricePolicy policy{kSecond, true};
  auto ref = ResolveReferencePrice(LastTrade{Rs("120.00"), kNow - 2 * kSecond}, Rs("100.00"), kNow,
                                   policy);
  EXPECT_EQ(ref->source, PriceSource::kMaster);
}

TEST(InMemoryMarketViewTest, UsesTicksAndMaster) {
  InMemoryMarketView market(TestInstruments());
  EXPECT_EQ(market.Reference(kNiftyFuture, kNow)->source, PriceSource::kMaster);
  EXPECT_FALSE(market.Reference(kNiftyCall, kNow).has_value());
  market.SetLastTrade(kNiftyCall, Rs("120.00"), kNow);
  EXPECT_EQ(market.Reference(kNiftyCall, kNow)->price, Rs("120.00"));
  market.ClearLastTrade(kNiftyCall);
  EXPECT_FALSE(market.Reference(kNiftyCall, kNow).has_value());
  EXPECT_FALSE(market.Reference(12345, kNow).has_value());
}

TEST(PriceBandTest, OptionsAboveThresholdUsePercent) {
  Instrument call = MakeContract(1, "C", "N", InstrumentType::kCall, "2026-12-29", 100, 75, 5, 0);
  PriceBandLimits band = ComputePriceBand(call, Rs("100.00"), PriceBands());
  EXPECT_EQ(band.low, Rs("60.00").value());
  EXPECT_EQ(band.high, Rs("140.00").value());
}

TEST(PriceBandTest, CheapOptionsUseAbsoluteAndNeverGoNegative) {
  Instrument put = MakeContract(1, "P", "N", InstrumentType::kPut, "2026-12-29", 100, 75, 5, 0);
  PriceBandLimits band = ComputePriceBand(put, Rs("5.00"), PriceBands());
  EXPECT_EQ(band.low, 0);
  EXPECT_EQ(band.high, Rs("25.00").value());
}

TEST(PriceBandTest, FuturesUsePercentTruncatedToPaise) {
  Instrument future =
      MakeContract(1, "F", "N", InstrumentType::kFuture, "2026-12-29", 0, 75, 10, 0);
  PriceBandLimits band = ComputePriceBand(future, Rs("100.99"), PriceBands());
  EXPECT_EQ(band.high - Rs("100.99").value(), 201);  // 2% of 100.99 is 2.0198
}

TEST(ProtectedMarketPriceTest, StaysOnTheTickGridInsideTheProtection) {
  EXPECT_EQ(ProtectedMarketPrice(Side::kBuy, Rs("100.00"), 500, Rs("0.05")), Rs("105.00"));
  EXPECT_EQ(ProtectedMarketPrice(Side::kSell, Rs("100.00"), 500, Rs("0.05")), Rs("95.00"));
  EXPECT_EQ(ProtectedMarketPrice(Side::kBuy, Rs("100.10"), 100, Rs("0.10")), Rs("101.10"));
  EXPECT_EQ(ProtectedMarketPrice(Side::kSell, Rs("0.05"), 500, Rs("0.05")), Rs("0.05"));
}

TEST(ProtectedMarketPriceTest, SellNeverGoesBelowOneTick) {
  EXPECT_EQ(ProtectedMarketPrice(Side::kSell, Rs("0.10"), 9000, Rs("0.05")), Rs("0.05"));
  EXPECT_EQ(ProtectedMarketPrice(Side::kSell, Rs("1.00"), 20000, Rs("0.05")), Rs("0.05"));
}

}  // namespace
}  // namespace wojak
