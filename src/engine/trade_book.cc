// Traded totals.
#include "engine/trade_book.h"

namespace wojak {

const TradedTotals& TradeBook::AddFill(const std::string& account, const std::string& symbol,
                                       Side side, Qty quantity, Paise price, Seq seq) {
  TradedTotals& t = totals_[{account, symbol}];
  if (side == Side::kBuy) {
    t.buy_quantity += quantity;
    t.buy_value_paise += price.value() * quantity;
  } else {
    t.sell_quantity += quantity;
    t.sell_value_paise += price.value() * quantity;
  }
  t.last_seq = seq;
  return t;
}

}  // namespace wojak
