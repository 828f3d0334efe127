// Tests for contract calendar arithmetic: ISO dates, IST trading dates and expiry.
#include "model/instrument.h"

#include <gtest/gtest.h>

namespace wojak {
namespace {

constexpr Nanos kHour = 3600 * kNanosPerSecond;

TEST(CalendarTest, EpochIsDayZero) { EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0); }

TEST(CalendarTest, ParsesIsoDate) {
  EXPECT_EQ(ParseIsoDate("1970-01-02"), 1);
  EXPECT_EQ(ParseIsoDate("2026-01-27"), DaysFromCivil(2026, 1, 27));
}

TEST(CalendarTest, FormatsIsoDate) {
  EXPECT_EQ(FormatIsoDate(*DaysFromCivil(2026, 12, 1)), "2026-12-01");
  EXPECT_EQ(FormatIsoDate(-1), "1969-12-31");
}

TEST(CalendarTest, RejectsImpossibleDates) {
  EXPECT_FALSE(ParseIsoDate("2026-02-29").has_value());
  EXPECT_FALSE(ParseIsoDate("2026-13-01").has_value());
  EXPECT_FALSE(ParseIsoDate("2026-00-10").has_value());
  EXPECT_FALSE(ParseIsoDate("2026-04-31").has_value());
  EXPECT_FALSE(DaysFromCivil(2026, 1, 257).has_value());
  EXPECT_TRUE(ParseIsoDate("2028-02-29").has_value());
}

TEST(CalendarTest, RejectsMalformedDates) {
  for (const char* text : {"", "2026-1-27", "2026/01/27", "27-01-2026", "2026-01-2x", "+026-01-27",
                           "2026-01-27T00:00"}) {
    EXPECT_FALSE(ParseIsoDate(text).has_value()) << text;
  }
}

TEST(CalendarTest, WeekdayIsMondayZero) {
  EXPECT_EQ(Weekday(0), 3);                            // Thursday 1970-01-01
  EXPECT_EQ(Weekday(*ParseIsoDate("2026-12-01")), 1);  // Tuesday
  EXPECT_EQ(Weekday(*ParseIsoDate("2026-12-06")), 6);  // Sunday
  EXPECT_EQ(Weekday(-1), 2);                           // Wednesday 1969-12-31
}

TEST(IstTest, UtcEveningIsNextIstDate) {
  EpochDay day = *ParseIsoDate("2026-12-01");
  Nanos utc_midnight = int64_t{day} * kNanosPerDay;
  EXPECT_EQ(IstDate(utc_midnight), day);
  // 18:30 UTC is midnight IST.
  EXPECT_EQ(IstDate(utc_midnight + 18 * kHour + 30 * 60 * kNanosPerSecond - 1), day);
  EXPECT_EQ(IstDate(utc_midnight + 18 * kHour + 30 * 60 * kNanosPerSecond), day + 1);
}

TEST(IstTest, MidnightRoundTrips) {
  EpochDay day = *ParseIsoDate("2026-12-01");
  EXPECT_EQ(IstDate(IstMidnight(day)), day);
  EXPECT_EQ(IstTimeOfDay(IstMidnight(day)), 0);
  EXPECT_EQ(IstTimeOfDay(IstMidnight(day) + 10 * kHour), 10 * kHour);
}

TEST(IstTest, WorksBeforeTheEpoch) {
  EXPECT_EQ(IstDate(-kIstOffset - 1), -1);
  EXPECT_EQ(IstTimeOfDay(-kIstOffset - 1), kNanosPerDay - 1);
}

TEST(InstrumentTest, TradesThroughExpiryDay) {
  Instrument option;
  option.expiry = *ParseIsoDate("2026-12-29");
  EXPECT_FALSE(option.IsExpiredOn(*ParseIsoDate("2026-12-29")));
  EXPECT_TRUE(option.IsExpiredOn(*ParseIsoDate("2026-12-30")));
  EXPECT_FALSE(option.IsExpiredAt(IstMidnight(option.expiry) + 15 * kHour));
  EXPECT_TRUE(option.IsExpiredAt(IstMidnight(option.expiry + 1)));
}

TEST(InstrumentTest, DaysToExpiryIsZeroOnExpiryDay) {
  Instrument option;
  option.expiry = *ParseIsoDate("2026-12-29");
  EXPECT_EQ(option.DaysToExpiry(option.expiry), 0);
  EXPECT_EQ(option.DaysToExpiry(*ParseIsoDate("2026-12-01")), 28);
}

TEST(InstrumentTest, InstrumentWithoutExpiryNeverExpires) {
  Instrument index;
  EXPECT_FALSE(index.IsExpiredOn(*ParseIsoDate("2099-01-01")));
}

TEST(InstrumentTest, TypeNamesRoundTrip) {
  for (InstrumentType t : {InstrumentType::kCall, InstrumentType::kPut, InstrumentType::kFuture,
                           InstrumentType::kEquity}) {
    EXPECT_EQ(ParseInstrumentType(InstrumentTypeName(t)), t);
  }
  EXPECT_FALSE(ParseInstrumentType("XX").has_value());
}

TEST(InstrumentTest, OnlyNfoSegmentsAreDerivatives) {
  EXPECT_EQ(ParseSegment("NFO-OPT"), Segment::kNfoOptions);
  EXPECT_EQ(ParseSegment("NFO-FUT"), Segment::kNfoFutures);
  EXPECT_EQ(ParseSegment("BFO-OPT"), Segment::kOther);
  Instrument i;
  i.segment = Segment::kNfoOptions;
  i.exchange = "NFO";
  EXPECT_TRUE(i.IsNfoDerivative());
  i.exchange = "BFO";
  EXPECT_FALSE(i.IsNfoDerivative());
}

}  // namespace
}  // namespace wojak
