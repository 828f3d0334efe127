// Reading and validating the risk, session and reference_price configuration sections.
#include "risk/risk_config.h"

#include <algorithm>
#include <charconv>

namespace wojak {
namespace {

constexpr std::string_view kNone = "none";

enum class LimitKind { kMoney, kCount };

std::string FormatLimit(Limit limit, LimitKind kind) {
  if (!limit) return std::string(kNone);
  return kind == LimitKind::kMoney ? Paise::FromPaise(*limit).ToString() : std::to_string(*limit);
}

std::optional<int64_t> ParseCount(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// Reads a limit that may be "none". Absent -> `fallback` (the inherited or default value).
Limit ReadLimit(ConfigSection& section, std::string_view key, LimitKind kind, Limit fallback,
                std::string_view default_text, std::string_view doc) {
  std::string_view type =
      kind == LimitKind::kMoney ? "rupees (decimal) or none" : "integer or none";
  auto raw = section.Raw(key, type, default_text, doc);
  if (!raw) return fallback;
  if (*raw == kNone) return std::nullopt;
  if (kind == LimitKind::kMoney) {
    auto money = Paise::Parse(*raw);
    if (!money.ok() || *money < Paise()) {
      section.Error(
          key,
          "expected a non-negative amount in rupees (\"5000000.00\") or none, got '" + *raw + "'");
      return fallback;
    }
    return money->value();
  }
  auto count = ParseCount(*raw);
  if (!count || *count < 0) {
    section.Error(key, "expected a non-negative integer or none, got '" + *raw + "'");
    return fallback;
  }
  return *count;
}

Paise ReadMoney(ConfigSection& section, std::string_view key, Paise fallback,
                std::string_view doc) {
  auto raw = section.Raw(key, "rupees (decimal)", fallback.ToString(), doc);
  if (!raw) return fallback;
  auto money = Paise::Parse(*raw);
  if (!money.ok() || *money < Paise()) {
    section.Error(key, "expected a non-negative amount in rupees, got '" + *raw + "'");
    return fallback;
  }
  return *money;
}

int64_t ReadPercent(ConfigSection& section, std::string_view key, int64_t fallback_basis_points,
                    std::string_view doc) {
  std::string default_text = Paise::FromPaise(fallback_basis_points).ToString();
  auto raw = section.Raw(key, "percent (decimal)", default_text, doc);
  if (!raw) return fallback_basis_points;
  auto parsed = ParsePercentBasisPoints(*raw);
  if (!parsed.ok()) {
    section.Error(key, parsed.status().message());
    return fallback_basis_points;
  }
  return *parsed;
}

Limit ReadPercentLimit(ConfigSection& section, std::string_view key, std::string_view doc) {
  auto raw = section.Raw(key, "percent (decimal) or none", kNone, doc);
  if (!raw || *raw == kNone) return std::nullopt;
  auto parsed = ParsePercentBasisPoints(*raw);
  if (!parsed.ok()) {
    section.Error(key, parsed.status().message());
    return std::nullopt;
  }
  return *parsed;
}

std::optional<Nanos> ParseTimeOfDay(std::string_view text) {
  // "HH:MM" or "HH:MM:SS"
  if (text.size() != 5 && text.size() != 8) return std::nullopt;
  auto field = [&](size_t at, int max) -> std::optional<int> {
    int value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + at, text.data() + at + 2, value);
    if (ec != std::errc() || ptr != text.data() + at + 2 || value > max) return std::nullopt;
    return value;
  };
  if (text[2] != ':' || (text.size() == 8 && text[5] != ':')) return std::nullopt;
  auto hours = field(0, 23);
  auto minutes = field(3, 59);
  auto seconds = text.size() == 8 ? field(6, 59) : std::optional<int>(0);
  if (!hours || !minutes || !seconds) return std::nullopt;
  return (int64_t{*hours} * 3600 + *minutes * 60 + *seconds) * kNanosPerSecond;
}

std::string FormatTimeOfDay(Nanos t) {
  int64_t seconds = t / kNanosPerSecond;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(seconds / 3600),
                static_cast<int>(seconds / 60 % 60));
  return buf;
}

Nanos ReadTimeOfDay(ConfigSection& section, std::string_view key, Nanos fallback,
                    std::string_view doc) {
  auto raw = section.Raw(key, "time HH:MM (IST)", FormatTimeOfDay(fallback), doc);
  if (!raw) return fallback;
  auto parsed = ParseTimeOfDay(*raw);
  if (!parsed) {
    section.Error(key, "expected a time of day HH:MM or HH:MM:SS, got '" + *raw + "'");
    return fallback;
  }
  return *parsed;
}

std::vector<EpochDay> ReadDates(ConfigSection& section, std::string_view key,
                                std::string_view doc) {
  std::vector<EpochDay> days;
  for (const std::string& text : section.StringList(key, {}, doc)) {
    auto day = ParseIsoDate(text);
    if (!day) {
      section.Error(key, "'" + text + "' is not a date YYYY-MM-DD");
      continue;
    }
    days.push_back(*day);
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  return days;
}

// The documented rule table: name, what it checks, and what its default action is.
struct RuleDoc {
  RuleId id;
  std::string_view doc;
};
constexpr RuleDoc kRuleDocs[] = {
    {RuleId::kInstrument, "symbol exists in the master, exchange NFO, not expired"},
    {RuleId::kQuantity, "quantity positive and a multiple of the lot size"},
    {RuleId::kFreeze, "quantity at most the underlying's freeze quantity"},
    {RuleId::kTick, "price and trigger positive multiples of the tick size"},
    {RuleId::kOrderType,
     "LIMIT needs price, SL price and trigger, SL-M trigger; trigger on the right side"},
    {RuleId::kMarketProtection,
     "a reference price exists (MARKET orders always, others when price_band is on); MARKET "
     "orders become protected LIMIT orders"},
    {RuleId::kPriceBand, "price and trigger within the band around the reference price"},
    {RuleId::kOrderValue, "quantity x price at most max_order_value (account and strategy)"},
    {RuleId::kPosition, "worst-case position per instrument and per underlying in lots"},
    {RuleId::kExposure, "open order value + position value + this order at most max_exposure"},
    {RuleId::kOpenOrders, "open orders per account at most max_open_orders"},
    {RuleId::kRate, "orders in the last second per account and per strategy"},
    {RuleId::kDailyLoss, "realised today + unrealised loss at most max_daily_loss"},
    {RuleId::kDailyOrders, "orders today (IST) per account and per strategy"},
    {RuleId::kSelfTrade, "no crossing an own resting opposite order in the same contract"},
    {RuleId::kSession, "inside trading hours on a trading day (switched by session.enforce)"},
    {RuleId::kTradingState, "HALTED accepts none, REDUCING only position-reducing orders"},
    {RuleId::kEscalateDaysToExpiry, "escalate contracts more than above_days from expiry"},
    {RuleId::kEscalateMoneyness, "escalate options deeper in the money than the threshold"},
    {RuleId::kEscalateStrategy, "escalate strategies not in local_strategies"},
    {RuleId::kEscalateNotional, "escalate orders whose notional is above the threshold"},
};
static_assert(std::size(kRuleDocs) == kRuleCount);

bool IsEscalationRule(RuleId id) {
  return id == RuleId::kEscalateDaysToExpiry || id == RuleId::kEscalateMoneyness ||
         id == RuleId::kEscalateStrategy || id == RuleId::kEscalateNotional;
}

void ReadAccountLimits(ConfigSection section, const AccountLimits& base, bool is_override,
                       AccountLimits& out) {
  auto doc_default = [&](Limit value, LimitKind kind) {
    return is_override ? std::string("inherits risk.limits") : FormatLimit(value, kind);
  };
  out.max_order_value =
      ReadLimit(section, "max_order_value", LimitKind::kMoney, base.max_order_value,
                doc_default(base.max_order_value, LimitKind::kMoney),
                "largest quantity x price of one order, rupees (the exchange caps at 10 crore)");
  out.max_position_lots_per_instrument = ReadLimit(
      section, "max_position_lots_per_instrument", LimitKind::kCount,
      base.max_position_lots_per_instrument,
      doc_default(base.max_position_lots_per_instrument, LimitKind::kCount),
      "largest worst-case net position in one contract, in lots (open orders assumed filled)");
  out.max_position_lots_per_underlying =
      ReadLimit(section, "max_position_lots_per_underlying", LimitKind::kCount,
                base.max_position_lots_per_underlying,
                doc_default(base.max_position_lots_per_underlying, LimitKind::kCount),
                "largest gross position across one underlying's contracts, in lots");
  out.max_exposure =
      ReadLimit(section, "max_exposure", LimitKind::kMoney, base.max_exposure,
                doc_default(base.max_exposure, LimitKind::kMoney),
                "open order value + position value (at reference prices) + the order, rupees");
  out.max_open_orders =
      ReadLimit(section, "max_open_orders", LimitKind::kCount, base.max_open_orders,
                doc_default(base.max_open_orders, LimitKind::kCount), "open orders per account");
  out.max_orders_per_second =
      ReadLimit(section, "max_orders_per_second", LimitKind::kCount, base.max_orders_per_second,
                doc_default(base.max_orders_per_second, LimitKind::kCount),
                "orders per second per account (SEBI retail algo threshold: 10/s per exchange)");
  out.max_daily_loss = ReadLimit(
      section, "max_daily_loss", LimitKind::kMoney, base.max_daily_loss,
      doc_default(base.max_daily_loss, LimitKind::kMoney),
      "largest loss today (realised + unrealised at reference prices), rupees; beyond it the "
      "account enters risk.rules.daily_loss.on_breach");
  out.max_daily_orders = ReadLimit(
      section, "max_daily_orders", LimitKind::kCount, base.max_daily_orders,
      doc_default(base.max_daily_orders, LimitKind::kCount), "orders per IST day per account");
}

void ReadStrategyLimits(ConfigSection section, const StrategyLimits& base, bool is_override,
                        StrategyLimits& out) {
  auto doc_default = [&](Limit value, LimitKind kind) {
    return is_override ? std::string("inherits risk.strategy_limits") : FormatLimit(value, kind);
  };
  out.max_order_value =
      ReadLimit(section, "max_order_value", LimitKind::kMoney, base.max_order_value,
                doc_default(base.max_order_value, LimitKind::kMoney),
                "largest quantity x price of one order of the strategy, rupees");
  out.max_orders_per_second =
      ReadLimit(section, "max_orders_per_second", LimitKind::kCount, base.max_orders_per_second,
                doc_default(base.max_orders_per_second, LimitKind::kCount),
                "orders per second per strategy, across accounts");
  out.max_daily_orders =
      ReadLimit(section, "max_daily_orders", LimitKind::kCount, base.max_daily_orders,
                doc_default(base.max_daily_orders, LimitKind::kCount),
                "orders per IST day per strategy, across accounts");
}

void ReadRules(ConfigSection rules, RiskConfig& config) {
  for (const RuleDoc& rule_doc : kRuleDocs) {
    std::string_view name = RuleName(rule_doc.id);
    ConfigSection section = rules.Section(name, rule_doc.doc);
    RuleSettings& settings = config.rule(rule_doc.id);
    // The session rule is switched by session.enforce (the sandbox profile turns it off).
    if (rule_doc.id != RuleId::kSession) {
      settings.enabled = section.Bool("enabled", settings.enabled, "run this rule");
    }
    std::string action = section.Enum(
        "action", std::string(ActionName(settings.action)), {"reject", "escalate"},
        "what a breach does: reject the order, or escalate it to the heavy risk system");
    settings.action = action == "escalate" ? Action::kEscalate : Action::kReject;

    switch (rule_doc.id) {
      case RuleId::kFreeze:
        config.reject_without_freeze_limit =
            section.Bool("reject_without_limit", config.reject_without_freeze_limit,
                         "an underlying missing from the freeze file fails closed (rejects)");
        break;
      case RuleId::kMarketProtection:
        config.option_market_protection_basis_points =
            ReadPercent(section, "option_percent", config.option_market_protection_basis_points,
                        "a MARKET option order becomes a LIMIT this many percent through the "
                        "reference price");
        config.future_market_protection_basis_points =
            ReadPercent(section, "future_percent", config.future_market_protection_basis_points,
                        "a MARKET futures order becomes a LIMIT this many percent through the "
                        "reference price");
        break;
      case RuleId::kPriceBand:
        config.bands.option_threshold =
            ReadMoney(section, "option_threshold", config.bands.option_threshold,
                      "options with a reference price at or below this use the absolute band");
        config.bands.option_absolute =
            ReadMoney(section, "option_absolute", config.bands.option_absolute,
                      "absolute band for cheap options, rupees either side of the reference");
        config.bands.option_basis_points =
            ReadPercent(section, "option_percent", config.bands.option_basis_points,
                        "band for other options, percent either side of the reference");
        config.bands.future_basis_points =
            ReadPercent(section, "future_percent", config.bands.future_basis_points,
                        "band for futures, percent either side of the reference");
        break;
      case RuleId::kDailyLoss: {
        std::string state = section.Enum(
            "on_breach", config.daily_loss_state == TradingState::kHalted ? "halted" : "reducing",
            {"reducing", "halted"},
            "state the account is asked to enter when its daily loss passes the limit");
        config.daily_loss_state =
            state == "halted" ? TradingState::kHalted : TradingState::kReducing;
        break;
      }
      case RuleId::kEscalateDaysToExpiry:
        config.escalate_days_to_expiry_above =
            ReadLimit(section, "above_days", LimitKind::kCount, std::nullopt, kNone,
                      "escalate contracts expiring more than this many calendar days ahead");
        break;
      case RuleId::kEscalateMoneyness: {
        config.escalate_in_the_money_basis_points = ReadPercentLimit(
            section, "in_the_money_percent",
            "escalate options in the money by more than this percent of the underlying future's "
            "reference price");
        std::string unknown =
            section.Enum("when_unknown", "skip", {"skip", "escalate"},
                         "when the underlying has no reference price: skip the check or escalate");
        config.escalate_when_moneyness_unknown = unknown == "escalate";
        break;
      }
      case RuleId::kEscalateStrategy:
        config.local_strategies = section.StringList(
            "local_strategies", {},
            "strategies the local gate decides; others escalate (empty: all decided locally)");
        std::sort(config.local_strategies.begin(), config.local_strategies.end());
        break;
      case RuleId::kEscalateNotional:
        config.escalate_notional_above = ReadLimit(
            section, "above", LimitKind::kMoney, std::nullopt, kNone,
            "escalate orders whose notional (futures: quantity x price; options: quantity x "
            "strike) is above this, rupees");
        break;
      default:
        break;
    }
  }
}

}  // namespace

std::array<RuleSettings, kRuleCount> RiskConfig::DefaultRules() {
  std::array<RuleSettings, kRuleCount> rules{};
  for (size_t i = 0; i < kRuleCount; ++i) {
    rules[i].enabled = true;
    rules[i].action =
        IsEscalationRule(static_cast<RuleId>(i)) ? Action::kEscalate : Action::kReject;
  }
  return rules;
}

AccountLimits RiskConfig::DefaultAccountLimits() {
  AccountLimits limits;
  limits.max_order_value = Paise::FromRupees(100'000'000).value();  // 10 crore
  limits.max_position_lots_per_instrument = 100;
  limits.max_position_lots_per_underlying = 500;
  limits.max_exposure = Paise::FromRupees(50'000'000).value();  // 5 crore
  limits.max_open_orders = 200;
  limits.max_orders_per_second = 10;
  limits.max_daily_loss = Paise::FromRupees(500'000).value();  // 5 lakh
  limits.max_daily_orders = 5000;
  return limits;
}

const AccountLimits& RiskConfig::ForAccount(std::string_view account) const {
  if (accounts.empty()) return account_defaults;
  auto it = accounts.find(account);
  return it == accounts.end() ? account_defaults : it->second;
}

const StrategyLimits& RiskConfig::ForStrategy(std::string_view strategy) const {
  if (strategies.empty()) return strategy_defaults;
  auto it = strategies.find(strategy);
  return it == strategies.end() ? strategy_defaults : it->second;
}

bool RiskConfig::IsLocalStrategy(std::string_view strategy) const {
  return local_strategies.empty() ||
         std::binary_search(local_strategies.begin(), local_strategies.end(), strategy,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

bool SessionConfig::IsTradingDay(EpochDay day) const {
  if (std::binary_search(special_trading_days.begin(), special_trading_days.end(), day)) {
    return true;
  }
  return Weekday(day) < 5 && !std::binary_search(holidays.begin(), holidays.end(), day);
}

bool SessionConfig::IsOpen(Nanos now) const {
  Nanos time = IstTimeOfDay(now);
  return IsTradingDay(IstDate(now)) && time >= open && time < close;
}

StatusOr<int64_t> ParsePercentBasisPoints(std::string_view text) {
  // A percent with two decimals is an integer count of basis points, exactly like rupees and
  // paise, so the money parser does the exact decimal work.
  auto parsed = Paise::Parse(text);
  if (!parsed.ok() || *parsed < Paise() || parsed->value() > 1'000'000) {
    return InvalidArgument("expected a percent between 0 and 10000 with at most 2 decimals, got '" +
                           std::string(text) + "'");
  }
  return parsed->value();
}

RiskConfig ReadRiskConfig(ConfigSection root) {
  RiskConfig config;
  ConfigSection risk = root.Section("risk", "the local risk gate (NSE_RULES.md)");
  ReadRules(risk.Section("rules", "per rule: enabled, action (reject|escalate), parameters"),
            config);

  ReadAccountLimits(risk.Section("limits", "limits for every account"), config.account_defaults,
                    /*is_override=*/false, config.account_defaults);
  ConfigSection accounts = risk.Section("accounts", "per-account overrides of risk.limits");
  for (const std::string& name : accounts.MapKeys()) {
    AccountLimits limits;
    ReadAccountLimits(accounts.Section(name, "limits of this account"), config.account_defaults,
                      /*is_override=*/true, limits);
    config.accounts.emplace(name, limits);
  }
  ReadStrategyLimits(risk.Section("strategy_limits", "limits for every strategy (default: none)"),
                     config.strategy_defaults, /*is_override=*/false, config.strategy_defaults);
  ConfigSection strategies =
      risk.Section("strategies", "per-strategy overrides of risk.strategy_limits");
  for (const std::string& name : strategies.MapKeys()) {
    StrategyLimits limits;
    ReadStrategyLimits(strategies.Section(name, "limits of this strategy"),
                       config.strategy_defaults, /*is_override=*/true, limits);
    config.strategies.emplace(name, limits);
  }

  ConfigSection session = root.Section("session", "NSE trading session (IST)");
  config.session.enforce = session.Bool(
      "enforce", true, "reject orders outside the session (the sandbox profile turns this off)");
  config.rule(RuleId::kSession).enabled = config.session.enforce;
  config.session.open =
      ReadTimeOfDay(session, "open", config.session.open, "normal market opens (IST)");
  config.session.close = ReadTimeOfDay(session, "close", config.session.close,
                                       "normal market closes (IST); orders at this time are late");
  if (config.session.open >= config.session.close) {
    session.Error("close", "must be after session.open");
  }
  config.session.holidays =
      ReadDates(session, "holidays", "exchange holidays (YYYY-MM-DD) falling on weekdays");
  config.session.special_trading_days = ReadDates(
      session, "special_trading_days", "weekend dates with a session, e.g. muhurat trading");

  ConfigSection reference =
      root.Section("reference_price", "which price orders are checked against");
  auto max_age = reference.Duration(
      "max_age", std::chrono::milliseconds(5000),
      "a live LTP older than this is stale; the master's last_price is used instead");
  config.reference_price.max_age = static_cast<Nanos>(max_age.count()) * kNanosPerMilli;
  config.reference_price.fallback_to_master =
      reference.Bool("fallback_to_master", true,
                     "use the instrument master's non-zero last_price when no fresh LTP exists");

  if (config.future_market_protection_basis_points > config.bands.future_basis_points) {
    risk.Error("rules.market_protection.future_percent",
               "must not exceed rules.price_band.future_percent, or every MARKET futures order "
               "falls outside the band");
  }
  if (config.option_market_protection_basis_points > config.bands.option_basis_points) {
    risk.Error("rules.market_protection.option_percent",
               "must not exceed rules.price_band.option_percent");
  }
  return config;
}

StatusOr<RiskConfig> ParseRiskConfig(std::string_view yaml,
                                     const std::map<std::string, std::string>* environment) {
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<ConfigDocument> document,
                         ConfigDocument::Parse(yaml, environment));
  RiskConfig config = ReadRiskConfig(document->Root());
  document->CheckUnknownKeys();
  WOJAK_RETURN_IF_ERROR(document->errors().ToStatus());
  return config;
}

}  // namespace wojak
