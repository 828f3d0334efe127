// Enum names and the one order-state transition table.
#include "model/order.h"

#include <cstdio>

namespace wojak {
namespace {

template <typename Enum, size_t N>
std::optional<Enum> Lookup(const std::array<std::string_view, N>& names, std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 2> kSideNames = {"BUY", "SELL"};
constexpr std::array<std::string_view, 4> kOrderTypeNames = {"MARKET", "LIMIT", "SL", "SL-M"};
constexpr std::array<std::string_view, 2> kProductNames = {"NRML", "MIS"};
constexpr std::array<std::string_view, 2> kValidityNames = {"DAY", "IOC"};
constexpr std::array<std::string_view, kOrderStateCount> kStateNames = {
    "RECEIVED", "ACCEPTED",         "REJECTED", "ESCALATED", "APPROVED", "EXPIRED",
    "SENT",     "PARTIALLY_FILLED", "FILLED",   "CANCELLED", "FAILED"};
constexpr std::array<std::string_view, 5> kDecisionNames = {"ACCEPTED", "REJECTED", "ESCALATED",
                                                            "DUPLICATE", "RETRY"};

using S = OrderState;
struct Transition {
  S from;
  S to;
};
// The whole lifecycle. RECEIVED is decided by the risk gate; ESCALATED waits for the heavy RMS;
// ACCEPTED/APPROVED orders go to the executor (SENT); open orders can be cancelled (halt, user).
constexpr Transition kTransitions[] = {
    {S::kReceived, S::kAccepted},        {S::kReceived, S::kRejected},
    {S::kReceived, S::kEscalated},       {S::kEscalated, S::kApproved},
    {S::kEscalated, S::kRejected},       {S::kEscalated, S::kExpired},
    {S::kEscalated, S::kCancelled},      {S::kAccepted, S::kSent},
    {S::kAccepted, S::kCancelled},       {S::kApproved, S::kSent},
    {S::kApproved, S::kCancelled},       {S::kSent, S::kPartiallyFilled},
    {S::kSent, S::kFilled},              {S::kSent, S::kFailed},
    {S::kSent, S::kCancelled},           {S::kPartiallyFilled, S::kPartiallyFilled},
    {S::kPartiallyFilled, S::kFilled},   {S::kPartiallyFilled, S::kCancelled},
};

}  // namespace

std::string_view SideName(Side v) { return kSideNames[static_cast<size_t>(v)]; }
std::string_view OrderTypeName(OrderType v) { return kOrderTypeNames[static_cast<size_t>(v)]; }
std::string_view ProductName(Product v) { return kProductNames[static_cast<size_t>(v)]; }
std::string_view ValidityName(Validity v) { return kValidityNames[static_cast<size_t>(v)]; }
std::string_view OrderStateName(OrderState v) { return kStateNames[static_cast<size_t>(v)]; }
std::string_view DecisionKindName(DecisionKind v) { return kDecisionNames[static_cast<size_t>(v)]; }
std::optional<Side> ParseSide(std::string_view t) { return Lookup<Side>(kSideNames, t); }
std::optional<OrderType> ParseOrderType(std::string_view t) {
  return Lookup<OrderType>(kOrderTypeNames, t);
}
std::optional<Product> ParseProduct(std::string_view t) { return Lookup<Product>(kProductNames, t); }
std::optional<Validity> ParseValidity(std::string_view t) {
  return Lookup<Validity>(kValidityNames, t);
}
std::optional<OrderState> ParseOrderState(std::string_view t) {
  return Lookup<OrderState>(kStateNames, t);
}
std::optional<DecisionKind> ParseDecisionKind(std::string_view t) {
  return Lookup<DecisionKind>(kDecisionNames, t);
}

bool IsLegalTransition(OrderState from, OrderState to) {
  for (const Transition& t : kTransitions) {
    if (t.from == from && t.to == to) return true;
  }
  return false;
}

bool IsTerminal(OrderState state) {
  for (const Transition& t : kTransitions) {
    if (t.from == state) return false;
  }
  return true;
}

bool IsOpen(OrderState state) {
  return state == S::kAccepted || state == S::kEscalated || state == S::kApproved ||
         state == S::kSent || state == S::kPartiallyFilled;
}

std::string FormatOrderId(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "W-%012llu", static_cast<unsigned long long>(seq));
  return buf;
}

}  // namespace wojak
