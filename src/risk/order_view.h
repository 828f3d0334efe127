// A non-owning view of the order the gate decides, with its resolved instrument.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "model/instrument.h"
#include "model/order.h"

namespace wojak {

// The journal sequence that created the order (model/order.h FormatOrderId).
using OrderId = uint64_t;

struct OrderView {
  std::string_view account;
  std::string_view strategy;  // "" = none: strategy-scoped checks are skipped
  std::string_view exchange;
  std::string_view symbol;
  Side side = Side::kBuy;
  Qty quantity = 0;
  OrderType order_type = OrderType::kLimit;
  Product product = Product::kNrml;
  std::optional<Paise> price;
  std::optional<Paise> trigger_price;
  // The master's contract for `symbol`, or nullptr when unknown (fails closed).
  const Instrument* instrument = nullptr;
  // For a MODIFY: the open order being changed, evaluated with its new values; its own current
  // quantity is excluded from open-order counts, exposure and worst-case positions. 0 = new order.
  OrderId replaces = 0;

  // The view must not outlive `request`.
  static OrderView Of(const OrderRequest& request, const Instrument* instrument,
                      OrderId replaces = 0) {
    OrderView view;
    view.account = request.account;
    view.strategy = request.strategy;
    view.exchange = request.exchange;
    view.symbol = request.symbol;
    view.side = request.side;
    view.quantity = request.quantity;
    view.order_type = request.order_type;
    view.product = request.product;
    view.price = request.price;
    view.trigger_price = request.trigger_price;
    view.instrument = instrument;
    view.replaces = replaces;
    return view;
  }
};

}  // namespace wojak
