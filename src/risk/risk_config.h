// Risk configuration: which rules run with which action, the limits at global, account and
// strategy scope, price bands, escalation thresholds, the trading session and the
// reference-price policy. Every key has a documented default (ReadRiskConfig).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "model/instrument.h"
#include "model/money.h"
#include "risk/breach.h"
#include "risk/market_view.h"
#include "risk/risk_state.h"

namespace wojak {

// A limit: nullopt is "none" (off). Money limits are paise; lot, count and rate limits are plain.
using Limit = std::optional<int64_t>;

// Limits on one account's aggregates. risk.limits sets them for every account;
// risk.accounts.<name> overrides any of them for one account (the most specific wins).
struct AccountLimits {
  Limit max_order_value;                   // paise, per order
  Limit max_position_lots_per_instrument;  // worst-case net lots in one contract
  Limit max_position_lots_per_underlying;  // gross lots across an underlying's contracts
  Limit max_exposure;                      // paise: open order value + position value
  Limit max_open_orders;
  Limit max_orders_per_second;
  Limit max_daily_loss;  // paise: realised today + unrealised (MTM at the reference price)
  Limit max_daily_orders;
  bool operator==(const AccountLimits&) const = default;
};

// Limits on one strategy's aggregates across accounts. risk.strategy_limits sets them for every
// strategy; risk.strategies.<name> overrides any of them for one strategy.
struct StrategyLimits {
  Limit max_order_value;  // paise, per order
  Limit max_orders_per_second;
  Limit max_daily_orders;
  bool operator==(const StrategyLimits&) const = default;
};

struct RuleSettings {
  bool enabled = true;
  Action action = Action::kReject;
  bool operator==(const RuleSettings&) const = default;
};

// NSE price protection bands (NSE_RULES.md "limit price protection").
struct PriceBands {
  Paise option_threshold = Paise::FromRupees(50);  // reference at or below: absolute band
  Paise option_absolute = Paise::FromRupees(20);
  int64_t option_basis_points = 4000;  // 40%
  int64_t future_basis_points = 200;   // 2%
  bool operator==(const PriceBands&) const = default;
};

// Normal market hours on trading days, in IST (NSE_RULES.md "session").
struct SessionConfig {
  bool enforce = true;
  Nanos open = (9 * 3600 + 15 * 60) * kNanosPerSecond;    // since IST midnight
  Nanos close = (15 * 3600 + 30 * 60) * kNanosPerSecond;  // exclusive
  std::vector<EpochDay> holidays;                         // sorted; weekdays the exchange is closed
  std::vector<EpochDay> special_trading_days;             // sorted; weekend sessions (e.g. muhurat)

  bool IsTradingDay(EpochDay day) const;
  bool IsOpen(Nanos now) const;
  bool operator==(const SessionConfig&) const = default;
};

struct RiskConfig {
  std::array<RuleSettings, kRuleCount> rules = DefaultRules();

  AccountLimits account_defaults = DefaultAccountLimits();
  StringMap<AccountLimits> accounts;  // fully resolved per-account limits
  StrategyLimits strategy_defaults;   // every strategy limit is off by default
  StringMap<StrategyLimits> strategies;

  PriceBands bands;
  // MARKET orders become LIMIT orders this far through the reference price.
  int64_t option_market_protection_basis_points = 500;  // 5%
  int64_t future_market_protection_basis_points = 100;  // 1% (inside the 2% futures band)
  // Freeze rule: an underlying missing from the freeze file rejects (fail closed) unless false.
  bool reject_without_freeze_limit = true;
  // Daily-loss rule: the state a breaching account is asked to enter.
  TradingState daily_loss_state = TradingState::kReducing;

  // Escalation thresholds; nullopt = the rule never fires.
  Limit escalate_days_to_expiry_above;
  Limit escalate_in_the_money_basis_points;  // option ITM depth vs the underlying future
  bool escalate_when_moneyness_unknown = false;
  std::vector<std::string> local_strategies;  // sorted; empty = every strategy decided locally
  Limit escalate_notional_above;              // paise

  SessionConfig session;
  ReferencePricePolicy reference_price;

  const RuleSettings& rule(RuleId id) const { return rules[static_cast<size_t>(id)]; }
  RuleSettings& rule(RuleId id) { return rules[static_cast<size_t>(id)]; }
  const AccountLimits& ForAccount(std::string_view account) const;
  const StrategyLimits& ForStrategy(std::string_view strategy) const;
  bool IsLocalStrategy(std::string_view strategy) const;

  static std::array<RuleSettings, kRuleCount> DefaultRules();
  static AccountLimits DefaultAccountLimits();
};

// Reads the `risk`, `session` and `reference_price` sections of `root`. Violations are added to
// the document's errors (see ConfigDocument::errors()); the result then holds defaults for the
// keys in error.
RiskConfig ReadRiskConfig(ConfigSection root);

// For tests and tools: parses a YAML document holding only those sections, rejects unknown
// keys, and returns every violation at once.
StatusOr<RiskConfig> ParseRiskConfig(
    std::string_view yaml, const std::map<std::string, std::string>* environment = nullptr);

// "40" / "2.5" / "0.25" percent -> basis points; at most two decimals.
StatusOr<int64_t> ParsePercentBasisPoints(std::string_view text);

}  // namespace wojak
