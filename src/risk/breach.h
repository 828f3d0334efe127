// What a rule reports: a breach with a stable reason code, an action, and the numbers behind it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "model/reason_code.h"

namespace wojak {

// What the gate does with a breach: REJECT wins over ESCALATE.
enum class Action : uint8_t { kReject, kEscalate };
std::string_view ActionName(Action action);  // "reject", "escalate"

// ACTIVE accepts all; REDUCING accepts only orders that reduce a position; HALTED accepts none.
// Ordered by severity so the effective state of several scopes is their maximum.
enum class TradingState : uint8_t { kActive, kReducing, kHalted };
std::string_view TradingStateName(TradingState state);  // "ACTIVE", "REDUCING", "HALTED"
std::optional<TradingState> ParseTradingState(std::string_view text);

// Every rule of the gate. The name is its configuration key under risk.rules.
enum class RuleId : uint8_t {
  kInstrument,
  kQuantity,
  kFreeze,
  kTick,
  kOrderType,
  kMarketProtection,
  kPriceBand,
  kOrderValue,
  kPosition,
  kExposure,
  kOpenOrders,
  kRate,
  kDailyLoss,
  kDailyOrders,
  kSelfTrade,
  kSession,
  kTradingState,
  kEscalateDaysToExpiry,
  kEscalateMoneyness,
  kEscalateStrategy,
  kEscalateNotional,
};
inline constexpr size_t kRuleCount = 21;
std::string_view RuleName(RuleId rule);  // "instrument", "escalate_days_to_expiry", ...

// Whose limit a breach is about, so its message can name it.
enum class Scope : uint8_t { kOrder, kGlobal, kAccount, kStrategy, kInstrument, kUnderlying };

// What `value` and `limit` measure, so messages print them in the right unit.
enum class Measure : uint8_t { kNone, kUnits, kMoney, kLots, kCount, kDays, kBasisPoints };

struct Breach {
  ReasonCode code = ReasonCode::k_INVALID_ORDER;
  Action action = Action::kReject;
  RuleId rule = RuleId::kInstrument;
  Scope scope = Scope::kOrder;
  Measure measure = Measure::kNone;
  std::string_view field;  // the order field concerned ("quantity", "price", ...); static storage
  int64_t value = 0;       // what was measured
  int64_t limit = 0;       // what it was compared with (the lower bound of a band)
  int64_t limit2 = 0;      // the upper bound of a band
  bool operator==(const Breach&) const = default;
};

// A fixed-capacity list so evaluation never allocates. More breaches than fit is impossible with
// the built-in rules (each adds at most two); should it happen, the extra ones are counted in
// dropped() and the decision still rejects if any dropped breach did.
class BreachList {
 public:
  static constexpr size_t kCapacity = 48;

  void push_back(const Breach& breach) {
    if (size_ < kCapacity) {
      items_[size_++] = breach;
      return;
    }
    ++dropped_;
    dropped_reject_ = dropped_reject_ || breach.action == Action::kReject;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t dropped() const { return dropped_; }
  bool dropped_reject() const { return dropped_reject_; }
  const Breach& operator[](size_t i) const { return items_[i]; }
  const Breach* begin() const { return items_.data(); }
  const Breach* end() const { return items_.data() + size_; }
  void clear() {
    size_ = 0;
    dropped_ = 0;
    dropped_reject_ = false;
  }
  bool Has(ReasonCode code) const {
    for (const Breach& b : *this) {
      if (b.code == code) return true;
    }
    return false;
  }

 private:
  std::array<Breach, kCapacity> items_{};
  size_t size_ = 0;
  size_t dropped_ = 0;
  bool dropped_reject_ = false;
};

}  // namespace wojak
