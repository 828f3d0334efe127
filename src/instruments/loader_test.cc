// Tests for the instruments CSV and freeze-limit loaders against the committed fixtures.
#include "instruments/loader.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace wojak {
namespace {

std::string TestData(const std::string& name) {
  const char* root = std::getenv("WOJAK_SOURCE_DIR");
  return std::string(root != nullptr ? root : WOJAK_SOURCE_DIR_DEFAULT) + "/tests/testdata/" + name;
}

constexpr std::string_view kHeader =
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,"
    "lot_size,instrument_type,segment,exchange\n";

std::shared_ptr<const InstrumentTable> Fixture() {
  auto table = LoadInstrumentTable(TestData("instruments.csv"), TestData("freeze_limits.csv"));
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? *table : InstrumentTable::Empty();
}

// The row line number each error (one per message line) is about, in order.
std::vector<int> LinesMentioned(const std::string& message) {
  std::vector<int> lines;
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    size_t pos = message.find(" line ", start);
    if (pos != std::string::npos && pos < end)
      lines.push_back(std::atoi(message.c_str() + pos + 6));
    start = end + 1;
  }
  return lines;
}

TEST(FixtureTest, LoadsEveryNfoRow) {
  auto table = Fixture();
  EXPECT_GT(table->size(), 5000u);
  EXPECT_NE(table->FindBySymbol("BANKNIFTY27MARFUT"), nullptr);
  EXPECT_NE(table->FindBySymbol("MIDCPNIFTY2720213500CE"), nullptr);
  EXPECT_NE(table->FindBySymbol("HDFCBANK26DEC1000PE"), nullptr);
}

TEST(FixtureTest, ParsesEveryColumnOfAnOption) {
  auto table = Fixture();
  const Instrument* option = table->FindBySymbol("NIFTY26DEC26000CE");
  ASSERT_NE(option, nullptr);
  EXPECT_GT(option->instrument_token, 0);
  EXPECT_EQ(option->name, "NIFTY");
  EXPECT_EQ(option->last_price, Paise::FromPaise(26000));
  EXPECT_EQ(option->expiry, *ParseIsoDate("2026-12-29"));
  EXPECT_EQ(option->strike, Paise::FromRupees(26000));
  EXPECT_EQ(option->tick_size, Paise::FromPaise(5));
  EXPECT_EQ(option->lot_size, 75);
  EXPECT_EQ(option->instrument_type, InstrumentType::kCall);
  EXPECT_EQ(option->segment, Segment::kNfoOptions);
  EXPECT_EQ(option->exchange, "NFO");
  EXPECT_EQ(option->freeze_quantity, 1800);
}

TEST(FixtureTest, WeeklyOptionLinksToMonthlyFuture) {
  auto table = Fixture();
  const Instrument* weekly = table->FindBySymbol("NIFTY26D0126000PE");
  ASSERT_NE(weekly, nullptr);
  const Instrument* future = table->FindByToken(weekly->underlying_token);
  ASSERT_NE(future, nullptr);
  EXPECT_EQ(future->tradingsymbol, "NIFTY26DECFUT");
  EXPECT_GT(future->last_price, Paise());
}

TEST(FixtureTest, IndexFuturesTickInTenPaise) {
  auto table = Fixture();
  const Instrument* future = table->FindBySymbol("BANKNIFTY26DECFUT");
  ASSERT_NE(future, nullptr);
  EXPECT_EQ(future->tick_size, Paise::FromPaise(10));
  EXPECT_EQ(future->lot_size, 35);
  EXPECT_EQ(future->freeze_quantity, 900);
}

TEST(FixtureTest, SkipsRowsOfOtherExchanges) {
  auto table = Fixture();
  EXPECT_EQ(table->FindBySymbol("NIFTY 50"), nullptr);
  EXPECT_EQ(table->FindBySymbol("RELIANCE"), nullptr);
}

TEST(FixtureTest, NoContractExpiresBeforeDecember2026) {
  EpochDay first = *ParseIsoDate("2026-12-01");
  auto table = Fixture();
  for (const Instrument& i : table->instruments()) {
    EXPECT_GE(i.expiry, first) << i.tradingsymbol;
  }
}

TEST(FixtureTest, EveryContractHasAFreezeLimit) {
  auto table = Fixture();
  for (const Instrument& i : table->instruments()) {
    EXPECT_GT(i.freeze_quantity, 0) << i.tradingsymbol;
  }
}

TEST(BadInstrumentsTest, ReportsEveryMalformedRowWithLineAndColumn) {
  auto table = LoadInstrumentTable(TestData("bad_instruments.csv"), TestData("freeze_limits.csv"));
  ASSERT_FALSE(table.ok());
  std::string message = table.status().message();
  EXPECT_EQ(LinesMentioned(message),
            (std::vector<int>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16}))
      << message;
  EXPECT_NE(message.find("line 3, column 'instrument_token': 'abc' is not an integer"),
            std::string::npos);
  EXPECT_NE(message.find("line 4, column 'expiry': '2026-02-30' is not a date"), std::string::npos);
  EXPECT_NE(message.find("line 5, column 'strike'"), std::string::npos);
  EXPECT_NE(message.find("line 6, column 'tick_size': '0' must be positive"), std::string::npos);
  EXPECT_NE(message.find("line 7, column 'lot_size': '-75' must be at least 1"), std::string::npos);
  EXPECT_NE(message.find("line 8, column 'instrument_type'"), std::string::npos);
  EXPECT_NE(message.find("line 9: has 6 fields, the header has 12"), std::string::npos);
  EXPECT_NE(message.find("line 10: unterminated quote"), std::string::npos);
  EXPECT_NE(message.find("line 11, column 'tradingsymbol': 'NIFTY26DEC26000CE' already appears "
                         "on line 2"),
            std::string::npos);
  EXPECT_NE(message.find("line 12, column 'instrument_token': 12345678 already appears on line 2"),
            std::string::npos);
  EXPECT_NE(message.find("line 13, column 'last_price'"), std::string::npos);
  EXPECT_NE(message.find("line 15, column 'strike': an option needs a positive strike"),
            std::string::npos);
  EXPECT_NE(message.find("line 16, column 'expiry'"), std::string::npos);
  EXPECT_NE(message.find(TestData("bad_instruments.csv")), std::string::npos);
}

TEST(ParseInstrumentsCsvTest, CapsTheListOfErrors) {
  std::string text(kHeader);
  for (int i = 0; i < 150; ++i)
    text += "x,1,S" + std::to_string(i) + ",N,0,2026-12-29,0,0.1,75,FUT,NFO-FUT,NFO\n";
  auto parsed = ParseInstrumentsCsv(text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(LinesMentioned(parsed.status().message()).size(), kMaxReportedRowErrors);
  EXPECT_NE(parsed.status().message().find("... and 50 more errors"), std::string::npos);
}

TEST(ParseInstrumentsCsvTest, AcceptsColumnsInAnyOrder) {
  auto parsed = ParseInstrumentsCsv(
      "exchange,segment,instrument_type,lot_size,tick_size,strike,expiry,last_price,name,"
      "tradingsymbol,exchange_token,instrument_token,extra\n"
      "NFO,NFO-FUT,FUT,75,0.1,0,2026-12-29,0,NIFTY,NIFTY26DECFUT,1,42,ignored\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].instrument_token, 42);
  EXPECT_EQ((*parsed)[0].tick_size, Paise::FromPaise(10));
}

TEST(ParseInstrumentsCsvTest, NamesMissingHeaderColumns) {
  auto parsed = ParseInstrumentsCsv("instrument_token,tradingsymbol\n1,X\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("missing column(s) exchange_token, name"),
            std::string::npos);
}

TEST(ParseInstrumentsCsvTest, RejectsEmptyFile) { EXPECT_FALSE(ParseInstrumentsCsv("").ok()); }

TEST(ParseInstrumentsCsvTest, HeaderOnlyIsAnEmptyMaster) {
  auto parsed = ParseInstrumentsCsv(kHeader);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->empty());
}

TEST(ParseInstrumentsCsvTest, AcceptsWindowsLineEndingsAndBlankLines) {
  auto parsed =
      ParseInstrumentsCsv(std::string(kHeader.substr(0, kHeader.size() - 1)) + "\r\n\r\n" +
                          "1,1,NIFTY26DECFUT,\"NIFTY\",0,2026-12-29,0,0.1,75,FUT,NFO-FUT,NFO\r\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->size(), 1u);
}

TEST(ParseInstrumentsCsvTest, RejectsOptionTypeInFuturesSegment) {
  auto parsed = ParseInstrumentsCsv(std::string(kHeader) +
                                    "1,1,X,NIFTY,0,2026-12-29,100,0.05,75,CE,NFO-FUT,NFO\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("column 'instrument_type'"), std::string::npos);
}

TEST(ParseInstrumentsCsvTest, RejectsUnknownNfoSegment) {
  auto parsed = ParseInstrumentsCsv(std::string(kHeader) +
                                    "1,1,X,NIFTY,0,2026-12-29,0,0.05,75,FUT,NFO-XYZ,NFO\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("column 'segment'"), std::string::npos);
}

TEST(ParseFreezeLimitsTest, ParsesHeaderAndRows) {
  auto limits = ParseFreezeLimits("SYMBOL,VOL_FRZ_QTY\nNIFTY,1800\nBANKNIFTY,900\n");
  ASSERT_TRUE(limits.ok());
  EXPECT_EQ(limits->at("NIFTY"), 1800);
  EXPECT_EQ(limits->at("BANKNIFTY"), 900);
}

TEST(ParseFreezeLimitsTest, AcceptsExchangeLayoutWithSerialNumberAndPadding) {
  auto limits = ParseFreezeLimits("SR_NO, SYMBOL , VOL_FRZ_QTY\n1, NIFTY , 1800\n");
  ASSERT_TRUE(limits.ok()) << limits.status().ToString();
  EXPECT_EQ(limits->at("NIFTY"), 1800);
}

TEST(ParseFreezeLimitsTest, ReportsEveryBadRow) {
  auto limits = ParseFreezeLimits(
      "SYMBOL,VOL_FRZ_QTY\nNIFTY,abc\n,100\nNIFTY,0\nX,1,2\nBANKNIFTY,900\nBANKNIFTY,901\n");
  ASSERT_FALSE(limits.ok());
  std::string message = limits.status().message();
  EXPECT_EQ(LinesMentioned(message), (std::vector<int>{2, 3, 4, 5, 7})) << message;
  EXPECT_NE(message.find("line 2, column 'VOL_FRZ_QTY': 'abc' is not a positive integer"),
            std::string::npos);
  EXPECT_NE(message.find("line 7, column 'SYMBOL': 'BANKNIFTY' already appears on line 6"),
            std::string::npos);
}

TEST(ParseFreezeLimitsTest, RequiresHeader) {
  auto limits = ParseFreezeLimits("NIFTY,1800\n");
  ASSERT_FALSE(limits.ok());
  EXPECT_NE(limits.status().message().find("missing column(s) SYMBOL, VOL_FRZ_QTY"),
            std::string::npos);
}

TEST(BuildInstrumentTableTest, UnderlyingWithoutFreezeEntryHasZeroFreeze) {
  auto table = BuildInstrumentTable(
      std::string(kHeader) + "1,1,NIFTY26DECFUT,NIFTY,0,2026-12-29,0,0.1,75,FUT,NFO-FUT,NFO\n",
      "SYMBOL,VOL_FRZ_QTY\nBANKNIFTY,900\n");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ((*table)->FindBySymbol("NIFTY26DECFUT")->freeze_quantity, 0);
}

TEST(BuildInstrumentTableTest, ReportsErrorsOfBothFilesTogether) {
  auto table = BuildInstrumentTable(std::string(kHeader) + "bad\n", "SYMBOL,VOL_FRZ_QTY\nX,y\n",
                                    "inst.csv", "frz.csv");
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.status().message().find("inst.csv line 2"), std::string::npos);
  EXPECT_NE(table.status().message().find("frz.csv line 2"), std::string::npos);
}

TEST(LoadInstrumentTableTest, MissingFileIsNotFound) {
  auto table = LoadInstrumentTable(TestData("no_such.csv"), TestData("freeze_limits.csv"));
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), StatusCode::kNotFound);
  EXPECT_NE(table.status().message().find("no_such.csv"), std::string::npos);
}

}  // namespace
}  // namespace wojak
