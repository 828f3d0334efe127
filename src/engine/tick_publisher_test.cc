// Tick files (format, every bad line reported, timestamps) and publishing them to a tick feed.
#include "engine/tick_publisher.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/tick_feed.h"
#include "journal/test_util.h"
#include "risk/risk_testing.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;

// 2026-12-01 09:15:00 IST.
constexpr Nanos kOpen = 1'796'096'700'000'000'000;

TEST(TickTimestampTest, ReadsIsoWithOffsetZuluOrIstAndUnixNanoseconds) {
  EXPECT_EQ(*ParseTickTimestamp("2026-12-01T09:15:00+05:30"), kOpen);
  EXPECT_EQ(*ParseTickTimestamp("2026-12-01T03:45:00Z"), kOpen);
  EXPECT_EQ(*ParseTickTimestamp("2026-12-01T09:15:00"), kOpen);
  EXPECT_EQ(*ParseTickTimestamp("2026-12-01 09:15:00.25"), kOpen + 250 * kNanosPerMilli);
  EXPECT_EQ(*ParseTickTimestamp("2026-11-30T22:45:00.000000001-05:00"), kOpen + 1);
  EXPECT_EQ(*ParseTickTimestamp("1796096700000000000"), kOpen);
}

TEST(TickTimestampTest, RefusesMalformedTimes) {
  for (const char* bad : {"yesterday", "2026-12-01", "2026-12-01T25:00:00Z", "2026-13-01T09:15:00",
                          "2026-12-01T09:15:00+0530", "2026-12-01T09:15:00.Z",
                          "2026-12-01T09:15:00.1234567891Z", "-5"}) {
    EXPECT_FALSE(ParseTickTimestamp(bad).ok()) << bad;
  }
}

TEST(TickCsvTest, ReadsSymbolsTokensPricesAndOptionalColumns) {
  auto ticks = ParseTickCsv(
      "# comment\n"
      "\n"
      "instrument,ltp,timestamp,bid,ask,oi\n"
      "NIFTY26DECFUT,26065.50,2026-12-01T09:15:00+05:30,26065.40,26065.60,1200\n"
      "10240770,26067,,,,\r\n");
  ASSERT_TRUE(ticks.ok()) << ticks.status().ToString();
  ASSERT_EQ(ticks->size(), 2u);
  EXPECT_EQ((*ticks)[0].symbol, "NIFTY26DECFUT");
  EXPECT_EQ((*ticks)[0].instrument_token, 0u);
  EXPECT_EQ((*ticks)[0].ltp, Paise::FromPaise(2606550));
  EXPECT_EQ((*ticks)[0].timestamp_ns, kOpen);
  EXPECT_EQ((*ticks)[0].bid, Paise::FromPaise(2606540));
  EXPECT_EQ((*ticks)[0].ask, Paise::FromPaise(2606560));
  EXPECT_EQ((*ticks)[0].open_interest, 1200);
  EXPECT_EQ((*ticks)[1].instrument_token, 10240770u);
  EXPECT_TRUE((*ticks)[1].symbol.empty());
  EXPECT_EQ((*ticks)[1].timestamp_ns, 0);
  EXPECT_FALSE((*ticks)[1].bid.has_value());
}

TEST(TickCsvTest, ReportsEveryBadLine) {
  auto ticks = ParseTickCsv(
      "symbol,ltp,timestamp\n"
      "NIFTY26DECFUT,abc,\n"
      "NIFTY26DECFUT,100.123,\n"
      ",100,\n"
      "NIFTY26DECFUT,100,noon\n"
      "NIFTY26DECFUT,100,\n");
  ASSERT_FALSE(ticks.ok());
  const std::string message(ticks.status().message());
  for (const char* line : {"line 2", "line 3", "line 4", "line 5"}) {
    EXPECT_NE(message.find(line), std::string::npos) << message;
  }
  EXPECT_EQ(message.find("line 6"), std::string::npos) << message;
}

TEST(TickCsvTest, HeaderMustNameOneInstrumentColumnAndLtp) {
  EXPECT_FALSE(ParseTickCsv("ltp,timestamp\n100,\n").ok());
  EXPECT_FALSE(ParseTickCsv("symbol,instrument_token,ltp\nA,1,100\n").ok());
  EXPECT_FALSE(ParseTickCsv("symbol,price\nA,100\n").ok());
  EXPECT_FALSE(ParseTickCsv("# only a comment\n").ok());
}

TEST(TickCsvTest, ShippedSampleParses) {
  const char* source = std::getenv("WOJAK_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  std::ifstream file(std::string(source) + "/tests/testdata/ticks_sample.csv");
  std::stringstream text;
  text << file.rdbuf();
  auto ticks = ParseTickCsv(text.str());
  ASSERT_TRUE(ticks.ok()) << ticks.status().ToString();
  EXPECT_EQ(ticks->size(), 7u);
  EXPECT_EQ((*ticks)[0].timestamp_ns, kOpen);
  EXPECT_EQ((*ticks)[6].timestamp_ns, kOpen + 750 * kNanosPerMilli);
}

TEST(PublishTicksTest, PublishedTicksReachTheFeedWithSendTimeForMissingTimestamps) {
  testing::TempDir dir;
  InstrumentMaster master(risk_testing::TestInstruments());
  TickTable table(64);
  TickFeedOptions options;
  options.persist_interval = 0ms;
  options.thread_nice = 0;
  auto feed = TickFeed::Start(options, dir.path(), master, table);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  auto ticks = ParseTickCsv(
      "instrument_token,ltp,timestamp\n"
      "1,26000,2026-12-01T09:15:00+05:30\n"
      "1,26001,2026-12-01T09:15:01+05:30\n"
      "2,120.50,\n");
  ASSERT_TRUE(ticks.ok()) << ticks.status().ToString();
  ManualClock clock(kOpen + 5 * kNanosPerSecond);
  {
    auto publisher = TickPublisher::Connect((*feed)->endpoint());
    ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
    PublishOptions publish;
    publish.batch = 2;
    publish.repeat = 3;
    auto report = PublishTicks(**publisher, *ticks, publish, clock);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->ticks, 9u);
    EXPECT_EQ(report->frames, 6u);
  }
  for (int i = 0; i < 2000 && (*feed)->stats().batches < 6; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ((*feed)->stats().batches, 6u);
  EXPECT_EQ(table.Read(1)->ltp, Paise::FromRupees(26001));
  EXPECT_EQ(table.Read(2)->ltp, Paise::FromPaise(12050));
  EXPECT_EQ(table.Read(2)->timestamp_ns, kOpen + 5 * kNanosPerSecond);
  // Repeats of the file carry the same times: the first tick of each repeat is older than the
  // stored one and is ignored, so token 1 keeps the newest price.
  EXPECT_EQ((*feed)->stats().out_of_order, 2u);
}

}  // namespace
}  // namespace wojak
