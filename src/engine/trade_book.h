// Traded totals per (account, symbol): bought and sold quantity and value. Net quantity and
// realised P&L come from the risk state, which owns positions; together they make the position
// projection the REST API and CLI show.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "journal/journal.h"
#include "model/order.h"

namespace wojak {

struct TradedTotals {
  Qty buy_quantity = 0;
  Qty sell_quantity = 0;
  int64_t buy_value_paise = 0;
  int64_t sell_value_paise = 0;
  Seq last_seq = 0;
  bool operator==(const TradedTotals&) const = default;
};

class TradeBook {
 public:
  // Adds one fill and returns the updated totals.
  const TradedTotals& AddFill(const std::string& account, const std::string& symbol, Side side,
                              Qty quantity, Paise price, Seq seq);
  const std::map<std::pair<std::string, std::string>, TradedTotals>& all() const { return totals_; }
  bool operator==(const TradeBook&) const = default;

 private:
  std::map<std::pair<std::string, std::string>, TradedTotals> totals_;
};

}  // namespace wojak
