// Index construction and underlying-future linking for the instrument table.
#include "instruments/instrument_table.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace wojak {

StatusOr<std::shared_ptr<const InstrumentTable>> InstrumentTable::Create(
    std::vector<Instrument> instruments) {
  std::shared_ptr<InstrumentTable> table(new InstrumentTable());
  table->instruments_ = std::move(instruments);
  table->by_symbol_.reserve(table->instruments_.size());
  table->by_token_.reserve(table->instruments_.size());
  for (uint32_t i = 0; i < table->instruments_.size(); ++i) {
    const Instrument& instrument = table->instruments_[i];
    if (!table->by_symbol_.emplace(instrument.tradingsymbol, i).second) {
      return AlreadyExists("duplicate trading symbol " + instrument.tradingsymbol);
    }
    if (!table->by_token_.emplace(instrument.instrument_token, i).second) {
      return AlreadyExists("duplicate instrument token " +
                           std::to_string(instrument.instrument_token));
    }
  }
  // Futures by underlying, ordered by expiry: an option's underlying price is read from the
  // future expiring with it (or the next one after), the liquid proxy for the index itself.
  std::map<std::string, std::vector<std::pair<EpochDay, int64_t>>> futures;
  for (const Instrument& instrument : table->instruments_) {
    if (instrument.instrument_type == InstrumentType::kFuture) {
      futures[instrument.name].emplace_back(instrument.expiry, instrument.instrument_token);
    }
  }
  for (auto& [name, list] : futures) std::sort(list.begin(), list.end());
  for (Instrument& instrument : table->instruments_) {
    auto it = futures.find(instrument.name);
    if (it == futures.end()) continue;
    const auto& list = it->second;
    auto next =
        std::lower_bound(list.begin(), list.end(), std::make_pair(instrument.expiry, INT64_MIN));
    // Past the last future's expiry: the farthest future is the closest proxy left.
    instrument.underlying_token = next != list.end() ? next->second : list.back().second;
  }
  return std::shared_ptr<const InstrumentTable>(std::move(table));
}

std::shared_ptr<const InstrumentTable> InstrumentTable::Empty() {
  return std::shared_ptr<const InstrumentTable>(new InstrumentTable());
}

const Instrument* InstrumentTable::FindBySymbol(std::string_view tradingsymbol) const {
  auto it = by_symbol_.find(tradingsymbol);
  return it == by_symbol_.end() ? nullptr : &instruments_[it->second];
}

const Instrument* InstrumentTable::FindByToken(int64_t instrument_token) const {
  auto it = by_token_.find(instrument_token);
  return it == by_token_.end() ? nullptr : &instruments_[it->second];
}

}  // namespace wojak
