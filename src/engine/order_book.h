// The engine's in-memory orders and idempotency index, owned by the sequencer thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/interned_string.h"
#include "journal/journal.h"
#include "model/order.h"

namespace wojak {

// An OrderRequest as the book keeps it: the names that repeat across orders are interned, which
// takes most of the string bytes out of each of the (up to hundreds of thousands of) records.
struct StoredOrderRequest {
  std::string client_order_id;
  InternedString account;
  InternedString strategy;
  InternedString exchange;
  InternedString symbol;
  Qty quantity = 0;
  std::optional<Paise> price;
  std::optional<Paise> trigger_price;
  Side side = Side::kBuy;
  OrderType order_type = OrderType::kLimit;
  Product product = Product::kNrml;
  Validity validity = Validity::kDay;

  StoredOrderRequest() = default;
  explicit StoredOrderRequest(const OrderRequest& request);
  OrderRequest ToRequest() const;
  // Implicit so code that reads the stored order as a request (payloads, dispatch) is unchanged.
  operator OrderRequest() const { return ToRequest(); }  // NOLINT(google-explicit-constructor)
};

struct OrderRecord {
  Seq seq = 0;  // entry that created the order; the order id is FormatOrderId(seq)
  StoredOrderRequest request;
  Paise price;  // the price the order was accepted at (limit, or protected market price)
  Qty filled_quantity = 0;
  Paise fill_value;  // sum of fill price x quantity, for the average price
  Nanos created_ns = 0;
  Nanos updated_ns = 0;
  Seq last_seq = 0;
  Nanos escalation_deadline_ns = 0;          // ESCALATED only
  OrderState state = OrderState::kReceived;  // beside the decision kind: they share one word

  // The first decision, returned unchanged to duplicates. Most decisions are just a kind plus
  // ids the record already holds, so only the kind is kept for them and the full decision
  // only when it carries more (reasons, or anything that differs from the record).
  void KeepFirstDecision(const Decision& decision);
  Decision FirstDecision() const;
  DecisionKind first_decision_kind() const { return first_decision_kind_; }

 private:
  DecisionKind first_decision_kind_ = DecisionKind::kRetry;
  std::unique_ptr<const Decision> first_decision_detail_;  // null when rebuilt from the record
};

// (account, client_order_id) -> order, and seq -> order. Cancels use their own key space
// ("cancel" prefix) so a resent cancel is answered like the first one.
class OrderBook {
 public:
  OrderBook();
  // The client-id index's hasher points back at the book.
  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;

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
  struct ClientId {
    std::string_view account;
    std::string_view client_order_id;
  };
  // The client-id index holds only seqs and reads (account, client_order_id) from the records,
  // so no order's ids are stored twice. Transparent: looked up by ClientId without a record.
  struct ClientIdHash {
    using is_transparent = void;
    const OrderBook* book;
    size_t operator()(ClientId id) const;
    size_t operator()(Seq seq) const { return (*this)(book->ClientIdOf(seq)); }
  };
  struct ClientIdEqual {
    using is_transparent = void;
    const OrderBook* book;
    bool operator()(Seq a, Seq b) const { return a == b; }
    bool operator()(ClientId id, Seq seq) const;
    bool operator()(Seq seq, ClientId id) const { return (*this)(id, seq); }
  };
  ClientId ClientIdOf(Seq seq) const;

  std::unordered_map<Seq, OrderRecord> orders_;
  std::unordered_set<Seq, ClientIdHash, ClientIdEqual> by_client_id_;
  std::unordered_map<std::string, Decision> request_decisions_;
};

// One projection row as clients see it.
OrderRow ToOrderRow(const OrderRecord& record);

}  // namespace wojak
