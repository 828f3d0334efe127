// The engine's in-memory orders and idempotency index, owned by the sequencer thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "journal/journal.h"
#include "model/order.h"

namespace wojak {

struct OrderRecord {
  Seq seq = 0;  // entry that created the order; the order id is FormatOrderId(seq)
  OrderRequest request;
  OrderState state = OrderState::kReceived;
  Paise price;  // the price the order was accepted at (limit, or protected market price)
  Qty filled_quantity = 0;
  Paise fill_value;  // sum of fill price x quantity, for the average price
  Nanos created_ns = 0;
  Nanos updated_ns = 0;
  Seq last_seq = 0;
  Nanos escalation_deadline_ns = 0;  // ESCALATED only
  Decision decision;                 // the first decision, returned unchanged to duplicates
};

// (account, client_order_id) -> order, and seq -> order. Cancels use their own key space
// ("cancel" prefix) so a resent cancel is answered like the first one.
class OrderBook {
 public:
  void Reserve(size_t orders);
  OrderRecord* Find(Seq seq);
  const OrderRecord* Find(Seq seq) const;
  OrderRecord* FindByClientId(std::string_view account, std::string_view client_order_id);
  OrderRecord& Insert(OrderRecord record);

  // Idempotency of non-order requests (cancels): key -> first decision.
  const Decision* FindRequestDecision(std::string_view key) const;
  void RememberRequestDecision(std::string key, Decision decision);

  // Orders still waiting for a result or verdict, for reconciliation and halts.
  std::vector<Seq> OpenOrders() const;
  size_t size() const { return orders_.size(); }

  static std::string ClientKey(std::string_view account, std::string_view client_order_id);
  // "W-000000000123" -> 123; nullopt when not an order id.
  static std::optional<Seq> ParseOrderId(std::string_view order_id);

 private:
  std::unordered_map<Seq, OrderRecord> orders_;
  std::unordered_map<std::string, Seq> by_client_id_;
  std::unordered_map<std::string, Decision> request_decisions_;
};

// One projection row as clients see it.
OrderRow ToOrderRow(const OrderRecord& record);

}  // namespace wojak
