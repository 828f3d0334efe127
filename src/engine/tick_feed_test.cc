// Live ticks: conflation (latest wins), out-of-order and unknown ticks counted, staleness as seen
// by the sequencer's market view, persistence to ticks.db, and the real ZeroMQ socket.
#include "engine/tick_feed.h"

#include <gtest/gtest.h>
#include <zmq.h>

#include <thread>

#include "engine/market.h"
#include "journal/test_util.h"
#include "risk/risk_testing.h"
#include "wire/codec.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using risk_testing::kNiftyCall;
using risk_testing::kNiftyFuture;
using risk_testing::kNiftyUnpricedCall;

constexpr Nanos kT0 = 1'780'000'000'000'000'000;

TickUpdate ByToken(int64_t token, int64_t paise, Nanos timestamp = 0) {
  TickUpdate t;
  t.instrument_token = static_cast<uint32_t>(token);
  t.ltp = Paise::FromPaise(paise);
  t.timestamp_ns = timestamp;
  return t;
}

TickUpdate BySymbol(std::string symbol, int64_t paise, Nanos timestamp = 0) {
  TickUpdate t;
  t.symbol = std::move(symbol);
  t.ltp = Paise::FromPaise(paise);
  t.timestamp_ns = timestamp;
  return t;
}

std::string Frame(const std::vector<TickUpdate>& ticks) { return EncodeTickBatch(1, ticks); }

class TickApplierTest : public ::testing::Test {
 protected:
  InstrumentMaster master_{risk_testing::TestInstruments()};
  TickTable table_{64};
  TickApplier applier_{master_, table_};
};

TEST_F(TickApplierTest, ManyTicksForOneInstrumentConflateToTheLatest) {
  std::vector<TickUpdate> burst;
  for (int i = 1; i <= 5000; ++i) burst.push_back(ByToken(kNiftyFuture, 2600000 + i, kT0 + i));
  applier_.Apply(Frame(burst), kT0 + 10);
  applier_.Apply(Frame({ByToken(kNiftyFuture, 2700000, kT0 + 9000)}), kT0 + 20);
  auto value = table_.Read(kNiftyFuture);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->ltp, Paise::FromPaise(2700000));
  EXPECT_EQ(value->timestamp_ns, kT0 + 9000);
  EXPECT_EQ(value->received_ns, kT0 + 20);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(applier_.stats().applied, 5001u);
  EXPECT_EQ(applier_.stats().batches, 2u);
}

TEST_F(TickApplierTest, SymbolsResolveThroughTheInstrumentMaster) {
  applier_.Apply(Frame({BySymbol("NIFTY26DEC26000CE", 12345, kT0)}), kT0);
  auto value = table_.Read(kNiftyCall);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->ltp, Paise::FromPaise(12345));
}

TEST_F(TickApplierTest, UnknownSymbolsAreCountedAndStoreNothing) {
  applier_.Apply(Frame({BySymbol("NOSUCH26DECFUT", 100, kT0), BySymbol("ALSO_UNKNOWN", 5, kT0),
                        ByToken(kNiftyFuture, 2600000, kT0)}),
                 kT0);
  EXPECT_EQ(applier_.stats().unknown, 2u);
  EXPECT_EQ(applier_.stats().applied, 1u);
  EXPECT_EQ(table_.size(), 1u);
}

TEST_F(TickApplierTest, AnOlderTickDoesNotReplaceANewerPrice) {
  applier_.Apply(Frame({ByToken(kNiftyFuture, 2600000, kT0 + 100)}), kT0);
  applier_.Apply(Frame({ByToken(kNiftyFuture, 2500000, kT0 + 50)}), kT0 + 1);
  EXPECT_EQ(table_.Read(kNiftyFuture)->ltp, Paise::FromPaise(2600000));
  EXPECT_EQ(applier_.stats().out_of_order, 1u);
}

TEST_F(TickApplierTest, MalformedFrameIsCountedAndChangesNothing) {
  applier_.Apply("definitely not flatbuffers", kT0);
  applier_.Apply(EncodeRequest(1, PingRequest{}), kT0);
  EXPECT_EQ(applier_.stats().malformed_batches, 2u);
  EXPECT_EQ(applier_.stats().batches, 0u);
  EXPECT_EQ(table_.size(), 0u);
}

TEST(TickApplierCapacityTest, TicksForNewInstrumentsBeyondCapacityAreCountedAsDropped) {
  std::vector<Instrument> list;
  std::vector<TickUpdate> ticks;
  for (int token = 1; token <= 40; ++token) {
    list.push_back(risk_testing::MakeContract(token, "SYM" + std::to_string(token), "X",
                                              InstrumentType::kFuture, "2026-12-29", 0, 1, 5, 0));
    ticks.push_back(ByToken(token, 100 + token, kT0));
  }
  InstrumentMaster master(*InstrumentTable::Create(std::move(list)));
  TickTable table(4);  // 16 slots, at most half used
  TickApplier applier(master, table);
  applier.Apply(Frame(ticks), kT0);
  EXPECT_EQ(applier.stats().applied + applier.stats().dropped, 40u);
  EXPECT_EQ(applier.stats().applied, table.size());
  EXPECT_GT(applier.stats().dropped, 0u);
}

TEST_F(TickApplierTest, ChangedRowsAreReportedOnceUntilTheyChangeAgain) {
  applier_.Apply(Frame({ByToken(kNiftyFuture, 2600000, kT0), ByToken(kNiftyCall, 12000, kT0)}),
                 kT0);
  auto first = applier_.ChangedSinceLastCall();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_TRUE(applier_.ChangedSinceLastCall().empty());
  applier_.Apply(Frame({ByToken(kNiftyCall, 12100, kT0 + 1)}), kT0 + 1);
  auto second = applier_.ChangedSinceLastCall();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].instrument_token, kNiftyCall);
  EXPECT_EQ(second[0].symbol, "NIFTY26DEC26000CE");
  EXPECT_EQ(second[0].ltp_paise, 12100);
}

// The sequencer's view: an LTP older than max_age (by arrival time) counts as missing.
TEST(TickStalenessTest, StaleLtpCountsAsMissing) {
  InstrumentMaster master(risk_testing::TestInstruments());
  ReferencePricePolicy policy;
  policy.max_age = 5 * kNanosPerSecond;
  policy.fallback_to_master = false;
  EngineMarket market(master, policy);
  TickApplier applier(master, market.ticks());
  applier.Apply(Frame({ByToken(kNiftyUnpricedCall, 4550, kT0)}), kT0);
  auto fresh = market.Reference(kNiftyUnpricedCall, kT0 + 5 * kNanosPerSecond);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->price, Paise::FromPaise(4550));
  EXPECT_EQ(fresh->source, PriceSource::kLastTradedPrice);
  EXPECT_FALSE(market.Reference(kNiftyUnpricedCall, kT0 + 5 * kNanosPerSecond + 1).has_value());
}

TEST(TickStalenessTest, StaleLtpFallsBackToTheMasterWhenAllowed) {
  InstrumentMaster master(risk_testing::TestInstruments());
  ReferencePricePolicy policy;
  policy.max_age = kNanosPerSecond;
  policy.fallback_to_master = true;
  EngineMarket market(master, policy);
  TickApplier applier(master, market.ticks());
  applier.Apply(Frame({ByToken(kNiftyFuture, 2500000, kT0)}), kT0);
  EXPECT_EQ(market.Reference(kNiftyFuture, kT0)->source, PriceSource::kLastTradedPrice);
  auto stale = market.Reference(kNiftyFuture, kT0 + 2 * kNanosPerSecond);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->source, PriceSource::kMaster);
  EXPECT_EQ(stale->price, Paise::FromPaise(2606500));
}

TEST(TickStalenessTest, StalenessFollowsArrivalTimeNotExchangeTime) {
  // A feed whose exchange clock lags ours still delivers fresh prices.
  InstrumentMaster master(risk_testing::TestInstruments());
  ReferencePricePolicy policy;
  policy.max_age = kNanosPerSecond;
  policy.fallback_to_master = false;
  EngineMarket market(master, policy);
  TickApplier applier(master, market.ticks());
  applier.Apply(Frame({ByToken(kNiftyCall, 12000, kT0 - 60 * kNanosPerSecond)}), kT0);
  EXPECT_TRUE(market.Reference(kNiftyCall, kT0 + kNanosPerSecond / 2).has_value());
}

TEST(TickStoreTest, UpsertsAndReadsBySymbol) {
  testing::TempDir dir;
  auto store = TickStore::OpenForWriting(TickStorePathForDataDir(dir.path()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<TickRow> rows = {{1, "NIFTY26DECFUT", 2600000, kT0, kT0 + 1},
                               {2, "NIFTY26DEC26000CE", 12000, kT0, kT0 + 2}};
  ASSERT_TRUE((*store)->Upsert(rows).ok());
  rows[0].ltp_paise = 2600100;
  ASSERT_TRUE((*store)->Upsert(std::span(rows).first(1)).ok());
  auto reader = TickStore::OpenForReading(TickStorePathForDataDir(dir.path()));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto all = (*reader)->Read({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], rows[1]);  // ordered by symbol
  EXPECT_EQ((*all)[1], rows[0]);
  auto one = (*reader)->Read({"NIFTY26DECFUT", "UNKNOWN"});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].ltp_paise, 2600100);
}

TEST(TickStoreTest, ReadingBeforeAnyEngineWroteIsNotFound) {
  testing::TempDir dir;
  EXPECT_EQ(TickStore::OpenForReading(TickStorePathForDataDir(dir.path())).status().code(),
            StatusCode::kNotFound);
}

// A PUSH socket feeding the engine's PULL socket, as `wojak ticks publish` does.
class Publisher {
 public:
  explicit Publisher(const std::string& endpoint) {
    context_ = zmq_ctx_new();
    socket_ = zmq_socket(context_, ZMQ_PUSH);
    zmq_connect(socket_, endpoint.c_str());
  }
  ~Publisher() {
    int linger = 2000;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  void Send(const std::string& frame) { zmq_send(socket_, frame.data(), frame.size(), 0); }

 private:
  void* context_;
  void* socket_;
};

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 4000 && !done(); ++i) std::this_thread::sleep_for(5ms);
  return done();
}

TEST(TickFeedTest, TicksOverTheSocketReachTheTableAndTicksDb) {
  testing::TempDir dir;
  InstrumentMaster master(risk_testing::TestInstruments());
  TickTable table(64);
  TickFeedOptions options;
  options.persist_interval = 20ms;
  options.thread_nice = 0;
  auto feed = TickFeed::Start(options, dir.path(), master, table);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  EXPECT_EQ((*feed)->endpoint(), "ipc://" + dir.path() + "/ticks.sock");
  {
    Publisher publisher((*feed)->endpoint());
    for (int batch = 0; batch < 100; ++batch) {
      std::vector<TickUpdate> ticks;
      for (int i = 0; i < 100; ++i) {
        int n = batch * 100 + i;
        ticks.push_back(ByToken(kNiftyFuture, 2600000 + n, kT0 + n));
        ticks.push_back(BySymbol("NIFTY26DEC26000CE", 10000 + n, kT0 + n));
      }
      ticks.push_back(BySymbol("NOT_A_CONTRACT", 1, kT0));
      publisher.Send(Frame(ticks));
    }
    publisher.Send("garbage");
  }
  ASSERT_TRUE(WaitFor([&] { return (*feed)->stats().malformed_batches == 1; }))
      << (*feed)->stats().applied;
  TickFeedStats stats = (*feed)->stats();
  EXPECT_EQ(stats.batches, 100u);
  EXPECT_EQ(stats.applied, 20000u);
  EXPECT_EQ(stats.unknown, 100u);
  EXPECT_EQ(table.Read(kNiftyFuture)->ltp, Paise::FromPaise(2600000 + 9999));
  EXPECT_EQ(table.Read(kNiftyCall)->ltp, Paise::FromPaise(10000 + 9999));

  auto reader = TickStore::OpenForReading(TickStorePathForDataDir(dir.path()));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE(WaitFor([&] {
    auto rows = (*reader)->Read({"NIFTY26DECFUT"});
    return rows.ok() && rows->size() == 1 && (*rows)[0].ltp_paise == 2600000 + 9999;
  }));
  (*feed)->Stop();
  auto rows = (*reader)->Read({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].symbol, "NIFTY26DEC26000CE");
  EXPECT_EQ((*rows)[0].ltp_paise, 10000 + 9999);
}

TEST(TickFeedTest, AnEndpointThatCannotBeBoundFailsStart) {
  testing::TempDir dir;
  InstrumentMaster master(risk_testing::TestInstruments());
  TickTable table(64);
  TickFeedOptions options;
  options.persist_interval = 0ms;
  options.endpoint = "tcp://256.1.1.1:5555";
  auto feed = TickFeed::Start(options, dir.path(), master, table);
  ASSERT_FALSE(feed.ok());
  EXPECT_NE(feed.status().message().find("zmq_bind"), std::string::npos)
      << feed.status().ToString();
}

TEST(TickFeedTest, MetricsCountTicksByOutcome) {
  testing::TempDir dir;
  InstrumentMaster master(risk_testing::TestInstruments());
  TickTable table(64);
  TickFeedOptions options;
  options.persist_interval = 0ms;
  auto feed = TickFeed::Start(options, dir.path(), master, table);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  MetricsRegistry registry;
  (*feed)->RegisterMetrics(registry);
  {
    Publisher publisher((*feed)->endpoint());
    publisher.Send(Frame({ByToken(kNiftyFuture, 1, kT0), BySymbol("NOPE", 1, kT0)}));
  }
  ASSERT_TRUE(WaitFor([&] { return (*feed)->stats().batches == 1; }));
  std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("wojak_ticks_total{result=\"applied\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wojak_ticks_total{result=\"unknown_instrument\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("wojak_ticks_instruments 1"), std::string::npos) << text;
  EXPECT_FALSE(std::filesystem::exists(TickStorePathForDataDir(dir.path())));
}

}  // namespace
}  // namespace wojak
