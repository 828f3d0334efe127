// Tests for the indexed instrument table and underlying-future linking.
#include "instruments/instrument_table.h"

#include <gtest/gtest.h>

namespace wojak {
namespace {

Instrument Contract(int64_t token, std::string symbol, std::string name, InstrumentType type,
                    std::string_view expiry) {
  Instrument i;
  i.instrument_token = token;
  i.tradingsymbol = std::move(symbol);
  i.name = std::move(name);
  i.instrument_type = type;
  i.segment = type == InstrumentType::kFuture ? Segment::kNfoFutures : Segment::kNfoOptions;
  i.exchange = "NFO";
  i.expiry = *ParseIsoDate(expiry);
  i.lot_size = 75;
  i.tick_size = Paise::FromPaise(5);
  return i;
}

std::shared_ptr<const InstrumentTable> NiftyTable() {
  std::vector<Instrument> list = {
      Contract(1, "NIFTY26DECFUT", "NIFTY", InstrumentType::kFuture, "2026-12-29"),
      Contract(2, "NIFTY27JANFUT", "NIFTY", InstrumentType::kFuture, "2027-01-26"),
      Contract(3, "NIFTY26DEC26000CE", "NIFTY", InstrumentType::kCall, "2026-12-29"),
      Contract(4, "NIFTY26D0826000PE", "NIFTY", InstrumentType::kPut, "2026-12-08"),
      Contract(5, "NIFTY2720226000CE", "NIFTY", InstrumentType::kCall, "2027-02-02"),
      Contract(6, "TCS26DEC4200CE", "TCS", InstrumentType::kCall, "2026-12-29"),
  };
  auto table = InstrumentTable::Create(std::move(list));
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return *table;
}

TEST(InstrumentTableTest, FindsBySymbol) {
  auto table = NiftyTable();
  const Instrument* found = table->FindBySymbol("NIFTY26DEC26000CE");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->instrument_token, 3);
}

TEST(InstrumentTableTest, FindsByToken) {
  auto table = NiftyTable();
  const Instrument* found = table->FindByToken(2);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->tradingsymbol, "NIFTY27JANFUT");
}

TEST(InstrumentTableTest, UnknownSymbolOrTokenIsNull) {
  auto table = NiftyTable();
  EXPECT_EQ(table->FindBySymbol("NIFTY26DEC26000XX"), nullptr);
  EXPECT_EQ(table->FindBySymbol(""), nullptr);
  EXPECT_EQ(table->FindByToken(99), nullptr);
}

TEST(InstrumentTableTest, RejectsDuplicateSymbol) {
  auto table =
      InstrumentTable::Create({Contract(1, "X", "NIFTY", InstrumentType::kFuture, "2026-12-29"),
                               Contract(2, "X", "NIFTY", InstrumentType::kFuture, "2026-12-29")});
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("duplicate trading symbol X"), std::string::npos);
}

TEST(InstrumentTableTest, RejectsDuplicateToken) {
  auto table =
      InstrumentTable::Create({Contract(1, "X", "NIFTY", InstrumentType::kFuture, "2026-12-29"),
                               Contract(1, "Y", "NIFTY", InstrumentType::kFuture, "2026-12-29")});
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("duplicate instrument token 1"), std::string::npos);
}

TEST(InstrumentTableTest, OptionLinksToFutureOfSameExpiry) {
  EXPECT_EQ(NiftyTable()->FindBySymbol("NIFTY26DEC26000CE")->underlying_token, 1);
}

TEST(InstrumentTableTest, WeeklyOptionLinksToNextFuture) {
  EXPECT_EQ(NiftyTable()->FindBySymbol("NIFTY26D0826000PE")->underlying_token, 1);
}

TEST(InstrumentTableTest, OptionBeyondLastFutureLinksToFarthestFuture) {
  EXPECT_EQ(NiftyTable()->FindBySymbol("NIFTY2720226000CE")->underlying_token, 2);
}

TEST(InstrumentTableTest, UnderlyingWithoutFutureHasNoLink) {
  EXPECT_EQ(NiftyTable()->FindBySymbol("TCS26DEC4200CE")->underlying_token, 0);
}

TEST(InstrumentTableTest, EmptyTableFindsNothing) {
  auto table = InstrumentTable::Empty();
  EXPECT_EQ(table->size(), 0u);
  EXPECT_EQ(table->FindBySymbol("NIFTY26DECFUT"), nullptr);
}

}  // namespace
}  // namespace wojak
