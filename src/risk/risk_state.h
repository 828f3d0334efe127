// The mutable state the gate reads: open orders, positions, counters and trading states. It
// changes only through explicit events carrying explicit timestamps, so replaying the journal's
// events rebuilds exactly the same state (compare with operator== or Dump()).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/interned_string.h"
#include "common/status.h"
#include "model/instrument.h"
#include "model/money.h"
#include "model/order.h"
#include "model/requests.h"
#include "risk/breach.h"
#include "risk/order_view.h"

namespace wojak {

// Transparent hashing so maps keyed by std::string are searched with a string_view (no copy).
// Inline and eight bytes at a time: account, strategy and underlying names are short, and the
// library's out-of-line hash costs more than hashing them. Being a user-defined hash also keeps
// libstdc++ from scanning small maps linearly with a string compare per element.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const {
    const char* p = text.data();
    size_t n = text.size();
    uint64_t hash = 0x9E3779B97F4A7C15ull * (n + 1);
    for (; n >= 8; p += 8, n -= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      hash = (hash ^ word) * 0xFF51AFD7ED558CCDull;
      hash ^= hash >> 32;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    hash = (hash ^ tail) * 0xC4CEB9FE1A85EC53ull;
    return static_cast<size_t>(hash ^ (hash >> 29));
  }
};
// Transparent equality that compares short names inline, eight bytes at a time, instead of
// calling memcmp.
struct StringEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    if (a.size() != b.size()) return false;
    const char* p = a.data();
    const char* q = b.data();
    size_t n = a.size();
    for (; n >= 8; p += 8, q += 8, n -= 8) {
      uint64_t x;
      uint64_t y;
      std::memcpy(&x, p, 8);
      std::memcpy(&y, q, 8);
      if (x != y) return false;
    }
    for (; n > 0; ++p, ++q, --n) {
      if (*p != *q) return false;
    }
    return true;
  }
};
template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, StringEqual>;
using StringSet = std::unordered_set<std::string, StringHash, StringEqual>;

// SEBI's algorithmic-order threshold is counted per second.
inline constexpr Nanos kRateWindow = kNanosPerSecond;

// Orders counted per IST trading date; a new date starts from zero.
struct DayCounter {
  EpochDay day = INT32_MIN;
  int64_t count = 0;
  int64_t CountOn(EpochDay today) const { return day == today ? count : 0; }
  void Increment(EpochDay today);
  bool operator==(const DayCounter&) const = default;
};

// Times of the orders of the last kRateWindow, oldest first, in one contiguous buffer (a binary
// search over it is a few cache lines, unlike a deque's blocks).
class RateWindow {
 public:
  // Orders in the window (now - kRateWindow, now]: one exactly kRateWindow old has left it.
  int64_t CountInWindow(Nanos now) const;
  // Records an order at `now` and forgets those that left the window. Times never go backwards:
  // a clock step back records the latest time seen instead.
  void Record(Nanos now);
  size_t size() const { return times_.size() - head_; }
  Nanos newest() const { return times_.back(); }
  std::vector<Nanos> Times() const { return {times_.begin() + head_, times_.end()}; }
  bool operator==(const RateWindow& other) const {
    return std::equal(times_.begin() + head_, times_.end(), other.times_.begin() + other.head_,
                      other.times_.end());
  }

 private:
  std::vector<Nanos> times_;
  size_t head_ = 0;  // times_[0, head_) have left the window; compacted now and then
};

// Names are interned: every open order repeats its account's, strategy's and underlying's.
struct OpenOrder {
  InternedString account;
  InternedString strategy;
  int64_t instrument_token = 0;
  InternedString underlying;
  Qty lot_size = 0;
  Side side = Side::kBuy;
  Qty remaining = 0;
  Paise price;  // the effective price (a MARKET order's protected limit)
  bool operator==(const OpenOrder&) const = default;
};

// An open order resting in an instrument, for the self-trade check.
struct RestingOrder {
  OrderId id = 0;
  Side side = Side::kBuy;
  Paise price;
  bool operator==(const RestingOrder&) const = default;
};

// One account's holding in one contract, plus its open orders there.
struct Position {
  int64_t instrument_token = 0;
  std::string underlying;
  Qty lot_size = 0;
  Qty net_quantity = 0;  // + long, - short
  // Signed cost of the open net quantity (sum of quantity x price, long positive); the average
  // price is cost / net_quantity. Kept exact, so realised P&L never drifts.
  Paise cost;
  Paise realised;  // realised P&L since the state began (all days)
  Qty open_buy_quantity = 0;
  Qty open_sell_quantity = 0;
  std::vector<RestingOrder> resting;
  bool operator==(const Position&) const = default;
};

// The few numbers of a position the per-order valuation pass reads, kept contiguous apart from
// the rest of Position so the pass touches a handful of cache lines.
struct Holding {
  int64_t instrument_token = 0;
  Qty net_quantity = 0;
  int64_t cost = 0;  // paise, as Position::cost
  Qty lot_size = 0;
  uint32_t underlying = 0;  // RiskState::FindUnderlyingId
  bool operator==(const Holding&) const = default;
};

struct AccountState {
  TradingState trading_state = TradingState::kActive;
  int64_t open_orders = 0;
  Paise open_order_value;  // sum of remaining quantity x price of open orders
  // Positions in order of first use, `holdings` in step with them, and their index by
  // instrument token (consulted only past kLinearScanPositions, below which a scan of the
  // holdings is faster). Never shrinks, so indices stay valid.
  std::vector<Position> positions;
  std::vector<Holding> holdings;
  std::unordered_map<int64_t, uint32_t> position_index;
  Paise realised_today;  // realised P&L on realised_day (IST)
  EpochDay realised_day = INT32_MIN;
  DayCounter orders_today;
  RateWindow rate;

  Paise RealisedOn(EpochDay today) const {
    return realised_day == today ? realised_today : Paise();
  }
  static constexpr size_t kLinearScanPositions = 16;
  const Position* FindPosition(int64_t instrument_token) const;
  // Index of the position for a contract in `positions`, created empty on first use.
  uint32_t PositionIndex(int64_t instrument_token, std::string_view underlying, Qty lot_size,
                         uint32_t underlying_id);
  // Gross lots across an underlying's contracts: the sum of |net quantity| / lot size. CE and PE
  // positions do not offset each other, so this is deliberately not a net figure.
  int64_t UnderlyingLots(std::string_view underlying) const;
  bool operator==(const AccountState&) const = default;
};

struct StrategyState {
  TradingState trading_state = TradingState::kActive;
  DayCounter orders_today;
  RateWindow rate;
  bool operator==(const StrategyState&) const = default;
};

struct RiskStateOptions {
  size_t expected_accounts = 1024;
  size_t expected_strategies = 256;
  size_t expected_open_orders = 65536;
};

class RiskState {
 public:
  explicit RiskState(const RiskStateOptions& options = {});

  // Every order that reaches the gate counts toward the rate and daily-count limits, whatever
  // the decision (SEBI counts order messages sent, and a strategy stuck in a reject loop should
  // exhaust its budget, not spin). Call after Evaluate() with the same `now`.
  void OnOrderEvaluated(std::string_view account, std::string_view strategy, Nanos now);
  // An order became open (ACCEPTED or ESCALATED) at `price` (the result's effective price).
  // Needs the resolved instrument. AlreadyExists if `id` is already open.
  Status OnOrderOpened(OrderId id, const OrderView& order, Paise price);
  // A MODIFY was accepted: the open order now has `remaining` units at `price`.
  Status OnOrderModified(OrderId id, Qty remaining, Paise price);
  // A fill of `quantity` units at `price`; the order closes when nothing remains. Positions and
  // realised P&L move; realised P&L is booked on the IST date of `now`.
  Status OnFill(OrderId id, Qty quantity, Paise price, Nanos now);
  // The order left the book without (further) fills: cancelled, failed, expired, rejected by the
  // heavy RMS.
  Status OnOrderClosed(OrderId id);
  // Halt / reduce-only / resume for everything (target ignored), an account or a strategy.
  void SetTradingState(AdminScope scope, std::string_view target, TradingState state);

  TradingState global_trading_state() const { return global_trading_state_; }
  const AccountState* FindAccount(std::string_view account) const;
  const StrategyState* FindStrategy(std::string_view strategy) const;
  const OpenOrder* FindOpenOrder(OrderId id) const;
  // The id Holding::underlying uses for an underlying name; nullopt if no position ever had it.
  std::optional<uint32_t> FindUnderlyingId(std::string_view underlying) const;
  size_t open_order_count() const { return open_orders_.size(); }
  // Every account and strategy seen so far (status views list their trading states).
  const StringMap<AccountState>& accounts() const { return accounts_; }
  const StringMap<StrategyState>& strategies() const { return strategies_; }

  // A canonical, sorted text form of the whole state, for diffs in replay tests.
  std::string Dump() const;
  bool operator==(const RiskState&) const = default;

 private:
  AccountState& Account(std::string_view account);
  StrategyState& Strategy(std::string_view strategy);
  // Removes `quantity` units of an open order from the aggregates (not the order itself).
  void ReleaseOpenQuantity(AccountState& account, const OpenOrder& order, Qty quantity);
  Position& PositionOf(AccountState& account, const OpenOrder& order);

  TradingState global_trading_state_ = TradingState::kActive;
  StringMap<AccountState> accounts_;
  StringMap<StrategyState> strategies_;
  std::unordered_map<OrderId, OpenOrder> open_orders_;
  StringMap<uint32_t> underlying_ids_;  // interned in order of first use
};

}  // namespace wojak
