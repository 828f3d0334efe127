// Names of actions, trading states and rules.
#include "risk/breach.h"

namespace wojak {
namespace {

constexpr std::array<std::string_view, kRuleCount> kRuleNames = {
    "instrument",
    "quantity",
    "freeze",
    "tick",
    "order_type",
    "market_protection",
    "price_band",
    "order_value",
    "position",
    "exposure",
    "open_orders",
    "rate",
    "daily_loss",
    "daily_orders",
    "self_trade",
    "session",
    "trading_state",
    "escalate_days_to_expiry",
    "escalate_moneyness",
    "escalate_strategy",
    "escalate_notional",
};
constexpr std::array<std::string_view, 3> kStateNames = {"ACTIVE", "REDUCING", "HALTED"};

}  // namespace

std::string_view ActionName(Action action) {
  return action == Action::kReject ? "reject" : "escalate";
}

std::string_view TradingStateName(TradingState state) {
  return kStateNames[static_cast<size_t>(state)];
}

std::optional<TradingState> ParseTradingState(std::string_view text) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == text) return static_cast<TradingState>(i);
  }
  return std::nullopt;
}

std::string_view RuleName(RuleId rule) { return kRuleNames[static_cast<size_t>(rule)]; }

}  // namespace wojak
