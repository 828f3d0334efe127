// JSON views shared by the REST API and the CLI.
#include "api/json_views.h"

#include "model/instrument.h"
#include "model/money.h"

namespace wojak::api {
namespace {

using nlohmann::json;

std::string Money(int64_t paise) { return Paise::FromPaise(paise).ToString(); }
// Basis points as a percent with two decimals: 4000 -> "40.00".
std::string Percent(int64_t basis_points) { return Money(basis_points); }

json MoneyLimit(const Limit& limit) { return limit ? json(Money(*limit)) : json(nullptr); }
json CountLimit(const Limit& limit) { return limit ? json(*limit) : json(nullptr); }

json AccountLimitsJson(const AccountLimits& l) {
  return {{"max_order_value", MoneyLimit(l.max_order_value)},
          {"max_position_lots_per_instrument", CountLimit(l.max_position_lots_per_instrument)},
          {"max_position_lots_per_underlying", CountLimit(l.max_position_lots_per_underlying)},
          {"max_exposure", MoneyLimit(l.max_exposure)},
          {"max_open_orders", CountLimit(l.max_open_orders)},
          {"max_orders_per_second", CountLimit(l.max_orders_per_second)},
          {"max_daily_loss", MoneyLimit(l.max_daily_loss)},
          {"max_daily_orders", CountLimit(l.max_daily_orders)}};
}

json StrategyLimitsJson(const StrategyLimits& l) {
  return {{"max_order_value", MoneyLimit(l.max_order_value)},
          {"max_orders_per_second", CountLimit(l.max_orders_per_second)},
          {"max_daily_orders", CountLimit(l.max_daily_orders)}};
}

std::string TimeOfDay(Nanos since_midnight) {
  const int64_t minutes = since_midnight / kNanosPerSecond / 60;
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", static_cast<int>(minutes / 60 % 100),
                static_cast<int>(minutes % 60));
  return text;
}

json Dates(const std::vector<EpochDay>& days) {
  json out = json::array();
  for (EpochDay day : days) out.push_back(FormatIsoDate(day));
  return out;
}

}  // namespace

json OrderJson(const OrderRow& o) {
  json j = {{"order_id", o.order_id},
            {"seq", o.seq},
            {"last_seq", o.last_seq},
            {"account", o.account},
            {"strategy", o.strategy},
            {"client_order_id", o.client_order_id},
            {"symbol", o.symbol},
            {"side", o.side},
            {"order_type", o.order_type},
            {"product", o.product},
            {"validity", o.validity},
            {"quantity", o.quantity},
            {"filled_quantity", o.filled_quantity},
            {"price", o.price_paise ? json(Money(*o.price_paise)) : json(nullptr)},
            {"trigger_price",
             o.trigger_price_paise ? json(Money(*o.trigger_price_paise)) : json(nullptr)},
            {"average_price", Money(o.average_price_paise)},
            {"status", o.status},
            {"created_ns", o.created_ns},
            {"updated_ns", o.updated_ns}};
  json decision = json::parse(o.decision_json, nullptr, false);
  if (!decision.is_discarded()) j["decision"] = std::move(decision);
  return j;
}

json TradeJson(const TradeRow& t) {
  return {{"trade_id", t.trade_id}, {"seq", t.seq},           {"order_id", t.order_id},
          {"account", t.account},   {"strategy", t.strategy}, {"symbol", t.symbol},
          {"side", t.side},         {"quantity", t.quantity}, {"price", Money(t.price_paise)},
          {"time_ns", t.time_ns}};
}

json PositionJson(const PositionRow& p) {
  return {{"account", p.account},
          {"symbol", p.symbol},
          {"net_quantity", p.net_quantity},
          {"buy_quantity", p.buy_quantity},
          {"sell_quantity", p.sell_quantity},
          {"buy_value", Money(p.buy_value_paise)},
          {"sell_value", Money(p.sell_value_paise)},
          {"realised_pnl", Money(p.realised_pnl_paise)},
          {"last_seq", p.last_seq}};
}

json TickJson(const TickRow& t) {
  return {{"instrument_token", t.instrument_token},
          {"symbol", t.symbol},
          {"ltp", Money(t.ltp_paise)},
          {"timestamp_ns", t.timestamp_ns},
          {"received_ns", t.received_ns}};
}

json RiskConfigJson(const RiskConfig& c) {
  json rules = json::object();
  for (size_t i = 0; i < kRuleCount; ++i) {
    const auto id = static_cast<RuleId>(i);
    rules[std::string(RuleName(id))] = {{"enabled", c.rule(id).enabled},
                                        {"action", std::string(ActionName(c.rule(id).action))}};
  }
  json accounts = json::object();
  for (const auto& [name, limits] : c.accounts) accounts[name] = AccountLimitsJson(limits);
  json strategies = json::object();
  for (const auto& [name, limits] : c.strategies) strategies[name] = StrategyLimitsJson(limits);
  return {{"rules", std::move(rules)},
          {"account_defaults", AccountLimitsJson(c.account_defaults)},
          {"accounts", std::move(accounts)},
          {"strategy_defaults", StrategyLimitsJson(c.strategy_defaults)},
          {"strategies", std::move(strategies)},
          {"price_bands",
           {{"option_threshold", c.bands.option_threshold.ToString()},
            {"option_absolute", c.bands.option_absolute.ToString()},
            {"option_percent", Percent(c.bands.option_basis_points)},
            {"future_percent", Percent(c.bands.future_basis_points)}}},
          {"market_protection",
           {{"option_percent", Percent(c.option_market_protection_basis_points)},
            {"future_percent", Percent(c.future_market_protection_basis_points)}}},
          {"reject_without_freeze_limit", c.reject_without_freeze_limit},
          {"daily_loss_state", std::string(TradingStateName(c.daily_loss_state))},
          {"escalation",
           {{"days_to_expiry_above", CountLimit(c.escalate_days_to_expiry_above)},
            {"in_the_money_percent", c.escalate_in_the_money_basis_points
                                         ? json(Percent(*c.escalate_in_the_money_basis_points))
                                         : json(nullptr)},
            {"when_moneyness_unknown", c.escalate_when_moneyness_unknown},
            {"local_strategies", c.local_strategies},
            {"notional_above", MoneyLimit(c.escalate_notional_above)}}},
          {"session",
           {{"enforce", c.session.enforce},
            {"open", TimeOfDay(c.session.open)},
            {"close", TimeOfDay(c.session.close)},
            {"holidays", Dates(c.session.holidays)},
            {"special_trading_days", Dates(c.session.special_trading_days)}}},
          {"reference_price",
           {{"max_age_ms", c.reference_price.max_age / kNanosPerMilli},
            {"fallback_to_master", c.reference_price.fallback_to_master}}}};
}

json EngineStatusJson(const EngineStatus& s) {
  return {{"ready", s.ready},
          {"recovered", s.recovered},
          {"storage_failed", s.storage_failed},
          {"last_seq", s.last_seq},
          {"reloads", s.reloads}};
}

json TradingStatesJson(const TradingStates& states) {
  json accounts = json::object();
  for (const auto& [name, state] : states.accounts) {
    accounts[name] = std::string(TradingStateName(state));
  }
  json strategies = json::object();
  for (const auto& [name, state] : states.strategies) {
    strategies[name] = std::string(TradingStateName(state));
  }
  return {{"global", std::string(TradingStateName(states.global))},
          {"accounts", std::move(accounts)},
          {"strategies", std::move(strategies)}};
}

}  // namespace wojak::api
