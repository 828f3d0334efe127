// Reference prices the gate prices orders against, and the policy choosing between sources.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "instruments/instrument_table.h"
#include "model/money.h"

namespace wojak {

enum class PriceSource : uint8_t { kLastTradedPrice, kMaster };
std::string_view PriceSourceName(PriceSource source);  // "LTP", "MASTER"

struct ReferencePrice {
  Paise price;
  PriceSource source = PriceSource::kLastTradedPrice;
  Nanos as_of = 0;  // the tick's time for an LTP; 0 for the master
  bool operator==(const ReferencePrice&) const = default;
};

struct LastTrade {
  Paise price;
  Nanos time = 0;
};

// NSE_RULES.md "Reference price": the live LTP when it is at most `max_age` old; otherwise the
// master's last_price when non-zero and `fallback_to_master`; otherwise none (fail closed).
struct ReferencePricePolicy {
  Nanos max_age = 5 * kNanosPerSecond;  // reference_price.max_age
  bool fallback_to_master = true;       // reference_price.fallback_to_master
};

// An LTP exactly max_age old still counts; a tick stamped after `now` (feed clock ahead of
// ours) counts as fresh.
std::optional<ReferencePrice> ResolveReferencePrice(const std::optional<LastTrade>& live,
                                                    Paise master_last_price, Nanos now,
                                                    const ReferencePricePolicy& policy);

// What the engine provides the gate: the reference price of a contract at `now` under the
// policy above. Implementations must not allocate in Reference() (it is on the hot path).
class MarketView {
 public:
  virtual ~MarketView() = default;
  virtual std::optional<ReferencePrice> Reference(int64_t instrument_token, Nanos now) const = 0;
};

// A MarketView over last trades and an instrument table's master prices, for tests and
// benchmarks. One open-addressing table holds both per token, so a lookup touches one slot.
class InMemoryMarketView final : public MarketView {
 public:
  explicit InMemoryMarketView(std::shared_ptr<const InstrumentTable> instruments,
                              ReferencePricePolicy policy = {});

  // Tokens must be positive (0 marks an empty slot), as the instrument master guarantees.
  void SetLastTrade(int64_t instrument_token, Paise price, Nanos time);
  void ClearLastTrade(int64_t instrument_token);
  std::optional<ReferencePrice> Reference(int64_t instrument_token, Nanos now) const override;

 private:
  // 32 bytes, so a slot never straddles a cache line.
  struct Slot {
    int64_t token = 0;
    Paise live_price;  // 0 = no live trade
    Nanos live_time = 0;
    Paise master;
  };
  const Slot* Find(int64_t token) const;
  Slot& FindOrInsert(int64_t token);
  void Rehash(size_t capacity);

  std::shared_ptr<const InstrumentTable> instruments_;
  ReferencePricePolicy policy_;
  std::vector<Slot> slots_;
  size_t used_ = 0;
};

}  // namespace wojak
