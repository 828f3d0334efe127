// The gate: one lookup pass building the CheckContext, then every enabled rule; and the
// messages that explain each breach.
#include "risk/gate.h"

#include "risk/price_math.h"
#include "risk/saturating.h"

namespace wojak {

RiskGate::RiskGate(RiskConfig config) : config_(std::move(config)), rules_(MakeRules(config_)) {
  needs_valuation_ =
      config_.rule(RuleId::kExposure).enabled || config_.rule(RuleId::kDailyLoss).enabled;
}

RiskResult RiskGate::Evaluate(const OrderView& order, const RiskState& state,
                              const MarketView& market, Nanos now) const {
  RiskResult result;
  Evaluate(order, state, market, now, result);
  return result;
}

void RiskGate::Evaluate(const OrderView& order, const RiskState& state, const MarketView& market,
                        Nanos now, RiskResult& result) const {
  result.breaches.clear();
  result.reference.reset();
  result.effective_price.reset();
  result.account_state_request.reset();

  CheckContext c{order, state, market, config_};
  c.now = now;
  c.today = IstDate(now);
  const Instrument* listed = order.instrument;
  if (listed != nullptr && order.exchange == listed->exchange && listed->IsNfoDerivative()) {
    c.instrument = listed;
  }
  c.account = state.FindAccount(order.account);
  c.account_limits = &config_.ForAccount(order.account);
  if (!order.strategy.empty()) {
    c.strategy = state.FindStrategy(order.strategy);
    c.strategy_limits = &config_.ForStrategy(order.strategy);
  }
  if (order.replaces != 0) c.replaced = state.FindOpenOrder(order.replaces);

  if (c.instrument != nullptr) {
    int64_t token = c.instrument->instrument_token;
    c.reference = market.Reference(token, now);
    if (c.account != nullptr) c.position = c.account->FindPosition(token);
  }

  switch (order.order_type) {
    case OrderType::kLimit:
    case OrderType::kStopLoss:
      c.effective_price = order.price;
      break;
    case OrderType::kStopLossMarket:
      c.effective_price = order.trigger_price;
      break;
    case OrderType::kMarket:
      if (c.reference && c.instrument != nullptr) {
        int64_t protection = c.instrument->IsOption()
                                 ? config_.option_market_protection_basis_points
                                 : config_.future_market_protection_basis_points;
        c.effective_price = ProtectedMarketPrice(order.side, c.reference->price, protection,
                                                 c.instrument->tick_size);
      }
      break;
  }

  c.signed_quantity = order.side == Side::kBuy ? order.quantity : -order.quantity;
  if (c.position != nullptr) {
    c.net_quantity = c.position->net_quantity;
    c.open_same_side =
        order.side == Side::kBuy ? c.position->open_buy_quantity : c.position->open_sell_quantity;
    if (c.replaced != nullptr && c.replaced->instrument_token == c.position->instrument_token &&
        c.replaced->side == order.side) {
      c.open_same_side -= c.replaced->remaining;
    }
  }
  // Reducing: opposite to the position, and even with every other open order on this side
  // filled the position does not flip.
  bool opposite = c.net_quantity != 0 && (c.net_quantity > 0) == (order.side == Side::kSell);
  c.reduces_position = opposite && order.quantity > 0 &&
                       SaturatingAdd(c.open_same_side, order.quantity) <= Abs(c.net_quantity);

  if (c.account != nullptr) {
    c.realised_today = c.account->RealisedOn(c.today);
    // One pass over the account's holdings: mark-to-market for exposure and daily loss, and the
    // gross lots of the order's underlying for the position rule.
    std::optional<uint32_t> underlying;
    if (c.instrument != nullptr && !c.account->holdings.empty()) {
      underlying = state.FindUnderlyingId(c.instrument->name);
    }
    int64_t value = 0;
    int64_t unrealised = 0;
    int64_t lots = 0;
    for (const Holding& holding : c.account->holdings) {
      if (holding.net_quantity == 0) continue;
      if (underlying && holding.underlying == *underlying && holding.lot_size > 0) {
        lots += Abs(holding.net_quantity) / holding.lot_size;
      }
      if (!needs_valuation_) continue;
      std::optional<ReferencePrice> reference =
          c.instrument != nullptr && holding.instrument_token == c.instrument->instrument_token
              ? c.reference
              : market.Reference(holding.instrument_token, now);
      if (reference) {
        int64_t marked = SaturatingMul(holding.net_quantity, reference->price.value());
        value = SaturatingAdd(value, Abs(marked));
        unrealised = SaturatingAdd(unrealised, SaturatingSub(marked, holding.cost));
      } else {
        value = SaturatingAdd(value, Abs(holding.cost));
      }
    }
    c.position_value = Paise::FromPaise(value);
    c.unrealised = Paise::FromPaise(unrealised);
    c.underlying_lots = lots;
  }
  Limit loss_limit = c.account_limits->max_daily_loss;
  if (loss_limit && config_.rule(RuleId::kDailyLoss).enabled) {
    int64_t loss = -SaturatingAdd(c.realised_today.value(), c.unrealised.value());
    c.daily_loss_breached = loss > *loss_limit;
  }

  for (const std::unique_ptr<Rule>& rule : rules_) rule->Check(c, result.breaches);

  bool reject = result.breaches.dropped_reject();
  bool escalate = false;
  for (const Breach& breach : result.breaches) {
    reject = reject || breach.action == Action::kReject;
    escalate = escalate || breach.action == Action::kEscalate;
  }
  result.decision = reject     ? DecisionKind::kRejected
                    : escalate ? DecisionKind::kEscalated
                               : DecisionKind::kAccepted;
  result.reference = c.reference;
  result.effective_price = c.effective_price;
  TradingState current = c.account ? c.account->trading_state : TradingState::kActive;
  if (c.daily_loss_breached && current < config_.daily_loss_state) {
    result.account_state_request = config_.daily_loss_state;
  }
}

namespace {

std::string Money(int64_t paise) { return Paise::FromPaise(paise).ToString(); }

std::string Percent(int64_t basis_points) { return Money(basis_points) + "%"; }

std::string TimeOfDay(Nanos t) {
  int64_t seconds = t / kNanosPerSecond;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", static_cast<int>(seconds / 3600),
                static_cast<int>(seconds / 60 % 60), static_cast<int>(seconds % 60));
  return buf;
}

std::string Field(const Breach& b) {
  return b.field == "trigger_price" ? "trigger price" : std::string(b.field);
}

std::string ScopeName(const Breach& b, const OrderView& order) {
  switch (b.scope) {
    case Scope::kAccount:
      return "account " + std::string(order.account);
    case Scope::kStrategy:
      return "strategy " + std::string(order.strategy);
    case Scope::kGlobal:
      return "everything";
    case Scope::kInstrument:
      return std::string(order.symbol);
    case Scope::kUnderlying:
      return order.instrument ? order.instrument->name : std::string(order.symbol);
    case Scope::kOrder:
      break;
  }
  return "the order";
}

std::string Reference(const RiskResult& result) {
  if (!result.reference) return "";
  return " around the reference price " + result.reference->price.ToString() + " (" +
         std::string(PriceSourceName(result.reference->source)) + ")";
}

}  // namespace

std::string DescribeBreach(const Breach& b, const OrderView& order, const RiskResult& result) {
  std::string symbol(order.symbol);
  std::string side(SideName(order.side));
  switch (b.code) {
    case ReasonCode::k_UNKNOWN_INSTRUMENT:
      if (b.value == kWrongExchange && order.instrument != nullptr) {
        return "symbol " + symbol + " is listed on " + order.instrument->exchange + " (" +
               order.instrument->segment_name + "), not tradable on exchange '" +
               std::string(order.exchange) + "'; only NFO futures and options are";
      }
      return "symbol " + symbol + " is not in the instrument master";
    case ReasonCode::k_INSTRUMENT_EXPIRED:
      return symbol + " expired on " + FormatIsoDate(static_cast<EpochDay>(b.value));
    case ReasonCode::k_QTY_NOT_POSITIVE:
      return "quantity " + std::to_string(b.value) + " must be positive";
    case ReasonCode::k_QTY_NOT_LOT_MULTIPLE:
      return "quantity " + std::to_string(b.value) + " is not a multiple of lot size " +
             std::to_string(b.limit);
    case ReasonCode::k_QTY_ABOVE_FREEZE_LIMIT:
      if (b.limit == 0) {
        return "no freeze limit is known for " +
               (order.instrument ? order.instrument->name : symbol) + ", so quantity " +
               std::to_string(b.value) + " cannot be checked (fail closed)";
      }
      return "quantity " + std::to_string(b.value) + " is above the freeze limit " +
             std::to_string(b.limit) + " for " +
             (order.instrument ? order.instrument->name : symbol) +
             "; slice it into smaller orders";
    case ReasonCode::k_PRICE_NOT_POSITIVE:
      return Field(b) + " " + Money(b.value) + " must be positive";
    case ReasonCode::k_PRICE_NOT_TICK_MULTIPLE:
      return Field(b) + " " + Money(b.value) + " is not a multiple of tick size " + Money(b.limit);
    case ReasonCode::k_PRICE_REQUIRED:
      return "a " + std::string(OrderTypeName(order.order_type)) + " order needs a price";
    case ReasonCode::k_TRIGGER_REQUIRED:
      return "a " + std::string(OrderTypeName(order.order_type)) + " order needs a trigger price";
    case ReasonCode::k_TRIGGER_WRONG_SIDE:
      if (b.field == "price") {
        return "price " + Money(b.value) + " of a " + side + " stop-loss must be " +
               (order.side == Side::kBuy ? "at or above" : "at or below") + " its trigger price " +
               Money(b.limit);
      }
      return "trigger price " + Money(b.value) + " of a " + side + " stop-loss must be " +
             (order.side == Side::kBuy ? "above" : "below") + " the reference price " +
             Money(b.limit) + ", or it would trigger at once";
    case ReasonCode::k_PRICE_OUTSIDE_BAND:
      return Field(b) + " " + Money(b.value) + " is outside the price band " + Money(b.limit) +
             " to " + Money(b.limit2) + Reference(result);
    case ReasonCode::k_NO_REFERENCE_PRICE:
      return "no reference price for " + symbol +
             ": no fresh last traded price and no usable master last_price (fail closed)";
    case ReasonCode::k_ORDER_VALUE_ABOVE_LIMIT:
      return "order value " + Money(b.value) + " is above the " + ScopeName(b, order) + " limit " +
             Money(b.limit);
    case ReasonCode::k_POSITION_LIMIT:
      if (b.scope == Scope::kUnderlying) {
        return "gross position across " + ScopeName(b, order) + " would reach " +
               std::to_string(b.value) + " lots, above the limit of " + std::to_string(b.limit) +
               " lots";
      }
      return "position in " + symbol + " would reach " + std::to_string(b.value) +
             " lots with open orders filled, above the limit of " + std::to_string(b.limit) +
             " lots";
    case ReasonCode::k_EXPOSURE_LIMIT:
      return "exposure of account " + std::string(order.account) + " would reach " +
             Money(b.value) + ", above the limit " + Money(b.limit);
    case ReasonCode::k_OPEN_ORDERS_LIMIT:
      return "account " + std::string(order.account) + " would have " + std::to_string(b.value) +
             " open orders, above the limit " + std::to_string(b.limit);
    case ReasonCode::k_RATE_LIMIT:
      return "this is order " + std::to_string(b.value) + " within one second for " +
             ScopeName(b, order) + ", above the limit of " + std::to_string(b.limit) +
             " orders per second";
    case ReasonCode::k_DAILY_LOSS_LIMIT:
      return "loss today of account " + std::string(order.account) + " is " + Money(b.value) +
             ", above the limit " + Money(b.limit) +
             (b.limit2 == static_cast<int64_t>(TradingState::kHalted)
                  ? "; the account is halted"
                  : "; the account is reduce-only (orders that reduce a position only)");
    case ReasonCode::k_DAILY_ORDER_COUNT_LIMIT:
      return "this is order " + std::to_string(b.value) + " today for " + ScopeName(b, order) +
             ", above the limit of " + std::to_string(b.limit) + " orders per day";
    case ReasonCode::k_SELF_TRADE:
      return side + " at " + (b.limit2 >= 0 ? Money(b.limit2) : std::string("market")) +
             " would trade with own resting " + (order.side == Side::kBuy ? "SELL " : "BUY ") +
             FormatOrderId(static_cast<uint64_t>(b.value)) + " at " + Money(b.limit) + " in " +
             symbol;
    case ReasonCode::k_MARKET_CLOSED:
      return "market is closed at " + TimeOfDay(b.value) + " IST: the session is " +
             TimeOfDay(b.limit) + " to " + TimeOfDay(b.limit2) + " IST on trading days";
    case ReasonCode::k_TRADING_HALTED:
      return b.scope == Scope::kGlobal ? "trading is halted"
                                       : "trading is halted for " + ScopeName(b, order);
    case ReasonCode::k_REDUCE_ONLY:
      return (b.scope == Scope::kGlobal ? std::string("trading") : ScopeName(b, order)) +
             " is reduce-only and this order does not reduce the position in " + symbol + " (net " +
             std::to_string(b.value) + ")";
    case ReasonCode::k_ESCALATE_DAYS_TO_EXPIRY:
      return symbol + " expires in " + std::to_string(b.value) + " days, more than " +
             std::to_string(b.limit) + " decided locally";
    case ReasonCode::k_ESCALATE_MONEYNESS:
      if (b.value < 0) return "no reference price for the underlying of " + symbol;
      return symbol + " is " + Percent(b.value) + " in the money, more than " + Percent(b.limit);
    case ReasonCode::k_ESCALATE_STRATEGY:
      return "strategy '" + std::string(order.strategy) + "' is not decided locally";
    case ReasonCode::k_ESCALATE_NOTIONAL:
      return "notional " + Money(b.value) + " is above " + Money(b.limit) + " decided locally";
    default:
      break;
  }
  return std::string(ReasonCodeName(b.code));
}

std::vector<Reason> BreachReasons(const RiskResult& result, const OrderView& order) {
  std::vector<Reason> reasons;
  reasons.reserve(result.breaches.size() + 1);
  for (const Breach& breach : result.breaches) {
    reasons.push_back({breach.code, DescribeBreach(breach, order, result), ""});
  }
  if (result.breaches.dropped() > 0) {
    const Breach& last = result.breaches[result.breaches.size() - 1];
    reasons.push_back({last.code,
                       std::to_string(result.breaches.dropped()) + " further breaches not listed",
                       ""});
  }
  return reasons;
}

}  // namespace wojak
