// Order book and idempotency index.
#include "engine/order_book.h"

#include <algorithm>
#include <charconv>

#include "model/order_json.h"

namespace wojak {

namespace {

// True when `decision` is exactly what FirstDecision() rebuilds from the record's fields.
bool RebuildsFromRecord(const Decision& decision, const OrderRecord& record) {
  return decision.reasons.empty() && decision.original_reasons.empty() &&
         !decision.original_kind.has_value() && decision.retry_after_ms == 0 &&
         decision.seq == record.seq && decision.account == record.request.account &&
         decision.client_order_id == record.request.client_order_id &&
         decision.order_id == FormatOrderId(record.seq);
}

}  // namespace

StoredOrderRequest::StoredOrderRequest(const OrderRequest& request)
    : client_order_id(request.client_order_id),
      account(request.account),
      strategy(request.strategy),
      exchange(request.exchange),
      symbol(request.symbol),
      quantity(request.quantity),
      price(request.price),
      trigger_price(request.trigger_price),
      side(request.side),
      order_type(request.order_type),
      product(request.product),
      validity(request.validity) {}

OrderRequest StoredOrderRequest::ToRequest() const {
  OrderRequest request;
  request.client_order_id = client_order_id;
  request.account = account;
  request.strategy = strategy;
  request.exchange = exchange;
  request.symbol = symbol;
  request.side = side;
  request.quantity = quantity;
  request.order_type = order_type;
  request.product = product;
  request.price = price;
  request.trigger_price = trigger_price;
  request.validity = validity;
  return request;
}

void OrderRecord::KeepFirstDecision(const Decision& decision) {
  first_decision_kind_ = decision.kind;
  if (RebuildsFromRecord(decision, *this)) {
    first_decision_detail_.reset();
  } else {
    first_decision_detail_ = std::make_unique<const Decision>(decision);
  }
}

Decision OrderRecord::FirstDecision() const {
  if (first_decision_detail_ != nullptr) return *first_decision_detail_;
  Decision decision;
  decision.kind = first_decision_kind_;
  decision.client_order_id = request.client_order_id;
  decision.account = request.account;
  decision.order_id = FormatOrderId(seq);
  decision.seq = seq;
  return decision;
}

OrderBook::OrderBook() : by_client_id_(0, ClientIdHash{this}, ClientIdEqual{this}) {}

size_t OrderBook::ClientIdHash::operator()(ClientId id) const {
  std::hash<std::string_view> hash;
  // Boost's hash_combine: the two ids are hashed separately, so no joined key is built.
  size_t seed = hash(id.account);
  seed ^= hash(id.client_order_id) + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
  return seed;
}

bool OrderBook::ClientIdEqual::operator()(ClientId id, Seq seq) const {
  ClientId stored = book->ClientIdOf(seq);
  return stored.account == id.account && stored.client_order_id == id.client_order_id;
}

OrderBook::ClientId OrderBook::ClientIdOf(Seq seq) const {
  const OrderRecord& record = orders_.at(seq);
  return {record.request.account.str(), record.request.client_order_id};
}

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
  auto it = by_client_id_.find(ClientId{account, client_order_id});
  return it == by_client_id_.end() ? nullptr : Find(*it);
}

OrderRecord& OrderBook::Insert(OrderRecord record) {
  const Seq seq = record.seq;
  // Both entries are unindexed while their records change: the index hashes the records.
  if (orders_.count(seq) > 0) by_client_id_.erase(seq);
  if (const OrderRecord* same_ids =
          FindByClientId(record.request.account.str(), record.request.client_order_id)) {
    by_client_id_.erase(same_ids->seq);
  }
  OrderRecord& stored = orders_.insert_or_assign(seq, std::move(record)).first->second;
  by_client_id_.insert(seq);
  return stored;
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
  if (r.last_seq == r.seq) row.decision_json = DecisionToJson(r.FirstDecision());
  row.created_ns = r.created_ns;
  row.updated_ns = r.updated_ns;
  return row;
}

}  // namespace wojak
