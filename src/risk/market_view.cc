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

namespace {
size_t SlotOf(int64_t token, size_t mask) {
  // Fibonacci hashing spreads consecutive tokens across the table.
  return static_cast<size_t>((static_cast<uint64_t>(token) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}
}  // namespace

InMemoryMarketView::InMemoryMarketView(std::shared_ptr<const InstrumentTable> instruments,
                                       ReferencePricePolicy policy)
    : instruments_(std::move(instruments)), policy_(policy) {
  size_t capacity = 16;
  while (capacity < 2 * instruments_->size() + 16) capacity *= 2;
  slots_.resize(capacity);
  for (const Instrument& instrument : instruments_->instruments()) {
    FindOrInsert(instrument.instrument_token).master = instrument.last_price;
  }
}

const InMemoryMarketView::Slot* InMemoryMarketView::Find(int64_t token) const {
  size_t mask = slots_.size() - 1;
  for (size_t i = SlotOf(token, mask);; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.token == token) return &slot;
    if (slot.token == 0) return nullptr;
  }
}

InMemoryMarketView::Slot& InMemoryMarketView::FindOrInsert(int64_t token) {
  if (2 * (used_ + 1) > slots_.size()) Rehash(slots_.size() * 2);
  size_t mask = slots_.size() - 1;
  for (size_t i = SlotOf(token, mask);; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.token == token) return slot;
    if (slot.token == 0) {
      slot.token = token;
      ++used_;
      return slot;
    }
  }
}

void InMemoryMarketView::Rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot());
  used_ = 0;
  for (const Slot& slot : old) {
    if (slot.token != 0) FindOrInsert(slot.token) = slot;
  }
}

void InMemoryMarketView::SetLastTrade(int64_t instrument_token, Paise price, Nanos time) {
  Slot& slot = FindOrInsert(instrument_token);
  slot.live_price = price;
  slot.live_time = time;
}

void InMemoryMarketView::ClearLastTrade(int64_t instrument_token) {
  Slot& slot = FindOrInsert(instrument_token);
  slot.live_price = Paise();
}

std::optional<ReferencePrice> InMemoryMarketView::Reference(int64_t instrument_token,
                                                            Nanos now) const {
  const Slot* slot = Find(instrument_token);
  if (slot == nullptr) return std::nullopt;
  std::optional<LastTrade> live;
  if (slot->live_price > Paise()) live = LastTrade{slot->live_price, slot->live_time};
  return ResolveReferencePrice(live, slot->master, now, policy_);
}

}  // namespace wojak
