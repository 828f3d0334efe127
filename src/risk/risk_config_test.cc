// Tests for reading the risk, session and reference_price configuration.
#include "risk/risk_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wojak {
namespace {

using ::testing::HasSubstr;

const std::map<std::string, std::string> kNoEnvironment;

RiskConfig Parse(std::string_view yaml) {
  auto config = ParseRiskConfig(yaml, &kNoEnvironment);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : RiskConfig();
}

std::string Errors(std::string_view yaml,
                   const std::map<std::string, std::string>& environment = kNoEnvironment) {
  auto config = ParseRiskConfig(yaml, &environment);
  EXPECT_FALSE(config.ok());
  return config.ok() ? "" : config.status().message();
}

TEST(RiskConfigTest, EmptyDocumentGivesDocumentedDefaults) {
  RiskConfig config = Parse("");
  EXPECT_EQ(config.account_defaults.max_orders_per_second, 10);
  EXPECT_EQ(config.account_defaults.max_order_value, Paise::FromRupees(100'000'000).value());
  EXPECT_EQ(config.account_defaults.max_open_orders, 200);
  EXPECT_EQ(config.account_defaults.max_position_lots_per_instrument, 100);
  EXPECT_EQ(config.account_defaults.max_position_lots_per_underlying, 500);
  EXPECT_EQ(config.account_defaults.max_exposure, Paise::FromRupees(50'000'000).value());
  EXPECT_EQ(config.account_defaults.max_daily_loss, Paise::FromRupees(500'000).value());
  EXPECT_EQ(config.account_defaults.max_daily_orders, 5000);
  EXPECT_EQ(config.strategy_defaults, StrategyLimits());
  EXPECT_EQ(config.bands, PriceBands());
  EXPECT_TRUE(config.session.enforce);
  EXPECT_TRUE(config.rule(RuleId::kSession).enabled);
  EXPECT_EQ(config.reference_price.max_age, 5 * kNanosPerSecond);
  EXPECT_TRUE(config.reference_price.fallback_to_master);
  EXPECT_EQ(config.daily_loss_state, TradingState::kReducing);
  EXPECT_TRUE(config.reject_without_freeze_limit);
  for (size_t i = 0; i < kRuleCount; ++i) EXPECT_TRUE(config.rules[i].enabled) << i;
  EXPECT_EQ(config.rule(RuleId::kQuantity).action, Action::kReject);
  EXPECT_EQ(config.rule(RuleId::kEscalateNotional).action, Action::kEscalate);
  EXPECT_FALSE(config.escalate_days_to_expiry_above.has_value());
}

TEST(RiskConfigTest, EveryKeyIsDocumented) {
  auto document = ConfigDocument::Parse("", &kNoEnvironment);
  ASSERT_TRUE(document.ok());
  ReadRiskConfig((*document)->Root());
  size_t risk_keys = 0;
  for (const ConfigKeyDoc& doc : (*document)->docs()) {
    EXPECT_FALSE(doc.doc.empty()) << doc.path;
    if (doc.type != "section") {
      EXPECT_FALSE(doc.default_value.empty()) << doc.path;
    }
    if (doc.path.rfind("risk.", 0) == 0) ++risk_keys;
  }
  EXPECT_GT(risk_keys, 60u);
}

TEST(RiskConfigTest, ReadsAFullDocument) {
  RiskConfig config = Parse(R"(
risk:
  rules:
    freeze: {action: escalate, reject_without_limit: false}
    self_trade: {enabled: false}
    market_protection: {option_percent: "3", future_percent: "0.5"}
    price_band: {option_threshold: "40.00", option_absolute: 15, option_percent: 30, future_percent: "1.5"}
    daily_loss: {on_breach: halted}
    escalate_days_to_expiry: {above_days: 30}
    escalate_moneyness: {in_the_money_percent: "7.5", when_unknown: escalate}
    escalate_strategy: {local_strategies: [straddle, scalper]}
    escalate_notional: {above: "25000000.00"}
  limits:
    max_order_value: "5000000.00"
    max_open_orders: none
    max_orders_per_second: 20
  strategy_limits:
    max_orders_per_second: 5
session:
  open: "09:00"
  close: "15:30:30"
  holidays: ["2026-12-25", "2026-10-20"]
  special_trading_days: ["2026-11-08"]
reference_price:
  max_age: 2s
  fallback_to_master: false
)");
  EXPECT_EQ(config.rule(RuleId::kFreeze).action, Action::kEscalate);
  EXPECT_FALSE(config.reject_without_freeze_limit);
  EXPECT_FALSE(config.rule(RuleId::kSelfTrade).enabled);
  EXPECT_EQ(config.option_market_protection_basis_points, 300);
  EXPECT_EQ(config.future_market_protection_basis_points, 50);
  EXPECT_EQ(config.bands.option_threshold, Paise::FromRupees(40));
  EXPECT_EQ(config.bands.option_absolute, Paise::FromRupees(15));
  EXPECT_EQ(config.bands.option_basis_points, 3000);
  EXPECT_EQ(config.bands.future_basis_points, 150);
  EXPECT_EQ(config.daily_loss_state, TradingState::kHalted);
  EXPECT_EQ(config.escalate_days_to_expiry_above, 30);
  EXPECT_EQ(config.escalate_in_the_money_basis_points, 750);
  EXPECT_TRUE(config.escalate_when_moneyness_unknown);
  EXPECT_EQ(config.local_strategies, (std::vector<std::string>{"scalper", "straddle"}));
  EXPECT_TRUE(config.IsLocalStrategy("straddle"));
  EXPECT_FALSE(config.IsLocalStrategy("hedger"));
  EXPECT_EQ(config.escalate_notional_above, Paise::FromRupees(25'000'000).value());
  EXPECT_EQ(config.account_defaults.max_order_value, Paise::FromRupees(5'000'000).value());
  EXPECT_FALSE(config.account_defaults.max_open_orders.has_value());
  EXPECT_EQ(config.account_defaults.max_orders_per_second, 20);
  EXPECT_EQ(config.strategy_defaults.max_orders_per_second, 5);
  EXPECT_EQ(config.session.open, 9 * 3600 * kNanosPerSecond);
  EXPECT_EQ(config.session.close, (15 * 3600 + 30 * 60 + 30) * kNanosPerSecond);
  EXPECT_EQ(config.session.holidays,
            (std::vector<EpochDay>{*ParseIsoDate("2026-10-20"), *ParseIsoDate("2026-12-25")}));
  EXPECT_EQ(config.session.special_trading_days.size(), 1u);
  EXPECT_EQ(config.reference_price.max_age, 2 * kNanosPerSecond);
  EXPECT_FALSE(config.reference_price.fallback_to_master);
}

TEST(RiskConfigTest, AccountOverridesInheritTheRest) {
  RiskConfig config = Parse(R"(
risk:
  limits: {max_exposure: "1000000.00", max_open_orders: 50}
  accounts:
    ACC1: {max_open_orders: 5}
    ACC2: {max_exposure: none}
)");
  EXPECT_EQ(config.ForAccount("ACC1").max_open_orders, 5);
  EXPECT_EQ(config.ForAccount("ACC1").max_exposure, Paise::FromRupees(1'000'000).value());
  EXPECT_FALSE(config.ForAccount("ACC2").max_exposure.has_value());
  EXPECT_EQ(config.ForAccount("ACC2").max_open_orders, 50);
  EXPECT_EQ(config.ForAccount("ACC3").max_open_orders, 50);
  EXPECT_EQ(config.ForAccount("ACC3").max_orders_per_second, 10);
}

TEST(RiskConfigTest, StrategyOverridesInheritTheRest) {
  RiskConfig config = Parse(R"(
risk:
  strategy_limits: {max_daily_orders: 1000}
  strategies:
    scalper: {max_orders_per_second: 2}
)");
  EXPECT_EQ(config.ForStrategy("scalper").max_orders_per_second, 2);
  EXPECT_EQ(config.ForStrategy("scalper").max_daily_orders, 1000);
  EXPECT_FALSE(config.ForStrategy("other").max_orders_per_second.has_value());
}

TEST(RiskConfigTest, SessionEnforceSwitchesTheSessionRule) {
  RiskConfig config = Parse("session: {enforce: false}\n");
  EXPECT_FALSE(config.session.enforce);
  EXPECT_FALSE(config.rule(RuleId::kSession).enabled);
}

TEST(RiskConfigTest, EnvironmentOverridesApply) {
  std::map<std::string, std::string> environment = {{"WOJAK_RISK_LIMITS_MAX_OPEN_ORDERS", "none"},
                                                    {"WOJAK_SESSION_ENFORCE", "false"}};
  auto config = ParseRiskConfig("risk: {limits: {max_open_orders: 5}}\n", &environment);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_FALSE(config->account_defaults.max_open_orders.has_value());
  EXPECT_FALSE(config->session.enforce);
}

TEST(RiskConfigTest, RejectsMalformedMoney) {
  EXPECT_THAT(Errors("risk: {limits: {max_exposure: '1.005'}}\n"),
              HasSubstr("risk.limits.max_exposure: expected a non-negative amount"));
}

TEST(RiskConfigTest, RejectsNegativeLimits) {
  EXPECT_THAT(Errors("risk: {limits: {max_open_orders: -1}}\n"),
              HasSubstr("risk.limits.max_open_orders"));
}

TEST(RiskConfigTest, RejectsUnknownAction) {
  EXPECT_THAT(Errors("risk: {rules: {tick: {action: warn}}}\n"),
              HasSubstr("risk.rules.tick.action: must be one of reject, escalate"));
}

TEST(RiskConfigTest, RejectsUnknownRule) {
  EXPECT_THAT(Errors("risk: {rules: {ticks: {enabled: false}}}\n"),
              HasSubstr("unknown key 'risk.rules.ticks' (did you mean 'risk.rules.tick'?)"));
}

TEST(RiskConfigTest, RejectsUnknownLimit) {
  EXPECT_THAT(Errors("risk: {accounts: {ACC1: {max_lots: 3}}}\n"),
              HasSubstr("unknown key 'risk.accounts.ACC1.max_lots'"));
}

TEST(RiskConfigTest, SessionEnabledIsNotARuleKey) {
  EXPECT_THAT(Errors("risk: {rules: {session: {enabled: false}}}\n"),
              HasSubstr("unknown key 'risk.rules.session.enabled'"));
}

TEST(RiskConfigTest, RejectsBadSessionTimes) {
  std::string errors = Errors("session: {open: '9:15', close: '25:00'}\n");
  EXPECT_THAT(errors, HasSubstr("session.open: expected a time of day"));
  EXPECT_THAT(errors, HasSubstr("session.close: expected a time of day"));
}

TEST(RiskConfigTest, RejectsCloseBeforeOpen) {
  EXPECT_THAT(Errors("session: {open: '15:30', close: '09:15'}\n"),
              HasSubstr("session.close: must be after session.open"));
}

TEST(RiskConfigTest, RejectsBadHolidayDate) {
  EXPECT_THAT(Errors("session: {holidays: ['2026-02-30']}\n"),
              HasSubstr("'2026-02-30' is not a date"));
}

TEST(RiskConfigTest, RejectsProtectionWiderThanTheBand) {
  EXPECT_THAT(Errors("risk: {rules: {market_protection: {future_percent: 3}}}\n"),
              HasSubstr("must not exceed rules.price_band.future_percent"));
}

TEST(RiskConfigTest, ReportsEveryViolationAtOnce) {
  std::string errors = Errors(R"(
risk:
  limits: {max_exposure: lots, max_daily_orders: x}
  rules: {daily_loss: {on_breach: panic}, price_band: {option_percent: "1.234"}}
reference_price: {max_age: soon}
)");
  EXPECT_THAT(errors, HasSubstr("5 configuration violations"));
  EXPECT_THAT(errors, HasSubstr("risk.limits.max_exposure"));
  EXPECT_THAT(errors, HasSubstr("risk.limits.max_daily_orders"));
  EXPECT_THAT(errors, HasSubstr("risk.rules.daily_loss.on_breach"));
  EXPECT_THAT(errors, HasSubstr("risk.rules.price_band.option_percent"));
  EXPECT_THAT(errors, HasSubstr("reference_price.max_age"));
}

TEST(ParsePercentTest, ConvertsToBasisPoints) {
  EXPECT_EQ(*ParsePercentBasisPoints("40"), 4000);
  EXPECT_EQ(*ParsePercentBasisPoints("2.5"), 250);
  EXPECT_EQ(*ParsePercentBasisPoints("0.01"), 1);
  EXPECT_FALSE(ParsePercentBasisPoints("0.001").ok());
  EXPECT_FALSE(ParsePercentBasisPoints("-1").ok());
  EXPECT_FALSE(ParsePercentBasisPoints("ten").ok());
}

TEST(SessionConfigTest, TradingDays) {
  SessionConfig session;
  session.holidays = {*ParseIsoDate("2026-12-25")};
  session.special_trading_days = {*ParseIsoDate("2026-12-06")};
  EXPECT_TRUE(session.IsTradingDay(*ParseIsoDate("2026-12-01")));
  EXPECT_FALSE(session.IsTradingDay(*ParseIsoDate("2026-12-05")));
  EXPECT_FALSE(session.IsTradingDay(*ParseIsoDate("2026-12-25")));
  EXPECT_TRUE(session.IsTradingDay(*ParseIsoDate("2026-12-06")));
}

}  // namespace
}  // namespace wojak
