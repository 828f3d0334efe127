// One rule = one small class checking one thing; the gate owns a table of them.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "risk/breach.h"
#include "risk/market_view.h"
#include "risk/order_view.h"
#include "risk/risk_config.h"
#include "risk/risk_state.h"

namespace wojak {

// Everything a rule needs, looked up once per evaluation by the gate so rules stay cheap and
// consistent with each other (same reference price, same position, same valuation).
struct CheckContext {
  const OrderView& order;
  const RiskState& state;
  const MarketView& market;
  const RiskConfig& config;
  Nanos now = 0;
  EpochDay today = 0;

  // The order's contract when it is known and tradable here (exchange NFO, NFO segment);
  // nullptr otherwise, in which case the instrument rule reports it and contract-dependent
  // rules skip.
  const Instrument* instrument = nullptr;
  const AccountState* account = nullptr;    // nullptr: the account has no state yet
  const StrategyState* strategy = nullptr;  // nullptr: no strategy, or no state yet
  const AccountLimits* account_limits = nullptr;
  const StrategyLimits* strategy_limits = nullptr;  // nullptr when the order has no strategy
  const Position* position = nullptr;               // the account's position in the contract
  const OpenOrder* replaced = nullptr;              // a MODIFY's current order

  std::optional<ReferencePrice> reference;
  // The price the order is valued at: LIMIT/SL price, SL-M trigger, or a MARKET order's
  // protected limit. nullopt when it cannot be known (missing price or reference).
  std::optional<Paise> effective_price;
  int64_t signed_quantity = 0;  // + buy, - sell
  Qty net_quantity = 0;         // the account's current net position in the contract
  // Open quantity on the order's side in the contract, without the replaced order's.
  Qty open_same_side = 0;
  // The order (with the other open orders on its side) can only shrink the position.
  bool reduces_position = false;

  // Account valuation, computed when the exposure or daily-loss rule runs. Positions without a
  // reference price are valued at cost (no unrealised P&L).
  Paise position_value;  // sum of |net| x reference
  Paise unrealised;      // sum of net x reference - cost
  Paise realised_today;
  bool daily_loss_breached = false;
  // Gross lots the account holds across the order's underlying (AccountState::UnderlyingLots).
  int64_t underlying_lots = 0;
};

class Rule {
 public:
  Rule(RuleId id, Action action) : id_(id), action_(action) {}
  virtual ~Rule() = default;
  RuleId id() const { return id_; }
  std::string_view name() const { return RuleName(id_); }
  Action action() const { return action_; }
  // Appends zero or more breaches. Must not allocate.
  virtual void Check(const CheckContext& context, BreachList& out) const = 0;

 protected:
  void Emit(BreachList& out, ReasonCode code, Scope scope, Measure measure, std::string_view field,
            int64_t value, int64_t limit, int64_t limit2 = 0) const {
    out.push_back(Breach{code, action_, id_, scope, measure, field, value, limit, limit2});
  }

 private:
  RuleId id_;
  Action action_;
};

// The enabled rules of `config`, in the order of RuleId.
std::vector<std::unique_ptr<Rule>> MakeRules(const RiskConfig& config);

// UNKNOWN_INSTRUMENT detail codes (Breach::value).
inline constexpr int64_t kNotInMaster = 0;
inline constexpr int64_t kWrongExchange = 1;

}  // namespace wojak
