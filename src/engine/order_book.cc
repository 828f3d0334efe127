// Order book and idempotency index.
#include "engine/order_book.h"

#include <algorithm>
#include <charconv>

#include "model/order_json.h"

namespace wojak {

void OrderBook::Reserve(size_t orders) {
  orders_.reserve(orders);
  by_client_id_.reserve(orders);
}

OrderRecord* OrderBook::Find(Seq seq) {
  auto it = orders_.find(seq);
  return it == orders_.end() ? nullptr : &it->second;
}

const OrderRecord* OrderBook::Find(Seq seq) const {
  auto it = orders_.find(seq);
  return it == orders_.end() ? nullptr : &it->second;
}

OrderRecord* OrderBook::FindByClientId(std::string_view account, std::string_view client_order_id) {
  auto it = by_client_id_.find(ClientKey(account, client_order_id));
  return it == by_client_id_.end() ? nullptr : Find(it->second);
}

OrderRecord& OrderBook::Insert(OrderRecord record) {
  by_client_id_[ClientKey(record.request.account, record.request.client_order_id)] = record.seq;
  Seq seq = record.seq;
  return orders_.insert_or_assign(seq, std::move(record)).first->second;
}

const Decision* OrderBook::FindRequestDecision(std::string_view key) const {
  auto it = request_decisions_.find(std::string(key));
  return it == request_decisions_.end() ? nullptr : &it->second;
}

void OrderBook::RememberRequestDecision(std::string key, Decision decision) {
  request_decisions_.emplace(std::move(key), std::move(decision));
}

std::vector<Seq> OrderBook::OpenOrders() const {
  std::vector<Seq> open;
  for (const auto& [seq, record] : orders_) {
    if (IsOpen(record.state)) open.push_back(seq);
  }
  std::sort(open.begin(), open.end());
  return open;
}

std::string OrderBook::ClientKey(std::string_view account, std::string_view client_order_id) {
  std::string key;
  key.reserve(account.size() + client_order_id.size() + 1);
  key.append(account);
  key.push_back('\x1f');  // unit separator: cannot appear in validated ids
  key.append(client_order_id);
  return key;
}

std::optional<Seq> OrderBook::ParseOrderId(std::string_view order_id) {
  if (order_id.size() < 3 || order_id.substr(0, 2) != "W-") return std::nullopt;
  Seq seq = 0;
  auto digits = order_id.substr(2);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || seq == 0) return std::nullopt;
  return seq;
}

OrderRow ToOrderRow(const OrderRecord& r) {
  OrderRow row;
  row.order_id = FormatOrderId(r.seq);
  row.seq = r.seq;
  row.last_seq = r.last_seq;
  row.account = r.request.account;
  row.strategy = r.request.strategy;
  row.client_order_id = r.request.client_order_id;
  row.symbol = r.request.symbol;
  row.side = std::string(SideName(r.request.side));
  row.order_type = std::string(OrderTypeName(r.request.order_type));
  row.product = std::string(ProductName(r.request.product));
  row.validity = std::string(ValidityName(r.request.validity));
  row.quantity = r.request.quantity;
  row.filled_quantity = r.filled_quantity;
  if (r.request.price) row.price_paise = r.request.price->value();
  if (r.request.trigger_price) row.trigger_price_paise = r.request.trigger_price->value();
  row.average_price_paise = r.filled_quantity > 0 ? r.fill_value.value() / r.filled_quantity : 0;
  row.status = std::string(OrderStateName(r.state));
  // The first decision is written with the row that creates the order and never changes.
  if (r.last_seq == r.seq) row.decision_json = DecisionToJson(r.decision);
  row.created_ns = r.created_ns;
  row.updated_ns = r.updated_ns;
  return row;
}

}  // namespace wojak
