// The order model: what a strategy asks for, the states an order moves through, and the decision.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "model/money.h"
#include "model/reason_code.h"

namespace wojak {

enum class Side : uint8_t { kBuy, kSell };
enum class OrderType : uint8_t { kMarket, kLimit, kStopLoss, kStopLossMarket };  // SL, SL-M
enum class Product : uint8_t { kNrml, kMis };
enum class Validity : uint8_t { kDay, kIoc };

std::string_view SideName(Side side);              // "BUY" / "SELL"
std::string_view OrderTypeName(OrderType type);    // "MARKET", "LIMIT", "SL", "SL-M"
std::string_view ProductName(Product product);     // "NRML", "MIS"
std::string_view ValidityName(Validity validity);  // "DAY", "IOC"
std::optional<Side> ParseSide(std::string_view text);
std::optional<OrderType> ParseOrderType(std::string_view text);
std::optional<Product> ParseProduct(std::string_view text);
std::optional<Validity> ParseValidity(std::string_view text);

// A new order as a strategy sends it (ARCHITECTURE.md §2 "Order JSON").
struct OrderRequest {
  std::string client_order_id;
  std::string account;
  std::string strategy;
  std::string exchange;  // "NFO"
  std::string symbol;    // trading symbol, e.g. NIFTY26JAN24000CE
  Side side = Side::kBuy;
  Qty quantity = 0;
  OrderType order_type = OrderType::kLimit;
  Product product = Product::kNrml;
  std::optional<Paise> price;
  std::optional<Paise> trigger_price;
  Validity validity = Validity::kDay;

  bool operator==(const OrderRequest&) const = default;
};

// Wojak's own lifecycle followed by the execution lifecycle. One table (order_state.cc) says
// which transitions exist; anything else is a bug.
enum class OrderState : uint8_t {
  kReceived,
  kAccepted,
  kRejected,
  kEscalated,
  kApproved,
  kExpired,
  kSent,
  kPartiallyFilled,
  kFilled,
  kCancelled,
  kFailed,
};
inline constexpr int kOrderStateCount = 11;

std::string_view OrderStateName(OrderState state);
std::optional<OrderState> ParseOrderState(std::string_view text);
bool IsLegalTransition(OrderState from, OrderState to);
// No further transition possible (REJECTED, EXPIRED, FILLED, CANCELLED, FAILED).
bool IsTerminal(OrderState state);
// Counts against open-order and exposure limits (accepted/escalated/approved/sent/partial).
bool IsOpen(OrderState state);

enum class DecisionKind : uint8_t { kAccepted, kRejected, kEscalated, kDuplicate, kRetry };
std::string_view DecisionKindName(DecisionKind kind);
std::optional<DecisionKind> ParseDecisionKind(std::string_view text);

struct Reason {
  ReasonCode code = ReasonCode::k_INVALID_ORDER;
  std::string message;  // names the value and the limit: "quantity 70 is not a multiple of lot size 75"
  std::string field;    // the JSON field for INVALID_ORDER entries; empty otherwise

  bool operator==(const Reason&) const = default;
};

// What the engine answers (ARCHITECTURE.md §2 "Decision JSON").
struct Decision {
  DecisionKind kind = DecisionKind::kRetry;
  std::string client_order_id;
  std::string account;
  std::string order_id;  // "W-000000000123"; empty when nothing was recorded (RETRY, INVALID_ORDER)
  uint64_t seq = 0;      // journal sequence of the decision; 0 when nothing was recorded
  std::vector<Reason> reasons;
  uint32_t retry_after_ms = 0;  // RETRY only
  // DUPLICATE only: the first decision for this (account, client_order_id), unchanged.
  std::optional<DecisionKind> original_kind;
  std::vector<Reason> original_reasons;

  bool operator==(const Decision&) const = default;
};

// "W-000000000123": order ids are the journal sequence that created the order.
std::string FormatOrderId(uint64_t seq);

}  // namespace wojak
