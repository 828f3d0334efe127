// The engine's MarketView: live LTPs from the tick table, the instrument master's last price as
// the configured fallback (risk/market_view.h ReferencePricePolicy).
#pragma once

#include <memory>

#include "engine/tick_table.h"
#include "instruments/instrument_master.h"
#include "risk/market_view.h"

namespace wojak {

class EngineMarket final : public MarketView {
 public:
  EngineMarket(const InstrumentMaster& instruments, ReferencePricePolicy policy,
               size_t tick_capacity = 1 << 16);

  std::optional<ReferencePrice> Reference(int64_t instrument_token, Nanos now) const override;
  // An admin reload's reference-price policy. Sequencer thread only, between batches.
  void set_policy(const ReferencePricePolicy& policy) { policy_ = policy; }
  // The tick thread writes here; the sequencer reads through Reference().
  TickTable& ticks() { return ticks_; }
  const TickTable& ticks() const { return ticks_; }

 private:
  const InstrumentMaster& instruments_;
  ReferencePricePolicy policy_;
  TickTable ticks_;
};

}  // namespace wojak
