// Reference prices for the gate.
#include "engine/market.h"

namespace wojak {

EngineMarket::EngineMarket(const InstrumentMaster& instruments, ReferencePricePolicy policy,
                           size_t tick_capacity)
    : instruments_(instruments), policy_(policy), ticks_(tick_capacity) {}

std::optional<ReferencePrice> EngineMarket::Reference(int64_t instrument_token, Nanos now) const {
  std::optional<LastTrade> live;
  if (auto tick = ticks_.Read(instrument_token)) live = LastTrade{tick->ltp, tick->received_ns};
  Paise master_price;
  // The table snapshot is a shared_ptr copy: cheap, lock-held only for the pointer copy.
  if (const Instrument* instrument = instruments_.Snapshot()->FindByToken(instrument_token)) {
    master_price = instrument->last_price;
  }
  return ResolveReferencePrice(live, master_price, now, policy_);
}

}  // namespace wojak
