// Test support for the risk gate: a small in-memory instrument table, market and order builders.
// Used by the risk tests and the benchmark only.
#pragma once

#include <memory>
#include <string>

#include "instruments/instrument_table.h"
#include "risk/market_view.h"
#include "risk/order_view.h"

namespace wojak::risk_testing {

// 2026-12-01 (a Tuesday) 10:00 IST: inside the session, before every test contract's expiry.
inline Nanos TestNow() {
  return IstMidnight(*ParseIsoDate("2026-12-01")) + 10 * 3600 * kNanosPerSecond;
}

inline Instrument MakeContract(int64_t token, std::string symbol, std::string name,
                               InstrumentType type, std::string_view expiry, int64_t strike_rupees,
                               Qty lot, int64_t tick_paise, Qty freeze,
                               int64_t last_price_paise = 0) {
  Instrument i;
  i.instrument_token = token;
  i.exchange_token = token;
  i.tradingsymbol = std::move(symbol);
  i.name = std::move(name);
  i.instrument_type = type;
  bool future = type == InstrumentType::kFuture;
  i.segment = future ? Segment::kNfoFutures : Segment::kNfoOptions;
  i.segment_name = future ? "NFO-FUT" : "NFO-OPT";
  i.exchange = "NFO";
  i.expiry = *ParseIsoDate(expiry);
  i.strike = Paise::FromRupees(strike_rupees);
  i.lot_size = lot;
  i.tick_size = Paise::FromPaise(tick_paise);
  i.freeze_quantity = freeze;
  i.last_price = Paise::FromPaise(last_price_paise);
  return i;
}

// Tokens of the test contracts.
enum Token : int64_t {
  kNiftyFuture = 1,         // NIFTY26DECFUT, LTP 26000.00, master 26065.00
  kNiftyCall = 2,           // NIFTY26DEC26000CE, LTP 120.00, master 0
  kNiftyPut = 3,            // NIFTY26DEC26000PE, LTP 110.00
  kNiftyCheapCall = 4,      // NIFTY26DEC27000CE, LTP 30.00
  kNiftyDeepCall = 5,       // NIFTY26DEC25000CE, LTP 1010.00
  kTcsFuture = 6,           // TCS26DECFUT, no freeze limit, LTP 4200.00
  kNiftyFarFuture = 7,      // NIFTY27MARFUT, LTP 26200.00
  kNiftyWeeklyCall = 8,     // NIFTY26D0126000CE, expires 2026-12-01, LTP 100.00
  kSensexFuture = 9,        // SENSEX26DECFUT on BFO
  kNiftyUnpricedCall = 10,  // NIFTY26DEC28000CE, no LTP and master 0
};

inline std::shared_ptr<const InstrumentTable> TestInstruments() {
  using T = InstrumentType;
  std::vector<Instrument> list = {
      MakeContract(kNiftyFuture, "NIFTY26DECFUT", "NIFTY", T::kFuture, "2026-12-29", 0, 75, 10,
                   1800, 2606500),
      MakeContract(kNiftyCall, "NIFTY26DEC26000CE", "NIFTY", T::kCall, "2026-12-29", 26000, 75, 5,
                   1800),
      MakeContract(kNiftyPut, "NIFTY26DEC26000PE", "NIFTY", T::kPut, "2026-12-29", 26000, 75, 5,
                   1800),
      MakeContract(kNiftyCheapCall, "NIFTY26DEC27000CE", "NIFTY", T::kCall, "2026-12-29", 27000, 75,
                   5, 1800),
      MakeContract(kNiftyDeepCall, "NIFTY26DEC25000CE", "NIFTY", T::kCall, "2026-12-29", 25000, 75,
                   5, 1800),
      MakeContract(kTcsFuture, "TCS26DECFUT", "TCS", T::kFuture, "2026-12-29", 0, 175, 10, 0),
      MakeContract(kNiftyFarFuture, "NIFTY27MARFUT", "NIFTY", T::kFuture, "2027-03-30", 0, 75, 10,
                   1800),
      MakeContract(kNiftyWeeklyCall, "NIFTY26D0126000CE", "NIFTY", T::kCall, "2026-12-01", 26000,
                   75, 5, 1800),
      MakeContract(kNiftyUnpricedCall, "NIFTY26DEC28000CE", "NIFTY", T::kCall, "2026-12-29", 28000,
                   75, 5, 1800),
  };
  Instrument sensex = MakeContract(kSensexFuture, "SENSEX26DECFUT", "SENSEX", T::kFuture,
                                   "2026-12-24", 0, 20, 10, 1000);
  sensex.exchange = "BFO";
  sensex.segment = Segment::kOther;
  sensex.segment_name = "BFO-FUT";
  list.push_back(sensex);
  return *InstrumentTable::Create(std::move(list));
}

inline void SetTestPrices(InMemoryMarketView& market, Nanos now) {
  market.SetLastTrade(kNiftyFuture, Paise::FromRupees(26000), now);
  market.SetLastTrade(kNiftyCall, Paise::FromRupees(120), now);
  market.SetLastTrade(kNiftyPut, Paise::FromRupees(110), now);
  market.SetLastTrade(kNiftyCheapCall, Paise::FromRupees(30), now);
  market.SetLastTrade(kNiftyDeepCall, Paise::FromRupees(1010), now);
  market.SetLastTrade(kTcsFuture, Paise::FromRupees(4200), now);
  market.SetLastTrade(kNiftyFarFuture, Paise::FromRupees(26200), now);
  market.SetLastTrade(kNiftyWeeklyCall, Paise::FromRupees(100), now);
  market.SetLastTrade(kSensexFuture, Paise::FromRupees(80000), now);
}

// An order request that owns its strings; View() resolves the symbol in `table`.
struct TestOrder {
  OrderRequest request;
  OrderId replaces = 0;

  TestOrder(std::string symbol, Side side, Qty quantity, std::optional<Paise> price,
            std::string account = "ACC1", std::string strategy = "straddle") {
    request.client_order_id = "c1";
    request.account = std::move(account);
    request.strategy = std::move(strategy);
    request.exchange = "NFO";
    request.symbol = std::move(symbol);
    request.side = side;
    request.quantity = quantity;
    request.order_type = price ? OrderType::kLimit : OrderType::kMarket;
    request.price = price;
  }
  OrderView View(const InstrumentTable& table) const {
    return OrderView::Of(request, table.FindBySymbol(request.symbol), replaces);
  }
};

}  // namespace wojak::risk_testing
