// The rules of NSE_RULES.md, one class each. Each reads the precomputed CheckContext, compares
// with its limit (exactly at the limit passes) and emits breaches; none allocates.
#include <algorithm>
#include <type_traits>

#include "risk/price_math.h"
#include "risk/rule.h"
#include "risk/saturating.h"

namespace wojak {
namespace {

constexpr std::string_view kQuantityField = "quantity";
constexpr std::string_view kPriceField = "price";
constexpr std::string_view kTriggerField = "trigger_price";
constexpr std::string_view kSymbolField = "symbol";

bool UsesPrice(OrderType type) { return type == OrderType::kLimit || type == OrderType::kStopLoss; }
bool UsesTrigger(OrderType type) {
  return type == OrderType::kStopLoss || type == OrderType::kStopLossMarket;
}

class InstrumentRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    const Instrument* listed = c.order.instrument;
    if (listed == nullptr) {
      Emit(out, ReasonCode::k_UNKNOWN_INSTRUMENT, Scope::kOrder, Measure::kNone, kSymbolField,
           kNotInMaster, 0);
      return;
    }
    if (c.instrument == nullptr) {
      Emit(out, ReasonCode::k_UNKNOWN_INSTRUMENT, Scope::kOrder, Measure::kNone, kSymbolField,
           kWrongExchange, 0);
      return;
    }
    if (c.instrument->IsExpiredOn(c.today)) {
      Emit(out, ReasonCode::k_INSTRUMENT_EXPIRED, Scope::kOrder, Measure::kDays, kSymbolField,
           c.instrument->expiry, c.today);
    }
  }
};

class QuantityRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    Qty quantity = c.order.quantity;
    if (quantity <= 0) {
      Emit(out, ReasonCode::k_QTY_NOT_POSITIVE, Scope::kOrder, Measure::kUnits, kQuantityField,
           quantity, 0);
      return;
    }
    if (c.instrument != nullptr && quantity % c.instrument->lot_size != 0) {
      Emit(out, ReasonCode::k_QTY_NOT_LOT_MULTIPLE, Scope::kOrder, Measure::kUnits, kQuantityField,
           quantity, c.instrument->lot_size);
    }
  }
};

class FreezeRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (c.instrument == nullptr || c.order.quantity <= 0) return;
    Qty freeze = c.instrument->freeze_quantity;
    if (freeze <= 0) {
      if (c.config.reject_without_freeze_limit) {
        Emit(out, ReasonCode::k_QTY_ABOVE_FREEZE_LIMIT, Scope::kOrder, Measure::kUnits,
             kQuantityField, c.order.quantity, 0);
      }
      return;
    }
    if (c.order.quantity > freeze) {
      Emit(out, ReasonCode::k_QTY_ABOVE_FREEZE_LIMIT, Scope::kOrder, Measure::kUnits,
           kQuantityField, c.order.quantity, freeze);
    }
  }
};

class TickRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (c.order.price && UsesPrice(c.order.order_type)) {
      CheckPrice(c, *c.order.price, kPriceField, out);
    }
    if (c.order.trigger_price && UsesTrigger(c.order.order_type)) {
      CheckPrice(c, *c.order.trigger_price, kTriggerField, out);
    }
  }

 private:
  void CheckPrice(const CheckContext& c, Paise price, std::string_view field,
                  BreachList& out) const {
    if (price <= Paise()) {
      Emit(out, ReasonCode::k_PRICE_NOT_POSITIVE, Scope::kOrder, Measure::kMoney, field,
           price.value(), 0);
      return;
    }
    if (c.instrument != nullptr && price.value() % c.instrument->tick_size.value() != 0) {
      Emit(out, ReasonCode::k_PRICE_NOT_TICK_MULTIPLE, Scope::kOrder, Measure::kMoney, field,
           price.value(), c.instrument->tick_size.value());
    }
  }
};

class OrderTypeRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    const OrderView& o = c.order;
    if (UsesPrice(o.order_type) && !o.price) {
      Emit(out, ReasonCode::k_PRICE_REQUIRED, Scope::kOrder, Measure::kNone, kPriceField, 0, 0);
    }
    if (UsesTrigger(o.order_type) && !o.trigger_price) {
      Emit(out, ReasonCode::k_TRIGGER_REQUIRED, Scope::kOrder, Measure::kNone, kTriggerField, 0, 0);
    }
    if (!UsesTrigger(o.order_type) || !o.trigger_price) return;
    Paise trigger = *o.trigger_price;
    // A stop-loss buy triggers when the price rises to the trigger, a sell when it falls: a
    // trigger already crossed would fire at once.
    if (c.reference) {
      bool wrong =
          o.side == Side::kBuy ? trigger <= c.reference->price : trigger >= c.reference->price;
      if (wrong) {
        Emit(out, ReasonCode::k_TRIGGER_WRONG_SIDE, Scope::kOrder, Measure::kMoney, kTriggerField,
             trigger.value(), c.reference->price.value());
      }
    }
    if (o.order_type == OrderType::kStopLoss && o.price) {
      bool wrong = o.side == Side::kBuy ? *o.price < trigger : *o.price > trigger;
      if (wrong) {
        Emit(out, ReasonCode::k_TRIGGER_WRONG_SIDE, Scope::kOrder, Measure::kMoney, kPriceField,
             o.price->value(), trigger.value());
      }
    }
  }
};

class MarketProtectionRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (c.instrument == nullptr || c.reference) return;
    // The band needs the reference for every order; a MARKET order needs it even without
    // bands, to become a protected limit order.
    if (c.order.order_type == OrderType::kMarket || c.config.rule(RuleId::kPriceBand).enabled) {
      Emit(out, ReasonCode::k_NO_REFERENCE_PRICE, Scope::kOrder, Measure::kNone, kSymbolField, 0,
           0);
    }
  }
};

class PriceBandRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (c.instrument == nullptr || !c.reference) return;
    PriceBandLimits band = ComputePriceBand(*c.instrument, c.reference->price, c.config.bands);
    const OrderView& o = c.order;
    if (o.order_type == OrderType::kMarket && c.effective_price) {
      CheckOne(*c.effective_price, kPriceField, band, out);
    } else if (UsesPrice(o.order_type) && o.price) {
      CheckOne(*o.price, kPriceField, band, out);
    }
    if (UsesTrigger(o.order_type) && o.trigger_price) {
      CheckOne(*o.trigger_price, kTriggerField, band, out);
    }
  }

 private:
  void CheckOne(Paise price, std::string_view field, const PriceBandLimits& band,
                BreachList& out) const {
    if (price.value() < band.low || price.value() > band.high) {
      Emit(out, ReasonCode::k_PRICE_OUTSIDE_BAND, Scope::kOrder, Measure::kMoney, field,
           price.value(), band.low, band.high);
    }
  }
};

int64_t OrderValue(const CheckContext& c) {
  return SaturatingMul(Abs(c.order.quantity), c.effective_price->value());
}

class OrderValueRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (!c.effective_price) return;
    int64_t value = OrderValue(c);
    Limit account_limit = c.account_limits->max_order_value;
    if (account_limit && value > *account_limit) {
      Emit(out, ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT, Scope::kAccount, Measure::kMoney,
           kQuantityField, value, *account_limit);
    }
    if (c.strategy_limits != nullptr && c.strategy_limits->max_order_value &&
        value > *c.strategy_limits->max_order_value) {
      Emit(out, ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT, Scope::kStrategy, Measure::kMoney,
           kQuantityField, value, *c.strategy_limits->max_order_value);
    }
  }
};

int64_t CeilLots(int64_t units, Qty lot_size) {
  return lot_size > 0 ? (Abs(units) + lot_size - 1) / lot_size : 0;
}

class PositionRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (c.instrument == nullptr || c.order.quantity <= 0 || c.reduces_position) return;
    // Worst case: every open order on this side fills, then this one.
    int64_t added = SaturatingAdd(c.open_same_side, c.order.quantity);
    int64_t projected = c.order.side == Side::kBuy ? SaturatingAdd(c.net_quantity, added)
                                                   : SaturatingSub(c.net_quantity, added);
    Qty lot = c.instrument->lot_size;
    int64_t projected_lots = CeilLots(projected, lot);
    Limit per_instrument = c.account_limits->max_position_lots_per_instrument;
    if (per_instrument && projected_lots > *per_instrument) {
      Emit(out, ReasonCode::k_POSITION_LIMIT, Scope::kInstrument, Measure::kLots, kQuantityField,
           projected_lots, *per_instrument);
    }
    Limit per_underlying = c.account_limits->max_position_lots_per_underlying;
    if (per_underlying) {
      int64_t after = c.underlying_lots - Abs(c.net_quantity) / lot + projected_lots;
      if (after > *per_underlying) {
        Emit(out, ReasonCode::k_POSITION_LIMIT, Scope::kUnderlying, Measure::kLots, kQuantityField,
             after, *per_underlying);
      }
    }
  }
};

class ExposureRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    Limit limit = c.account_limits->max_exposure;
    if (!limit || !c.effective_price || c.reduces_position) return;
    int64_t open_value = c.account ? c.account->open_order_value.value() : 0;
    if (c.replaced != nullptr) {
      open_value = SaturatingSub(open_value,
                                 SaturatingMul(c.replaced->remaining, c.replaced->price.value()));
    }
    int64_t exposure =
        SaturatingAdd(SaturatingAdd(open_value, c.position_value.value()), OrderValue(c));
    if (exposure > *limit) {
      Emit(out, ReasonCode::k_EXPOSURE_LIMIT, Scope::kAccount, Measure::kMoney, "", exposure,
           *limit);
    }
  }
};

class OpenOrdersRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    Limit limit = c.account_limits->max_open_orders;
    if (!limit || c.replaced != nullptr) return;
    int64_t after = (c.account ? c.account->open_orders : 0) + 1;
    if (after > *limit) {
      Emit(out, ReasonCode::k_OPEN_ORDERS_LIMIT, Scope::kAccount, Measure::kCount, "", after,
           *limit);
    }
  }
};

class RateRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (c.account != nullptr) {
      CheckWindow(c.account->rate, c.account_limits->max_orders_per_second, Scope::kAccount, c.now,
                  out);
    }
    if (c.strategy != nullptr && c.strategy_limits != nullptr) {
      CheckWindow(c.strategy->rate, c.strategy_limits->max_orders_per_second, Scope::kStrategy,
                  c.now, out);
    }
  }

 private:
  void CheckWindow(const RateWindow& window, Limit limit, Scope scope, Nanos now,
                   BreachList& out) const {
    // The window holds at least the orders of the last second, so when it is shorter than the
    // limit the count need not be taken.
    if (!limit || static_cast<int64_t>(window.size()) < *limit) return;
    int64_t count = window.CountInWindow(now) + 1;
    if (count > *limit) {
      Emit(out, ReasonCode::k_RATE_LIMIT, scope, Measure::kCount, "", count, *limit);
    }
  }
};

class DailyLossRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (!c.daily_loss_breached) return;
    // Reduce-only keeps closing trades possible; halted stops everything.
    if (c.config.daily_loss_state == TradingState::kReducing && c.reduces_position) return;
    int64_t loss = -SaturatingAdd(c.realised_today.value(), c.unrealised.value());
    Emit(out, ReasonCode::k_DAILY_LOSS_LIMIT, Scope::kAccount, Measure::kMoney, "", loss,
         *c.account_limits->max_daily_loss, static_cast<int64_t>(c.config.daily_loss_state));
  }
};

class DailyOrdersRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    Limit account_limit = c.account_limits->max_daily_orders;
    if (account_limit) {
      int64_t count = (c.account ? c.account->orders_today.CountOn(c.today) : 0) + 1;
      if (count > *account_limit) {
        Emit(out, ReasonCode::k_DAILY_ORDER_COUNT_LIMIT, Scope::kAccount, Measure::kCount, "",
             count, *account_limit);
      }
    }
    if (c.strategy_limits != nullptr && c.strategy_limits->max_daily_orders) {
      int64_t count = (c.strategy ? c.strategy->orders_today.CountOn(c.today) : 0) + 1;
      if (count > *c.strategy_limits->max_daily_orders) {
        Emit(out, ReasonCode::k_DAILY_ORDER_COUNT_LIMIT, Scope::kStrategy, Measure::kCount, "",
             count, *c.strategy_limits->max_daily_orders);
      }
    }
  }
};

class SelfTradeRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (c.position == nullptr) return;
    bool buy = c.order.side == Side::kBuy;
    const RestingOrder* crossed = nullptr;
    for (const RestingOrder& resting : c.position->resting) {
      if (resting.side == c.order.side || resting.id == c.order.replaces) continue;
      // Without a known price (a MARKET order with no reference) any opposite order may match.
      bool crosses = !c.effective_price || (buy ? *c.effective_price >= resting.price
                                                : *c.effective_price <= resting.price);
      if (!crosses) continue;
      // Report the order it would meet first: the lowest sell for a buy, the highest buy for a
      // sell.
      if (crossed == nullptr ||
          (buy ? resting.price < crossed->price : resting.price > crossed->price)) {
        crossed = &resting;
      }
    }
    if (crossed != nullptr) {
      Emit(out, ReasonCode::k_SELF_TRADE, Scope::kAccount, Measure::kMoney, kPriceField,
           static_cast<int64_t>(crossed->id), crossed->price.value(),
           c.effective_price ? c.effective_price->value() : -1);
    }
  }
};

class SessionRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    if (c.config.session.IsOpen(c.now)) return;
    Emit(out, ReasonCode::k_MARKET_CLOSED, Scope::kGlobal, Measure::kNone, "", IstTimeOfDay(c.now),
         c.config.session.open, c.config.session.close);
  }
};

class TradingStateRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    TradingState state = c.state.global_trading_state();
    Scope scope = Scope::kGlobal;
    if (c.account != nullptr && c.account->trading_state > state) {
      state = c.account->trading_state;
      scope = Scope::kAccount;
    }
    if (c.strategy != nullptr && c.strategy->trading_state > state) {
      state = c.strategy->trading_state;
      scope = Scope::kStrategy;
    }
    if (state == TradingState::kHalted) {
      Emit(out, ReasonCode::k_TRADING_HALTED, scope, Measure::kNone, "", 0, 0);
    } else if (state == TradingState::kReducing && !c.reduces_position) {
      Emit(out, ReasonCode::k_REDUCE_ONLY, scope, Measure::kUnits, kQuantityField, c.net_quantity,
           0);
    }
  }
};

class EscalateDaysToExpiryRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    Limit above = c.config.escalate_days_to_expiry_above;
    if (!above || c.instrument == nullptr) return;
    int64_t days = c.instrument->DaysToExpiry(c.today);
    if (days > *above) {
      Emit(out, ReasonCode::k_ESCALATE_DAYS_TO_EXPIRY, Scope::kOrder, Measure::kDays, kSymbolField,
           days, *above);
    }
  }
};

class EscalateMoneynessRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    Limit above = c.config.escalate_in_the_money_basis_points;
    if (!above || c.instrument == nullptr || !c.instrument->IsOption()) return;
    std::optional<ReferencePrice> underlying;
    if (c.instrument->underlying_token != 0) {
      underlying = c.market.Reference(c.instrument->underlying_token, c.now);
    }
    if (!underlying) {
      if (c.config.escalate_when_moneyness_unknown) {
        Emit(out, ReasonCode::k_ESCALATE_MONEYNESS, Scope::kOrder, Measure::kBasisPoints,
             kSymbolField, -1, *above);
      }
      return;
    }
    int64_t spot = underlying->price.value();
    int64_t strike = c.instrument->strike.value();
    int64_t depth =
        c.instrument->instrument_type == InstrumentType::kCall ? spot - strike : strike - spot;
    // depth / spot > above / 10000, without division.
    if (depth > 0 && static_cast<__int128>(depth) * 10000 > static_cast<__int128>(*above) * spot) {
      Emit(out, ReasonCode::k_ESCALATE_MONEYNESS, Scope::kOrder, Measure::kBasisPoints,
           kSymbolField, static_cast<int64_t>(static_cast<__int128>(depth) * 10000 / spot), *above);
    }
  }
};

class EscalateStrategyRule final : public Rule {
 public:
  EscalateStrategyRule(RuleId id, Action action, const RiskConfig& config)
      : Rule(id, action), local_(config.local_strategies.begin(), config.local_strategies.end()) {}
  void Check(const CheckContext& c, BreachList& out) const override {
    if (!local_.empty() && !local_.contains(c.order.strategy)) {
      Emit(out, ReasonCode::k_ESCALATE_STRATEGY, Scope::kStrategy, Measure::kNone, "strategy", 0,
           0);
    }
  }

 private:
  StringSet local_;  // hashed once here; the config keeps a sorted list
};

class EscalateNotionalRule final : public Rule {
 public:
  using Rule::Rule;
  void Check(const CheckContext& c, BreachList& out) const override {
    Limit above = c.config.escalate_notional_above;
    if (!above || c.instrument == nullptr) return;
    // An option's premium understates what is at stake; its strike is the contract's notional.
    std::optional<Paise> unit =
        c.instrument->IsOption() ? std::optional<Paise>(c.instrument->strike) : c.effective_price;
    if (!unit) return;
    int64_t notional = SaturatingMul(Abs(c.order.quantity), unit->value());
    if (notional > *above) {
      Emit(out, ReasonCode::k_ESCALATE_NOTIONAL, Scope::kOrder, Measure::kMoney, kQuantityField,
           notional, *above);
    }
  }
};

template <typename T>
void AddIfEnabled(const RiskConfig& config, RuleId id, std::vector<std::unique_ptr<Rule>>& rules) {
  const RuleSettings& settings = config.rule(id);
  if (!settings.enabled) return;
  if constexpr (std::is_constructible_v<T, RuleId, Action, const RiskConfig&>) {
    rules.push_back(std::make_unique<T>(id, settings.action, config));
  } else {
    rules.push_back(std::make_unique<T>(id, settings.action));
  }
}

}  // namespace

std::vector<std::unique_ptr<Rule>> MakeRules(const RiskConfig& config) {
  std::vector<std::unique_ptr<Rule>> rules;
  AddIfEnabled<InstrumentRule>(config, RuleId::kInstrument, rules);
  AddIfEnabled<QuantityRule>(config, RuleId::kQuantity, rules);
  AddIfEnabled<FreezeRule>(config, RuleId::kFreeze, rules);
  AddIfEnabled<TickRule>(config, RuleId::kTick, rules);
  AddIfEnabled<OrderTypeRule>(config, RuleId::kOrderType, rules);
  AddIfEnabled<MarketProtectionRule>(config, RuleId::kMarketProtection, rules);
  AddIfEnabled<PriceBandRule>(config, RuleId::kPriceBand, rules);
  AddIfEnabled<OrderValueRule>(config, RuleId::kOrderValue, rules);
  AddIfEnabled<PositionRule>(config, RuleId::kPosition, rules);
  AddIfEnabled<ExposureRule>(config, RuleId::kExposure, rules);
  AddIfEnabled<OpenOrdersRule>(config, RuleId::kOpenOrders, rules);
  AddIfEnabled<RateRule>(config, RuleId::kRate, rules);
  AddIfEnabled<DailyLossRule>(config, RuleId::kDailyLoss, rules);
  AddIfEnabled<DailyOrdersRule>(config, RuleId::kDailyOrders, rules);
  AddIfEnabled<SelfTradeRule>(config, RuleId::kSelfTrade, rules);
  AddIfEnabled<SessionRule>(config, RuleId::kSession, rules);
  AddIfEnabled<TradingStateRule>(config, RuleId::kTradingState, rules);
  AddIfEnabled<EscalateDaysToExpiryRule>(config, RuleId::kEscalateDaysToExpiry, rules);
  AddIfEnabled<EscalateMoneynessRule>(config, RuleId::kEscalateMoneyness, rules);
  AddIfEnabled<EscalateStrategyRule>(config, RuleId::kEscalateStrategy, rules);
  AddIfEnabled<EscalateNotionalRule>(config, RuleId::kEscalateNotional, rules);
  return rules;
}

}  // namespace wojak
