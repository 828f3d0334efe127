// Traded totals per account and symbol.
#include "engine/trade_book.h"

#include <gtest/gtest.h>

namespace wojak {
namespace {

TEST(TradeBookTest, AddsBuysAndSellsSeparately) {
  TradeBook book;
  book.AddFill("A", "X", Side::kBuy, 75, Paise::FromRupees(100), 1);
  book.AddFill("A", "X", Side::kBuy, 75, Paise::FromRupees(110), 2);
  const TradedTotals& t = book.AddFill("A", "X", Side::kSell, 50, Paise::FromRupees(120), 3);
  EXPECT_EQ(t.buy_quantity, 150);
  EXPECT_EQ(t.buy_value_paise, Paise::FromRupees(100 * 75 + 110 * 75).value());
  EXPECT_EQ(t.sell_quantity, 50);
  EXPECT_EQ(t.sell_value_paise, Paise::FromRupees(120 * 50).value());
  EXPECT_EQ(t.last_seq, 3u);
}

TEST(TradeBookTest, AccountsAndSymbolsAreSeparate) {
  TradeBook book;
  book.AddFill("A", "X", Side::kBuy, 1, Paise::FromRupees(1), 1);
  book.AddFill("B", "X", Side::kBuy, 2, Paise::FromRupees(1), 2);
  book.AddFill("A", "Y", Side::kSell, 3, Paise::FromRupees(1), 3);
  EXPECT_EQ(book.all().size(), 3u);
  EXPECT_EQ(book.all().at({"B", "X"}).buy_quantity, 2);
}

}  // namespace
}  // namespace wojak
