// The risk gate: evaluates every enabled rule against an order and returns every breach.
// Pure: no I/O, no clock reads, no allocation; the same inputs give the same result.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/order.h"
#include "risk/breach.h"
#include "risk/market_view.h"
#include "risk/order_view.h"
#include "risk/risk_config.h"
#include "risk/risk_state.h"
#include "risk/rule.h"

namespace wojak {

struct RiskResult {
  // kAccepted (no breach), kRejected (at least one REJECT breach) or kEscalated (only ESCALATE
  // breaches).
  DecisionKind decision = DecisionKind::kAccepted;
  BreachList breaches;
  // The reference price the order was checked against (record it in the journal entry).
  std::optional<ReferencePrice> reference;
  // What the order is worth per unit: the LIMIT/SL price, the SL-M trigger, or a MARKET order's
  // protected LIMIT price. Pass it to RiskState::OnOrderOpened. nullopt when unknown.
  std::optional<Paise> effective_price;
  // Set when the account's daily loss is past its limit: the state the engine should put the
  // account in (RiskState::SetTradingState, journaled), whatever this order's decision.
  std::optional<TradingState> account_state_request;
};

class RiskGate {
 public:
  explicit RiskGate(RiskConfig config);

  // `now` is the sequencer's clock value for this request (recorded in the journal).
  RiskResult Evaluate(const OrderView& order, const RiskState& state, const MarketView& market,
                      Nanos now) const;
  // The same, filling `result` in place (it is ~2 KB; this avoids the copy on hot paths).
  void Evaluate(const OrderView& order, const RiskState& state, const MarketView& market, Nanos now,
                RiskResult& result) const;

  const RiskConfig& config() const { return config_; }
  std::span<const std::unique_ptr<Rule>> rules() const { return rules_; }

 private:
  RiskConfig config_;
  std::vector<std::unique_ptr<Rule>> rules_;
  bool needs_valuation_ = false;
};

// One human-readable message per breach, naming the value and the limit ("quantity 70 is not a
// multiple of lot size 75"). Allocates: call it once per decision, after Evaluate.
std::string DescribeBreach(const Breach& breach, const OrderView& order, const RiskResult& result);
// The decision's reasons (model/order.h), in rule order; dropped breaches are summarised.
std::vector<Reason> BreachReasons(const RiskResult& result, const OrderView& order);

}  // namespace wojak
