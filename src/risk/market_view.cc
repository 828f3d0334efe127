// The reference-price policy and the in-memory MarketView.
#include "risk/market_view.h"

namespace wojak {

std::string_view PriceSourceName(PriceSource source) {
  return source == PriceSource::kLastTradedPrice ? "LTP" : "MASTER";
}

std::optional<ReferencePrice> ResolveReferencePrice(const std::optional<LastTrade>& live,
                                                    Paise master_last_price, Nanos now,
                                                    const ReferencePricePolicy& policy) {
  if (live && live->price > Paise() && now - live->time <= policy.max_age) {
    return ReferencePrice{live->price, PriceSource::kLastTradedPrice, live->time};
  }
  if (policy.fallback_to_master && master_last_price > Paise()) {
    return ReferencePrice{master_last_price, PriceSource::kMaster, 0};
  }
  return std::nullopt;
}

InMemoryMarketView::InMemoryMarketView(std::shared_ptr<const InstrumentTable> instruments,
                                       ReferencePricePolicy policy)
    : instruments_(std::move(instruments)), policy_(policy) {
  last_trades_.reserve(instruments_->size());
}

void InMemoryMarketView::SetLastTrade(int64_t instrument_token, Paise price, Nanos time) {
  last_trades_[instrument_token] = LastTrade{price, time};
}

void InMemoryMarketView::ClearLastTrade(int64_t instrument_token) {
  last_trades_.erase(instrument_token);
}

std::optional<ReferencePrice> InMemoryMarketView::Reference(int64_t instrument_token,
                                                            Nanos now) const {
  std::optional<LastTrade> live;
  if (auto it = last_trades_.find(instrument_token); it != last_trades_.end()) live = it->second;
  const Instrument* instrument = instruments_->FindByToken(instrument_token);
  return ResolveReferencePrice(live, instrument ? instrument->last_price : Paise(), now, policy_);
}

}  // namespace wojak
