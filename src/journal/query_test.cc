// Tests for the read-side queries over the journal's projections.
#include "journal/query.h"

#include <gtest/gtest.h>

#include "journal/sqlite_journal.h"
#include "journal/test_util.h"

namespace wojak {
namespace {

using testing::SampleEntries;
using testing::SampleOrder;

TradeRow Trade(Seq seq, std::string order_id, std::string account) {
  return TradeRow{.trade_id = "T-" + std::to_string(seq),
                  .seq = seq,
                  .order_id = std::move(order_id),
                  .account = std::move(account),
                  .strategy = "straddle",
                  .symbol = "NIFTY26JAN24000CE",
                  .side = "BUY",
                  .quantity = 75,
                  .price_paise = 10000 + static_cast<int64_t>(seq),
                  .time_ns = static_cast<Nanos>(seq)};
}

class JournalQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    JournalOptions options;
    options.path = JournalPathForDataDir(dir_.path());
    options.background_checkpoint_pages = 0;
    auto journal = SqliteJournal::Open(options);
    ASSERT_TRUE(journal.ok()) << journal.status().ToString();
    journal_ = std::move(journal).value();
    auto query = JournalQuery::Open(options.path);
    ASSERT_TRUE(query.ok()) << query.status().ToString();
    query_ = std::move(query).value();

    // Orders 1..6: ACC1 gets the odd seqs, ACC2 the even ones; 5 and 6 are REJECTED.
    std::vector<Entry> entries = SampleEntries(1, 8);
    ProjectionBatch projections;
    for (Seq seq = 1; seq <= 6; ++seq) {
      projections.orders.push_back(
          SampleOrder(seq, seq % 2 == 1 ? "ACC1" : "ACC2", seq >= 5 ? "REJECTED" : "ACCEPTED"));
    }
    projections.trades = {Trade(7, "W-1", "ACC1"), Trade(8, "W-2", "ACC2")};
    projections.positions = {
        PositionRow{.account = "ACC2", .symbol = "BANKNIFTY", .net_quantity = 30},
        PositionRow{.account = "ACC1", .symbol = "NIFTY", .net_quantity = 75},
        PositionRow{.account = "ACC1", .symbol = "BANKNIFTY", .net_quantity = -30}};
    ASSERT_TRUE(journal_->AppendBatch(entries, projections).ok());
  }

  static std::vector<std::string> OrderIds(const StatusOr<std::vector<OrderRow>>& orders) {
    EXPECT_TRUE(orders.ok()) << orders.status().ToString();
    std::vector<std::string> ids;
    if (orders.ok()) {
      for (const OrderRow& order : *orders) ids.push_back(order.order_id);
    }
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteJournal> journal_;
  std::unique_ptr<JournalQuery> query_;
};

TEST_F(JournalQueryTest, ListsAllOrdersOldestFirst) {
  EXPECT_EQ(OrderIds(query_->ListOrders({})),
            (std::vector<std::string>{"W-1", "W-2", "W-3", "W-4", "W-5", "W-6"}));
}

TEST_F(JournalQueryTest, FiltersOrdersByAccount) {
  EXPECT_EQ(OrderIds(query_->ListOrders({.account = "ACC2"})),
            (std::vector<std::string>{"W-2", "W-4", "W-6"}));
}

TEST_F(JournalQueryTest, FiltersOrdersByStatusAndAccount) {
  EXPECT_EQ(OrderIds(query_->ListOrders({.account = "ACC1", .status = "REJECTED"})),
            std::vector<std::string>{"W-5"});
}

TEST_F(JournalQueryTest, PagesOrdersWithSinceSeqAndLimit) {
  EXPECT_EQ(OrderIds(query_->ListOrders({.since_seq = 2, .limit = 2})),
            (std::vector<std::string>{"W-3", "W-4"}));
}

TEST_F(JournalQueryTest, ListsNewestOrdersFirst) {
  EXPECT_EQ(OrderIds(query_->ListOrders({.limit = 2, .newest_first = true})),
            (std::vector<std::string>{"W-6", "W-5"}));
}

TEST_F(JournalQueryTest, GetsOneOrderWithEveryField) {
  auto order = query_->GetOrder("W-3");
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  OrderRow expected = SampleOrder(3, "ACC1", "ACCEPTED");
  EXPECT_EQ(order->order_id, expected.order_id);
  EXPECT_EQ(order->seq, 3u);
  EXPECT_EQ(order->last_seq, 3u);
  EXPECT_EQ(order->account, "ACC1");
  EXPECT_EQ(order->strategy, expected.strategy);
  EXPECT_EQ(order->client_order_id, expected.client_order_id);
  EXPECT_EQ(order->symbol, expected.symbol);
  EXPECT_EQ(order->side, expected.side);
  EXPECT_EQ(order->order_type, expected.order_type);
  EXPECT_EQ(order->product, expected.product);
  EXPECT_EQ(order->validity, expected.validity);
  EXPECT_EQ(order->quantity, expected.quantity);
  EXPECT_EQ(order->price_paise, expected.price_paise);
  EXPECT_FALSE(order->trigger_price_paise.has_value());
  EXPECT_EQ(order->status, "ACCEPTED");
  EXPECT_EQ(order->decision_json, expected.decision_json);
  EXPECT_EQ(order->created_ns, expected.created_ns);
}

TEST_F(JournalQueryTest, UnknownOrderIsNotFound) {
  EXPECT_EQ(query_->GetOrder("W-999").status().code(), StatusCode::kNotFound);
}

TEST_F(JournalQueryTest, SeesAnOrderUpdatedByALaterBatch) {
  std::vector<Entry> entries = SampleEntries(9, 1);
  OrderRow filled = SampleOrder(1, "ACC1", "FILLED");
  filled.last_seq = 9;
  filled.filled_quantity = 75;
  filled.average_price_paise = 12000;
  ProjectionBatch projections;
  projections.orders = {filled};
  ASSERT_TRUE(journal_->AppendBatch(entries, projections).ok());

  auto order = query_->GetOrder("W-1");
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->status, "FILLED");
  EXPECT_EQ(order->last_seq, 9u);
  EXPECT_EQ(order->filled_quantity, 75);
  EXPECT_EQ(order->average_price_paise, 12000);
  EXPECT_EQ(OrderIds(query_->ListOrders({.status = "FILLED"})), std::vector<std::string>{"W-1"});
}

TEST_F(JournalQueryTest, AnUpdateWithoutDecisionKeepsTheFirstDecision) {
  const std::string first = SampleOrder(1, "ACC1", "ACCEPTED").decision_json;
  ASSERT_FALSE(first.empty());
  std::vector<Entry> entries = SampleEntries(9, 1);
  OrderRow filled = SampleOrder(1, "ACC1", "FILLED");
  filled.last_seq = 9;
  filled.decision_json.clear();
  ProjectionBatch projections;
  projections.orders = {filled};
  ASSERT_TRUE(journal_->AppendBatch(entries, projections).ok());

  auto order = query_->GetOrder("W-1");
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->status, "FILLED");
  EXPECT_EQ(order->decision_json, first);
}

TEST_F(JournalQueryTest, FiltersTradesByAccountAndOrder) {
  auto by_account = query_->ListTrades({.account = "ACC2"});
  ASSERT_TRUE(by_account.ok());
  ASSERT_EQ(by_account->size(), 1u);
  EXPECT_EQ(by_account->front().trade_id, "T-8");
  EXPECT_EQ(by_account->front().price_paise, 10008);

  auto by_order = query_->ListTrades({.order_id = "W-1"});
  ASSERT_TRUE(by_order.ok());
  ASSERT_EQ(by_order->size(), 1u);
  EXPECT_EQ(by_order->front().trade_id, "T-7");

  auto after = query_->ListTrades({.since_seq = 7});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->front().seq, 8u);
}

TEST_F(JournalQueryTest, ListsPositionsOfOneAccountSortedBySymbol) {
  auto positions = query_->ListPositions("ACC1");
  ASSERT_TRUE(positions.ok());
  ASSERT_EQ(positions->size(), 2u);
  EXPECT_EQ((*positions)[0].symbol, "BANKNIFTY");
  EXPECT_EQ((*positions)[0].net_quantity, -30);
  EXPECT_EQ((*positions)[1].symbol, "NIFTY");
  auto all = query_->ListPositions("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
}

TEST(JournalQueryOpenTest, MissingJournalIsNotFound) {
  testing::TempDir dir;
  EXPECT_EQ(JournalQuery::Open(JournalPathForDataDir(dir.path())).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace wojak
