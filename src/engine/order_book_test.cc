// Order book: the compact record rebuilds what it no longer stores, and the client-id index.
#include "engine/order_book.h"

#include <gtest/gtest.h>

namespace wojak {
namespace {

OrderRequest Request(std::string account, std::string client_order_id) {
  OrderRequest request;
  request.client_order_id = std::move(client_order_id);
  request.account = std::move(account);
  request.strategy = "momentum";
  request.exchange = "NFO";
  request.symbol = "NIFTY26JAN24000CE";
  request.side = Side::kSell;
  request.quantity = 150;
  request.order_type = OrderType::kStopLoss;
  request.product = Product::kMis;
  request.price = Paise::FromRupees(101);
  request.trigger_price = Paise::FromRupees(100);
  request.validity = Validity::kIoc;
  return request;
}

OrderRecord Record(Seq seq, const OrderRequest& request) {
  OrderRecord record;
  record.seq = seq;
  record.request = StoredOrderRequest(request);
  return record;
}

Decision AcceptedDecision(Seq seq, const OrderRequest& request) {
  Decision decision;
  decision.kind = DecisionKind::kAccepted;
  decision.account = request.account;
  decision.client_order_id = request.client_order_id;
  decision.order_id = FormatOrderId(seq);
  decision.seq = seq;
  return decision;
}

TEST(OrderBookTest, StoredRequestConvertsBackToTheSameRequest) {
  OrderRequest request = Request("ACC1", "client-order-id-longer-than-sso");
  EXPECT_EQ(StoredOrderRequest(request).ToRequest(), request);
}

TEST(OrderBookTest, StoredRequestsShareTheirNames) {
  StoredOrderRequest a(Request("ACC1", "a"));
  StoredOrderRequest b(Request("ACC1", "b"));
  EXPECT_EQ(&a.account.str(), &b.account.str());
  EXPECT_EQ(&a.symbol.str(), &b.symbol.str());
}

TEST(OrderBookTest, PlainAcceptedDecisionIsRebuiltExactly) {
  OrderRequest request = Request("ACC1", "c1");
  OrderRecord record = Record(7, request);
  Decision decision = AcceptedDecision(7, request);
  record.KeepFirstDecision(decision);
  EXPECT_EQ(record.FirstDecision(), decision);
  EXPECT_EQ(record.first_decision_kind(), DecisionKind::kAccepted);
}

TEST(OrderBookTest, DecisionWithReasonsIsKeptExactly) {
  OrderRequest request = Request("ACC1", "c1");
  OrderRecord record = Record(7, request);
  Decision decision = AcceptedDecision(7, request);
  decision.kind = DecisionKind::kRejected;
  decision.reasons.push_back({ReasonCode::k_INVALID_ORDER, "quantity 70 is not a multiple", "qty"});
  record.KeepFirstDecision(decision);
  EXPECT_EQ(record.FirstDecision(), decision);
}

TEST(OrderBookTest, DecisionThatDiffersFromTheRecordIsKeptExactly) {
  OrderRequest request = Request("ACC1", "c1");
  OrderRecord record = Record(7, request);
  Decision decision = AcceptedDecision(7, request);
  decision.account = "written-by-an-older-version";
  record.KeepFirstDecision(decision);
  EXPECT_EQ(record.FirstDecision(), decision);
}

TEST(OrderBookTest, FindsOrdersByAccountAndClientId) {
  OrderBook book;
  book.Insert(Record(1, Request("ACC1", "c1")));
  book.Insert(Record(2, Request("ACC2", "c1")));
  book.Insert(Record(3, Request("ACC1", "c2")));
  ASSERT_NE(book.FindByClientId("ACC2", "c1"), nullptr);
  EXPECT_EQ(book.FindByClientId("ACC2", "c1")->seq, 2u);
  EXPECT_EQ(book.FindByClientId("ACC1", "c2")->seq, 3u);
  EXPECT_EQ(book.FindByClientId("ACC2", "c2"), nullptr);
  EXPECT_EQ(book.FindByClientId("ACC1c", "1"), nullptr);
}

TEST(OrderBookTest, IndexSurvivesGrowthPastItsReservation) {
  OrderBook book;
  book.Reserve(4);
  for (Seq seq = 1; seq <= 5000; ++seq) {
    book.Insert(Record(seq, Request("ACC" + std::to_string(seq % 7), std::to_string(seq))));
  }
  for (Seq seq = 1; seq <= 5000; seq += 499) {
    const OrderRecord* found =
        book.FindByClientId("ACC" + std::to_string(seq % 7), std::to_string(seq));
    ASSERT_NE(found, nullptr) << seq;
    EXPECT_EQ(found->seq, seq);
  }
}

TEST(OrderBookTest, ReinsertedIdsPointAtTheLatestOrder) {
  OrderBook book;
  book.Insert(Record(1, Request("ACC1", "c1")));
  book.Insert(Record(2, Request("ACC1", "c1")));
  ASSERT_NE(book.FindByClientId("ACC1", "c1"), nullptr);
  EXPECT_EQ(book.FindByClientId("ACC1", "c1")->seq, 2u);
}

TEST(OrderBookTest, ReplacingARecordReindexesItsIds) {
  OrderBook book;
  book.Insert(Record(1, Request("ACC1", "c1")));
  book.Insert(Record(1, Request("ACC1", "c9")));
  EXPECT_EQ(book.FindByClientId("ACC1", "c1"), nullptr);
  ASSERT_NE(book.FindByClientId("ACC1", "c9"), nullptr);
  EXPECT_EQ(book.FindByClientId("ACC1", "c9")->seq, 1u);
}

TEST(OrderBookTest, OrderRowShowsTheStoredFields) {
  OrderBook book;
  OrderRecord record = Record(4, Request("ACC1", "c1"));
  record.KeepFirstDecision(AcceptedDecision(4, Request("ACC1", "c1")));
  record.last_seq = 4;
  OrderRow row = ToOrderRow(book.Insert(std::move(record)));
  EXPECT_EQ(row.account, "ACC1");
  EXPECT_EQ(row.strategy, "momentum");
  EXPECT_EQ(row.symbol, "NIFTY26JAN24000CE");
  EXPECT_EQ(row.side, "SELL");
  EXPECT_EQ(row.order_type, "SL");
  EXPECT_EQ(row.product, "MIS");
  EXPECT_EQ(row.validity, "IOC");
  EXPECT_EQ(row.quantity, 150);
  EXPECT_NE(row.decision_json.find("W-000000000004"), std::string::npos);
}

}  // namespace
}  // namespace wojak
