// Tests for the order model: enum names, the order-state transition table and order ids.
#include "model/order.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace wojak {
namespace {

using S = OrderState;

std::vector<OrderState> AllStates() {
  std::vector<OrderState> states;
  for (int i = 0; i < kOrderStateCount; ++i) states.push_back(static_cast<OrderState>(i));
  return states;
}

TEST(OrderEnumTest, SideNamesRoundTrip) {
  for (Side s : {Side::kBuy, Side::kSell}) EXPECT_EQ(ParseSide(SideName(s)), s);
  EXPECT_EQ(SideName(Side::kBuy), "BUY");
  EXPECT_EQ(SideName(Side::kSell), "SELL");
}

TEST(OrderEnumTest, OrderTypeNamesRoundTrip) {
  for (OrderType t :
       {OrderType::kMarket, OrderType::kLimit, OrderType::kStopLoss, OrderType::kStopLossMarket}) {
    EXPECT_EQ(ParseOrderType(OrderTypeName(t)), t);
  }
  EXPECT_EQ(OrderTypeName(OrderType::kStopLoss), "SL");
  EXPECT_EQ(OrderTypeName(OrderType::kStopLossMarket), "SL-M");
}

TEST(OrderEnumTest, ProductAndValidityNamesRoundTrip) {
  for (Product p : {Product::kNrml, Product::kMis}) EXPECT_EQ(ParseProduct(ProductName(p)), p);
  for (Validity v : {Validity::kDay, Validity::kIoc}) EXPECT_EQ(ParseValidity(ValidityName(v)), v);
}

TEST(OrderEnumTest, ParsingIsCaseSensitive) {
  EXPECT_FALSE(ParseSide("buy").has_value());
  EXPECT_FALSE(ParseOrderType("limit").has_value());
  EXPECT_FALSE(ParseProduct("").has_value());
  EXPECT_FALSE(ParseValidity("GTC").has_value());
}

TEST(OrderEnumTest, StateNamesRoundTrip) {
  std::set<std::string_view> names;
  for (OrderState s : AllStates()) {
    EXPECT_EQ(ParseOrderState(OrderStateName(s)), s);
    names.insert(OrderStateName(s));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kOrderStateCount));
  EXPECT_FALSE(ParseOrderState("PENDING").has_value());
}

TEST(OrderEnumTest, DecisionNamesRoundTrip) {
  for (DecisionKind k : {DecisionKind::kAccepted, DecisionKind::kRejected, DecisionKind::kEscalated,
                         DecisionKind::kDuplicate, DecisionKind::kRetry}) {
    EXPECT_EQ(ParseDecisionKind(DecisionKindName(k)), k);
  }
  EXPECT_EQ(DecisionKindName(DecisionKind::kEscalated), "ESCALATED");
}

// The complete legal set, written out independently of order.cc so a change to the table is a
// deliberate change to this test too.
const std::set<std::pair<S, S>>& ExpectedTransitions() {
  static const std::set<std::pair<S, S>> kExpected = {
      {S::kReceived, S::kAccepted},
      {S::kReceived, S::kRejected},
      {S::kReceived, S::kEscalated},
      {S::kEscalated, S::kApproved},
      {S::kEscalated, S::kRejected},
      {S::kEscalated, S::kExpired},
      {S::kEscalated, S::kCancelled},
      {S::kAccepted, S::kSent},
      {S::kAccepted, S::kCancelled},
      {S::kApproved, S::kSent},
      {S::kApproved, S::kCancelled},
      {S::kSent, S::kPartiallyFilled},
      {S::kSent, S::kFilled},
      {S::kSent, S::kFailed},
      {S::kSent, S::kCancelled},
      {S::kPartiallyFilled, S::kPartiallyFilled},
      {S::kPartiallyFilled, S::kFilled},
      {S::kPartiallyFilled, S::kCancelled},
  };
  return kExpected;
}

TEST(OrderTransitionTest, TableMatchesTheDocumentedLifecycleExactly) {
  for (OrderState from : AllStates()) {
    for (OrderState to : AllStates()) {
      bool expected = ExpectedTransitions().count({from, to}) > 0;
      EXPECT_EQ(IsLegalTransition(from, to), expected)
          << OrderStateName(from) << " -> " << OrderStateName(to);
    }
  }
}

TEST(OrderTransitionTest, ReceivedCannotSkipTheRiskDecision) {
  EXPECT_FALSE(IsLegalTransition(S::kReceived, S::kSent));
  EXPECT_FALSE(IsLegalTransition(S::kReceived, S::kFilled));
}

TEST(OrderTransitionTest, EscalatedOrderNeedsApprovalBeforeSending) {
  EXPECT_FALSE(IsLegalTransition(S::kEscalated, S::kSent));
  EXPECT_TRUE(IsLegalTransition(S::kApproved, S::kSent));
}

TEST(OrderTransitionTest, NoStateReturnsToReceived) {
  for (OrderState from : AllStates()) EXPECT_FALSE(IsLegalTransition(from, S::kReceived));
}

TEST(OrderTransitionTest, TerminalStatesAreExactlyThoseWithoutExits) {
  std::set<S> terminal = {S::kRejected, S::kExpired, S::kFilled, S::kCancelled, S::kFailed};
  for (OrderState s : AllStates()) {
    EXPECT_EQ(IsTerminal(s), terminal.count(s) > 0) << OrderStateName(s);
  }
}

TEST(OrderTransitionTest, OpenStatesCountAgainstLimits) {
  std::set<S> open = {S::kAccepted, S::kEscalated, S::kApproved, S::kSent, S::kPartiallyFilled};
  for (OrderState s : AllStates()) EXPECT_EQ(IsOpen(s), open.count(s) > 0) << OrderStateName(s);
}

TEST(OrderTransitionTest, NoStateIsBothOpenAndTerminal) {
  for (OrderState s : AllStates()) EXPECT_FALSE(IsOpen(s) && IsTerminal(s)) << OrderStateName(s);
}

TEST(OrderIdTest, FormatsJournalSequenceWithTwelveDigits) {
  EXPECT_EQ(FormatOrderId(123), "W-000000000123");
  EXPECT_EQ(FormatOrderId(0), "W-000000000000");
  EXPECT_EQ(FormatOrderId(999'999'999'999), "W-999999999999");
}

TEST(OrderIdTest, WiderSequencesAreNotTruncated) {
  EXPECT_EQ(FormatOrderId(1'000'000'000'000), "W-1000000000000");
}

TEST(OrderRequestTest, EqualityComparesEveryField) {
  OrderRequest a;
  a.symbol = "NIFTY26JAN24000CE";
  a.price = Paise::FromPaise(12050);
  OrderRequest b = a;
  EXPECT_EQ(a, b);
  b.trigger_price = Paise::FromPaise(1);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace wojak
